/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the memory behind a hugetlb pool.  A region is a range of
 * huge-page-aligned memory with its own pfn range and one descriptor per
 * huge page.  Real memory lives in a memfd (hugetlbfs or shmem), so a page
 * can be mapped a second time elsewhere, e.g. into a file's host mapping,
 * at fd offset (pfn - base_pfn) << PAGE_SHIFT.
 */
#ifndef GUESTMEM_SHIM_BACKEND_H
#define GUESTMEM_SHIM_BACKEND_H

#include "folio.h"

enum shim_backend {
	SHIM_BACKEND_MEMORY,	/* ordinary memory: a shmem memfd */
	SHIM_BACKEND_RESERVE,	/* address space only, never touched */
	SHIM_BACKEND_HUGETLB,	/* hugetlb memfd: the kernel's huge pages */
};

struct shim_region {
	enum shim_backend kind;
	unsigned int order;		/* huge page order */
	unsigned long nr_huge;		/* huge pages in the region */
	unsigned long base_pfn;
	char *addr;			/* huge-aligned start */
	void *map;			/* what to munmap */
	size_t map_len;
	int fd;				/* memfd, -1 for SHIM_BACKEND_RESERVE */
	struct folio *heads;		/* one descriptor per huge page */
};

int shim_region_create(enum shim_backend kind, unsigned int order,
		       unsigned long nr_huge, struct shim_region **regionp);
void shim_region_destroy(struct shim_region *region);
struct shim_region *shim_region_of_pfn(unsigned long pfn);
/*
 * Give huge page @idx of the region's memfd back to the kernel (punch its
 * range) or take it back (fallocate() it: the kernel allocates and clears
 * it).  0 or -errno; a region without a memfd has nothing to do.
 */
int shim_region_give(struct shim_region *r, unsigned long idx);
int shim_region_take(struct shim_region *r, unsigned long idx);
bool shim_region_touchable(const struct shim_region *region);
size_t shim_region_heads_bytes(void);

/*
 * Hugetlb pages of one NUMA node (/sys/devices/system/node/nodeN/hugepages).
 * Reservations are global in the kernel, so a pool bound to a node must
 * check the node's own free pages as well as the global pool's.
 */
struct shim_node_hugetlb {
	long nr;		/* nr_hugepages of the node */
	long free;		/* free_hugepages of the node (reserved ones included) */
};
/*
 * Pages the node lacks for @need more, with @global_avail free unreserved
 * pages in the whole pool: adding that many to the node's nr_hugepages
 * satisfies both.  0 when nothing is missing.
 */
long shim_node_shortfall(const struct shim_node_hugetlb *c, long global_avail,
			 unsigned long need);

#endif /* GUESTMEM_SHIM_BACKEND_H */
