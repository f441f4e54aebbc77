/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem internals shared by the files of the allocator.
 *
 * A file maps each huge index to a struct hgmem_huge, the record of one
 * allocated huge page, in an xarray.  The folios of that huge page are found
 * from its first pfn: one huge folio while unsplit, otherwise the pieces
 * left by splits (2M and 4K folios for a 1G page, 4K folios for a 2M page),
 * each of which points back to the record through folio->private.  The
 * shared/private state of every 4K page is kept per huge page, allocated
 * or not (guestmem_state.c).
 *
 * Locking: the pages of one huge page - its record, its folios, the state
 * of its pages and the zeroing of them - change only under that huge page's
 * lock.  Huge page locks are hashed over HGMEM_HUGE_LOCKS mutexes, each on
 * a cache line of its own.  An operation within one huge page (a fault, a
 * 4K conversion) takes only that lock, so operations on different huge
 * pages of a file run in parallel, meeting only on neighbouring entries of
 * the per-file arrays (state words, xarray slots).  One spanning several
 * huge pages takes f->lock, which only such operations take, and then every
 * huge page lock in order (hgmem_lock()).  The counters are atomic, and the
 * huge xarray has its own lock.  Detached huge pages belong to no file;
 * guestmem_split.c keeps them on lists under its own spinlock.  Lock order:
 * f->lock, the huge page locks in index order, then the spinlocks of the
 * pool.
 */
#ifndef _MM_GUESTMEM_INTERNAL_H
#define _MM_GUESTMEM_INTERNAL_H

#include "guestmem_kernel.h"
#include <linux/guestmem.h>

/* Huge page locks per file: enough that vCPUs on different pages rarely meet. */
#define HGMEM_HUGE_LOCKS	32

/* A huge page lock, alone on its cache line: see hgmem_huge_lock(). */
struct hgmem_huge_lock {
	struct mutex lock;		/* the huge pages hashed here */
} ____cacheline_aligned_in_smp;

/*
 * What every operation reads comes first and is not written after
 * creation.  The huge xarray (its lock is written by every allocation and
 * punch), the huge page locks and the counters start cache lines of their
 * own, so that threads working on different huge pages do not miss on the
 * read-mostly fields, nor on each other's locks.  About 2 KiB a file, 4
 * KiB with lockdep's larger mutexes.
 */
struct hgmem_file {
	struct hstate *h;
	struct hugepage_subpool *spool;	/* holds the file's reservation */
	unsigned int order;		/* huge page order: PMD_ORDER or PUD_ORDER */
	int nid;
	u64 flags;
	pgoff_t nr_pages;		/* size in 4K pages */
	unsigned long *state;		/* per huge index: see guestmem_state.c */
	/* huge index -> struct hgmem_huge */
	struct xarray huge ____cacheline_aligned_in_smp;
	struct mutex lock;		/* operations spanning huge pages */
	struct hgmem_huge_lock huge_lock[HGMEM_HUGE_LOCKS];
	atomic_long_t nr_huge ____cacheline_aligned_in_smp;	/* allocated huge pages */
	atomic_long_t nr_splits;
	atomic_long_t nr_merges;
};

struct hgmem_huge {
	pgoff_t base;			/* file index of its first page */
	unsigned long pfn;		/* first pfn of the huge page */
	unsigned int order;
	struct hstate *h;
	atomic_t live;			/* once detached: pieces not yet freed */
	struct list_head node;		/* on the detached or ready list */
};

/* A conversion not yet committed: [start, end) is becoming @to. */
struct hgmem_conv {
	pgoff_t start;
	pgoff_t end;
	enum hgmem_state to;
};

/* The bitmaps a conversion will need, allocated before it changes anything. */
struct hgmem_state_prep {
	unsigned long *map[2];		/* for the huge pages at its ends */
	unsigned long hidx[2];
};

/*
 * The huge pages one transaction split folios of: at most the two at the
 * ends of a conversion.  If it split the huge folio itself, every piece is
 * new; otherwise it split at most the two 2M pieces holding the ends of
 * the conversion, which it records.  New folios stay frozen at refcount 0
 * until the transaction commits.
 */
#define HGMEM_TXN_MAX	2

struct hgmem_txn {
	unsigned int nr;
	unsigned long nr_splits;
	struct hgmem_txn_huge {
		struct hgmem_huge *hp;
		bool top;			/* split the huge folio itself */
		unsigned int nr_pieces;
		unsigned long piece_pfn[2];	/* 2M pieces split, if !top */
	} huge[HGMEM_TXN_MAX];
};

static inline pgoff_t hgmem_huge_pages(const struct hgmem_file *f)
{
	return 1UL << f->order;
}

static inline pgoff_t hgmem_huge_base(const struct hgmem_file *f, pgoff_t index)
{
	return index & ~(hgmem_huge_pages(f) - 1);
}

/* The lock of huge page @hidx (neighbouring huge pages have different ones). */
static inline struct mutex *hgmem_huge_lock(struct hgmem_file *f, pgoff_t hidx)
{
	return &f->huge_lock[hidx % HGMEM_HUGE_LOCKS].lock;
}

/* Whether pages [start, end) lie in one huge page, locked without the rest. */
static inline bool hgmem_range_in_huge(const struct hgmem_file *f, pgoff_t start,
				       pgoff_t end)
{
	return start >> f->order == (end - 1) >> f->order;
}

/*
 * Assert that pages [start, end) of @f may change: the caller holds the
 * lock of their huge page (which, hashed, is also the lock of every
 * HGMEM_HUGE_LOCKS-th huge page from it), or f->lock and with it every
 * huge page lock.
 */
static inline void hgmem_assert_locked(struct hgmem_file *f, pgoff_t start,
				       pgoff_t end)
{
	lockdep_assert(lockdep_is_held(&f->lock) ||
		       (hgmem_range_in_huge(f, start, end) &&
			lockdep_is_held(hgmem_huge_lock(f, start >> f->order))));
}

/* The same for the pages of @hp, a huge page of @f. */
static inline void hgmem_assert_huge_locked(struct hgmem_file *f,
					    struct hgmem_huge *hp)
{
	hgmem_assert_locked(f, hp->base, hp->base + 1);
}

/* The folio of @hp holding file page @index. */
static inline struct folio *hgmem_folio_at(struct hgmem_huge *hp, pgoff_t index)
{
	return pfn_folio(hp->pfn + (index - hp->base));
}

/* File index of the first page of @folio, a folio of @hp. */
static inline pgoff_t hgmem_folio_index(struct hgmem_huge *hp, struct folio *folio)
{
	return hp->base + (folio_pfn(folio) - hp->pfn);
}

static inline bool hgmem_huge_is_split(struct hgmem_huge *hp)
{
	return folio_order(pfn_folio(hp->pfn)) < hp->order;
}

/* guestmem_file.c */
void hgmem_lock(struct hgmem_file *f, pgoff_t start, pgoff_t end);
void hgmem_unlock(struct hgmem_file *f, pgoff_t start, pgoff_t end);
int hgmem_range(struct hgmem_file *f, u64 offset, u64 len, pgoff_t *start,
		pgoff_t *end);
void hgmem_zero(struct hgmem_file *f, struct hgmem_huge *hp, pgoff_t from, pgoff_t to);

/* guestmem_state.c */
int hgmem_state_init(struct hgmem_file *f, enum hgmem_state init);
void hgmem_state_destroy(struct hgmem_file *f);
enum hgmem_state hgmem_state_at(struct hgmem_file *f, pgoff_t index, pgoff_t *last);
pgoff_t hgmem_state_count(struct hgmem_file *f, pgoff_t start, pgoff_t end,
			  enum hgmem_state state);
int hgmem_uniform_state(struct hgmem_file *f, pgoff_t first, pgoff_t nr,
			const struct hgmem_conv *c);
int hgmem_state_prepare(struct hgmem_file *f, const struct hgmem_conv *c,
			struct hgmem_state_prep *p);
void hgmem_state_commit(struct hgmem_file *f, const struct hgmem_conv *c,
			struct hgmem_state_prep *p);
const char *hgmem_state_check(struct hgmem_file *f, pgoff_t start, pgoff_t end);

/* guestmem_split.c */
int hgmem_split_for_state(struct hgmem_file *f, struct hgmem_huge *hp,
			  const struct hgmem_conv *c, struct hgmem_txn *t,
			 pgoff_t *error_index);
void hgmem_txn_commit(struct hgmem_file *f, struct hgmem_txn *t);
void hgmem_txn_abort(struct hgmem_file *f, struct hgmem_txn *t);
void hgmem_merge_uniform(struct hgmem_file *f, struct hgmem_huge *hp, pgoff_t from,
			 pgoff_t to);
void hgmem_detach(struct hgmem_file *f, struct hgmem_huge *hp);

/* guestmem_check.c */
void hgmem_debug_check(struct hgmem_file *f, pgoff_t start, pgoff_t end);

#endif /* _MM_GUESTMEM_INTERNAL_H */
