/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests that need real hugetlb pages: make enough free, raising
 * nr_hugepages when root, and put it back afterwards.  Every change of the
 * machine's hugetlb settings is made under one lock file, which the
 * guestmem tool and the benchmarks take too: free_hugepages is global.
 */
#ifndef GUESTMEM_TEST_HUGETLB_ENV_H
#define GUESTMEM_TEST_HUGETLB_ENV_H

#include <stdbool.h>

struct hugetlb_env {
	char dir[96];		/* /sys/kernel/mm/hugepages/hugepages-<kb>kB */
	long nr_before;		/* nr_hugepages to put back */
	long free_before;	/* free_hugepages once reserved */
	int lock;
	bool raised;
};

/*
 * Make @need free pages of @kb KiB available; false, with the reason
 * printed, if not.  Call hugetlb_env_restore() afterwards either way.
 */
bool hugetlb_env_reserve(struct hugetlb_env *e, unsigned long kb, long need);
/* Put nr_hugepages back and drop the lock; false if it could not be put back. */
bool hugetlb_env_restore(struct hugetlb_env *e);
/* A counter of the page size (nr_hugepages, free_hugepages...), -1 if unreadable. */
long hugetlb_env_read(const struct hugetlb_env *e, const char *name);

#endif /* GUESTMEM_TEST_HUGETLB_ENV_H */
