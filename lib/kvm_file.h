/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem internals: the KVM side of a file (struct gm_kvm), shared by
 * lib/kvm.c (creation, bindings, split mode) and lib/kvm_inplace.c
 * (in-place mode).  Compiled over the shim, like the rest of lib/.
 */
#ifndef GUESTMEM_LIB_KVM_FILE_H
#define GUESTMEM_LIB_KVM_FILE_H

#include "kvm_mode.h"
#include "libguestmem.h"

struct gm_kvm {
	unsigned int mode;		/* enum guestmem_kvm_mode, never AUTO */
	int vm_fd;			/* the file's own duplicate */
	int gmem_fd;			/* split: private memory; in-place: all; else -1 */
	const struct gm_kvm_ops *ops;
	pthread_mutex_t lock;		/* see the top of kvm.c */
	unsigned long *returned;	/* split: huge pages returned, all private */
	atomic_ulong nr_returned;	/* bits set in @returned */
	unsigned long *unreserved;	/* split: huge pages out of the reservation */
	unsigned long *private;		/* in-place: a bit per 4K page, set = private */
	bool zero_on_convert;		/* in-place: GUESTMEM_FILE_ZERO_ON_CONVERT */
	struct hstate *lent_from;	/* in-place: the pool that lent @lent pages */
	unsigned long lent;
	size_t nr_bindings;
	struct gm_kvm_binding bindings[GM_KVM_MAX_BINDINGS];
};

#define GM_LONG_BITS	(8 * sizeof(unsigned long))

/* kvm.c: 0, or -EINVAL / -ERANGE (and the error set) for a bad range. */
int gm_kvm_check_range(struct guestmem_file *file, u64 off, u64 len);

/*
 * kvm_inplace.c: in-place mode.  The file is a hugetlb guest_memfd
 * (guestmem's kernel series) mapped at the file's host address; the
 * library keeps the state of every page to answer guestmem_state(), and
 * its own pins.  All but gm_inplace_create() and gm_inplace_map() run with
 * the file entered and k->lock held.
 */
int gm_inplace_create(struct gm_kvm *k, struct guestmem_pool *pool, u64 size, u64 *flags);
void gm_inplace_unlend(struct gm_kvm *k);
int gm_inplace_map(struct guestmem_file *file);
int gm_inplace_convert(struct guestmem_file *file, u64 off, u64 len, unsigned int to,
		       u64 *error_offset);
int gm_inplace_allocate(struct guestmem_file *file, u64 off, u64 len);
int gm_inplace_punch_hole(struct guestmem_file *file, u64 off, u64 len);
int gm_inplace_pin(struct guestmem_file *file, u64 off, struct guestmem_page *page);
int gm_inplace_unpin(struct guestmem_file *file, struct guestmem_page *page);
int gm_inplace_state(struct guestmem_file *file, u64 off, unsigned int *state, u64 *run);
void gm_inplace_stats(struct guestmem_file *file, struct guestmem_file_stats *st);

#endif /* GUESTMEM_LIB_KVM_FILE_H */
