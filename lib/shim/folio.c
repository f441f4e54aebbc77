// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: folio refcounts, lookup by pfn, zeroing, and the
 * split/merge of hugetlb folios with HVO-like metadata (see folio.h).
 */
#include "hugetlb.h"
#include "slab.h"

/* mm/ receives the final put of its folios (kernel: a hook in __folio_put()). */
void hgmem_folio_free(struct folio *folio);

static atomic_size_t vmemmap_bytes;

size_t shim_vmemmap_bytes(void)
{
	return atomic_load(&vmemmap_bytes) + shim_region_heads_bytes();
}

struct folio *pfn_folio(unsigned long pfn)
{
	struct shim_region *r = shim_region_of_pfn(pfn);
	struct folio *folio;

	if (WARN_ON(!r))
		return NULL;
	folio = &r->heads[(pfn - r->base_pfn) >> r->order];
	while (folio->children) {
		unsigned int child_order = folio->children[0]._order;

		folio = &folio->children[(pfn - folio->pfn) >> child_order];
	}
	return folio;
}

void *folio_address(const struct folio *folio)
{
	const struct shim_region *r = folio->region;

	return r->addr + ((folio->pfn - r->base_pfn) << PAGE_SHIFT);
}

void folio_zero_range(struct folio *folio, size_t start, size_t length)
{
	if (WARN_ON(start + length > folio_size(folio)))
		return;
	if (shim_region_touchable(folio->region))
		memset((char *)folio_address(folio) + start, 0, length);
}

static bool folio_live(const struct folio *folio)
{
	return !WARN_ON(folio->flags & (PG_split | PG_free));
}

void folio_get(struct folio *folio)
{
	if (folio_live(folio))
		WARN_ON(atomic_fetch_add(&folio->_refcount.counter, 1) <= 0);
}

bool folio_try_get(struct folio *folio)
{
	int old = atomic_load(&folio->_refcount.counter);

	do {
		if (old <= 0)
			return false;
	} while (!atomic_compare_exchange_weak(&folio->_refcount.counter,
					       &old, old + 1));
	return true;
}

void folio_ref_add(struct folio *folio, int nr)
{
	if (folio_live(folio))
		atomic_add(nr, &folio->_refcount);
}

void folio_put(struct folio *folio)
{
	int old = atomic_load(&folio->_refcount.counter);

	/* A put on a free or frozen folio is a double put: report, change nothing. */
	do {
		if (WARN_ON(old <= 0) || !folio_live(folio))
			return;
	} while (!atomic_compare_exchange_weak(&folio->_refcount.counter,
					       &old, old - 1));
	if (old != 1)
		return;
	if (folio->flags & PG_hugetlb)
		free_huge_folio(folio);
	else if (folio->flags & PG_guestmem)
		hgmem_folio_free(folio);
	else
		WARN_ON(1);	/* the shim has no buddy allocator */
}

bool folio_ref_freeze(struct folio *folio, int count)
{
	int expected = count;

	return atomic_compare_exchange_strong(&folio->_refcount.counter,
					      &expected, 0);
}

/* Publishes the folio: a release store, as the kernel's set_page_count_release. */
void folio_ref_unfreeze(struct folio *folio, int count)
{
	WARN_ON(folio_ref_count(folio) != 0);
	atomic_store_explicit(&folio->_refcount.counter, count, memory_order_release);
}

int hugetlb_folio_split(struct folio *folio, unsigned int new_order)
{
	unsigned long i, n;
	struct folio *pieces;

	if (WARN_ON(folio_ref_count(folio) || folio->children ||
		    (folio->flags & (PG_split | PG_free)) ||
		    new_order >= folio->_order))
		return -EINVAL;

	n = 1UL << (folio->_order - new_order);
	/* The vmemmap restore: the only step that can fail. */
	pieces = shim_kmalloc(n * sizeof(*pieces), GFP_KERNEL | __GFP_ZERO,
			      "hugetlb_vmemmap_restore");
	if (!pieces)
		return -ENOMEM;
	atomic_fetch_add(&vmemmap_bytes, n * sizeof(*pieces));

	for (i = 0; i < n; i++) {
		struct folio *p = &pieces[i];

		p->_order = new_order;
		p->pfn = folio->pfn + (i << new_order);
		p->region = folio->region;
		p->parent = folio;
		INIT_LIST_HEAD(&p->lru);
	}
	if (folio->flags & PG_hugetlb)
		folio->flags = (folio->flags & ~PG_hugetlb) | PG_was_hugetlb;
	/* Its owner may have written it: no longer known to be zero. */
	folio->flags = (folio->flags & ~PG_zeroed) | PG_split;
	folio->children = pieces;
	return 0;
}

struct folio *hugetlb_folio_merge(struct folio *first, unsigned int order)
{
	struct folio *parent = first->parent;
	unsigned long i, n;

	if (WARN_ON(!parent || parent->children != first ||
		    parent->_order != order))
		return NULL;
	n = 1UL << (order - first->_order);
	for (i = 0; i < n; i++) {
		struct folio *p = &first[i];

		if (WARN_ON(folio_ref_count(p) || p->children ||
			    p->_order != first->_order))
			return NULL;
	}
	shim_kfree(first);
	atomic_fetch_sub(&vmemmap_bytes, n * sizeof(*first));
	parent->children = NULL;
	parent->flags &= ~PG_split;
	if (parent->flags & PG_was_hugetlb)
		parent->flags = (parent->flags & ~PG_was_hugetlb) | PG_hugetlb;
	return parent;
}
