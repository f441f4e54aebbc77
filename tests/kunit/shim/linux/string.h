/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace stand-in for the kernel's <linux/string.h>, for the shared KUnit
 * cases (tests/kunit/guestmem_cases.c).  What they use from it comes from
 * the shim, which the build force-includes (-include guestmem_kernel.h).
 */
