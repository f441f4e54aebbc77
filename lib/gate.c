// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: entering and leaving the public calls, for fork() and for
 * destroy (lib/libguestmem.h).
 *
 * fork().  A child gets copies of the parent's pools and files but not the
 * threads behind them (the deferred-work worker, zeroing and fault
 * threads), and not their memory: pool, file and pin mappings are
 * MADV_DONTFORK, so a child cannot scribble on guest RAM.  So every call on
 * an object inherited across fork() fails with -ECHILD, and changes
 * nothing; the child may create pools and files of its own.  Those use
 * global state - the workqueue, mm/'s list of detached pages and its lock -
 * which must be consistent in the child: fork() waits until no library
 * call is running and the deferred work is done (only calls queue it), so
 * no such lock is held and nothing of the parent's is queued.
 *
 * Both are asymmetric: a call only writes its own thread's record, struct
 * gm_thread, saying where the thread is - in no call, in a call, or inside
 * the gate of one object - and then reads a flag that fork() or destroy
 * sets (read-mostly cache lines: nothing is written that another core
 * uses, so threads calling in parallel do not slow each other down).  The
 * rare side, fork() or destroy, sets its flag and then reads every
 * thread's record, waiting until no thread is in a call (fork) or inside
 * the object's gate (destroy).  Store then load on each side, all seq_cst:
 * either the call sees the flag and steps out again to wait, or the
 * scanner sees the call and waits for it to return.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "libguestmem.h"
#include "rcupdate.h"

/* gm_thread.inside in a call, inside no gate (gates are aligned: never 1). */
#define GM_IN_CALL	((struct gm_gate *)1)

/*
 * A thread that made a library call: its own static TLS, on gm_threads from
 * its first call until it exits (the key's destructor).
 */
struct gm_thread {
	/* NULL, GM_IN_CALL, or the gate it is inside; written by its thread only */
	_Atomic(struct gm_gate *) inside;
	struct list_head node;		/* on gm_threads */
	bool linked;			/* on gm_threads (read by its thread only) */
};

/*
 * Initial-exec: every call reaches it without __tls_get_addr().  Its 32
 * bytes come out of the static TLS surplus glibc keeps for dlopen().
 */
static _Thread_local struct gm_thread gm_self __attribute__((tls_model("initial-exec")));

/* gm_threads and the records' lifetime; held across fork() */
static pthread_mutex_t gm_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(gm_threads);
static pthread_key_t gm_thread_key;	/* its destructor takes an exiting thread off */
static bool gm_thread_key_ok;

/* Held from fork()'s prepare handler to its end: calls wait for it while gm_forking. */
static pthread_mutex_t gm_fork_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool gm_forking;
static atomic_ulong gm_fork_gen;
static pthread_once_t gm_once = PTHREAD_ONCE_INIT;

/*
 * Whether a thread is inside gate @g, or with @g NULL in any call.  Caller
 * holds gm_threads_lock.  A record seen outside was left with a release
 * store: what the call did happens before what the caller does next.
 */
static bool someone_inside(struct gm_gate *g)
{
	struct gm_thread *t;

	list_for_each_entry(t, &gm_threads, node) {
		struct gm_gate *in = atomic_load(&t->inside);

		if (g ? in == g : in != NULL)
			return true;
	}
	return false;
}

/*
 * Wait until no thread is inside @g (NULL: in any call).  The calls return
 * without waiting for the caller, which polls with gm_threads_lock dropped
 * between looks (threads may come and go meanwhile).  Returns with the lock
 * held if @hold.
 */
static void wait_outside(struct gm_gate *g, bool hold)
{
	struct timespec tick = { 0, 20 * 1000 };

	for (;;) {
		bool busy;

		pthread_mutex_lock(&gm_threads_lock);
		busy = someone_inside(g);
		if (!busy && hold)
			return;
		pthread_mutex_unlock(&gm_threads_lock);
		if (!busy)
			return;
		nanosleep(&tick, NULL);
	}
}

static void thread_exit(void *arg)
{
	struct gm_thread *t = arg;

	/* A thread cannot exit in the middle of a call. */
	WARN_ON(atomic_load_explicit(&t->inside, memory_order_relaxed));
	pthread_mutex_lock(&gm_threads_lock);
	list_del(&t->node);
	pthread_mutex_unlock(&gm_threads_lock);
	t->linked = false;
}

static int thread_register(struct gm_thread *t)
{
	if (!gm_thread_key_ok || pthread_setspecific(gm_thread_key, t))
		return gm_error(-EAGAIN, "cannot register this thread with the library "
				"(out of thread-specific data keys)");
	pthread_mutex_lock(&gm_threads_lock);
	list_add(&t->node, &gm_threads);
	pthread_mutex_unlock(&gm_threads_lock);
	t->linked = true;
	return 0;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&gm_fork_lock);	/* one fork() at a time */
	atomic_store(&gm_forking, true);
	wait_outside(NULL, false);		/* and no call starts now */
	hgmem_flush_deferred();
	shim_wq_fork_prepare();
	/* Last, until the fork is done: no thread is half registered in the child. */
	pthread_mutex_lock(&gm_threads_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&gm_threads_lock);
	shim_wq_fork_parent();
	atomic_store(&gm_forking, false);
	pthread_mutex_unlock(&gm_fork_lock);
}

static void fork_child(void)
{
	shim_wq_fork_child();
	atomic_fetch_add(&gm_fork_gen, 1);
	atomic_store(&gm_forking, false);
	/* The other threads are the parent's: only this one is left. */
	INIT_LIST_HEAD(&gm_threads);
	if (gm_self.linked)
		list_add(&gm_self.node, &gm_threads);
	/* Held by the parent's thread, whose id this thread no longer has: anew. */
	pthread_mutex_init(&gm_threads_lock, NULL);
	pthread_mutex_init(&gm_fork_lock, NULL);
}

static void gm_init(void)
{
	gm_thread_key_ok = !pthread_key_create(&gm_thread_key, thread_exit);
	/* First the shim's RCU: its prepare handler then runs after ours. */
	rcu_init_fork();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

unsigned long gm_generation(void)
{
	pthread_once(&gm_once, gm_init);
	return atomic_load(&gm_fork_gen);
}

int gm_enter(unsigned long gen, const char *what)
{
	struct gm_thread *t = &gm_self;
	int err;

	if (gen != gm_generation())
		return gm_error(-ECHILD, "%s belongs to the parent of this fork() child: "
				"a child can only use pools and files it created", what);
	if (unlikely(!t->linked)) {
		err = thread_register(t);
		if (err)
			return err;
	}
	/* Never nested. */
	WARN_ON(atomic_load_explicit(&t->inside, memory_order_relaxed));
	for (;;) {
		atomic_store(&t->inside, GM_IN_CALL);
		if (likely(!atomic_load(&gm_forking)))
			return 0;
		/* A fork() is waiting for the calls to return: out again, and wait for it. */
		atomic_store_explicit(&t->inside, NULL, memory_order_release);
		pthread_mutex_lock(&gm_fork_lock);
		pthread_mutex_unlock(&gm_fork_lock);
	}
}

void gm_leave(void)
{
	atomic_store_explicit(&gm_self.inside, NULL, memory_order_release);
}

void gm_gate_init(struct gm_gate *g)
{
	atomic_init(&g->state, 0);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->waiters = 0;
}

/*
 * Wait for the verdict of the destroy deciding about @g.  Returns -EBADF
 * if it killed @g; then nothing here touches @g after the unlock.  @t, if
 * not NULL, is the calling thread, inside @g until it counts as a waiter.
 */
static int gate_wait(struct gm_gate *g, struct gm_thread *t, const char *what)
{
	bool dead;

	pthread_mutex_lock(&g->lock);
	g->waiters++;
	/* Waiting, not inside: gm_gate_drain() sees one or the other. */
	if (t)
		atomic_store_explicit(&t->inside, GM_IN_CALL, memory_order_release);
	while ((atomic_load(&g->state) & (GM_GATE_CLOSING | GM_GATE_DEAD)) == GM_GATE_CLOSING)
		pthread_cond_wait(&g->cond, &g->lock);
	dead = atomic_load(&g->state) & GM_GATE_DEAD;
	/* The destroyer frees @g only when no waiter is left. */
	if (!--g->waiters)
		pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return dead ? gm_error(-EBADF, "%s was destroyed", what) : 0;
}

/* Called between gm_enter() and gm_leave(). */
int gm_gate_enter(struct gm_gate *g, const char *what)
{
	struct gm_thread *t = &gm_self;

	WARN_ON(atomic_load_explicit(&t->inside, memory_order_relaxed) != GM_IN_CALL);
	for (;;) {
		unsigned int v;
		int err;

		atomic_store(&t->inside, g);
		v = atomic_load(&g->state);
		if (likely(!(v & (GM_GATE_CLOSING | GM_GATE_DEAD))))
			return 0;
		if (v & GM_GATE_DEAD) {
			/* The last touch of @g: gm_gate_drain() waits for it. */
			atomic_store_explicit(&t->inside, GM_IN_CALL, memory_order_release);
			return gm_error(-EBADF, "%s was destroyed", what);
		}
		/* A destroy is deciding: wait for it (out of the gate). */
		err = gate_wait(g, t, what);
		if (err)
			return err;
	}
}

void gm_gate_leave(struct gm_gate *g)
{
	(void)g;
	atomic_store_explicit(&gm_self.inside, GM_IN_CALL, memory_order_release);
}

/*
 * Start destroying @g's object: new calls wait, and the calls inside have
 * returned when this does.  -EBADF if it is destroyed already; a destroy
 * racing another waits for that one's verdict.  Called between gm_enter()
 * and gm_leave(), outside @g.
 */
int gm_gate_close(struct gm_gate *g, const char *what)
{
	for (;;) {
		unsigned int v = atomic_fetch_or(&g->state, GM_GATE_CLOSING);
		int err;

		if (v & GM_GATE_DEAD)
			return gm_error(-EBADF, "%s was destroyed", what);
		if (!(v & GM_GATE_CLOSING))
			break;
		err = gate_wait(g, NULL, what);
		if (err)
			return err;
	}
	wait_outside(g, false);
	return 0;
}

/* The destroy failed: let the waiting calls in. */
void gm_gate_open(struct gm_gate *g)
{
	pthread_mutex_lock(&g->lock);
	atomic_fetch_and(&g->state, ~GM_GATE_CLOSING);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* The destroy takes effect: every call from now on fails with -EBADF. */
void gm_gate_kill(struct gm_gate *g)
{
	pthread_mutex_lock(&g->lock);
	atomic_fetch_or(&g->state, GM_GATE_DEAD);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/*
 * Before @g's memory is freed (killed): no call is waiting in it or passing
 * through.  Inside first: a thread inside becomes a waiter before it leaves,
 * and one that enters after the look sees the gate dead and never waits.
 */
void gm_gate_drain(struct gm_gate *g)
{
	wait_outside(g, false);
	pthread_mutex_lock(&g->lock);
	while (g->waiters)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

bool gm_gate_dead(struct gm_gate *g)
{
	return atomic_load(&g->state) & GM_GATE_DEAD;
}
