// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for the in-place conversion of a hugetlb-backed guest_memfd between
 * shared and private (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd).
 *
 * The host sees the state of each 4KiB page through a MAP_SHARED mapping of
 * the guest_memfd: a shared page can be read and written, touching a private
 * page raises SIGBUS.  Each test keeps a model of the file, the state of each
 * 4KiB page and the pattern last written to it, and checks the whole file
 * against it after every step: conversions keep the content in place, in
 * both directions, and leave the pages outside the range alone.
 *
 * Every sub-test runs for each huge page size the host has free pages of,
 * with at most one gigantic page at a time, and checks that the hugetlb
 * pool counters are back to their initial values at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/sizes.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "hugetlb_pool.h"
#include "kvm_util.h"
#include "test_util.h"

#define HOST_MAGIC		0x686f737400000000ull

/* Private pages probed per run of them: the ends and some in between. */
#define PRIVATE_PROBES		64

static size_t pg;
/* The attributes KVM_X86_SW_PROTECTED_VM can set: PRIVATE. */
static u64 settable;

/* One sub-test on one huge page size: a VM, a file and its model. */
struct ctx {
	char what[64];
	const struct hugetlb_hstate *h;
	struct hugetlb_pool base;
	struct kvm_vm *vm;
	size_t ps;		/* huge page size */
	size_t size;		/* file size */
	unsigned long nr;	/* huge pages in the file */
	int fd;
	u64 *mem;		/* the whole file, MAP_SHARED */
	/* The model, per 4KiB page. */
	bool *private;
	u8 *gen;		/* the pattern in it, 0 for zeroes */
};

/* ----------------------------------------------------------------- helpers */

/*
 * The first word of a 4KiB page holds pattern(), the last pattern_last():
 * pattern @gen of the page at @off, or zeroes for @gen 0.
 */
static u64 pattern(size_t off, u8 gen)
{
	return gen ? HOST_MAGIC | (u64)gen << 40 | off : 0;
}

static u64 pattern_last(size_t off, u8 gen)
{
	return gen ? ~pattern(off, gen) : 0;
}

static u64 *first_word(struct ctx *c, size_t off)
{
	return &c->mem[off / sizeof(u64)];
}

static u64 *last_word(struct ctx *c, size_t off)
{
	return &c->mem[(off + pg) / sizeof(u64) - 1];
}

static struct kvm_memory_attributes2 attrs(u64 offset, u64 size,
					   u64 attributes)
{
	struct kvm_memory_attributes2 a = {
		.offset = offset,
		.size = size,
		.attributes = attributes,
	};

	return a;
}

static int __set_attributes(int fd, struct kvm_memory_attributes2 *a)
{
	return __kvm_ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, a);
}

static void pool_expect(struct ctx *c, long free, long resv)
{
	__hugetlb_pool_assert(&c->base, c->h, free, resv, c->what);
}

static void pool_expect_restored(struct ctx *c)
{
	__hugetlb_pool_assert(&c->base, NULL, 0, 0, c->what);
}

/*
 * Whether the test writes and checks the 4KiB page at @off.  A gigantic
 * page has 262144 of them, and every host fault on it takes a while under
 * TCG: there only the first two, the middle three and the last two pages of
 * each 2MiB are, which covers the pages the cases convert on their own and
 * their neighbours.  The model still tracks every page.
 */
static bool sampled(struct ctx *c, size_t off)
{
	size_t in_2m = off % SZ_2M / pg, per_2m = SZ_2M / pg;

	if (c->ps < SZ_1G)
		return true;
	return in_2m < 2 || in_2m >= per_2m - 2 ||
	       (in_2m >= per_2m / 2 - 1 && in_2m <= per_2m / 2 + 1);
}

/*
 * Check one run of shared pages [@start, @end): every (sampled) 4KiB page
 * can be read and holds its pattern.
 */
static void check_shared(struct ctx *c, size_t start, size_t end)
{
	size_t off;

	for (off = start; off < end; off += pg) {
		u8 gen = c->gen[off / pg];
		u64 first, last;

		if (!sampled(c, off))
			continue;

		/* A SIGBUS here kills the test: the page should be shared. */
		first = READ_ONCE(*first_word(c, off));
		last = READ_ONCE(*last_word(c, off));
		TEST_ASSERT(first == pattern(off, gen) &&
			    last == pattern_last(off, gen),
			    "%s: shared 4KiB page at 0x%zx holds 0x%llx...0x%llx, expected 0x%llx...0x%llx",
			    c->what, off, (unsigned long long)first,
			    (unsigned long long)last,
			    (unsigned long long)pattern(off, gen),
			    (unsigned long long)pattern_last(off, gen));
	}
}

/*
 * Check one run of private pages [@start, @end): reading and writing them
 * raise SIGBUS.  Probes the first and last page and up to PRIVATE_PROBES
 * in between; what a write that got through would have changed is caught
 * once the page is shared again.
 */
static void check_private(struct ctx *c, size_t start, size_t end)
{
	size_t n = (end - start) / pg, step, off;

	step = n > PRIVATE_PROBES ? n / PRIVATE_PROBES * pg : pg;
	for (off = start; off < end; off += step) {
		if (off + step >= end)
			off = end - pg;
		TEST_EXPECT_SIGBUS((void)READ_ONCE(*first_word(c, off)));
		TEST_EXPECT_SIGBUS(WRITE_ONCE(*last_word(c, off), ~0ull));
	}
}

/* Check the whole file against the model. */
static void verify(struct ctx *c)
{
	size_t n = c->size / pg, i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && c->private[j] == c->private[i]; j++)
			;
		if (c->private[i])
			check_private(c, i * pg, j * pg);
		else
			check_shared(c, i * pg, j * pg);
	}
}

/* Write @gen's pattern to the shared pages [@start, @end). */
static void fill(struct ctx *c, size_t start, size_t end, u8 gen)
{
	size_t off;

	for (off = start; off < end; off += pg) {
		TEST_ASSERT(!c->private[off / pg],
			    "%s: test bug: filling private page 0x%zx",
			    c->what, off);
		c->gen[off / pg] = gen;
		if (!sampled(c, off))
			continue;
		WRITE_ONCE(*first_word(c, off), pattern(off, gen));
		WRITE_ONCE(*last_word(c, off), pattern_last(off, gen));
	}
}

/* Write @gen's pattern to every shared page of the file. */
static void fill_shared(struct ctx *c, u8 gen)
{
	size_t i;

	for (i = 0; i < c->size / pg; i++) {
		if (!c->private[i])
			fill(c, i * pg, (i + 1) * pg, gen);
	}
}

/* Convert [@off, @off + @len) of the file, which must succeed. */
static void convert(struct ctx *c, size_t off, size_t len, bool private)
{
	struct kvm_memory_attributes2 a =
		attrs(off, len, private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0);
	int r = __set_attributes(c->fd, &a);
	size_t i;

	TEST_ASSERT(!r,
		    "%s: converting [0x%zx, +0x%zx) to %s failed: %s (error_offset 0x%llx)",
		    c->what, off, len, private ? "private" : "shared",
		    strerror(errno), (unsigned long long)a.error_offset);
	for (i = off / pg; i < (off + len) / pg; i++)
		c->private[i] = private;
}

/* PUNCH_HOLE keeps the state of each page and zeroes its content. */
static void punch(struct ctx *c, size_t off, size_t len)
{
	kvm_fallocate(c->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off,
		      len);
	memset(&c->gen[off / pg], 0, len / pg);
}

/*
 * Set up a VM of @type with up to @max huge pages of @h for a file (but one
 * gigantic page), at least @min.  Returns why the test is skipped, or NULL.
 */
static const char *ctx_init(struct ctx *c, const char *name,
			    const struct hugetlb_hstate *h, unsigned long type,
			    unsigned long min, unsigned long max)
{
	unsigned long avail = hugetlb_hstate_avail(h);

	memset(c, 0, sizeof(*c));
	snprintf(c->what, sizeof(c->what), "%s %s", name, h->name);
	c->h = h;
	c->ps = h->page_size;
	c->fd = -1;

	if (!avail)
		return "no free, unreserved huge page of this size in the pool";
	c->nr = hugetlb_nr_test_pages(h, avail, max);
	if (c->nr < min)
		return h->page_size >= SZ_1G ?
		       "needs two huge pages, only one gigantic page is used at a time" :
		       "not enough free, unreserved huge pages of this size";
	c->size = c->nr * c->ps;

	c->private = calloc(c->size / pg, sizeof(*c->private));
	c->gen = calloc(c->size / pg, sizeof(*c->gen));
	TEST_ASSERT(c->private && c->gen, "calloc() failed");

	hugetlb_pool_read(&c->base);
	c->vm = vm_create_barebones_type(type);
	return NULL;
}

/* Create and map the file, GUEST_MEMFD_FLAG_HUGETLB | MMAP | @flags. */
static void ctx_open(struct ctx *c, u64 flags)
{
	bool private = !(flags & GUEST_MEMFD_FLAG_INIT_SHARED);
	size_t i;

	c->fd = vm_create_guest_memfd_hugetlb(c->vm, c->size,
					      GUEST_MEMFD_FLAG_MMAP | flags,
					      c->ps);
	pool_expect(c, 0, c->nr);
	c->mem = kvm_mmap(c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd);
	for (i = 0; i < c->size / pg; i++) {
		c->private[i] = private;
		c->gen[i] = 0;
	}
}

static void ctx_close(struct ctx *c)
{
	kvm_munmap(c->mem, c->size);
	kvm_close(c->fd);
	c->fd = -1;
	pool_expect_restored(c);
}

static const char *ctx_done(struct ctx *c)
{
	kvm_vm_free(c->vm);
	pool_expect_restored(c);
	free(c->private);
	free(c->gen);
	return NULL;
}

/* ------------------------------------------------------------------- tests */

/*
 * A hugetlb guest_memfd of a KVM_X86_SW_PROTECTED_VM may be shared at
 * creation and mappable; without INIT_SHARED it starts private.  Without
 * GUEST_MEMFD_FLAG_HUGETLB, INIT_SHARED stays refused on such a VM.
 */
static const char *test_create_flags(const struct hugetlb_hstate *h)
{
	static const u64 flags[] = {
		0, GUEST_MEMFD_FLAG_MMAP, GUEST_MEMFD_FLAG_INIT_SHARED,
		GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	const char *skip;
	struct ctx c;
	int i, fd;

	skip = ctx_init(&c, "create_flags", h, KVM_X86_SW_PROTECTED_VM, 1, 1);
	if (skip)
		return skip;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		fd = vm_create_guest_memfd_hugetlb(c.vm, c.size, flags[i],
						   c.ps);
		pool_expect(&c, 0, c.nr);
		kvm_close(fd);
		pool_expect_restored(&c);
	}

	/* The mapping shows the initial state. */
	ctx_open(&c, 0);
	verify(&c);
	pool_expect(&c, 0, c.nr);
	ctx_close(&c);
	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	verify(&c);
	pool_expect(&c, -c.nr, 0);
	ctx_close(&c);

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		if (!(flags[i] & GUEST_MEMFD_FLAG_INIT_SHARED))
			continue;
		fd = __vm_create_guest_memfd(c.vm, c.ps, flags[i]);
		TEST_ASSERT(fd < 0 && errno == EINVAL,
			    "%s: guest_memfd() with flags 0x%llx and no GUEST_MEMFD_FLAG_HUGETLB should fail with EINVAL, got %d (%s)",
			    c.what, (unsigned long long)flags[i], fd,
			    fd < 0 ? strerror(errno) : "success");
	}

	return ctx_done(&c);
}

/*
 * Private -> shared -> private -> shared: what is written while shared
 * survives the round trip, and converting to private zaps the mapping.
 */
static const char *test_roundtrip_private(const struct hugetlb_hstate *h)
{
	const char *skip;
	struct ctx c;

	skip = ctx_init(&c, "roundtrip_private", h, KVM_X86_SW_PROTECTED_VM,
			1, 2);
	if (skip)
		return skip;

	ctx_open(&c, 0);
	verify(&c);
	/* Touching private memory doesn't allocate it ... */
	pool_expect(&c, 0, c.nr);

	/* ... and neither does converting it. */
	convert(&c, 0, c.size, false);
	pool_expect(&c, 0, c.nr);
	verify(&c);
	pool_expect(&c, -c.nr, 0);
	fill(&c, 0, c.size, 1);

	convert(&c, 0, c.size, true);
	verify(&c);
	convert(&c, 0, c.size, false);
	verify(&c);
	pool_expect(&c, -c.nr, 0);

	ctx_close(&c);
	return ctx_done(&c);
}

/* Shared -> private -> shared, twice, with new content in between. */
static const char *test_roundtrip_shared(const struct hugetlb_hstate *h)
{
	const char *skip;
	struct ctx c;
	u8 gen;

	skip = ctx_init(&c, "roundtrip_shared", h, KVM_X86_SW_PROTECTED_VM,
			1, 2);
	if (skip)
		return skip;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	verify(&c);
	pool_expect(&c, -c.nr, 0);

	for (gen = 1; gen <= 2; gen++) {
		fill(&c, 0, c.size, gen);
		convert(&c, 0, c.size, true);
		verify(&c);
		convert(&c, 0, c.size, false);
		verify(&c);
	}
	pool_expect(&c, -c.nr, 0);

	ctx_close(&c);
	return ctx_done(&c);
}

/*
 * Converting one 4KiB page in the middle of a huge page, either way, leaves
 * the rest of it alone: the first and last 4KiB page of the huge page, the
 * pages next to the converted one and all others keep state and content.
 */
static const char *test_convert_4k(const struct hugetlb_hstate *h)
{
	const char *skip;
	size_t hp, mid;
	struct ctx c;

	skip = ctx_init(&c, "convert_4k", h, KVM_X86_SW_PROTECTED_VM, 1, 2);
	if (skip)
		return skip;
	/* The last huge page of the file, and the 4KiB page in its middle. */
	hp = c.size - c.ps;
	mid = hp + c.ps / 2;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, c.size, 1);

	/* Shared to private. */
	convert(&c, mid, pg, true);
	verify(&c);

	/* The neighbours stay writable. */
	fill(&c, mid - pg, mid, 2);
	fill(&c, mid + pg, mid + 2 * pg, 2);
	fill(&c, hp, hp + pg, 2);
	fill(&c, c.size - pg, c.size, 2);
	verify(&c);

	convert(&c, mid, pg, false);
	verify(&c);
	pool_expect(&c, -c.nr, 0);

	/* Private to shared. */
	convert(&c, 0, c.size, true);
	verify(&c);
	convert(&c, mid, pg, false);
	verify(&c);
	fill(&c, mid, mid + pg, 3);
	convert(&c, mid, pg, true);
	verify(&c);
	convert(&c, mid - pg, 3 * pg, false);
	verify(&c);
	convert(&c, 0, c.size, false);
	verify(&c);
	pool_expect(&c, -c.nr, 0);

	ctx_close(&c);
	return ctx_done(&c);
}

/*
 * Converting pages that aren't allocated yet records the new state without
 * allocating; a later fault or fallocate() sees it.  For each initial state,
 * with the huge pages allocated by a fault, and again by fallocate().
 */
static const char *test_before_alloc(const struct hugetlb_hstate *h)
{
	const char *skip;
	size_t hp, i;
	int shared;
	struct ctx c;

	skip = ctx_init(&c, "before_alloc", h, KVM_X86_SW_PROTECTED_VM, 1, 2);
	if (skip)
		return skip;

	for (shared = 0; shared <= 1; shared++) {
		bool to_private = shared;

		ctx_open(&c, shared ? GUEST_MEMFD_FLAG_INIT_SHARED : 0);

		/* Convert the first and middle 4KiB of each huge page. */
		for (i = 0; i < c.nr; i++) {
			hp = i * c.ps;
			convert(&c, hp, pg, to_private);
			convert(&c, hp + c.ps / 2, pg, to_private);
		}
		pool_expect(&c, 0, c.nr);

		/* A private page still faults without allocating. */
		check_private(&c, shared ? 0 : c.size - pg,
			      shared ? pg : c.size);
		pool_expect(&c, 0, c.nr);

		/* Fault the pages in from the host where they are shared. */
		verify(&c);
		pool_expect(&c, -c.nr, 0);
		fill_shared(&c, 1);
		verify(&c);

		/* Free them; the states stay, and fallocate() sees them. */
		punch(&c, 0, c.size);
		pool_expect(&c, 0, c.nr);
		for (i = 0; i < c.nr; i++)
			convert(&c, i * c.ps + pg, pg, to_private);
		pool_expect(&c, 0, c.nr);
		kvm_fallocate(c.fd, FALLOC_FL_KEEP_SIZE, 0, c.size);
		pool_expect(&c, -c.nr, 0);
		verify(&c);

		ctx_close(&c);
	}

	return ctx_done(&c);
}

/*
 * A range spanning an allocated and an unallocated huge page: the allocated
 * part keeps its content, the other is recorded and read as zero once
 * shared.
 */
static const char *test_mixed_alloc(const struct hugetlb_hstate *h)
{
	const char *skip;
	size_t ps, half;
	struct ctx c;

	skip = ctx_init(&c, "mixed_alloc", h, KVM_X86_SW_PROTECTED_VM, 2, 2);
	if (skip)
		return skip;
	ps = c.ps;
	half = ps / 2;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, ps, 1);
	pool_expect(&c, -1, 1);

	/* Second half of page 0 (allocated), first half of page 1 (not). */
	convert(&c, half, ps, true);
	pool_expect(&c, -1, 1);
	verify(&c);
	pool_expect(&c, -2, 0);
	fill(&c, ps + half, 2 * ps, 2);
	convert(&c, half, ps, false);
	verify(&c);

	/* The other way: page 1 punched out again while private. */
	convert(&c, 0, 2 * ps, true);
	punch(&c, ps, ps);
	pool_expect(&c, -1, 1);
	convert(&c, half, ps, false);
	pool_expect(&c, -1, 1);
	verify(&c);
	pool_expect(&c, -2, 0);
	convert(&c, 0, 2 * ps, false);
	verify(&c);

	ctx_close(&c);
	return ctx_done(&c);
}

/*
 * PUNCH_HOLE keeps the state of each page; pages faulted in again read as
 * zero.  Whole huge pages go back to the pool, even with mixed state.
 */
static const char *test_punch_hole(const struct hugetlb_hstate *h)
{
	const char *skip;
	size_t mid, i;
	struct ctx c;

	skip = ctx_init(&c, "punch_hole", h, KVM_X86_SW_PROTECTED_VM, 1, 2);
	if (skip)
		return skip;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, c.size, 1);
	for (i = 0; i < c.nr; i++)
		convert(&c, i * c.ps + c.ps / 2, pg, true);
	convert(&c, c.size - pg, pg, true);
	pool_expect(&c, -c.nr, 0);

	punch(&c, 0, c.size);
	pool_expect(&c, 0, c.nr);
	verify(&c);
	pool_expect(&c, -c.nr, 0);

	/* A partial punch zeroes in place, private pages included. */
	mid = c.ps / 2;
	convert(&c, 0, c.size, false);
	fill(&c, 0, c.size, 2);
	convert(&c, mid, pg, true);
	punch(&c, mid - pg, 3 * pg);
	pool_expect(&c, -c.nr, 0);
	verify(&c);
	convert(&c, mid, pg, false);
	verify(&c);

	ctx_close(&c);
	return ctx_done(&c);
}

/*
 * The child of fork(): check @n offsets of @mem (the inherited mapping) and
 * @mem2 (its own): with @expect_bus[i], that they raise SIGBUS, else that
 * they hold @val[i].  A failed check exits the child with its message.
 */
static void child_check(u64 *mem, u64 *mem2, const size_t *offs,
			const u64 *val, const bool *expect_bus, int n)
{
	u64 *maps[] = { mem, mem2 };
	int i, m;

	for (i = 0; i < n; i++) {
		for (m = 0; m < 2; m++) {
			u64 *p = &maps[m][offs[i] / sizeof(u64)];

			if (expect_bus[i])
				TEST_EXPECT_SIGBUS((void)READ_ONCE(*p));
			else
				TEST_ASSERT_EQ(READ_ONCE(*p), val[i]);
		}
	}
}

/*
 * Converting to private zaps every host mapping, also those of another
 * process: a child that inherited the mapping and mapped the file itself,
 * and touched the pages, gets SIGBUS once the parent converted them.
 */
static const char *test_fork(const struct hugetlb_hstate *h)
{
	const char *skip;
	int p2c[2], c2p[2], status;
	size_t offs[3];
	bool bus[3];
	u64 val[3];
	struct ctx c;
	pid_t pid;
	char b;
	int i;

	skip = ctx_init(&c, "fork", h, KVM_X86_SW_PROTECTED_VM, 1, 1);
	if (skip)
		return skip;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, c.size, 1);

	/* Page 0 stays shared, the middle and last page become private. */
	offs[0] = 0;
	offs[1] = c.ps / 2;
	offs[2] = c.size - pg;
	for (i = 0; i < 3; i++)
		val[i] = pattern(offs[i], 1);

	TEST_ASSERT(!pipe(p2c) && !pipe(c2p), "pipe() failed");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork() failed");
	if (!pid) {
		u64 *mem2;

		close(p2c[1]);
		close(c2p[0]);
		mem2 = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    c.fd, 0);
		TEST_ASSERT(mem2 != MAP_FAILED, "child: mmap() failed");
		memset(bus, 0, sizeof(bus));
		child_check(c.mem, mem2, offs, val, bus, 3);
		TEST_ASSERT(write(c2p[1], "r", 1) == 1 &&
			    read(p2c[0], &b, 1) == 1, "child: pipe failed");
		bus[1] = true;
		bus[2] = true;
		child_check(c.mem, mem2, offs, val, bus, 3);
		_exit(0);
	}

	close(p2c[0]);
	close(c2p[1]);
	TEST_ASSERT(read(c2p[0], &b, 1) == 1,
		    "%s: the child failed before the conversion", c.what);
	convert(&c, pg, c.size - pg, true);
	TEST_ASSERT(write(p2c[1], "c", 1) == 1, "write() to the child failed");
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid() failed");
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
		    "%s: the child's checks failed (status 0x%x, its message is above)",
		    c.what, status);
	close(p2c[1]);
	close(c2p[0]);

	verify(&c);
	convert(&c, 0, c.size, false);
	verify(&c);

	ctx_close(&c);
	return ctx_done(&c);
}

/*
 * A conversion to private fails with EAGAIN, and error_offset set, when a
 * page to convert is referenced beyond guest_memfd's own reference, e.g.
 * pinned for I/O.  That can't be reached from userspace: the host maps
 * hugetlb guest_memfd memory by pfn (VM_PFNMAP), which get_user_pages()
 * refuses, so no syscall can take such a reference through the mapping
 * (the allocator's KUnit suite covers EAGAIN with a real reference).  Check
 * that the attempts fail, and that the conversion then succeeds.
 */
static const char *test_pin(const struct hugetlb_hstate *h)
{
	const char *skip;
	struct iovec local, remote, iov;
	size_t off;
	u64 buf[8];
	struct ctx c;
	int fds[2];
	ssize_t r;

	skip = ctx_init(&c, "pin", h, KVM_X86_SW_PROTECTED_VM, 1, 1);
	if (skip)
		return skip;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, c.size, 1);
	off = c.ps / 2;

	/* vmsplice() would put a reference to the page in a pipe. */
	TEST_ASSERT(!pipe2(fds, O_NONBLOCK), "pipe2() failed");
	iov.iov_base = first_word(&c, off);
	iov.iov_len = pg;
	r = vmsplice(fds[1], &iov, 1, 0);
	TEST_ASSERT(r < 0 && errno == EFAULT,
		    "%s: vmsplice() of guest_memfd memory should fail with EFAULT, got %zd (%s)",
		    c.what, r, r < 0 ? strerror(errno) : "success");
	r = read(fds[0], buf, sizeof(buf));
	TEST_ASSERT(r < 0 && errno == EAGAIN,
		    "%s: the pipe should be empty, read() got %zd", c.what, r);

	/*
	 * process_vm_readv() pins the remote pages.  It fails anyway without
	 * CONFIG_CROSS_MEMORY_ATTACH, so only EFAULT tells it tried.
	 */
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = first_word(&c, off);
	remote.iov_len = sizeof(buf);
	r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	TEST_ASSERT(r < 0,
		    "%s: process_vm_readv() of guest_memfd memory should fail, got %zd",
		    c.what, r);
	if (errno != EFAULT)
		ksft_print_msg("%s: process_vm_readv() failed with %s, not EFAULT\n",
			       c.what, strerror(errno));

	convert(&c, off, pg, true);
	verify(&c);
	convert(&c, off, pg, false);
	verify(&c);

	close(fds[0]);
	close(fds[1]);
	ctx_close(&c);
	return ctx_done(&c);
}

static void expect_einval(struct ctx *c, struct kvm_memory_attributes2 a,
			  const char *why)
{
	struct kvm_memory_attributes2 arg = a;
	int r = __set_attributes(c->fd, &arg);

	TEST_ASSERT(r < 0 && errno == EINVAL,
		    "%s: %s (offset 0x%llx, size 0x%llx, attributes 0x%llx, flags 0x%llx) should fail with EINVAL, got %d (%s)",
		    c->what, why, a.offset, a.size, a.attributes, a.flags, r,
		    r < 0 ? strerror(errno) : "success");
}

/*
 * Every invalid request fails with EINVAL and changes nothing.  The file
 * is shared but for one private 4KiB page, and the bad requests would
 * change one or the other if they took effect.
 */
static const char *test_bad_input(const struct hugetlb_hstate *h)
{
	const u64 priv = KVM_MEMORY_ATTRIBUTE_PRIVATE;
	struct kvm_memory_attributes2 a;
	const char *skip;
	size_t x, size;
	struct ctx c;
	char why[64];
	int i;

	skip = ctx_init(&c, "bad_input", h, KVM_X86_SW_PROTECTED_VM, 1, 2);
	if (skip)
		return skip;
	size = c.size;
	x = c.ps / 2;

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, size, 1);
	convert(&c, x, pg, true);

	for (i = 0; i < 64; i++) {
		a = attrs(0, size, priv);
		a.flags = BIT_ULL(i);
		snprintf(why, sizeof(why), "flags bit %d", i);
		expect_einval(&c, a, why);
	}
	for (i = 0; i < ARRAY_SIZE(a.reserved); i++) {
		a = attrs(0, size, priv);
		a.reserved[i] = 1;
		snprintf(why, sizeof(why), "reserved[%d] = 1", i);
		expect_einval(&c, a, why);
	}
	for (i = 0; i < 64; i++) {
		if (settable & BIT_ULL(i))
			continue;
		snprintf(why, sizeof(why), "attribute bit %d", i);
		expect_einval(&c, attrs(0, size, BIT_ULL(i)), why);
		expect_einval(&c, attrs(0, size, BIT_ULL(i) | priv), why);
	}

	expect_einval(&c, attrs(0, 0, priv), "size 0");
	expect_einval(&c, attrs(x, 0, 0), "size 0");

	expect_einval(&c, attrs(1, pg, priv), "unaligned offset");
	expect_einval(&c, attrs(x + 8, pg, 0), "unaligned offset");
	expect_einval(&c, attrs(x - pg / 2, pg, 0), "unaligned offset");
	expect_einval(&c, attrs(0, 1, priv), "unaligned size");
	expect_einval(&c, attrs(0, pg - 1, priv), "unaligned size");
	expect_einval(&c, attrs(x, pg + 1, 0), "unaligned size");
	expect_einval(&c, attrs(x, pg / 2, 0), "unaligned size");
	expect_einval(&c, attrs(0, size - 1, priv), "unaligned size");

	expect_einval(&c, attrs(x, -(u64)x, 0), "offset + size overflows");
	expect_einval(&c, attrs(size - pg, -(u64)pg, priv),
		      "offset + size overflows");
	expect_einval(&c, attrs(pg, -(u64)pg, priv),
		      "offset + size overflows");
	expect_einval(&c, attrs(-(u64)pg, pg, priv),
		      "offset + size overflows");
	expect_einval(&c, attrs(-(u64)pg, 2 * pg, priv),
		      "offset + size overflows");

	expect_einval(&c, attrs(size, pg, priv), "range past the end");
	expect_einval(&c, attrs(0, size + pg, priv), "range past the end");
	expect_einval(&c, attrs(x, size, 0), "range past the end");
	expect_einval(&c, attrs(size - pg, 2 * pg, priv),
		      "range past the end");
	expect_einval(&c, attrs(1ull << 62, pg, priv), "range past the end");

	verify(&c);
	pool_expect(&c, -c.nr, 0);

	convert(&c, x, pg, false);
	verify(&c);

	ctx_close(&c);
	return ctx_done(&c);
}

/*
 * A default VM has no private memory, so its hugetlb guest_memfds have no
 * attributes: the capability says 0, and every conversion, even to shared,
 * fails with EINVAL and changes nothing.
 */
static const char *test_default_vm(const struct hugetlb_hstate *h)
{
	const u64 mmap_shared = GUEST_MEMFD_FLAG_MMAP |
				GUEST_MEMFD_FLAG_INIT_SHARED;
	u64 flags, allowed;
	const char *skip;
	struct ctx c;
	char why[64];
	int i;

	skip = ctx_init(&c, "default_vm", h, VM_TYPE_DEFAULT, 1, 1);
	if (skip)
		return skip;

	flags = vm_check_cap(c.vm, KVM_CAP_GUEST_MEMFD_FLAGS);
	if ((flags & (mmap_shared | GUEST_MEMFD_FLAG_HUGETLB)) !=
	    (mmap_shared | GUEST_MEMFD_FLAG_HUGETLB)) {
		ctx_done(&c);
		return "no GUEST_MEMFD_FLAG_HUGETLB/MMAP/INIT_SHARED on default VMs";
	}
	allowed = vm_check_cap(c.vm, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
	TEST_ASSERT(!allowed,
		    "%s: default VMs shouldn't have guest_memfd attributes (0x%llx)",
		    c.what, (unsigned long long)allowed);

	ctx_open(&c, GUEST_MEMFD_FLAG_INIT_SHARED);
	fill(&c, 0, c.size, 1);

	expect_einval(&c, attrs(0, c.size, 0), "shared on a default VM");
	for (i = 0; i < 64; i++) {
		snprintf(why, sizeof(why), "attribute bit %d on a default VM",
			 i);
		expect_einval(&c, attrs(0, c.size, BIT_ULL(i)), why);
		expect_einval(&c, attrs(c.ps / 2, pg, BIT_ULL(i)), why);
	}
	verify(&c);
	pool_expect(&c, -c.nr, 0);

	ctx_close(&c);
	return ctx_done(&c);
}

/* Only hugetlb guest_memfds have attributes. */
static const char *test_not_hugetlb(void)
{
	static const unsigned long types[] = {
		KVM_X86_SW_PROTECTED_VM, VM_TYPE_DEFAULT,
	};
	static const u64 flags[] = {
		0, GUEST_MEMFD_FLAG_MMAP, GUEST_MEMFD_FLAG_INIT_SHARED,
		GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	struct kvm_memory_attributes2 a;
	u64 supported, attributes;
	struct kvm_vm *vm;
	int i, j, fd, r;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		vm = vm_create_barebones_type(types[i]);
		supported = vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
		/* A VM with private memory takes INIT_SHARED only with hugetlb. */
		if (types[i] == KVM_X86_SW_PROTECTED_VM)
			supported &= ~GUEST_MEMFD_FLAG_INIT_SHARED;

		for (j = 0; j < ARRAY_SIZE(flags); j++) {
			if (flags[j] & ~supported)
				continue;
			fd = vm_create_guest_memfd(vm, 16 * pg, flags[j]);
			for (attributes = 0;
			     attributes <= KVM_MEMORY_ATTRIBUTE_PRIVATE;
			     attributes += KVM_MEMORY_ATTRIBUTE_PRIVATE) {
				a = attrs(0, pg, attributes);
				r = __set_attributes(fd, &a);
				TEST_ASSERT(r < 0 && errno == ENOTTY,
					    "VM type %lu, guest_memfd flags 0x%llx: KVM_SET_MEMORY_ATTRIBUTES2 (attributes 0x%llx) should fail with ENOTTY, got %d (%s)",
					    types[i], (unsigned long long)flags[j],
					    (unsigned long long)attributes, r,
					    r < 0 ? strerror(errno) : "success");
			}
			kvm_close(fd);
		}
		kvm_vm_free(vm);
	}
	return NULL;
}

static const struct hugetlb_test hstate_tests[] = {
	{ "create_flags", test_create_flags },
	{ "roundtrip_private", test_roundtrip_private },
	{ "roundtrip_shared", test_roundtrip_shared },
	{ "convert_4k", test_convert_4k },
	{ "before_alloc", test_before_alloc },
	{ "mixed_alloc", test_mixed_alloc },
	{ "punch_hole", test_punch_hole },
	{ "fork", test_fork },
	{ "pin", test_pin },
	{ "bad_input", test_bad_input },
	{ "default_vm", test_default_vm },
};

int main(int argc, char *argv[])
{
	struct hugetlb_pool base;
	struct kvm_vm *vm;
	u64 flags;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD_FLAGS));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) &
		     BIT(KVM_X86_SW_PROTECTED_VM));

	pg = getpagesize();
	hugetlb_find_hstates();

	vm = vm_create_barebones_type(KVM_X86_SW_PROTECTED_VM);
	flags = vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
	settable = vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
	kvm_vm_free(vm);

	if (!(flags & GUEST_MEMFD_FLAG_HUGETLB) ||
	    !(flags & GUEST_MEMFD_FLAG_MMAP))
		ksft_exit_skip("SW_PROTECTED_VM lacks GUEST_MEMFD_FLAG_HUGETLB|MMAP (0x%llx)\n",
			       (unsigned long long)flags);
	if (!(settable & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		ksft_exit_skip("SW_PROTECTED_VM lacks guest_memfd attribute PRIVATE (0x%llx)\n",
			       (unsigned long long)settable);
	if (!hugetlb_nr_hstates)
		ksft_exit_skip("No huge page sizes in /sys/kernel/mm/hugepages\n");

	hugetlb_tests_start(&base, 1, ARRAY_SIZE(hstate_tests));
	hugetlb_test_report(test_not_hugetlb(), "not_hugetlb", "");
	hugetlb_tests_run(hstate_tests, ARRAY_SIZE(hstate_tests));
	hugetlb_tests_finish(&base);
}
