// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: Maple Tree subset as a treap of ranges.
 *
 * Data structure: one node {first, last, entry} per non-NULL range, in a
 * binary search tree ordered by first index; ranges never overlap, and gaps
 * are implicit.  The tree is a treap: every node's priority, a bijective
 * hash of its address, is at least its children's, which keeps the
 * expected depth O(log n) whatever order the ranges come in.  Two
 * primitives do all the writing: split (one tree into the nodes starting
 * before a key and the rest) and merge (two trees, all keys of the first
 * below all keys of the second, into one).  A store over [first, last]
 * splits the tree into A (ranges starting before first), M (starting in
 * [first, last]) and C (starting after last); trims the last range of A,
 * moving what sticks out past last into a new node at the front of C; moves
 * the last range of M, if it sticks out past last, to the front of C with
 * first = last + 1; frees the rest of M (reusing one of its nodes for the
 * new range) and merges A, the new range and C back.  Each step is
 * O(log n) expected, plus O(1) per range removed.  Readers do one descent
 * that finds the last range starting at or before an index and the first
 * starting after it.
 *
 * Memory: one 40-byte node per range (sizeof(struct mt_node)), no
 * per-tree arrays.
 *
 * Preallocation: a store needs at most two new nodes, and which it needs
 * depends only on the tree and [first, last] (mt_store_need()).
 * mas_preallocate() allocates exactly those into the ma_state, under the
 * tree's lock, so the store that follows under the same lock cannot need
 * more; mas_store_prealloc() uses them and frees the rest.  Plain stores
 * allocate what they need before changing anything, so a failure changes
 * nothing.
 *
 * Locking: see maple_tree.h.  The checks report the name of the call that
 * broke the rule; they WARN and go on, as lockdep does.
 */
#include <stdint.h>
#include <stdio.h>

#include "maple_tree.h"

struct mt_node {
	unsigned long first, last;
	void *entry;
	struct mt_node *child[2];	/* [0]: ranges before, [1]: after */
};

/* The node's treap priority: a bijection, so distinct nodes never tie. */
static inline uint64_t mt_prio(const struct mt_node *n)
{
	uint64_t z = (uint64_t)(uintptr_t)n;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Split @t into the nodes starting before @key (*lo) and the rest (*hi). */
static void mt_split(struct mt_node *t, unsigned long key,
		     struct mt_node **lo, struct mt_node **hi)
{
	while (t) {
		if (t->first < key) {
			*lo = t;
			lo = &t->child[1];
			t = t->child[1];
		} else {
			*hi = t;
			hi = &t->child[0];
			t = t->child[0];
		}
	}
	*lo = *hi = NULL;
}

/* Merge @a and @b, every key of @a below every key of @b. */
static struct mt_node *mt_merge(struct mt_node *a, struct mt_node *b)
{
	struct mt_node *root, **link = &root;

	while (a && b) {
		if (mt_prio(a) >= mt_prio(b)) {
			*link = a;
			link = &a->child[1];
			a = a->child[1];
		} else {
			*link = b;
			link = &b->child[0];
			b = b->child[0];
		}
	}
	*link = a ? a : b;
	return root;
}

/* Unlink and return the last node of *@t (NULL if empty). */
static struct mt_node *mt_pop_last(struct mt_node **t)
{
	struct mt_node *n;

	if (!*t)
		return NULL;
	while ((*t)->child[1])
		t = &(*t)->child[1];
	n = *t;
	*t = n->child[0];
	n->child[0] = NULL;
	return n;
}

static struct mt_node *mt_last(struct mt_node *t)
{
	while (t && t->child[1])
		t = t->child[1];
	return t;
}

/* Free every node of @t; returns how many. */
static unsigned long mt_free_tree(struct mt_node *t)
{
	unsigned long n = 0;

	while (t) {
		struct mt_node *l = t->child[0];

		if (l) {	/* rotate right: the left child goes up */
			t->child[0] = l->child[1];
			l->child[1] = t;
			t = l;
		} else {
			l = t->child[1];
			kfree(t);
			n++;
			t = l;
		}
	}
	return n;
}

/*
 * The last range starting at or before @index (*prev) and the first
 * starting after it (*next); either may be NULL.
 */
static void mt_around(const struct maple_tree *mt, unsigned long index,
		      struct mt_node **prev, struct mt_node **next)
{
	struct mt_node *t = mt->mt_root;

	*prev = *next = NULL;
	while (t) {
		if (t->first <= index) {
			*prev = t;
			t = t->child[1];
		} else {
			*next = t;
			t = t->child[0];
		}
	}
}

/* Nodes the store of @entry over [first, last] must allocate: 0, 1 or 2. */
static unsigned int mt_store_need(const struct maple_tree *mt, unsigned long first,
				  unsigned long last, const void *entry)
{
	struct mt_node *prev, *next, *c;
	unsigned int need = 0;
	bool covers = false;

	mt_around(mt, first, &prev, &next);
	/* A range strictly around [first, last]: its right remnant is new. */
	if (prev && prev->first < first && prev->last > last)
		need++;
	/* The first range starting in [first, last], if it ends there too, is reused. */
	c = prev && prev->first == first ? prev : next;
	if (c && c->first <= last && c->last <= last)
		covers = true;
	if (entry && !covers)
		need++;
	return need;
}

/* Free a list of spare nodes (linked through child[0]). */
static void mt_free_list(struct mt_node *list)
{
	while (list) {
		struct mt_node *n = list;

		list = n->child[0];
		kfree(n);
	}
}

static unsigned int mt_list_len(const struct mt_node *list)
{
	unsigned int n = 0;

	for (; list; list = list->child[0])
		n++;
	return n;
}

/* Grow *@list to @need nodes; on failure free the whole list. */
static int mt_list_fill(struct mt_node **list, unsigned int need, gfp_t gfp)
{
	unsigned int have = mt_list_len(*list);

	for (; have < need; have++) {
		struct mt_node *n = kmalloc(sizeof(*n), gfp);

		if (!n) {
			mt_free_list(*list);
			*list = NULL;
			return -ENOMEM;
		}
		n->child[0] = *list;
		*list = n;
	}
	return 0;
}

static struct mt_node *mt_list_take(struct mt_node **list)
{
	struct mt_node *n = *list;

	*list = n->child[0];
	return n;
}

static struct mt_node *mt_node_init(struct mt_node *n, unsigned long first,
				    unsigned long last, void *entry)
{
	*n = (struct mt_node){ .first = first, .last = last, .entry = entry };
	return n;
}

/*
 * Overwrite [first, last] with @entry, taking new nodes from *@spare,
 * which holds at least mt_store_need() of them.  Cannot fail.
 */
static void mt_store_nodes(struct maple_tree *mt, unsigned long first,
			   unsigned long last, void *entry, struct mt_node **spare)
{
	struct mt_node *a, *m, *c, *n, *new = NULL;
	unsigned long orig;

	mt_split(mt->mt_root, first, &a, &m);
	if (last == ULONG_MAX)
		c = NULL;
	else
		mt_split(m, last + 1, &m, &c);

	/* Trim the range starting before first; keep what sticks out past last. */
	n = mt_last(a);
	if (n && n->last >= first) {
		orig = n->last;
		n->last = first - 1;
		if (orig > last) {	/* then m is empty */
			struct mt_node *rem = mt_list_take(spare);

			c = mt_merge(mt_node_init(rem, last + 1, orig, n->entry), c);
			mt->mt_nr++;
		}
	}
	/* The last range starting in [first, last] may stick out past last. */
	n = mt_last(m);
	if (n && n->last > last) {
		mt_pop_last(&m);
		n->first = last + 1;
		c = mt_merge(n, c);
	}
	/* Everything left in m is covered. */
	if (entry) {
		new = mt_pop_last(&m);
		if (new)
			mt->mt_nr--;
		else
			new = mt_list_take(spare);
		mt_node_init(new, first, last, entry);
		mt->mt_nr++;
	}
	mt->mt_nr -= mt_free_tree(m);
	mt->mt_root = mt_merge(mt_merge(a, new), c);
}

/* A store with its own allocation: all or nothing. */
static int mt_store(struct maple_tree *mt, unsigned long first, unsigned long last,
		    void *entry, gfp_t gfp)
{
	struct mt_node *spare = NULL;

	if (mt_list_fill(&spare, mt_store_need(mt, first, last, entry), gfp))
		return -ENOMEM;
	mt_store_nodes(mt, first, last, entry, &spare);
	mt_free_list(spare);
	return 0;
}

void mt_init_flags(struct maple_tree *mt, unsigned int flags)
{
	spin_lock_init(&mt->ma_lock);
	mt->ma_external_lock = NULL;
	mt->ma_flags = flags;
	mt->mt_root = NULL;
	mt->mt_nr = 0;
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
		if (!mt_lock_is_held(mt))
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
	mt_free_tree(mt->mt_root);
	mt->mt_root = NULL;
	mt->mt_nr = 0;
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

static unsigned long mt_height(const struct mt_node *t)
{
	unsigned long l, r;

	if (!t)
		return 0;
	l = mt_height(t->child[0]);
	r = mt_height(t->child[1]);
	return 1 + (l > r ? l : r);
}

unsigned long shim_mt_height(struct maple_tree *mt)
{
	return mt_height(mt->mt_root);
}

int mtree_store_range(struct maple_tree *mt, unsigned long first,
		      unsigned long last, void *entry, gfp_t gfp)
{
	bool locked;
	int ret;

	if (first > last)
		return -EINVAL;
	locked = mt_lock_internal(mt, "mtree_store_range");
	ret = mt_store(mt, first, last, entry, gfp);
	mt_unlock_internal(mt, locked);
	return ret;
}

int mtree_store(struct maple_tree *mt, unsigned long index, void *entry, gfp_t gfp)
{
	bool locked = mt_lock_internal(mt, "mtree_store");
	int ret = mt_store(mt, index, index, entry, gfp);

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
	struct mt_node *prev, *next;
	bool locked = false;
	void *entry = NULL;

	if (mt_external_lock(mt)) {
		mt_check_read(mt, "mtree_load");
	} else if (!lockdep_is_held(&mt->ma_lock)) {
		mtree_lock(mt);
		locked = true;
	}
	mt_around(mt, index, &prev, &next);
	if (prev && prev->last >= index)
		entry = prev->entry;
	mt_unlock_internal(mt, locked);
	return entry;
}

void *mtree_erase(struct maple_tree *mt, unsigned long index)
{
	bool locked = mt_lock_internal(mt, "mtree_erase");
	struct mt_node *prev, *next, *none = NULL;
	void *entry = NULL;

	mt_around(mt, index, &prev, &next);
	if (prev && prev->last >= index) {
		entry = prev->entry;
		/* Storing NULL over exactly one range needs no node. */
		mt_store_nodes(mt, prev->first, prev->last, NULL, &none);
	}
	mt_unlock_internal(mt, locked);
	return entry;
}

/*
 * Set mas->index/last to the range @prev if it contains @index, else to
 * the gap between @prev and @next (mt_around() of @index).
 */
static void *describe(struct ma_state *mas, const struct mt_node *prev,
		      const struct mt_node *next, unsigned long index)
{
	if (prev && prev->last >= index) {
		mas->index = prev->first;
		mas->last = prev->last;
		return prev->entry;
	}
	mas->index = prev ? prev->last + 1 : 0;
	mas->last = next ? next->first - 1 : ULONG_MAX;
	return NULL;
}

void *mas_walk(struct ma_state *mas)
{
	struct mt_node *prev, *next;

	mt_check_read(mas->tree, "mas_walk");
	mas->status = ma_active;
	mt_around(mas->tree, mas->index, &prev, &next);
	return describe(mas, prev, next, mas->index);
}

void *mas_find(struct ma_state *mas, unsigned long max)
{
	struct mt_node *prev, *next, *r;
	unsigned long start;

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
	/* start <= max here.  The first range ending at or after start: */
	mt_around(mas->tree, start, &prev, &next);
	r = prev && prev->last >= start ? prev : next;
	if (r && r->first <= max) {
		mas->status = ma_active;
		return describe(mas, r, NULL, r->first);
	}
	/* Nothing up to max: describe the gap containing start. */
	mas->status = ma_overflow;
	return describe(mas, prev, next, start);
}

int mas_store_gfp(struct ma_state *mas, void *entry, gfp_t gfp)
{
	int ret;

	mt_check_write(mas->tree, "mas_store_gfp");
	if (WARN_ON(mas->index > mas->last))
		return -EINVAL;
	ret = mt_store(mas->tree, mas->index, mas->last, entry, gfp);
	mas->status = ret ? ma_start : ma_active;
	return ret;
}

/*
 * Allocate into @mas the nodes that storing @entry over [mas->index,
 * mas->last] needs, so that mas_store_prealloc() under the same hold of
 * the lock cannot fail.  On failure nothing is kept.
 */
int mas_preallocate(struct ma_state *mas, void *entry, gfp_t gfp)
{
	struct maple_tree *mt = mas->tree;

	mt_check_write(mt, "mas_preallocate");
	if (mas->index > mas->last)
		return -EINVAL;
	return mt_list_fill(&mas->alloc,
			    mt_store_need(mt, mas->index, mas->last, entry), gfp);
}

void mas_store_prealloc(struct ma_state *mas, void *entry)
{
	struct maple_tree *mt = mas->tree;
	unsigned int need;

	mt_check_write(mt, "mas_store_prealloc");
	if (WARN_ON(mas->index > mas->last))
		return;
	need = mt_store_need(mt, mas->index, mas->last, entry);
	/* Not what was preallocated (another entry, or the tree changed): a bug. */
	if (WARN_ON(mt_list_len(mas->alloc) < need) &&
	    WARN_ON(mt_list_fill(&mas->alloc, need, GFP_NOWAIT)))
		return;
	mt_store_nodes(mt, mas->index, mas->last, entry, &mas->alloc);
	mas->status = ma_active;
	mas_destroy(mas);
}

/*
 * Free what @mas holds of a preallocation.  Only the ma_state's own nodes,
 * as in the kernel, so no lock is needed, and none is checked.
 */
void mas_destroy(struct ma_state *mas)
{
	mt_free_list(mas->alloc);
	mas->alloc = NULL;
}
