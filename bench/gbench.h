/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gbench: a C interface to Google Benchmark, so that every benchmark can be
 * written in C.  The only C++ is bench/gbench_shim.cc, which maps these
 * calls one to one onto benchmark::State and benchmark::internal::Benchmark.
 *
 *	static void bm_memset(struct gb_state *st)
 *	{
 *		size_t n = gb_range(st, 0);
 *		char *buf = malloc(n);
 *
 *		while (gb_keep_running(st))
 *			memset(buf, 0, n), gb_clobber_memory();
 *		gb_bytes_processed(st, gb_iterations(st) * n);
 *		free(buf);
 *	}
 *	...
 *	gb_arg(gb_register("memset", bm_memset), 4096);
 *	return gb_main(argc, argv);
 *
 * Configuration calls return their benchmark so they can be nested.
 */
#ifndef GUESTMEM_GBENCH_H
#define GUESTMEM_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gb_state;	/* a benchmark::State */
struct gb_bench;	/* a registered benchmark::internal::Benchmark */

typedef void (*gb_fn)(struct gb_state *st);

/* Counter flags (benchmark::Counter::Flags). */
#define GB_COUNTER_RATE		(1u << 0)	/* divided by the run's time */
#define GB_COUNTER_AVG_THREADS	(1u << 1)	/* averaged over threads, not summed */
#define GB_COUNTER_AVG_ITERS	(1u << 3)	/* divided by the iteration count */
#define GB_COUNTER_INVERT	(1u << 31)	/* 1/x, applied last */

enum gb_unit { GB_NS, GB_US, GB_MS, GB_S };

/* ------------------------------------------------------------ registration */
struct gb_bench *gb_register(const char *name, gb_fn fn);
struct gb_bench *gb_arg(struct gb_bench *b, int64_t arg);		/* ->Arg() */
struct gb_bench *gb_args(struct gb_bench *b, int n, const int64_t *args);	/* ->Args() */
/* ->Range(lo, hi) with ->RangeMultiplier(mult): lo, lo*mult, ..., hi. */
struct gb_bench *gb_range_mult(struct gb_bench *b, int64_t lo, int64_t hi, int mult);
struct gb_bench *gb_arg_name(struct gb_bench *b, const char *name);	/* ->ArgName() */
struct gb_bench *gb_threads(struct gb_bench *b, int n);		/* ->Threads() */
struct gb_bench *gb_manual_time(struct gb_bench *b);		/* ->UseManualTime() */
struct gb_bench *gb_real_time(struct gb_bench *b);		/* ->UseRealTime() */
struct gb_bench *gb_iterations(struct gb_bench *b, int64_t n);	/* ->Iterations() */
/* ->MinTime(): overrides --benchmark_min_time for this benchmark. */
struct gb_bench *gb_min_time(struct gb_bench *b, double seconds);
struct gb_bench *gb_unit(struct gb_bench *b, enum gb_unit unit);	/* ->Unit() */

/* One argument tuple: GB_ARGS(b, 1, 2, 3). */
#define GB_ARGS(b, ...) \
	gb_args((b), (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), \
		(const int64_t[]){ __VA_ARGS__ })

/* Key/value for the "context" stanza of the output (AddCustomContext). */
void gb_context(const char *key, const char *value);

/*
 * Initialize (parses and removes --benchmark_* flags), reject unknown
 * flags, run every registered benchmark that matches the filter, shut
 * down.  Returns the process exit status.
 */
int gb_main(int argc, char **argv);

/* ------------------------------------------------------------ in a benchmark */
bool gb_keep_running(struct gb_state *st);	/* for (;;) loop condition */
void gb_pause(struct gb_state *st);		/* PauseTiming() */
void gb_resume(struct gb_state *st);		/* ResumeTiming() */
int64_t gb_range(struct gb_state *st, int i);	/* range(i) */
int64_t gb_iterations_done(struct gb_state *st);	/* iterations() */
int gb_thread_index(struct gb_state *st);
int gb_nthreads(struct gb_state *st);
void gb_counter(struct gb_state *st, const char *name, double value, unsigned int flags);
void gb_set_iteration_time(struct gb_state *st, double seconds);	/* manual time */
void gb_bytes_processed(struct gb_state *st, int64_t bytes);
void gb_items_processed(struct gb_state *st, int64_t items);
void gb_label(struct gb_state *st, const char *label);
/* Skip the benchmark with @msg (SkipWithError): call before the loop. */
void gb_skip(struct gb_state *st, const char *msg);
bool gb_skipped(struct gb_state *st);

/* Keep @p's value alive (DoNotOptimize) and force pending stores out. */
static inline void gb_do_not_optimize(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static inline void gb_clobber_memory(void)
{
	__asm__ volatile("" : : : "memory");
}

#ifdef __cplusplus
}
#endif

#endif /* GUESTMEM_GBENCH_H */
