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
 * No locking: callers serialise with their own lock (MT_FLAGS_LOCK_EXTERN).
 */
#include "maple_tree.h"

struct mt_range {
	unsigned long first, last;
	void *entry;
};

void mt_init_flags(struct maple_tree *mt, unsigned int flags)
{
	mt->ma_flags = flags;
	mt->mt_nr = mt->mt_cap = 0;
	mt->mt_ranges = NULL;
}

void mtree_destroy(struct maple_tree *mt)
{
	kfree(mt->mt_ranges);
	mt_init_flags(mt, mt->ma_flags);
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
		mtree_destroy(mt);
	return 0;
}

int mtree_store_range(struct maple_tree *mt, unsigned long first,
		      unsigned long last, void *entry, gfp_t gfp)
{
	if (first > last)
		return -EINVAL;
	return store(mt, first, last, entry, gfp, false);
}

int mtree_store(struct maple_tree *mt, unsigned long index, void *entry, gfp_t gfp)
{
	return mtree_store_range(mt, index, index, entry, gfp);
}

void *mtree_load(struct maple_tree *mt, unsigned long index)
{
	unsigned long i = first_ending_from(mt, index);

	if (i < mt->mt_nr && mt->mt_ranges[i].first <= index)
		return mt->mt_ranges[i].entry;
	return NULL;
}

void *mtree_erase(struct maple_tree *mt, unsigned long index)
{
	unsigned long i = first_ending_from(mt, index);
	struct mt_range r;

	if (i >= mt->mt_nr || mt->mt_ranges[i].first > index)
		return NULL;
	r = mt->mt_ranges[i];
	store(mt, r.first, r.last, NULL, GFP_KERNEL, true);	/* cannot allocate */
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

	mas->status = ma_active;
	return describe(mas, first_ending_from(mas->tree, index), index);
}

void *mas_find(struct ma_state *mas, unsigned long max)
{
	unsigned long start, i;

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

int mas_preallocate(struct ma_state *mas, void *entry, gfp_t gfp)
{
	struct maple_tree *mt = mas->tree;

	(void)entry;
	if (mas->index > mas->last)
		return -EINVAL;
	return mt_grow(mt, mt->mt_nr + 2, gfp);
}

void mas_store_prealloc(struct ma_state *mas, void *entry)
{
	if (WARN_ON(mas->index > mas->last))
		return;
	WARN_ON(store(mas->tree, mas->index, mas->last, entry, GFP_NOWAIT, true));
	mas->status = ma_active;
}

void mas_destroy(struct ma_state *mas)
{
	/* The preallocated room belongs to the tree; nothing to free here. */
	(void)mas;
}
