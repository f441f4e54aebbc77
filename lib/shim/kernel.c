// SPDX-License-Identifier: LGPL-2.1-or-later
/* Userspace shim: WARN reporting, and locks that know the thread holding them. */
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

bool lock_is_held(const struct lockdep_map *map)
{
	return atomic_load(&map->held) &&
	       pthread_equal(atomic_load(&map->owner), pthread_self());
}

/*
 * Taking a lock this thread holds deadlocks.  The kernel's lockdep reports
 * it before hanging; the shim reports it and aborts, so that a test fails
 * at once instead of when its timeout expires.
 */
static void lock_acquire(struct lockdep_map *map, const char *what)
{
	if (lock_is_held(map)) {
		fprintf(stderr, "shim: deadlock: %s %p taken again by the thread holding it\n",
			what, (void *)map);
		abort();
	}
}

static void lock_acquired(struct lockdep_map *map)
{
	atomic_store(&map->owner, pthread_self());
	atomic_store(&map->held, true);
}

/* Returns whether the calling thread held the lock, which it no longer does. */
static bool lock_release(struct lockdep_map *map)
{
	if (WARN_ON(!lock_is_held(map)))
		return false;
	atomic_store(&map->held, false);
	return true;
}

void spin_lock_init(spinlock_t *lock)
{
	pthread_mutex_init(&lock->m, NULL);
	atomic_store(&lock->dep_map.held, false);
}

void spin_lock(spinlock_t *lock)
{
	lock_acquire(&lock->dep_map, "spinlock");
	pthread_mutex_lock(&lock->m);
	lock_acquired(&lock->dep_map);
	atomic_depth++;
}

void spin_unlock(spinlock_t *lock)
{
	if (!lock_release(&lock->dep_map))
		return;
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
	pthread_mutex_init(&lock->m, NULL);
	atomic_store(&lock->dep_map.held, false);
}

void mutex_destroy(struct mutex *lock)
{
	WARN_ON(atomic_load(&lock->dep_map.held));
	pthread_mutex_destroy(&lock->m);
}

void mutex_lock(struct mutex *lock)
{
	might_sleep();
	lock_acquire(&lock->dep_map, "mutex");
	pthread_mutex_lock(&lock->m);
	lock_acquired(&lock->dep_map);
}

void mutex_unlock(struct mutex *lock)
{
	if (lock_release(&lock->dep_map))
		pthread_mutex_unlock(&lock->m);
}
