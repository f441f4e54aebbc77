// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: KVM files in GUESTMEM_KVM_INPLACE mode (include/guestmem.h).
 *
 * The kernel does the work: the file is one guest_memfd created with
 * GUEST_MEMFD_FLAG_HUGETLB | GUEST_MEMFD_FLAG_MMAP (guestmem's kernel
 * series), whose huge pages come from the kernel's hugetlb pool, reserved
 * when it is made.  It is mapped at the file's host address (shared pages
 * are reachable there, private ones raise SIGBUS), converted with
 * KVM_SET_MEMORY_ATTRIBUTES2 (contents kept in both directions), filled
 * with fallocate() and punched with FALLOC_FL_PUNCH_HOLE.  The memory slot
 * takes both shared and private memory from it: the VM holds one copy.
 *
 * What the library keeps:
 *  - the state of every 4K page, a bit each (set = private), for
 *    guestmem_state(): the kernel has no call that reads it.  It changes
 *    only after the kernel's conversion succeeded, under k->lock.
 *  - its pins.  The kernel's mapping cannot be pinned (it is VM_PFNMAP),
 *    so a pin is the library's promise: while it is held no page of its
 *    folio can be made private (-EAGAIN and the folio's first page in the
 *    range, as for any file) and a punch zeroes the pinned page instead of
 *    freeing it, so @page->addr keeps addressing the same memory.  The
 *    folio is the one the kernel keeps the page in: the huge page while it
 *    is all shared or all private, else (a 1G page) its 2M piece if that
 *    is uniform, else the 4K page.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "huge_span.h"
#include "kvm_file.h"

/* A pin: its page, and the folio it holds (folio_of() when it was taken). */
struct inplace_pin {
	u64 offset;
	u64 first, nr;		/* in 4K pages */
};

#define PG(off)		((off) >> PAGE_SHIFT)
#define NONE		(~(u64)0)	/* pinned_in(): no pinned folio */

static bool is_private(const struct gm_kvm *k, u64 pg)
{
	return k->private[pg / GM_LONG_BITS] & (1UL << (pg % GM_LONG_BITS));
}

static void set_state(struct gm_kvm *k, u64 pg, u64 n, bool priv)
{
	while (n) {
		u64 bit = pg % GM_LONG_BITS, nr = min(n, GM_LONG_BITS - bit);
		unsigned long mask = (nr == GM_LONG_BITS ? ~0UL : ((1UL << nr) - 1)) << bit;

		if (priv)
			k->private[pg / GM_LONG_BITS] |= mask;
		else
			k->private[pg / GM_LONG_BITS] &= ~mask;
		pg += nr;
		n -= nr;
	}
}

/* Pages from @pg, at most @max, in the state of @pg. */
static u64 run_pages(const struct gm_kvm *k, u64 pg, u64 max)
{
	unsigned long end = is_private(k, pg) ?
			    find_next_zero_bit(k->private, pg + max, pg) :
			    find_next_bit(k->private, pg + max, pg);

	return end - pg;
}

static bool uniform(const struct gm_kvm *k, u64 pg, u64 n)
{
	return run_pages(k, pg, n) == n;
}

/* The folio the kernel keeps page @pg in: its first page and page count. */
static void folio_of(struct guestmem_file *file, u64 pg, u64 *first, u64 *n)
{
	const struct gm_kvm *k = file->kvm;
	u64 huge = PG(huge_page_size(file->pool->h)), mid = PG((u64)GUESTMEM_PAGE_2M);

	*first = pg / huge * huge;
	*n = huge;
	if (uniform(k, *first, huge))
		return;
	*first = pg / mid * mid;
	*n = mid;
	if (huge > mid && uniform(k, *first, mid))
		return;
	*first = pg;
	*n = 1;
}

/*
 * The first page of [off, off + len) in a folio that a pin holds, or
 * NONE if there is none.  Caller holds file->lock.
 */
static u64 pinned_in(struct guestmem_file *file, u64 off, u64 len)
{
	struct inplace_pin *pin;
	unsigned long id;
	u64 first = NONE;

	xa_for_each(&file->pins, id, pin) {
		u64 s = max(pin->first << PAGE_SHIFT, off);
		u64 e = min((pin->first + pin->nr) << PAGE_SHIFT, off + len);

		if (s < e)
			first = min(first, s);
	}
	return first;
}

/* The offset of one page: 0, or -EINVAL / -ERANGE and the error set. */
static int check_page(struct guestmem_file *file, u64 off)
{
	if (off % PAGE_SIZE)
		return gm_error(-EINVAL, "offset %#llx is not 4K aligned", (unsigned long long)off);
	if (off >= file->size)
		return gm_error(-ERANGE, "offset %#llx is past the end of the file",
				(unsigned long long)off);
	return 0;
}

/* ------------------------------------------------------------ creation */

/*
 * The file's pages come out of @pool's budget: a hugetlb pool not bound to
 * a node lends the kernel as many of its free pages (they count as in use
 * in its stats) for the guest_memfd to reserve, until the file is gone.
 * Other pools have no hugetlb pages to lend, and a node-bound pool's
 * would come back from any node: the kernel's own free pages serve then.
 */
static int lend(struct gm_kvm *k, struct guestmem_pool *pool, u64 pages)
{
	struct shim_hstate_counters c;
	int err;

	if (pool->backend != GUESTMEM_BACKEND_HUGETLB || pool->node >= 0)
		return 0;
	err = shim_hstate_lend(pool->h, pages);
	if (err == -ENOMEM) {
		shim_hstate_counters(pool->h, &c);
		return gm_error(err, "pool cannot lend %llu pages to the kernel for the file: %llu free",
				(unsigned long long)pages, (unsigned long long)(c.free - c.resv));
	}
	if (err)
		return gm_error(err, "cannot give the pool's pages to the kernel: %s",
				strerror(-err));
	k->lent_from = pool->h;
	k->lent = pages;
	return 0;
}

void gm_inplace_unlend(struct gm_kvm *k)
{
	if (k->lent)
		shim_hstate_unlend(k->lent_from, k->lent);
	k->lent = 0;
}

int gm_inplace_create(struct gm_kvm *k, struct guestmem_pool *pool, u64 size, u64 *flags)
{
	u64 huge = huge_page_size(pool->h);
	int err;
	struct gm_kvm_create_guest_memfd gm = {
		.size = size,
		.flags = GM_GUEST_MEMFD_FLAG_HUGETLB | GUEST_MEMFD_FLAG_MMAP,
		.page_size = huge,
	};
	bool shared = *flags & GUESTMEM_FILE_INIT_SHARED;
	size_t words = (PG(size) + GM_LONG_BITS - 1) / GM_LONG_BITS;

	k->private = malloc(words * sizeof(long));
	if (!k->private)
		return gm_error(-ENOMEM, "out of memory");
	memset(k->private, shared ? 0 : 0xff, words * sizeof(long));
	if (shared)
		gm.flags |= GUEST_MEMFD_FLAG_INIT_SHARED;
	err = lend(k, pool, size / huge);
	if (err)
		return err;
	k->gmem_fd = k->ops->create_guest_memfd(k->vm_fd, &gm);
	if (k->gmem_fd < 0) {
		err = k->gmem_fd;
		k->gmem_fd = -1;
		gm_inplace_unlend(k);
		if (err == -ENOMEM)
			return gm_error(err, "KVM_CREATE_GUEST_MEMFD: the kernel's hugetlb pool cannot reserve %llu pages of %llu kB",
					(unsigned long long)(size / huge),
					(unsigned long long)(huge >> 10));
		return gm_error(err, "KVM_CREATE_GUEST_MEMFD of %#llx bytes (hugetlb, %llu kB pages) failed: %s",
				(unsigned long long)size, (unsigned long long)(huge >> 10),
				strerror(-err));
	}
	/*
	 * The kernel allocates on every fault, guest or host: the library's
	 * fault thread has nothing to do.  Conversions keep contents; zeroing
	 * them is the library's (gm_inplace_convert()).
	 */
	k->zero_on_convert = *flags & GUESTMEM_FILE_ZERO_ON_CONVERT;
	*flags &= ~(GUESTMEM_FILE_ALLOC_ON_FAULT | GUESTMEM_FILE_ZERO_ON_CONVERT);
	return 0;
}

/* The guest_memfd at the file's host address (file_create(), lib/file.c). */
int gm_inplace_map(struct guestmem_file *file)
{
	void *p = mmap(file->hva, file->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		       file->kvm->gmem_fd, 0);

	if (p == MAP_FAILED)
		return gm_error(-errno, "cannot map the guest_memfd: %s", strerror(errno));
	/* Guest memory stays with the parent across fork() (lib/gate.c). */
	madvise(file->hva, file->size, MADV_DONTFORK);
	return 0;
}

/* --------------------------------------------------------- conversions */

/*
 * GUESTMEM_FILE_ZERO_ON_CONVERT: the kernel keeps contents, and the host
 * cannot write private memory, but a punch zeroes in the kernel whatever
 * state the pages are in (and keeps that state).  The pages of [off, off +
 * len) not in state @to are punched while the host cannot reach them:
 * private pages before they turn shared, shared ones once they are
 * private.  So a conversion to shared that then fails leaves its private
 * pages zeroed (the guest asked for them to be shared, and zeroed); the
 * rest of the contract holds.  Pages that change state have no pin: they
 * are private, or just became so.
 */
static void zero_changed(struct guestmem_file *file, u64 off, u64 len, unsigned int to)
{
	struct gm_kvm *k = file->kvm;
	u64 pos, n;

	for (pos = off; pos < off + len; pos += n) {
		n = run_pages(k, PG(pos), PG(off + len - pos)) << PAGE_SHIFT;
		if (is_private(k, PG(pos)) == (to == GUESTMEM_SHARED))
			k->ops->punch(k->gmem_fd, pos, n);
	}
}

/* KVM_SET_MEMORY_ATTRIBUTES2, retrying a reference held for a moment. */
static int set_attributes2(struct guestmem_file *file, u64 off, u64 len, unsigned int to,
			   u64 *bad)
{
	struct gm_kvm *k = file->kvm;
	u64 attrs = to == GUESTMEM_PRIVATE ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
	unsigned int attempt;
	int err;

	/*
	 * The library's pins were checked: an -EAGAIN is a vCPU faulting the
	 * page in, or a host thread touching it, gone in a moment.
	 */
	for (attempt = 0;; attempt++) {
		err = k->ops->set_attributes2(k->gmem_fd, off, len, attrs, bad);
		if (err != -EAGAIN || attempt + 1 == GM_CONVERT_TRIES)
			return err;
		gm_convert_backoff(attempt);
	}
}

int gm_inplace_convert(struct guestmem_file *file, u64 off, u64 len, unsigned int to,
		       u64 *error_offset)
{
	struct gm_kvm *k = file->kvm;
	u64 bad = 0;
	int err;

	if (to != GUESTMEM_SHARED && to != GUESTMEM_PRIVATE)
		return gm_error(-EINVAL, "unknown state %u", to);
	err = gm_kvm_check_range(file, off, len);
	if (err)
		return err;
	if (uniform(k, PG(off), PG(len)) && is_private(k, PG(off)) == (to == GUESTMEM_PRIVATE))
		return 0;
	if (to == GUESTMEM_PRIVATE) {
		pthread_mutex_lock(&file->lock);
		bad = pinned_in(file, off, len);
		pthread_mutex_unlock(&file->lock);
		if (bad != NONE) {
			if (error_offset)
				*error_offset = bad;
			return gm_error(-EAGAIN, "page at offset %#llx is in use (pinned)",
					(unsigned long long)bad);
		}
	}
	/*
	 * ZERO_ON_CONVERT, private to shared: zeroed before the host can see
	 * them (see zero_changed()).
	 */
	if (k->zero_on_convert && to == GUESTMEM_SHARED)
		zero_changed(file, off, len, to);
	err = set_attributes2(file, off, len, to, &bad);
	if (err == -EAGAIN) {
		if (error_offset)
			*error_offset = bad;
		return gm_error(err, "page at offset %#llx is still referenced in the kernel after %u tries (KVM_SET_MEMORY_ATTRIBUTES2)",
				(unsigned long long)bad, GM_CONVERT_TRIES);
	}
	if (err)
		return gm_error(err, "KVM_SET_MEMORY_ATTRIBUTES2 for %#llx+%#llx failed: %s",
				(unsigned long long)off, (unsigned long long)len, strerror(-err));
	if (k->zero_on_convert && to == GUESTMEM_PRIVATE)
		zero_changed(file, off, len, to);
	set_state(k, PG(off), PG(len), to == GUESTMEM_PRIVATE);
	return 0;
}

/* ------------------------------------------------- allocate, punch, pin */

int gm_inplace_allocate(struct guestmem_file *file, u64 off, u64 len)
{
	struct gm_kvm *k = file->kvm;
	int err = gm_kvm_check_range(file, off, len);

	if (err)
		return err;
	err = k->ops->allocate(k->gmem_fd, off, len);
	if (err)
		return gm_error(err, "fallocate() of %#llx+%#llx on the guest_memfd failed: %s",
				(unsigned long long)off, (unsigned long long)len, strerror(-err));
	return 0;
}

/* The first pinned page in [off, off + len), or NONE.  Caller holds file->lock. */
static u64 pinned_page_in(struct guestmem_file *file, u64 off, u64 len)
{
	struct inplace_pin *pin;
	unsigned long id;
	u64 first = NONE;

	xa_for_each(&file->pins, id, pin)
		if (pin->offset >= off && pin->offset - off < len)
			first = min(first, pin->offset);
	return first;
}

/*
 * Punch [s, e), within one huge page, but for its pinned pages, which are
 * zeroed in place instead: the kernel keeps a huge page it punches only in
 * part, zeroing what was punched, so the pinned pages keep their memory.
 * Caller holds file->lock.
 */
static void punch_around_pins(struct guestmem_file *file, u64 s, u64 e)
{
	struct gm_kvm *k = file->kvm;
	u64 pos = s;

	while (pos < e) {
		u64 next = pinned_page_in(file, pos, e - pos);

		next = next == NONE ? e : next;
		if (next > pos)
			k->ops->punch(k->gmem_fd, pos, next - pos);
		if (next < e)	/* pinned, so shared: the host can write it */
			memset(file->hva + next, 0, PAGE_SIZE);
		pos = next + PAGE_SIZE;
	}
}

int gm_inplace_punch_hole(struct guestmem_file *file, u64 off, u64 len)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h), pos, next;
	int err = gm_kvm_check_range(file, off, len);

	if (err)
		return err;
	pthread_mutex_lock(&file->lock);
	for (pos = off; pos < off + len; pos = next) {
		next = min(off + len, (pos / huge + 1) * huge);
		if (!file->nr_pins || pinned_page_in(file, pos, next - pos) == NONE) {
			err = k->ops->punch(k->gmem_fd, pos, next - pos);
			if (err)
				break;
		} else {
			punch_around_pins(file, pos, next);
		}
	}
	pthread_mutex_unlock(&file->lock);
	if (err)
		return gm_error(err, "punching %#llx+%#llx out of the guest_memfd failed: %s",
				(unsigned long long)off, (unsigned long long)len, strerror(-err));
	return 0;
}

int gm_inplace_pin(struct guestmem_file *file, u64 off, struct guestmem_page *page)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h), first, n;
	struct inplace_pin *pin;
	void *old;
	int err;

	if (!page)
		return gm_error(-EINVAL, "NULL argument");
	err = check_page(file, off);
	if (err)
		return err;
	if (is_private(k, PG(off)))
		return gm_error(-EPERM, "page at offset %#llx is private", (unsigned long long)off);
	/* Allocated now, as a fault would, so that failing is -ENOMEM here. */
	err = k->ops->allocate(k->gmem_fd, off / huge * huge, huge);
	if (err)
		return gm_error(err, "cannot allocate the huge page at %#llx: %s",
				(unsigned long long)(off / huge * huge), strerror(-err));
	pin = malloc(sizeof(*pin));
	if (!pin)
		return gm_error(-ENOMEM, "out of memory");
	pin->offset = off;
	pthread_mutex_lock(&file->lock);
	old = xa_store(&file->pins, file->next_pin + 1, pin, GFP_KERNEL);
	if (xa_is_err(old)) {
		pthread_mutex_unlock(&file->lock);
		free(pin);
		return gm_error(xa_err(old), "out of memory");
	}
	/*
	 * The pin holds this folio, "neither split nor merged" while it is
	 * held: the kernel may merge it under a pin the library keeps (no
	 * kernel reference), but memory does not move, so the pin keeps the
	 * extent it had.
	 */
	folio_of(file, PG(off), &first, &n);
	pin->first = first;
	pin->nr = n;
	page->addr = file->hva + off;
	page->offset = off;
	page->max_order = (unsigned int)__builtin_ctzll(n);
	page->state = GUESTMEM_SHARED;
	page->_folio = pin;
	page->_cookie = ++file->next_pin;
	file->nr_pins++;
	pthread_mutex_unlock(&file->lock);
	return 0;
}

int gm_inplace_unpin(struct guestmem_file *file, struct guestmem_page *page)
{
	struct inplace_pin *pin;

	pthread_mutex_lock(&file->lock);
	pin = page->_cookie ? xa_load(&file->pins, page->_cookie) : NULL;
	if (!pin || pin != page->_folio) {
		pthread_mutex_unlock(&file->lock);
		return gm_error(-EINVAL, "page is not pinned in this file (double unpin?)");
	}
	xa_erase(&file->pins, page->_cookie);
	free(pin);
	page->_folio = NULL;
	page->_cookie = 0;
	file->nr_pins--;
	pthread_mutex_unlock(&file->lock);
	return 0;
}

/* --------------------------------------------------------- state, stats */

int gm_inplace_state(struct guestmem_file *file, u64 off, unsigned int *state, u64 *run)
{
	const struct gm_kvm *k = file->kvm;
	int err;

	if (!state)
		return gm_error(-EINVAL, "NULL argument");
	err = check_page(file, off);
	if (err)
		return err;
	*state = is_private(k, PG(off)) ? GUESTMEM_PRIVATE : GUESTMEM_SHARED;
	if (run)
		*run = run_pages(k, PG(off), PG(file->size - off)) << PAGE_SHIFT;
	return 0;
}

/*
 * What the library knows: the states, and how the kernel splits huge
 * pages for them.  Which pages are allocated only the kernel knows (the
 * guest's faults allocate them): the kernel's hugetlb counters tell.
 */
void gm_inplace_stats(struct guestmem_file *file, struct guestmem_file_stats *st)
{
	const struct gm_kvm *k = file->kvm;
	u64 huge = PG(huge_page_size(file->pool->h)), mid = PG((u64)GUESTMEM_PAGE_2M);
	u64 pg, p, priv = 0;

	for (pg = 0; pg < PG(file->size); pg += huge) {
		u64 n = run_pages(k, pg, huge);

		if (n == huge) {
			priv += is_private(k, pg) ? huge : 0;
			st->huge_mappable += huge << PAGE_SHIFT;
			continue;
		}
		st->split_pages++;
		for (n = 0; n < huge; n++)
			priv += is_private(k, pg + n);
		/* A split 1G page keeps its uniform 2M pieces whole (folio_of()). */
		for (p = pg; huge > mid && p < pg + huge; p += mid)
			if (uniform(k, p, mid))
				st->huge_mappable += mid << PAGE_SHIFT;
	}
	st->private_bytes = priv << PAGE_SHIFT;
	st->shared_bytes = file->size - st->private_bytes;
}
