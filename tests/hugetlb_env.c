// SPDX-License-Identifier: LGPL-2.1-or-later
/* Tests' hugetlb reservations: see hugetlb_env.h. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "hugetlb_env.h"

long hugetlb_env_read(const struct hugetlb_env *e, const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static bool set_nr(const struct hugetlb_env *e, long nr)
{
	char path[128];
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/nr_hugepages", e->dir);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", nr) > 0;
	return fclose(f) == 0 && ok && hugetlb_env_read(e, "nr_hugepages") >= nr;
}

bool hugetlb_env_reserve(struct hugetlb_env *e, unsigned long kb, long need)
{
	long avail;

	snprintf(e->dir, sizeof(e->dir), "/sys/kernel/mm/hugepages/hugepages-%lukB", kb);
	e->raised = false;
	e->lock = open("/run/lock/guestmem-hugetlb.lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (e->lock >= 0)
		flock(e->lock, LOCK_EX);
	e->nr_before = hugetlb_env_read(e, "nr_hugepages");
	if (e->nr_before < 0) {
		printf("SKIP: no %lukB hugetlb pages in this kernel\n", kb);
		return false;
	}
	avail = hugetlb_env_read(e, "free_hugepages") - hugetlb_env_read(e, "resv_hugepages");
	if (avail < need && geteuid() != 0) {
		printf("SKIP: %lukB hugetlb pages: %ld free, need %ld, not root to reserve more\n",
		       kb, avail, need);
		return false;
	}
	if (avail < need) {
		e->raised = true;
		if (!set_nr(e, e->nr_before + need - avail)) {
			printf("SKIP: the kernel could not reserve %ld %lukB pages (memory)\n",
			       need, kb);
			return false;
		}
	}
	e->free_before = hugetlb_env_read(e, "free_hugepages");
	return true;
}

bool hugetlb_env_restore(struct hugetlb_env *e)
{
	bool ok = !e->raised || set_nr(e, e->nr_before);

	if (e->lock >= 0)
		close(e->lock);
	e->lock = -1;
	e->raised = false;
	return ok;
}
