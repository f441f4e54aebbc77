/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Accesses to guest memory that ThreadSanitizer cannot order: a guest's or
 * a device's writes through a pin (two may write one page, or one write
 * while a punch zeroes it, as a guest and a DMA would), and a host touch
 * of a page that the library's fault thread maps in answer to that very
 * touch (GUESTMEM_FILE_ALLOC_ON_FAULT: the kernel orders the two through
 * userfaultfd, which TSan does not see).  None is a race of the library's,
 * so TSan is told to ignore them.
 */
#ifndef GUESTMEM_TESTS_GUEST_ACCESS_H
#define GUESTMEM_TESTS_GUEST_ACCESS_H

#ifdef __SANITIZE_THREAD__
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define guest_access_begin()	__tsan_ignore_thread_begin()
#define guest_access_end()	__tsan_ignore_thread_end()
#else
#define guest_access_begin()	do { } while (0)
#define guest_access_end()	do { } while (0)
#endif

#endif /* GUESTMEM_TESTS_GUEST_ACCESS_H */
