// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for guest_memfd backed by hugetlb pages (GUEST_MEMFD_FLAG_HUGETLB).
 *
 * Every sub-test checks that the hugetlb pool counters of all huge page sizes
 * are back to their initial values once the guest_memfd (and the VM holding
 * it) is gone.
 */
#include <dirent.h>
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

#include "kvm_util.h"
#include "test_util.h"
#include "ucall_common.h"

#define HUGEPAGES_DIR		"/sys/kernel/mm/hugepages"
#define MAX_HSTATES		8

/*
 * Skip the first 4GiB: slot 0 holds the guest's code, stack and page tables,
 * and low memory has the PCI hole and other MMIO.  4GiB is aligned to every
 * huge page size tested here.
 */
#define TEST_GPA		SZ_4G
#define TEST_SLOT		1

#define GUEST_MAGIC		0x6775657374000000ull
#define HOST_MAGIC		0x686f737400000000ull

struct hstate_counters {
	unsigned long nr;
	unsigned long free;
	unsigned long resv;
	unsigned long surplus;
};

struct hstate {
	size_t page_size;
	char name[16];
};

static struct hstate hstates[MAX_HSTATES];
static int nr_hstates;
static size_t base_page_size;

struct pool {
	struct hstate_counters c[MAX_HSTATES];
};

static unsigned long read_hstate_val(const struct hstate *h, const char *file)
{
	char path[128], buf[32];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), HUGEPAGES_DIR "/hugepages-%zukB/%s",
		 h->page_size >> 10, file);
	fd = open(path, O_RDONLY);
	TEST_ASSERT(fd >= 0, "Failed to open %s", path);
	len = read(fd, buf, sizeof(buf) - 1);
	TEST_ASSERT(len > 0, "Failed to read %s", path);
	buf[len] = '\0';
	close(fd);

	return strtoul(buf, NULL, 10);
}

static void read_pool(struct pool *p)
{
	int i;

	for (i = 0; i < nr_hstates; i++) {
		p->c[i].nr = read_hstate_val(&hstates[i], "nr_hugepages");
		p->c[i].free = read_hstate_val(&hstates[i], "free_hugepages");
		p->c[i].resv = read_hstate_val(&hstates[i], "resv_hugepages");
		p->c[i].surplus = read_hstate_val(&hstates[i], "surplus_hugepages");
	}
}

static int hstate_index(const struct hstate *h)
{
	return h - hstates;
}

/*
 * Assert that the pool of @h has @free free and @resv reserved pages more (or
 * less, if negative) than in @base, and that nothing else changed, in the
 * pool of @h or of any other huge page size.
 */
static void __assert_pool(const struct pool *base, const struct hstate *h,
			  long free, long resv, const char *what)
{
	struct pool now;
	int i;

	read_pool(&now);

	for (i = 0; i < nr_hstates; i++) {
		const struct hstate_counters *b = &base->c[i];
		const struct hstate_counters *n = &now.c[i];
		long dfree = 0, dresv = 0;

		if (h && i == hstate_index(h)) {
			dfree = free;
			dresv = resv;
		}

		TEST_ASSERT(n->nr == b->nr && n->surplus == b->surplus &&
			    n->free == b->free + dfree &&
			    n->resv == b->resv + dresv,
			    "%s: hugepages-%s: nr/free/resv/surplus = %lu/%lu/%lu/%lu, expected %lu/%lu/%lu/%lu",
			    what, hstates[i].name, n->nr, n->free, n->resv,
			    n->surplus, b->nr, b->free + dfree, b->resv + dresv,
			    b->surplus);
	}
}

#define assert_pool(base, h, free, resv) \
	__assert_pool(base, h, free, resv, __func__)

#define assert_pool_restored(base) \
	__assert_pool(base, NULL, 0, 0, __func__)

/* Huge pages of @h that are neither allocated nor reserved. */
static unsigned long pool_avail(const struct pool *p, const struct hstate *h)
{
	const struct hstate_counters *c = &p->c[hstate_index(h)];

	return c->free > c->resv ? c->free - c->resv : 0;
}

static unsigned long hstate_avail(const struct hstate *h)
{
	struct pool p;

	read_pool(&p);
	return pool_avail(&p, h);
}

/*
 * How many huge pages of @h a test that faults them all in uses: up to @max,
 * but only one gigantic page, which takes a while to clear.
 */
static unsigned long nr_test_pages(const struct hstate *h, unsigned long avail,
				   unsigned long max)
{
	if (h->page_size >= SZ_1G)
		max = 1;
	return min(avail, max);
}

static bool hstate_exists(size_t page_size)
{
	int i;

	for (i = 0; i < nr_hstates; i++) {
		if (hstates[i].page_size == page_size)
			return true;
	}
	return false;
}

static void hstate_set_name(struct hstate *h)
{
	if (h->page_size >= SZ_1G)
		snprintf(h->name, sizeof(h->name), "%zuG", h->page_size >> 30);
	else if (h->page_size >= SZ_1M)
		snprintf(h->name, sizeof(h->name), "%zuM", h->page_size >> 20);
	else
		snprintf(h->name, sizeof(h->name), "%zuK", h->page_size >> 10);
}

static void find_hstates(void)
{
	struct dirent *ent;
	unsigned long kb;
	DIR *dir;
	int i, j;

	dir = opendir(HUGEPAGES_DIR);
	if (!dir)
		return;

	while ((ent = readdir(dir))) {
		if (sscanf(ent->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		TEST_ASSERT(nr_hstates < MAX_HSTATES, "Too many huge page sizes");
		hstates[nr_hstates].page_size = (size_t)kb << 10;
		hstate_set_name(&hstates[nr_hstates]);
		nr_hstates++;
	}
	closedir(dir);

	/* Smallest size first. */
	for (i = 1; i < nr_hstates; i++) {
		for (j = i; j > 0; j--) {
			struct hstate tmp = hstates[j];

			if (hstates[j - 1].page_size <= tmp.page_size)
				break;
			hstates[j] = hstates[j - 1];
			hstates[j - 1] = tmp;
		}
	}
}

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
	const size_t ps = hstates[0].page_size;
	const u64 hugetlb = GUEST_MEMFD_FLAG_HUGETLB;
	struct kvm_create_guest_memfd args;
	struct pool base;
	struct kvm_vm *vm;
	size_t bad;
	int fd, i;

	read_pool(&base);
	vm = vm_create_barebones();

	/* Not a huge page size the kernel has. */
	assert_create_fails(vm, ps, hugetlb, 0, EINVAL);
	assert_create_fails(vm, ps, hugetlb, base_page_size, EINVAL);
	assert_create_fails(vm, 2 * (SZ_2M + SZ_1M), hugetlb, SZ_2M + SZ_1M,
			    EINVAL);
	assert_create_fails(vm, 2 * ps, hugetlb, ps + base_page_size, EINVAL);
	assert_create_fails(vm, 2 * ps, hugetlb, ps - 1, EINVAL);
	for (bad = 2 * base_page_size; bad <= 16ull * SZ_1G; bad <<= 1) {
		if (!hstate_exists(bad))
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
	assert_pool_restored(&base);
	close(fd);

	kvm_vm_free(vm);
	assert_pool_restored(&base);
	return NULL;
}

/*
 * Creation reserves the whole file, without allocating, and a request the
 * pool can't reserve fails with ENOMEM.
 */
static const char *test_create_reserve(const struct hstate *h)
{
	const size_t ps = h->page_size;
	unsigned long avail = hstate_avail(h), nr;
	bool overcommit;
	struct kvm_vm *vm;
	struct pool base;
	struct stat st;
	int fd, fd2;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";

	overcommit = read_hstate_val(h, "nr_overcommit_hugepages");
	nr = min_t(unsigned long, avail, 4);

	read_pool(&base);
	vm = vm_create_barebones();

	fd = vm_create_guest_memfd_hugetlb(vm, nr * ps, 0, ps);
	assert_pool(&base, h, 0, nr);
	TEST_ASSERT(!fstat(fd, &st), "fstat() failed");
	TEST_ASSERT_EQ(st.st_size, nr * ps);
	close(fd);
	assert_pool_restored(&base);

	/* Reserve everything that is left, then ask for one page more. */
	fd = vm_create_guest_memfd_hugetlb(vm, avail * ps, 0, ps);
	assert_pool(&base, h, 0, avail);
	if (!overcommit) {
		fd2 = __vm_create_guest_memfd_hugetlb(vm, ps, 0, ps);
		TEST_ASSERT(fd2 < 0 && errno == ENOMEM,
			    "guest_memfd() beyond the reservable pool should fail with ENOMEM, got %d (%s)",
			    fd2, fd2 < 0 ? strerror(errno) : "success");
	}
	close(fd);
	assert_pool_restored(&base);

	if (!overcommit)
		assert_create_fails(vm, (avail + 1) * ps,
				    GUEST_MEMFD_FLAG_HUGETLB, ps, ENOMEM);
	else
		ksft_print_msg("hugepages-%s: nr_overcommit_hugepages set, not testing ENOMEM\n",
			       h->name);

	kvm_vm_free(vm);
	assert_pool_restored(&base);
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
static const char *test_fallocate(const struct hstate *h)
{
	const size_t ps = h->page_size;
	const size_t window = min_t(size_t, ps, SZ_2M);
	const size_t hole = ps / 2;
	unsigned long avail = hstate_avail(h), nr;
	size_t start, off;
	struct kvm_vm *vm;
	struct pool base;
	u64 *mem;
	int fd;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	nr = min_t(unsigned long, avail, 2);

	read_pool(&base);
	vm = vm_create_barebones();

	/* Allocate and punch whole huge pages. */
	fd = vm_create_guest_memfd_hugetlb(vm, nr * ps, 0, ps);
	assert_pool(&base, h, 0, nr);

	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, ps);
	assert_pool(&base, h, -1, nr - 1);
	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, ps);
	assert_pool(&base, h, -1, nr - 1);

	punch(fd, 0, ps);
	assert_pool(&base, h, 0, nr);

	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, nr * ps);
	assert_pool(&base, h, -nr, 0);
	punch(fd, 0, nr * ps);
	assert_pool(&base, h, 0, nr);

	/* Leave a page allocated for close() to free. */
	kvm_fallocate(fd, FALLOC_FL_KEEP_SIZE, (nr - 1) * ps, ps);
	assert_pool(&base, h, -1, nr - 1);
	close(fd);
	assert_pool_restored(&base);

	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		assert_pool_restored(&base);
		return "no GUEST_MEMFD_FLAG_MMAP/INIT_SHARED, partial punch not tested";
	}

	/*
	 * Punch 4KiB in the middle of a huge page: fill a window around it
	 * (the whole page for 2MiB) and the page's first and last words.
	 */
	fd = vm_create_guest_memfd_hugetlb(vm, ps, GUEST_MEMFD_FLAG_MMAP |
					   GUEST_MEMFD_FLAG_INIT_SHARED, ps);
	assert_pool(&base, h, 0, 1);

	mem = kvm_mmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	start = hole - window / 2;
	for (off = start; off < start + window; off += sizeof(u64))
		mem[off / sizeof(u64)] = pattern(off);
	mem[0] = pattern(0);
	mem[ps / sizeof(u64) - 1] = pattern(ps - sizeof(u64));
	assert_pool(&base, h, -1, 0);

	TEST_ASSERT(fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
			      hole + 1, base_page_size) && errno == EINVAL,
		    "PUNCH_HOLE at an unaligned offset should fail with EINVAL");

	punch(fd, hole, base_page_size);
	assert_pool(&base, h, -1, 0);

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
	assert_pool(&base, h, 0, 1);
	TEST_ASSERT_EQ(mem[0], 0);
	TEST_ASSERT_EQ(mem[(hole - base_page_size) / sizeof(u64)], 0);
	TEST_ASSERT_EQ(mem[ps / sizeof(u64) - 1], 0);
	assert_pool(&base, h, -1, 0);

	kvm_munmap(mem, ps);
	close(fd);
	assert_pool_restored(&base);

	kvm_vm_free(vm);
	assert_pool_restored(&base);
	return NULL;
}

/*
 * Host access through mmap(): fresh memory reads as zero, writes are seen
 * through a second mapping and survive munmap().
 */
static const char *test_mmap(const struct hstate *h)
{
	const size_t ps = h->page_size;
	const size_t step = base_page_size;
	unsigned long avail = hstate_avail(h), nr;
	u64 *mem, *mem2;
	struct kvm_vm *vm;
	struct pool base;
	size_t size, off;
	char *p;
	int fd;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	nr = nr_test_pages(h, avail, 2);
	size = nr * ps;

	read_pool(&base);
	vm = vm_create_barebones();

	/* Without GUEST_MEMFD_FLAG_MMAP, mmap() must fail. */
	fd = vm_create_guest_memfd_hugetlb(vm, ps, 0, ps);
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(p == MAP_FAILED,
		    "mmap() of a guest_memfd without GUEST_MEMFD_FLAG_MMAP should fail");
	close(fd);
	assert_pool_restored(&base);

	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		assert_pool_restored(&base);
		return "no GUEST_MEMFD_FLAG_MMAP/INIT_SHARED";
	}

	/* Private memory can be mapped but not faulted in. */
	fd = vm_create_guest_memfd_hugetlb(vm, ps, GUEST_MEMFD_FLAG_MMAP, ps);
	p = kvm_mmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	TEST_EXPECT_SIGBUS((void)READ_ONCE(p[0]));
	kvm_munmap(p, ps);
	close(fd);
	assert_pool_restored(&base);

	fd = vm_create_guest_memfd_hugetlb(vm, size, GUEST_MEMFD_FLAG_MMAP |
					   GUEST_MEMFD_FLAG_INIT_SHARED, ps);
	assert_pool(&base, h, 0, nr);

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	TEST_ASSERT(p == MAP_FAILED,
		    "MAP_PRIVATE mapping of a guest_memfd should fail");

	mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	assert_pool(&base, h, 0, nr);

	for (off = 0; off < size; off += step) {
		TEST_ASSERT(!mem[off / sizeof(u64)] &&
			    !mem[(off + step) / sizeof(u64) - 1],
			    "hugepages-%s: fresh memory at 0x%zx is not zero",
			    h->name, off);
	}
	assert_pool(&base, h, -nr, 0);

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
	assert_pool(&base, h, -nr, 0);

	/* Beyond the end of the file is SIGBUS. */
	p = kvm_mmap(size + ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	TEST_ASSERT_EQ(READ_ONCE(*(u64 *)p), pattern(0));
	TEST_EXPECT_SIGBUS((void)READ_ONCE(p[size]));
	kvm_munmap(p, size + ps);

	close(fd);
	assert_pool_restored(&base);

	kvm_vm_free(vm);
	assert_pool_restored(&base);
	return NULL;
}

/*
 * A memslot must start at a huge page aligned offset into the file and at a
 * huge page aligned guest physical address; its size need not be aligned.
 */
static const char *test_bind_alignment(const struct hstate *h)
{
	const size_t ps = h->page_size;
	const size_t small = base_page_size;
	struct kvm_vm *vm;
	struct pool base;
	int fd, r;

	if (!hstate_avail(h))
		return "no free, unreserved huge page of this size in the pool";

	read_pool(&base);
	vm = vm_create_barebones();

	fd = vm_create_guest_memfd_hugetlb(vm, ps, 0, ps);

	r = __vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
					 TEST_GPA, ps / 2, NULL, fd, ps / 2);
	TEST_ASSERT(r && errno == EINVAL,
		    "hugepages-%s: memslot at a misaligned guest_memfd offset should fail with EINVAL",
		    h->name);

	r = __vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
					 TEST_GPA, small, NULL, fd, small);
	TEST_ASSERT(r && errno == EINVAL,
		    "hugepages-%s: memslot at guest_memfd offset 0x%zx should fail with EINVAL",
		    h->name, small);

	r = __vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
					 TEST_GPA + small, ps - small, NULL,
					 fd, 0);
	TEST_ASSERT(r && errno == EINVAL,
		    "hugepages-%s: memslot at a misaligned GPA should fail with EINVAL",
		    h->name);

	r = __vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
					 TEST_GPA + small, ps - small, NULL,
					 fd, small);
	TEST_ASSERT(r && errno == EINVAL,
		    "hugepages-%s: memslot at a misaligned GPA and offset should fail with EINVAL",
		    h->name);

	vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
				   TEST_GPA, ps, NULL, fd, 0);

	/* Delete the slot and bind again, with a size that is not aligned. */
	vm_set_user_memory_region2(vm, TEST_SLOT, 0, TEST_GPA, 0, NULL, 0, 0);
	vm_set_user_memory_region2(vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
				   TEST_GPA, ps - small, NULL, fd, 0);

	close(fd);
	kvm_vm_free(vm);
	assert_pool_restored(&base);
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

static const char *test_vcpu(const struct hstate *h)
{
	const size_t ps = h->page_size;
	unsigned long avail = hstate_avail(h), nr, i;
	const size_t pg = base_page_size;
	struct kvm_vcpu *vcpu;
	struct pool base;
	struct kvm_vm *vm;
	struct ucall uc;
	size_t size;
	u64 *mem;
	int fd;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	nr = nr_test_pages(h, avail, 4);
	size = nr * ps;

	read_pool(&base);
	vm = __vm_create_shape_with_one_vcpu(VM_SHAPE_DEFAULT, &vcpu, 32,
					     guest_code);
	if (!supports_mmap_shared(vm)) {
		kvm_vm_free(vm);
		assert_pool_restored(&base);
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

	mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	for (i = 0; i < nr; i++) {
		u64 *page = mem + i * ps / sizeof(u64);

		TEST_ASSERT_EQ(page[0], GUEST_MAGIC | i);
		TEST_ASSERT_EQ(page[ps / sizeof(u64) - 1], ~(GUEST_MAGIC | i));
		TEST_ASSERT_EQ(page[ps / 2 / sizeof(u64)], HOST_MAGIC | i);
	}
	kvm_munmap(mem, size);
	assert_pool(&base, h, -nr, 0);

	/* The memslot keeps the file, and its pages, until the VM is gone. */
	close(fd);
	kvm_vm_free(vm);
	assert_pool_restored(&base);
	return NULL;
}

struct hstate_test {
	const char *name;
	const char *(*fn)(const struct hstate *h);
};

static const struct hstate_test hstate_tests[] = {
	{ "create_reserve", test_create_reserve },
	{ "fallocate", test_fallocate },
	{ "mmap", test_mmap },
	{ "bind_alignment", test_bind_alignment },
	{ "vcpu", test_vcpu },
};

static void report(const char *skip, const char *name, const char *size)
{
	if (skip)
		ksft_test_result_skip("%s %s: %s\n", name, size, skip);
	else
		ksft_test_result_pass("%s %s\n", name, size);
}

int main(int argc, char *argv[])
{
	struct kvm_vm *vm;
	struct pool base;
	u64 flags;
	int i, j, fd;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD_FLAGS));

	base_page_size = getpagesize();
	find_hstates();

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

	if (!nr_hstates)
		ksft_exit_skip("No huge page sizes in " HUGEPAGES_DIR "\n");

	ksft_print_header();
	ksft_set_plan(1 + nr_hstates * ARRAY_SIZE(hstate_tests));

	read_pool(&base);
	for (i = 0; i < nr_hstates; i++)
		ksft_print_msg("hugepages-%s: nr %lu free %lu resv %lu surplus %lu\n",
			       hstates[i].name, base.c[i].nr, base.c[i].free,
			       base.c[i].resv, base.c[i].surplus);

	report(test_create_invalid(), "create_invalid", "");

	for (i = 0; i < nr_hstates; i++) {
		for (j = 0; j < ARRAY_SIZE(hstate_tests); j++)
			report(hstate_tests[j].fn(&hstates[i]),
			       hstate_tests[j].name, hstates[i].name);
	}

	assert_pool_restored(&base);

	if (!ksft_get_pass_cnt())
		ksft_exit_skip("No sub-test ran\n");
	ksft_finished();
}
