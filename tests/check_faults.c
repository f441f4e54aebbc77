// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fault injection: fail each allocation an operation makes, one at a time,
 * and require that the operation either succeeds or fails with -ENOMEM
 * leaving the file, its folios and the pool exactly as before.
 */
#include "test_util.h"

struct scenario {
	const char *name;
	unsigned int order;
	unsigned long nr_huge;
	u64 size;
	u64 flags;
	void (*prepare)(struct hgmem_file *f);
	int (*op)(struct hgmem_file *f);
	bool allocates;		/* must make at least one allocation */
};

static void alloc_all(struct hgmem_file *f)
{
	ck_assert_int_eq(hgmem_allocate(f, 0, (u64)f->nr_pages << PAGE_SHIFT), 0);
}

static void alloc_mixed(struct hgmem_file *f)
{
	alloc_all(f);
	ck_assert_int_eq(hgmem_convert(f, 3 * SZ_4K, SZ_4K, HGMEM_SHARED, NULL), 0);
	ck_assert_int_eq(hgmem_convert(f, SZ_2M + 7 * SZ_4K, SZ_4K, HGMEM_SHARED, NULL), 0);
}

static void state_mixed(struct hgmem_file *f)
{
	ck_assert_int_eq(hgmem_convert(f, 9 * SZ_4K, SZ_4K, HGMEM_SHARED, NULL), 0);
}

/* Mixed state in 21 of the 512 2M pieces before the 1G page exists. */
static void state_many_mixed(struct hgmem_file *f)
{
	u64 i;

	for (i = 0; i < 21; i++)
		ck_assert_int_eq(hgmem_convert(f, i * 3 * SZ_2M + SZ_4K, SZ_4K,
					      HGMEM_SHARED, NULL), 0);
}

static int convert_4k(struct hgmem_file *f)
{
	return hgmem_convert(f, 5 * SZ_2M + 9 * SZ_4K, SZ_4K, HGMEM_SHARED, NULL);
}

static int convert_across(struct hgmem_file *f)
{
	/* Both end huge pages are left mixed: two splits (two levels each on 1G). */
	u64 huge = (u64)PAGE_SIZE << f->order;

	return hgmem_convert(f, huge - 3 * SZ_4K, 6 * SZ_4K, HGMEM_SHARED, NULL);
}

static int convert_back(struct hgmem_file *f)
{
	return hgmem_convert(f, 0, (u64)f->nr_pages << PAGE_SHIFT, HGMEM_PRIVATE, NULL);
}

static int convert_2m_piece(struct hgmem_file *f)
{
	return hgmem_convert(f, 2 * SZ_2M, SZ_2M, HGMEM_SHARED, NULL);
}

static int punch(struct hgmem_file *f)
{
	u64 size = (u64)f->nr_pages << PAGE_SHIFT;

	return hgmem_punch_hole(f, SZ_4K, size - SZ_4K) ?:
	       hgmem_punch_hole(f, 0, SZ_4K);
}

static int fault_in(struct hgmem_file *f)
{
	struct folio *folio;
	int order, err;

	err = hgmem_get_folio(f, 9, &folio, &order);
	if (!err)
		folio_put(folio);
	return err;
}

static int allocate_all(struct hgmem_file *f)
{
	return hgmem_allocate(f, 0, (u64)f->nr_pages << PAGE_SHIFT);
}

static const struct scenario scenarios[] = {
	{ "convert 4K in 2M",   PMD_ORDER, 2, 2 * SZ_2M, 0, alloc_all, convert_across, true },
	{ "convert 4K in 1G",   PUD_ORDER, 1, SZ_1G, 0, alloc_all, convert_4k, true },
	{ "convert across 1G",  PUD_ORDER, 2, 2 * SZ_1G, 0, alloc_all, convert_across, true },
	{ "convert 2M piece",   PUD_ORDER, 1, SZ_1G, 0, alloc_mixed, convert_2m_piece, false },
	{ "merge back 1G",      PUD_ORDER, 1, SZ_1G, 0, alloc_mixed, convert_back, false },
	{ "merge back 2M",      PMD_ORDER, 4, 4 * SZ_2M, 0, alloc_mixed, convert_back, false },
	{ "punch split 1G",     PUD_ORDER, 1, SZ_1G, 0, alloc_mixed, punch, false },
	{ "fault mixed 1G",     PUD_ORDER, 1, SZ_1G, 0, state_mixed, fault_in, true },
	{ "fault mixed 2M",     PMD_ORDER, 1, SZ_2M, 0, state_mixed, fault_in, true },
	{ "fault 21 mixed 2M",  PUD_ORDER, 1, SZ_1G, 0, state_many_mixed, fault_in, true },
	{ "allocate 2M file",   PMD_ORDER, 8, 8 * SZ_2M, 0, state_mixed, allocate_all, true },
};

static struct hgmem_file *setup(const struct scenario *sc, struct hstate **hp)
{
	struct hgmem_file *f;

	/* Address-space-only memory: 1G pages are never touched or zeroed. */
	*hp = tu_pool_kind(sc->order, sc->nr_huge, SHIM_BACKEND_RESERVE);
	f = tu_file(*hp, sc->size, sc->flags);
	if (sc->prepare)
		sc->prepare(f);
	tu_check(f);
	return f;
}

START_TEST(test_fail_each_allocation)
{
	const struct scenario *sc = &scenarios[_i];
	unsigned long nth, failures = 0;

	tu_reset_warnings();
	for (nth = 1; ; nth++) {
		struct tu_snapshot before, after;
		struct hstate *h;
		struct hgmem_file *f = setup(sc, &h);
		unsigned long injected;
		int err;

		tu_snapshot(f, &before);
		shim_fail_nth(nth);
		err = sc->op(f);
		injected = shim_failed_count();
		shim_fail_nth(0);

		if (injected) {
			ck_assert_msg(err == -ENOMEM, "%s: allocation %lu failed but op returned %d",
				      sc->name, nth, err);
			tu_snapshot(f, &after);
			tu_assert_snapshot_eq(&before, &after);
			tu_snapshot_free(&after);
			failures++;
		} else {
			ck_assert_msg(!err, "%s: op failed (%d) without injection", sc->name, err);
		}
		tu_snapshot_free(&before);
		tu_check(f);
		hgmem_file_release(f);
		tu_pool_destroy(h);
		if (!injected)
			break;
	}
	printf("%-20s %lu allocation points, each failure left no trace\n",
	       sc->name, failures);
	/* Punching never allocates; anything that splits or allocates does. */
	if (sc->op == punch)
		ck_assert_uint_eq(failures, 0);
	if (sc->allocates)
		ck_assert_uint_gt(failures, 0);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_fail_vmemmap_restore_site)
{
	struct hstate *h = tu_pool_kind(PUD_ORDER, 1, SHIM_BACKEND_RESERVE);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	struct tu_snapshot before, after;
	u64 bad = 7;

	tu_reset_warnings();
	alloc_all(f);
	tu_snapshot(f, &before);
	shim_fail_site("hugetlb_vmemmap_restore");
	ck_assert_int_eq(hgmem_convert(f, SZ_4K, SZ_4K, HGMEM_SHARED, &bad), -ENOMEM);
	ck_assert_uint_gt(shim_failed_count(), 0);
	shim_fail_site(NULL);
	ck_assert_uint_eq(bad, 7);
	tu_snapshot(f, &after);
	tu_assert_snapshot_eq(&before, &after);
	tu_snapshot_free(&before);
	tu_snapshot_free(&after);
	/* And with the restore working again, the same conversion goes through. */
	ck_assert_int_eq(hgmem_convert(f, SZ_4K, SZ_4K, HGMEM_SHARED, &bad), 0);
	tu_check(f);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_fail_file_create)
{
	struct hstate *h = tu_pool_kind(PMD_ORDER, 4, SHIM_BACKEND_RESERVE);
	struct hgmem_file *f = NULL;
	unsigned long nth;

	tu_reset_warnings();
	for (nth = 1; ; nth++) {
		struct shim_hstate_counters c;
		int err;

		shim_fail_nth(nth);
		err = hgmem_file_create(h, 4 * SZ_2M, 0, NUMA_NO_NODE, &f);
		if (!shim_failed_count()) {
			shim_fail_nth(0);
			ck_assert_int_eq(err, 0);
			hgmem_file_release(f);
			break;
		}
		shim_fail_nth(0);
		ck_assert_int_eq(err, -ENOMEM);
		shim_hstate_counters(h, &c);
		ck_assert_uint_eq(c.resv, 0);
		ck_assert_int_eq(c.subpools, 0);
	}
	ck_assert_uint_gt(nth, 1);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("injection");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_fail_each_allocation, 0, ARRAY_SIZE(scenarios));
	tcase_add_test(tc, test_fail_vmemmap_restore_site);
	tcase_add_test(tc, test_fail_file_create);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(faults_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
