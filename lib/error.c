// SPDX-License-Identifier: LGPL-2.1-or-later
/* libguestmem: the per-thread description of the last failure. */
#include <stdarg.h>
#include <stdio.h>

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

const char *guestmem_last_error(void)
{
	return last_error;
}
