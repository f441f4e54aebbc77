/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: folios, refcounts and the restructuring of hugetlb folios.
 *
 * Metadata mirrors the HugeTLB vmemmap optimisation (HVO): a huge page that
 * has never been split has exactly one descriptor, its head.  Descriptors
 * for the pieces of a split folio exist only while it is split: splitting
 * allocates them (and, like restoring the vmemmap, can fail with -ENOMEM),
 * merging frees them again.  pfn_folio() walks from the head to the folio
 * that currently contains a pfn, exactly as page_folio(pfn_to_page()) would.
 * There is no descriptor for a tail page of an unsplit folio, so no code can
 * write one.
 */
#ifndef GUESTMEM_SHIM_FOLIO_H
#define GUESTMEM_SHIM_FOLIO_H

#include "kernel.h"

struct hugepage_subpool;
struct shim_region;

/* folio->flags bits (shim-private; the kernel keeps these as page types and flags). */
enum {
	PG_hugetlb	= 1u << 0,	/* a hugetlb folio */
	PG_guestmem	= 1u << 1,	/* final put goes to hgmem_folio_free() */
	PG_split	= 1u << 2,	/* split: no longer a folio, only a parent */
	PG_was_hugetlb	= 1u << 3,	/* split hugetlb folio: restore on merge */
	PG_free		= 1u << 4,	/* on its hstate's free list */
	PG_zeroed	= 1u << 5,	/* holds only zeroes (see hgmem_folio_zeroed()) */
};

struct folio {
	unsigned long flags;
	atomic_t _refcount;
	unsigned int _order;
	unsigned long pfn;
	void *private;			/* owner's use, as in the kernel */
	struct list_head lru;
	struct hugepage_subpool *_hugetlb_subpool;
	struct shim_region *region;
	struct folio *parent;		/* folio this one was split from */
	struct folio *children;		/* descriptors restored by a split */
};

static inline unsigned int folio_order(const struct folio *folio)
{
	return folio->_order;
}

static inline unsigned long folio_nr_pages(const struct folio *folio)
{
	return 1UL << folio->_order;
}

static inline size_t folio_size(const struct folio *folio)
{
	return PAGE_SIZE << folio->_order;
}

static inline unsigned long folio_pfn(const struct folio *folio)
{
	return folio->pfn;
}

static inline bool folio_test_hugetlb(const struct folio *folio)
{
	return folio->flags & PG_hugetlb;
}

static inline bool folio_test_guestmem(const struct folio *folio)
{
	return folio->flags & PG_guestmem;
}

static inline void __folio_set_guestmem(struct folio *folio)
{
	folio->flags |= PG_guestmem;
}

static inline void __folio_clear_guestmem(struct folio *folio)
{
	folio->flags &= ~PG_guestmem;
}

static inline int folio_ref_count(const struct folio *folio)
{
	return atomic_read(&folio->_refcount);
}

struct folio *pfn_folio(unsigned long pfn);
void *folio_address(const struct folio *folio);
void folio_zero_range(struct folio *folio, size_t start, size_t length);

void folio_get(struct folio *folio);
bool folio_try_get(struct folio *folio);
void folio_put(struct folio *folio);
void folio_ref_add(struct folio *folio, int nr);
bool folio_ref_freeze(struct folio *folio, int count);
void folio_ref_unfreeze(struct folio *folio, int count);

/*
 * Restructuring of hugetlb folios (the helpers the kernel series adds to
 * mm/hugetlb.c).  Both need every folio involved frozen at refcount 0.
 *
 * hugetlb_folio_split() restores the metadata for the pieces (may fail with
 * -ENOMEM, changing nothing) and splits @folio into folios of @new_order,
 * each frozen.  A hugetlb folio stops being one; its hugetlb state is kept
 * aside until the pieces are merged back.
 *
 * hugetlb_folio_merge() merges the pieces of a split folio, starting at its
 * first piece @first, back into the folio of @order, frozen; the metadata of
 * the pieces is dropped again.  It cannot fail; it returns NULL only for a
 * caller bug (WARN).
 */
int hugetlb_folio_split(struct folio *folio, unsigned int new_order);
struct folio *hugetlb_folio_merge(struct folio *first, unsigned int order);

/* Bytes of folio descriptors currently allocated (heads and split pieces). */
size_t shim_vmemmap_bytes(void);

#endif /* GUESTMEM_SHIM_FOLIO_H */
