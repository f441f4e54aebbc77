// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The public API's contract: every function, every documented error, the
 * pool-too-small message, real 2M and 1G hugetlb pages (reserved here when
 * root, skipped with the reason otherwise) with the kernel's free_hugepages
 * back to its starting value, NUMA placement, and threads converting,
 * pinning and punching one file at once.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <guestmem.h>
#include "hugetlb_env.h"

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M
#define SZ_1G	GUESTMEM_PAGE_1G

static struct guestmem_pool *pool_of(uint64_t page_size, uint64_t nr, uint64_t flags)
{
	struct guestmem_pool_opts o = {
		.page_size = page_size, .nr_pages = nr, .node = -1, .flags = flags,
	};
	struct guestmem_pool *pool = NULL;
	int err = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!err, "pool_create: %d: %s", err, guestmem_last_error());
	return pool;
}

/*
 * A pool for the contract tests: hugetlb pages when the machine has them
 * free, ordinary memory otherwise.  The contract is the same on both.
 */
static struct guestmem_pool *fallback_pool(uint64_t nr)
{
	return pool_of(SZ_2M, nr, GUESTMEM_POOL_FALLBACK);
}

static void assert_pool_whole(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.free, st.total);
	ck_assert_uint_eq(st.reserved, 0);
	ck_assert_uint_eq(st.in_use, 0);
	ck_assert_uint_eq(st.pending, 0);
}

START_TEST(test_pool_create_errors)
{
	struct guestmem_pool_opts o = { .page_size = SZ_2M, .nr_pages = 1, .node = -1 };
	struct guestmem_pool *pool = NULL;

	o.page_size = SZ_4K;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	ck_assert(strstr(guestmem_last_error(), "page_size"));
	o.page_size = SZ_2M;
	o.nr_pages = 0;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	o.nr_pages = 1;
	o.flags = 1 << 7;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	o.flags = 0;
	o.node = 4096;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	o.node = -2;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	ck_assert_int_eq(guestmem_pool_create(NULL, &pool), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(guestmem_pool_destroy(NULL), -EINVAL);
}
END_TEST

START_TEST(test_pool_too_small_says_how_to_fix)
{
	struct guestmem_pool_opts o = { .page_size = SZ_2M, .nr_pages = 1 << 14, .node = -1 };
	struct guestmem_pool *pool = NULL;
	const char *msg;

	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -ENOMEM);
	ck_assert_ptr_null(pool);
	msg = guestmem_last_error();
	printf("pool too small: %s\n", msg);
	ck_assert_msg(strstr(msg, "need 16384 free 2M pages") || strstr(msg, "offers no"),
		      "message: %s", msg);
	if (!strstr(msg, "offers no"))
		ck_assert_msg(strstr(msg, "echo ") &&
			      strstr(msg, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"),
			      "message: %s", msg);
}
END_TEST

START_TEST(test_backends_reported)
{
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool = fallback_pool(4);

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.page_size, SZ_2M);
	ck_assert_uint_eq(st.total, 4);
	ck_assert_int_eq(st.node, -1);
	ck_assert_uint_ne(st.backend, GUESTMEM_BACKEND_SIMULATED);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);

	/* 64 GiB of address space: small enough for sanitizer address layouts. */
	pool = pool_of(SZ_1G, 64, GUESTMEM_POOL_SIMULATE);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.backend, GUESTMEM_BACKEND_SIMULATED);
	ck_assert_uint_eq(st.total, 64);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_file_lifecycle_and_errors)
{
	struct guestmem_pool *pool = fallback_pool(4);
	struct guestmem_file *f = NULL, *g = NULL;
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_file_create(pool, 0, 0, &f), -EINVAL);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M + SZ_4K, 0, &f), -EINVAL);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, 1 << 5, &f), -EINVAL);
	ck_assert_int_eq(guestmem_file_create(pool, 5 * SZ_2M, 0, &f), -ENOMEM);
	ck_assert(strstr(guestmem_last_error(), "cannot reserve"));
	ck_assert_ptr_null(f);

	ck_assert_int_eq(guestmem_file_create(pool, 3 * SZ_2M, 0, &f), 0);
	ck_assert_ptr_nonnull(guestmem_file_hva(f));
	ck_assert_uint_eq((uintptr_t)guestmem_file_hva(f) % SZ_2M, 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.reserved, 3);
	ck_assert_uint_eq(st.free, 1);
	ck_assert_int_eq(guestmem_file_create(pool, 2 * SZ_2M, 0, &g), -ENOMEM);
	ck_assert_int_eq(guestmem_pool_destroy(pool), -EBUSY);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_file_destroy(NULL), -EINVAL);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_hva_is_the_memory)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_file *f;
	struct guestmem_page pg;
	unsigned char *hva;

	ck_assert_int_eq(guestmem_file_create(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	hva = guestmem_file_hva(f);
	hva[SZ_2M + 3 * SZ_4K + 9] = 0xab;
	ck_assert_int_eq(guestmem_pin(f, SZ_2M + 3 * SZ_4K, &pg), 0);
	/* The pin's address is its own mapping of the same memory. */
	ck_assert_uint_eq(((unsigned char *)pg.addr)[9], 0xab);
	((unsigned char *)pg.addr)[10] = 0xcd;
	ck_assert_uint_eq(hva[SZ_2M + 3 * SZ_4K + 10], 0xcd);
	ck_assert_uint_eq(pg.max_order, 9);
	ck_assert_uint_eq(pg.state, GUESTMEM_SHARED);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	/* A conversion splits in place: the data stays at the same address. */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_uint_eq(hva[SZ_2M + 3 * SZ_4K + 9], 0xab);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_convert_state_pin_contract)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_page pg, priv;
	struct guestmem_file_stats fs;
	struct guestmem_file *f;
	uint64_t bad = 0, run;
	unsigned int state;

	ck_assert_int_eq(guestmem_file_create(pool, 2 * SZ_2M, 0, &f), 0);
	ck_assert_int_eq(guestmem_state(f, 0, &state, &run), 0);
	ck_assert_uint_eq(state, GUESTMEM_PRIVATE);
	ck_assert_uint_eq(run, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_state(f, 2 * SZ_2M, &state, &run), -ERANGE);
	ck_assert_int_eq(guestmem_state(f, 7, &state, &run), -EINVAL);

	ck_assert_int_eq(guestmem_convert(f, 8 * SZ_4K, 8 * SZ_4K, GUESTMEM_SHARED, &bad), 0);
	ck_assert_int_eq(guestmem_state(f, 8 * SZ_4K, &state, &run), 0);
	ck_assert_uint_eq(state, GUESTMEM_SHARED);
	ck_assert_uint_eq(run, 8 * SZ_4K);
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, 5, &bad), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 1, SZ_4K, GUESTMEM_SHARED, &bad), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 0, 3 * SZ_2M, GUESTMEM_SHARED, &bad), -ERANGE);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, UINT64_MAX & ~(SZ_4K - 1),
					  GUESTMEM_SHARED, &bad), -ERANGE);

	/* Pins: shared pages only; a pinned page refuses to become private. */
	ck_assert_int_eq(guestmem_pin(f, 0, &priv), -EPERM);
	ck_assert(strstr(guestmem_last_error(), "private"));
	ck_assert_int_eq(guestmem_pin(f, 10 * SZ_4K + 1, &pg), -EINVAL);
	ck_assert_int_eq(guestmem_pin(f, 2 * SZ_2M, &pg), -ERANGE);
	ck_assert_int_eq(guestmem_pin(f, 11 * SZ_4K, &pg), 0);
	ck_assert_uint_eq(pg.max_order, 0);
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), -EAGAIN);
	/* Pages 8..15 are shared; page 11 is pinned: the first offending one. */
	ck_assert_uint_eq(bad, 11 * SZ_4K);
	ck_assert(strstr(guestmem_last_error(), "0xb000"));
	ck_assert_int_eq(guestmem_state(f, 8 * SZ_4K, &state, &run), 0);
	ck_assert_uint_eq(state, GUESTMEM_SHARED);
	ck_assert_int_eq(guestmem_file_destroy(f), -EBUSY);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_unpin(f, &pg), -EINVAL);
	ck_assert(strstr(guestmem_last_error(), "not pinned"));
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), 0);

	ck_assert_int_eq(guestmem_file_stats(f, &fs, sizeof(fs)), 0);
	ck_assert_uint_eq(fs.size, 2 * SZ_2M);
	ck_assert_uint_eq(fs.allocated, SZ_2M);
	ck_assert_uint_eq(fs.private_bytes, 2 * SZ_2M);
	ck_assert_uint_eq(fs.shared_bytes, 0);
	ck_assert_uint_eq(fs.huge_mappable, SZ_2M);
	ck_assert_uint_eq(fs.split_pages, 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_unpin_copies_and_foreign_handles)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_page pg, copy;
	struct guestmem_file *f, *g;

	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &g), 0);
	ck_assert_int_eq(guestmem_pin(f, SZ_4K, &pg), 0);
	copy = pg;
	/* A handle belongs to its file. */
	ck_assert_int_eq(guestmem_unpin(g, &pg), -EINVAL);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	/* A copy of an unpinned handle is not a pin any more. */
	ck_assert_int_eq(guestmem_unpin(f, &copy), -EINVAL);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_file_destroy(g), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_prefault_any_thread_count)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .node = -1,
		.flags = GUESTMEM_POOL_PREFAULT | GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool *pool;
	unsigned int threads;

	/* Pages that do not divide evenly between threads, and more threads than pages. */
	for (o.nr_pages = 1; o.nr_pages <= 7; o.nr_pages += 2) {
		for (threads = 0; threads <= 9; threads += 3) {
			o.threads = threads;
			ck_assert_msg(!guestmem_pool_create(&o, &pool), "%llu pages, %u threads: %s",
				      (unsigned long long)o.nr_pages, threads,
				      guestmem_last_error());
			ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
		}
	}
}
END_TEST

START_TEST(test_punch_returns_pages_and_stats)
{
	struct guestmem_pool *pool = fallback_pool(4);
	struct guestmem_pool_stats st;
	struct guestmem_file *f;

	ck_assert_int_eq(guestmem_file_create(pool, 4 * SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 3 * SZ_2M + SZ_4K), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.in_use, 1);
	ck_assert_uint_eq(st.reserved, 3);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_ge(st.splits, 1);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 0), -EINVAL);
	ck_assert_int_eq(guestmem_allocate(f, 0, 5 * SZ_2M), -ERANGE);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_ge(st.splits, 1);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

static void *error_in_thread(void *arg)
{
	struct guestmem_pool *pool = NULL;
	struct guestmem_pool_opts o = { .page_size = 3, .nr_pages = 1, .node = -1 };

	(void)arg;
	guestmem_pool_create(&o, &pool);
	return strdup(guestmem_last_error());
}

/*
 * Stats structures of other sizes: a caller built against the first
 * version's header (smaller structure) gets its fields and not one byte
 * more; a caller built against a newer one gets zeroes past ours; below
 * the first version is -EINVAL.  Guard bytes of 0xa5 catch an overrun.
 */
struct old_pool_stats {		/* struct guestmem_pool_stats of LIBGUESTMEM_0.1 */
	uint64_t page_size, total, free, reserved, in_use, pending, splits, merges;
	unsigned int backend;
	int node;
};

union stats_buf {
	unsigned char b[512];
	struct guestmem_pool_stats p;
	struct guestmem_file_stats f;
	struct old_pool_stats o;
};

static void assert_guard(const union stats_buf *u, size_t from)
{
	size_t i;

	for (i = from; i < sizeof(u->b); i++)
		ck_assert_msg(u->b[i] == 0xa5, "byte %zu past a %zu-byte structure written",
			      i, from);
}

/*
 * A stats call wrote @size bytes to @u: the first of them as in @ref (the
 * library's structure, @ref_size bytes), zeroes past @ref_size, and not
 * one byte past @size.
 */
static void assert_written(const union stats_buf *u, const void *ref, size_t ref_size,
			   size_t size)
{
	size_t i;

	ck_assert_int_eq(memcmp(u->b, ref, size < ref_size ? size : ref_size), 0);
	for (i = ref_size; i < size; i++)
		ck_assert_uint_eq(u->b[i], 0);
	assert_guard(u, size);
}

START_TEST(test_stats_sizes)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_pool_stats ref;
	struct guestmem_file_stats fref;
	struct guestmem_file *f = NULL;
	union stats_buf u;

	ck_assert_uint_eq(sizeof(struct old_pool_stats), GUESTMEM_POOL_STATS_SIZE_VER0);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &ref, sizeof(ref)), 0);
	ck_assert_int_eq(guestmem_file_stats(f, &fref, sizeof(fref)), 0);
	ck_assert_uint_eq(ref.in_use, 1);

	/*
	 * The first versions' structures: their fields, nothing past them;
	 * newer, longer ones: ours, then zeroes up to their size.
	 */
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, GUESTMEM_POOL_STATS_SIZE_VER0), 0);
	assert_written(&u, &ref, sizeof(ref), sizeof(u.o));
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, sizeof(ref) + 64), 0);
	assert_written(&u, &ref, sizeof(ref), sizeof(ref) + 64);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_file_stats(f, &u.f, GUESTMEM_FILE_STATS_SIZE_VER0), 0);
	assert_written(&u, &fref, sizeof(fref), GUESTMEM_FILE_STATS_SIZE_VER0);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_file_stats(f, &u.f, sizeof(fref) + 8), 0);
	assert_written(&u, &fref, sizeof(fref), sizeof(fref) + 8);

	/* Smaller than any version: refused, nothing written. */
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, GUESTMEM_POOL_STATS_SIZE_VER0 - 8),
			 -EINVAL);
	ck_assert_int_eq(guestmem_file_stats(f, &u.f, GUESTMEM_FILE_STATS_SIZE_VER0 - 1),
			 -EINVAL);
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, 0), -EINVAL);
	ck_assert_int_eq(guestmem_pool_stats(pool, NULL, sizeof(ref)), -EINVAL);
	ck_assert_int_eq(guestmem_file_stats(f, NULL, sizeof(fref)), -EINVAL);
	assert_guard(&u, 0);

	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/*
 * A binary linked against LIBGUESTMEM_0.1 calls the stats functions
 * without a size: the shared library keeps those versions, which write
 * the first version's structures.  Skipped when linked statically.
 */
START_TEST(test_stats_old_binaries)
{
	int (*pool_v01)(struct guestmem_pool *, struct guestmem_pool_stats *);
	int (*file_v01)(struct guestmem_file *, struct guestmem_file_stats *);
	struct guestmem_pool *pool;
	struct guestmem_file_stats fref;
	struct guestmem_pool_stats ref;
	struct guestmem_file *f = NULL;
	union stats_buf u;

	*(void **)&pool_v01 = dlvsym(RTLD_DEFAULT, "guestmem_pool_stats", "LIBGUESTMEM_0.1");
	*(void **)&file_v01 = dlvsym(RTLD_DEFAULT, "guestmem_file_stats", "LIBGUESTMEM_0.1");
	if (!pool_v01 && !file_v01 && !dlvsym(RTLD_DEFAULT, "guestmem_pool_create",
					     "LIBGUESTMEM_0.1")) {
		fprintf(stderr, "test_stats_old_binaries: SKIP: libguestmem linked statically\n");
		return;
	}
	ck_assert_ptr_nonnull(pool_v01);
	ck_assert_ptr_nonnull(file_v01);
	ck_assert_ptr_ne(*(void **)&pool_v01,
			 dlvsym(RTLD_DEFAULT, "guestmem_pool_stats", "LIBGUESTMEM_0.2"));

	pool = fallback_pool(1);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, 0, &f), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &ref, sizeof(ref)), 0);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(pool_v01(pool, &u.p), 0);
	assert_written(&u, &ref, sizeof(ref), GUESTMEM_POOL_STATS_SIZE_VER0);
	ck_assert_int_eq(guestmem_file_stats(f, &fref, sizeof(fref)), 0);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(file_v01(f, &u.f), 0);
	ck_assert_uint_eq(u.f.size, SZ_2M);
	assert_written(&u, &fref, sizeof(fref), GUESTMEM_FILE_STATS_SIZE_VER0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_last_error_is_per_thread)
{
	pthread_t t;
	char *other;

	guestmem_pool_destroy(NULL);
	ck_assert(strstr(guestmem_last_error(), "NULL pool"));
	pthread_create(&t, NULL, error_in_thread, NULL);
	pthread_join(t, (void **)&other);
	ck_assert(strstr(other, "page_size"));
	ck_assert(strstr(guestmem_last_error(), "NULL pool"));
	free(other);
}
END_TEST

/* ---- real hugetlb pages, reserved here when root ---- */

static void exercise(struct guestmem_pool *pool, uint64_t page, uint64_t nr)
{
	struct guestmem_file *f;
	struct guestmem_page pg;
	struct guestmem_pool_stats st;
	unsigned char *hva;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.backend, GUESTMEM_BACKEND_HUGETLB);
	ck_assert_int_eq(guestmem_file_create(pool, nr * page, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, nr * page), 0);
	hva = guestmem_file_hva(f);
	hva[page - 1] = 0x3c;
	ck_assert_int_eq(guestmem_convert(f, page / 2, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_pin(f, page - SZ_4K, &pg), 0);
	ck_assert_uint_eq(((unsigned char *)pg.addr)[SZ_4K - 1], 0x3c);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_convert(f, 0, page, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, page), 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
}

static void real_hugetlb(uint64_t page, unsigned long kb, uint64_t nr)
{
	struct guestmem_pool *pool;
	struct hugetlb_env e;

	if (!hugetlb_env_reserve(&e, kb, nr)) {
		hugetlb_env_restore(&e);
		return;
	}
	pool = pool_of(page, nr, GUESTMEM_POOL_PREFAULT);
	exercise(pool, page, nr);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	ck_assert_int_eq(hugetlb_env_free(&e), e.free_before);
	ck_assert(hugetlb_env_restore(&e));
	printf("real %lukB hugetlb: %lu pages used, free_hugepages back to %ld\n",
	       kb, (unsigned long)nr, e.free_before);
}

START_TEST(test_real_hugetlb_2m)
{
	real_hugetlb(SZ_2M, 2048, 8);
}
END_TEST

START_TEST(test_real_hugetlb_1g)
{
	real_hugetlb(SZ_1G, 1048576, 1);
}
END_TEST

START_TEST(test_numa_placement)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 2, .node = 0,
		.flags = GUESTMEM_POOL_PREFAULT | GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool;

	if (numa_available() < 0) {
		printf("SKIP: NUMA is not available on this machine\n");
		return;
	}
	/* Node 0 always exists; placement there is bound and verified. */
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.node, 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	if (numa_max_node() < 1) {
		printf("SKIP: one NUMA node: placement on another node not testable\n");
		return;
	}
	o.node = numa_max_node();
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* ---- threads converting, pinning and punching one file ---- */

struct stress {
	struct guestmem_file *f;
	unsigned int seed;
	unsigned long ops, eagain;
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	struct guestmem_page pins[4] = { 0 };
	unsigned long i;

	for (i = 0; i < 4000; i++) {
		uint64_t off = (uint64_t)(rand_r(&s->seed) % 2048) * SZ_4K;
		uint64_t len = (uint64_t)(1 + rand_r(&s->seed) % 64) * SZ_4K;
		struct guestmem_page *pg = &pins[rand_r(&s->seed) % 4];
		int err = 0;

		if (off + len > 4 * SZ_2M)
			len = 4 * SZ_2M - off;
		switch (rand_r(&s->seed) % 6) {
		case 0:
		case 1:
			err = guestmem_convert(s->f, off, len, rand_r(&s->seed) % 2, NULL);
			break;
		case 2:
			err = guestmem_punch_hole(s->f, off, len);
			break;
		case 3:
			err = guestmem_allocate(s->f, off, len);
			break;
		default:
			if (pg->_folio)
				err = guestmem_unpin(s->f, pg);
			else if (guestmem_pin(s->f, off, pg) == -EPERM)
				err = 0;
			break;
		}
		ck_assert_msg(!err || err == -EAGAIN, "op %lu: %d: %s", i, err,
			      guestmem_last_error());
		s->eagain += err == -EAGAIN;
		s->ops++;
	}
	for (i = 0; i < 4; i++)
		if (pins[i]._folio)
			ck_assert_int_eq(guestmem_unpin(s->f, &pins[i]), 0);
	return NULL;
}

START_TEST(test_threads_share_a_file)
{
	struct guestmem_pool *pool = fallback_pool(8);
	struct stress s[4];
	pthread_t t[4];
	struct guestmem_file *f;
	unsigned long eagain = 0;
	int i;

	ck_assert_int_eq(guestmem_file_create(pool, 4 * SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	for (i = 0; i < 4; i++) {
		s[i] = (struct stress){ .f = f, .seed = 1234 + i };
		pthread_create(&t[i], NULL, stress_thread, &s[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		eagain += s[i].eagain;
	}
	printf("4 threads x 4000 operations on one file, %lu refused with -EAGAIN\n", eagain);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("contract");
	TCase *hw = tcase_create("hugetlb");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pool_create_errors);
	tcase_add_test(tc, test_pool_too_small_says_how_to_fix);
	tcase_add_test(tc, test_backends_reported);
	tcase_add_test(tc, test_file_lifecycle_and_errors);
	tcase_add_test(tc, test_hva_is_the_memory);
	tcase_add_test(tc, test_convert_state_pin_contract);
	tcase_add_test(tc, test_unpin_copies_and_foreign_handles);
	tcase_add_test(tc, test_prefault_any_thread_count);
	tcase_add_test(tc, test_punch_returns_pages_and_stats);
	tcase_add_test(tc, test_stats_sizes);
	tcase_add_test(tc, test_stats_old_binaries);
	tcase_add_test(tc, test_last_error_is_per_thread);
	tcase_add_test(tc, test_numa_placement);
	tcase_add_test(tc, test_threads_share_a_file);
	suite_add_tcase(s, tc);
	tcase_set_timeout(hw, 300);
	tcase_add_test(hw, test_real_hugetlb_2m);
	tcase_add_test(hw, test_real_hugetlb_1g);
	suite_add_tcase(s, hw);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(api_suite());
	int failed;

	/* The hugetlb cases change system state: never run two at once. */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
