/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests that need real hugetlb pages: make enough free, raising
 * nr_hugepages when root, and put it back afterwards.  Every change of the
 * machine's hugetlb settings is made under one lock file, which the
 * guestmem tool and the benchmarks take too (util/hugetlb_raise.h):
 * free_hugepages is global.  Counters are read with guestmem_hugetlb_info().
 */
#ifndef GUESTMEM_TEST_HUGETLB_ENV_H
#define GUESTMEM_TEST_HUGETLB_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "hugetlb_raise.h"

struct hugetlb_env {
	uint64_t page_size;
	struct hugetlb_raise raise;	/* nr_hugepages to put back, if raised */
	long free_before;	/* free_hugepages once reserved */
	int lock;
};

/*
 * Make @need free pages of @kb KiB available; false, with the reason
 * printed, if not.  Call hugetlb_env_restore() afterwards either way.
 */
bool hugetlb_env_reserve(struct hugetlb_env *e, unsigned long kb, long need);
/* Put nr_hugepages back and drop the lock; false if it could not be put back. */
bool hugetlb_env_restore(struct hugetlb_env *e);
/* free_hugepages of the page size now, -1 if unreadable. */
long hugetlb_env_free(const struct hugetlb_env *e);
/* resv_hugepages of the page size now, -1 if unreadable. */
long hugetlb_env_resv(const struct hugetlb_env *e);
/*
 * @count (hugetlb_env_free, hugetlb_env_resv) once it reads @want, polling
 * for up to 10 s: other test programs of a parallel make check take and
 * give back pages without the lock for moments.  Returns the last value
 * read.
 */
long hugetlb_env_expect(const struct hugetlb_env *e,
			long (*count)(const struct hugetlb_env *e), long want);

struct guestmem_pool;
/*
 * Take every huge page the kernel can still hand out but @leave into a
 * new pool (*@hog), so that the kernel has exactly @leave left; false,
 * with the reason printed, where that cannot be promised (overcommit
 * allows surplus pages, the kernel has fewer than @leave, or another
 * process took or gave back some meanwhile).  Destroy *@hog (NULL if
 * there was nothing to take) to give them back.
 */
bool hugetlb_env_hog(const struct hugetlb_env *e, uint64_t leave, struct guestmem_pool **hog);

#endif /* GUESTMEM_TEST_HUGETLB_ENV_H */
