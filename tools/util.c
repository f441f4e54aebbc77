// SPDX-License-Identifier: LGPL-2.1-or-later
/* guestmem(1): messages, number parsing and formatting, errno names, time. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tool.h"

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "guestmem: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void tool_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("note: ", fmt, ap);
	va_end(ap);
}

int tool_lib_err(int err, const char *fmt, ...)
{
	const char *why = guestmem_last_error();
	va_list ap;

	fflush(stdout);
	fputs("guestmem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s%s%s\n", strerror(-err), *why ? ": " : "", why);
	return err;
}

/* ------------------------------------------------------------ numbers */

int parse_u64(const char *s, uint64_t *v)
{
	unsigned int shift = 0;
	unsigned long long n;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	/* Accept "2MiB" and "2MB" as well as "2M". */
	if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (shift && n > (UINT64_MAX >> shift))
		return -ERANGE;
	*v = (uint64_t)n << shift;
	return 0;
}

int parse_long(const char *s, long min, long max, long *v)
{
	char *end;
	long n;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	n = strtol(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	if (n < min || n > max)
		return -ERANGE;
	*v = n;
	return 0;
}

int parse_page_size(const char *s, uint64_t *page_size)
{
	uint64_t v;

	if (parse_u64(s, &v) || (v != GUESTMEM_PAGE_2M && v != GUESTMEM_PAGE_1G))
		return -EINVAL;
	*page_size = v;
	return 0;
}

const char *fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned int shift = 10 * (i + 1);

		if (bytes && !(bytes & ((UINT64_C(1) << shift) - 1))) {
			snprintf(buf, len, "%" PRIu64 "%c", bytes >> shift, units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%#" PRIx64, bytes);
	return buf;
}

const char *fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int i = -1;

	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[i]);
	return buf;
}

const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

/* ------------------------------------------------------------ errnos */

static const struct {
	int err;
	const char *name;
} errnos[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
	{ EIO, "EIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
	{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
	{ EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
	{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" },
	{ ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" }, { EOVERFLOW, "EOVERFLOW" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },
	{ EHWPOISON, "EHWPOISON" },
};

const char *errno_str(int rc, char *buf, size_t len)
{
	size_t i;

	if (rc < 0)
		for (i = 0; i < TOOL_ARRAY_SIZE(errnos); i++)
			if (errnos[i].err == -rc) {
				snprintf(buf, len, "-%s", errnos[i].name);
				return buf;
			}
	snprintf(buf, len, "%d", rc);
	return buf;
}

int parse_errno(const char *s, int *rc)
{
	const char *name = *s == '-' ? s + 1 : s;
	size_t i;
	long v;

	for (i = 0; i < TOOL_ARRAY_SIZE(errnos); i++)
		if (!strcmp(name, errnos[i].name)) {
			*rc = -errnos[i].err;
			return 0;
		}
	if (parse_long(s, -4095, 0, &v))
		return -EINVAL;
	*rc = (int)v;
	return 0;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
