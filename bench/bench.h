/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem benchmarks: helpers shared by the benchmark files.  Everything
 * here is plain userspace C over the public API (include/guestmem.h); the
 * benchmarks that drive mm/ directly live in bench_mm.c, which is compiled
 * over the kernel shim instead.
 */
#ifndef GUESTMEM_BENCH_H
#define GUESTMEM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <guestmem.h>

#include "gbench.h"
#include "latency.h"	/* util/: latency samples and percentiles */
#include "rng.h"	/* util/: the random generator */

#define SZ_4K	(UINT64_C(4096))
#define SZ_2M	(UINT64_C(2) << 20)
#define SZ_1G	(UINT64_C(1) << 30)

/* Run-wide configuration, set by main.c before the benchmarks register. */
struct bench_cfg {
	bool smoke;		/* --smoke: tiny sizes, one iteration, no system changes */
	int max_threads;	/* thread counts go 1, 2, 4, ... up to this */
	uint64_t guest_size;	/* coco-boot guest, prefault pool */
	uint64_t convert_file;	/* file for the conversion benchmarks */
	uint64_t random_span;	/* span of the random 4K conversions */
	uint64_t alloc_max;	/* largest alloc/free size on 2M pages */
	uint64_t meta_max;	/* largest guest for unsplit metadata */
	uint64_t meta_split_max;	/* largest guest for fully split metadata */
};
extern struct bench_cfg bench_cfg;

/* Thread counts 1, 2, 4, ... and max_threads itself. */
#define BENCH_FOR_THREADS(t)						\
	for ((t) = 1; (t) <= bench_cfg.max_threads;			\
	     (t) = (t) < bench_cfg.max_threads && 2 * (t) > bench_cfg.max_threads ? \
		   bench_cfg.max_threads : 2 * (t))

/*
 * Benchmarks whose iteration takes ~0.1 s or more: run them for at least
 * this long (a few iterations), whatever --benchmark_min_time says, except
 * in --smoke mode.
 */
#define BENCH_HEAVY_MIN_TIME	0.6
struct gb_bench *bench_heavy(struct gb_bench *b);

/* Registration, in the order of the output. */
void bench_register_alloc(void);	/* bench_alloc.c */
void bench_register_split(void);	/* bench_convert.c */
void bench_register_mm_split(void);	/* bench_mm.c */
void bench_register_convert(void);	/* bench_convert.c */
void bench_register_pool(void);		/* bench_pool.c */
void bench_register_state(void);	/* bench_mm.c */
void bench_register_metadata(void);	/* bench_mm.c */

/* ------------------------------------------------------------ utilities */
uint64_t bench_now_ns(void);		/* CLOCK_MONOTONIC */
/* Skip the benchmark with a formatted reason (printed in the output). */
void bench_skip(struct gb_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *bench_size_name(uint64_t bytes, char *buf, size_t len);	/* "2M", "1G" */

/*
 * Per-operation latencies, reported as p50/p99/max counters (ns): the
 * samples and their nearest-rank percentiles of util/latency.h.
 */
struct bench_lat {
	struct latency l;
};

static inline void bench_lat_init(struct bench_lat *b)
{
	b->l = (struct latency){ 0 };
}

static inline void bench_lat_add(struct bench_lat *b, uint64_t ns)
{
	latency_add(&b->l, ns);
}

void bench_lat_report(struct gb_state *st, struct bench_lat *b);

static inline void bench_lat_free(struct bench_lat *b)
{
	latency_free(&b->l);
}

/* Write one byte in every 4K page: fault the range in for the caller. */
void bench_touch(void *p, size_t len);
/* Anonymous memory, populated (written once) so that timing excludes first touch. */
void *bench_alloc_warm(size_t len, bool thp);
void bench_free_warm(void *p, size_t len);

/* ------------------------------------------------------------ hugetlb */
/* Huge pages of @page_size a new mapping can still reserve; -1 if none of that size. */
long bench_hugetlb_avail(uint64_t page_size);
/* Why hugetlb pages are short: "" when @need are available. */
const char *bench_hugetlb_why(uint64_t page_size, long need, char *buf, size_t len);

/*
 * A pool of @nr huge pages: hugetlb when the kernel has them, ordinary
 * memory otherwise (the label says which).  Prefaulted, so that timings
 * see warm memory.  Returns NULL after gb_skip() on failure.
 */
struct guestmem_pool *bench_pool(struct gb_state *st, uint64_t page_size, uint64_t nr,
				 uint64_t flags);
void bench_pool_put(struct guestmem_pool *pool);
/* "hugetlb", "fallback" or "simulated". */
const char *bench_backend_name(struct guestmem_pool *pool);
/* Label "<backend>" and counter hugetlb=0/1 for a pool benchmark. */
void bench_pool_label(struct gb_state *st, struct guestmem_pool *pool);
/* A file of @size in @pool, fully allocated when @allocate; NULL after gb_skip(). */
struct guestmem_file *bench_file(struct gb_state *st, struct guestmem_pool *pool,
				 uint64_t size, uint64_t flags, bool allocate);

#endif /* GUESTMEM_BENCH_H */
