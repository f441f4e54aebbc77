// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * KVM files without KVM: the decisions of lib/kvm_split.c on made-up
 * kernels, and split mode's contract end to end against a fake KVM.
 *
 * White-box: the library's sources are compiled in, so the test can put
 * its fake in place of the ioctls (gm_kvm_ops_set()).  The fake answers
 * KVM_CHECK_EXTENSION from a table (a stock kernel's VM with private
 * memory, an ordinary VM, guestmem's series), keeps the VM's memory
 * attributes per 4K guest page as KVM does, can fail the Nth
 * KVM_SET_MEMORY_ATTRIBUTES, and hands out a memfd as the guest_memfd so
 * that punches really happen.  tests/check_kvm runs the same contract on
 * a real /dev/kvm where there is one.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <guestmem.h>

#include "guest_access.h"
#include "hugetlb_env.h"
#include "kvm_helpers.h"

#include "huge_span.h"
#include "kvm_mode.h"
#include "libguestmem.h"

#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE
#define MODE(m)	GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_##m)

/* ------------------------------------------------------ made-up kernels */

/* Linux 6.18 or 7.2, a KVM_X86_SW_PROTECTED_VM. */
static const struct gm_kvm_raw_caps stock_protected = {
	.attributes = PRIV, .guest_memfd = 1,
	.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	.user_memory2 = 1,
};
/* The same kernel, an ordinary VM: no private memory. */
static const struct gm_kvm_raw_caps stock_default = {
	.guest_memfd = 1,
	.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	.user_memory2 = 1,
};
/* guestmem's series, a KVM_X86_SW_PROTECTED_VM. */
static const struct gm_kvm_raw_caps series_protected = {
	.attributes = PRIV, .guest_memfd = 1,
	.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED |
			     GM_GUEST_MEMFD_FLAG_HUGETLB,
	.guest_memfd_attributes = PRIV, .user_memory2 = 1,
};
/* guestmem's series, an ordinary VM: hugetlb guest_memfd, no attributes. */
static const struct gm_kvm_raw_caps series_default = {
	.guest_memfd = 1,
	.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED |
			     GM_GUEST_MEMFD_FLAG_HUGETLB,
	.user_memory2 = 1,
};
/* Private memory attributes, but no KVM_SET_USER_MEMORY_REGION2 to use them. */
static const struct gm_kvm_raw_caps private_no_gmem = {
	.attributes = PRIV, .guest_memfd = 1,
};
/* Linux 6.1 (Debian 12): no guest_memfd at all. */
static const struct gm_kvm_raw_caps old_kernel = { 0 };
/* SEV-SNP on guestmem's series: private memory, no hugetlb guest_memfd. */
static const struct gm_kvm_raw_caps series_snp = {
	.attributes = PRIV, .guest_memfd = 1, .user_memory2 = 1,
};

START_TEST(test_offered_and_best)
{
	static const struct {
		const struct gm_kvm_raw_caps *c;
		uint64_t offered;
		unsigned int best;
	} t[] = {
		{ &stock_protected, MODE(NONE) | MODE(SPLIT), GUESTMEM_KVM_SPLIT },
		{ &stock_default, MODE(NONE), GUESTMEM_KVM_NONE },
		{ &series_protected, MODE(NONE) | MODE(SPLIT) | MODE(INPLACE),
		  GUESTMEM_KVM_INPLACE },
		{ &series_default, MODE(NONE), GUESTMEM_KVM_NONE },
		{ &old_kernel, MODE(NONE), GUESTMEM_KVM_NONE },
		{ &series_snp, MODE(NONE) | MODE(SPLIT), GUESTMEM_KVM_SPLIT },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(gm_kvm_offered(t[i].c) == t[i].offered, "case %zu: %#llx", i,
			      (unsigned long long)gm_kvm_offered(t[i].c));
		ck_assert_uint_eq(gm_kvm_best(t[i].c), t[i].best);
	}
}
END_TEST

/* Each capability alone takes its mode away. */
START_TEST(test_offered_needs_each_cap)
{
	struct gm_kvm_raw_caps c;

	c = series_protected;
	c.user_memory2 = 0;
	ck_assert_uint_eq(gm_kvm_offered(&c), MODE(NONE));
	c = series_protected;
	c.guest_memfd = 0;
	ck_assert_uint_eq(gm_kvm_offered(&c), MODE(NONE));
	c = series_protected;
	c.guest_memfd_flags &= ~GUEST_MEMFD_FLAG_MMAP;
	ck_assert_uint_eq(gm_kvm_offered(&c), MODE(NONE) | MODE(SPLIT));
	c = series_protected;
	c.guest_memfd_attributes = 0;
	ck_assert_uint_eq(gm_kvm_offered(&c), MODE(NONE) | MODE(SPLIT));
	c = series_protected;
	c.attributes = 0;	/* in-place needs no VM attributes */
	ck_assert_uint_eq(gm_kvm_offered(&c), MODE(NONE) | MODE(INPLACE));
	ck_assert_uint_eq(gm_kvm_best(&c), GUESTMEM_KVM_INPLACE);
}
END_TEST

START_TEST(test_choose)
{
	const char *why;
	unsigned int mode = 99;

	ck_assert_int_eq(gm_kvm_choose(&stock_protected, GUESTMEM_KVM_AUTO, &mode, &why), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_SPLIT);
	ck_assert_int_eq(gm_kvm_choose(&stock_protected, GUESTMEM_KVM_NONE, &mode, &why), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_NONE);
	ck_assert_int_eq(gm_kvm_choose(&stock_default, GUESTMEM_KVM_AUTO, &mode, &why), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_NONE);

	mode = 99;
	ck_assert_int_eq(gm_kvm_choose(&stock_default, GUESTMEM_KVM_SPLIT, &mode, &why),
			 -EOPNOTSUPP);
	ck_assert_uint_eq(mode, 99);
	ck_assert_ptr_nonnull(strstr(why, "no private memory"));
	ck_assert_int_eq(gm_kvm_choose(&old_kernel, GUESTMEM_KVM_SPLIT, &mode, &why),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(why, "KVM_CAP_GUEST_MEMFD"));
	ck_assert_int_eq(gm_kvm_choose(&stock_protected, GUESTMEM_KVM_INPLACE, &mode, &why),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(why, "GUEST_MEMFD_FLAG_HUGETLB"));
	ck_assert_int_eq(gm_kvm_choose(&series_default, GUESTMEM_KVM_INPLACE, &mode, &why),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(why, "KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES"));
	ck_assert_int_eq(gm_kvm_choose(&series_protected, GUESTMEM_KVM_INPLACE, &mode, &why), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_INPLACE);
	ck_assert_int_eq(gm_kvm_choose(&series_protected, GUESTMEM_KVM_AUTO, &mode, &why), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_INPLACE);
	mode = 99;
	ck_assert_int_eq(gm_kvm_choose(&series_protected, 4, &mode, &why), -EINVAL);
	ck_assert_uint_eq(mode, 99);
	/* Private memory KVM would never be told about: NONE only by name. */
	ck_assert_int_eq(gm_kvm_choose(&private_no_gmem, GUESTMEM_KVM_AUTO, &mode, &why),
			 -EOPNOTSUPP);
	ck_assert_uint_eq(mode, 99);
	ck_assert_ptr_nonnull(strstr(why, "GUESTMEM_KVM_NONE explicitly"));
	ck_assert_int_eq(gm_kvm_choose(&private_no_gmem, GUESTMEM_KVM_NONE, &mode, &why), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_NONE);
}
END_TEST

/* --------------------------------------------------------- arithmetic */

START_TEST(test_huge_touched)
{
	uint64_t a, b;

	ck_assert_uint_eq(huge_span_touched(0, SZ_4K, SZ_2M, &a, &b), 1);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(huge_span_touched(SZ_2M - SZ_4K, 2 * SZ_4K, SZ_2M, &a, &b), 2);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(b, 2);
	ck_assert_uint_eq(huge_span_touched(SZ_2M, SZ_2M, SZ_2M, &a, &b), 1);
	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(huge_span_touched(SZ_2M + SZ_4K, 3 * SZ_2M, SZ_2M, &a, &b), 4);
	ck_assert_uint_eq(b, 5);
	ck_assert_uint_eq(huge_span_touched(3 * SZ_2M, 0, SZ_2M, &a, &b), 0);
	/* The top of the address space does not wrap. */
	ck_assert_uint_eq(huge_span_touched(UINT64_MAX - SZ_2M + 1 - SZ_4K, SZ_4K, SZ_2M,
					    &a, &b), 1);
	ck_assert_uint_eq(b, UINT64_MAX / SZ_2M);
}
END_TEST

START_TEST(test_bind_check)
{
	struct gm_kvm_binding b[GM_KVM_MAX_BINDINGS] = {
		{ .offset = 0, .len = 3 * SZ_2M, .gpa = 0 },
		{ .offset = 4 * SZ_2M, .len = SZ_2M, .gpa = UINT64_C(1) << 32 },
	};
	uint64_t size = 8 * SZ_2M;
	size_t i;

	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 3 * SZ_2M, SZ_2M, 1 << 30), 0);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 5 * SZ_2M, 3 * SZ_2M, 0), 0);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 3 * SZ_2M, SZ_2M + SZ_4K, 0), -EEXIST);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 3 * SZ_2M - SZ_4K, SZ_4K, 0), -EEXIST);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 5 * SZ_2M + 1, SZ_4K, 0), -EINVAL);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 5 * SZ_2M, SZ_4K, 0x800), -EINVAL);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 5 * SZ_2M, 3 * SZ_2M + SZ_4K, 0),
			 -ERANGE);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, 5 * SZ_2M, SZ_4K, UINT64_MAX - 4095),
			 -ERANGE);
	ck_assert_int_eq(gm_kvm_bind_check(b, 2, size, UINT64_MAX - 4095, SZ_4K, 0), -ERANGE);
	for (i = 2; i < GM_KVM_MAX_BINDINGS; i++)
		b[i] = (struct gm_kvm_binding){ 5 * SZ_2M + i * SZ_4K, SZ_4K, 0 };
	ck_assert_int_eq(gm_kvm_bind_check(b, GM_KVM_MAX_BINDINGS, size, 7 * SZ_2M, SZ_4K, 0),
			 -ENOSPC);
}
END_TEST

/* A VMM's RAM split around the PCI hole: [0, 3G) at 0, [3G, 4G) at 4G. */
START_TEST(test_gpa_ranges)
{
	const uint64_t G = UINT64_C(1) << 30;
	struct gm_kvm_binding b[] = {
		{ .offset = 0, .len = 3 * G, .gpa = 0 },
		{ .offset = 3 * G, .len = G, .gpa = 4 * G },
	};
	struct gm_kvm_gpa_range g[2];

	ck_assert_uint_eq(gm_kvm_gpa_ranges(b, 2, G, SZ_4K, g), 1);
	ck_assert_uint_eq(g[0].gpa, G);
	ck_assert_uint_eq(g[0].len, SZ_4K);
	ck_assert_uint_eq(g[0].offset, G);
	/* Across the hole: two guest ranges. */
	ck_assert_uint_eq(gm_kvm_gpa_ranges(b, 2, 3 * G - SZ_2M, 2 * SZ_2M, g), 2);
	ck_assert_uint_eq(g[0].gpa, 3 * G - SZ_2M);
	ck_assert_uint_eq(g[0].len, SZ_2M);
	ck_assert_uint_eq(g[1].gpa, 4 * G);
	ck_assert_uint_eq(g[1].len, SZ_2M);
	ck_assert_uint_eq(g[1].offset, 3 * G);
	/* Unbound: none. */
	ck_assert_uint_eq(gm_kvm_gpa_ranges(b, 1, 3 * G, SZ_2M, g), 0);
	ck_assert_uint_eq(gm_kvm_gpa_ranges(b, 0, 0, SZ_2M, g), 0);
}
END_TEST

/* A file's state made up as runs: shared in [shared_from, shared_to). */
struct fake_state {
	uint64_t size, shared_from, shared_to;
	int fail;
};

static int fake_state_fn(void *ctx, uint64_t off, unsigned int *state, uint64_t *run)
{
	struct fake_state *f = ctx;

	if (f->fail)
		return f->fail;
	if (off < f->shared_from) {
		*state = GUESTMEM_PRIVATE;
		*run = f->shared_from - off;
	} else if (off < f->shared_to) {
		*state = GUESTMEM_SHARED;
		*run = f->shared_to - off;
	} else {
		*state = GUESTMEM_PRIVATE;
		*run = f->size - off;
	}
	return 0;
}

START_TEST(test_all_private)
{
	struct fake_state f = { 4 * SZ_2M, SZ_2M + SZ_4K, SZ_2M + 2 * SZ_4K, 0 };

	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 0, SZ_2M), 1);
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 1, SZ_2M), 0);
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 2, SZ_2M), 1);
	/* The first page of a huge page shared. */
	f.shared_from = 2 * SZ_2M;
	f.shared_to = 2 * SZ_2M + SZ_4K;
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 1, SZ_2M), 1);
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 2, SZ_2M), 0);
	/* The last page of one. */
	f.shared_from = 2 * SZ_2M - SZ_4K;
	f.shared_to = 2 * SZ_2M;
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 0, SZ_2M), 1);
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 1, SZ_2M), 0);
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 2, SZ_2M), 1);
	f.fail = -ERANGE;
	ck_assert_int_eq(gm_kvm_huge_all_private(fake_state_fn, &f, 0, SZ_2M), -ERANGE);
}
END_TEST

/* ------------------------------------------------------------ fake KVM */

#define FAKE_GPA_PAGES	(UINT64_C(1) << 16)	/* 256 MiB of guest physical space */

static struct {
	const struct gm_kvm_raw_caps *caps;
	int vm_fd;
	uint8_t attrs[FAKE_GPA_PAGES];	/* per 4K guest page: private? */
	unsigned int set_calls;
	unsigned int vm_calls;		/* check_vm and check_extension */
	unsigned int fail_set_at;	/* fail that KVM_SET_MEMORY_ATTRIBUTES (1-based), 0 = none */
	int fail_err;
	int gmem_fd;
	uint64_t gmem_size;
	unsigned int punches;
	uint64_t last_punch_off, last_punch_len;
	void (*on_fail)(void);		/* called when a set_attributes fails */
} fake;

static int fake_check_vm(int fd)
{
	fake.vm_calls++;
	return fd == fake.vm_fd ? 0 : -ENOTTY;
}

static long fake_check_extension(int vm_fd, unsigned long cap)
{
	fake.vm_calls++;
	if (fcntl(vm_fd, F_GETFD) < 0)
		return -EBADF;
	if (vm_fd != fake.vm_fd)
		return -ENOTTY;
	switch (cap) {
	case KVM_CAP_MEMORY_ATTRIBUTES: return (long)fake.caps->attributes;
	case KVM_CAP_GUEST_MEMFD: return (long)fake.caps->guest_memfd;
	case KVM_CAP_GUEST_MEMFD_FLAGS: return (long)fake.caps->guest_memfd_flags;
	case GM_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES:
		return (long)fake.caps->guest_memfd_attributes;
	case KVM_CAP_USER_MEMORY2: return (long)fake.caps->user_memory2;
	default: return 0;
	}
}

static int fake_create_guest_memfd(int vm_fd, struct gm_kvm_create_guest_memfd *arg)
{
	int fd;

	ck_assert_int_ne(vm_fd, fake.vm_fd);	/* the file's duplicate */
	ck_assert_uint_eq(arg->flags, 0);	/* a plain 4K guest_memfd */
	fd = memfd_create("fake-guest_memfd", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)arg->size), 0);
	fake.gmem_fd = fd;
	fake.gmem_size = arg->size;
	return fd;
}

static int fake_set_attributes(int vm_fd, uint64_t gpa, uint64_t len, uint64_t attributes)
{
	uint64_t p;

	ck_assert_int_ge(fcntl(vm_fd, F_GETFD), 0);
	ck_assert(gpa % SZ_4K == 0 && len % SZ_4K == 0 && len);
	ck_assert(attributes == 0 || attributes == PRIV);
	ck_assert_uint_le((gpa + len) / SZ_4K, FAKE_GPA_PAGES);
	if (++fake.set_calls == fake.fail_set_at) {
		if (fake.on_fail)
			fake.on_fail();
		return fake.fail_err;	/* KVM's ioctl is all or nothing */
	}
	for (p = gpa / SZ_4K; p < (gpa + len) / SZ_4K; p++)
		fake.attrs[p] = attributes != 0;
	return 0;
}

static int fake_punch(int fd, uint64_t off, uint64_t len)
{
	ck_assert_int_eq(fd, fake.gmem_fd);
	ck_assert_uint_le(off + len, fake.gmem_size);
	fake.punches++;
	fake.last_punch_off = off;
	fake.last_punch_len = len;
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			 (off_t)len) ? -errno : 0;
}

static const struct gm_kvm_ops fake_ops = {
	.check_vm = fake_check_vm,
	.check_extension = fake_check_extension,
	.create_guest_memfd = fake_create_guest_memfd,
	.set_attributes = fake_set_attributes,
	.punch = fake_punch,
};

static void fake_setup(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.caps = &stock_protected;
	fake.vm_fd = eventfd(0, EFD_CLOEXEC);	/* any fd: the fake is the VM */
	fake.gmem_fd = -1;
	ck_assert_int_ge(fake.vm_fd, 0);
	gm_kvm_ops_set(&fake_ops);
}

static void fake_teardown(void)
{
	gm_kvm_ops_set(NULL);
	close(fake.vm_fd);
}

/* Whether guest pages [gpa, gpa + len) are all private (1) or all shared (0). */
static void assert_attrs(uint64_t gpa, uint64_t len, int private_)
{
	uint64_t p;

	for (p = gpa / SZ_4K; p < (gpa + len) / SZ_4K; p++)
		ck_assert_msg(fake.attrs[p] == private_, "gpa %#llx: %s, expected %s",
			      (unsigned long long)p * SZ_4K, fake.attrs[p] ? "private" : "shared",
			      private_ ? "private" : "shared");
}

static struct guestmem_file *split_file(struct guestmem_pool *pool, uint64_t size,
					uint64_t flags)
{
	return kvm_auto_file(pool, fake.vm_fd, size, flags, GUESTMEM_KVM_SPLIT);
}

START_TEST(test_create_modes)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = NULL;
	struct guestmem_kvm_caps caps;
	unsigned int mode = 0;
	int gmem;

	ck_assert_int_eq(guestmem_kvm_probe(fake.vm_fd, &caps, sizeof(caps)), 0);
	ck_assert_uint_eq(caps.offered, MODE(NONE) | MODE(SPLIT));
	ck_assert_uint_eq(caps.best, GUESTMEM_KVM_SPLIT);
	ck_assert_uint_eq(caps.attributes, PRIV);

	f = split_file(pool, 2 * SZ_2M, 0);
	gmem = fake.gmem_fd;
	ck_assert_uint_eq(fake.gmem_size, 2 * SZ_2M);
	ck_assert_uint_eq(fstats(f).kvm_mode, GUESTMEM_KVM_SPLIT);
	ck_assert_uint_eq(pstats(pool).kvm_split_files, 1);
	/* The file keeps its own VM fd: the caller may close its own. */
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(fcntl(gmem, F_GETFD), -1);	/* closed with the file */

	/* An ordinary VM: no private memory, today's hugetlb file. */
	fake.caps = &stock_default;
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fake.vm_fd, SZ_2M, 0, GUESTMEM_KVM_AUTO,
						  &mode, &f), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_NONE);
	ck_assert_uint_eq(fstats(f).kvm_mode, GUESTMEM_KVM_NONE);
	ck_assert_uint_eq(pstats(pool).kvm_split_files, 0);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);

	f = NULL;
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fake.vm_fd, SZ_2M, 0, GUESTMEM_KVM_SPLIT,
						  &mode, &f), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "no private memory"));
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "KVM mode split:"));
	ck_assert_ptr_null(f);
	fake.caps = &series_protected;
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fake.vm_fd, SZ_2M, 0, 7, &mode, &f),
			 -EINVAL);
	/* Not a VM, not an fd. */
	ck_assert_int_eq(guestmem_kvm_file_create(pool, 0, SZ_2M, 0, 0, &mode, &f), -ENOTTY);
	ck_assert_int_eq(guestmem_kvm_file_create(pool, -1, SZ_2M, 0, 0, &mode, &f), -EBADF);
	ck_assert_int_eq(guestmem_kvm_probe(-1, &caps, sizeof(caps)), -EBADF);
	ck_assert_int_eq(guestmem_kvm_probe(fake.vm_fd, &caps, 8), -EINVAL);
	/* The library's own errors come first. */
	fake.caps = &stock_protected;
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fake.vm_fd, SZ_4K, 0, 0, &mode, &f),
			 -EINVAL);
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fake.vm_fd, 8 * SZ_2M, 0, 0, &mode, &f),
			 -ENOMEM);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* The real ioctls on fds that are not VMs. */
/* A fork() child cannot make a KVM file of its parent's pool, as any file. */
START_TEST(test_create_in_fork_child)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = NULL;
	unsigned int mode;
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (!pid) {
		int err;

		fake.vm_calls = 0;
		err = guestmem_kvm_file_create(pool, fake.vm_fd, SZ_2M, 0, GUESTMEM_KVM_AUTO,
					       &mode, &f);
		if (err != -ECHILD || f || fake.vm_calls) {
			fprintf(stderr, "child: kvm_file_create: %d (%s) after %u KVM calls, expected -ECHILD and none\n",
				err, guestmem_last_error(), fake.vm_calls);
			_exit(1);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %#x", status);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_probe_real)
{
	struct guestmem_kvm_caps caps;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), p[2];

	gm_kvm_ops_set(NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(guestmem_kvm_probe(fd, &caps, sizeof(caps)), -ENOTTY);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "not a KVM VM"));
	/* Told by what the fd is, not only by a failed KVM_CHECK_EXTENSION. */
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "/dev/null"));
	close(fd);
	ck_assert_int_eq(guestmem_kvm_probe(fd, &caps, sizeof(caps)), -EBADF);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(guestmem_kvm_probe(p[0], &caps, sizeof(caps)), -ENOTTY);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "pipe:"));
	close(p[0]);
	close(p[1]);
	gm_kvm_ops_set(&fake_ops);
}
END_TEST

START_TEST(test_bind)
{
	struct guestmem_pool *pool = kvm_test_pool(5);
	struct guestmem_file *f = split_file(pool, 4 * SZ_2M, 0), *plain = NULL;
	struct guestmem_kvm_slot s;
	uint64_t gpa = UINT64_C(1) << 24;
	char *hva = guestmem_file_hva(f);
	unsigned int i;

	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	memset(fake.attrs, 0xff, sizeof(fake.attrs));	/* stale attributes */
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, gpa, &s), 0);
	ck_assert_uint_eq(s.userspace_addr, (uintptr_t)hva);
	ck_assert_int_eq(s.guest_memfd, fake.gmem_fd);
	ck_assert_uint_eq(s.guest_memfd_offset, 0);
	ck_assert_uint_eq(s.flags, KVM_MEM_GUEST_MEMFD);
	ck_assert_uint_eq(s.mode, GUESTMEM_KVM_SPLIT);
	/* The VM's attributes follow the file's state. */
	assert_attrs(gpa, SZ_2M, 1);
	assert_attrs(gpa + SZ_2M, SZ_4K, 0);
	assert_attrs(gpa + SZ_2M + SZ_4K, SZ_2M - SZ_4K, 1);

	ck_assert_int_eq(guestmem_kvm_bind(f, 3 * SZ_2M, SZ_2M, 0, &s), 0);
	ck_assert_uint_eq(s.userspace_addr, (uintptr_t)hva + 3 * SZ_2M);
	ck_assert_uint_eq(s.guest_memfd_offset, 3 * SZ_2M);
	ck_assert_int_eq(guestmem_kvm_bind(f, SZ_2M, SZ_4K, 0, &s), -EEXIST);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, 100, 0, &s), -EINVAL);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, 2 * SZ_2M, 0, &s), -EEXIST);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, 3 * SZ_2M, 0, &s), -ERANGE);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, SZ_4K, 0, NULL), -EINVAL);
	/* The gpa and the offset must agree modulo the huge page size. */
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, SZ_2M, SZ_4K, &s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "not a multiple of the huge page size"));
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M + SZ_4K, SZ_4K, 0, &s), -EINVAL);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M + SZ_4K, SZ_4K, 5 * SZ_2M, &s), -EINVAL);
	for (i = 0; i < GM_KVM_MAX_BINDINGS - 2; i++)
		ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M + i * SZ_4K, SZ_4K, i * SZ_4K,
						   &s), 0);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M + i * SZ_4K, SZ_4K, i * SZ_4K, &s),
			 -ENOSPC);
	ck_assert_int_eq(guestmem_kvm_unbind(f, 2 * SZ_2M + SZ_4K), 0);
	ck_assert_int_eq(guestmem_kvm_unbind(f, 2 * SZ_2M + SZ_4K), -ENOENT);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M + i * SZ_4K, SZ_4K, i * SZ_4K, &s), 0);

	/* A KVM failure: no binding. */
	fake.fail_set_at = fake.set_calls + 1;
	fake.fail_err = -ENOMEM;
	ck_assert_int_eq(guestmem_kvm_unbind(f, 0), 0);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, SZ_2M, gpa, &s), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "KVM_SET_MEMORY_ATTRIBUTES"));
	ck_assert_int_eq(guestmem_kvm_unbind(f, 0), -ENOENT);

	/* A file of guestmem_file_create() has no bindings. */
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, 0, &plain), 0);
	ck_assert_int_eq(guestmem_kvm_bind(plain, 0, SZ_2M, 0, &s), -EINVAL);
	ck_assert_int_eq(guestmem_kvm_unbind(plain, 0), -EINVAL);
	ck_assert_uint_eq(fstats(plain).kvm_mode, 0);
	ck_assert_uint_eq(fstats(plain).kvm_returned, 0);
	ck_assert_int_eq(guestmem_file_destroy(plain), 0);
	finish(pool, f);
}
END_TEST

/*
 * One copy: a private guest holds no huge page; a shared page brings its
 * huge page back, and going private again returns it.
 */
START_TEST(test_one_copy)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = split_file(pool, 4 * SZ_2M, 0);
	uint64_t gpa = UINT64_C(1) << 26, off = SZ_2M + SZ_4K;
	struct guestmem_kvm_slot s;
	struct guestmem_pool_stats ps;
	char *hva = guestmem_file_hva(f);

	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 4 * SZ_2M, gpa, &s), 0);
	assert_attrs(gpa, 4 * SZ_2M, 1);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(fstats(f).allocated, 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.in_use, 0);
	/* Returned pages leave the file's reservation: the pool may lend them. */
	ck_assert_uint_eq(ps.reserved, 0);
	ck_assert_uint_eq(ps.free, 4);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, 4 * SZ_2M);

	ck_assert_int_eq(guestmem_convert(f, off, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	assert_attrs(gpa + off, SZ_4K, 0);
	assert_attrs(gpa, off, 1);
	assert_attrs(gpa + off + SZ_4K, 4 * SZ_2M - off - SZ_4K, 1);
	ck_assert_uint_eq(fake.last_punch_off, off);	/* out of the guest_memfd */
	ck_assert_uint_eq(fake.last_punch_len, SZ_4K);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.in_use, 1);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, 3 * SZ_2M);
	hva[off] = 0x5a;	/* the shared page is mapped */
	assert_state(f, off, GUESTMEM_SHARED, SZ_4K);

	/* More shared pages in the same huge page: nothing more allocated. */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(pstats(pool).in_use, 1);
	ck_assert_uint_eq(hva[off], 0x5a);

	/* All private again: the huge page goes back to the pool. */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, 2 * SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	assert_attrs(gpa, 4 * SZ_2M, 1);
	ck_assert_uint_eq(fstats(f).allocated, 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.in_use, 0);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, 4 * SZ_2M);

	/* Shared again: a fresh, zeroed huge page. */
	ck_assert_int_eq(guestmem_convert(f, off, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(hva[off], 0);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);

	/* A huge page never allocated stays so when part of it turns shared. */
	ck_assert_int_eq(guestmem_punch_hole(f, 3 * SZ_2M, SZ_2M), 0);
	ck_assert_uint_eq(pstats(pool).kvm_split_returned_bytes, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_convert(f, 3 * SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	assert_attrs(gpa + 3 * SZ_2M, SZ_4K, 0);

	/* Punch everything: nothing allocated, nothing returned. */
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(fake.last_punch_off, 0);
	ck_assert_uint_eq(fake.last_punch_len, 4 * SZ_2M);
	ck_assert_uint_eq(fstats(f).allocated, 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, 0);
	ck_assert_uint_eq(ps.in_use, 0);
	/* Punching keeps the state, and the attributes. */
	assert_state(f, 3 * SZ_2M, GUESTMEM_SHARED, SZ_4K);
	assert_attrs(gpa + 3 * SZ_2M, SZ_4K, 0);
	finish(pool, f);
}
END_TEST

/* Bytes the guest_memfd holds (the fake's is a memfd, which counts them). */
static uint64_t gmem_bytes(void)
{
	struct stat sb;

	ck_assert_int_eq(fstat(fake.gmem_fd, &sb), 0);
	return (uint64_t)sb.st_blocks * 512;
}

/* Pages made shared leave the guest_memfd; returned bytes are reported. */
START_TEST(test_guest_memfd_punched)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = split_file(pool, 2 * SZ_2M, 0);

	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_uint_eq(fstats(f).kvm_returned, 2 * SZ_2M);
	/* KVM allocates private pages as the guest faults them in. */
	ck_assert_int_eq(fallocate(fake.gmem_fd, 0, 0, 16 * SZ_4K), 0);
	ck_assert_uint_ge(gmem_bytes(), 16 * SZ_4K);
	ck_assert_int_eq(guestmem_convert(f, 0, 16 * SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(gmem_bytes(), 0);
	ck_assert_uint_eq(fstats(f).kvm_returned, SZ_2M);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	finish(pool, f);
}
END_TEST

/* Contents do not survive a conversion in split mode: they read as zero. */
START_TEST(test_zero_on_convert)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = split_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	char *hva = guestmem_file_hva(f);

	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_uint_eq(fstats(f).allocated, 2 * SZ_2M);
	memset(hva, 0x33, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(hva[SZ_4K], 0);
	ck_assert_uint_eq(hva[0], 0x33);
	ck_assert_uint_eq(hva[2 * SZ_4K], 0x33);
	finish(pool, f);
}
END_TEST

/* A pinned page: -EAGAIN with its offset, and nothing changed anywhere. */
START_TEST(test_pinned_eagain)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = split_file(pool, 2 * SZ_2M, 0);
	uint64_t gpa = 0, bad = 0;
	struct guestmem_kvm_slot s;
	struct guestmem_page pg, pg2;
	unsigned int calls, punches;

	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, gpa, &s), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(guestmem_pin(f, SZ_2M + 5 * SZ_4K, &pg), 0);
	calls = fake.set_calls;
	punches = fake.punches;
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), -EAGAIN);
	ck_assert_uint_eq(bad, SZ_2M);
	ck_assert_uint_eq(fake.set_calls, calls);
	ck_assert_uint_eq(fake.punches, punches);
	assert_attrs(gpa, SZ_2M, 1);
	assert_attrs(gpa + SZ_2M, SZ_2M, 0);
	assert_state(f, 0, GUESTMEM_PRIVATE, SZ_2M);
	assert_state(f, SZ_2M, GUESTMEM_SHARED, SZ_2M);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	/* Private pages cannot be pinned. */
	ck_assert_int_eq(guestmem_pin(f, 0, &pg2), -EPERM);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), 0);
	assert_attrs(gpa, 2 * SZ_2M, 1);
	ck_assert_uint_eq(fstats(f).allocated, 0);
	finish(pool, f);
}
END_TEST

/*
 * KVM fails: the conversion changes nothing, in the file, the pool or the
 * VM, whichever of the file's bindings failed.
 */
START_TEST(test_kvm_failure_undone)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = split_file(pool, 4 * SZ_2M, 0);
	const uint64_t low = 0, high = UINT64_C(1) << 27;
	struct guestmem_kvm_slot s;
	struct guestmem_pool_stats before, after;
	unsigned int fail_at;

	/* Two bindings, as around a PCI hole. */
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, low, &s), 0);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, 2 * SZ_2M, high, &s), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), 0);

	for (fail_at = 1; fail_at <= 2; fail_at++) {
		unsigned int punches = fake.punches;

		before = pstats(pool);
		fake.fail_set_at = fake.set_calls + fail_at;
		fake.fail_err = -ENOMEM;
		/* Across both bindings, through a returned huge page. */
		ck_assert_int_eq(guestmem_convert(f, SZ_2M - SZ_4K, 2 * SZ_2M, GUESTMEM_SHARED,
						  NULL), -ENOMEM);
		ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "KVM_SET_MEMORY_ATTRIBUTES"));
		fake.fail_set_at = 0;
		after = pstats(pool);
		ck_assert_uint_eq(after.in_use, before.in_use);
		ck_assert_uint_eq(after.reserved, before.reserved);
		ck_assert_uint_eq(after.kvm_split_returned_bytes, before.kvm_split_returned_bytes);
		ck_assert_uint_eq(fake.punches, punches);
		ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
		assert_state(f, 0, GUESTMEM_SHARED, SZ_4K);
		assert_state(f, SZ_4K, GUESTMEM_PRIVATE, 4 * SZ_2M - SZ_4K);
		assert_attrs(low, SZ_4K, 0);
		assert_attrs(low + SZ_4K, 2 * SZ_2M - SZ_4K, 1);
		assert_attrs(high, 2 * SZ_2M, 1);
	}
	/* And the same conversion works once KVM does. */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M - SZ_4K, 2 * SZ_2M, GUESTMEM_SHARED, NULL), 0);
	assert_attrs(low + SZ_2M - SZ_4K, SZ_2M + SZ_4K, 0);
	assert_attrs(high, SZ_2M - SZ_4K, 0);
	assert_attrs(high + SZ_2M - SZ_4K, SZ_2M + SZ_4K, 1);
	ck_assert_uint_eq(fstats(f).allocated, 3 * SZ_2M);
	finish(pool, f);
}
END_TEST

/*
 * KVM fails on a conversion to private: the pages are still shared and
 * still hold what they held (the zeroing comes only once nothing can fail).
 */
START_TEST(test_kvm_failure_keeps_contents)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = split_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	unsigned char *hva = guestmem_file_hva(f);
	struct guestmem_kvm_slot s;
	uint64_t i;

	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, 0, &s), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	for (i = 0; i < 2 * SZ_2M; i++)
		hva[i] = (unsigned char)(i * 7 + 1);
	fake.fail_set_at = fake.set_calls + 1;
	fake.fail_err = -ENOMEM;
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_2M, GUESTMEM_PRIVATE, NULL), -ENOMEM);
	fake.fail_set_at = 0;
	assert_state(f, 0, GUESTMEM_SHARED, 2 * SZ_2M);
	assert_attrs(0, 2 * SZ_2M, 0);
	for (i = 0; i < 2 * SZ_2M && hva[i] == (unsigned char)(i * 7 + 1); i++)
		;
	ck_assert_msg(i == 2 * SZ_2M, "byte %#llx: %#x after a failed conversion",
		      (unsigned long long)i, i < 2 * SZ_2M ? hva[i] : 0);
	/* Once KVM takes it, the pages that changed state read as zero. */
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(hva[SZ_4K], 0);
	ck_assert_uint_eq(hva[0], 1);
	ck_assert_uint_eq(hva[2 * SZ_4K], (unsigned char)(2 * SZ_4K * 7 + 1));
	finish(pool, f);
}
END_TEST

static sigjmp_buf touch_jmp;

static void touch_segv(int sig)
{
	(void)sig;
	siglongjmp(touch_jmp, 1);
}

/* Read a byte of @arg: (void *)1 if that faulted (SIGSEGV), else NULL. */
static void *touch_thread(void *arg)
{
	volatile unsigned char *p = arg;
	struct sigaction sa, old;
	void *faulted = (void *)1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = touch_segv;
	sigaction(SIGSEGV, &sa, &old);	/* in place of a sanitizer's, for this touch */
	if (!sigsetjmp(touch_jmp, 1)) {
		(void)p[100];
		faulted = NULL;
	}
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

/*
 * The host touches a wholly private (returned) huge page of a split file
 * with GUESTMEM_FILE_ALLOC_ON_FAULT: SIGSEGV, as for any fault the library
 * cannot serve, not a refault forever.  Bounded: a hang fails the test.
 * Punched and turned shared, the page allocates on touch again.
 */
START_TEST(test_alloc_on_fault_private_touch_fails)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = NULL;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	volatile unsigned char *hva;
	unsigned int mode, i;
	void *ret = NULL;
	pthread_t t;
	int err;

	err = guestmem_kvm_file_create(pool, fake.vm_fd, 2 * SZ_2M,
				       GUESTMEM_FILE_ALLOC_ON_FAULT, GUESTMEM_KVM_SPLIT,
				       &mode, &f);
	if (err == -EPERM || err == -EOPNOTSUPP) {
		printf("SKIP: no allocation on fault here: %s\n", guestmem_last_error());
		ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
		return;
	}
	ck_assert_msg(!err, "kvm_file_create: %d: %s", err, guestmem_last_error());
	hva = guestmem_file_hva(f);
	/* The huge page with a shared page is touched as ever. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	hva[SZ_4K] = 1;
	ck_assert_int_eq(guestmem_allocate(f, SZ_2M, SZ_2M), 0);
	ck_assert_uint_eq(fstats(f).kvm_returned, SZ_2M);
	ck_assert_int_eq(pthread_create(&t, NULL, touch_thread, (char *)hva + SZ_2M), 0);
	/* A hang detector, not a timing: generous, so that load never trips it. */
	for (i = 0; i < 3000 && pthread_tryjoin_np(t, &ret) == EBUSY; i++)
		nanosleep(&tick, NULL);
	ck_assert_msg(i < 3000, "touching a private page hung for 30 s (refaulting forever)");
	ck_assert_msg(ret == (void *)1, "the host read a private page");
	ck_assert_uint_eq(fstats(f).kvm_returned, SZ_2M);

	/* Punched, then shared: allocated on touch again. */
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_2M, SZ_2M), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	guest_access_begin();	/* mapped by the fault thread: tests/guest_access.h */
	hva[SZ_2M + 1] = 7;
	i = hva[SZ_2M + 1];
	guest_access_end();
	ck_assert_uint_eq(i, 7);
	ck_assert_uint_eq(fstats(f).allocated, 2 * SZ_2M);
	finish(pool, f);
}
END_TEST

/* guestmem_state() from another thread while KVM fails a conversion. */
static struct {
	struct guestmem_file *f;
	pthread_t thread;
	atomic_int done;
	unsigned int state;
} reader;

static void *read_state(void *arg)
{
	(void)arg;
	ck_assert_int_eq(guestmem_state(reader.f, 0, &reader.state, NULL), 0);
	atomic_store(&reader.done, 1);
	return NULL;
}

static void start_reader(void)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };

	ck_assert_int_eq(pthread_create(&reader.thread, NULL, read_state, NULL), 0);
	nanosleep(&tick, NULL);	/* time to read, if nothing holds it back */
}

/*
 * A conversion KVM fails is undone; no other thread sees the state it
 * set in between: guestmem_state() waits for the undo.
 */
START_TEST(test_state_never_sees_undone_conversion)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = split_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_kvm_slot s;

	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, 0, &s), 0);
	reader.f = f;
	atomic_store(&reader.done, 0);
	fake.on_fail = start_reader;
	fake.fail_set_at = fake.set_calls + 1;
	fake.fail_err = -ENOMEM;
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_PRIVATE, NULL), -ENOMEM);
	fake.fail_set_at = 0;
	fake.on_fail = NULL;
	ck_assert_int_eq(pthread_join(reader.thread, NULL), 0);
	ck_assert_int_eq(atomic_load(&reader.done), 1);
	ck_assert_msg(reader.state == GUESTMEM_SHARED,
		      "another thread saw the page private, a state then undone");
	finish(pool, f);
}
END_TEST

/* The shim's fault injection (lib/shim/slab.h), linked in with the library. */
void shim_fail_nth(unsigned long nth);
unsigned long shim_failed_count(void);

/* What a failed call must leave as it was. */
struct snapshot {
	uint8_t attrs[2 * 4 * 512];		/* the two bindings' guest pages */
	unsigned int state[4 * 512];		/* the file's pages */
	uint64_t sum[4 * 512];			/* the shared pages' contents */
	uint64_t allocated, in_use, reserved, returned;
	unsigned int punches;
};

#define FI_LOW	0
#define FI_HIGH	(UINT64_C(1) << 27)

static void snap(struct guestmem_pool *pool, struct guestmem_file *f, struct snapshot *sn)
{
	struct guestmem_pool_stats ps = pstats(pool);
	uint64_t p;

	memset(sn, 0, sizeof(*sn));	/* padding too: compared with memcmp() */
	memcpy(sn->attrs, &fake.attrs[FI_LOW / SZ_4K], 4 * 512);
	memcpy(sn->attrs + 4 * 512, &fake.attrs[FI_HIGH / SZ_4K], 4 * 512);
	for (p = 0; p < 4 * 512; p++) {
		const unsigned char *b = (unsigned char *)guestmem_file_hva(f) + p * SZ_4K;
		uint64_t h = 14695981039346656037ULL, i;

		ck_assert_int_eq(guestmem_state(f, p * SZ_4K, &sn->state[p], NULL), 0);
		if (sn->state[p] != GUESTMEM_SHARED)
			continue;
		for (i = 0; i < SZ_4K; i++)
			h = (h ^ b[i]) * 1099511628211ULL;	/* FNV-1a */
		sn->sum[p] = h;
	}
	sn->allocated = fstats(f).allocated;
	sn->in_use = ps.in_use;
	sn->reserved = ps.reserved;
	sn->returned = ps.kvm_split_returned_bytes;
	sn->punches = fake.punches;
}

/* A file of 4 huge pages in two bindings, some shared, some returned. */
static struct guestmem_file *fi_file(struct guestmem_pool *pool)
{
	struct guestmem_file *f = split_file(pool, 4 * SZ_2M, 0);
	struct guestmem_kvm_slot s;

	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, FI_LOW, &s), 0);
	ck_assert_int_eq(guestmem_kvm_bind(f, 2 * SZ_2M, 2 * SZ_2M, FI_HIGH, &s), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_int_eq(guestmem_convert(f, 0, 3 * SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(guestmem_convert(f, 3 * SZ_2M, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	/* Something in the shared pages, for snap() to compare. */
	memset(guestmem_file_hva(f), 0x6b, 3 * SZ_4K);
	memset((char *)guestmem_file_hva(f) + 3 * SZ_2M, 0x6c, SZ_2M);
	return f;
}

/*
 * Every allocation of a conversion failed in turn: each failure is -ENOMEM
 * and leaves the file, the pool and the VM exactly as they were.
 */
START_TEST(test_fault_injection)
{
	static const struct {
		uint64_t off, len;
		unsigned int to;
	} conv[] = {
		{ SZ_4K, SZ_2M, GUESTMEM_SHARED },		/* mixed, across a returned page */
		{ SZ_2M - SZ_4K, 2 * SZ_2M, GUESTMEM_SHARED },	/* across both bindings */
		{ 0, 4 * SZ_2M, GUESTMEM_PRIVATE },		/* everything returned */
		{ 3 * SZ_2M + SZ_4K, SZ_4K, GUESTMEM_PRIVATE },	/* splits a shared page */
	};
	struct snapshot before, after;
	unsigned long nth, points = 0;
	size_t c;

	for (c = 0; c < sizeof(conv) / sizeof(conv[0]); c++) {
		for (nth = 1;; nth++) {
			struct guestmem_pool *pool = kvm_test_pool(4);
			struct guestmem_file *f = fi_file(pool);
			unsigned long failed;
			int err;

			snap(pool, f, &before);
			shim_fail_nth(nth);
			err = guestmem_convert(f, conv[c].off, conv[c].len, conv[c].to, NULL);
			failed = shim_failed_count();
			shim_fail_nth(0);
			if (!err && !failed) {
				finish(pool, f);
				break;
			}
			if (err) {
				ck_assert_msg(err == -ENOMEM, "conversion %zu, allocation %lu: %d: %s",
					      c, nth, err, guestmem_last_error());
				snap(pool, f, &after);
				ck_assert_msg(!memcmp(&before, &after, sizeof(before)),
					      "conversion %zu, allocation %lu failed and changed something",
					      c, nth);
				points++;
			}
			finish(pool, f);
		}
	}
	ck_assert_uint_gt(points, 4);
}
END_TEST

/* Unbound ranges convert in the file; binding them later sets the VM. */
START_TEST(test_unbound_then_bound)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = split_file(pool, 2 * SZ_2M, 0);
	struct guestmem_kvm_slot s;
	unsigned int calls = fake.set_calls;

	ck_assert_int_eq(guestmem_convert(f, 8 * SZ_4K, 8 * SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(fake.set_calls, calls);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, SZ_2M, &s), 0);
	assert_attrs(SZ_2M, 8 * SZ_4K, 1);
	assert_attrs(SZ_2M + 8 * SZ_4K, 8 * SZ_4K, 0);
	assert_attrs(SZ_2M + 16 * SZ_4K, 2 * SZ_2M - 16 * SZ_4K, 1);
	/* Errors of the range are the library's. */
	ck_assert_int_eq(guestmem_convert(f, 0, 0, GUESTMEM_SHARED, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 0, 3 * SZ_2M, GUESTMEM_SHARED, NULL), -ERANGE);
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, 5, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_allocate(f, 0, 3 * SZ_2M), -ERANGE);
	ck_assert_int_eq(guestmem_punch_hole(f, 1, SZ_4K), -EINVAL);
	finish(pool, f);
}
END_TEST

/* NONE mode: the library's file, told nothing to KVM. */
START_TEST(test_none_mode)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = NULL;
	struct guestmem_kvm_slot s;
	unsigned int mode = 0;

	ck_assert_int_eq(guestmem_kvm_file_create(pool, fake.vm_fd, 2 * SZ_2M,
						  GUESTMEM_FILE_INIT_SHARED, GUESTMEM_KVM_NONE,
						  &mode, &f), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_NONE);
	ck_assert_int_eq(fake.gmem_fd, -1);
	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 2 * SZ_2M, 0, &s), 0);
	ck_assert_int_eq(s.guest_memfd, -1);
	ck_assert_uint_eq(s.flags, 0);
	ck_assert_uint_eq(s.mode, GUESTMEM_KVM_NONE);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	memset(guestmem_file_hva(f), 0x44, SZ_4K);
	/* Content stays in place, as for any file. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_2M, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(((char *)guestmem_file_hva(f))[100], 0x44);
	ck_assert_uint_eq(fake.set_calls, 0);
	ck_assert_uint_eq(fstats(f).allocated, 2 * SZ_2M);
	ck_assert_uint_eq(fstats(f).kvm_returned, 0);
	finish(pool, f);
}
END_TEST

/*
 * Without GUESTMEM_POOL_RETURN_TO_KERNEL too, a returned huge page leaves
 * its file's reservation: another file of the pool may reserve it, and a
 * page of it turning shared then fails with -ENOMEM, changing nothing in
 * the file, the pool or the VM, until a page is free again.
 */
START_TEST(test_returned_page_lent)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = split_file(pool, 4 * SZ_2M, 0), *other = NULL;
	const uint64_t gpa = UINT64_C(1) << 26;
	struct guestmem_pool_stats ps;
	struct guestmem_kvm_slot s;
	unsigned int calls, punches;

	ck_assert_int_eq(guestmem_kvm_bind(f, 0, 4 * SZ_2M, gpa, &s), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ck_assert_uint_eq(pstats(pool).free, 4);
	/* Another file takes every page: the split file's returned ones too. */
	ck_assert_int_eq(guestmem_file_create(pool, 4 * SZ_2M, 0, &other), 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.free, 0);
	ck_assert_uint_eq(ps.reserved, 4);

	calls = fake.set_calls;
	punches = fake.punches;
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), -ENOMEM);
	ck_assert_msg(strstr(guestmem_last_error(), "reserved by its files"),
		      "error: %s", guestmem_last_error());
	ck_assert_uint_eq(fake.set_calls, calls);
	ck_assert_uint_eq(fake.punches, punches);
	assert_state(f, 0, GUESTMEM_PRIVATE, 4 * SZ_2M);
	assert_attrs(gpa, 4 * SZ_2M, 1);
	ck_assert_uint_eq(fstats(f).allocated, 0);
	ck_assert_uint_eq(fstats(f).kvm_returned, 4 * SZ_2M);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.free, 0);
	ck_assert_uint_eq(ps.reserved, 4);
	ck_assert_uint_eq(ps.in_use, 0);
	ck_assert(shim_hstate_consistent(pool->h));

	/* The other file gone, the same conversion gets its page. */
	ck_assert_int_eq(guestmem_file_destroy(other), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	assert_attrs(gpa + SZ_2M, SZ_4K, 0);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.in_use, 1);
	ck_assert_uint_eq(ps.free, 3);
	ck_assert_uint_eq(ps.reserved, 0);
	ck_assert_int_eq(guestmem_kvm_unbind(f, 0), 0);
	finish(pool, f);
}
END_TEST

/* Split test pool of 4 with one page returned and given back, the rest reserved. */
static void assert_one_given_back(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats ps = pstats(pool);

	ck_assert_uint_eq(ps.given_back_bytes, SZ_2M);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, SZ_2M);
	ck_assert_uint_eq(ps.free, 1);
	ck_assert_uint_eq(ps.reserved, 3);
	ck_assert_uint_eq(ps.in_use, 0);
	ck_assert(shim_hstate_consistent(pool->h));
}

/*
 * GUESTMEM_POOL_RETURN_TO_KERNEL on real 2M pages: a split file's wholly
 * private huge page goes back to the kernel (HugePages_Free rises by one,
 * the pool stats say so), comes back when a page of it turns shared (zero,
 * also with the background zeroer, _i == 1), and when the kernel has no
 * page left the conversion fails with -ENOMEM and changes nothing.  After
 * everything is destroyed the kernel's counts are what they were.
 */
START_TEST(test_return_to_kernel)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 4, .node = -1,
		.flags = GUESTMEM_POOL_RETURN_TO_KERNEL |
			 (_i ? GUESTMEM_POOL_ZERO_BACKGROUND : 0),
	};
	struct guestmem_pool *pool = NULL, *hog = NULL;
	struct guestmem_pool_stats ps;
	struct guestmem_file *f;
	struct hugetlb_env e;
	long free0, resv0, free1;
	char *hva;

	if (!hugetlb_env_reserve(&e, 2048, 4)) {
		hugetlb_env_restore(&e);
		return;
	}
	free0 = hugetlb_env_free(&e);
	resv0 = hugetlb_env_resv(&e);
	ck_assert_int_ge(free0, 4);
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_uint_eq(pstats(pool).backend, GUESTMEM_BACKEND_HUGETLB);
	f = split_file(pool, 4 * SZ_2M, 0);
	hva = guestmem_file_hva(f);

	/* A page turns shared and is allocated: its huge page is faulted in. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 1), free0 - 1);
	memset(hva, 0x5a, SZ_4K);

	/* All private again: returned to the pool, and by the pool to the kernel. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	if (_i)
		shim_hstate_zero_flush(pool->h);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	assert_one_given_back(pool);

	/* Shared again: taken back from the kernel, and zero. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 1), free0 - 1);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.given_back_bytes, 0);
	ck_assert_uint_eq(ps.in_use, 1);
	ck_assert_uint_eq(ps.reserved, 3);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	ck_assert_uint_eq(hva[0], 0);
	ck_assert_uint_eq(hva[SZ_4K - 1], 0);
	hva[0] = 1;

	/* Given back again; then the kernel has no page left to return. */
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	if (_i)
		shim_hstate_zero_flush(pool->h);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	if (hugetlb_env_hog(&e, 0, &hog)) {
		free1 = hugetlb_env_free(&e);
		ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), -ENOMEM);
		ck_assert_msg(strstr(guestmem_last_error(), "kernel has no free"),
			      "error: %s", guestmem_last_error());
		assert_state(f, 0, GUESTMEM_PRIVATE, 4 * SZ_2M);
		assert_one_given_back(pool);
		ck_assert_uint_eq(fstats(f).allocated, 0);
		ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free1), free1);
		if (hog)
			ck_assert_int_eq(guestmem_pool_destroy(hog), 0);
		/* With a page back in the kernel, the same conversion works. */
		ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, GUESTMEM_SHARED, NULL), 0);
		ck_assert_uint_eq(hva[0], 0);
		ck_assert_uint_eq(pstats(pool).given_back_bytes, 0);
		ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 1), free0 - 1);
	}

	/* Destroyed: the file's reservation goes, and every page to the kernel. */
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.free, 4);
	ck_assert_uint_eq(ps.given_back_bytes, 4 * SZ_2M);
	ck_assert_uint_eq(ps.total, 4);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);
	ck_assert(shim_hstate_consistent(pool->h));
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);
	ck_assert(hugetlb_env_restore(&e));
}
END_TEST

/*
 * A private guest allocated whole: every huge page is returned, and with
 * GUESTMEM_POOL_RETURN_TO_KERNEL the kernel has them all back (nothing
 * reserved, nothing in use); one page turning shared costs one huge page.
 */
START_TEST(test_private_guest_costs_no_hugetlb)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 4, .node = -1,
		.flags = GUESTMEM_POOL_RETURN_TO_KERNEL,
	};
	struct guestmem_pool *pool = NULL;
	struct guestmem_pool_stats ps;
	struct guestmem_file *f;
	struct hugetlb_env e;
	long free0, resv0;

	if (!hugetlb_env_reserve(&e, 2048, 4)) {
		hugetlb_env_restore(&e);
		return;
	}
	free0 = hugetlb_env_free(&e);
	resv0 = hugetlb_env_resv(&e);
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	f = split_file(pool, 4 * SZ_2M, 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0 + 4), resv0 + 4);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.kvm_split_returned_bytes, 4 * SZ_2M);
	ck_assert_uint_eq(ps.given_back_bytes, 4 * SZ_2M);
	ck_assert_uint_eq(ps.reserved, 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);

	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0 - 1), free0 - 1);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);
	ps = pstats(pool);
	ck_assert_uint_eq(ps.given_back_bytes, 3 * SZ_2M);
	ck_assert_uint_eq(ps.in_use, 1);
	ck_assert_uint_eq(fstats(f).allocated, SZ_2M);
	ck_assert_uint_eq(((char *)guestmem_file_hva(f))[SZ_2M], 0);
	ck_assert(shim_hstate_consistent(pool->h));

	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, free0), free0);
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_resv, resv0), resv0);
	ck_assert(hugetlb_env_restore(&e));
}
END_TEST

static Suite *kvm_unit_suite(void)
{
	Suite *s = suite_create("kvm_unit");
	TCase *tc = tcase_create("decisions");

	tcase_add_test(tc, test_offered_and_best);
	tcase_add_test(tc, test_offered_needs_each_cap);
	tcase_add_test(tc, test_choose);
	tcase_add_test(tc, test_huge_touched);
	tcase_add_test(tc, test_bind_check);
	tcase_add_test(tc, test_gpa_ranges);
	tcase_add_test(tc, test_all_private);
	suite_add_tcase(s, tc);

	tc = tcase_create("split_fake_kvm");
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	/* Check's 4 s default would cut the hang detector short under load. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_modes);
	tcase_add_test(tc, test_probe_real);
	tcase_add_test(tc, test_create_in_fork_child);
	tcase_add_test(tc, test_bind);
	tcase_add_test(tc, test_one_copy);
	tcase_add_test(tc, test_guest_memfd_punched);
	tcase_add_test(tc, test_zero_on_convert);
	tcase_add_test(tc, test_pinned_eagain);
	tcase_add_test(tc, test_kvm_failure_undone);
	tcase_add_test(tc, test_kvm_failure_keeps_contents);
	tcase_add_test(tc, test_state_never_sees_undone_conversion);
	tcase_add_test(tc, test_alloc_on_fault_private_touch_fails);
	tcase_add_test(tc, test_fault_injection);
	tcase_add_test(tc, test_unbound_then_bound);
	tcase_add_test(tc, test_none_mode);
	tcase_add_test(tc, test_returned_page_lent);
	tcase_add_loop_test(tc, test_return_to_kernel, 0, 2);
	tcase_add_test(tc, test_private_guest_costs_no_hugetlb);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kvm_unit_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
