// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem allocator test cases, shared by KUnit and the userspace suite.
 *
 * Every case works on the pool it is given as a guest of whatever else uses
 * it: it records the pool's counters when it starts and checks, when it is
 * done, that they are back to those values with no huge page awaiting
 * reassembly.  hgmem_check_file() validates the file's invariants after
 * every operation.  Offsets are chosen relative to the huge page size, so
 * the same body runs on 2M and 1G pools; the only difference it has to
 * know is that a 1G page splits into 2M pieces first and only the mixed
 * piece into 4K folios.
 */
#include <linux/guestmem.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/sprintf.h>
#include <linux/string.h>

#include "guestmem_cases.h"

#define GT_PAGE		((u64)PAGE_SIZE)
#define GT_PMD_SIZE	(GT_PAGE << PMD_ORDER)
#define GT_SENTINEL	0x5eadULL	/* never a valid error offset */

bool hgmem_test_check(struct hgmem_test *t, bool ok, const char *file, int line,
		      const char *what, bool fatal)
{
	if (ok)
		return true;
	t->nr_failed++;
	t->fail(t, file, line, what, fatal);
	return false;
}

bool hgmem_test_check_eq(struct hgmem_test *t, unsigned long long a,
			 unsigned long long b, const char *file, int line,
			const char *what, bool fatal)
{
	char buf[192];

	if (a == b)
		return true;
	snprintf(buf, sizeof(buf), "%s: %lld (%#llx) != %lld (%#llx)", what,
		 (long long)a, a, (long long)b, b);
	return hgmem_test_check(t, false, file, line, buf, fatal);
}

/* ---------------------------------------------------------------- helpers */

static u64 gt_huge(struct hstate *h)
{
	return huge_page_size(h);
}

/* A 4K page in the middle of the first huge page, away from its edges. */
static u64 gt_mid(struct hstate *h)
{
	return gt_huge(h) / 2 + 5 * GT_PAGE;
}

/* Order of the folios outside the mixed 2M piece of a split huge page. */
static int gt_rest_order(struct hstate *h)
{
	return huge_page_order(h) > PMD_ORDER ? PMD_ORDER : 0;
}

/* Splits one mixed 4K page costs: 1G -> 2M -> 4K, or 2M -> 4K. */
static u64 gt_nr_levels(struct hstate *h)
{
	return huge_page_order(h) > PMD_ORDER ? 2 : 1;
}

struct gt_pool {
	unsigned long nr;
	unsigned long free;
	unsigned long resv;
	unsigned long pending;
};

static void gt_pool_get(struct hstate *h, struct gt_pool *p)
{
	p->nr = h->nr_huge_pages;
	p->free = h->free_huge_pages;
	p->resv = h->resv_huge_pages;
	p->pending = hgmem_nr_pending(h);
}

/* The pool at case start: nothing may be awaiting reassembly. */
static void gt_pool_start(struct hgmem_test *t, struct hstate *h,
			  struct gt_pool *p)
{
	hgmem_flush_deferred();
	gt_pool_get(h, p);
	GT_EXPECT_EQ(t, p->pending, 0);
}

/* The pool is @base with @dfree more free and @dresv more reserved pages. */
#define gt_expect_pool(t, h, base, dfree, dresv) \
	__gt_expect_pool(t, h, base, dfree, dresv, __FILE__, __LINE__)
static void __gt_expect_pool(struct hgmem_test *t, struct hstate *h,
			     const struct gt_pool *base, long dfree, long dresv,
			     const char *file, int line)
{
	struct gt_pool now;

	gt_pool_get(h, &now);
	hgmem_test_check_eq(t, now.nr, base->nr, file, line,
			    "pool: nr_huge_pages", false);
	hgmem_test_check_eq(t, now.free, base->free + dfree, file, line,
			    "pool: free_huge_pages", false);
	hgmem_test_check_eq(t, now.resv, base->resv + dresv, file, line,
			    "pool: resv_huge_pages", false);
}

/* Everything released: after reassembly the pool is exactly @base again. */
#define gt_expect_pool_whole(t, h, base) \
	__gt_expect_pool_whole(t, h, base, __FILE__, __LINE__)
static void __gt_expect_pool_whole(struct hgmem_test *t, struct hstate *h,
				   const struct gt_pool *base,
				   const char *file, int line)
{
	hgmem_flush_deferred();
	hgmem_test_check_eq(t, hgmem_nr_pending(h), 0, file, line,
			    "pool whole: hgmem_nr_pending(h)", false);
	__gt_expect_pool(t, h, base, 0, 0, file, line);
}

#define gt_check(t, f) __gt_check(t, f, __FILE__, __LINE__)
static void __gt_check(struct hgmem_test *t, struct hgmem_file *f,
		       const char *file, int line)
{
	const char *why = NULL;
	char buf[128];
	int err;

	err = hgmem_check_file(f, &why);
	if (!err)
		return;
	snprintf(buf, sizeof(buf), "hgmem_check_file: %d: %s", err,
		 why ? why : "(no reason)");
	hgmem_test_check(t, false, file, line, buf, false);
}

#define gt_file(t, h, nr_huge, flags) \
	__gt_file(t, h, nr_huge, flags, __FILE__, __LINE__)
static struct hgmem_file *__gt_file(struct hgmem_test *t, struct hstate *h,
				    unsigned long nr_huge, u64 flags,
				   const char *file, int line)
{
	struct hgmem_file *f = NULL;
	int err;

	err = hgmem_file_create(h, nr_huge * gt_huge(h), flags, NUMA_NO_NODE, &f);
	hgmem_test_check_eq(t, err, 0, file, line, "hgmem_file_create()", true);
	__gt_check(t, f, file, line);
	return f;
}

/* Convert and expect success. */
#define gt_convert(t, f, off, len, to) \
	__gt_convert(t, f, off, len, to, __FILE__, __LINE__)
static void __gt_convert(struct hgmem_test *t, struct hgmem_file *f, u64 off,
			 u64 len, unsigned int to, const char *file, int line)
{
	u64 bad = GT_SENTINEL;

	hgmem_test_check_eq(t, hgmem_convert(f, off, len, to, &bad), 0, file,
			    line, "hgmem_convert()", false);
	__gt_check(t, f, file, line);
}

/* Fault the page at @off in (allocating it if needed) and hold its folio. */
#define gt_get(t, f, off, order) __gt_get(t, f, off, order, __FILE__, __LINE__)
static struct folio *__gt_get(struct hgmem_test *t, struct hgmem_file *f,
			      u64 off, int *order, const char *file, int line)
{
	struct folio *folio = NULL;
	int err;

	err = hgmem_get_folio(f, off >> PAGE_SHIFT, &folio, order);
	hgmem_test_check_eq(t, err, 0, file, line, "hgmem_get_folio()", true);
	hgmem_test_check_eq(t, folio_order(folio), *order, file, line,
			    "hgmem_get_folio(): max_order is the folio's order", false);
	__gt_check(t, f, file, line);
	return folio;
}

/* The order the page at @off may be mapped at, as the fault path says. */
#define gt_max_order(t, f, off) __gt_max_order(t, f, off, __FILE__, __LINE__)
static int __gt_max_order(struct hgmem_test *t, struct hgmem_file *f, u64 off,
			  const char *file, int line)
{
	int order = -1;

	folio_put(__gt_get(t, f, off, &order, file, line));
	return order;
}

/* The bytes of the page at @off, through its folio. */
static u8 *gt_page_addr(struct folio *folio, u64 off)
{
	pgoff_t index = off >> PAGE_SHIFT;

	return (u8 *)folio_address(folio) +
	       ((index & (folio_nr_pages(folio) - 1)) << PAGE_SHIFT);
}

/* The byte every page at @off is filled with for @seed: never zero. */
static u8 gt_byte(u64 off, unsigned int seed)
{
	return ((off >> PAGE_SHIFT) * 7 + seed * 31) | 1;
}

/* Fill @nr pages from @off with their pattern for @seed. */
#define gt_fill(t, f, off, nr, seed) \
	__gt_fill(t, f, off, nr, seed, __FILE__, __LINE__)
static void __gt_fill(struct hgmem_test *t, struct hgmem_file *f, u64 off,
		      unsigned int nr, unsigned int seed, const char *file,
		      int line)
{
	struct folio *folio;
	int order;

	for (; nr--; off += GT_PAGE) {
		folio = __gt_get(t, f, off, &order, file, line);
		memset(gt_page_addr(folio, off), gt_byte(off, seed), PAGE_SIZE);
		folio_put(folio);
	}
}

/*
 * Expect @nr pages from @off to hold their pattern for @seed, or zeroes
 * if @seed is 0.
 */
#define gt_expect_data(t, f, off, nr, seed) \
	__gt_expect_data(t, f, off, nr, seed, __FILE__, __LINE__)
static void __gt_expect_data(struct hgmem_test *t, struct hgmem_file *f,
			     u64 off, unsigned int nr, unsigned int seed,
			     const char *file, int line)
{
	struct folio *folio;
	unsigned long i;
	char buf[128];
	int order;
	u8 *p, want;

	for (; nr--; off += GT_PAGE) {
		folio = __gt_get(t, f, off, &order, file, line);
		p = gt_page_addr(folio, off);
		want = seed ? gt_byte(off, seed) : 0;
		for (i = 0; i < PAGE_SIZE && p[i] == want; i++)
			;
		folio_put(folio);
		if (i == PAGE_SIZE)
			continue;
		snprintf(buf, sizeof(buf),
			 "data at offset %#llx: byte %#x, expected %#x",
			 (unsigned long long)(off + i), p[i], want);
		hgmem_test_check(t, false, file, line, buf, false);
	}
}

#define gt_expect_state(t, f, off, state, run) \
	__gt_expect_state(t, f, off, state, run, __FILE__, __LINE__)
static void __gt_expect_state(struct hgmem_test *t, struct hgmem_file *f,
			      u64 off, enum hgmem_state state, u64 run,
			      const char *file, int line)
{
	enum hgmem_state s = HGMEM_PRIVATE;
	u64 len = 0;

	hgmem_test_check_eq(t, hgmem_get_state(f, off, &s, &len), 0, file, line,
			    "hgmem_get_state()", false);
	hgmem_test_check_eq(t, s, state, file, line, "hgmem_get_state(): state",
			    false);
	hgmem_test_check_eq(t, len, run, file, line, "hgmem_get_state(): run",
			    false);
}

static struct hgmem_file_stats gt_stats(struct hgmem_file *f)
{
	struct hgmem_file_stats st;

	hgmem_file_stats(f, &st);
	return st;
}

/* Everything a failed call must leave unchanged. */
struct gt_snap {
	struct hgmem_file_stats st;
	struct gt_pool pool;
};

static void gt_snap(struct hgmem_file *f, struct hstate *h, struct gt_snap *s)
{
	hgmem_file_stats(f, &s->st);
	gt_pool_get(h, &s->pool);
}

#define gt_expect_same(t, f, h, before) \
	__gt_expect_same(t, f, h, before, __FILE__, __LINE__)
static void __gt_expect_same(struct hgmem_test *t, struct hgmem_file *f,
			     struct hstate *h, const struct gt_snap *before,
			     const char *file, int line)
{
	const struct hgmem_file_stats *a = &before->st;
	struct gt_snap now;
	const struct hgmem_file_stats *b = &now.st;

	gt_snap(f, h, &now);
	hgmem_test_check_eq(t, b->size, a->size, file, line, "unchanged: size", false);
	hgmem_test_check_eq(t, b->allocated, a->allocated, file, line,
			    "unchanged: allocated", false);
	hgmem_test_check_eq(t, b->shared, a->shared, file, line,
			    "unchanged: shared", false);
	hgmem_test_check_eq(t, b->private, a->private, file, line,
			    "unchanged: private", false);
	hgmem_test_check_eq(t, b->huge_mappable, a->huge_mappable, file, line,
			    "unchanged: huge_mappable", false);
	hgmem_test_check_eq(t, b->split_pages, a->split_pages, file, line,
			    "unchanged: split_pages", false);
	hgmem_test_check_eq(t, b->splits, a->splits, file, line,
			    "unchanged: splits", false);
	hgmem_test_check_eq(t, b->merges, a->merges, file, line,
			    "unchanged: merges", false);
	__gt_expect_pool(t, h, &before->pool, 0, 0, file, line);
	hgmem_test_check_eq(t, now.pool.pending, before->pool.pending, file, line,
			    "unchanged: hgmem_nr_pending()", false);
	__gt_check(t, f, file, line);
}

/*
 * Convert, expecting -EAGAIN for the held page at @want and nothing
 * changed.
 */
#define gt_convert_busy(t, f, h, off, len, to, want) \
	__gt_convert_busy(t, f, h, off, len, to, want, __FILE__, __LINE__)
static void __gt_convert_busy(struct hgmem_test *t, struct hgmem_file *f,
			      struct hstate *h, u64 off, u64 len,
			      unsigned int to, u64 want, const char *file,
			      int line)
{
	struct gt_snap before;
	u64 bad = GT_SENTINEL;

	gt_snap(f, h, &before);
	hgmem_test_check_eq(t, hgmem_convert(f, off, len, to, &bad), -EAGAIN,
			    file, line, "hgmem_convert(): -EAGAIN", false);
	hgmem_test_check_eq(t, bad, want, file, line,
			    "hgmem_convert(): the held page's offset", false);
	__gt_expect_same(t, f, h, &before, file, line);
}

/* ------------------------------------------------------------------ cases */

/* A file reserves its pages at creation and gives back what it did not use. */
static void gt_create_release(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h);
	struct hgmem_file_stats st;
	struct hgmem_file *f, *g;
	struct gt_pool base;
	unsigned long avail;
	int err;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 2, 0);
	gt_expect_pool(t, h, &base, 0, 2);
	/* What f reserved is no longer on offer: a file one page too big fails. */
	avail = h->free_huge_pages - h->resv_huge_pages;
	g = NULL;
	err = hgmem_file_create(h, (avail + 1) * hsz, 0, NUMA_NO_NODE, &g);
	GT_EXPECT_EQ(t, err, -ENOMEM);
	GT_EXPECT(t, !g);
	gt_expect_pool(t, h, &base, 0, 2);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.size, 2 * hsz);
	GT_EXPECT_EQ(t, st.allocated, 0);
	GT_EXPECT_EQ(t, st.private, 2 * hsz);
	GT_EXPECT_EQ(t, st.shared, 0);
	GT_EXPECT_EQ(t, st.huge_mappable, 0);
	gt_expect_state(t, f, hsz, HGMEM_PRIVATE, hsz);

	/* Allocation consumes the reservation: in use now, no longer reserved. */
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, GT_PAGE), 0);
	gt_check(t, f);
	gt_expect_pool(t, h, &base, -1, 1);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.allocated, hsz);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz);
	GT_EXPECT_EQ(t, gt_max_order(t, f, hsz - GT_PAGE), huge_page_order(h));
	gt_expect_pool(t, h, &base, -1, 1);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);

	f = gt_file(t, h, 1, HGMEM_FILE_INIT_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.shared, hsz);
	GT_EXPECT_EQ(t, st.private, 0);
	gt_expect_state(t, f, hsz - GT_PAGE, HGMEM_SHARED, GT_PAGE);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);

	/* More than the pool can promise fails at creation, not at fault. */
	avail = h->free_huge_pages - h->resv_huge_pages;
	g = NULL;
	err = hgmem_file_create(h, (avail + 1) * hsz, 0, NUMA_NO_NODE, &g);
	GT_EXPECT_EQ(t, err, -ENOMEM);
	GT_EXPECT(t, !g);
	gt_expect_pool_whole(t, h, &base);
}

/* Allocate ranges; punch partial pages (zeroed) and whole ones (returned). */
static void gt_allocate_punch(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h);
	struct hgmem_file *f;
	struct folio *folio;
	struct gt_pool base;
	int order;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 2, HGMEM_FILE_INIT_SHARED);
	/* A 4K range allocates just the huge page holding it. */
	GT_EXPECT_EQ(t, hgmem_allocate(f, hsz + GT_PAGE, GT_PAGE), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, hsz);
	gt_expect_pool(t, h, &base, -1, 1);
	/* A fault returns the whole huge folio: the file's reference and ours. */
	folio = gt_get(t, f, hsz + 5 * GT_PAGE, &order);
	GT_EXPECT_EQ(t, order, huge_page_order(h));
	GT_EXPECT_EQ(t, folio_ref_count(folio), 2);
	folio_put(folio);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, 2 * hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, 2 * hsz);
	GT_EXPECT_EQ(t, gt_stats(f).huge_mappable, 2 * hsz);
	gt_expect_pool(t, h, &base, -2, 0);
	/* Allocating again is a no-op. */
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, 2 * hsz), 0);
	gt_expect_pool(t, h, &base, -2, 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), huge_page_order(h));
	GT_EXPECT_EQ(t, gt_max_order(t, f, hsz), huge_page_order(h));

	/* Partial punch: zeroes exactly the range, keeps the huge folio. */
	gt_fill(t, f, 0, 4, 1);
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, GT_PAGE, 2 * GT_PAGE), 0);
	gt_check(t, f);
	gt_expect_data(t, f, 0, 1, 1);
	gt_expect_data(t, f, GT_PAGE, 2, 0);
	gt_expect_data(t, f, 3 * GT_PAGE, 1, 1);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, 2 * hsz);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), huge_page_order(h));

	/* Whole page: back to the pool, and back into the file's reservation. */
	gt_fill(t, f, hsz, 1, 2);
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, 0, hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, hsz);
	gt_expect_pool(t, h, &base, -1, 1);
	gt_expect_data(t, f, hsz, 1, 2);

	/* A hole over an unallocated page and part of an allocated one. */
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, 0, hsz + GT_PAGE), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, hsz);
	gt_expect_data(t, f, hsz, 1, 0);

	/* A refault takes a fresh, zeroed page from the reservation. */
	gt_expect_data(t, f, 0, 4, 0);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, 2 * hsz);
	gt_expect_pool(t, h, &base, -2, 0);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

#define gt_expect_err(t, call, err) GT_EXPECT_EQ(t, (long long)(call), (long long)(err))

/*
 * Every ranged call rejects the bad range @off, @len with @err, and a failed
 * conversion names no offset.
 */
#define gt_expect_range_err(t, f, off, len, err) \
	__gt_expect_range_err(t, f, off, len, err, __FILE__, __LINE__)
static void __gt_expect_range_err(struct hgmem_test *t, struct hgmem_file *f,
				  u64 off, u64 len, int err, const char *file,
				  int line)
{
	u64 bad = GT_SENTINEL;

	hgmem_test_check_eq(t, hgmem_allocate(f, off, len), err, file, line,
			    "hgmem_allocate()", false);
	hgmem_test_check_eq(t, hgmem_punch_hole(f, off, len), err, file, line,
			    "hgmem_punch_hole()", false);
	hgmem_test_check_eq(t, hgmem_convert(f, off, len, HGMEM_SHARED, &bad),
			    err, file, line, "hgmem_convert(shared)", false);
	hgmem_test_check_eq(t, hgmem_convert(f, off, len, HGMEM_PRIVATE, &bad),
			    err, file, line, "hgmem_convert(private)", false);
	hgmem_test_check_eq(t, bad, GT_SENTINEL, file, line,
			    "hgmem_convert(): no error offset", false);
}

/* Bad arguments: the precise errno, and nothing changed. */
static void gt_bad_input(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h), top = -GT_PAGE;
	struct folio *folio = NULL;
	struct hgmem_file *f, *g;
	enum hgmem_state state;
	struct gt_snap before;
	struct gt_pool base;
	u64 bad = GT_SENTINEL;
	int order = -1;
	u64 run;

	gt_pool_start(t, h, &base);
	g = NULL;
	gt_expect_err(t, hgmem_file_create(h, 0, 0, NUMA_NO_NODE, &g), -EINVAL);
	gt_expect_err(t, hgmem_file_create(h, GT_PAGE, 0, NUMA_NO_NODE, &g), -EINVAL);
	gt_expect_err(t, hgmem_file_create(h, hsz + GT_PAGE, 0, NUMA_NO_NODE, &g),
		      -EINVAL);
	gt_expect_err(t, hgmem_file_create(h, hsz, BIT(7), NUMA_NO_NODE, &g), -EINVAL);
	gt_expect_err(t, hgmem_file_create(h, hsz, (u64)1 << 40, NUMA_NO_NODE, &g),
		      -EINVAL);
	gt_expect_err(t, hgmem_file_create(h, hsz, HGMEM_FILE_FLAGS + 1,
					   NUMA_NO_NODE, &g), -EINVAL);
	gt_expect_err(t, hgmem_file_create(h, hsz, ~(u64)HGMEM_FILE_FLAGS,
					   NUMA_NO_NODE, &g), -EINVAL);
	GT_EXPECT(t, !g);
	gt_expect_pool(t, h, &base, 0, 0);

	/* An allocated page, split: a failed call must not touch that either. */
	f = gt_file(t, h, 1, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, GT_PAGE), 0);
	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	gt_snap(f, h, &before);

	/* Misaligned and zero-length ranges. */
	gt_expect_range_err(t, f, 1, GT_PAGE, -EINVAL);
	gt_expect_range_err(t, f, 0, GT_PAGE + 1, -EINVAL);
	gt_expect_range_err(t, f, GT_PAGE / 2, GT_PAGE / 2, -EINVAL);
	gt_expect_range_err(t, f, 0, 0, -EINVAL);
	gt_expect_range_err(t, f, x, 0, -EINVAL);
	/* Past the end: -ERANGE, also when offset + length overflows. */
	gt_expect_range_err(t, f, hsz, GT_PAGE, -ERANGE);
	gt_expect_range_err(t, f, 0, hsz + GT_PAGE, -ERANGE);
	gt_expect_range_err(t, f, hsz - GT_PAGE, 2 * GT_PAGE, -ERANGE);
	gt_expect_range_err(t, f, top, 2 * GT_PAGE, -ERANGE);
	gt_expect_range_err(t, f, GT_PAGE, top, -ERANGE);
	gt_expect_same(t, f, h, &before);
	/* Unknown states, checked before the range. */
	gt_expect_err(t, hgmem_convert(f, 0, GT_PAGE, 2, &bad), -EINVAL);
	gt_expect_err(t, hgmem_convert(f, 0, GT_PAGE, ~0U, &bad), -EINVAL);
	gt_expect_err(t, hgmem_convert(f, hsz, GT_PAGE, 2, &bad), -EINVAL);
	/* Only -EAGAIN names an offset. */
	GT_EXPECT_EQ(t, bad, GT_SENTINEL);
	/* Lookups out of bounds. */
	gt_expect_err(t, hgmem_get_folio(f, hsz >> PAGE_SHIFT, &folio, &order),
		      -ERANGE);
	gt_expect_err(t, hgmem_get_folio(f, ULONG_MAX, &folio, &order), -ERANGE);
	GT_EXPECT(t, !folio);
	GT_EXPECT_EQ(t, order, -1);
	run = GT_SENTINEL;
	gt_expect_err(t, hgmem_get_state(f, 1, &state, &run), -EINVAL);
	gt_expect_err(t, hgmem_get_state(f, GT_PAGE / 2 + GT_PAGE, &state, &run),
		      -EINVAL);
	gt_expect_err(t, hgmem_get_state(f, hsz, &state, &run), -ERANGE);
	gt_expect_err(t, hgmem_get_state(f, top, &state, &run), -ERANGE);
	GT_EXPECT_EQ(t, run, GT_SENTINEL);
	gt_expect_same(t, f, h, &before);

	/* Converting a range to the state it has already is a no-op. */
	GT_EXPECT_EQ(t, hgmem_convert(f, 0, x, HGMEM_PRIVATE, &bad), 0);
	GT_EXPECT_EQ(t, hgmem_convert(f, x, GT_PAGE, HGMEM_SHARED, &bad), 0);
	gt_expect_same(t, f, h, &before);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/* One 4K page converted: its huge page splits; converted back, it merges. */
static void gt_split_merge(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h);
	const int order = huge_page_order(h);
	struct hgmem_file_stats st;
	struct hgmem_file *f;
	struct gt_pool base;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_check(t, f);
	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.shared, GT_PAGE);
	GT_EXPECT_EQ(t, st.private, hsz - GT_PAGE);
	GT_EXPECT_EQ(t, st.allocated, hsz);
	GT_EXPECT_EQ(t, st.split_pages, 1);
	GT_EXPECT_EQ(t, st.splits, gt_nr_levels(h));
	GT_EXPECT_EQ(t, st.merges, 0);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz - GT_PMD_SIZE);
	/* The mixed 2M range is 4K folios; the rest maps at 2M (1G) or 4K (2M). */
	GT_EXPECT_EQ(t, gt_max_order(t, f, x), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, x - GT_PAGE), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, x & ~(GT_PMD_SIZE - 1)), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), gt_rest_order(h));
	GT_EXPECT_EQ(t, gt_max_order(t, f, hsz - GT_PAGE), gt_rest_order(h));
	gt_expect_state(t, f, 0, HGMEM_PRIVATE, x);
	gt_expect_state(t, f, x, HGMEM_SHARED, GT_PAGE);
	gt_expect_state(t, f, x + GT_PAGE, HGMEM_PRIVATE, hsz - x - GT_PAGE);

	gt_convert(t, f, x, GT_PAGE, HGMEM_PRIVATE);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.shared, 0);
	GT_EXPECT_EQ(t, st.split_pages, 0);
	GT_EXPECT_EQ(t, st.splits, gt_nr_levels(h));
	GT_EXPECT_EQ(t, st.merges, gt_nr_levels(h));
	GT_EXPECT_EQ(t, st.huge_mappable, hsz);
	GT_EXPECT_EQ(t, gt_max_order(t, f, x), order);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), order);
	gt_expect_state(t, f, 0, HGMEM_PRIVATE, hsz);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/*
 * A held shared 4K folio cannot be made private; once put, it can.  -EAGAIN
 * names the held page at the lowest offset of the range, whichever was
 * taken first, also when the range goes on into the next huge page.
 */
static void gt_held_page_blocks_private(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h);
	struct folio *held, *held9, *held6;
	struct hgmem_file *f;
	struct gt_pool base;
	int order;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 2, HGMEM_FILE_INIT_SHARED);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_convert(t, f, 0, GT_PAGE, HGMEM_PRIVATE);
	held9 = gt_get(t, f, 9 * GT_PAGE, &order);
	GT_EXPECT_EQ(t, order, 0);
	held = gt_get(t, f, 5 * GT_PAGE, &order);
	GT_EXPECT_EQ(t, order, 0);

	gt_convert_busy(t, f, h, 0, 16 * GT_PAGE, HGMEM_PRIVATE, 5 * GT_PAGE);
	gt_expect_state(t, f, 0, HGMEM_PRIVATE, GT_PAGE);
	gt_expect_state(t, f, GT_PAGE, HGMEM_SHARED, 2 * hsz - GT_PAGE);
	/* The whole file: still the held page that is named. */
	gt_convert_busy(t, f, h, 0, 2 * hsz, HGMEM_PRIVATE, 5 * GT_PAGE);

	/* Its neighbours convert; making the held page shared is always fine. */
	gt_convert(t, f, 6 * GT_PAGE, GT_PAGE, HGMEM_PRIVATE);
	gt_convert(t, f, 5 * GT_PAGE, GT_PAGE, HGMEM_SHARED);
	gt_expect_state(t, f, 5 * GT_PAGE, HGMEM_SHARED, GT_PAGE);
	/* So is making a held private page shared. */
	held6 = gt_get(t, f, 6 * GT_PAGE, &order);
	gt_convert(t, f, 6 * GT_PAGE, GT_PAGE, HGMEM_SHARED);
	gt_expect_state(t, f, 5 * GT_PAGE, HGMEM_SHARED, 2 * hsz - 5 * GT_PAGE);
	folio_put(held6);

	/* With page 5 put, the next held page is named. */
	folio_put(held);
	gt_convert_busy(t, f, h, 0, 2 * hsz, HGMEM_PRIVATE, 9 * GT_PAGE);

	folio_put(held9);
	gt_convert(t, f, 0, 2 * hsz, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).shared, 0);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	GT_EXPECT_EQ(t, gt_stats(f).huge_mappable, hsz);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 5 * GT_PAGE), huge_page_order(h));
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/*
 * A held huge folio: its shared pages cannot become private, and it cannot
 * be split for a conversion to shared; -EAGAIN names the first page of the
 * conversion inside it.
 */
static void gt_held_huge_folio(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h);
	struct gt_snap before;
	struct hgmem_file *f;
	struct gt_pool base;
	struct folio *held;
	u64 bad = GT_SENTINEL;
	int order;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, HGMEM_FILE_INIT_SHARED);
	held = gt_get(t, f, 0, &order);
	GT_EXPECT_EQ(t, order, huge_page_order(h));
	gt_convert_busy(t, f, h, x, GT_PAGE, HGMEM_PRIVATE, x);
	gt_snap(f, h, &before);
	gt_expect_state(t, f, 0, HGMEM_SHARED, hsz);
	/* Already shared: nothing to do, the reference does not matter. */
	GT_EXPECT_EQ(t, hgmem_convert(f, 0, hsz, HGMEM_SHARED, &bad), 0);
	gt_expect_same(t, f, h, &before);
	folio_put(held);

	gt_convert(t, f, 0, hsz, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	held = gt_get(t, f, x, &order);
	GT_EXPECT_EQ(t, order, huge_page_order(h));
	gt_convert_busy(t, f, h, x, GT_PAGE, HGMEM_SHARED, x);
	gt_expect_state(t, f, 0, HGMEM_PRIVATE, hsz);
	folio_put(held);

	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 1);
	gt_convert(t, f, x, GT_PAGE, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/* Conversion is in place: data survives splits and merges. */
static void gt_content_preserved(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h);
	struct hgmem_file *f;
	struct gt_pool base;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_fill(t, f, 0, 1, 3);
	gt_fill(t, f, x - GT_PAGE, 3, 3);
	gt_fill(t, f, hsz - GT_PAGE, 1, 3);

	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 1);
	gt_expect_data(t, f, 0, 1, 3);
	gt_expect_data(t, f, x - GT_PAGE, 3, 3);
	gt_expect_data(t, f, hsz - GT_PAGE, 1, 3);

	gt_convert(t, f, x - GT_PAGE, 3 * GT_PAGE, HGMEM_SHARED);
	gt_expect_data(t, f, x - GT_PAGE, 3, 3);

	gt_convert(t, f, 0, hsz, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	GT_EXPECT_EQ(t, gt_stats(f).merges, gt_nr_levels(h));
	gt_expect_data(t, f, 0, 1, 3);
	gt_expect_data(t, f, x - GT_PAGE, 3, 3);
	gt_expect_data(t, f, hsz - GT_PAGE, 1, 3);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/* HGMEM_FILE_ZERO_ON_CONVERT zeroes exactly the pages that change state. */
static void gt_zero_on_convert(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h);
	struct hgmem_file *f;
	struct gt_pool base;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, HGMEM_FILE_ZERO_ON_CONVERT);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_fill(t, f, 0, 1, 4);
	gt_fill(t, f, x - GT_PAGE, 3, 4);

	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	gt_expect_data(t, f, x - GT_PAGE, 1, 4);
	gt_expect_data(t, f, x, 1, 0);
	gt_expect_data(t, f, x + GT_PAGE, 1, 4);

	/* x is shared already: only its neighbours change, and are zeroed. */
	gt_fill(t, f, x, 1, 5);
	gt_convert(t, f, x - GT_PAGE, 3 * GT_PAGE, HGMEM_SHARED);
	gt_expect_data(t, f, x - GT_PAGE, 1, 0);
	gt_expect_data(t, f, x, 1, 5);
	gt_expect_data(t, f, x + GT_PAGE, 1, 0);

	/* A no-op conversion zeroes nothing. */
	gt_fill(t, f, x - GT_PAGE, 3, 6);
	gt_convert(t, f, x - GT_PAGE, 3 * GT_PAGE, HGMEM_SHARED);
	gt_expect_data(t, f, x - GT_PAGE, 3, 6);

	/* Back to private, merged: the three pages zeroed, page 0 untouched. */
	gt_convert(t, f, 0, hsz, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	gt_expect_data(t, f, x - GT_PAGE, 3, 0);
	gt_expect_data(t, f, 0, 1, 4);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/*
 * A punched split page nobody holds is back in the pool at once; one with a
 * held piece waits, visibly, for the last put and is then reassembled.
 */
static void gt_deferred_reassembly(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h);
	struct hgmem_file *f;
	struct gt_pool base;
	struct folio *held;
	int order;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 1);
	gt_expect_pool(t, h, &base, -1, 0);
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, 0, hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, hgmem_nr_pending(h), 0);
	gt_expect_pool(t, h, &base, 0, 1);

	held = gt_get(t, f, x, &order);
	GT_EXPECT_EQ(t, order, 0);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, hsz);
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, 0, hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, 0);
	hgmem_flush_deferred();
	/* Still out of the pool, and counted as such. */
	GT_EXPECT_EQ(t, hgmem_nr_pending(h), 1);
	gt_expect_pool(t, h, &base, -1, 0);

	folio_put(held);
	hgmem_flush_deferred();
	GT_EXPECT_EQ(t, hgmem_nr_pending(h), 0);
	gt_expect_pool(t, h, &base, 0, 1);
	/* The file can fault the page in again. */
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), gt_rest_order(h));
	GT_EXPECT_EQ(t, gt_max_order(t, f, x), 0);
	gt_expect_pool(t, h, &base, -1, 0);

	/* Released with a piece held: the page waits for that piece too. */
	held = gt_get(t, f, x, &order);
	hgmem_file_release(f);
	hgmem_flush_deferred();
	GT_EXPECT_EQ(t, hgmem_nr_pending(h), 1);
	gt_expect_pool(t, h, &base, -1, 0);
	folio_put(held);
	gt_expect_pool_whole(t, h, &base);

	/* A held unsplit page is punched out but in use until its last put. */
	f = gt_file(t, h, 1, HGMEM_FILE_INIT_SHARED);
	held = gt_get(t, f, 0, &order);
	GT_EXPECT_EQ(t, order, huge_page_order(h));
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, 0, hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, 0);
	hgmem_flush_deferred();
	gt_expect_pool(t, h, &base, -1, 0);
	folio_put(held);
	hgmem_flush_deferred();
	GT_EXPECT_EQ(t, hgmem_nr_pending(h), 0);
	gt_expect_pool(t, h, &base, 0, 1);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), huge_page_order(h));
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/* A held piece keeps its range split although its state became uniform. */
static void gt_held_piece_blocks_merge(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = gt_mid(h);
	struct hgmem_file_stats st;
	struct hgmem_file *f;
	struct gt_pool base;
	struct folio *held;
	int order;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	held = gt_get(t, f, x, &order);
	gt_convert(t, f, 0, hsz, HGMEM_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.shared, hsz);
	GT_EXPECT_EQ(t, st.split_pages, 1);
	GT_EXPECT_EQ(t, st.merges, 0);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz - GT_PMD_SIZE);
	GT_EXPECT_EQ(t, gt_max_order(t, f, x + GT_PAGE), 0);
	folio_put(held);

	gt_convert(t, f, 0, hsz, HGMEM_PRIVATE);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.split_pages, 0);
	GT_EXPECT_EQ(t, st.merges, gt_nr_levels(h));
	GT_EXPECT_EQ(t, gt_max_order(t, f, x), huge_page_order(h));
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/* State changes before allocation; runs merge; a fault builds the folios. */
static void gt_state_runs_then_fault(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h);
	struct hgmem_file_stats st;
	struct hgmem_file *f;
	struct gt_pool base;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	gt_convert(t, f, GT_PAGE, GT_PAGE, HGMEM_SHARED);
	gt_convert(t, f, 3 * GT_PAGE, GT_PAGE, HGMEM_SHARED);
	gt_expect_state(t, f, 2 * GT_PAGE, HGMEM_PRIVATE, GT_PAGE);
	gt_convert(t, f, 2 * GT_PAGE, GT_PAGE, HGMEM_SHARED);
	gt_expect_state(t, f, 0, HGMEM_PRIVATE, GT_PAGE);
	gt_expect_state(t, f, GT_PAGE, HGMEM_SHARED, 3 * GT_PAGE);
	gt_expect_state(t, f, 2 * GT_PAGE, HGMEM_SHARED, 2 * GT_PAGE);
	gt_expect_state(t, f, 4 * GT_PAGE, HGMEM_PRIVATE, hsz - 4 * GT_PAGE);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.allocated, 0);
	GT_EXPECT_EQ(t, st.shared, 3 * GT_PAGE);
	GT_EXPECT_EQ(t, st.splits, 0);
	gt_expect_pool(t, h, &base, 0, 1);

	/* The fault splits the new page right away, as its state requires. */
	GT_EXPECT_EQ(t, gt_max_order(t, f, 2 * GT_PAGE), 0);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.allocated, hsz);
	GT_EXPECT_EQ(t, st.split_pages, 1);
	GT_EXPECT_EQ(t, st.splits, gt_nr_levels(h));
	GT_EXPECT_EQ(t, st.huge_mappable, hsz - GT_PMD_SIZE);
	GT_EXPECT_EQ(t, gt_max_order(t, f, hsz - GT_PAGE), gt_rest_order(h));

	gt_convert(t, f, 0, hsz, HGMEM_PRIVATE);
	gt_expect_state(t, f, 0, HGMEM_PRIVATE, hsz);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 2 * GT_PAGE), huge_page_order(h));
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);

	/* A range over several unallocated huge pages converts, allocating none. */
	f = gt_file(t, h, 2, HGMEM_FILE_INIT_SHARED);
	gt_convert(t, f, GT_PAGE, 2 * hsz - 2 * GT_PAGE, HGMEM_PRIVATE);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.allocated, 0);
	GT_EXPECT_EQ(t, st.shared, 2 * GT_PAGE);
	GT_EXPECT_EQ(t, st.private, 2 * hsz - 2 * GT_PAGE);
	GT_EXPECT_EQ(t, st.splits, 0);
	gt_expect_state(t, f, 0, HGMEM_SHARED, GT_PAGE);
	gt_expect_state(t, f, GT_PAGE, HGMEM_PRIVATE, 2 * hsz - 2 * GT_PAGE);
	gt_expect_state(t, f, 2 * hsz - GT_PAGE, HGMEM_SHARED, GT_PAGE);
	gt_expect_pool(t, h, &base, 0, 2);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/* 1G: 1G -> 2M, and only the mixed 2M piece -> 4K; back up the same way. */
static void gt_split_1g(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), x = 300 * GT_PMD_SIZE + GT_PAGE;
	struct hgmem_file_stats st;
	struct hgmem_file *f;
	struct folio *folio;
	struct gt_pool base;
	int order;
	u64 i;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_check(t, f);
	gt_fill(t, f, 0, 1, 7);
	gt_fill(t, f, x, 1, 7);
	gt_convert(t, f, x, GT_PAGE, HGMEM_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz - GT_PMD_SIZE);
	GT_EXPECT_EQ(t, st.split_pages, 1);
	GT_EXPECT_EQ(t, st.splits, 2);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), PMD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 5 * GT_PMD_SIZE), PMD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 299 * GT_PMD_SIZE + 511 * GT_PAGE),
		     PMD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 300 * GT_PMD_SIZE), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, x), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 301 * GT_PMD_SIZE), PMD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, hsz - GT_PAGE), PMD_ORDER);
	for (i = 0; i < hsz; i += GT_PMD_SIZE)
		if (!GT_EXPECT_EQ(t, gt_max_order(t, f, i),
				  i == 300 * GT_PMD_SIZE ? 0 : PMD_ORDER))
			break;

	/* A whole 2M piece converts without any 4K split. */
	gt_convert(t, f, 299 * GT_PMD_SIZE, GT_PMD_SIZE, HGMEM_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.splits, 2);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz - GT_PMD_SIZE);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 299 * GT_PMD_SIZE), PMD_ORDER);
	gt_convert(t, f, 299 * GT_PMD_SIZE, GT_PMD_SIZE, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).merges, 0);

	/* Uniform again: 4K -> 2M -> 1G. */
	gt_convert(t, f, x, GT_PAGE, HGMEM_PRIVATE);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz);
	GT_EXPECT_EQ(t, st.split_pages, 0);
	GT_EXPECT_EQ(t, st.merges, 2);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), PUD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, x), PUD_ORDER);
	/* One folio again, and a hugetlb folio again. */
	folio = gt_get(t, f, x, &order);
	GT_EXPECT(t, folio_test_hugetlb(folio));
	folio_put(folio);
	gt_expect_data(t, f, 0, 1, 7);
	gt_expect_data(t, f, x, 1, 7);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/*
 * 1G, conversions of whole 2M pieces: only the 1G -> 2M split, and a held
 * 2M piece blocks a 4K split inside it but not the piece's own conversion.
 */
static void gt_split_1g_pieces(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), p9 = 9 * GT_PMD_SIZE;
	struct hgmem_file_stats st;
	struct hgmem_file *f;
	struct gt_pool base;
	struct folio *held;
	int order;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_convert(t, f, 4 * GT_PMD_SIZE, 2 * GT_PMD_SIZE, HGMEM_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.splits, 1);
	GT_EXPECT_EQ(t, st.split_pages, 1);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), PMD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 5 * GT_PMD_SIZE + GT_PAGE), PMD_ORDER);
	/* Converting it all the same way merges back to 1G. */
	gt_convert(t, f, 0, hsz, HGMEM_SHARED);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.split_pages, 0);
	GT_EXPECT_EQ(t, st.merges, 1);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 0), PUD_ORDER);

	/*
	 * Private again but for page 0; hold private 2M piece 9 (as KVM maps
	 * it): making a 4K page inside it shared needs a split, refused.
	 */
	gt_convert(t, f, GT_PAGE, hsz - GT_PAGE, HGMEM_PRIVATE);
	held = gt_get(t, f, p9, &order);
	GT_EXPECT_EQ(t, order, PMD_ORDER);
	gt_convert_busy(t, f, h, p9 + GT_PAGE, GT_PAGE, HGMEM_SHARED,
			p9 + GT_PAGE);
	gt_expect_state(t, f, GT_PAGE, HGMEM_PRIVATE, hsz - GT_PAGE);
	/* The whole piece needs no split: that works, held or not. */
	gt_convert(t, f, p9, GT_PMD_SIZE, HGMEM_SHARED);
	gt_expect_state(t, f, p9, HGMEM_SHARED, GT_PMD_SIZE);
	GT_EXPECT_EQ(t, gt_max_order(t, f, p9 + GT_PAGE), PMD_ORDER);
	folio_put(held);
	gt_convert(t, f, 0, hsz, HGMEM_PRIVATE);
	GT_EXPECT_EQ(t, gt_stats(f).split_pages, 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, p9), PUD_ORDER);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

/*
 * 1G: a fault into a page whose state is mixed in many 2M pieces splits
 * them all at once; punched with nobody holding a piece, the page is back
 * in the pool at once.
 */
static void gt_split_1g_many(struct hgmem_test *t, struct hstate *h)
{
	const u64 hsz = gt_huge(h), step = 5 * GT_PMD_SIZE;
	const unsigned int nr = 100;
	struct hgmem_file_stats st;
	struct hgmem_file *f;
	struct gt_pool base;
	unsigned int i;

	gt_pool_start(t, h, &base);
	f = gt_file(t, h, 1, 0);
	for (i = 0; i < nr; i++)
		gt_convert(t, f, i * step + 7 * GT_PAGE, GT_PAGE, HGMEM_SHARED);
	GT_EXPECT_EQ(t, gt_stats(f).allocated, 0);
	GT_EXPECT_EQ(t, hgmem_allocate(f, 0, hsz), 0);
	gt_check(t, f);
	st = gt_stats(f);
	GT_EXPECT_EQ(t, st.split_pages, 1);
	GT_EXPECT_EQ(t, st.splits, 1 + nr);
	GT_EXPECT_EQ(t, st.huge_mappable, hsz - nr * GT_PMD_SIZE);
	GT_EXPECT_EQ(t, gt_max_order(t, f, 7 * GT_PAGE), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, (nr - 1) * step), 0);
	GT_EXPECT_EQ(t, gt_max_order(t, f, GT_PMD_SIZE), PMD_ORDER);
	GT_EXPECT_EQ(t, gt_max_order(t, f, nr * step), PMD_ORDER);

	/* Also a whole 2M piece shared: both kinds of split, nobody holding. */
	gt_convert(t, f, hsz - GT_PMD_SIZE, GT_PMD_SIZE, HGMEM_SHARED);
	gt_expect_pool(t, h, &base, -1, 0);
	GT_EXPECT_EQ(t, hgmem_punch_hole(f, 0, hsz), 0);
	gt_check(t, f);
	GT_EXPECT_EQ(t, hgmem_nr_pending(h), 0);
	gt_expect_pool(t, h, &base, 0, 1);
	hgmem_file_release(f);
	gt_expect_pool_whole(t, h, &base);
}

const struct hgmem_test_case hgmem_test_cases[] = {
	{ "create_release", gt_create_release, 0, 2 },
	{ "allocate_punch", gt_allocate_punch, 0, 2 },
	{ "bad_input", gt_bad_input, 0, 1 },
	{ "split_merge", gt_split_merge, 0, 1 },
	{ "held_page_blocks_private", gt_held_page_blocks_private, 0, 2 },
	{ "held_huge_folio", gt_held_huge_folio, 0, 1 },
	{ "content_preserved", gt_content_preserved, 0, 1 },
	{ "zero_on_convert", gt_zero_on_convert, 0, 1 },
	{ "deferred_reassembly", gt_deferred_reassembly, 0, 1 },
	{ "held_piece_blocks_merge", gt_held_piece_blocks_merge, 0, 1 },
	{ "state_runs_then_fault", gt_state_runs_then_fault, 0, 2 },
	{ "split_1g", gt_split_1g, PUD_ORDER, 1 },
	{ "split_1g_pieces", gt_split_1g_pieces, PUD_ORDER, 1 },
	{ "split_1g_many", gt_split_1g_many, PUD_ORDER, 1 },
};

const unsigned int hgmem_test_nr_cases = ARRAY_SIZE(hgmem_test_cases);

const char *hgmem_test_unfit(const struct hgmem_test_case *c, struct hstate *h)
{
	if (c->need_order && huge_page_order(h) != c->need_order)
		return "needs another huge page size";
	if (h->free_huge_pages < h->resv_huge_pages + c->need_pages)
		return "not enough free unreserved huge pages";
	return NULL;
}
