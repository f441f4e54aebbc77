// SPDX-License-Identifier: LGPL-2.1-or-later
/* Userspace shim: WARN reporting and mutexes with owner tracking. */
#include <stdio.h>

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

void mutex_init(struct mutex *lock)
{
	pthread_mutex_init(&lock->m, NULL);
	atomic_store(&lock->locked, false);
}

void mutex_destroy(struct mutex *lock)
{
	WARN_ON(atomic_load(&lock->locked));
	pthread_mutex_destroy(&lock->m);
}

void mutex_lock(struct mutex *lock)
{
	pthread_mutex_lock(&lock->m);
	atomic_store(&lock->owner, pthread_self());
	atomic_store(&lock->locked, true);
}

void mutex_unlock(struct mutex *lock)
{
	WARN_ON(!shim_mutex_held(lock));
	atomic_store(&lock->locked, false);
	pthread_mutex_unlock(&lock->m);
}

bool shim_mutex_held(struct mutex *lock)
{
	return atomic_load(&lock->locked) &&
	       pthread_equal(atomic_load(&lock->owner), pthread_self());
}
