/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem internals: guest memory for KVM VMs (lib/kvm.c) and the
 * decisions it makes, kept pure so that tests can run them on made-up
 * answers (lib/kvm_split.c).  Plain userspace C: no shim, no mm/.
 */
#ifndef GUESTMEM_LIB_KVM_MODE_H
#define GUESTMEM_LIB_KVM_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <guestmem.h>

#include "kvm_uapi.h"

/* ------------------------------------------------------ kvm_split.c */

/* What KVM_CHECK_EXTENSION answered on a VM fd (0 for unknown caps). */
struct gm_kvm_raw_caps {
	uint64_t attributes;		/* KVM_CAP_MEMORY_ATTRIBUTES */
	uint64_t guest_memfd;		/* KVM_CAP_GUEST_MEMFD */
	uint64_t guest_memfd_flags;	/* KVM_CAP_GUEST_MEMFD_FLAGS */
	uint64_t guest_memfd_attributes; /* GM_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES */
	uint64_t user_memory2;		/* KVM_CAP_USER_MEMORY2 */
};

/* GUESTMEM_KVM_MODE_BIT()s of the modes @c offers, whether implemented or not. */
uint64_t gm_kvm_offered(const struct gm_kvm_raw_caps *c);
/* "auto", "none", "split", "in-place", or "unknown". */
const char *gm_kvm_mode_name(unsigned int mode);
/* What GUESTMEM_KVM_AUTO picks for @c. */
unsigned int gm_kvm_best(const struct gm_kvm_raw_caps *c);
/*
 * The mode a file asking for @requested gets on a VM with @c: 0 and *@mode,
 * or -EINVAL (unknown request) or -EOPNOTSUPP (not offered, or not
 * implemented), with *@why saying which and why.
 */
int gm_kvm_choose(const struct gm_kvm_raw_caps *c, unsigned int requested,
		  unsigned int *mode, const char **why);

/* A range of a file given to the VM at @gpa (guestmem_kvm_bind()). */
struct gm_kvm_binding {
	uint64_t offset, len, gpa;
};

#define GM_KVM_MAX_BINDINGS	16

/*
 * Whether [@off, @off + @len) at @gpa may be added to the @n bindings @b of
 * a file of @size bytes: 0, -EINVAL (misaligned or empty), -ERANGE (past
 * the end, or @gpa + @len overflows), -EEXIST (overlaps one of @b),
 * -ENOSPC (@n is GM_KVM_MAX_BINDINGS).
 */
int gm_kvm_bind_check(const struct gm_kvm_binding *b, size_t n, uint64_t size,
		      uint64_t off, uint64_t len, uint64_t gpa);

/* A range of guest physical memory. */
struct gm_kvm_gpa_range {
	uint64_t gpa, len;
	uint64_t offset;		/* where it starts in the file */
};

/*
 * The guest physical ranges [@off, @off + @len) of a file is bound at:
 * its intersection with each of the @n bindings @b, in @b's order, into
 * @out (room for @n).  Returns how many.
 */
size_t gm_kvm_gpa_ranges(const struct gm_kvm_binding *b, size_t n, uint64_t off,
			 uint64_t len, struct gm_kvm_gpa_range *out);

/*
 * The state of a file: reads the page at @off into *@state
 * (GUESTMEM_SHARED or GUESTMEM_PRIVATE) and the length of its run into
 * *@run; 0 or -errno.
 */
typedef int (*gm_kvm_state_fn)(void *ctx, uint64_t off, unsigned int *state,
			       uint64_t *run);

/*
 * Whether every page of huge page @h (of @huge bytes) is private: 1, 0,
 * or -errno from @state.
 */
int gm_kvm_huge_all_private(gm_kvm_state_fn state, void *ctx, uint64_t h, uint64_t huge);

/* --------------------------------------------------------- kvm.c */

/*
 * How the library talks to KVM; tests put a fake in place of the real
 * ioctls (gm_kvm_ops_set()).  Each returns a value >= 0 or -errno.
 */
struct gm_kvm_ops {
	/* 0 if @fd is a VM (not /dev/kvm's system fd, nor a vCPU), -ENOTTY, -EBADF */
	int (*check_vm)(int fd);
	long (*check_extension)(int vm_fd, unsigned long cap);
	int (*create_guest_memfd)(int vm_fd, struct gm_kvm_create_guest_memfd *arg);
	int (*set_attributes)(int vm_fd, uint64_t gpa, uint64_t len, uint64_t attributes);
	int (*punch)(int guest_memfd, uint64_t off, uint64_t len);
	/* in-place mode: fallocate(), and KVM_SET_MEMORY_ATTRIBUTES2 (*@bad on -EAGAIN) */
	int (*allocate)(int guest_memfd, uint64_t off, uint64_t len);
	int (*set_attributes2)(int guest_memfd, uint64_t off, uint64_t len,
			       uint64_t attributes, uint64_t *bad);
};

/* Use @ops (NULL: the real ioctls) for the files created from now on. */
void gm_kvm_ops_set(const struct gm_kvm_ops *ops);

#endif /* GUESTMEM_LIB_KVM_MODE_H */
