/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): the kernel's hugetlb pool, read from sysfs, and the
 * temporary enlargement of nr_hugepages that `guestmem run` makes as root
 * (restored at exit, on error paths and on fatal signals).
 */
#ifndef GUESTMEM_TOOL_HUGETLB_H
#define GUESTMEM_TOOL_HUGETLB_H

#include <stddef.h>
#include <stdint.h>

/* Counters of one huge page size, global (node -1) or of one node; -1 = absent. */
struct hugetlb_counts {
	long nr;
	long free;
	long resv;		/* global only */
	long surplus;
	long overcommit;	/* global only */
};

#define HUGETLB_MAX_SIZES	8
#define HUGETLB_MAX_NODES	64

/* Huge page sizes the kernel offers, ascending; returns how many. */
int hugetlb_sizes(uint64_t *sizes, int max);
/* NUMA nodes with a hugepages directory, ascending; returns how many. */
int hugetlb_nodes(int *nodes, int max);
uint64_t hugetlb_default_size(void);	/* Hugepagesize of /proc/meminfo, 0 if none */
int hugetlb_read(uint64_t page_size, int node, struct hugetlb_counts *c);
/* Pages of @page_size a new hugetlb mapping can still reserve (free - resv), -1 if none. */
long hugetlb_available(uint64_t page_size);
/* kB of hugetlb pages this process maps (HugetlbPages, /proc/self/status), -1 if unknown. */
long hugetlb_self_kb(void);
/* The file that sets the pool size of @page_size (on @node, or -1). */
const char *hugetlb_nr_path(uint64_t page_size, int node, char *buf, size_t len);

/*
 * Serialise with other processes that change nr_hugepages (other guestmem
 * runs, tests): an exclusive flock(2) on HUGETLB_LOCK_PATH, held until the
 * process exits.  Waits up to @timeout_s seconds; returns 0, or -errno
 * when the lock could not be had (the caller goes on without it).
 */
#define HUGETLB_LOCK_PATH	"/run/lock/guestmem-hugetlb.lock"
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
