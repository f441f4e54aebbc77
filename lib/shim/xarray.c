// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: XArray subset as a radix tree.
 *
 * Data structure: each node has 64 slots and a shift; slot i of a node with
 * shift s covers the indices whose bits [s, s+6) equal i.  Leaves (shift 0)
 * hold entries, inner nodes hold child nodes.  The root's shift is the
 * smallest that covers the largest index stored (at most 60, which covers
 * ULONG_MAX); storing a larger index adds levels above the root, erasing
 * frees nodes that became empty and drops root levels that only hold slot 0.
 * Memory is therefore proportional to the number of entries times the height.
 * A reservation (xa_reserve) is XA_ZERO_ENTRY in a leaf slot: it keeps the
 * path allocated but reads as NULL and is skipped by xa_find.
 *
 * Stores allocate every missing node up front, then link them in, so an
 * allocation failure changes nothing, and a store to an index whose leaf
 * slot is already occupied (entry or reservation) never allocates.
 */
#include "rcupdate.h"
#include "xarray.h"

#define XA_CHUNK_SHIFT	6
#define XA_CHUNK_SIZE	(1U << XA_CHUNK_SHIFT)
#define XA_CHUNK_MASK	(XA_CHUNK_SIZE - 1)
#define XA_LONG_BITS	((unsigned int)(sizeof(unsigned long) * CHAR_BIT))
#define XA_MAX_HEIGHT	((XA_LONG_BITS + XA_CHUNK_SHIFT - 1) / XA_CHUNK_SHIFT)

struct xa_node {
	struct xa_node *parent;
	unsigned char shift;		/* index bits below this node's slots */
	unsigned char offset;		/* our slot in parent */
	unsigned char count;		/* non-NULL slots */
	/* Read by lockless readers: atomic, published after the node is set up. */
	_Atomic(void *) slots[XA_CHUNK_SIZE];
};

/* Highest index a node with @shift covers, relative to its first index. */
static unsigned long node_span(unsigned int shift)
{
	if (shift + XA_CHUNK_SHIFT >= XA_LONG_BITS)
		return ULONG_MAX;
	return (1UL << (shift + XA_CHUNK_SHIFT)) - 1;
}

/* Smallest root shift that covers @index. */
static unsigned int shift_for(unsigned long index)
{
	unsigned int shift = 0;

	while (shift + XA_CHUNK_SHIFT < XA_LONG_BITS &&
	       (index >> (shift + XA_CHUNK_SHIFT)))
		shift += XA_CHUNK_SHIFT;
	return shift;
}

static unsigned int slot_of(const struct xa_node *node, unsigned long index)
{
	return (index >> node->shift) & XA_CHUNK_MASK;
}

/*
 * Writers take xa_lock; the kernel's spinlock is not recursive, so flag a
 * writer called with it held (and go on without taking it again).
 * Returns whether it was taken.
 */
static bool xa_lock_writer(struct xarray *xa)
{
	if (WARN_ON(lockdep_is_held(&xa->xa_lock)))
		return false;
	xa_lock(xa);
	return true;
}

static void xa_unlock_if(struct xarray *xa, bool taken)
{
	if (taken)
		xa_unlock(xa);
}

void xa_init_flags(struct xarray *xa, gfp_t flags)
{
	spin_lock_init(&xa->xa_lock);
	xa->xa_flags = flags;
	xa->xa_head = NULL;
	xa->xa_dead = NULL;
}

/* The leaf that covers @index, or NULL if its path is not allocated. */
static struct xa_node *leaf_of(struct xarray *xa, unsigned long index)
{
	struct xa_node *node = xa->xa_head;

	if (!node || index > node_span(node->shift))
		return NULL;
	while (node && node->shift)
		node = node->slots[slot_of(node, index)];
	return node;
}

/* The raw slot content at @index (XA_ZERO_ENTRY for a reservation). */
static void *load_raw(struct xarray *xa, unsigned long index)
{
	struct xa_node *leaf = leaf_of(xa, index);

	return leaf ? leaf->slots[index & XA_CHUNK_MASK] : NULL;
}

/* How many nodes storing at @index needs to allocate. */
static unsigned int nodes_needed(struct xarray *xa, unsigned long index)
{
	struct xa_node *node = xa->xa_head;
	unsigned int want = shift_for(index);

	if (!node)
		return want / XA_CHUNK_SHIFT + 1;
	if (want > node->shift)	/* new levels above the root + index's path */
		return (want - node->shift) / XA_CHUNK_SHIFT + want / XA_CHUNK_SHIFT;
	while (node->shift) {
		struct xa_node *child = node->slots[slot_of(node, index)];

		if (!child)
			return node->shift / XA_CHUNK_SHIFT;
		node = child;
	}
	return 0;
}

struct node_pool {
	unsigned int nr;
	struct xa_node *nodes[2 * XA_MAX_HEIGHT];
};

static int xa_alloc_nodes(struct node_pool *pool, unsigned int nr, gfp_t gfp)
{
	for (pool->nr = 0; pool->nr < nr; pool->nr++) {
		pool->nodes[pool->nr] = kzalloc(sizeof(struct xa_node), gfp);
		if (!pool->nodes[pool->nr]) {
			while (pool->nr)
				kfree(pool->nodes[--pool->nr]);
			return -ENOMEM;
		}
	}
	return 0;
}

static struct xa_node *pool_take(struct node_pool *pool, unsigned int shift,
				 struct xa_node *parent, unsigned int offset)
{
	struct xa_node *node = pool->nodes[--pool->nr];

	node->shift = shift;
	node->parent = parent;
	node->offset = offset;
	if (parent) {
		parent->slots[offset] = node;
		parent->count++;
	}
	return node;
}

/* Build the path to @index from @pool (sized by nodes_needed); returns the leaf. */
static struct xa_node *create_path(struct xarray *xa, unsigned long index,
				   struct node_pool *pool)
{
	unsigned int want = shift_for(index);
	struct xa_node *node = xa->xa_head;

	if (!node) {
		node = pool_take(pool, want, NULL, 0);
		xa->xa_head = node;
	}
	while (node->shift < want) {
		struct xa_node *top = pool_take(pool, node->shift + XA_CHUNK_SHIFT,
						NULL, 0);

		top->slots[0] = node;
		top->count = 1;
		node->parent = top;
		node->offset = 0;
		xa->xa_head = top;
		node = top;
	}
	while (node->shift) {
		unsigned int off = slot_of(node, index);

		if (!node->slots[off])
			pool_take(pool, node->shift - XA_CHUNK_SHIFT, node, off);
		node = node->slots[off];
	}
	return node;
}

/*
 * Unlink empty nodes upwards from @node, then root levels holding only
 * slot 0, and put them on xa->xa_dead: readers may still be on them until
 * a grace period has passed (xa_unlock_reap()).  An unlinked node's parent
 * field is no longer read by anyone (readers only go down), so it links
 * the dead nodes.
 */
static void prune(struct xarray *xa, struct xa_node *node)
{
	while (node && !node->count) {
		struct xa_node *parent = node->parent;

		if (parent) {
			parent->slots[node->offset] = NULL;
			parent->count--;
		} else {
			xa->xa_head = NULL;
		}
		node->parent = xa->xa_dead;
		xa->xa_dead = node;
		node = parent;
	}
	while ((node = xa->xa_head) && node->shift && node->count == 1 &&
	       node->slots[0]) {
		struct xa_node *child = node->slots[0];

		child->parent = NULL;
		xa->xa_head = child;
		node->parent = xa->xa_dead;
		xa->xa_dead = node;
	}
}

/*
 * Drop xa_lock if this call took it, then free the nodes unlinked so far
 * once no reader can be on them: the grace period is waited for outside
 * the lock, so other writers (and readers) go on meanwhile.
 */
static void xa_unlock_reap(struct xarray *xa, bool taken)
{
	struct xa_node *dead = NULL, *next;

	if (taken) {
		dead = xa->xa_dead;
		xa->xa_dead = NULL;
	}
	xa_unlock_if(xa, taken);
	if (!dead)
		return;
	synchronize_rcu();
	for (; dead; dead = next) {
		next = dead->parent;
		kfree(dead);
	}
}

static void *erase_raw(struct xarray *xa, unsigned long index)
{
	struct xa_node *leaf = leaf_of(xa, index);
	_Atomic(void *) *slot;
	void *old;

	if (!leaf)
		return NULL;
	slot = &leaf->slots[index & XA_CHUNK_MASK];
	old = *slot;
	if (old) {
		*slot = NULL;
		leaf->count--;
		prune(xa, leaf);
	}
	return old;
}

/* Store @entry (may be XA_ZERO_ENTRY) at @index; returns the raw old entry. */
static void *store_raw(struct xarray *xa, unsigned long index, void *entry,
		       gfp_t gfp)
{
	struct xa_node *leaf;
	_Atomic(void *) *slot;
	void *old;

	if (!entry)
		return erase_raw(xa, index);
	leaf = leaf_of(xa, index);
	if (!leaf) {
		struct node_pool pool;

		if (xa_alloc_nodes(&pool, nodes_needed(xa, index), gfp))
			return XA_ERROR(-ENOMEM);
		leaf = create_path(xa, index, &pool);
		WARN_ON(pool.nr);
	}
	slot = &leaf->slots[index & XA_CHUNK_MASK];
	old = *slot;
	if (!old)
		leaf->count++;
	*slot = entry;
	return old;
}

static void *unzero(void *entry)
{
	return xa_is_zero(entry) ? NULL : entry;
}

void *__xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	if (WARN_ON(xa_is_internal(entry)))
		return XA_ERROR(-EINVAL);
	entry = store_raw(xa, index, entry, gfp);
	return xa_is_err(entry) ? entry : unzero(entry);
}

void *__xa_erase(struct xarray *xa, unsigned long index)
{
	return unzero(erase_raw(xa, index));
}

void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	bool taken = xa_lock_writer(xa);

	entry = __xa_store(xa, index, entry, gfp);
	xa_unlock_reap(xa, taken);
	return entry;
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	bool taken = xa_lock_writer(xa);
	void *old = __xa_erase(xa, index);

	xa_unlock_reap(xa, taken);
	return old;
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	void *entry;

	rcu_read_lock();
	entry = unzero(load_raw(xa, index));
	rcu_read_unlock();
	return entry;
}

int xa_reserve(struct xarray *xa, unsigned long index, gfp_t gfp)
{
	bool taken = xa_lock_writer(xa);
	void *old = NULL;

	if (!load_raw(xa, index))
		old = store_raw(xa, index, XA_ZERO_ENTRY, gfp);
	xa_unlock_reap(xa, taken);
	return xa_err(old);
}

void xa_release(struct xarray *xa, unsigned long index)
{
	bool taken = xa_lock_writer(xa);

	if (xa_is_zero(load_raw(xa, index)))
		erase_raw(xa, index);
	xa_unlock_reap(xa, taken);
}

/* First present entry in [start, limit] below @node, whose first index is @base. */
static void *find_in(struct xa_node *node, unsigned long base,
		     unsigned long start, unsigned long limit,
		     unsigned long *indexp)
{
	unsigned int last = node_span(node->shift) >> node->shift;
	unsigned int off = (start - base) >> node->shift;

	for (; off <= last; off++) {
		unsigned long first = base + ((unsigned long)off << node->shift);
		void *entry = node->slots[off];

		if (first > limit)
			break;
		if (!entry)
			continue;
		if (node->shift) {
			entry = find_in(entry, first, start > first ? start : first,
					limit, indexp);
		} else if (xa_is_zero(entry)) {
			continue;
		} else {
			*indexp = first;
		}
		if (entry)
			return entry;
	}
	return NULL;
}

void *xa_find(struct xarray *xa, unsigned long *indexp, unsigned long max,
	      xa_mark_t filter)
{
	struct xa_node *head;
	void *entry = NULL;

	/* No marks exist here, so a mark filter could only ever match nothing. */
	if (WARN_ON(filter != XA_PRESENT) || *indexp > max)
		return NULL;
	rcu_read_lock();
	head = xa->xa_head;
	if (head && *indexp <= node_span(head->shift))
		entry = find_in(head, 0, *indexp, max, indexp);
	rcu_read_unlock();
	return entry;
}

void *xa_find_after(struct xarray *xa, unsigned long *indexp, unsigned long max,
		    xa_mark_t filter)
{
	unsigned long index = *indexp;
	void *entry;

	if (index >= max)
		return NULL;
	index++;
	entry = xa_find(xa, &index, max, filter);
	if (entry)
		*indexp = index;
	return entry;
}

static void free_subtree(struct xa_node *node)
{
	unsigned int i;

	if (node->shift)
		for (i = 0; i < XA_CHUNK_SIZE; i++)
			if (node->slots[i])
				free_subtree(node->slots[i]);
	kfree(node);
}

/* Empty @xa; its nodes are freed after a grace period, as the kernel's. */
void xa_destroy(struct xarray *xa)
{
	bool taken = xa_lock_writer(xa);
	struct xa_node *head = xa->xa_head;

	xa->xa_head = NULL;
	xa_unlock_reap(xa, taken);
	if (!head)
		return;
	synchronize_rcu();
	free_subtree(head);
}
