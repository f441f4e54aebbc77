// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem_hugetlb_info(): its errors, its counters against sysfs read
 * here independently, and a reservation seen through it.  Other processes
 * on the machine may use hugetlb pages meanwhile, so a comparison is taken
 * from an attempt in which sysfs did not change around the call, and a
 * reservation from an attempt in which nothing else reserved.  Public API
 * only.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <guestmem.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	26
#endif

#define ATTEMPTS	20

/* The sysfs counters of @page_size (node -1: the whole system). */
struct sysfs_counts {
	long nr, free, resv, surplus, over;
};

static long read_file(const char *dir, const char *name)
{
	char path[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool read_sysfs(uint64_t page_size, int node, struct sysfs_counts *c)
{
	char dir[160];

	if (node < 0)
		snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%llukB",
			 (unsigned long long)(page_size >> 10));
	else
		snprintf(dir, sizeof(dir),
			 "/sys/devices/system/node/node%d/hugepages/hugepages-%llukB", node,
			 (unsigned long long)(page_size >> 10));
	c->nr = read_file(dir, "nr_hugepages");
	c->free = read_file(dir, "free_hugepages");
	c->surplus = read_file(dir, "surplus_hugepages");
	c->resv = node < 0 ? read_file(dir, "resv_hugepages") : 0;
	c->over = node < 0 ? read_file(dir, "nr_overcommit_hugepages") : 0;
	return c->nr >= 0 && c->free >= 0;
}

static bool have_size(uint64_t page_size)
{
	char dir[96];

	snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%llukB",
		 (unsigned long long)(page_size >> 10));
	return access(dir, F_OK) == 0;
}

START_TEST(test_errors)
{
	struct guestmem_hugetlb_info info;
	uint64_t missing = 0, sz;

	ck_assert_int_eq(guestmem_hugetlb_info(0, -1, &info), -EINVAL);
	ck_assert_str_ne(guestmem_last_error(), "");
	ck_assert_int_eq(guestmem_hugetlb_info(3 << 20, -1, &info), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(4096, -1, &info), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -2, &info), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, NULL), -EINVAL);
	/* A well-formed size this kernel does not offer. */
	for (sz = 8192; sz && !missing; sz <<= 1)
		if (!have_size(sz))
			missing = sz;
	ck_assert_uint_ne(missing, 0);
	ck_assert_int_eq(guestmem_hugetlb_info(missing, -1, &info), -ENOENT);
	ck_assert_msg(strstr(guestmem_last_error(), "offers no"), "%s", guestmem_last_error());
	if (have_size(GUESTMEM_PAGE_2M)) {
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, 1 << 20, &info), -ENOENT);
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &info), 0);
		ck_assert_str_eq(guestmem_last_error(), "");
	}
}
END_TEST

/* Equal to sysfs in an attempt where sysfs stood still around the call. */
static void compare(uint64_t page_size, int node)
{
	struct guestmem_hugetlb_info info, sys;
	struct sysfs_counts a, b;
	int i;

	for (i = 0; i < ATTEMPTS; i++) {
		ck_assert(read_sysfs(page_size, node, &a));
		ck_assert_int_eq(guestmem_hugetlb_info(page_size, node, &info), 0);
		ck_assert_int_eq(guestmem_hugetlb_info(page_size, -1, &sys), 0);
		ck_assert(read_sysfs(page_size, node, &b));
		if (memcmp(&a, &b, sizeof(a)))
			continue;
		ck_assert_uint_eq(info.total, (uint64_t)a.nr);
		ck_assert_uint_eq(info.free, (uint64_t)a.free);
		ck_assert_uint_eq(info.surplus, (uint64_t)a.surplus);
		ck_assert_uint_le(info.free, info.total);
		ck_assert_uint_le(info.surplus, info.total);
		if (node < 0) {
			ck_assert_uint_eq(info.reserved, (uint64_t)a.resv);
			ck_assert_uint_eq(info.overcommit, (uint64_t)a.over);
			ck_assert_uint_le(info.reserved, info.free);
			ck_assert_uint_eq(info.available, info.free - info.reserved);
		} else {
			/* Reservations are global: a node offers at most what the system does. */
			ck_assert_uint_le(info.available, info.free);
			ck_assert_uint_le(info.available, sys.available);
		}
		return;
	}
	ck_abort_msg("sysfs changed in every one of %d attempts", ATTEMPTS);
}

START_TEST(test_matches_sysfs)
{
	uint64_t sizes[] = { GUESTMEM_PAGE_2M, GUESTMEM_PAGE_1G };
	unsigned int i;
	int node;

	for (i = 0; i < 2; i++) {
		if (!have_size(sizes[i])) {
			printf("SKIP: no %llu kB huge pages\n",
			       (unsigned long long)(sizes[i] >> 10));
			continue;
		}
		compare(sizes[i], -1);
		for (node = 0; node < 64; node++) {
			struct sysfs_counts c;

			if (read_sysfs(sizes[i], node, &c))
				compare(sizes[i], node);
		}
	}
}
END_TEST

/* A shared mapping of a hugetlb memfd reserves its page; closing the file drops it. */
START_TEST(test_reservation_seen)
{
	struct guestmem_hugetlb_info before, mapped, after;
	int i, fd;
	void *p;

	if (!have_size(GUESTMEM_PAGE_2M)) {
		printf("SKIP: no 2M huge pages\n");
		return;
	}
	for (i = 0; i < ATTEMPTS; i++) {
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &before), 0);
		if (!before.available) {
			printf("SKIP: no free unreserved 2M page\n");
			return;
		}
		fd = memfd_create("hugetlb-info", MFD_HUGETLB | MFD_CLOEXEC |
				  (21U << MFD_HUGE_SHIFT));
		ck_assert_msg(fd >= 0, "memfd_create: %s", strerror(errno));
		ck_assert_int_eq(ftruncate(fd, GUESTMEM_PAGE_2M), 0);
		p = mmap(NULL, GUESTMEM_PAGE_2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			/* Taken by someone else between the read and the mmap. */
			close(fd);
			continue;
		}
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &mapped), 0);
		munmap(p, GUESTMEM_PAGE_2M);
		close(fd);
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &after), 0);
		if (mapped.reserved != before.reserved + 1 || mapped.free != before.free ||
		    after.reserved != before.reserved || after.free != before.free)
			continue;	/* someone else used hugetlb pages meanwhile */
		ck_assert_uint_eq(mapped.available, before.available - 1);
		ck_assert_uint_eq(after.available, before.available);
		printf("reservation: reserved %llu -> %llu -> %llu\n",
		       (unsigned long long)before.reserved, (unsigned long long)mapped.reserved,
		       (unsigned long long)after.reserved);
		return;
	}
	ck_abort_msg("no quiet attempt in %d: reserved never rose by exactly 1", ATTEMPTS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hugetlb_info");
	TCase *tc = tcase_create("hugetlb_info");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_matches_sysfs);
	tcase_add_test(tc, test_reservation_seen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
