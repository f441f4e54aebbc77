// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: splitting and merging huge folios, and reassembling freed ones.
 *
 * The folios of a huge page always follow its state: a 2M range with mixed
 * state is made of 4K folios, a uniform one is a single folio.  A 1G page is
 * split in two steps, 1G -> 2M and then only the mixed 2M pieces -> 4K, so
 * the rest stays mappable at 2M; merging goes back up the same way.
 *
 * Splits run inside a transaction: every folio to be split is frozen first
 * (a folio referenced elsewhere cannot be split: -EAGAIN), each split either
 * succeeds or changes nothing (-ENOMEM), and a failure merges back whatever
 * the transaction already split, which cannot fail.  Nothing is visible
 * until hgmem_txn_commit() unfreezes the new folios.
 *
 * Merges are opportunistic: they need every piece unreferenced, and a piece
 * that is still held simply leaves the range split, which is always valid.
 *
 * A huge page removed from its file is detached: its folios drop the file's
 * reference, and when the last one is freed the pieces are merged back into
 * the hugetlb folio, which goes back to the pool.  If nobody else holds a
 * piece that happens at once; otherwise the final folio_put() of the last
 * piece queues the page for a worker, and hgmem_flush_deferred() waits for
 * it.  hgmem_nr_pending() counts the pages still waiting.
 *
 * Locking: every function here taking a file and a huge page of it requires
 * that huge page locked (hgmem_lock()).  Detached pages belong
 * to no file: hgmem_detached_lock protects the two lists they wait on, and
 * is taken with interrupts disabled because the final folio_put() of a
 * piece may come from any context.  It is innermost: nothing is taken, and
 * nothing sleeps, under it.
 */
#include "guestmem_internal.h"

static DEFINE_SPINLOCK(hgmem_detached_lock);
static LIST_HEAD(hgmem_detached);	/* pieces still referenced */
static LIST_HEAD(hgmem_ready);		/* all pieces freed, to reassemble */

static void hgmem_reassemble_work(struct work_struct *work);
static DECLARE_WORK(hgmem_reassembly, hgmem_reassemble_work);

static unsigned int hgmem_child_order(unsigned int order)
{
	return order > PMD_ORDER ? PMD_ORDER : 0;
}

static pgoff_t hgmem_clamp(pgoff_t index, const struct hgmem_conv *c)
{
	return c ? max(index, c->start) : index;
}

/*
 * Mark @folio, of order below that of @hp, as a piece of @hp, a huge page
 * of @f.  Caller locked @hp.
 */
static void hgmem_set_piece(struct hgmem_file *f, struct folio *folio,
			    struct hgmem_huge *hp)
{
	hgmem_assert_huge_locked(f, hp);
	if (folio_order(folio) < hp->order) {
		__folio_set_guestmem(folio);
		folio->private = hp;
	}
}

/*
 * Split @folio, one level down, for @t; @freeze it first unless @t already
 * did.  Caller locked @hp; may sleep.
 */
static int hgmem_txn_split(struct hgmem_file *f, struct hgmem_txn *t,
			   struct hgmem_huge *hp, struct folio *folio, bool freeze)
{
	int err;

	hgmem_assert_huge_locked(f, hp);
	if (freeze && !folio_ref_freeze(folio, 1))
		return -EAGAIN;
	/* A split folio is no longer one of ours; its pieces will be. */
	if (folio_test_guestmem(folio)) {
		__folio_clear_guestmem(folio);
		folio->private = NULL;
	}
	err = hugetlb_folio_split(folio, hgmem_child_order(folio_order(folio)));
	if (err) {
		hgmem_set_piece(f, folio, hp);
		if (freeze)
			folio_ref_unfreeze(folio, 1);
		return err;
	}
	t->nr_splits++;
	return 0;
}

/* The transaction's record of @hp, made on its first split.  No lock of its own. */
static struct hgmem_txn_huge *hgmem_txn_slot(struct hgmem_txn *t, struct hgmem_huge *hp)
{
	struct hgmem_txn_huge *th;

	if (t->nr && t->huge[t->nr - 1].hp == hp)
		return &t->huge[t->nr - 1];
	if (WARN_ON(t->nr == HGMEM_TXN_MAX))
		return NULL;
	th = &t->huge[t->nr++];
	th->hp = hp;
	th->top = false;
	th->nr_pieces = 0;
	return th;
}

/*
 * Split the 2M piece at @pfn, if it will hold mixed state once @c (NULL on
 * a fault) is applied and is not split yet.  Caller locked @hp; may sleep.
 */
static int hgmem_split_piece(struct hgmem_file *f, struct hgmem_huge *hp,
			     unsigned long pfn, const struct hgmem_conv *c,
			    struct hgmem_txn *t, pgoff_t *error_index)
{
	struct folio *folio = pfn_folio(pfn);
	struct hgmem_txn_huge *th;
	int err;

	hgmem_assert_huge_locked(f, hp);
	if (folio_order(folio) != PMD_ORDER ||
	    hgmem_uniform_state(f, hgmem_folio_index(hp, folio), 1UL << PMD_ORDER, c) >= 0)
		return 0;
	th = hgmem_txn_slot(t, hp);
	if (!th || (!th->top && th->nr_pieces == ARRAY_SIZE(th->piece_pfn)))
		return -EINVAL;
	err = hgmem_txn_split(f, t, hp, folio, !th->top);
	if (err == -EAGAIN)
		*error_index = hgmem_clamp(hgmem_folio_index(hp, folio), c);
	else if (!err && !th->top)
		th->piece_pfn[th->nr_pieces++] = pfn;
	return err;
}

/*
 * Split whatever folios of @hp will hold mixed state once @c is applied
 * (@c is NULL when @hp was just allocated).  Only the 2M pieces holding the
 * ends of a conversion can become mixed; a new page may be mixed anywhere.
 * On -EAGAIN, *error_index is the first page of the folio that is still
 * referenced (within the conversion, if any).  Returns 0, -EAGAIN or
 * -ENOMEM; whatever was split stays recorded in @t for the caller to
 * commit or abort.  Caller locked @hp; may sleep.
 */
int hgmem_split_for_state(struct hgmem_file *f, struct hgmem_huge *hp,
			  const struct hgmem_conv *c, struct hgmem_txn *t,
			 pgoff_t *error_index)
{
	const pgoff_t piece = 1UL << PMD_ORDER, end = hp->base + hgmem_huge_pages(f);
	struct folio *folio = pfn_folio(hp->pfn);
	struct hgmem_txn_huge *th;
	pgoff_t i, last;
	int err;

	hgmem_assert_huge_locked(f, hp);
	if (hgmem_uniform_state(f, hp->base, hgmem_huge_pages(f), c) >= 0)
		return 0;
	if (folio_order(folio) == f->order) {
		th = hgmem_txn_slot(t, hp);
		if (!th)
			return -EINVAL;
		err = hgmem_txn_split(f, t, hp, folio, true);
		if (err) {
			if (err == -EAGAIN)
				*error_index = hgmem_clamp(hp->base, c);
			return err;
		}
		th->top = true;
	}
	if (f->order <= PMD_ORDER)
		return 0;

	if (!c) {
		for (i = 0; i < hgmem_huge_pages(f); i += piece) {
			err = hgmem_split_piece(f, hp, hp->pfn + i, NULL, t, error_index);
			if (err)
				return err;
		}
		return 0;
	}
	i = max(c->start, hp->base) & ~(piece - 1);
	last = (min(c->end, end) - 1) & ~(piece - 1);
	err = hgmem_split_piece(f, hp, hp->pfn + (i - hp->base), c, t, error_index);
	if (!err && last != i)
		err = hgmem_split_piece(f, hp, hp->pfn + (last - hp->base), c, t,
					error_index);
	return err;
}

/*
 * Unfreeze the new folios in [pfn, pfn + nr) of @hp: each gets the file's
 * reference.  Caller locked @hp.
 */
static void hgmem_publish(struct hgmem_file *f, struct hgmem_huge *hp,
			  unsigned long pfn, unsigned long nr)
{
	unsigned long end = pfn + nr;

	hgmem_assert_huge_locked(f, hp);
	while (pfn < end) {
		struct folio *folio = pfn_folio(pfn);

		if (!folio_ref_count(folio)) {
			hgmem_set_piece(f, folio, hp);
			folio_ref_unfreeze(folio, 1);
		}
		pfn += folio_nr_pages(folio);
	}
}

/* Make the folios split by @t visible.  Caller locked the huge pages of @t. */
void hgmem_txn_commit(struct hgmem_file *f, struct hgmem_txn *t)
{
	unsigned int i, j;

	for (i = 0; i < t->nr; i++) {
		struct hgmem_txn_huge *th = &t->huge[i];

		hgmem_assert_huge_locked(f, th->hp);
		if (th->top)
			hgmem_publish(f, th->hp, th->hp->pfn, 1UL << th->hp->order);
		for (j = 0; !th->top && j < th->nr_pieces; j++)
			hgmem_publish(f, th->hp, th->piece_pfn[j], 1UL << PMD_ORDER);
	}
	if (t->nr_splits)	/* the counter's line is shared: no write for 0 */
		atomic_long_add(t->nr_splits, &f->nr_splits);
	t->nr = 0;
	t->nr_splits = 0;
}

/*
 * Undo @t: merge back the 2M pieces it split (their 4K folios are still
 * frozen, unlike any that existed before), then the huge folio if it split
 * that.  Merging cannot fail.  Caller locked the huge pages of @t; may
 * sleep.
 */
void hgmem_txn_abort(struct hgmem_file *f, struct hgmem_txn *t)
{
	const unsigned long piece = 1UL << PMD_ORDER;

	while (t->nr) {
		struct hgmem_txn_huge *th = &t->huge[--t->nr];
		struct hgmem_huge *hp = th->hp;
		unsigned long pfn, end = hp->pfn + (1UL << hp->order);
		struct folio *folio;

		hgmem_assert_huge_locked(f, hp);

		while (!th->top && th->nr_pieces) {
			pfn = th->piece_pfn[--th->nr_pieces];
			folio = hugetlb_folio_merge(pfn_folio(pfn), PMD_ORDER);
			if (WARN_ON(!folio))
				continue;
			hgmem_set_piece(f, folio, hp);
			folio_ref_unfreeze(folio, 1);
		}
		if (!th->top)
			continue;
		for (pfn = hp->pfn; hp->order > PMD_ORDER && pfn < end; pfn += piece) {
			folio = pfn_folio(pfn);
			if (!folio_order(folio))
				WARN_ON(!hugetlb_folio_merge(folio, PMD_ORDER));
		}
		folio = hugetlb_folio_merge(pfn_folio(hp->pfn), hp->order);
		if (!WARN_ON(!folio))
			folio_ref_unfreeze(folio, 1);
	}
	t->nr_splits = 0;
}

/*
 * Merge the 2^(order - piece order) pieces starting at @pfn into one folio
 * of @order, if none of them is referenced beyond the file's own reference.
 * Caller locked @hp; may sleep.
 */
static bool hgmem_try_merge(struct hgmem_file *f, struct hgmem_huge *hp,
			    unsigned long pfn, unsigned int order)
{
	unsigned long end = pfn + (1UL << order), p;
	struct folio *folio;

	hgmem_assert_huge_locked(f, hp);
	for (p = pfn; p < end; p += folio_nr_pages(folio)) {
		folio = pfn_folio(p);
		if (!folio_ref_freeze(folio, 1))
			goto busy;
	}
	for (p = pfn; p < end; p += folio_nr_pages(folio)) {
		folio = pfn_folio(p);
		__folio_clear_guestmem(folio);
		folio->private = NULL;
	}
	folio = hugetlb_folio_merge(pfn_folio(pfn), order);
	if (WARN_ON(!folio))
		return false;
	hgmem_set_piece(f, folio, hp);
	folio_ref_unfreeze(folio, 1);
	atomic_long_inc(&f->nr_merges);
	return true;
busy:
	for (end = p, p = pfn; p < end; p += folio_nr_pages(folio)) {
		folio = pfn_folio(p);
		folio_ref_unfreeze(folio, 1);
	}
	return false;
}

/*
 * Merge the parts of @hp that became uniform, bottom up: the 2M pieces
 * overlapping pages [from, to), whose state just changed, and then the huge
 * folio if its whole range is uniform.  Caller locked @hp; may sleep.
 */
void hgmem_merge_uniform(struct hgmem_file *f, struct hgmem_huge *hp, pgoff_t from,
			 pgoff_t to)
{
	const pgoff_t piece = 1UL << PMD_ORDER;
	pgoff_t i;

	hgmem_assert_huge_locked(f, hp);
	if (!hgmem_huge_is_split(hp))
		return;
	for (i = max(from, hp->base) & ~(piece - 1);
	     f->order > PMD_ORDER && i < min(to, hp->base + hgmem_huge_pages(f)); i += piece) {
		if (!folio_order(hgmem_folio_at(hp, i)) &&
		    hgmem_uniform_state(f, i, piece, NULL) >= 0)
			hgmem_try_merge(f, hp, hp->pfn + (i - hp->base), PMD_ORDER);
	}
	if (hgmem_uniform_state(f, hp->base, hgmem_huge_pages(f), NULL) < 0)
		return;
	for (i = 0; i < hgmem_huge_pages(f); i += piece)
		if (folio_order(hgmem_folio_at(hp, hp->base + i)) != hgmem_child_order(f->order))
			return;
	hgmem_try_merge(f, hp, hp->pfn, f->order);
}

/*
 * Merge the pieces of a detached huge page, all freed, back into its
 * hugetlb folio and give that back to the pool.  The page belongs to the
 * caller alone, so no lock is needed; the merge optimises the vmemmap
 * again, which may sleep, so hgmem_detached_lock must not be held.
 */
static void hgmem_reassemble(struct hgmem_huge *hp)
{
	const unsigned long piece = 1UL << PMD_ORDER;
	unsigned long end = hp->pfn + (1UL << hp->order), p;
	struct folio *folio;

	might_sleep();
	for (p = hp->pfn; p < end; p += folio_nr_pages(folio)) {
		folio = pfn_folio(p);
		__folio_clear_guestmem(folio);
		folio->private = NULL;
	}
	if (hp->order > PMD_ORDER) {
		for (p = hp->pfn; p < end; p += piece) {
			folio = pfn_folio(p);
			if (!folio_order(folio))
				hugetlb_folio_merge(folio, PMD_ORDER);
		}
	}
	folio = hugetlb_folio_merge(pfn_folio(hp->pfn), hp->order);
	if (!WARN_ON(!folio)) {
		folio_ref_unfreeze(folio, 1);
		folio_put(folio);
	}
	kfree(hp);
}

/*
 * Drop the file's references on the folios of @hp, removed from its file.
 * An unsplit huge folio goes back to the pool with its last reference, as
 * any hugetlb folio does; a split one is reassembled first.  Caller locked
 * @hp; takes hgmem_detached_lock; may sleep.
 */
void hgmem_detach(struct hgmem_file *f, struct hgmem_huge *hp)
{
	unsigned long end = hp->pfn + (1UL << hp->order), p, n = 0;
	struct folio *folio;

	hgmem_assert_huge_locked(f, hp);
	atomic_long_dec(&f->nr_huge);
	if (!hgmem_huge_is_split(hp)) {
		folio_put(pfn_folio(hp->pfn));
		kfree(hp);
		return;
	}

	for (p = hp->pfn; p < end; p += folio_nr_pages(folio), n++)
		folio = pfn_folio(p);
	/* One extra count keeps the page ours until every piece is put. */
	atomic_set(&hp->live, n + 1);
	spin_lock_irq(&hgmem_detached_lock);
	list_add_tail(&hp->node, &hgmem_detached);
	spin_unlock_irq(&hgmem_detached_lock);

	for (p = hp->pfn; p < end; ) {
		folio = pfn_folio(p);
		p += folio_nr_pages(folio);
		folio_put(folio);
	}
	if (atomic_dec_and_test(&hp->live)) {
		spin_lock_irq(&hgmem_detached_lock);
		list_del(&hp->node);
		spin_unlock_irq(&hgmem_detached_lock);
		hgmem_reassemble(hp);
	}
}

/**
 * hgmem_folio_free() - Free a piece of a split guestmem huge page.
 * @folio: The piece, whose last reference was just put.
 *
 * The mm core calls this from the final folio_put() of a folio of the
 * guestmem page type.  While the file holds the page, the file's own
 * reference keeps this from happening; once the page is detached, the free
 * of its last piece queues the page for reassembly (hgmem_flush_deferred()
 * waits for it).
 *
 * Context: Any context, including interrupt context.  Takes
 * hgmem_detached_lock with interrupts disabled, so the caller must not hold
 * it.  Does not sleep.
 */
void hgmem_folio_free(struct folio *folio)
{
	struct hgmem_huge *hp = folio->private;
	unsigned long flags;

	if (!atomic_dec_and_test(&hp->live))
		return;
	spin_lock_irqsave(&hgmem_detached_lock, flags);
	list_move_tail(&hp->node, &hgmem_ready);
	spin_unlock_irqrestore(&hgmem_detached_lock, flags);
	schedule_work(&hgmem_reassembly);
}

/* The reassembly worker.  Process context: takes hgmem_detached_lock; may sleep. */
static void hgmem_reassemble_work(struct work_struct *work)
{
	struct hgmem_huge *hp;

	for (;;) {
		spin_lock_irq(&hgmem_detached_lock);
		if (list_empty(&hgmem_ready)) {
			spin_unlock_irq(&hgmem_detached_lock);
			return;
		}
		hp = list_first_entry(&hgmem_ready, struct hgmem_huge, node);
		list_del(&hp->node);
		spin_unlock_irq(&hgmem_detached_lock);
		hgmem_reassemble(hp);
	}
}

/**
 * hgmem_flush_deferred() - Wait for the reassembly of freed huge pages.
 *
 * Waits until every detached huge page whose last piece has been freed so
 * far is reassembled and back in its pool.  Pages with pieces still
 * referenced elsewhere are not waited for (see hgmem_nr_pending()).
 *
 * Context: Process context, not the reassembly worker itself.  Takes no
 * guestmem lock, and the worker takes no file lock, so the caller may hold
 * one.  May sleep.
 * Return: true if there was reassembly to wait for, false otherwise.
 */
bool hgmem_flush_deferred(void)
{
	might_sleep();
	return flush_work(&hgmem_reassembly);
}

/* Detached pages of @h on @list.  Caller holds hgmem_detached_lock. */
static unsigned long hgmem_count_detached(struct list_head *list, struct hstate *h)
{
	unsigned long n = 0;
	struct hgmem_huge *hp;

	lockdep_assert_held(&hgmem_detached_lock);
	list_for_each_entry(hp, list, node)
		n += hp->h == h;
	return n;
}

/**
 * hgmem_nr_pending() - Count the freed huge pages not yet back in a pool.
 * @h: The pool (hstate).
 *
 * Context: Any context with interrupts enabled.  Takes and releases
 * hgmem_detached_lock, so the caller must not hold it.  Does not sleep.
 * Return: The number of huge pages of @h detached from their files and not
 * yet back in the pool: some of their pieces are still referenced, or their
 * reassembly is queued.
 */
unsigned long hgmem_nr_pending(struct hstate *h)
{
	unsigned long n;

	spin_lock_irq(&hgmem_detached_lock);
	n = hgmem_count_detached(&hgmem_detached, h) +
	    hgmem_count_detached(&hgmem_ready, h);
	spin_unlock_irq(&hgmem_detached_lock);
	return n;
}
