// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: the kernel's hugetlb pool as sysfs shows it, per huge page
 * size, for the whole system (/sys/kernel/mm/hugepages/hugepages-<kB>kB/)
 * or one NUMA node (/sys/devices/system/node/node<N>/hugepages/...).  The
 * project's one reader of those counters: the pool's choice of backend,
 * and through guestmem_hugetlb_info() the tool, the benchmarks and the
 * tests.
 */
#include <errno.h>
#include <stdio.h>

#include "libguestmem.h"

#define SYS_HUGEPAGES	"/sys/kernel/mm/hugepages"
#define SYS_NODES	"/sys/devices/system/node"

/* Counter @name in @dir: its value, or -errno (-ENOENT: no such file). */
static long read_counter(const char *dir, const char *name)
{
	char path[192];
	long v = -EIO;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &v) != 1 || v < 0)
		v = -EIO;
	fclose(f);
	return v;
}

/* nr, free and surplus of @dir into @info; 0 or -errno. */
static int read_pool(const char *dir, struct guestmem_hugetlb_info *info)
{
	long nr = read_counter(dir, "nr_hugepages");
	long free = read_counter(dir, "free_hugepages");
	long surplus = read_counter(dir, "surplus_hugepages");

	if (nr < 0 || free < 0 || surplus < 0)
		return (int)(nr < 0 ? nr : free < 0 ? free : surplus);
	info->total = (u64)nr;
	info->free = (u64)free;
	info->surplus = (u64)surplus;
	return 0;
}

/* The whole system's counters of @page_size. */
static int read_system(u64 page_size, struct guestmem_hugetlb_info *info)
{
	char dir[96];
	long resv, over;
	int err;

	snprintf(dir, sizeof(dir), SYS_HUGEPAGES "/hugepages-%llukB",
		 (unsigned long long)(page_size >> 10));
	err = read_pool(dir, info);
	if (err)
		return err;
	resv = read_counter(dir, "resv_hugepages");
	over = read_counter(dir, "nr_overcommit_hugepages");
	if (resv < 0 || over < 0)
		return (int)(resv < 0 ? resv : over);
	info->reserved = (u64)resv;
	info->overcommit = (u64)over;
	/* The kernel keeps resv <= free; a torn read must not wrap. */
	info->available = info->free > info->reserved ? info->free - info->reserved : 0;
	return 0;
}

/*
 * The core of guestmem_hugetlb_info(), for the library's own use: the
 * same results, and guestmem_last_error() left alone.
 */
int gm_hugetlb_read(u64 page_size, int node, struct guestmem_hugetlb_info *info)
{
	struct guestmem_hugetlb_info sys, n;
	char dir[128];
	int err;

	if (!info || node < -1 || page_size <= 4096 || (page_size & (page_size - 1)))
		return -EINVAL;
	err = read_system(page_size, &sys);
	if (err || node < 0) {
		if (!err)
			*info = sys;
		return err;
	}
	snprintf(dir, sizeof(dir), SYS_NODES "/node%d/hugepages/hugepages-%llukB",
		 node, (unsigned long long)(page_size >> 10));
	n = sys;
	err = read_pool(dir, &n);
	if (err)
		return err;
	/* Reservations are global: a node's free pages may be promised elsewhere. */
	n.available = n.free < sys.available ? n.free : sys.available;
	*info = n;
	return 0;
}

/* The first version's size (include/guestmem.h) ends where it did. */
BUILD_BUG_ON(GUESTMEM_HUGETLB_INFO_SIZE_VER0 != sizeof(struct guestmem_hugetlb_info));

int guestmem_hugetlb_info(uint64_t page_size, int node, struct guestmem_hugetlb_info *info,
			  size_t size)
{
	struct guestmem_hugetlb_info full, sys;
	int err;

	gm_clear_error();
	/* No pool or file here: @info stands in for the object. */
	err = gm_check_out(info, info, size, GUESTMEM_HUGETLB_INFO_SIZE_VER0);
	if (err)
		return err;
	err = gm_hugetlb_read(page_size, node, &full);
	switch (err) {
	case 0:
		gm_copy_out(info, size, &full, sizeof(full));
		return 0;
	case -EINVAL:
		if (node < -1)
			return gm_error(err, "NUMA node %d: must be -1 or a node", node);
		return gm_error(err, "page size %llu: not a power of two larger than 4096",
				(unsigned long long)page_size);
	case -ENOENT:
		if (gm_hugetlb_read(page_size, -1, &sys) == -ENOENT)
			return gm_error(err, "this kernel offers no %llu kB huge pages",
					(unsigned long long)(page_size >> 10));
		return gm_error(err, "NUMA node %d does not exist (no %llu kB huge pages there)",
				node, (unsigned long long)(page_size >> 10));
	default:
		return gm_error(err, "cannot read the %llu kB hugetlb counters: %s",
				(unsigned long long)(page_size >> 10), strerror(-err));
	}
}
