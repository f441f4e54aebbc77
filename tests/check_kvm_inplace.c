// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * KVM files in GUESTMEM_KVM_INPLACE mode against a fake KVM: the library's
 * part of the contract (lib/kvm_inplace.c).  The fake guest_memfd is a
 * memfd that keeps contents and a state per page, as the series' hugetlb
 * guest_memfd does; it cannot hide private memory from the host, which
 * tests/check_kvm checks on the real kernel (in the rig).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <guestmem.h>

#include "kvm_helpers.h"

#include "kvm_mode.h"

#define PRIV		KVM_MEMORY_ATTRIBUTE_PRIVATE
#define MAX_PAGES	4096			/* 16 MiB of fake guest_memfd */

/* guestmem's series, a KVM_X86_SW_PROTECTED_VM. */
static const struct gm_kvm_raw_caps series_protected = {
	.attributes = PRIV, .guest_memfd = 1,
	.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED |
			     GM_GUEST_MEMFD_FLAG_HUGETLB,
	.guest_memfd_attributes = PRIV, .user_memory2 = 1,
};

static struct {
	int vm_fd;
	int gmem_fd;
	struct gm_kvm_create_guest_memfd created;
	int create_err;			/* fail hugetlb guest_memfds with it */
	uint8_t priv[MAX_PAGES];	/* the kernel's state of each page */
	unsigned int attr_calls, punches, allocs;
	unsigned int fail_times;	/* fail that many KVM_SET_MEMORY_ATTRIBUTES2 */
	int fail_err;
	uint64_t fail_off;		/* error_offset of a failing -EAGAIN */
	unsigned int creates;		/* KVM_CREATE_GUEST_MEMFD calls */
	unsigned int punch_attr_calls;	/* attr_calls at the last punch */
	uint64_t punched[64][2];	/* the punches: offset, length */
} fk;

static int fake_check_vm(int fd)
{
	return fd == fk.vm_fd ? 0 : -ENOTTY;
}

static long fake_check_extension(int vm_fd, unsigned long cap)
{
	const struct gm_kvm_raw_caps *c = &series_protected;

	if (vm_fd != fk.vm_fd)
		return -ENOTTY;
	switch (cap) {
	case KVM_CAP_MEMORY_ATTRIBUTES: return (long)c->attributes;
	case KVM_CAP_GUEST_MEMFD: return (long)c->guest_memfd;
	case KVM_CAP_GUEST_MEMFD_FLAGS: return (long)c->guest_memfd_flags;
	case GM_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES: return (long)c->guest_memfd_attributes;
	case KVM_CAP_USER_MEMORY2: return (long)c->user_memory2;
	default: return 0;
	}
}

static int fake_create_guest_memfd(int vm_fd, struct gm_kvm_create_guest_memfd *arg)
{
	bool hugetlb = arg->flags & GM_GUEST_MEMFD_FLAG_HUGETLB;
	int fd;

	ck_assert_int_ne(vm_fd, fk.vm_fd);	/* the file's duplicate */
	fk.creates++;
	if (hugetlb && fk.create_err)
		return fk.create_err;
	ck_assert_uint_le(arg->size / SZ_4K, MAX_PAGES);
	fd = memfd_create("fake-guest_memfd", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)arg->size), 0);
	fk.created = *arg;
	fk.gmem_fd = fd;
	memset(fk.priv, !(arg->flags & GUEST_MEMFD_FLAG_INIT_SHARED), sizeof(fk.priv));
	return fd;
}

static int fake_set_attributes(int vm_fd, uint64_t gpa, uint64_t len, uint64_t attributes)
{
	(void)vm_fd;
	ck_abort_msg("KVM_SET_MEMORY_ATTRIBUTES on the VM for %#llx+%#llx (%#llx): in-place files have their own",
		     (unsigned long long)gpa, (unsigned long long)len,
		     (unsigned long long)attributes);
	return -EINVAL;
}

static int fake_set_attributes2(int fd, uint64_t off, uint64_t len, uint64_t attributes,
				uint64_t *bad)
{
	uint64_t p;

	ck_assert_int_eq(fd, fk.gmem_fd);
	ck_assert(off % SZ_4K == 0 && len % SZ_4K == 0 && len);
	ck_assert_uint_le(off + len, fk.created.size);
	ck_assert(attributes == 0 || attributes == PRIV);
	fk.attr_calls++;
	if (fk.fail_times) {
		fk.fail_times--;
		if (fk.fail_err == -EAGAIN)
			*bad = fk.fail_off;
		return fk.fail_err;	/* nothing changed */
	}
	for (p = off / SZ_4K; p < (off + len) / SZ_4K; p++)
		fk.priv[p] = attributes != 0;
	return 0;
}

static int fake_punch(int fd, uint64_t off, uint64_t len)
{
	ck_assert_uint_le(off + len, fk.created.size);
	if (fk.punches < 64) {
		fk.punched[fk.punches][0] = off;
		fk.punched[fk.punches][1] = len;
	}
	fk.punches++;
	fk.punch_attr_calls = fk.attr_calls;
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			 (off_t)len) ? -errno : 0;
}

static int fake_allocate(int fd, uint64_t off, uint64_t len)
{
	ck_assert_int_eq(fd, fk.gmem_fd);
	ck_assert_uint_le(off + len, fk.created.size);
	fk.allocs++;
	return fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) ? -errno : 0;
}

static const struct gm_kvm_ops fake_ops = {
	.check_vm = fake_check_vm,
	.check_extension = fake_check_extension,
	.create_guest_memfd = fake_create_guest_memfd,
	.set_attributes = fake_set_attributes,
	.punch = fake_punch,
	.allocate = fake_allocate,
	.set_attributes2 = fake_set_attributes2,
};

static void fake_setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.vm_fd = eventfd(0, EFD_CLOEXEC);	/* any fd: the fake is the VM */
	fk.gmem_fd = -1;
	ck_assert_int_ge(fk.vm_fd, 0);
	gm_kvm_ops_set(&fake_ops);
}

static void fake_teardown(void)
{
	gm_kvm_ops_set(NULL);
	close(fk.vm_fd);
}

static struct guestmem_file *inplace_file(struct guestmem_pool *pool, uint64_t size,
					  uint64_t flags)
{
	return kvm_auto_file(pool, fk.vm_fd, size, flags, GUESTMEM_KVM_INPLACE);
}

/* The library's states are the kernel's. */
static void assert_same_as_kernel(struct guestmem_file *f, uint64_t size)
{
	uint64_t off;

	for (off = 0; off < size; off += SZ_4K) {
		unsigned int st;

		ck_assert_int_eq(guestmem_state(f, off, &st, NULL), 0);
		ck_assert_msg((st == GUESTMEM_PRIVATE) == fk.priv[off / SZ_4K],
			      "offset %#llx: library says %u, kernel %u",
			      (unsigned long long)off, st, fk.priv[off / SZ_4K]);
	}
}

static struct guestmem_hugetlb_info hugetlb_2m(void)
{
	struct guestmem_hugetlb_info h = { 0 };

	guestmem_hugetlb_info(SZ_2M, -1, &h, sizeof(h));	/* zeroes without hugetlb */
	return h;
}

START_TEST(test_create)
{
	struct guestmem_pool *pool = kvm_test_pool(5);
	struct guestmem_hugetlb_info before = hugetlb_2m(), now;
	struct guestmem_file *f = inplace_file(pool, 4 * SZ_2M, 0);
	struct guestmem_file_stats st = fstats(f);
	struct guestmem_pool_stats ps;
	int gmem = fk.gmem_fd;
	bool lent;

	ck_assert_uint_eq(fk.created.size, 4 * SZ_2M);
	ck_assert_uint_eq(fk.created.flags, GM_GUEST_MEMFD_FLAG_HUGETLB | GUEST_MEMFD_FLAG_MMAP);
	ck_assert_uint_eq(fk.created.page_size, SZ_2M);
	ck_assert_uint_eq(st.kvm_mode, GUESTMEM_KVM_INPLACE);
	ck_assert_uint_eq(st.size, 4 * SZ_2M);
	ck_assert_uint_eq(st.private_bytes, 4 * SZ_2M);
	ck_assert_uint_eq(st.huge_mappable, 4 * SZ_2M);
	/*
	 * A hugetlb pool lent the kernel the file's pages (the fake
	 * guest_memfd does not take them): in use as the file's, and the
	 * kernel's to reserve.  Another pool lends nothing.
	 */
	ps = pstats(pool);
	lent = ps.backend == GUESTMEM_BACKEND_HUGETLB;
	if (!lent)
		printf("SKIP: test_create's loan checks: the pool is not on hugetlb pages (backend %llu), so it lends none\n",
		       (unsigned long long)ps.backend);
	ck_assert_uint_eq(ps.in_use, lent ? 4 : 0);
	ck_assert_uint_eq(ps.free, lent ? 1 : 5);
	now = hugetlb_2m();
	if (lent)
		ck_assert_uint_eq(now.free - now.reserved, before.free - before.reserved + 4);
	assert_state(f, 0, GUESTMEM_PRIVATE, 4 * SZ_2M);
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(fcntl(gmem, F_GETFD), -1);	/* closed with the file */
	/*
	 * The loan ends with the file: the pages are the pool's, free, again,
	 * and back from the kernel (a pool without GUESTMEM_POOL_RETURN_TO_KERNEL
	 * keeps its pages).
	 */
	ck_assert_uint_eq(pstats(pool).free, 5);
	ck_assert_uint_eq(pstats(pool).in_use, 0);
	ck_assert_uint_eq(pstats(pool).given_back_bytes, 0);
	if (lent) {
		struct guestmem_file *big = NULL;

		/* A pool that cannot lend the file's pages refuses it. */
		ck_assert_int_eq(guestmem_kvm_file_create(pool, fk.vm_fd, 6 * SZ_2M, 0,
							  GUESTMEM_KVM_INPLACE, NULL, &big),
				 -ENOMEM);
		ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "cannot lend"));
		ck_assert_uint_eq(pstats(pool).free, 5);
		/* The pages come back from the kernel for a plain file. */
		ck_assert_int_eq(guestmem_file_create(pool, 5 * SZ_2M, 0, &big), 0);
		ck_assert_int_eq(guestmem_allocate(big, 0, 5 * SZ_2M), 0);
		ck_assert_int_eq(guestmem_file_destroy(big), 0);
	}

	f = inplace_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	ck_assert_uint_eq(fk.created.flags, GM_GUEST_MEMFD_FLAG_HUGETLB | GUEST_MEMFD_FLAG_MMAP |
					    GUEST_MEMFD_FLAG_INIT_SHARED);
	assert_state(f, SZ_4K, GUESTMEM_SHARED, 2 * SZ_2M - SZ_4K);
	/* Shared memory is the guest_memfd's, at the file's host address. */
	memset(guestmem_file_hva(f), 0x5a, SZ_4K);
	ck_assert_int_eq(pread(fk.gmem_fd, &gmem, sizeof(gmem), 0), sizeof(gmem));
	ck_assert_int_eq(gmem, 0x5a5a5a5a);
	finish(pool, f);
}
END_TEST

/* A creation that fails changes nothing: the pool lends nothing, keeps its pages. */
START_TEST(test_failed_create_changes_nothing)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_pool_stats before = pstats(pool), after;
	struct guestmem_file *f = NULL;

	ck_assert_int_eq(guestmem_kvm_file_create(pool, fk.vm_fd, SZ_2M, 1 << 5,
						  GUESTMEM_KVM_INPLACE, NULL, &f), -EINVAL);
	ck_assert_uint_eq(fk.creates, 0);		/* refused before KVM saw it */
	fk.create_err = -EINVAL;			/* e.g. a page size KVM refuses */
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fk.vm_fd, 2 * SZ_2M, 0,
						  GUESTMEM_KVM_INPLACE, NULL, &f), -EINVAL);
	ck_assert_ptr_null(f);
	after = pstats(pool);
	ck_assert_uint_eq(after.free, before.free);
	ck_assert_uint_eq(after.in_use, 0);
	ck_assert_uint_eq(after.given_back_bytes, 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* AUTO takes split mode when the kernel's pool is short; asked by name, no. */
START_TEST(test_kernel_pool_short)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = NULL;
	unsigned int mode = 0;

	fk.create_err = -ENOMEM;
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fk.vm_fd, SZ_2M, 0,
						  GUESTMEM_KVM_INPLACE, &mode, &f), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "kernel's hugetlb pool"));
	ck_assert_ptr_null(f);
	ck_assert_int_eq(guestmem_kvm_file_create(pool, fk.vm_fd, SZ_2M, 0, GUESTMEM_KVM_AUTO,
						  &mode, &f), 0);
	ck_assert_uint_eq(mode, GUESTMEM_KVM_SPLIT);
	ck_assert_uint_eq(fk.created.flags, 0);		/* a 4K guest_memfd */
	ck_assert_uint_eq(fstats(f).kvm_mode, GUESTMEM_KVM_SPLIT);
	ck_assert_str_eq(guestmem_last_error(), "");
	finish(pool, f);
}
END_TEST

START_TEST(test_convert_keeps_contents)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = inplace_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	unsigned char *hva = guestmem_file_hva(f);
	unsigned int calls;

	memset(hva + SZ_2M, 0xab, 2 * SZ_4K);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, 2 * SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	assert_state(f, 0, GUESTMEM_SHARED, SZ_2M);
	assert_state(f, SZ_2M, GUESTMEM_PRIVATE, 2 * SZ_4K);
	assert_state(f, SZ_2M + 2 * SZ_4K, GUESTMEM_SHARED, SZ_2M - 2 * SZ_4K);
	assert_same_as_kernel(f, 2 * SZ_2M);
	ck_assert_uint_eq(fstats(f).split_pages, 1);
	ck_assert_uint_eq(fstats(f).huge_mappable, SZ_2M);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	assert_same_as_kernel(f, 2 * SZ_2M);
	ck_assert_uint_eq(hva[SZ_2M], 0xab);		/* kept across both */
	ck_assert_uint_eq(fk.punches, 0);

	/* Already so: no call into the kernel. */
	calls = fk.attr_calls;
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(fk.attr_calls, calls);
	/* Bad input: nothing reaches the kernel. */
	ck_assert_int_eq(guestmem_convert(f, 1, SZ_4K, GUESTMEM_PRIVATE, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 0, 0, GUESTMEM_PRIVATE, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, 7, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, 2 * SZ_2M, GUESTMEM_PRIVATE, NULL), -ERANGE);
	ck_assert_int_eq(guestmem_convert(f, UINT64_MAX & ~(SZ_4K - 1), 2 * SZ_4K,
					  GUESTMEM_PRIVATE, NULL), -ERANGE);
	ck_assert_uint_eq(fk.attr_calls, calls);
	assert_same_as_kernel(f, 2 * SZ_2M);
	finish(pool, f);
}
END_TEST

START_TEST(test_zero_on_convert)
{
	struct guestmem_pool *pool = kvm_test_pool(1);
	struct guestmem_file *f = inplace_file(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED |
						GUESTMEM_FILE_ZERO_ON_CONVERT);
	unsigned char *hva = guestmem_file_hva(f);

	memset(hva, 0xcd, 4 * SZ_4K);
	/*
	 * Pages 1 and 2 change; page 0 stays shared and keeps its data.  They
	 * are punched while the host cannot see them: once private, and while
	 * still private.
	 */
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, 2 * SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_uint_eq(fk.punch_attr_calls, fk.attr_calls);
	ck_assert_int_eq(guestmem_convert(f, 0, 3 * SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(fk.punch_attr_calls, fk.attr_calls - 1);
	ck_assert_uint_eq(hva[0], 0xcd);
	ck_assert_uint_eq(hva[SZ_4K], 0);
	ck_assert_uint_eq(hva[3 * SZ_4K - 1], 0);
	ck_assert_uint_eq(hva[3 * SZ_4K], 0xcd);
	ck_assert_uint_eq(fk.punches, 2);		/* once each way */
	assert_state(f, 0, GUESTMEM_SHARED, SZ_2M);
	finish(pool, f);
}
END_TEST

START_TEST(test_pins)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = inplace_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	struct guestmem_page pg, pg2;
	uint64_t bad = 0;
	unsigned int calls;

	/* Huge page 1 is all shared: its folio is the huge page. */
	ck_assert_int_eq(guestmem_pin(f, SZ_2M + 2 * SZ_4K, &pg), 0);
	ck_assert_ptr_eq(pg.addr, (char *)guestmem_file_hva(f) + SZ_2M + 2 * SZ_4K);
	ck_assert_uint_eq(pg.max_order, 9);
	ck_assert_uint_eq(pg.state, GUESTMEM_SHARED);
	calls = fk.attr_calls;
	ck_assert_int_eq(guestmem_convert(f, SZ_2M + SZ_2M / 2, SZ_4K, GUESTMEM_PRIVATE, &bad),
			 -EAGAIN);
	ck_assert_uint_eq(bad, SZ_2M + SZ_2M / 2);	/* the folio's first page in the range */
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), -EAGAIN);
	ck_assert_uint_eq(bad, SZ_2M);
	ck_assert_uint_eq(fk.attr_calls, calls);	/* the kernel never saw them */
	assert_state(f, 0, GUESTMEM_SHARED, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_file_destroy(f), -EBUSY);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_unpin(f, &pg), -EINVAL);

	/* A mixed huge page is split: a pin holds only its 4K page. */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_pin(f, SZ_2M, &pg), -EPERM);
	ck_assert_int_eq(guestmem_pin(f, SZ_2M + 2 * SZ_4K, &pg), 0);
	ck_assert_uint_eq(pg.max_order, 0);
	ck_assert_int_eq(guestmem_pin(f, 0, &pg2), 0);
	ck_assert_uint_eq(pg2.max_order, 9);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M + 3 * SZ_4K, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M + SZ_4K, 4 * SZ_4K, GUESTMEM_PRIVATE, &bad),
			 -EAGAIN);
	ck_assert_uint_eq(bad, SZ_2M + 2 * SZ_4K);
	ck_assert_int_eq(guestmem_pin(f, 2 * SZ_2M, &pg), -ERANGE);
	ck_assert_int_eq(guestmem_pin(f, 1, &pg), -EINVAL);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_unpin(f, &pg2), 0);
	ck_assert_int_eq(guestmem_convert(f, SZ_2M + SZ_4K, 4 * SZ_4K, GUESTMEM_PRIVATE, &bad), 0);
	assert_same_as_kernel(f, 2 * SZ_2M);
	finish(pool, f);
}
END_TEST

/* The kernel's -EAGAIN: retried while brief, passed through with its offset. */
START_TEST(test_kernel_eagain)
{
	struct guestmem_pool *pool = kvm_test_pool(1);
	struct guestmem_file *f = inplace_file(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	uint64_t bad = 0;

	fk.fail_err = -EAGAIN;
	fk.fail_off = 5 * SZ_4K;
	fk.fail_times = 3;		/* a vCPU faulting the page in */
	ck_assert_int_eq(guestmem_convert(f, 0, 8 * SZ_4K, GUESTMEM_PRIVATE, &bad), 0);
	ck_assert_uint_eq(fk.attr_calls, 4);
	assert_same_as_kernel(f, SZ_2M);

	fk.fail_times = 1000;		/* held */
	ck_assert_int_eq(guestmem_convert(f, 8 * SZ_4K, 8 * SZ_4K, GUESTMEM_PRIVATE, &bad),
			 -EAGAIN);
	ck_assert_uint_eq(bad, 5 * SZ_4K);
	assert_state(f, 8 * SZ_4K, GUESTMEM_SHARED, SZ_2M - 8 * SZ_4K);

	fk.fail_err = -ENOMEM;
	fk.fail_times = 1;
	ck_assert_int_eq(guestmem_convert(f, 8 * SZ_4K, 8 * SZ_4K, GUESTMEM_PRIVATE, &bad),
			 -ENOMEM);
	ck_assert_ptr_nonnull(strstr(guestmem_last_error(), "KVM_SET_MEMORY_ATTRIBUTES2"));
	assert_same_as_kernel(f, SZ_2M);
	finish(pool, f);
}
END_TEST

/* A punch frees what it covers, but a pinned page stays, zeroed. */
START_TEST(test_punch_keeps_pinned)
{
	struct guestmem_pool *pool = kvm_test_pool(2);
	struct guestmem_file *f = inplace_file(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	unsigned char *hva = guestmem_file_hva(f);
	struct guestmem_page pg;
	unsigned int i;

	memset(hva, 0x77, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_pin(f, 3 * SZ_4K, &pg), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 2 * SZ_2M), 0);
	/* The pinned page was zeroed in place, not punched out. */
	for (i = 0; i < fk.punches; i++)
		ck_assert_msg(fk.punched[i][0] + fk.punched[i][1] <= 3 * SZ_4K ||
			      fk.punched[i][0] >= 4 * SZ_4K, "punch %#llx+%#llx covers the pinned page",
			      (unsigned long long)fk.punched[i][0],
			      (unsigned long long)fk.punched[i][1]);
	ck_assert_uint_ge(fk.punches, 3);	/* around it, and huge page 1 */
	ck_assert_uint_eq(hva[0], 0);
	ck_assert_uint_eq(((unsigned char *)pg.addr)[0], 0);
	ck_assert_uint_eq(hva[4 * SZ_4K], 0);
	ck_assert_uint_eq(hva[SZ_2M + 1], 0);
	/* The pinned page's memory is still there: written, read back. */
	((unsigned char *)pg.addr)[1] = 0x42;
	ck_assert_uint_eq(hva[3 * SZ_4K + 1], 0x42);
	assert_state(f, 0, GUESTMEM_SHARED, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_4K, 2 * SZ_2M), -ERANGE);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 3 * SZ_2M), -ERANGE);
	finish(pool, f);
}
END_TEST

START_TEST(test_bind)
{
	struct guestmem_pool *pool = kvm_test_pool(4);
	struct guestmem_file *f = inplace_file(pool, 4 * SZ_2M, 0);
	struct guestmem_kvm_slot s;
	uint64_t gpa = UINT64_C(1) << 32;

	ck_assert_int_eq(guestmem_kvm_bind(f, SZ_2M, 2 * SZ_2M, gpa + SZ_2M, &s), 0);
	ck_assert_uint_eq(s.mode, GUESTMEM_KVM_INPLACE);
	ck_assert_int_eq(s.guest_memfd, fk.gmem_fd);
	ck_assert_uint_eq(s.guest_memfd_offset, SZ_2M);
	ck_assert_uint_eq(s.flags, KVM_MEM_GUEST_MEMFD);
	ck_assert_uint_eq(s.userspace_addr, (uintptr_t)guestmem_file_hva(f) + SZ_2M);
	/* Conversions go to the file (the fake aborts on the VM's attributes). */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_2M, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(guestmem_kvm_unbind(f, SZ_2M), 0);
	finish(pool, f);
}
END_TEST

/* NULL where the header says -EINVAL: refused, nothing pinned. */
START_TEST(test_null_arguments)
{
	struct guestmem_pool *pool = kvm_test_pool(1);
	struct guestmem_file *f = inplace_file(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	uint64_t run;

	ck_assert_int_eq(guestmem_state(f, 0, NULL, &run), -EINVAL);
	ck_assert_int_eq(guestmem_pin(f, SZ_4K, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_unpin(f, NULL), -EINVAL);
	finish(pool, f);		/* -EBUSY if the pin were taken */
}
END_TEST

static Suite *kvm_inplace_suite(void)
{
	Suite *s = suite_create("kvm_inplace");
	TCase *tc = tcase_create("inplace_fake_kvm");

	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_failed_create_changes_nothing);
	tcase_add_test(tc, test_kernel_pool_short);
	tcase_add_test(tc, test_convert_keeps_contents);
	tcase_add_test(tc, test_zero_on_convert);
	tcase_add_test(tc, test_pins);
	tcase_add_test(tc, test_kernel_eagain);
	tcase_add_test(tc, test_punch_keeps_pinned);
	tcase_add_test(tc, test_bind);
	tcase_add_test(tc, test_null_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kvm_inplace_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
