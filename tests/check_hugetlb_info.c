// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem_hugetlb_info(): its errors, the structure sizes it takes, its
 * counters against sysfs read here independently, and a reservation seen
 * through it.  Other processes on the machine may use hugetlb pages
 * meanwhile, so a comparison is taken from an attempt in which sysfs did
 * not change around the call, and a reservation from an attempt in which
 * nothing else reserved.  Public API only.
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

	ck_assert_int_eq(guestmem_hugetlb_info(0, -1, &info, sizeof(info)), -EINVAL);
	ck_assert_str_ne(guestmem_last_error(), "");
	ck_assert_int_eq(guestmem_hugetlb_info(3 << 20, -1, &info, sizeof(info)), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(4096, -1, &info, sizeof(info)), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -2, &info, sizeof(info)), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, NULL, sizeof(info)), -EINVAL);
	/* A well-formed size this kernel does not offer. */
	for (sz = 8192; sz && !missing; sz <<= 1)
		if (!have_size(sz))
			missing = sz;
	ck_assert_uint_ne(missing, 0);
	ck_assert_int_eq(guestmem_hugetlb_info(missing, -1, &info, sizeof(info)), -ENOENT);
	ck_assert_msg(strstr(guestmem_last_error(), "offers no"), "%s", guestmem_last_error());
	if (have_size(GUESTMEM_PAGE_2M)) {
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, 1 << 20, &info,
						       sizeof(info)), -ENOENT);
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &info,
						       sizeof(info)), 0);
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
		ck_assert_int_eq(guestmem_hugetlb_info(page_size, node, &info, sizeof(info)), 0);
		ck_assert_int_eq(guestmem_hugetlb_info(page_size, -1, &sys, sizeof(sys)), 0);
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

/*
 * Structures of other sizes, as for the stats (tests/check_api.c): a
 * caller built against an older header gets its fields and not one byte
 * more (the first version is all there is yet); one built against a newer
 * header gets zeroes past ours; below the first version is -EINVAL and
 * nothing is written.  Guard bytes of 0xa5 catch an overrun.
 */
union info_buf {
	unsigned char b[256];
	struct guestmem_hugetlb_info i;
};

static void assert_guard(const union info_buf *u, size_t from)
{
	size_t i;

	for (i = from; i < sizeof(u->b); i++)
		ck_assert_msg(u->b[i] == 0xa5, "byte %zu past a %zu-byte structure written",
			      i, from);
}

/*
 * guestmem_hugetlb_info() with @size into @u, in an attempt where the
 * counters stood still around the call: the first @size bytes as in the
 * library's structure, zeroes past it, and not one byte past @size.
 */
static void assert_sized(size_t size)
{
	struct guestmem_hugetlb_info a, b;
	union info_buf u;
	size_t i;
	int n;

	for (n = 0; n < ATTEMPTS; n++) {
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &a, sizeof(a)), 0);
		memset(&u, 0xa5, sizeof(u));
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &u.i, size), 0);
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &b, sizeof(b)), 0);
		if (memcmp(&a, &b, sizeof(a)))
			continue;
		ck_assert_int_eq(memcmp(u.b, &a, size < sizeof(a) ? size : sizeof(a)), 0);
		for (i = sizeof(a); i < size; i++)
			ck_assert_uint_eq(u.b[i], 0);
		assert_guard(&u, size);
		return;
	}
	ck_abort_msg("the counters changed in every one of %d attempts", ATTEMPTS);
}

START_TEST(test_sizes)
{
	union info_buf u;

	ck_assert_uint_eq(sizeof(struct guestmem_hugetlb_info), GUESTMEM_HUGETLB_INFO_SIZE_VER0);

	/* Smaller than the first version: refused, nothing written. */
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &u.i,
					       GUESTMEM_HUGETLB_INFO_SIZE_VER0 - 8), -EINVAL);
	ck_assert_msg(strstr(guestmem_last_error(), "size"), "%s", guestmem_last_error());
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &u.i,
					       GUESTMEM_HUGETLB_INFO_SIZE_VER0 - 1), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &u.i, 0), -EINVAL);
	ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, 0, &u.i, 0), -EINVAL);
	assert_guard(&u, 0);

	if (!have_size(GUESTMEM_PAGE_2M)) {
		printf("SKIP: no 2M huge pages\n");
		return;
	}
	/* The first version's structure; newer, longer ones. */
	assert_sized(GUESTMEM_HUGETLB_INFO_SIZE_VER0);
	assert_sized(sizeof(struct guestmem_hugetlb_info) + 8);
	assert_sized(sizeof(struct guestmem_hugetlb_info) + 64 + 4);
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
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &before,
						       sizeof(before)), 0);
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
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &mapped,
						       sizeof(mapped)), 0);
		munmap(p, GUESTMEM_PAGE_2M);
		close(fd);
		ck_assert_int_eq(guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &after,
						       sizeof(after)), 0);
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
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_matches_sysfs);
	tcase_add_test(tc, test_reservation_seen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
