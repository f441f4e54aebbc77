/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): common declarations of the command-line tool.  The tool
 * uses libguestmem through its public API (include/guestmem.h) only.
 */
#ifndef GUESTMEM_TOOL_H
#define GUESTMEM_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <guestmem.h>

#include "rng.h"		/* util/: the random generator */

#define TOOL_PAGE	UINT64_C(4096)
#define TOOL_K		(UINT64_C(1) << 10)
#define TOOL_M		(UINT64_C(1) << 20)
#define TOOL_G		(UINT64_C(1) << 30)

#define TOOL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses. */
#define EXIT_USAGE	2
#define EXIT_SKIP	77	/* automake's: the environment cannot run it */

/* util.c: messages */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "guestmem: WHAT: strerror: guestmem_last_error()" and return @err. */
int tool_lib_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* util.c: numbers, sizes, errno names */
int parse_u64(const char *s, uint64_t *v);	/* dec/hex, K/M/G/T suffix */
int parse_long(const char *s, long min, long max, long *v);
int parse_page_size(const char *s, uint64_t *page_size);	/* "2M", "1G" */
/* Exact short form: "2M", "64K", "1G", else hex "0x1234000". */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);
/* Human form for reports: "1.00 GiB", "64.0 KiB", "512 B". */
const char *fmt_bytes(uint64_t bytes, char *buf, size_t len);
/* Nanoseconds as "812 ns", "3.4 us", "12.1 ms", "1.20 s". */
const char *fmt_ns(uint64_t ns, char *buf, size_t len);
/* "0", "-EAGAIN", or "-123" for errnos without a name. */
const char *errno_str(int rc, char *buf, size_t len);
/* Parse "0", "-EAGAIN", "EAGAIN", "-11". */
int parse_errno(const char *s, int *rc);
uint64_t now_ns(void);	/* CLOCK_MONOTONIC */

/* bitmap.c: plain bitmaps with counting range updates */
uint64_t *bitmap_alloc(uint64_t bits);
/* Set bits [from, to); returns how many were clear before. */
uint64_t bitmap_set_range(uint64_t *map, uint64_t from, uint64_t to);
bool bitmap_test(const uint64_t *map, uint64_t bit);
void bitmap_clear_bit(uint64_t *map, uint64_t bit);
void bitmap_set_bit(uint64_t *map, uint64_t bit);

/* progress.c: a one-line progress display on a terminal (stderr) */
void progress_enable(bool on);
void progress_start(const char *label, uint64_t total);
void progress_update(uint64_t done);
void progress_end(void);
/* For one long blocking call (prefault): elapsed time from a thread. */
void progress_busy_start(const char *label);
void progress_busy_stop(void);

#endif /* GUESTMEM_TOOL_H */
