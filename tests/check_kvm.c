// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * KVM files on a real KVM, through the public API: split mode on a
 * KVM_X86_SW_PROTECTED_VM (private memory in a 4K guest_memfd, shared
 * memory on the library's hugetlb file, the VM's KVM_SET_MEMORY_ATTRIBUTES),
 * in-place mode where the kernel has guestmem's series (one hugetlb
 * guest_memfd, KVM_SET_MEMORY_ATTRIBUTES2), and an ordinary VM getting no
 * private memory.  The library's files are bound into real memory slots
 * with KVM_SET_USER_MEMORY_REGION2.
 *
 * Needs /dev/kvm with guest_memfd and KVM_X86_SW_PROTECTED_VM (Linux 6.8
 * or later with CONFIG_KVM_SW_PROTECTED_VM, as the kernel rig builds);
 * elsewhere it prints why and exits 77 (skipped).  The in-place tests skip
 * themselves on a kernel without the series, unless --require is given.
 * tests/check_kvm_unit and tests/check_kvm_inplace run the same contract
 * against a fake KVM everywhere.
 *
 * Each test makes its own VM: Check forks a child per test, and KVM
 * refuses a VM fd to any process but the one that made it.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <guestmem.h>

#include "kvm_helpers.h"
#include "kvm_test_vm.h"

#include "kvm_uapi.h"

#define EXIT_SKIP	77

static int kvm_fd = -1, vm_fd = -1;
static bool require, inplace_offered;

static int create_vm(unsigned long type)
{
	return kvm_test_create_vm(kvm_fd, type);
}

static void protected_vm(void)
{
	vm_fd = create_vm(KVM_X86_SW_PROTECTED_VM);
	ck_assert_msg(vm_fd >= 0, "KVM_CREATE_VM(SW_PROTECTED): %s", strerror(-vm_fd));
}

static void default_vm(void)
{
	vm_fd = create_vm(KVM_X86_DEFAULT_VM);
	ck_assert_msg(vm_fd >= 0, "KVM_CREATE_VM: %s", strerror(-vm_fd));
}

static void close_vm(void)
{
	close(vm_fd);
	vm_fd = -1;
}

/* Make memory slot @slot of what guestmem_kvm_bind() handed out; 0 or -errno. */
static int set_slot(uint32_t slot, uint64_t gpa, uint64_t len, const struct guestmem_kvm_slot *s)
{
	struct gm_kvm_userspace_memory_region2 r = {
		.slot = slot, .flags = s->flags, .guest_phys_addr = gpa, .memory_size = len,
		.userspace_addr = s->userspace_addr,
		.guest_memfd_offset = s->guest_memfd_offset,
		.guest_memfd = (uint32_t)s->guest_memfd,
	};

	return ioctl(vm_fd, GM_KVM_SET_USER_MEMORY_REGION2, &r) ? -errno : 0;
}

static int delete_slot(uint32_t slot)
{
	struct gm_kvm_userspace_memory_region2 r = { .slot = slot };

	return ioctl(vm_fd, GM_KVM_SET_USER_MEMORY_REGION2, &r) ? -errno : 0;
}

START_TEST(test_split_probe)
{
	struct guestmem_kvm_caps c;

	ck_assert_int_eq(guestmem_kvm_probe(vm_fd, &c, sizeof(c)), 0);
	ck_assert(c.offered & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_SPLIT));
	ck_assert(c.offered & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_NONE));
	ck_assert_uint_eq(c.best, inplace_offered ? GUESTMEM_KVM_INPLACE : GUESTMEM_KVM_SPLIT);
	ck_assert(c.attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE);
	ck_assert_uint_eq(c.guest_memfd, 1);
}
END_TEST

/* A file bound into a memory slot, converted both ways, in one copy. */
START_TEST(test_split_slot)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = NULL;
	struct guestmem_kvm_slot s;
	struct guestmem_pool_stats ps;
	const uint64_t gpa = UINT64_C(1) << 32;
	unsigned int mode = 0, st;
	uint64_t run;
	char *hva;
	int err;

	err = guestmem_kvm_file_create(pool, vm_fd, 4 * SZ_2M, 0, GUESTMEM_KVM_SPLIT, &mode, &f);
	ck_assert_msg(!err, "kvm_file_create: %d: %s", err, guestmem_last_error());
	ck_assert_uint_eq(mode, GUESTMEM_KVM_SPLIT);
	ck_assert_uint_eq(fstats(f).kvm_mode, GUESTMEM_KVM_SPLIT);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 4 * SZ_2M, gpa, &s), 0);
	ck_assert_int_ge(s.guest_memfd, 0);
	ck_assert_uint_eq(s.flags, KVM_MEM_GUEST_MEMFD);
	err = set_slot(0, gpa, 4 * SZ_2M, &s);
	ck_assert_msg(!err, "KVM_SET_USER_MEMORY_REGION2: %s", strerror(-err));

	/* All private: no huge page held. */
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(fstats(f).allocated, 0);
	ck_assert_uint_eq(fstats(f).kvm_returned, 4 * SZ_2M);
	ck_assert_uint_eq(pstats(pool).kvm_split_returned_bytes, 4 * SZ_2M);

	/* A bounce buffer made shared: its huge page comes back, mapped. */
	err = guestmem_convert(f, SZ_2M, 16 * SZ_4K, GUESTMEM_SHARED, NULL);
	ck_assert_msg(!err, "convert: %d: %s", err, guestmem_last_error());
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	hva = guestmem_file_hva(f);
	hva[SZ_2M + 100] = 1;
	ck_assert_int_eq(guestmem_state(f, SZ_2M, &st, &run), 0);
	ck_assert_uint_eq(st, GUESTMEM_SHARED);
	ck_assert_uint_eq(run, 16 * SZ_4K);

	/* A pinned page cannot turn private: -EAGAIN and its offset. */
	{
		struct guestmem_page pg;
		uint64_t bad = 0;

		ck_assert_int_eq(guestmem_pin(f, SZ_2M + 3 * SZ_4K, &pg), 0);
		ck_assert_int_eq(guestmem_convert(f, SZ_2M, 16 * SZ_4K, GUESTMEM_PRIVATE, &bad),
				 -EAGAIN);
		ck_assert_uint_eq(bad, SZ_2M + 3 * SZ_4K);	/* the pinned page */
		ck_assert_int_eq(guestmem_state(f, SZ_2M, &st, NULL), 0);
		ck_assert_uint_eq(st, GUESTMEM_SHARED);
		ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	}
	err = guestmem_convert(f, SZ_2M, 16 * SZ_4K, GUESTMEM_PRIVATE, NULL);
	ck_assert_msg(!err, "convert: %d: %s", err, guestmem_last_error());
	ck_assert_uint_eq(fstats(f).allocated, 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.in_use, 0);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, 4 * SZ_2M);

	/* Everything shared, then punched: the pool is whole again. */
	ck_assert_int_eq(guestmem_convert(f, 0, 4 * SZ_2M, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(fstats(f).allocated, 4 * SZ_2M);
	ck_assert_uint_eq(fstats(f).kvm_returned, 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(pstats(pool).in_use, 0);

	ck_assert_int_eq(delete_slot(0), 0);
	ck_assert_int_eq(guestmem_kvm_unbind(f, 0), 0);
	finish(pool, f);
}
END_TEST

/* Two slots around a hole; a conversion across both. */
START_TEST(test_split_two_slots)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = NULL;
	struct guestmem_kvm_slot s0, s1;
	int err;

	ck_assert_int_eq(guestmem_kvm_file_create(pool, vm_fd, 4 * SZ_2M, 0, GUESTMEM_KVM_SPLIT,
						  NULL, &f), 0);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, 0, &s0), 0);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, 2 * SZ_2M, UINT64_C(1) << 32, &s1), 0);
	ck_assert_int_eq(set_slot(0, 0, 2 * SZ_2M, &s0), 0);
	ck_assert_int_eq(set_slot(1, UINT64_C(1) << 32, 2 * SZ_2M, &s1), 0);
	err = guestmem_convert(f, SZ_2M, 2 * SZ_2M, GUESTMEM_SHARED, NULL);
	ck_assert_msg(!err, "convert: %d: %s", err, guestmem_last_error());
	err = guestmem_convert(f, 0, 4 * SZ_2M, GUESTMEM_PRIVATE, NULL);
	ck_assert_msg(!err, "convert: %d: %s", err, guestmem_last_error());
	ck_assert_int_eq(delete_slot(0), 0);
	ck_assert_int_eq(delete_slot(1), 0);
	finish(pool, f);
}
END_TEST

/* ------------------------------------------------------------ in-place */

static void inplace_vm(void)
{
	protected_vm();
	if (!inplace_offered) {
		close_vm();
		/* --require: the kernel was meant to have the series. */
		ck_assert_msg(!require, "in-place mode not offered (guestmem's kernel series missing?)");
	}
}

/* The kernel's 2M hugetlb pages: free and reserved. */
static struct guestmem_hugetlb_info hugetlb_2m(void)
{
	struct guestmem_hugetlb_info h;

	ck_assert_int_eq(guestmem_hugetlb_info(SZ_2M, -1, &h, sizeof(h)), 0);
	return h;
}

static sigjmp_buf bus_env;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_env, 1);
}

/* Whether reading @p raises SIGBUS. */
static bool read_faults(const volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool faulted = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_env, 1))
		faulted = true;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/*
 * One hugetlb guest_memfd, converted in place: contents kept, private
 * memory unreachable from the host, the kernel's pool holding exactly
 * the file's pages and whole again at the end.
 */
START_TEST(test_inplace_slot)
{
	struct guestmem_pool *pool;
	struct guestmem_file *f = NULL;
	struct guestmem_hugetlb_info before, now;
	struct guestmem_kvm_slot s;
	struct guestmem_page pg;
	const uint64_t gpa = UINT64_C(1) << 32;
	unsigned int mode = 0, st;
	uint64_t bad = 0, run;
	char *hva;
	int err;

	if (!inplace_offered) {
		printf("SKIP: test_inplace_slot: KVM offers no in-place mode (guestmem's kernel series)\n");
		return;
	}
	pool = kvm_test_pool(4);
	before = hugetlb_2m();
	err = guestmem_kvm_file_create(pool, vm_fd, 4 * SZ_2M, GUESTMEM_FILE_INIT_SHARED,
				       GUESTMEM_KVM_AUTO, &mode, &f);
	ck_assert_msg(!err, "kvm_file_create: %d: %s", err, guestmem_last_error());
	ck_assert_uint_eq(mode, GUESTMEM_KVM_INPLACE);
	ck_assert_uint_eq(fstats(f).kvm_mode, GUESTMEM_KVM_INPLACE);
	/*
	 * The pool lent the kernel its four pages, and the guest_memfd
	 * reserved them: the pool's reservation became the file's.
	 */
	ck_assert_uint_eq(pstats(pool).in_use, 4);
	now = hugetlb_2m();
	ck_assert_uint_eq(now.reserved, before.reserved);
	ck_assert_uint_eq(now.free, before.free);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 4 * SZ_2M, gpa, &s), 0);
	ck_assert_int_ge(s.guest_memfd, 0);
	ck_assert_uint_eq(s.flags, KVM_MEM_GUEST_MEMFD);
	err = set_slot(0, gpa, 4 * SZ_2M, &s);
	ck_assert_msg(!err, "KVM_SET_USER_MEMORY_REGION2: %s", strerror(-err));

	/* Shared memory is the guest_memfd's, reachable at the file's address. */
	hva = guestmem_file_hva(f);
	strcpy(hva + SZ_2M, "kept in place");
	now = hugetlb_2m();
	ck_assert_uint_eq(now.free, before.free - 1);

	err = guestmem_convert(f, SZ_2M, 16 * SZ_4K, GUESTMEM_PRIVATE, NULL);
	ck_assert_msg(!err, "convert: %d: %s", err, guestmem_last_error());
	ck_assert_int_eq(guestmem_state(f, SZ_2M, &st, &run), 0);
	ck_assert_uint_eq(st, GUESTMEM_PRIVATE);
	ck_assert_uint_eq(run, 16 * SZ_4K);
	ck_assert_msg(read_faults(hva + SZ_2M), "the host read private memory");
	ck_assert_msg(!read_faults(hva + SZ_2M + 16 * SZ_4K), "shared memory faulted");
	ck_assert_int_eq(guestmem_pin(f, SZ_2M, &pg), -EPERM);
	err = guestmem_convert(f, SZ_2M, 16 * SZ_4K, GUESTMEM_SHARED, NULL);
	ck_assert_msg(!err, "convert: %d: %s", err, guestmem_last_error());
	ck_assert_str_eq(hva + SZ_2M, "kept in place");

	/* A pinned page cannot turn private: -EAGAIN and its folio's offset. */
	ck_assert_int_eq(guestmem_pin(f, SZ_2M + 3 * SZ_4K, &pg), 0);
	ck_assert_uint_eq(pg.max_order, 9);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, 16 * SZ_4K, GUESTMEM_PRIVATE, &bad), -EAGAIN);
	ck_assert_uint_eq(bad, SZ_2M);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);

	/* Punched: the huge pages go back to the kernel, the state stays. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_2M, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(hugetlb_2m().free, before.free - 4);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(hugetlb_2m().free, before.free);
	ck_assert_int_eq(guestmem_state(f, 0, &st, &run), 0);
	ck_assert_uint_eq(st, GUESTMEM_PRIVATE);
	ck_assert_uint_eq(run, SZ_2M);
	ck_assert_uint_eq(hva[SZ_2M], 0);		/* shared, zeroed */

	ck_assert_int_eq(delete_slot(0), 0);
	ck_assert_int_eq(guestmem_kvm_unbind(f, 0), 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	/*
	 * The loan is over: the pool took its pages back from the kernel
	 * (faulted in now, where they were only reserved before).
	 */
	ck_assert_uint_eq(pstats(pool).free, 4);
	ck_assert_uint_eq(pstats(pool).given_back_bytes, 0);
	now = hugetlb_2m();
	ck_assert_uint_eq(now.free, before.free - 4);
	ck_assert_uint_eq(now.reserved, before.reserved - 4);
	/* A plain file has them. */
	ck_assert_int_eq(guestmem_file_create(pool, 4 * SZ_2M, 0, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(hugetlb_2m().free, before.free - 4);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	now = hugetlb_2m();
	ck_assert_uint_eq(now.free, before.free);
	ck_assert_uint_eq(now.reserved, before.reserved - 4);	/* the pool's, gone */
}
END_TEST

/* Asked by name on a VM without private memory: refused, saying why. */
START_TEST(test_inplace_default_vm)
{
	struct guestmem_pool *pool = kvm_test_pool(1);
	struct guestmem_file *f = NULL;
	unsigned int mode = 0;

	ck_assert_int_eq(guestmem_kvm_file_create(pool, vm_fd, SZ_2M, 0, GUESTMEM_KVM_INPLACE,
						  &mode, &f), -EOPNOTSUPP);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* An ordinary VM: no private memory, today's file, a plain memory slot. */
START_TEST(test_none_default_vm)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = NULL;
	struct guestmem_kvm_slot s;
	unsigned int mode = 0;

	ck_assert_int_eq(guestmem_kvm_file_create(pool, vm_fd, 2 * SZ_2M,
						  GUESTMEM_FILE_INIT_SHARED, GUESTMEM_KVM_AUTO,
						  &mode, &f), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_NONE);
	ck_assert_int_eq(guestmem_kvm_file_create(pool, vm_fd, 2 * SZ_2M, 0, GUESTMEM_KVM_SPLIT,
						  &mode, &f), -EOPNOTSUPP);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, 0, &s), 0);
	ck_assert_int_eq(s.guest_memfd, -1);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_int_eq(set_slot(0, 0, 2 * SZ_2M, &s), 0);
	ck_assert_int_eq(delete_slot(0), 0);
	finish(pool, f);
}
END_TEST

static Suite *kvm_suite(void)
{
	Suite *s = suite_create("kvm");
	TCase *tc = tcase_create("split");

	tcase_add_checked_fixture(tc, protected_vm, close_vm);
	tcase_add_test(tc, test_split_probe);
	tcase_add_test(tc, test_split_slot);
	tcase_add_test(tc, test_split_two_slots);
	suite_add_tcase(s, tc);

	tc = tcase_create("inplace");
	tcase_add_checked_fixture(tc, inplace_vm, close_vm);
	tcase_add_test(tc, test_inplace_slot);
	suite_add_tcase(s, tc);

	tc = tcase_create("none");
	tcase_add_checked_fixture(tc, default_vm, close_vm);
	tcase_add_test(tc, test_none_default_vm);
	tcase_add_test(tc, test_inplace_default_vm);
	suite_add_tcase(s, tc);
	return s;
}

/* Why this machine cannot run the suite, or NULL if it can. */
static const char *skip_reason(char *buf, size_t len)
{
	struct guestmem_kvm_caps c;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		snprintf(buf, len, "/dev/kvm: %s", strerror(errno));
		return buf;
	}
	if (kvm_test_protected_caps(kvm_fd, &c, buf, len))
		return buf;
	if (!(c.offered & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_SPLIT))) {
		snprintf(buf, len, "split mode not offered (guest_memfd %llu, attributes %#llx, region2 %llu)",
			 (unsigned long long)c.guest_memfd, (unsigned long long)c.attributes,
			 (unsigned long long)c.user_memory2);
		return buf;
	}
	inplace_offered = c.offered & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_INPLACE);
	printf("check_kvm: in-place mode %s\n", inplace_offered ? "offered" :
	       "not offered: its tests are skipped");
	return NULL;
}

/*
 * --require: where KVM and guestmem's series must be there (the rig's booted
 * kernel), a reason to skip is a failure instead.
 */
int main(int argc, char **argv)
{
	char why[256];
	SRunner *sr;
	int failed;

	require = argc > 1 && !strcmp(argv[1], "--require");
	if (skip_reason(why, sizeof(why))) {
		printf("check_kvm: %s: %s\n", require ? "FAIL (--require)" : "SKIP", why);
		return require ? EXIT_FAILURE : EXIT_SKIP;
	}
	sr = srunner_create(kvm_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
