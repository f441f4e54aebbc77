// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: pools.  A pool is one shim hstate over memory from one
 * backend: the kernel's hugetlb pages (a hugetlb memfd whose shared mapping
 * reserves every page at creation), ordinary memory when the caller allows
 * the fallback, or bare address space for simulations.  NUMA placement is
 * set with libnuma before the pages are faulted and verified afterwards;
 * prefaulting runs on several threads, each populating its own slice.
 *
 * GUESTMEM_POOL_RETURN_TO_KERNEL (include/guestmem.h): the shim's hstate
 * gives free pages beyond what files reserve back to the kernel by
 * punching them out of the memfd, and takes one back with fallocate(2)
 * before a reservation or allocation uses it, so a missing kernel page is
 * -ENOMEM from the call that wanted it, never SIGBUS at a touch
 * (lib/shim/hugetlb.h, shim_hstate_give_back_start()).
 */
#define _GNU_SOURCE
#include "config.h"

#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef HAVE_LIBHUGETLBFS
#include <hugetlbfs.h>
#endif

#include "libguestmem.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static const char *size_name(u64 page_size)
{
	return page_size == GUESTMEM_PAGE_1G ? "1G" : "2M";
}

/* The huge page sizes the kernel offers, as "2M 1G", for messages. */
static void supported_sizes(char *buf, size_t len)
{
	long sizes[8];
	int i, n = -1;
	size_t used = 0;

	buf[0] = '\0';
#ifdef HAVE_LIBHUGETLBFS
	n = gethugepagesizes(sizes, ARRAY_SIZE(sizes));
#endif
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%ld%s", i ? " " : "",
				 sizes[i] >= (1L << 30) ? sizes[i] >> 30 : sizes[i] >> 20,
				 sizes[i] >= (1L << 30) ? "G" : "M");
	if (n < 0)
		snprintf(buf, len, "unknown");
}

static int check_opts(const struct guestmem_pool_opts *o)
{
	if (o->page_size != GUESTMEM_PAGE_2M && o->page_size != GUESTMEM_PAGE_1G)
		return gm_error(-EINVAL, "page_size %llu: must be 2M or 1G",
				(unsigned long long)o->page_size);
	if (!o->nr_pages || o->nr_pages > (UINT64_C(1) << 40) / (o->page_size >> 21))
		return gm_error(-EINVAL, "nr_pages %llu out of range",
				(unsigned long long)o->nr_pages);
	if (o->flags & ~(GUESTMEM_POOL_PREFAULT | GUESTMEM_POOL_FALLBACK |
			 GUESTMEM_POOL_SIMULATE | GUESTMEM_POOL_ZERO_BACKGROUND |
			 GUESTMEM_POOL_RETURN_TO_KERNEL))
		return gm_error(-EINVAL, "unknown pool flags %#llx",
				(unsigned long long)o->flags);
	/* A page taken back from the kernel would come from any node. */
	if ((o->flags & GUESTMEM_POOL_RETURN_TO_KERNEL) && o->node >= 0)
		return gm_error(-EINVAL, "GUESTMEM_POOL_RETURN_TO_KERNEL cannot keep a pool on NUMA node %d: pages taken back from the kernel may come from any node",
				o->node);
	if (o->node < -1 ||
	    (o->node >= 0 && (numa_available() < 0 || o->node > numa_max_node())))
		return gm_error(-EINVAL, "NUMA node %d does not exist", o->node);
	return 0;
}

/*
 * Hugetlb reservations are global, not per node: a pool bound to a node
 * also needs that many free pages on the node itself, or its faults there
 * would find none (SIGBUS).  The pages the node lacks (0 if it has them or
 * its counts cannot be read; the population at creation then decides).
 */
static long node_shortfall(const struct guestmem_pool_opts *o, long avail,
			   struct shim_node_hugetlb *c)
{
	struct guestmem_hugetlb_info n;

	if (o->node < 0 || gm_hugetlb_read(o->page_size, o->node, &n))
		return 0;
	c->nr = (long)n.total;
	c->free = (long)n.free;
	return shim_node_shortfall(c, avail, o->nr_pages);
}

/* Pick the backend; fail with the fix when hugetlb pages are short. */
static int choose_backend(const struct guestmem_pool_opts *o,
			  enum shim_backend *kind)
{
	struct guestmem_hugetlb_info sys;
	struct shim_node_hugetlb node;
	long total, avail, lack;

	if (o->flags & GUESTMEM_POOL_SIMULATE) {
		*kind = SHIM_BACKEND_RESERVE;
		return 0;
	}
	/* Free minus reserved: what the kernel can still hand out; -1 if none. */
	if (gm_hugetlb_read(o->page_size, -1, &sys)) {
		avail = total = -1;
	} else {
		avail = (long)sys.available;
		total = (long)sys.total;
	}
	lack = avail < 0 ? 0 : node_shortfall(o, avail, &node);
	if (avail >= (long)o->nr_pages && !lack) {
		*kind = SHIM_BACKEND_HUGETLB;
		return 0;
	}
	if (o->flags & GUESTMEM_POOL_FALLBACK) {
		*kind = SHIM_BACKEND_MEMORY;
		return 0;
	}
	if (avail < 0) {
		char sizes[64];

		supported_sizes(sizes, sizeof(sizes));
		return gm_error(-ENOMEM, "this kernel offers no %s huge pages (it offers: %s)",
				size_name(o->page_size), sizes);
	}
	if (lack)
		return gm_error(-ENOMEM,
				"need %llu free %s pages on node %d, %ld free there (%ld free in all): echo %ld > /sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages",
				(unsigned long long)o->nr_pages, size_name(o->page_size),
				o->node, node.free, avail, node.nr + lack, o->node,
				(unsigned long long)(o->page_size >> 10));
	return gm_error(-ENOMEM,
			"need %llu free %s pages, %ld free: echo %llu > /sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages",
			(unsigned long long)o->nr_pages, size_name(o->page_size), avail,
			(unsigned long long)(total + o->nr_pages - avail),
			(unsigned long long)(o->page_size >> 10));
}

struct prefault_slice {
	char *addr;
	size_t len;
	int err;
};

static void *prefault_thread(void *arg)
{
	struct prefault_slice *s = arg;

	if (madvise(s->addr, s->len, MADV_POPULATE_WRITE))
		s->err = -errno;
	return NULL;
}

/* Fault every page of the pool in, @threads slices in parallel. */
static int prefault(struct shim_region *r, unsigned int threads)
{
	size_t huge = PAGE_SIZE << r->order;
	struct prefault_slice *s;
	pthread_t *tid;
	unsigned int i, n;
	int err = 0;

	if (!threads)
		threads = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	n = min_t(unsigned long, max(threads, 1u), r->nr_huge);
	s = calloc(n, sizeof(*s));
	tid = calloc(n, sizeof(*tid));
	if (!s || !tid) {
		free(s);
		free(tid);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/* Thread i populates huge pages [nr * i / n, nr * (i + 1) / n). */
		unsigned long first = r->nr_huge * i / n, last = r->nr_huge * (i + 1) / n;

		s[i].addr = r->addr + first * huge;
		s[i].len = (last - first) * huge;
		if (pthread_create(&tid[i], NULL, prefault_thread, &s[i]))
			prefault_thread(&s[i]), tid[i] = 0;
	}
	for (i = 0; i < n; i++) {
		if (tid[i])
			pthread_join(tid[i], NULL);
		if (s[i].err && !err)
			err = s[i].err;
	}
	free(s);
	free(tid);
	return err;
}

/* Every prefaulted huge page must sit on @node. */
static int verify_node(struct shim_region *r, int node)
{
	size_t huge = PAGE_SIZE << r->order;
	unsigned long i;

	for (i = 0; i < r->nr_huge; i++) {
		void *page = r->addr + i * huge;
		int status = -1;

		if (numa_move_pages(0, 1, &page, NULL, &status, 0) || status != node)
			return gm_error(-EIO, "huge page %lu is on node %d, not %d",
					i, status, node);
	}
	return 0;
}

static int place_and_prefault(struct guestmem_pool *pool,
			      const struct guestmem_pool_opts *o)
{
	struct shim_region *r = pool->h->region;
	size_t len = r->nr_huge * (PAGE_SIZE << r->order);
	int err;

	if (r->kind == SHIM_BACKEND_RESERVE)
		return 0;
	if (o->node >= 0) {
		struct bitmask *mask = numa_allocate_nodemask();

		numa_bitmask_setbit(mask, o->node);
		err = mbind(r->addr, len, MPOL_BIND, mask->maskp, mask->size + 1, 0);
		numa_free_nodemask(mask);
		if (err)
			return gm_error(-errno, "mbind to node %d failed", o->node);
	}
	/*
	 * The kernel reserved the pages globally, not on the node: populate a
	 * node-bound hugetlb pool now, so that its pages are taken on the
	 * node at creation or creation fails, instead of a SIGBUS at a later
	 * fault when the node has run out.
	 */
	if (!(o->flags & GUESTMEM_POOL_PREFAULT) &&
	    !(o->node >= 0 && r->kind == SHIM_BACKEND_HUGETLB))
		return 0;
	err = prefault(r, o->threads);
	if (err && o->node >= 0 && r->kind == SHIM_BACKEND_HUGETLB)
		return gm_error(-ENOMEM,
				"node %d could not supply %llu %s pages (%s): raise /sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages",
				o->node, (unsigned long long)o->nr_pages,
				size_name(o->page_size), strerror(-err), o->node,
				(unsigned long long)(o->page_size >> 10));
	if (err)
		return gm_error(err, "prefaulting %llu %s pages failed",
				(unsigned long long)o->nr_pages, size_name(o->page_size));
	err = o->node >= 0 ? verify_node(r, o->node) : 0;
	/* Fresh from the kernel, which clears a page when it faults it in. */
	if (!err)
		shim_hstate_prefaulted(pool->h);
	return err;
}

static int pool_create(const struct guestmem_pool_opts *opts,
		       struct guestmem_pool **poolp)
{
	struct guestmem_pool *pool;
	enum shim_backend kind = SHIM_BACKEND_HUGETLB;
	int err;

	gm_clear_error();
	if (!opts || !poolp)
		return gm_error(-EINVAL, "NULL argument");
	err = check_opts(opts) ?: choose_backend(opts, &kind);
	if (err)
		return err;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return gm_error(-ENOMEM, "out of memory");

	err = shim_hstate_create(opts->page_size == GUESTMEM_PAGE_1G ? PUD_ORDER : PMD_ORDER,
				 opts->nr_pages, kind, &pool->h);
	if (err == -ENOMEM && kind == SHIM_BACKEND_HUGETLB &&
	    (opts->flags & GUESTMEM_POOL_FALLBACK)) {
		kind = SHIM_BACKEND_MEMORY;
		err = shim_hstate_create(opts->page_size == GUESTMEM_PAGE_1G ?
					 PUD_ORDER : PMD_ORDER,
					 opts->nr_pages, kind, &pool->h);
	}
	if (err) {
		free(pool);
		return gm_error(err, "cannot reserve %llu %s pages (%s)",
				(unsigned long long)opts->nr_pages,
				size_name(opts->page_size), strerror(-err));
	}
	pool->backend = kind == SHIM_BACKEND_HUGETLB ? GUESTMEM_BACKEND_HUGETLB :
			kind == SHIM_BACKEND_MEMORY ? GUESTMEM_BACKEND_FALLBACK :
						      GUESTMEM_BACKEND_SIMULATED;
	pool->node = opts->node;
	pthread_mutex_init(&pool->lock, NULL);
	INIT_LIST_HEAD(&pool->files);
	INIT_LIST_HEAD(&pool->dead_files);
	gm_gate_init(&pool->gate);
	pool->gen = gm_generation();
	/* Guest memory stays with the parent across fork() (lib/gate.c). */
	if (pool->h->region->fd >= 0)
		madvise(pool->h->region->addr,
			pool->h->region->nr_huge * huge_page_size(pool->h), MADV_DONTFORK);

	err = place_and_prefault(pool, opts);
	if (!err && (opts->flags & GUESTMEM_POOL_ZERO_BACKGROUND) &&
	    kind != SHIM_BACKEND_RESERVE) {
		err = shim_hstate_zero_start(pool->h);
		if (err)
			gm_error(err, "cannot start the zeroing thread (%s)", strerror(-err));
	}
	if (err) {
		shim_hstate_destroy(pool->h);
		free(pool);
		return err;
	}
	if (opts->flags & GUESTMEM_POOL_RETURN_TO_KERNEL)
		shim_hstate_give_back_start(pool->h);
	*poolp = pool;
	return 0;
}

int guestmem_pool_create(const struct guestmem_pool_opts *opts,
			 struct guestmem_pool **poolp)
{
	int err;

	gm_clear_error();
	err = gm_enter(gm_generation(), "pool");
	if (err)
		return err;
	err = pool_create(opts, poolp);
	gm_leave();
	return err;
}

/*
 * Destroy @pool, whose gate is closed: no other call on it runs.  Files
 * may still be destroyed meanwhile (they do not enter the pool's gate);
 * the last thing a file's destroy does to the pool is drop nr_files.
 */
static int pool_destroy(struct guestmem_pool *pool)
{
	struct guestmem_file *file, *next;
	unsigned long nr_files;
	int err;

	pthread_mutex_lock(&pool->lock);
	nr_files = pool->nr_files;
	pthread_mutex_unlock(&pool->lock);
	if (nr_files)
		return gm_error(-EBUSY, "pool still has %lu files", nr_files);
	hgmem_flush_deferred();
	err = shim_hstate_destroy(pool->h);
	if (err)
		return gm_error(err, "pool pages are still in use");
	gm_gate_kill(&pool->gate);
	/* Handles of destroyed files were kept for late calls: the pool takes them along. */
	list_for_each_entry_safe(file, next, &pool->dead_files, node) {
		gm_gate_drain(&file->gate);
		pthread_mutex_destroy(&file->lock);
		free(file);
	}
	gm_gate_drain(&pool->gate);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
	return 0;
}

int guestmem_pool_destroy(struct guestmem_pool *pool)
{
	int err;

	gm_clear_error();
	if (!pool)
		return gm_error(-EINVAL, "NULL pool");
	err = gm_enter(pool->gen, "pool");
	if (err)
		return err;
	err = gm_gate_close(&pool->gate, "pool");
	if (!err) {
		err = pool_destroy(pool);
		if (err)
			gm_gate_open(&pool->gate);
	}
	gm_leave();
	return err;
}

/* The first versions' sizes (include/guestmem.h) end where they did. */
BUILD_BUG_ON(GUESTMEM_POOL_STATS_SIZE_VER0 !=
	     offsetof(struct guestmem_pool_stats, zeroed));
BUILD_BUG_ON(GUESTMEM_FILE_STATS_SIZE_VER0 !=
	     offsetof(struct guestmem_file_stats, kvm_mode));

static int pool_stats(struct guestmem_pool *pool, struct guestmem_pool_stats *st)
{
	struct shim_hstate_counters c;
	struct guestmem_file *file;
	u64 allocated = 0;

	if (!st)
		return gm_error(-EINVAL, "NULL argument");
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&pool->lock);
	st->splits = pool->splits;
	st->merges = pool->merges;
	list_for_each_entry(file, &pool->files, node) {
		struct hgmem_file_stats fs;

		if (!file->gf)		/* in-place: the kernel's memory */
			continue;
		hgmem_file_stats(file->gf, &fs);
		allocated += fs.allocated;
		st->splits += fs.splits;
		st->merges += fs.merges;
	}
	gm_kvm_pool_stats(pool, st);
	shim_hstate_counters(pool->h, &c);
	pthread_mutex_unlock(&pool->lock);

	st->page_size = huge_page_size(pool->h);
	st->total = c.total;
	st->free = c.free - c.resv;
	st->reserved = c.resv;
	st->in_use = c.in_use;
	/*
	 * Counters and files are read at slightly different times: never
	 * wrap.  Pages lent to in-place files are theirs, not on their way back.
	 */
	allocated += (u64)c.lent * st->page_size;
	st->pending = c.in_use > allocated / st->page_size ?
		      c.in_use - allocated / st->page_size : 0;
	st->backend = pool->backend;
	st->node = pool->node;
	st->zeroed = c.zeroed;
	st->given_back_bytes = (u64)c.kernel * st->page_size;
	return 0;
}

int guestmem_pool_stats(struct guestmem_pool *pool, struct guestmem_pool_stats *st,
			size_t size)
{
	struct guestmem_pool_stats full;
	int err;

	gm_clear_error();
	err = gm_check_out(pool, st, size, GUESTMEM_POOL_STATS_SIZE_VER0);
	if (!err)
		err = gm_enter(pool->gen, "pool");
	if (err)
		return err;
	err = gm_gate_enter(&pool->gate, "pool");
	if (!err) {
		err = pool_stats(pool, &full);
		gm_gate_leave(&pool->gate);
	}
	gm_leave();
	if (!err)
		gm_copy_out(st, size, &full, sizeof(full));
	return err;
}

#ifdef GM_COMPAT_SYMVER
/* LIBGUESTMEM_0.1: no size; the structure ended before @zeroed. */
int gm_pool_stats_v0_1(struct guestmem_pool *pool, struct guestmem_pool_stats *st);
GM_COMPAT_SYMVER(gm_pool_stats_v0_1, guestmem_pool_stats);
int gm_pool_stats_v0_1(struct guestmem_pool *pool, struct guestmem_pool_stats *st)
{
	return guestmem_pool_stats(pool, st, GUESTMEM_POOL_STATS_SIZE_VER0);
}
#endif

int gm_pool_backend_fd(struct guestmem_pool *pool)
{
	return pool->h->region->fd;
}
