/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem: hugepage guest memory for VMMs.
 *
 * A pool holds huge pages of one size (2M or 1G), taken from the kernel's
 * hugetlb pool when it is created, so a VM never hits SIGBUS later for want
 * of a huge page.  Guest memory files are carved out of a pool; each has one
 * contiguous host mapping (guestmem_file_hva(), usable as a KVM memslot's
 * userspace_addr) and tracks every 4K page as shared or private.  Converting
 * part of a huge page splits it (a 1G page into 2M pieces, and only the
 * mixed 2M pieces into 4K), converting it back merges it again, and freed
 * huge pages go back to the pool whole.
 *
 * Conventions: every function returning int returns 0 or a negative errno
 * and changes nothing when it fails; guestmem_last_error() then describes
 * the failure.  All functions are thread-safe.  The library prints nothing.
 *
 * Destroy racing other calls: a call on a pool or file that overlaps its
 * guestmem_*_destroy() either completes before the destroy takes effect,
 * or waits for it and then fails with -EBADF; a destroy that fails (-EBUSY:
 * pins or files left) changes nothing and the calls it held up go on.  A
 * pool handle used after its destroy returned is the caller's bug, as with
 * free().  A destroyed file's handle is kept until its pool is destroyed,
 * so that late calls on it fail with -EBADF; after that it is gone too.
 *
 * fork(): a child cannot use its parent's pools and files.  Every call on
 * one of them fails with -ECHILD and changes nothing, and guestmem_file_hva()
 * returns NULL; guest memory (pools, file mappings, pin addresses) is
 * MADV_DONTFORK, so the child cannot touch it.  The child may create pools
 * and files of its own.  fork() waits for the library calls running in the
 * parent to return.  Deferred reassembly runs in a library thread, or in
 * the call that needs it where no thread can be created: nothing waits for
 * a thread that does not exist.
 * Offsets and lengths are bytes and must be multiples of 4096.
 *
 * Privacy in this library is bookkeeping: it refuses host access to private
 * pages through its API (guestmem_pin()), but the memory stays mapped in
 * the process.  Hardware- or kernel-enforced privacy needs the kernel's
 * guest_memfd.
 */
#ifndef GUESTMEM_H
#define GUESTMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct guestmem_pool;
struct guestmem_file;

#define GUESTMEM_PAGE_2M	(UINT64_C(1) << 21)
#define GUESTMEM_PAGE_1G	(UINT64_C(1) << 30)

/* guestmem_pool_opts.flags */
#define GUESTMEM_POOL_PREFAULT	(UINT64_C(1) << 0)	/* fault and zero every page now */
#define GUESTMEM_POOL_FALLBACK	(UINT64_C(1) << 1)	/* ordinary memory if hugetlb is short */
#define GUESTMEM_POOL_SIMULATE	(UINT64_C(1) << 2)	/* address space only, never touched */
#define GUESTMEM_POOL_ZERO_BACKGROUND	(UINT64_C(1) << 3)	/* clear freed pages in a thread */
#define GUESTMEM_POOL_RETURN_TO_KERNEL	(UINT64_C(1) << 4)	/* give freed unreserved pages back */

/**
 * struct guestmem_pool_opts - how guestmem_pool_create() builds a pool
 * @page_size: huge page size of the pool, %GUESTMEM_PAGE_2M or
 *	%GUESTMEM_PAGE_1G; every file of the pool is a multiple of it.
 * @nr_pages: number of huge pages in the pool, at least 1 and at most
 *	2^61 bytes' worth (2^40 2M pages or 2^31 1G pages).
 * @node: NUMA node to bind the pool's memory to (mbind(2) with %MPOL_BIND),
 *	or -1 for no placement.  A hugetlb pool bound to a node takes all
 *	its pages on that node at creation, as %GUESTMEM_POOL_PREFAULT does.
 *	The simulated backend only validates it.
 * @threads: number of threads that fault the pool in when
 *	%GUESTMEM_POOL_PREFAULT is set or a hugetlb pool is bound to @node,
 *	0 for one per online CPU; never more than @nr_pages.  Ignored
 *	otherwise.
 * @flags: zero or more of %GUESTMEM_POOL_PREFAULT (fault in and zero every
 *	page now, in parallel), %GUESTMEM_POOL_FALLBACK (use ordinary
 *	memory if the kernel cannot reserve enough hugetlb pages),
 *	%GUESTMEM_POOL_SIMULATE (address space only: no memory is ever
 *	touched, for tests and sizing; takes precedence over the other
 *	flags), %GUESTMEM_POOL_ZERO_BACKGROUND (a thread of the pool
 *	clears freed huge pages, so that allocating them later need not)
 *	and %GUESTMEM_POOL_RETURN_TO_KERNEL (below).
 *
 * Allocating a huge page clears it, unless the pool knows it holds
 * zeroes: pages faulted in at creation (%GUESTMEM_POOL_PREFAULT, or a
 * hugetlb pool bound to @node) and not allocated since, and, with
 * %GUESTMEM_POOL_ZERO_BACKGROUND, freed pages once the pool's thread has
 * cleared them (&guestmem_pool_stats.zeroed counts both).  A page freed
 * and allocated again before the thread got to it is cleared by the
 * allocation, as without the flag; an allocation that finds no other
 * free page waits for the one being cleared.
 *
 * %GUESTMEM_POOL_RETURN_TO_KERNEL: whenever a file frees a huge page or
 * lets part of its reservation go (a %GUESTMEM_KVM_SPLIT file's wholly
 * private huge pages, a destroyed file), the free pages the pool then
 * holds beyond what its files reserve are given back to the kernel: their
 * range of the pool's hugetlb memfd is punched, so the kernel's
 * HugePages_Free rises (HugePages_Rsvd drops for a page never faulted
 * in), and other processes may take them.  They stay counted in
 * &guestmem_pool_stats.free (&guestmem_pool_stats.given_back_bytes says
 * how many).  A reservation or allocation that needs one takes it back
 * from the kernel first (fallocate(2): the kernel allocates and clears
 * it, so it is known zero), or fails with -ENOMEM, changing nothing, when
 * the kernel has no free huge page; never SIGBUS.  Pages are not given
 * back at creation.  Opt-in, because it gives up the pool's promise that
 * its @nr_pages are there: a file created later, or a split-mode page
 * turning shared again, can then fail for want of the kernel's pages.
 * Not with @node >= 0 (-EINVAL): the kernel would not return the page on
 * the node.  A fallback pool gives its ordinary memory back the same way
 * (its memfd is punched); a simulated one only counts the pages.
 */
struct guestmem_pool_opts {
	uint64_t page_size;	/* GUESTMEM_PAGE_2M or GUESTMEM_PAGE_1G */
	uint64_t nr_pages;	/* huge pages in the pool */
	int node;		/* NUMA node, or -1 for no placement */
	unsigned int threads;	/* prefault threads, 0 = one per CPU */
	uint64_t flags;
};

/**
 * enum guestmem_backend - where a pool's memory comes from
 * (&guestmem_pool_stats.backend)
 * @GUESTMEM_BACKEND_HUGETLB: a hugetlb memfd; every page was reserved in
 *	the kernel's hugetlb pool when the pool was created.
 * @GUESTMEM_BACKEND_FALLBACK: a shmem memfd, chosen because
 *	%GUESTMEM_POOL_FALLBACK was set and hugetlb pages were short.  The
 *	bookkeeping is the same, but the memory has no huge TLB entries and
 *	is not reserved up front.
 * @GUESTMEM_BACKEND_SIMULATED: %GUESTMEM_POOL_SIMULATE: address space
 *	that is never touched, so guest memory cannot be accessed.
 */
enum guestmem_backend {
	GUESTMEM_BACKEND_HUGETLB = 1,	/* the kernel's hugetlb pages */
	GUESTMEM_BACKEND_FALLBACK = 2,	/* ordinary memory: no huge TLB entries */
	GUESTMEM_BACKEND_SIMULATED = 3,	/* address space only */
};

/* guestmem_file_create() flags */
#define GUESTMEM_FILE_INIT_SHARED	(UINT64_C(1) << 0)	/* pages start shared */
#define GUESTMEM_FILE_ZERO_ON_CONVERT	(UINT64_C(1) << 1)	/* converted pages read as zero */
#define GUESTMEM_FILE_ALLOC_ON_FAULT	(UINT64_C(1) << 2)	/* a touch allocates (userfaultfd) */

/* Page states */
#define GUESTMEM_PRIVATE	0u
#define GUESTMEM_SHARED		1u

/* A pinned 4K page (guestmem_pin()). */
/**
 * struct guestmem_page - a 4K page pinned by guestmem_pin()
 * @addr: host address of the page until guestmem_unpin(): the page in a
 *	mapping of its huge page made for the pins of that huge page (the
 *	memory guestmem_file_hva() + @offset shows while the huge page is in
 *	the file).  It keeps addressing this page's memory even after
 *	guestmem_punch_hole() removed the huge page from the file and another
 *	was allocated at @offset.  In a simulated pool it is
 *	guestmem_file_hva() + @offset, never accessible.
 * @offset: file offset of the page.
 * @max_order: order of the folio holding the page when it was pinned, the
 *	largest order at which it may be mapped: 0 (4K), 9 (2M) or 18 (1G).
 * @state: always %GUESTMEM_SHARED; private pages cannot be pinned.
 * @_folio: library private; do not touch.
 * @_cookie: library private; do not touch.
 *
 * Filled in by guestmem_pin() and cleared by guestmem_unpin().  Pass the
 * same structure to guestmem_unpin(), not a copy: the library checks it
 * only loosely.
 */
struct guestmem_page {
	void *addr;		/* host address of the page */
	uint64_t offset;	/* file offset of the page */
	unsigned int max_order;	/* largest order it may be mapped at: 0, 9 or 18 */
	unsigned int state;	/* GUESTMEM_SHARED */
	void *_folio;		/* library private */
	uint64_t _cookie;	/* library private */
};

/*
 * Stats structures grow at their end only.  guestmem_pool_stats(),
 * guestmem_file_stats() and guestmem_hugetlb_info() take the size of the
 * caller's structure, always sizeof(*stats) in the caller's code: a binary
 * built against an older header gets the fields it knows and nothing
 * written past them, and one built against a newer header than the
 * library's gets zeroes in the fields the library does not know.  The
 * sizes of the first versions are the smallest accepted.
 */
#define GUESTMEM_POOL_STATS_SIZE_VER0	72	/* up to @node */
#define GUESTMEM_FILE_STATS_SIZE_VER0	48	/* up to @split_pages */
#define GUESTMEM_HUGETLB_INFO_SIZE_VER0	48	/* up to @available */

/**
 * struct guestmem_pool_stats - counters of a pool (guestmem_pool_stats())
 * @page_size: huge page size in bytes.
 * @total: huge pages in the pool.
 * @free: free huge pages not reserved by any file; a new file may reserve
 *	up to this many (those in @given_back_bytes if the kernel can
 *	return them).
 * @reserved: free huge pages reserved by files and not yet allocated.
 * @in_use: huge pages allocated to files, plus those removed from files
 *	but not yet back in the pool, plus those lent to the kernel for
 *	%GUESTMEM_KVM_INPLACE files (guestmem_kvm_file_create()).  @free +
 *	@reserved + @in_use == @total.
 * @pending: huge pages removed from files (hole punched, file destroyed)
 *	and not yet back in the pool: still pinned, or waiting for deferred
 *	reassembly.
 * @splits: folio splits done by the pool's files so far, including files
 *	already destroyed.
 * @merges: folio merges done by the pool's files so far, likewise.
 * @backend: the pool's &enum guestmem_backend.
 * @node: the NUMA node given at creation, or -1.
 * @zeroed: free huge pages known to hold zeroes, which an allocation takes
 *	first and need not clear (counted in @free and @reserved).  New in
 *	LIBGUESTMEM_0.2 (not in %GUESTMEM_POOL_STATS_SIZE_VER0).
 * @kvm_split_files: files of the pool in %GUESTMEM_KVM_SPLIT mode
 *	(guestmem_kvm_file_create()).  New in LIBGUESTMEM_0.3.
 * @kvm_split_returned_bytes: bytes of the huge pages of those files that
 *	are back in the pool because every page of them is private (the sum
 *	of their files' &guestmem_file_stats.kvm_returned, in bytes as that
 *	is).  Such a page leaves its file's reservation (it is counted in
 *	@free, and other files may reserve it); with
 *	%GUESTMEM_POOL_RETURN_TO_KERNEL it goes back to the kernel.  A page
 *	of it turning shared reserves and allocates a page again, which can
 *	fail with -ENOMEM.  New in LIBGUESTMEM_0.3.
 * @given_back_bytes: bytes of the pool's free huge pages given back to
 *	the kernel (%GUESTMEM_POOL_RETURN_TO_KERNEL), counted in @free (a
 *	simulated pool only counts them).  New in LIBGUESTMEM_0.3.
 *
 * New fields are added at the end only (see guestmem_pool_stats()).
 */
struct guestmem_pool_stats {
	uint64_t page_size;
	uint64_t total;		/* huge pages */
	uint64_t free;		/* free, not reserved by a file */
	uint64_t reserved;	/* reserved by files, not yet allocated */
	uint64_t in_use;	/* allocated to files or awaiting reassembly */
	uint64_t pending;	/* removed from files, not yet back in the pool */
	uint64_t splits;	/* folio splits so far */
	uint64_t merges;	/* folio merges so far */
	unsigned int backend;	/* enum guestmem_backend */
	int node;
	uint64_t zeroed;	/* free and known to hold zeroes */
	uint64_t kvm_split_files;	/* files in GUESTMEM_KVM_SPLIT mode */
	uint64_t kvm_split_returned_bytes; /* bytes of their wholly private huge pages, returned */
	uint64_t given_back_bytes;	/* free, given back to the kernel */
};

/**
 * struct guestmem_file_stats - counters of a file (guestmem_file_stats())
 * @size: file size in bytes.
 * @allocated: bytes of huge pages allocated to the file.
 * @shared_bytes: bytes of the file in the shared state, allocated or not.
 * @private_bytes: bytes in the private state; @size - @shared_bytes.
 * @huge_mappable: allocated bytes in folios of 2M or more, which may be
 *	mapped with huge TLB entries: unsplit huge pages, and the 2M pieces
 *	of split 1G pages that are still whole.
 * @split_pages: allocated huge pages currently split.
 * @kvm_mode: the &enum guestmem_kvm_mode of a file made by
 *	guestmem_kvm_file_create(), 0 for one made by guestmem_file_create().
 *	New in LIBGUESTMEM_0.3.
 * @kvm_returned: %GUESTMEM_KVM_SPLIT: bytes of the file's huge pages
 *	returned to the pool because all of their pages are private (their
 *	memory is the guest_memfd's, which KVM allocates as the guest
 *	touches it and which the kernel does not count per file); they
 *	are allocated again when a page of theirs turns shared.  Not in
 *	@allocated.  0 in other modes.  New in LIBGUESTMEM_0.3.
 *
 * A %GUESTMEM_KVM_INPLACE file's memory is the kernel's: the guest's
 * faults allocate it, and the kernel does not say which pages are, so
 * @allocated is 0 (the kernel's hugetlb counters tell, see
 * guestmem_hugetlb_info()); @huge_mappable and @split_pages count every
 * huge page of the file, allocated or not, by how the kernel splits it
 * for its states.
 *
 * New fields are added at the end only (see guestmem_file_stats()).
 */
struct guestmem_file_stats {
	uint64_t size;
	uint64_t allocated;	/* bytes of huge pages allocated */
	uint64_t shared_bytes;
	uint64_t private_bytes;
	uint64_t huge_mappable;	/* allocated bytes mappable at 2M or more */
	uint64_t split_pages;	/* allocated huge pages currently split */
	uint64_t kvm_mode;	/* enum guestmem_kvm_mode, 0 = not a KVM file */
	uint64_t kvm_returned;	/* GUESTMEM_KVM_SPLIT: bytes returned, all private */
};

/**
 * guestmem_pool_create() - create a pool of huge pages
 * @opts: page size, number of pages, NUMA node, prefault threads and flags.
 * @poolp: where to store the new pool.
 *
 * Reserves all @opts->nr_pages huge pages now.  The backend is hugetlb if
 * the kernel has that many free, unreserved huge pages of the size (and,
 * with @opts->node >= 0, that many free on the node); else
 * ordinary memory if %GUESTMEM_POOL_FALLBACK is set (also when the hugetlb
 * reservation itself fails for want of pages); else the call fails.
 * %GUESTMEM_POOL_SIMULATE takes address space only.  With @opts->node >= 0
 * the memory is bound to that node; a hugetlb pool's pages are then all
 * faulted in on it now (the kernel's hugetlb reservation is not per node,
 * so a later fault could find the node empty and raise SIGBUS).  With
 * %GUESTMEM_POOL_PREFAULT every page is faulted in by @opts->threads
 * threads.  Pages faulted in with a node given are checked to be on it.
 * %GUESTMEM_POOL_ZERO_BACKGROUND starts the pool's zeroing thread, which
 * guestmem_pool_destroy() stops.  A process can have at most 64 pools at
 * a time.
 *
 * Return: 0 and *@poolp set, or a negative errno with *@poolp unchanged:
 * -EINVAL for a NULL argument, a bad page size, zero or too many pages,
 * unknown flags, a node below -1 or that does not exist (or no NUMA
 * support), %GUESTMEM_POOL_RETURN_TO_KERNEL with a node, or when
 * prefaulting is not supported by the kernel;
 * -ENOMEM when hugetlb pages are short without %GUESTMEM_POOL_FALLBACK,
 * globally or on @opts->node (guestmem_last_error() then gives the
 * nr_hugepages setting that would do, the node's for a node-bound pool),
 * when the kernel has no huge pages of that size, for lack of memory or
 * address space, or when prefaulting failed for want of memory (or the
 * node could not supply its pages after all);
 * -ENOSPC when the process already has 64 pools; -EIO when a prefaulted
 * page is not on @opts->node; other negative errnos from memfd_create(2),
 * ftruncate(2), mmap(2), mbind(2), madvise(2) or pthread_create(3).
 */
int guestmem_pool_create(const struct guestmem_pool_opts *opts,
			 struct guestmem_pool **poolp);
/**
 * guestmem_pool_destroy() - destroy a pool and release its memory
 * @pool: the pool; every file in it must have been destroyed.
 *
 * Waits for the deferred reassembly of huge pages freed by any pool, stops
 * the pool's zeroing thread (after the page it is clearing, if any), then
 * gives the memory back to the kernel.  @pool is freed on success only,
 * with the handles of its destroyed files.  Calls on the pool racing this
 * either return first or fail with -EBADF (see the top of this file).
 *
 * Return: 0, or -EINVAL if @pool is NULL, -EBUSY if the pool still has
 * files or some of its pages are still in use, -EBADF if another destroy
 * of it succeeded first.
 */
int guestmem_pool_destroy(struct guestmem_pool *pool);
/**
 * guestmem_pool_stats() - read the counters of a pool
 * @pool: the pool.
 * @stats: filled in on success: its first @size bytes, never more.
 * @size: sizeof(*@stats) as the caller was compiled; at least
 *	%GUESTMEM_POOL_STATS_SIZE_VER0.  Fields past the library's
 *	structure are zeroed.
 *
 * Return: 0, or -EINVAL if @pool or @stats is NULL or @size is below
 * %GUESTMEM_POOL_STATS_SIZE_VER0.
 */
int guestmem_pool_stats(struct guestmem_pool *pool, struct guestmem_pool_stats *stats,
			size_t size);

/**
 * guestmem_file_create() - create a guest memory file in a pool
 * @pool: the pool to take the file's huge pages from.
 * @size: file size in bytes, a non-zero multiple of the pool's page size.
 * @flags: zero or more of %GUESTMEM_FILE_INIT_SHARED (every page starts
 *	shared instead of private), %GUESTMEM_FILE_ZERO_ON_CONVERT
 *	(guestmem_convert() zeroes the allocated pages it changes) and
 *	%GUESTMEM_FILE_ALLOC_ON_FAULT (a touch of a huge page that is not
 *	allocated allocates it, see below).
 * @filep: where to store the new file.
 *
 * Reserves @size / page size huge pages of @pool for the file, so that
 * allocating them later cannot fail for want of a huge page, and reserves
 * (without mapping) @size bytes of address space for guestmem_file_hva().
 * No huge page is allocated yet.
 *
 * With %GUESTMEM_FILE_ALLOC_ON_FAULT, every huge page of the file that is
 * not allocated (not yet, or removed by guestmem_punch_hole()) is
 * allocated, zeroed and mapped when it is first touched, by a host thread
 * or by the kernel on the process's behalf (KVM mapping guest memory, a
 * read(2) into it), as guestmem_allocate() would.  The file has a thread
 * that does this; the access waits for it.  It works through a userfaultfd
 * that handles kernel-mode faults, which needs CAP_SYS_PTRACE, access to
 * /dev/userfaultfd, or sysctl vm.unprivileged_userfaultfd=1.
 *
 * Return: 0 and *@filep set, or a negative errno with *@filep unchanged:
 * -EINVAL for a NULL argument, unknown flags, a @size that is zero or
 * not a multiple of the page size, or %GUESTMEM_FILE_ALLOC_ON_FAULT in a
 * simulated pool; -ENOMEM if the pool has fewer free unreserved pages
 * than the file needs (see &guestmem_pool_stats.free), if some of them
 * were given back to the kernel (%GUESTMEM_POOL_RETURN_TO_KERNEL) and it
 * has no free huge page to return now, or for lack of memory or address
 * space; -ERANGE if @size in 4K pages does not fit in half an unsigned
 * long (only where it has 32 bits); -EPERM if
 * %GUESTMEM_FILE_ALLOC_ON_FAULT is set and the process may not handle
 * kernel-mode faults with a userfaultfd (guestmem_last_error() says how
 * to allow it); -EOPNOTSUPP if the kernel has no userfaultfd; another
 * negative errno from userfaultfd(2), eventfd(2) or pthread_create(3).
 */
int guestmem_file_create(struct guestmem_pool *pool, uint64_t size, uint64_t flags,
			 struct guestmem_file **filep);
/**
 * guestmem_file_destroy() - destroy a file and give its pages to the pool
 * @file: the file; none of its pages may be pinned.
 *
 * Frees every huge page of the file back to the pool (a split page is
 * first reassembled), drops the file's reservation and unmaps the host
 * mapping returned by guestmem_file_hva().  On success every call on @file
 * (racing this one or later, until the pool is destroyed) fails with
 * -EBADF; calls already running when it started return first.
 *
 * Return: 0, or -EINVAL if @file is NULL, -EBUSY if pages are still pinned
 * when the destroy would take effect (nothing changes), -EBADF if @file was
 * destroyed already.
 */
int guestmem_file_destroy(struct guestmem_file *file);
/**
 * guestmem_file_hva() - host address of a file's memory
 * @file: the file.
 *
 * The file's memory is mapped at one contiguous range [hva, hva + size),
 * aligned to the pool's page size, fit for a KVM memslot's userspace_addr.
 * A huge page is mapped there once guestmem_allocate() or guestmem_pin()
 * has allocated it, and unmapped when guestmem_punch_hole() removes it.
 * Touching a huge page that is not allocated raises SIGSEGV, and a guest
 * touching it through a KVM memslot makes KVM_RUN fail with EFAULT,
 * unless the file was created with %GUESTMEM_FILE_ALLOC_ON_FAULT: then
 * the touch allocates it.  Private pages stay mapped.  Files from
 * guestmem_kvm_file_create() differ: see &enum guestmem_kvm_mode (split
 * mode keeps private memory in its guest_memfd; in-place mode maps the
 * guest_memfd here, which the kernel fills on any touch and where private
 * pages raise SIGBUS).
 * In a simulated pool nothing is ever mapped.  The address is valid until
 * guestmem_file_destroy().  Does not change guestmem_last_error().
 *
 * Return: the address, or NULL if @file is NULL, was destroyed, or
 * belongs to the parent of this fork() child.
 */
void *guestmem_file_hva(struct guestmem_file *file);
/**
 * guestmem_file_stats() - read the counters of a file
 * @file: the file.
 * @stats: filled in on success: its first @size bytes, never more.
 * @size: sizeof(*@stats) as the caller was compiled; at least
 *	%GUESTMEM_FILE_STATS_SIZE_VER0.  Fields past the library's
 *	structure are zeroed.
 *
 * Return: 0, or -EINVAL if @file or @stats is NULL or @size is below
 * %GUESTMEM_FILE_STATS_SIZE_VER0.
 */
int guestmem_file_stats(struct guestmem_file *file, struct guestmem_file_stats *stats,
			size_t size);

/**
 * guestmem_allocate() - allocate the huge pages holding a range
 * @file: the file.
 * @offset: start of the range, 4K aligned.
 * @len: length of the range, non-zero and 4K aligned.
 *
 * Allocates and zeroes every huge page that holds part of the range and
 * is not allocated yet, splits each as the state of its pages requires,
 * and maps them all at guestmem_file_hva().  All or nothing: on failure the
 * pages this call allocated are freed again.
 *
 * Return: 0, or -EINVAL if @file is NULL or the range is misaligned or
 * empty, -ERANGE if it extends past the end of the file (or @offset +
 * @len overflows), -ENOMEM for lack of metadata memory or, if pages
 * removed from the file are still pinned, of a huge page; a negative
 * errno from mmap(2) if mapping a page at the host address failed.
 */
int guestmem_allocate(struct guestmem_file *file, uint64_t offset, uint64_t len);
/**
 * guestmem_punch_hole() - free the huge pages inside a range
 * @file: the file.
 * @offset: start of the range, 4K aligned.
 * @len: length of the range, non-zero and 4K aligned.
 *
 * Huge pages entirely inside the range leave the file and are unmapped
 * from guestmem_file_hva(); they go back to the pool (and to the file's
 * reservation) once nothing holds them.  The part of the range in
 * allocated huge pages that are only partly covered is zeroed instead.
 * Unallocated pages are skipped, and the shared/private state of the
 * range does not change.  In a %GUESTMEM_KVM_INPLACE file the punch is the
 * kernel's: huge pages wholly inside go back to the kernel (the pool's loan
 * stands until the file goes), partly covered ones are zeroed, and a page
 * the library has pinned is zeroed in place instead of freed.
 *
 * A removed huge page is not accessible until it is allocated again.  In
 * a file created with %GUESTMEM_FILE_ALLOC_ON_FAULT the next touch does
 * that (the page reads as zero).  Otherwise the caller must call
 * guestmem_allocate() on the range before the host or the guest touches
 * it: a host touch raises SIGSEGV, and KVM_RUN fails with EFAULT without
 * saying which guest address faulted (x86 KVM fills
 * KVM_EXIT_MEMORY_FAULT only for private accesses; memory it takes from
 * the slot's host address gets a bare EFAULT).
 *
 * Return: 0, or -EINVAL if @file is NULL or the range is misaligned or
 * empty, -ERANGE if it extends past the end of the file (or @offset +
 * @len overflows).
 */
int guestmem_punch_hole(struct guestmem_file *file, uint64_t offset, uint64_t len);
/**
 * guestmem_convert() - make a range shared or private
 * @file: the file.
 * @offset: start of the range, 4K aligned.
 * @len: length of the range, non-zero and 4K aligned.
 * @to: %GUESTMEM_SHARED or %GUESTMEM_PRIVATE.
 * @error_offset: if not NULL, receives the offset of the first page found
 *	in use when the call fails with -EAGAIN; untouched otherwise.
 *
 * Sets the state of every 4K page in the range, allocated or not.  Huge
 * pages left with mixed state are split (1G into 2M, and only the mixed 2M
 * pieces into 4K); huge pages of the range that become uniform are merged
 * back where no piece is pinned.  Data stays in place unless the file was
 * created with %GUESTMEM_FILE_ZERO_ON_CONVERT, which zeroes the allocated
 * pages whose state changes.  A range already wholly in state @to is a
 * successful no-op.
 *
 * In a file from guestmem_kvm_file_create() in %GUESTMEM_KVM_SPLIT mode the
 * call also sets the VM's memory attributes of the bound parts of the
 * range (guestmem_kvm_bind()), returns huge pages made wholly private to
 * the pool and allocates them again when a page of theirs turns shared,
 * and punches pages made shared out of the guest_memfd; on failure none of
 * it happened.  In %GUESTMEM_KVM_INPLACE mode the kernel converts the
 * guest_memfd (KVM_SET_MEMORY_ATTRIBUTES2): contents stay, huge pages are
 * split and merged by the kernel, and its -EAGAIN (a page referenced in
 * the kernel, e.g. by a vCPU faulting it in) is retried as above and then
 * returned with the kernel's error_offset.  With
 * %GUESTMEM_FILE_ZERO_ON_CONVERT the changed pages are zeroed (punched)
 * while the host cannot reach them: before a conversion to shared, which
 * leaves them zeroed if it then fails, and after one to private.
 *
 * Return: 0, or -EINVAL if @file is NULL, @to is unknown or the range is
 * misaligned or empty; -ERANGE if it extends past the end of the file
 * (or @offset + @len overflows); -ENOMEM for lack of metadata memory;
 * -EAGAIN if @to is %GUESTMEM_PRIVATE and a shared page of the range is in
 * a folio that is pinned (the whole folio counts, not just the pinned
 * 4K page): *@error_offset is then the first page of that folio inside
 * the range; it is returned at once, without waiting for the unpin.  A
 * folio to be split (in either direction), or a shared page to be made
 * private, may also be referenced for a moment by another thread's call
 * on the same file (an allocation or a pin looking the page up): the call
 * then retries by itself, yielding and then sleeping up to about 7 ms in
 * all, and fails with -EAGAIN only if such a reference is still there
 * after that (a thread allocating or pinning on that page without pause);
 * retrying later is then fine.  KVM files in %GUESTMEM_KVM_SPLIT mode
 * also: a negative errno of KVM_SET_MEMORY_ATTRIBUTES (nothing changed),
 * -ENOMEM if a returned huge page could not be reserved and allocated
 * again (another file reserved it, or the pool gave it back to a kernel
 * that has no free huge page now), and -EIO if a failure could not be
 * undone (memory ran out twice): the file's state is then what
 * guestmem_state() says, and the VM's attributes may not match it.
 */
int guestmem_convert(struct guestmem_file *file, uint64_t offset, uint64_t len,
		     unsigned int to, uint64_t *error_offset);
/**
 * guestmem_state() - read the state of a page and the length of its run
 * @file: the file.
 * @offset: offset of the page, 4K aligned.
 * @state: receives %GUESTMEM_SHARED or %GUESTMEM_PRIVATE.
 * @run_len: if not NULL, receives the number of bytes from @offset to
 *	the end of the run of pages in the same state (at least 4096).
 *
 * Return: 0, or -EINVAL if @file or @state is NULL or @offset is not 4K
 * aligned, -ERANGE if @offset is at or past the end of the file.
 */
int guestmem_state(struct guestmem_file *file, uint64_t offset, unsigned int *state,
		   uint64_t *run_len);

/**
 * guestmem_pin() - take a reference on a shared page for host access
 * @file: the file.
 * @offset: offset of the page, 4K aligned.
 * @page: filled in on success: address, offset, mapping order, state.
 *
 * Allocates the huge page holding @offset if needed (as a fault would),
 * maps it at guestmem_file_hva() and takes a reference on the folio that
 * holds the page, as the kernel's GUP would.  While the pin is held, no
 * page of that folio can be made private (guestmem_convert() fails with
 * -EAGAIN), the folio is neither split nor merged, and the file cannot be
 * destroyed.  @page->addr addresses the page's memory until the unpin,
 * wherever the huge page goes.  Release the pin with guestmem_unpin().
 *
 * In a %GUESTMEM_KVM_INPLACE file the kernel's mapping cannot be pinned,
 * so the pin is the library's: the same rules hold for calls through this
 * library (the folio is the huge page while it is all shared or all
 * private, else its uniform 2M piece, else the 4K page), and
 * guestmem_punch_hole() zeroes a pinned page in place instead of freeing
 * it; @page->addr is guestmem_file_hva() + @offset.
 *
 * Return: 0, or -EINVAL if @file or @page is NULL or @offset is not 4K
 * aligned; -ERANGE if @offset is at or past the end of the file; -EPERM
 * if the page is private; -ENOMEM if allocating the huge page failed;
 * a negative errno from mmap(2) if mapping it at the host address failed.
 */
int guestmem_pin(struct guestmem_file *file, uint64_t offset, struct guestmem_page *page);
/**
 * guestmem_unpin() - release a pin taken by guestmem_pin()
 * @file: the file the page was pinned from.
 * @page: the structure guestmem_pin() filled in; cleared on success.
 *
 * Return: 0, or -EINVAL if @file or @page is NULL or @page does not hold
 * a pin (never pinned, or already unpinned).
 */
int guestmem_unpin(struct guestmem_file *file, struct guestmem_page *page);

/**
 * struct guestmem_hugetlb_info - the kernel's hugetlb pages of one size
 * (guestmem_hugetlb_info())
 * @total: huge pages in the kernel's pool (nr_hugepages), surplus pages
 *	included; of the node when one was asked for.
 * @free: huge pages not allocated (free_hugepages), reserved ones
 *	included; of the node when one was asked for.
 * @reserved: free huge pages promised to existing mappings
 *	(resv_hugepages).  Always the whole system's: the kernel keeps no
 *	reservation count per node.
 * @surplus: huge pages allocated beyond nr_hugepages through overcommit
 *	(surplus_hugepages); of the node when one was asked for.
 * @overcommit: how many surplus pages the kernel may allocate
 *	(nr_overcommit_hugepages).  Always the whole system's.
 * @available: huge pages a new hugetlb mapping can reserve and then get:
 *	@free - @reserved for the whole system; for a node, the smaller of
 *	the node's @free and the whole system's @free - @reserved.  A pool
 *	of n pages (bound to the node) gets hugetlb pages when n is at most
 *	this (guestmem_pool_create()).
 *
 * Counts are in huge pages, read from
 * /sys/kernel/mm/hugepages/hugepages-<kB>kB/ and
 * /sys/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/.
 *
 * New fields are added at the end only (see guestmem_hugetlb_info()).
 */
struct guestmem_hugetlb_info {
	uint64_t total;		/* nr_hugepages */
	uint64_t free;		/* free_hugepages */
	uint64_t reserved;	/* resv_hugepages (whole system) */
	uint64_t surplus;	/* surplus_hugepages */
	uint64_t overcommit;	/* nr_overcommit_hugepages (whole system) */
	uint64_t available;	/* what a new mapping can reserve */
};

/**
 * guestmem_hugetlb_info() - read the kernel's hugetlb pool of one page size
 * @page_size: huge page size in bytes: %GUESTMEM_PAGE_2M,
 *	%GUESTMEM_PAGE_1G or any other size the kernel offers.
 * @node: NUMA node to read, or -1 for the whole system.
 * @info: filled in on success: its first @size bytes, never more.
 * @size: sizeof(*@info) as the caller was compiled; at least
 *	%GUESTMEM_HUGETLB_INFO_SIZE_VER0.  Fields past the library's
 *	structure are zeroed.
 *
 * Reads the kernel's counters, which any process may change at any time:
 * they are a snapshot, not a promise (a pool's reservation is what makes
 * pages its own, see guestmem_pool_create()).  Changes nothing, needs no
 * privilege and no pool.
 *
 * Return: 0, or -EINVAL if @info is NULL, @size is below
 * %GUESTMEM_HUGETLB_INFO_SIZE_VER0, @page_size is not a power of two
 * larger than 4096 or @node is below -1; -ENOENT if the kernel has
 * no huge pages of @page_size (the size is not supported, or hugetlb is
 * not built in) or @node does not exist; -EIO if a counter could not be
 * parsed; another negative errno from open(2) or read(2).
 */
int guestmem_hugetlb_info(uint64_t page_size, int node, struct guestmem_hugetlb_info *info,
			  size_t size);

/*
 * Guest memory for a KVM VM (LIBGUESTMEM_0.3).
 *
 * guestmem_kvm_file_create() makes a file for the VM whose fd it is given,
 * in the best mode the running kernel offers that VM, and
 * guestmem_kvm_bind() hands out what to pass to KVM_SET_USER_MEMORY_REGION2
 * for a range of it.  guestmem_convert(), guestmem_state(), guestmem_pin(),
 * guestmem_allocate() and guestmem_punch_hole() keep their contract in
 * every mode; guestmem_convert() also tells KVM.
 */

/**
 * enum guestmem_kvm_mode - how a KVM file keeps private memory
 * (guestmem_kvm_file_create(), &guestmem_file_stats.kvm_mode)
 * @GUESTMEM_KVM_AUTO: request only: the best mode the kernel offers the
 *	VM that this library implements (see guestmem_kvm_probe()).
 * @GUESTMEM_KVM_NONE: no private memory: the library's hugetlb file, as
 *	guestmem_file_create() makes; the memory slot has no guest_memfd.
 *	What ordinary VMs (without KVM_MEMORY_ATTRIBUTE_PRIVATE) get.  It
 *	never tells KVM about private memory: %GUESTMEM_KVM_AUTO does not fall
 *	back to it for a VM with KVM_MEMORY_ATTRIBUTE_PRIVATE (-EOPNOTSUPP
 *	then); ask for it by name there.
 * @GUESTMEM_KVM_SPLIT: stock kernels with guest_memfd (Linux 6.8 and
 *	later with KVM_CAP_GUEST_MEMFD, e.g. 6.18, plain 7.2): private memory
 *	in a 4K guest_memfd, shared memory on the library's hugetlb file, the
 *	VM's KVM_SET_MEMORY_ATTRIBUTES saying which is which.  A huge page
 *	whose pages are all private goes back to the pool and leaves the
 *	file's reservation (other files may reserve it; with
 *	%GUESTMEM_POOL_RETURN_TO_KERNEL the kernel gets it back, so its
 *	HugePages_Free rises); when a page of it turns shared it is reserved
 *	and allocated again (-ENOMEM, the conversion changing nothing, if
 *	neither the pool nor the kernel has one); pages made shared
 *	are punched out of the guest_memfd.  Contents are not kept across a
 *	conversion: a converted page reads as zero on its new side (the file
 *	behaves as with %GUESTMEM_FILE_ZERO_ON_CONVERT).  Privacy is the
 *	kernel's: private memory is not mapped in the process.  The host
 *	must not touch private memory (guestmem_state() tells which pages
 *	are): a touch of a huge page whose pages are all private fails
 *	(SIGSEGV, EFAULT for a kernel access), with
 *	%GUESTMEM_FILE_ALLOC_ON_FAULT too.  KVM's instruction emulator
 *	reaches guest memory through the slot's host address, private memory
 *	too: there it finds the shared side (zeroes, or a fault where the
 *	huge page was returned), so code and data KVM may have to emulate
 *	(MMIO accesses, its rewrite of a hypercall instruction) belong in
 *	shared memory.
 * @GUESTMEM_KVM_INPLACE: guestmem's kernel series (GUEST_MEMFD_FLAG_HUGETLB
 *	and KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd): one hugetlb
 *	guest_memfd converted in place (KVM_X86_SW_PROTECTED_VM).  The VM
 *	holds one copy of its memory, all of it on huge pages that are
 *	split only where shared and private meet.  The memory is the
 *	kernel's guest_memfd's, reserved whole when the file is made, out
 *	of the pool's budget: a hugetlb pool lends the kernel that many of
 *	its free pages for it (see guestmem_kvm_file_create()), and punched
 *	huge pages go back to the kernel.  Contents are kept across
 *	conversions (unless %GUESTMEM_FILE_ZERO_ON_CONVERT), privacy is the
 *	kernel's: host access to private memory raises SIGBUS.  The kernel
 *	allocates on every fault, as %GUESTMEM_FILE_ALLOC_ON_FAULT does.
 *	The kernel's mapping cannot be pinned by the kernel (get_user_pages,
 *	O_DIRECT, vhost fail on it); guestmem_pin() is the library's promise
 *	(see there).
 */
enum guestmem_kvm_mode {
	GUESTMEM_KVM_AUTO = 0,
	GUESTMEM_KVM_NONE = 1,
	GUESTMEM_KVM_SPLIT = 2,
	GUESTMEM_KVM_INPLACE = 3,
};

/* A mode in &guestmem_kvm_caps.offered */
#define GUESTMEM_KVM_MODE_BIT(mode)	(UINT64_C(1) << (mode))

#define GUESTMEM_KVM_CAPS_SIZE_VER0	56	/* up to @user_memory2 */

/**
 * struct guestmem_kvm_caps - what KVM offers a VM (guestmem_kvm_probe())
 * @offered: %GUESTMEM_KVM_MODE_BIT() of every mode the kernel offers this
 *	VM, whether or not this library implements it.
 * @best: the mode %GUESTMEM_KVM_AUTO picks for this VM:
 *	%GUESTMEM_KVM_INPLACE where offered, else %GUESTMEM_KVM_SPLIT for a
 *	VM with private memory where guest_memfd exists, else
 *	%GUESTMEM_KVM_NONE.
 * @attributes: KVM_CAP_MEMORY_ATTRIBUTES of the VM (bit 3 = private).
 * @guest_memfd: KVM_CAP_GUEST_MEMFD of the VM, 0 or 1.
 * @guest_memfd_flags: KVM_CAP_GUEST_MEMFD_FLAGS of the VM: bit 0 MMAP, bit 1
 *	INIT_SHARED, bit 2 HUGETLB (guestmem's series).
 * @guest_memfd_attributes: KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES (250 in
 *	guestmem's series, a provisional number that upstream may assign
 *	differently) of the VM: attributes its guest_memfds accept.
 * @user_memory2: KVM_CAP_USER_MEMORY2 of the VM, 0 or 1.
 *
 * A capability the kernel does not know reads as 0.  New fields are added
 * at the end only (see guestmem_kvm_probe()).
 */
struct guestmem_kvm_caps {
	uint64_t offered;		/* GUESTMEM_KVM_MODE_BIT()s */
	uint64_t best;			/* enum guestmem_kvm_mode */
	uint64_t attributes;		/* KVM_CAP_MEMORY_ATTRIBUTES */
	uint64_t guest_memfd;		/* KVM_CAP_GUEST_MEMFD */
	uint64_t guest_memfd_flags;	/* KVM_CAP_GUEST_MEMFD_FLAGS */
	uint64_t guest_memfd_attributes; /* KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES */
	uint64_t user_memory2;		/* KVM_CAP_USER_MEMORY2 */
};

/**
 * guestmem_kvm_probe() - what KVM offers a VM
 * @vm_fd: a VM fd from KVM_CREATE_VM (capabilities depend on the VM type).
 * @caps: filled in on success: its first @size bytes, never more.
 * @size: sizeof(*@caps) as the caller was compiled; at least
 *	%GUESTMEM_KVM_CAPS_SIZE_VER0.
 *
 * Asks KVM_CHECK_EXTENSION on @vm_fd; changes nothing.
 *
 * Return: 0, or -EINVAL if @caps is NULL or @size too small, -EBADF if
 * @vm_fd is not an open fd, -ENOTTY if it is not a KVM VM.
 */
int guestmem_kvm_probe(int vm_fd, struct guestmem_kvm_caps *caps, size_t size);

/**
 * guestmem_kvm_file_create() - create a guest memory file for a KVM VM
 * @pool: the pool to take the file's huge pages from.
 * @vm_fd: the VM, from KVM_CREATE_VM; the file keeps its own duplicate.
 * @size: file size, as for guestmem_file_create().
 * @flags: as for guestmem_file_create().
 * @mode: %GUESTMEM_KVM_AUTO, or the &enum guestmem_kvm_mode wanted.
 * @modep: if not NULL, receives the mode of the file.
 * @filep: where to store the new file.
 *
 * Makes a file as guestmem_file_create() does (it reserves @size of
 * @pool), and in %GUESTMEM_KVM_SPLIT mode a guest_memfd of @size for its
 * private memory.  In %GUESTMEM_KVM_INPLACE mode the file is a hugetlb
 * guest_memfd of @size, pages of @pool's size, mapped at
 * guestmem_file_hva().  A hugetlb @pool not bound to a node lends the
 * kernel @size of its free pages (they count as in use in its stats) for
 * the guest_memfd to reserve, and takes them back from the kernel when
 * the file is destroyed (with %GUESTMEM_POOL_RETURN_TO_KERNEL it leaves
 * them there until it needs them); other pools have no huge pages to
 * lend, and the kernel's own free pages serve.  The guest_memfd's pages
 * go back to the kernel only when nothing holds it any more: delete the
 * memory slots first, and mind fork() children, which hold its fd until
 * they exit or exec (pages the kernel cannot return yet stay in
 * &guestmem_pool_stats.given_back_bytes until a reservation needs them).  When the kernel still cannot reserve @size,
 * %GUESTMEM_KVM_AUTO falls back to %GUESTMEM_KVM_SPLIT.  Bind ranges of
 * it to guest physical addresses with
 * guestmem_kvm_bind().  The file is destroyed with guestmem_file_destroy(),
 * which closes its guest_memfd; delete the memory slots first.
 *
 * Return: 0 and *@filep set, or a negative errno: the errors of
 * guestmem_file_create(); -EINVAL for an unknown @mode; -EBADF or -ENOTTY
 * if @vm_fd is not a KVM VM; -EOPNOTSUPP if @mode is not offered for this
 * VM (guestmem_last_error() names the missing capability), or if @mode is
 * %GUESTMEM_KVM_AUTO for a VM with private memory that no mode but
 * %GUESTMEM_KVM_NONE serves; -ENOMEM if @mode is %GUESTMEM_KVM_INPLACE
 * and @pool cannot lend @size (too few free pages) or the kernel's
 * hugetlb pool cannot reserve it; a negative errno of
 * KVM_CREATE_GUEST_MEMFD.
 */
int guestmem_kvm_file_create(struct guestmem_pool *pool, int vm_fd, uint64_t size,
			     uint64_t flags, unsigned int mode, unsigned int *modep,
			     struct guestmem_file **filep);

/**
 * struct guestmem_kvm_slot - what a memory slot needs (guestmem_kvm_bind())
 * @userspace_addr: kvm_userspace_memory_region2.userspace_addr.
 * @guest_memfd_offset: kvm_userspace_memory_region2.guest_memfd_offset.
 * @guest_memfd: kvm_userspace_memory_region2.guest_memfd, -1 for none.
 * @flags: bits to set in kvm_userspace_memory_region2.flags:
 *	KVM_MEM_GUEST_MEMFD (1 << 2) with a guest_memfd, else 0.
 * @mode: the file's &enum guestmem_kvm_mode.
 * @reserved: zeroed.
 *
 * The slot's guest_phys_addr and memory_size are the @gpa and @len given
 * to guestmem_kvm_bind().  The guest_memfd stays the file's: do not close
 * it, and change it only through the library (an fallocate() or
 * KVM_SET_MEMORY_ATTRIBUTES2 of its own would leave the library's idea of
 * the file's states wrong).
 */
struct guestmem_kvm_slot {
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	int32_t guest_memfd;
	uint32_t flags;
	uint32_t mode;
	uint32_t reserved32;
	uint64_t reserved[4];
};

/**
 * guestmem_kvm_bind() - bind a range of a KVM file to guest memory
 * @file: a file from guestmem_kvm_file_create().
 * @offset: start of the range in the file, 4K aligned.
 * @len: length of the range, non-zero and 4K aligned.
 * @gpa: guest physical address the range is given at, 4K aligned.
 * @slot: filled in on success with what KVM_SET_USER_MEMORY_REGION2 needs.
 *
 * Records that [@offset, @offset + @len) of @file is guest memory at
 * @gpa, so that guestmem_convert() can set the VM's memory attributes of
 * it, and sets them now from the state of the range (in
 * %GUESTMEM_KVM_SPLIT mode: private pages get KVM_MEMORY_ATTRIBUTE_PRIVATE,
 * shared ones lose it; an in-place file's guest_memfd has its own, and
 * KVM takes them from it for the slot).  Then the caller makes the memory slot.  Ranges
 * of a file may not overlap (a guest_memfd range is bound once); a file
 * has at most 16 bindings.  @gpa and @offset must be equal modulo the
 * pool's huge page size, or KVM could map the range only 4K by 4K.
 *
 * Return: 0, or -EINVAL if @file or @slot is NULL, the file is not a KVM
 * file, a value is misaligned or empty, or @gpa - @offset is not a
 * multiple of the huge page size; -ERANGE if the range extends
 * past the end of the file or @gpa + @len overflows; -EEXIST if it
 * overlaps a binding of the file; -ENOSPC if the file has 16 bindings;
 * -ENOMEM for lack of memory; a negative errno of
 * KVM_SET_MEMORY_ATTRIBUTES: the binding is not made, and the VM's
 * attributes of the range may be set in part.
 */
int guestmem_kvm_bind(struct guestmem_file *file, uint64_t offset, uint64_t len,
		      uint64_t gpa, struct guestmem_kvm_slot *slot);

/**
 * guestmem_kvm_unbind() - forget a binding made by guestmem_kvm_bind()
 * @file: the file.
 * @offset: the @offset the binding was made with.
 *
 * Call it after deleting the memory slot.  The VM's memory attributes of
 * the range are left as they are.
 *
 * Return: 0, or -EINVAL if @file is NULL or not a KVM file, -ENOENT if no
 * binding of @file starts at @offset.
 */
int guestmem_kvm_unbind(struct guestmem_file *file, uint64_t offset);

/* Human-readable description of this thread's last failure ("" if none). */
/**
 * guestmem_last_error() - describe the calling thread's last failure
 *
 * Every libguestmem function except guestmem_file_hva() and this one
 * clears the description when called and sets it when it fails, so it
 * describes the thread's most recent call.  The string is at most 511
 * bytes, in English, and stays valid until the thread's next libguestmem
 * call or its exit.
 *
 * Return: the description, or "" if the last call succeeded; never NULL.
 */
const char *guestmem_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* GUESTMEM_H */
