// SPDX-License-Identifier: LGPL-2.1-or-later
/* Bad input gets a precise errno and changes nothing. */
#include "test_util.h"

static struct hstate *h;
static struct hgmem_file *f;
static struct tu_snapshot before;

static void setup(void)
{
	tu_reset_warnings();
	h = tu_pool(PMD_ORDER, 4);
	f = tu_file(h, 4 * SZ_2M, 0);
	ck_assert_int_eq(hgmem_convert(f, SZ_2M + SZ_4K, SZ_4K, HGMEM_SHARED, NULL), 0);
	ck_assert_int_eq(hgmem_allocate(f, SZ_2M, SZ_2M), 0);
	tu_snapshot(f, &before);
}

static void teardown(void)
{
	struct tu_snapshot after;

	tu_snapshot(f, &after);
	tu_assert_snapshot_eq(&before, &after);
	tu_snapshot_free(&before);
	tu_snapshot_free(&after);
	tu_check(f);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}

/* Every ranged operation rejects the same bad ranges the same way. */
static void ranges_rejected(u64 off, u64 len, int err)
{
	u64 bad = 12345;

	ck_assert_int_eq(hgmem_allocate(f, off, len), err);
	ck_assert_int_eq(hgmem_punch_hole(f, off, len), err);
	ck_assert_int_eq(hgmem_convert(f, off, len, HGMEM_SHARED, &bad), err);
	ck_assert_int_eq(hgmem_convert(f, off, len, HGMEM_PRIVATE, &bad), err);
	ck_assert_uint_eq(bad, 12345);
}

START_TEST(test_unaligned)
{
	ranges_rejected(1, SZ_4K, -EINVAL);
	ranges_rejected(0, SZ_4K + 1, -EINVAL);
	ranges_rejected(2048, 2048, -EINVAL);
}
END_TEST

START_TEST(test_zero_length)
{
	ranges_rejected(0, 0, -EINVAL);
	ranges_rejected(SZ_2M, 0, -EINVAL);
}
END_TEST

START_TEST(test_past_end)
{
	ranges_rejected(4 * SZ_2M, SZ_4K, -ERANGE);
	ranges_rejected(4 * SZ_2M - SZ_4K, 2 * SZ_4K, -ERANGE);
	ranges_rejected(0, 4 * SZ_2M + SZ_4K, -ERANGE);
}
END_TEST

START_TEST(test_overflow)
{
	ranges_rejected(~0ULL & ~(SZ_4K - 1), 2 * SZ_4K, -ERANGE);
	ranges_rejected(SZ_4K, ~0ULL & ~(SZ_4K - 1), -ERANGE);
}
END_TEST

START_TEST(test_unknown_state)
{
	ck_assert_int_eq(hgmem_convert(f, 0, SZ_4K, 2, NULL), -EINVAL);
	ck_assert_int_eq(hgmem_convert(f, 0, SZ_4K, ~0U, NULL), -EINVAL);
}
END_TEST

START_TEST(test_get_folio_and_state_bounds)
{
	struct folio *folio = NULL;
	enum hgmem_state s;
	int order = -7;
	u64 run = 99;

	ck_assert_int_eq(hgmem_get_folio(f, 4 * 512, &folio, &order), -ERANGE);
	ck_assert_ptr_null(folio);
	ck_assert_int_eq(order, -7);
	ck_assert_int_eq(hgmem_get_state(f, 4 * SZ_2M, &s, &run), -ERANGE);
	ck_assert_int_eq(hgmem_get_state(f, 100, &s, &run), -EINVAL);
	ck_assert_uint_eq(run, 99);
}
END_TEST

START_TEST(test_create_rejects)
{
	struct hgmem_file *g = NULL;

	ck_assert_int_eq(hgmem_file_create(h, 0, 0, NUMA_NO_NODE, &g), -EINVAL);
	ck_assert_int_eq(hgmem_file_create(h, SZ_2M + SZ_4K, 0, NUMA_NO_NODE, &g), -EINVAL);
	ck_assert_int_eq(hgmem_file_create(h, SZ_2M, 1ULL << 40, NUMA_NO_NODE, &g), -EINVAL);
	ck_assert_int_eq(hgmem_file_create(h, SZ_2M, HGMEM_FILE_FLAGS + 1,
					  NUMA_NO_NODE, &g), -EINVAL);
	/* Pool too small: all 4 pages are reserved by f. */
	ck_assert_int_eq(hgmem_file_create(h, SZ_2M, 0, NUMA_NO_NODE, &g), -ENOMEM);
	ck_assert_ptr_null(g);
}
END_TEST

START_TEST(test_double_put_is_caught)
{
	struct shim_hstate_counters c0, c1;
	struct folio *folio = NULL;
	unsigned long warns;
	int order;

	/* An unsplit huge folio: its descriptor outlives the page's return. */
	ck_assert_int_eq(hgmem_get_folio(f, 0, &folio, &order), 0);
	ck_assert_int_eq(order, PMD_ORDER);
	folio_put(folio);
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_2M), 0);
	tu_snapshot_free(&before);
	tu_snapshot(f, &before);
	shim_hstate_counters(h, &c0);

	/* Putting the freed folio again is reported and changes nothing. */
	warns = shim_warn_count();
	folio_put(folio);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	ck_assert_int_eq(folio_ref_count(folio), 0);
	shim_hstate_counters(h, &c1);
	ck_assert_mem_eq(&c0, &c1, sizeof(c0));
	tu_reset_warnings();
}
END_TEST

static Suite *inputs_suite(void)
{
	Suite *s = suite_create("inputs");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unaligned);
	tcase_add_test(tc, test_zero_length);
	tcase_add_test(tc, test_past_end);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_unknown_state);
	tcase_add_test(tc, test_get_folio_and_state_bounds);
	tcase_add_test(tc, test_create_rejects);
	tcase_add_test(tc, test_double_put_is_caught);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(inputs_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
