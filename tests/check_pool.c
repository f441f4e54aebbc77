// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pools: NUMA-bound pools take their pages on the node at creation (or fail
 * with the node's nr_hugepages to raise), and the pool's knowledge of which
 * free huge pages hold zeroes, with and without the background zeroer.
 *
 * White-box: lib/{error,pool,file}.c are compiled in, so the tests drive the
 * public API and also see the shim's pool (pool->h): its counters, its
 * zeroer and the zeroer's test hook, which holds the zeroer on a page it
 * has taken to clear.  Every race here is made deterministic that way; no
 * test depends on timing.  Every test checks that the pool is whole at the
 * end and that the shim's books balance.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/libguestmem.h"
#include "hugetlb_env.h"

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M

static const unsigned char zero_page[4096];

static struct guestmem_pool *pool_make(uint64_t nr, uint64_t flags)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = nr, .node = -1,
		.flags = flags | GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool *pool = NULL;
	int err = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!err, "pool_create: %d: %s", err, guestmem_last_error());
	return pool;
}

static struct guestmem_file *file_make(struct guestmem_pool *pool, uint64_t size)
{
	struct guestmem_file *f = NULL;

	ck_assert_int_eq(guestmem_file_create(pool, size, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	return f;
}

static struct shim_hstate_counters counters(struct guestmem_pool *pool)
{
	struct shim_hstate_counters c;

	shim_hstate_counters(pool->h, &c);
	return c;
}

static uint64_t stat_zeroed(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	return st.zeroed;
}

/* Every byte of [off, off + len) of @f reads as zero. */
#define assert_zero(f, off, len) assert_zero_at((f), (off), (len), __LINE__)
static void assert_zero_at(struct guestmem_file *f, uint64_t off, uint64_t len, int line)
{
	const unsigned char *p = (const unsigned char *)guestmem_file_hva(f) + off;
	uint64_t i;

	for (i = 0; i < len; i += SZ_4K)
		ck_assert_msg(!memcmp(p + i, zero_page, SZ_4K),
			      "line %d: offset %#llx holds data after allocation", line,
			      (unsigned long long)(off + i));
}

static void dirty(struct guestmem_file *f, uint64_t off, uint64_t len, int byte)
{
	memset((char *)guestmem_file_hva(f) + off, byte, len);
}

static void destroy_all(struct guestmem_pool *pool, struct guestmem_file *f)
{
	struct guestmem_pool_stats st;

	if (f)
		ck_assert_int_eq(guestmem_file_destroy(f), 0);
	hgmem_flush_deferred();
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.free, st.total);
	ck_assert_uint_eq(st.reserved, 0);
	ck_assert_uint_eq(st.in_use, 0);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert(shim_hstate_consistent(pool->h));
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}

/* ------------------------------------------------ the zeroer's test hook */

/* Holds the zeroer on the first page it takes, until released. */
static sem_t hook_entered, hook_release;
static atomic_bool hook_armed;
static struct folio *hook_folio;

static void hold_hook(struct hstate *h, struct folio *folio)
{
	bool armed = true;

	(void)h;
	if (!atomic_compare_exchange_strong(&hook_armed, &armed, false))
		return;
	hook_folio = folio;
	sem_post(&hook_entered);
	while (sem_wait(&hook_release))
		;
}

static void hook_arm(void)
{
	ck_assert_int_eq(sem_init(&hook_entered, 0, 0), 0);
	ck_assert_int_eq(sem_init(&hook_release, 0, 0), 0);
	hook_folio = NULL;
	atomic_store(&hook_armed, true);
	shim_zero_hook = hold_hook;
}

static void hook_wait_entered(void)
{
	while (sem_wait(&hook_entered))
		;
}

static void hook_release_now(void)
{
	sem_post(&hook_release);
}

static void hook_disarm(void)
{
	shim_zero_hook = NULL;
	sem_destroy(&hook_entered);
	sem_destroy(&hook_release);
}

/* ------------------------------------------------ known-zero pages */

START_TEST(test_zero_flag_contract)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 2, .node = -1, .flags = UINT64_C(1) << 9,
	};
	struct guestmem_pool *pool = NULL;

	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert(strstr(guestmem_last_error(), "unknown pool flags"));
	/* A simulated pool has no memory to clear: accepted, no thread. */
	o.flags = GUESTMEM_POOL_SIMULATE | GUESTMEM_POOL_ZERO_BACKGROUND;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_ptr_null(pool->h->zeroer);
	ck_assert_uint_eq(stat_zeroed(pool), 0);
	destroy_all(pool, NULL);
	/* The shim refuses a zeroer twice, or on memory it cannot touch. */
	pool = pool_make(2, GUESTMEM_POOL_ZERO_BACKGROUND);
	ck_assert_ptr_nonnull(pool->h->zeroer);
	ck_assert_int_eq(shim_hstate_zero_start(pool->h), -EBUSY);
	destroy_all(pool, NULL);
}
END_TEST

/*
 * Prefaulted pages never handed out are zero; pages not faulted in are not
 * counted; a freed page is not zero until cleared.
 */
static void fresh_then_dirty(uint64_t flags)
{
	struct guestmem_pool *pool = pool_make(2, flags);
	struct guestmem_file *f = file_make(pool, 2 * SZ_2M);
	unsigned long hits = counters(pool).zero_hits;
	unsigned long fresh = flags & GUESTMEM_POOL_PREFAULT ? 2 : 0;

	ck_assert_uint_eq(stat_zeroed(pool), fresh);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_uint_eq(counters(pool).zero_hits, hits + fresh);
	ck_assert_uint_eq(stat_zeroed(pool), 0);
	assert_zero(f, 0, 2 * SZ_2M);
	dirty(f, 0, 2 * SZ_2M, 0xa5);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 2 * SZ_2M), 0);
	ck_assert_uint_eq(stat_zeroed(pool), 0);
	/* Allocated again at once: the allocation clears them. */
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_uint_eq(counters(pool).zero_hits, hits + fresh);
	assert_zero(f, 0, 2 * SZ_2M);
	destroy_all(pool, f);
}

START_TEST(test_fresh_pages_are_zero_freed_ones_are_not)
{
	fresh_then_dirty(0);
	fresh_then_dirty(GUESTMEM_POOL_PREFAULT);
}
END_TEST

START_TEST(test_background_clears_freed_pages)
{
	struct guestmem_pool *pool = pool_make(4, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct guestmem_file *f = file_make(pool, 4 * SZ_2M);
	unsigned long hits;
	int round;

	for (round = 0; round < 3; round++) {
		ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
		assert_zero(f, 0, 4 * SZ_2M);
		dirty(f, 0, 4 * SZ_2M, 0x11 + round);
		ck_assert_int_eq(guestmem_punch_hole(f, 0, 4 * SZ_2M), 0);
		shim_hstate_zero_flush(pool->h);
		ck_assert_uint_eq(stat_zeroed(pool), 4);
		hits = counters(pool).zero_hits;
		ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
		ck_assert_uint_eq(counters(pool).zero_hits, hits + 4);
		assert_zero(f, 0, 4 * SZ_2M);
		ck_assert_int_eq(guestmem_punch_hole(f, 0, 4 * SZ_2M), 0);
	}
	destroy_all(pool, f);
}
END_TEST

/* Freed pages allocated again before the zeroer got to them are cleared. */
START_TEST(test_realloc_before_the_zeroer_ran)
{
	struct guestmem_pool *pool = pool_make(3, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct guestmem_file *f = file_make(pool, 3 * SZ_2M);
	unsigned long hits;

	ck_assert_int_eq(guestmem_allocate(f, 0, 3 * SZ_2M), 0);
	dirty(f, 0, 3 * SZ_2M, 0x5a);
	hook_arm();
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 3 * SZ_2M), 0);
	hook_wait_entered();		/* the zeroer holds one page, two wait dirty */
	ck_assert_uint_eq(counters(pool).zeroing, 1);
	ck_assert_uint_eq(stat_zeroed(pool), 0);
	hits = counters(pool).zero_hits;
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_uint_eq(counters(pool).zero_hits, hits);
	assert_zero(f, 0, 2 * SZ_2M);
	ck_assert(shim_hstate_consistent(pool->h));
	hook_release_now();
	shim_hstate_zero_flush(pool->h);
	ck_assert_uint_eq(stat_zeroed(pool), 1);
	ck_assert_int_eq(guestmem_allocate(f, 2 * SZ_2M, SZ_2M), 0);
	ck_assert_uint_eq(counters(pool).zero_hits, hits + 1);
	assert_zero(f, 2 * SZ_2M, SZ_2M);
	hook_disarm();
	destroy_all(pool, f);
}
END_TEST

struct alloc_arg {
	struct guestmem_file *f;
	uint64_t off;
	atomic_int done;
	int err;
};

static void *alloc_thread(void *arg)
{
	struct alloc_arg *a = arg;

	a->err = guestmem_allocate(a->f, a->off, SZ_2M);
	atomic_store(&a->done, 1);
	return NULL;
}

/*
 * The only free page is the one being cleared: the allocation waits for
 * it (it never takes a page the zeroer is writing), and a page freed dirty
 * meanwhile is cleared too.
 */
START_TEST(test_alloc_waits_for_the_page_being_cleared)
{
	struct guestmem_pool *pool = pool_make(2, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct guestmem_file *f = file_make(pool, SZ_2M), *g = file_make(pool, SZ_2M);
	struct alloc_arg a = { .f = f };
	unsigned long hits;
	pthread_t t;

	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_allocate(g, 0, SZ_2M), 0);
	dirty(f, 0, SZ_2M, 0x77);
	dirty(g, 0, SZ_2M, 0x88);
	hook_arm();
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	hook_wait_entered();
	hits = counters(pool).zero_hits;
	ck_assert_int_eq(pthread_create(&t, NULL, alloc_thread, &a), 0);
	while (!shim_hstate_zero_waiters(pool->h) && !atomic_load(&a.done))
		sched_yield();
	ck_assert_msg(!atomic_load(&a.done),
		      "allocation did not wait for the page being cleared: %d", a.err);
	/* Freed while the zeroer is busy: goes on the dirty list. */
	ck_assert_int_eq(guestmem_punch_hole(g, 0, SZ_2M), 0);
	ck_assert(shim_hstate_consistent(pool->h));
	hook_release_now();
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(a.err, 0);
	assert_zero(f, 0, SZ_2M);
	shim_hstate_zero_flush(pool->h);
	ck_assert_int_eq(guestmem_allocate(g, 0, SZ_2M), 0);
	assert_zero(g, 0, SZ_2M);
	ck_assert_uint_ge(counters(pool).zero_hits, hits + 1);
	hook_disarm();
	ck_assert_int_eq(guestmem_file_destroy(g), 0);
	destroy_all(pool, f);
}
END_TEST

/*
 * A page split by conversions, written, pinned and punched comes back
 * through deferred reassembly; it is not zero, with or without the zeroer.
 */
static void split_reassembled(uint64_t flags)
{
	struct guestmem_pool *pool = pool_make(1, flags);
	struct guestmem_file *f = file_make(pool, SZ_2M);
	struct guestmem_page pg;
	unsigned long hits;

	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	dirty(f, 0, SZ_2M, 0x3c);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M / 2, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	dirty(f, SZ_2M / 2, SZ_4K, 0x4d);	/* bookkeeping only: still writable */
	ck_assert_int_eq(guestmem_pin(f, SZ_4K, &pg), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	hgmem_flush_deferred();
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	hits = counters(pool).zero_hits;
	if (flags & GUESTMEM_POOL_ZERO_BACKGROUND) {
		shim_hstate_zero_flush(pool->h);
		ck_assert_uint_eq(stat_zeroed(pool), 1);
		hits++;
	} else {
		ck_assert_uint_eq(stat_zeroed(pool), 0);
	}
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_uint_eq(counters(pool).zero_hits, hits);
	assert_zero(f, 0, SZ_2M);
	destroy_all(pool, f);
}

START_TEST(test_split_reassembled_pages)
{
	split_reassembled(0);
	split_reassembled(GUESTMEM_POOL_ZERO_BACKGROUND);
}
END_TEST

/* A partial punch zeroes part of a page that stays allocated: nothing freed. */
START_TEST(test_partial_punch_frees_nothing)
{
	struct guestmem_pool *pool = pool_make(2, GUESTMEM_POOL_ZERO_BACKGROUND |
					       GUESTMEM_POOL_PREFAULT);
	struct guestmem_file *f = file_make(pool, SZ_2M);

	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	dirty(f, 0, SZ_2M, 0x66);
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_4K, SZ_2M - SZ_4K), 0);
	shim_hstate_zero_flush(pool->h);
	ck_assert_uint_eq(stat_zeroed(pool), 1);	/* only the untouched page */
	ck_assert_uint_eq(((unsigned char *)guestmem_file_hva(f))[0], 0x66);
	assert_zero(f, SZ_4K, SZ_2M - SZ_4K);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	destroy_all(pool, f);
}
END_TEST

struct destroy_arg {
	struct guestmem_pool *pool;
	int err;
};

static void *destroy_thread(void *arg)
{
	struct destroy_arg *d = arg;

	d->err = guestmem_pool_destroy(d->pool);
	return NULL;
}

/* Destroy while the zeroer is in the middle of a page: it finishes, then stops. */
START_TEST(test_destroy_while_zeroing)
{
	struct guestmem_pool *pool = pool_make(2, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct guestmem_file *f = file_make(pool, 2 * SZ_2M);
	struct destroy_arg d = { .pool = pool };
	pthread_t t;
	int i;

	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	dirty(f, 0, 2 * SZ_2M, 0x99);
	hook_arm();
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 2 * SZ_2M), 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	hook_wait_entered();
	ck_assert_int_eq(pthread_create(&t, NULL, destroy_thread, &d), 0);
	while (!shim_hstate_zero_stopping(pool->h))
		sched_yield();
	hook_release_now();
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(d.err, 0);
	hook_disarm();

	/* And right after freeing many dirty pages, over and over. */
	for (i = 0; i < 20; i++) {
		pool = pool_make(4, GUESTMEM_POOL_ZERO_BACKGROUND);
		f = file_make(pool, 4 * SZ_2M);
		ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
		dirty(f, 0, 4 * SZ_2M, i + 1);
		ck_assert_int_eq(guestmem_punch_hole(f, 0, 4 * SZ_2M), 0);
		destroy_all(pool, f);
	}
}
END_TEST

/* A fork child's copy of the pool has no zeroer; the parent's goes on. */
START_TEST(test_fork_child_forgets_the_zeroer)
{
	struct guestmem_pool *pool = pool_make(2, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct guestmem_file *f = file_make(pool, 2 * SZ_2M);
	int status;
	pid_t pid;

	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	dirty(f, 0, SZ_2M, 0x21);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	shim_hstate_zero_flush(pool->h);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* No thread to join here: stopping only forgets it. */
		shim_hstate_zero_stop(pool->h);
		_exit(pool->h->zeroer || !shim_hstate_consistent(pool->h));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	dirty(f, SZ_2M, SZ_2M, 0x22);
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_2M, SZ_2M), 0);
	shim_hstate_zero_flush(pool->h);
	ck_assert_uint_eq(stat_zeroed(pool), 2);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	assert_zero(f, 0, 2 * SZ_2M);
	destroy_all(pool, f);
}
END_TEST

/* Threads allocating, writing, splitting, pinning and freeing; every allocation checked. */
struct churn {
	struct guestmem_file *f;
	unsigned int seed;
	int byte;
	unsigned long checked;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	int i;

	for (i = 0; i < 150; i++) {
		uint64_t off = (uint64_t)(rand_r(&c->seed) % 2) * SZ_2M;
		struct guestmem_page pg;

		ck_assert_int_eq(guestmem_allocate(c->f, off, SZ_2M), 0);
		assert_zero(c->f, off, SZ_2M);
		c->checked++;
		dirty(c->f, off, SZ_2M, c->byte);
		switch (rand_r(&c->seed) % 4) {
		case 0:
			ck_assert_int_eq(guestmem_convert(c->f, off + SZ_4K * (rand_r(&c->seed) % 512),
							  SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
			break;
		case 1:
			ck_assert_int_eq(guestmem_pin(c->f, off, &pg), 0);
			ck_assert_int_eq(guestmem_punch_hole(c->f, off, SZ_2M), 0);
			ck_assert_int_eq(guestmem_unpin(c->f, &pg), 0);
			break;
		default:
			break;
		}
		ck_assert_int_eq(guestmem_punch_hole(c->f, off, SZ_2M), 0);
		ck_assert_int_eq(guestmem_convert(c->f, off, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	}
	return NULL;
}

START_TEST(test_threads_never_see_data)
{
	struct guestmem_pool *pool = pool_make(6, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct churn c[3];
	pthread_t t[3];
	unsigned long checked = 0;
	int i;

	for (i = 0; i < 3; i++) {
		c[i] = (struct churn){ .f = file_make(pool, 2 * SZ_2M), .seed = 7 + i,
				       .byte = 0xe0 + i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		checked += c[i].checked;
		ck_assert_int_eq(guestmem_file_destroy(c[i].f), 0);
	}
	printf("threads: %lu allocations checked zero, %lu skipped clearing\n",
	       checked, counters(pool).zero_hits);
	destroy_all(pool, NULL);
}
END_TEST

/* ------------------------------------------------ freed means unmapped */

/*
 * A page the zeroer takes must be mapped nowhere it could still be written:
 * a write landing after the clear would leave data in a page handed out as
 * zero.  The hook looks at the watched file's mapping each time the zeroer
 * takes a page; while the test punches or destroys, no page of that file
 * may be mapped.  The check reads residency (mincore), which a dirty page
 * of the file's own mapping has and its PROT_NONE placeholder has not.
 * Before the library unmapped a page ahead of freeing it, the zeroer
 * caught one still mapped in most rounds; now it never can, whatever the
 * timing.
 */
static char *watch_addr;
static uint64_t watch_len;
static atomic_ulong watch_seen, watch_mapped;

static void watch_hook(struct hstate *h, struct folio *folio)
{
	uint64_t i, n = watch_len / SZ_4K;

	(void)h;
	(void)folio;
	atomic_fetch_add(&watch_seen, 1);
	for (i = 0; i < n; i += 512) {
		unsigned char v = 0;

		/* One 4K page per huge page; ENOMEM once the file is gone. */
		if (!mincore(watch_addr + i * SZ_4K, SZ_4K, &v) && (v & 1))
			atomic_fetch_add(&watch_mapped, 1);
	}
}

START_TEST(test_freed_pages_are_unmapped_first)
{
	const uint64_t nr = 4;
	struct guestmem_pool *pool = pool_make(nr, GUESTMEM_POOL_ZERO_BACKGROUND);
	struct guestmem_file *f = file_make(pool, nr * SZ_2M);
	int round;

	watch_addr = guestmem_file_hva(f);
	watch_len = nr * SZ_2M;
	atomic_store(&watch_seen, 0);
	atomic_store(&watch_mapped, 0);
	for (round = 0; round < 50; round++) {
		ck_assert_int_eq(guestmem_allocate(f, 0, nr * SZ_2M), 0);
		assert_zero(f, 0, nr * SZ_2M);
		dirty(f, 0, nr * SZ_2M, 0xc3);
		shim_zero_hook = watch_hook;
		ck_assert_int_eq(guestmem_punch_hole(f, 0, nr * SZ_2M), 0);
		/* The zeroer is done before the pages are mapped again. */
		shim_hstate_zero_flush(pool->h);
		shim_zero_hook = NULL;
	}
	/* The same when the file goes: its mapping goes before its pages. */
	ck_assert_int_eq(guestmem_allocate(f, 0, nr * SZ_2M), 0);
	dirty(f, 0, nr * SZ_2M, 0xc3);
	shim_zero_hook = watch_hook;
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	shim_hstate_zero_flush(pool->h);
	shim_zero_hook = NULL;
	printf("unmapped first: the zeroer took %lu pages, %lu found mapped\n",
	       atomic_load(&watch_seen), atomic_load(&watch_mapped));
	ck_assert_uint_gt(atomic_load(&watch_seen), 0);
	ck_assert_uint_eq(atomic_load(&watch_mapped), 0);
	destroy_all(pool, NULL);
}
END_TEST

/* ------------------------------------------------ NUMA-bound pools */

START_TEST(test_node_shortfall_decision)
{
	struct shim_node_hugetlb n = { .nr = 8, .free = 3 };

	/* The node lacks 1 of 4 though the whole pool has 10. */
	ck_assert_int_eq(shim_node_shortfall(&n, 10, 4), 1);
	/* Short globally too: the larger gap, since a node page counts for both. */
	ck_assert_int_eq(shim_node_shortfall(&n, 2, 4), 2);
	ck_assert_int_eq(shim_node_shortfall(&n, 10, 3), 0);
	n.free = 0;
	ck_assert_int_eq(shim_node_shortfall(&n, 100, 1), 1);
	n.free = 10;
	ck_assert_int_eq(shim_node_shortfall(&n, 10, 10), 0);
	ck_assert_int_eq(shim_node_shortfall(&n, 10, UINT64_MAX), LONG_MAX - 10);
	/* Global count unknown: only the node counts. */
	ck_assert_int_eq(shim_node_shortfall(&n, -1, 12), 2);
}
END_TEST

/* A node-bound pool the node cannot supply names the node's nr_hugepages. */
START_TEST(test_node_short_says_which_node)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 1 << 14, .node = 0,
	};
	struct guestmem_hugetlb_info n;
	struct guestmem_pool *pool = NULL;
	const char *msg;
	long echo = -1;

	if (numa_available() < 0 || guestmem_hugetlb_info(SZ_2M, 0, &n, sizeof(n))) {
		printf("SKIP: no NUMA or no per-node 2M hugetlb counts\n");
		return;
	}
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -ENOMEM);
	ck_assert_ptr_null(pool);
	msg = guestmem_last_error();
	printf("node short: %s\n", msg);
	ck_assert_msg(strstr(msg, "need 16384 free 2M pages on node 0"), "message: %s", msg);
	ck_assert_msg(strstr(msg, "> /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"),
		      "message: %s", msg);
	ck_assert(sscanf(strstr(msg, "echo "), "echo %ld", &echo) == 1);
	ck_assert_int_ge(echo, 1 << 14);
	/* With the fallback, ordinary memory instead. */
	o.nr_pages = 2;
	o.flags = GUESTMEM_POOL_FALLBACK;
	if (n.free < 2) {
		ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
		ck_assert_uint_eq(pool->backend, GUESTMEM_BACKEND_FALLBACK);
		destroy_all(pool, NULL);
	}
}
END_TEST

/*
 * A hugetlb pool bound to node 0, without GUESTMEM_POOL_PREFAULT, holds all
 * its pages on node 0 once created: a later fault cannot find the node
 * empty.  Before the fix the pages were only reserved (globally), so none
 * was present.  Root only (raises nr_hugepages by what is missing, then
 * puts it back).
 */
START_TEST(test_node_pool_populated_on_node)
{
	const unsigned long nr = 4;
	struct guestmem_pool_opts o = { .page_size = SZ_2M, .nr_pages = nr, .node = 0 };
	struct guestmem_pool *pool;
	struct hugetlb_env e;
	struct guestmem_file *f;
	unsigned long i;

	if (numa_available() < 0) {
		printf("SKIP: NUMA is not available\n");
		return;
	}
	if (!hugetlb_env_reserve(&e, 2048, nr)) {
		hugetlb_env_restore(&e);
		return;
	}
	if (guestmem_pool_create(&o, &pool)) {
		printf("SKIP: %s\n", guestmem_last_error());
		pool = NULL;
	}
	if (pool) {
		struct shim_region *r = pool->h->region;

		ck_assert_uint_eq(pool->backend, GUESTMEM_BACKEND_HUGETLB);
		for (i = 0; i < nr; i++) {
			void *page = r->addr + i * SZ_2M;
			int status = -1;

			ck_assert_int_eq(numa_move_pages(0, 1, &page, NULL, &status, 0), 0);
			ck_assert_msg(status == 0, "page %lu: status %d (not present on node 0)",
				      i, status);
		}
		/* Fresh from the kernel: known zero, and allocating skips clearing. */
		ck_assert_uint_eq(stat_zeroed(pool), nr);
		f = file_make(pool, nr * SZ_2M);
		ck_assert_int_eq(guestmem_allocate(f, 0, nr * SZ_2M), 0);
		ck_assert_uint_eq(counters(pool).zero_hits, nr);
		assert_zero(f, 0, nr * SZ_2M);
		destroy_all(pool, f);
	}
	ck_assert(hugetlb_env_restore(&e));
}
END_TEST

/* ------------------------------------------------- GUESTMEM_POOL_RETURN_TO_KERNEL */

static struct guestmem_pool_stats pstats(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	return st;
}

START_TEST(test_return_to_kernel_needs_no_node)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 1, .node = 0,
		.flags = GUESTMEM_POOL_RETURN_TO_KERNEL | GUESTMEM_POOL_SIMULATE,
	};
	struct guestmem_pool *pool = NULL;

	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "RETURN_TO_KERNEL"));
}
END_TEST

/*
 * Ordinary files of a pool that gives free pages back: a page freed beyond
 * the reservations goes to the kernel (free_hugepages rises), a destroyed
 * file's reservation too; a new file takes them back zeroed, or fails
 * with -ENOMEM, changing nothing, when the kernel has none or only some
 * of them (those it took back go back); at the end the kernel's counts
 * are whole.
 */
START_TEST(test_return_to_kernel_files)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 2, .node = -1,
		.flags = GUESTMEM_POOL_RETURN_TO_KERNEL,
	};
	struct guestmem_pool *pool = NULL, *hog = NULL;
	struct guestmem_pool_stats ps;
	struct guestmem_file *a, *b, *c = NULL;
	struct hugetlb_env e;
	long free0, resv0;

	if (!hugetlb_env_reserve(&e, 2048, 2)) {
		hugetlb_env_restore(&e);
		return;
	}
	free0 = hugetlb_env_free(&e);
	resv0 = hugetlb_env_resv(&e);
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_uint_eq(pool->backend, GUESTMEM_BACKEND_HUGETLB);
	/* Nothing is given back at creation: the pool reserved its pages. */
	ck_assert_uint_eq(pstats(pool).given_back_bytes, 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0 + 2), resv0 + 2);

	a = file_make(pool, SZ_2M);
	ck_assert_int_eq(guestmem_allocate(a, 0, SZ_2M), 0);
	memset(guestmem_file_hva(a), 0x77, SZ_2M);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 1), free0 - 1);

	/* Freed: beyond the reservations (a's is whole again), so the kernel's. */
	ck_assert_int_eq(guestmem_punch_hole(a, 0, SZ_2M), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.given_back_bytes, SZ_2M);
	ck_assert_uint_eq(ps.free, 1);
	ck_assert_uint_eq(ps.reserved, 1);
	ck_assert(shim_hstate_consistent(pool->h));

	/* Destroyed: its reservation goes too (a page never faulted: Rsvd drops). */
	ck_assert_int_eq(guestmem_file_destroy(a), 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.given_back_bytes, 2 * SZ_2M);
	ck_assert_uint_eq(ps.free, 2);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);

	/* A new file takes both back from the kernel, cleared by it. */
	b = file_make(pool, 2 * SZ_2M);
	ck_assert_uint_eq(pstats(pool).given_back_bytes, 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 2), free0 - 2);
	ck_assert_int_eq(guestmem_allocate(b, 0, 2 * SZ_2M), 0);
	assert_zero(b, 0, 2 * SZ_2M);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 2), free0 - 2);
	ck_assert_int_eq(guestmem_file_destroy(b), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_uint_eq(pstats(pool).given_back_bytes, 2 * SZ_2M);

	/* The kernel has no page left: -ENOMEM, and nothing changes. */
	if (hugetlb_env_hog(&e, 0, &hog)) {
		long free1 = hugetlb_env_free(&e);

		ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, 0, &c), -ENOMEM);
		ck_assert_ptr_null(c);
		ck_assert_msg(strstr(guestmem_last_error(), "kernel has no free huge page"),
			      "error: %s", guestmem_last_error());
		ps = pstats(pool);
		ck_assert_uint_eq(ps.given_back_bytes, 2 * SZ_2M);
		ck_assert_uint_eq(ps.free, 2);
		ck_assert_uint_eq(ps.reserved, 0);
		ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free1), free1);
		ck_assert(shim_hstate_consistent(pool->h));
		if (hog)
			ck_assert_int_eq(guestmem_pool_destroy(hog), 0);
	}
	/*
	 * The kernel has one of the two pages a file needs: the one taken
	 * back first goes back to the kernel again, and nothing changes.
	 */
	if (hugetlb_env_hog(&e, 1, &hog)) {
		long free1 = hugetlb_env_free(&e);

		ck_assert_int_eq(guestmem_file_create(pool, 2 * SZ_2M, 0, &c), -ENOMEM);
		ck_assert_ptr_null(c);
		ps = pstats(pool);
		ck_assert_uint_eq(ps.given_back_bytes, 2 * SZ_2M);
		ck_assert_uint_eq(ps.free, 2);
		ck_assert_uint_eq(ps.reserved, 0);
		ck_assert_uint_eq(ps.zeroed, 0);
		ck_assert(shim_hstate_consistent(pool->h));
		ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free1), free1);
		/* That page is still the kernel's to hand out: a 1-page file gets it. */
		ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, 0, &c), 0);
		ck_assert_uint_eq(pstats(pool).given_back_bytes, SZ_2M);
		ck_assert_int_eq(guestmem_file_destroy(c), 0);
		c = NULL;
		if (hog)
			ck_assert_int_eq(guestmem_pool_destroy(hog), 0);
	}
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);
	ck_assert(hugetlb_env_restore(&e));
}
END_TEST

struct give_churn {
	struct guestmem_pool *pool;
	int errors;
};

/* Make, fill, punch and destroy a one-page file, again and again. */
static void *give_churn_thread(void *arg)
{
	struct give_churn *c = arg;
	int i;

	for (i = 0; i < 50; i++) {
		struct guestmem_file *f = NULL;
		unsigned char *p;

		if (guestmem_file_create(c->pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f) ||
		    guestmem_allocate(f, 0, SZ_2M)) {
			c->errors++;
			if (f)
				guestmem_file_destroy(f);
			continue;
		}
		p = guestmem_file_hva(f);
		/* Taken back or reused, a page is handed out zero. */
		if (p[0] || p[SZ_2M - 1])
			c->errors++;
		memset(p, 0x33, SZ_2M);
		if (guestmem_punch_hole(f, 0, SZ_2M) || guestmem_file_destroy(f))
			c->errors++;
	}
	return NULL;
}

/* Two threads giving pages back and taking them back at once: nothing lost. */
START_TEST(test_return_to_kernel_threads)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 2, .node = -1,
		.flags = GUESTMEM_POOL_RETURN_TO_KERNEL,
	};
	struct give_churn c[2] = { { 0 } };
	struct guestmem_pool *pool = NULL;
	struct guestmem_pool_stats ps;
	struct hugetlb_env e;
	pthread_t t[2];
	long free0, resv0;
	int i;

	if (!hugetlb_env_reserve(&e, 2048, 2)) {
		hugetlb_env_restore(&e);
		return;
	}
	free0 = hugetlb_env_free(&e);
	resv0 = hugetlb_env_resv(&e);
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	for (i = 0; i < 2; i++) {
		c[i].pool = pool;
		ck_assert_int_eq(pthread_create(&t[i], NULL, give_churn_thread, &c[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(c[i].errors, 0);
	}
	ps = pstats(pool);
	ck_assert_uint_eq(ps.free, 2);
	ck_assert_uint_eq(ps.given_back_bytes, 2 * SZ_2M);
	ck_assert(shim_hstate_consistent(pool->h));
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert(hugetlb_env_restore(&e));
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *zero = tcase_create("zero");
	TCase *numa = tcase_create("numa");
	TCase *give;

	tcase_set_timeout(zero, 120);
	tcase_add_test(zero, test_zero_flag_contract);
	tcase_add_test(zero, test_fresh_pages_are_zero_freed_ones_are_not);
	tcase_add_test(zero, test_background_clears_freed_pages);
	tcase_add_test(zero, test_realloc_before_the_zeroer_ran);
	tcase_add_test(zero, test_alloc_waits_for_the_page_being_cleared);
	tcase_add_test(zero, test_split_reassembled_pages);
	tcase_add_test(zero, test_partial_punch_frees_nothing);
	tcase_add_test(zero, test_destroy_while_zeroing);
	tcase_add_test(zero, test_fork_child_forgets_the_zeroer);
	tcase_add_test(zero, test_threads_never_see_data);
	tcase_add_test(zero, test_freed_pages_are_unmapped_first);
	suite_add_tcase(s, zero);
	tcase_set_timeout(numa, 120);
	tcase_add_test(numa, test_node_shortfall_decision);
	tcase_add_test(numa, test_node_short_says_which_node);
	tcase_add_test(numa, test_node_pool_populated_on_node);
	suite_add_tcase(s, numa);
	give = tcase_create("return_to_kernel");
	tcase_set_timeout(give, 120);
	tcase_add_test(give, test_return_to_kernel_needs_no_node);
	tcase_add_test(give, test_return_to_kernel_files);
	tcase_add_test(give, test_return_to_kernel_threads);
	suite_add_tcase(s, give);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
