/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the Check suites: pools, invariant assertions, and
 * snapshots of a file's complete observable state for "nothing changed"
 * checks.
 */
#ifndef GUESTMEM_TEST_UTIL_H
#define GUESTMEM_TEST_UTIL_H

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/guestmem.h>

#define SZ_4K	(4096ULL)
#define SZ_2M	(2ULL << 20)
#define SZ_1G	(1ULL << 30)
#define SZ_1T	(1ULL << 40)

/* Access to mm/'s private structures for layout checks. */
#include "../mm/guestmem_internal.h"

struct hstate *tu_pool(unsigned int order, unsigned long nr);
struct hstate *tu_pool_kind(unsigned int order, unsigned long nr,
			    enum shim_backend kind);
void tu_pool_destroy(struct hstate *h);
struct hgmem_file *tu_file(struct hstate *h, u64 size, u64 flags);

/* Assert the file's invariants and the pool's books; fails the test with the reason. */
#define tu_check(f) tu_check_at((f), __FILE__, __LINE__)
void tu_check_at(struct hgmem_file *f, const char *file, int line);
/* After everything is released: the pool is whole again. */
#define tu_assert_pool_whole(h) tu_assert_pool_whole_at((h), __FILE__, __LINE__)
void tu_assert_pool_whole_at(struct hstate *h, const char *file, int line);
/*
 * No WARN fired since tu_reset_warnings().  The shim's WARN_ON only counts
 * (lib/shim/kernel.c), and so do its lock checks (lockdep_assert_held(),
 * might_sleep()): a WARN fails a test only
 * through this.  Every suite that drives mm/ runs the pair as the checked
 * fixture of its test cases, so an unexpected WARN fails the test it fired
 * in; a test that provokes WARNs on purpose resets the count afterwards.
 */
void tu_assert_no_warnings(void);
/*
 * The shim checks lock rules in debug builds only, as the kernel does with
 * lockdep (lib/shim/kernel.h): a test of those checks skips elsewhere.
 */
#define TU_SKIP_WITHOUT_LOCK_CHECKS() do {					\
	if (!CONFIG_GUESTMEM_DEBUG) {						\
		printf("SKIP %s: lock checks exist in debug builds only\n",	\
		       __func__);						\
		return;								\
	}									\
} while (0)

void tu_reset_warnings(void);

/* Folio order at file offset @off (allocated pages only). */
int tu_order_at(struct hgmem_file *f, u64 off);
/* Number of folios covering the huge page at @off. */
unsigned long tu_nr_folios(struct hgmem_file *f, u64 off);
unsigned char *tu_addr(struct hgmem_file *f, u64 off);

/* Everything observable about a file and its pool. */
struct tu_snapshot {
	char *text;
	size_t len;
};
void tu_snapshot(struct hgmem_file *f, struct tu_snapshot *s);
void tu_snapshot_free(struct tu_snapshot *s);
#define tu_assert_snapshot_eq(a, b) \
	ck_assert_msg((a)->len == (b)->len && !memcmp((a)->text, (b)->text, (a)->len), \
		      "state changed:\n--- before\n%s--- after\n%s", (a)->text, (b)->text)

/* Seed from GUESTMEM_SEED or @def; printed so a failure can be replayed. */
unsigned long tu_seed(unsigned long def);
/* Run one suite; returns the number of failures. */
int tu_run(Suite *s);

/*
 * A thread that takes a lock and keeps it until told to let go, to check
 * that a lock held by another thread does not count as held.
 */
struct tu_holder {
	pthread_t thread;
	pthread_barrier_t taken, release;
	void (*lock)(void *l);
	void (*unlock)(void *l);
	void *l;
};

/* Start @hd's thread; returns once it holds @l (taken with @lock). */
void tu_hold_start(struct tu_holder *hd, void (*lock)(void *), void (*unlock)(void *),
		   void *l);
/* Let go of the lock and join the thread. */
void tu_hold_stop(struct tu_holder *hd);
/* Lock and unlock callbacks for tu_hold_start(). */
void tu_mutex_lock(void *l);
void tu_mutex_unlock(void *l);
void tu_spin_lock(void *l);
void tu_spin_unlock(void *l);

#endif /* GUESTMEM_TEST_UTIL_H */
