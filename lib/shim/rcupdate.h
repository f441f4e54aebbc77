/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the part of RCU the shim's xarray needs, so that its
 * readers take no lock, as the kernel's do.  A reader marks its thread as
 * inside a read-side section with the grace-period number it saw; a writer
 * that unlinked memory starts a new grace period and waits until no thread
 * is inside a section begun before it (synchronize_rcu()), then frees.
 * Readers do not wait, except in a thread's first section, which lists the
 * thread under the lock that grace periods hold.  Writers wait by yielding,
 * so synchronize_rcu() is for rare paths (freeing xarray nodes), never for
 * a reader's hot path, and never inside a read-side section.
 *
 * The announcement and the grace period's reads of it are sequentially
 * consistent atomics: a reader's loads of pointers published by writers
 * must be ordered after its announcement, and TSan models atomics, not
 * standalone fences.  Leaving a section is a release store.
 */
#ifndef GUESTMEM_SHIM_RCUPDATE_H
#define GUESTMEM_SHIM_RCUPDATE_H

void rcu_read_lock(void);
void rcu_read_unlock(void);
/* Wait until every read-side section that began before the call has ended. */
void synchronize_rcu(void);
/*
 * Register RCU's fork() handlers now (they hold its lock across fork()).
 * A user whose own prepare handler waits for threads that may be in a grace
 * period calls this before registering it, so that its handler runs first.
 */
void rcu_init_fork(void);

#endif /* GUESTMEM_SHIM_RCUPDATE_H */
