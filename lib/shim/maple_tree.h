/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: a subset of the kernel's Maple Tree API (see
 * Documentation/core-api/maple_tree.rst) — a map from non-overlapping
 * ranges [first, last] of unsigned long to non-NULL entries, with NULL
 * meaning "gap".  Provided: mt_init*, mtree_load/store/store_range/erase,
 * mtree_destroy/empty and the ma_state calls mas_walk, mas_find,
 * mas_for_each, mas_preallocate, mas_store_prealloc, mas_destroy.
 *
 * No locking at all: the caller serialises every call on a tree with its
 * own lock (the kernel's MT_FLAGS_LOCK_EXTERN mode), also for readers.
 * Adjacent ranges holding the same entry are not merged (nor are they by
 * the kernel).  Stores that do not add ranges (overwriting exactly one
 * existing range, storing NULL) never allocate and so never fail.
 */
#ifndef GUESTMEM_SHIM_MAPLE_TREE_H
#define GUESTMEM_SHIM_MAPLE_TREE_H

#include "kernel.h"
#include "slab.h"

#define MT_FLAGS_LOCK_EXTERN	0x300

struct mt_range;

struct maple_tree {
	unsigned int ma_flags;		/* stored, otherwise ignored */
	/* private: sorted array of the non-NULL ranges */
	unsigned long mt_nr, mt_cap;
	struct mt_range *mt_ranges;
};

#define MTREE_INIT(name, flags)	{ .ma_flags = (flags) }
#define DEFINE_MTREE(name)	struct maple_tree name = MTREE_INIT(name, 0)
#define mt_set_external_lock(mt, lock)	do { (void)(mt); (void)(lock); } while (0)

void mt_init_flags(struct maple_tree *mt, unsigned int flags);

static inline void mt_init(struct maple_tree *mt)
{
	mt_init_flags(mt, 0);
}

static inline bool mtree_empty(const struct maple_tree *mt)
{
	return mt->mt_nr == 0;
}

void *mtree_load(struct maple_tree *mt, unsigned long index);
int mtree_store_range(struct maple_tree *mt, unsigned long first,
		      unsigned long last, void *entry, gfp_t gfp);
int mtree_store(struct maple_tree *mt, unsigned long index, void *entry, gfp_t gfp);
/* Remove the whole range containing @index; returns its entry. */
void *mtree_erase(struct maple_tree *mt, unsigned long index);
void mtree_destroy(struct maple_tree *mt);
/* Number of stored (non-NULL) ranges; not a kernel API. */
unsigned long shim_mt_nr_ranges(struct maple_tree *mt);

enum maple_status {
	ma_active,	/* index/last describe the range or gap last returned */
	ma_start,	/* index/last were set by the caller */
	ma_pause,	/* mas_pause(): resume after last */
	ma_overflow,	/* mas_find() ran past max; index/last describe a gap */
};

struct ma_state {
	struct maple_tree *tree;
	unsigned long index;
	unsigned long last;
	/* private: */
	enum maple_status status;
};

#define MA_STATE(name, mt, first, end)					\
	struct ma_state name = {					\
		.tree = (mt),						\
		.index = (first),					\
		.last = (end),						\
		.status = ma_start,					\
	}

static inline void mas_reset(struct ma_state *mas)
{
	mas->status = ma_start;
}

static inline void mas_set_range(struct ma_state *mas, unsigned long first,
				 unsigned long last)
{
	mas->index = first;
	mas->last = last;
	mas_reset(mas);
}

static inline void mas_set(struct ma_state *mas, unsigned long index)
{
	mas_set_range(mas, index, index);
}

static inline void mas_pause(struct ma_state *mas)
{
	mas->status = ma_pause;
}

void *mas_walk(struct ma_state *mas);
void *mas_find(struct ma_state *mas, unsigned long max);
int mas_preallocate(struct ma_state *mas, void *entry, gfp_t gfp);
void mas_store_prealloc(struct ma_state *mas, void *entry);
void mas_destroy(struct ma_state *mas);

#define mas_for_each(__mas, __entry, __max)				\
	while (((__entry) = mas_find((__mas), (__max))) != NULL)

#endif /* GUESTMEM_SHIM_MAPLE_TREE_H */
