// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: the shared/private state of every 4K page.
 *
 * The state is a maple tree of ranges covering the whole file.  Every store
 * is widened over equal neighbours, so adjacent ranges always differ and the
 * tree holds one range per run of equal state.  Queries can take a pending
 * conversion into account, which lets a conversion plan its splits against
 * the state it is about to create before changing anything.
 *
 * The tree's lock is the file's f->state_lock (MT_FLAGS_LOCK_EXTERN): it
 * is only used with that held, as lockdep checks, and only written through
 * the advanced API.  The normal API's writers (mtree_store_range(),
 * mtree_destroy(), ...) must not be used on it: they take the tree's
 * internal spinlock, whose storage an external-lock tree uses for its
 * lock's lockdep map.  The functions here require f->state_lock, except
 * hgmem_state_at() and hgmem_uniform_state(), which take it.
 */
#include "guestmem_internal.h"

/*
 * Fill the empty state tree of @f with @init for the whole file.
 * Returns 0 or -ENOMEM.  Caller holds f->state_lock; may sleep.
 */
int hgmem_state_init(struct hgmem_file *f, enum hgmem_state init)
{
	MA_STATE(mas, &f->state, 0, f->nr_pages - 1);

	lockdep_assert_held(&f->state_lock);
	f->nr_shared = init == HGMEM_SHARED ? f->nr_pages : 0;
	return mas_store_gfp(&mas, xa_mk_value(init), GFP_KERNEL);
}

/* Free the state tree of @f.  Caller holds f->state_lock. */
void hgmem_state_destroy(struct hgmem_file *f)
{
	lockdep_assert_held(&f->state_lock);
	__mt_destroy(&f->state);
}

/* State of page @index; *last is set to the last page of its run.  Caller holds f->state_lock. */
enum hgmem_state __hgmem_state_at(struct hgmem_file *f, pgoff_t index, pgoff_t *last)
{
	MA_STATE(mas, &f->state, index, index);
	void *entry;

	lockdep_assert_held(&f->state_lock);
	entry = mas_walk(&mas);
	*last = mas.last;
	return xa_to_value(entry);
}

/* __hgmem_state_at() for a caller not holding f->state_lock.  May sleep. */
enum hgmem_state hgmem_state_at(struct hgmem_file *f, pgoff_t index, pgoff_t *last)
{
	enum hgmem_state state;

	mutex_lock(&f->state_lock);
	state = __hgmem_state_at(f, index, last);
	mutex_unlock(&f->state_lock);
	return state;
}

/* Number of pages in [start, end) of @f in state @state.  Caller holds f->state_lock. */
pgoff_t hgmem_state_count(struct hgmem_file *f, pgoff_t start, pgoff_t end,
			  enum hgmem_state state)
{
	MA_STATE(mas, &f->state, start, start);
	pgoff_t n = 0;
	void *entry;

	lockdep_assert_held(&f->state_lock);
	mas_for_each(&mas, entry, end - 1)
		if (xa_to_value(entry) == state)
			n += min(mas.last + 1, end) - max(mas.index, start);
	return n;
}

/*
 * If pages [first, first + nr) all have the same state once @c (may be
 * NULL) is applied, return that state, else -1.  Caller holds f->state_lock.
 */
int __hgmem_uniform_state(struct hgmem_file *f, pgoff_t first, pgoff_t nr,
			  const struct hgmem_conv *c)
{
	pgoff_t i = first, last = first + nr - 1, run_end;
	int state = -1, s;

	lockdep_assert_held(&f->state_lock);
	while (i <= last) {
		if (c && i >= c->start && i < c->end) {
			s = c->to;
			run_end = c->end - 1;
		} else {
			s = __hgmem_state_at(f, i, &run_end);
			if (c && i < c->start)
				run_end = min(run_end, c->start - 1);
		}
		if (state >= 0 && s != state)
			return -1;
		state = s;
		if (run_end >= last)
			break;
		i = run_end + 1;
	}
	return state;
}

/* __hgmem_uniform_state() for a caller not holding f->state_lock.  May sleep. */
int hgmem_uniform_state(struct hgmem_file *f, pgoff_t first, pgoff_t nr,
			const struct hgmem_conv *c)
{
	int state;

	mutex_lock(&f->state_lock);
	state = __hgmem_uniform_state(f, first, nr, c);
	mutex_unlock(&f->state_lock);
	return state;
}

/*
 * Preallocate the store of @c, widened over neighbours already in state
 * c->to.  The store itself (hgmem_state_commit()) then cannot fail.
 * Returns 0 or -ENOMEM.  Caller holds f->state_lock, and keeps holding it until
 * it commits the store or gives up with mas_destroy(); may sleep.
 */
int hgmem_state_prepare(struct hgmem_file *f, struct ma_state *mas,
			const struct hgmem_conv *c)
{
	pgoff_t first = c->start, last = c->end - 1, run_last;

	lockdep_assert_held(&f->state_lock);
	if (first > 0) {
		MA_STATE(left, &f->state, first - 1, first - 1);

		if (xa_to_value(mas_walk(&left)) == c->to)
			first = left.index;
	}
	if (last + 1 < f->nr_pages &&
	    __hgmem_state_at(f, last + 1, &run_last) == c->to)
		last = run_last;

	mas_set_range(mas, first, last);
	return mas_preallocate(mas, xa_mk_value(c->to), GFP_KERNEL);
}

/*
 * Store @c as prepared in @mas by hgmem_state_prepare(); the store frees
 * what it did not use of the preallocation.  Caller holds f->state_lock.
 */
void hgmem_state_commit(struct hgmem_file *f, struct ma_state *mas,
			const struct hgmem_conv *c)
{
	pgoff_t changing;

	lockdep_assert_held(&f->state_lock);
	changing = hgmem_state_count(f, c->start, c->end,
				     c->to == HGMEM_SHARED ? HGMEM_PRIVATE : HGMEM_SHARED);
	mas_store_prealloc(mas, xa_mk_value(c->to));
	if (c->to == HGMEM_SHARED)
		f->nr_shared += changing;
	else
		f->nr_shared -= changing;
}
