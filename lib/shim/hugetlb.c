// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: the hugetlb pool and its subpools, with the kernel's
 * accounting rules (mm/hugetlb.c): free_huge_pages counts every free page,
 * resv_huge_pages the free pages promised to someone; a subpool with a
 * minimum holds that many reservations and hands them to its allocations,
 * and a freed page goes back to its subpool's reservation while the
 * subpool is below its minimum.
 *
 * What the kernel does not have: the pool knows which free pages hold
 * zeroes.  Pages prefaulted fresh from the kernel and not handed out since
 * do, and so do freed pages once the optional background zeroer has
 * cleared them; an allocation prefers them and hgmem_folio_zeroed() lets
 * mm/ skip clearing them.  Pages never faulted in are not counted: zero as
 * far as the kernel goes, but written behind the pool's back by tests.  Lock order: spool->lock, hugetlb lock, zeroer
 * lock; the zeroer never holds the hugetlb lock while it clears a page.
 *
 * Nor does the kernel's pool give pages to anyone else.  With
 * shim_hstate_give_back_start() (GUESTMEM_POOL_RETURN_TO_KERNEL) this one
 * does: free pages beyond resv_huge_pages, once something was freed or
 * unreserved, are punched out of the region's memfd onto kernel_list and
 * stay counted as free, so the books still balance; a reservation (or an
 * unreserved allocation) that needs one fallocate()s it back first, and
 * fails with -ENOSPC when the kernel has none.  So free_huge_pages -
 * kernel_huge_pages >= resv_huge_pages always: a reserved allocation never
 * meets a page that is not there, and nothing touches a page before it is
 * back (no SIGBUS).  Both system calls run under the hugetlb lock: the
 * punch is short, the fallocate() clears one page in the kernel, and the
 * pages it brings back are known zero.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hugetlb.h"
#include "slab.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>

/*
 * Clear a huge page with non-temporal stores: it is not read soon, so it
 * should not evict the cache, and streaming skips reading each line first
 * (memset() of a 2M block uses ordinary stores below glibc's non-temporal
 * threshold, at about a third of the bandwidth here).  The fence makes the
 * stores visible before the page is put back under the hugetlb lock.
 */
static void clear_huge_page_nt(void *addr, size_t len)
{
	__m128i zero = _mm_setzero_si128();
	__m128i *p = addr, *end = (__m128i *)((char *)addr + len);

	for (; p < end; p += 4) {
		_mm_stream_si128(p, zero);
		_mm_stream_si128(p + 1, zero);
		_mm_stream_si128(p + 2, zero);
		_mm_stream_si128(p + 3, zero);
	}
	_mm_sfence();
}
#else
static void clear_huge_page_nt(void *addr, size_t len)
{
	memset(addr, 0, len);
}
#endif

/*
 * The background zeroer of one hstate.  @lock protects @kick and orders the
 * two conditions; @gen counts pages put back cleared and is written under
 * the hugetlb lock, so an allocation that saw the page being cleared under
 * that lock can wait for @gen to move without missing the wakeup.
 */
struct shim_zeroer {
	pthread_t thread;
	pid_t pid;			/* the process the thread runs in */
	pthread_mutex_t lock;
	pthread_cond_t work;		/* @kick or @stop set */
	pthread_cond_t done;		/* @gen moved, or stopping */
	bool kick;			/* a page was freed since the last scan */
	atomic_bool stop;
	atomic_ulong gen;		/* pages cleared and put back */
	atomic_uint waiters;		/* allocations waiting for a page (tests) */
};

void (*shim_zero_hook)(struct hstate *h, struct folio *folio);

static unsigned long region_index(struct hstate *h, struct folio *folio)
{
	return (unsigned long)(folio - h->region->heads);
}

/*
 * Give one free page the pool holds back to the kernel, onto kernel_list:
 * a dirty one first, then a known-zero one, then one never handed out (not
 * the one the zeroer clears: that one goes when it is put back).  0,
 * -ENOENT if there is none, or -errno of the system call (the page stays
 * the pool's).  Called with the hugetlb lock held; the punch is a short
 * system call (it frees the page, it does not clear it).
 */
static int give_one(struct hstate *h)
{
	struct list_head *list = !list_empty(&h->dirty_list) ? &h->dirty_list :
				 !list_empty(&h->zero_list) ? &h->zero_list :
				 !h->zeroing && !list_empty(&h->free_list) ?
				 &h->free_list : NULL;
	struct folio *folio;
	int err;

	lockdep_assert_held(&h->lock);
	if (!list)
		return -ENOENT;
	folio = list_first_entry(list, struct folio, lru);
	/*
	 * Punching a hole where no page was ever faulted in frees nothing and
	 * keeps the kernel's reservation of it (hugetlbfs unreserves page by
	 * page, as it removes them): a page never handed out is allocated
	 * first, so that the punch gives it back, reservation and all.  The
	 * fallback's shmem memfd reserves nothing: there that would only
	 * allocate and clear a page to free it again.
	 */
	err = list == &h->free_list && h->region->kind == SHIM_BACKEND_HUGETLB ?
	      shim_region_take(h->region, region_index(h, folio)) : 0;
	if (!err)
		err = shim_region_give(h->region, region_index(h, folio));
	if (err)
		return err;
	if (list == &h->zero_list)
		h->zero_huge_pages--;
	folio->flags = PG_free;
	list_move_tail(&folio->lru, &h->kernel_list);
	h->kernel_huge_pages++;
	return 0;
}

/*
 * Give free pages beyond those reserved back to the kernel, if the pool
 * does that (shim_hstate_give_back_start()).  A page whose punch fails
 * stays the pool's.  Called with the hugetlb lock held.
 */
static void give_back_excess(struct hstate *h)
{
	lockdep_assert_held(&h->lock);
	while (h->give_back &&
	       h->free_huge_pages - h->kernel_huge_pages > h->resv_huge_pages &&
	       !give_one(h))
		;
}

/*
 * Take @n pages back from the kernel onto the zero list (the kernel cleared
 * them).  0, or -errno of the first that failed (-ENOSPC: the kernel had
 * no free huge page); those taken before it stay taken.  Called with the
 * hugetlb lock held: fallocate() allocates and clears the page meanwhile.
 */
static int take_back(struct hstate *h, unsigned long n)
{
	while (n--) {
		struct folio *folio;
		int err;

		if (list_empty(&h->kernel_list))
			return -ENOSPC;
		folio = list_first_entry(&h->kernel_list, struct folio, lru);
		err = shim_region_take(h->region, region_index(h, folio));
		if (err)
			return err == -ENOMEM ? -ENOSPC : err;
		folio->flags = PG_free | PG_zeroed;
		list_move_tail(&folio->lru, &h->zero_list);
		h->kernel_huge_pages--;
		h->zero_huge_pages++;
	}
	return 0;
}

/*
 * Reserve (delta > 0) or unreserve (delta < 0) free pages of @h: -ENOMEM if
 * too few are free and unreserved, -ENOSPC if some of those were given back
 * to the kernel and it cannot return them (nothing changed then).
 */
static int hugetlb_acct_memory(struct hstate *h, long delta)
{
	int ret = 0;

	spin_lock(&h->lock);
	if (delta > 0 && h->free_huge_pages - h->resv_huge_pages < (unsigned long)delta) {
		ret = -ENOMEM;
	} else if (delta > 0) {
		unsigned long held = h->free_huge_pages - h->kernel_huge_pages -
				     h->resv_huge_pages;

		if (held < (unsigned long)delta)
			ret = take_back(h, delta - held);
		if (!ret)
			h->resv_huge_pages += delta;
		else
			give_back_excess(h);	/* the pages taken, if any */
	} else {
		h->resv_huge_pages += delta;
		give_back_excess(h);
	}
	spin_unlock(&h->lock);
	return ret;
}

struct hugepage_subpool *hugepage_new_subpool(struct hstate *h, long max_hpages,
					      long min_hpages)
{
	struct hugepage_subpool *spool = kzalloc(sizeof(*spool), GFP_KERNEL);

	if (!spool)
		return NULL;
	if (min_hpages > 0 && hugetlb_acct_memory(h, min_hpages)) {
		kfree(spool);
		return NULL;
	}
	spin_lock_init(&spool->lock);
	spool->count = 1;
	spool->max_hpages = max_hpages;
	spool->hstate = h;
	spool->min_hpages = min_hpages;
	spool->rsv_hpages = min_hpages > 0 ? min_hpages : 0;
	spin_lock(&h->lock);
	h->nr_subpools++;
	spin_unlock(&h->lock);
	return spool;
}

/* Called with spool->lock held; drops it, and frees the subpool if unused. */
static void unlock_or_release_subpool(struct hugepage_subpool *spool)
{
	struct hstate *h = spool->hstate;
	bool release = !spool->count && !spool->used_hpages;

	spin_unlock(&spool->lock);
	if (!release)
		return;
	hugetlb_acct_memory(h, -spool->rsv_hpages);
	spin_lock(&h->lock);
	h->nr_subpools--;
	spin_unlock(&h->lock);
	kfree(spool);
}

void hugepage_put_subpool(struct hugepage_subpool *spool)
{
	spin_lock(&spool->lock);
	WARN_ON(spool->count <= 0);
	spool->count--;
	unlock_or_release_subpool(spool);
}

void hugepage_subpool_unreserve(struct hugepage_subpool *spool, long n)
{
	long drop = 0;

	spin_lock(&spool->lock);
	for (; n > 0 && spool->min_hpages > 0; n--) {
		spool->min_hpages--;
		/* A page still on its way back (in used) takes no reservation back. */
		if (spool->rsv_hpages > 0 &&
		    spool->rsv_hpages + spool->used_hpages > spool->min_hpages) {
			spool->rsv_hpages--;
			drop++;
		}
	}
	spin_unlock(&spool->lock);
	if (drop)
		hugetlb_acct_memory(spool->hstate, -drop);
}

int hugepage_subpool_reserve(struct hugepage_subpool *spool, long n)
{
	long min, need;
	int err = 0;

	spin_lock(&spool->lock);
	if (spool->min_hpages < 0) {
		spin_unlock(&spool->lock);
		return -EINVAL;
	}
	min = spool->min_hpages + n;
	/* Pages in use, or on their way back, restore their own when freed. */
	need = min - spool->used_hpages - spool->rsv_hpages;
	if (need > 0)
		err = hugetlb_acct_memory(spool->hstate, need);
	if (!err) {
		spool->min_hpages = min;
		spool->rsv_hpages += need > 0 ? need : 0;
	}
	spin_unlock(&spool->lock);
	return err;
}

/*
 * Take a free page off its list: a known-zero one first, then one never
 * handed out, then a freed one (which the zeroer may yet clear).  NULL if
 * the lists are empty.  Called with the hugetlb lock held.
 */
static struct folio *dequeue_huge_folio(struct hstate *h)
{
	struct folio *folio;
	bool zeroed = !list_empty(&h->zero_list);
	struct list_head *list = zeroed ? &h->zero_list :
				 !list_empty(&h->free_list) ? &h->free_list :
							      &h->dirty_list;

	lockdep_assert_held(&h->lock);
	if (list_empty(list))
		return NULL;
	folio = list_first_entry(list, struct folio, lru);
	list_del_init(&folio->lru);
	if (zeroed)
		h->zero_huge_pages--;
	/* PG_zeroed stays until hgmem_folio_zeroed() reads it once. */
	folio->flags = PG_hugetlb | (zeroed ? PG_zeroed : 0);
	return folio;
}

/*
 * Every other free page is taken and the zeroer is clearing the last one:
 * wait until it has put that page back.  Called with the hugetlb lock
 * held, which is dropped for the wait and taken again.  Sleeps.
 */
static void wait_for_zeroer(struct hstate *h)
{
	struct shim_zeroer *z = h->zeroer;
	unsigned long gen = atomic_load(&z->gen);

	lockdep_assert_held(&h->lock);
	spin_unlock(&h->lock);
	might_sleep();
	pthread_mutex_lock(&z->lock);
	atomic_fetch_add(&z->waiters, 1);
	while (atomic_load(&z->gen) == gen)
		pthread_cond_wait(&z->done, &z->lock);
	atomic_fetch_sub(&z->waiters, 1);
	pthread_mutex_unlock(&z->lock);
	spin_lock(&h->lock);
}

struct folio *hugetlb_subpool_alloc_folio(struct hugepage_subpool *spool, int nid)
{
	struct hstate *h = spool->hstate;
	struct folio *folio = NULL;
	bool reserved = false;

	(void)nid;	/* one node per shim region */
	spin_lock(&spool->lock);
	if (spool->max_hpages != -1 && spool->used_hpages >= spool->max_hpages) {
		spin_unlock(&spool->lock);
		return NULL;
	}
	spool->used_hpages++;
	if (spool->rsv_hpages > 0) {
		spool->rsv_hpages--;
		reserved = true;
	}
	spin_unlock(&spool->lock);

	spin_lock(&h->lock);
	while (reserved || h->free_huge_pages > h->resv_huge_pages) {
		/* The only unreserved free pages are the kernel's: one comes back. */
		if (!reserved && h->free_huge_pages - h->kernel_huge_pages <=
				 h->resv_huge_pages && take_back(h, 1))
			break;
		folio = dequeue_huge_folio(h);
		/* A free page that is on no list is the one being cleared. */
		if (folio || WARN_ON(!h->zeroing))
			break;
		wait_for_zeroer(h);
	}
	if (folio) {
		h->free_huge_pages--;
		if (reserved)
			h->resv_huge_pages--;
	}
	spin_unlock(&h->lock);

	if (!folio) {
		spin_lock(&spool->lock);
		spool->used_hpages--;
		unlock_or_release_subpool(spool);
		return NULL;
	}
	folio->private = NULL;
	folio->_hugetlb_subpool = spool;
	atomic_set(&folio->_refcount, 1);
	return folio;
}

#if CONFIG_GUESTMEM_DEBUG
/* Debug builds check the claim: every resident 4K page of @folio is zero. */
static void check_zeroed(struct folio *folio)
{
	static const unsigned long zero[PAGE_SIZE / sizeof(unsigned long)];
	unsigned long i, n = folio_nr_pages(folio);
	char *addr = folio_address(folio);
	unsigned char *vec;

	if (!shim_region_touchable(folio->region))
		return;
	/* Pages never faulted in read as zero: do not fault them in here. */
	vec = malloc(n);
	if (vec && mincore(addr, folio_size(folio), vec))
		n = 0;
	for (i = 0; vec && i < n; i++)
		if ((vec[i] & 1) && memcmp(addr + i * PAGE_SIZE, zero, PAGE_SIZE)) {
			WARN(1, "huge page known to be zero holds data");
			break;
		}
	free(vec);
}
#else
static void check_zeroed(struct folio *folio)
{
	(void)folio;
}
#endif

bool hgmem_folio_zeroed(struct folio *folio)
{
	struct hstate *h;

	if (!(folio->flags & PG_zeroed))
		return false;
	folio->flags &= ~PG_zeroed;
	if (WARN_ON(!(folio->flags & PG_hugetlb) || !folio->_hugetlb_subpool))
		return false;
	check_zeroed(folio);
	h = folio->_hugetlb_subpool->hstate;
	spin_lock(&h->lock);
	h->zero_hits++;
	spin_unlock(&h->lock);
	return true;
}

/* A page was freed: wake the zeroer.  Called with the hugetlb lock held. */
static void kick_zeroer(struct hstate *h)
{
	struct shim_zeroer *z = h->zeroer;

	lockdep_assert_held(&h->lock);
	if (!z)
		return;
	pthread_mutex_lock(&z->lock);
	z->kick = true;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->lock);
}

void free_huge_folio(struct folio *folio)
{
	struct hugepage_subpool *spool = folio->_hugetlb_subpool;
	struct hstate *h = spool->hstate;
	bool restore = false;

	spin_lock(&spool->lock);
	spool->used_hpages--;
	if (spool->min_hpages > 0 && spool->rsv_hpages < spool->min_hpages &&
	    spool->used_hpages < spool->min_hpages) {
		spool->rsv_hpages++;
		restore = true;
	}

	spin_lock(&h->lock);
	/* Its owner wrote it, or may have: not known to be zero. */
	folio->flags = PG_free;
	folio->private = NULL;
	folio->_hugetlb_subpool = NULL;
	list_add_tail(&folio->lru, &h->dirty_list);
	h->free_huge_pages++;
	if (restore)
		h->resv_huge_pages++;
	give_back_excess(h);
	kick_zeroer(h);
	spin_unlock(&h->lock);
	unlock_or_release_subpool(spool);
}

int shim_hstate_create(unsigned int order, unsigned long nr_huge,
		       enum shim_backend kind, struct hstate **hp)
{
	struct hstate *h = calloc(1, sizeof(*h));
	unsigned long i;
	int err;

	if (!h)
		return -ENOMEM;
	err = shim_region_create(kind, order, nr_huge, &h->region);
	if (err) {
		free(h);
		return err;
	}
	h->order = order;
	spin_lock_init(&h->lock);
	INIT_LIST_HEAD(&h->free_list);
	INIT_LIST_HEAD(&h->dirty_list);
	INIT_LIST_HEAD(&h->zero_list);
	INIT_LIST_HEAD(&h->kernel_list);
	INIT_LIST_HEAD(&h->lent_list);
	for (i = 0; i < nr_huge; i++) {
		struct folio *head = &h->region->heads[i];

		head->flags = PG_free;
		list_add_tail(&head->lru, &h->free_list);
	}
	h->nr_huge_pages = nr_huge;
	h->free_huge_pages = nr_huge;
	*hp = h;
	return 0;
}

void shim_hstate_give_back_start(struct hstate *h)
{
	spin_lock(&h->lock);
	h->give_back = true;
	spin_unlock(&h->lock);
}

/*
 * Lent pages back to the pool, as free pages the kernel holds; a pool that
 * does not give pages back takes them back from the kernel now, so that
 * its pages are its own again, as they were before the loan (those the
 * kernel cannot return now stay the kernel's until a reservation needs
 * them, and given_back_bytes says so).
 */
static void unlend_locked(struct hstate *h, unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&h->lock);
	for (i = 0; i < n; i++) {
		struct folio *folio = list_first_entry(&h->lent_list, struct folio, lru);

		list_move(&folio->lru, &h->kernel_list);
		h->lent_huge_pages--;
		h->kernel_huge_pages++;
		h->free_huge_pages++;
	}
	if (!h->give_back)
		take_back(h, n);
}

int shim_hstate_lend(struct hstate *h, unsigned long n)
{
	unsigned long done;
	int err = 0;

	if (h->region->kind != SHIM_BACKEND_HUGETLB)
		return -EOPNOTSUPP;
	spin_lock(&h->lock);
	if (h->free_huge_pages - h->resv_huge_pages < n) {
		spin_unlock(&h->lock);
		return -ENOMEM;
	}
	/*
	 * Pages the kernel holds already first; then pages the pool holds,
	 * of which at least n minus those are unreserved (checked above).
	 */
	for (done = 0; done < n; done++) {
		struct folio *folio;

		while (list_empty(&h->kernel_list) && (err = give_one(h)) == -ENOENT &&
		       h->zeroing) {
			wait_for_zeroer(h);	/* the last page the pool holds */
			/* The lock was dropped: the pages may be reserved now. */
			if (h->free_huge_pages - h->resv_huge_pages < n - done)
				break;
		}
		if (!err && list_empty(&h->kernel_list))
			err = -ENOMEM;
		if (err)
			break;
		folio = list_first_entry(&h->kernel_list, struct folio, lru);
		list_move_tail(&folio->lru, &h->lent_list);
		h->kernel_huge_pages--;
		h->free_huge_pages--;
		h->lent_huge_pages++;
	}
	if (err)
		unlend_locked(h, done);
	spin_unlock(&h->lock);
	return err == -ENOENT ? -ENOMEM : err;
}

void shim_hstate_unlend(struct hstate *h, unsigned long n)
{
	spin_lock(&h->lock);
	unlend_locked(h, n);
	give_back_excess(h);		/* with give-back, what is not needed */
	spin_unlock(&h->lock);
}

void shim_hstate_prefaulted(struct hstate *h)
{
	struct folio *folio, *tmp;

	spin_lock(&h->lock);
	list_for_each_entry_safe(folio, tmp, &h->free_list, lru) {
		folio->flags = PG_free | PG_zeroed;
		list_move_tail(&folio->lru, &h->zero_list);
		h->zero_huge_pages++;
	}
	spin_unlock(&h->lock);
}

int shim_hstate_destroy(struct hstate *h)
{
	bool busy;

	spin_lock(&h->lock);
	busy = h->free_huge_pages != h->nr_huge_pages || h->resv_huge_pages ||
	       h->nr_subpools;
	spin_unlock(&h->lock);
	if (busy)
		return -EBUSY;
	/* Idle: nothing can free a page any more, so the zeroer gets no new work. */
	shim_hstate_zero_stop(h);
	shim_region_destroy(h->region);
	free(h);
	return 0;
}

void shim_hstate_counters(struct hstate *h, struct shim_hstate_counters *c)
{
	spin_lock(&h->lock);
	c->total = h->nr_huge_pages;
	c->free = h->free_huge_pages;
	c->resv = h->resv_huge_pages;
	c->in_use = h->nr_huge_pages - h->free_huge_pages;
	c->subpools = h->nr_subpools;
	c->zeroed = h->zero_huge_pages;
	c->zeroing = h->zeroing ? 1 : 0;
	c->zero_hits = h->zero_hits;
	c->kernel = h->kernel_huge_pages;
	c->lent = h->lent_huge_pages;
	spin_unlock(&h->lock);
}

/*
 * The pool's own books balance: every free page is on one of the lists or
 * being cleared, and a page is on the zero list if and only if it is
 * marked zeroed.
 */
bool shim_hstate_consistent(struct hstate *h)
{
	unsigned long n = 0, z = 0, k = 0, l = 0;
	struct folio *f;
	bool ok = true;

	spin_lock(&h->lock);
	list_for_each_entry(f, &h->free_list, lru) {
		ok &= f->flags == PG_free;
		n++;
	}
	list_for_each_entry(f, &h->dirty_list, lru) {
		ok &= f->flags == PG_free;
		n++;
	}
	list_for_each_entry(f, &h->zero_list, lru) {
		ok &= f->flags == (PG_free | PG_zeroed);
		z++;
	}
	list_for_each_entry(f, &h->kernel_list, lru) {
		ok &= f->flags == PG_free;
		k++;
	}
	list_for_each_entry(f, &h->lent_list, lru) {
		ok &= f->flags == PG_free;
		l++;
	}
	ok &= z == h->zero_huge_pages && k == h->kernel_huge_pages &&
	      l == h->lent_huge_pages &&
	      h->free_huge_pages + h->lent_huge_pages <= h->nr_huge_pages &&
	      h->free_huge_pages - h->kernel_huge_pages >= h->resv_huge_pages &&
	      n + z + k + (h->zeroing ? 1 : 0) == h->free_huge_pages &&
	      h->resv_huge_pages <= h->free_huge_pages &&
	      h->free_huge_pages <= h->nr_huge_pages;
	spin_unlock(&h->lock);
	return ok;
}

/* ------------------------------------------------------------ the zeroer */

/* Take a freed page to clear, or NULL if there is none or the zeroer stops. */
static struct folio *zeroer_isolate(struct hstate *h)
{
	struct folio *folio = NULL;

	spin_lock(&h->lock);
	if (!atomic_load(&h->zeroer->stop) && !list_empty(&h->dirty_list)) {
		folio = list_first_entry(&h->dirty_list, struct folio, lru);
		list_del_init(&folio->lru);
		h->zeroing = folio;	/* still free, but on no list */
	}
	spin_unlock(&h->lock);
	return folio;
}

/* Put back the page zeroer_isolate() took, cleared, and wake its waiters. */
static void zeroer_put_back(struct hstate *h, struct folio *folio)
{
	struct shim_zeroer *z = h->zeroer;

	spin_lock(&h->lock);
	folio->flags = PG_free | PG_zeroed;
	list_add_tail(&folio->lru, &h->zero_list);
	h->zero_huge_pages++;
	h->zeroing = NULL;
	atomic_fetch_add(&z->gen, 1);
	give_back_excess(h);	/* it may be the page the pool holds beyond resv */
	spin_unlock(&h->lock);
	pthread_mutex_lock(&z->lock);
	pthread_cond_broadcast(&z->done);
	pthread_mutex_unlock(&z->lock);
}

static void *zeroer_main(void *arg)
{
	struct hstate *h = arg;
	struct shim_zeroer *z = h->zeroer;
	struct folio *folio;

	for (;;) {
		pthread_mutex_lock(&z->lock);
		while (!z->kick && !atomic_load(&z->stop))
			pthread_cond_wait(&z->work, &z->lock);
		/* A page freed from now on sets @kick again: no wakeup is lost. */
		z->kick = false;
		pthread_mutex_unlock(&z->lock);
		if (atomic_load(&z->stop))
			break;
		while ((folio = zeroer_isolate(h))) {
			if (shim_zero_hook)
				shim_zero_hook(h, folio);
			/* Free and isolated: nobody else can reach the page now. */
			clear_huge_page_nt(folio_address(folio), folio_size(folio));
			zeroer_put_back(h, folio);
		}
	}
	return NULL;
}

int shim_hstate_zero_start(struct hstate *h)
{
	struct shim_zeroer *z;
	sigset_t all, old;
	int err;

	if (!shim_region_touchable(h->region))
		return -EINVAL;
	if (h->zeroer)
		return -EBUSY;
	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->work, NULL);
	pthread_cond_init(&z->done, NULL);
	z->pid = getpid();
	z->kick = true;		/* pages freed before the start, if any */
	h->zeroer = z;
	/* The thread takes no signal meant for the application's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&z->thread, NULL, zeroer_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		h->zeroer = NULL;
		pthread_cond_destroy(&z->done);
		pthread_cond_destroy(&z->work);
		pthread_mutex_destroy(&z->lock);
		free(z);
		return -err;
	}
	return 0;
}

void shim_hstate_zero_stop(struct hstate *h)
{
	struct shim_zeroer *z = h->zeroer;

	if (!z)
		return;
	if (z->pid != getpid()) {
		/*
		 * A fork child's copy: the thread and the state of its locks
		 * stayed in the parent.  A page it was clearing goes back
		 * uncleared, and the rest is forgotten.
		 */
		if (h->zeroing) {
			h->zeroing->flags = PG_free;
			list_add_tail(&h->zeroing->lru, &h->dirty_list);
			h->zeroing = NULL;
		}
		h->zeroer = NULL;
		return;
	}
	atomic_store(&z->stop, true);
	pthread_mutex_lock(&z->lock);
	pthread_cond_broadcast(&z->work);
	pthread_cond_broadcast(&z->done);
	pthread_mutex_unlock(&z->lock);
	/* It finishes the page it is clearing, if any, and puts it back. */
	pthread_join(z->thread, NULL);
	spin_lock(&h->lock);
	h->zeroer = NULL;
	spin_unlock(&h->lock);
	pthread_cond_destroy(&z->done);
	pthread_cond_destroy(&z->work);
	pthread_mutex_destroy(&z->lock);
	free(z);
}

void shim_hstate_zero_flush(struct hstate *h)
{
	for (;;) {
		struct shim_zeroer *z;
		unsigned long gen;
		bool idle;

		spin_lock(&h->lock);
		z = h->zeroer;
		idle = !z || atomic_load(&z->stop) ||
		       (list_empty(&h->dirty_list) && !h->zeroing);
		gen = z ? atomic_load(&z->gen) : 0;
		spin_unlock(&h->lock);
		if (idle)
			return;
		pthread_mutex_lock(&z->lock);
		while (atomic_load(&z->gen) == gen && !atomic_load(&z->stop))
			pthread_cond_wait(&z->done, &z->lock);
		pthread_mutex_unlock(&z->lock);
	}
}

/* Allocations currently waiting for the zeroer (tests). */
unsigned int shim_hstate_zero_waiters(struct hstate *h)
{
	struct shim_zeroer *z;
	unsigned int n;

	spin_lock(&h->lock);
	z = h->zeroer;
	n = z ? atomic_load(&z->waiters) : 0;
	spin_unlock(&h->lock);
	return n;
}

bool shim_hstate_zero_stopping(struct hstate *h)
{
	bool stopping;

	spin_lock(&h->lock);
	stopping = h->zeroer && atomic_load(&h->zeroer->stop);
	spin_unlock(&h->lock);
	return stopping;
}
