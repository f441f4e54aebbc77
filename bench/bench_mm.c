// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmarks that drive mm/ and the shim directly (compiled over the kernel
 * shim, like tests/check_mm.c), on address-space-only pools
 * (SHIM_BACKEND_RESERVE): nothing here touches guest memory.
 *
 * split_merge/shim_direct_<page>: hugetlb_folio_split(folio, 0) and
 *	hugetlb_folio_merge() of a frozen huge folio: the direct split to 4K
 *	that the prior art does (262144 descriptors for a 1G page).
 * split_merge/shim_hier_1G: the same helpers the way mm/ uses them for one
 *	4K page: 1G -> 2M, one 2M -> 4K, and back (1024 descriptors).
 * split_merge/memset_floor/<n>: memset() of n * sizeof(struct folio) bytes
 *	of warm memory: the physical floor of creating n descriptors.
 * metadata/<layout>/<guest bytes>: allocator metadata (kmalloc'd records,
 *	state, folio descriptors), as tests/check_metadata.c counts it,
 *	for a fully allocated file.  Layouts: 2M_unsplit, 2M_split (one 4K
 *	page per 2M converted: every page split to 4K), 1G_unsplit,
 *	1G_split_one (one 4K per 1G: 512 2M + 512 4K folios each), 1G_split
 *	(one 4K per 2M: every page split to 4K).  References, computed:
 *	kernel_memmap (64-byte struct page per 4K, what a split hugetlb page
 *	costs in the kernel) and kernel_hvo_<page> (one 4K vmemmap page per
 *	huge page kept by the HugeTLB vmemmap optimisation).
 * state/convert_4K/<ranges>: hgmem_convert() of one 4K page of a file
 *	whose state holds about <ranges> runs: a fully allocated file of 2M
 *	pages in which every other page was made private, in random order
 *	(that build is timed too: build_us_per_conv).  Each iteration makes a
 *	random one of those pages shared (three runs become one) and private
 *	again (back to three): two conversions, no split or merge of folios,
 *	so the figure is the conversion's own cost at that number of runs
 *	(us_per_conv).  state_bytes_per_range: the state's bytes (a word per
 *	huge page, a bitmap per mixed one) per run.  cpu_us_per_conv is the
 *	same figure in the thread's CPU time, which a loaded machine does not
 *	inflate; the ratio against 10^3 runs (ratios.tsv, goal <= 2) is taken
 *	on it.  At 10^6 runs the file is 4 GiB with a million 4K folio
 *	descriptors, which random conversions reach through cache misses.
 * state/convert_4K_unallocated/<ranges>: the same on a file with no page
 *	allocated: the state's own cost, without folio descriptors.
 * mixed/<guest bytes>: 10^6 random operations on a file of that size on an
 *	address-space-only pool of 2M pages (1 TiB, and 1 GiB as the
 *	reference): 55% 4K conversions and 10% 2M conversions to a random
 *	state, 1% allocations and 1% hole punches of a 2M page, 33%
 *	hgmem_get_state() of a random page.  ops_per_s (CPU time), the runs
 *	of state and the state's bytes at the end, and metadata_bytes:
 *	kmalloc'd bytes (records, state, split descriptors) at the end, plus
 *	the huge pages' head descriptors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "../mm/guestmem_internal.h"

#define KERNEL_STRUCT_PAGE	64	/* sizeof(struct page) on x86-64 */
#define TIB			(UINT64_C(1) << 40)

static struct hstate *pool_reserve(struct gb_state *st, unsigned int order, unsigned long nr)
{
	struct hstate *h = NULL;
	int err = shim_hstate_create(order, nr, SHIM_BACKEND_RESERVE, &h);

	if (err) {
		bench_skip(st, "shim_hstate_create(order %u, %lu): %d", order, nr, err);
		return NULL;
	}
	return h;
}

static void pool_release(struct hstate *h)
{
	hgmem_flush_deferred();
	if (shim_hstate_destroy(h))
		fprintf(stderr, "bench: shim pool not whole at the end\n");
}

/* ------------------------------------------------------------ split + merge */
static void bm_shim_split(struct gb_state *st, unsigned int order, bool hier)
{
	struct hstate *h = pool_reserve(st, order, 1);
	struct hugepage_subpool *spool;
	struct folio *folio, *mid;
	unsigned long descs;

	if (!h)
		return;
	spool = hugepage_new_subpool(h, -1, -1);
	folio = spool ? hugetlb_subpool_alloc_folio(spool, NUMA_NO_NODE) : NULL;
	if (!folio || !folio_ref_freeze(folio, 1)) {
		bench_skip(st, "cannot get a frozen huge folio from the shim");
		goto out;
	}
	descs = hier ? 1024 : 1UL << order;
	while (gb_keep_running(st)) {
		bool ok;

		if (hier) {
			ok = !hugetlb_folio_split(folio, PMD_ORDER);
			mid = ok ? pfn_folio(folio_pfn(folio) + 7 * (1UL << PMD_ORDER)) : NULL;
			ok = ok && !hugetlb_folio_split(mid, 0);
			ok = ok && hugetlb_folio_merge(pfn_folio(folio_pfn(mid)), PMD_ORDER);
			ok = ok && hugetlb_folio_merge(pfn_folio(folio_pfn(folio)), order);
		} else {
			ok = !hugetlb_folio_split(folio, 0) &&
			     hugetlb_folio_merge(pfn_folio(folio_pfn(folio)), order);
		}
		if (!ok) {
			bench_skip(st, "shim split/merge failed");
			break;
		}
	}
	gb_counter(st, "descriptors", (double)descs, 0);
	folio_ref_unfreeze(folio, 1);
	folio_put(folio);
out:
	if (spool)
		hugepage_put_subpool(spool);
	pool_release(h);
}

static void bm_shim_direct_2m(struct gb_state *st)
{
	bm_shim_split(st, PMD_ORDER, false);
}

static void bm_shim_direct_1g(struct gb_state *st)
{
	bm_shim_split(st, PUD_ORDER, false);
}

static void bm_shim_hier_1g(struct gb_state *st)
{
	bm_shim_split(st, PUD_ORDER, true);
}

static void bm_memset_floor(struct gb_state *st)
{
	size_t n = (size_t)gb_range(st, 0), bytes = n * sizeof(struct folio);
	char *buf = bench_alloc_warm(bytes, false);

	if (!buf) {
		bench_skip(st, "no memory");
		return;
	}
	while (gb_keep_running(st)) {
		memset(buf, 0, bytes);
		gb_clobber_memory();
	}
	gb_counter(st, "descriptors", (double)n, 0);
	gb_counter(st, "bytes", (double)bytes, 0);
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)bytes);
	bench_free_warm(buf, bytes);
}

/* ------------------------------------------------------------ metadata */
enum layout { UNSPLIT, SPLIT_ONE_PER_HUGE, SPLIT_ONE_PER_2M };

static void metadata(struct gb_state *st, unsigned int order, enum layout layout)
{
	u64 size = (u64)gb_range(st, 0), off, step;
	unsigned long nr = size >> (PAGE_SHIFT + order);
	size_t k0, v0, bytes = 0, desc = 0;
	struct hgmem_file *f = NULL;
	struct hstate *h;
	int err;

	h = pool_reserve(st, order, nr);
	if (!h)
		return;
	while (gb_keep_running(st)) {
		k0 = shim_kmalloc_bytes();
		v0 = shim_vmemmap_bytes();
		err = hgmem_file_create(h, size, HGMEM_FILE_INIT_SHARED, NUMA_NO_NODE, &f) ?:
		      hgmem_allocate(f, 0, size);
		step = layout == SPLIT_ONE_PER_2M ? SZ_2M : PAGE_SIZE << order;
		for (off = 0; !err && layout != UNSPLIT && off < size; off += step)
			err = hgmem_convert(f, off, PAGE_SIZE, HGMEM_PRIVATE, NULL);
		if (err) {
			bench_skip(st, "building the file failed: %d", err);
			break;
		}
		/* kmalloc: records, state, split descriptors; plus the heads. */
		bytes = shim_kmalloc_bytes() - k0 + (size_t)nr * sizeof(struct folio);
		desc = shim_vmemmap_bytes() - v0 + (size_t)nr * sizeof(struct folio);
		hgmem_file_release(f);
		f = NULL;
	}
	if (f)
		hgmem_file_release(f);
	gb_counter(st, "bytes", (double)bytes, 0);
	gb_counter(st, "descriptor_bytes", (double)desc, 0);
	gb_counter(st, "bytes_per_TiB", (double)bytes * (double)TIB / (double)size, 0);
	gb_counter(st, "pct_of_guest", 100.0 * (double)bytes / (double)size, 0);
	pool_release(h);
}

static void reference(struct gb_state *st, double bytes_per_4k)
{
	u64 size = (u64)gb_range(st, 0);
	double bytes = bytes_per_4k * (double)(size / PAGE_SIZE);

	while (gb_keep_running(st))
		gb_clobber_memory();
	gb_counter(st, "bytes", bytes, 0);
	gb_counter(st, "bytes_per_TiB", bytes * (double)TIB / (double)size, 0);
	gb_counter(st, "pct_of_guest", 100.0 * bytes / (double)size, 0);
}

static void bm_meta_2m_unsplit(struct gb_state *st)
{
	metadata(st, PMD_ORDER, UNSPLIT);
}

static void bm_meta_2m_split(struct gb_state *st)
{
	metadata(st, PMD_ORDER, SPLIT_ONE_PER_HUGE);
}

static void bm_meta_1g_unsplit(struct gb_state *st)
{
	metadata(st, PUD_ORDER, UNSPLIT);
}

static void bm_meta_1g_split_one(struct gb_state *st)
{
	metadata(st, PUD_ORDER, SPLIT_ONE_PER_HUGE);
}

static void bm_meta_1g_split(struct gb_state *st)
{
	metadata(st, PUD_ORDER, SPLIT_ONE_PER_2M);
}

static void bm_ref_memmap(struct gb_state *st)
{
	reference(st, KERNEL_STRUCT_PAGE);
}

static void bm_ref_hvo_2m(struct gb_state *st)
{
	reference(st, (double)PAGE_SIZE / (1 << PMD_ORDER));
}

static void bm_ref_hvo_1g(struct gb_state *st)
{
	reference(st, (double)PAGE_SIZE / (1 << PUD_ORDER));
}

/* ------------------------------------------------------------ state */
/* The calling thread's CPU time: what a loaded machine does not inflate. */
static u64 cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000 + (u64)ts.tv_nsec;
}

/* Pages 1, 3, 5, ..., 2n - 1 in random order. */
static unsigned long *odd_pages(unsigned long n, struct rng *rng)
{
	unsigned long *order = malloc(n * sizeof(*order)), i, j, t;

	for (i = 0; order && i < n; i++)
		order[i] = 2 * i + 1;
	for (i = n; order && i > 1; i--) {
		j = rng_below(rng, i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	return order;
}

/* Runs of equal state in @f, counted as hgmem_get_state() reports them. */
static double nr_runs(struct hgmem_file *f)
{
	u64 off = 0, len, size = (u64)f->nr_pages << PAGE_SHIFT;
	enum hgmem_state state;
	double n = 0;

	for (; off < size && !hgmem_get_state(f, off, &state, &len); off += len)
		n++;
	return n;
}

/*
 * Bytes of the state of @f: a word per huge page, and a bitmap of its
 * pages for each huge page of mixed state.
 */
static double state_bytes(struct hgmem_file *f)
{
	unsigned long hidx, nr_huge = f->nr_pages >> f->order, mixed = 0;
	pgoff_t n = hgmem_huge_pages(f), base;

	for (hidx = 0; hidx < nr_huge; hidx++) {
		base = (pgoff_t)hidx << f->order;
		hgmem_lock(f, base, base + 1);
		mixed += hgmem_uniform_state(f, base, n, NULL) < 0;
		hgmem_unlock(f, base, base + 1);
	}
	return (double)(nr_huge * sizeof(long) + mixed * BITS_TO_LONGS(n) * sizeof(long));
}

static void state_convert(struct gb_state *st, bool allocated)
{
	unsigned long ranges = (unsigned long)gb_range(st, 0), n = ranges / 2, i;
	unsigned long nr = (ranges + (1UL << PMD_ORDER) - 1) >> PMD_ORDER;
	struct rng rng = { 42 };
	u64 size = (u64)nr << (PAGE_SHIFT + PMD_ORDER), t0, c0, build_ns;
	u64 conv_ns, cpu_ns;
	struct hgmem_file *f = NULL;
	unsigned long *order;
	double runs;
	struct hstate *h;
	int err = -ENOMEM;

	order = odd_pages(n, &rng);
	h = order ? pool_reserve(st, PMD_ORDER, nr) : NULL;
	if (!h) {
		if (!order)
			bench_skip(st, "no memory");
		free(order);
		return;
	}
	err = hgmem_file_create(h, size, HGMEM_FILE_INIT_SHARED, NUMA_NO_NODE, &f);
	if (!err && allocated)
		err = hgmem_allocate(f, 0, size);
	t0 = bench_now_ns();
	for (i = 0; !err && i < n; i++)
		err = hgmem_convert(f, (u64)order[i] << PAGE_SHIFT, PAGE_SIZE,
				    HGMEM_PRIVATE, NULL);
	build_ns = bench_now_ns() - t0;
	if (err) {
		bench_skip(st, "building the file failed: %d", err);
		goto out;
	}
	/* Clocks around the whole loop: reading them can be a system call. */
	t0 = bench_now_ns();
	c0 = cpu_now_ns();
	while (gb_keep_running(st)) {
		u64 off = (u64)order[rng_below(&rng, n)] << PAGE_SHIFT;

		if (hgmem_convert(f, off, PAGE_SIZE, HGMEM_SHARED, NULL) ||
		    hgmem_convert(f, off, PAGE_SIZE, HGMEM_PRIVATE, NULL)) {
			bench_skip(st, "hgmem_convert failed");
			break;
		}
	}
	cpu_ns = cpu_now_ns() - c0;
	conv_ns = bench_now_ns() - t0;
	gb_counter(st, "us_per_conv", (double)conv_ns * 1e-3 /
		   (2.0 * (double)gb_iterations_done(st)), 0);
	gb_counter(st, "cpu_us_per_conv", (double)cpu_ns * 1e-3 /
		   (2.0 * (double)gb_iterations_done(st)), 0);
	gb_counter(st, "build_us_per_conv", (double)build_ns * 1e-3 / (double)n, 0);
	runs = nr_runs(f);
	gb_counter(st, "ranges", runs, 0);
	gb_counter(st, "state_bytes_per_range", state_bytes(f) / runs, 0);
	gb_items_processed(st, 2 * gb_iterations_done(st));
out:
	if (f)
		hgmem_file_release(f);
	pool_release(h);
	free(order);
}

static void bm_state_convert(struct gb_state *st)
{
	state_convert(st, true);
}

static void bm_state_convert_unallocated(struct gb_state *st)
{
	state_convert(st, false);
}

/* ------------------------------------------------------------ mixed operations */
static void bm_mixed(struct gb_state *st)
{
	struct rng rng = { 7 };
	u64 size = (u64)gb_range(st, 0), c0, cpu_ns = 0;
	unsigned long nr = size >> (PAGE_SHIFT + PMD_ORDER), ops = bench_cfg.smoke ? 2000 : 1000000;
	u64 pages = size >> PAGE_SHIFT, failed = 0, i;
	size_t k0 = shim_kmalloc_bytes(), bytes = 0;
	struct hgmem_file *f = NULL;
	struct hstate *h;

	h = pool_reserve(st, PMD_ORDER, nr);
	if (!h)
		return;
	if (hgmem_file_create(h, size, HGMEM_FILE_INIT_SHARED, NUMA_NO_NODE, &f)) {
		bench_skip(st, "hgmem_file_create(%llu) failed", (unsigned long long)size);
		goto out;
	}
	while (gb_keep_running(st)) {
		c0 = cpu_now_ns();
		for (i = 0; i < ops; i++) {
			u64 r = rng_next(&rng), op = r % 100, to = (r >> 8) & 1;
			u64 page = (r >> 16) % pages, off = page << PAGE_SHIFT;
			u64 huge = off & ~((u64)SZ_2M - 1);
			enum hgmem_state state;
			int err;

			if (op < 55)
				err = hgmem_convert(f, off, PAGE_SIZE, to, NULL);
			else if (op < 65)
				err = hgmem_convert(f, huge, SZ_2M, to, NULL);
			else if (op < 66)
				err = hgmem_allocate(f, huge, SZ_2M);
			else if (op < 67)
				err = hgmem_punch_hole(f, huge, SZ_2M);
			else
				err = hgmem_get_state(f, off, &state, NULL);
			failed += err != 0;
		}
		cpu_ns += cpu_now_ns() - c0;
		bytes = shim_kmalloc_bytes() - k0 + (size_t)nr * sizeof(struct folio);
	}
	if (failed)
		bench_skip(st, "%llu operations failed", (unsigned long long)failed);
	gb_counter(st, "ops", (double)ops, 0);
	gb_counter(st, "ops_per_s", (double)ops * (double)gb_iterations_done(st) /
		   ((double)cpu_ns * 1e-9), 0);
	gb_counter(st, "ranges", nr_runs(f), 0);
	gb_counter(st, "state_bytes", state_bytes(f), 0);
	gb_counter(st, "metadata_bytes", (double)bytes, 0);
	gb_counter(st, "bytes_per_TiB", (double)bytes * (double)TIB / (double)size, 0);
out:
	if (f)
		hgmem_file_release(f);
	pool_release(h);
}

/* ------------------------------------------------------------ registration */
static struct gb_bench *meta(const char *name, gb_fn fn, u64 max)
{
	struct gb_bench *b = gb_iterations(gb_register(name, fn), 1);
	u64 s;

	for (s = SZ_1G; s <= max; s *= 4)
		gb_arg(b, (int64_t)s);
	if (s / 4 != max)
		gb_arg(b, (int64_t)max);
	return gb_unit(b, GB_MS);
}

void bench_register_mm_split(void)
{
	gb_unit(gb_register("split_merge/shim_direct_2M", bm_shim_direct_2m), GB_US);
	gb_unit(gb_register("split_merge/shim_direct_1G", bm_shim_direct_1g), GB_US);
	gb_unit(gb_register("split_merge/shim_hier_1G", bm_shim_hier_1g), GB_US);
	gb_unit(gb_arg(gb_arg(gb_arg(gb_register("split_merge/memset_floor", bm_memset_floor),
				     512), 1024), 1 << PUD_ORDER), GB_US);
}

void bench_register_state(void)
{
	static const struct {
		const char *name;
		gb_fn fn;
	} conv[] = {
		{ "state/convert_4K", bm_state_convert },
		{ "state/convert_4K_unallocated", bm_state_convert_unallocated },
	};
	struct gb_bench *b;
	unsigned int i;
	long r;

	for (i = 0; i < ARRAY_SIZE(conv); i++) {
		b = gb_register(conv[i].name, conv[i].fn);
		for (r = 1000; r <= (bench_cfg.smoke ? 1000 : 1000000); r *= 10)
			gb_arg(b, r);
		/* Fixed iterations: one run per size, as building 10^6 ranges takes seconds. */
		gb_iterations(b, bench_cfg.smoke ? 10 : 200000);
		gb_unit(gb_arg_name(b, "ranges"), GB_US);
	}

	/* 10^6 operations in one iteration; 16 GiB and 2000 in smoke mode. */
	b = gb_register("mixed", bm_mixed);
	gb_arg(b, (int64_t)SZ_1G);
	gb_arg(b, bench_cfg.smoke ? (int64_t)(16 * SZ_1G) : (int64_t)TIB);
	gb_unit(gb_iterations(b, 1), GB_MS);
}

void bench_register_metadata(void)
{
	u64 max = bench_cfg.meta_max, split_max = bench_cfg.meta_split_max;

	meta("metadata/2M_unsplit", bm_meta_2m_unsplit, max);
	meta("metadata/2M_split", bm_meta_2m_split, split_max);
	meta("metadata/1G_unsplit", bm_meta_1g_unsplit, max);
	meta("metadata/1G_split_one", bm_meta_1g_split_one, max);
	if (!bench_cfg.smoke)	/* seconds even at 1 GiB: each split walks the page */
		meta("metadata/1G_split", bm_meta_1g_split, split_max);
	meta("metadata/kernel_memmap", bm_ref_memmap, max);
	meta("metadata/kernel_hvo_2M", bm_ref_hvo_2m, max);
	meta("metadata/kernel_hvo_1G", bm_ref_hvo_1g, max);
}
