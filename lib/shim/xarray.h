/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: a subset of the kernel's XArray API (see
 * Documentation/core-api/xarray.rst) — load/store/erase, reservations,
 * xa_find and the xa_for_each iterators, value/tagged/error entries —
 * implemented as a 64-way radix tree in xarray.c.  Marks, multi-index
 * entries, xa_alloc and the xas_* advanced API are not provided.
 *
 * Locking: as in the kernel, readers (xa_load, xa_find, the iterators)
 * take no lock: they run inside an RCU read-side section of their own
 * (rcupdate.h) and may be called anywhere.  Writers take xa->xa_lock
 * themselves; __xa_store/__xa_erase are for callers holding it (xa_store
 * under xa_lock would deadlock in the kernel; here it WARNs and then
 * proceeds).  Nodes a writer unlinks are freed after a grace period, which
 * the calls that take xa_lock themselves wait for once they dropped it
 * (the __ variants leave them to the next such call, or to xa_destroy()).
 */
#ifndef GUESTMEM_SHIM_XARRAY_H
#define GUESTMEM_SHIM_XARRAY_H

#include "kernel.h"
#include "slab.h"

struct xa_node;

struct xarray {
	spinlock_t xa_lock;
	gfp_t xa_flags;				/* stored, otherwise ignored */
	/* private: */
	_Atomic(struct xa_node *) xa_head;	/* root node, NULL when empty */
	struct xa_node *xa_dead;	/* unlinked, to free after a grace period */
};

#define XARRAY_INIT(name, flags) {					\
	.xa_lock = __SPIN_LOCK_UNLOCKED(name.xa_lock),			\
	.xa_flags = (flags),						\
	.xa_head = NULL,						\
	.xa_dead = NULL,						\
}
#define DEFINE_XARRAY_FLAGS(name, flags) struct xarray name = XARRAY_INIT(name, flags)
#define DEFINE_XARRAY(name)	DEFINE_XARRAY_FLAGS(name, 0)

typedef unsigned int xa_mark_t;
#define XA_PRESENT	8U

/* Entry encodings, as in the kernel: bit 0 = value, low bits 10 = internal. */
#ifndef MAX_ERRNO
#define MAX_ERRNO	4095
#endif

static inline void *xa_mk_value(unsigned long v)
{
	WARN_ON((long)v < 0);
	return (void *)((v << 1) | 1);
}

static inline unsigned long xa_to_value(const void *entry)
{
	return (unsigned long)entry >> 1;
}

static inline bool xa_is_value(const void *entry)
{
	return (unsigned long)entry & 1;
}

static inline void *xa_tag_pointer(void *p, unsigned long tag)
{
	return (void *)((unsigned long)p | tag);
}

static inline void *xa_untag_pointer(void *entry)
{
	return (void *)((unsigned long)entry & ~3UL);
}

static inline unsigned int xa_pointer_tag(void *entry)
{
	return (unsigned long)entry & 3UL;
}

static inline void *xa_mk_internal(unsigned long v)
{
	return (void *)((v << 2) | 2);
}

static inline unsigned long xa_to_internal(const void *entry)
{
	return (unsigned long)entry >> 2;
}

static inline bool xa_is_internal(const void *entry)
{
	return ((unsigned long)entry & 3) == 2;
}

/* What xa_reserve() stores; the normal API reports it as NULL. */
#define XA_ZERO_ENTRY		xa_mk_internal(257)
#define XA_ERROR(errno)		((struct xa_node *)(((unsigned long)(errno) << 2) | 2UL))

static inline bool xa_is_zero(const void *entry)
{
	return entry == XA_ZERO_ENTRY;
}

static inline bool xa_is_err(const void *entry)
{
	return unlikely(xa_is_internal(entry) &&
			(unsigned long)entry >= (unsigned long)xa_mk_internal(-MAX_ERRNO));
}

static inline int xa_err(void *entry)
{
	/* Arithmetic shift keeps the sign of the errno. */
	return xa_is_err(entry) ? (int)((long)entry >> 2) : 0;
}

void xa_init_flags(struct xarray *xa, gfp_t flags);

static inline void xa_init(struct xarray *xa)
{
	xa_init_flags(xa, 0);
}

static inline bool xa_empty(const struct xarray *xa)
{
	/* Like the kernel, a reserved entry makes the array non-empty. */
	return READ_ONCE(xa->xa_head) == NULL;
}

#define xa_lock(xa)			spin_lock(&(xa)->xa_lock)
#define xa_unlock(xa)			spin_unlock(&(xa)->xa_lock)
#define xa_lock_irq(xa)			xa_lock(xa)
#define xa_unlock_irq(xa)		xa_unlock(xa)
#define xa_lock_bh(xa)			xa_lock(xa)
#define xa_unlock_bh(xa)		xa_unlock(xa)
#define xa_lock_irqsave(xa, flags)	do { (flags) = 0; xa_lock(xa); } while (0)
#define xa_unlock_irqrestore(xa, flags)	do { (void)(flags); xa_unlock(xa); } while (0)

void *xa_load(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *xa_erase(struct xarray *xa, unsigned long index);
/* Same, for callers that hold xa_lock. */
void *__xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *__xa_erase(struct xarray *xa, unsigned long index);
int __must_check xa_reserve(struct xarray *xa, unsigned long index, gfp_t gfp);
void xa_release(struct xarray *xa, unsigned long index);
void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max,
	      xa_mark_t filter);
void *xa_find_after(struct xarray *xa, unsigned long *index, unsigned long max,
		    xa_mark_t filter);
void xa_destroy(struct xarray *xa);

#define xa_for_each_range(xa, index, entry, start, last)		\
	for (index = (start),						\
	     entry = xa_find(xa, &index, (last), XA_PRESENT);		\
	     entry;							\
	     entry = xa_find_after(xa, &index, (last), XA_PRESENT))
#define xa_for_each_start(xa, index, entry, start)			\
	xa_for_each_range(xa, index, entry, start, ULONG_MAX)
#define xa_for_each(xa, index, entry)					\
	xa_for_each_start(xa, index, entry, 0)

#endif /* GUESTMEM_SHIM_XARRAY_H */
