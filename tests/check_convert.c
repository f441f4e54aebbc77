// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared -> private refuses pages referenced elsewhere: -EAGAIN, the first
 * offending offset, and nothing changed.
 */
#include "test_util.h"

static struct folio *pin(struct hgmem_file *f, u64 off)
{
	struct folio *folio = NULL;
	int order;

	ck_assert_int_eq(hgmem_get_folio(f, off >> PAGE_SHIFT, &folio, &order), 0);
	return folio;
}

/* Convert, expecting -EAGAIN at @want and an unchanged file. */
static void convert_busy(struct hgmem_file *f, u64 off, u64 len, unsigned int to,
			 u64 want)
{
	struct tu_snapshot before, after;
	u64 bad = ~0ULL;

	tu_snapshot(f, &before);
	ck_assert_int_eq(hgmem_convert(f, off, len, to, &bad), -EAGAIN);
	ck_assert_uint_eq(bad, want);
	tu_snapshot(f, &after);
	tu_assert_snapshot_eq(&before, &after);
	tu_snapshot_free(&before);
	tu_snapshot_free(&after);
	tu_check(f);
}

START_TEST(test_pinned_4k_page_blocks_private)
{
	struct hstate *h = tu_pool(PMD_ORDER, 2);
	struct hgmem_file *f = tu_file(h, 2 * SZ_2M, 0);
	struct folio *a, *b;
	u64 bad;

	/* Mixed state, so the pages are 4K folios and pins are exact. */
	ck_assert_int_eq(hgmem_convert(f, SZ_2M + 16 * SZ_4K, 64 * SZ_4K,
				      HGMEM_SHARED, NULL), 0);
	a = pin(f, SZ_2M + 40 * SZ_4K);
	b = pin(f, SZ_2M + 30 * SZ_4K);
	convert_busy(f, SZ_2M, SZ_2M, HGMEM_PRIVATE, SZ_2M + 30 * SZ_4K);
	folio_put(b);
	convert_busy(f, 0, 2 * SZ_2M, HGMEM_PRIVATE, SZ_2M + 40 * SZ_4K);
	/* Private pages around a pinned shared one may still convert. */
	ck_assert_int_eq(hgmem_convert(f, SZ_2M + 16 * SZ_4K, 24 * SZ_4K,
				      HGMEM_PRIVATE, &bad), 0);
	tu_check(f);
	folio_put(a);
	ck_assert_int_eq(hgmem_convert(f, 0, 2 * SZ_2M, HGMEM_PRIVATE, &bad), 0);
	tu_check(f);
	ck_assert_uint_eq(tu_nr_folios(f, SZ_2M), 1);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_pinned_huge_folio_reports_range_start)
{
	struct hstate *h = tu_pool(PUD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_1G, HGMEM_FILE_INIT_SHARED);
	struct folio *folio;

	folio = pin(f, 700 * SZ_4K);
	/* The count is per folio: the first page of it in the range is named. */
	convert_busy(f, 5 * SZ_2M + 3 * SZ_4K, SZ_4K, HGMEM_PRIVATE,
		     5 * SZ_2M + 3 * SZ_4K);
	folio_put(folio);
	ck_assert_int_eq(hgmem_convert(f, 5 * SZ_2M + 3 * SZ_4K, SZ_4K,
				      HGMEM_PRIVATE, NULL), 0);
	tu_check(f);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_held_folio_cannot_split_for_shared)
{
	struct hstate *h = tu_pool(PUD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	struct folio *folio;

	ck_assert_int_eq(hgmem_convert(f, 0, SZ_4K, HGMEM_SHARED, NULL), 0);
	/* Hold the 2M piece 9 (private, e.g. mapped by KVM). */
	folio = pin(f, 9 * SZ_2M);
	ck_assert_uint_eq(folio_order(folio), PMD_ORDER);
	convert_busy(f, 9 * SZ_2M + SZ_4K, SZ_4K, HGMEM_SHARED, 9 * SZ_2M + SZ_4K);
	/* A conversion of the whole piece needs no split and succeeds. */
	ck_assert_int_eq(hgmem_convert(f, 9 * SZ_2M, SZ_2M, HGMEM_SHARED, NULL), 0);
	tu_check(f);
	folio_put(folio);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_private_to_shared_ignores_pins)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, 0);
	struct folio *folio;

	ck_assert_int_eq(hgmem_convert(f, 0, SZ_4K, HGMEM_SHARED, NULL), 0);
	folio = pin(f, 5 * SZ_4K);
	/* Making a page shared is always allowed. */
	ck_assert_int_eq(hgmem_convert(f, 5 * SZ_4K, SZ_4K, HGMEM_SHARED, NULL), 0);
	tu_check(f);
	folio_put(folio);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_unallocated_pages_convert_freely)
{
	struct hstate *h = tu_pool(PMD_ORDER, 4);
	struct hgmem_file *f = tu_file(h, 4 * SZ_2M, HGMEM_FILE_INIT_SHARED);
	struct hgmem_file_stats st;

	ck_assert_int_eq(hgmem_convert(f, SZ_4K, 4 * SZ_2M - 2 * SZ_4K,
				      HGMEM_PRIVATE, NULL), 0);
	tu_check(f);
	hgmem_file_stats(f, &st);
	ck_assert_uint_eq(st.allocated, 0);
	ck_assert_uint_eq(st.shared, 2 * SZ_4K);
	ck_assert_uint_eq(st.private, 4 * SZ_2M - 2 * SZ_4K);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

static Suite *convert_suite(void)
{
	Suite *s = suite_create("convert");
	TCase *tc = tcase_create("refcount");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pinned_4k_page_blocks_private);
	tcase_add_test(tc, test_pinned_huge_folio_reports_range_start);
	tcase_add_test(tc, test_held_folio_cannot_split_for_shared);
	tcase_add_test(tc, test_private_to_shared_ignores_pins);
	tcase_add_test(tc, test_unallocated_pages_convert_freely);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(convert_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
