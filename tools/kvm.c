// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): probe KVM for guest_memfd.  Capabilities are queried with
 * KVM_CHECK_EXTENSION on a VM fd from KVM_CREATE_VM (guest_memfd support
 * depends on the VM type).  Debian 12's <linux/kvm.h> predates
 * guest_memfd, so the numbers of the Linux 7.2 uapi are used when the
 * headers lack them (util/kvm_uapi.h).  The modes libguestmem gives each
 * VM type come from guestmem_kvm_probe().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <guestmem.h>

#include "kvm.h"
#include "kvm_uapi.h"

static long check_ext(int fd, unsigned int cap)
{
	long r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

/* The guest memory modes a VM of @type gets (guestmem_kvm_probe()). */
static void probe_modes(int kvm, unsigned long type, struct kvm_probe_modes *m)
{
	struct guestmem_kvm_caps c;
	int vm;

	m->tried = true;
	do
		vm = ioctl(kvm, KVM_CREATE_VM, type);
	while (vm < 0 && errno == EINTR);
	if (vm < 0) {
		m->err = -errno;
		return;
	}
	m->err = guestmem_kvm_probe(vm, &c, sizeof(c));
	if (!m->err) {
		m->offered = c.offered;
		m->best = (unsigned int)c.best;
	}
	close(vm);
}

void kvm_probe(struct kvm_probe *p)
{
	struct gm_kvm_create_guest_memfd gm;
	int kvm, vm, fd;

	memset(p, 0, sizeof(*p));
	p->cap_gmem = KVM_CAP_GUEST_MEMFD;
	p->cap_gmem_flags = KVM_CAP_GUEST_MEMFD_FLAGS;
	p->flags_cap_from_headers = GM_KVM_FLAGS_CAP_FROM_HEADERS;
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
		fd = ioctl(vm, GM_KVM_CREATE_GUEST_MEMFD, &gm);
		p->gmem_create_err = fd < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
	}
	close(vm);
	probe_modes(kvm, KVM_X86_DEFAULT_VM, &p->modes[0]);
	if (p->vm_types & (1L << KVM_X86_SW_PROTECTED_VM))
		probe_modes(kvm, KVM_X86_SW_PROTECTED_VM, &p->modes[1]);
	close(kvm);
}
