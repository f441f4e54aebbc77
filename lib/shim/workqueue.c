// SPDX-License-Identifier: LGPL-2.1-or-later
/* Userspace shim: a single worker thread that runs queued work items. */
#include "workqueue.h"

static pthread_mutex_t wq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wq_cond = PTHREAD_COND_INITIALIZER;
static LIST_HEAD(wq_queue);
static struct work_struct *wq_running;
static pthread_once_t wq_once = PTHREAD_ONCE_INIT;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wq_lock);
	for (;;) {
		struct work_struct *work;

		while (list_empty(&wq_queue))
			pthread_cond_wait(&wq_cond, &wq_lock);
		work = list_first_entry(&wq_queue, struct work_struct, entry);
		list_del_init(&work->entry);
		work->pending = false;
		wq_running = work;
		pthread_mutex_unlock(&wq_lock);
		work->func(work);
		pthread_mutex_lock(&wq_lock);
		wq_running = NULL;
		pthread_cond_broadcast(&wq_cond);
	}
	return NULL;
}

static void start_worker(void)
{
	pthread_t t;

	if (!pthread_create(&t, NULL, worker, NULL))
		pthread_detach(t);
}

bool schedule_work(struct work_struct *work)
{
	bool queued = false;

	pthread_once(&wq_once, start_worker);
	pthread_mutex_lock(&wq_lock);
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
		pthread_cond_wait(&wq_cond, &wq_lock);
	}
	pthread_mutex_unlock(&wq_lock);
	return waited;
}
