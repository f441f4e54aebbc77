/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem: hugetlb-backed guest memory with in-place shared/private
 * conversion.
 *
 * A guest memory file takes its memory from one hugetlb pool (2M or 1G
 * pages), reserving all of it at creation.  Every 4K page is either shared
 * (the host may access it) or private (guest only).  A huge folio stays
 * whole while its range is uniform; a conversion that leaves it mixed
 * splits it (a 1G folio first into 2M folios, and only the mixed 2M pieces
 * further into 4K folios), and a range that becomes uniform again is
 * merged back.  Freed huge pages are reassembled and returned to the pool.
 *
 * Offsets and lengths are in bytes and must be 4K aligned.  Functions
 * return 0 or a negative errno:
 *   -EINVAL  misaligned or zero length, unknown state or flags
 *   -ERANGE  range past the end of the file, or offset + length overflows
 *   -ENOMEM  no memory for metadata, or no huge page left in the pool
 *   -EAGAIN  a page to be made private (or a folio to be split) is still
 *            referenced elsewhere; *error_offset names the first one
 * A failed call changes nothing.
 *
 * Each function's kernel-doc, at its definition in mm/guestmem_*.c, gives
 * its context and errors.  The file functions take the file's locks
 * themselves and may sleep; hgmem_nr_pending() and hgmem_folio_free() do
 * not sleep.  KVM (kvm.ko) may use what guest_memfd needs; the rest is for
 * built-in callers.
 */
#ifndef _LINUX_GUESTMEM_H
#define _LINUX_GUESTMEM_H

#include <linux/bits.h>
#include <linux/types.h>

struct folio;
struct hstate;
struct hgmem_file;

enum hgmem_state {
	HGMEM_PRIVATE = 0,
	HGMEM_SHARED = 1,
};

/* hgmem_file_create() flags */
#define HGMEM_FILE_INIT_SHARED		BIT(0)	/* pages start shared */
#define HGMEM_FILE_ZERO_ON_CONVERT	BIT(1)	/* pages that change state read as zero */
#define HGMEM_FILE_FLAGS		(HGMEM_FILE_INIT_SHARED | HGMEM_FILE_ZERO_ON_CONVERT)

struct hgmem_file_stats {
	u64 size;		/* bytes */
	u64 allocated;		/* bytes of huge pages allocated */
	u64 shared;		/* bytes in the shared state */
	u64 private;		/* bytes in the private state */
	u64 huge_mappable;	/* allocated bytes in folios of 2M or more */
	u64 split_pages;	/* allocated huge pages currently split */
	u64 splits;		/* folio splits so far */
	u64 merges;		/* folio merges so far */
};

int hgmem_file_create(struct hstate *h, u64 size, u64 flags, int nid,
		      struct hgmem_file **filep);
void hgmem_file_release(struct hgmem_file *file);

int hgmem_allocate(struct hgmem_file *file, u64 offset, u64 len);
int hgmem_punch_hole(struct hgmem_file *file, u64 offset, u64 len);
int hgmem_convert(struct hgmem_file *file, u64 offset, u64 len,
		  unsigned int to, u64 *error_offset);
int hgmem_get_folio(struct hgmem_file *file, pgoff_t index,
		    struct folio **foliop, int *max_order);
int hgmem_get_state(struct hgmem_file *file, u64 offset,
		    enum hgmem_state *state, u64 *run_len);
void hgmem_file_stats(struct hgmem_file *file, struct hgmem_file_stats *stats);

int hgmem_check_file(struct hgmem_file *file, const char **why);
unsigned long hgmem_nr_pending(struct hstate *h);
bool hgmem_flush_deferred(void);

/* Final folio_put() of a split guestmem folio (called by the mm core). */
void hgmem_folio_free(struct folio *folio);

#endif /* _LINUX_GUESTMEM_H */
