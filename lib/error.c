// SPDX-License-Identifier: LGPL-2.1-or-later
/* libguestmem: the per-thread description of the last failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "libguestmem.h"

static _Thread_local char last_error[512];

/* Record a message for @err (a negative errno) and return @err. */
int gm_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

void gm_clear_error(void)
{
	last_error[0] = '\0';
}

/*
 * Check the arguments of a stats call: @obj and @dst not NULL, and @size
 * at least @min_size, the size of the structure's first version.
 */
int gm_check_out(const void *obj, const void *dst, size_t size, size_t min_size)
{
	if (!obj || !dst)
		return gm_error(-EINVAL, "NULL argument");
	if (size < min_size)
		return gm_error(-EINVAL, "stats size %zu is below the first version's %zu",
				size, min_size);
	return 0;
}

/*
 * Copy @src (@src_size bytes, the library's version of a structure) out
 * to the caller's @dst of @size bytes: as much as both have, and zeroes
 * where the caller's version is longer than the library's.
 */
void gm_copy_out(void *dst, size_t size, const void *src, size_t src_size)
{
	memcpy(dst, src, size < src_size ? size : src_size);
	if (size > src_size)
		memset((char *)dst + src_size, 0, size - src_size);
}

const char *guestmem_last_error(void)
{
	return last_error;
}
