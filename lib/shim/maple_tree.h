/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: a subset of the kernel's Maple Tree API (see
 * Documentation/core-api/maple_tree.rst) — a map from non-overlapping
 * ranges [first, last] of unsigned long to non-NULL entries, with NULL
 * meaning "gap".  Provided: mt_init*, mtree_load/store/store_range/erase,
 * mtree_destroy/empty, __mt_destroy, mtree_lock/unlock, and the ma_state
 * calls mas_walk, mas_find, mas_for_each, mas_store_gfp, mas_preallocate,
 * mas_store_prealloc, mas_destroy.
 *
 * Locking follows the kernel's rules, and the shim checks them the way
 * lockdep does in the kernel (mt_locked(), mt_write_locked() in
 * lib/maple_tree.c), with a WARN naming the call:
 *
 *  - A tree initialised with MT_FLAGS_LOCK_EXTERN is protected by the
 *    caller's lock, recorded by mt_set_external_lock().  Every mas_* call that reads or writes the tree,
 *    mtree_load() and __mt_destroy() require the calling thread to hold
 *    it.  Readers too: the shim, like a kernel tree not in RCU mode, has no
 *    lockless readers.  Without a recorded lock nothing is checked, as in
 *    the kernel.
 *  - The normal API that takes the internal lock itself (mtree_store,
 *    mtree_store_range, mtree_erase, mtree_destroy) must not be used on
 *    such a tree: in the kernel it spins on ma_lock, which shares storage
 *    with the external lock's lockdep map.  The shim WARNs and goes on
 *    without the internal lock.
 *  - Any other tree uses its internal lock, ma_lock: the mtree_* calls take
 *    it, and the mas_* writers (mas_store_gfp, mas_preallocate,
 *    mas_store_prealloc) and __mt_destroy() require the caller to hold it
 *    (mtree_lock()).  The kernel lets mas_* readers run under RCU instead;
 *    the shim has no RCU and does not check them.
 *
 * mas_destroy() and the ma_state helpers (mas_set, mas_pause, ...) touch
 * only the ma_state and need no lock.
 *
 * Adjacent ranges holding the same entry are not merged (nor are they by
 * the kernel).  The tree is a B+tree of ranges (maple_tree.c says how it
 * works): O(log n) per lookup and store.  Only stores that add ranges
 * allocate: a root leaf in an empty tree, or, when the leaf is full, a
 * node per split from the leaf up, plus a new root.  Stores that add none
 * (overwriting whole ranges, storing NULL other than strictly inside a
 * range) never allocate and so never fail.  mas_preallocate() puts the
 * nodes the store will need in the ma_state; mas_store_prealloc() uses
 * them and frees the rest, as mas_destroy() does when the caller gives up.
 */
#ifndef GUESTMEM_SHIM_MAPLE_TREE_H
#define GUESTMEM_SHIM_MAPLE_TREE_H

#include "kernel.h"
#include "slab.h"

#define MT_FLAGS_LOCK_MASK	0x300
#define MT_FLAGS_LOCK_EXTERN	0x300

struct mt_node;
struct mt_leaf;
union mt_any;

struct maple_tree {
	/*
	 * The kernel keeps these two in a union; apart, the shim can report
	 * the internal lock's use on an external-lock tree instead of
	 * corrupting the record of the external one.
	 */
	spinlock_t ma_lock;			/* unless MT_FLAGS_LOCK_EXTERN */
	struct lockdep_map *ma_external_lock;	/* with MT_FLAGS_LOCK_EXTERN */
	unsigned int ma_flags;
	/* private: a B+tree of the non-NULL ranges (maple_tree.c) */
	struct mt_node *mt_root;
	unsigned long mt_nr;		/* ranges */
	unsigned long mt_height;	/* levels of nodes, 0 when empty */
	unsigned long mt_seq;		/* bumped by every change */
};

#define MTREE_INIT(name, flags)	{					\
	.ma_lock = __SPIN_LOCK_UNLOCKED((name).ma_lock),		\
	.ma_flags = (flags),						\
}
#define DEFINE_MTREE(name)	struct maple_tree name = MTREE_INIT(name, 0)

/* Any lock with a dep_map: struct mutex, spinlock_t. */
#define mt_set_external_lock(mt, lock)	((mt)->ma_external_lock = &(lock)->dep_map)
#define mt_lock_is_held(mt)						\
	(!(mt)->ma_external_lock || lock_is_held((mt)->ma_external_lock))

#define mtree_lock(mt)		spin_lock(&(mt)->ma_lock)
#define mtree_unlock(mt)	spin_unlock(&(mt)->ma_lock)

static inline bool mt_external_lock(const struct maple_tree *mt)
{
	return (mt->ma_flags & MT_FLAGS_LOCK_MASK) == MT_FLAGS_LOCK_EXTERN;
}

void mt_init_flags(struct maple_tree *mt, unsigned int flags);

static inline void mt_init(struct maple_tree *mt)
{
	mt_init_flags(mt, 0);
}

static inline bool mtree_empty(const struct maple_tree *mt)
{
	return !mt->mt_root;
}

void *mtree_load(struct maple_tree *mt, unsigned long index);
int mtree_store_range(struct maple_tree *mt, unsigned long first,
		      unsigned long last, void *entry, gfp_t gfp);
int mtree_store(struct maple_tree *mt, unsigned long index, void *entry, gfp_t gfp);
/* Remove the whole range containing @index; returns its entry. */
void *mtree_erase(struct maple_tree *mt, unsigned long index);
void mtree_destroy(struct maple_tree *mt);
/* mtree_destroy() for a caller that holds the tree's lock. */
void __mt_destroy(struct maple_tree *mt);
/* Number of stored (non-NULL) ranges; not a kernel API, and takes no lock. */
unsigned long shim_mt_nr_ranges(struct maple_tree *mt);
/* Height of the tree (0 when empty), for tests of its balance; takes no lock. */
unsigned long shim_mt_height(struct maple_tree *mt);
/* Bytes of one node (every node is one kmalloc of this size). */
size_t shim_mt_node_bytes(void);
/* NULL if every invariant of the tree holds, else what is broken; takes no lock. */
const char *shim_mt_validate(struct maple_tree *mt);

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
	union mt_any *alloc;	/* mas_preallocate()'s nodes, until used or destroyed */
	/*
	 * The range after the one (or the gap) last described, for mas_find()
	 * to go on from while mt_seq is still seq.
	 */
	struct mt_leaf *node;
	unsigned int offset;
	unsigned long seq;
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
/* Store @entry over [mas->index, mas->last]: 0, -EINVAL or -ENOMEM (nothing changed). */
int mas_store_gfp(struct ma_state *mas, void *entry, gfp_t gfp);
int mas_preallocate(struct ma_state *mas, void *entry, gfp_t gfp);
void mas_store_prealloc(struct ma_state *mas, void *entry);
void mas_destroy(struct ma_state *mas);

#define mas_for_each(__mas, __entry, __max)				\
	while (((__entry) = mas_find((__mas), (__max))) != NULL)

#endif /* GUESTMEM_SHIM_MAPLE_TREE_H */
