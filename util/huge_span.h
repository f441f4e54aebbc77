/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The huge pages a punched hole removes: those lying wholly inside it.
 * Partly covered huge pages are zeroed instead and stay in the file
 * (guestmem_punch_hole(3)).  One definition for the library, the tool's
 * bookkeeping and the tests' models.  Header only, so that the library
 * can use it without linking anything.
 */
#ifndef GUESTMEM_UTIL_HUGE_SPAN_H
#define GUESTMEM_UTIL_HUGE_SPAN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The indices [*first, *end) of the units of @huge (bytes, or 4K pages:
 * any unit, as long as @off, @len and @huge share it) lying wholly inside
 * [@off, @off + @len); *first == *end when there is none.  @off + @len
 * must not overflow.  Returns how many.
 */
static inline uint64_t huge_span_whole(uint64_t off, uint64_t len, uint64_t huge,
				       uint64_t *first, uint64_t *end)
{
	uint64_t a = (off + huge - 1) / huge, b = (off + len) / huge;

	*first = a;
	*end = b > a ? b : a;
	return *end - a;
}

/* Whether huge page @h lies wholly inside [@off, @off + @len). */
static inline bool huge_span_covers(uint64_t off, uint64_t len, uint64_t huge, uint64_t h)
{
	uint64_t first, end;

	huge_span_whole(off, len, huge, &first, &end);
	return h >= first && h < end;
}

/*
 * The indices [*first, *end) of the units of @huge that [@off, @off + @len)
 * touches, wholly or in part; none when @len is 0.  @off + @len must not
 * overflow.  Returns how many.
 */
static inline uint64_t huge_span_touched(uint64_t off, uint64_t len, uint64_t huge,
					 uint64_t *first, uint64_t *end)
{
	*first = off / huge;
	*end = len ? (off + len - 1) / huge + 1 : *first;
	return *end - *first;
}

#endif /* GUESTMEM_UTIL_HUGE_SPAN_H */
