// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem under real VMM use: what a pin addresses once its huge page
 * has left the file, what a fork() child may do (and that nothing hangs,
 * also when the library cannot start a thread), and destroy racing every
 * other call.  Public API only, like check_api.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <guestmem.h>

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M

static struct guestmem_pool *pool_of(uint64_t nr, uint64_t flags)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = nr, .node = -1, .flags = flags,
	};
	struct guestmem_pool *pool = NULL;
	int err = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!err, "pool_create: %d: %s", err, guestmem_last_error());
	return pool;
}

static struct guestmem_file *file_of(struct guestmem_pool *pool, uint64_t size,
				     uint64_t flags)
{
	struct guestmem_file *f = NULL;
	int err = guestmem_file_create(pool, size, flags, &f);

	ck_assert_msg(!err, "file_create: %d: %s", err, guestmem_last_error());
	return f;
}

static void assert_pool_whole(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st), 0);
	ck_assert_uint_eq(st.free, st.total);
	ck_assert_uint_eq(st.reserved, 0);
	ck_assert_uint_eq(st.in_use, 0);
	ck_assert_uint_eq(st.pending, 0);
}

/* ---- 1. a pin addresses the frame it holds until it is unpinned ---- */

/*
 * The VMM pins a page for DMA, the guest balloons the huge page out
 * (punch) and later gets memory there again (allocate), then the DMA
 * completes through the pin.  It must land in the old frame, which the pin
 * still holds, not in the guest's new page.
 */
static void pin_outlives_punch(struct guestmem_pool *pool)
{
	struct guestmem_file *f = file_of(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	unsigned char *hva = guestmem_file_hva(f), *old;
	struct guestmem_pool_stats st;
	struct guestmem_page pg;
	uint64_t i;

	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	memset(hva + SZ_4K, 0xaa, SZ_4K);
	ck_assert_int_eq(guestmem_pin(f, SZ_4K, &pg), 0);
	old = pg.addr;
	ck_assert_uint_eq(old[0], 0xaa);
	ck_assert_uint_eq(old[SZ_4K - 1], 0xaa);

	/* The huge page leaves the file; the pin keeps the frame. */
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	ck_assert_ptr_eq(pg.addr, old);
	ck_assert_uint_eq(old[7], 0xaa);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st), 0);
	ck_assert_uint_eq(st.pending, 1);

	/* New memory at the same file offset, then the "DMA completion". */
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	memset(pg.addr, 0xbb, SZ_4K);
	for (i = 0; i < SZ_4K; i++)
		ck_assert_msg(hva[SZ_4K + i] == 0, "new page byte %llu is %#x: the old pin "
			      "wrote into the newly allocated page",
			      (unsigned long long)i, hva[SZ_4K + i]);
	ck_assert_uint_eq(old[SZ_4K - 1], 0xbb);

	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st), 0);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.in_use, 1);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
}

START_TEST(test_pin_addr_survives_punch_and_realloc)
{
	struct guestmem_pool *pool = pool_of(2, GUESTMEM_POOL_FALLBACK);

	pin_outlives_punch(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* ---- real hugetlb pages: reserved here when root, else skipped ---- */

static long sysfs_read(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static bool sysfs_write(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", v) > 0;
	return (fclose(f) == 0) && ok;
}

#define HP_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

/*
 * Make @need free 2M pages available, as tests/check_api.c does (under the
 * same lock); *@nr_before gets nr_hugepages to restore, -1 if unchanged.
 * False, with the reason printed, when that cannot be done.
 */
static bool hugetlb_reserve(long need, long *nr_before, int *lock)
{
	long nr = sysfs_read(HP_DIR "nr_hugepages");
	long avail = sysfs_read(HP_DIR "free_hugepages") - sysfs_read(HP_DIR "resv_hugepages");

	*nr_before = -1;
	*lock = open("/run/lock/guestmem-hugetlb.lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (*lock >= 0)
		flock(*lock, LOCK_EX);
	if (nr < 0) {
		printf("SKIP: no 2M hugetlb pages in this kernel\n");
		return false;
	}
	if (avail >= need)
		return true;
	if (geteuid() != 0) {
		printf("SKIP: 2M hugetlb pages: %ld free, need %ld, not root to reserve more\n",
		       avail, need);
		return false;
	}
	if (!sysfs_write(HP_DIR "nr_hugepages", nr + need - avail) ||
	    sysfs_read(HP_DIR "nr_hugepages") < nr + need - avail) {
		sysfs_write(HP_DIR "nr_hugepages", nr);
		printf("SKIP: the kernel could not reserve %ld 2M pages (memory)\n", need);
		return false;
	}
	*nr_before = nr;
	return true;
}

static void hugetlb_restore(long nr_before, int lock)
{
	if (nr_before >= 0)
		sysfs_write(HP_DIR "nr_hugepages", nr_before);
	if (lock >= 0)
		close(lock);
}

/* The alias of a hugetlb frame: a second hugetlb mapping of the pool's memfd. */
START_TEST(test_pin_addr_survives_punch_hugetlb)
{
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool;
	long nr_before;
	int lock;

	if (!hugetlb_reserve(2, &nr_before, &lock)) {
		hugetlb_restore(nr_before, lock);
		return;
	}
	pool = pool_of(2, 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st), 0);
	ck_assert_uint_eq(st.backend, GUESTMEM_BACKEND_HUGETLB);
	pin_outlives_punch(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	hugetlb_restore(nr_before, lock);
}
END_TEST

/* Several pins on one frame share its address; each stays valid until unpinned. */
START_TEST(test_pins_share_a_frame_until_the_last_unpin)
{
	struct guestmem_pool *pool = pool_of(2, GUESTMEM_POOL_FALLBACK);
	struct guestmem_file *f = file_of(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	unsigned char *hva = guestmem_file_hva(f);
	struct guestmem_page a, b;

	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	hva[0] = 0x11;
	hva[3 * SZ_4K] = 0x33;
	ck_assert_int_eq(guestmem_pin(f, 0, &a), 0);
	ck_assert_int_eq(guestmem_pin(f, 3 * SZ_4K, &b), 0);
	/* Same frame, one mapping: the pages sit where they sit in the frame. */
	ck_assert_ptr_eq((unsigned char *)b.addr, (unsigned char *)a.addr + 3 * SZ_4K);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_unpin(f, &a), 0);
	/* The frame is still pinned by b: still mapped, still the old data. */
	ck_assert_uint_eq(((unsigned char *)b.addr)[0], 0x33);
	((unsigned char *)b.addr)[1] = 0x44;
	ck_assert_uint_eq(hva[3 * SZ_4K + 1], 0);
	ck_assert_int_eq(guestmem_unpin(f, &b), 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* A simulated pool has no memory: addr is guestmem_file_hva() + offset, never touched. */
START_TEST(test_pin_addr_simulated)
{
	struct guestmem_pool *pool = pool_of(2, GUESTMEM_POOL_SIMULATE);
	struct guestmem_file *f = file_of(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_page pg;

	ck_assert_int_eq(guestmem_pin(f, 5 * SZ_4K, &pg), 0);
	ck_assert_ptr_eq(pg.addr, (char *)guestmem_file_hva(f) + 5 * SZ_4K);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

static Suite *vmm_suite(void)
{
	Suite *s = suite_create("vmm");
	TCase *pin = tcase_create("pin");

	tcase_set_timeout(pin, 60);
	tcase_add_test(pin, test_pin_addr_survives_punch_and_realloc);
	tcase_add_test(pin, test_pins_share_a_frame_until_the_last_unpin);
	tcase_add_test(pin, test_pin_addr_simulated);
	tcase_add_test(pin, test_pin_addr_survives_punch_hugetlb);
	suite_add_tcase(s, pin);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vmm_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
