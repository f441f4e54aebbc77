// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Core allocator behaviour: reservation, fault, 2M and 1G geometry of
 * splits and merges, punch hole, release and deferred reassembly, with the
 * invariants and the pool's conservation checked after every operation.
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

START_TEST(test_reservation_at_create)
{
	struct hstate *h = tu_pool(PMD_ORDER, 4);
	struct shim_hstate_counters c;
	struct hgmem_file *f, *g = NULL;

	f = tu_file(h, 3 * SZ_2M, 0);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.resv, 3);
	ck_assert_uint_eq(c.free, 4);
	/* Only one page left unreserved: a 2-page file must fail now, not later. */
	ck_assert_int_eq(hgmem_file_create(h, 2 * SZ_2M, 0, NUMA_NO_NODE, &g), -ENOMEM);
	ck_assert_ptr_null(g);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.resv, 3);

	ck_assert_int_eq(hgmem_allocate(f, 0, 3 * SZ_2M), 0);
	tu_check(f);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.resv, 0);
	ck_assert_uint_eq(c.in_use, 3);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_fault_zeroes_and_maps_huge)
{
	struct hstate *h = tu_pool(PMD_ORDER, 2);
	struct hgmem_file *f = tu_file(h, 2 * SZ_2M, HGMEM_FILE_INIT_SHARED);
	struct folio *folio;
	unsigned char *p;
	int order;

	/* Dirty the pool memory so zeroing on allocation is observable. */
	memset(h->region->addr, 0xa5, 2 * SZ_2M);
	folio = fault(f, SZ_2M + 5 * SZ_4K, &order);
	ck_assert_int_eq(order, PMD_ORDER);
	ck_assert_uint_eq(folio_order(folio), PMD_ORDER);
	ck_assert_int_eq(folio_ref_count(folio), 2);
	p = tu_addr(f, SZ_2M);
	for (u64 i = 0; i < SZ_2M; i += 4093)
		ck_assert_uint_eq(p[i], 0);
	folio_put(folio);
	ck_assert_int_eq(atomic_long_read(&f->nr_huge), 1);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_2m_split_and_merge)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, 0);
	struct hgmem_file_stats st;
	struct folio *folio;
	int order;

	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_2M), 0);
	tu_addr(f, 7 * SZ_4K)[0] = 0x42;
	convert_ok(f, 7 * SZ_4K, SZ_4K, HGMEM_SHARED);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 512);
	folio = fault(f, 7 * SZ_4K, &order);
	ck_assert_int_eq(order, 0);
	folio_put(folio);
	/* In place: the data survives the split. */
	ck_assert_uint_eq(tu_addr(f, 7 * SZ_4K)[0], 0x42);
	hgmem_file_stats(f, &st);
	ck_assert_uint_eq(st.shared, SZ_4K);
	ck_assert_uint_eq(st.split_pages, 1);
	ck_assert_uint_eq(st.huge_mappable, 0);

	convert_ok(f, 7 * SZ_4K, SZ_4K, HGMEM_PRIVATE);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 1);
	ck_assert_int_eq(tu_order_at(f, 0), PMD_ORDER);
	ck_assert_uint_eq(tu_addr(f, 7 * SZ_4K)[0], 0x42);
	hgmem_file_stats(f, &st);
	ck_assert_uint_eq(st.splits, 1);
	ck_assert_uint_eq(st.merges, 1);
	ck_assert_uint_eq(st.huge_mappable, SZ_2M);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_1g_split_two_steps)
{
	struct hstate *h = tu_pool(PUD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	struct hgmem_file_stats st;
	struct folio *folio;
	int order;

	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_1G), 0);
	tu_addr(f, 300 * SZ_2M + SZ_4K)[1] = 0x17;
	/* One 4K page in 2M piece 300: that piece goes to 4K, the other 511 stay 2M. */
	convert_ok(f, 300 * SZ_2M + SZ_4K, SZ_4K, HGMEM_SHARED);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 511 + 512);
	for (u64 i = 0; i < 512; i++)
		ck_assert_int_eq(tu_order_at(f, i * SZ_2M), i == 300 ? 0 : PMD_ORDER);
	folio = fault(f, 5 * SZ_2M, &order);
	ck_assert_int_eq(order, PMD_ORDER);
	folio_put(folio);
	folio = fault(f, 300 * SZ_2M + SZ_4K, &order);
	ck_assert_int_eq(order, 0);
	folio_put(folio);
	hgmem_file_stats(f, &st);
	ck_assert_uint_eq(st.huge_mappable, 511 * SZ_2M);
	ck_assert_uint_eq(st.splits, 2);
	ck_assert_uint_eq(tu_addr(f, 300 * SZ_2M + SZ_4K)[1], 0x17);

	/* Back to uniform: 4K -> 2M -> 1G, one folio again. */
	convert_ok(f, 300 * SZ_2M + SZ_4K, SZ_4K, HGMEM_PRIVATE);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 1);
	ck_assert_int_eq(tu_order_at(f, 0), PUD_ORDER);
	ck_assert(folio_test_hugetlb(pfn_folio(((struct hgmem_huge *)xa_load(&f->huge, 0))->pfn)));
	hgmem_file_stats(f, &st);
	ck_assert_uint_eq(st.merges, 2);
	ck_assert_uint_eq(tu_addr(f, 300 * SZ_2M + SZ_4K)[1], 0x17);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_1g_whole_2m_piece_conversion)
{
	struct hstate *h = tu_pool(PUD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);

	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_1G), 0);
	/* A 2M-aligned conversion needs only the 1G -> 2M split. */
	convert_ok(f, 4 * SZ_2M, 2 * SZ_2M, HGMEM_SHARED);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 512);
	/* Converting it all the same way merges back to 1G. */
	convert_ok(f, 0, SZ_1G, HGMEM_SHARED);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 1);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_fault_into_mixed_range_splits)
{
	struct hstate *h = tu_pool(PUD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	struct folio *folio;
	int order;

	/* State changes before allocation; the fault builds the right folios. */
	convert_ok(f, 3 * SZ_2M + 8 * SZ_4K, 2 * SZ_4K, HGMEM_SHARED);
	ck_assert_int_eq(atomic_long_read(&f->nr_huge), 0);
	folio = fault(f, 3 * SZ_2M + 8 * SZ_4K, &order);
	ck_assert_int_eq(order, 0);
	folio_put(folio);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 511 + 512);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_fault_splits_many_pieces)
{
	struct hstate *h = tu_pool_kind(PUD_ORDER, 1, SHIM_BACKEND_RESERVE);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	struct hgmem_file_stats st;
	u64 i;

	/* A fault may have to split any number of 2M pieces at once. */
	for (i = 0; i < 100; i++)
		convert_ok(f, i * 5 * SZ_2M + 7 * SZ_4K, SZ_4K, HGMEM_SHARED);
	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_1G), 0);
	tu_check(f);
	ck_assert_uint_eq(tu_nr_folios(f, 0), (512 - 100) + 100 * 512);
	hgmem_file_stats(f, &st);
	ck_assert_uint_eq(st.splits, 1 + 100);
	ck_assert_uint_eq(st.huge_mappable, (512 - 100) * SZ_2M);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_punch_hole_partial_and_whole)
{
	struct hstate *h = tu_pool(PMD_ORDER, 3);
	struct hgmem_file *f = tu_file(h, 3 * SZ_2M, HGMEM_FILE_INIT_SHARED);
	struct shim_hstate_counters c;

	ck_assert_int_eq(hgmem_allocate(f, 0, 3 * SZ_2M), 0);
	memset(tu_addr(f, 0), 0x5a, SZ_2M);
	/* Partial: zeroed, still allocated. */
	ck_assert_int_eq(hgmem_punch_hole(f, SZ_4K, 2 * SZ_4K), 0);
	tu_check(f);
	ck_assert_uint_eq(tu_addr(f, 0)[0], 0x5a);
	ck_assert_uint_eq(tu_addr(f, SZ_4K)[0], 0);
	ck_assert_uint_eq(tu_addr(f, 2 * SZ_4K)[4095], 0);
	ck_assert_uint_eq(tu_addr(f, 3 * SZ_4K)[0], 0x5a);
	ck_assert_int_eq(atomic_long_read(&f->nr_huge), 3);
	/* Whole huge pages: back to the pool, and back in the reservation. */
	ck_assert_int_eq(hgmem_punch_hole(f, SZ_2M, 2 * SZ_2M), 0);
	tu_check(f);
	ck_assert_int_eq(atomic_long_read(&f->nr_huge), 1);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.in_use, 1);
	ck_assert_uint_eq(c.resv, 2);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_punch_split_page_reassembles_at_once)
{
	struct hstate *h = tu_pool(PUD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	struct shim_hstate_counters c;

	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_1G), 0);
	convert_ok(f, SZ_4K, SZ_4K, HGMEM_SHARED);
	convert_ok(f, 100 * SZ_2M, SZ_2M, HGMEM_SHARED);
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_1G), 0);
	tu_check(f);
	/* Nobody else held a piece: the page is whole and free immediately. */
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.in_use, 0);
	ck_assert_uint_eq(hgmem_nr_pending(h), 0);
	ck_assert(folio_test_hugetlb(&h->region->heads[0]) == false);
	ck_assert_ptr_null(h->region->heads[0].children);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_deferred_reassembly_on_last_put)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, 0);
	struct shim_hstate_counters c;
	struct folio *pinned;
	int order;

	convert_ok(f, 10 * SZ_4K, SZ_4K, HGMEM_SHARED);
	pinned = fault(f, 10 * SZ_4K, &order);
	ck_assert_int_eq(order, 0);
	hgmem_file_release(f);
	/* The pinned piece keeps the page out of the pool, visibly. */
	hgmem_flush_deferred();
	ck_assert_uint_eq(hgmem_nr_pending(h), 1);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.in_use, 1);
	ck_assert_int_eq(c.subpools, 1);
	/* The last put queues reassembly; flushing waits for it, no sleeping. */
	folio_put(pinned);
	hgmem_flush_deferred();
	ck_assert_uint_eq(hgmem_nr_pending(h), 0);
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

START_TEST(test_pinned_unsplit_page_returns_on_last_put)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, HGMEM_FILE_INIT_SHARED);
	struct shim_hstate_counters c;
	struct folio *pinned;
	int order;

	pinned = fault(f, 0, &order);
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_2M), 0);
	tu_check(f);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.in_use, 1);
	/* Re-faulting while the old page is held: the pool has none to spare. */
	ck_assert_int_eq(hgmem_get_folio(f, 0, &(struct folio *){ NULL }, &order), -ENOMEM);
	tu_check(f);
	folio_put(pinned);
	shim_hstate_counters(h, &c);
	ck_assert_uint_eq(c.in_use, 0);
	pinned = fault(f, 0, &order);
	folio_put(pinned);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_merge_skipped_while_piece_held)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, 0);
	struct folio *held;
	int order;

	convert_ok(f, 0, SZ_4K, HGMEM_SHARED);
	held = fault(f, 0, &order);
	/* Uniform again, but a piece is held: stays split, still consistent. */
	convert_ok(f, 0, SZ_2M, HGMEM_SHARED);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 512);
	folio_put(held);
	/* The next conversion touching it merges. */
	convert_ok(f, 0, SZ_2M, HGMEM_PRIVATE);
	ck_assert_uint_eq(tu_nr_folios(f, 0), 1);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_zero_on_convert)
{
	struct hstate *h = tu_pool(PMD_ORDER, 1);
	struct hgmem_file *f = tu_file(h, SZ_2M, HGMEM_FILE_ZERO_ON_CONVERT);

	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_2M), 0);
	memset(tu_addr(f, 0), 0x77, 4 * SZ_4K);
	convert_ok(f, SZ_4K, SZ_4K, HGMEM_SHARED);
	ck_assert_uint_eq(tu_addr(f, 0)[0], 0x77);
	ck_assert_uint_eq(tu_addr(f, SZ_4K)[0], 0);
	ck_assert_uint_eq(tu_addr(f, 2 * SZ_4K)[0], 0x77);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_state_runs_merge)
{
	struct hstate *h = tu_pool(PMD_ORDER, 2);
	struct hgmem_file *f = tu_file(h, 2 * SZ_2M, 0);
	enum hgmem_state s;
	u64 run;

	convert_ok(f, SZ_4K, SZ_4K, HGMEM_SHARED);
	convert_ok(f, 3 * SZ_4K, SZ_4K, HGMEM_SHARED);
	convert_ok(f, 2 * SZ_4K, SZ_4K, HGMEM_SHARED);
	ck_assert_int_eq(hgmem_get_state(f, SZ_4K, &s, &run), 0);
	ck_assert_int_eq(s, HGMEM_SHARED);
	ck_assert_uint_eq(run, 3 * SZ_4K);
	ck_assert_uint_eq(shim_mt_nr_ranges(&f->state), 3);
	convert_ok(f, 0, 2 * SZ_2M, HGMEM_PRIVATE);
	ck_assert_uint_eq(shim_mt_nr_ranges(&f->state), 1);
	ck_assert_int_eq(hgmem_get_state(f, SZ_2M, &s, &run), 0);
	ck_assert_int_eq(s, HGMEM_PRIVATE);
	ck_assert_uint_eq(run, SZ_2M);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}
END_TEST

/*
 * mm/ states its locking rules with lockdep_assert_held() and might_sleep(),
 * and the file's lock is its state tree's external lock: breaking a rule is
 * reported (and fails any test that asserts no WARN), whether the lock is
 * not held at all or held by another thread.
 */
START_TEST(test_file_lock_rules_are_checked)
{
	struct hstate *h = tu_pool(PMD_ORDER, 2);
	struct hgmem_file *f = tu_file(h, 2 * SZ_2M, HGMEM_FILE_INIT_SHARED);
	unsigned long warns;
	struct tu_holder hd;
	enum hgmem_state s;
	spinlock_t sl;
	pgoff_t last;

	ck_assert(mt_external_lock(&f->state));
	ck_assert_ptr_eq(f->state.ma_external_lock, &f->state_lock.dep_map);

	/* Held: nothing to report. */
	mutex_lock(&f->state_lock);
	ck_assert_int_eq(__hgmem_state_at(f, 0, &last), HGMEM_SHARED);
	ck_assert_uint_eq(last, 2 * 512 - 1);
	mutex_unlock(&f->state_lock);
	tu_assert_no_warnings();

	/* Not held: mm/'s assertion and the tree's own check both report. */
	warns = shim_warn_count();
	ck_assert_int_eq(__hgmem_state_at(f, 0, &last), HGMEM_SHARED);
	ck_assert_uint_eq(shim_warn_count(), warns + 2);
	ck_assert_msg(strstr(shim_last_warning(), "mas_walk"), "%s", shim_last_warning());

	/* Held by another thread: the same. */
	tu_hold_start(&hd, tu_mutex_lock, tu_mutex_unlock, &f->state_lock);
	warns = shim_warn_count();
	ck_assert_int_eq(__hgmem_state_at(f, 0, &last), HGMEM_SHARED);
	ck_assert_uint_eq(shim_warn_count(), warns + 2);
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

static Suite *mm_suite(void)
{
	Suite *s = suite_create("mm");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reservation_at_create);
	tcase_add_test(tc, test_fault_zeroes_and_maps_huge);
	tcase_add_test(tc, test_2m_split_and_merge);
	tcase_add_test(tc, test_1g_split_two_steps);
	tcase_add_test(tc, test_1g_whole_2m_piece_conversion);
	tcase_add_test(tc, test_fault_into_mixed_range_splits);
	tcase_add_test(tc, test_fault_splits_many_pieces);
	tcase_add_test(tc, test_punch_hole_partial_and_whole);
	tcase_add_test(tc, test_punch_split_page_reassembles_at_once);
	tcase_add_test(tc, test_deferred_reassembly_on_last_put);
	tcase_add_test(tc, test_refault_right_after_last_put);
	tcase_add_test(tc, test_pinned_unsplit_page_returns_on_last_put);
	tcase_add_test(tc, test_merge_skipped_while_piece_held);
	tcase_add_test(tc, test_zero_on_convert);
	tcase_add_test(tc, test_state_runs_merge);
	tcase_add_test(tc, test_file_lock_rules_are_checked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(mm_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
