// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for guest_memfd backed by hugetlb pages (GUEST_MEMFD_FLAG_HUGETLB).
 *
 * Every sub-test checks that the hugetlb pool counters of all huge page sizes
 * are back to their initial values once the guest_memfd (and the VM holding
 * it) is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/sizes.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "hugetlb_pool.h"
#include "kvm_util.h"
#include "test_util.h"
#include "ucall_common.h"

/*
 * Skip the first 4GiB: slot 0 holds the guest's code, stack and page tables,
 * and low memory has the PCI hole and other MMIO.  4GiB is aligned to every
 * huge page size tested here.
 */
#define TEST_GPA		SZ_4G
#define TEST_SLOT		1

#define GUEST_MAGIC		0x6775657374000000ull
#define HOST_MAGIC		0x686f737400000000ull

static size_t base_page_size;

/* The raw ioctl, as the library helpers set the flag with page_size. */
static void assert_create_fails(struct kvm_vm *vm, u64 size, u64 flags,
				u64 page_size, int err)
{
	struct kvm_create_guest_memfd args = {
		.size = size,
		.flags = flags,
		.page_size = page_size,
	};
	int fd = __vm_ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);

	TEST_ASSERT(fd < 0 && errno == err,
		    "guest_memfd(size 0x%llx, flags 0x%llx, page_size 0x%llx) should fail with %s, got %d (%s)",
		    (unsigned long long)size, (unsigned long long)flags,
		    (unsigned long long)page_size, strerror(err),
		    fd, fd < 0 ? strerror(errno) : "success");
}

static u64 supported_gmem_flags(struct kvm_vm *vm)
{
	return vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
}

static bool supports_mmap_shared(struct kvm_vm *vm)
{
	u64 flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

	return (supported_gmem_flags(vm) & flags) == flags;
}

static u64 pattern(size_t offset)
{
	return HOST_MAGIC | offset;
}

/*
 * Invalid arguments: a bad huge page size, a size that isn't a multiple of
 * it, and non-zero reserved fields with the flag.  Without the flag,
 * page_size (reserved[0] before it) is ignored, as it always was.
 */
static const char *test_create_invalid(void)
{
	const size_t ps = hugetlb_hstates[0].page_size;
	const u64 hugetlb = GUEST_MEMFD_FLAG_HUGETLB;
	struct kvm_create_guest_memfd args;
	struct hugetlb_pool base;
	struct kvm_vm *vm;
	size_t bad;
	int fd, i;

	hugetlb_pool_read(&base);
	vm = vm_create_barebones();

	/* Not a huge page size the kernel has. */
	assert_create_fails(vm, ps, hugetlb, 0, EINVAL);
	assert_create_fails(vm, ps, hugetlb, base_page_size, EINVAL);
	assert_create_fails(vm, 2 * (SZ_2M + SZ_1M), hugetlb, SZ_2M + SZ_1M,
			    EINVAL);
	assert_create_fails(vm, 2 * ps, hugetlb, ps + base_page_size, EINVAL);
	assert_create_fails(vm, 2 * ps, hugetlb, ps - 1, EINVAL);
	for (bad = 2 * base_page_size; bad <= 16ull * SZ_1G; bad <<= 1) {
		if (!hugetlb_hstate_find(bad))
			assert_create_fails(vm, bad, hugetlb, bad, EINVAL);
	}

	/* Size not a non-zero multiple of the huge page size. */
	assert_create_fails(vm, 0, hugetlb, ps, EINVAL);
	assert_create_fails(vm, base_page_size, hugetlb, ps, EINVAL);
	assert_create_fails(vm, ps / 2, hugetlb, ps, EINVAL);
	assert_create_fails(vm, ps + base_page_size, hugetlb, ps, EINVAL);
	assert_create_fails(vm, 2 * ps - base_page_size, hugetlb, ps, EINVAL);
	assert_create_fails(vm, ps + ps / 2, hugetlb, ps, EINVAL);

	/* With GUEST_MEMFD_FLAG_HUGETLB, every reserved field must be 0. */
	for (i = 0; i < ARRAY_SIZE(args.reserved); i++) {
		memset(&args, 0, sizeof(args));
		args.size = ps;
		args.flags = hugetlb;
		args.page_size = ps;
		args.reserved[i] = 1;
		fd = __vm_ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);
		TEST_ASSERT(fd < 0 && errno == EINVAL,
			    "reserved[%d] = 1 with GUEST_MEMFD_FLAG_HUGETLB should fail with EINVAL, got %d (%s)",
			    i, fd, fd < 0 ? strerror(errno) : "success");
	}

	/* Without it, page_size is ignored: an ordinary guest_memfd. */
	memset(&args, 0, sizeof(args));
	args.size = ps;
	args.page_size = ps;
	fd = __vm_ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);
	TEST_ASSERT(fd >= 0,
		    "page_size 0x%zx without GUEST_MEMFD_FLAG_HUGETLB should be ignored, got %s",
		    ps, strerror(errno));
	/* ... which takes no huge page. */
	hugetlb_pool_assert_restored(&base);
	close(fd);

	kvm_vm_free(vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

/*
 * Creation reserves the whole file, without allocating, and a request the
 * pool can't reserve fails with ENOMEM.
 */
static const char *test_create_reserve(const struct hugetlb_hstate *h)
{
	const size_t ps = h->page_size;
	unsigned long avail = hugetlb_hstate_avail(h), nr;
	bool overcommit;
	struct kvm_vm *vm;
	struct hugetlb_pool base;
	struct stat st;
	int fd, fd2;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";

	overcommit = hugetlb_hstate_read(h, "nr_overcommit_hugepages");
	nr = min_t(unsigned long, avail, 4);

	hugetlb_pool_read(&base);
	vm = vm_create_barebones();

	fd = vm_create_guest_memfd_hugetlb(vm, nr * ps, 0, ps);
	hugetlb_pool_assert(&base, h, 0, nr);
	TEST_ASSERT(!fstat(fd, &st), "fstat() failed");
	TEST_ASSERT_EQ(st.st_size, nr * ps);
	close(fd);
	hugetlb_pool_assert_restored(&base);

	/* Reserve everything that is left, then ask for one page more. */
	fd = vm_create_guest_memfd_hugetlb(vm, avail * ps, 0, ps);
	hugetlb_pool_assert(&base, h, 0, avail);
	if (!overcommit) {
		fd2 = __vm_create_guest_memfd_hugetlb(vm, ps, 0, ps);
		TEST_ASSERT(fd2 < 0 && errno == ENOMEM,
			    "guest_memfd() beyond the reservable pool should fail with ENOMEM, got %d (%s)",
			    fd2, fd2 < 0 ? strerror(errno) : "success");
	}
	close(fd);
	hugetlb_pool_assert_restored(&base);

	if (!overcommit)
		assert_create_fails(vm, (avail + 1) * ps,
				    GUEST_MEMFD_FLAG_HUGETLB, ps, ENOMEM);
	else
		ksft_print_msg("hugepages-%s: nr_overcommit_hugepages set, not testing ENOMEM\n",
			       h->name);

	kvm_vm_free(vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

static void punch(int fd, off_t offset, off_t len)
{
	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, offset,
		      len);
}

/*
 * Allocating takes huge pages from the reservation, punching whole huge pages
 * gives them back, and punching part of a huge page only zeroes that part.
 */
static const char *test_fallocate(const struct hugetlb_hstate *h)
{
	const size_t ps = h->page_size;
	const size_t window = min_t(size_t, ps, SZ_2M);
	const size_t hole = ps / 2;
	unsigned long avail = hugetlb_hstate_avail(h), nr;
	size_t start, off;
	struct kvm_vm *vm;
	struct hugetlb_pool base;
	u64 *mem;
	int fd;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	nr = min_t(unsigned long, avail, 2);

	hugetlb_pool_read(&base);
	vm = vm_create_barebones();

	/* Allocate and punch whole huge pages. */
	fd = vm_create_guest_memfd_hugetlb(vm, nr * ps, 0, ps);
	hugetlb_pool_assert(&base, h, 0, nr);

	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, ps);
	hugetlb_pool_assert(&base, h, -1, nr - 1);
	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, ps);
	hugetlb_pool_assert(&base, h, -1, nr - 1);

	punch(fd, 0, ps);
	hugetlb_pool_assert(&base, h, 0, nr);

	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, nr * ps);
	hugetlb_pool_assert(&base, h, -nr, 0);
	punch(fd, 0, nr * ps);
	hugetlb_pool_assert(&base, h, 0, nr);

	/* Leave a page allocated for close() to free. */
	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, (nr - 1) * ps, ps);
	hugetlb_pool_assert(&base, h, -1, nr - 1);
	close(fd);
	hugetlb_pool_assert_restored(&base);

	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		hugetlb_pool_assert_restored(&base);
		return "no GUEST_MEMFD_FLAG_MMAP/INIT_SHARED, partial punch not tested";
	}

	/*
	 * Punch 4KiB in the middle of a huge page: fill a window around it
	 * (the whole page for 2MiB) and the page's first and last words.
	 */
	fd = vm_create_guest_memfd_hugetlb(vm, ps, GUEST_MEMFD_FLAG_MMAP |
					   GUEST_MEMFD_FLAG_INIT_SHARED, ps);
	hugetlb_pool_assert(&base, h, 0, 1);

	mem = kvm_mmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	start = hole - window / 2;
	for (off = start; off < start + window; off += sizeof(u64))
		mem[off / sizeof(u64)] = pattern(off);
	mem[0] = pattern(0);
	mem[ps / sizeof(u64) - 1] = pattern(ps - sizeof(u64));
	hugetlb_pool_assert(&base, h, -1, 0);

	TEST_ASSERT(fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
			      hole + 1, base_page_size) && errno == EINVAL,
		    "PUNCH_HOLE at an unaligned offset should fail with EINVAL");

	punch(fd, hole, base_page_size);
	hugetlb_pool_assert(&base, h, -1, 0);

	for (off = start; off < start + window; off += sizeof(u64)) {
		u64 expect = 0;

		if (off < hole || off >= hole + base_page_size)
			expect = pattern(off);
		TEST_ASSERT(mem[off / sizeof(u64)] == expect,
			    "hugepages-%s: offset 0x%zx: got 0x%llx, expected 0x%llx",
			    h->name, off,
			    (unsigned long long)mem[off / sizeof(u64)],
			    (unsigned long long)expect);
	}
	TEST_ASSERT_EQ(mem[0], pattern(0));
	TEST_ASSERT_EQ(mem[ps / sizeof(u64) - 1], pattern(ps - sizeof(u64)));

	/* Punching the whole page frees it; faulting it again gives zeroes. */
	punch(fd, 0, ps);
	hugetlb_pool_assert(&base, h, 0, 1);
	TEST_ASSERT_EQ(mem[0], 0);
	TEST_ASSERT_EQ(mem[(hole - base_page_size) / sizeof(u64)], 0);
	TEST_ASSERT_EQ(mem[ps / sizeof(u64) - 1], 0);
	hugetlb_pool_assert(&base, h, -1, 0);

	kvm_munmap(mem, ps);
	close(fd);
	hugetlb_pool_assert_restored(&base);

	kvm_vm_free(vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

/*
 * Host access through mmap(): fresh memory reads as zero, writes are seen
 * through a second mapping and survive munmap().
 */
static const char *test_mmap(const struct hugetlb_hstate *h)
{
	const size_t ps = h->page_size;
	const size_t step = base_page_size;
	unsigned long avail = hugetlb_hstate_avail(h), nr;
	u64 *mem, *mem2;
	struct kvm_vm *vm;
	struct hugetlb_pool base;
	size_t size, off;
	char *p;
	int fd;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	nr = hugetlb_nr_test_pages(h, avail, 2);
	size = nr * ps;

	hugetlb_pool_read(&base);
	vm = vm_create_barebones();

	/* Without GUEST_MEMFD_FLAG_MMAP, mmap() must fail. */
	fd = vm_create_guest_memfd_hugetlb(vm, ps, 0, ps);
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(p == MAP_FAILED,
		    "mmap() of a guest_memfd without GUEST_MEMFD_FLAG_MMAP should fail");
	close(fd);
	hugetlb_pool_assert_restored(&base);

	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		hugetlb_pool_assert_restored(&base);
		return "no GUEST_MEMFD_FLAG_MMAP/INIT_SHARED";
	}

	/* Private memory can be mapped but not faulted in. */
	fd = vm_create_guest_memfd_hugetlb(vm, ps, GUEST_MEMFD_FLAG_MMAP, ps);
	p = kvm_mmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	TEST_EXPECT_SIGBUS((void)READ_ONCE(p[0]));
	kvm_munmap(p, ps);
	close(fd);
	hugetlb_pool_assert_restored(&base);

	fd = vm_create_guest_memfd_hugetlb(vm, size, GUEST_MEMFD_FLAG_MMAP |
					   GUEST_MEMFD_FLAG_INIT_SHARED, ps);
	hugetlb_pool_assert(&base, h, 0, nr);

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	TEST_ASSERT(p == MAP_FAILED,
		    "MAP_PRIVATE mapping of a guest_memfd should fail");

	mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	hugetlb_pool_assert(&base, h, 0, nr);

	for (off = 0; off < size; off += step) {
		TEST_ASSERT(!mem[off / sizeof(u64)] &&
			    !mem[(off + step) / sizeof(u64) - 1],
			    "hugepages-%s: fresh memory at 0x%zx is not zero",
			    h->name, off);
	}
	hugetlb_pool_assert(&base, h, -nr, 0);

	for (off = 0; off < size; off += step)
		mem[off / sizeof(u64)] = pattern(off);

	mem2 = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	for (off = 0; off < size; off += step) {
		TEST_ASSERT_EQ(mem2[off / sizeof(u64)], pattern(off));
		mem2[(off + step) / sizeof(u64) - 1] = ~pattern(off);
	}
	for (off = 0; off < size; off += step)
		TEST_ASSERT_EQ(mem[(off + step) / sizeof(u64) - 1],
			       ~pattern(off));
	kvm_munmap(mem2, size);
	kvm_munmap(mem, size);

	mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	for (off = 0; off < size; off += step) {
		TEST_ASSERT_EQ(mem[off / sizeof(u64)], pattern(off));
		TEST_ASSERT_EQ(mem[(off + step) / sizeof(u64) - 1],
			       ~pattern(off));
	}
	kvm_munmap(mem, size);
	hugetlb_pool_assert(&base, h, -nr, 0);

	/* Beyond the end of the file is SIGBUS. */
	p = kvm_mmap(size + ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	TEST_ASSERT_EQ(READ_ONCE(*(u64 *)p), pattern(0));
	TEST_EXPECT_SIGBUS((void)READ_ONCE(p[size]));
	kvm_munmap(p, size + ps);

	close(fd);
	hugetlb_pool_assert_restored(&base);

	kvm_vm_free(vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

/* Run @vcpu until the guest is done; report its failed assertions. */
static void run_until_done(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	case UCALL_DONE:
		break;
	default:
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
}

/*
 * The pages a misaligned binding is checked at: the first two and the last
 * of every 2MiB of the file, where a wrong huge mapping would show.
 */
static bool bind_sample(u64 file_page)
{
	u64 in_2m = file_page % (SZ_2M / SZ_4K);

	return in_2m <= 1 || in_2m == SZ_2M / SZ_4K - 1;
}

/*
 * The guest sees file page @first + i at @gpa + i * 4KiB: the host stored
 * HOST_MAGIC | its file page number in its first word.
 */
static void guest_read_binding(u64 gpa, u64 npages, u64 first)
{
	u64 i;

	for (i = 0; i < npages; i++) {
		u64 *page = (u64 *)(gpa + i * SZ_4K);

		if (!bind_sample(first + i))
			continue;
		GUEST_ASSERT_EQ(READ_ONCE(page[0]), HOST_MAGIC | (first + i));
		WRITE_ONCE(page[1], GUEST_MAGIC | (first + i));
	}

	GUEST_DONE();
}

/*
 * Bind [@offset, @offset + @size) of @fd at @gpa and let the guest read it.
 * Each call needs a @gpa range of its own: the guest's page tables keep the
 * mappings of the previous ones.
 */
static void check_binding(struct kvm_vm *vm, struct kvm_vcpu *vcpu, int fd,
			  u64 gpa, u64 offset, u64 size, u64 *mem)
{
	u64 i, npages = size / SZ_4K, first = offset / SZ_4K;

	vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD, gpa,
				   size, NULL, fd, offset);
	for (i = 0; i < npages; i++) {
		if (bind_sample(first + i))
			virt_map(vm, gpa + i * SZ_4K, gpa + i * SZ_4K, 1);
	}

	vcpu_arch_set_entry_point(vcpu, guest_read_binding);
	vcpu_args_set(vcpu, 3, gpa, npages, first);
	run_until_done(vcpu);

	for (i = 0; i < npages; i++) {
		if (bind_sample(first + i))
			TEST_ASSERT_EQ(mem[(first + i) * SZ_4K / sizeof(u64) + 1],
				       GUEST_MAGIC | (first + i));
	}
	vm_set_user_memory_region2(vm, TEST_SLOT, 0, gpa, 0, NULL, 0, 0);
}

/*
 * A memslot may start at any page of the file and at any guest physical
 * address: where the two disagree on their alignment to a huge page, KVM
 * maps the folio in smaller pieces, and the guest must still see each page
 * of the file at its own address.
 */
static const char *test_bind_misaligned(const struct hugetlb_hstate *h)
{
	const size_t ps = h->page_size;
	const u64 pg = SZ_4K;
	struct hugetlb_pool base;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 *mem, i;
	int fd;

	if (!hugetlb_hstate_avail(h))
		return "no free, unreserved huge page of this size in the pool";

	hugetlb_pool_read(&base);
	/*
	 * The library sizes slot 0 for page tables mapping that many pages:
	 * the samples of four bindings need a page table in every 2MiB.
	 */
	vm = __vm_create_shape_with_one_vcpu(VM_SHAPE_DEFAULT, &vcpu,
					     4 * ps / SZ_4K, guest_read_binding);
	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		hugetlb_pool_assert_restored(&base);
		return "no GUEST_MEMFD_FLAG_MMAP/INIT_SHARED";
	}

	fd = vm_create_guest_memfd_hugetlb(vm, ps, GUEST_MEMFD_FLAG_MMAP |
					   GUEST_MEMFD_FLAG_INIT_SHARED, ps);
	mem = kvm_mmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	for (i = 0; i < ps / pg; i++) {
		if (bind_sample(i))
			mem[i * pg / sizeof(u64)] = HOST_MAGIC | i;
	}

	/* Misaligned GPA, misaligned offset, both (congruent), and neither. */
	check_binding(vm, vcpu, fd, TEST_GPA + pg, 0, ps - pg, mem);
	check_binding(vm, vcpu, fd, TEST_GPA + 2 * ps, pg, ps - pg, mem);
	check_binding(vm, vcpu, fd, TEST_GPA + 4 * ps + pg, pg, ps - pg, mem);
	check_binding(vm, vcpu, fd, TEST_GPA + 6 * ps, 0, ps - pg, mem);

	kvm_munmap(mem, ps);
	close(fd);
	kvm_vm_free(vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

/*
 * The first, middle and last 4KiB page of each huge page are mapped into the
 * guest.  The host stored HOST_MAGIC | i in the middle of huge page i.
 */
static void guest_code(u64 gpa, u64 nr, u64 ps)
{
	u64 i;

	for (i = 0; i < nr; i++) {
		u64 *page = (u64 *)(gpa + i * ps);

		GUEST_ASSERT_EQ(page[ps / 2 / sizeof(u64)], HOST_MAGIC | i);
		GUEST_ASSERT_EQ(page[1], 0);
		WRITE_ONCE(page[0], GUEST_MAGIC | i);
		WRITE_ONCE(page[ps / sizeof(u64) - 1], ~(GUEST_MAGIC | i));
	}

	GUEST_DONE();
}

static const char *test_vcpu(const struct hugetlb_hstate *h)
{
	const size_t ps = h->page_size;
	unsigned long avail = hugetlb_hstate_avail(h), nr, i;
	const size_t pg = base_page_size;
	struct kvm_vcpu *vcpu;
	struct hugetlb_pool base;
	struct kvm_vm *vm;
	size_t size;
	u64 *mem;
	int fd;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	nr = hugetlb_nr_test_pages(h, avail, 4);
	size = nr * ps;

	hugetlb_pool_read(&base);
	vm = __vm_create_shape_with_one_vcpu(VM_SHAPE_DEFAULT, &vcpu, 32,
					     guest_code);
	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		hugetlb_pool_assert_restored(&base);
		return "no GUEST_MEMFD_FLAG_MMAP/INIT_SHARED";
	}
	TEST_ASSERT_EQ(vm->page_size, pg);

	fd = vm_create_guest_memfd_hugetlb(vm, size, GUEST_MEMFD_FLAG_MMAP |
					   GUEST_MEMFD_FLAG_INIT_SHARED, ps);
	vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
				   TEST_GPA, size, NULL, fd, 0);

	mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	for (i = 0; i < nr; i++) {
		u64 gpa = TEST_GPA + i * ps;

		mem[(i * ps + ps / 2) / sizeof(u64)] = HOST_MAGIC | i;
		virt_map(vm, gpa, gpa, 1);
		virt_map(vm, gpa + ps / 2, gpa + ps / 2, 1);
		virt_map(vm, gpa + ps - pg, gpa + ps - pg, 1);
	}
	kvm_munmap(mem, size);

	vcpu_args_set(vcpu, 3, TEST_GPA, nr, ps);
	run_until_done(vcpu);

	mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	for (i = 0; i < nr; i++) {
		u64 *page = mem + i * ps / sizeof(u64);

		TEST_ASSERT_EQ(page[0], GUEST_MAGIC | i);
		TEST_ASSERT_EQ(page[ps / sizeof(u64) - 1], ~(GUEST_MAGIC | i));
		TEST_ASSERT_EQ(page[ps / 2 / sizeof(u64)], HOST_MAGIC | i);
	}
	kvm_munmap(mem, size);
	hugetlb_pool_assert(&base, h, -nr, 0);

	/* The memslot keeps the file, and its pages, until the VM is gone. */
	close(fd);
	kvm_vm_free(vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

static const struct hugetlb_test hstate_tests[] = {
	{ "create_reserve", test_create_reserve },
	{ "fallocate", test_fallocate },
	{ "mmap", test_mmap },
	{ "bind_misaligned", test_bind_misaligned },
	{ "vcpu", test_vcpu },
};

int main(int argc, char *argv[])
{
	struct hugetlb_pool base;
	struct kvm_vm *vm;
	u64 flags;
	int fd;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD_FLAGS));

	base_page_size = getpagesize();
	hugetlb_find_hstates();

	vm = vm_create_barebones();
	flags = supported_gmem_flags(vm);
	if (!(flags & GUEST_MEMFD_FLAG_HUGETLB)) {
		/* Not advertised: the flag must be rejected. */
		fd = __vm_create_guest_memfd_hugetlb(vm, SZ_2M, 0, SZ_2M);
		TEST_ASSERT(fd < 0 && errno == EINVAL,
			    "GUEST_MEMFD_FLAG_HUGETLB isn't supported, guest_memfd() with it should fail with EINVAL");
		kvm_vm_free(vm);
		ksft_exit_skip("GUEST_MEMFD_FLAG_HUGETLB not supported (supported flags 0x%llx)\n",
			       (unsigned long long)flags);
	}
	kvm_vm_free(vm);

	if (!hugetlb_nr_hstates)
		ksft_exit_skip("No huge page sizes in /sys/kernel/mm/hugepages\n");

	hugetlb_tests_start(&base, 1, ARRAY_SIZE(hstate_tests));
	hugetlb_test_report(test_create_invalid(), "create_invalid", "");
	hugetlb_tests_run(hstate_tests, ARRAY_SIZE(hstate_tests));
	hugetlb_tests_finish(&base);
}
