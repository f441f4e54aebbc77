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
 *	state tree, folio descriptors), as tests/check_metadata.c counts it,
 *	for a fully allocated file.  Layouts: 2M_unsplit, 2M_split (one 4K
 *	page per 2M converted: every page split to 4K), 1G_unsplit,
 *	1G_split_one (one 4K per 1G: 512 2M + 512 4K folios each), 1G_split
 *	(one 4K per 2M: every page split to 4K).  References, computed:
 *	kernel_memmap (64-byte struct page per 4K, what a split hugetlb page
 *	costs in the kernel) and kernel_hvo_<page> (one 4K vmemmap page per
 *	huge page kept by the HugeTLB vmemmap optimisation).
 * state_tree/convert_4K/<ranges>: hgmem_convert() of one 4K page of a file
 *	whose state tree holds about <ranges> ranges: a fully allocated file
 *	of 2M pages in which every other page was made private, in random
 *	order (that build is timed too: build_us_per_conv).  Each iteration
 *	makes a random one of those pages shared (three ranges become one)
 *	and private again (back to three): two conversions, no split or merge
 *	of folios, so the figure is the conversion's own cost at that number
 *	of ranges (us_per_conv).  tree_bytes_per_range: kmalloc'd bytes per
 *	range of a maple tree (the shim's) holding <ranges> ranges;
 *	tree_height: the state tree's height.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

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
		/* kmalloc: records, state tree, split descriptors; plus the heads. */
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

/* ------------------------------------------------------------ state tree */
static double tree_bytes_per_range(unsigned long ranges)
{
	size_t k0 = shim_kmalloc_bytes();
	struct maple_tree mt;
	double per = 0;
	unsigned long i;

	mt_init(&mt);
	for (i = 0; i < ranges; i++)
		if (mtree_store_range(&mt, 2 * i, 2 * i, xa_mk_value(i & 1), GFP_KERNEL))
			break;
	if (i == ranges)
		per = (double)(shim_kmalloc_bytes() - k0) / (double)ranges;
	mtree_destroy(&mt);
	return per;
}

static void bm_state_convert(struct gb_state *st)
{
	unsigned long ranges = (unsigned long)gb_range(st, 0), n = ranges / 2, i, j;
	unsigned long nr = (ranges + (1UL << PMD_ORDER) - 1) >> PMD_ORDER;
	u64 size = (u64)nr << (PAGE_SHIFT + PMD_ORDER), seed = 42, t0, build_ns, conv_ns;
	struct hgmem_file *f = NULL;
	unsigned long *order;
	struct hstate *h;
	int err = -ENOMEM;

	order = malloc(n * sizeof(*order));
	h = order ? pool_reserve(st, PMD_ORDER, nr) : NULL;
	if (!h) {
		if (!order)
			bench_skip(st, "no memory");
		free(order);
		return;
	}
	/* Pages 1, 3, 5, ... in random order. */
	for (i = 0; i < n; i++)
		order[i] = 2 * i + 1;
	for (i = n; i > 1; i--) {
		unsigned long t = order[i - 1];

		j = bench_rand(&seed) % i;
		order[i - 1] = order[j];
		order[j] = t;
	}
	err = hgmem_file_create(h, size, HGMEM_FILE_INIT_SHARED, NUMA_NO_NODE, &f) ?:
	      hgmem_allocate(f, 0, size);
	t0 = bench_now_ns();
	for (i = 0; !err && i < n; i++)
		err = hgmem_convert(f, (u64)order[i] << PAGE_SHIFT, PAGE_SIZE,
				    HGMEM_PRIVATE, NULL);
	build_ns = bench_now_ns() - t0;
	if (err) {
		bench_skip(st, "building the file failed: %d", err);
		goto out;
	}
	conv_ns = 0;
	while (gb_keep_running(st)) {
		u64 off = (u64)order[bench_rand(&seed) % n] << PAGE_SHIFT;

		t0 = bench_now_ns();
		if (hgmem_convert(f, off, PAGE_SIZE, HGMEM_SHARED, NULL) ||
		    hgmem_convert(f, off, PAGE_SIZE, HGMEM_PRIVATE, NULL)) {
			bench_skip(st, "hgmem_convert failed");
			break;
		}
		conv_ns += bench_now_ns() - t0;
	}
	gb_counter(st, "us_per_conv", (double)conv_ns * 1e-3 /
		   (2.0 * (double)gb_iterations_done(st)), 0);
	gb_counter(st, "build_us_per_conv", (double)build_ns * 1e-3 / (double)n, 0);
	gb_counter(st, "ranges", (double)shim_mt_nr_ranges(&f->state), 0);
	gb_counter(st, "tree_height", (double)shim_mt_height(&f->state), 0);
	gb_counter(st, "tree_bytes_per_range", tree_bytes_per_range(ranges), 0);
	gb_items_processed(st, 2 * gb_iterations_done(st));
out:
	if (f)
		hgmem_file_release(f);
	pool_release(h);
	free(order);
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

void bench_register_state_tree(void)
{
	struct gb_bench *b = gb_register("state_tree/convert_4K", bm_state_convert);
	long r;

	for (r = 1000; r <= (bench_cfg.smoke ? 1000 : 1000000); r *= 10)
		gb_arg(b, r);
	/* Fixed iterations: one run per size, as building 10^6 ranges takes seconds. */
	gb_iterations(b, bench_cfg.smoke ? 10 : 200000);
	gb_unit(gb_arg_name(b, "ranges"), GB_US);
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
