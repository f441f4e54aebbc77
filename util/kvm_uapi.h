/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The KVM uAPI guestmem uses for guest_memfd, for systems whose
 * <linux/kvm.h> predates it (Debian 12's has no guest_memfd at all).
 * Numbers and layouts are Linux 7.2's include/uapi/linux/kvm.h, plus what
 * guestmem's kernel series adds (kernel-patch/: GUEST_MEMFD_FLAG_HUGETLB,
 * the page_size field, KVM_SET_MEMORY_ATTRIBUTES2 and
 * KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES).  The structures carry a gm_
 * prefix so that they never clash with newer headers that have them; the
 * upstream constants are defined only where the headers lack them, the
 * series' provisional ones always, under GM_ names.  Header only:
 * shared by lib/ (libguestmem's KVM modes), tools/ and tests/.
 */
#ifndef GUESTMEM_UTIL_KVM_UAPI_H
#define GUESTMEM_UTIL_KVM_UAPI_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2		231
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES	233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD		234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES		235
#endif
#ifdef KVM_CAP_GUEST_MEMFD_FLAGS
#define GM_KVM_FLAGS_CAP_FROM_HEADERS	1
#else
#define KVM_CAP_GUEST_MEMFD_FLAGS	244	/* Linux 7.2 */
#define GM_KVM_FLAGS_CAP_FROM_HEADERS	0
#endif
/*
 * guestmem's kernel series (patch 0007): KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES.
 * This is the series' provisional number, not upstream's: upstream's
 * in-place conversion series has not settled one, and a future
 * <linux/kvm.h> may give the name another number.  Hence a GM_ name,
 * defined unconditionally, that no header can redefine under us.
 */
#define GM_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES	250

#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD		(1UL << 2)
#endif
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE	(1ULL << 3)
#endif
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT		39
#endif
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM		0
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM		1
#endif

/* guest_memfd flags (KVM_CAP_GUEST_MEMFD_FLAGS) */
#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP		(1ULL << 0)
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED	(1ULL << 1)
#endif
/*
 * guestmem's kernel series: GUEST_MEMFD_FLAG_HUGETLB.  The series'
 * provisional bit, not upstream's (upstream may give bit 2 to another
 * flag): a GM_ name, defined unconditionally.
 */
#define GM_GUEST_MEMFD_FLAG_HUGETLB	(1ULL << 2)

/* KVM_SET_USER_MEMORY_REGION2 */
struct gm_kvm_userspace_memory_region2 {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
	uint32_t pad1;
	uint64_t pad2[14];
};
#define GM_KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct gm_kvm_userspace_memory_region2)

/* KVM_SET_MEMORY_ATTRIBUTES, on the VM fd: a range of guest physical memory */
struct gm_kvm_memory_attributes {
	uint64_t address;
	uint64_t size;
	uint64_t attributes;
	uint64_t flags;
};
#define GM_KVM_SET_MEMORY_ATTRIBUTES \
	_IOW(KVMIO, 0xd2, struct gm_kvm_memory_attributes)

/* KVM_SET_MEMORY_ATTRIBUTES2, on a guest_memfd: a range of the file */
struct gm_kvm_memory_attributes2 {
	uint64_t offset;
	uint64_t size;
	uint64_t attributes;
	uint64_t flags;
	uint64_t error_offset;	/* out, on EAGAIN */
	uint64_t reserved[11];
};
#define GM_KVM_SET_MEMORY_ATTRIBUTES2 \
	_IOWR(KVMIO, 0xd2, struct gm_kvm_memory_attributes2)

/* KVM_CREATE_GUEST_MEMFD; page_size is reserved[0] in Linux 7.2 */
struct gm_kvm_create_guest_memfd {
	uint64_t size;
	uint64_t flags;
	uint64_t page_size;	/* GM_GUEST_MEMFD_FLAG_HUGETLB (guestmem's series) */
	uint64_t reserved[5];
};
#define GM_KVM_CREATE_GUEST_MEMFD \
	_IOWR(KVMIO, 0xd4, struct gm_kvm_create_guest_memfd)

#endif /* GUESTMEM_UTIL_KVM_UAPI_H */
