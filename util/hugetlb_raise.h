/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raising the kernel's hugetlb pool for a run, for the tool, the
 * benchmarks and the tests (not library API: a library does not change
 * system settings).  Every process that changes nr_hugepages takes one
 * lock file first, so that two of them never interleave: free_hugepages
 * is global.  The counters themselves are read with guestmem_hugetlb_info().
 */
#ifndef GUESTMEM_UTIL_HUGETLB_RAISE_H
#define GUESTMEM_UTIL_HUGETLB_RAISE_H

#include <stddef.h>
#include <stdint.h>

#define HUGETLB_LOCK_PATH	"/run/lock/guestmem-hugetlb.lock"

/*
 * Take an exclusive flock(2) on HUGETLB_LOCK_PATH.  Waits up to
 * @timeout_s seconds (< 0: as long as it takes); @waiting, if not NULL,
 * is called once when the wait passes a second.  Returns the descriptor
 * (the lock is held until it is closed or the process exits), or -errno
 * (-ETIMEDOUT when the wait ran out).
 */
int hugetlb_lock_take(int timeout_s, void (*waiting)(void));

/* The default huge page size (Hugepagesize of /proc/meminfo), 0 if none. */
uint64_t hugetlb_default_size(void);
/*
 * The file that sets the pool size of @page_size on @node (-1: the whole
 * system): /proc/sys/vm/nr_hugepages for the default size, else the size's
 * (or the node's) nr_hugepages in sysfs.
 */
const char *hugetlb_nr_path(uint64_t page_size, int node, char *buf, size_t len);
/* Write @len bytes of @val to @path with open, write, close only: async-signal-safe. */
int hugetlb_write(const char *path, const char *val, size_t len);

/* One raise of nr_hugepages, and how to undo it. */
struct hugetlb_raise {
	char path[128];		/* the nr_hugepages file written */
	long nr_before;		/* value to put back; -1: nothing was written */
	long nr_after;		/* value written */
	char why[320];		/* why the raise failed or was not needed */
};

/*
 * Make @need pages of @page_size available (guestmem_hugetlb_info()'s
 * @available, of @node or of the whole system with -1), raising
 * nr_hugepages by what is missing; root only.  @arm, if not NULL, is
 * called just before the write, with @r filled in, so that the caller can
 * arrange for a signal handler to undo it.
 *
 * Returns 1 when nr_hugepages was raised, 0 when @need pages were
 * available already, or -errno with @r->why filled in: -ENOENT (no such
 * pages or node), -EPERM (not root), -ENOMEM (the kernel found too few
 * pages after the raise) or the write's error.  Whenever the file was
 * written, even on failure, @r->nr_before >= 0 and hugetlb_raise_undo()
 * puts it back.
 */
int hugetlb_raise(struct hugetlb_raise *r, uint64_t page_size, int node, uint64_t need,
		  void (*arm)(const struct hugetlb_raise *r));
/* Put nr_hugepages back as it was before hugetlb_raise(); idempotent. 0 or -errno. */
int hugetlb_raise_undo(struct hugetlb_raise *r);

#endif /* GUESTMEM_UTIL_HUGETLB_RAISE_H */
