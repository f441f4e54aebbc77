// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: the hugetlb pool and its subpools, with the kernel's
 * accounting rules (mm/hugetlb.c): free_huge_pages counts every free page,
 * resv_huge_pages the free pages promised to someone; a subpool with a
 * minimum holds that many reservations and hands them to its allocations,
 * and a freed page goes back to its subpool's reservation while the
 * subpool is below its minimum.
 */
#include <stdlib.h>

#include "hugetlb.h"
#include "slab.h"

/* Reserve (delta > 0) or unreserve (delta < 0) free pages of @h. */
static int hugetlb_acct_memory(struct hstate *h, long delta)
{
	int ret = 0;

	spin_lock(&h->lock);
	if (delta > 0 && h->free_huge_pages - h->resv_huge_pages < (unsigned long)delta)
		ret = -ENOMEM;
	else
		h->resv_huge_pages += delta;
	spin_unlock(&h->lock);
	return ret;
}

struct hugepage_subpool *hugepage_new_subpool(struct hstate *h, long max_hpages,
					      long min_hpages)
{
	struct hugepage_subpool *spool = kzalloc(sizeof(*spool), GFP_KERNEL);

	if (!spool)
		return NULL;
	if (min_hpages > 0 && hugetlb_acct_memory(h, min_hpages)) {
		kfree(spool);
		return NULL;
	}
	spin_lock_init(&spool->lock);
	spool->count = 1;
	spool->max_hpages = max_hpages;
	spool->hstate = h;
	spool->min_hpages = min_hpages;
	spool->rsv_hpages = min_hpages > 0 ? min_hpages : 0;
	spin_lock(&h->lock);
	h->nr_subpools++;
	spin_unlock(&h->lock);
	return spool;
}

/* Called with spool->lock held; drops it, and frees the subpool if unused. */
static void unlock_or_release_subpool(struct hugepage_subpool *spool)
{
	struct hstate *h = spool->hstate;
	bool release = !spool->count && !spool->used_hpages;

	spin_unlock(&spool->lock);
	if (!release)
		return;
	hugetlb_acct_memory(h, -spool->rsv_hpages);
	spin_lock(&h->lock);
	h->nr_subpools--;
	spin_unlock(&h->lock);
	kfree(spool);
}

void hugepage_put_subpool(struct hugepage_subpool *spool)
{
	spin_lock(&spool->lock);
	WARN_ON(spool->count <= 0);
	spool->count--;
	unlock_or_release_subpool(spool);
}

struct folio *hugetlb_subpool_alloc_folio(struct hugepage_subpool *spool, int nid)
{
	struct hstate *h = spool->hstate;
	struct folio *folio = NULL;
	bool reserved = false;

	(void)nid;	/* one node per shim region */
	spin_lock(&spool->lock);
	if (spool->max_hpages != -1 && spool->used_hpages >= spool->max_hpages) {
		spin_unlock(&spool->lock);
		return NULL;
	}
	spool->used_hpages++;
	if (spool->rsv_hpages > 0) {
		spool->rsv_hpages--;
		reserved = true;
	}
	spin_unlock(&spool->lock);

	spin_lock(&h->lock);
	if (reserved || h->free_huge_pages > h->resv_huge_pages) {
		folio = list_first_entry(&h->free_list, struct folio, lru);
		list_del_init(&folio->lru);
		h->free_huge_pages--;
		if (reserved)
			h->resv_huge_pages--;
	}
	spin_unlock(&h->lock);

	if (!folio) {
		spin_lock(&spool->lock);
		spool->used_hpages--;
		unlock_or_release_subpool(spool);
		return NULL;
	}
	folio->flags = PG_hugetlb;
	folio->private = NULL;
	folio->_hugetlb_subpool = spool;
	atomic_set(&folio->_refcount, 1);
	return folio;
}

void free_huge_folio(struct folio *folio)
{
	struct hugepage_subpool *spool = folio->_hugetlb_subpool;
	struct hstate *h = spool->hstate;
	bool restore = false;

	spin_lock(&spool->lock);
	spool->used_hpages--;
	if (spool->min_hpages > 0 && spool->rsv_hpages < spool->min_hpages &&
	    spool->used_hpages < spool->min_hpages) {
		spool->rsv_hpages++;
		restore = true;
	}

	spin_lock(&h->lock);
	folio->flags = PG_free;
	folio->private = NULL;
	folio->_hugetlb_subpool = NULL;
	list_add_tail(&folio->lru, &h->free_list);
	h->free_huge_pages++;
	if (restore)
		h->resv_huge_pages++;
	spin_unlock(&h->lock);
	unlock_or_release_subpool(spool);
}

int shim_hstate_create(unsigned int order, unsigned long nr_huge,
		       enum shim_backend kind, struct hstate **hp)
{
	struct hstate *h = calloc(1, sizeof(*h));
	unsigned long i;
	int err;

	if (!h)
		return -ENOMEM;
	err = shim_region_create(kind, order, nr_huge, &h->region);
	if (err) {
		free(h);
		return err;
	}
	h->order = order;
	spin_lock_init(&h->lock);
	INIT_LIST_HEAD(&h->free_list);
	for (i = 0; i < nr_huge; i++) {
		struct folio *head = &h->region->heads[i];

		head->flags = PG_free;
		list_add_tail(&head->lru, &h->free_list);
	}
	h->nr_huge_pages = nr_huge;
	h->free_huge_pages = nr_huge;
	*hp = h;
	return 0;
}

int shim_hstate_destroy(struct hstate *h)
{
	if (h->free_huge_pages != h->nr_huge_pages || h->resv_huge_pages ||
	    h->nr_subpools)
		return -EBUSY;
	shim_region_destroy(h->region);
	free(h);
	return 0;
}

void shim_hstate_counters(struct hstate *h, struct shim_hstate_counters *c)
{
	spin_lock(&h->lock);
	c->total = h->nr_huge_pages;
	c->free = h->free_huge_pages;
	c->resv = h->resv_huge_pages;
	c->in_use = h->nr_huge_pages - h->free_huge_pages;
	c->subpools = h->nr_subpools;
	spin_unlock(&h->lock);
}

/* The pool's own books balance: the free list has free_huge_pages entries. */
bool shim_hstate_consistent(struct hstate *h)
{
	unsigned long n = 0;
	struct folio *f;
	bool ok;

	spin_lock(&h->lock);
	list_for_each_entry(f, &h->free_list, lru)
		n++;
	ok = n == h->free_huge_pages && h->resv_huge_pages <= h->free_huge_pages &&
	     h->free_huge_pages <= h->nr_huge_pages;
	spin_unlock(&h->lock);
	return ok;
}
