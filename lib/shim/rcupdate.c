// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: RCU readers and grace periods (see rcupdate.h).
 *
 * Each thread that ever read has a record on a list: the grace-period
 * number it saw when its outermost section began, or 0 outside one.  A
 * grace period bumps the global number and waits for every record that is
 * inside a section with an older number.  The list changes under
 * rcu_lock, which grace periods hold too; a thread leaves it at exit.
 *
 * If the thread-exit key cannot be created (no keys left), readers cannot
 * be listed safely: they then take rcu_fallback for reading, and a grace
 * period takes it for writing - slower, still correct.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "kernel.h"
#include "rcupdate.h"

struct rcu_reader {
	_Atomic unsigned long gp;	/* grace period seen, 0: not reading */
	unsigned int nest;		/* this thread only */
	bool listed;			/* this thread only, or under rcu_lock */
	struct rcu_reader *next;	/* rcu_lock */
};

static pthread_mutex_t rcu_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_reader *rcu_readers;
static _Atomic unsigned long rcu_gp = 1;
static pthread_key_t rcu_exit_key;
static bool rcu_no_key;			/* set once, before any reader lists itself */
static pthread_rwlock_t rcu_fallback = PTHREAD_RWLOCK_INITIALIZER;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;
static _Thread_local struct rcu_reader rcu_self __attribute__((tls_model("initial-exec")));

static void rcu_unlist(void *arg)
{
	struct rcu_reader *r = arg, **p;

	pthread_mutex_lock(&rcu_lock);
	for (p = &rcu_readers; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	r->listed = false;
	pthread_mutex_unlock(&rcu_lock);
}

/*
 * fork(): rcu_lock (and in the fallback, rcu_fallback) is held across it,
 * so the child, whose one thread is the forking one, finds the list as it
 * was and keeps only its own record.  Prepare handlers run in reverse
 * order of registration; the library's gate registers its own after these
 * (rcu_init_fork()), so its drain of every library call runs before
 * rcu_lock is taken.  After that drain a grace period in progress waits
 * only for read-side sections, which never wait for the forking thread, so
 * taking the lock here ends.
 */
static void rcu_fork_prepare(void)
{
	if (rcu_no_key)
		pthread_rwlock_wrlock(&rcu_fallback);
	pthread_mutex_lock(&rcu_lock);
}

static void rcu_fork_parent(void)
{
	pthread_mutex_unlock(&rcu_lock);
	if (rcu_no_key)
		pthread_rwlock_unlock(&rcu_fallback);
}

static void rcu_fork_child(void)
{
	rcu_readers = rcu_self.listed ? &rcu_self : NULL;
	rcu_self.next = NULL;
	rcu_fork_parent();
}

static void rcu_init(void)
{
	rcu_no_key = pthread_key_create(&rcu_exit_key, rcu_unlist) != 0;
	pthread_atfork(rcu_fork_prepare, rcu_fork_parent, rcu_fork_child);
}

void rcu_init_fork(void)
{
	pthread_once(&rcu_once, rcu_init);
}

/* A thread's first read-side section lists it: that one waits for rcu_lock. */
static void rcu_list(struct rcu_reader *r)
{
	pthread_once(&rcu_once, rcu_init);
	if (rcu_no_key)
		return;
	pthread_mutex_lock(&rcu_lock);
	r->next = rcu_readers;
	rcu_readers = r;
	r->listed = true;
	pthread_mutex_unlock(&rcu_lock);
	pthread_setspecific(rcu_exit_key, r);
}

void rcu_read_lock(void)
{
	struct rcu_reader *r = &rcu_self;

	if (!r->listed)
		rcu_list(r);
	if (r->nest++)
		return;
	if (unlikely(rcu_no_key))
		pthread_rwlock_rdlock(&rcu_fallback);
	else
		atomic_store(&r->gp, atomic_load(&rcu_gp));
}

void rcu_read_unlock(void)
{
	struct rcu_reader *r = &rcu_self;

	if (--r->nest)
		return;
	if (unlikely(rcu_no_key))
		pthread_rwlock_unlock(&rcu_fallback);
	else	/* the section's loads happen before a grace period that sees 0 */
		atomic_store_explicit(&r->gp, 0, memory_order_release);
}

void synchronize_rcu(void)
{
	struct rcu_reader *r;
	unsigned long gp, seen;

	/* Inside a section of its own, the wait would never end. */
	if (WARN_ON(rcu_self.nest))
		return;
	pthread_once(&rcu_once, rcu_init);
	if (rcu_no_key) {
		pthread_rwlock_wrlock(&rcu_fallback);
		pthread_rwlock_unlock(&rcu_fallback);
		return;
	}
	pthread_mutex_lock(&rcu_lock);
	gp = atomic_fetch_add(&rcu_gp, 1) + 1;
	for (r = rcu_readers; r; r = r->next)
		while ((seen = atomic_load(&r->gp)) && seen < gp)
			sched_yield();
	pthread_mutex_unlock(&rcu_lock);
}
