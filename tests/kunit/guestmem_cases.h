/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem allocator test cases shared by two harnesses: the KUnit suite
 * (mm/tests/guestmem_kunit.c) that runs them at boot on the real hugetlb
 * pool, and the userspace Check suite (tests/check_cases.c) that runs them
 * on the shim's pools.  The bodies use only the public guestmem API, the
 * public counters of struct hstate and the folio calls the allocator's
 * users make, and report through the tiny assertion layer below, which
 * each harness backs with its own failure reporting.
 */
#ifndef _MM_TESTS_GUESTMEM_CASES_H
#define _MM_TESTS_GUESTMEM_CASES_H

#include <linux/types.h>

struct hstate;

/* A running case, as seen by the shared bodies. */
struct hgmem_test {
	void *priv;		/* the harness's own test object */
	/*
	 * Report a failed check at @file:@line.  A @fatal failure ends the
	 * case: the callback must not return then.
	 */
	void (*fail)(struct hgmem_test *t, const char *file, int line,
		     const char *what, bool fatal);
	unsigned int nr_failed;
};

bool hgmem_test_check(struct hgmem_test *t, bool ok, const char *file, int line,
		      const char *what, bool fatal);
bool hgmem_test_check_eq(struct hgmem_test *t, unsigned long long a,
			 unsigned long long b, const char *file, int line,
			const char *what, bool fatal);

/* Record a failure of @cond and go on; evaluates to @cond. */
#define GT_EXPECT(t, cond) \
	hgmem_test_check((t), !!(cond), __FILE__, __LINE__, #cond, false)
/* Record a failure of @cond and end the case. */
#define GT_ASSERT(t, cond) \
	hgmem_test_check((t), !!(cond), __FILE__, __LINE__, #cond, true)
/* Integer equality, reporting both values. */
#define GT_EXPECT_EQ(t, a, b) \
	hgmem_test_check_eq((t), (a), (b), __FILE__, __LINE__, #a " == " #b, false)
#define GT_ASSERT_EQ(t, a, b) \
	hgmem_test_check_eq((t), (a), (b), __FILE__, __LINE__, #a " == " #b, true)

/*
 * One case.  It needs a pool of huge pages of order @need_order (0: any
 * order) with at least @need_pages pages free and unreserved; the harness
 * skips it otherwise.  Every case leaves the pool as it found it, and
 * checks that it does.
 */
struct hgmem_test_case {
	const char *name;
	void (*run)(struct hgmem_test *t, struct hstate *h);
	unsigned int need_order;
	unsigned long need_pages;
};

extern const struct hgmem_test_case hgmem_test_cases[];
extern const unsigned int hgmem_test_nr_cases;

/* NULL if @c can run on @h, else why not (for the harness's skip message). */
const char *hgmem_test_unfit(const struct hgmem_test_case *c, struct hstate *h);

#endif /* _MM_TESTS_GUESTMEM_CASES_H */
