/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace stand-in for the kernel's <linux/sprintf.h>, for the shared
 * KUnit cases (tests/kunit/guestmem_cases.c): snprintf() comes from libc.
 */
#include <stdio.h>
