// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: the decisions behind KVM files, as pure functions of what
 * they are given (lib/kvm_mode.h), so that tests/check_kvm_unit runs them
 * on made-up kernels: which modes a VM's capabilities offer and which one
 * a file gets, which bindings a range falls in, and which huge pages are
 * wholly private.
 */
#include <errno.h>

#include "kvm_mode.h"

#define SZ_4K	UINT64_C(4096)

uint64_t gm_kvm_offered(const struct gm_kvm_raw_caps *c)
{
	uint64_t m = GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_NONE);
	bool private_mem = c->attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE;

	/* Private memory in a guest_memfd, bound with the region2 ioctl. */
	if (private_mem && c->guest_memfd && c->user_memory2)
		m |= GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_SPLIT);
	/*
	 * guestmem's series: hugetlb guest_memfd, mappable by the host (one
	 * copy needs GUEST_MEMFD_FLAG_MMAP), with per-file attributes.
	 */
	if (c->guest_memfd && c->user_memory2 &&
	    (c->guest_memfd_flags & GM_GUEST_MEMFD_FLAG_HUGETLB) &&
	    (c->guest_memfd_flags & GUEST_MEMFD_FLAG_MMAP) &&
	    (c->guest_memfd_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		m |= GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_INPLACE);
	return m;
}

const char *gm_kvm_mode_name(unsigned int mode)
{
	static const char *const names[] = {
		[GUESTMEM_KVM_AUTO] = "auto", [GUESTMEM_KVM_NONE] = "none",
		[GUESTMEM_KVM_SPLIT] = "split", [GUESTMEM_KVM_INPLACE] = "in-place",
	};

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "unknown";
}

unsigned int gm_kvm_best(const struct gm_kvm_raw_caps *c)
{
	uint64_t offered = gm_kvm_offered(c);

	/* One copy of the memory, privacy enforced by the kernel. */
	if (offered & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_INPLACE))
		return GUESTMEM_KVM_INPLACE;
	if (offered & GUESTMEM_KVM_MODE_BIT(GUESTMEM_KVM_SPLIT))
		return GUESTMEM_KVM_SPLIT;
	return GUESTMEM_KVM_NONE;
}

/* Why @mode is not offered by @c (it is not). */
static const char *missing(const struct gm_kvm_raw_caps *c, unsigned int mode)
{
	if (!c->guest_memfd)
		return "KVM has no guest_memfd for this VM (KVM_CAP_GUEST_MEMFD is 0)";
	if (!c->user_memory2)
		return "KVM has no KVM_SET_USER_MEMORY_REGION2 (KVM_CAP_USER_MEMORY2 is 0)";
	if (mode == GUESTMEM_KVM_SPLIT)
		return "the VM has no private memory (KVM_CAP_MEMORY_ATTRIBUTES lacks KVM_MEMORY_ATTRIBUTE_PRIVATE; create it as KVM_X86_SW_PROTECTED_VM, SEV-SNP or TDX)";
	if (!(c->guest_memfd_flags & GM_GUEST_MEMFD_FLAG_HUGETLB))
		return "KVM offers no hugetlb guest_memfd (KVM_CAP_GUEST_MEMFD_FLAGS lacks GUEST_MEMFD_FLAG_HUGETLB: guestmem's kernel series, and default or KVM_X86_SW_PROTECTED_VM VMs only)";
	if (!(c->guest_memfd_flags & GUEST_MEMFD_FLAG_MMAP))
		return "KVM offers no host mapping of guest_memfd (KVM_CAP_GUEST_MEMFD_FLAGS lacks GUEST_MEMFD_FLAG_MMAP)";
	return "the VM's guest_memfds have no private attribute (KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES lacks KVM_MEMORY_ATTRIBUTE_PRIVATE)";
}

int gm_kvm_choose(const struct gm_kvm_raw_caps *c, unsigned int requested,
		  unsigned int *mode, const char **why)
{
	uint64_t offered = gm_kvm_offered(c);

	*why = "";
	switch (requested) {
	case GUESTMEM_KVM_AUTO:
		/*
		 * NONE never tells KVM about private memory: on a VM that has
		 * it, only when asked for by name.
		 */
		if (gm_kvm_best(c) == GUESTMEM_KVM_NONE &&
		    (c->attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
			*why = "the VM has private memory (KVM_MEMORY_ATTRIBUTE_PRIVATE) but no mode that tells KVM about it is available here: ask for GUESTMEM_KVM_NONE explicitly to get a plain file KVM is never told about";
			return -EOPNOTSUPP;
		}
		*mode = gm_kvm_best(c);
		return 0;
	case GUESTMEM_KVM_NONE:
		*mode = GUESTMEM_KVM_NONE;
		return 0;
	case GUESTMEM_KVM_SPLIT:
	case GUESTMEM_KVM_INPLACE:
		if (!(offered & GUESTMEM_KVM_MODE_BIT(requested))) {
			*why = missing(c, requested);
			return -EOPNOTSUPP;
		}
		*mode = requested;
		return 0;
	default:
		*why = "unknown mode";
		return -EINVAL;
	}
}

int gm_kvm_bind_check(const struct gm_kvm_binding *b, size_t n, uint64_t size,
		      uint64_t off, uint64_t len, uint64_t gpa)
{
	size_t i;

	if (!len || off % SZ_4K || len % SZ_4K || gpa % SZ_4K)
		return -EINVAL;
	if (off + len < off || off + len > size || gpa + len < gpa)
		return -ERANGE;
	for (i = 0; i < n; i++)
		if (off < b[i].offset + b[i].len && b[i].offset < off + len)
			return -EEXIST;
	if (n >= GM_KVM_MAX_BINDINGS)
		return -ENOSPC;
	return 0;
}

size_t gm_kvm_gpa_ranges(const struct gm_kvm_binding *b, size_t n, uint64_t off,
			 uint64_t len, struct gm_kvm_gpa_range *out)
{
	uint64_t end = off + len;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		uint64_t s = off > b[i].offset ? off : b[i].offset;
		uint64_t e = end < b[i].offset + b[i].len ? end : b[i].offset + b[i].len;

		if (s >= e)
			continue;
		out[k].offset = s;
		out[k].gpa = b[i].gpa + (s - b[i].offset);
		out[k].len = e - s;
		k++;
	}
	return k;
}

int gm_kvm_huge_all_private(gm_kvm_state_fn state, void *ctx, uint64_t h, uint64_t huge)
{
	unsigned int st;
	uint64_t run;
	int err = state(ctx, h * huge, &st, &run);

	if (err)
		return err;
	return st == GUESTMEM_PRIVATE && run >= huge;
}
