/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the part of the kernel's bitmap API (<linux/bitmap.h>,
 * <linux/find.h>, <linux/bitops.h>) that mm/ uses, with the kernel's
 * semantics: bits are numbered from bit 0 of word 0, the find functions
 * return @size when there is no such bit, and the range functions take a
 * start and a length.  Not atomic: callers hold the lock of the bitmap.
 */
#ifndef GUESTMEM_SHIM_BITMAP_H
#define GUESTMEM_SHIM_BITMAP_H

#include "kernel.h"

#define BITS_PER_LONG		((unsigned int)(sizeof(unsigned long) * CHAR_BIT))
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define BIT_WORD(nr)		((nr) / BITS_PER_LONG)
#define BIT_MASK(nr)		(1UL << ((nr) % BITS_PER_LONG))

static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return addr[BIT_WORD(nr)] & BIT_MASK(nr);
}

void bitmap_set(unsigned long *map, unsigned int start, unsigned int len);
void bitmap_clear(unsigned long *map, unsigned int start, unsigned int len);
void bitmap_fill(unsigned long *map, unsigned int nbits);
void bitmap_zero(unsigned long *map, unsigned int nbits);

unsigned long find_next_bit(const unsigned long *addr, unsigned long size,
			    unsigned long offset);
unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size,
				 unsigned long offset);
#define find_first_bit(addr, size)	find_next_bit((addr), (size), 0)
#define find_first_zero_bit(addr, size)	find_next_zero_bit((addr), (size), 0)

#endif /* GUESTMEM_SHIM_BITMAP_H */
