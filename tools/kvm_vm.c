// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the KVM VM of `guestmem run coco-boot --kvm` (kvm_vm.h).
 *
 * A KVM_X86_SW_PROTECTED_VM has private memory without hardware: KVM keeps
 * it in a guest_memfd and the VM's memory attributes say which pages are
 * private, as for SEV-SNP and TDX guests.  The guest's memory is one
 * libguestmem file from guestmem_kvm_file_create(), bound whole at
 * KVM_VM_GPA, and one memory slot made of what guestmem_kvm_bind() returns.
 * Every guestmem_convert() of the file then sets the VM's attributes too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_uapi.h"
#include "kvm_vm.h"
#include "tool.h"

const char *kvm_vm_mode_name(unsigned int mode)
{
	switch (mode) {
	case GUESTMEM_KVM_AUTO: return "auto";
	case GUESTMEM_KVM_NONE: return "none";
	case GUESTMEM_KVM_SPLIT: return "split";
	case GUESTMEM_KVM_INPLACE: return "in-place";
	}
	return "?";
}

int kvm_vm_parse_mode(const char *s, unsigned int *mode)
{
	if (!strcmp(s, "auto"))
		*mode = GUESTMEM_KVM_AUTO;
	else if (!strcmp(s, "split"))
		*mode = GUESTMEM_KVM_SPLIT;
	else if (!strcmp(s, "inplace") || !strcmp(s, "in-place"))
		*mode = GUESTMEM_KVM_INPLACE;
	else
		return -EINVAL;
	return 0;
}

int kvm_vm_open(struct kvm_vm *vm, unsigned int want, char *why, size_t len)
{
	unsigned int mode;
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->want = want;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			snprintf(why, len, "/dev/kvm is missing (no KVM in this kernel or machine)");
		else
			snprintf(why, len, "cannot open /dev/kvm: %s", strerror(-err));
		return err;
	}
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, (unsigned long)KVM_X86_SW_PROTECTED_VM);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		err = -errno;
		snprintf(why, len, "KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM) failed: %s%s", strerror(-err),
			 err == -EINVAL ? " (this KVM has no software-protected VMs:"
			 " CONFIG_KVM_SW_PROTECTED_VM, x86 with the TDP MMU)" : "");
		return err;
	}
	err = guestmem_kvm_probe(vm->vm_fd, &vm->caps, sizeof(vm->caps));
	if (err) {
		snprintf(why, len, "guestmem_kvm_probe(): %s: %s", strerror(-err), guestmem_last_error());
		return err;
	}
	mode = want == GUESTMEM_KVM_AUTO ? (unsigned int)vm->caps.best : want;
	if (!(vm->caps.offered & GUESTMEM_KVM_MODE_BIT(mode)) ||
	    (want == GUESTMEM_KVM_AUTO && mode == GUESTMEM_KVM_NONE)) {
		snprintf(why, len, "this kernel does not offer %s mode to a KVM_X86_SW_PROTECTED_VM"
			 " (guest_memfd %llu, memory attributes %#llx, guest_memfd flags %#llx)",
			 kvm_vm_mode_name(mode), (unsigned long long)vm->caps.guest_memfd,
			 (unsigned long long)vm->caps.attributes,
			 (unsigned long long)vm->caps.guest_memfd_flags);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int set_slot(struct kvm_vm *vm, uint64_t size)
{
	struct gm_kvm_userspace_memory_region2 r = {
		.slot = KVM_VM_SLOT,
		.guest_phys_addr = KVM_VM_GPA,
		.memory_size = size,
	};

	/* Size 0 deletes the slot; its other fields are not looked at then. */
	if (size) {
		r.flags = vm->slot.flags;
		r.userspace_addr = vm->slot.userspace_addr;
		r.guest_memfd_offset = vm->slot.guest_memfd_offset;
		r.guest_memfd = (uint32_t)vm->slot.guest_memfd;
	}
	return ioctl(vm->vm_fd, GM_KVM_SET_USER_MEMORY_REGION2, &r) ? -errno : 0;
}

int kvm_vm_file_create(struct kvm_vm *vm, struct guestmem_pool *pool, uint64_t size,
		       uint64_t flags, struct guestmem_file **filep, bool *unsupported,
		       char *why, size_t len)
{
	const char *what;
	int err;

	*unsupported = false;
	if (vm->file) {
		snprintf(why, len, "one guest memory file per VM");
		return -EBUSY;
	}
	err = guestmem_kvm_file_create(pool, vm->vm_fd, size, flags, vm->want, &vm->mode, filep);
	if (err) {
		vm->mode = 0;
		*unsupported = err == -EOPNOTSUPP;
		snprintf(why, len, "guestmem_kvm_file_create(%s): %s", kvm_vm_mode_name(vm->want),
			 guestmem_last_error());
		return err;
	}
	vm->file = *filep;
	vm->size = size;
	err = guestmem_kvm_bind(vm->file, 0, size, KVM_VM_GPA, &vm->slot);
	if (err) {
		snprintf(why, len, "guestmem_kvm_bind(): %s", guestmem_last_error());
		goto undo;
	}
	vm->bound = true;
	err = set_slot(vm, size);
	if (err) {
		snprintf(why, len, "KVM_SET_USER_MEMORY_REGION2 (slot %u, %#llx bytes at GPA %#llx): %s",
			 KVM_VM_SLOT, (unsigned long long)size, (unsigned long long)KVM_VM_GPA,
			 strerror(-err));
		goto undo;
	}
	vm->slot_made = true;
	return 0;
undo:
	kvm_vm_file_release(vm, &what);
	if (!guestmem_file_destroy(vm->file))
		kvm_vm_file_destroyed(vm);
	vm->mode = 0;
	*filep = NULL;
	return err;
}

int kvm_vm_file_release(struct kvm_vm *vm, const char **what)
{
	int err = 0, e;

	*what = "";
	if (vm->slot_made) {
		e = set_slot(vm, 0);
		if (e && !err) {
			err = e;
			*what = "deleting the memory slot (KVM_SET_USER_MEMORY_REGION2, size 0)";
		}
		vm->slot_made = false;
	}
	if (vm->bound) {
		e = guestmem_kvm_unbind(vm->file, 0);
		if (e && !err) {
			err = e;
			*what = "guestmem_kvm_unbind()";
		}
		vm->bound = false;
	}
	return err;
}

void kvm_vm_file_destroyed(struct kvm_vm *vm)
{
	vm->file = NULL;
	vm->slot.guest_memfd = -1;
}

int kvm_vm_gmem_fd(const struct kvm_vm *vm)
{
	return vm->file && vm->mode == GUESTMEM_KVM_SPLIT ? vm->slot.guest_memfd : -1;
}

int kvm_vm_touch_private(struct kvm_vm *vm, uint64_t off, uint64_t len)
{
	int fd = kvm_vm_gmem_fd(vm);
	uint64_t end = off + len;

	if (fd < 0)
		return 0;	/* in-place or none: private memory is the file's own */
	while (off < end) {
		unsigned int state;
		uint64_t run;
		int err = guestmem_state(vm->file, off, &state, &run);

		if (err)
			return err;
		if (run > end - off)
			run = end - off;
		if (state == GUESTMEM_PRIVATE) {
			/* guest_memfd takes FALLOC_FL_KEEP_SIZE, with or without a hole */
			if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)run))
				return -errno;
			vm->touched += run;
		}
		off += run;
	}
	return 0;
}

void kvm_vm_close(struct kvm_vm *vm)
{
	const char *what;

	if (vm->file) {
		kvm_vm_file_release(vm, &what);
		if (!guestmem_file_destroy(vm->file))
			kvm_vm_file_destroyed(vm);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = -1;
	vm->kvm_fd = -1;
}
