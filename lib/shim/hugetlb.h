/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the hugetlb pool.  An hstate owns a region of huge pages
 * and keeps the kernel's counters with the kernel's meanings: free pages
 * (which include reserved ones), reserved pages, and pages in use.
 * Subpools implement per-file minimum reservations exactly as hugetlbfs's
 * min_size does: a subpool with min_hpages = N reserves N pages of the
 * global pool at creation, and allocations first consume that reservation.
 */
#ifndef GUESTMEM_SHIM_HUGETLB_H
#define GUESTMEM_SHIM_HUGETLB_H

#include "backend.h"

struct hstate {
	unsigned int order;
	spinlock_t lock;		/* the kernel's hugetlb_lock */
	unsigned long nr_huge_pages;
	unsigned long free_huge_pages;
	unsigned long resv_huge_pages;
	struct list_head free_list;
	struct shim_region *region;
	long nr_subpools;
};

struct hugepage_subpool {
	spinlock_t lock;
	long count;
	long max_hpages;		/* -1: no maximum */
	long used_hpages;		/* allocated and reserved-used pages */
	struct hstate *hstate;
	long min_hpages;		/* -1: no minimum */
	long rsv_hpages;		/* global reservations still held */
};

static inline unsigned int huge_page_order(const struct hstate *h)
{
	return h->order;
}

static inline unsigned long pages_per_huge_page(const struct hstate *h)
{
	return 1UL << h->order;
}

static inline unsigned long huge_page_size(const struct hstate *h)
{
	return PAGE_SIZE << h->order;
}

struct hugepage_subpool *hugepage_new_subpool(struct hstate *h, long max_hpages,
					      long min_hpages);
void hugepage_put_subpool(struct hugepage_subpool *spool);
/* Allocate a huge folio against @spool (kernel series helper); NULL if none. */
struct folio *hugetlb_subpool_alloc_folio(struct hugepage_subpool *spool, int nid);
void free_huge_folio(struct folio *folio);

/* Whether @folio, just allocated, is known to hold zeroes (see mm/guestmem_kernel.h). */
static inline bool hgmem_folio_zeroed(struct folio *folio)
{
	(void)folio;
	return false;
}

/* Pool management for userspace: not kernel interfaces. */
struct shim_hstate_counters {
	unsigned long total;
	unsigned long free;		/* includes reserved, as in the kernel */
	unsigned long resv;
	unsigned long in_use;
	long subpools;
};

int shim_hstate_create(unsigned int order, unsigned long nr_huge,
		       enum shim_backend kind, struct hstate **hp);
int shim_hstate_destroy(struct hstate *h);
void shim_hstate_counters(struct hstate *h, struct shim_hstate_counters *c);
bool shim_hstate_consistent(struct hstate *h);

#endif /* GUESTMEM_SHIM_HUGETLB_H */
