/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-operation latency samples and their percentiles, for the tool's
 * reports and the benchmarks' counters: the project's one definition.
 *
 * Percentiles are nearest-rank: the p-th percentile of n samples is the
 * smallest sample such that at least p% of the samples are at or below
 * it, i.e. the ceil(p / 100 * n)-th smallest (1-based).  It is always a
 * sample that was measured, never an interpolation; p50 of 1, 2, 3, 4 is
 * 2, and p99 of fewer than 100 samples is their maximum.
 */
#ifndef GUESTMEM_UTIL_LATENCY_H
#define GUESTMEM_UTIL_LATENCY_H

#include <stddef.h>
#include <stdint.h>

/* Zero-initialise ({ 0 }) before the first latency_add(). */
struct latency {
	uint64_t *ns;
	size_t n, cap;
	uint64_t sum;
	int oom;		/* samples dropped for want of memory */
};

void latency_add(struct latency *l, uint64_t ns);
/* Nearest-rank percentile (0 < pct <= 100); sorts the samples. 0 if none. */
uint64_t latency_pct(struct latency *l, double pct);
uint64_t latency_max(const struct latency *l);
void latency_free(struct latency *l);

#endif /* GUESTMEM_UTIL_LATENCY_H */
