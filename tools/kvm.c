// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): probe KVM for guest_memfd.  Capabilities are queried with
 * KVM_CHECK_EXTENSION on a VM fd from KVM_CREATE_VM (guest_memfd support
 * depends on the VM type).  Debian 12's <linux/kvm.h> predates
 * guest_memfd, so the numbers of the Linux 7.2 uapi are used when the
 * headers lack them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm.h"

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
#define FLAGS_CAP_FROM_HEADERS		true
#else
#define KVM_CAP_GUEST_MEMFD_FLAGS	244	/* Linux 7.2 include/uapi/linux/kvm.h */
#define FLAGS_CAP_FROM_HEADERS		false
#endif

/* Linux 7.2: KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd) */
struct tool_kvm_create_guest_memfd {
	uint64_t size;
	uint64_t flags;
	uint64_t reserved[6];
};
#define TOOL_KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct tool_kvm_create_guest_memfd)

static long check_ext(int fd, unsigned int cap)
{
	long r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

void kvm_probe(struct kvm_probe *p)
{
	struct tool_kvm_create_guest_memfd gm;
	int kvm, vm, fd;

	memset(p, 0, sizeof(*p));
	p->cap_gmem = KVM_CAP_GUEST_MEMFD;
	p->cap_gmem_flags = KVM_CAP_GUEST_MEMFD_FLAGS;
	p->flags_cap_from_headers = FLAGS_CAP_FROM_HEADERS;
	p->vm_err = -ENODEV;
	p->gmem_create_err = -ENODEV;
	p->present = access("/dev/kvm", F_OK) == 0;
	if (!p->present) {
		p->open_err = -ENOENT;
		return;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		p->open_err = -errno;
		return;
	}
	p->api_version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	p->vm_types = check_ext(kvm, KVM_CAP_VM_TYPES);

	do
		vm = ioctl(kvm, KVM_CREATE_VM, 0);
	while (vm < 0 && errno == EINTR);
	if (vm < 0) {
		p->vm_err = -errno;
		close(kvm);
		return;
	}
	p->vm_err = 0;
	p->gmem = check_ext(vm, KVM_CAP_GUEST_MEMFD);
	p->gmem_flags = check_ext(vm, KVM_CAP_GUEST_MEMFD_FLAGS);
	p->mem_attrs = check_ext(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	p->user_memory2 = check_ext(vm, KVM_CAP_USER_MEMORY2);
	if (p->gmem) {
		memset(&gm, 0, sizeof(gm));
		gm.size = UINT64_C(2) << 20;
		fd = ioctl(vm, TOOL_KVM_CREATE_GUEST_MEMFD, &gm);
		p->gmem_create_err = fd < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
	}
	close(vm);
	close(kvm);
}
