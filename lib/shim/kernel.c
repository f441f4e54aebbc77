// SPDX-License-Identifier: LGPL-2.1-or-later
/* Userspace shim: WARN reporting, and locks that know the thread holding them. */
#define _GNU_SOURCE		/* pthread_rwlockattr_setkind_np() */
#include <stdio.h>
#include <stdlib.h>

#include "kernel.h"

static atomic_ulong warn_count;
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_warning[256];

void shim_warn(const char *file, int line, const char *cond)
{
	pthread_mutex_lock(&warn_lock);
	snprintf(last_warning, sizeof(last_warning), "%s:%d: WARN_ON(%s)",
		 file, line, cond);
	pthread_mutex_unlock(&warn_lock);
	atomic_fetch_add(&warn_count, 1);
}

unsigned long shim_warn_count(void)
{
	return atomic_load(&warn_count);
}

const char *shim_last_warning(void)
{
	return last_warning;
}

/* Spinlocks held by this thread: might_sleep() in atomic context is a bug. */
static _Thread_local unsigned int atomic_depth;

/* Read-write semaphores this thread holds for reading, innermost last. */
#define MAX_READ_HELD	8
static _Thread_local const struct lockdep_map *read_held[MAX_READ_HELD];
static _Thread_local unsigned int nr_read_held;

static int read_held_slot(const struct lockdep_map *map)
{
	int i;

	for (i = (int)nr_read_held - 1; i >= 0; i--)
		if (read_held[i] == map)
			return i;
	return -1;
}

bool lock_is_held_type(const struct lockdep_map *map, int read)
{
	if (read)
		return read_held_slot(map) >= 0;
	return atomic_load_explicit(&map->held, memory_order_acquire) &&
	       pthread_equal(atomic_load_explicit(&map->owner, memory_order_relaxed),
			     pthread_self());
}

bool lock_is_held(const struct lockdep_map *map)
{
	return lock_is_held_type(map, 0) || lock_is_held_type(map, 1);
}

/*
 * Taking a lock this thread holds deadlocks.  The kernel's lockdep reports
 * it before hanging; the shim reports it and aborts, so that a test fails
 * at once instead of when its timeout expires.
 */
static void lock_acquire(struct lockdep_map *map, const char *what)
{
	if (CONFIG_GUESTMEM_DEBUG && lock_is_held(map)) {
		fprintf(stderr, "shim: deadlock: %s %p taken again by the thread holding it\n",
			what, (void *)map);
		abort();
	}
}

/*
 * Only the holder writes @map, under the lock; another thread reading it
 * may see it stale, but never its own identity unless it holds the lock:
 * @held is published after @owner (release) and read before it (acquire).
 */
static void lock_acquired(struct lockdep_map *map)
{
	atomic_store_explicit(&map->owner, pthread_self(), memory_order_relaxed);
	atomic_store_explicit(&map->held, true, memory_order_release);
}

/* Returns whether the calling thread held the lock, which it no longer does. */
static bool lock_release(struct lockdep_map *map)
{
	if (WARN_ON(!lock_is_held_type(map, 0)))
		return false;
	atomic_store_explicit(&map->held, false, memory_order_relaxed);
	return true;
}

/*
 * The kernel's spinlocks spin, and its mutexes spin while the owner runs,
 * so short critical sections rarely sleep: adaptive mutexes behave alike.
 */
static pthread_mutexattr_t adaptive_attr;
static pthread_once_t adaptive_once = PTHREAD_ONCE_INIT;

static void adaptive_attr_init(void)
{
	pthread_mutexattr_init(&adaptive_attr);
	pthread_mutexattr_settype(&adaptive_attr, PTHREAD_MUTEX_ADAPTIVE_NP);
}

static void lock_init(pthread_mutex_t *m)
{
	pthread_once(&adaptive_once, adaptive_attr_init);
	pthread_mutex_init(m, &adaptive_attr);
}

void spin_lock_init(spinlock_t *lock)
{
	lock_init(&lock->m);
	atomic_store(&lock->dep_map.held, false);
}

void spin_lock(spinlock_t *lock)
{
	lock_acquire(&lock->dep_map, "spinlock");
	pthread_mutex_lock(&lock->m);
	lock_acquired(&lock->dep_map);
	if (CONFIG_GUESTMEM_DEBUG)
		atomic_depth++;
}

void spin_unlock(spinlock_t *lock)
{
	if (!lock_release(&lock->dep_map))
		return;
	if (CONFIG_GUESTMEM_DEBUG)
		atomic_depth--;
	pthread_mutex_unlock(&lock->m);
}

unsigned int shim_atomic_depth(void)
{
	return atomic_depth;
}

void shim_might_sleep(const char *file, int line)
{
	if (unlikely(atomic_depth))
		shim_warn(file, line, "might_sleep() with a spinlock held");
}

void mutex_init(struct mutex *lock)
{
	lock_init(&lock->m);
	atomic_store(&lock->dep_map.held, false);
}

void mutex_destroy(struct mutex *lock)
{
	WARN_ON(CONFIG_GUESTMEM_DEBUG && atomic_load(&lock->dep_map.held));
	pthread_mutex_destroy(&lock->m);
}

/* Sleeping locks are tracked in debug builds only: nothing else asks. */
void mutex_lock(struct mutex *lock)
{
	if (!CONFIG_GUESTMEM_DEBUG) {
		pthread_mutex_lock(&lock->m);
		return;
	}
	might_sleep();
	lock_acquire(&lock->dep_map, "mutex");
	pthread_mutex_lock(&lock->m);
	lock_acquired(&lock->dep_map);
}

void mutex_unlock(struct mutex *lock)
{
	if (!CONFIG_GUESTMEM_DEBUG || lock_release(&lock->dep_map))
		pthread_mutex_unlock(&lock->m);
}

void init_rwsem(struct rw_semaphore *sem)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	/* A stream of readers must not starve a writer, as in the kernel. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&sem->rw, &attr);
	pthread_rwlockattr_destroy(&attr);
	atomic_store(&sem->dep_map.held, false);
}

/* Taking it again for reading can deadlock behind a waiting writer: lockdep says so too. */
void down_read(struct rw_semaphore *sem)
{
	if (!CONFIG_GUESTMEM_DEBUG) {
		pthread_rwlock_rdlock(&sem->rw);
		return;
	}
	might_sleep();
	lock_acquire(&sem->dep_map, "rw_semaphore");
	if (nr_read_held == MAX_READ_HELD) {
		fprintf(stderr, "shim: more than %d rw_semaphores held for reading\n",
			MAX_READ_HELD);
		abort();
	}
	pthread_rwlock_rdlock(&sem->rw);
	read_held[nr_read_held++] = &sem->dep_map;
}

void up_read(struct rw_semaphore *sem)
{
	int i;

	if (!CONFIG_GUESTMEM_DEBUG) {
		pthread_rwlock_unlock(&sem->rw);
		return;
	}
	i = read_held_slot(&sem->dep_map);
	if (WARN_ON(i < 0))
		return;
	memmove(&read_held[i], &read_held[i + 1],
		(nr_read_held - i - 1) * sizeof(read_held[0]));
	nr_read_held--;
	pthread_rwlock_unlock(&sem->rw);
}

void down_write(struct rw_semaphore *sem)
{
	if (!CONFIG_GUESTMEM_DEBUG) {
		pthread_rwlock_wrlock(&sem->rw);
		return;
	}
	might_sleep();
	lock_acquire(&sem->dep_map, "rw_semaphore");
	pthread_rwlock_wrlock(&sem->rw);
	lock_acquired(&sem->dep_map);
}

void up_write(struct rw_semaphore *sem)
{
	if (!CONFIG_GUESTMEM_DEBUG || lock_release(&sem->dep_map))
		pthread_rwlock_unlock(&sem->rw);
}
