// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: guest memory files.  Each wraps one mm/ file and keeps one
 * contiguous host mapping of it: address space reserved at creation, into
 * which every allocated huge page is mapped from the pool's memfd at its
 * own offset, and out of which punched huge pages are unmapped again.
 * Pins are folio references, exactly what the kernel's GUP would take, so
 * a pinned page blocks its conversion to private.  A pin addresses its page
 * through an alias, a second mapping of the whole huge frame from the
 * pool's memfd: the file's own mapping at that offset may come to hold
 * another frame (punch, then allocate) while the pin still holds the old
 * one, as the kernel's direct map outlives a user mapping.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "huge_span.h"
#include "libguestmem.h"

BUILD_BUG_ON(GUESTMEM_FILE_INIT_SHARED != HGMEM_FILE_INIT_SHARED);
BUILD_BUG_ON(GUESTMEM_FILE_ZERO_ON_CONVERT != HGMEM_FILE_ZERO_ON_CONVERT);
BUILD_BUG_ON(GUESTMEM_SHARED != HGMEM_SHARED || GUESTMEM_PRIVATE != HGMEM_PRIVATE);

static size_t huge_size(struct guestmem_file *file)
{
	return huge_page_size(file->pool->h);
}

/*
 * Map huge page @hidx of the file, whose memory starts at @pfn.  mapped[]
 * records it for every backend (a simulated pool has nothing to mmap), so
 * it always tells which huge pages the file holds.
 *
 * A hugetlb page is mapped populated (MAP_POPULATE): its one huge page
 * table entry is written inside this mmap(2) instead of at the first
 * touch, which saves the caller (or KVM's get_user_pages()) a page fault
 * per allocation: the fault's entry and exit cost more than the entry
 * itself.  The frame is always in the memfd by now (mm/ cleared it through
 * the pool's mapping, or the pool knows it zero because it was faulted in
 * and cleared), so populating it never allocates or clears memory.  A
 * fallback (shmem) page is not populated: that would be 512 small entries,
 * most of which a guest may never touch.
 */
static int map_huge(struct guestmem_file *file, unsigned long hidx, unsigned long pfn)
{
	struct shim_region *r = file->pool->h->region;
	size_t huge = huge_size(file);
	int populate = r->kind == SHIM_BACKEND_HUGETLB ? MAP_POPULATE : 0;

	if (file->mapped[hidx] == pfn)
		return 0;
	if (r->fd >= 0 &&
	    mmap(file->hva + hidx * huge, huge, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED | populate, r->fd,
		 (off_t)(pfn - r->base_pfn) << PAGE_SHIFT) == MAP_FAILED)
		return gm_error(-errno, "mapping huge page %lu failed", hidx);
	if (r->fd >= 0)
		madvise(file->hva + hidx * huge, huge, MADV_DONTFORK);
	file->mapped[hidx] = pfn;
	return 0;
}

static void unmap_huge(struct guestmem_file *file, unsigned long hidx)
{
	size_t huge = huge_size(file);

	if (!file->mapped[hidx])
		return;
	if (file->pool->h->region->fd >= 0)
		mmap(file->hva + hidx * huge, huge, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	file->mapped[hidx] = 0;
	gm_fault_arm(file, hidx);	/* GUESTMEM_FILE_ALLOC_ON_FAULT */
}

/* Take a reference on the folio holding @index; returns the page's pfn. */
static int get_page(struct guestmem_file *file, pgoff_t index,
		    struct folio **foliop, int *order, unsigned long *pfn)
{
	int err = hgmem_get_folio(file->gf, index, foliop, order);

	if (err)
		return gm_error(err, "cannot allocate a huge page at offset %#llx",
				(unsigned long long)index << PAGE_SHIFT);
	*pfn = folio_pfn(*foliop) + (index & (folio_nr_pages(*foliop) - 1));
	return 0;
}

/* A pin: file->pins maps its id to this. */
struct gm_pin {
	struct folio *folio;
	u64 offset;			/* file offset of the pinned 4K page */
};

/* A pinned huge frame mapped for its pins, shared by all of them. */
struct gm_alias {
	char *addr;
	unsigned long refs;		/* pins of the file in the frame */
};

/*
 * Address of the page at @pfn for a new pin: in the alias of its huge
 * frame, mapped now if it is the frame's first pin.  A simulated pool has
 * no memory to map: NULL, and the caller uses the file's address.  Caller
 * holds file->lock.
 */
static int alias_get(struct guestmem_file *file, unsigned long pfn, char **addrp)
{
	struct shim_region *r = file->pool->h->region;
	unsigned int horder = huge_page_order(file->pool->h);
	unsigned long frame = (pfn - r->base_pfn) >> horder;
	size_t huge = huge_size(file);
	struct gm_alias *a;
	void *old;

	*addrp = NULL;
	if (r->fd < 0)
		return 0;
	a = xa_load(&file->aliases, frame);
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return gm_error(-ENOMEM, "out of memory");
		a->addr = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
			       (off_t)frame * huge);
		if (a->addr == MAP_FAILED) {
			int err = -errno;

			free(a);
			return gm_error(err, "mapping pinned huge frame %lu failed", frame);
		}
		madvise(a->addr, huge, MADV_DONTFORK);
		old = xa_store(&file->aliases, frame, a, GFP_KERNEL);
		if (xa_is_err(old)) {
			munmap(a->addr, huge);
			free(a);
			return gm_error(xa_err(old), "out of memory");
		}
	}
	a->refs++;
	*addrp = a->addr + ((pfn - r->base_pfn - (frame << horder)) << PAGE_SHIFT);
	return 0;
}

/* Drop a pin's use of the alias of the frame holding @pfn.  Caller holds file->lock. */
static void alias_put(struct guestmem_file *file, unsigned long pfn)
{
	struct shim_region *r = file->pool->h->region;
	unsigned long frame = (pfn - r->base_pfn) >> huge_page_order(file->pool->h);
	struct gm_alias *a;

	if (r->fd < 0)
		return;
	a = xa_load(&file->aliases, frame);
	if (WARN_ON(!a) || --a->refs)
		return;
	xa_erase(&file->aliases, frame);
	munmap(a->addr, huge_size(file));
	free(a);
}

/* Give back huge pages [first, last] that were not allocated before (@was_mapped). */
static void undo_allocation(struct guestmem_file *file, unsigned long first,
			    unsigned long last, const unsigned long *was_mapped)
{
	size_t huge = huge_size(file);
	unsigned long hidx;

	for (hidx = first; hidx <= last; hidx++) {
		if (was_mapped[hidx - first])
			continue;
		/* Unmapped before it is freed (file_punch_hole()). */
		unmap_huge(file, hidx);
		hgmem_punch_hole(file->gf, (u64)hidx * huge, huge);
	}
}

/*
 * Map every huge page holding [start, end), all allocated.  On failure,
 * those that were not mapped before (@was_mapped, from before the
 * allocation) are given back, so the call changes nothing.
 */
static int map_range(struct guestmem_file *file, pgoff_t start, pgoff_t end,
		     const unsigned long *was_mapped)
{
	unsigned int order = huge_page_order(file->pool->h);
	unsigned long hidx, first = start >> order, last = (end - 1) >> order;
	struct folio *folio;
	unsigned long pfn;
	int err = 0, o;

	for (hidx = first; hidx <= last && !err; hidx++) {
		err = get_page(file, hidx << order, &folio, &o, &pfn);
		if (err)
			break;
		folio_put(folio);
		err = map_huge(file, hidx, pfn);
	}
	if (err)
		undo_allocation(file, first, last, was_mapped);
	return err;
}

/* The size and flags of a new file of @pool: 0, or -EINVAL and the error set. */
int gm_file_check_args(struct guestmem_pool *pool, u64 size, u64 flags)
{
	size_t huge = huge_page_size(pool->h);

	if (flags & ~(GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ZERO_ON_CONVERT |
		      GUESTMEM_FILE_ALLOC_ON_FAULT))
		return gm_error(-EINVAL, "unknown file flags %#llx", (unsigned long long)flags);
	if (!size || size % huge)
		return gm_error(-EINVAL, "size %#llx is not a multiple of the page size %#zx",
				(unsigned long long)size, huge);
	return 0;
}

static int file_create(struct guestmem_pool *pool, u64 size, u64 flags, struct gm_kvm *kvm,
		       struct guestmem_file **filep)
{
	struct guestmem_file *file;
	size_t huge;
	int err;

	gm_clear_error();
	if (!pool || !filep)
		return gm_error(-EINVAL, "NULL argument");
	huge = huge_page_size(pool->h);
	err = gm_file_check_args(pool, size, flags);
	if (err)
		return err;
	file = calloc(1, sizeof(*file));
	if (!file)
		return gm_error(-ENOMEM, "out of memory");
	file->pool = pool;
	file->size = size;
	file->kvm = kvm;	/* the caller's until this succeeds */
	file->mapped = calloc(size / huge, sizeof(*file->mapped));
	file->map_len = size + huge;
	file->map = mmap(NULL, file->map_len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!file->mapped || file->map == MAP_FAILED) {
		err = gm_error(-ENOMEM, "no address space for %#llx bytes",
			       (unsigned long long)size);
		goto fail;
	}
	file->hva = (char *)ALIGN((uintptr_t)file->map, huge);
	file->gen = pool->gen;
	/* Guest memory stays with the parent across fork() (lib/gate.c). */
	madvise(file->map, file->map_len, MADV_DONTFORK);

	/* An in-place file's memory is the kernel's guest_memfd (kvm_inplace.c). */
	if (gm_kvm_inplace(file)) {
		err = gm_inplace_map(file);
		if (err)
			goto fail;
	} else {
		err = hgmem_file_create(pool->h, size, flags & ~GUESTMEM_FILE_ALLOC_ON_FAULT,
					pool->node, &file->gf);
	}
	if (err) {
		struct shim_hstate_counters c;

		shim_hstate_counters(pool->h, &c);
		if (err == -ENOMEM && c.kernel && c.free - c.resv >= size / huge)
			err = gm_error(err, "pool cannot reserve %llu pages for the file: %llu free, %lu of them given back to the kernel (GUESTMEM_POOL_RETURN_TO_KERNEL), and the kernel has no free huge page to return",
				       (unsigned long long)(size / huge),
				       (unsigned long long)(c.free - c.resv), c.kernel);
		else
			err = gm_error(err, "pool cannot reserve %llu pages for the file: %llu free",
				       (unsigned long long)(size / huge),
				       (unsigned long long)(c.free - c.resv));
		goto fail;
	}
	pthread_mutex_init(&file->lock, NULL);
	gm_gate_init(&file->gate);
	xa_init(&file->pins);
	xa_init(&file->aliases);
	err = gm_fault_start(file, flags);
	if (err) {
		if (file->gf)
			hgmem_file_release(file->gf);
		pthread_mutex_destroy(&file->lock);
		goto fail;
	}
	pthread_mutex_lock(&pool->lock);
	list_add_tail(&file->node, &pool->files);
	pool->nr_files++;
	pthread_mutex_unlock(&pool->lock);
	*filep = file;
	return 0;
fail:
	if (file->map && file->map != MAP_FAILED)
		munmap(file->map, file->map_len);
	free(file->mapped);
	free(file);
	return err;
}

/*
 * Destroy @file, whose gate is closed: no other call on it runs, and every
 * call fails with -EBADF once this kills the gate.  The handle itself is
 * kept, dead, on the pool's list until the pool is destroyed, so that a
 * late call finds the gate and not freed memory.
 */
static int file_destroy(struct guestmem_file *file)
{
	struct guestmem_pool *pool = file->pool;
	struct hgmem_file_stats st;

	pthread_mutex_lock(&file->lock);
	if (file->nr_pins) {
		pthread_mutex_unlock(&file->lock);
		return gm_error(-EBUSY, "%lu pinned page(s) left", file->nr_pins);
	}
	pthread_mutex_unlock(&file->lock);
	gm_gate_kill(&file->gate);

	pthread_mutex_lock(&pool->lock);
	if (file->gf) {
		hgmem_file_stats(file->gf, &st);
		pool->splits += st.splits;
		pool->merges += st.merges;
	}
	list_move_tail(&file->node, &pool->dead_files);
	pthread_mutex_unlock(&pool->lock);

	gm_fault_stop(file);	/* before the fault thread could use file->gf */
	/* Unmapped before its pages are freed (file_punch_hole()). */
	munmap(file->map, file->map_len);
	if (file->gf)
		hgmem_file_release(file->gf);
	xa_destroy(&file->pins);
	xa_destroy(&file->aliases);	/* empty: no pins */
	free(file->mapped);
	file->mapped = NULL;
	gm_kvm_release(file);

	/* The pool may go once this is done: the last touch of it. */
	pthread_mutex_lock(&pool->lock);
	pool->nr_files--;
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

void *guestmem_file_hva(struct guestmem_file *file)
{
	/* Nothing is mapped there in a fork() child, nor once destroyed. */
	return file && file->gen == gm_generation() && !gm_gate_dead(&file->gate) ?
	       file->hva : NULL;
}

static int file_stats(struct guestmem_file *file, struct guestmem_file_stats *st)
{
	struct hgmem_file_stats fs = { .size = file ? file->size : 0 };

	gm_clear_error();
	if (!file || !st)
		return gm_error(-EINVAL, "NULL argument");
	if (file->gf)
		hgmem_file_stats(file->gf, &fs);
	st->size = fs.size;
	st->allocated = fs.allocated;
	st->shared_bytes = fs.shared;
	st->private_bytes = fs.private;
	st->huge_mappable = fs.huge_mappable;
	st->split_pages = fs.split_pages;
	gm_kvm_file_stats(file, st);
	return 0;
}

static int range_error(int err, u64 offset, u64 len)
{
	if (err == -EINVAL)
		return gm_error(err, "offset %#llx length %#llx: not 4K aligned or empty",
				(unsigned long long)offset, (unsigned long long)len);
	if (err == -ERANGE)
		return gm_error(err, "offset %#llx length %#llx: past the end of the file",
				(unsigned long long)offset, (unsigned long long)len);
	return gm_error(err, "out of memory");
}

static int file_allocate(struct guestmem_file *file, u64 offset, u64 len)
{
	unsigned int order;
	unsigned long *was_mapped = NULL, first, n;
	int err;

	gm_clear_error();
	if (!file)
		return gm_error(-EINVAL, "NULL file");
	order = huge_page_order(file->pool->h) + PAGE_SHIFT;
	pthread_mutex_lock(&file->lock);
	err = hgmem_allocate(file->gf, offset, len);
	if (err) {
		err = err == -ENOMEM ?
		      gm_error(err, "no memory for metadata or no huge page left at offset %#llx",
			       (unsigned long long)offset) :
		      range_error(err, offset, len);
		goto out;
	}
	/* The range is valid now; remember what was mapped before, for undo. */
	first = offset >> order;
	n = ((offset + len - 1) >> order) - first + 1;
	was_mapped = malloc(n * sizeof(*was_mapped));
	if (!was_mapped) {
		err = gm_error(-ENOMEM, "out of memory");
		goto out;
	}
	memcpy(was_mapped, file->mapped + first, n * sizeof(*was_mapped));
	err = map_range(file, offset >> PAGE_SHIFT, (offset + len) >> PAGE_SHIFT,
			was_mapped);
out:
	pthread_mutex_unlock(&file->lock);
	free(was_mapped);
	return err;
}

static int file_punch_hole(struct guestmem_file *file, u64 offset, u64 len)
{
	uint64_t hidx, end;
	bool inside;
	size_t huge;
	int err;

	gm_clear_error();
	if (!file)
		return gm_error(-EINVAL, "NULL file");
	huge = huge_size(file);
	inside = len && !((offset | len) & (PAGE_SIZE - 1)) && offset <= file->size &&
		 len <= file->size - offset;
	pthread_mutex_lock(&file->lock);
	/*
	 * Whole huge pages inside the hole leave the file: unmap them first,
	 * and only then give them back.  A freed page may be cleared by the
	 * pool's zeroer or handed to another file at once; were it still
	 * mapped here, a write through this mapping (a vCPU, another thread)
	 * could land in it after it was cleared, and a page holding data
	 * would be handed out as zero.  mm/ decides whether the range is
	 * valid; only a range inside the file can free anything, so only such
	 * a range is unmapped first (and mm/ accepts every one of those: a
	 * page unmapped all the same would be mapped again by the next
	 * allocation or pin, which find it allocated).
	 */
	if (inside) {
		huge_span_whole(offset, len, huge, &hidx, &end);
		for (; hidx < end; hidx++)
			unmap_huge(file, hidx);
	}
	err = hgmem_punch_hole(file->gf, offset, len);
	WARN_ON(err && inside);
	if (err)
		err = range_error(err, offset, len);
	pthread_mutex_unlock(&file->lock);
	return err;
}

/*
 * Whether the page at @offset lies in a folio that one of the file's pins
 * holds: a lasting reference, unlike the one another thread's allocation
 * or pin takes for a moment while it looks a page up.  A pinned folio is
 * neither split nor merged, so the order it had when pinned still gives
 * its extent; a pin of a frame punched out of the file no longer counts
 * (mapped[] holds another frame, or none).  Caller holds file->lock, as
 * every taker of a reference does, so no pin is half made meanwhile.
 */
static bool pinned_at(struct guestmem_file *file, u64 offset)
{
	unsigned int horder = huge_page_order(file->pool->h);
	unsigned long hidx = offset >> (PAGE_SHIFT + horder), id;
	struct gm_pin *pin;

	xa_for_each(&file->pins, id, pin) {
		u64 mask = ~((u64)folio_size(pin->folio) - 1);

		if ((pin->offset & mask) == (offset & mask) &&
		    file->mapped[hidx] == (folio_pfn(pin->folio) & ~((1UL << horder) - 1)))
			return true;
	}
	return false;
}

void (*gm_convert_eagain_hook)(struct guestmem_file *file, unsigned int attempt);

/*
 * Wait before retrying a conversion that found a folio referenced for a
 * moment: yield first (the holder is usually running on another CPU and
 * about to drop it), then sleep 1 us, 2 us, ... up to 1 ms.
 */
void gm_convert_backoff(unsigned int attempt)
{
	struct timespec ts = { 0, 0 };

	if (attempt < GM_CONVERT_YIELDS) {
		sched_yield();
		return;
	}
	ts.tv_nsec = 1000L << min(attempt - GM_CONVERT_YIELDS, 10u);
	nanosleep(&ts, NULL);
}

static int file_convert(struct guestmem_file *file, u64 offset, u64 len,
			unsigned int to, u64 *error_offset)
{
	unsigned int attempt;
	bool pinned = false;
	u64 bad = 0;
	int err;

	gm_clear_error();
	if (!file)
		return gm_error(-EINVAL, "NULL file");
	/*
	 * -EAGAIN means a folio of the range has a reference besides the
	 * file's.  A pin's stays until the caller unpins: report it at once.
	 * Any other is another thread's allocation or pin looking the page
	 * up, gone within that call: retry, a bounded number of times.  A
	 * failed conversion changed nothing, so it can simply run again.
	 */
	for (attempt = 0;; attempt++) {
		err = hgmem_convert(file->gf, offset, len, to, &bad);
		if (err != -EAGAIN)
			break;
		if (gm_convert_eagain_hook)
			gm_convert_eagain_hook(file, attempt);
		pthread_mutex_lock(&file->lock);
		pinned = pinned_at(file, bad);
		pthread_mutex_unlock(&file->lock);
		if (pinned || attempt + 1 == GM_CONVERT_TRIES)
			break;
		gm_convert_backoff(attempt);
	}
	if (!err)
		return 0;
	if (err == -EAGAIN) {
		if (error_offset)
			*error_offset = bad;
		if (pinned)
			return gm_error(err, "page at offset %#llx is in use (pinned)",
					(unsigned long long)bad);
		return gm_error(err, "page at offset %#llx is still in use by another thread's call after %u tries",
				(unsigned long long)bad, GM_CONVERT_TRIES);
	}
	if (err == -EINVAL && to != GUESTMEM_SHARED && to != GUESTMEM_PRIVATE)
		return gm_error(err, "unknown state %u", to);
	return err == -ENOMEM ? gm_error(err, "no memory for page metadata") :
				range_error(err, offset, len);
}

static int file_state(struct guestmem_file *file, u64 offset, unsigned int *state,
		      u64 *run_len)
{
	enum hgmem_state s;
	int err;

	gm_clear_error();
	if (!file || !state)
		return gm_error(-EINVAL, "NULL argument");
	err = hgmem_get_state(file->gf, offset, &s, run_len);
	if (err)
		return range_error(err, offset, PAGE_SIZE);
	*state = s;
	return 0;
}

static int file_pin(struct guestmem_file *file, u64 offset, struct guestmem_page *page)
{
	unsigned int horder;
	unsigned long hidx, pfn, was_mapped;
	struct folio *folio;
	struct gm_pin *pin;
	enum hgmem_state s;
	char *addr = NULL;
	int err, order;
	void *old;

	gm_clear_error();
	if (!file || !page)
		return gm_error(-EINVAL, "NULL argument");
	err = hgmem_get_state(file->gf, offset, &s, NULL);
	if (err)
		return range_error(err, offset, PAGE_SIZE);
	if (s != HGMEM_SHARED)
		return gm_error(-EPERM, "page at offset %#llx is private",
				(unsigned long long)offset);

	horder = huge_page_order(file->pool->h);
	hidx = offset >> (PAGE_SHIFT + horder);
	pthread_mutex_lock(&file->lock);
	was_mapped = file->mapped[hidx];
	err = get_page(file, offset >> PAGE_SHIFT, &folio, &order, &pfn);
	if (err)
		goto out;
	err = map_huge(file, hidx, pfn & ~((1UL << horder) - 1));
	/* Converted to private meanwhile?  Once pinned, it cannot be any more. */
	if (!err && (hgmem_get_state(file->gf, offset, &s, NULL) || s != HGMEM_SHARED))
		err = gm_error(-EPERM, "page at offset %#llx is private",
			       (unsigned long long)offset);
	if (!err)
		err = alias_get(file, pfn, &addr);
	if (!err) {
		pin = malloc(sizeof(*pin));
		old = pin ? xa_store(&file->pins, file->next_pin + 1, pin, GFP_KERNEL) :
			    XA_ERROR(-ENOMEM);
		if (xa_is_err(old)) {
			free(pin);
			alias_put(file, pfn);
			err = gm_error(xa_err(old), "out of memory");
		} else {
			pin->folio = folio;
			pin->offset = offset;
		}
	}
	if (err) {
		folio_put(folio);
		if (!was_mapped)
			undo_allocation(file, hidx, hidx, &was_mapped);
		goto out;
	}
	/* The frame's alias: it keeps addressing this frame until the unpin. */
	page->addr = addr ? addr : file->hva + offset;
	page->offset = offset;
	page->max_order = order;
	page->state = GUESTMEM_SHARED;
	page->_folio = folio;
	page->_cookie = ++file->next_pin;
	file->nr_pins++;
out:
	pthread_mutex_unlock(&file->lock);
	return err;
}

static int file_unpin(struct guestmem_file *file, struct guestmem_page *page)
{
	struct folio *folio;
	struct gm_pin *pin;

	gm_clear_error();
	if (!file || !page)
		return gm_error(-EINVAL, "NULL argument");
	pthread_mutex_lock(&file->lock);
	/* Each pin has its own id: a copy of an unpinned handle finds nothing. */
	pin = page->_cookie ? xa_load(&file->pins, page->_cookie) : NULL;
	if (!pin || pin->folio != page->_folio) {
		pthread_mutex_unlock(&file->lock);
		return gm_error(-EINVAL, "page is not pinned in this file (double unpin?)");
	}
	xa_erase(&file->pins, page->_cookie);
	folio = pin->folio;
	free(pin);
	/* Unmap the frame's alias (at its last pin) before the frame can be reused. */
	alias_put(file, folio_pfn(folio));
	folio_put(folio);
	/* The last reference of a punched page: it is back in the pool on return. */
	hgmem_flush_deferred();
	page->_folio = NULL;
	page->_cookie = 0;
	file->nr_pins--;
	pthread_mutex_unlock(&file->lock);
	return 0;
}

/*
 * The public calls: each runs between gm_enter() and gm_leave() (fork(),
 * lib/gate.c), on an object not inherited across fork(), and inside the
 * object's gate (destroy, lib/libguestmem.h).
 */
static int file_enter(struct guestmem_file *file)
{
	int err;

	gm_clear_error();
	if (!file)
		return gm_error(-EINVAL, "NULL file");
	err = gm_enter(file->gen, "file");
	if (err)
		return err;
	err = gm_gate_enter(&file->gate, "file");
	if (err)
		gm_leave();
	return err;
}

static void file_leave(struct guestmem_file *file)
{
	gm_gate_leave(&file->gate);
	gm_leave();
}

/*
 * Enter a call that makes a file of @pool: gm_enter() and the pool's gate
 * (not across a fork(), nor a pool's destruction).  0 or -errno.
 */
int gm_pool_enter(struct guestmem_pool *pool)
{
	int err = gm_enter(pool->gen, "pool");

	if (err)
		return err;
	err = gm_gate_enter(&pool->gate, "pool");
	if (err)
		gm_leave();
	return err;
}

void gm_pool_leave(struct guestmem_pool *pool)
{
	gm_gate_leave(&pool->gate);
	gm_leave();
}

int guestmem_file_create(struct guestmem_pool *pool, u64 size, u64 flags,
			 struct guestmem_file **filep)
{
	int err;

	gm_clear_error();
	if (!pool)
		return gm_error(-EINVAL, "NULL argument");
	err = gm_pool_enter(pool);
	if (err)
		return err;
	err = file_create(pool, size, flags, NULL, filep);
	gm_pool_leave(pool);
	return err;
}

int guestmem_file_destroy(struct guestmem_file *file)
{
	int err;

	gm_clear_error();
	if (!file)
		return gm_error(-EINVAL, "NULL file");
	err = gm_enter(file->gen, "file");
	if (err)
		return err;
	err = gm_gate_close(&file->gate, "file");
	if (!err) {
		err = file_destroy(file);
		if (err)
			gm_gate_open(&file->gate);
	}
	gm_leave();
	return err;
}

int guestmem_file_stats(struct guestmem_file *file, struct guestmem_file_stats *st,
			size_t size)
{
	struct guestmem_file_stats full;
	int err;

	gm_clear_error();
	err = gm_check_out(file, st, size, GUESTMEM_FILE_STATS_SIZE_VER0);
	if (!err)
		err = file_enter(file);
	if (err)
		return err;
	err = file_stats(file, &full);
	file_leave(file);
	if (!err)
		gm_copy_out(st, size, &full, sizeof(full));
	return err;
}

#ifdef GM_COMPAT_SYMVER
/* LIBGUESTMEM_0.1: no size; the structure had the fields of its first version. */
int gm_file_stats_v0_1(struct guestmem_file *file, struct guestmem_file_stats *st);
GM_COMPAT_SYMVER(gm_file_stats_v0_1, guestmem_file_stats);
int gm_file_stats_v0_1(struct guestmem_file *file, struct guestmem_file_stats *st)
{
	return guestmem_file_stats(file, st, GUESTMEM_FILE_STATS_SIZE_VER0);
}
#endif

int guestmem_allocate(struct guestmem_file *file, u64 offset, u64 len)
{
	int err = file_enter(file);

	if (err)
		return err;
	err = file->kvm ? gm_kvm_allocate(file, offset, len) : file_allocate(file, offset, len);
	file_leave(file);
	return err;
}

int guestmem_punch_hole(struct guestmem_file *file, u64 offset, u64 len)
{
	int err = file_enter(file);

	if (err)
		return err;
	err = file->kvm ? gm_kvm_punch_hole(file, offset, len) :
			  file_punch_hole(file, offset, len);
	file_leave(file);
	return err;
}

int guestmem_convert(struct guestmem_file *file, u64 offset, u64 len,
		     unsigned int to, u64 *error_offset)
{
	int err = file_enter(file);

	if (err)
		return err;
	err = file->kvm ? gm_kvm_convert(file, offset, len, to, error_offset) :
			  file_convert(file, offset, len, to, error_offset);
	file_leave(file);
	return err;
}

int guestmem_state(struct guestmem_file *file, u64 offset, unsigned int *state,
		   u64 *run_len)
{
	int err = file_enter(file);

	if (err)
		return err;
	err = file->kvm ? gm_kvm_state(file, offset, state, run_len) :
			  file_state(file, offset, state, run_len);
	file_leave(file);
	return err;
}

int guestmem_pin(struct guestmem_file *file, u64 offset, struct guestmem_page *page)
{
	int err = file_enter(file);

	if (err)
		return err;
	err = file->kvm ? gm_kvm_pin(file, offset, page) : file_pin(file, offset, page);
	file_leave(file);
	return err;
}

int guestmem_unpin(struct guestmem_file *file, struct guestmem_page *page)
{
	int err = file_enter(file);

	if (err)
		return err;
	if (!page)
		err = gm_error(-EINVAL, "NULL argument");
	else
		err = gm_kvm_inplace(file) ? gm_kvm_unpin(file, page) : file_unpin(file, page);
	file_leave(file);
	return err;
}

/* For lib/kvm.c, which builds the KVM modes on these (lib/libguestmem.h). */
int gm_file_enter(struct guestmem_file *file)
{
	return file_enter(file);
}

void gm_file_leave(struct guestmem_file *file)
{
	file_leave(file);
}

/*
 * Between gm_enter() and gm_leave(), inside pool->gate: a file whose KVM
 * side is @kvm (which the file owns once this succeeded).
 */
int gm_file_create(struct guestmem_pool *pool, u64 size, u64 flags, struct gm_kvm *kvm,
		   struct guestmem_file **filep)
{
	return file_create(pool, size, flags, kvm, filep);
}

int gm_file_convert(struct guestmem_file *file, u64 offset, u64 len, unsigned int to,
		    u64 *error_offset)
{
	return file_convert(file, offset, len, to, error_offset);
}

int gm_file_allocate(struct guestmem_file *file, u64 offset, u64 len)
{
	return file_allocate(file, offset, len);
}

int gm_file_punch_hole(struct guestmem_file *file, u64 offset, u64 len)
{
	return file_punch_hole(file, offset, len);
}

/*
 * Huge page @hidx, if unmapped, is armed again for
 * GUESTMEM_FILE_ALLOC_ON_FAULT: fault.c unarms a page whose fault it
 * cannot serve (lib/kvm.c's returned pages).
 */
void gm_file_rearm(struct guestmem_file *file, unsigned long hidx)
{
	size_t huge = huge_size(file);

	pthread_mutex_lock(&file->lock);
	if (!file->mapped[hidx] && file->fault && file->pool->h->region->fd >= 0 &&
	    mmap(file->hva + hidx * huge, huge, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED)
		gm_fault_arm(file, hidx);
	pthread_mutex_unlock(&file->lock);
}

int gm_file_state(struct guestmem_file *file, u64 offset, unsigned int *state, u64 *run_len)
{
	return file_state(file, offset, state, run_len);
}

int gm_file_pin(struct guestmem_file *file, u64 offset, struct guestmem_page *page)
{
	return file_pin(file, offset, page);
}
