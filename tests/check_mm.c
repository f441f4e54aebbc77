// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocator behaviour that only the shim can show.  The allocator's cases
 * (reservation, fault, 2M and 1G splits and merges, conversion refused for
 * held pages, punch hole, deferred reassembly, bad input) live in
 * tests/kunit/guestmem_cases.c, which check_cases runs here and KUnit in
 * the kernel.  What stays here needs the shim: free pool memory written
 * behind the pool's back, a pool of exactly the file's size, and the
 * shim's reports of broken lock rules and of a double folio_put().
 */
#include "test_util.h"

static void convert_ok(struct hgmem_file *f, u64 off, u64 len, unsigned int to)
{
	u64 bad = ~0ULL;

	ck_assert_int_eq(hgmem_convert(f, off, len, to, &bad), 0);
	tu_check(f);
}

static struct folio *fault(struct hgmem_file *f, u64 off, int *order)
{
	struct folio *folio = NULL;

	ck_assert_int_eq(hgmem_get_folio(f, off >> PAGE_SHIFT, &folio, order), 0);
	tu_check(f);
	return folio;
}

START_TEST(test_fault_zeroes_a_dirty_pool_page)
{
	struct hstate *h = tu_pool(PMD_ORDER, 2);
	struct hgmem_file *f = tu_file(h, 2 * SZ_2M, HGMEM_FILE_INIT_SHARED);
	struct folio *folio;
	unsigned char *p;
	int order;

	/*
	 * Dirty the free pool memory behind the pool's back, so that zeroing
	 * on allocation is observable whichever page the fault gets.
	 */
	memset(h->region->addr, 0xa5, 2 * SZ_2M);
	folio = fault(f, SZ_2M + 5 * SZ_4K, &order);
	ck_assert_int_eq(order, PMD_ORDER);
	p = tu_addr(f, SZ_2M);
	for (u64 i = 0; i < SZ_2M; i += 4093)
		ck_assert_uint_eq(p[i], 0);
	folio_put(folio);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_refault_right_after_last_put)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, 0);
	struct folio *pinned, *folio;
	int order;

	convert_ok(f, 0, SZ_4K, HGMEM_SHARED);
	pinned = fault(f, 0, &order);
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_2M), 0);
	folio_put(pinned);
	/*
	 * Whether or not the worker has reassembled the page yet, the next
	 * fault gets it: allocation waits for pending reassembly, it does not
	 * fail for want of a page that is on its way back.
	 */
	folio = fault(f, 0, &order);
	folio_put(folio);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_refault_while_punched_page_held)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, HGMEM_FILE_INIT_SHARED);
	struct folio *pinned;
	int order;

	pinned = fault(f, 0, &order);
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_2M), 0);
	tu_check(f);
	/* The pool's only page is still held: a refault has none to take. */
	ck_assert_int_eq(hgmem_get_folio(f, 0, &(struct folio *){ NULL }, &order), -ENOMEM);
	tu_check(f);
	folio_put(pinned);
	pinned = fault(f, 0, &order);
	folio_put(pinned);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

/*
 * mm/ states its locking rules with lockdep_assert_held() and might_sleep():
 * the state of a huge page's pages belongs to that huge page's lock, and
 * breaking a rule is reported (and fails any test that asserts no WARN),
 * whether the lock is not held at all or held by another thread.
 */
START_TEST(test_file_lock_rules_are_checked)
{
	unsigned long warns;
	struct hgmem_file *f;
	struct tu_holder hd;
	enum hgmem_state s;
	struct hstate *h;
	spinlock_t sl;
	pgoff_t last;

	TU_SKIP_WITHOUT_LOCK_CHECKS();
	h = tu_pool(PMD_ORDER, 2);
	f = tu_file(h, 2 * SZ_2M, HGMEM_FILE_INIT_SHARED);
	/* Held: nothing to report; the run stops at the end of the huge page. */
	hgmem_lock(f, 0, 1);
	ck_assert_int_eq(hgmem_state_at(f, 0, &last), HGMEM_SHARED);
	ck_assert_uint_eq(last, 511);
	hgmem_unlock(f, 0, 1);
	tu_assert_no_warnings();

	/* Not held: mm/'s assertion reports. */
	warns = shim_warn_count();
	ck_assert_int_eq(hgmem_state_at(f, 0, &last), HGMEM_SHARED);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	ck_assert_msg(strstr(shim_last_warning(), "lock_is_held"), "%s",
		      shim_last_warning());

	/* The huge page's lock held by another thread: the same. */
	tu_hold_start(&hd, tu_mutex_lock, tu_mutex_unlock, hgmem_huge_lock(f, 0));
	warns = shim_warn_count();
	ck_assert_int_eq(hgmem_state_at(f, 0, &last), HGMEM_SHARED);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	tu_hold_stop(&hd);

	/* An entry point that may sleep, called in atomic context. */
	spin_lock_init(&sl);
	warns = shim_warn_count();
	spin_lock(&sl);
	ck_assert_int_eq(hgmem_get_state(f, 0, &s, NULL), 0);
	spin_unlock(&sl);
	ck_assert_int_eq(s, HGMEM_SHARED);
	/* hgmem_get_state()'s might_sleep(), then mutex_lock()'s. */
	ck_assert_uint_eq(shim_warn_count(), warns + 2);
	ck_assert_msg(strstr(shim_last_warning(), "might_sleep"), "%s", shim_last_warning());
	tu_reset_warnings();

	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

/* Putting a freed folio again is reported and changes nothing. */
START_TEST(test_double_put_is_caught)
{
	struct hstate *h = tu_pool(PMD_ORDER, 2);
	struct hgmem_file *f = tu_file(h, 2 * SZ_2M, 0);
	struct shim_hstate_counters c0, c1;
	struct tu_snapshot before, after;
	unsigned long warns;
	struct folio *folio;
	int order;

	/* An unsplit huge folio: its descriptor outlives the page's return. */
	folio = fault(f, 0, &order);
	ck_assert_int_eq(order, PMD_ORDER);
	folio_put(folio);
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_2M), 0);
	tu_check(f);
	tu_snapshot(f, &before);
	shim_hstate_counters(h, &c0);

	warns = shim_warn_count();
	folio_put(folio);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	ck_assert_int_eq(folio_ref_count(folio), 0);
	shim_hstate_counters(h, &c1);
	ck_assert_mem_eq(&c0, &c1, sizeof(c0));
	tu_snapshot(f, &after);
	tu_assert_snapshot_eq(&before, &after);
	tu_snapshot_free(&before);
	tu_snapshot_free(&after);
	tu_reset_warnings();
	tu_check(f);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

static Suite *mm_suite(void)
{
	Suite *s = suite_create("mm");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fault_zeroes_a_dirty_pool_page);
	tcase_add_test(tc, test_refault_right_after_last_put);
	tcase_add_test(tc, test_refault_while_punched_page_held);
	tcase_add_test(tc, test_file_lock_rules_are_checked);
	tcase_add_test(tc, test_double_put_is_caught);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(mm_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
