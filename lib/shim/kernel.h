/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the basic kernel vocabulary mm/ is written in — integer
 * types, helper macros, WARN/BUG reporting, atomics, locks and lists —
 * implemented on C11 atomics and pthreads.
 */
#ifndef GUESTMEM_SHIM_KERNEL_H
#define GUESTMEM_SHIM_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef unsigned long pgoff_t;
typedef unsigned int gfp_t;

#define GFP_KERNEL	0x01u
#define GFP_NOWAIT	0x02u
#define __GFP_ZERO	0x100u
#define __GFP_ACCOUNT	0x200u	/* charged to the memcg in the kernel; no-op here */
#define __GFP_NOWARN	0x400u	/* no allocation-failure report; no-op here */
#define GFP_KERNEL_ACCOUNT	(GFP_KERNEL | __GFP_ACCOUNT)

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PMD_ORDER	9
#define PUD_ORDER	18
#define NUMA_NO_NODE	(-1)

#define BIT(n)			(1UL << (n))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN(x, a)		(((x) + ((a) - 1)) & ~((typeof(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((typeof(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((typeof(x))(a) - 1)) == 0)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define __must_check		__attribute__((warn_unused_result))
#define __maybe_unused		__attribute__((unused))
#define __always_unused		__attribute__((unused))
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_FOR_MODULES(sym, mods)
#define MODULE_LICENSE(x)
#define cond_resched()		do { } while (0)
#define BUILD_BUG_ON(c)		_Static_assert(!(c), #c)
#define SMP_CACHE_BYTES		64
#define ____cacheline_aligned_in_smp	__attribute__((__aligned__(SMP_CACHE_BYTES)))

/* Configuration switches mm/ tests with IS_ENABLED(); configure sets them to 0 or 1. */
#ifndef CONFIG_GUESTMEM_DEBUG
#define CONFIG_GUESTMEM_DEBUG	0
#endif
#define IS_ENABLED(option)	(option)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define min3(a, b, c)		min(min(a, b), c)
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)		((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)

/*
 * WARN/BUG: the shim never aborts; it counts and remembers the last report
 * so tests can assert that none (or exactly one) happened.
 */
void shim_warn(const char *file, int line, const char *cond);
unsigned long shim_warn_count(void);
const char *shim_last_warning(void);

#define WARN_ON(cond) ({						\
	bool __c = !!(cond);						\
	if (unlikely(__c))						\
		shim_warn(__FILE__, __LINE__, #cond);			\
	unlikely(__c);							\
})
#define WARN_ON_ONCE(cond)	WARN_ON(cond)
#define WARN(cond, ...)		WARN_ON(cond)
#define VM_WARN_ON(cond)	((void)WARN_ON(cond))
#define VM_WARN_ON_ONCE(cond)	WARN_ON(cond)
#define BUG_ON(cond)		((void)WARN_ON(cond))
#define VM_BUG_ON(cond)		((void)WARN_ON(cond))

#define pr_debug(...)		do { } while (0)
#define pr_warn(...)		do { } while (0)
#define pr_err(...)		do { } while (0)

/* Atomics on C11 <stdatomic.h>. */
typedef struct { _Atomic int counter; } atomic_t;
typedef struct { _Atomic long counter; } atomic_long_t;

#define ATOMIC_INIT(i)			{ (i) }
/* As in the kernel, plain reads and sets are relaxed; RMW operations are ordered. */
#define atomic_read(v)			atomic_load_explicit(&(v)->counter, memory_order_relaxed)
#define atomic_set(v, i)		atomic_store_explicit(&(v)->counter, (i), memory_order_relaxed)
#define atomic_inc(v)			((void)atomic_fetch_add(&(v)->counter, 1))
#define atomic_dec(v)			((void)atomic_fetch_sub(&(v)->counter, 1))
#define atomic_add(i, v)		((void)atomic_fetch_add(&(v)->counter, (i)))
#define atomic_sub(i, v)		((void)atomic_fetch_sub(&(v)->counter, (i)))
#define atomic_dec_and_test(v)		(atomic_fetch_sub(&(v)->counter, 1) == 1)
#define atomic_long_read(v)		atomic_load_explicit(&(v)->counter, memory_order_relaxed)
#define atomic_long_set(v, i)		atomic_store_explicit(&(v)->counter, (i), memory_order_relaxed)
#define atomic_long_inc(v)		((void)atomic_fetch_add(&(v)->counter, 1))
#define atomic_long_dec(v)		((void)atomic_fetch_sub(&(v)->counter, 1))
#define atomic_long_add(i, v)		((void)atomic_fetch_add(&(v)->counter, (i)))
#define atomic_long_sub(i, v)		((void)atomic_fetch_sub(&(v)->counter, (i)))

/*
 * Locks on pthreads, with the part of lockdep mm/ relies on.  Debug builds
 * (CONFIG_GUESTMEM_DEBUG) are a kernel with lockdep and atomic-sleep
 * checking; release builds, like a production kernel, check nothing and
 * track only spinlocks, whose holder the xarray asks for.  Every lock
 * has a struct lockdep_map, as in the kernel, that records the thread holding
 * it, so lockdep_is_held() and lockdep_assert_held() answer for the
 * *calling* thread: a lock held by another thread counts as not held.
 * Taking a lock this thread already holds would deadlock (the kernel
 * reports it and hangs); the shim reports it and aborts, so a test fails at
 * once instead of timing out.  Releasing a lock this thread does not hold
 * WARNs and does nothing.
 *
 * Spinlocks also count as atomic context: might_sleep() WARNs while the
 * calling thread holds one, as the kernel's does ("sleeping function called
 * from invalid context").  The _irq variants do not model interrupts.
 */
struct lockdep_map {
	_Atomic(pthread_t) owner;	/* valid while held */
	_Atomic bool held;
};

typedef struct {
	pthread_mutex_t m;
	struct lockdep_map dep_map;
} spinlock_t;

struct mutex {
	pthread_mutex_t m;
	struct lockdep_map dep_map;
};

#define __SPIN_LOCK_UNLOCKED(name)	{ .m = PTHREAD_MUTEX_INITIALIZER }
#define DEFINE_SPINLOCK(name)		spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
#define DEFINE_MUTEX(name)		struct mutex name = { .m = PTHREAD_MUTEX_INITIALIZER }

/*
 * Read-write semaphores: any number of readers or one writer, writers
 * preferred, as the kernel's.  The writer is recorded in dep_map; each
 * thread keeps the few it holds for reading in a small list of its own.
 */
struct rw_semaphore {
	pthread_rwlock_t rw;
	struct lockdep_map dep_map;
};

/* Whether the calling thread holds the lock of @map (the kernel's lock_is_held()). */
bool lock_is_held(const struct lockdep_map *map);
/* ... for writing (@read 0: exclusive) or for reading (@read 1). */
bool lock_is_held_type(const struct lockdep_map *map, int read);
#define lockdep_is_held(l)		lock_is_held(&(l)->dep_map)
#define lockdep_is_held_type(l, r)	lock_is_held_type(&(l)->dep_map, (r))
#if CONFIG_GUESTMEM_DEBUG
#define lockdep_assert(c)		((void)WARN_ON(!(c)))
#else
/* As in a kernel without lockdep: the condition is not evaluated. */
#define lockdep_assert(c)		((void)sizeof(!(c)))
#endif
#define lockdep_assert_held(l)		lockdep_assert(lockdep_is_held(l))
#define lockdep_assert_held_write(l)	lockdep_assert(lockdep_is_held_type(l, 0))
#define lockdep_assert_not_held(l)	((void)WARN_ON(lockdep_is_held(l)))

void spin_lock_init(spinlock_t *lock);
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
#define spin_lock_irq(l)		spin_lock(l)
#define spin_unlock_irq(l)		spin_unlock(l)
#define spin_lock_irqsave(l, flags)	do { (flags) = 0; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)

void mutex_init(struct mutex *lock);
void mutex_destroy(struct mutex *lock);
void mutex_lock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
/* One of several locks taken together, all under @nest (held by the caller). */
#define mutex_lock_nest_lock(l, nest) \
	do { lockdep_assert_held(nest); mutex_lock(l); } while (0)

void init_rwsem(struct rw_semaphore *sem);
void down_read(struct rw_semaphore *sem);
void up_read(struct rw_semaphore *sem);
void down_write(struct rw_semaphore *sem);
void up_write(struct rw_semaphore *sem);

/* Spinlocks the calling thread holds: nonzero is atomic context. */
unsigned int shim_atomic_depth(void);
void shim_might_sleep(const char *file, int line);
#if CONFIG_GUESTMEM_DEBUG
#define might_sleep()			shim_might_sleep(__FILE__, __LINE__)
#else
#define might_sleep()			do { } while (0)
#endif

/* Doubly linked lists with the kernel's interface. */
struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_link(struct list_head *n, struct list_head *prev,
			       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_link(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_link(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = e->prev = NULL;
}

static inline void list_del_init(struct list_head *e)
{
	list_del(e);
	INIT_LIST_HEAD(e);
}

static inline void list_move(struct list_head *e, struct list_head *head)
{
	list_del(e);
	list_add(e, head);
}

static inline void list_move_tail(struct list_head *e, struct list_head *head)
{
	list_del(e);
	list_add_tail(e, head);
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_entry((head)->next, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_entry(pos->member.next, typeof(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_entry((head)->next, typeof(*pos), member),	\
	     n = list_entry(pos->member.next, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = n, n = list_entry(n->member.next, typeof(*n), member))

#endif /* GUESTMEM_SHIM_KERNEL_H */
