// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-place shared <-> private conversion of a hugetlb guest_memfd, with a
 * running vCPU of a KVM_X86_SW_PROTECTED_VM.
 *
 * For each huge page size with a free page, the guest writes every 4KiB page
 * of a private, hugetlb-backed guest_memfd, asks (KVM_HC_MAP_GPA_RANGE) for
 * one 4KiB page in the middle to become shared and later private again, and
 * the host converts it with KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd.
 * Across the conversions the test checks that:
 *
 * - the data stays in place: the host reads the guest's private data through
 *   its mapping of the file once the page is shared, and the guest reads the
 *   host's data once the page is private again;
 * - the host can touch the shared page and only that page (SIGBUS elsewhere);
 * - KVM's stage-2 mappings (the VM's pages_4k/pages_2m/pages_1g stats) are
 *   huge while the range is uniform, are zapped by a conversion, only the
 *   mixed part of the range is mapped small while it is mixed, and huge
 *   mappings come back once the range is uniform again;
 * - the hugetlb pool is exactly as before once the VM and the file are gone.
 *
 * The latency of conversions is printed, never asserted on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/kvm_para.h>
#include <linux/sizes.h>

#include "hugetlb_pool.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "ucall_common.h"

/*
 * Above the 4GiB boundary, clear of slot 0 and of the PCI hole, and aligned
 * to every huge page size; the file is bound at offset 0.
 */
#define TEST_GPA		((u64)SZ_4G)
#define TEST_SLOT		1

#define GUEST_MAGIC		0x6775657374000000ull
#define HOST_MAGIC		0x686f737400000000ull

#define WORDS_PER_PAGE		(PAGE_SIZE / sizeof(u64))
#define PAGES_PER_2M		((u64)(SZ_2M / PAGE_SIZE))

/*
 * Slot 0 (the guest's code, stack and page tables) is mapped at 4KiB only,
 * as the library advises its memory MADV_NOHUGEPAGE, but the guest may touch
 * a few pages of it for the first time between two steps.  pages_4k is
 * allowed that much noise; pages_2m and pages_1g must be exact.
 */
#define SLOT0_SLACK		32

/* Conversions timed for each kind in the latency loop. */
#define LATENCY_ITERATIONS	5

/* ksft_print_msg(), prefixed with the huge page size under test. */
#define test_msg(t, fmt, ...)						\
	ksft_print_msg("hugepages-%s: " fmt, (t)->h->name, ##__VA_ARGS__)

enum stage {
	STAGE_BASELINE,		/* nothing of the test range touched yet */
	STAGE_PRIVATE,		/* every page written, all private */
	STAGE_SHARED,		/* one page converted to shared */
	STAGE_SHARED_TOUCHED,	/* ... and every page touched again */
	STAGE_PRIVATE_AGAIN,	/* the page converted back to private */
	STAGE_PRIVATE_TOUCHED,	/* ... and every page touched again */
	STAGE_DONE,
};

static u64 guest_word(u64 page)
{
	return GUEST_MAGIC | page;
}

static u64 host_word(u64 word)
{
	return HOST_MAGIC | word;
}

static u64 page_gpa(u64 page)
{
	return TEST_GPA + page * PAGE_SIZE;
}

static u64 *guest_page(u64 page)
{
	return (u64 *)page_gpa(page);
}

/*
 * Every page but the converted one holds the guest's pattern in its first
 * and last word; the converted one holds the host's pattern in every word.
 */
static void guest_check_pages(u64 nr_pages, u64 conv)
{
	u64 page, w;

	for (page = 0; page < nr_pages; page++) {
		u64 *p = guest_page(page);

		if (page != conv) {
			__GUEST_ASSERT(READ_ONCE(p[0]) == guest_word(page) &&
				       READ_ONCE(p[WORDS_PER_PAGE - 1]) == ~guest_word(page),
				       "page %lu: got 0x%lx/0x%lx, expected 0x%lx/0x%lx",
				       page, p[0], p[WORDS_PER_PAGE - 1],
				       guest_word(page), ~guest_word(page));
			continue;
		}
		for (w = 0; w < WORDS_PER_PAGE; w++)
			__GUEST_ASSERT(READ_ONCE(p[w]) == host_word(w),
				       "converted page %lu, word %lu: got 0x%lx, expected 0x%lx",
				       page, w, p[w], host_word(w));
	}
}

static void guest_map_gpa_range(u64 page, u64 enc_stat)
{
	u64 gpa = page_gpa(page);
	u64 ret;

	ret = kvm_hypercall(KVM_HC_MAP_GPA_RANGE, gpa, 1,
			    enc_stat | KVM_MAP_GPA_RANGE_PAGE_SZ_4K, 0);
	__GUEST_ASSERT(!ret, "KVM_HC_MAP_GPA_RANGE(0x%lx, 1, 0x%lx) = %ld",
		       gpa, enc_stat, (long)ret);
}

static void guest_code(u64 nr_pages, u64 conv)
{
	u64 page;

	GUEST_SYNC(STAGE_BASELINE);

	for (page = 0; page < nr_pages; page++) {
		u64 *p = guest_page(page);

		WRITE_ONCE(p[0], guest_word(page));
		WRITE_ONCE(p[WORDS_PER_PAGE - 1], ~guest_word(page));
	}
	GUEST_SYNC(STAGE_PRIVATE);

	guest_map_gpa_range(conv, KVM_MAP_GPA_RANGE_DECRYPTED);
	GUEST_SYNC(STAGE_SHARED);

	/* The host wrote its pattern over the converted page. */
	guest_check_pages(nr_pages, conv);
	GUEST_SYNC(STAGE_SHARED_TOUCHED);

	guest_map_gpa_range(conv, KVM_MAP_GPA_RANGE_ENCRYPTED);
	GUEST_SYNC(STAGE_PRIVATE_AGAIN);

	guest_check_pages(nr_pages, conv);
	GUEST_SYNC(STAGE_PRIVATE_TOUCHED);

	GUEST_DONE();
}

enum { LEVEL_4K, LEVEL_2M, LEVEL_1G, NR_LEVELS };

struct mmu_stats {
	u64 pages[NR_LEVELS];
};

struct latency {
	s64 min, max, sum;
	unsigned long n;
};

struct test {
	const struct hugetlb_hstate *h;
	size_t ps;		/* huge page size */
	int level;		/* stage-2 level of a huge page */
	unsigned long nr;	/* huge pages */
	size_t size;		/* of the file and the memslot */
	u64 nr_pages;		/* 4KiB pages */
	u64 conv;		/* the 4KiB page the guest converts */
	u64 split_2m;		/* 2M mappings of a huge page split by it */

	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int fd;
	u8 *mem;		/* the host's mapping of the file */

	struct mmu_stats baseline, uniform, mixed;
	unsigned long nr_hypercalls;
	unsigned long nr_memory_faults;
	struct latency live[2];	/* the guest's conversions: [to private] */
};

static void latency_add(struct latency *l, s64 ns)
{
	if (!l->n || ns < l->min)
		l->min = ns;
	if (!l->n || ns > l->max)
		l->max = ns;
	l->sum += ns;
	l->n++;
}

static void latency_print(const struct test *t, const char *what,
			  const struct latency *l)
{
	if (!l->n)
		return;
	test_msg(t, "latency %-30s %lu x: min %ld us, avg %ld us, max %ld us\n",
		 what, l->n, (long)(l->min / 1000),
		 (long)(l->sum / (s64)l->n / 1000), (long)(l->max / 1000));
}

/*
 * Convert [@offset, @offset + @size) of the file to private or shared, and
 * return how long KVM_SET_MEMORY_ATTRIBUTES2 took, in nanoseconds.
 */
static s64 convert(const struct test *t, u64 offset, u64 size, bool private)
{
	struct kvm_memory_attributes2 attr = {
		.offset = offset,
		.size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};
	struct timespec start;
	s64 ns;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	r = __kvm_ioctl(t->fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr);
	ns = timespec_to_ns(timespec_elapsed(start));

	TEST_ASSERT(!r,
		    "hugepages-%s: KVM_SET_MEMORY_ATTRIBUTES2(offset 0x%lx, size 0x%lx, %s) failed: %s, error_offset 0x%llx",
		    t->h->name, offset, size, private ? "private" : "shared",
		    strerror(errno), (unsigned long long)attr.error_offset);
	return ns;
}

/* The range [@gpa, @gpa + @size) must lie in the test slot. */
static u64 gpa_to_offset(const struct test *t, u64 gpa, u64 size,
			 const char *what)
{
	TEST_ASSERT(gpa >= TEST_GPA && size && gpa + size > gpa &&
		    gpa + size <= TEST_GPA + t->size &&
		    !(gpa % PAGE_SIZE) && !(size % PAGE_SIZE),
		    "%s: range [0x%lx, 0x%lx) outside of the test slot [0x%lx, 0x%lx) or not page aligned",
		    what, gpa, gpa + size, TEST_GPA, TEST_GPA + t->size);
	return gpa - TEST_GPA;
}

static void handle_hypercall(struct test *t)
{
	struct kvm_run *run = t->vcpu->run;
	u64 gpa = run->hypercall.args[0];
	u64 size = run->hypercall.args[1] * PAGE_SIZE;
	u64 attrs = run->hypercall.args[2];
	bool private;
	s64 ns;

	TEST_ASSERT(run->hypercall.nr == KVM_HC_MAP_GPA_RANGE,
		    "Unexpected hypercall %llu", run->hypercall.nr);
	TEST_ASSERT(!(attrs & ~(KVM_MAP_GPA_RANGE_ENCRYPTED |
				KVM_MAP_GPA_RANGE_PAGE_SZ_2M |
				KVM_MAP_GPA_RANGE_PAGE_SZ_1G)),
		    "KVM_HC_MAP_GPA_RANGE: unexpected attributes 0x%lx", attrs);
	private = attrs & KVM_MAP_GPA_RANGE_ENCRYPTED;

	ns = convert(t, gpa_to_offset(t, gpa, size, "KVM_HC_MAP_GPA_RANGE"),
		     size, private);
	latency_add(&t->live[private], ns);
	t->nr_hypercalls++;
	test_msg(t, "KVM_HC_MAP_GPA_RANGE [0x%lx, 0x%lx) -> %s in %ld us\n",
		 gpa, gpa + size, private ? "private" : "shared",
		 (long)(ns / 1000));

	run->hypercall.ret = 0;
}

/*
 * KVM derives the kind of access of a SW_PROTECTED VM from the attributes,
 * so this only happens if a conversion races with a fault: give the guest
 * what it asked for.
 */
static void handle_memory_fault(struct test *t)
{
	struct kvm_run *run = t->vcpu->run;
	u64 gpa = run->memory_fault.gpa;
	u64 size = run->memory_fault.size;
	bool private = run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE;

	convert(t, gpa_to_offset(t, gpa, size, "KVM_EXIT_MEMORY_FAULT"), size,
		private);
	t->nr_memory_faults++;
	test_msg(t, "KVM_EXIT_MEMORY_FAULT [0x%lx, 0x%lx) -> %s\n",
		 gpa, gpa + size, private ? "private" : "shared");
}

/* Run the vCPU to its next ucall; returns the stage it reached. */
static enum stage run_vcpu(struct test *t)
{
	struct kvm_run *run = t->vcpu->run;
	struct ucall uc;
	int r;

	for (;;) {
		r = _vcpu_run(t->vcpu);
		if (r < 0 && errno == EFAULT &&
		    run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
			handle_memory_fault(t);
			continue;
		}
		TEST_ASSERT(!r, KVM_IOCTL_ERROR(KVM_RUN, r));

		if (run->exit_reason == KVM_EXIT_HYPERCALL) {
			handle_hypercall(t);
			continue;
		}
		TEST_ASSERT_KVM_EXIT_REASON(t->vcpu, KVM_EXIT_IO);

		switch (get_ucall(t->vcpu, &uc)) {
		case UCALL_SYNC:
			return uc.args[1];
		case UCALL_DONE:
			return STAGE_DONE;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("Unexpected ucall %lu", uc.cmd);
		}
	}
}

static void run_to(struct test *t, enum stage stage)
{
	enum stage got = run_vcpu(t);

	TEST_ASSERT(got == stage, "hugepages-%s: the guest reached stage %d, expected %d",
		    t->h->name, got, stage);
}

static void read_mmu_stats(const struct test *t, struct mmu_stats *s,
			   const char *what)
{
	s->pages[LEVEL_4K] = vm_get_stat(t->vm, pages_4k);
	s->pages[LEVEL_2M] = vm_get_stat(t->vm, pages_2m);
	s->pages[LEVEL_1G] = vm_get_stat(t->vm, pages_1g);
	test_msg(t, "%-28s pages_4k %lu pages_2m %lu pages_1g %lu\n",
		 what, s->pages[LEVEL_4K], s->pages[LEVEL_2M],
		 s->pages[LEVEL_1G]);
}

/*
 * Assert the VM's 2M and 1G mappings: slot 0 has none (see SLOT0_SLACK),
 * so they are the baseline's plus the test range's, where @whole huge pages
 * are mapped at their size and the one holding the converted page is mapped
 * as @split_2m 2M pages (the rest of it, if anything, at 4KiB).
 */
static void assert_huge_mappings(const struct test *t,
				 const struct mmu_stats *now,
				 unsigned long whole, u64 split_2m,
				 const char *what)
{
	static const char * const names[] = { "pages_4k", "pages_2m", "pages_1g" };
	u64 want[NR_LEVELS];
	int l;

	for (l = 0; l < NR_LEVELS; l++)
		want[l] = t->baseline.pages[l];
	want[t->level] += whole;
	want[LEVEL_2M] += split_2m;

	for (l = LEVEL_2M; l < NR_LEVELS; l++)
		TEST_ASSERT(now->pages[l] == want[l],
			    "hugepages-%s: %s: %s = %lu, expected %lu (%lu before the guest touched the range, %lu of %lu huge pages mapped whole, %lu 2M mappings in the split one)",
			    t->h->name, what, names[l], now->pages[l], want[l],
			    t->baseline.pages[l], whole, t->nr, split_2m);
}

/* A 4KiB page of the file, through the host's mapping of it. */
static u64 *host_page(const struct test *t, u64 page)
{
	return (u64 *)(t->mem + page * PAGE_SIZE);
}

static void host_expect_sigbus(const struct test *t, u64 page)
{
	u64 *p = host_page(t, page);

	TEST_EXPECT_SIGBUS((void)READ_ONCE(*p));
}

/*
 * The page is shared now: it holds what the guest wrote while it was
 * private (the rest of it zeroes), its private neighbours are still out of
 * the host's reach.  Write the host's pattern for the guest to find.
 */
static void host_check_shared(const struct test *t)
{
	u64 *p = host_page(t, t->conv);
	u64 w, want;

	for (w = 0; w < WORDS_PER_PAGE; w++) {
		want = 0;
		if (!w)
			want = guest_word(t->conv);
		else if (w == WORDS_PER_PAGE - 1)
			want = ~guest_word(t->conv);
		TEST_ASSERT(READ_ONCE(p[w]) == want,
			    "hugepages-%s: shared page %lu, word %lu: got 0x%lx, expected 0x%lx (the guest's private data, in place)",
			    t->h->name, t->conv, w, p[w], want);
	}
	for (w = 0; w < WORDS_PER_PAGE; w++)
		WRITE_ONCE(p[w], host_word(w));

	host_expect_sigbus(t, t->conv - 1);
	host_expect_sigbus(t, t->conv + 1);
}

/*
 * The file alone decides private vs. shared for its slot: KVM refuses VM
 * attributes for any range that overlaps the slot.
 */
static void assert_vm_attributes_refused(struct test *t)
{
	struct kvm_memory_attributes attr = {
		.address = TEST_GPA + t->size / 2,
		.size = 2 * PAGE_SIZE,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};
	int r = __vm_ioctl(t->vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);

	TEST_ASSERT(r && errno == EINVAL,
		    "KVM_SET_MEMORY_ATTRIBUTES over the guest_memfd slot should fail with EINVAL, got %d (%s)",
		    r, strerror(errno));
	attr.address = TEST_GPA - PAGE_SIZE;
	attr.attributes = 0;
	r = __vm_ioctl(t->vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
	TEST_ASSERT(r && errno == EINVAL,
		    "KVM_SET_MEMORY_ATTRIBUTES overlapping the guest_memfd slot should fail with EINVAL, got %d (%s)",
		    r, strerror(errno));
}

/*
 * Time conversions from the host, with the vCPU stopped: 4KiB inside a huge
 * page (private -> shared splits, shared -> private merges) and the whole
 * huge page.  The first round finds the range mapped huge by the guest.
 */
static void measure_latency(const struct test *t)
{
	const u64 conv_off = t->conv * PAGE_SIZE;
	const u64 huge_off = conv_off & ~((u64)t->ps - 1);
	struct latency lat[4] = {};
	int i;

	for (i = 0; i < LATENCY_ITERATIONS; i++) {
		latency_add(&lat[0], convert(t, conv_off, PAGE_SIZE, false));
		latency_add(&lat[1], convert(t, conv_off, PAGE_SIZE, true));
		latency_add(&lat[2], convert(t, huge_off, t->ps, false));
		latency_add(&lat[3], convert(t, huge_off, t->ps, true));
	}

	latency_print(t, "hypercall 4K private->shared", &t->live[0]);
	latency_print(t, "hypercall 4K shared->private", &t->live[1]);
	latency_print(t, "4K private->shared (split)", &lat[0]);
	latency_print(t, "4K shared->private (merge)", &lat[1]);
	latency_print(t, "huge page private->shared", &lat[2]);
	latency_print(t, "huge page shared->private", &lat[3]);
}

static const char *test_conversion(const struct hugetlb_hstate *h)
{
	const struct vm_shape shape = {
		.mode = VM_MODE_DEFAULT,
		.type = KVM_X86_SW_PROTECTED_VM,
	};
	struct mmu_stats now;
	struct hugetlb_pool base;
	struct test t = {
		.h = h,
		.ps = h->page_size,
	};
	unsigned long avail;
	u64 pages_per_huge;

	if (t.ps == SZ_2M)
		t.level = LEVEL_2M;
	else if (t.ps == SZ_1G)
		t.level = LEVEL_1G;
	else
		return "no stage-2 mapping level of this size";

	avail = hugetlb_hstate_avail(h);
	if (!avail)
		return "no free, unreserved huge page of this size in the pool";

	t.nr = hugetlb_nr_test_pages(h, avail, 4);
	t.size = t.nr * t.ps;
	t.nr_pages = t.size / PAGE_SIZE;
	pages_per_huge = t.ps / PAGE_SIZE;
	/* In the middle of the middle huge page: not at a huge boundary. */
	t.conv = t.nr / 2 * pages_per_huge + pages_per_huge / 2;
	t.split_2m = t.ps / SZ_2M - 1;

	test_msg(&t, "%lu huge page(s), %lu 4K pages at gpa 0x%lx\n",
		 t.nr, t.nr_pages, TEST_GPA);
	test_msg(&t, "the guest converts page %lu (gpa 0x%lx)\n",
		 t.conv, page_gpa(t.conv));

	hugetlb_pool_read(&base);

	/* The library sizes slot 0 for page tables mapping that many pages. */
	t.vm = __vm_create_shape_with_one_vcpu(shape, &t.vcpu, t.nr_pages,
					       guest_code);
	TEST_ASSERT_EQ(t.vm->page_size, PAGE_SIZE);
	vm_enable_cap(t.vm, KVM_CAP_EXIT_HYPERCALL, BIT(KVM_HC_MAP_GPA_RANGE));

	/* Without GUEST_MEMFD_FLAG_INIT_SHARED: every page starts private. */
	t.fd = vm_create_guest_memfd_hugetlb(t.vm, t.size, GUEST_MEMFD_FLAG_MMAP,
					     t.ps);
	__hugetlb_pool_assert(&base, h, 0, t.nr, "guest_memfd created");
	vm_set_user_memory_region2(t.vm, TEST_SLOT, KVM_MEM_GUEST_MEMFD,
				   TEST_GPA, t.size, NULL, t.fd, 0);
	virt_map(t.vm, TEST_GPA, TEST_GPA, t.nr_pages);
	t.mem = kvm_mmap(t.size, PROT_READ | PROT_WRITE, MAP_SHARED, t.fd);
	assert_vm_attributes_refused(&t);

	vcpu_args_set(t.vcpu, 2, t.nr_pages, t.conv);

	/* 1. Nothing of the range is mapped yet. */
	run_to(&t, STAGE_BASELINE);
	read_mmu_stats(&t, &t.baseline, "baseline:");
	__hugetlb_pool_assert(&base, h, 0, t.nr, "step 1, baseline");

	/* 2. All private and written: mapped huge. */
	run_to(&t, STAGE_PRIVATE);
	read_mmu_stats(&t, &t.uniform, "all private, written:");
	assert_huge_mappings(&t, &t.uniform, t.nr, 0, "all private");
	__hugetlb_pool_assert(&base, h, -t.nr, 0, "step 2, all private");
	host_expect_sigbus(&t, t.conv);

	/*
	 * 3. One page shared: its huge page is no longer mapped, the data is
	 * where the guest left it.  Once the guest touched everything again,
	 * only the mixed 2M range is mapped at 4KiB (512 more 4K mappings).
	 */
	run_to(&t, STAGE_SHARED);
	read_mmu_stats(&t, &now, "one page shared:");
	assert_huge_mappings(&t, &now, t.nr - 1, 0, "one page shared (zapped)");
	host_check_shared(&t);

	run_to(&t, STAGE_SHARED_TOUCHED);
	read_mmu_stats(&t, &t.mixed, "one page shared, touched:");
	assert_huge_mappings(&t, &t.mixed, t.nr - 1, t.split_2m,
			     "one page shared, touched");
	TEST_ASSERT(t.mixed.pages[LEVEL_4K] >= t.uniform.pages[LEVEL_4K] + PAGES_PER_2M,
		    "hugepages-%s: pages_4k = %lu with one page shared, expected at least %lu (%lu when uniform, plus the mixed 2M range at 4K)",
		    h->name, t.mixed.pages[LEVEL_4K],
		    t.uniform.pages[LEVEL_4K] + PAGES_PER_2M,
		    t.uniform.pages[LEVEL_4K]);
	__hugetlb_pool_assert(&base, h, -t.nr, 0, "step 3, one page shared");

	/* 4. Private again: zapped again, then mapped huge again. */
	run_to(&t, STAGE_PRIVATE_AGAIN);
	read_mmu_stats(&t, &now, "private again:");
	assert_huge_mappings(&t, &now, t.nr - 1, 0, "private again (zapped)");
	TEST_ASSERT(now.pages[LEVEL_4K] + PAGES_PER_2M <=
		    t.mixed.pages[LEVEL_4K] + SLOT0_SLACK,
		    "hugepages-%s: pages_4k = %lu once private again, expected the 512 4K mappings of the mixed range (%lu in all) zapped",
		    h->name, now.pages[LEVEL_4K], t.mixed.pages[LEVEL_4K]);
	host_expect_sigbus(&t, t.conv);

	run_to(&t, STAGE_PRIVATE_TOUCHED);
	read_mmu_stats(&t, &now, "private again, touched:");
	assert_huge_mappings(&t, &now, t.nr, 0, "private again, touched");
	TEST_ASSERT(now.pages[LEVEL_4K] <= t.uniform.pages[LEVEL_4K] + SLOT0_SLACK,
		    "hugepages-%s: pages_4k = %lu once uniform again, expected about %lu as when all private",
		    h->name, now.pages[LEVEL_4K], t.uniform.pages[LEVEL_4K]);
	__hugetlb_pool_assert(&base, h, -t.nr, 0, "step 4, private again");

	run_to(&t, STAGE_DONE);

	/* 5. Memory faults are not expected with one vCPU: not asserted on. */
	test_msg(&t, "exits: %lu KVM_HC_MAP_GPA_RANGE, %lu KVM_EXIT_MEMORY_FAULT\n",
		 t.nr_hypercalls, t.nr_memory_faults);
	TEST_ASSERT_EQ(t.nr_hypercalls, 2);

	/* 6. Conversion latency. */
	measure_latency(&t);
	__hugetlb_pool_assert(&base, h, -t.nr, 0, "step 6, latency loop");

	/* 7. The memslot holds the file until the VM is gone. */
	kvm_munmap(t.mem, t.size);
	close(t.fd);
	kvm_vm_free(t.vm);
	hugetlb_pool_assert_restored(&base);
	return NULL;
}

static const struct hugetlb_test tests[] = {
	{ "conversion", test_conversion },
};

int main(int argc, char *argv[])
{
	struct hugetlb_pool base;
	u64 flags, attrs;
	struct kvm_vm *vm;

	if (!kvm_has_cap(KVM_CAP_GUEST_MEMFD) ||
	    !kvm_has_cap(KVM_CAP_GUEST_MEMFD_FLAGS))
		ksft_exit_skip("guest_memfd or KVM_CAP_GUEST_MEMFD_FLAGS not supported\n");
	if (!(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM)))
		ksft_exit_skip("KVM_X86_SW_PROTECTED_VM not supported\n");
	if (!(kvm_check_cap(KVM_CAP_EXIT_HYPERCALL) & BIT(KVM_HC_MAP_GPA_RANGE)))
		ksft_exit_skip("KVM_CAP_EXIT_HYPERCALL without KVM_HC_MAP_GPA_RANGE\n");

	vm = vm_create_barebones_type(KVM_X86_SW_PROTECTED_VM);
	flags = vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
	attrs = vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
	kvm_vm_free(vm);

	if (!(flags & GUEST_MEMFD_FLAG_HUGETLB))
		ksft_exit_skip("SW_PROTECTED VM: no GUEST_MEMFD_FLAG_HUGETLB (flags 0x%lx)\n",
			       flags);
	if (!(flags & GUEST_MEMFD_FLAG_MMAP))
		ksft_exit_skip("SW_PROTECTED VM: no GUEST_MEMFD_FLAG_MMAP (flags 0x%lx)\n",
			       flags);
	if (!(attrs & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		ksft_exit_skip("SW_PROTECTED VM: guest_memfd attributes 0x%lx, no PRIVATE\n",
			       attrs);
	if (!hugetlb_find_hstates())
		ksft_exit_skip("No huge page sizes in /sys/kernel/mm/hugepages\n");

	hugetlb_tests_start(&base, 0, ARRAY_SIZE(tests));
	hugetlb_tests_run(tests, ARRAY_SIZE(tests));
	hugetlb_tests_finish(&base);
}
