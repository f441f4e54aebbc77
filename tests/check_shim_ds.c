// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests for the shim's XArray subset and bitmaps: semantics,
 * allocation-failure atomicity (via slab.h fault injection), and randomized
 * comparison against plain-array models; and its lock checks.  The random seed comes from
 * GUESTMEM_SEED if set and is printed in every failure message.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/wait.h>
#include <unistd.h>

#include "bitmap.h"
#include "rcupdate.h"
#include "xarray.h"
#include "rng.h"
#include "test_util.h"

static int objs[64];
#define P(n)	((void *)&objs[n])

static uint64_t seed;
static struct rng rng;

static void seed_rng(void)
{
	seed = tu_seed(0x5eedc0de);
	rng_seed(&rng, seed);
}

/* ---------------------------------------------------------------- XArray */

/* Collect the present entries in order; returns how many. */
static unsigned long xa_snapshot(struct xarray *xa, unsigned long *idx, void **ent,
				 unsigned long max)
{
	unsigned long index, n = 0;
	void *entry;

	xa_for_each(xa, index, entry) {
		ck_assert_uint_lt(n, max);
		idx[n] = index;
		ent[n++] = entry;
	}
	return n;
}

START_TEST(test_xa_basic)
{
	struct xarray xa;
	size_t bytes = shim_kmalloc_bytes();
	unsigned long warns = shim_warn_count(), allocs;

	xa_init(&xa);
	ck_assert(xa_empty(&xa));
	ck_assert_ptr_null(xa_load(&xa, 0));
	ck_assert_ptr_null(xa_store(&xa, 5, P(1), GFP_KERNEL));
	ck_assert(!xa_empty(&xa));
	ck_assert_ptr_eq(xa_load(&xa, 5), P(1));
	ck_assert_ptr_null(xa_load(&xa, 4));
	ck_assert_ptr_null(xa_load(&xa, 6));
	ck_assert_ptr_null(xa_load(&xa, 5 + 64));
	ck_assert_ptr_eq(xa_store(&xa, 5, P(2), GFP_KERNEL), P(1));
	ck_assert_ptr_eq(xa_load(&xa, 5), P(2));
	ck_assert_ptr_eq(xa_erase(&xa, 5), P(2));
	ck_assert_ptr_null(xa_erase(&xa, 5));
	ck_assert(xa_empty(&xa));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);

	/* Storing NULL erases; storing NULL at an empty index allocates nothing. */
	ck_assert_ptr_null(xa_store(&xa, 7, P(3), GFP_KERNEL));
	ck_assert_ptr_eq(xa_store(&xa, 7, NULL, GFP_KERNEL), P(3));
	ck_assert(xa_empty(&xa));
	allocs = shim_alloc_count();
	ck_assert_ptr_null(xa_store(&xa, 1UL << 40, NULL, GFP_KERNEL));
	ck_assert_uint_eq(shim_alloc_count(), allocs);
	ck_assert(xa_empty(&xa));

	/* Internal entries cannot be stored. */
	ck_assert_int_eq(xa_err(xa_store(&xa, 1, XA_ZERO_ENTRY, GFP_KERNEL)), -EINVAL);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	ck_assert(xa_empty(&xa));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}
END_TEST

START_TEST(test_xa_encodings)
{
	int x;

	ck_assert(xa_is_value(xa_mk_value(0)));
	ck_assert_uint_eq(xa_to_value(xa_mk_value(12345)), 12345);
	ck_assert_uint_eq(xa_to_value(xa_mk_value(LONG_MAX)), LONG_MAX);
	ck_assert(!xa_is_value(P(0)));
	ck_assert(!xa_is_err(xa_mk_value(7)));
	ck_assert(!xa_is_err(P(0)));
	ck_assert(!xa_is_err(NULL));
	ck_assert(!xa_is_err(XA_ZERO_ENTRY));
	ck_assert(xa_is_err(XA_ERROR(-ENOMEM)));
	ck_assert_int_eq(xa_err(XA_ERROR(-ENOMEM)), -ENOMEM);
	ck_assert_int_eq(xa_err(XA_ERROR(-EINVAL)), -EINVAL);
	ck_assert_int_eq(xa_err(P(0)), 0);
	ck_assert_ptr_eq(xa_untag_pointer(xa_tag_pointer(&x, 2)), &x);
	ck_assert_uint_eq(xa_pointer_tag(xa_tag_pointer(&x, 3)), 3);
	ck_assert_uint_eq(xa_pointer_tag(&x), 0);
}
END_TEST

START_TEST(test_xa_sparse)
{
	static const unsigned long idx[] = {
		0, 1, 63, 64, 65, 4095, 4096, 1UL << 32, (1UL << 32) + 1,
		1UL << 63, ULONG_MAX - 64, ULONG_MAX - 1, ULONG_MAX,
	};
	const unsigned long n = ARRAY_SIZE(idx);
	unsigned long got_idx[16], i, k;
	void *got[16];
	size_t bytes = shim_kmalloc_bytes();
	struct xarray xa;

	xa_init(&xa);
	for (i = 0; i < n; i++) {	/* out of order */
		k = (i * 5) % n;
		ck_assert_ptr_null(xa_store(&xa, idx[k], P(k), GFP_KERNEL));
	}
	for (i = 0; i < n; i++) {
		ck_assert_ptr_eq(xa_load(&xa, idx[i]), P(i));
		for (k = 0; k < n; k++)		/* neighbours that are not stored */
			if (idx[k] == idx[i] + 2)
				break;
		if (k == n)
			ck_assert_ptr_null(xa_load(&xa, idx[i] + 2));
	}
	ck_assert_ptr_null(xa_load(&xa, 1UL << 62));
	/* Memory stays proportional: at most one path of 11 nodes per entry. */
	ck_assert_uint_le(shim_kmalloc_bytes() - bytes, n * 11 * 600);

	ck_assert_uint_eq(xa_snapshot(&xa, got_idx, got, 16), n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(got_idx[i], idx[i]);
		ck_assert_ptr_eq(got[i], P(i));
	}
	for (i = 0; i < n; i++) {
		k = (i * 7 + 3) % n;
		ck_assert_ptr_eq(xa_erase(&xa, idx[k]), P(k));
		ck_assert_ptr_null(xa_load(&xa, idx[k]));
	}
	ck_assert(xa_empty(&xa));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);

	/* Erasing the only high index gives the extra levels back. */
	ck_assert_ptr_null(xa_store(&xa, 3, P(1), GFP_KERNEL));
	bytes = shim_kmalloc_bytes();
	ck_assert_ptr_null(xa_store(&xa, ULONG_MAX, P(2), GFP_KERNEL));
	ck_assert_ptr_eq(xa_erase(&xa, ULONG_MAX), P(2));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
	ck_assert_ptr_eq(xa_load(&xa, 3), P(1));
	xa_destroy(&xa);
}
END_TEST

START_TEST(test_xa_replace_never_fails)
{
	unsigned long idx[8], idx2[8];
	void *ent[8], *ent2[8], *r;
	struct xarray xa;
	size_t bytes;

	xa_init(&xa);
	ck_assert_ptr_null(xa_store(&xa, 5, P(1), GFP_KERNEL));

	shim_fail_nth(1);
	ck_assert_ptr_eq(xa_store(&xa, 5, P(2), GFP_KERNEL), P(1));
	ck_assert_uint_eq(shim_failed_count(), 0);
	shim_fail_nth(0);
	ck_assert_ptr_eq(xa_load(&xa, 5), P(2));

	/* A new index needing nodes fails with -ENOMEM and changes nothing. */
	bytes = shim_kmalloc_bytes();
	shim_fail_nth(1);
	r = xa_store(&xa, 1UL << 40, P(3), GFP_KERNEL);
	ck_assert(xa_is_err(r));
	ck_assert_int_eq(xa_err(r), -ENOMEM);
	ck_assert_uint_eq(shim_failed_count(), 1);
	shim_fail_nth(0);
	ck_assert_ptr_null(xa_load(&xa, 1UL << 40));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
	ck_assert_uint_eq(xa_snapshot(&xa, idx, ent, 8), 1);
	ck_assert_uint_eq(idx[0], 5);
	ck_assert_ptr_eq(ent[0], P(2));

	/* Same when the array is empty. */
	xa_destroy(&xa);
	shim_fail_nth(1);
	ck_assert_int_eq(xa_err(xa_store(&xa, 3, P(3), GFP_KERNEL)), -ENOMEM);
	shim_fail_nth(0);
	ck_assert(xa_empty(&xa));

	/* Fail each allocation of a deep store in turn. */
	ck_assert_ptr_null(xa_store(&xa, 7, P(4), GFP_KERNEL));
	ck_assert_ptr_null(xa_store(&xa, 1UL << 20, P(5), GFP_KERNEL));
	for (unsigned long nth = 1;; nth++) {
		unsigned long n = xa_snapshot(&xa, idx, ent, 8), failed;

		bytes = shim_kmalloc_bytes();
		shim_fail_nth(nth);
		r = xa_store(&xa, ULONG_MAX - 3, P(6), GFP_KERNEL);
		failed = shim_failed_count();
		shim_fail_nth(0);
		if (!failed) {
			ck_assert_ptr_null(r);
			ck_assert_ptr_eq(xa_load(&xa, ULONG_MAX - 3), P(6));
			ck_assert_uint_gt(nth, 1);
			break;
		}
		ck_assert_int_eq(xa_err(r), -ENOMEM);
		ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
		ck_assert_uint_eq(xa_snapshot(&xa, idx2, ent2, 8), n);
		ck_assert_mem_eq(idx, idx2, n * sizeof(idx[0]));
		ck_assert_mem_eq(ent, ent2, n * sizeof(ent[0]));
		ck_assert_uint_lt(nth, 30);
	}
	xa_destroy(&xa);
}
END_TEST

START_TEST(test_xa_reserve)
{
	size_t bytes = shim_kmalloc_bytes(), bytes2;
	unsigned long index, idx[8];
	struct xarray xa;
	void *ent[8];

	xa_init(&xa);
	ck_assert_int_eq(xa_reserve(&xa, 10, GFP_KERNEL), 0);
	ck_assert_ptr_null(xa_load(&xa, 10));
	ck_assert(!xa_empty(&xa));
	index = 0;
	ck_assert_ptr_null(xa_find(&xa, &index, ULONG_MAX, XA_PRESENT));
	ck_assert_uint_eq(xa_snapshot(&xa, idx, ent, 8), 0);

	shim_fail_nth(1);
	ck_assert_ptr_null(xa_store(&xa, 10, P(1), GFP_KERNEL));
	ck_assert_uint_eq(shim_failed_count(), 0);
	shim_fail_nth(0);
	ck_assert_ptr_eq(xa_load(&xa, 10), P(1));
	xa_release(&xa, 10);			/* no longer reserved: no effect */
	ck_assert_ptr_eq(xa_load(&xa, 10), P(1));
	ck_assert_ptr_eq(xa_erase(&xa, 10), P(1));
	ck_assert(xa_empty(&xa));

	ck_assert_int_eq(xa_reserve(&xa, 1UL << 45, GFP_KERNEL), 0);
	xa_release(&xa, 1UL << 45);
	ck_assert(xa_empty(&xa));
	ck_assert_int_eq(xa_reserve(&xa, 30, GFP_KERNEL), 0);
	ck_assert_ptr_null(xa_erase(&xa, 30));
	ck_assert(xa_empty(&xa));
	ck_assert_int_eq(xa_reserve(&xa, 40, GFP_KERNEL), 0);
	ck_assert_ptr_null(xa_store(&xa, 40, NULL, GFP_KERNEL));
	ck_assert(xa_empty(&xa));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);

	/* Reserving a present entry changes nothing. */
	ck_assert_ptr_null(xa_store(&xa, 50, P(2), GFP_KERNEL));
	ck_assert_int_eq(xa_reserve(&xa, 50, GFP_KERNEL), 0);
	ck_assert_ptr_eq(xa_load(&xa, 50), P(2));

	/* A failed reservation changes nothing. */
	bytes2 = shim_kmalloc_bytes();
	shim_fail_nth(1);
	ck_assert_int_eq(xa_reserve(&xa, 1UL << 50, GFP_KERNEL), -ENOMEM);
	shim_fail_nth(0);
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes2);
	ck_assert_int_eq(xa_reserve(&xa, 1UL << 50, GFP_KERNEL), 0);

	/* Reserved slots are skipped by iteration. */
	ck_assert_ptr_null(xa_store(&xa, 60, P(3), GFP_KERNEL));
	ck_assert_int_eq(xa_reserve(&xa, 61, GFP_KERNEL), 0);
	ck_assert_ptr_null(xa_store(&xa, 62, P(4), GFP_KERNEL));
	ck_assert_uint_eq(xa_snapshot(&xa, idx, ent, 8), 3);
	ck_assert_uint_eq(idx[0], 50);
	ck_assert_uint_eq(idx[1], 60);
	ck_assert_uint_eq(idx[2], 62);
	xa_destroy(&xa);
	ck_assert(xa_empty(&xa));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}
END_TEST

START_TEST(test_xa_find)
{
	static const unsigned long idx[] = { 3, 10, 64, 1000, ULONG_MAX };
	unsigned long index, i, n;
	struct xarray xa;
	void *entry;

	xa_init(&xa);
	for (i = 0; i < ARRAY_SIZE(idx); i++)
		ck_assert_ptr_null(xa_store(&xa, idx[i], P(i), GFP_KERNEL));

	index = 0;
	ck_assert_ptr_eq(xa_find(&xa, &index, ULONG_MAX, XA_PRESENT), P(0));
	ck_assert_uint_eq(index, 3);
	ck_assert_ptr_eq(xa_find(&xa, &index, ULONG_MAX, XA_PRESENT), P(0));
	ck_assert_ptr_eq(xa_find_after(&xa, &index, ULONG_MAX, XA_PRESENT), P(1));
	ck_assert_uint_eq(index, 10);
	ck_assert_ptr_null(xa_find_after(&xa, &index, 10, XA_PRESENT));
	index = 11;
	ck_assert_ptr_null(xa_find(&xa, &index, 63, XA_PRESENT));
	ck_assert_uint_eq(index, 11);
	ck_assert_ptr_eq(xa_find(&xa, &index, 64, XA_PRESENT), P(2));
	ck_assert_uint_eq(index, 64);
	index = 1001;
	ck_assert_ptr_null(xa_find(&xa, &index, 1000, XA_PRESENT));
	ck_assert_ptr_eq(xa_find(&xa, &index, ULONG_MAX, XA_PRESENT), P(4));
	ck_assert_uint_eq(index, ULONG_MAX);
	ck_assert_ptr_null(xa_find_after(&xa, &index, ULONG_MAX, XA_PRESENT));
	ck_assert_uint_eq(index, ULONG_MAX);

	n = 0;
	xa_for_each_range(&xa, index, entry, 4, 1000) {
		ck_assert_uint_eq(index, idx[n + 1]);
		ck_assert_ptr_eq(entry, P(n + 1));
		n++;
	}
	ck_assert_uint_eq(n, 3);
	n = 0;
	xa_for_each_start(&xa, index, entry, 65)
		n++;
	ck_assert_uint_eq(n, 2);

	/* Erasing the current entry inside xa_for_each is allowed. */
	n = 0;
	xa_for_each(&xa, index, entry) {
		ck_assert_uint_eq(index, idx[n]);
		ck_assert_ptr_eq(xa_erase(&xa, index), entry);
		n++;
	}
	ck_assert_uint_eq(n, ARRAY_SIZE(idx));
	ck_assert(xa_empty(&xa));
}
END_TEST

static DEFINE_XARRAY(static_xa);

START_TEST(test_xa_lock)
{
	unsigned long warns = shim_warn_count(), index = 0;
	unsigned long flags;

	ck_assert_ptr_null(xa_store(&static_xa, 9, P(1), GFP_KERNEL));
	xa_lock(&static_xa);
	/* Readers work under xa_lock, as RCU readers do in the kernel. */
	ck_assert_ptr_eq(xa_load(&static_xa, 9), P(1));
	ck_assert_ptr_eq(xa_find(&static_xa, &index, ULONG_MAX, XA_PRESENT), P(1));
	ck_assert_ptr_null(__xa_store(&static_xa, 10, P(2), GFP_KERNEL));
	ck_assert_ptr_eq(__xa_erase(&static_xa, 9), P(1));
	xa_unlock(&static_xa);
	ck_assert_uint_eq(shim_warn_count(), warns);

	/* xa_store under xa_lock would deadlock in the kernel: WARN, then work. */
	xa_lock_irqsave(&static_xa, flags);
	ck_assert_ptr_eq(xa_store(&static_xa, 10, P(3), GFP_KERNEL), P(2));
	xa_unlock_irqrestore(&static_xa, flags);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	ck_assert_ptr_eq(xa_erase(&static_xa, 10), P(3));
	ck_assert(xa_empty(&static_xa));
}
END_TEST

START_TEST(test_xa_destroy)
{
	size_t bytes = shim_kmalloc_bytes();
	struct xarray xa;
	unsigned long i;

	xa_init_flags(&xa, 0);
	for (i = 0; i < 1000; i++)
		ck_assert_ptr_null(xa_store(&xa, i * 977, xa_mk_value(i), GFP_KERNEL));
	ck_assert_int_eq(xa_reserve(&xa, ULONG_MAX, GFP_KERNEL), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(xa_to_value(xa_load(&xa, i * 977)), i);
	xa_destroy(&xa);
	ck_assert(xa_empty(&xa));
	ck_assert_ptr_null(xa_load(&xa, 977));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
	ck_assert_ptr_null(xa_store(&xa, 1, P(1), GFP_KERNEL));
	xa_destroy(&xa);
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}
END_TEST

static void *xa_thread(void *arg)
{
	unsigned long t = (unsigned long)arg, i, index;
	void *entry;

	for (i = 0; i < 2000; i++) {
		unsigned long idx = (i % 100) * 4 + t + (i % 7) * (1UL << 40);

		ck_assert_ptr_null(xa_store(&static_xa, idx, xa_mk_value(idx), GFP_KERNEL));
		ck_assert_uint_eq(xa_to_value(xa_load(&static_xa, idx)), idx);
		index = 0;
		xa_for_each(&static_xa, index, entry)	/* others' entries come and go */
			ck_assert_uint_eq(xa_to_value(entry), index);
		ck_assert_ptr_eq(xa_erase(&static_xa, idx), xa_mk_value(idx));
	}
	return NULL;
}

START_TEST(test_xa_threads)
{
	pthread_t threads[4];
	unsigned long t;

	for (t = 0; t < 4; t++)
		ck_assert_int_eq(pthread_create(&threads[t], NULL, xa_thread, (void *)t), 0);
	for (t = 0; t < 4; t++)
		ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
	ck_assert(xa_empty(&static_xa));
}
END_TEST

/*
 * Lockless readers (RCU) while a writer grows the tree to its full height,
 * shrinks and prunes it: a reader never sees a wrong entry nor freed
 * memory (ASan, TSan), nested read-side sections work, threads that exit
 * while grace periods run leave cleanly, and a fork() child, whose other
 * threads are gone, can still free nodes (its grace period ends).
 */
static const unsigned long rcu_idx[] = { 0, 63, 64, 4095, 4096, 1UL << 30, ULONG_MAX };
static int rcu_obj[ARRAY_SIZE(rcu_idx)];
static atomic_bool rcu_stop;
static DEFINE_XARRAY(rcu_xa);

static bool rcu_entry_ok(unsigned long index, void *entry)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(rcu_idx); k++)
		if (rcu_idx[k] == index)
			return entry == &rcu_obj[k];
	return false;
}

static void *rcu_reader(void *arg)
{
	unsigned long n, index, bad = 0;
	bool once = arg;
	void *entry;

	for (n = 0; !bad && (once ? n < 50 : !atomic_load(&rcu_stop)); n++) {
		index = rcu_idx[n % ARRAY_SIZE(rcu_idx)];
		entry = xa_load(&rcu_xa, index);
		bad += entry && !rcu_entry_ok(index, entry);
		rcu_read_lock();	/* xa_for_each's own sections nest inside */
		xa_for_each(&rcu_xa, index, entry)
			bad += !rcu_entry_ok(index, entry);
		rcu_read_unlock();
	}
	return (void *)bad;
}

START_TEST(test_xa_rcu_readers)
{
	unsigned long round, bad = 0;
	pthread_t readers[2], brief;
	size_t k;
	int status;
	pid_t pid;
	void *ret;

	atomic_store(&rcu_stop, false);
	for (k = 0; k < ARRAY_SIZE(readers); k++)
		ck_assert_int_eq(pthread_create(&readers[k], NULL, rcu_reader, NULL), 0);
	for (round = 0; round < 400; round++) {
		for (k = 0; k < ARRAY_SIZE(rcu_idx); k++)
			ck_assert_ptr_null(xa_store(&rcu_xa, rcu_idx[k], &rcu_obj[k], GFP_KERNEL));
		/* Erase in an order that prunes leaves and then shrinks the root. */
		for (k = ARRAY_SIZE(rcu_idx); k-- > 0;)
			ck_assert_ptr_eq(xa_erase(&rcu_xa, rcu_idx[(k + round) % ARRAY_SIZE(rcu_idx)]),
					 &rcu_obj[(k + round) % ARRAY_SIZE(rcu_idx)]);
		ck_assert(xa_empty(&rcu_xa));
		if (round % 40 == 0) {	/* a thread that reads and exits */
			ck_assert_int_eq(pthread_create(&brief, NULL, rcu_reader, (void *)1), 0);
			ck_assert_int_eq(pthread_join(brief, &ret), 0);
			bad += (unsigned long)ret;
		}
	}
	/* A child inherits the readers' records but not the readers. */
	ck_assert_ptr_null(xa_store(&rcu_xa, 1UL << 30, &rcu_obj[5], GFP_KERNEL));
	ck_assert_ptr_null(xa_store(&rcu_xa, 0, &rcu_obj[0], GFP_KERNEL));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		alarm(20);
		_exit(xa_erase(&rcu_xa, 1UL << 30) == &rcu_obj[5] &&
		      xa_erase(&rcu_xa, 0) == &rcu_obj[0] && xa_empty(&rcu_xa) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status), "fork child: status %#x", status);
	xa_destroy(&rcu_xa);

	atomic_store(&rcu_stop, true);
	for (k = 0; k < ARRAY_SIZE(readers); k++) {
		ck_assert_int_eq(pthread_join(readers[k], &ret), 0);
		bad += (unsigned long)ret;
	}
	ck_assert_uint_eq(bad, 0);
}
END_TEST

#define XA_POOL	48

START_TEST(test_xa_random)
{
	unsigned long pool[XA_POOL], idx[XA_POOL];
	void *model[XA_POOL], *ent[XA_POOL];
	bool reserved[XA_POOL];
	size_t bytes = shim_kmalloc_bytes();
	struct xarray xa;
	unsigned long i, n, k;
	int step;

	seed_rng();
	/* Sorted distinct indices in clusters: small, around 2^32, near the top. */
	for (i = 0; i < XA_POOL; i++) {
		unsigned long base[] = { 0, (1UL << 32) - 8, ULONG_MAX - 15 };

		pool[i] = base[i / 16] + (i % 16) * (i / 16 == 0 ? 67 : 1);
		model[i] = NULL;
		reserved[i] = false;
	}
	xa_init(&xa);
	for (step = 0; step < 20000; step++) {
		unsigned long failed;
		void *e = rng_below(&rng, 5) ? xa_mk_value(rng_below(&rng, 1000)) : NULL, *r;
		bool had;
		int op = rng_below(&rng, 10);

		k = rng_below(&rng, XA_POOL);
		had = model[k] || reserved[k];
		if (op < 4) {
			bool inject = !rng_below(&rng, 4);

			if (inject)
				shim_fail_nth(1);
			r = xa_store(&xa, pool[k], e, GFP_KERNEL);
			failed = shim_failed_count();
			shim_fail_nth(0);
			if (inject && failed) {
				ck_assert_msg(!had && xa_err(r) == -ENOMEM,
					      "seed %" PRIu64 " step %d", seed, step);
			} else {
				ck_assert_msg(r == model[k], "seed %" PRIu64 " step %d", seed, step);
				model[k] = e;
				reserved[k] = false;
			}
		} else if (op < 6) {
			ck_assert_msg(xa_erase(&xa, pool[k]) == model[k],
				      "seed %" PRIu64 " step %d", seed, step);
			model[k] = NULL;
			reserved[k] = false;
		} else if (op < 8) {
			ck_assert_msg(xa_reserve(&xa, pool[k], GFP_KERNEL) == 0,
				      "seed %" PRIu64 " step %d", seed, step);
			reserved[k] = !model[k];
		} else {
			xa_release(&xa, pool[k]);
			reserved[k] = false;
		}

		had = false;
		for (i = n = 0; i < XA_POOL; i++) {
			ck_assert_msg(xa_load(&xa, pool[i]) == model[i],
				      "seed %" PRIu64 " step %d index %lu", seed, step, pool[i]);
			had |= model[i] || reserved[i];
			n += !!model[i];
		}
		ck_assert_msg(xa_empty(&xa) == !had, "seed %" PRIu64 " step %d", seed, step);
		if (!had)
			ck_assert_msg(shim_kmalloc_bytes() == bytes,
				      "seed %" PRIu64 " step %d leak", seed, step);
		ck_assert_msg(xa_snapshot(&xa, idx, ent, XA_POOL) == n,
			      "seed %" PRIu64 " step %d", seed, step);
		for (i = n = 0; i < XA_POOL; i++) {
			if (!model[i])
				continue;
			ck_assert_msg(idx[n] == pool[i] && ent[n] == model[i],
				      "seed %" PRIu64 " step %d", seed, step);
			n++;
		}
	}
	xa_destroy(&xa);
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}
END_TEST

/* ---------------------------------------------------------------- Bitmaps */

/*
 * Random ranges set and cleared across word boundaries, against a bool
 * array: every bit, and the find functions from every offset, agree.
 */
START_TEST(test_bitmap_random)
{
	static const unsigned int sizes[] = { 1, 63, 64, 65, 512, 1000 };
	unsigned int k, i, r, next_set, next_clear;

	seed_rng();
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		unsigned int n = sizes[k];
		unsigned long *map = calloc(BITS_TO_LONGS(n), sizeof(*map));
		bool *m = calloc(n, sizeof(*m));

		ck_assert_ptr_nonnull(map);
		ck_assert_ptr_nonnull(m);
		bitmap_zero(map, n);
		ck_assert_uint_eq(find_first_bit(map, n), n);
		ck_assert_uint_eq(find_first_zero_bit(map, n), 0);
		bitmap_fill(map, n);
		ck_assert_uint_eq(find_first_bit(map, n), 0);
		ck_assert_uint_eq(find_first_zero_bit(map, n), n);
		bitmap_zero(map, n);
		for (r = 0; r < 200; r++) {
			unsigned int start = rng_below(&rng, n), len = rng_below(&rng, n - start + 1);
			bool v = rng_below(&rng, 2);

			if (v)
				bitmap_set(map, start, len);
			else
				bitmap_clear(map, start, len);
			for (i = start; i < start + len; i++)
				m[i] = v;
			/*
			 * From the end: the first set and clear bits at or
			 * after i.  Check's assertions cost a system call each,
			 * so the loop only finds the first disagreement.
			 */
			next_set = next_clear = n;
			for (i = n; i-- > 0;) {
				if (m[i])
					next_set = i;
				else
					next_clear = i;
				if (test_bit(i, map) != m[i] ||
				    find_next_bit(map, n, i) != next_set ||
				    find_next_zero_bit(map, n, i) != next_clear)
					break;
			}
			ck_assert_msg(i == UINT_MAX, "seed %" PRIu64 " size %u: bit %u disagrees",
				      seed, n, i);
			ck_assert_uint_eq(find_next_bit(map, n, n), n);
			ck_assert_uint_eq(find_next_zero_bit(map, n, n + 5), n);
		}
		free(map);
		free(m);
	}
}
END_TEST

/* ----------------------------------------------------------------- Locks */

/*
 * The shim's lock checks follow lockdep: a lock counts as held only by the
 * thread that took it.  Each check WARNs once; the tests count WARNs and
 * read the last report to see which check fired.
 */
#define assert_warns(what, expr) do {						\
	unsigned long __w = shim_warn_count();					\
										\
	expr;									\
	ck_assert_msg(shim_warn_count() == __w + 1, "%s: %lu WARNs, not 1",	\
		      #expr, shim_warn_count() - __w);				\
	ck_assert_msg(strstr(shim_last_warning(), (what)),			\
		      "%s: last WARN \"%s\" does not mention \"%s\"", #expr,	\
		      shim_last_warning(), (what));				\
} while (0)

#define assert_no_warns(expr) do {						\
	unsigned long __w = shim_warn_count();					\
										\
	expr;									\
	ck_assert_msg(shim_warn_count() == __w, "%s: unexpected WARN: %s",	\
		      #expr, shim_last_warning());				\
} while (0)

START_TEST(test_lockdep_mutex)
{
	struct tu_holder hd;
	struct mutex m;

	TU_SKIP_WITHOUT_LOCK_CHECKS();
	mutex_init(&m);
	ck_assert(!lockdep_is_held(&m));
	assert_warns("is_held", lockdep_assert_held(&m));
	assert_no_warns(lockdep_assert_not_held(&m));

	mutex_lock(&m);
	ck_assert(lockdep_is_held(&m));
	assert_no_warns(lockdep_assert_held(&m));
	assert_warns("is_held", lockdep_assert_not_held(&m));
	assert_no_warns(might_sleep());		/* a mutex is no atomic context */
	mutex_unlock(&m);
	ck_assert(!lockdep_is_held(&m));

	/* Held by another thread is not held by this one. */
	tu_hold_start(&hd, tu_mutex_lock, tu_mutex_unlock, &m);
	ck_assert(!lockdep_is_held(&m));
	assert_warns("is_held", lockdep_assert_held(&m));
	assert_no_warns(lockdep_assert_not_held(&m));
	/* Unlocking another thread's mutex is caught and changes nothing. */
	assert_warns("is_held", mutex_unlock(&m));
	tu_hold_stop(&hd);
	ck_assert(!lockdep_is_held(&m));

	/* The lock still works after all that. */
	mutex_lock(&m);
	ck_assert(lockdep_is_held(&m));
	mutex_unlock(&m);
	assert_no_warns(mutex_destroy(&m));
}
END_TEST

START_TEST(test_lockdep_spinlock)
{
	struct tu_holder hd;
	spinlock_t sl;

	TU_SKIP_WITHOUT_LOCK_CHECKS();
	spin_lock_init(&sl);
	ck_assert(!lockdep_is_held(&sl));
	assert_warns("is_held", lockdep_assert_held(&sl));

	spin_lock(&sl);
	ck_assert(lockdep_is_held(&sl));
	ck_assert_uint_eq(shim_atomic_depth(), 1);
	assert_no_warns(lockdep_assert_held(&sl));
	assert_warns("is_held", lockdep_assert_not_held(&sl));
	/* Sleeping under a spinlock is a bug. */
	assert_warns("might_sleep", might_sleep());
	spin_unlock(&sl);
	ck_assert_uint_eq(shim_atomic_depth(), 0);
	assert_no_warns(might_sleep());

	/* Another thread's spinlock: not held here, and no atomic context here. */
	tu_hold_start(&hd, tu_spin_lock, tu_spin_unlock, &sl);
	ck_assert(!lockdep_is_held(&sl));
	assert_warns("is_held", lockdep_assert_held(&sl));
	assert_no_warns(might_sleep());
	assert_warns("is_held", spin_unlock(&sl));
	ck_assert_uint_eq(shim_atomic_depth(), 0);
	tu_hold_stop(&hd);

	spin_lock_irq(&sl);
	ck_assert(lockdep_is_held(&sl));
	spin_unlock_irq(&sl);
	ck_assert(!lockdep_is_held(&sl));
}
END_TEST

/* Taking a lock twice deadlocks in the kernel; the shim aborts instead of hanging. */
START_TEST(test_lockdep_recursion_aborts)
{
	struct mutex m;

	mutex_init(&m);
	mutex_lock(&m);
	mutex_lock(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_ds");
	TCase *xa = tcase_create("xarray");
	TCase *bm = tcase_create("bitmap");
	TCase *lk = tcase_create("locking");
	SRunner *sr;
	int failed;

	tcase_set_timeout(xa, 120);
	tcase_add_test(xa, test_xa_basic);
	tcase_add_test(xa, test_xa_encodings);
	tcase_add_test(xa, test_xa_sparse);
	tcase_add_test(xa, test_xa_replace_never_fails);
	tcase_add_test(xa, test_xa_reserve);
	tcase_add_test(xa, test_xa_find);
	tcase_add_test(xa, test_xa_lock);
	tcase_add_test(xa, test_xa_destroy);
	tcase_add_test(xa, test_xa_threads);
	tcase_add_test(xa, test_xa_rcu_readers);
	tcase_add_test(xa, test_xa_random);
	tcase_add_test(bm, test_bitmap_random);
	tcase_add_test(lk, test_lockdep_mutex);
	tcase_add_test(lk, test_lockdep_spinlock);
	/* The abort would end the whole run without fork(). */
	if (!CONFIG_GUESTMEM_DEBUG)
		fprintf(stderr, "SKIP: test_lockdep_recursion_aborts: lock checks exist in "
			"debug builds only\n");
	else if (!getenv("CK_FORK") || strcmp(getenv("CK_FORK"), "no"))
		tcase_add_test_raise_signal(lk, test_lockdep_recursion_aborts, SIGABRT);
	else
		fprintf(stderr, "SKIP: test_lockdep_recursion_aborts: CK_FORK=no, and the "
			"abort it expects would end the whole run\n");
	suite_add_tcase(s, xa);
	suite_add_tcase(s, bm);
	suite_add_tcase(s, lk);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
