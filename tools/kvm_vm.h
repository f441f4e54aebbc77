/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): a KVM VM whose guest memory is a libguestmem file, for
 * `guestmem run coco-boot --kvm`.  No vCPU: the VM exists so that every
 * conversion of the file also goes through KVM (the memory slot, the
 * VM's memory attributes, the guest_memfd), and the kernel's counters show
 * what the memory costs.
 */
#ifndef GUESTMEM_TOOL_KVM_VM_H
#define GUESTMEM_TOOL_KVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <guestmem.h>

/* The VM's guest memory: one file, bound whole at this guest address. */
#define KVM_VM_GPA	UINT64_C(0)
#define KVM_VM_SLOT	0u

struct kvm_vm {
	int kvm_fd;		/* /dev/kvm */
	int vm_fd;		/* KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM) */
	unsigned int want;	/* requested enum guestmem_kvm_mode */
	unsigned int mode;	/* the file's mode, 0 before kvm_vm_file_create() */
	struct guestmem_kvm_caps caps;	/* guestmem_kvm_probe() of the VM */
	struct guestmem_file *file;
	uint64_t size;		/* the file's size, bound at KVM_VM_GPA */
	struct guestmem_kvm_slot slot;	/* what guestmem_kvm_bind() handed out */
	bool bound, slot_made;
	uint64_t touched;	/* bytes the guest's touches allocated (fallocate calls' ranges) */
};

/* "auto", "split", "in-place"; "none" */
const char *kvm_vm_mode_name(unsigned int mode);
/* Parse "auto", "split", "inplace" (or "in-place"); 0 or -EINVAL. */
int kvm_vm_parse_mode(const char *s, unsigned int *mode);

/*
 * Open /dev/kvm, create a KVM_X86_SW_PROTECTED_VM and ask libguestmem what
 * it offers the VM, then check that @want is offered.  Returns 0, or
 * -errno with @why saying what is missing: the caller skips the run
 * (exit 77).  kvm_vm_close() undoes it either way.
 */
int kvm_vm_open(struct kvm_vm *vm, unsigned int want, char *why, size_t len);

/*
 * Make the guest's memory: guestmem_kvm_file_create() in @vm->want mode,
 * guestmem_kvm_bind() of the whole file at KVM_VM_GPA, then the memory
 * slot (KVM_SET_USER_MEMORY_REGION2) with what the bind returned.  0, or
 * a library error or -errno of the slot, after undoing what was done;
 * @why then names the failed step and its error.  *@unsupported is set
 * when guestmem_kvm_file_create() refused the mode (-EOPNOTSUPP: offered
 * by the kernel, not implemented by the library).
 */
int kvm_vm_file_create(struct kvm_vm *vm, struct guestmem_pool *pool, uint64_t size,
		       uint64_t flags, struct guestmem_file **filep, bool *unsupported,
		       char *why, size_t len);

/*
 * Before guestmem_file_destroy(): delete the memory slot and unbind, as
 * guestmem_kvm_file_create(3) asks.  0 or -errno (@what names the step).
 */
int kvm_vm_file_release(struct kvm_vm *vm, const char **what);
/* After guestmem_file_destroy() of the file succeeded. */
void kvm_vm_file_destroyed(struct kvm_vm *vm);

/*
 * The guest touches its private memory in [@off, @off + @len): in split
 * mode every private page of the range is allocated in the guest_memfd,
 * with fallocate(2) on it, which allocates what a guest fault would
 * (kvm_gmem_get_pfn() and fallocate both go through kvm_gmem_get_folio()).
 * No vCPU runs, so this stands for the guest accepting memory or reusing
 * a buffer.  Shared pages are left alone.  0 or -errno.
 */
int kvm_vm_touch_private(struct kvm_vm *vm, uint64_t off, uint64_t len);

/* The guest_memfd of a split-mode file, else -1. */
int kvm_vm_gmem_fd(const struct kvm_vm *vm);

void kvm_vm_close(struct kvm_vm *vm);

#endif /* GUESTMEM_TOOL_KVM_VM_H */
