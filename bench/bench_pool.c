// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pool prefault: guestmem_pool_create() with GUESTMEM_POOL_PREFAULT faults
 * in and zeroes every huge page on @threads threads.  Its bandwidth is set
 * against memset() of as many bytes of warm memory on as many threads,
 * the physical limit of zeroing.
 *
 * prefault/guestmem_<page>/threads:<t>  pool creation (destroy untimed)
 * prefault/memset/threads:<t>           memset of the same size, t slices
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void bm_prefault(struct gb_state *st, uint64_t page)
{
	uint64_t size = bench_cfg.guest_size;
	struct guestmem_pool_opts o = {
		.page_size = page,
		.nr_pages = size / page,
		.node = -1,
		.threads = (unsigned int)gb_range(st, 0),
		.flags = GUESTMEM_POOL_PREFAULT | GUESTMEM_POOL_FALLBACK,
	};
	const char *backend = "?";
	bool hugetlb = false;

	if (o.threads > o.nr_pages) {
		bench_skip(st, "%u threads for %llu pages: the pool uses at most one per page",
			   o.threads, (unsigned long long)o.nr_pages);
		return;
	}
	while (gb_keep_running(st)) {
		struct guestmem_pool *pool;
		uint64_t t0 = bench_now_ns(), t1;
		int err = guestmem_pool_create(&o, &pool);

		t1 = bench_now_ns();
		if (err) {
			bench_skip(st, "guestmem_pool_create: %s", guestmem_last_error());
			break;
		}
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
		backend = bench_backend_name(pool);
		hugetlb = !strcmp(backend, "hugetlb");
		bench_pool_put(pool);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
	gb_label(st, backend);
	gb_counter(st, "hugetlb", hugetlb, 0);
}

static void bm_prefault_2m(struct gb_state *st)
{
	bm_prefault(st, SZ_2M);
}

static void bm_prefault_1g(struct gb_state *st)
{
	bm_prefault(st, SZ_1G);
}

struct slice {
	char *p;
	size_t len;
};

static void *memset_slice(void *arg)
{
	struct slice *s = arg;

	memset(s->p, 0, s->len);
	gb_clobber_memory();
	return NULL;
}

static void bm_memset(struct gb_state *st)
{
	uint64_t size = bench_cfg.guest_size;
	int nt = (int)gb_range(st, 0), i;
	char *buf = bench_alloc_warm(size, true);
	struct slice *s = calloc(nt, sizeof(*s));
	pthread_t *tid = calloc(nt, sizeof(*tid));

	if (!buf || !s || !tid) {
		bench_skip(st, "no memory for %llu bytes", (unsigned long long)size);
		goto out;
	}
	for (i = 0; i < nt; i++) {
		s[i].p = buf + (size / nt) * i;
		s[i].len = i == nt - 1 ? size - (size / nt) * i : size / nt;
	}
	while (gb_keep_running(st)) {
		uint64_t t0 = bench_now_ns();

		for (i = 1; i < nt; i++)
			if (pthread_create(&tid[i], NULL, memset_slice, &s[i]))
				memset_slice(&s[i]), tid[i] = 0;
		memset_slice(&s[0]);
		for (i = 1; i < nt; i++)
			if (tid[i])
				pthread_join(tid[i], NULL);
		gb_set_iteration_time(st, (double)(bench_now_ns() - t0) * 1e-9);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
out:
	free(s);
	free(tid);
	bench_free_warm(buf, size);
}

void bench_register_pool(void)
{
	struct gb_bench *a = gb_register("prefault/guestmem_2M", bm_prefault_2m);
	struct gb_bench *b = bench_cfg.smoke ? NULL :
			     gb_register("prefault/guestmem_1G", bm_prefault_1g);
	struct gb_bench *c = gb_register("prefault/memset", bm_memset);
	int t;

	BENCH_FOR_THREADS(t) {
		gb_arg(a, t);
		gb_arg(c, t);
		if (b)
			gb_arg(b, t);
	}
	bench_heavy(gb_unit(gb_arg_name(gb_manual_time(a), "threads"), GB_MS));
	bench_heavy(gb_unit(gb_arg_name(gb_manual_time(c), "threads"), GB_MS));
	if (b)
		bench_heavy(gb_unit(gb_arg_name(gb_manual_time(b), "threads"), GB_MS));
}
