// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pre-zeroed huge pages: a pool with GUESTMEM_POOL_ZERO_BACKGROUND clears
 * freed pages on its own thread, so that allocating one later needs no
 * clearing on the caller's path.
 *
 * zero/alloc_prezeroed_<page>  guestmem_allocate() of one huge page the pool
 *                              knows is zero + a write to its first byte
 *                              through guestmem_file_hva(); the punch and the
 *                              wait for the zeroer are untimed (manual time).
 *                              Counter not_prezeroed: iterations whose page
 *                              was not known zero (should be 0).
 * zero/mmap_touch_<page>       reference: mmap(MAP_HUGETLB) + a write to the
 *                              first byte (the kernel allocates and clears
 *                              the page at that fault); munmap untimed.
 * zero/map_floor_<page>        floor: the system calls guestmem_allocate()
 *                              makes for a page that needs no clearing, and
 *                              nothing else: mmap(MAP_SHARED | MAP_FIXED |
 *                              MAP_POPULATE) of a resident page of a hugetlb
 *                              memfd over a PROT_NONE reservation,
 *                              madvise(MADV_DONTFORK), a write to the first
 *                              byte; putting the PROT_NONE mapping back is
 *                              untimed.  No allocator can hand out a mapped
 *                              page in less; its ratio to mmap_touch is the
 *                              best alloc_prezeroed can reach on the host.
 * zero/map_floor_after_thread_<page>
 *                              the same, each time after another thread of
 *                              the process cleared 2 MiB on its own and the
 *                              caller waited for it as alloc_prezeroed waits
 *                              for the zeroer (untimed): the floor in the
 *                              conditions alloc_prezeroed runs in.
 * zero/background_<page>       bandwidth of the zeroer: from the moment a
 *                              punch of N dirty pages has handed them to the
 *                              pool (guestmem_punch_hole() returned) until
 *                              the pool reports them all zero, over the
 *                              pages not yet zero when the punch returned
 *                              (polled every 10 us, sleeping).
 *                              The punch itself (unmapping the pages on the
 *                              caller's thread) is not zeroing: counter
 *                              punch_us, and alloc_free/ measures it.
 *                              Counter zeroer_cpu_GBps: every byte cleared
 *                              over the zeroer thread's time on a CPU
 *                              (schedstat), its speed whatever CPU time the
 *                              machine gives it.
 * zero/memset_<page>           reference: memset() of as many bytes of warm
 *                              memory on one thread.  Fair to the zeroer:
 *                              on the hosts measured, memset() of memory
 *                              just dirtied, as freed pages are, runs at
 *                              the same speed as of warm memory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	26
#endif

/* Pages of the background bandwidth run: 64 MiB of 2M pages, one 1G page. */
static uint64_t bg_pages(uint64_t page)
{
	return page == SZ_1G ? 1 : bench_cfg.smoke ? 4 : 32;
}

/*
 * Between two looks at the pool's counters: a short sleep.  Spinning would
 * be more precise, but takes a CPU the zeroer may need: on a machine with
 * two CPUs and anything else running, the zeroer then runs at half speed.
 * A look takes the pool's locks, which the zeroer also takes once per
 * page; every 10 us is seldom enough not to get in its way.
 */
static void nap(void)
{
	struct timespec ts = { 0, 10000 };

	nanosleep(&ts, NULL);
}

/* Wait until every free page of @pool is known to be zero. */
static void wait_all_zero(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats s;

	while (!guestmem_pool_stats(pool, &s, sizeof(s)) && s.zeroed < s.free + s.reserved)
		nap();
}

static struct guestmem_pool *zero_pool(struct gb_state *st, uint64_t page, uint64_t nr)
{
	return bench_pool(st, page, nr, GUESTMEM_POOL_ZERO_BACKGROUND);
}

/* ------------------------------------------------------------ allocation */
static void bm_alloc_prezeroed(struct gb_state *st, uint64_t page)
{
	const uint64_t nr = page == SZ_1G ? 1 : 8;
	struct guestmem_pool *pool = zero_pool(st, page, nr);
	struct guestmem_file *f;
	struct bench_lat lat;
	uint64_t i = 0, cold = 0;
	char *hva;

	if (!pool)
		return;
	f = bench_file(st, pool, nr * page, GUESTMEM_FILE_INIT_SHARED, false);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	hva = guestmem_file_hva(f);
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		uint64_t off = (i++ % nr) * page, t0, t1;
		struct guestmem_pool_stats s;

		if (!guestmem_pool_stats(pool, &s, sizeof(s)) && !s.zeroed)
			cold++;
		t0 = bench_now_ns();
		if (guestmem_allocate(f, off, page)) {
			bench_skip(st, "guestmem_allocate: %s", guestmem_last_error());
			break;
		}
		*(volatile char *)(hva + off) = 1;
		t1 = bench_now_ns();
		bench_lat_add(&lat, t1 - t0);
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
		guestmem_punch_hole(f, off, page);
		wait_all_zero(pool);
	}
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
	gb_counter(st, "not_prezeroed", (double)cold, 0);
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_alloc_prezeroed_2m(struct gb_state *st)
{
	bm_alloc_prezeroed(st, SZ_2M);
}

static void bm_alloc_prezeroed_1g(struct gb_state *st)
{
	bm_alloc_prezeroed(st, SZ_1G);
}

static void bm_mmap_touch(struct gb_state *st, uint64_t page)
{
	struct bench_lat lat;
	char why[256];

	if (*bench_hugetlb_why(page, 1, why, sizeof(why))) {
		gb_skip(st, why);
		return;
	}
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		uint64_t t0 = bench_now_ns(), t1;
		char *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			       (__builtin_ctzll(page) << MAP_HUGE_SHIFT), -1, 0);

		if (p == MAP_FAILED) {
			bench_skip(st, "mmap(MAP_HUGETLB): %s", strerror(errno));
			break;
		}
		*(volatile char *)p = 1;
		t1 = bench_now_ns();
		bench_lat_add(&lat, t1 - t0);
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
		munmap(p, page);
	}
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
}

static void bm_mmap_touch_2m(struct gb_state *st)
{
	bm_mmap_touch(st, SZ_2M);
}

static void bm_mmap_touch_1g(struct gb_state *st)
{
	bm_mmap_touch(st, SZ_1G);
}

/* Pages of the floor's memfd: as many as zero/alloc_prezeroed cycles through. */
static uint64_t floor_pages(uint64_t page)
{
	return page == SZ_1G ? 1 : 8;
}

/*
 * A stand-in for the pool's zeroer in zero/map_floor_after_thread: a
 * second thread of the process that clears 2 MiB when asked, while the
 * caller waits for it as wait_all_zero() waits for the zeroer.  A page
 * table change in a process one of whose other threads has just run on
 * another CPU costs more on some machines (a shootdown that must reach,
 * and on a virtual machine wake, that CPU); guestmem_allocate() after the
 * zeroer has run pays it, so its floor must too.
 */
struct floor_helper {
	pthread_t thread;
	sem_t go;
	atomic_int done;	/* rounds finished */
	bool stop;
	char *buf;
};

static void *floor_helper_main(void *arg)
{
	struct floor_helper *h = arg;

	for (;;) {
		while (sem_wait(&h->go))
			;
		if (h->stop)
			return NULL;
		memset(h->buf, 0, SZ_2M);
		atomic_fetch_add(&h->done, 1);
	}
}

static void floor_helper_round(struct floor_helper *h)
{
	int want = atomic_load(&h->done) + 1;

	sem_post(&h->go);
	while (atomic_load(&h->done) < want)
		nap();
}

static void bm_map_floor(struct gb_state *st, uint64_t page, bool after_thread)
{
	struct floor_helper helper = { .buf = MAP_FAILED };
	const uint64_t nr = floor_pages(page);
	size_t len = nr * page;
	char why[256], *pool = MAP_FAILED, *map = MAP_FAILED, *hva;
	struct bench_lat lat;
	uint64_t i = 0;
	int fd = -1;

	if (*bench_hugetlb_why(page, (long)nr, why, sizeof(why))) {
		gb_skip(st, why);
		return;
	}
	if (after_thread) {
		helper.buf = bench_alloc_warm(SZ_2M, true);
		if (!helper.buf || sem_init(&helper.go, 0, 0)) {
			bench_skip(st, "no memory for the helper thread");
			return;
		}
		if (pthread_create(&helper.thread, NULL, floor_helper_main, &helper)) {
			sem_destroy(&helper.go);
			bench_free_warm(helper.buf, SZ_2M);
			bench_skip(st, "cannot start the helper thread");
			return;
		}
	}
	/* A pool's memory: a hugetlb memfd, every page resident and cleared. */
	fd = memfd_create("guestmem-bench-floor",
			  MFD_HUGETLB | (__builtin_ctzll(page) << MFD_HUGE_SHIFT));
	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		bench_skip(st, "no hugetlb pages for the floor: memfd: %s", strerror(errno));
		goto out;
	}
	pool = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	/* A file's address space: PROT_NONE, aligned to the page size. */
	map = mmap(NULL, len + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (pool == MAP_FAILED || map == MAP_FAILED) {
		bench_skip(st, "no hugetlb pages for the floor: mmap: %s", strerror(errno));
		goto out;
	}
	memset(pool, 0, len);
	hva = (char *)(((uintptr_t)map + page - 1) & ~(uintptr_t)(page - 1));
	bench_lat_init(&lat);
	while (gb_keep_running(st)) {
		uint64_t off = (i++ % nr) * page, t0, t1;
		char *p;

		if (after_thread)
			floor_helper_round(&helper);	/* untimed */
		t0 = bench_now_ns();
		p = mmap(hva + off, page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, (off_t)off);
		if (p == MAP_FAILED) {
			bench_skip(st, "mmap(MAP_FIXED | MAP_POPULATE): %s", strerror(errno));
			break;
		}
		madvise(p, page, MADV_DONTFORK);
		*(volatile char *)p = 1;
		t1 = bench_now_ns();
		bench_lat_add(&lat, t1 - t0);
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
		/* Untimed: back to PROT_NONE, as a punch leaves it. */
		mmap(p, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		     -1, 0);
	}
	bench_lat_report(st, &lat);
	bench_lat_free(&lat);
out:
	if (map != MAP_FAILED)
		munmap(map, len + page);
	if (pool != MAP_FAILED)
		munmap(pool, len);
	if (fd >= 0)
		close(fd);
	if (after_thread) {
		helper.stop = true;
		sem_post(&helper.go);
		pthread_join(helper.thread, NULL);
		sem_destroy(&helper.go);
		bench_free_warm(helper.buf, SZ_2M);
	}
}

static void bm_map_floor_2m(struct gb_state *st)
{
	bm_map_floor(st, SZ_2M, false);
}

static void bm_map_floor_after_thread_2m(struct gb_state *st)
{
	bm_map_floor(st, SZ_2M, true);
}

static void bm_map_floor_1g(struct gb_state *st)
{
	bm_map_floor(st, SZ_1G, false);
}

static void bm_map_floor_after_thread_1g(struct gb_state *st)
{
	bm_map_floor(st, SZ_1G, true);
}

/* ------------------------------------------------------------ bandwidth */

/*
 * The zeroer's own CPU time, to tell its speed from the CPU time the
 * machine gives it: the thread a pool creation left behind (@before lists
 * the threads from before), and its time on a CPU from
 * /proc/self/task/TID/schedstat.  NO_CPU_NS when either cannot be found.
 */
#define NO_CPU_NS	UINT64_MAX
#define MAX_TASKS	256

static int list_tasks(long *ids, int max)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			ids[n++] = strtol(e->d_name, NULL, 10);
	closedir(d);
	return n;
}

static long new_task(const long *before, int nb)
{
	long now[MAX_TASKS], found = 0;
	int i, j, n = list_tasks(now, MAX_TASKS);

	for (i = 0; i < n; i++) {
		for (j = 0; j < nb && before[j] != now[i]; j++)
			;
		if (j < nb)
			continue;
		if (found)
			return 0;	/* more than one: cannot tell which */
		found = now[i];
	}
	return found;
}

static uint64_t task_cpu_ns(long tid)
{
	unsigned long long ns;
	char path[64];
	FILE *f;

	if (!tid)
		return NO_CPU_NS;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tid);
	f = fopen(path, "r");
	if (!f)
		return NO_CPU_NS;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = NO_CPU_NS;
	fclose(f);
	return ns;
}
static void bm_background(struct gb_state *st, uint64_t page)
{
	uint64_t nr = bg_pages(page), size = nr * page, bytes = 0, punch_ns = 0, cpu0, cpu1;
	long tasks[MAX_TASKS], zeroer;
	int nt = list_tasks(tasks, MAX_TASKS);
	struct guestmem_pool *pool = zero_pool(st, page, nr);
	struct guestmem_file *f;
	char *hva;

	if (!pool)
		return;
	zeroer = new_task(tasks, nt);
	f = bench_file(st, pool, size, GUESTMEM_FILE_INIT_SHARED, false);
	if (!f) {
		bench_pool_put(pool);
		return;
	}
	hva = guestmem_file_hva(f);
	cpu0 = task_cpu_ns(zeroer);
	while (gb_keep_running(st)) {
		struct guestmem_pool_stats s;
		uint64_t t0, t1, tp;

		/* Untimed: allocate and dirty every page, then free them. */
		if (guestmem_allocate(f, 0, size)) {
			bench_skip(st, "guestmem_allocate: %s", guestmem_last_error());
			break;
		}
		memset(hva, 0x5a, size);
		tp = bench_now_ns();
		guestmem_punch_hole(f, 0, size);
		t0 = bench_now_ns();
		punch_ns += t0 - tp;
		/* Pages the zeroer finished before the punch returned do not count. */
		if (guestmem_pool_stats(pool, &s, sizeof(s))) {
			bench_skip(st, "guestmem_pool_stats: %s", guestmem_last_error());
			break;
		}
		bytes += (nr - (s.zeroed < nr ? s.zeroed : nr)) * page;
		wait_all_zero(pool);
		t1 = bench_now_ns();
		gb_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
	}
	cpu1 = task_cpu_ns(zeroer);
	gb_bytes_processed(st, (int64_t)bytes);
	if (gb_iterations_done(st))
		gb_counter(st, "punch_us", (double)punch_ns / 1e3 / gb_iterations_done(st), 0);
	/* Every page it cleared, over its time on a CPU (also while the punch ran). */
	if (cpu0 != NO_CPU_NS && cpu1 != NO_CPU_NS && cpu1 > cpu0)
		gb_counter(st, "zeroer_cpu_GBps",
			   (double)(gb_iterations_done(st) * size) / (double)(cpu1 - cpu0), 0);
	bench_pool_label(st, pool);
	guestmem_file_destroy(f);
	bench_pool_put(pool);
}

static void bm_background_2m(struct gb_state *st)
{
	bm_background(st, SZ_2M);
}

static void bm_background_1g(struct gb_state *st)
{
	bm_background(st, SZ_1G);
}

static void bm_memset(struct gb_state *st, uint64_t page)
{
	uint64_t size = bg_pages(page) * page;
	char *buf = bench_alloc_warm(size, true);

	if (!buf) {
		bench_skip(st, "no memory for %llu bytes", (unsigned long long)size);
		return;
	}
	while (gb_keep_running(st)) {
		uint64_t t0 = bench_now_ns();

		memset(buf, 0, size);
		gb_clobber_memory();
		gb_set_iteration_time(st, (double)(bench_now_ns() - t0) * 1e-9);
	}
	gb_bytes_processed(st, gb_iterations_done(st) * (int64_t)size);
	bench_free_warm(buf, size);
}

static void bm_memset_2m(struct gb_state *st)
{
	bm_memset(st, SZ_2M);
}

static void bm_memset_1g(struct gb_state *st)
{
	bm_memset(st, SZ_1G);
}

/* ------------------------------------------------------------ registration */
void bench_register_zero(void);
void bench_register_zero(void)
{
	/* The untimed part (clearing a page) dwarfs the timed one: cap iterations. */
	int64_t n2m = bench_cfg.smoke ? 1 : 2000, n1g = 20;

	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/alloc_prezeroed_2M",
							  bm_alloc_prezeroed_2m)), n2m), GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/mmap_touch_2M",
							  bm_mmap_touch_2m)), n2m), GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/map_floor_2M",
							  bm_map_floor_2m)), n2m), GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/map_floor_after_thread_2M",
							  bm_map_floor_after_thread_2m)), n2m),
		GB_US);
	gb_unit(bench_heavy(gb_manual_time(gb_register("zero/background_2M",
							bm_background_2m))), GB_MS);
	gb_unit(bench_heavy(gb_manual_time(gb_register("zero/memset_2M", bm_memset_2m))),
		GB_MS);
	if (bench_cfg.smoke)
		return;
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/alloc_prezeroed_1G",
							  bm_alloc_prezeroed_1g)), n1g), GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/mmap_touch_1G",
							  bm_mmap_touch_1g)), n1g), GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/map_floor_1G",
							  bm_map_floor_1g)), n1g), GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/map_floor_after_thread_1G",
							  bm_map_floor_after_thread_1g)), n1g),
		GB_US);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/background_1G",
							  bm_background_1g)), n1g), GB_MS);
	gb_unit(gb_iterations(gb_manual_time(gb_register("zero/memset_1G", bm_memset_1g)),
			      n1g), GB_MS);
}
