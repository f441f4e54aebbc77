/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): the kernel's hugetlb pool (counters from
 * guestmem_hugetlb_info()) and the temporary enlargement of nr_hugepages
 * that `guestmem run` makes as root (util/hugetlb_raise.h), restored at
 * exit, on error paths and on fatal signals.
 */
#ifndef GUESTMEM_TOOL_HUGETLB_H
#define GUESTMEM_TOOL_HUGETLB_H

#include <stddef.h>
#include <stdint.h>

#include "hugetlb_raise.h"	/* util/: HUGETLB_LOCK_PATH, hugetlb_nr_path() */

#define HUGETLB_MAX_SIZES	8
#define HUGETLB_MAX_NODES	64

/* Huge page sizes the kernel offers, ascending; returns how many. */
int hugetlb_sizes(uint64_t *sizes, int max);
/* NUMA nodes with a hugepages directory, ascending; returns how many. */
int hugetlb_nodes(int *nodes, int max);
/* kB of hugetlb pages this process maps (HugetlbPages, /proc/self/status), -1 if unknown. */
long hugetlb_self_kb(void);

/*
 * Serialise with other processes that change nr_hugepages (other guestmem
 * runs, tests, benchmarks): the lock of hugetlb_lock_take(), held until
 * the process exits.  Waits up to @timeout_s seconds; returns 0, or -errno
 * when the lock could not be had (the caller goes on without it).
 */
int hugetlb_lock(unsigned int timeout_s);

/*
 * Make @need pages of @page_size available, raising nr_hugepages (root
 * only).  Returns 1 when nr_hugepages was raised (hugetlb_restore() puts
 * it back), 0 when enough pages were free already, or -errno with @why
 * filled in (nothing left changed).
 */
int hugetlb_reserve(uint64_t page_size, int node, uint64_t need, char *why, size_t len);
/* Put nr_hugepages back as it was before hugetlb_reserve(); idempotent. */
int hugetlb_restore(void);
/* What hugetlb_reserve() last raised nr_hugepages from and to. */
void hugetlb_raised(long *from, long *to);

#endif /* GUESTMEM_TOOL_HUGETLB_H */
