// SPDX-License-Identifier: LGPL-2.1-or-later
/* Userspace shim: bitmaps, a word at a time. */
#include <string.h>

#include "bitmap.h"

/* Mask of the bits of word @w that lie in [start, end). */
static unsigned long word_mask(unsigned int w, unsigned int start, unsigned int end)
{
	unsigned int lo = w * BITS_PER_LONG, hi = lo + BITS_PER_LONG;
	unsigned long m = ~0UL;

	if (start > lo)
		m &= ~0UL << (start - lo);
	if (end < hi)
		m &= ~0UL >> (hi - end);
	return m;
}

void bitmap_set(unsigned long *map, unsigned int start, unsigned int len)
{
	unsigned int w, end = start + len;

	for (w = BIT_WORD(start); len && w <= BIT_WORD(end - 1); w++)
		map[w] |= word_mask(w, start, end);
}

void bitmap_clear(unsigned long *map, unsigned int start, unsigned int len)
{
	unsigned int w, end = start + len;

	for (w = BIT_WORD(start); len && w <= BIT_WORD(end - 1); w++)
		map[w] &= ~word_mask(w, start, end);
}

void bitmap_fill(unsigned long *map, unsigned int nbits)
{
	memset(map, 0xff, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

void bitmap_zero(unsigned long *map, unsigned int nbits)
{
	memset(map, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

/* The first bit at or after @offset, below @size, that differs from @invert's. */
static unsigned long find_next(const unsigned long *addr, unsigned long size,
			       unsigned long offset, unsigned long invert)
{
	unsigned long w, word;

	if (offset >= size)
		return size;
	w = BIT_WORD(offset);
	word = (addr[w] ^ invert) & (~0UL << (offset % BITS_PER_LONG));
	while (!word) {
		if (++w >= BITS_TO_LONGS(size))
			return size;
		word = addr[w] ^ invert;
	}
	return min(size, w * BITS_PER_LONG + __builtin_ctzl(word));
}

unsigned long find_next_bit(const unsigned long *addr, unsigned long size,
			    unsigned long offset)
{
	return find_next(addr, size, offset, 0);
}

unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size,
				 unsigned long offset)
{
	return find_next(addr, size, offset, ~0UL);
}
