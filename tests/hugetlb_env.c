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
