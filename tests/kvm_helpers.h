/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the two KVM suites (tests/check_kvm.c on a real KVM,
 * tests/check_kvm_unit.c on a fake one): pools, stats and the end of a
 * test, through the public API and Check's assertions.
 */
#ifndef GUESTMEM_TESTS_KVM_HELPERS_H
#define GUESTMEM_TESTS_KVM_HELPERS_H

#include <check.h>

#include <guestmem.h>

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M

/* A pool of @nr 2M pages: hugetlb if the kernel has them, else ordinary memory. */
static inline struct guestmem_pool *kvm_test_pool(uint64_t nr)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = nr, .node = -1,
		.flags = GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool *pool = NULL;
	int err = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!err, "pool_create: %d: %s", err, guestmem_last_error());
	return pool;
}

static inline struct guestmem_file_stats fstats(struct guestmem_file *f)
{
	struct guestmem_file_stats st;

	ck_assert_int_eq(guestmem_file_stats(f, &st, sizeof(st)), 0);
	return st;
}

static inline struct guestmem_pool_stats pstats(struct guestmem_pool *p)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(p, &st, sizeof(st)), 0);
	return st;
}

/* Destroy @f and then @pool, which must be whole and hold no split file. */
static inline void finish(struct guestmem_pool *pool, struct guestmem_file *f)
{
	struct guestmem_pool_stats ps;

	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.free, ps.total);
	ck_assert_uint_eq(ps.kvm_split_files, 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}

#endif /* GUESTMEM_TESTS_KVM_HELPERS_H */
