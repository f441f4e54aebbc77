// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Conversions through the public API, each against its reference.
 *
 * split_merge/guestmem_<page>: one 4K page of an unsplit huge page made
 *	shared and private again: a 2M page splits into 4K folios and merges
 *	back; a 1G page splits into 2M folios, only the mixed 2M piece into
 *	4K, and merges back up.  (References: bench_mm.c.)
 * convert/{seq_4K,random_4K,huge}/guestmem*: one guestmem_convert() per
 *	iteration, latency percentiles as counters, against mprotect() of the
 *	same range of ordinary populated memory (PROT_NONE for private,
 *	read/write for shared): the kernel's own cost of changing the host's
 *	access to a range.  seq_4K walks a 256 MiB file of 2M pages 4K by 4K
 *	(and back); random_4K flips random 4K pages of a 128 MiB span, of 2M
 *	pages or (guestmem_1G) inside one 1G page; huge converts whole
 *	aligned 2M, 64M or 1G ranges (no split).
 * pin/guestmem{,_split}: guestmem_pin() + guestmem_unpin() of a random
 *	shared 4K page of an unsplit (split) 2M page, against
 *	process_vm_readv() of 8 bytes, which pins and unpins the page with
 *	the kernel's GUP (pin_user_pages_remote()).
 * coco_boot/guestmem_<page>/<bytes>: a confidential guest's life, end to
 *	end (see coco_boot()), against the same guest memory from
 *	mmap(MAP_HUGETLB) with no shared/private tracking at all.
 * mt_convert/{shared_file,own_file}: 4K conversions on N threads, in
 *	disjoint ranges of one file or in one file per thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif

/* Time one call into @lat and the iteration time. */
#define TIMED(st, lat, call) ({						\
	uint64_t __t0 = bench_now_ns();					\
	int __ret = (call);						\
	uint64_t __dt = bench_now_ns() - __t0;				\
	bench_lat_add((lat), __dt);					\
	gb_set_iteration_time((st), (double)__dt * 1e-9);		\
	__ret;								\
})

static void pool_stats(struct guestmem_pool *pool, uint64_t *splits, uint64_t *merges)
{
	struct guestmem_pool_stats s;

	guestmem_pool_stats(pool, &s, sizeof(s));
	*splits = s.splits;
	*merges = s.merges;
}

/* ------------------------------------------------------------ split + merge */
static void bm_split_merge(struct gb_state *st, uint64_t page)
{
	struct guestmem_pool *pool = bench_pool(st, page, 1, 0);
	uint64_t off = page / 2 + 5 * SZ_4K, s0, m0, s1, m1;
	struct guestmem_file *f;
	int64_t n;

	if (!pool)
		return;
	f = bench_file(st, pool, page, 0, true);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	/* Warm-up: the metadata allocations' first touch. */
	guestmem_convert(f, off, SZ_4K, GUESTMEM_SHARED, NULL);
	guestmem_convert(f, off, SZ_4K, GUESTMEM_PRIVATE, NULL);
	pool_stats(pool, &s0, &m0);
	while (gb_keep_running(st)) {
		if (guestmem_convert(f, off, SZ_4K, GUESTMEM_SHARED, NULL) ||
		    guestmem_convert(f, off, SZ_4K, GUESTMEM_PRIVATE, NULL)) {
			bench_skip(st, "guestmem_convert: %s", guestmem_last_error());
			break;
		}
	}
	pool_stats(pool, &s1, &m1);
	n = gb_iterations_done(st);
	if (n > 0) {
		/* Every split creates 512 descriptors (2M->4K or 1G->2M). */
		gb_counter(st, "splits", (double)(s1 - s0) / n, 0);
		gb_counter(st, "merges", (double)(m1 - m0) / n, 0);
		gb_counter(st, "descriptors", 512.0 * (double)(s1 - s0) / n, 0);
	}
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_split_merge_2m(struct gb_state *st)
{
	bm_split_merge(st, SZ_2M);
}

static void bm_split_merge_1g(struct gb_state *st)
{
	bm_split_merge(st, SZ_1G);
}

/* ------------------------------------------------------------ conversions */
enum pattern { SEQ_4K, RANDOM_4K, HUGE_RANGE };

static void bm_convert_guestmem(struct gb_state *st, enum pattern pat, uint64_t page)
{
	uint64_t size = page == SZ_1G ? SZ_1G :
			pat == RANDOM_4K ? bench_cfg.random_span : bench_cfg.convert_file;
	uint64_t len = pat == HUGE_RANGE ? (uint64_t)gb_range(st, 0) : SZ_4K;
	/* Random 4K conversions stay within the first random_span bytes. */
	uint64_t n = (pat == RANDOM_4K ? bench_cfg.random_span : size) / len;
	struct rng rng = { 42 };
	uint64_t i = 0;
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	unsigned int to = GUESTMEM_SHARED;
	unsigned char *state = NULL;
	struct bench_lat lat;

	if (len > size) {
		bench_skip(st, "range larger than the file");
		return;
	}
	pool = bench_pool(st, page, size / page, 0);
	if (!pool)
		return;
	f = bench_file(st, pool, size, 0, true);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	if (pat == RANDOM_4K)
		state = calloc(n, 1);
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		uint64_t idx = i;

		if (pat == RANDOM_4K) {
			idx = rng_below(&rng, n);
			to = state[idx] ^= 1;
		} else if (++i == n) {
			i = 0;
		}
		if (TIMED(st, &lat, guestmem_convert(f, idx * len, len, to, NULL))) {
			bench_skip(st, "guestmem_convert: %s", guestmem_last_error());
			break;
		}
		if (pat != RANDOM_4K && !i)
			to ^= 1;	/* whole file done: walk it back */
	}
	gb_items_processed(st, gb_iterations_done(st));
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)len);
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	free(state);
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_convert_mprotect(struct gb_state *st, enum pattern pat)
{
	uint64_t len = pat == HUGE_RANGE ? (uint64_t)gb_range(st, 0) : SZ_4K;
	uint64_t size = pat == RANDOM_4K ? bench_cfg.random_span :
			len >= SZ_1G ? SZ_1G : bench_cfg.convert_file;
	struct rng rng = { 42 };
	uint64_t n = size / len, i = 0;
	unsigned char *state = NULL;
	struct bench_lat lat;
	char *buf;
	int to = 1;

	buf = bench_alloc_warm(size, false);
	if (!buf) {
		bench_skip(st, "no memory for %llu bytes", (unsigned long long)size);
		return;
	}
	mprotect(buf, size, PROT_NONE);		/* all "private" */
	if (pat == RANDOM_4K)
		state = calloc(n, 1);
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		uint64_t idx = i;

		if (pat == RANDOM_4K) {
			idx = rng_below(&rng, n);
			to = state[idx] ^= 1;
		} else if (++i == n) {
			i = 0;
		}
		if (TIMED(st, &lat, mprotect(buf + idx * len, len,
					     to ? PROT_READ | PROT_WRITE : PROT_NONE))) {
			bench_skip(st, "mprotect: %s", strerror(errno));
			break;
		}
		if (pat != RANDOM_4K && !i)
			to ^= 1;
	}
	gb_items_processed(st, gb_iterations_done(st));
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)len);
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	free(state);
	bench_free_warm(buf, size);
}

static void bm_seq_guestmem(struct gb_state *st)
{
	bm_convert_guestmem(st, SEQ_4K, SZ_2M);
}

static void bm_seq_mprotect(struct gb_state *st)
{
	bm_convert_mprotect(st, SEQ_4K);
}

static void bm_random_guestmem(struct gb_state *st)
{
	bm_convert_guestmem(st, RANDOM_4K, SZ_2M);
}

static void bm_random_guestmem_1g(struct gb_state *st)
{
	bm_convert_guestmem(st, RANDOM_4K, SZ_1G);
}

static void bm_random_mprotect(struct gb_state *st)
{
	bm_convert_mprotect(st, RANDOM_4K);
}

static void bm_huge_guestmem_2m(struct gb_state *st)
{
	bm_convert_guestmem(st, HUGE_RANGE, SZ_2M);
}

static void bm_huge_guestmem_1g(struct gb_state *st)
{
	bm_convert_guestmem(st, HUGE_RANGE, SZ_1G);
}

static void bm_huge_mprotect(struct gb_state *st)
{
	bm_convert_mprotect(st, HUGE_RANGE);
}

/* ------------------------------------------------------------ pin + unpin */
#define PIN_FILE	(UINT64_C(64) << 20)

static void bm_pin_guestmem(struct gb_state *st, bool split)
{
	struct rng rng = { 7 };
	uint64_t size = bench_cfg.smoke ? 2 * SZ_2M : PIN_FILE, n = size / SZ_4K;
	struct guestmem_pool *pool = bench_pool(st, SZ_2M, size / SZ_2M, 0);
	struct guestmem_file *f;
	struct bench_lat lat;
	uint64_t off;

	if (!pool)
		return;
	f = bench_file(st, pool, size, GUESTMEM_FILE_INIT_SHARED, true);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	/* Split: the last 4K page of every 2M page is private. */
	for (off = SZ_2M - SZ_4K; split && off < size; off += SZ_2M)
		guestmem_convert(f, off, SZ_4K, GUESTMEM_PRIVATE, NULL);
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		struct guestmem_page pg;
		uint64_t idx = rng_below(&rng, n);

		if (split && (idx % 512) == 511)
			idx--;
		if (TIMED(st, &lat, guestmem_pin(f, idx * SZ_4K, &pg) ?:
				    guestmem_unpin(f, &pg))) {
			bench_skip(st, "guestmem_pin: %s", guestmem_last_error());
			break;
		}
	}
	gb_items_processed(st, gb_iterations_done(st));
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_pin_guestmem_unsplit(struct gb_state *st)
{
	bm_pin_guestmem(st, false);
}

static void bm_pin_guestmem_split(struct gb_state *st)
{
	bm_pin_guestmem(st, true);
}

static void bm_pin_gup(struct gb_state *st)
{
	struct rng rng = { 7 };
	uint64_t size = bench_cfg.smoke ? 2 * SZ_2M : PIN_FILE, n = size / SZ_4K;
	char *buf = bench_alloc_warm(size, false), word[8];
	pid_t pid = getpid();
	struct bench_lat lat;

	if (!buf) {
		bench_skip(st, "no memory");
		return;
	}
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		uint64_t idx = rng_below(&rng, n);
		struct iovec local = { word, sizeof(word) };
		struct iovec remote = { buf + idx * SZ_4K, sizeof(word) };

		if (TIMED(st, &lat, process_vm_readv(pid, &local, 1, &remote, 1, 0) ==
				    (ssize_t)sizeof(word) ? 0 : -1)) {
			bench_skip(st, "process_vm_readv: %s", strerror(errno));
			break;
		}
	}
	gb_items_processed(st, gb_iterations_done(st));
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	bench_free_warm(buf, size);
}

/* ------------------------------------------------------------ coco boot */
#define COCO_IMAGE	(UINT64_C(16) << 20)	/* firmware + kernel + initrd */
#define COCO_SWIOTLB	(UINT64_C(64) << 20)	/* bounce buffers */
#define COCO_VCPUS	8			/* one shared GHCB page each */
#define COCO_DMA	512			/* share/pin/unpin/unshare cycles */

static int coco_convert(struct guestmem_file *f, uint64_t off, uint64_t len,
			unsigned int to, struct bench_lat *lat)
{
	uint64_t t0 = bench_now_ns();
	int err = guestmem_convert(f, off, len, to, NULL);

	bench_lat_add(lat, bench_now_ns() - t0);
	return err;
}

/*
 * One confidential guest of @size bytes, from creation to teardown:
 *  1. the VMM creates the guest memory (shared) and loads a 16 MiB image;
 *  2. launch: the whole guest becomes private;
 *  3. the guest accepts its memory, one huge page at a time, and touches
 *     every 4K page of it through the host mapping (as its first accesses
 *     would fault it in);
 *  4. it shares a 64 MiB swiotlb bounce buffer and one 4K GHCB page per
 *     vCPU (8), which splits those huge pages;
 *  5. device I/O: 512 times a random 4K page is made shared, pinned by
 *     the host, written, unpinned and made private again;
 *  6. the VM is destroyed and every page goes back to the pool.
 * Every conversion's latency goes into @lat.
 */
static int coco_boot(struct guestmem_pool *pool, uint64_t size, uint64_t page,
		     const void *image, struct rng *rng, struct bench_lat *lat)
{
	uint64_t off, swiotlb = size / 2, n = size / SZ_4K;
	struct guestmem_file *f;
	char *hva;
	int i, err;

	err = guestmem_file_create(pool, size, GUESTMEM_FILE_INIT_SHARED, &f);
	if (err)
		return err;
	hva = guestmem_file_hva(f);
	err = guestmem_allocate(f, 0, COCO_IMAGE);
	if (!err) {
		memcpy(hva, image, COCO_IMAGE);
		err = coco_convert(f, 0, size, GUESTMEM_PRIVATE, lat);
	}
	for (off = 0; !err && off < size; off += page)
		err = guestmem_allocate(f, off, page);
	if (!err) {
		bench_touch(hva, size);
		err = coco_convert(f, swiotlb, COCO_SWIOTLB, GUESTMEM_SHARED, lat);
	}
	for (i = 0; !err && i < COCO_VCPUS; i++)
		err = coco_convert(f, (uint64_t)i * (size / COCO_VCPUS) + size / 16 + 3 * SZ_4K, SZ_4K,
				   GUESTMEM_SHARED, lat);
	for (i = 0; !err && i < COCO_DMA; i++) {
		uint64_t p = rng_below(rng, n) * SZ_4K;
		struct guestmem_page pg;
		unsigned int state;

		if (guestmem_state(f, p, &state, NULL) || state == GUESTMEM_SHARED)
			continue;	/* swiotlb or GHCB: leave it */
		err = coco_convert(f, p, SZ_4K, GUESTMEM_SHARED, lat);
		if (!err)
			err = guestmem_pin(f, p, &pg);
		if (!err) {
			*(volatile char *)pg.addr = 0x5a;
			guestmem_unpin(f, &pg);
			err = coco_convert(f, p, SZ_4K, GUESTMEM_PRIVATE, lat);
		}
	}
	guestmem_file_destroy(f);
	return err;
}

static void bm_coco_guestmem(struct gb_state *st, uint64_t page)
{
	struct rng rng = { 1 };
	uint64_t size = (uint64_t)gb_range(st, 0);
	struct guestmem_pool *pool;
	struct bench_lat lat;
	void *image;
	int err;

	if (size < COCO_IMAGE + COCO_SWIOTLB || size % page) {
		bench_skip(st, "guest too small");
		return;
	}
	pool = bench_pool(st, page, size / page, 0);
	if (!pool)
		return;
	image = malloc(COCO_IMAGE);
	memset(image, 0xc3, COCO_IMAGE);
	bench_lat_init(&lat);
	err = coco_boot(pool, size, page, image, &rng, &lat);	/* warm-up */
	bench_lat_free(&lat);
	bench_lat_init(&lat);
	while (!err && gb_keep_running(st))
		err = coco_boot(pool, size, page, image, &rng, &lat);
	if (err)
		bench_skip(st, "coco boot failed: %s: %s", strerror(-err),
			   guestmem_last_error());
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
	gb_counter(st, "conversions", (double)lat.l.n, GB_COUNTER_AVG_ITERS);
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	free(image);
	bench_pool_label(st, pool);
	bench_pool_put(pool);
}

static void bm_coco_guestmem_2m(struct gb_state *st)
{
	bm_coco_guestmem(st, SZ_2M);
}

static void bm_coco_guestmem_1g(struct gb_state *st)
{
	bm_coco_guestmem(st, SZ_1G);
}

static void bm_coco_mmap(struct gb_state *st, uint64_t page)
{
	uint64_t size = (uint64_t)gb_range(st, 0);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		    (page == SZ_1G ? MAP_HUGE_1GB : MAP_HUGE_2MB);
	char why[256];
	void *image;

	if (*bench_hugetlb_why(page, (long)(size / page), why, sizeof(why))) {
		gb_skip(st, why);
		return;
	}
	image = malloc(COCO_IMAGE);
	memset(image, 0xc3, COCO_IMAGE);
	while (gb_keep_running(st)) {
		char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);

		if (p == MAP_FAILED) {
			bench_skip(st, "mmap(MAP_HUGETLB): %s", strerror(errno));
			break;
		}
		memcpy(p, image, COCO_IMAGE);
		bench_touch(p, size);
		munmap(p, size);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
	free(image);
}

static void bm_coco_mmap_2m(struct gb_state *st)
{
	bm_coco_mmap(st, SZ_2M);
}

static void bm_coco_mmap_1g(struct gb_state *st)
{
	bm_coco_mmap(st, SZ_1G);
}

/* ------------------------------------------------------------ threads */
#define MT_SLICE	(UINT64_C(32) << 20)	/* per thread */
#define MT_MAX		64

static struct {
	struct guestmem_pool *pool;
	struct guestmem_file *files[MT_MAX];
	int nfiles;
	const char *why;
	char buf[256];
} mt;

static void mt_setup(struct gb_state *st, bool own_file)
{
	int nt = gb_nthreads(st), i, err = 0;
	uint64_t slice = bench_cfg.smoke ? SZ_2M : MT_SLICE;
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M,
		.nr_pages = nt * slice / SZ_2M,
		.node = -1,
		.flags = GUESTMEM_POOL_FALLBACK | GUESTMEM_POOL_PREFAULT,
	};

	memset(&mt, 0, sizeof(mt));
	if (nt > MT_MAX) {
		mt.why = "too many threads";
		return;
	}
	err = guestmem_pool_create(&o, &mt.pool);
	for (i = 0; !err && i < (own_file ? nt : 1); i++) {
		uint64_t size = own_file ? slice : nt * slice;

		err = guestmem_file_create(mt.pool, size, 0, &mt.files[i]) ?:
		      guestmem_allocate(mt.files[i], 0, size);
		if (mt.files[i])
			mt.nfiles = i + 1;
	}
	if (err) {
		snprintf(mt.buf, sizeof(mt.buf), "setup: %s", guestmem_last_error());
		mt.why = mt.buf;
	}
}

static void mt_teardown(void)
{
	int i;

	for (i = 0; i < mt.nfiles; i++)
		guestmem_file_destroy(mt.files[i]);
	if (mt.pool)
		bench_pool_put(mt.pool);
	memset(&mt, 0, sizeof(mt));
}

static void bm_mt_convert(struct gb_state *st, bool own_file)
{
	int t = gb_thread_index(st);
	uint64_t slice = bench_cfg.smoke ? SZ_2M : MT_SLICE;
	uint64_t n = slice / SZ_4K, i = 0, base;
	struct guestmem_file *f;
	unsigned int to = GUESTMEM_SHARED;

	if (t == 0)
		mt_setup(st, own_file);
	/* Everyone waits here (the loop's start barrier) for thread 0's setup. */
	while (gb_keep_running(st)) {
		if (mt.why) {
			gb_skip(st, mt.why);
			break;
		}
		f = mt.files[own_file ? t : 0];
		base = own_file ? 0 : (uint64_t)t * slice;
		if (guestmem_convert(f, base + i * SZ_4K, SZ_4K, to, NULL)) {
			bench_skip(st, "guestmem_convert: %s", guestmem_last_error());
			break;
		}
		if (++i == n) {
			i = 0;
			to ^= 1;
		}
	}
	gb_items_processed(st, gb_iterations_done(st));
	if (t == 0) {
		if (mt.pool)
			bench_pool_label(st, mt.pool);
		mt_teardown();	/* after the loop's stop barrier */
	}
}

static void bm_mt_shared_file(struct gb_state *st)
{
	bm_mt_convert(st, false);
}

static void bm_mt_own_file(struct gb_state *st)
{
	bm_mt_convert(st, true);
}

/* ------------------------------------------------------------ registration */
static struct gb_bench *timed(struct gb_bench *b)
{
	return gb_unit(gb_manual_time(b), GB_NS);
}

static void coco(struct gb_bench *b, uint64_t guest)
{
	gb_real_time(gb_unit(gb_arg(bench_heavy(b), (int64_t)guest), GB_MS));
}

void bench_register_split(void)
{
	gb_unit(gb_register("split_merge/guestmem_2M", bm_split_merge_2m), GB_US);
	if (!bench_cfg.smoke)
		gb_unit(gb_register("split_merge/guestmem_1G", bm_split_merge_1g), GB_US);
}

void bench_register_convert(void)
{
	uint64_t guest = bench_cfg.guest_size;
	struct gb_bench *a, *b, *c;
	int t;

	timed(gb_register("convert/seq_4K/guestmem", bm_seq_guestmem));
	timed(gb_register("convert/seq_4K/mprotect", bm_seq_mprotect));
	timed(gb_register("convert/random_4K/guestmem", bm_random_guestmem));
	timed(gb_register("convert/random_4K/mprotect", bm_random_mprotect));
	if (!bench_cfg.smoke)
		timed(gb_register("convert/random_4K/guestmem_1G", bm_random_guestmem_1g));
	a = gb_arg(timed(gb_register("convert/huge/guestmem_2M", bm_huge_guestmem_2m)),
		   (int64_t)SZ_2M);
	b = gb_arg(timed(gb_register("convert/huge/mprotect", bm_huge_mprotect)),
		   (int64_t)SZ_2M);
	if (!bench_cfg.smoke) {
		gb_arg(a, (int64_t)(32 * SZ_2M));
		gb_arg(gb_arg(b, (int64_t)(32 * SZ_2M)), (int64_t)SZ_1G);
		gb_arg(timed(gb_register("convert/huge/guestmem_1G", bm_huge_guestmem_1g)),
		       (int64_t)SZ_1G);
	}

	timed(gb_register("pin/guestmem", bm_pin_guestmem_unsplit));
	timed(gb_register("pin/guestmem_split", bm_pin_guestmem_split));
	timed(gb_register("pin/process_vm_readv", bm_pin_gup));

	coco(gb_register("coco_boot/guestmem_2M", bm_coco_guestmem_2m), guest);
	coco(gb_register("coco_boot/mmap_hugetlb_2M", bm_coco_mmap_2m), guest);
	if (!bench_cfg.smoke) {
		coco(gb_register("coco_boot/guestmem_1G", bm_coco_guestmem_1g), guest);
		coco(gb_register("coco_boot/mmap_hugetlb_1G", bm_coco_mmap_1g), guest);
	}

	/* 1, 2 and 4 threads whatever the cores, and up to max_threads. */
	b = gb_real_time(gb_register("mt_convert/shared_file", bm_mt_shared_file));
	c = gb_real_time(gb_register("mt_convert/own_file", bm_mt_own_file));
	for (t = 1; t <= 4 || t <= bench_cfg.max_threads; t *= 2) {
		gb_threads(b, t);
		gb_threads(c, t);
	}
}
