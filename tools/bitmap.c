// SPDX-License-Identifier: LGPL-2.1-or-later
/* guestmem(1): plain bitmaps for the tool's accounting models. */
#include <stdlib.h>

#include "tool.h"

uint64_t *bitmap_alloc(uint64_t bits)
{
	return calloc((size_t)((bits + 63) / 64) ?: 1, sizeof(uint64_t));
}

static uint64_t range_mask(uint64_t from, uint64_t to)
{
	/* Bits [from % 64, to - from + from % 64) of one word; to - from <= 64. */
	uint64_t n = to - from, lo = from % 64;

	return (n == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1)) << lo;
}

uint64_t bitmap_set_range(uint64_t *map, uint64_t from, uint64_t to)
{
	uint64_t added = 0;

	while (from < to) {
		uint64_t end = (from / 64 + 1) * 64, mask;

		if (end > to)
			end = to;
		mask = range_mask(from, end);
		added += (uint64_t)__builtin_popcountll(mask & ~map[from / 64]);
		map[from / 64] |= mask;
		from = end;
	}
	return added;
}

bool bitmap_test(const uint64_t *map, uint64_t bit)
{
	return map[bit / 64] >> (bit % 64) & 1;
}

void bitmap_set_bit(uint64_t *map, uint64_t bit)
{
	map[bit / 64] |= UINT64_C(1) << (bit % 64);
}

void bitmap_clear_bit(uint64_t *map, uint64_t bit)
{
	map[bit / 64] &= ~(UINT64_C(1) << (bit % 64));
}
