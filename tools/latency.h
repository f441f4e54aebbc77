/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestmem(1): per-operation latency samples and their percentiles. */
#ifndef GUESTMEM_TOOL_LATENCY_H
#define GUESTMEM_TOOL_LATENCY_H

#include <stddef.h>
#include <stdint.h>

struct latency {
	uint64_t *ns;
	size_t n, cap;
	uint64_t sum;
	int oom;		/* samples dropped for want of memory */
};

void latency_add(struct latency *l, uint64_t ns);
/* Nearest-rank percentile (0 < pct <= 100); sorts the samples. 0 if none. */
uint64_t latency_pct(struct latency *l, double pct);
uint64_t latency_max(struct latency *l);
void latency_free(struct latency *l);

#endif /* GUESTMEM_TOOL_LATENCY_H */
