/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestmem(1): what the running kernel's KVM offers for guest_memfd. */
#ifndef GUESTMEM_TOOL_KVM_H
#define GUESTMEM_TOOL_KVM_H

#include <stdbool.h>
#include <stdint.h>

/* What libguestmem gives a VM of one type (guestmem_kvm_probe()). */
struct kvm_probe_modes {
	bool tried;		/* the VM type exists and was tried */
	int err;		/* 0, or -errno of KVM_CREATE_VM or the probe */
	uint64_t offered;	/* GUESTMEM_KVM_MODE_BIT()s */
	unsigned int best;	/* what GUESTMEM_KVM_AUTO picks */
};

struct kvm_probe {
	bool present;		/* /dev/kvm exists */
	int open_err;		/* 0 or -errno of opening it */
	int api_version;
	int vm_err;		/* 0 or -errno of KVM_CREATE_VM */
	long vm_types;		/* KVM_CAP_VM_TYPES on /dev/kvm (bitmask), 0 if none */
	long gmem;		/* KVM_CAP_GUEST_MEMFD on the VM fd */
	long gmem_flags;	/* KVM_CAP_GUEST_MEMFD_FLAGS on the VM fd */
	int gmem_create_err;	/* KVM_CREATE_GUEST_MEMFD of 2M, flags 0: 0 or -errno */
	long mem_attrs;		/* KVM_CAP_MEMORY_ATTRIBUTES on the VM fd */
	long user_memory2;	/* KVM_CAP_USER_MEMORY2 */
	unsigned int cap_gmem, cap_gmem_flags;	/* the capability numbers used */
	bool flags_cap_from_headers;	/* KVM_CAP_GUEST_MEMFD_FLAGS came from <linux/kvm.h> */
	struct kvm_probe_modes modes[2];	/* default VM, KVM_X86_SW_PROTECTED_VM */
};

void kvm_probe(struct kvm_probe *p);

#endif /* GUESTMEM_TOOL_KVM_H */
