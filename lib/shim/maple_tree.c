// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: Maple Tree subset as a sorted array.
 *
 * Data structure: the tree is an array of {first, last, entry} for the
 * non-NULL ranges only, sorted by first index; ranges never overlap, and
 * gaps are implicit.  Lookups are binary searches (O(log n)); a store finds
 * the ranges it overlaps, keeps the parts of the outer two that stick out
 * and replaces the rest with at most three ranges (left remnant, new range,
 * right remnant) with one memmove (O(n)).  So a store adds at most two
 * ranges, and the array grows geometrically.  If the O(n) stores ever
 * matter, a B-tree of such arrays is the upgrade.
 *
 * Preallocation: mas_preallocate() grows the array so that it has room for
 * two more ranges; mas_store_prealloc() then cannot need memory.  The spare
 * room lives in the tree, so mas_destroy() has nothing to free.
 *
 * Locking: see maple_tree.h.  The checks report the name of the call that
 * broke the rule; they WARN and go on, as lockdep does.
 */
#include <stdio.h>

#include "maple_tree.h"

struct mt_range {
	unsigned long first, last;
	void *entry;
};

void mt_init_flags(struct maple_tree *mt, unsigned int flags)
{
	spin_lock_init(&mt->ma_lock);
	mt->ma_external_lock = NULL;
	mt->ma_flags = flags;
	mt->mt_nr = mt->mt_cap = 0;
	mt->mt_ranges = NULL;
}

static void mt_warn(const char *fn, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", fn, what);
	shim_warn(__FILE__, __LINE__, msg);
}

/* A reader (mas_walk, mas_find, mtree_load on an external-lock tree). */
static void mt_check_read(const struct maple_tree *mt, const char *fn)
{
	if (mt_external_lock(mt) && !mt_lock_is_held(mt))
		mt_warn(fn, "the tree's external lock is not held by this thread");
}

/* A writer of the advanced API: the kernel's mt_write_locked(). */
static void mt_check_write(const struct maple_tree *mt, const char *fn)
{
	if (mt_external_lock(mt)) {
		if (!mt_write_lock_is_held(mt))
			mt_warn(fn, "the tree's external lock is not held by this thread");
	} else if (!lockdep_is_held(&mt->ma_lock)) {
		mt_warn(fn, "the tree's lock (mtree_lock) is not held by this thread");
	}
}

/*
 * The normal API's writers take ma_lock themselves.  On an external-lock
 * tree that is a bug: WARN and go on unlocked.  Returns whether it locked.
 */
static bool mt_lock_internal(struct maple_tree *mt, const char *fn)
{
	if (mt_external_lock(mt)) {
		mt_warn(fn, "takes the internal lock of an MT_FLAGS_LOCK_EXTERN tree");
		return false;
	}
	mtree_lock(mt);
	return true;
}

static void mt_unlock_internal(struct maple_tree *mt, bool locked)
{
	if (locked)
		mtree_unlock(mt);
}

static void mt_free_ranges(struct maple_tree *mt)
{
	kfree(mt->mt_ranges);
	mt->mt_nr = mt->mt_cap = 0;
	mt->mt_ranges = NULL;
}

void __mt_destroy(struct maple_tree *mt)
{
	mt_check_write(mt, "__mt_destroy");
	mt_free_ranges(mt);
}

void mtree_destroy(struct maple_tree *mt)
{
	bool locked = mt_lock_internal(mt, "mtree_destroy");

	mt_free_ranges(mt);
	mt_unlock_internal(mt, locked);
}

unsigned long shim_mt_nr_ranges(struct maple_tree *mt)
{
	return mt->mt_nr;
}

/* Position of the first range ending at or after @index (mt_nr if none). */
static unsigned long first_ending_from(const struct maple_tree *mt,
				       unsigned long index)
{
	unsigned long lo = 0, hi = mt->mt_nr;

	while (lo < hi) {
		unsigned long mid = lo + (hi - lo) / 2;

		if (mt->mt_ranges[mid].last < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Position of the first range starting after @index (mt_nr if none). */
static unsigned long first_starting_after(const struct maple_tree *mt,
					  unsigned long index)
{
	unsigned long lo = 0, hi = mt->mt_nr;

	while (lo < hi) {
		unsigned long mid = lo + (hi - lo) / 2;

		if (mt->mt_ranges[mid].first <= index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Make room for @need ranges; the tree is unchanged on failure. */
static int mt_grow(struct maple_tree *mt, unsigned long need, gfp_t gfp)
{
	unsigned long cap = mt->mt_cap ? mt->mt_cap : 4;
	struct mt_range *ranges;

	if (need <= mt->mt_cap)
		return 0;
	while (cap < need)
		cap = cap > ULONG_MAX / 2 ? need : cap * 2;
	ranges = kcalloc(cap, sizeof(*ranges), gfp);
	if (!ranges)
		return -ENOMEM;
	if (mt->mt_nr)
		memcpy(ranges, mt->mt_ranges, mt->mt_nr * sizeof(*ranges));
	kfree(mt->mt_ranges);
	mt->mt_ranges = ranges;
	mt->mt_cap = cap;
	return 0;
}

/*
 * Overwrite [first, last] with @entry.  With @prealloc the caller promised
 * room (mas_preallocate), so needing to grow is a bug.
 */
static int store(struct maple_tree *mt, unsigned long first, unsigned long last,
		 void *entry, gfp_t gfp, bool prealloc)
{
	unsigned long i = first_ending_from(mt, first);
	unsigned long j = first_starting_after(mt, last);
	struct mt_range add[3], *r;
	unsigned long n = 0, nr;

	/* Ranges i .. j-1 overlap [first, last]. */
	r = mt->mt_ranges;
	if (i < j && r[i].first < first)
		add[n++] = (struct mt_range){ r[i].first, first - 1, r[i].entry };
	if (entry)
		add[n++] = (struct mt_range){ first, last, entry };
	if (i < j && r[j - 1].last > last)
		add[n++] = (struct mt_range){ last + 1, r[j - 1].last, r[j - 1].entry };

	nr = mt->mt_nr - (j - i) + n;
	if (nr > mt->mt_cap) {
		WARN_ON(prealloc);
		if (mt_grow(mt, nr, gfp))
			return -ENOMEM;
		r = mt->mt_ranges;
	}
	if (i + n != j && mt->mt_nr > j)
		memmove(&r[i + n], &r[j], (mt->mt_nr - j) * sizeof(*r));
	if (n)
		memcpy(&r[i], add, n * sizeof(*r));
	mt->mt_nr = nr;
	if (!nr)
		mt_free_ranges(mt);
	return 0;
}

int mtree_store_range(struct maple_tree *mt, unsigned long first,
		      unsigned long last, void *entry, gfp_t gfp)
{
	bool locked;
	int ret;

	if (first > last)
		return -EINVAL;
	locked = mt_lock_internal(mt, "mtree_store_range");
	ret = store(mt, first, last, entry, gfp, false);
	mt_unlock_internal(mt, locked);
	return ret;
}

int mtree_store(struct maple_tree *mt, unsigned long index, void *entry, gfp_t gfp)
{
	bool locked = mt_lock_internal(mt, "mtree_store");
	int ret = store(mt, index, index, entry, gfp, false);

	mt_unlock_internal(mt, locked);
	return ret;
}

/*
 * The kernel's mtree_load() is an RCU reader.  The shim's readers need the
 * tree's lock instead: the caller's, on an external-lock tree, else
 * ma_lock, taken here unless this thread holds it already.
 */
void *mtree_load(struct maple_tree *mt, unsigned long index)
{
	bool locked = false;
	unsigned long i;
	void *entry = NULL;

	if (mt_external_lock(mt)) {
		mt_check_read(mt, "mtree_load");
	} else if (!lockdep_is_held(&mt->ma_lock)) {
		mtree_lock(mt);
		locked = true;
	}
	i = first_ending_from(mt, index);
	if (i < mt->mt_nr && mt->mt_ranges[i].first <= index)
		entry = mt->mt_ranges[i].entry;
	mt_unlock_internal(mt, locked);
	return entry;
}

void *mtree_erase(struct maple_tree *mt, unsigned long index)
{
	bool locked = mt_lock_internal(mt, "mtree_erase");
	unsigned long i = first_ending_from(mt, index);
	struct mt_range r = { 0 };

	if (i < mt->mt_nr && mt->mt_ranges[i].first <= index) {
		r = mt->mt_ranges[i];
		store(mt, r.first, r.last, NULL, GFP_KERNEL, true);	/* cannot allocate */
	}
	mt_unlock_internal(mt, locked);
	return r.entry;
}

/* Set mas->index/last to the range or gap at position @i for @index. */
static void *describe(struct ma_state *mas, unsigned long i, unsigned long index)
{
	struct maple_tree *mt = mas->tree;

	if (i < mt->mt_nr && mt->mt_ranges[i].first <= index) {
		mas->index = mt->mt_ranges[i].first;
		mas->last = mt->mt_ranges[i].last;
		return mt->mt_ranges[i].entry;
	}
	mas->index = i ? mt->mt_ranges[i - 1].last + 1 : 0;
	mas->last = i < mt->mt_nr ? mt->mt_ranges[i].first - 1 : ULONG_MAX;
	return NULL;
}

void *mas_walk(struct ma_state *mas)
{
	unsigned long index = mas->index;

	mt_check_read(mas->tree, "mas_walk");
	mas->status = ma_active;
	return describe(mas, first_ending_from(mas->tree, index), index);
}

void *mas_find(struct ma_state *mas, unsigned long max)
{
	unsigned long start, i;

	mt_check_read(mas->tree, "mas_find");
	switch (mas->status) {
	case ma_start:
		if (mas->index > max)
			return NULL;
		start = mas->index;
		break;
	case ma_overflow:	/* parked on a gap that reaches at least the old max */
		if (mas->last >= max)
			return NULL;
		start = mas->index;
		break;
	default:		/* ma_active, ma_pause: continue after the last range */
		if (mas->last >= max)
			return NULL;
		start = mas->last + 1;
		break;
	}
	i = first_ending_from(mas->tree, start);
	if (i < mas->tree->mt_nr && mas->tree->mt_ranges[i].first <= max) {
		mas->status = ma_active;
		return describe(mas, i, mas->tree->mt_ranges[i].first);
	}
	/* Nothing up to max: describe the gap containing start. */
	mas->status = ma_overflow;
	return describe(mas, i, start);
}

int mas_store_gfp(struct ma_state *mas, void *entry, gfp_t gfp)
{
	int ret;

	mt_check_write(mas->tree, "mas_store_gfp");
	if (WARN_ON(mas->index > mas->last))
		return -EINVAL;
	ret = store(mas->tree, mas->index, mas->last, entry, gfp, false);
	mas->status = ret ? ma_start : ma_active;
	return ret;
}

int mas_preallocate(struct ma_state *mas, void *entry, gfp_t gfp)
{
	struct maple_tree *mt = mas->tree;

	(void)entry;
	mt_check_write(mt, "mas_preallocate");
	if (mas->index > mas->last)
		return -EINVAL;
	return mt_grow(mt, mt->mt_nr + 2, gfp);
}

void mas_store_prealloc(struct ma_state *mas, void *entry)
{
	mt_check_write(mas->tree, "mas_store_prealloc");
	if (WARN_ON(mas->index > mas->last))
		return;
	WARN_ON(store(mas->tree, mas->index, mas->last, entry, GFP_NOWAIT, true));
	mas->status = ma_active;
}

void mas_destroy(struct ma_state *mas)
{
	/*
	 * The preallocated room belongs to the tree; nothing to free here.
	 * The kernel's frees only the ma_state's own nodes, so no lock is
	 * needed, and none is checked.
	 */
	(void)mas;
}
