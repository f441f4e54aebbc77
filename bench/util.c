// SPDX-License-Identifier: LGPL-2.1-or-later
/* guestmem benchmarks: shared helpers (see bench.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_skip(struct gb_state *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gb_skip(st, msg);
}

const char *bench_size_name(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (bytes >= 1024 && !(bytes % 1024) && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[u]);
	return buf;
}

struct gb_bench *bench_heavy(struct gb_bench *b)
{
	return bench_cfg.smoke ? b : gb_min_time(b, BENCH_HEAVY_MIN_TIME);
}

/* ------------------------------------------------------------ latencies */
void bench_lat_report(struct gb_state *st, struct bench_lat *b)
{
	struct latency *l = &b->l;

	if (!l->n)
		return;
	gb_counter(st, "p50_ns", (double)latency_pct(l, 50), GB_COUNTER_AVG_THREADS);
	gb_counter(st, "p99_ns", (double)latency_pct(l, 99), GB_COUNTER_AVG_THREADS);
	gb_counter(st, "max_ns", (double)latency_max(l), GB_COUNTER_AVG_THREADS);
}

/* ------------------------------------------------------------ memory */
void bench_touch(void *p, size_t len)
{
	volatile char *c = p;
	size_t off;

	for (off = 0; off < len; off += SZ_4K)
		c[off] = 1;
}

void *bench_alloc_warm(size_t len, bool thp)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (madvise(p, len, MADV_POPULATE_WRITE))
		memset(p, 0, len);
	return p;
}

void bench_free_warm(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* ------------------------------------------------------------ hugetlb */
long bench_hugetlb_avail(uint64_t page_size)
{
	struct guestmem_hugetlb_info info;

	return guestmem_hugetlb_info(page_size, -1, &info, sizeof(info)) ? -1 : (long)info.available;
}

const char *bench_hugetlb_why(uint64_t page_size, long need, char *buf, size_t len)
{
	long avail = bench_hugetlb_avail(page_size);
	char sz[16];

	bench_size_name(page_size, sz, sizeof(sz));
	if (avail < 0)
		snprintf(buf, len, "this kernel has no %s hugetlb pages", sz);
	else if (avail < need)
		snprintf(buf, len,
			 "%ld free %s hugetlb pages, need %ld (run as root, or raise /sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages)",
			 avail, sz, need, (unsigned long long)(page_size >> 10));
	else
		buf[0] = 0;
	return buf;
}

/* ------------------------------------------------------------ pools */
struct guestmem_pool *bench_pool(struct gb_state *st, uint64_t page_size, uint64_t nr,
				 uint64_t flags)
{
	struct guestmem_pool_opts o = {
		.page_size = page_size,
		.nr_pages = nr,
		.node = -1,
		.threads = 0,
		.flags = flags,
	};
	struct guestmem_pool *pool = NULL;
	int err;

	if (!(flags & GUESTMEM_POOL_SIMULATE))
		o.flags |= GUESTMEM_POOL_FALLBACK | GUESTMEM_POOL_PREFAULT;
	err = guestmem_pool_create(&o, &pool);
	if (err) {
		bench_skip(st, "guestmem_pool_create(%llu pages): %s: %s",
			   (unsigned long long)nr, strerror(-err), guestmem_last_error());
		return NULL;
	}
	return pool;
}

void bench_pool_put(struct guestmem_pool *pool)
{
	if (pool && guestmem_pool_destroy(pool))
		fprintf(stderr, "bench: guestmem_pool_destroy: %s\n", guestmem_last_error());
}

const char *bench_backend_name(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats s;

	if (guestmem_pool_stats(pool, &s, sizeof(s)))
		return "?";
	switch (s.backend) {
	case GUESTMEM_BACKEND_HUGETLB:
		return "hugetlb";
	case GUESTMEM_BACKEND_FALLBACK:
		return "fallback";
	case GUESTMEM_BACKEND_SIMULATED:
		return "simulated";
	}
	return "?";
}

void bench_pool_label(struct gb_state *st, struct guestmem_pool *pool)
{
	const char *b = bench_backend_name(pool);

	gb_label(st, b);
	/* Set by one thread only: summed over threads, it stays 0 or 1. */
	gb_counter(st, "hugetlb", !strcmp(b, "hugetlb"), 0);
}

struct guestmem_file *bench_file(struct gb_state *st, struct guestmem_pool *pool,
				 uint64_t size, uint64_t flags, bool allocate)
{
	struct guestmem_file *f = NULL;
	int err = guestmem_file_create(pool, size, flags, &f);

	if (!err && allocate) {
		err = guestmem_allocate(f, 0, size);
		if (err)
			guestmem_file_destroy(f);
	}
	if (err) {
		bench_skip(st, "guestmem file of %llu bytes: %s: %s",
			   (unsigned long long)size, strerror(-err), guestmem_last_error());
		return NULL;
	}
	return f;
}
