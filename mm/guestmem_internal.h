/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem internals shared by the files of the allocator.
 *
 * A file maps each huge index to a struct hgmem_huge, the record of one
 * allocated huge page, in an xarray.  The folios of that huge page are found
 * from its first pfn: one huge folio while unsplit, otherwise the pieces
 * left by splits (2M and 4K folios for a 1G page, 4K folios for a 2M page),
 * each of which points back to the record through folio->private.  The
 * shared/private state of every 4K page lives in a maple tree of ranges in
 * which adjacent ranges always differ.
 *
 * Locking: the file's mutex, f->lock, serialises every operation on the
 * file and protects all of it: its counters, the huge xarray's contents and
 * the records and folios they lead to, and the state tree, whose external
 * lock it is.  The functions below that take a file require it to be held
 * (they say so and assert it), except hgmem_range().  Detached huge pages
 * belong to no file; guestmem_split.c keeps them on lists under its own
 * spinlock.
 */
#ifndef _MM_GUESTMEM_INTERNAL_H
#define _MM_GUESTMEM_INTERNAL_H

#include "guestmem_kernel.h"
#include <linux/guestmem.h>

struct hgmem_file {
	struct hstate *h;
	struct hugepage_subpool *spool;	/* holds the file's reservation */
	unsigned int order;		/* huge page order: PMD_ORDER or PUD_ORDER */
	int nid;
	u64 flags;
	pgoff_t nr_pages;		/* size in 4K pages */
	struct mutex lock;		/* serialises all operations; @state's lock */
	struct xarray huge;		/* huge index -> struct hgmem_huge */
	struct maple_tree state;	/* 4K index ranges -> xa_mk_value(state) */
	unsigned long nr_huge;		/* allocated huge pages */
	unsigned long nr_splits;
	unsigned long nr_merges;
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
int hgmem_range(struct hgmem_file *f, u64 offset, u64 len, pgoff_t *start,
		pgoff_t *end);
void hgmem_zero(struct hgmem_file *f, struct hgmem_huge *hp, pgoff_t from, pgoff_t to);

/* guestmem_state.c */
int hgmem_state_init(struct hgmem_file *f, enum hgmem_state init);
void hgmem_state_destroy(struct hgmem_file *f);
enum hgmem_state hgmem_state_at(struct hgmem_file *f, pgoff_t index, pgoff_t *last);
pgoff_t hgmem_state_pages(struct hgmem_file *f, enum hgmem_state state);
int hgmem_uniform_state(struct hgmem_file *f, pgoff_t first, pgoff_t nr,
			const struct hgmem_conv *c);
int hgmem_state_prepare(struct hgmem_file *f, struct ma_state *mas,
			const struct hgmem_conv *c);
void hgmem_state_commit(struct hgmem_file *f, struct ma_state *mas,
			const struct hgmem_conv *c);

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
