// SPDX-License-Identifier: LGPL-2.1-or-later
/* The random generator: see rng.h. */
#include "rng.h"

void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* Rejection: the values above the last whole multiple of n are redrawn. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = rng_next(r);
	while (v >= limit);
	return v % n;
}
