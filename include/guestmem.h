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

struct guestmem_pool_opts {
	uint64_t page_size;	/* GUESTMEM_PAGE_2M or GUESTMEM_PAGE_1G */
	uint64_t nr_pages;	/* huge pages in the pool */
	int node;		/* NUMA node, or -1 for no placement */
	unsigned int threads;	/* prefault threads, 0 = one per CPU */
	uint64_t flags;
};

/* Where a pool's memory comes from (guestmem_pool_stats.backend). */
enum guestmem_backend {
	GUESTMEM_BACKEND_HUGETLB = 1,	/* the kernel's hugetlb pages */
	GUESTMEM_BACKEND_FALLBACK = 2,	/* ordinary memory: no huge TLB entries */
	GUESTMEM_BACKEND_SIMULATED = 3,	/* address space only */
};

/* guestmem_file_create() flags */
#define GUESTMEM_FILE_INIT_SHARED	(UINT64_C(1) << 0)	/* pages start shared */
#define GUESTMEM_FILE_ZERO_ON_CONVERT	(UINT64_C(1) << 1)	/* converted pages read as zero */

/* Page states */
#define GUESTMEM_PRIVATE	0u
#define GUESTMEM_SHARED		1u

/* A pinned 4K page (guestmem_pin()). */
struct guestmem_page {
	void *addr;		/* host address of the page */
	uint64_t offset;	/* file offset of the page */
	unsigned int max_order;	/* largest order it may be mapped at: 0, 9 or 18 */
	unsigned int state;	/* GUESTMEM_SHARED */
	void *_folio;		/* library private */
	uint64_t _cookie;	/* library private */
};

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
};

struct guestmem_file_stats {
	uint64_t size;
	uint64_t allocated;	/* bytes of huge pages allocated */
	uint64_t shared_bytes;
	uint64_t private_bytes;
	uint64_t huge_mappable;	/* allocated bytes mappable at 2M or more */
	uint64_t split_pages;	/* allocated huge pages currently split */
};

int guestmem_pool_create(const struct guestmem_pool_opts *opts,
			 struct guestmem_pool **poolp);
int guestmem_pool_destroy(struct guestmem_pool *pool);
int guestmem_pool_stats(struct guestmem_pool *pool, struct guestmem_pool_stats *stats);

int guestmem_file_create(struct guestmem_pool *pool, uint64_t size, uint64_t flags,
			 struct guestmem_file **filep);
int guestmem_file_destroy(struct guestmem_file *file);
void *guestmem_file_hva(struct guestmem_file *file);
int guestmem_file_stats(struct guestmem_file *file, struct guestmem_file_stats *stats);

int guestmem_allocate(struct guestmem_file *file, uint64_t offset, uint64_t len);
int guestmem_punch_hole(struct guestmem_file *file, uint64_t offset, uint64_t len);
int guestmem_convert(struct guestmem_file *file, uint64_t offset, uint64_t len,
		     unsigned int to, uint64_t *error_offset);
int guestmem_state(struct guestmem_file *file, uint64_t offset, unsigned int *state,
		   uint64_t *run_len);

int guestmem_pin(struct guestmem_file *file, uint64_t offset, struct guestmem_page *page);
int guestmem_unpin(struct guestmem_file *file, struct guestmem_page *page);

/* Human-readable description of this thread's last failure ("" if none). */
const char *guestmem_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* GUESTMEM_H */
