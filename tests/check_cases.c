// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The allocator cases shared with the kernel's KUnit suite
 * (tests/kunit/guestmem_cases.c, mm/tests/ in the kernel), run on shim
 * pools of 2M and 1G pages: one Check test per case and page size.
 *
 * The 2M pool also holds a bystander file with one page allocated and one
 * reserved, as the kernel's pool may serve others while the cases run: the
 * cases must judge the pool by its counters at their start, not by zero.
 */
#include "test_util.h"
#include "kunit/guestmem_cases.h"

struct ck_case_log {
	char first[512];
};

/* A failed check: printed at once; a fatal one ends the test here. */
static void ck_case_fail(struct hgmem_test *t, const char *file, int line,
			 const char *what, bool fatal)
{
	struct ck_case_log *log = t->priv;

	fprintf(stderr, "%s:%d: %s\n", file, line, what);
	if (!log->first[0])
		snprintf(log->first, sizeof(log->first), "%s:%d: %s", file, line,
			 what);
	if (fatal)
		ck_abort_msg("%s:%d: %s (fatal; %u failed check(s) in all)", file,
			     line, what, t->nr_failed);
}

static void run_case(unsigned int order, unsigned long nr_huge, bool bystander,
		     int i)
{
	const struct hgmem_test_case *c = &hgmem_test_cases[i];
	struct ck_case_log log = { "" };
	struct hgmem_test t = { .priv = &log, .fail = ck_case_fail };
	struct hstate *h = tu_pool(order, nr_huge);
	struct hgmem_file *other = NULL;
	const char *why;

	if (bystander) {
		other = tu_file(h, 2 * huge_page_size(h), 0);
		ck_assert_int_eq(hgmem_allocate(other, 0, PAGE_SIZE), 0);
	}
	why = hgmem_test_unfit(c, h);
	if (why) {
		printf("SKIP %s on order %u: %s\n", c->name, order, why);
	} else {
		c->run(&t, h);
		ck_assert_msg(!t.nr_failed, "case %s (order %u): %u failed check(s), first: %s",
			      c->name, order, t.nr_failed, log.first);
	}
	if (other) {
		tu_check(other);
		hgmem_file_release(other);
	}
	tu_pool_destroy(h);
	tu_assert_no_warnings();
}

START_TEST(test_case_2m)
{
	run_case(PMD_ORDER, 8, true, _i);
}
END_TEST

START_TEST(test_case_1g)
{
	run_case(PUD_ORDER, 2, false, _i);
}
END_TEST

static Suite *cases_suite(void)
{
	Suite *s = suite_create("cases");
	TCase *tc2m = tcase_create("2m");
	TCase *tc1g = tcase_create("1g");

	tcase_add_checked_fixture(tc2m, tu_reset_warnings, tu_assert_no_warnings);
	tcase_add_checked_fixture(tc1g, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc2m, 120);
	/*
	 * A 1G case zeroes a gigabyte at each allocation, through page faults
	 * on the shim's memory: over a minute each on a loaded two-core
	 * machine.  The limit only catches a hang.
	 */
	tcase_set_timeout(tc1g, 900);
	tcase_add_loop_test(tc2m, test_case_2m, 0, hgmem_test_nr_cases);
	tcase_add_loop_test(tc1g, test_case_1g, 0, hgmem_test_nr_cases);
	suite_add_tcase(s, tc2m);
	suite_add_tcase(s, tc1g);
	return s;
}

int main(void)
{
	return tu_run(cases_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
