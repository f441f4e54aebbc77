/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Making KVM VMs in the suites that run on a real /dev/kvm
 * (tests/check_kvm.c, tests/check_api.c --kvm-mode): the VM ioctl, and
 * why a machine cannot give them a KVM_X86_SW_PROTECTED_VM.
 */
#ifndef GUESTMEM_TESTS_KVM_TEST_VM_H
#define GUESTMEM_TESTS_KVM_TEST_VM_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <guestmem.h>

#include "kvm_uapi.h"

/* KVM_CREATE_VM of @type on /dev/kvm's @kvm_fd: the VM fd, or -errno. */
static inline int kvm_test_create_vm(int kvm_fd, unsigned long type)
{
	int fd;

	do
		fd = ioctl(kvm_fd, KVM_CREATE_VM, type);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/*
 * What KVM offers a KVM_X86_SW_PROTECTED_VM made on @kvm_fd, into *@caps:
 * NULL, or why there is none (in @buf).
 */
static inline const char *kvm_test_protected_caps(int kvm_fd, struct guestmem_kvm_caps *caps,
						   char *buf, size_t len)
{
	long types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	int vm, err;

	if (types <= 0 || !(types & (1L << KVM_X86_SW_PROTECTED_VM))) {
		snprintf(buf, len, "KVM offers no KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES %#lx; CONFIG_KVM_SW_PROTECTED_VM)",
			 types < 0 ? 0 : types);
		return buf;
	}
	vm = kvm_test_create_vm(kvm_fd, KVM_X86_SW_PROTECTED_VM);
	if (vm < 0) {
		snprintf(buf, len, "KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM): %s", strerror(-vm));
		return buf;
	}
	err = guestmem_kvm_probe(vm, caps, sizeof(*caps));
	close(vm);
	if (err) {
		snprintf(buf, len, "guestmem_kvm_probe: %s", guestmem_last_error());
		return buf;
	}
	return NULL;
}

#endif /* GUESTMEM_TESTS_KVM_TEST_VM_H */
