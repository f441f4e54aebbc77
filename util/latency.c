// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Latency samples (see latency.h).  Every sample is kept (8 bytes each),
 * so percentiles are exact; they are computed once, at report time.
 */
#include <stdlib.h>

#include "latency.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void latency_add(struct latency *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		uint64_t *p = realloc(l->ns, cap * sizeof(*p));

		if (!p) {
			l->oom++;
			return;
		}
		l->ns = p;
		l->cap = cap;
	}
	l->ns[l->n++] = ns;
	l->sum += ns;
}

uint64_t latency_pct(struct latency *l, double pct)
{
	double x = pct / 100.0 * (double)l->n;
	size_t rank = (size_t)x;

	if (!l->n)
		return 0;
	qsort(l->ns, l->n, sizeof(*l->ns), cmp_u64);
	if ((double)rank < x)
		rank++;	/* ceil() without libm */
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return l->ns[rank - 1];
}

uint64_t latency_max(const struct latency *l)
{
	uint64_t max = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->ns[i] > max)
			max = l->ns[i];
	return max;
}

void latency_free(struct latency *l)
{
	free(l->ns);
	l->ns = NULL;
	l->n = l->cap = 0;
	l->sum = 0;
}
