/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the hugetlb pool.  An hstate owns a region of huge pages
 * and keeps the kernel's counters with the kernel's meanings: free pages
 * (which include reserved ones), reserved pages, and pages in use.
 * Subpools implement per-file minimum reservations exactly as hugetlbfs's
 * min_size does: a subpool with min_hpages = N reserves N pages of the
 * global pool at creation, and allocations first consume that reservation.
 *
 * Unlike the kernel's pool, this one knows which free pages hold zeroes:
 * pages faulted in fresh from the kernel (which clears a hugetlb page at
 * its first fault) and never handed out since (shim_hstate_prefaulted()),
 * and freed pages cleared by the pool's background zeroer
 * (shim_hstate_zero_start()).  An allocation takes a known-zero page
 * first, and hgmem_folio_zeroed() tells mm/ it need not clear it.  A page
 * stops being known-zero when it is handed out.
 */
#ifndef GUESTMEM_SHIM_HUGETLB_H
#define GUESTMEM_SHIM_HUGETLB_H

#include "backend.h"

struct shim_zeroer;

/*
 * Free pages are on one of four lists, or isolated by the zeroer: under
 * @lock, free_huge_pages == |free_list| + |dirty_list| + |zero_list| +
 * |kernel_list| + (@zeroing != NULL).  The pages of kernel_list are not
 * the pool's any more (see shim_hstate_give_back_start()): always
 * free_huge_pages - kernel_huge_pages >= resv_huge_pages, so a reserved
 * allocation never needs one of them.
 */
struct hstate {
	unsigned int order;
	spinlock_t lock;		/* the kernel's hugetlb_lock */
	unsigned long nr_huge_pages;
	unsigned long free_huge_pages;
	unsigned long resv_huge_pages;
	struct list_head free_list;	/* never handed out, not known zero */
	struct list_head dirty_list;	/* freed: may hold data */
	struct list_head zero_list;	/* free pages known to hold zeroes */
	struct list_head kernel_list;	/* free pages given back to the kernel */
	unsigned long kernel_huge_pages; /* on kernel_list */
	struct list_head lent_list;	/* lent to the kernel, not free: shim_hstate_lend() */
	unsigned long lent_huge_pages;	/* on lent_list */
	bool give_back;			/* give free pages beyond resv to the kernel */
	unsigned long zero_huge_pages;	/* on zero_list */
	struct folio *zeroing;		/* off both lists: the zeroer clears it */
	unsigned long zero_hits;	/* allocations that skipped clearing */
	struct shim_zeroer *zeroer;	/* background zeroing, or NULL */
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

/*
 * Userspace only (libguestmem's KVM split mode): shrink or grow a
 * subpool's minimum by @n pages, with the reservations it holds.
 * hugepage_subpool_unreserve() cannot fail; the pages it lets go become
 * free pages of the pool that any subpool may reserve (and, with
 * shim_hstate_give_back_start(), the kernel's).  hugepage_subpool_reserve()
 * returns 0, -ENOMEM when the pool has too few free unreserved pages, or
 * -ENOSPC when the pool had given them back to the kernel and the kernel
 * has none to hand out now; it changes nothing when it fails.
 */
void hugepage_subpool_unreserve(struct hugepage_subpool *spool, long n);
int hugepage_subpool_reserve(struct hugepage_subpool *spool, long n);

/*
 * Whether @folio, just allocated from a pool, is known to hold zeroes (see
 * mm/guestmem_kernel.h).  Answers once: the caller owns the page and may
 * write it, so a second call (or one after a split) returns false.
 */
bool hgmem_folio_zeroed(struct folio *folio);

/* Pool management for userspace: not kernel interfaces. */
struct shim_hstate_counters {
	unsigned long total;
	unsigned long free;		/* includes reserved, as in the kernel */
	unsigned long resv;
	unsigned long in_use;
	long subpools;
	unsigned long zeroed;		/* free and known to hold zeroes */
	unsigned long zeroing;		/* free, being cleared by the zeroer */
	unsigned long zero_hits;	/* allocations that needed no clearing */
	unsigned long kernel;		/* free, given back to the kernel */
	unsigned long lent;		/* lent to the kernel (in use) */
};

int shim_hstate_create(unsigned int order, unsigned long nr_huge,
		       enum shim_backend kind, struct hstate **hp);
/* Stops the zeroer (after the page it is clearing) once the pool is idle. */
int shim_hstate_destroy(struct hstate *h);
void shim_hstate_counters(struct hstate *h, struct shim_hstate_counters *c);
bool shim_hstate_consistent(struct hstate *h);

/*
 * From now on, free pages of @h beyond those reserved (free_huge_pages -
 * resv_huge_pages), once a file freed a page or let a reservation go, are
 * given back to the kernel: their range of the region's memfd is punched
 * (fallocate(FALLOC_FL_PUNCH_HOLE)), so the kernel's HugePages_Free rises
 * for a page that was faulted in (HugePages_Rsvd drops for one that was
 * not).  Pages freed dirty go first, then known-zero ones, then pages
 * never handed out.  They stay counted in free_huge_pages; when a
 * reservation or an allocation needs one, it is taken back from the
 * kernel (fallocate() of its range: allocated and cleared by the kernel,
 * so it is known zero), or the call fails (-ENOSPC from the reservation)
 * when the kernel has no free huge page.  Pages that were never freed are
 * not given back by this call itself.
 */
void shim_hstate_give_back_start(struct hstate *h);

/*
 * Userspace only (libguestmem's in-place KVM files, whose memory is a
 * hugetlb guest_memfd the kernel fills): lend @n free, unreserved pages of
 * a hugetlb-backed @h to the kernel, so that a guest_memfd can reserve
 * them.  They are given back as above, whatever shim_hstate_give_back_start()
 * says, and leave the free count: in use, as the file's.  0, -ENOMEM when
 * fewer than @n are free and unreserved, -EOPNOTSUPP for a pool not on
 * hugetlb, or -errno of the punch; nothing changes when it fails.
 * shim_hstate_unlend() ends the loan: the pages are free again, held by
 * the kernel until a reservation or an allocation takes them back (or, with
 * give-back, kept there while not needed).  Cannot fail.
 */
int shim_hstate_lend(struct hstate *h, unsigned long n);
void shim_hstate_unlend(struct hstate *h, unsigned long n);

/*
 * Every page never handed out holds zeroes: the caller has just faulted
 * the whole region in, fresh from the kernel.  Moves them to the zero list.
 */
void shim_hstate_prefaulted(struct hstate *h);

/*
 * Background zeroing: a thread of the pool clears freed pages and puts them
 * on the zero list, never holding the hugetlb lock while it clears.  An
 * allocation that finds no other free page waits for the one being
 * cleared.  shim_hstate_zero_start() returns 0 or -errno (-EINVAL for a
 * pool whose memory cannot be touched, -EBUSY if already started);
 * shim_hstate_zero_stop() lets the zeroer finish the page it is clearing
 * and joins it (idempotent; in a fork child, whose copy of the pool has no
 * zeroer thread, it only forgets it).  shim_hstate_zero_flush() waits
 * until no freed page is waiting to be cleared (tests, benchmarks).
 */
int shim_hstate_zero_start(struct hstate *h);
void shim_hstate_zero_stop(struct hstate *h);
void shim_hstate_zero_flush(struct hstate *h);
/* Allocations waiting for the page the zeroer is clearing (tests). */
unsigned int shim_hstate_zero_waiters(struct hstate *h);
/* Whether shim_hstate_zero_stop() has told the zeroer to stop (tests). */
bool shim_hstate_zero_stopping(struct hstate *h);
/*
 * Test hook: called by the zeroer with no lock held, after it isolated
 * @folio and before it clears it.  NULL (the default) for none.
 */
extern void (*shim_zero_hook)(struct hstate *h, struct folio *folio);

#endif /* GUESTMEM_SHIM_HUGETLB_H */
