// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: guest memory files for KVM VMs (include/guestmem.h,
 * "Guest memory for a KVM VM").
 *
 * A KVM file is an ordinary library file (lib/file.c) plus a struct gm_kvm:
 * the VM (a duplicate of its fd), the mode, the file's bindings to guest
 * physical memory and, in split mode, a 4K guest_memfd holding the private
 * memory.  The library's file keeps the state of every 4K page as for any
 * file; in split mode its huge pages hold only shared memory:
 *
 *  - the VM's memory attributes follow the file's state, for every bound
 *    range (KVM_SET_MEMORY_ATTRIBUTES, set by guestmem_kvm_bind() and by
 *    every conversion);
 *  - a huge page all of whose pages are private holds nothing the guest
 *    can see, so it is punched out of the file and goes back to the pool
 *    ("returned"); when a page of it turns shared it is allocated again;
 *  - pages that turn shared are punched out of the guest_memfd.
 *
 * A conversion is one transaction: the steps that can fail come first
 * (allocating returned huge pages that turn shared, the library's own
 * conversion, the VM's attributes), each undone if a later one fails;
 * zeroing the pages that changed state and moving memory out (the
 * punches) come last and cannot fail, so a failed conversion keeps the
 * contents too.  Calls that change a KVM file's memory (convert, allocate,
 * punch, pin, bind) take the file's gm_kvm lock, so one undo never meets
 * another call's change; guestmem_state() takes it too, so no thread sees
 * a state that is then undone.
 *
 * Returned huge pages and the reservation.  A returned page leaves its
 * file's reservation (hugepage_subpool_unreserve(): @unreserved marks it),
 * so the pool may lend it to another file and, with
 * GUESTMEM_POOL_RETURN_TO_KERNEL, gives it back to the kernel
 * (lib/shim/hugetlb.c punches it out of the pool's memfd: HugePages_Free
 * rises).  An unreserved huge page is always wholly private: only a
 * conversion to shared can change that, and its step 1 reserves the page
 * again first (hugepage_subpool_reserve(), taking it back from the kernel
 * with fallocate() if need be), failing with -ENOMEM, the conversion
 * changing nothing, when neither the pool nor the kernel has a free page.
 * So allocations, pins and faults of shared pages always find their
 * reservation.  Punching a returned page keeps it unreserved.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "huge_span.h"
#include "kvm_file.h"
#include "../mm/guestmem_internal.h"	/* the file's subpool (reservation) */

static bool returned(struct gm_kvm *k, u64 h)
{
	return k->returned[h / GM_LONG_BITS] & (1UL << (h % GM_LONG_BITS));
}

static void set_returned(struct gm_kvm *k, u64 h, bool on)
{
	unsigned long bit = 1UL << (h % GM_LONG_BITS);

	if (on == returned(k, h))
		return;
	k->returned[h / GM_LONG_BITS] ^= bit;
	if (on)
		atomic_fetch_add(&k->nr_returned, 1);
	else
		atomic_fetch_sub(&k->nr_returned, 1);
}

static bool unreserved(struct gm_kvm *k, u64 h)
{
	return k->unreserved[h / GM_LONG_BITS] & (1UL << (h % GM_LONG_BITS));
}

/* Huge page @h, wholly private, leaves the file's reservation (once). */
static void unreserve(struct guestmem_file *file, u64 h)
{
	struct gm_kvm *k = file->kvm;

	if (unreserved(k, h))
		return;
	hugepage_subpool_unreserve(file->gf->spool, 1);
	k->unreserved[h / GM_LONG_BITS] |= 1UL << (h % GM_LONG_BITS);
}

/*
 * Huge page @h, about to get a shared page, is reserved for the file again:
 * 0, or -ENOMEM with the reason (the pool's and the kernel's pages).
 */
static int rereserve(struct guestmem_file *file, u64 h)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h);
	unsigned long long off = h * huge;
	struct shim_hstate_counters c;
	struct guestmem_hugetlb_info info;
	bool known;
	int err;

	if (!unreserved(k, h))
		return 0;
	err = hugepage_subpool_reserve(file->gf->spool, 1);
	if (!err) {
		k->unreserved[h / GM_LONG_BITS] &= ~(1UL << (h % GM_LONG_BITS));
		return 0;
	}
	shim_hstate_counters(file->pool->h, &c);
	if (err == -ENOMEM)
		return gm_error(-ENOMEM, "no huge page for offset %#llx: the pool's %lu free page(s) are all reserved by its files",
				off, c.free);
	if (err != -ENOSPC)
		return gm_error(-ENOMEM, "no huge page for offset %#llx: taking one of the %lu page(s) the pool gave back to the kernel failed: %s",
				off, c.kernel, strerror(-err));
	known = !gm_hugetlb_read(huge, -1, &info);
	return gm_error(-ENOMEM, "no huge page for offset %#llx: the pool gave its %lu free page(s) back to the kernel (GUESTMEM_POOL_RETURN_TO_KERNEL), and the kernel has no free %lluK huge page to return (HugePages_Free %lld, reserved %lld)",
			off, c.kernel, (unsigned long long)(huge >> 10),
			known ? (long long)info.free : -1LL,
			known ? (long long)info.reserved : -1LL);
}

/* ------------------------------------------------------------ real KVM */

/*
 * KVM_CHECK_EXTENSION also answers on /dev/kvm's system fd, so that alone
 * does not tell a VM: its fd is the anonymous inode "kvm-vm".
 */
static int real_check_vm(int fd)
{
	char path[64], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno == ENOENT)
			return gm_error(-EBADF, "VM fd %d is not an open fd", fd);
		return 0;	/* no /proc: KVM_CHECK_EXTENSION still tells most */
	}
	link[n] = 0;
	if (strcmp(link, "anon_inode:kvm-vm"))
		return gm_error(-ENOTTY, "fd %d is not a KVM VM: it is %s, not anon_inode:kvm-vm (the fd KVM_CREATE_VM returns)",
				fd, link);
	return 0;
}

static long real_check_extension(int vm_fd, unsigned long cap)
{
	long r = ioctl(vm_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? -errno : r;
}

static int real_create_guest_memfd(int vm_fd, struct gm_kvm_create_guest_memfd *arg)
{
	int fd = ioctl(vm_fd, GM_KVM_CREATE_GUEST_MEMFD, arg);

	if (fd < 0)
		return -errno;
	/* Linux 7.2 has no flag for O_CLOEXEC: set it at once, or give up. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int real_set_attributes(int vm_fd, u64 gpa, u64 len, u64 attributes)
{
	struct gm_kvm_memory_attributes a = {
		.address = gpa, .size = len, .attributes = attributes,
	};
	int r;

	do
		r = ioctl(vm_fd, GM_KVM_SET_MEMORY_ATTRIBUTES, &a);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int real_punch(int fd, u64 off, u64 len)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			 (off_t)len) ? -errno : 0;
}

static int real_allocate(int fd, u64 off, u64 len)
{
	int r;

	/* guest_memfd allocates only with FALLOC_FL_KEEP_SIZE (else EOPNOTSUPP). */
	do
		r = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	while (r && errno == EINTR);
	return r ? -errno : 0;
}

static int real_set_attributes2(int gmem_fd, u64 off, u64 len, u64 attributes, u64 *bad)
{
	struct gm_kvm_memory_attributes2 a = {
		.offset = off, .size = len, .attributes = attributes,
	};
	int r;

	do
		r = ioctl(gmem_fd, GM_KVM_SET_MEMORY_ATTRIBUTES2, &a);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		*bad = a.error_offset;
	return r < 0 ? -errno : 0;
}

static const struct gm_kvm_ops real_ops = {
	.check_vm = real_check_vm,
	.check_extension = real_check_extension,
	.create_guest_memfd = real_create_guest_memfd,
	.set_attributes = real_set_attributes,
	.punch = real_punch,
	.allocate = real_allocate,
	.set_attributes2 = real_set_attributes2,
};

static const struct gm_kvm_ops *_Atomic ops_now = &real_ops;

void gm_kvm_ops_set(const struct gm_kvm_ops *ops)
{
	atomic_store(&ops_now, ops ? ops : &real_ops);
}

/* ------------------------------------------------------------- probing */

static int read_caps(const struct gm_kvm_ops *ops, int vm_fd, struct gm_kvm_raw_caps *c)
{
	static const struct {
		unsigned long cap;
		size_t off;
	} caps[] = {
		{ KVM_CAP_USER_MEMORY2, offsetof(struct gm_kvm_raw_caps, user_memory2) },
		{ KVM_CAP_MEMORY_ATTRIBUTES, offsetof(struct gm_kvm_raw_caps, attributes) },
		{ KVM_CAP_GUEST_MEMFD, offsetof(struct gm_kvm_raw_caps, guest_memfd) },
		{ KVM_CAP_GUEST_MEMFD_FLAGS,
		  offsetof(struct gm_kvm_raw_caps, guest_memfd_flags) },
		{ GM_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES,
		  offsetof(struct gm_kvm_raw_caps, guest_memfd_attributes) },
	};
	size_t i;
	int err;

	memset(c, 0, sizeof(*c));
	if (vm_fd < 0)
		return gm_error(-EBADF, "VM fd %d is not an open fd", vm_fd);
	err = ops->check_vm(vm_fd);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		long r = ops->check_extension(vm_fd, caps[i].cap);

		if (r == -EBADF)
			return gm_error(-EBADF, "VM fd %d is not an open fd", vm_fd);
		if (r == -ENOTTY || r == -EINVAL)
			return gm_error(-ENOTTY, "fd %d is not a KVM VM (KVM_CHECK_EXTENSION: %s)",
					vm_fd, strerror((int)-r));
		if (r < 0)
			return gm_error((int)r, "KVM_CHECK_EXTENSION(%lu) on VM fd %d failed: %s",
					caps[i].cap, vm_fd, strerror((int)-r));
		*(uint64_t *)((char *)c + caps[i].off) = (uint64_t)r;
	}
	return 0;
}

int guestmem_kvm_probe(int vm_fd, struct guestmem_kvm_caps *caps, size_t size)
{
	struct guestmem_kvm_caps full;
	struct gm_kvm_raw_caps c;
	int err;

	gm_clear_error();
	if (!caps)
		return gm_error(-EINVAL, "NULL argument");
	if (size < GUESTMEM_KVM_CAPS_SIZE_VER0)
		return gm_error(-EINVAL, "caps size %zu is below the first version's %d",
				size, GUESTMEM_KVM_CAPS_SIZE_VER0);
	err = read_caps(atomic_load(&ops_now), vm_fd, &c);
	if (err)
		return err;
	memset(&full, 0, sizeof(full));
	full.offered = gm_kvm_offered(&c);
	full.best = gm_kvm_best(&c);
	full.attributes = c.attributes;
	full.guest_memfd = c.guest_memfd;
	full.guest_memfd_flags = c.guest_memfd_flags;
	full.guest_memfd_attributes = c.guest_memfd_attributes;
	full.user_memory2 = c.user_memory2;
	gm_copy_out(caps, size, &full, sizeof(full));
	return 0;
}

/* ------------------------------------------------------------- creation */

static void kvm_free(struct gm_kvm *k)
{
	if (k->gmem_fd >= 0)
		close(k->gmem_fd);
	gm_inplace_unlend(k);	/* the guest_memfd let its pages go */
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	pthread_mutex_destroy(&k->lock);
	free(k->returned);
	free(k->private);
	free(k->unreserved);
	free(k);
}

static int kvm_file_create(struct guestmem_pool *pool, int vm_fd, u64 size, u64 flags,
			   unsigned int mode, unsigned int *modep,
			   struct guestmem_file **filep)
{
	const struct gm_kvm_ops *ops = atomic_load(&ops_now);
	struct gm_kvm_create_guest_memfd gm = { .size = size };
	u64 huge = huge_page_size(pool->h);
	struct gm_kvm_raw_caps c;
	struct gm_kvm *k;
	const char *why;
	bool auto_mode;
	int err;

	err = read_caps(ops, vm_fd, &c);
	if (err)
		return err;
	auto_mode = mode == GUESTMEM_KVM_AUTO;
	err = gm_kvm_choose(&c, mode, &mode, &why);
	if (err)
		return gm_error(err, "KVM mode %s: %s", gm_kvm_mode_name(mode), why);
	/* Before anything is made (an in-place file borrows the pool's pages). */
	err = gm_file_check_args(pool, size, flags);
	if (err)
		return err;

	k = calloc(1, sizeof(*k));
	if (!k)
		return gm_error(-ENOMEM, "out of memory");
	k->mode = mode;
	k->ops = ops;
	k->gmem_fd = -1;
	pthread_mutex_init(&k->lock, NULL);
	k->vm_fd = fcntl(vm_fd, F_DUPFD_CLOEXEC, 3);
	if (k->vm_fd < 0) {
		err = gm_error(-errno, "cannot duplicate VM fd %d", vm_fd);
		goto fail;
	}
	if (mode == GUESTMEM_KVM_INPLACE) {
		err = gm_inplace_create(k, pool, size, &flags);
		/*
		 * GUESTMEM_KVM_AUTO: the kernel's pool is short, but a split
		 * file takes its shared memory from the library's pool.
		 */
		if (err == -ENOMEM && auto_mode &&
		    (gm_kvm_offered(&c) & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_SPLIT))) {
			free(k->private);
			k->private = NULL;
			k->mode = mode = GUESTMEM_KVM_SPLIT;
			err = 0;
		}
		if (err)
			goto fail;
	}
	if (mode == GUESTMEM_KVM_SPLIT) {
		k->returned = calloc((size / huge + GM_LONG_BITS - 1) / GM_LONG_BITS, sizeof(long));
		k->unreserved = calloc((size / huge + GM_LONG_BITS - 1) / GM_LONG_BITS,
				       sizeof(long));
		if (!k->returned || !k->unreserved) {
			err = gm_error(-ENOMEM, "out of memory");
			goto fail;
		}
		k->gmem_fd = ops->create_guest_memfd(k->vm_fd, &gm);
		if (k->gmem_fd < 0) {
			err = gm_error(k->gmem_fd, "KVM_CREATE_GUEST_MEMFD of %#llx bytes failed: %s",
				       (unsigned long long)size, strerror(-k->gmem_fd));
			k->gmem_fd = -1;
			goto fail;
		}
		/*
		 * Contents do not survive a conversion; they read as zero.  Not
		 * the library's ZERO_ON_CONVERT, which zeroes in step 2 of a
		 * conversion, before KVM can still fail it: split_convert()
		 * zeroes in its last step, which cannot fail.
		 */
		flags &= ~GUESTMEM_FILE_ZERO_ON_CONVERT;
	}
	err = gm_file_create(pool, size, flags, k, filep);
	if (err)
		goto fail;
	if (modep)
		*modep = mode;
	return 0;
fail:
	kvm_free(k);
	return err;
}

int guestmem_kvm_file_create(struct guestmem_pool *pool, int vm_fd, u64 size, u64 flags,
			     unsigned int mode, unsigned int *modep,
			     struct guestmem_file **filep)
{
	int err;

	gm_clear_error();
	if (!pool || !filep)
		return gm_error(-EINVAL, "NULL argument");
	err = gm_pool_enter(pool);	/* as guestmem_file_create() */
	if (err)
		return err;
	err = kvm_file_create(pool, vm_fd, size, flags, mode, modep, filep);
	gm_pool_leave(pool);
	return err;
}

/* guestmem_file_destroy() succeeded: nothing uses @file's KVM side any more. */
void gm_kvm_release(struct guestmem_file *file)
{
	if (file->kvm)
		kvm_free(file->kvm);
	file->kvm = NULL;
}

/* ------------------------------------------------------------ the state */

static int state_of(void *ctx, u64 off, unsigned int *state, u64 *run)
{
	struct guestmem_file *file = ctx;
	enum hgmem_state s;
	int err = hgmem_get_state(file->gf, off, &s, run);

	if (!err)
		*state = s;
	return err;
}

/* A run of pages in one state, within the range a call works on. */
struct run {
	u64 off, len;
	unsigned int state;
};

/* The runs of [off, off + len), valid, into a new array (free() it). */
static int read_runs(struct guestmem_file *file, u64 off, u64 len, struct run **runsp,
		     size_t *nrp)
{
	struct run *runs = NULL, *r;
	size_t n = 0, cap = 0;
	u64 pos, end = off + len;

	for (pos = off; pos < end; pos += r->len) {
		unsigned int st;
		u64 run;
		int err = state_of(file, pos, &st, &run);

		if (err) {
			free(runs);
			return gm_error(err, "cannot read the state at %#llx",
					(unsigned long long)pos);
		}
		if (n == cap) {
			struct run *more = reallocarray(runs, cap ? 2 * cap : 8, sizeof(*runs));

			if (!more) {
				free(runs);
				return gm_error(-ENOMEM, "out of memory");
			}
			runs = more;
			cap = cap ? 2 * cap : 8;
		}
		r = &runs[n++];
		r->off = pos;
		r->len = min(run, end - pos);
		r->state = st;
	}
	*runsp = runs;
	*nrp = n;
	return 0;
}

static u64 attrs_of(unsigned int state)
{
	return state == GUESTMEM_PRIVATE ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
}

/*
 * Set the VM's attributes of the bound part of [@off, @off + @len) to
 * those of the runs @runs, or to @to's when @runs is NULL.  On failure the
 * ranges already done are left done: 0, or -errno and *@done the number
 * of guest physical ranges set.
 */
static int set_vm_attributes(struct guestmem_file *file, u64 off, u64 len,
			     const struct run *runs, size_t nr, unsigned int to,
			     size_t *done)
{
	struct gm_kvm *k = file->kvm;
	struct gm_kvm_gpa_range g[GM_KVM_MAX_BINDINGS];
	size_t n = gm_kvm_gpa_ranges(k->bindings, k->nr_bindings, off, len, g), i, j;
	int err;

	*done = 0;
	for (i = 0; i < n; i++) {
		if (!runs) {
			err = k->ops->set_attributes(k->vm_fd, g[i].gpa, g[i].len, attrs_of(to));
			if (err)
				return err;
			(*done)++;
			continue;
		}
		/* Each run's part of this guest range. */
		for (j = 0; j < nr; j++) {
			u64 s = max(runs[j].off, g[i].offset);
			u64 e = min(runs[j].off + runs[j].len, g[i].offset + g[i].len);

			if (s >= e)
				continue;
			err = k->ops->set_attributes(k->vm_fd, g[i].gpa + (s - g[i].offset), e - s,
						     attrs_of(runs[j].state));
			if (err)
				return err;
		}
		(*done)++;
	}
	return 0;
}

static bool huge_mapped(struct guestmem_file *file, u64 h)
{
	bool mapped;

	pthread_mutex_lock(&file->lock);
	mapped = file->mapped[h] != 0;
	pthread_mutex_unlock(&file->lock);
	return mapped;
}

int gm_kvm_check_range(struct guestmem_file *file, u64 off, u64 len)
{
	if (!len || off % PAGE_SIZE || len % PAGE_SIZE)
		return gm_error(-EINVAL, "offset %#llx length %#llx: not 4K aligned or empty",
				(unsigned long long)off, (unsigned long long)len);
	if (off + len < off || off + len > file->size)
		return gm_error(-ERANGE, "offset %#llx length %#llx: past the end of the file",
				(unsigned long long)off, (unsigned long long)len);
	return 0;
}

/* --------------------------------------------------------- conversions */

/*
 * Split mode: undo what a conversion of [@off, @off + @len) did before it
 * failed: the VM's attributes of its first @vm_done guest ranges, the
 * library's state (when @state_done), the huge pages it allocated
 * (@realloc, @nr_realloc) and those it reserved again (@resv, @nr_resv).
 * Returns @err, or -EIO if the undo failed.
 */
static int convert_undo(struct guestmem_file *file, u64 off, u64 len,
			const struct run *runs, size_t nr, size_t vm_done, bool state_done,
			const u64 *realloc, size_t nr_realloc, const u64 *resv, size_t nr_resv,
			int err)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h);
	struct gm_kvm_gpa_range g[GM_KVM_MAX_BINDINGS];
	int undo_err = 0, e;
	size_t i, done;
	char msg[512];

	/* The calls below clear the thread's error: keep the failure's. */
	snprintf(msg, sizeof(msg), "%s", guestmem_last_error());
	if (vm_done) {
		gm_kvm_gpa_ranges(k->bindings, k->nr_bindings, off, len, g);
		for (i = 0; i < vm_done; i++) {
			e = set_vm_attributes(file, g[i].offset, g[i].len, runs, nr, 0, &done);
			undo_err = undo_err ? undo_err : e;
		}
	}
	for (i = 0; state_done && i < nr; i++) {
		e = gm_file_convert(file, runs[i].off, runs[i].len, runs[i].state, NULL);
		undo_err = undo_err ? undo_err : e;
	}
	for (i = 0; i < nr_realloc; i++)
		gm_file_punch_hole(file, realloc[i] * huge, huge);
	/* Out of the reservation again (given back to the kernel if it was). */
	for (i = 0; i < nr_resv; i++)
		unreserve(file, resv[i]);
	if (!undo_err)
		return gm_error(err, "%s", msg);
	return gm_error(-EIO, "conversion of %#llx+%#llx failed (%s) and undoing it failed (%s): guestmem_state() tells the file's state, which the VM's attributes may not match",
			(unsigned long long)off, (unsigned long long)len, strerror(-err),
			strerror(-undo_err));
}

/*
 * Zero the pages of @runs that changed state (are not @to any more), where
 * their huge page is mapped.  The caller holds k->lock, so the mappings
 * stay as they are.
 */
static void zero_changed(struct guestmem_file *file, const struct run *runs, size_t nr,
			 unsigned int to, u64 huge)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		u64 pos = runs[i].off, end = runs[i].off + runs[i].len;

		if (runs[i].state == to)
			continue;
		while (pos < end) {
			u64 next = min(end, (pos / huge + 1) * huge);

			if (huge_mapped(file, pos / huge))
				memset(file->hva + pos, 0, next - pos);
			pos = next;
		}
	}
}

static int split_convert(struct guestmem_file *file, u64 off, u64 len, unsigned int to,
			 u64 *error_offset)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h);
	u64 first, end, h, *realloc = NULL, *resv = NULL;
	size_t nr = 0, nr_realloc = 0, nr_resv = 0, vm_done, i;
	struct run *runs = NULL;
	bool change = false;
	int err;

	if (to != GUESTMEM_SHARED && to != GUESTMEM_PRIVATE)
		return gm_error(-EINVAL, "unknown state %u", to);
	err = gm_kvm_check_range(file, off, len);
	if (!err)
		err = read_runs(file, off, len, &runs, &nr);
	if (err)
		return err;
	for (i = 0; i < nr; i++)
		change |= runs[i].state != to;
	if (!change)
		goto out;
	huge_span_touched(off, len, huge, &first, &end);

	/*
	 * 1. Huge pages that get a shared page: those out of the reservation
	 * are reserved again, and returned ones are allocated again.
	 */
	if (to == GUESTMEM_SHARED) {
		realloc = calloc(2 * (end - first), sizeof(*realloc));
		if (!realloc) {
			err = gm_error(-ENOMEM, "out of memory");
			goto out;
		}
		resv = realloc + (end - first);
		for (h = first; h < end; h++) {
			if (unreserved(k, h)) {
				err = rereserve(file, h);
				if (err) {
					err = convert_undo(file, off, len, runs, nr, 0, false,
							   realloc, nr_realloc, resv, nr_resv, err);
					goto out;
				}
				resv[nr_resv++] = h;
			}
			if (!returned(k, h))
				continue;
			err = gm_file_allocate(file, h * huge, huge);
			if (err) {
				err = convert_undo(file, off, len, runs, nr, 0, false,
						   realloc, nr_realloc, resv, nr_resv, err);
				goto out;
			}
			realloc[nr_realloc++] = h;
		}
	}
	/* 2. The library's state (pins give -EAGAIN and the offset here). */
	err = gm_file_convert(file, off, len, to, error_offset);
	if (err) {
		err = convert_undo(file, off, len, runs, nr, 0, false, realloc, nr_realloc,
				   resv, nr_resv, err);
		goto out;
	}
	/* 3. The VM's attributes. */
	err = set_vm_attributes(file, off, len, NULL, 0, to, &vm_done);
	if (err) {
		int e = gm_error(err, "KVM_SET_MEMORY_ATTRIBUTES for %#llx+%#llx failed: %s",
				 (unsigned long long)off, (unsigned long long)len,
				 strerror(-err));

		err = convert_undo(file, off, len, runs, nr, vm_done, true, realloc,
				   nr_realloc, resv, nr_resv, e);
		goto out;
	}
	/* 4. Memory moves out; nothing fails from here on. */
	zero_changed(file, runs, nr, to, huge);
	if (to == GUESTMEM_SHARED) {
		for (i = 0; i < nr_realloc; i++)
			set_returned(k, realloc[i], false);
		/* Only an invalid range fails, and this one is valid. */
		k->ops->punch(k->gmem_fd, off, len);
	} else {
		for (h = first; h < end; h++) {
			if (!huge_mapped(file, h) ||
			    gm_kvm_huge_all_private(state_of, file, h, huge) != 1)
				continue;
			gm_file_punch_hole(file, h * huge, huge);
			set_returned(k, h, true);
			unreserve(file, h);
		}
	}
out:
	free(runs);
	free(realloc);
	return err;
}

int gm_kvm_convert(struct guestmem_file *file, u64 off, u64 len, unsigned int to,
		   u64 *error_offset)
{
	struct gm_kvm *k = file->kvm;
	int err;

	if (k->mode == GUESTMEM_KVM_NONE)
		return gm_file_convert(file, off, len, to, error_offset);
	pthread_mutex_lock(&k->lock);
	err = k->mode == GUESTMEM_KVM_SPLIT ? split_convert(file, off, len, to, error_offset) :
	      gm_inplace_convert(file, off, len, to, error_offset);
	pthread_mutex_unlock(&k->lock);
	return err;
}

/* ------------------------------------------------- allocate, punch, pin */

/*
 * Split mode: allocate the huge pages of [off, off + len) that hold a
 * shared page; those wholly private count as allocated (returned: their
 * memory is the guest_memfd's, and they come back when a page turns
 * shared).  All or nothing.
 */
static int split_allocate(struct guestmem_file *file, u64 off, u64 len)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h);
	u64 first, end, h, run_start = 0;
	bool *was_mapped, in_run = false;
	int err, priv = 0;

	err = gm_kvm_check_range(file, off, len);
	if (err)
		return err;
	huge_span_touched(off, len, huge, &first, &end);
	was_mapped = calloc(end - first, sizeof(bool));
	if (!was_mapped) {
		err = gm_error(-ENOMEM, "out of memory");
		goto out;
	}
	for (h = first; h < end; h++)
		was_mapped[h - first] = huge_mapped(file, h);
	/* Runs of huge pages with a shared page, allocated a run at a time. */
	for (h = first; h <= end && !err; h++) {
		priv = h < end ? gm_kvm_huge_all_private(state_of, file, h, huge) : 1;
		if (priv < 0) {
			err = gm_error(priv, "cannot read the state");
			break;
		}
		if (!priv && !in_run) {
			in_run = true;
			run_start = h;
		} else if (priv && in_run) {
			u64 s = max(off, run_start * huge), e = min(off + len, h * huge);

			in_run = false;
			err = gm_file_allocate(file, s, e - s);
		}
	}
	if (err) {
		char msg[512];

		/* Give back what this call allocated; the punches clear the error. */
		snprintf(msg, sizeof(msg), "%s", guestmem_last_error());
		for (h = first; h < end; h++)
			if (!was_mapped[h - first] && huge_mapped(file, h))
				gm_file_punch_hole(file, h * huge, huge);
		err = gm_error(err, "%s", msg);
		goto out;
	}
	for (h = first; h < end; h++)
		if (!huge_mapped(file, h) &&
		    gm_kvm_huge_all_private(state_of, file, h, huge) == 1) {
			set_returned(k, h, true);
			unreserve(file, h);
		}
out:
	free(was_mapped);
	return err;
}

int gm_kvm_allocate(struct guestmem_file *file, u64 off, u64 len)
{
	struct gm_kvm *k = file->kvm;
	int err;

	if (k->mode == GUESTMEM_KVM_NONE)
		return gm_file_allocate(file, off, len);
	pthread_mutex_lock(&k->lock);
	err = k->mode == GUESTMEM_KVM_SPLIT ? split_allocate(file, off, len) :
	      gm_inplace_allocate(file, off, len);
	pthread_mutex_unlock(&k->lock);
	return err;
}

int gm_kvm_punch_hole(struct guestmem_file *file, u64 off, u64 len)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h), h, end;
	int err;

	if (k->mode == GUESTMEM_KVM_NONE)
		return gm_file_punch_hole(file, off, len);
	pthread_mutex_lock(&k->lock);
	if (k->mode == GUESTMEM_KVM_INPLACE) {
		err = gm_inplace_punch_hole(file, off, len);
		pthread_mutex_unlock(&k->lock);
		return err;
	}
	err = gm_file_punch_hole(file, off, len);
	if (!err) {
		/*
		 * Whole huge pages inside the hole are no longer allocated.  A
		 * returned one may have been unarmed by a host touch (lib/fault.c):
		 * arm it again, as unmapping does, so that it allocates on touch.
		 */
		huge_span_whole(off, len, huge, &h, &end);
		for (; h < end; h++) {
			if (returned(k, h))
				gm_file_rearm(file, h);
			set_returned(k, h, false);
		}
		/* The private memory too; only an invalid range fails. */
		k->ops->punch(k->gmem_fd, off, len);
	}
	pthread_mutex_unlock(&k->lock);
	return err;
}

int gm_kvm_pin(struct guestmem_file *file, u64 off, struct guestmem_page *page)
{
	struct gm_kvm *k = file->kvm;
	int err;

	pthread_mutex_lock(&k->lock);
	err = k->mode == GUESTMEM_KVM_INPLACE ? gm_inplace_pin(file, off, page) :
	      gm_file_pin(file, off, page);
	pthread_mutex_unlock(&k->lock);
	return err;
}

/* An in-place file: no mm/ file, the kernel's guest_memfd (kvm_inplace.c). */
bool gm_kvm_inplace(struct guestmem_file *file)
{
	return file->kvm && file->kvm->mode == GUESTMEM_KVM_INPLACE;
}

int gm_kvm_unpin(struct guestmem_file *file, struct guestmem_page *page)
{
	return gm_inplace_unpin(file, page);
}

/* ------------------------------------------------------------ bindings */

static int kvm_bind(struct guestmem_file *file, u64 off, u64 len, u64 gpa,
		    struct guestmem_kvm_slot *slot)
{
	struct gm_kvm *k = file->kvm;
	u64 huge = huge_page_size(file->pool->h);
	struct run *runs = NULL;
	size_t nr = 0, done;
	int err;

	err = gm_kvm_bind_check(k->bindings, k->nr_bindings, file->size, off, len, gpa);
	switch (err) {
	case 0:
		break;
	case -EINVAL:
		return gm_error(err, "offset %#llx length %#llx gpa %#llx: not 4K aligned or empty",
				(unsigned long long)off, (unsigned long long)len,
				(unsigned long long)gpa);
	case -ERANGE:
		return gm_error(err, "offset %#llx length %#llx gpa %#llx: past the end of the file or of the address space",
				(unsigned long long)off, (unsigned long long)len,
				(unsigned long long)gpa);
	case -EEXIST:
		return gm_error(err, "offset %#llx length %#llx overlaps a binding of the file",
				(unsigned long long)off, (unsigned long long)len);
	default:
		return gm_error(err, "the file has %d bindings already", GM_KVM_MAX_BINDINGS);
	}
	/* Else KVM maps the range 4K by 4K, silently. */
	if ((gpa - off) % huge)
		return gm_error(-EINVAL, "gpa %#llx and offset %#llx differ by %#llx, not a multiple of the huge page size %#llx: KVM could not map huge pages",
				(unsigned long long)gpa, (unsigned long long)off,
				(unsigned long long)((gpa - off) % huge),
				(unsigned long long)huge);
	if (k->mode == GUESTMEM_KVM_SPLIT) {
		err = read_runs(file, off, len, &runs, &nr);
		if (err)
			return err;
	}
	k->bindings[k->nr_bindings++] = (struct gm_kvm_binding){ off, len, gpa };
	if (k->mode == GUESTMEM_KVM_SPLIT) {
		err = set_vm_attributes(file, off, len, runs, nr, 0, &done);
		free(runs);
		if (err) {
			k->nr_bindings--;
			return gm_error(err, "KVM_SET_MEMORY_ATTRIBUTES for gpa %#llx+%#llx failed: %s",
					(unsigned long long)gpa, (unsigned long long)len,
					strerror(-err));
		}
	}
	memset(slot, 0, sizeof(*slot));
	slot->mode = k->mode;
	slot->userspace_addr = (uintptr_t)file->hva + off;
	slot->guest_memfd = -1;
	if (k->mode != GUESTMEM_KVM_NONE) {
		slot->guest_memfd = k->gmem_fd;
		slot->guest_memfd_offset = off;
		slot->flags = KVM_MEM_GUEST_MEMFD;
	}
	return 0;
}

static int kvm_unbind(struct guestmem_file *file, u64 off)
{
	struct gm_kvm *k = file->kvm;
	size_t i;

	for (i = 0; i < k->nr_bindings; i++) {
		if (k->bindings[i].offset != off)
			continue;
		k->bindings[i] = k->bindings[--k->nr_bindings];
		return 0;
	}
	return gm_error(-ENOENT, "no binding of the file starts at offset %#llx",
			(unsigned long long)off);
}

int guestmem_kvm_bind(struct guestmem_file *file, u64 off, u64 len, u64 gpa,
		      struct guestmem_kvm_slot *slot)
{
	struct gm_kvm *k;
	int err = gm_file_enter(file);

	if (err)
		return err;
	k = file->kvm;
	if (!k || !slot) {
		err = gm_error(-EINVAL, k ? "NULL argument" :
			       "not a KVM file (guestmem_kvm_file_create() makes those)");
	} else {
		pthread_mutex_lock(&k->lock);
		err = kvm_bind(file, off, len, gpa, slot);
		pthread_mutex_unlock(&k->lock);
	}
	gm_file_leave(file);
	return err;
}

int guestmem_kvm_unbind(struct guestmem_file *file, u64 off)
{
	struct gm_kvm *k;
	int err = gm_file_enter(file);

	if (err)
		return err;
	k = file->kvm;
	if (!k) {
		err = gm_error(-EINVAL, "not a KVM file (guestmem_kvm_file_create() makes those)");
	} else {
		pthread_mutex_lock(&k->lock);
		err = kvm_unbind(file, off);
		pthread_mutex_unlock(&k->lock);
	}
	gm_file_leave(file);
	return err;
}

/* --------------------------------------------------------------- state */

/*
 * guestmem_state() of a split-mode file waits for a conversion running to
 * finish, or to be undone: its steps change the state before KVM can still
 * fail them, and no other thread should see a state that is then undone.
 */
int gm_kvm_state(struct guestmem_file *file, u64 off, unsigned int *state, u64 *run)
{
	struct gm_kvm *k = file->kvm;
	int err;

	if (k->mode == GUESTMEM_KVM_NONE)
		return gm_file_state(file, off, state, run);
	pthread_mutex_lock(&k->lock);
	err = k->mode == GUESTMEM_KVM_SPLIT ? gm_file_state(file, off, state, run) :
	      gm_inplace_state(file, off, state, run);
	pthread_mutex_unlock(&k->lock);
	return err;
}

/* --------------------------------------------------------------- stats */

void gm_kvm_file_stats(struct guestmem_file *file, struct guestmem_file_stats *st)
{
	struct gm_kvm *k = file->kvm;

	st->kvm_mode = k ? k->mode : 0;
	if (k && k->mode == GUESTMEM_KVM_INPLACE) {
		pthread_mutex_lock(&k->lock);	/* the states, as conversions leave them */
		gm_inplace_stats(file, st);
		pthread_mutex_unlock(&k->lock);
	}
	st->kvm_returned = k ? atomic_load(&k->nr_returned) * huge_page_size(file->pool->h) : 0;
}

/* Caller holds pool->lock. */
void gm_kvm_pool_stats(struct guestmem_pool *pool, struct guestmem_pool_stats *st)
{
	struct guestmem_file *file;

	st->kvm_split_files = 0;
	st->kvm_split_returned_bytes = 0;
	list_for_each_entry(file, &pool->files, node) {
		if (!file->kvm || file->kvm->mode != GUESTMEM_KVM_SPLIT)
			continue;
		st->kvm_split_files++;
		st->kvm_split_returned_bytes += atomic_load(&file->kvm->nr_returned) *
						huge_page_size(pool->h);
	}
}
