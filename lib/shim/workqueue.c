// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: a single worker thread that runs queued work items.
 *
 * The worker starts with the first schedule_work().  Where it cannot be
 * started (pthread_create() failed: a sandbox, a thread limit) or is gone
 * (a fork() child has no copy of it), work still gets done: each
 * schedule_work() tries to start it again, and flush_work() runs a queued
 * item itself rather than wait for a worker that does not exist.  One item
 * runs at a time, wherever it runs (wq_running), as with one worker.
 */
#include "workqueue.h"

static pthread_mutex_t wq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wq_cond = PTHREAD_COND_INITIALIZER;
static LIST_HEAD(wq_queue);
static struct work_struct *wq_running;	/* the item running, in the worker or a flush */
static bool wq_worker;			/* the worker thread exists (it never exits) */

/* Take the first queued item and mark it running.  Called with wq_lock held. */
static struct work_struct *take_work(void)
{
	struct work_struct *work = list_first_entry(&wq_queue, struct work_struct, entry);

	list_del_init(&work->entry);
	work->pending = false;
	wq_running = work;
	return work;
}

/* Run @work, taken with take_work(), without wq_lock; returns with it held. */
static void run_work(struct work_struct *work)
{
	pthread_mutex_unlock(&wq_lock);
	work->func(work);
	pthread_mutex_lock(&wq_lock);
	wq_running = NULL;
	pthread_cond_broadcast(&wq_cond);
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wq_lock);
	for (;;) {
		/* A flush may be running an item itself: one at a time. */
		while (list_empty(&wq_queue) || wq_running)
			pthread_cond_wait(&wq_cond, &wq_lock);
		run_work(take_work());
	}
	return NULL;
}

/* Start the worker if there is none.  Called with wq_lock held. */
static void start_worker(void)
{
	pthread_t t;

	if (wq_worker)
		return;
	if (!pthread_create(&t, NULL, worker, NULL)) {
		pthread_detach(t);
		wq_worker = true;
	}
}

bool schedule_work(struct work_struct *work)
{
	bool queued = false;

	pthread_mutex_lock(&wq_lock);
	start_worker();
	if (!work->pending) {
		work->pending = true;
		list_add_tail(&work->entry, &wq_queue);
		pthread_cond_broadcast(&wq_cond);
		queued = true;
	}
	pthread_mutex_unlock(&wq_lock);
	return queued;
}

bool flush_work(struct work_struct *work)
{
	bool waited = false;

	pthread_mutex_lock(&wq_lock);
	while (work->pending || wq_running == work) {
		waited = true;
		/* No worker to wait for: run the queue up to @work here. */
		if (!wq_worker && !wq_running && !list_empty(&wq_queue)) {
			run_work(take_work());
			continue;
		}
		pthread_cond_wait(&wq_cond, &wq_lock);
	}
	pthread_mutex_unlock(&wq_lock);
	return waited;
}

void shim_wq_fork_prepare(void)
{
	pthread_mutex_lock(&wq_lock);
}

void shim_wq_fork_parent(void)
{
	pthread_mutex_unlock(&wq_lock);
}

void shim_wq_fork_child(void)
{
	/*
	 * The child has only the thread that forked, which holds wq_lock: make
	 * the lock and condition new.  The worker did not come along; the
	 * next schedule_work() starts one.  An item it was running is lost
	 * with it, so the caller of fork() must let the queue drain first
	 * (libguestmem's prepare handler does).
	 */
	pthread_mutex_init(&wq_lock, NULL);
	pthread_cond_init(&wq_cond, NULL);
	wq_worker = false;
	wq_running = NULL;
}
