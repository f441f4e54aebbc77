/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: deferred work.  One worker thread runs queued work items
 * in order, like the kernel's system workqueue; flush_work() waits until an
 * item is neither queued nor running, so tests never sleep.  Without a
 * worker (it could not be started, or in a fork() child) flush_work() runs
 * the item itself, so it never waits for nothing.
 */
#ifndef GUESTMEM_SHIM_WORKQUEUE_H
#define GUESTMEM_SHIM_WORKQUEUE_H

#include "kernel.h"

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	work_func_t func;
	struct list_head entry;
	bool pending;
};

#define __WORK_INITIALIZER(n, f)	{ .func = (f), .entry = LIST_HEAD_INIT((n).entry) }
#define DECLARE_WORK(n, f)		struct work_struct n = __WORK_INITIALIZER(n, f)

static inline void INIT_WORK(struct work_struct *work, work_func_t func)
{
	work->func = func;
	INIT_LIST_HEAD(&work->entry);
	work->pending = false;
}

bool schedule_work(struct work_struct *work);
bool flush_work(struct work_struct *work);

/*
 * Userspace only.  fork(): call prepare in the parent before it (with no
 * work running or queued that the child must not see), then parent or
 * child after it; the child starts without a worker.
 */
void shim_wq_fork_prepare(void);
void shim_wq_fork_parent(void);
void shim_wq_fork_child(void);

#endif /* GUESTMEM_SHIM_WORKQUEUE_H */
