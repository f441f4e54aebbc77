// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem_convert() and references held for a moment.  A conversion that
 * must split a folio, or make a shared page private, fails with -EAGAIN
 * while anything else holds the folio.  A pin holds it until the unpin: the
 * call must say so at once.  Another thread's guestmem_allocate() or
 * guestmem_pin() holds it only while it looks the page up: the library
 * retries, a bounded number of times.
 *
 * White-box: lib/{error,pool,file,fault}.c are compiled in, so a test can
 * take such a passing reference itself (hgmem_get_folio(), exactly what
 * the library's allocation does under file->lock) and drop it from the
 * library's -EAGAIN hook, after the conversion has failed once and before
 * it retries.  Nothing depends on timing: without the retry the first
 * -EAGAIN is returned and the tests fail.  Simulated pools: no hugetlb
 * pages needed.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/libguestmem.h"

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M

/* The passing reference: dropped by the hook at attempt @drop_at (-1: never). */
static struct folio *held;
static int drop_at;
static unsigned int hook_calls;

static void eagain_hook(struct guestmem_file *file, unsigned int attempt)
{
	(void)file;
	ck_assert_uint_eq(attempt, hook_calls);
	hook_calls++;
	if (held && (int)attempt == drop_at) {
		folio_put(held);
		held = NULL;
	}
}

static void hook_arm(int at)
{
	hook_calls = 0;
	drop_at = at;
	gm_convert_eagain_hook = eagain_hook;
}

/* Take a reference on the folio at @offset, as another thread's call would. */
static void hold(struct guestmem_file *f, uint64_t offset)
{
	int order;

	ck_assert_ptr_null(held);
	ck_assert_int_eq(hgmem_get_folio(f->gf, offset >> 12, &held, &order), 0);
}

static void release(void)
{
	if (held)
		folio_put(held);
	held = NULL;
	gm_convert_eagain_hook = NULL;
}

static struct guestmem_pool *pool_make(uint64_t nr)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = nr, .node = -1,
		.flags = GUESTMEM_POOL_SIMULATE,
	};
	struct guestmem_pool *pool = NULL;

	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	return pool;
}

static struct guestmem_file *file_make(struct guestmem_pool *pool, uint64_t size,
				       uint64_t flags)
{
	struct guestmem_file *f = NULL;

	ck_assert_int_eq(guestmem_file_create(pool, size, flags, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, size), 0);
	return f;
}

static void assert_state(struct guestmem_file *f, uint64_t offset, unsigned int want)
{
	unsigned int s = 99;

	ck_assert_int_eq(guestmem_state(f, offset, &s, NULL), 0);
	ck_assert_uint_eq(s, want);
}

/*
 * Convert [@offset, +4K) to @to while a passing reference holds the folio
 * there: the first try fails, the hook drops the reference, the retry
 * succeeds.
 */
static void convert_past_reference(struct guestmem_file *f, uint64_t offset,
				   unsigned int to)
{
	hold(f, offset);
	hook_arm(0);
	ck_assert_int_eq(guestmem_convert(f, offset, SZ_4K, to, NULL), 0);
	ck_assert_uint_eq(hook_calls, 1);
	assert_state(f, offset, to);
}

static void destroy(struct guestmem_pool *pool, struct guestmem_file *f)
{
	struct guestmem_pool_stats st;

	release();
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.in_use, 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}

/* Shared -> private, splitting a 2M page another call holds for a moment. */
START_TEST(test_private_retries_past_a_passing_reference)
{
	struct guestmem_pool *pool = pool_make(1);
	struct guestmem_file *f = file_make(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	uint64_t bad = 7;

	hold(f, 0);
	hook_arm(0);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_PRIVATE, &bad), 0);
	ck_assert_uint_eq(hook_calls, 1);
	ck_assert_uint_eq(bad, 7);		/* untouched on success */
	assert_state(f, SZ_4K, GUESTMEM_PRIVATE);
	assert_state(f, 0, GUESTMEM_SHARED);
	destroy(pool, f);
}
END_TEST

/* Private -> shared: only a split can fail, and never because of a pin. */
START_TEST(test_shared_retries_past_a_passing_reference)
{
	struct guestmem_pool *pool = pool_make(1);
	struct guestmem_file *f = file_make(pool, SZ_2M, 0);

	hold(f, 0);
	hook_arm(2);		/* still held at the first two retries */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(hook_calls, 3);
	assert_state(f, 0, GUESTMEM_SHARED);
	assert_state(f, SZ_4K, GUESTMEM_PRIVATE);
	destroy(pool, f);
}
END_TEST

/* A reference that never goes: -EAGAIN after a bounded number of tries. */
START_TEST(test_retries_are_bounded)
{
	struct guestmem_pool *pool = pool_make(1);
	struct guestmem_file *f = file_make(pool, SZ_2M, 0);
	struct guestmem_file_stats st;
	uint64_t bad = 7;

	hold(f, 0);
	hook_arm(-1);
	ck_assert_int_eq(guestmem_convert(f, 2 * SZ_4K, SZ_4K, GUESTMEM_SHARED, &bad),
			 -EAGAIN);
	ck_assert_uint_eq(hook_calls, GM_CONVERT_TRIES);
	ck_assert_uint_eq(bad, 2 * SZ_4K);	/* the folio's first page in the range */
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "another thread"));
	/* Nothing changed. */
	assert_state(f, 2 * SZ_4K, GUESTMEM_PRIVATE);
	ck_assert_int_eq(guestmem_file_stats(f, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.split_pages, 0);
	release();
	ck_assert_int_eq(guestmem_convert(f, 2 * SZ_4K, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	destroy(pool, f);
}
END_TEST

/* A pin is a lasting reference: -EAGAIN at once, no retry. */
START_TEST(test_pin_fails_at_once)
{
	struct guestmem_pool *pool = pool_make(1);
	struct guestmem_file *f = file_make(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_page pg;
	uint64_t bad = 7;

	ck_assert_int_eq(guestmem_pin(f, 5 * SZ_4K, &pg), 0);
	hook_arm(-1);
	ck_assert_int_eq(guestmem_convert(f, 3 * SZ_4K, SZ_4K, GUESTMEM_PRIVATE, &bad),
			 -EAGAIN);
	ck_assert_uint_eq(hook_calls, 1);
	ck_assert_uint_eq(bad, 3 * SZ_4K);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "pinned"));
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_convert(f, 3 * SZ_4K, SZ_4K, GUESTMEM_PRIVATE, &bad), 0);
	destroy(pool, f);
}
END_TEST

/* A pin in another huge page does not stop the retry in this one. */
START_TEST(test_pin_elsewhere_does_not_count)
{
	struct guestmem_pool *pool = pool_make(2);
	struct guestmem_file *f = file_make(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_page pg;

	ck_assert_int_eq(guestmem_pin(f, SZ_2M, &pg), 0);
	convert_past_reference(f, 0, GUESTMEM_PRIVATE);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	destroy(pool, f);
}
END_TEST

/*
 * In a split huge page a pin holds only its own 4K folio: a passing
 * reference on the next folio is retried past, the pinned one is not.
 */
START_TEST(test_pin_in_another_folio_of_the_page)
{
	struct guestmem_pool *pool = pool_make(1);
	struct guestmem_file *f = file_make(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_page pg;

	/* Split the page: 4K folios, all shared except page 0. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_pin(f, 8 * SZ_4K, &pg), 0);
	ck_assert_uint_eq(pg.max_order, 0);
	convert_past_reference(f, 9 * SZ_4K, GUESTMEM_PRIVATE);
	/* The pinned 4K page itself: at once. */
	hook_arm(-1);
	ck_assert_int_eq(guestmem_convert(f, 8 * SZ_4K, SZ_4K, GUESTMEM_PRIVATE, NULL),
			 -EAGAIN);
	ck_assert_uint_eq(hook_calls, 1);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	destroy(pool, f);
}
END_TEST

/* A pin of a page punched out of the file holds the old frame, not the new one. */
START_TEST(test_pin_of_a_punched_page_does_not_count)
{
	struct guestmem_pool *pool = pool_make(2);
	struct guestmem_file *f = file_make(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_page pg;

	ck_assert_int_eq(guestmem_pin(f, 0, &pg), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	convert_past_reference(f, 0, GUESTMEM_PRIVATE);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	destroy(pool, f);
}
END_TEST

static Suite *retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("convert");

	tcase_add_checked_fixture(tc, NULL, release);
	tcase_add_test(tc, test_private_retries_past_a_passing_reference);
	tcase_add_test(tc, test_shared_retries_past_a_passing_reference);
	tcase_add_test(tc, test_retries_are_bounded);
	tcase_add_test(tc, test_pin_fails_at_once);
	tcase_add_test(tc, test_pin_elsewhere_does_not_count);
	tcase_add_test(tc, test_pin_in_another_folio_of_the_page);
	tcase_add_test(tc, test_pin_of_a_punched_page_does_not_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(retry_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
