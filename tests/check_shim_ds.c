// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests for the shim's XArray and Maple Tree subsets: semantics,
 * allocation-failure atomicity (via slab.h fault injection), and randomized
 * comparison against plain-array models.  The random seed comes from
 * GUESTMEM_SEED if set and is printed in every failure message.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "maple_tree.h"
#include "xarray.h"
#include "rng.h"
#include "test_util.h"

static int objs[64];
#define P(n)	((void *)&objs[n])

static uint64_t seed;
static struct rng rng;

static void seed_rng(void)
{
	const char *env = getenv("GUESTMEM_SEED");

	seed = env ? strtoull(env, NULL, 0) : 0x5eedc0de;
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

/* ------------------------------------------------------------ Maple tree */

struct range {
	unsigned long first, last;
	void *entry;
};

/* Collect all ranges with mas_for_each; returns how many. */
static unsigned long mt_snapshot(struct maple_tree *mt, struct range *r, unsigned long max)
{
	MA_STATE(mas, mt, 0, 0);
	unsigned long n = 0;
	void *entry;

	mas_for_each(&mas, entry, ULONG_MAX) {
		ck_assert_uint_lt(n, max);
		r[n++] = (struct range){ mas.index, mas.last, entry };
	}
	return n;
}

static void check_ranges(struct maple_tree *mt, const struct range *want, unsigned long n)
{
	struct range got[16];

	ck_assert_uint_eq(mt_snapshot(mt, got, 16), n);
	ck_assert_uint_eq(shim_mt_nr_ranges(mt), n);
	for (unsigned long i = 0; i < n; i++) {
		ck_assert_uint_eq(got[i].first, want[i].first);
		ck_assert_uint_eq(got[i].last, want[i].last);
		ck_assert_ptr_eq(got[i].entry, want[i].entry);
	}
}

START_TEST(test_mt_store)
{
	size_t bytes = shim_kmalloc_bytes();
	struct maple_tree mt;

	mt_init(&mt);		/* the normal API takes the tree's own lock */
	ck_assert(mtree_empty(&mt));
	ck_assert_int_eq(mtree_store_range(&mt, 10, 19, P(1), GFP_KERNEL), 0);
	ck_assert(!mtree_empty(&mt));
	ck_assert_ptr_null(mtree_load(&mt, 9));
	ck_assert_ptr_eq(mtree_load(&mt, 10), P(1));
	ck_assert_ptr_eq(mtree_load(&mt, 19), P(1));
	ck_assert_ptr_null(mtree_load(&mt, 20));

	/* Overwriting the middle splits into three. */
	ck_assert_int_eq(mtree_store(&mt, 15, P(2), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 10, 14, P(1) }, { 15, 15, P(2) },
					     { 16, 19, P(1) } }, 3);
	/* A NULL store makes a gap across ranges. */
	ck_assert_int_eq(mtree_store_range(&mt, 12, 17, NULL, GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 10, 11, P(1) }, { 18, 19, P(1) } }, 2);
	/* A store spanning several ranges trims the outer ones. */
	ck_assert_int_eq(mtree_store_range(&mt, 30, 39, P(3), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store_range(&mt, 11, 31, P(4), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 10, 10, P(1) }, { 11, 31, P(4) },
					     { 32, 39, P(3) } }, 3);
	/* Adjacent equal entries are not merged. */
	ck_assert_int_eq(mtree_store_range(&mt, 40, 49, P(3), GFP_KERNEL), 0);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 4);

	ck_assert_int_eq(mtree_store_range(&mt, 5, 4, P(1), GFP_KERNEL), -EINVAL);
	ck_assert_ptr_eq(mtree_erase(&mt, 20), P(4));
	ck_assert_ptr_null(mtree_erase(&mt, 20));
	check_ranges(&mt, (struct range[]){ { 10, 10, P(1) }, { 32, 39, P(3) },
					     { 40, 49, P(3) } }, 3);

	ck_assert_int_eq(mtree_store_range(&mt, 0, ULONG_MAX, P(5), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 0, ULONG_MAX, P(5) } }, 1);
	ck_assert_ptr_eq(mtree_load(&mt, ULONG_MAX), P(5));
	ck_assert_int_eq(mtree_store_range(&mt, 0, ULONG_MAX, NULL, GFP_KERNEL), 0);
	ck_assert(mtree_empty(&mt));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);

	ck_assert_int_eq(mtree_store(&mt, ULONG_MAX, P(6), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, 0, P(7), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 0, 0, P(7) }, { ULONG_MAX, ULONG_MAX, P(6) } }, 2);
	mtree_destroy(&mt);
	ck_assert(mtree_empty(&mt));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}
END_TEST

static void check_walk(struct ma_state *mas, unsigned long index, void *entry,
		       unsigned long first, unsigned long last)
{
	mas_set(mas, index);
	ck_assert_ptr_eq(mas_walk(mas), entry);
	ck_assert_uint_eq(mas->index, first);
	ck_assert_uint_eq(mas->last, last);
}

START_TEST(test_mt_walk)
{
	struct maple_tree mt;
	MA_STATE(mas, &mt, 0, 0);

	mt_init(&mt);
	check_walk(&mas, 5, NULL, 0, ULONG_MAX);
	ck_assert_int_eq(mtree_store_range(&mt, 10, 19, P(1), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, 30, P(2), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store_range(&mt, ULONG_MAX - 5, ULONG_MAX, P(3), GFP_KERNEL), 0);
	check_walk(&mas, 15, P(1), 10, 19);
	check_walk(&mas, 10, P(1), 10, 19);
	check_walk(&mas, 5, NULL, 0, 9);
	check_walk(&mas, 20, NULL, 20, 29);
	check_walk(&mas, 30, P(2), 30, 30);
	check_walk(&mas, 31, NULL, 31, ULONG_MAX - 6);
	check_walk(&mas, ULONG_MAX, P(3), ULONG_MAX - 5, ULONG_MAX);
	ck_assert_int_eq(mtree_store(&mt, 0, P(4), GFP_KERNEL), 0);
	check_walk(&mas, 0, P(4), 0, 0);
	check_walk(&mas, 1, NULL, 1, 9);
	mtree_destroy(&mt);
}
END_TEST

START_TEST(test_mt_find)
{
	struct maple_tree mt;
	MA_STATE(mas, &mt, 0, 0);
	unsigned long n;
	void *entry;

	mt_init(&mt);
	ck_assert_ptr_null(mas_find(&mas, ULONG_MAX));
	ck_assert_int_eq(mtree_store_range(&mt, 10, 19, P(1), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, 30, P(2), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store_range(&mt, 40, 49, P(3), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, ULONG_MAX, P(4), GFP_KERNEL), 0);

	mas_set(&mas, 0);
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(1));
	ck_assert_uint_eq(mas.index, 10);
	ck_assert_uint_eq(mas.last, 19);
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(2));
	ck_assert_uint_eq(mas.index, 30);
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(3));
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(4));
	ck_assert_uint_eq(mas.index, ULONG_MAX);
	ck_assert_uint_eq(mas.last, ULONG_MAX);
	ck_assert_ptr_null(mas_find(&mas, ULONG_MAX));
	ck_assert_ptr_null(mas_find(&mas, ULONG_MAX));

	/* The first call returns the range containing mas->index. */
	mas_set(&mas, 15);
	ck_assert_ptr_eq(mas_find(&mas, 100), P(1));
	ck_assert_uint_eq(mas.index, 10);
	/* max limits; a later call with a larger max carries on. */
	mas_set(&mas, 20);
	ck_assert_ptr_eq(mas_find(&mas, 35), P(2));
	ck_assert_ptr_null(mas_find(&mas, 35));
	ck_assert_ptr_eq(mas_find(&mas, 45), P(3));
	ck_assert_uint_eq(mas.index, 40);
	ck_assert_uint_eq(mas.last, 49);
	ck_assert_ptr_null(mas_find(&mas, 45));
	mas_set(&mas, 50);
	ck_assert_ptr_null(mas_find(&mas, 45));
	mas_set(&mas, 0);
	ck_assert_ptr_eq(mas_find(&mas, 10), P(1));

	n = 0;
	mas_set(&mas, 0);
	mas_for_each(&mas, entry, 40)
		ck_assert_ptr_eq(entry, P(++n));
	ck_assert_uint_eq(n, 3);

	/* mas_find continues after a mas_walk. */
	mas_set(&mas, 15);
	ck_assert_ptr_eq(mas_walk(&mas), P(1));
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(2));
	mas_set(&mas, 25);
	ck_assert_ptr_null(mas_walk(&mas));
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(2));

	/* mas_pause, then the tree changes, then the walk resumes. */
	mas_set(&mas, 0);
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(1));
	mas_pause(&mas);
	ck_assert_int_eq(mtree_store_range(&mt, 20, 25, P(5), GFP_KERNEL), 0);
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(5));
	ck_assert_uint_eq(mas.index, 20);
	ck_assert_uint_eq(mas.last, 25);
	ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(2));
	mtree_destroy(&mt);
}
END_TEST

START_TEST(test_mt_prealloc)
{
	unsigned long warns = shim_warn_count(), i, allocs;
	struct range before[128], after[128];
	struct maple_tree mt;
	int enomem = 0;

	mt_init(&mt);
	ck_assert_int_eq(mtree_store_range(&mt, 0, 1000, P(1), GFP_KERNEL), 0);
	for (i = 0; i < 40; i++) {
		MA_STATE(mas, &mt, 1000 - 20 * i - 5, 1000 - 20 * i);
		unsigned long n = mt_snapshot(&mt, before, 128);
		size_t bytes = shim_kmalloc_bytes();
		int ret;

		/* Failed preallocation changes nothing. */
		mtree_lock(&mt);
		shim_fail_nth(1);
		ret = mas_preallocate(&mas, P(2), GFP_KERNEL);
		if (shim_failed_count()) {
			ck_assert_int_eq(ret, -ENOMEM);
			ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
			ck_assert_uint_eq(mt_snapshot(&mt, after, 128), n);
			ck_assert_mem_eq(before, after, n * sizeof(before[0]));
			enomem++;
			shim_fail_nth(0);
			ck_assert_int_eq(mas_preallocate(&mas, P(2), GFP_KERNEL), 0);
		} else {
			ck_assert_int_eq(ret, 0);
		}
		/* The store itself allocates nothing, so cannot fail. */
		shim_fail_nth(1);
		allocs = shim_alloc_count();
		mas_store_prealloc(&mas, P(2 + i % 2));
		ck_assert_uint_eq(shim_alloc_count(), allocs);
		ck_assert_uint_eq(shim_failed_count(), 0);
		shim_fail_nth(0);
		mas_destroy(&mas);
		mtree_unlock(&mt);
		ck_assert_uint_eq(shim_mt_nr_ranges(&mt), n + (i ? 2 : 1));
		ck_assert_ptr_eq(mtree_load(&mt, mas.index), P(2 + i % 2));
	}
	ck_assert_int_gt(enomem, 1);
	mtree_lock(&mt);
	ck_assert_int_eq(mas_preallocate(&(struct ma_state){ .tree = &mt, .index = 2, .last = 1 },
					 NULL, GFP_KERNEL), -EINVAL);
	mtree_unlock(&mt);
	ck_assert_uint_eq(shim_warn_count(), warns);
	mtree_destroy(&mt);
}
END_TEST

START_TEST(test_mt_enomem)
{
	struct range before[80], after[80];
	struct maple_tree mt;
	unsigned long i, n;
	int enomem = 0;

	mt_init(&mt);
	for (i = 0; i < 64; i++) {
		size_t bytes = shim_kmalloc_bytes();
		int ret;

		n = mt_snapshot(&mt, before, 80);
		shim_fail_nth(1);
		ret = mtree_store_range(&mt, 10 * i, 10 * i + 5, P(i % 8), GFP_KERNEL);
		if (shim_failed_count()) {
			ck_assert_int_eq(ret, -ENOMEM);
			ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
			ck_assert_uint_eq(mt_snapshot(&mt, after, 80), n);
			ck_assert_mem_eq(before, after, n * sizeof(before[0]));
			enomem++;
			shim_fail_nth(0);
			ck_assert_int_eq(mtree_store_range(&mt, 10 * i, 10 * i + 5,
							   P(i % 8), GFP_KERNEL), 0);
		}
		shim_fail_nth(0);
	}
	ck_assert_int_gt(enomem, 2);

	/* Stores that do not add ranges never allocate. */
	n = shim_alloc_count();
	shim_fail_nth(1);
	ck_assert_int_eq(mtree_store_range(&mt, 20, 25, P(9), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store_range(&mt, 0, 12, NULL, GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store_range(&mt, 100, 105, NULL, GFP_KERNEL), 0);
	ck_assert_ptr_eq(mtree_erase(&mt, 300), P(30 % 8));
	ck_assert_uint_eq(shim_failed_count(), 0);
	shim_fail_nth(0);
	ck_assert_uint_eq(shim_alloc_count(), n);
	ck_assert_ptr_eq(mtree_load(&mt, 22), P(9));
	ck_assert_ptr_null(mtree_load(&mt, 3));
	ck_assert_ptr_null(mtree_load(&mt, 12));
	ck_assert_ptr_null(mtree_load(&mt, 300));
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 61);
	mtree_destroy(&mt);
}
END_TEST

#define MT_N	64

/* Maximal runs of equal non-NULL model entries are the expected ranges. */
static unsigned long model_runs(void **m, unsigned long base, struct range *r)
{
	unsigned long n = 0, k;

	for (k = 0; k < MT_N; k++) {
		if (!m[k])
			continue;
		if (n && r[n - 1].last == base + k - 1 && r[n - 1].entry == m[k])
			r[n - 1].last++;
		else
			r[n++] = (struct range){ base + k, base + k, m[k] };
	}
	return n;
}

/*
 * @ext: the tree has an external lock, held for the whole run, and is
 * written with the advanced API (mas_store_gfp) only; otherwise it uses its
 * own lock, which the mtree_* calls take and the mas_* writers hold.
 */
static void mt_random_run(unsigned long base, bool ext)
{
	struct range want[MT_N], got[MT_N];
	void *model[MT_N] = { NULL };
	size_t bytes = shim_kmalloc_bytes();
	unsigned long tok = 0, i, n;
	struct maple_tree mt;
	struct mutex lock;
	int step;

	if (ext) {
		mutex_init(&lock);
		mt_init_flags(&mt, MT_FLAGS_LOCK_EXTERN);
		mt_set_external_lock(&mt, &lock);
		mutex_lock(&lock);
	} else {
		mt_init(&mt);
	}
	for (step = 0; step < 4000; step++) {
		unsigned long a = rng_below(&rng, MT_N), b = a + rng_below(&rng, rng_below(&rng, 4) ? 8 : MT_N), k;
		void *e = rng_below(&rng, 4) ? (void *)(uintptr_t)(++tok << 4) : NULL;
		MA_STATE(mas, &mt, base + a, 0);
		int op = rng_below(&rng, 10), ret = 0;
		bool inject = !rng_below(&rng, 4), failed;

		b = min(b, MT_N - 1UL);
		mas.last = base + b;
		if (op < 6) {
			if (inject)
				shim_fail_nth(1);
			if (ext)
				ret = mas_store_gfp(&mas, e, GFP_KERNEL);
			else if (a == b && rng_below(&rng, 2))
				ret = mtree_store(&mt, base + a, e, GFP_KERNEL);
			else
				ret = mtree_store_range(&mt, base + a, base + b, e, GFP_KERNEL);
			failed = shim_failed_count();
			shim_fail_nth(0);
			ck_assert_msg(ret == (inject && failed ? -ENOMEM : 0),
				      "seed %" PRIu64 " base %lx step %d", seed, base, step);
		} else if (op < 9) {
			if (!ext)
				mtree_lock(&mt);
			if (inject)
				shim_fail_nth(1);
			ret = mas_preallocate(&mas, e, GFP_KERNEL);
			failed = shim_failed_count();
			shim_fail_nth(0);
			ck_assert_msg(ret == (inject && failed ? -ENOMEM : 0),
				      "seed %" PRIu64 " base %lx step %d", seed, base, step);
			if (!ret) {
				shim_fail_nth(1);
				mas_store_prealloc(&mas, e);
				ck_assert_msg(!shim_failed_count(),
					      "seed %" PRIu64 " base %lx step %d", seed, base, step);
				shim_fail_nth(0);
			}
			mas_destroy(&mas);
			if (!ext)
				mtree_unlock(&mt);
		} else {
			/*
			 * mtree_erase removes the whole range containing a; so
			 * does storing NULL over the range mas_walk finds.
			 */
			void *old = model[a], *got_entry;

			if (ext) {
				got_entry = mas_walk(&mas);
				if (got_entry)
					ck_assert_int_eq(mas_store_gfp(&mas, NULL, GFP_KERNEL), 0);
			} else {
				got_entry = mtree_erase(&mt, base + a);
			}
			ck_assert_msg(got_entry == old,
				      "seed %" PRIu64 " base %lx step %d", seed, base, step);
			for (k = a; old && k < MT_N && model[k] == old; k++)
				model[k] = NULL;
			for (k = a; old && k-- > 0 && model[k] == old;)
				model[k] = NULL;
			ret = 1;	/* model already updated */
		}
		if (!ret)
			for (k = a; k <= b; k++)
				model[k] = e;

		/* Compare everything. */
		ck_assert_msg(!shim_mt_validate(&mt), "seed %" PRIu64 " base %lx step %d: %s",
			      seed, base, step, shim_mt_validate(&mt));
		n = model_runs(model, base, want);
		ck_assert_msg(mt_snapshot(&mt, got, MT_N) == n && shim_mt_nr_ranges(&mt) == n,
			      "seed %" PRIu64 " base %lx step %d", seed, base, step);
		ck_assert_msg(!memcmp(want, got, n * sizeof(want[0])),
			      "seed %" PRIu64 " base %lx step %d", seed, base, step);
		ck_assert_msg(mtree_empty(&mt) == !n && (n || shim_kmalloc_bytes() == bytes),
			      "seed %" PRIu64 " base %lx step %d", seed, base, step);
		for (k = 0, i = 0; k < MT_N; k++) {
			unsigned long lo = k, hi = k;
			void *entry;

			while (lo > 0 && model[lo - 1] == model[k])
				lo--;
			while (hi < MT_N - 1 && model[hi + 1] == model[k])
				hi++;
			mas_set(&mas, base + k);
			entry = mas_walk(&mas);
			ck_assert_msg(mtree_load(&mt, base + k) == model[k] && entry == model[k],
				      "seed %" PRIu64 " base %lx step %d index %lu", seed, base, step, k);
			ck_assert_msg(mas.index == (lo || model[k] ? base + lo : 0) &&
				      mas.last == (hi < MT_N - 1 || model[k] ? base + hi : ULONG_MAX),
				      "seed %" PRIu64 " base %lx step %d walk %lu", seed, base, step, k);

			/* mas_find from k up to a random max. */
			while (i < n && want[i].last < base + k)
				i++;
			b = k + rng_below(&rng, MT_N - k);
			mas_set(&mas, base + k);
			entry = mas_find(&mas, base + b);
			if (i < n && want[i].first <= base + b)
				ck_assert_msg(entry == want[i].entry && mas.index == want[i].first &&
					      mas.last == want[i].last,
					      "seed %" PRIu64 " base %lx step %d find %lu", seed, base, step, k);
			else
				ck_assert_msg(!entry, "seed %" PRIu64 " base %lx step %d find %lu",
					      seed, base, step, k);
		}
	}
	if (ext) {
		__mt_destroy(&mt);
		mutex_unlock(&lock);
		mutex_destroy(&lock);
	} else {
		mtree_destroy(&mt);
	}
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}

START_TEST(test_mt_random)
{
	unsigned long warns = shim_warn_count();

	seed_rng();
	mt_random_run(0, false);
	mt_random_run(ULONG_MAX - (MT_N - 1), false);
	mt_random_run(1UL << 40, false);
	mt_random_run(0, true);
	mt_random_run(ULONG_MAX - (MT_N - 1), true);
	mt_random_run(1UL << 40, true);
	ck_assert_uint_eq(shim_warn_count(), warns);
}
END_TEST

/*
 * Edge cases of the stores: the ends of the index space, splitting a range
 * in the middle (with an entry and with NULL), and stores spanning many
 * ranges, with a range or a gap.
 */
START_TEST(test_mt_edges)
{
	size_t bytes = shim_kmalloc_bytes();
	unsigned long warns = shim_warn_count(), i;
	struct maple_tree mt;
	MA_STATE(mas, &mt, 0, 0);

	mt_init(&mt);
	mtree_lock(&mt);
	mas_set_range(&mas, 0, 0);
	ck_assert_int_eq(mas_store_gfp(&mas, P(1), GFP_KERNEL), 0);
	mas_set_range(&mas, ULONG_MAX, ULONG_MAX);
	ck_assert_int_eq(mas_preallocate(&mas, P(2), GFP_KERNEL), 0);
	mas_store_prealloc(&mas, P(2));
	mas_destroy(&mas);
	mtree_unlock(&mt);
	check_ranges(&mt, (struct range[]){ { 0, 0, P(1) }, { ULONG_MAX, ULONG_MAX, P(2) } }, 2);
	check_walk(&mas, 1, NULL, 1, ULONG_MAX - 1);
	check_walk(&mas, ULONG_MAX - 1, NULL, 1, ULONG_MAX - 1);

	/* Covers [0, 0], stops just before ULONG_MAX. */
	ck_assert_int_eq(mtree_store_range(&mt, 0, ULONG_MAX - 1, P(3), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 0, ULONG_MAX - 1, P(3) },
					     { ULONG_MAX, ULONG_MAX, P(2) } }, 2);
	/* Splits in the middle, one index from either end. */
	ck_assert_int_eq(mtree_store(&mt, 1, P(4), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, ULONG_MAX - 2, P(5), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 0, 0, P(3) }, { 1, 1, P(4) },
					     { 2, ULONG_MAX - 3, P(3) },
					     { ULONG_MAX - 2, ULONG_MAX - 2, P(5) },
					     { ULONG_MAX - 1, ULONG_MAX - 1, P(3) },
					     { ULONG_MAX, ULONG_MAX, P(2) } }, 6);
	/* NULL strictly inside a range: a gap, and the range splits in two. */
	ck_assert_int_eq(mtree_store_range(&mt, 100, 199, NULL, GFP_KERNEL), 0);
	check_walk(&mas, 150, NULL, 100, 199);
	check_walk(&mas, 99, P(3), 2, 99);
	check_walk(&mas, 200, P(3), 200, ULONG_MAX - 3);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 7);
	/* NULL at both ends. */
	ck_assert_int_eq(mtree_store(&mt, 0, NULL, GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, ULONG_MAX, NULL, GFP_KERNEL), 0);
	check_walk(&mas, 0, NULL, 0, 0);
	check_walk(&mas, ULONG_MAX, NULL, ULONG_MAX, ULONG_MAX);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 5);
	/* A range over everything, then NULL over everything. */
	ck_assert_int_eq(mtree_store_range(&mt, 0, ULONG_MAX, P(6), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 0, ULONG_MAX, P(6) } }, 1);
	ck_assert_int_eq(mtree_store(&mt, ULONG_MAX, P(7), GFP_KERNEL), 0);
	ck_assert_int_eq(mtree_store(&mt, 0, P(8), GFP_KERNEL), 0);
	check_ranges(&mt, (struct range[]){ { 0, 0, P(8) }, { 1, ULONG_MAX - 1, P(6) },
					     { ULONG_MAX, ULONG_MAX, P(7) } }, 3);
	ck_assert_int_eq(mtree_store_range(&mt, 0, ULONG_MAX, NULL, GFP_KERNEL), 0);
	ck_assert(mtree_empty(&mt));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);

	/* A store spanning many ranges trims the outer two and frees the rest. */
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(mtree_store_range(&mt, 10 * i, 10 * i + 4, P(i % 8),
						   GFP_KERNEL), 0);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 1000);
	ck_assert_int_eq(mtree_store_range(&mt, 102, 9902, P(9), GFP_KERNEL), 0);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 22);
	check_walk(&mas, 101, P(10 % 8), 100, 101);
	check_walk(&mas, 5000, P(9), 102, 9902);
	check_walk(&mas, 9903, P(990 % 8), 9903, 9904);
	check_walk(&mas, 9905, NULL, 9905, 9909);
	/* The same with NULL: one gap from range 5 to inside range 995. */
	ck_assert_int_eq(mtree_store_range(&mt, 45, 9951, NULL, GFP_KERNEL), 0);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 10);
	check_walk(&mas, 5000, NULL, 45, 9951);
	check_walk(&mas, 44, P(4), 40, 44);
	check_walk(&mas, 9952, P(995 % 8), 9952, 9954);
	/* Exactly the ranges [40, 44] .. [9952, 9954]: nothing to allocate. */
	i = shim_alloc_count();
	ck_assert_int_eq(mtree_store_range(&mt, 40, 9954, P(10), GFP_KERNEL), 0);
	ck_assert_uint_eq(shim_alloc_count(), i);
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 9);
	check_walk(&mas, 40, P(10), 40, 9954);
	mtree_destroy(&mt);
	ck_assert(mtree_empty(&mt));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
	ck_assert_uint_eq(shim_warn_count(), warns);
}
END_TEST

/*
 * mas_for_each with mas_pause() after every range while the tree changes
 * behind the position (not visited again) and ahead of it (a range added
 * ahead is visited, one removed ahead is not).
 */
START_TEST(test_mt_pause_iterate)
{
	unsigned long k, next = 0, visited = 0, originals = 0;
	struct maple_tree mt;
	MA_STATE(mas, &mt, 0, 0);
	void *entry;

	mt_init(&mt);
	for (k = 0; k < 300; k++)
		ck_assert_int_eq(mtree_store_range(&mt, 10 * k, 10 * k + 4, P(k % 8),
						   GFP_KERNEL), 0);
	mas_for_each(&mas, entry, ULONG_MAX) {
		ck_assert_uint_eq(mas.index, next);
		k = mas.index / 10;
		visited++;
		mas_pause(&mas);
		if (mas.index % 10 == 6) {	/* the range added ahead */
			ck_assert_ptr_eq(entry, P(63));
			ck_assert_uint_eq(mas.last, 10 * k + 7);
			next = 10 * (k + 1);
			continue;
		}
		originals++;
		ck_assert_ptr_eq(entry, P(k % 8));
		ck_assert_uint_eq(mas.last, 10 * k + 4);
		/* Behind: split the range just returned; not visited again. */
		ck_assert_int_eq(mtree_store(&mt, 10 * k + 1, P(62), GFP_KERNEL), 0);
		switch (k % 3) {
		case 0:		/* ahead, in the gap */
			ck_assert_int_eq(mtree_store_range(&mt, 10 * k + 6, 10 * k + 7,
							   P(63), GFP_KERNEL), 0);
			next = 10 * k + 6;
			break;
		case 1:		/* remove the next range */
			if (k + 1 < 300)
				ck_assert_ptr_eq(mtree_erase(&mt, 10 * (k + 1) + 2),
						 P((k + 1) % 8));
			next = 10 * (k + 2);
			break;
		default:
			next = 10 * (k + 1);
			break;
		}
	}
	ck_assert_uint_eq(originals, 200);
	ck_assert_uint_eq(visited, 300);
	/* mas_find after the end keeps returning NULL; a later store is found. */
	ck_assert_ptr_null(mas_find(&mas, ULONG_MAX));
	mas_pause(&mas);
	ck_assert_ptr_null(mas_find(&mas, ULONG_MAX));
	mtree_destroy(&mt);
}
END_TEST

static unsigned long ilog2_up(unsigned long n)
{
	unsigned long l = 0;

	while (l < sizeof(long) * 8 - 1 && (1UL << l) < n)
		l++;
	return l;
}

/*
 * A bound on the height of the B+tree of @n ranges: at least 10 ranges a
 * leaf and 15 children an inner node (log2(10) > 3), plus the root and one
 * spare level.
 */
#define MT_HEIGHT_MAX(n)	(ilog2_up((n) + 1) / 3 + 3)

/*
 * The B+tree's memory bound: leaves and inner nodes at least half full
 * (51 bytes per range in 504-byte leaves of 10, 4 more for the inner
 * nodes), except one node per level at the right end of the tree.
 */
#define MT_BYTES_MAX(mt, n)						\
	(56 * (n) + (shim_mt_height(mt) + 1) * shim_mt_node_bytes())

/*
 * Ascending, then descending stores: the orders that turn an unbalanced
 * search tree into a list.
 */
START_TEST(test_mt_sequential)
{
	const unsigned long n = 100000;
	size_t bytes = shim_kmalloc_bytes();
	struct maple_tree mt;
	struct mutex lock;
	MA_STATE(mas, &mt, 0, 0);
	unsigned long i;
	void *entry;

	mutex_init(&lock);
	mt_init_flags(&mt, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&mt, &lock);
	mutex_lock(&lock);
	for (i = 0; i < n; i++) {
		mas_set_range(&mas, 2 * i, 2 * i);
		ck_assert_int_eq(mas_store_gfp(&mas, P(i % 8), GFP_KERNEL), 0);
	}
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), n);
	ck_assert_uint_le(shim_mt_height(&mt), MT_HEIGHT_MAX(n));
	ck_assert_uint_le(shim_kmalloc_bytes() - bytes, 48 * n);
	i = 0;
	mas_set(&mas, 0);
	mas_for_each(&mas, entry, ULONG_MAX) {
		ck_assert_uint_eq(mas.index, 2 * i);
		ck_assert_ptr_eq(entry, P(i % 8));
		i++;
	}
	ck_assert_uint_eq(i, n);
	/* Fill the gaps from the top down: 2n - 1 ranges. */
	for (i = n - 1; i-- > 0;) {
		mas_set_range(&mas, 2 * i + 1, 2 * i + 1);
		ck_assert_int_eq(mas_preallocate(&mas, P(8), GFP_KERNEL), 0);
		mas_store_prealloc(&mas, P(8));
	}
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 2 * n - 1);
	ck_assert_uint_le(shim_mt_height(&mt), MT_HEIGHT_MAX(2 * n));
	mas_set(&mas, 2 * n - 2);
	ck_assert_ptr_eq(mas_walk(&mas), P((n - 1) % 8));
	mas_set(&mas, 2 * n - 3);
	ck_assert_ptr_eq(mas_walk(&mas), P(8));
	/* Erase every other range from the top down. */
	for (i = 2 * n - 1; i-- > 0;)
		if (i % 4 == 1) {
			mas_set(&mas, i);
			ck_assert_ptr_eq(mas_walk(&mas), P(8));
			ck_assert_int_eq(mas_store_gfp(&mas, NULL, GFP_KERNEL), 0);
		}
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 2 * n - 1 - n / 2);
	ck_assert_uint_le(shim_mt_height(&mt), MT_HEIGHT_MAX(2 * n));
	__mt_destroy(&mt);
	mutex_unlock(&lock);
	mutex_destroy(&lock);
	ck_assert(mtree_empty(&mt));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}
END_TEST

#define MT_BIG	(1UL << 14)

/* Bounds of the run of equal model entries around @k (a gap may reach the ends). */
static void model_run(void **m, unsigned long base, unsigned long k,
		      unsigned long *first, unsigned long *last)
{
	unsigned long lo = k, hi = k;

	while (lo > 0 && m[lo - 1] == m[k])
		lo--;
	while (hi < MT_BIG - 1 && m[hi + 1] == m[k])
		hi++;
	*first = lo || m[k] ? base + lo : 0;
	*last = hi < MT_BIG - 1 || m[k] ? base + hi : ULONG_MAX;
}

static void mt_big_check_at(struct maple_tree *mt, void **m, unsigned long base,
			    unsigned long k, int step)
{
	unsigned long first, last;
	MA_STATE(mas, mt, base + k, base + k);

	model_run(m, base, k, &first, &last);
	ck_assert_msg(mas_walk(&mas) == m[k] && mas.index == first && mas.last == last,
		      "seed %" PRIu64 " base %lx step %d walk %lu", seed, base, step, k);
	ck_assert_msg(mtree_load(mt, base + k) == m[k],
		      "seed %" PRIu64 " base %lx step %d load %lu", seed, base, step, k);
}

/* Compare the whole tree with the model. */
static void mt_big_check_all(struct maple_tree *mt, void **m, unsigned long base,
			     size_t bytes, int step)
{
	MA_STATE(mas, mt, base, base);
	unsigned long k = 0, n = 0, first, last;
	void *entry;

	mas_for_each(&mas, entry, ULONG_MAX) {
		while (k < MT_BIG && !m[k])
			k++;
		ck_assert_msg(k < MT_BIG, "seed %" PRIu64 " base %lx step %d: extra range",
			      seed, base, step);
		model_run(m, base, k, &first, &last);
		ck_assert_msg(entry == m[k] && mas.index == first && mas.last == last,
			      "seed %" PRIu64 " base %lx step %d range at %lu", seed, base, step, k);
		k = last - base + 1;
		n++;
		if (last == ULONG_MAX)
			break;
	}
	while (k < MT_BIG && !m[k])
		k++;
	ck_assert_msg(k >= MT_BIG, "seed %" PRIu64 " base %lx step %d: missing range at %lu",
		      seed, base, step, k);
	ck_assert_msg(shim_mt_nr_ranges(mt) == n && mtree_empty(mt) == !n,
		      "seed %" PRIu64 " base %lx step %d", seed, base, step);
	ck_assert_msg(shim_kmalloc_bytes() - bytes <= MT_BYTES_MAX(mt, n),
		      "seed %" PRIu64 " base %lx step %d: %zu bytes for %lu ranges",
		      seed, base, step, shim_kmalloc_bytes() - bytes, n);
	ck_assert_msg(!shim_mt_validate(mt), "seed %" PRIu64 " base %lx step %d: %s",
		      seed, base, step, shim_mt_validate(mt));
	ck_assert_msg(shim_mt_height(mt) <= MT_HEIGHT_MAX(n),
		      "seed %" PRIu64 " base %lx step %d: height %lu for %lu ranges",
		      seed, base, step, shim_mt_height(mt), n);
}

/*
 * 50000 random operations against a model over 16384 indices, at the
 * bottom and at the top of the index space: thousands of ranges, stores
 * from one index to the whole span, NULL stores, erases, preallocated
 * stores and allocation failures.
 */
static void mt_big_run(unsigned long base)
{
	static void *model[MT_BIG];
	size_t bytes = shim_kmalloc_bytes();
	unsigned long tok = 0, k;
	struct maple_tree mt;
	int step;

	memset(model, 0, sizeof(model));
	mt_init(&mt);
	for (step = 0; step < 50000; step++) {
		unsigned long a = rng_below(&rng, MT_BIG), c = rng_below(&rng, 100), len, b;
		void *e = rng_below(&rng, 5) ? (void *)(uintptr_t)(++tok << 4) : NULL;
		MA_STATE(mas, &mt, 0, 0);
		bool inject = !rng_below(&rng, 8), failed, done = false;
		int op = rng_below(&rng, 10), ret = 0;

		len = c < 70 ? 1 + rng_below(&rng, 8) : c < 97 ? 1 + rng_below(&rng, 256) : 1 + rng_below(&rng, MT_BIG);
		b = min(a + len - 1, MT_BIG - 1);
		mas_set_range(&mas, base + a, base + b);
		if (op < 5) {
			if (inject)
				shim_fail_nth(1);
			ret = mtree_store_range(&mt, base + a, base + b, e, GFP_KERNEL);
		} else if (op < 8) {
			mtree_lock(&mt);
			if (inject)
				shim_fail_nth(1);
			ret = mas_preallocate(&mas, e, GFP_KERNEL);
			if (!ret) {
				shim_fail_nth(1);
				mas_store_prealloc(&mas, e);
				ck_assert_msg(!shim_failed_count(), "seed %" PRIu64 " step %d",
					      seed, step);
			}
			mas_destroy(&mas);
			mtree_unlock(&mt);
		} else if (op < 9) {
			mtree_lock(&mt);
			if (inject)
				shim_fail_nth(1);
			ret = mas_store_gfp(&mas, e, GFP_KERNEL);
			mtree_unlock(&mt);
		} else {
			void *old = model[a];
			unsigned long first, last;

			model_run(model, base, a, &first, &last);
			ck_assert_msg(mtree_erase(&mt, base + a) == old,
				      "seed %" PRIu64 " base %lx step %d", seed, base, step);
			for (k = first - base; old && k <= last - base; k++)
				model[k] = NULL;
			done = true;
		}
		failed = shim_failed_count();
		shim_fail_nth(0);
		ck_assert_msg(ret == (failed ? -ENOMEM : 0),
			      "seed %" PRIu64 " base %lx step %d: %d", seed, base, step, ret);
		if (!ret && !done)
			for (k = a; k <= b; k++)
				model[k] = e;

		mt_big_check_at(&mt, model, base, a, step);
		mt_big_check_at(&mt, model, base, b, step);
		if (a > 0)
			mt_big_check_at(&mt, model, base, a - 1, step);
		if (b < MT_BIG - 1)
			mt_big_check_at(&mt, model, base, b + 1, step);
		if (step % 2048 == 0)
			mt_big_check_all(&mt, model, base, bytes, step);
	}
	mt_big_check_all(&mt, model, base, bytes, step);
	mtree_destroy(&mt);
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}

START_TEST(test_mt_random_big)
{
	unsigned long warns = shim_warn_count();

	seed_rng();
	mt_big_run(0);
	mt_big_run(ULONG_MAX - (MT_BIG - 1));
	ck_assert_uint_eq(shim_warn_count(), warns);
}
END_TEST

/*
 * Differential test at large sizes: a tree of tens of thousands of ranges against
 * a plain array of one entry per index over 2^20 indices, with stores of
 * every length (most of them short, so the ranges pile up; one in a
 * hundred over up to 1024 indices, one in 2 * 10^4 over up to 2^18, spanning
 * thousands of ranges and many leaves), NULL stores and erases, through
 * the normal API and through mas_preallocate() + mas_store_prealloc(),
 * with an allocation failure injected into one store in eight.  A failed
 * store must change nothing; a prepared one must not allocate.  The tree's
 * invariants (shim_mt_validate()) and the whole content are checked every
 * 25000 operations, the neighbourhood of every store after it.
 */
#define MT_HUGE	(1UL << 20)

static void model_run_n(void **m, unsigned long size, unsigned long base, unsigned long k,
			unsigned long *first, unsigned long *last)
{
	unsigned long lo = k, hi = k;

	while (lo > 0 && m[lo - 1] == m[k])
		lo--;
	while (hi < size - 1 && m[hi + 1] == m[k])
		hi++;
	*first = lo || m[k] ? base + lo : 0;
	*last = hi < size - 1 || m[k] ? base + hi : ULONG_MAX;
}

static void mt_huge_check_at(struct maple_tree *mt, void **m, unsigned long base,
			     unsigned long k, int step)
{
	unsigned long first, last;
	MA_STATE(mas, mt, base + k, base + k);

	model_run_n(m, MT_HUGE, base, k, &first, &last);
	ck_assert_msg(mas_walk(&mas) == m[k] && mas.index == first && mas.last == last,
		      "seed %" PRIu64 " base %lx step %d walk %lu: [%lx, %lx] want [%lx, %lx]",
		      seed, base, step, k, mas.index, mas.last, first, last);
}

/* The whole tree against the model; returns the number of ranges. */
static unsigned long mt_huge_check_all(struct maple_tree *mt, void **m, unsigned long base,
				       int step)
{
	MA_STATE(mas, mt, base, base);
	unsigned long k = 0, n = 0, first, last;
	void *entry;

	ck_assert_msg(!shim_mt_validate(mt), "seed %" PRIu64 " base %lx step %d: %s",
		      seed, base, step, shim_mt_validate(mt));
	mas_for_each(&mas, entry, ULONG_MAX) {
		while (k < MT_HUGE && !m[k])
			k++;
		ck_assert_msg(k < MT_HUGE, "seed %" PRIu64 " step %d: extra range", seed, step);
		model_run_n(m, MT_HUGE, base, k, &first, &last);
		ck_assert_msg(entry == m[k] && mas.index == first && mas.last == last,
			      "seed %" PRIu64 " base %lx step %d range at %lu", seed, base, step, k);
		k = last - base + 1;
		n++;
		if (last == ULONG_MAX)
			break;
	}
	while (k < MT_HUGE && !m[k])
		k++;
	ck_assert_msg(k >= MT_HUGE, "seed %" PRIu64 " step %d: missing range at %lu",
		      seed, step, k);
	ck_assert_msg(shim_mt_nr_ranges(mt) == n && mtree_empty(mt) == !n,
		      "seed %" PRIu64 " base %lx step %d", seed, base, step);
	ck_assert_msg(shim_mt_height(mt) <= MT_HEIGHT_MAX(n),
		      "seed %" PRIu64 " step %d: height %lu for %lu ranges", seed, step,
		      shim_mt_height(mt), n);
	return n;
}

static unsigned long mt_huge_run(unsigned long base, int steps)
{
	void **model = calloc(MT_HUGE, sizeof(*model));
	size_t bytes = shim_kmalloc_bytes(), before;
	unsigned long tok = 0, k, most = 0, nr;
	struct maple_tree mt;
	int step;

	ck_assert_ptr_nonnull(model);
	mt_init(&mt);
	for (step = 0; step < steps; step++) {
		unsigned long a = rng_below(&rng, MT_HUGE), c = rng_below(&rng, 100000), len, b, allocs;
		void *e = rng_below(&rng, 6) ? (void *)(uintptr_t)(++tok << 4) : NULL;
		MA_STATE(mas, &mt, 0, 0);
		bool inject = !rng_below(&rng, 8), failed;
		int op = rng_below(&rng, 10), ret = 0;

		len = c < 98990 ? 1 + rng_below(&rng, 4) : c < 99995 ? 1 + rng_below(&rng, 1024) : 1 + rng_below(&rng, MT_HUGE / 4);
		b = min(a + len - 1, MT_HUGE - 1);
		mas_set_range(&mas, base + a, base + b);
		nr = shim_mt_nr_ranges(&mt);
		before = shim_kmalloc_bytes();
		if (op < 4) {
			if (inject)
				shim_fail_nth(1);
			ret = mtree_store_range(&mt, base + a, base + b, e, GFP_KERNEL);
		} else if (op < 9) {
			mtree_lock(&mt);
			if (inject)
				shim_fail_nth(1);
			ret = mas_preallocate(&mas, e, GFP_KERNEL);
			if (!ret) {
				allocs = shim_alloc_count();
				shim_fail_nth(1);
				mas_store_prealloc(&mas, e);
				ck_assert_msg(!shim_failed_count() && shim_alloc_count() == allocs,
					      "seed %" PRIu64 " step %d: a prepared store allocated",
					      seed, step);
			}
			mas_destroy(&mas);
			mtree_unlock(&mt);
		} else {
			void *old = model[a];
			unsigned long first, last;

			model_run_n(model, MT_HUGE, base, a, &first, &last);
			ck_assert_msg(mtree_erase(&mt, base + a) == old,
				      "seed %" PRIu64 " step %d erase", seed, step);
			for (k = first - base; old && k <= last - base; k++)
				model[k] = NULL;
			a = old ? first - base : a;
			b = old ? last - base : a;
			e = NULL;
		}
		failed = shim_failed_count();
		shim_fail_nth(0);
		ck_assert_msg(ret == (failed ? -ENOMEM : 0),
			      "seed %" PRIu64 " step %d: %d", seed, step, ret);
		if (ret) {	/* nothing changed, nothing kept */
			ck_assert_msg(shim_mt_nr_ranges(&mt) == nr && shim_kmalloc_bytes() == before,
				      "seed %" PRIu64 " step %d: a failed store changed the tree",
				      seed, step);
		} else {
			for (k = a; k <= b; k++)
				model[k] = e;
		}
		mt_huge_check_at(&mt, model, base, a, step);
		mt_huge_check_at(&mt, model, base, b, step);
		if (a > 0)
			mt_huge_check_at(&mt, model, base, a - 1, step);
		if (b < MT_HUGE - 1)
			mt_huge_check_at(&mt, model, base, b + 1, step);
		if (shim_mt_nr_ranges(&mt) > most)
			most = shim_mt_nr_ranges(&mt);
		if (step % 25000 == 0)
			mt_huge_check_all(&mt, model, base, step);
	}
	nr = mt_huge_check_all(&mt, model, base, step);
	ck_assert_msg(shim_kmalloc_bytes() - bytes <= MT_BYTES_MAX(&mt, nr),
		      "seed %" PRIu64 ": %zu bytes for %lu ranges", seed,
		      shim_kmalloc_bytes() - bytes, nr);
	/* Emptied by one store spanning everything: nothing left over. */
	ck_assert_int_eq(mtree_store_range(&mt, base, base + MT_HUGE - 1, NULL, GFP_KERNEL), 0);
	ck_assert(mtree_empty(&mt));
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
	mtree_destroy(&mt);
	free(model);
	return most;
}

START_TEST(test_mt_random_huge)
{
	unsigned long warns = shim_warn_count();

	seed_rng();
	/* Enough steps for over 4 * 10^4 ranges at the peak (about 5.5 * 10^4). */
	ck_assert_uint_ge(mt_huge_run(0, 200000), 40000);
	mt_huge_run(ULONG_MAX - (MT_HUGE - 1), 50000);
	ck_assert_uint_eq(shim_warn_count(), warns);
}
END_TEST

/*
 * Ranges stored in ascending order fill their leaves (a split at the right
 * end keeps the full leaf whole), and iterating with mas_for_each() does
 * not descend from the root for every range: it is O(n), measured here as
 * a whole walk costing about as much as a few thousand descents, not n.
 */
START_TEST(test_mt_append_fill)
{
	const unsigned long n = 200000;
	size_t bytes = shim_kmalloc_bytes();
	struct maple_tree mt;
	unsigned long i;

	mt_init(&mt);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(mtree_store(&mt, i, P(i % 2), GFP_KERNEL), 0);
	ck_assert_ptr_null(shim_mt_validate(&mt));
	/* Full leaves: one node per 20 ranges, plus the inner nodes and the last leaf. */
	ck_assert_uint_le(shim_kmalloc_bytes() - bytes,
			  (n / 20 + n / 20 / 15 + 2 * shim_mt_height(&mt) + 2) *
			  shim_mt_node_bytes());
	mtree_destroy(&mt);
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
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

/* ------------------------------------------------- Maple tree and locks */

/* A tree with an external mutex, holding [10, 19] -> P(1). */
static void ext_tree(struct maple_tree *mt, struct mutex *lock)
{
	MA_STATE(mas, mt, 10, 19);

	mutex_init(lock);
	mt_init_flags(mt, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(mt, lock);
	ck_assert_ptr_eq(mt->ma_external_lock, &lock->dep_map);
	mutex_lock(lock);
	ck_assert_int_eq(mas_store_gfp(&mas, P(1), GFP_KERNEL), 0);
	mutex_unlock(lock);
}

/* Every tree access of the advanced API, each expected to WARN (or not) about @what. */
static void mt_accesses(struct maple_tree *mt, const char *what, bool warn)
{
	MA_STATE(mas, mt, 15, 15);

#define mt_check(call, expr) do {						\
	if (warn)								\
		assert_warns(call, expr);					\
	else									\
		assert_no_warns(expr);						\
	if (warn)								\
		ck_assert_msg(strstr(shim_last_warning(), what), "%s",		\
			      shim_last_warning());				\
} while (0)
	/* The calls still do their job. */
	mt_check("mas_walk", ck_assert_ptr_eq(mas_walk(&mas), P(1)));
	mas_set(&mas, 0);
	mt_check("mas_find", ck_assert_ptr_eq(mas_find(&mas, ULONG_MAX), P(1)));
	mt_check("mtree_load", ck_assert_ptr_eq(mtree_load(mt, 12), P(1)));
	mas_set_range(&mas, 30, 39);
	mt_check("mas_store_gfp", ck_assert_int_eq(mas_store_gfp(&mas, P(2), GFP_KERNEL), 0));
	mas_set_range(&mas, 40, 49);
	mt_check("mas_preallocate", ck_assert_int_eq(mas_preallocate(&mas, P(3), GFP_KERNEL), 0));
	mt_check("mas_store_prealloc", mas_store_prealloc(&mas, P(3)));
	/* mas_destroy() frees only the ma_state's own memory: no lock needed. */
	assert_no_warns(mas_destroy(&mas));
	mt_check("mtree_load", ck_assert_ptr_eq(mtree_load(mt, 45), P(3)));
	mt_check("__mt_destroy", __mt_destroy(mt));
	ck_assert(mtree_empty(mt));
#undef mt_check
}

START_TEST(test_mt_ext_lock_held)
{
	struct maple_tree mt;
	struct mutex lock;

	ext_tree(&mt, &lock);
	mutex_lock(&lock);
	mt_accesses(&mt, "", false);
	mutex_unlock(&lock);
	mutex_destroy(&lock);
}
END_TEST

START_TEST(test_mt_ext_lock_not_held)
{
	struct maple_tree mt;
	struct mutex lock;

	ext_tree(&mt, &lock);
	mt_accesses(&mt, "external lock is not held", true);
	mutex_destroy(&lock);
}
END_TEST

/* The external lock held by another thread does not protect this one. */
START_TEST(test_mt_ext_lock_other_thread)
{
	struct maple_tree mt;
	struct mutex lock;
	struct tu_holder hd;

	ext_tree(&mt, &lock);
	tu_hold_start(&hd, tu_mutex_lock, tu_mutex_unlock, &lock);
	mt_accesses(&mt, "external lock is not held", true);
	tu_hold_stop(&hd);
	mutex_destroy(&lock);
}
END_TEST

/* Any lock with a dep_map can be the external lock: a spinlock here. */
START_TEST(test_mt_ext_spinlock)
{
	MA_STATE(mas, NULL, 0, 9);
	struct maple_tree mt;
	struct tu_holder hd;
	spinlock_t sl;

	spin_lock_init(&sl);
	mt_init_flags(&mt, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&mt, &sl);
	mas.tree = &mt;
	spin_lock(&sl);
	assert_no_warns(ck_assert_int_eq(mas_store_gfp(&mas, P(4), GFP_NOWAIT), 0));
	spin_unlock(&sl);
	assert_warns("mas_walk", ck_assert_ptr_eq(mas_walk(&mas), P(4)));
	tu_hold_start(&hd, tu_spin_lock, tu_spin_unlock, &sl);
	assert_warns("mtree_load", ck_assert_ptr_eq(mtree_load(&mt, 3), P(4)));
	tu_hold_stop(&hd);
	spin_lock(&sl);
	assert_no_warns(__mt_destroy(&mt));
	spin_unlock(&sl);
}
END_TEST

/*
 * The normal API's writers take the tree's internal lock, which an
 * external-lock tree does not have: reported even with the external lock
 * held.  The shim then does the operation anyway.
 */
START_TEST(test_mt_normal_api_on_ext_tree)
{
	struct maple_tree mt;
	struct mutex lock;

	ext_tree(&mt, &lock);
	mutex_lock(&lock);
	assert_warns("mtree_store_range: takes the internal lock of an MT_FLAGS_LOCK_EXTERN",
		     ck_assert_int_eq(mtree_store_range(&mt, 30, 39, P(2), GFP_KERNEL), 0));
	assert_warns("mtree_store: takes the internal lock of an MT_FLAGS_LOCK_EXTERN",
		     ck_assert_int_eq(mtree_store(&mt, 50, P(3), GFP_KERNEL), 0));
	assert_warns("mtree_erase: takes the internal lock of an MT_FLAGS_LOCK_EXTERN",
		     ck_assert_ptr_eq(mtree_erase(&mt, 35), P(2)));
	assert_no_warns(ck_assert_ptr_eq(mtree_load(&mt, 50), P(3)));
	assert_warns("mtree_destroy: takes the internal lock of an MT_FLAGS_LOCK_EXTERN",
		     mtree_destroy(&mt));
	ck_assert(mtree_empty(&mt));
	mutex_unlock(&lock);

	/* Without the external lock it is the same single report. */
	assert_warns("mtree_store_range: takes the internal lock",
		     ck_assert_int_eq(mtree_store_range(&mt, 0, 9, P(1), GFP_KERNEL), 0));
	assert_warns("mtree_destroy: takes the internal lock", mtree_destroy(&mt));
	mutex_destroy(&lock);
}
END_TEST

/*
 * A tree with its own lock: the mtree_* calls take it, the advanced API's
 * writers need it held by the caller.
 */
START_TEST(test_mt_internal_lock)
{
	MA_STATE(mas, NULL, 0, 9);
	struct maple_tree mt;
	struct tu_holder hd;

	mt_init(&mt);
	mas.tree = &mt;
	assert_no_warns(ck_assert_int_eq(mtree_store_range(&mt, 100, 109, P(1), GFP_KERNEL), 0));
	ck_assert(!lockdep_is_held(&mt.ma_lock));

	assert_warns("mas_store_gfp: the tree's lock (mtree_lock)",
		     ck_assert_int_eq(mas_store_gfp(&mas, P(2), GFP_KERNEL), 0));
	mas_set_range(&mas, 20, 29);
	assert_warns("mas_preallocate: the tree's lock",
		     ck_assert_int_eq(mas_preallocate(&mas, P(3), GFP_KERNEL), 0));
	assert_warns("mas_store_prealloc: the tree's lock", mas_store_prealloc(&mas, P(3)));
	mas_destroy(&mas);

	/* Held by another thread: still not held by this one. */
	tu_hold_start(&hd, tu_spin_lock, tu_spin_unlock, &mt.ma_lock);
	mas_set_range(&mas, 30, 39);
	assert_warns("mas_store_gfp: the tree's lock",
		     ck_assert_int_eq(mas_store_gfp(&mas, P(4), GFP_KERNEL), 0));
	tu_hold_stop(&hd);

	mtree_lock(&mt);
	mas_set_range(&mas, 40, 49);
	assert_no_warns(ck_assert_int_eq(mas_store_gfp(&mas, P(5), GFP_KERNEL), 0));
	mas_set_range(&mas, 50, 59);
	assert_no_warns(ck_assert_int_eq(mas_preallocate(&mas, P(6), GFP_KERNEL), 0));
	assert_no_warns(mas_store_prealloc(&mas, P(6)));
	mas_destroy(&mas);
	/* mtree_load under mtree_lock does not take it again. */
	assert_no_warns(ck_assert_ptr_eq(mtree_load(&mt, 55), P(6)));
	ck_assert_uint_eq(shim_mt_nr_ranges(&mt), 6);
	mtree_unlock(&mt);

	assert_warns("__mt_destroy: the tree's lock", __mt_destroy(&mt));
	ck_assert(mtree_empty(&mt));
	assert_no_warns(ck_assert_int_eq(mtree_store(&mt, 7, P(7), GFP_KERNEL), 0));
	mtree_lock(&mt);
	assert_no_warns(__mt_destroy(&mt));
	mtree_unlock(&mt);
	ck_assert(mtree_empty(&mt));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_ds");
	TCase *xa = tcase_create("xarray");
	TCase *mt = tcase_create("maple_tree");
	TCase *lk = tcase_create("locking");
	SRunner *sr;
	int failed;

	tcase_set_timeout(xa, 120);
	/* Generous: the random tests take seconds, many more on a loaded machine. */
	tcase_set_timeout(mt, 600);
	tcase_add_test(xa, test_xa_basic);
	tcase_add_test(xa, test_xa_encodings);
	tcase_add_test(xa, test_xa_sparse);
	tcase_add_test(xa, test_xa_replace_never_fails);
	tcase_add_test(xa, test_xa_reserve);
	tcase_add_test(xa, test_xa_find);
	tcase_add_test(xa, test_xa_lock);
	tcase_add_test(xa, test_xa_destroy);
	tcase_add_test(xa, test_xa_threads);
	tcase_add_test(xa, test_xa_random);
	tcase_add_test(mt, test_mt_store);
	tcase_add_test(mt, test_mt_walk);
	tcase_add_test(mt, test_mt_find);
	tcase_add_test(mt, test_mt_prealloc);
	tcase_add_test(mt, test_mt_enomem);
	tcase_add_test(mt, test_mt_random);
	tcase_add_test(mt, test_mt_edges);
	tcase_add_test(mt, test_mt_pause_iterate);
	tcase_add_test(mt, test_mt_sequential);
	tcase_add_test(mt, test_mt_random_big);
	tcase_add_test(mt, test_mt_random_huge);
	tcase_add_test(mt, test_mt_append_fill);
	tcase_add_test(lk, test_lockdep_mutex);
	tcase_add_test(lk, test_lockdep_spinlock);
	/* The abort would end the whole run without fork(). */
	if (!getenv("CK_FORK") || strcmp(getenv("CK_FORK"), "no"))
		tcase_add_test_raise_signal(lk, test_lockdep_recursion_aborts, SIGABRT);
	else
		fprintf(stderr, "SKIP: test_lockdep_recursion_aborts: CK_FORK=no, and the "
			"abort it expects would end the whole run\n");
	tcase_add_test(lk, test_mt_ext_lock_held);
	tcase_add_test(lk, test_mt_ext_lock_not_held);
	tcase_add_test(lk, test_mt_ext_lock_other_thread);
	tcase_add_test(lk, test_mt_ext_spinlock);
	tcase_add_test(lk, test_mt_normal_api_on_ext_tree);
	tcase_add_test(lk, test_mt_internal_lock);
	suite_add_tcase(s, xa);
	suite_add_tcase(s, mt);
	suite_add_tcase(s, lk);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
