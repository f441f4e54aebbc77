// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: Maple Tree subset as a B+tree of ranges.
 *
 * Data structure: the non-NULL ranges {first, last, entry}, sorted and
 * never overlapping, sit in the leaves of a B+tree, MT_LEAF_SLOTS to a
 * leaf, in arrays (first[], last[], entry[]) so that a search reads a few
 * cache lines of first[].  Gaps are implicit.  Leaves are linked both ways
 * for iteration and for the neighbours of a gap.  Inner nodes hold up to
 * MT_INNER_SLOTS children and the keys between them.  Each node owns an
 * interval of the index space: the key between two children is above the
 * last index of every range on its left and at most the first index of
 * every range on its right, so no range straddles a key and the range
 * holding an index, if any, is in the one leaf that a descent by that
 * index reaches.  Ranges only shrink in place (a store trims the ranges it
 * overlaps at either end), which keeps every key valid; a key is moved
 * only when a range grows into the space it bounds (mt_set_bounds()).
 *
 * Every leaf and inner node but the root is at least half full after a
 * deletion (a short node borrows from a sibling or merges with it; merges
 * only free nodes), so the height is O(log n) with a base of 10 to 31.
 * A split halves a node, except one at the right end of the tree that
 * overflows at its end: it keeps its slots and passes on only the new ones,
 * so that ranges stored in ascending order fill their leaves.
 *
 * Operations: a lookup is one descent plus a search of one leaf; the
 * neighbours of a gap come from the adjacent leaves.  A store over
 * [first, last] either adds ranges (at most two: when nothing lies wholly
 * inside [first, last] there is nothing to delete, the ranges at the ends
 * are trimmed and the new range, and the remnant of a range the store
 * lands strictly inside, are inserted into one leaf) or deletes them (the
 * first range wholly inside is reused for the new entry and the others
 * are removed, a leaf's worth per descent).  O(log n) per store, plus
 * O(log n) per leaf emptied.  mas_find() continues from the leaf slot the
 * ma_state points at while the tree has not changed since (mt_seq), so
 * mas_for_each() over the whole tree costs O(n), not O(n log n).
 *
 * Memory: every node is one kmalloc of sizeof(union mt_any) (504 bytes
 * on 64-bit), for 20 ranges per leaf: 25 bytes per range in full leaves
 * (ranges stored in ascending order), at most 51 in half-full ones, plus
 * the inner nodes, about one for every 15 to 31 leaves.  A state tree
 * built by random 4K conversions takes 37 to 41 bytes per range, inner
 * nodes included (bench/bench_mm.c, state_tree/convert_4K).
 *
 * Preallocation: only adding ranges allocates: a new root leaf, or one
 * node per split, from the leaf up through the full ancestors, plus a new
 * root when the root splits.  What a store needs is therefore a function
 * of the tree and the store alone (mt_plan()).  mas_preallocate() allocates
 * exactly that into the ma_state, under the tree's lock, so the store that
 * follows under the same lock cannot need more; mas_store_prealloc() uses
 * them and frees the rest.  Plain stores allocate what they need before
 * changing anything, so a failure changes nothing.  Deleting never
 * allocates, so stores that add no range never fail.
 *
 * Locking: see maple_tree.h.  The checks report the name of the call that
 * broke the rule; they WARN and go on, as lockdep does.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "maple_tree.h"

#define MT_LEAF_SLOTS	20	/* ranges per leaf */
#define MT_INNER_SLOTS	31	/* children per inner node */
#define MT_LEAF_MIN	(MT_LEAF_SLOTS / 2)
#define MT_INNER_MIN	(MT_INNER_SLOTS / 2)
/* Far more than n < 2^64 ranges need at half fill (about 19). */
#define MT_MAX_DEPTH	40

struct mt_node {
	unsigned int count;	/* ranges (leaf) or children (inner) */
	bool leaf;
};

struct mt_leaf {
	struct mt_node n;
	struct mt_leaf *prev, *next;
	unsigned long first[MT_LEAF_SLOTS];
	unsigned long last[MT_LEAF_SLOTS];
	void *entry[MT_LEAF_SLOTS];
};

struct mt_inner {
	struct mt_node n;
	/* key[i] is between child[i] and child[i + 1] */
	unsigned long key[MT_INNER_SLOTS - 1];
	struct mt_node *child[MT_INNER_SLOTS];
};

/* Every node, and every node of a preallocation, is this big. */
union mt_any {
	struct mt_node n;
	struct mt_leaf l;
	struct mt_inner i;
	union mt_any *spare;	/* linking spare nodes */
};

/* The nodes from the root to a leaf, and the child taken at each inner one. */
struct mt_path {
	unsigned int depth;	/* inner nodes above the leaf */
	struct mt_inner *node[MT_MAX_DEPTH];
	unsigned int slot[MT_MAX_DEPTH];
	struct mt_leaf *leaf;
};

/* A range in a leaf; leaf == NULL: none. */
struct mt_pos {
	struct mt_leaf *leaf;
	unsigned int slot;
};

static inline struct mt_leaf *to_leaf(struct mt_node *n)
{
	return (struct mt_leaf *)n;
}

static inline struct mt_inner *to_inner(struct mt_node *n)
{
	return (struct mt_inner *)n;
}

/* Number of keys[0..nr) at or below @index. */
static inline unsigned int mt_rank(const unsigned long *keys, unsigned int nr,
				   unsigned long index)
{
	unsigned int lo = 0, hi = nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (keys[mid] <= index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Descend to the leaf owning @index; NULL for an empty tree. */
static struct mt_leaf *mt_descend(const struct maple_tree *mt, unsigned long index,
				  struct mt_path *path)
{
	struct mt_node *n = mt->mt_root;
	unsigned int d = 0, i;

	if (path) {
		path->depth = 0;
		path->leaf = NULL;
	}
	if (!n)
		return NULL;
	while (!n->leaf) {
		struct mt_inner *in = to_inner(n);

		i = mt_rank(in->key, n->count - 1, index);
		if (path) {
			path->node[d] = in;
			path->slot[d] = i;
		}
		d++;
		n = in->child[i];
	}
	if (path) {
		path->depth = d;
		path->leaf = to_leaf(n);
	}
	return to_leaf(n);
}

/* The position after @p, moving on to the next leaf at the end of one. */
static inline struct mt_pos mt_norm(struct mt_pos p)
{
	if (p.leaf && p.slot >= p.leaf->n.count) {
		p.leaf = p.leaf->next;
		p.slot = 0;
	}
	return p;
}

/*
 * The last range starting at or before @index (*prev) and the first
 * starting after it (*next); leaf NULL when there is none.
 */
static void mt_around(const struct maple_tree *mt, unsigned long index,
		      struct mt_pos *prev, struct mt_pos *next)
{
	struct mt_leaf *l = mt_descend(mt, index, NULL);
	unsigned int pos;

	*prev = *next = (struct mt_pos){ NULL, 0 };
	if (!l)
		return;
	pos = mt_rank(l->first, l->n.count, index);
	if (pos)
		*prev = (struct mt_pos){ l, pos - 1 };
	else if (l->prev)
		*prev = (struct mt_pos){ l->prev, l->prev->n.count - 1 };
	*next = mt_norm((struct mt_pos){ l, pos });
}

/* ------------------------------------------------------------ spare nodes */

static void mt_free_spares(union mt_any *list)
{
	while (list) {
		union mt_any *n = list;

		list = n->spare;
		kfree(n);
	}
}

static unsigned int mt_nr_spares(const union mt_any *list)
{
	unsigned int n = 0;

	for (; list; list = list->spare)
		n++;
	return n;
}

/* Grow *@list to @need nodes; on failure free the whole list. */
static int mt_fill_spares(union mt_any **list, unsigned int need, gfp_t gfp)
{
	unsigned int have = mt_nr_spares(*list);

	for (; have < need; have++) {
		union mt_any *n = kmalloc(sizeof(*n), gfp);

		if (!n) {
			mt_free_spares(*list);
			*list = NULL;
			return -ENOMEM;
		}
		n->spare = *list;
		*list = n;
	}
	return 0;
}

static union mt_any *mt_take_spare(union mt_any **list)
{
	union mt_any *n = *list;

	*list = n->spare;
	return n;
}

/* ------------------------------------------------------------ node moves */

/*
 * Splits and rebalancing gather the slots of one or two nodes (and what is
 * being inserted) into a buffer and deal them out again.
 */
struct mt_leaf_buf {
	unsigned int nr;
	unsigned long first[2 * MT_LEAF_SLOTS];
	unsigned long last[2 * MT_LEAF_SLOTS];
	void *entry[2 * MT_LEAF_SLOTS];
};

struct mt_inner_buf {
	unsigned int nr;	/* children; nr - 1 keys */
	unsigned long key[2 * MT_INNER_SLOTS];
	struct mt_node *child[2 * MT_INNER_SLOTS];
};

static void mt_leaf_gather(struct mt_leaf_buf *b, const struct mt_leaf *l,
			   unsigned int from, unsigned int to)
{
	unsigned int n = to - from;

	memcpy(&b->first[b->nr], &l->first[from], n * sizeof(l->first[0]));
	memcpy(&b->last[b->nr], &l->last[from], n * sizeof(l->last[0]));
	memcpy(&b->entry[b->nr], &l->entry[from], n * sizeof(l->entry[0]));
	b->nr += n;
}

static void mt_leaf_deal(struct mt_leaf *l, const struct mt_leaf_buf *b,
			 unsigned int from, unsigned int n)
{
	memcpy(l->first, &b->first[from], n * sizeof(l->first[0]));
	memcpy(l->last, &b->last[from], n * sizeof(l->last[0]));
	memcpy(l->entry, &b->entry[from], n * sizeof(l->entry[0]));
	l->n.count = n;
}

/* Gather @in's children, with @key before them unless it is the first node. */
static void mt_inner_gather(struct mt_inner_buf *b, const struct mt_inner *in,
			    unsigned long key)
{
	unsigned int n = in->n.count;

	if (b->nr)
		b->key[b->nr - 1] = key;
	memcpy(&b->child[b->nr], in->child, n * sizeof(in->child[0]));
	memcpy(&b->key[b->nr], in->key, (n - 1) * sizeof(in->key[0]));
	b->nr += n;
}

static void mt_inner_deal(struct mt_inner *in, const struct mt_inner_buf *b,
			  unsigned int from, unsigned int n)
{
	memcpy(in->child, &b->child[from], n * sizeof(in->child[0]));
	memcpy(in->key, &b->key[from], (n - 1) * sizeof(in->key[0]));
	in->n.count = n;
}

/* ------------------------------------------------------------ insertion */

/* Nodes that inserting @k ranges into the leaf of @path allocates. */
static unsigned int mt_insert_need(const struct mt_path *path, unsigned int k)
{
	unsigned int need = 1, d;

	if (!k || path->leaf->n.count + k <= MT_LEAF_SLOTS)
		return 0;
	for (d = path->depth; d-- > 0;) {
		if (path->node[d]->n.count < MT_INNER_SLOTS)
			return need;
		need++;
	}
	return need + 1;	/* the root splits: a new root above it */
}

/*
 * Put @right, with @key before it, after child path->slot[d] of inner node
 * path->node[d], splitting as needed; d == -1: above the root.
 */
static void mt_inner_insert(struct maple_tree *mt, struct mt_path *path, int d,
			    struct mt_node *left, unsigned long key,
			    struct mt_node *right, bool append, union mt_any **spare)
{
	struct mt_inner_buf b;
	struct mt_inner *in, *new;
	unsigned int pos, keep;

	for (;;) {
		if (d < 0) {
			in = &mt_take_spare(spare)->i;
			in->n.leaf = false;
			in->n.count = 2;
			in->child[0] = left;
			in->child[1] = right;
			in->key[0] = key;
			mt->mt_root = &in->n;
			mt->mt_height++;
			return;
		}
		in = path->node[d];
		pos = path->slot[d] + 1;
		if (in->n.count < MT_INNER_SLOTS) {
			memmove(&in->child[pos + 1], &in->child[pos],
				(in->n.count - pos) * sizeof(in->child[0]));
			memmove(&in->key[pos], &in->key[pos - 1],
				(in->n.count - pos) * sizeof(in->key[0]));
			in->child[pos] = right;
			in->key[pos - 1] = key;
			in->n.count++;
			return;
		}
		/* Full: gather with the new child, keep the first half. */
		b.nr = in->n.count + 1;
		memcpy(b.child, in->child, pos * sizeof(b.child[0]));
		memcpy(b.key, in->key, (pos - 1) * sizeof(b.key[0]));
		b.child[pos] = right;
		b.key[pos - 1] = key;
		memcpy(&b.child[pos + 1], &in->child[pos],
		       (in->n.count - pos) * sizeof(b.child[0]));
		memcpy(&b.key[pos], &in->key[pos - 1],
		       (in->n.count - pos) * sizeof(b.key[0]));
		append = append && pos == in->n.count;
		keep = append ? b.nr - 2 : b.nr / 2;
		new = &mt_take_spare(spare)->i;
		new->n.leaf = false;
		mt_inner_deal(in, &b, 0, keep);
		mt_inner_deal(new, &b, keep, b.nr - keep);
		left = &in->n;
		key = b.key[keep - 1];
		right = &new->n;
		d--;
	}
}

/*
 * Insert @k ranges (from @add) at slot @pos of the leaf of @path, taking
 * the nodes that mt_insert_need() counted from *@spare.
 */
static void mt_leaf_insert(struct maple_tree *mt, struct mt_path *path, unsigned int pos,
			   const struct mt_leaf_buf *add, union mt_any **spare)
{
	struct mt_leaf *l = path->leaf, *new;
	unsigned int k = add->nr, keep;
	struct mt_leaf_buf b;
	bool append;

	mt->mt_nr += k;
	if (l->n.count + k <= MT_LEAF_SLOTS) {
		unsigned int tail = l->n.count - pos;

		memmove(&l->first[pos + k], &l->first[pos], tail * sizeof(l->first[0]));
		memmove(&l->last[pos + k], &l->last[pos], tail * sizeof(l->last[0]));
		memmove(&l->entry[pos + k], &l->entry[pos], tail * sizeof(l->entry[0]));
		memcpy(&l->first[pos], add->first, k * sizeof(l->first[0]));
		memcpy(&l->last[pos], add->last, k * sizeof(l->last[0]));
		memcpy(&l->entry[pos], add->entry, k * sizeof(l->entry[0]));
		l->n.count += k;
		return;
	}
	b.nr = 0;
	mt_leaf_gather(&b, l, 0, pos);
	memcpy(&b.first[b.nr], add->first, k * sizeof(b.first[0]));
	memcpy(&b.last[b.nr], add->last, k * sizeof(b.last[0]));
	memcpy(&b.entry[b.nr], add->entry, k * sizeof(b.entry[0]));
	b.nr += k;
	mt_leaf_gather(&b, l, pos, l->n.count);

	/* Appending at the right end of the tree: keep this leaf full. */
	append = !l->next && pos == l->n.count;
	keep = append ? l->n.count : b.nr / 2;
	new = &mt_take_spare(spare)->l;
	new->n.leaf = true;
	mt_leaf_deal(l, &b, 0, keep);
	mt_leaf_deal(new, &b, keep, b.nr - keep);
	new->prev = l;
	new->next = l->next;
	if (l->next)
		l->next->prev = new;
	l->next = new;
	mt_inner_insert(mt, path, (int)path->depth - 1, &l->n, new->first[0], &new->n,
			append, spare);
}

/* ------------------------------------------------------------ deletion */

/*
 * After node @n (path->node[d] for d < depth, else the leaf) lost slots,
 * restore the fill of it and its ancestors: borrow from or merge with a
 * sibling, collapse a root with one child, free an empty root leaf.
 */
static void mt_rebalance(struct maple_tree *mt, struct mt_path *path)
{
	struct mt_node *n = &path->leaf->n;
	int d = (int)path->depth - 1;

	for (;;) {
		unsigned int min = n->leaf ? MT_LEAF_MIN : MT_INNER_MIN, s, total, keep;
		struct mt_node *a, *b;
		struct mt_inner *p;

		if (d < 0) {		/* n is the root */
			if (n->leaf && !n->count) {
				kfree(n);
				mt->mt_root = NULL;
				mt->mt_height = 0;
			} else if (!n->leaf && n->count == 1) {
				mt->mt_root = to_inner(n)->child[0];
				mt->mt_height--;
				kfree(n);
				n = mt->mt_root;
				continue;
			}
			return;
		}
		if (n->count >= min)
			return;
		p = path->node[d];
		s = path->slot[d];
		if (s + 1 < p->n.count) {	/* with the right sibling */
			a = n;
			b = p->child[s + 1];
		} else {			/* with the left one */
			s--;
			a = p->child[s];
			b = n;
		}
		total = a->count + b->count;
		if (n->leaf) {
			struct mt_leaf *la = to_leaf(a), *lb = to_leaf(b);
			struct mt_leaf_buf buf = { .nr = 0 };

			mt_leaf_gather(&buf, la, 0, la->n.count);
			mt_leaf_gather(&buf, lb, 0, lb->n.count);
			if (total <= MT_LEAF_SLOTS) {
				mt_leaf_deal(la, &buf, 0, total);
				la->next = lb->next;
				if (lb->next)
					lb->next->prev = la;
				kfree(lb);
				goto merged;
			}
			keep = total / 2;
			mt_leaf_deal(la, &buf, 0, keep);
			mt_leaf_deal(lb, &buf, keep, total - keep);
			p->key[s] = lb->first[0];
			return;
		} else {
			struct mt_inner *ia = to_inner(a), *ib = to_inner(b);
			struct mt_inner_buf buf = { .nr = 0 };

			mt_inner_gather(&buf, ia, 0);
			mt_inner_gather(&buf, ib, p->key[s]);
			if (total <= MT_INNER_SLOTS) {
				mt_inner_deal(ia, &buf, 0, total);
				kfree(ib);
				goto merged;
			}
			keep = total / 2;
			mt_inner_deal(ia, &buf, 0, keep);
			mt_inner_deal(ib, &buf, keep, total - keep);
			p->key[s] = buf.key[keep - 1];
			return;
		}
merged:
		/* b is gone: drop child s + 1 and key s from the parent. */
		memmove(&p->child[s + 1], &p->child[s + 2],
			(p->n.count - s - 2) * sizeof(p->child[0]));
		memmove(&p->key[s], &p->key[s + 1], (p->n.count - s - 2) * sizeof(p->key[0]));
		p->n.count--;
		n = &p->n;
		d--;
	}
}

/* Remove slots [from, to) of the leaf of @path, then rebalance. */
static void mt_leaf_remove(struct maple_tree *mt, struct mt_path *path,
			   unsigned int from, unsigned int to)
{
	struct mt_leaf *l = path->leaf;
	unsigned int tail = l->n.count - to, k = to - from;

	memmove(&l->first[from], &l->first[to], tail * sizeof(l->first[0]));
	memmove(&l->last[from], &l->last[to], tail * sizeof(l->last[0]));
	memmove(&l->entry[from], &l->entry[to], tail * sizeof(l->entry[0]));
	l->n.count -= k;
	mt->mt_nr -= k;
	mt_rebalance(mt, path);
}

/*
 * Remove every range starting at or after @from and ending at or before
 * @last: one descent per leaf's worth.
 */
static void mt_remove_covered(struct maple_tree *mt, unsigned long from, unsigned long last)
{
	struct mt_path path;
	struct mt_leaf *l;
	unsigned int i, j;

	for (;;) {
		l = mt_descend(mt, from, &path);
		if (!l)
			return;
		i = mt_rank(l->first, l->n.count, from - 1);
		if (from == 0)
			i = 0;
		if (i == l->n.count) {	/* the next one starts in the next leaf */
			if (!l->next)
				return;
			l = mt_descend(mt, l->next->first[0], &path);
			i = 0;
		}
		for (j = i; j < l->n.count && l->last[j] <= last; j++)
			;
		if (j == i)
			return;
		mt_leaf_remove(mt, &path, i, j);
	}
}

/*
 * The range of @path's leaf now reaches [first, last]: move the keys that
 * bound the leaf out to it, if they are inside.
 */
static void mt_set_bounds(struct mt_path *path, unsigned long first, unsigned long last)
{
	int d;

	for (d = (int)path->depth - 1; d >= 0; d--) {
		if (path->slot[d] > 0) {
			unsigned long *k = &path->node[d]->key[path->slot[d] - 1];

			if (*k > first)
				*k = first;
			break;
		}
	}
	if (last == ULONG_MAX)
		return;
	for (d = (int)path->depth - 1; d >= 0; d--) {
		if (path->slot[d] + 1 < path->node[d]->n.count) {
			unsigned long *k = &path->node[d]->key[path->slot[d]];

			if (*k <= last)
				*k = last + 1;
			break;
		}
	}
}

/* ------------------------------------------------------------ stores */

/* What a store over [first, last] does to the tree as it is. */
struct mt_plan {
	struct mt_path path;		/* to the leaf owning first */
	unsigned int pos;		/* insertion slot in that leaf */
	bool covers;			/* some range lies wholly inside: delete */
	unsigned long covered;		/* the first such range's first index */
	unsigned int k;			/* ranges to insert when !covers */
	unsigned int need;		/* nodes to allocate */
};

static void mt_plan(const struct maple_tree *mt, unsigned long first, unsigned long last,
		    const void *entry, struct mt_plan *pl)
{
	struct mt_leaf *l = mt_descend(mt, first, &pl->path);
	struct mt_pos c;
	unsigned int pos;

	pl->covers = false;
	pl->k = 0;
	pl->need = 0;
	pl->pos = 0;
	if (!l) {
		pl->k = entry ? 1 : 0;
		pl->need = pl->k;	/* a root leaf */
		return;
	}
	pos = mt_rank(l->first, l->n.count, first);
	/* The first range starting at or after first: */
	if (pos && l->first[pos - 1] == first)
		pos--;
	pl->pos = pos;
	c = mt_norm((struct mt_pos){ l, pos });
	if (c.leaf && c.leaf->first[c.slot] <= last && c.leaf->last[c.slot] <= last) {
		pl->covers = true;
		pl->covered = c.leaf->first[c.slot];
		return;
	}
	pl->k = entry ? 1 : 0;
	/* Strictly inside a range: its right-hand remnant is a new range. */
	if (pos && l->last[pos - 1] > last)
		pl->k++;
	pl->need = mt_insert_need(&pl->path, pl->k);
}

/*
 * Overwrite [first, last] with @entry as @pl planned it, taking new nodes
 * from *@spare, which holds at least pl->need of them.  Cannot fail.
 */
static void mt_store_plan(struct maple_tree *mt, unsigned long first, unsigned long last,
			  void *entry, struct mt_plan *pl, union mt_any **spare)
{
	struct mt_leaf *l = pl->path.leaf;
	struct mt_leaf_buf add = { .nr = 0 };
	struct mt_pos q;
	unsigned int pos = pl->pos;

	mt->mt_seq++;
	if (!l) {		/* empty tree */
		if (!entry)
			return;
		l = &mt_take_spare(spare)->l;
		*l = (struct mt_leaf){ .n = { .count = 1, .leaf = true } };
		l->first[0] = first;
		l->last[0] = last;
		l->entry[0] = entry;
		mt->mt_root = &l->n;
		mt->mt_height = 1;
		mt->mt_nr = 1;
		return;
	}
	/* Trim the range reaching first from the left. */
	if (pos && l->last[pos - 1] >= first) {
		if (l->last[pos - 1] > last) {	/* then nothing is covered */
			add.first[1] = last + 1;
			add.last[1] = l->last[pos - 1];
			add.entry[1] = l->entry[pos - 1];
		}
		l->last[pos - 1] = first - 1;
	}
	if (!pl->covers) {
		/* The range reaching last from the right, if any, starts at the insertion point. */
		q = mt_norm((struct mt_pos){ l, pos });
		if (q.leaf && q.leaf->first[q.slot] <= last)
			q.leaf->first[q.slot] = last + 1;
		if (entry) {
			add.first[0] = first;
			add.last[0] = last;
			add.entry[0] = entry;
			add.nr = 1;
		}
		if (pl->k > add.nr) {	/* the remnant */
			add.first[add.nr] = add.first[1];
			add.last[add.nr] = add.last[1];
			add.entry[add.nr] = add.entry[1];
			add.nr++;
		}
		if (!add.nr)
			return;
		mt_set_bounds(&pl->path, first, add.last[add.nr - 1]);
		mt_leaf_insert(mt, &pl->path, pos, &add, spare);
		return;
	}
	/* Trim the range reaching last from the right. */
	mt_around(mt, last, &q, &(struct mt_pos){ NULL, 0 });
	if (q.leaf && q.leaf->first[q.slot] > first && q.leaf->last[q.slot] > last)
		q.leaf->first[q.slot] = last + 1;
	/* Delete what lies inside, except the first range when it is reused. */
	if (!entry) {
		mt_remove_covered(mt, first, last);
	} else {
		struct mt_path path;
		unsigned int i;

		if (pl->covered < last)
			mt_remove_covered(mt, pl->covered + 1, last);
		l = mt_descend(mt, pl->covered, &path);
		i = mt_rank(l->first, l->n.count, pl->covered) - 1;
		l->first[i] = first;
		l->last[i] = last;
		l->entry[i] = entry;
		mt_set_bounds(&path, first, last);
	}
}

/* A store with its own allocation: all or nothing. */
static int mt_store(struct maple_tree *mt, unsigned long first, unsigned long last,
		    void *entry, gfp_t gfp)
{
	union mt_any *spare = NULL;
	struct mt_plan pl;

	mt_plan(mt, first, last, entry, &pl);
	if (mt_fill_spares(&spare, pl.need, gfp))
		return -ENOMEM;
	mt_store_plan(mt, first, last, entry, &pl, &spare);
	mt_free_spares(spare);
	return 0;
}

void mt_init_flags(struct maple_tree *mt, unsigned int flags)
{
	spin_lock_init(&mt->ma_lock);
	mt->ma_external_lock = NULL;
	mt->ma_flags = flags;
	mt->mt_root = NULL;
	mt->mt_nr = 0;
	mt->mt_height = 0;
	mt->mt_seq = 0;
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
	if (!CONFIG_GUESTMEM_DEBUG)	/* only lockdep knows a mutex's holder */
		return;
	if (mt_external_lock(mt) && !mt_lock_is_held(mt))
		mt_warn(fn, "the tree's external lock is not held by this thread");
}

/* A writer of the advanced API: the kernel's mt_write_locked(). */
static void mt_check_write(const struct maple_tree *mt, const char *fn)
{
	if (!CONFIG_GUESTMEM_DEBUG)
		return;
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

static void mt_free_node(struct mt_node *n)
{
	unsigned int i;

	if (!n->leaf)
		for (i = 0; i < n->count; i++)
			mt_free_node(to_inner(n)->child[i]);
	kfree(n);
}

static void mt_free_ranges(struct maple_tree *mt)
{
	if (mt->mt_root)
		mt_free_node(mt->mt_root);
	mt->mt_root = NULL;
	mt->mt_nr = 0;
	mt->mt_height = 0;
	mt->mt_seq++;
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

unsigned long shim_mt_height(struct maple_tree *mt)
{
	return mt->mt_height;
}

size_t shim_mt_node_bytes(void)
{
	return sizeof(union mt_any);
}

/* ------------------------------------------------------------ validation */

struct mt_check {
	const char *err;
	unsigned long nr, leaves;
	struct mt_leaf *prev_leaf;
	bool any;
	unsigned long prev_last;
};

static unsigned int mt_check_node(struct mt_check *c, struct mt_node *n, bool root,
				  bool has_lo, unsigned long lo, bool has_hi,
				  unsigned long hi)
{
	unsigned int i, h = 0, hc;

	if (!root && n->count < (n->leaf ? 1U : 2U))
		c->err = "a node below its minimum";
	if (n->count > (n->leaf ? MT_LEAF_SLOTS : MT_INNER_SLOTS))
		c->err = "a node over its capacity";
	if (c->err)
		return 0;
	if (n->leaf) {
		struct mt_leaf *l = to_leaf(n);

		if (l->prev != c->prev_leaf || (c->prev_leaf && c->prev_leaf->next != l))
			c->err = "broken leaf links";
		c->prev_leaf = l;
		c->leaves++;
		for (i = 0; i < n->count; i++) {
			if (l->first[i] > l->last[i] || !l->entry[i])
				c->err = "an empty range or a NULL entry";
			if (c->any && l->first[i] <= c->prev_last)
				c->err = "ranges out of order or overlapping";
			if ((has_lo && l->first[i] < lo) || (has_hi && l->last[i] >= hi))
				c->err = "a range outside its leaf's keys";
			c->any = true;
			c->prev_last = l->last[i];
		}
		c->nr += n->count;
		return 1;
	}
	for (i = 0; i < n->count; i++) {
		struct mt_inner *in = to_inner(n);
		bool cl = i ? true : has_lo, ch = i + 1 < n->count ? true : has_hi;
		unsigned long kl = i ? in->key[i - 1] : lo;
		unsigned long kh = i + 1 < n->count ? in->key[i] : hi;

		if (i && i + 1 < n->count && in->key[i - 1] >= in->key[i])
			c->err = "inner keys out of order";
		hc = mt_check_node(c, in->child[i], false, cl, kl, ch, kh);
		if (i && hc != h)
			c->err = "leaves at different depths";
		h = hc;
		if (c->err)
			return 0;
	}
	return h + 1;
}

const char *shim_mt_validate(struct maple_tree *mt)
{
	struct mt_check c = { .err = NULL };
	unsigned int h = 0;

	if (mt->mt_root) {
		h = mt_check_node(&c, mt->mt_root, true, false, 0, false, 0);
		if (!c.err && c.prev_leaf->next)
			c.err = "the last leaf has a next";
		if (!c.err && !c.nr)
			c.err = "an empty root leaf";
	}
	if (!c.err && c.nr != mt->mt_nr)
		c.err = "mt_nr is not the number of ranges";
	if (!c.err && h != mt->mt_height)
		c.err = "mt_height is not the height";
	return c.err;
}

/* ------------------------------------------------------------ the API */

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
	struct mt_pos prev, next;
	bool locked = false;
	void *entry = NULL;

	if (mt_external_lock(mt)) {
		mt_check_read(mt, "mtree_load");
	} else if (!lockdep_is_held(&mt->ma_lock)) {
		mtree_lock(mt);
		locked = true;
	}
	mt_around(mt, index, &prev, &next);
	if (prev.leaf && prev.leaf->last[prev.slot] >= index)
		entry = prev.leaf->entry[prev.slot];
	mt_unlock_internal(mt, locked);
	return entry;
}

void *mtree_erase(struct maple_tree *mt, unsigned long index)
{
	bool locked = mt_lock_internal(mt, "mtree_erase");
	struct mt_pos prev, next;
	void *entry = NULL;

	mt_around(mt, index, &prev, &next);
	if (prev.leaf && prev.leaf->last[prev.slot] >= index) {
		unsigned long first = prev.leaf->first[prev.slot];
		unsigned long last = prev.leaf->last[prev.slot];
		struct mt_plan pl;

		entry = prev.leaf->entry[prev.slot];
		/* Storing NULL over exactly one range needs no node. */
		mt_plan(mt, first, last, NULL, &pl);
		mt_store_plan(mt, first, last, NULL, &pl, NULL);
	}
	mt_unlock_internal(mt, locked);
	return entry;
}

/*
 * Set mas->index/last to the range @prev if it contains @index, else to
 * the gap between @prev and @next (mt_around() of @index); the ma_state
 * then points at @next, the range after what it describes.
 */
static void *describe(struct ma_state *mas, struct mt_pos prev, struct mt_pos next,
		      unsigned long index)
{
	mas->node = next.leaf;
	mas->offset = next.slot;
	mas->seq = mas->tree->mt_seq;
	if (prev.leaf && prev.leaf->last[prev.slot] >= index) {
		mas->index = prev.leaf->first[prev.slot];
		mas->last = prev.leaf->last[prev.slot];
		return prev.leaf->entry[prev.slot];
	}
	mas->index = prev.leaf ? prev.leaf->last[prev.slot] + 1 : 0;
	mas->last = next.leaf ? next.leaf->first[next.slot] - 1 : ULONG_MAX;
	return NULL;
}

void *mas_walk(struct ma_state *mas)
{
	struct mt_pos prev, next;

	mt_check_read(mas->tree, "mas_walk");
	mas->status = ma_active;
	mt_around(mas->tree, mas->index, &prev, &next);
	return describe(mas, prev, next, mas->index);
}

void *mas_find(struct ma_state *mas, unsigned long max)
{
	struct mt_pos prev, next, r;
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
	/*
	 * The tree has not changed since the ma_state described a range or a
	 * gap: the first range ending at or after start is the one it points at.
	 */
	if (mas->status != ma_start && mas->seq == mas->tree->mt_seq) {
		r = mt_norm((struct mt_pos){ mas->node, mas->offset });
		if (r.leaf && r.leaf->first[r.slot] <= max) {
			mas->status = ma_active;
			next = mt_norm((struct mt_pos){ r.leaf, r.slot + 1 });
			return describe(mas, r, next, r.leaf->first[r.slot]);
		}
	}
	/* start <= max here.  The first range ending at or after start: */
	mt_around(mas->tree, start, &prev, &next);
	r = prev.leaf && prev.leaf->last[prev.slot] >= start ? prev : next;
	if (r.leaf && r.leaf->first[r.slot] <= max) {
		mas->status = ma_active;
		next = mt_norm((struct mt_pos){ r.leaf, r.slot + 1 });
		return describe(mas, r, next, r.leaf->first[r.slot]);
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
	mas->seq = mas->tree->mt_seq - 1;	/* points nowhere */
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
	struct mt_plan pl;

	mt_check_write(mt, "mas_preallocate");
	if (mas->index > mas->last)
		return -EINVAL;
	mt_plan(mt, mas->index, mas->last, entry, &pl);
	return mt_fill_spares(&mas->alloc, pl.need, gfp);
}

void mas_store_prealloc(struct ma_state *mas, void *entry)
{
	struct maple_tree *mt = mas->tree;
	union mt_any **spare = &mas->alloc;
	struct mt_plan pl;

	mt_check_write(mt, "mas_store_prealloc");
	if (WARN_ON(mas->index > mas->last))
		return;
	mt_plan(mt, mas->index, mas->last, entry, &pl);
	/* Not what was preallocated (another entry, or the tree changed): a bug. */
	if (WARN_ON(mt_nr_spares(*spare) < pl.need) &&
	    WARN_ON(mt_fill_spares(spare, pl.need, GFP_NOWAIT)))
		return;
	mt_store_plan(mt, mas->index, mas->last, entry, &pl, spare);
	mas->status = ma_active;
	mas->seq = mt->mt_seq - 1;
	mas_destroy(mas);
}

/*
 * Free what @mas holds of a preallocation.  Only the ma_state's own nodes,
 * as in the kernel, so no lock is needed, and none is checked.
 */
void mas_destroy(struct ma_state *mas)
{
	mt_free_spares(mas->alloc);
	mas->alloc = NULL;
}
