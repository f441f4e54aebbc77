/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the KVM suites (tests/check_kvm.c on a real KVM,
 * tests/check_kvm_unit.c and tests/check_kvm_inplace.c on a fake one):
 * pools, files, states, stats and the end of a test, through the public
 * API and Check's assertions.
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

/* A KVM file of @vm_fd made with GUESTMEM_KVM_AUTO, which must pick @mode. */
static inline struct guestmem_file *kvm_auto_file(struct guestmem_pool *pool, int vm_fd,
						  uint64_t size, uint64_t flags,
						  unsigned int mode)
{
	struct guestmem_file *f = NULL;
	unsigned int got = 0;
	int err = guestmem_kvm_file_create(pool, vm_fd, size, flags, GUESTMEM_KVM_AUTO,
					   &got, &f);

	ck_assert_msg(!err, "kvm_file_create: %d: %s", err, guestmem_last_error());
	ck_assert_uint_eq(got, mode);
	return f;
}

/* The page at @off is in state @want, in a run of @run bytes. */
static inline void assert_state(struct guestmem_file *f, uint64_t off, unsigned int want,
				uint64_t run)
{
	unsigned int st;
	uint64_t r;

	ck_assert_int_eq(guestmem_state(f, off, &st, &r), 0);
	ck_assert_msg(st == want, "offset %#llx: state %u, expected %u",
		      (unsigned long long)off, st, want);
	ck_assert_msg(r == run, "offset %#llx: run %#llx, expected %#llx",
		      (unsigned long long)off, (unsigned long long)r, (unsigned long long)run);
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
