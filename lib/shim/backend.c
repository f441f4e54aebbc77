// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: memory regions behind hugetlb pools, and the pfn space
 * that maps a pfn back to its region.  Regions get disjoint pfn ranges
 * aligned to 1 GiB, registered in a small table that readers scan without
 * locking (regions only come and go with their pools).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/memfd.h>

#include "backend.h"

#define MAX_REGIONS	64
#define PFN_ALIGN_ORDER	PUD_ORDER

static _Atomic(struct shim_region *) regions[MAX_REGIONS];
static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long next_pfn = 1UL << PFN_ALIGN_ORDER;
static atomic_size_t heads_bytes;

size_t shim_region_heads_bytes(void)
{
	return atomic_load(&heads_bytes);
}

static unsigned int memfd_flags(const struct shim_region *r)
{
	if (r->kind != SHIM_BACKEND_HUGETLB)
		return MFD_CLOEXEC;
	return MFD_CLOEXEC | MFD_HUGETLB |
	       (r->order == PUD_ORDER ? MFD_HUGE_1GB : MFD_HUGE_2MB);
}

/*
 * Reserve huge-aligned address space, then map the memfd over it.  For
 * hugetlb the shared mapping reserves every page in the kernel's pool now,
 * so a short pool fails here (-ENOMEM) rather than with SIGBUS later.
 */
static int map_region(struct shim_region *r)
{
	size_t huge = PAGE_SIZE << r->order, len = r->nr_huge * huge;
	int prot = r->kind == SHIM_BACKEND_RESERVE ? PROT_NONE :
						     PROT_READ | PROT_WRITE;

	r->fd = -1;
	r->map_len = len + huge;
	r->map = mmap(NULL, r->map_len, prot,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->map == MAP_FAILED)
		return -ENOMEM;
	r->addr = (char *)ALIGN((uintptr_t)r->map, huge);
	if (r->kind == SHIM_BACKEND_RESERVE)
		return 0;

	r->fd = memfd_create("guestmem-pool", memfd_flags(r));
	if (r->fd < 0 || ftruncate(r->fd, len) ||
	    mmap(r->addr, len, prot, MAP_SHARED | MAP_FIXED, r->fd, 0) == MAP_FAILED) {
		int err = errno == EINVAL || errno == ENOSPC ? -ENOMEM : -errno;

		if (r->fd >= 0)
			close(r->fd);
		munmap(r->map, r->map_len);
		return err;
	}
	return 0;
}

int shim_region_create(enum shim_backend kind, unsigned int order,
		       unsigned long nr_huge, struct shim_region **regionp)
{
	struct shim_region *r;
	unsigned long i, span;
	int err, slot;

	if (!nr_huge || (order != PMD_ORDER && order != PUD_ORDER))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kind = kind;
	r->order = order;
	r->nr_huge = nr_huge;
	r->heads = calloc(nr_huge, sizeof(*r->heads));
	err = r->heads ? map_region(r) : -ENOMEM;
	if (err)
		goto fail;

	pthread_mutex_lock(&regions_lock);
	for (slot = 0; slot < MAX_REGIONS && atomic_load(&regions[slot]); slot++)
		;
	if (slot == MAX_REGIONS) {
		pthread_mutex_unlock(&regions_lock);
		munmap(r->map, r->map_len);
		if (r->fd >= 0)
			close(r->fd);
		err = -ENOSPC;
		goto fail;
	}
	span = nr_huge << order;
	r->base_pfn = next_pfn;
	next_pfn = ALIGN(next_pfn + span, 1UL << PFN_ALIGN_ORDER);
	for (i = 0; i < nr_huge; i++) {
		struct folio *head = &r->heads[i];

		head->_order = order;
		head->pfn = r->base_pfn + (i << order);
		head->region = r;
		INIT_LIST_HEAD(&head->lru);
	}
	atomic_store(&regions[slot], r);
	pthread_mutex_unlock(&regions_lock);
	atomic_fetch_add(&heads_bytes, nr_huge * sizeof(*r->heads));
	*regionp = r;
	return 0;
fail:
	free(r->heads);
	free(r);
	return err;
}

void shim_region_destroy(struct shim_region *r)
{
	int slot;

	pthread_mutex_lock(&regions_lock);
	for (slot = 0; slot < MAX_REGIONS; slot++)
		if (atomic_load(&regions[slot]) == r)
			atomic_store(&regions[slot], NULL);
	pthread_mutex_unlock(&regions_lock);
	atomic_fetch_sub(&heads_bytes, r->nr_huge * sizeof(*r->heads));
	munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r->heads);
	free(r);
}

struct shim_region *shim_region_of_pfn(unsigned long pfn)
{
	int slot;

	for (slot = 0; slot < MAX_REGIONS; slot++) {
		struct shim_region *r = atomic_load(&regions[slot]);

		if (r && pfn >= r->base_pfn &&
		    pfn - r->base_pfn < (r->nr_huge << r->order))
			return r;
	}
	return NULL;
}

/*
 * fallocate(2) @mode on huge page @idx of the region's memfd.  hugetlbfs
 * gives up with -EINTR when a signal is pending before it allocates a
 * page (a VMM's threads take signals all the time): that is no answer
 * about memory, so the call is made again once the signal is handled.
 */
static int region_fallocate(struct shim_region *r, int mode, unsigned long idx)
{
	off_t huge = (off_t)PAGE_SIZE << r->order;
	int err;

	if (r->fd < 0)
		return 0;
	do
		err = fallocate(r->fd, mode, (off_t)idx * huge, huge) ? -errno : 0;
	while (err == -EINTR);
	return err;
}

int shim_region_give(struct shim_region *r, unsigned long idx)
{
	return region_fallocate(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, idx);
}

int shim_region_take(struct shim_region *r, unsigned long idx)
{
	return region_fallocate(r, 0, idx);
}

bool shim_region_touchable(const struct shim_region *r)
{
	return r->kind != SHIM_BACKEND_RESERVE;
}

long shim_node_shortfall(const struct shim_node_hugetlb *c, long global_avail,
			 unsigned long need)
{
	long want = need > LONG_MAX ? LONG_MAX : (long)need;
	long lack = want - max(c->free, 0L);

	/* A page added on the node is also a free unreserved page of the pool. */
	if (global_avail >= 0 && want - global_avail > lack)
		lack = want - global_avail;
	return lack > 0 ? lack : 0;
}
