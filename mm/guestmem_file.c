// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: guest memory files.
 *
 * A file reserves all of its huge pages in the hugetlb pool at creation,
 * through a subpool whose minimum is the file's size, so a fault can never
 * find the pool empty.  Huge pages are allocated on first use, zeroed, and
 * split right away if their range already has mixed state.  Punching a hole
 * zeroes the covered part of partially covered huge pages and gives whole
 * ones back to the pool.
 */
#include "guestmem_internal.h"

/**
 * hgmem_lock() - Lock pages of a file for an operation on them.
 * @f: The file.
 * @start: First page.
 * @end: Page after the last, above @start.
 *
 * An operation within one huge page takes only the huge page's lock, and
 * runs in parallel with operations on other huge pages; a wider one takes
 * the file's lock, then every huge page lock.  hgmem_unlock() with the same
 * range unlocks.
 *
 * Context: Process context.  May sleep.
 */
void hgmem_lock(struct hgmem_file *f, pgoff_t start, pgoff_t end)
{
	int i;

	if (hgmem_range_in_huge(f, start, end)) {
		mutex_lock(hgmem_huge_lock(f, start >> f->order));
		return;
	}
	mutex_lock(&f->lock);
	for (i = 0; i < HGMEM_HUGE_LOCKS; i++)
		mutex_lock_nest_lock(&f->huge_lock[i].lock, &f->lock);
}

/* Unlock pages [start, end) of @f, locked by hgmem_lock(). */
void hgmem_unlock(struct hgmem_file *f, pgoff_t start, pgoff_t end)
{
	int i;

	if (hgmem_range_in_huge(f, start, end)) {
		mutex_unlock(hgmem_huge_lock(f, start >> f->order));
		return;
	}
	for (i = HGMEM_HUGE_LOCKS - 1; i >= 0; i--)
		mutex_unlock(&f->huge_lock[i].lock);
	mutex_unlock(&f->lock);
}

/* Check a byte range and convert it to the page range [*start, *end).  No lock needed. */
int hgmem_range(struct hgmem_file *f, u64 offset, u64 len, pgoff_t *start,
		pgoff_t *end)
{
	u64 last;

	if (!len || !IS_ALIGNED(offset | len, PAGE_SIZE))
		return -EINVAL;
	if (check_add_overflow(offset, len, &last) ||
	    last > (u64)f->nr_pages << PAGE_SHIFT)
		return -ERANGE;
	*start = offset >> PAGE_SHIFT;
	*end = last >> PAGE_SHIFT;
	return 0;
}

/* Zero file pages [from, to) of @hp, a huge page of @f.  Caller locked @hp. */
void hgmem_zero(struct hgmem_file *f, struct hgmem_huge *hp, pgoff_t from, pgoff_t to)
{
	hgmem_assert_huge_locked(f, hp);
	while (from < to) {
		struct folio *folio = hgmem_folio_at(hp, from);
		pgoff_t first = hgmem_folio_index(hp, folio);
		pgoff_t n = min(to, first + folio_nr_pages(folio)) - from;

		folio_zero_range(folio, (from - first) << PAGE_SHIFT,
				 n << PAGE_SHIFT);
		from += n;
	}
}

/* Free @f, whose pages and state are gone. */
static void hgmem_file_free(struct hgmem_file *f)
{
	int i;

	for (i = 0; i < HGMEM_HUGE_LOCKS; i++)
		mutex_destroy(&f->huge_lock[i].lock);
	mutex_destroy(&f->lock);
	kfree(f);
}

/**
 * hgmem_file_create() - Create a guest memory file.
 * @h: The hugetlb pool (hstate) the file takes its huge pages from.
 * @size: Size of the file in bytes, a multiple of the huge page size of @h.
 * @flags: %HGMEM_FILE_INIT_SHARED, %HGMEM_FILE_ZERO_ON_CONVERT, or 0.
 * @nid: Preferred NUMA node of the file's huge pages, or %NUMA_NO_NODE.
 * @filep: Where to store the new file.
 *
 * Reserves every huge page of the file in the pool at once, through a
 * subpool whose minimum is @size, so that a fault never finds the pool
 * empty; the pages themselves are allocated on first use.  Every page
 * starts private, or shared with %HGMEM_FILE_INIT_SHARED.
 *
 * Context: Process context.  May sleep.
 * Return:
 * * %0 - Success; the file, stored through @filep, is to be released with
 *   hgmem_file_release().
 * * %-EINVAL - @size is zero or not a multiple of the huge page size, or
 *   @flags has unknown bits.
 * * %-ERANGE - @size is too large to be indexed in 4K pages.
 * * %-ENOMEM - No memory for the file's records, or the pool cannot reserve
 *   @size.
 */
int hgmem_file_create(struct hstate *h, u64 size, u64 flags, int nid,
		      struct hgmem_file **filep)
{
	unsigned int order = huge_page_order(h);
	enum hgmem_state init;
	struct hgmem_file *f;
	int err, i;

	might_sleep();
	if (!size || !IS_ALIGNED(size, huge_page_size(h)) ||
	    (flags & ~HGMEM_FILE_FLAGS))
		return -EINVAL;
	if ((size >> PAGE_SHIFT) > ULONG_MAX >> 1)
		return -ERANGE;

	f = kzalloc_obj(*f, GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->h = h;
	f->order = order;
	f->nid = nid;
	f->flags = flags;
	f->nr_pages = size >> PAGE_SHIFT;
	mutex_init(&f->lock);
	for (i = 0; i < HGMEM_HUGE_LOCKS; i++)
		mutex_init(&f->huge_lock[i].lock);
	xa_init(&f->huge);

	/* The reservation first: it bounds the size of the state to a real one. */
	f->spool = hugepage_new_subpool(h, -1, f->nr_pages >> order);
	if (!f->spool) {
		err = -ENOMEM;
		goto free;
	}
	init = flags & HGMEM_FILE_INIT_SHARED ? HGMEM_SHARED : HGMEM_PRIVATE;
	err = hgmem_state_init(f, init);
	if (err)
		goto put;
	*filep = f;
	return 0;
put:
	hugepage_put_subpool(f->spool);
free:
	hgmem_file_free(f);
	return err;
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_file_create, "kvm");

/**
 * hgmem_file_release() - Release a guest memory file.
 * @f: The file; nobody may use it any more.
 *
 * Gives the file's huge pages and what is left of its reservation back to
 * the pool.  A page whose folios are still referenced elsewhere goes back
 * when its last reference is put (see hgmem_flush_deferred()).
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 */
void hgmem_file_release(struct hgmem_file *f)
{
	struct hgmem_huge *hp;
	unsigned long hidx;

	might_sleep();
	hgmem_lock(f, 0, f->nr_pages);
	xa_for_each(&f->huge, hidx, hp) {
		xa_erase(&f->huge, hidx);
		hgmem_detach(f, hp);
	}
	hgmem_state_destroy(f);
	hgmem_unlock(f, 0, f->nr_pages);
	xa_destroy(&f->huge);
	hugepage_put_subpool(f->spool);
	hgmem_file_free(f);
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_file_release, "kvm");

/*
 * Allocate, zero and insert the huge page at @hidx; its folios follow the
 * state.  The splits that takes are added to *@nr_splits.  Caller locked
 * the huge page (hgmem_lock()); may sleep.
 */
static int hgmem_alloc_huge(struct hgmem_file *f, pgoff_t hidx,
			    struct hgmem_huge **hpp, unsigned long *nr_splits)
{
	struct hgmem_txn t = { };
	struct hgmem_huge *hp;
	struct folio *folio;
	pgoff_t unused;
	int err;

	hgmem_assert_locked(f, hidx << f->order, (hidx << f->order) + 1);
	hp = kzalloc_obj(*hp, GFP_KERNEL);
	if (!hp)
		return -ENOMEM;
	err = xa_reserve(&f->huge, hidx, GFP_KERNEL);
	if (err)
		goto free;
	folio = hugetlb_subpool_alloc_folio(f->spool, f->nid);
	if (!folio) {
		/*
		 * A freed page may still be on its way back to the pool: wait
		 * for reassembly and try again (even if the worker finished
		 * before the wait, the page is back now).
		 */
		hgmem_flush_deferred();
		folio = hugetlb_subpool_alloc_folio(f->spool, f->nid);
	}
	if (!folio) {
		err = -ENOMEM;
		goto release;
	}
	if (!hgmem_folio_zeroed(folio))
		folio_zero_range(folio, 0, folio_size(folio));
	hp->base = hidx << f->order;
	hp->pfn = folio_pfn(folio);
	hp->order = f->order;
	hp->h = f->h;
	err = hgmem_split_for_state(f, hp, NULL, &t, &unused);
	if (err) {
		hgmem_txn_abort(f, &t);
		folio_put(folio);
		goto release;
	}
	*nr_splits += t.nr_splits;
	hgmem_txn_commit(f, &t);
	xa_store(&f->huge, hidx, hp, GFP_KERNEL);	/* reserved: cannot fail */
	atomic_long_inc(&f->nr_huge);
	*hpp = hp;
	return 0;
release:
	xa_release(&f->huge, hidx);
free:
	kfree(hp);
	return err;
}

/**
 * hgmem_allocate() - Allocate the huge pages backing a range of a file.
 * @f: The file.
 * @offset: Start of the range in bytes, 4K aligned.
 * @len: Length of the range in bytes, 4K aligned and not zero.
 *
 * Allocates and zeroes every huge page overlapping the range that is not
 * allocated yet, split as the state of its range requires.  All or
 * nothing: on failure the pages this call allocated are given back.
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 * Return:
 * * %0 - The range is allocated.
 * * %-EINVAL - @offset or @len is not 4K aligned, or @len is zero.
 * * %-ERANGE - The range ends past the end of the file, or @offset + @len
 *   overflows.
 * * %-ENOMEM - No memory for metadata or for a split, or no huge page left.
 * * %-EAGAIN - A huge page allocated into a range of mixed state had to be
 *   split and something else held a reference to it for a moment; retry.
 */
int hgmem_allocate(struct hgmem_file *f, u64 offset, u64 len)
{
	unsigned long nr_splits = 0;
	struct hgmem_huge *hp, *tmp;
	pgoff_t start, end, hidx;
	LIST_HEAD(added);
	int err;

	might_sleep();
	err = hgmem_range(f, offset, len, &start, &end);
	if (err)
		return err;

	hgmem_lock(f, start, end);
	for (hidx = start >> f->order; hidx <= (end - 1) >> f->order; hidx++) {
		if (xa_load(&f->huge, hidx))
			continue;
		err = hgmem_alloc_huge(f, hidx, &hp, &nr_splits);
		if (err)
			break;
		list_add(&hp->node, &added);
	}
	/* All or nothing: on failure give back what this call allocated. */
	list_for_each_entry_safe(hp, tmp, &added, node) {
		list_del(&hp->node);
		if (err) {
			xa_erase(&f->huge, hp->base >> f->order);
			hgmem_detach(f, hp);
		}
	}
	if (err)
		atomic_long_sub(nr_splits, &f->nr_splits);
	hgmem_debug_check(f, start, end);
	hgmem_unlock(f, start, end);
	return err;
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_allocate, "kvm");

/**
 * hgmem_get_folio() - Get the folio holding a page of a file.
 * @f: The file.
 * @index: The page, as an index in 4K pages.
 * @foliop: Where to store the folio, with a reference for the caller to put.
 * @max_order: Where to store the largest order the page may be mapped at:
 *	the folio's own, since a folio never spans mixed state.
 *
 * Allocates and zeroes the huge page holding @index if it is not allocated
 * yet, as hgmem_allocate() does.
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 * Return:
 * * %0 - The folio and its order are stored through @foliop and @max_order.
 * * %-ERANGE - @index is past the end of the file.
 * * %-ENOMEM - No memory for metadata or for a split, or no huge page left.
 * * %-EAGAIN - The huge page allocated for @index had to be split and
 *   something else held a reference to it for a moment; retry.
 */
int hgmem_get_folio(struct hgmem_file *f, pgoff_t index, struct folio **foliop,
		    int *max_order)
{
	pgoff_t hidx = index >> f->order;
	unsigned long nr_splits = 0;
	struct hgmem_huge *hp;
	struct folio *folio;
	int err = 0;

	might_sleep();
	if (index >= f->nr_pages)
		return -ERANGE;

	hgmem_lock(f, index, index + 1);
	hp = xa_load(&f->huge, hidx);
	if (!hp)
		err = hgmem_alloc_huge(f, hidx, &hp, &nr_splits);
	if (!err) {
		folio = hgmem_folio_at(hp, index);
		folio_get(folio);
		*foliop = folio;
		/* A folio never spans mixed state, so it maps at its own order. */
		*max_order = folio_order(folio);
	}
	hgmem_debug_check(f, index, index + 1);
	hgmem_unlock(f, index, index + 1);
	return err;
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_get_folio, "kvm");

/**
 * hgmem_punch_hole() - Free the memory of a range of a file.
 * @f: The file.
 * @offset: Start of the range in bytes, 4K aligned.
 * @len: Length of the range in bytes, 4K aligned and not zero.
 *
 * Huge pages the range covers whole go back to the pool (the file keeps
 * their reservation); the covered part of the others is zeroed.  The state
 * of the range does not change.
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 * Return:
 * * %0 - The range is free (or zeroed).
 * * %-EINVAL - @offset or @len is not 4K aligned, or @len is zero.
 * * %-ERANGE - The range ends past the end of the file, or @offset + @len
 *   overflows.
 */
int hgmem_punch_hole(struct hgmem_file *f, u64 offset, u64 len)
{
	const pgoff_t nr = hgmem_huge_pages(f);
	pgoff_t start, end, from, to;
	struct hgmem_huge *hp;
	unsigned long hidx;
	int err;

	might_sleep();
	err = hgmem_range(f, offset, len, &start, &end);
	if (err)
		return err;

	hgmem_lock(f, start, end);
	xa_for_each_range(&f->huge, hidx, hp, start >> f->order,
			  (end - 1) >> f->order) {
		from = max(start, hp->base);
		to = min(end, hp->base + nr);
		if (from == hp->base && to == hp->base + nr) {
			xa_erase(&f->huge, hidx);
			hgmem_detach(f, hp);
		} else {
			hgmem_zero(f, hp, from, to);
		}
	}
	hgmem_debug_check(f, start, end);
	hgmem_unlock(f, start, end);
	return 0;
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_punch_hole, "kvm");

/**
 * hgmem_get_state() - Get the shared/private state of a page of a file.
 * @f: The file.
 * @offset: Byte offset of the page, 4K aligned.
 * @state: Where to store the state of the page.
 * @run_len: If not NULL, where to store the length in bytes of the run of
 *	pages with that state from @offset on.
 *
 * The state takes the lock of the page's huge page, and the run the lock
 * of each huge page it goes on into, one at a time: a run is a snapshot of
 * each huge page's state in turn, not of the whole file at once.
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 * Return:
 * * %0 - The state (and the run length) are stored.
 * * %-EINVAL - @offset is not 4K aligned.
 * * %-ERANGE - @offset is at or past the end of the file.
 */
int hgmem_get_state(struct hgmem_file *f, u64 offset, enum hgmem_state *state,
		    u64 *run_len)
{
	pgoff_t index = offset >> PAGE_SHIFT, last, next, next_last;
	enum hgmem_state s;

	might_sleep();
	if (!IS_ALIGNED(offset, PAGE_SIZE))
		return -EINVAL;
	if (offset >= (u64)f->nr_pages << PAGE_SHIFT)
		return -ERANGE;

	hgmem_lock(f, index, index + 1);
	*state = hgmem_state_at(f, index, &last);
	hgmem_unlock(f, index, index + 1);
	/* hgmem_state_at() stops at the end of the huge page: walk on. */
	while (run_len && last + 1 < f->nr_pages) {
		next = last + 1;
		hgmem_lock(f, next, next + 1);
		s = hgmem_state_at(f, next, &next_last);
		hgmem_unlock(f, next, next + 1);
		if (s != *state)
			break;
		last = next_last;
	}
	if (run_len)
		*run_len = (u64)(last + 1 - index) << PAGE_SHIFT;
	return 0;
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_get_state, "kvm");

/**
 * hgmem_file_stats() - Get the statistics of a file.
 * @f: The file.
 * @st: Where to store them, a consistent snapshot.
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 */
void hgmem_file_stats(struct hgmem_file *f, struct hgmem_file_stats *st)
{
	const u64 huge = (u64)PAGE_SIZE << f->order;
	const pgoff_t piece = 1UL << PMD_ORDER;
	struct hgmem_huge *hp;
	unsigned long hidx;
	pgoff_t i;

	might_sleep();
	memset(st, 0, sizeof(*st));
	hgmem_lock(f, 0, f->nr_pages);
	st->size = (u64)f->nr_pages << PAGE_SHIFT;
	st->allocated = atomic_long_read(&f->nr_huge) * huge;
	st->splits = atomic_long_read(&f->nr_splits);
	st->merges = atomic_long_read(&f->nr_merges);
	/* Counted, not kept: a shared count would be written by every conversion. */
	st->shared = (u64)hgmem_state_count(f, 0, f->nr_pages, HGMEM_SHARED) << PAGE_SHIFT;
	st->private = st->size - st->shared;
	xa_for_each(&f->huge, hidx, hp) {
		if (!hgmem_huge_is_split(hp)) {
			st->huge_mappable += huge;
			continue;
		}
		st->split_pages++;
		for (i = 0; f->order > PMD_ORDER && i < hgmem_huge_pages(f); i += piece)
			if (folio_order(hgmem_folio_at(hp, hp->base + i)))
				st->huge_mappable += (u64)PAGE_SIZE << PMD_ORDER;
	}
	hgmem_unlock(f, 0, f->nr_pages);
}
