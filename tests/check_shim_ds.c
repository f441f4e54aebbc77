// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests for the shim's XArray and Maple Tree subsets: semantics,
 * allocation-failure atomicity (via slab.h fault injection), and randomized
 * comparison against plain-array models.  The random seed comes from
 * GUESTMEM_SEED if set and is printed in every failure message.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "maple_tree.h"
#include "xarray.h"

static int objs[64];
#define P(n)	((void *)&objs[n])

static uint64_t seed, rng_state;

static void seed_rng(void)
{
	const char *env = getenv("GUESTMEM_SEED");

	seed = env ? strtoull(env, NULL, 0) : 0x5eedc0de;
	rng_state = seed ? seed : 1;
}

static uint64_t rnd(uint64_t n)	/* uniform-ish in [0, n) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
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
		void *e = rnd(5) ? xa_mk_value(rnd(1000)) : NULL, *r;
		bool had;
		int op = rnd(10);

		k = rnd(XA_POOL);
		had = model[k] || reserved[k];
		if (op < 4) {
			bool inject = !rnd(4);

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

	mt_init_flags(&mt, MT_FLAGS_LOCK_EXTERN);
	mt_set_external_lock(&mt, &mt);
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
		ck_assert_uint_eq(shim_mt_nr_ranges(&mt), n + (i ? 2 : 1));
		ck_assert_ptr_eq(mtree_load(&mt, mas.index), P(2 + i % 2));
	}
	ck_assert_int_gt(enomem, 1);
	ck_assert_int_eq(mas_preallocate(&(struct ma_state){ .tree = &mt, .index = 2, .last = 1 },
					 NULL, GFP_KERNEL), -EINVAL);
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

static void mt_random_run(unsigned long base)
{
	struct range want[MT_N], got[MT_N];
	void *model[MT_N] = { NULL };
	size_t bytes = shim_kmalloc_bytes();
	unsigned long tok = 0, i, n;
	struct maple_tree mt;
	int step;

	mt_init_flags(&mt, MT_FLAGS_LOCK_EXTERN);
	for (step = 0; step < 4000; step++) {
		unsigned long a = rnd(MT_N), b = a + rnd(rnd(4) ? 8 : MT_N), k;
		void *e = rnd(4) ? (void *)(uintptr_t)(++tok << 4) : NULL;
		MA_STATE(mas, &mt, base + a, 0);
		int op = rnd(10), ret = 0;
		bool inject = !rnd(4), failed;

		b = min(b, MT_N - 1UL);
		mas.last = base + b;
		if (op < 6) {
			if (inject)
				shim_fail_nth(1);
			if (a == b && rnd(2))
				ret = mtree_store(&mt, base + a, e, GFP_KERNEL);
			else
				ret = mtree_store_range(&mt, base + a, base + b, e, GFP_KERNEL);
			failed = shim_failed_count();
			shim_fail_nth(0);
			ck_assert_msg(ret == (inject && failed ? -ENOMEM : 0),
				      "seed %" PRIu64 " base %lx step %d", seed, base, step);
		} else if (op < 9) {
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
		} else {
			/* mtree_erase removes the whole range containing a. */
			void *old = model[a];

			ck_assert_msg(mtree_erase(&mt, base + a) == old,
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
			b = k + rnd(MT_N - k);
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
	mtree_destroy(&mt);
	ck_assert_uint_eq(shim_kmalloc_bytes(), bytes);
}

START_TEST(test_mt_random)
{
	unsigned long warns = shim_warn_count();

	seed_rng();
	mt_random_run(0);
	mt_random_run(ULONG_MAX - (MT_N - 1));
	mt_random_run(1UL << 40);
	ck_assert_uint_eq(shim_warn_count(), warns);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_ds");
	TCase *xa = tcase_create("xarray");
	TCase *mt = tcase_create("maple_tree");
	SRunner *sr;
	int failed;

	tcase_set_timeout(xa, 120);
	tcase_set_timeout(mt, 120);
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
	suite_add_tcase(s, xa);
	suite_add_tcase(s, mt);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
