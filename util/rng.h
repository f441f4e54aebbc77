/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The project's one random generator, for the tool's workloads, the
 * benchmarks and the tests: splitmix64 (Steele, Lea and Flood), small,
 * fast and reproducible from a 64-bit seed on every machine.  Not for
 * anything secret.
 */
#ifndef GUESTMEM_UTIL_RNG_H
#define GUESTMEM_UTIL_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s;
};

/* Every seed, 0 included, gives a full-period sequence. */
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n), n > 0 (no modulo bias). */
uint64_t rng_below(struct rng *r, uint64_t n);

#endif /* GUESTMEM_UTIL_RNG_H */
