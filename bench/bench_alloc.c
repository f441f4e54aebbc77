// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Huge page allocation: guestmem against the other ways of getting zeroed
 * huge-page memory, and the first-fault latency.
 *
 * alloc_free/<impl>_<page>/<bytes>: one iteration obtains @bytes of zeroed
 * memory, writes one byte in every 4K page of it (so that lazily
 * populated memory is really there), and frees it.
 *
 *   guestmem      guestmem_allocate() + touch through guestmem_file_hva()
 *                 + guestmem_punch_hole(), in a prefaulted pool
 *   mmap_hugetlb  mmap(MAP_HUGETLB) + touch + munmap
 *   libhugetlbfs  get_huge_pages() + touch + free_huge_pages() (2M, the
 *                 default size); for 1G its non-default-size path,
 *                 hugetlbfs_unlinked_fd_for_size() + mmap + touch + munmap
 *   jemalloc      mallocx(MALLOCX_ALIGN(page) | MALLOCX_ZERO) + touch +
 *                 dallocx(), with MALLOC_CONF=hpa:true,background_thread:true
 *   glibc         aligned_alloc(page) + memset(0) + free
 *
 * fault/<impl>_<page>: first access to a huge page not yet allocated:
 * guestmem_pin() (allocates, zeroes, maps) + a write through the pinned
 * address + guestmem_unpin(), against a write to a fresh MAP_HUGETLB
 * mapping (the kernel allocates and zeroes at the fault).  Setup and
 * teardown are untimed (manual time).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "bench.h"

#ifdef HAVE_LIBHUGETLBFS
#include <hugetlbfs.h>
#endif

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif

static int huge_flag(uint64_t page)
{
	return MAP_HUGETLB | (page == SZ_1G ? MAP_HUGE_1GB : MAP_HUGE_2MB);
}

/* ------------------------------------------------------------ guestmem */
static void bm_alloc_guestmem(struct gb_state *st, uint64_t page)
{
	uint64_t size = (uint64_t)gb_range(st, 0);
	struct guestmem_pool *pool = bench_pool(st, page, size / page, 0);
	struct guestmem_file *f;
	char *hva;

	if (!pool)
		return;
	f = bench_file(st, pool, size, GUESTMEM_FILE_INIT_SHARED, false);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	hva = guestmem_file_hva(f);
	/* Warm-up: the first mapping of each page at the file's address. */
	if (guestmem_allocate(f, 0, size) == 0) {
		bench_touch(hva, size);
		guestmem_punch_hole(f, 0, size);
	}
	while (gb_keep_running(st)) {
		if (guestmem_allocate(f, 0, size)) {
			bench_skip(st, "guestmem_allocate: %s", guestmem_last_error());
			break;
		}
		bench_touch(hva, size);
		guestmem_punch_hole(f, 0, size);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_alloc_guestmem_2m(struct gb_state *st)
{
	bm_alloc_guestmem(st, SZ_2M);
}

static void bm_alloc_guestmem_1g(struct gb_state *st)
{
	bm_alloc_guestmem(st, SZ_1G);
}

/* ------------------------------------------------------------ mmap(MAP_HUGETLB) */
static bool hugetlb_ok(struct gb_state *st, uint64_t page, uint64_t size)
{
	char why[256];

	if (*bench_hugetlb_why(page, (long)(size / page), why, sizeof(why))) {
		gb_skip(st, why);
		return false;
	}
	return true;
}

static void bm_alloc_mmap(struct gb_state *st, uint64_t page)
{
	uint64_t size = (uint64_t)gb_range(st, 0);

	if (!hugetlb_ok(st, page, size))
		return;
	while (gb_keep_running(st)) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | huge_flag(page), -1, 0);

		if (p == MAP_FAILED) {
			bench_skip(st, "mmap(MAP_HUGETLB): %s", strerror(errno));
			break;
		}
		bench_touch(p, size);
		munmap(p, size);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
}

static void bm_alloc_mmap_2m(struct gb_state *st)
{
	bm_alloc_mmap(st, SZ_2M);
}

static void bm_alloc_mmap_1g(struct gb_state *st)
{
	bm_alloc_mmap(st, SZ_1G);
}

/* ------------------------------------------------------------ libhugetlbfs */
#ifdef HAVE_LIBHUGETLBFS
static void bm_alloc_libhugetlbfs_2m(struct gb_state *st)
{
	uint64_t size = (uint64_t)gb_range(st, 0);

	if (!hugetlb_ok(st, SZ_2M, size))
		return;
	if (gethugepagesize() != (long)SZ_2M) {
		bench_skip(st, "libhugetlbfs default page size is %ld, not 2M",
			   gethugepagesize());
		return;
	}
	while (gb_keep_running(st)) {
		void *p = get_huge_pages(size, GHP_DEFAULT);

		if (!p) {
			bench_skip(st, "get_huge_pages(%llu) failed", (unsigned long long)size);
			break;
		}
		bench_touch(p, size);
		free_huge_pages(p);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
}

static void bm_alloc_libhugetlbfs_1g(struct gb_state *st)
{
	uint64_t size = (uint64_t)gb_range(st, 0);
	int fd;

	if (!hugetlb_ok(st, SZ_1G, size))
		return;
	fd = hugetlbfs_unlinked_fd_for_size(SZ_1G);
	if (fd < 0) {
		bench_skip(st, "no hugetlbfs mount for 1G pages when the process started (as root the benchmark mounts one)");
		return;
	}
	close(fd);
	gb_label(st, "hugetlbfs_unlinked_fd_for_size+mmap");
	while (gb_keep_running(st)) {
		void *p;

		fd = hugetlbfs_unlinked_fd_for_size(SZ_1G);
		p = fd < 0 ? MAP_FAILED :
			     mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (fd >= 0)
			close(fd);
		if (p == MAP_FAILED) {
			bench_skip(st, "libhugetlbfs 1G mapping failed: %s", strerror(errno));
			break;
		}
		bench_touch(p, size);
		munmap(p, size);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
}
#endif

/* ------------------------------------------------------------ jemalloc */
/*
 * Debian's libjemalloc has no symbol prefix: linking it would replace
 * malloc for the whole process, the library and the glibc reference
 * included.  It is loaded privately with dlopen(RTLD_LOCAL) instead and
 * only its mallocx()/dallocx() are called.  Its initial-exec TLS needs
 * static TLS surplus, which main.c provides with
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls (set before exec).
 */
#define JE_MALLOCX_ALIGN(a)	((int)(ffsll((long long)(a)) - 1))
#define JE_MALLOCX_ZERO		((int)0x40)

static struct {
	bool tried;
	void *(*mallocx)(size_t, int);
	void (*dallocx)(void *, int);
	int (*mallctl)(const char *, void *, size_t *, void *, size_t);
	char why[256];
	char version[96];
	bool hpa, background;
} je;

static bool je_load(void)
{
	const char *conf = "hpa:true,background_thread:true";
	void *h;

	if (je.tried)
		return je.mallocx != NULL;
	je.tried = true;
	setenv("MALLOC_CONF", conf, 1);	/* read by jemalloc's constructor */
	h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(je.why, sizeof(je.why), "jemalloc: %s", dlerror());
		return false;
	}
	je.mallocx = (void *(*)(size_t, int))dlsym(h, "mallocx");
	je.dallocx = (void (*)(void *, int))dlsym(h, "dallocx");
	je.mallctl = (int (*)(const char *, void *, size_t *, void *, size_t))
		dlsym(h, "mallctl");
	if (!je.mallocx || !je.dallocx || !je.mallctl) {
		snprintf(je.why, sizeof(je.why),
			 "libjemalloc.so.2 has no mallocx/dallocx/mallctl (built with a prefix?)");
		je.mallocx = NULL;
		return false;
	}
	{
		const char *v = NULL;
		size_t sz = sizeof(v);

		if (!je.mallctl("version", &v, &sz, NULL, 0) && v)
			snprintf(je.version, sizeof(je.version), "%s", v);
		sz = sizeof(je.hpa);
		je.mallctl("opt.hpa", &je.hpa, &sz, NULL, 0);
		sz = sizeof(je.background);
		je.mallctl("background_thread", &je.background, &sz, NULL, 0);
	}
	return true;
}

const char *bench_jemalloc_version(void);
const char *bench_jemalloc_version(void)
{
	return je_load() ? je.version : "";
}

static void bm_alloc_jemalloc(struct gb_state *st, uint64_t align)
{
	uint64_t size = (uint64_t)gb_range(st, 0);
	int flags = JE_MALLOCX_ALIGN(align) | JE_MALLOCX_ZERO;

	if (!je_load()) {
		gb_skip(st, je.why);
		return;
	}
	gb_label(st, je.hpa && je.background ? "hpa:true,background_thread:true" :
					       "hpa NOT enabled");
	while (gb_keep_running(st)) {
		void *p = je.mallocx(size, flags);

		if (!p) {
			bench_skip(st, "mallocx(%llu) failed", (unsigned long long)size);
			break;
		}
		bench_touch(p, size);
		je.dallocx(p, 0);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
}

static void bm_alloc_jemalloc_2m(struct gb_state *st)
{
	bm_alloc_jemalloc(st, SZ_2M);
}

static void bm_alloc_jemalloc_1g(struct gb_state *st)
{
	bm_alloc_jemalloc(st, SZ_1G);
}

/* ------------------------------------------------------------ glibc */
static void bm_alloc_glibc(struct gb_state *st, uint64_t align)
{
	uint64_t size = (uint64_t)gb_range(st, 0);

	while (gb_keep_running(st)) {
		void *p = aligned_alloc(align, size);

		if (!p) {
			bench_skip(st, "aligned_alloc(%llu) failed", (unsigned long long)size);
			break;
		}
		memset(p, 0, size);
		gb_clobber_memory();
		free(p);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
}

static void bm_alloc_glibc_2m(struct gb_state *st)
{
	bm_alloc_glibc(st, SZ_2M);
}

static void bm_alloc_glibc_1g(struct gb_state *st)
{
	bm_alloc_glibc(st, SZ_1G);
}

/* ------------------------------------------------------------ first fault */
static void bm_fault_guestmem(struct gb_state *st, uint64_t page)
{
	struct guestmem_pool *pool = bench_pool(st, page, 1, 0);
	struct guestmem_file *f;
	struct bench_lat lat;

	if (!pool)
		return;
	f = bench_file(st, pool, page, GUESTMEM_FILE_INIT_SHARED, false);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		struct guestmem_page pg;
		uint64_t t0 = bench_now_ns(), t1;

		if (guestmem_pin(f, 0, &pg)) {
			bench_skip(st, "guestmem_pin: %s", guestmem_last_error());
			break;
		}
		*(volatile char *)pg.addr = 1;
		guestmem_unpin(f, &pg);
		t1 = bench_now_ns();
		bench_lat_add(&lat, t1 - t0);
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
		guestmem_punch_hole(f, 0, page);
	}
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_fault_guestmem_2m(struct gb_state *st)
{
	bm_fault_guestmem(st, SZ_2M);
}

static void bm_fault_guestmem_1g(struct gb_state *st)
{
	bm_fault_guestmem(st, SZ_1G);
}

static void bm_fault_mmap(struct gb_state *st, uint64_t page)
{
	struct bench_lat lat;

	if (!hugetlb_ok(st, page, page))
		return;
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		char *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | huge_flag(page), -1, 0);
		uint64_t t0, t1;

		if (p == MAP_FAILED) {
			bench_skip(st, "mmap(MAP_HUGETLB): %s", strerror(errno));
			break;
		}
		t0 = bench_now_ns();
		*(volatile char *)p = 1;
		t1 = bench_now_ns();
		bench_lat_add(&lat, t1 - t0);
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
		munmap(p, page);
	}
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
}

static void bm_fault_mmap_2m(struct gb_state *st)
{
	bm_fault_mmap(st, SZ_2M);
}

static void bm_fault_mmap_1g(struct gb_state *st)
{
	bm_fault_mmap(st, SZ_1G);
}

/* ------------------------------------------------------------ registration */
static void sizes_2m(struct gb_bench *b)
{
	uint64_t s;

	for (s = SZ_2M; s <= bench_cfg.alloc_max; s *= 4)
		gb_arg(b, (int64_t)s);
	gb_real_time(gb_unit(bench_heavy(b), GB_US));
}

static void size_1g(struct gb_bench *b)
{
	gb_real_time(gb_unit(gb_arg(bench_heavy(b), (int64_t)SZ_1G), GB_US));
}

void bench_register_alloc(void)
{
	sizes_2m(gb_register("alloc_free/guestmem_2M", bm_alloc_guestmem_2m));
	sizes_2m(gb_register("alloc_free/mmap_hugetlb_2M", bm_alloc_mmap_2m));
#ifdef HAVE_LIBHUGETLBFS
	sizes_2m(gb_register("alloc_free/libhugetlbfs_2M", bm_alloc_libhugetlbfs_2m));
#endif
	sizes_2m(gb_register("alloc_free/jemalloc_2M", bm_alloc_jemalloc_2m));
	sizes_2m(gb_register("alloc_free/glibc_2M", bm_alloc_glibc_2m));
	if (!bench_cfg.smoke) {
		size_1g(gb_register("alloc_free/guestmem_1G", bm_alloc_guestmem_1g));
		size_1g(gb_register("alloc_free/mmap_hugetlb_1G", bm_alloc_mmap_1g));
#ifdef HAVE_LIBHUGETLBFS
		size_1g(gb_register("alloc_free/libhugetlbfs_1G", bm_alloc_libhugetlbfs_1g));
#endif
		size_1g(gb_register("alloc_free/jemalloc_1G", bm_alloc_jemalloc_1g));
		size_1g(gb_register("alloc_free/glibc_1G", bm_alloc_glibc_1g));
	}

	gb_unit(gb_manual_time(gb_register("fault/guestmem_2M", bm_fault_guestmem_2m)), GB_US);
	gb_unit(gb_manual_time(gb_register("fault/mmap_hugetlb_2M", bm_fault_mmap_2m)), GB_US);
	if (!bench_cfg.smoke) {
		bench_heavy(gb_unit(gb_manual_time(gb_register("fault/guestmem_1G",
							       bm_fault_guestmem_1g)), GB_US));
		bench_heavy(gb_unit(gb_manual_time(gb_register("fault/mmap_hugetlb_1G",
							       bm_fault_mmap_1g)), GB_US));
	}
}
