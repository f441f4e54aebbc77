// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the guestmem allocator.
 *
 * The test bodies are in guestmem_cases.c, which the userspace library's
 * Check suite runs as well; this file runs each of them, as a parameter of
 * one case per huge page size, on the kernel's own hugetlb pool.  Boot with
 * some free huge pages of each size, e.g.
 *
 *	hugepagesz=2M hugepages=64 hugepagesz=1G hugepages=1
 *
 * A case whose page size is not configured, or that needs more free pages
 * than the pool has, is skipped, not failed.
 */
#include <kunit/test.h>
#include <linux/hugetlb.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "guestmem_cases.h"

static void hgmem_kunit_fail(struct hgmem_test *t, const char *file, int line,
			     const char *what, bool fatal)
{
	struct kunit *test = t->priv;

	if (fatal)
		KUNIT_FAIL_AND_ABORT(test, "%s:%d: %s", file, line, what);
	else
		KUNIT_FAIL(test, "%s:%d: %s", file, line, what);
}

static const void *hgmem_kunit_gen_params(struct kunit *test, const void *prev,
					  char *desc)
{
	const struct hgmem_test_case *c = prev;

	c = c ? c + 1 : hgmem_test_cases;
	if (c >= hgmem_test_cases + hgmem_test_nr_cases)
		return NULL;
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
	return c;
}

static void hgmem_kunit_run(struct kunit *test, unsigned long size)
{
	const struct hgmem_test_case *c = test->param_value;
	struct hgmem_test t = {
		.priv = test,
		.fail = hgmem_kunit_fail,
	};
	struct hstate *h = size_to_hstate(size);
	const char *why;

	if (!h)
		kunit_skip(test, "no hugetlb pool of %luM pages (hugepagesz=%luM)",
			   size >> 20, size >> 20);
	why = hgmem_test_unfit(c, h);
	if (why)
		kunit_skip(test, "%s: order %u: %lu free, %lu reserved; needs %lu of order %u",
			   why, huge_page_order(h), h->free_huge_pages,
			   h->resv_huge_pages, c->need_pages,
			   c->need_order ?: huge_page_order(h));
	c->run(&t, h);
}

static void guestmem_2m(struct kunit *test)
{
	hgmem_kunit_run(test, SZ_2M);
}

static void guestmem_1g(struct kunit *test)
{
	hgmem_kunit_run(test, SZ_1G);
}

static struct kunit_case guestmem_2m_cases[] = {
	KUNIT_CASE_PARAM(guestmem_2m, hgmem_kunit_gen_params),
	{}
};

/* Each case zeroes a whole 1G page when it allocates one. */
static struct kunit_case guestmem_1g_cases[] = {
	KUNIT_CASE_PARAM_ATTR(guestmem_1g, hgmem_kunit_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite guestmem_2m_suite = {
	.name = "guestmem_2m",
	.test_cases = guestmem_2m_cases,
};

static struct kunit_suite guestmem_1g_suite = {
	.name = "guestmem_1g",
	.test_cases = guestmem_1g_cases,
};

kunit_test_suites(&guestmem_2m_suite, &guestmem_1g_suite);
