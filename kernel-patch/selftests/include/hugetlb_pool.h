/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host's hugetlb pool, as seen in /sys/kernel/mm/hugepages: the huge page
 * sizes (hstates) it has, and snapshots of their counters, to check that a
 * test gives back every huge page and reservation it took.
 */
#ifndef SELFTEST_KVM_HUGETLB_POOL_H
#define SELFTEST_KVM_HUGETLB_POOL_H

#include <stdbool.h>
#include <stddef.h>

#define HUGETLB_MAX_HSTATES	8

struct hugetlb_hstate {
	size_t page_size;
	char name[16];		/* "2M", "1G", ... */
};

/* The huge page sizes of the host, smallest first: hugetlb_find_hstates(). */
extern struct hugetlb_hstate hugetlb_hstates[HUGETLB_MAX_HSTATES];
extern int hugetlb_nr_hstates;

/* @h: a (const) struct hugetlb_hstate *, set to each of them in turn. */
#define for_each_hugetlb_hstate(h)					\
	for (int __hugetlb_i = 0;					\
	     __hugetlb_i < hugetlb_nr_hstates &&			\
	     ((h) = &hugetlb_hstates[__hugetlb_i]); __hugetlb_i++)

struct hugetlb_counters {
	unsigned long nr;
	unsigned long free;
	unsigned long resv;
	unsigned long surplus;
};

/* A snapshot of the counters of every hstate, indexed like hugetlb_hstates. */
struct hugetlb_pool {
	struct hugetlb_counters c[HUGETLB_MAX_HSTATES];
};

/*
 * Fill hugetlb_hstates from sysfs (none if hugetlbfs is absent); only the
 * first call reads sysfs.  Returns hugetlb_nr_hstates.
 */
int hugetlb_find_hstates(void);

/* The hstate of @page_size, or NULL if the host has no such size. */
const struct hugetlb_hstate *hugetlb_hstate_find(size_t page_size);

/* The number in /sys/kernel/mm/hugepages/hugepages-<size>kB/@file. */
unsigned long hugetlb_hstate_read(const struct hugetlb_hstate *h,
				  const char *file);

void hugetlb_pool_read(struct hugetlb_pool *p);

/* ksft_print_msg() each hstate's counters in @p. */
void hugetlb_pool_print(const struct hugetlb_pool *p);

/* Huge pages of @h in @p that are neither allocated nor reserved. */
unsigned long hugetlb_pool_avail(const struct hugetlb_pool *p,
				 const struct hugetlb_hstate *h);

/* The same, for the pool as it is now. */
unsigned long hugetlb_hstate_avail(const struct hugetlb_hstate *h);

/*
 * How many huge pages of @h a test that faults them all in should use: up to
 * @max of the @avail ones, but only one gigantic page, which takes a while to
 * clear.
 */
unsigned long hugetlb_nr_test_pages(const struct hugetlb_hstate *h,
				    unsigned long avail, unsigned long max);

/*
 * Assert that the pool of @h has @free free and @resv reserved pages more (or
 * fewer, if negative) than @base, and that nothing else differs from @base,
 * in the pool of @h or of any other size.  @h may be NULL; @what names the
 * caller in the failure message.
 */
void __hugetlb_pool_assert(const struct hugetlb_pool *base,
			   const struct hugetlb_hstate *h, long free,
			   long resv, const char *what);

#define hugetlb_pool_assert(base, h, free, resv)			\
	__hugetlb_pool_assert(base, h, free, resv, __func__)

/* Assert that the pool is exactly as in @base. */
#define hugetlb_pool_assert_restored(base)				\
	__hugetlb_pool_assert(base, NULL, 0, 0, __func__)

/* A sub-test run on each huge page size: NULL if it ran, else why not. */
struct hugetlb_test {
	const char *name;
	const char *(*fn)(const struct hugetlb_hstate *h);
};

/* Report a sub-test as passed, or skipped (@skip says why). */
void hugetlb_test_report(const char *skip, const char *name, const char *size);

/*
 * Print the header, a plan of @nr_once sub-tests plus @nr per huge page
 * size, and the pool, which is read into @base.
 */
void hugetlb_tests_start(struct hugetlb_pool *base, int nr_once, size_t nr);

/* Run and report each of @tests on each huge page size. */
void hugetlb_tests_run(const struct hugetlb_test *tests, size_t nr);

/*
 * Check that the pool is as in @base again, and finish: skipped if no
 * sub-test passed.
 */
void hugetlb_tests_finish(const struct hugetlb_pool *base);

#endif /* SELFTEST_KVM_HUGETLB_POOL_H */
