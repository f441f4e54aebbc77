// SPDX-License-Identifier: LGPL-2.1-or-later
/* Tests' hugetlb reservations: see hugetlb_env.h. */
#include <stdio.h>
#include <unistd.h>

#include <guestmem.h>

#include "hugetlb_env.h"

long hugetlb_env_free(const struct hugetlb_env *e)
{
	struct guestmem_hugetlb_info info;

	return guestmem_hugetlb_info(e->page_size, -1, &info, sizeof(info)) ? -1 : (long)info.free;
}

long hugetlb_env_resv(const struct hugetlb_env *e)
{
	struct guestmem_hugetlb_info info;

	return guestmem_hugetlb_info(e->page_size, -1, &info, sizeof(info)) ? -1 :
	       (long)info.reserved;
}

long hugetlb_env_expect(const struct hugetlb_env *e,
			long (*count)(const struct hugetlb_env *e), long want)
{
	long v = count(e);
	int i;

	for (i = 0; i < 1000 && v != want; i++) {
		usleep(10000);
		v = count(e);
	}
	return v;
}

bool hugetlb_env_hog(const struct hugetlb_env *e, uint64_t leave, struct guestmem_pool **hog)
{
	struct guestmem_hugetlb_info info;
	struct guestmem_pool_opts o = { .page_size = e->page_size, .node = -1 };

	*hog = NULL;
	if (guestmem_hugetlb_info(e->page_size, -1, &info, sizeof(info))) {
		printf("SKIP: cannot read the hugetlb counters: %s\n", guestmem_last_error());
		return false;
	}
	if (info.overcommit) {
		printf("SKIP: nr_overcommit_hugepages is %llu: the kernel never runs out\n",
		       (unsigned long long)info.overcommit);
		return false;
	}
	if (info.available < leave) {
		printf("SKIP: the kernel has %llu free pages, not the %llu to leave\n",
		       (unsigned long long)info.available, (unsigned long long)leave);
		return false;
	}
	if (info.available == leave)
		return true;
	o.nr_pages = info.available - leave;
	if (guestmem_pool_create(&o, hog)) {
		printf("SKIP: cannot take %llu of the kernel's free pages: %s\n",
		       (unsigned long long)o.nr_pages, guestmem_last_error());
		return false;
	}
	if (!guestmem_hugetlb_info(e->page_size, -1, &info, sizeof(info)) &&
	    info.available != leave) {
		printf("SKIP: the kernel has %llu free pages, not %llu: others came or went meanwhile\n",
		       (unsigned long long)info.available, (unsigned long long)leave);
		guestmem_pool_destroy(*hog);
		*hog = NULL;
		return false;
	}
	return true;
}

bool hugetlb_env_reserve(struct hugetlb_env *e, unsigned long kb, long need)
{
	int rc;

	e->page_size = (uint64_t)kb << 10;
	e->lock = hugetlb_lock_take(-1, NULL);
	rc = hugetlb_raise(&e->raise, e->page_size, -1, (uint64_t)need, NULL);
	if (rc < 0) {
		printf("SKIP: %lukB hugetlb pages: %s\n", kb, e->raise.why);
		return false;
	}
	e->free_before = hugetlb_env_free(e);
	return true;
}

bool hugetlb_env_restore(struct hugetlb_env *e)
{
	bool ok = hugetlb_raise_undo(&e->raise) == 0;

	if (e->lock >= 0)
		close(e->lock);
	e->lock = -1;
	return ok;
}
