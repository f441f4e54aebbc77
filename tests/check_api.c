// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The public API's contract: every function, every documented error, the
 * pool-too-small message, real 2M and 1G hugetlb pages (reserved here when
 * root, skipped with the reason otherwise) with the kernel's free_hugepages
 * back to its starting value, NUMA placement, and threads converting,
 * pinning and punching one file at once.
 *
 * KVM modes: "check_api --kvm-mode split" or "check_api --kvm-mode
 * inplace" runs the same suite on KVM files.  Every file it makes then
 * comes from guestmem_kvm_file_create() in that mode, for a
 * KVM_X86_SW_PROTECTED_VM of the test's own process (made at its first
 * file: Check forks a child per test, and KVM refuses a VM fd to any
 * process but its maker), and is bound whole into a memory slot of its
 * own (guestmem_kvm_bind() and KVM_SET_USER_MEMORY_REGION2, at a 1G
 * aligned guest address), which is deleted before the file is destroyed
 * (api_file_create(), api_file_destroy()).  The contract is the same in
 * every mode except where include/guestmem.h says a mode differs: there
 * the expectation follows the mode (see the MODE: comments, which cite
 * the header's rule).  Where the machine cannot run the mode (no /dev/kvm,
 * no KVM_X86_SW_PROTECTED_VM, the mode not offered, or for in-place files
 * too few free 2M pages in the kernel's hugetlb pool) the suite prints why
 * and exits 77 (skipped); with --require that is a failure instead.
 * Without --kvm-mode the files are plain (guestmem_file_create()): make
 * check runs it so, and tests/check_api_kvm.sh runs split mode where
 * /dev/kvm exists; the kernel rig runs both modes (rig/tests.list).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <guestmem.h>
#include "hugetlb_env.h"
#include "kvm_uapi.h"
#include "kvm_test_vm.h"

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M
#define SZ_1G	GUESTMEM_PAGE_1G

#define EXIT_SKIP	77

/* ---- the mode of the run: plain files, or KVM files (--kvm-mode) ---- */

/* 0: plain files; else GUESTMEM_KVM_SPLIT or GUESTMEM_KVM_INPLACE. */
static unsigned int kvm_mode;

static bool split_mode(void)
{
	return kvm_mode == GUESTMEM_KVM_SPLIT;
}

static bool inplace_mode(void)
{
	return kvm_mode == GUESTMEM_KVM_INPLACE;
}

/*
 * Free 2M pages the kernel's hugetlb pool must have for the suite in
 * in-place mode: its pools must be on hugetlb (a pool on ordinary memory
 * has no huge page to lend a file), and the largest takes 8
 * (test_threads_share_a_file).  test_real_hugetlb_2m reserves its own.
 */
#define INPLACE_NEED_2M	8

#define MAX_SLOTS	16		/* files alive at once in one test */

/* A file's memory slot, as made (and made again) with the region2 ioctl. */
struct api_slot {
	struct guestmem_file *f;	/* NULL: free */
	struct gm_kvm_userspace_memory_region2 r;
};

/*
 * The VM of the test process and the memory slots of its files.  Files get
 * guest addresses from 1G up, each 1G aligned (so that guestmem_kvm_bind()
 * takes a file of 1G pages too), and the addresses are used again once
 * every file is gone.
 */
static struct {
	pid_t pid;			/* the process that made @fd */
	int fd;
	uint64_t next_gpa;
	struct api_slot slots[MAX_SLOTS];
} vm = { .fd = -1 };

static int create_vm(int kvm_fd)
{
	return kvm_test_create_vm(kvm_fd, KVM_X86_SW_PROTECTED_VM);
}

/* The test process's VM, made at its first use in the process. */
static int test_vm(void)
{
	int kvm_fd, fd;

	if (vm.fd >= 0 && vm.pid == getpid())
		return vm.fd;
	if (vm.fd >= 0)
		close(vm.fd);		/* the parent's: KVM would refuse it */
	memset(&vm, 0, sizeof(vm));
	vm.fd = -1;
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_msg(kvm_fd >= 0, "/dev/kvm: %s", strerror(errno));
	fd = create_vm(kvm_fd);
	close(kvm_fd);
	ck_assert_msg(fd >= 0, "KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM): %s", strerror(-fd));
	vm.fd = fd;
	vm.pid = getpid();
	vm.next_gpa = SZ_1G;
	return fd;
}

static int set_region(const struct gm_kvm_userspace_memory_region2 *r)
{
	return ioctl(vm.fd, GM_KVM_SET_USER_MEMORY_REGION2, r) ? -errno : 0;
}

/*
 * guestmem_file_create() in the run's mode: a plain file, or a KVM file of
 * the test process's VM, bound whole into a memory slot of its own.  The
 * same arguments, errors and guestmem_last_error() as the call it stands
 * for (a failed guestmem_kvm_file_create() is returned as it is).
 */
static int api_file_create(struct guestmem_pool *pool, uint64_t size, uint64_t flags,
			   struct guestmem_file **filep)
{
	struct guestmem_kvm_slot ks;
	struct api_slot *s = NULL;
	unsigned int mode = 0, i;
	uint64_t gpa;
	int err;

	if (!kvm_mode)
		return guestmem_file_create(pool, size, flags, filep);
	err = guestmem_kvm_file_create(pool, test_vm(), size, flags, kvm_mode, &mode, filep);
	if (err)
		return err;
	ck_assert_uint_eq(mode, kvm_mode);
	for (i = 0; i < MAX_SLOTS && !s; i++)
		if (!vm.slots[i].f)
			s = &vm.slots[i];
	ck_assert_msg(s, "more than %d files at once", MAX_SLOTS);
	gpa = (vm.next_gpa + SZ_1G - 1) & ~(SZ_1G - 1);
	err = guestmem_kvm_bind(*filep, 0, size, gpa, &ks);
	ck_assert_msg(!err, "kvm_bind: %d: %s", err, guestmem_last_error());
	ck_assert_uint_eq(ks.mode, kvm_mode);
	s->r = (struct gm_kvm_userspace_memory_region2){
		.slot = (uint32_t)(s - vm.slots), .flags = ks.flags,
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = ks.userspace_addr,
		.guest_memfd_offset = ks.guest_memfd_offset,
		.guest_memfd = (uint32_t)ks.guest_memfd,
	};
	err = set_region(&s->r);
	ck_assert_msg(!err, "KVM_SET_USER_MEMORY_REGION2: %s", strerror(-err));
	s->f = *filep;
	vm.next_gpa = gpa + size;
	return 0;
}

/*
 * guestmem_file_destroy(), deleting the file's memory slot first, as
 * guestmem_kvm_file_create() asks.  If the destroy fails (-EBUSY: pins
 * left) the file lives on and gets its slot back; only KVM is called
 * after the destroy, so guestmem_last_error() is still the destroy's.
 */
static int api_file_destroy(struct guestmem_file *f)
{
	struct gm_kvm_userspace_memory_region2 del = { 0 };
	struct api_slot *s = NULL;
	unsigned int i, left = 0;
	int err;

	for (i = 0; f && vm.fd >= 0 && vm.pid == getpid() && i < MAX_SLOTS; i++)
		if (vm.slots[i].f == f)
			s = &vm.slots[i];
	if (!s)
		return guestmem_file_destroy(f);
	del.slot = s->r.slot;		/* size 0: delete */
	err = set_region(&del);
	ck_assert_msg(!err, "deleting memory slot %u: %s", del.slot, strerror(-err));
	err = guestmem_file_destroy(f);
	if (err) {
		ck_assert_int_eq(set_region(&s->r), 0);
		return err;
	}
	s->f = NULL;
	for (i = 0; i < MAX_SLOTS; i++)
		left += vm.slots[i].f != NULL;
	if (!left)
		vm.next_gpa = SZ_1G;
	return 0;
}

/* The kernel's 2M hugetlb counters: where in-place files take memory. */
static struct guestmem_hugetlb_info kernel_2m(void)
{
	struct guestmem_hugetlb_info h;

	ck_assert_int_eq(guestmem_hugetlb_info(SZ_2M, -1, &h, sizeof(h)), 0);
	return h;
}

/*
 * In-place mode: the kernel's 2M pool has as many pages for others as it
 * had at @before, now that the test's files are gone ("punched huge pages
 * go back to the kernel", enum guestmem_kvm_mode, and so do a destroyed
 * file's and its reservation; the pool took back the pages it lent, which
 * it may now hold faulted in where they were only reserved before).
 * Nothing to check in the other modes.
 */
static void assert_kernel_whole(const struct guestmem_hugetlb_info *before)
{
	struct guestmem_hugetlb_info h;

	if (!inplace_mode())
		return;
	h = kernel_2m();
	ck_assert_uint_eq(h.free - h.reserved, before->free - before->reserved);
}

static sigjmp_buf bus_env;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_env, 1);
}

/* Whether reading @p raises SIGBUS. */
static bool read_faults(const volatile unsigned char *p)
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

static struct guestmem_pool *pool_of(uint64_t page_size, uint64_t nr, uint64_t flags)
{
	struct guestmem_pool_opts o = {
		.page_size = page_size, .nr_pages = nr, .node = -1, .flags = flags,
	};
	struct guestmem_pool *pool = NULL;
	int err = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!err, "pool_create: %d: %s", err, guestmem_last_error());
	return pool;
}

/*
 * A pool for the contract tests: hugetlb pages when the machine has them
 * free, ordinary memory otherwise.  The contract is the same on both.
 */
static struct guestmem_pool *fallback_pool(uint64_t nr)
{
	return pool_of(SZ_2M, nr, GUESTMEM_POOL_FALLBACK);
}

static void assert_pool_whole(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.free, st.total);
	ck_assert_uint_eq(st.reserved, 0);
	ck_assert_uint_eq(st.in_use, 0);
	ck_assert_uint_eq(st.pending, 0);
}

START_TEST(test_pool_create_errors)
{
	struct guestmem_pool_opts o = { .page_size = SZ_2M, .nr_pages = 1, .node = -1 };
	struct guestmem_pool *pool = NULL;

	o.page_size = SZ_4K;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	ck_assert(strstr(guestmem_last_error(), "page_size"));
	o.page_size = SZ_2M;
	o.nr_pages = 0;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	o.nr_pages = 1;
	o.flags = 1 << 7;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	o.flags = 0;
	o.node = 4096;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	o.node = -2;
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -EINVAL);
	ck_assert_int_eq(guestmem_pool_create(NULL, &pool), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(guestmem_pool_destroy(NULL), -EINVAL);
}
END_TEST

START_TEST(test_pool_too_small_says_how_to_fix)
{
	struct guestmem_pool_opts o = { .page_size = SZ_2M, .nr_pages = 1 << 14, .node = -1 };
	struct guestmem_pool *pool = NULL;
	const char *msg;

	ck_assert_int_eq(guestmem_pool_create(&o, &pool), -ENOMEM);
	ck_assert_ptr_null(pool);
	msg = guestmem_last_error();
	printf("pool too small: %s\n", msg);
	ck_assert_msg(strstr(msg, "need 16384 free 2M pages") || strstr(msg, "offers no"),
		      "message: %s", msg);
	if (!strstr(msg, "offers no"))
		ck_assert_msg(strstr(msg, "echo ") &&
			      strstr(msg, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"),
			      "message: %s", msg);
}
END_TEST

START_TEST(test_backends_reported)
{
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool = fallback_pool(4);

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.page_size, SZ_2M);
	ck_assert_uint_eq(st.total, 4);
	ck_assert_int_eq(st.node, -1);
	ck_assert_uint_ne(st.backend, GUESTMEM_BACKEND_SIMULATED);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);

	/* 64 GiB of address space: small enough for sanitizer address layouts. */
	pool = pool_of(SZ_1G, 64, GUESTMEM_POOL_SIMULATE);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.backend, GUESTMEM_BACKEND_SIMULATED);
	ck_assert_uint_eq(st.total, 64);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_file_lifecycle_and_errors)
{
	struct guestmem_pool *pool = fallback_pool(4);
	struct guestmem_file *f = NULL, *g = NULL;
	struct guestmem_pool_stats st;

	ck_assert_int_eq(api_file_create(pool, 0, 0, &f), -EINVAL);
	ck_assert_int_eq(api_file_create(pool, SZ_2M + SZ_4K, 0, &f), -EINVAL);
	ck_assert_int_eq(api_file_create(pool, SZ_2M, 1 << 5, &f), -EINVAL);
	/*
	 * MODE: an in-place file's pages come out of the pool too: "a
	 * hugetlb pool lends the kernel that many of its free pages"
	 * (guestmem_kvm_file_create()), or fails with -ENOMEM.
	 */
	ck_assert_int_eq(api_file_create(pool, 5 * SZ_2M, 0, &f), -ENOMEM);
	ck_assert(strstr(guestmem_last_error(), inplace_mode() ? "cannot lend" : "cannot reserve"));
	ck_assert_ptr_null(f);

	ck_assert_int_eq(api_file_create(pool, 3 * SZ_2M, 0, &f), 0);
	ck_assert_ptr_nonnull(guestmem_file_hva(f));
	ck_assert_uint_eq((uintptr_t)guestmem_file_hva(f) % SZ_2M, 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	/* MODE: lent pages are "in use in its stats" (guestmem_kvm_file_create()). */
	ck_assert_uint_eq(inplace_mode() ? st.in_use : st.reserved, 3);
	ck_assert_uint_eq(st.free, 1);
	ck_assert_int_eq(api_file_create(pool, 2 * SZ_2M, 0, &g), -ENOMEM);
	ck_assert_int_eq(guestmem_pool_destroy(pool), -EBUSY);
	ck_assert_int_eq(api_file_destroy(f), 0);
	ck_assert_int_eq(api_file_destroy(NULL), -EINVAL);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_hva_is_the_memory)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_file *f;
	struct guestmem_page pg;
	unsigned char *hva;

	ck_assert_int_eq(api_file_create(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	hva = guestmem_file_hva(f);
	hva[SZ_2M + 3 * SZ_4K + 9] = 0xab;
	hva[SZ_2M + 17] = 0x5a;			/* in the page converted below */
	ck_assert_int_eq(guestmem_pin(f, SZ_2M + 3 * SZ_4K, &pg), 0);
	/* The pin's address is its own mapping of the same memory. */
	ck_assert_uint_eq(((unsigned char *)pg.addr)[9], 0xab);
	/*
	 * MODE: in-place pins are the library's, and "@page->addr is
	 * guestmem_file_hva() + @offset" (guestmem_pin()).
	 */
	if (inplace_mode())
		ck_assert_ptr_eq(pg.addr, hva + SZ_2M + 3 * SZ_4K);
	((unsigned char *)pg.addr)[10] = 0xcd;
	ck_assert_uint_eq(hva[SZ_2M + 3 * SZ_4K + 10], 0xcd);
	ck_assert_uint_eq(pg.max_order, 9);
	ck_assert_uint_eq(pg.state, GUESTMEM_SHARED);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	/* A conversion splits in place: the data stays at the same address. */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_uint_eq(hva[SZ_2M + 3 * SZ_4K + 9], 0xab);
	/*
	 * MODE: in-place, "host access to private memory raises SIGBUS"
	 * (enum guestmem_kvm_mode).  Split mode: the host "must not touch
	 * private memory", so nothing reads it here.
	 */
	if (inplace_mode())
		ck_assert_msg(read_faults(hva + SZ_2M), "the host read private memory");
	/*
	 * And back.  Data stays in place (guestmem_convert()), except in
	 * split mode, MODE: "a converted page reads as zero on its new side"
	 * (GUESTMEM_KVM_SPLIT).  In-place mode keeps it.
	 */
	ck_assert_int_eq(guestmem_convert(f, SZ_2M, SZ_4K, GUESTMEM_SHARED, NULL), 0);
	ck_assert_uint_eq(hva[SZ_2M + 17], split_mode() ? 0 : 0x5a);
	ck_assert_int_eq(api_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_convert_state_pin_contract)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_page pg, priv;
	struct guestmem_file_stats fs;
	struct guestmem_file *f;
	uint64_t bad = 0, run;
	unsigned int state;

	ck_assert_int_eq(api_file_create(pool, 2 * SZ_2M, 0, &f), 0);
	ck_assert_int_eq(guestmem_state(f, 0, &state, &run), 0);
	ck_assert_uint_eq(state, GUESTMEM_PRIVATE);
	ck_assert_uint_eq(run, 2 * SZ_2M);
	ck_assert_int_eq(guestmem_state(f, 2 * SZ_2M, &state, &run), -ERANGE);
	ck_assert_int_eq(guestmem_state(f, 7, &state, &run), -EINVAL);
	ck_assert_int_eq(guestmem_state(f, 0, NULL, &run), -EINVAL);
	ck_assert_int_eq(guestmem_state(NULL, 0, &state, &run), -EINVAL);

	ck_assert_int_eq(guestmem_convert(f, 8 * SZ_4K, 8 * SZ_4K, GUESTMEM_SHARED, &bad), 0);
	ck_assert_int_eq(guestmem_state(f, 8 * SZ_4K, &state, &run), 0);
	ck_assert_uint_eq(state, GUESTMEM_SHARED);
	ck_assert_uint_eq(run, 8 * SZ_4K);
	ck_assert_int_eq(guestmem_convert(f, 0, SZ_4K, 5, &bad), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 1, SZ_4K, GUESTMEM_SHARED, &bad), -EINVAL);
	ck_assert_int_eq(guestmem_convert(f, 0, 3 * SZ_2M, GUESTMEM_SHARED, &bad), -ERANGE);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, UINT64_MAX & ~(SZ_4K - 1),
					  GUESTMEM_SHARED, &bad), -ERANGE);

	/* Pins: shared pages only; a pinned page refuses to become private. */
	ck_assert_int_eq(guestmem_pin(f, 0, &priv), -EPERM);
	ck_assert(strstr(guestmem_last_error(), "private"));
	ck_assert_int_eq(guestmem_pin(f, 10 * SZ_4K + 1, &pg), -EINVAL);
	ck_assert_int_eq(guestmem_pin(f, 2 * SZ_2M, &pg), -ERANGE);
	ck_assert_int_eq(guestmem_pin(f, 11 * SZ_4K, NULL), -EINVAL);
	ck_assert_int_eq(guestmem_pin(f, 11 * SZ_4K, &pg), 0);
	ck_assert_uint_eq(pg.max_order, 0);
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), -EAGAIN);
	/* Pages 8..15 are shared; page 11 is pinned: the first offending one. */
	ck_assert_uint_eq(bad, 11 * SZ_4K);
	ck_assert(strstr(guestmem_last_error(), "0xb000"));
	ck_assert_int_eq(guestmem_state(f, 8 * SZ_4K, &state, &run), 0);
	ck_assert_uint_eq(state, GUESTMEM_SHARED);
	ck_assert_int_eq(api_file_destroy(f), -EBUSY);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_unpin(f, &pg), -EINVAL);
	ck_assert(strstr(guestmem_last_error(), "not pinned"));
	ck_assert_int_eq(guestmem_convert(f, 0, 2 * SZ_2M, GUESTMEM_PRIVATE, &bad), 0);

	ck_assert_int_eq(guestmem_file_stats(f, &fs, sizeof(fs)), 0);
	ck_assert_uint_eq(fs.size, 2 * SZ_2M);
	ck_assert_uint_eq(fs.private_bytes, 2 * SZ_2M);
	ck_assert_uint_eq(fs.shared_bytes, 0);
	ck_assert_uint_eq(fs.split_pages, 0);
	ck_assert_uint_eq(fs.kvm_mode, kvm_mode);
	if (split_mode()) {
		/*
		 * MODE: "A huge page whose pages are all private goes back to
		 * the pool" (GUESTMEM_KVM_SPLIT): the one the pin allocated,
		 * counted in kvm_returned, not in allocated.
		 */
		ck_assert_uint_eq(fs.allocated, 0);
		ck_assert_uint_eq(fs.huge_mappable, 0);
		ck_assert_uint_eq(fs.kvm_returned, SZ_2M);
	} else if (inplace_mode()) {
		/*
		 * MODE: an in-place file's "@allocated is 0; @huge_mappable and
		 * @split_pages count every huge page of the file, allocated or
		 * not" (struct guestmem_file_stats): both, merged again.
		 */
		ck_assert_uint_eq(fs.allocated, 0);
		ck_assert_uint_eq(fs.huge_mappable, 2 * SZ_2M);
		ck_assert_uint_eq(fs.kvm_returned, 0);
	} else {
		ck_assert_uint_eq(fs.allocated, SZ_2M);
		ck_assert_uint_eq(fs.huge_mappable, SZ_2M);
		ck_assert_uint_eq(fs.kvm_returned, 0);
	}
	ck_assert_int_eq(api_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_unpin_copies_and_foreign_handles)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_page pg, copy;
	struct guestmem_file *f, *g;

	ck_assert_int_eq(api_file_create(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(api_file_create(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &g), 0);
	ck_assert_int_eq(guestmem_pin(f, SZ_4K, &pg), 0);
	copy = pg;
	/* A handle belongs to its file. */
	ck_assert_int_eq(guestmem_unpin(g, &pg), -EINVAL);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	/* A copy of an unpinned handle is not a pin any more. */
	ck_assert_int_eq(guestmem_unpin(f, &copy), -EINVAL);
	ck_assert_int_eq(api_file_destroy(f), 0);
	ck_assert_int_eq(api_file_destroy(g), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_prefault_any_thread_count)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .node = -1,
		.flags = GUESTMEM_POOL_PREFAULT | GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool *pool;
	unsigned int threads;

	/* Pages that do not divide evenly between threads, and more threads than pages. */
	for (o.nr_pages = 1; o.nr_pages <= 7; o.nr_pages += 2) {
		for (threads = 0; threads <= 9; threads += 3) {
			o.threads = threads;
			ck_assert_msg(!guestmem_pool_create(&o, &pool), "%llu pages, %u threads: %s",
				      (unsigned long long)o.nr_pages, threads,
				      guestmem_last_error());
			ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
		}
	}
}
END_TEST

START_TEST(test_punch_returns_pages_and_stats)
{
	struct guestmem_pool *pool = fallback_pool(4);
	struct guestmem_hugetlb_info h0 = { 0 };
	struct guestmem_file_stats fs;
	struct guestmem_pool_stats st;
	struct guestmem_file *f;

	if (inplace_mode())
		h0 = kernel_2m();
	ck_assert_int_eq(api_file_create(pool, 4 * SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, 4 * SZ_2M), 0);
	if (inplace_mode())
		ck_assert_uint_eq(kernel_2m().free, h0.free - 4);
	ck_assert_int_eq(guestmem_convert(f, SZ_4K, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 3 * SZ_2M + SZ_4K), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_int_eq(guestmem_file_stats(f, &fs, sizeof(fs)), 0);
	ck_assert_uint_eq(st.pending, 0);
	if (!inplace_mode()) {
		ck_assert_uint_eq(st.in_use, 1);
		ck_assert_uint_eq(st.reserved, 3);
		ck_assert_uint_ge(st.splits, 1);
		ck_assert_uint_eq(fs.allocated, SZ_2M);
	} else {
		/*
		 * MODE: in-place memory is a guest_memfd's, "punched huge
		 * pages go back to the kernel" (enum guestmem_kvm_mode): the
		 * pool lent the file's four pages ("in use", guestmem_kvm_file_create()),
		 * the kernel holds the one huge page left.  Its splits are
		 * the kernel's, which the pool's counter does not see: not
		 * asserted.  "@split_pages count
		 * every huge page of the file, allocated or not, by how the
		 * kernel splits it" (struct guestmem_file_stats): page 0,
		 * mixed and punched, is still split.
		 */
		ck_assert_uint_eq(st.in_use, 4);
		ck_assert_uint_eq(st.reserved, 0);
		ck_assert_uint_eq(kernel_2m().free, h0.free - 1);
		ck_assert_uint_eq(fs.allocated, 0);
		ck_assert_uint_eq(fs.split_pages, 1);
	}
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 0), -EINVAL);
	ck_assert_int_eq(guestmem_allocate(f, 0, 5 * SZ_2M), -ERANGE);
	ck_assert_int_eq(api_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	if (!inplace_mode())
		ck_assert_uint_ge(st.splits, 1);
	assert_pool_whole(pool);
	assert_kernel_whole(&h0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

static void *error_in_thread(void *arg)
{
	struct guestmem_pool *pool = NULL;
	struct guestmem_pool_opts o = { .page_size = 3, .nr_pages = 1, .node = -1 };

	(void)arg;
	guestmem_pool_create(&o, &pool);
	return strdup(guestmem_last_error());
}

/*
 * Stats structures of other sizes: a caller built against the first
 * version's header (smaller structure) gets its fields and not one byte
 * more; a caller built against a newer one gets zeroes past ours; below
 * the first version is -EINVAL.  Guard bytes of 0xa5 catch an overrun.
 */
struct old_pool_stats {		/* struct guestmem_pool_stats of LIBGUESTMEM_0.1 */
	uint64_t page_size, total, free, reserved, in_use, pending, splits, merges;
	unsigned int backend;
	int node;
};

union stats_buf {
	unsigned char b[512];
	struct guestmem_pool_stats p;
	struct guestmem_file_stats f;
	struct old_pool_stats o;
};

static void assert_guard(const union stats_buf *u, size_t from)
{
	size_t i;

	for (i = from; i < sizeof(u->b); i++)
		ck_assert_msg(u->b[i] == 0xa5, "byte %zu past a %zu-byte structure written",
			      i, from);
}

/*
 * A stats call wrote @size bytes to @u: the first of them as in @ref (the
 * library's structure, @ref_size bytes), zeroes past @ref_size, and not
 * one byte past @size.
 */
static void assert_written(const union stats_buf *u, const void *ref, size_t ref_size,
			   size_t size)
{
	size_t i;

	ck_assert_int_eq(memcmp(u->b, ref, size < ref_size ? size : ref_size), 0);
	for (i = ref_size; i < size; i++)
		ck_assert_uint_eq(u->b[i], 0);
	assert_guard(u, size);
}

START_TEST(test_stats_sizes)
{
	struct guestmem_pool *pool = fallback_pool(2);
	struct guestmem_pool_stats ref;
	struct guestmem_file_stats fref;
	struct guestmem_file *f = NULL;
	union stats_buf u;

	ck_assert_uint_eq(sizeof(struct old_pool_stats), GUESTMEM_POOL_STATS_SIZE_VER0);
	ck_assert_int_eq(api_file_create(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &ref, sizeof(ref)), 0);
	ck_assert_int_eq(guestmem_file_stats(f, &fref, sizeof(fref)), 0);
	/* In-place too: the pool lent the file its page (guestmem_kvm_file_create()). */
	ck_assert_uint_eq(ref.in_use, 1);

	/*
	 * The first versions' structures: their fields, nothing past them;
	 * newer, longer ones: ours, then zeroes up to their size.
	 */
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, GUESTMEM_POOL_STATS_SIZE_VER0), 0);
	assert_written(&u, &ref, sizeof(ref), sizeof(u.o));
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, sizeof(ref) + 64), 0);
	assert_written(&u, &ref, sizeof(ref), sizeof(ref) + 64);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_file_stats(f, &u.f, GUESTMEM_FILE_STATS_SIZE_VER0), 0);
	assert_written(&u, &fref, sizeof(fref), GUESTMEM_FILE_STATS_SIZE_VER0);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_file_stats(f, &u.f, sizeof(fref) + 8), 0);
	assert_written(&u, &fref, sizeof(fref), sizeof(fref) + 8);

	/* Smaller than any version: refused, nothing written. */
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, GUESTMEM_POOL_STATS_SIZE_VER0 - 8),
			 -EINVAL);
	ck_assert_int_eq(guestmem_file_stats(f, &u.f, GUESTMEM_FILE_STATS_SIZE_VER0 - 1),
			 -EINVAL);
	ck_assert_int_eq(guestmem_pool_stats(pool, &u.p, 0), -EINVAL);
	ck_assert_int_eq(guestmem_pool_stats(pool, NULL, sizeof(ref)), -EINVAL);
	ck_assert_int_eq(guestmem_file_stats(f, NULL, sizeof(fref)), -EINVAL);
	assert_guard(&u, 0);

	ck_assert_int_eq(api_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/*
 * A binary linked against LIBGUESTMEM_0.1 calls the stats functions
 * without a size: the shared library keeps those versions, which write
 * the first version's structures.  Skipped when linked statically.
 */
START_TEST(test_stats_old_binaries)
{
	int (*pool_v01)(struct guestmem_pool *, struct guestmem_pool_stats *);
	int (*file_v01)(struct guestmem_file *, struct guestmem_file_stats *);
	struct guestmem_pool *pool;
	struct guestmem_file_stats fref;
	struct guestmem_pool_stats ref;
	struct guestmem_file *f = NULL;
	union stats_buf u;

	*(void **)&pool_v01 = dlvsym(RTLD_DEFAULT, "guestmem_pool_stats", "LIBGUESTMEM_0.1");
	*(void **)&file_v01 = dlvsym(RTLD_DEFAULT, "guestmem_file_stats", "LIBGUESTMEM_0.1");
	if (!pool_v01 && !file_v01 && !dlvsym(RTLD_DEFAULT, "guestmem_pool_create",
					     "LIBGUESTMEM_0.1")) {
		fprintf(stderr, "test_stats_old_binaries: SKIP: libguestmem linked statically\n");
		return;
	}
	ck_assert_ptr_nonnull(pool_v01);
	ck_assert_ptr_nonnull(file_v01);
	ck_assert_ptr_ne(*(void **)&pool_v01,
			 dlvsym(RTLD_DEFAULT, "guestmem_pool_stats", "LIBGUESTMEM_0.2"));

	pool = fallback_pool(1);
	ck_assert_int_eq(api_file_create(pool, SZ_2M, 0, &f), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &ref, sizeof(ref)), 0);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(pool_v01(pool, &u.p), 0);
	assert_written(&u, &ref, sizeof(ref), GUESTMEM_POOL_STATS_SIZE_VER0);
	ck_assert_int_eq(guestmem_file_stats(f, &fref, sizeof(fref)), 0);
	memset(&u, 0xa5, sizeof(u));
	ck_assert_int_eq(file_v01(f, &u.f), 0);
	ck_assert_uint_eq(u.f.size, SZ_2M);
	assert_written(&u, &fref, sizeof(fref), GUESTMEM_FILE_STATS_SIZE_VER0);
	ck_assert_int_eq(api_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

START_TEST(test_last_error_is_per_thread)
{
	pthread_t t;
	char *other;

	guestmem_pool_destroy(NULL);
	ck_assert(strstr(guestmem_last_error(), "NULL pool"));
	pthread_create(&t, NULL, error_in_thread, NULL);
	pthread_join(t, (void **)&other);
	ck_assert(strstr(other, "page_size"));
	ck_assert(strstr(guestmem_last_error(), "NULL pool"));
	free(other);
}
END_TEST

/* ---- real hugetlb pages, reserved here when root ---- */

static void exercise(struct guestmem_pool *pool, uint64_t page, uint64_t nr)
{
	struct guestmem_file *f;
	struct guestmem_page pg;
	struct guestmem_pool_stats st;
	unsigned char *hva;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.backend, GUESTMEM_BACKEND_HUGETLB);
	ck_assert_int_eq(api_file_create(pool, nr * page, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, nr * page), 0);
	hva = guestmem_file_hva(f);
	hva[page - 1] = 0x3c;
	ck_assert_int_eq(guestmem_convert(f, page / 2, SZ_4K, GUESTMEM_PRIVATE, NULL), 0);
	ck_assert_int_eq(guestmem_pin(f, page - SZ_4K, &pg), 0);
	ck_assert_uint_eq(((unsigned char *)pg.addr)[SZ_4K - 1], 0x3c);
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_convert(f, 0, page, GUESTMEM_SHARED, NULL), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, page), 0);
	ck_assert_int_eq(api_file_destroy(f), 0);
	assert_pool_whole(pool);
}

static void real_hugetlb(uint64_t page, unsigned long kb, uint64_t nr)
{
	struct guestmem_pool *pool;
	struct hugetlb_env e;
	/* In-place too: the pool lends its pages to the file's guest_memfd. */
	long need = (long)nr;

	if (!hugetlb_env_reserve(&e, kb, need)) {
		hugetlb_env_restore(&e);
		return;
	}
	pool = pool_of(page, nr, GUESTMEM_POOL_PREFAULT);
	exercise(pool, page, nr);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	/* Other programs of a parallel make check take pages for moments. */
	ck_assert_int_eq(hugetlb_env_expect(&e, hugetlb_env_free, e.free_before), e.free_before);
	ck_assert(hugetlb_env_restore(&e));
	printf("real %lukB hugetlb: %ld pages used, free_hugepages back to %ld\n",
	       kb, need, e.free_before);
}

START_TEST(test_real_hugetlb_2m)
{
	real_hugetlb(SZ_2M, 2048, 8);
}
END_TEST

START_TEST(test_real_hugetlb_1g)
{
	real_hugetlb(SZ_1G, 1048576, 1);
}
END_TEST

START_TEST(test_numa_placement)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = 2, .node = 0,
		.flags = GUESTMEM_POOL_PREFAULT | GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool;

	if (numa_available() < 0) {
		printf("SKIP: NUMA is not available on this machine\n");
		return;
	}
	/* Node 0 always exists; placement there is bound and verified. */
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.node, 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	if (numa_max_node() < 1) {
		printf("SKIP: one NUMA node: placement on another node not testable\n");
		return;
	}
	o.node = numa_max_node();
	ck_assert_int_eq(guestmem_pool_create(&o, &pool), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* ---- threads converting, pinning and punching one file ---- */

struct stress {
	struct guestmem_file *f;
	unsigned int seed;
	unsigned long ops, eagain;
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	struct guestmem_page pins[4] = { 0 };
	unsigned long i;

	for (i = 0; i < 4000; i++) {
		uint64_t off = (uint64_t)(rand_r(&s->seed) % 2048) * SZ_4K;
		uint64_t len = (uint64_t)(1 + rand_r(&s->seed) % 64) * SZ_4K;
		struct guestmem_page *pg = &pins[rand_r(&s->seed) % 4];
		int err = 0;

		if (off + len > 4 * SZ_2M)
			len = 4 * SZ_2M - off;
		switch (rand_r(&s->seed) % 6) {
		case 0:
		case 1:
			err = guestmem_convert(s->f, off, len, rand_r(&s->seed) % 2, NULL);
			break;
		case 2:
			err = guestmem_punch_hole(s->f, off, len);
			break;
		case 3:
			err = guestmem_allocate(s->f, off, len);
			break;
		default:
			if (pg->_folio)
				err = guestmem_unpin(s->f, pg);
			else if (guestmem_pin(s->f, off, pg) == -EPERM)
				err = 0;
			break;
		}
		ck_assert_msg(!err || err == -EAGAIN, "op %lu: %d: %s", i, err,
			      guestmem_last_error());
		s->eagain += err == -EAGAIN;
		s->ops++;
	}
	for (i = 0; i < 4; i++)
		if (pins[i]._folio)
			ck_assert_int_eq(guestmem_unpin(s->f, &pins[i]), 0);
	return NULL;
}

START_TEST(test_threads_share_a_file)
{
	struct guestmem_pool *pool = fallback_pool(8);
	struct guestmem_hugetlb_info h0 = { 0 };
	struct stress s[4];
	pthread_t t[4];
	struct guestmem_file *f;
	unsigned long eagain = 0;
	int i;

	if (inplace_mode())
		h0 = kernel_2m();
	ck_assert_int_eq(api_file_create(pool, 4 * SZ_2M, GUESTMEM_FILE_INIT_SHARED, &f), 0);
	for (i = 0; i < 4; i++) {
		s[i] = (struct stress){ .f = f, .seed = 1234 + i };
		pthread_create(&t[i], NULL, stress_thread, &s[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		eagain += s[i].eagain;
	}
	printf("4 threads x 4000 operations on one file, %lu refused with -EAGAIN\n", eagain);
	ck_assert_int_eq(api_file_destroy(f), 0);
	assert_pool_whole(pool);
	assert_kernel_whole(&h0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create(split_mode() ? "api (KVM split mode)" :
				inplace_mode() ? "api (KVM in-place mode)" : "api");
	TCase *tc = tcase_create("contract");
	TCase *hw = tcase_create("hugetlb");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pool_create_errors);
	tcase_add_test(tc, test_pool_too_small_says_how_to_fix);
	tcase_add_test(tc, test_backends_reported);
	tcase_add_test(tc, test_file_lifecycle_and_errors);
	tcase_add_test(tc, test_hva_is_the_memory);
	tcase_add_test(tc, test_convert_state_pin_contract);
	tcase_add_test(tc, test_unpin_copies_and_foreign_handles);
	tcase_add_test(tc, test_prefault_any_thread_count);
	tcase_add_test(tc, test_punch_returns_pages_and_stats);
	tcase_add_test(tc, test_stats_sizes);
	tcase_add_test(tc, test_stats_old_binaries);
	tcase_add_test(tc, test_last_error_is_per_thread);
	tcase_add_test(tc, test_numa_placement);
	tcase_add_test(tc, test_threads_share_a_file);
	suite_add_tcase(s, tc);
	tcase_set_timeout(hw, 300);
	tcase_add_test(hw, test_real_hugetlb_2m);
	tcase_add_test(hw, test_real_hugetlb_1g);
	suite_add_tcase(s, hw);
	return s;
}

/* Why this machine cannot run the suite in @kvm_mode, or NULL if it can. */
static const char *kvm_skip_reason(char *buf, size_t len)
{
	const char *name = split_mode() ? "split" : "in-place";
	struct guestmem_hugetlb_info h;
	struct guestmem_kvm_caps c;
	const char *why;
	int kvm_fd, err;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		snprintf(buf, len, "/dev/kvm: %s", strerror(errno));
		return buf;
	}
	why = kvm_test_protected_caps(kvm_fd, &c, buf, len);
	close(kvm_fd);
	if (why)
		return why;
	if (!(c.offered & GUESTMEM_KVM_MODE_BIT(kvm_mode))) {
		snprintf(buf, len, "%s mode not offered (guest_memfd %llu, guest_memfd flags %#llx, guest_memfd attributes %#llx, attributes %#llx, region2 %llu)",
			 name, (unsigned long long)c.guest_memfd,
			 (unsigned long long)c.guest_memfd_flags,
			 (unsigned long long)c.guest_memfd_attributes,
			 (unsigned long long)c.attributes, (unsigned long long)c.user_memory2);
		return buf;
	}
	if (inplace_mode()) {
		err = guestmem_hugetlb_info(SZ_2M, -1, &h, sizeof(h));
		if (err || h.available < INPLACE_NEED_2M) {
			snprintf(buf, len, "in-place files need hugetlb pages (the pool lends its own to the kernel): %llu 2M pages available, the suite needs %d",
				 err ? 0ULL : (unsigned long long)h.available, INPLACE_NEED_2M);
			return buf;
		}
	}
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: check_api [--kvm-mode split|inplace [--require]]\n");
	return 2;
}

/*
 * check_api [--kvm-mode split|inplace [--require]]: see the top of this
 * file.  --require: where the mode must be there (the rig's booted
 * kernel), a reason to skip is a failure instead.
 */
int main(int argc, char **argv)
{
	bool require = false;
	SRunner *sr;
	char why[256];
	int failed, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kvm-mode") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "split"))
				kvm_mode = GUESTMEM_KVM_SPLIT;
			else if (!strcmp(argv[i], "inplace"))
				kvm_mode = GUESTMEM_KVM_INPLACE;
			else
				return usage();
		} else if (!strcmp(argv[i], "--require")) {
			require = true;
		} else {
			return usage();
		}
	}
	if (require && !kvm_mode)
		return usage();
	if (kvm_mode) {
		if (kvm_skip_reason(why, sizeof(why))) {
			printf("check_api: %s: %s\n", require ? "FAIL (--require)" : "SKIP", why);
			return require ? EXIT_FAILURE : EXIT_SKIP;
		}
		printf("check_api: KVM files (guestmem_kvm_file_create()) in %s mode, each in a memory slot of a KVM_X86_SW_PROTECTED_VM\n",
		       split_mode() ? "split" : "in-place");
		fflush(stdout);
	}
	sr = srunner_create(api_suite());
	/* The hugetlb cases change system state: never run two at once. */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
