// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A small VMM running a protected guest on libguestmem: a
 * KVM_X86_SW_PROTECTED_VM whose RAM is a guestmem KVM file
 * (guestmem_kvm_file_create(), guestmem_kvm_bind(), then
 * KVM_SET_USER_MEMORY_REGION2 with what the binding hands out), with pages
 * converted between private and shared when the guest asks.
 *
 * The guest is hand-assembled flat 32-bit code running from a page the
 * host shared with it.  It writes secrets to private pages, asks for pages
 * to become shared and private again with the KVM_HC_MAP_GPA_RANGE
 * hypercall, and checks from inside what it reads after each step: a
 * converted page reads as zero on its new side in split mode and keeps
 * its contents in place in in-place mode (the VMM tells the guest which
 * contract the file's mode has).  It also reads words the host wrote into
 * memory it shared, and asks for two conversions the VMM must refuse.
 * Each check is reported on an I/O port; the host checks the file's state
 * (guestmem_state()) after every conversion, what it sees of the pages the
 * guest shared, the memory split mode gives back to the pool, and at the
 * end that the pool is whole.
 *
 * How conversions reach the VMM:
 *
 *   KVM_HC_MAP_GPA_RANGE  KVM_CAP_EXIT_HYPERCALL turns the guest's
 *       hypercall into KVM_EXIT_HYPERCALL; the VMM calls guestmem_convert()
 *       (which in split mode also sets the VM's memory attributes) and
 *       answers 0, or -KVM_EINVAL for a range outside the guest's RAM or
 *       unknown attribute bits.  The guest issues Intel's vmcall; on AMD,
 *       KVM rewrites it into vmmcall the first time (through the memory
 *       slot's userspace address, which is why the code page is shared).
 *
 *   KVM_EXIT_MEMORY_FAULT  KVM_RUN fails with EFAULT and names a range and
 *       whether the access was private.  QEMU converts the range to that
 *       state and re-enters, and this VMM does too when the range is in
 *       the other state.  But for a SW_PROTECTED VM the exit is not the
 *       guest asking for a conversion: there is no C-bit or shared bit,
 *       and kvm_mmu_page_fault() makes an access private exactly when the
 *       memory attributes say the page is private.  On slots like these
 *       (a guest_memfd the host cannot mmap), Linux 7.2 raises the exit
 *       only for a private access KVM cannot serve: the page has no
 *       memory slot (kvm_handle_noslot_fault(): never made, or deleted
 *       under a running vCPU), its slot has no guest_memfd, or guest_memfd
 *       fails to provide the page (kvm_mmu_faultin_pfn_gmem()).  The flags
 *       then say "private" for a page that is private already, and
 *       converting changes nothing.  The one way to see the other state
 *       is a conversion racing the fault on another vCPU (the recheck in
 *       kvm_mmu_faultin_pfn()): the flags are stale then, and converting
 *       as QEMU does would undo that conversion.  With one vCPU, and
 *       conversions made only while it is stopped, this VMM cannot meet
 *       that race.
 *
 *       What this example provokes is the first case.  In split mode the
 *       VMM binds the second huge page of RAM up front, so KVM's
 *       attributes say private, but makes its memory slot only when the
 *       guest first touches it, as memory plugged on demand would be.
 *       The guest's first write there exits with KVM_EXIT_MEMORY_FAULT
 *       (private, the page's gpa, 4K); the VMM makes the slot and
 *       re-enters, and the write completes in guest_memfd.  Not in
 *       in-place mode: there the file's guest_memfd says what is private,
 *       and KVM asks it only through a memory slot (guestmem's kernel
 *       series); a page without a slot takes the VM's attributes, which
 *       only split mode sets, so that slot is made up front.
 *
 *   coco-guest [--mode auto|split|inplace]
 *
 * Exit status: 0 on success; 77 (skip, saying why) without /dev/kvm,
 * without KVM_X86_SW_PROTECTED_VM or KVM_HC_MAP_GPA_RANGE exits, or when
 * the mode is not offered by KVM or not implemented by libguestmem; 1 on
 * failure, with what failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <guestmem.h>

/*
 * Linux 6.8 uAPI that older <linux/kvm.h> (Debian 12 ships 6.1's) lacks,
 * with the kernel's numbers and layouts.
 */
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES		235
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM		1
#endif
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT		39
#endif
#ifndef KVM_MEMORY_EXIT_FLAG_PRIVATE
#define KVM_MEMORY_EXIT_FLAG_PRIVATE	(1ULL << 3)
#endif

/* KVM_SET_USER_MEMORY_REGION2's argument (struct kvm_userspace_memory_region2). */
struct region2 {
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
#define SET_USER_MEMORY_REGION2	_IOW(KVMIO, 0x49, struct region2)

/* kvm_run.memory_fault, the first bytes of kvm_run's exit union. */
struct memory_fault {
	uint64_t flags;
	uint64_t gpa;
	uint64_t size;
};

/* ------------------------------------------------------------ guest */

/*
 * Guest physical memory: the guestmem file is the guest's RAM at gpa 0,
 * bound as two ranges of one huge page each, in memory slots 0 and 1.
 */
#define HUGE		GUESTMEM_PAGE_2M
#define GUEST_SIZE	(2 * HUGE)
#define PAGE		0x1000u
#define CODE_GPA	0x1000u			/* shared: the code */
#define CHECK_GPA	(CODE_GPA + 0x800u)	/* ... and its check routine */
#define MAILBOX_GPA	0x2000u			/* shared: host -> guest */
#define MB_HOST		(MAILBOX_GPA + 0)	/* a word the host left */
#define MB_KEEP		(MAILBOX_GPA + 4)	/* ~0: contents kept, 0: zeroed */
#define STACK_TOP	0x4000u			/* shared: the stack page below */
#define SHARED_END	STACK_TOP		/* [CODE_GPA, SHARED_END) shared */
#define PRIV_A		0x10000u		/* private, in huge page 0 */
#define PRIV_B		(HUGE + 0x5000u)	/* private, in huge page 1 */

/* Ports the guest reports on (out imm8, eax). */
#define PORT_PASS	0xe9	/* eax: the number of a check that passed */
#define PORT_SEEN	0xea	/* eax: what a failing check read */
#define PORT_WANT	0xeb	/* eax: what it expected */
#define PORT_FAIL	0xec	/* eax: the number of the check that failed */

#define HOST_WORD	0x74736f68u	/* "host" */
#define SECRET_A	0x5ec2e7a1u
#define REPLY_A		0x2e91a1a1u
#define HOST_A		0x4a4a0a0au
#define SECRET_B	0x5ec2e7b2u

/* The checks the guest makes, in the order it makes them. */
enum check {
	CHK_HOST_WORD = 1,
	CHK_PRIVATE_A,
	CHK_SHARE_A,
	CHK_SHARED_A,
	CHK_REPLY_A,
	CHK_HOST_A,
	CHK_UNSHARE_A,
	CHK_PRIVATE_AGAIN_A,
	CHK_PRIVATE_B,
	CHK_SHARE_B,
	CHK_SHARED_B,
	CHK_UNSHARE_B,
	CHK_PRIVATE_AGAIN_B,
	CHK_OUTSIDE,
	CHK_BAD_ATTRS,
	NR_CHECKS = CHK_BAD_ATTRS
};

static const char *const check_what[] = {
	[CHK_HOST_WORD] = "reads the word the host left in shared memory",
	[CHK_PRIVATE_A] = "reads back a secret from private page A",
	[CHK_SHARE_A] = "MAP_GPA_RANGE(A, decrypted) returns 0",
	[CHK_SHARED_A] = "reads A, now shared: its secret if kept, else 0",
	[CHK_REPLY_A] = "reads back a reply written to shared A",
	[CHK_HOST_A] = "reads the word the host wrote into shared A",
	[CHK_UNSHARE_A] = "MAP_GPA_RANGE(A, encrypted) returns 0",
	[CHK_PRIVATE_AGAIN_A] = "reads A, private again: the host's word if kept, else 0",
	[CHK_PRIVATE_B] = "reads back a secret from private page B (huge page 1)",
	[CHK_SHARE_B] = "MAP_GPA_RANGE(B, decrypted) returns 0",
	[CHK_SHARED_B] = "reads B, now shared: its secret if kept, else 0",
	[CHK_UNSHARE_B] = "MAP_GPA_RANGE(B, encrypted) returns 0",
	[CHK_PRIVATE_AGAIN_B] = "reads B, private again: its secret if kept, else 0",
	[CHK_OUTSIDE] = "MAP_GPA_RANGE past the end of RAM returns -KVM_EINVAL",
	[CHK_BAD_ATTRS] = "MAP_GPA_RANGE with a reserved attribute bit returns -KVM_EINVAL",
};

#define LE32(v)	(uint8_t)(v), (uint8_t)((uint32_t)(v) >> 8), \
		(uint8_t)((uint32_t)(v) >> 16), (uint8_t)((uint32_t)(v) >> 24)

/* mov dword [@addr], @val */
#define WRITE(addr, val)	0xc7, 0x05, LE32(addr), LE32(val)

/* Check @n: the guest reads [@addr] and wants @want. */
#define CHECK_READ(n, addr, want)					\
	0xbb, LE32(n),		/* mov ebx, n: which check */		\
	0xb9, LE32(want),	/* mov ecx, want */			\
	0xa1, LE32(addr),	/* mov eax, [addr] */			\
	0xff, 0xd6		/* call esi: the check routine */

/* Check @n: the guest reads [@addr] and wants @val if contents are kept, else 0. */
#define CHECK_READ_KEPT(n, addr, val)					\
	0xbb, LE32(n),		/* mov ebx, n */			\
	0x8b, 0x0d, LE32(MB_KEEP), /* mov ecx, [MB_KEEP]: ~0 or 0 */	\
	0x81, 0xe1, LE32(val),	/* and ecx, val */			\
	0xa1, LE32(addr),	/* mov eax, [addr] */			\
	0xff, 0xd6		/* call esi */

/* KVM_HC_MAP_GPA_RANGE(@gpa, @npages, @attrs); the result in eax. */
#define MAP_GPA_RANGE(gpa, npages, attrs)				\
	0xb8, LE32(KVM_HC_MAP_GPA_RANGE), /* mov eax, 12: hypercall nr */ \
	0xbb, LE32(gpa),	/* mov ebx, gpa */			\
	0xb9, LE32(npages),	/* mov ecx, npages */			\
	0xba, LE32(attrs),	/* mov edx, attrs */			\
	0x0f, 0x01, 0xc1	/* vmcall (KVM makes it vmmcall on AMD) */

/* Check @n: the hypercall just made returned @want. */
#define CHECK_RET(n, want)						\
	0xbb, LE32(n),		/* mov ebx, n */			\
	0xb9, LE32(want),	/* mov ecx, want */			\
	0xff, 0xd6		/* call esi */

/*
 * Flat 32-bit protected mode, no paging: addresses are guest physical.
 * MB_KEEP tells the guest the contract of the file's mode.
 */
static const uint8_t guest_main[] = {
	0xbc, LE32(STACK_TOP),		/* mov esp, STACK_TOP */
	0xbe, LE32(CHECK_GPA),		/* mov esi, CHECK_GPA */
	CHECK_READ(CHK_HOST_WORD, MB_HOST, HOST_WORD),

	/* Page A, private, in the huge page the code shares. */
	WRITE(PRIV_A, SECRET_A),
	CHECK_READ(CHK_PRIVATE_A, PRIV_A, SECRET_A),
	MAP_GPA_RANGE(PRIV_A, 1, KVM_MAP_GPA_RANGE_DECRYPTED),
	CHECK_RET(CHK_SHARE_A, 0),
	CHECK_READ_KEPT(CHK_SHARED_A, PRIV_A, SECRET_A),
	WRITE(PRIV_A, REPLY_A),
	CHECK_READ(CHK_REPLY_A, PRIV_A, REPLY_A),	/* the host reads it, writes HOST_A */
	CHECK_READ(CHK_HOST_A, PRIV_A + 4, HOST_A),
	MAP_GPA_RANGE(PRIV_A, 1, KVM_MAP_GPA_RANGE_ENCRYPTED),
	CHECK_RET(CHK_UNSHARE_A, 0),
	CHECK_READ_KEPT(CHK_PRIVATE_AGAIN_A, PRIV_A + 4, HOST_A),

	/* Page B, in huge page 1, all private: split mode gave it back to the pool. */
	WRITE(PRIV_B, SECRET_B),		/* split: KVM_EXIT_MEMORY_FAULT first */
	CHECK_READ(CHK_PRIVATE_B, PRIV_B, SECRET_B),
	MAP_GPA_RANGE(PRIV_B, 1, KVM_MAP_GPA_RANGE_DECRYPTED),
	CHECK_RET(CHK_SHARE_B, 0),
	CHECK_READ_KEPT(CHK_SHARED_B, PRIV_B, SECRET_B),
	MAP_GPA_RANGE(PRIV_B, 1, KVM_MAP_GPA_RANGE_ENCRYPTED),
	CHECK_RET(CHK_UNSHARE_B, 0),
	CHECK_READ_KEPT(CHK_PRIVATE_AGAIN_B, PRIV_B, SECRET_B),

	/* Requests the VMM must refuse. */
	MAP_GPA_RANGE(GUEST_SIZE, 1, KVM_MAP_GPA_RANGE_ENCRYPTED),
	CHECK_RET(CHK_OUTSIDE, -KVM_EINVAL),
	MAP_GPA_RANGE(PRIV_B, 1, 1u << 5),
	CHECK_RET(CHK_BAD_ATTRS, -KVM_EINVAL),
	0xf4,				/* hlt */
};

_Static_assert(sizeof(guest_main) <= CHECK_GPA - CODE_GPA, "the code runs into the check routine");

/* At CHECK_GPA: eax = what the guest read, ecx = what it wants, ebx = check. */
static const uint8_t guest_check[] = {
	0x39, 0xc8,		/* cmp eax, ecx */
	0x75, 0x05,		/* jne fail */
	0x89, 0xd8,		/* mov eax, ebx */
	0xe7, PORT_PASS,	/* out PORT_PASS, eax: check ebx passed */
	0xc3,			/* ret */
	0xe7, PORT_SEEN,	/* fail: out PORT_SEEN, eax */
	0x89, 0xc8,		/* mov eax, ecx */
	0xe7, PORT_WANT,	/* out PORT_WANT, eax */
	0x89, 0xd8,		/* mov eax, ebx */
	0xe7, PORT_FAIL,	/* out PORT_FAIL, eax: the host stops here */
	0xf4,			/* hlt */
};

/* -------------------------------------------------------------- VMM */

/* A range of the file bound to guest memory, and its memory slot. */
struct ram {
	uint64_t gpa, len;		/* the file offset is the gpa */
	uint32_t slot;
	bool plugged;			/* the memory slot exists */
	struct guestmem_kvm_slot s;	/* from guestmem_kvm_bind() */
};

struct vmm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	struct guestmem_pool *pool;
	struct guestmem_file *file;
	unsigned int mode;		/* the file's enum guestmem_kvm_mode */
	bool keeps;			/* conversions keep contents (in place) */
	uint8_t *hva;
	struct ram ram[2];
	unsigned int passed;		/* checks passed, in order */
	uint32_t seen, want;		/* of a failing check */
	unsigned int conversions, refused, memory_faults;
	struct memory_fault last_fault;	/* handled, and no other exit since */
	bool fault_pending;
};

static int fail(const char *what)
{
	fprintf(stderr, "coco-guest: %s: %s\n", what, strerror(errno));
	return 1;
}

static int gm_fail(const char *what)
{
	fprintf(stderr, "coco-guest: %s: %s\n", what, guestmem_last_error());
	return 1;
}

static int failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failx(const char *fmt, ...)
{
	va_list ap;

	fputs("coco-guest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static const char *state_name(int state)
{
	return state == GUESTMEM_PRIVATE ? "private" : state == GUESTMEM_SHARED ? "shared" :
	       "mixed";
}

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case GUESTMEM_KVM_SPLIT:
		return "split";
	case GUESTMEM_KVM_INPLACE:
		return "inplace";
	case GUESTMEM_KVM_NONE:
		return "none";
	default:
		return "auto";
	}
}

/* The state of all of [@off, @off + @len), or -1 if it is mixed. */
static int range_state(struct guestmem_file *file, uint64_t off, uint64_t len)
{
	unsigned int state;
	uint64_t run;

	if (guestmem_state(file, off, &state, &run))
		return -1;
	return run >= len ? (int)state : -1;
}

static uint32_t read_word(const struct vmm *vmm, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, vmm->hva + gpa, sizeof(v));
	return v;
}

static void write_word(struct vmm *vmm, uint64_t gpa, uint32_t v)
{
	memcpy(vmm->hva + gpa, &v, sizeof(v));
}

/* The bound range holding [@gpa, @gpa + @len), or NULL. */
static struct ram *ram_of(struct vmm *vmm, uint64_t gpa, uint64_t len)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		struct ram *r = &vmm->ram[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->len && len <= r->len - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

/* Make @r's memory slot from what guestmem_kvm_bind() handed out. */
static int plug(struct vmm *vmm, struct ram *r)
{
	struct region2 region = {
		.slot = r->slot, .flags = r->s.flags, .guest_phys_addr = r->gpa,
		.memory_size = r->len, .userspace_addr = r->s.userspace_addr,
		.guest_memfd_offset = r->s.guest_memfd_offset,
		.guest_memfd = (uint32_t)r->s.guest_memfd,
	};

	if (ioctl(vmm->vm, SET_USER_MEMORY_REGION2, &region))
		return fail("KVM_SET_USER_MEMORY_REGION2");
	r->plugged = true;
	return 0;
}

static int unplug(struct vmm *vmm, struct ram *r)
{
	struct region2 region = { .slot = r->slot };

	if (!r->plugged)
		return 0;
	if (ioctl(vmm->vm, SET_USER_MEMORY_REGION2, &region))
		return fail("deleting a memory slot");
	r->plugged = false;
	return 0;
}

/*
 * Convert guest memory [@gpa, @gpa + @len) to @to, then check that the
 * library's state says so.
 */
static int convert(struct vmm *vmm, uint64_t gpa, uint64_t len, unsigned int to,
		   const char *why)
{
	char what[128];
	int st;

	snprintf(what, sizeof(what), "%s: converting gpa %#llx+%#llx to %s", why,
		 (unsigned long long)gpa, (unsigned long long)len, state_name((int)to));
	if (guestmem_convert(vmm->file, gpa, len, to, NULL))
		return gm_fail(what);
	st = range_state(vmm->file, gpa, len);
	if (st != (int)to)
		return failx("%s: guestmem_state() then says %s", what, state_name(st));
	vmm->conversions++;
	printf("%s: done\n", what);
	return 0;
}

/*
 * KVM_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE: convert, and answer 0 or
 * -KVM_EINVAL in run->hypercall.ret.  Returns 0, or 1 if the VMM failed.
 */
static int on_hypercall(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	uint64_t gpa = run->hypercall.args[0], npages = run->hypercall.args[1];
	uint64_t attrs = run->hypercall.args[2];
	/* Bits 3:0 a page size hint, bit 4 encrypted; bits 63:5 reserved. */
	uint64_t known = 0xf | KVM_MAP_GPA_RANGE_ENCRYPTED;
	const char *refuse = NULL;
	unsigned int to;

	if (run->hypercall.nr != KVM_HC_MAP_GPA_RANGE)
		return failx("KVM_EXIT_HYPERCALL for hypercall %llu: only KVM_HC_MAP_GPA_RANGE was enabled",
			     (unsigned long long)run->hypercall.nr);
	if (attrs & ~known)
		refuse = "reserved attribute bits";
	else if (npages > GUEST_SIZE / PAGE || gpa >= GUEST_SIZE ||
		 npages * PAGE > GUEST_SIZE - gpa)
		refuse = "not guest RAM";
	if (refuse) {
		printf("KVM_HC_MAP_GPA_RANGE(%#llx, %llu, %#llx): refused, %s\n",
		       (unsigned long long)gpa, (unsigned long long)npages,
		       (unsigned long long)attrs, refuse);
		run->hypercall.ret = (uint64_t)-KVM_EINVAL;
		vmm->refused++;
		return 0;
	}
	to = attrs & KVM_MAP_GPA_RANGE_ENCRYPTED ? GUESTMEM_PRIVATE : GUESTMEM_SHARED;
	if (convert(vmm, gpa, npages * PAGE, to, "KVM_HC_MAP_GPA_RANGE"))
		return 1;
	run->hypercall.ret = 0;
	return 0;
}

static struct memory_fault memory_fault_of(const struct kvm_run *run)
{
	struct memory_fault mf;

	memcpy(&mf, &run->hw, sizeof(mf));
	return mf;
}

/*
 * KVM_EXIT_MEMORY_FAULT: KVM could not map [gpa, gpa + size) for a private
 * (or shared) access.  Make the slot if there is none, else convert the
 * range to the state the access wants, as QEMU does (see the top of the
 * file for when that happens).  Returns 0 to re-enter, or 1.
 */
static int on_memory_fault(struct vmm *vmm)
{
	struct memory_fault mf = memory_fault_of(vmm->run);
	bool private = mf.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE;
	unsigned int want = private ? GUESTMEM_PRIVATE : GUESTMEM_SHARED;
	struct ram *r = ram_of(vmm, mf.gpa, mf.size);
	int st;

	printf("KVM_EXIT_MEMORY_FAULT: %s access to gpa %#llx+%#llx\n", state_name((int)want),
	       (unsigned long long)mf.gpa, (unsigned long long)mf.size);
	if (mf.flags & ~KVM_MEMORY_EXIT_FLAG_PRIVATE)
		return failx("KVM_EXIT_MEMORY_FAULT with unknown flags %#llx",
			     (unsigned long long)mf.flags);
	if (!r)
		return failx("KVM_EXIT_MEMORY_FAULT at gpa %#llx+%#llx: not guest RAM",
			     (unsigned long long)mf.gpa, (unsigned long long)mf.size);
	if (vmm->fault_pending && !memcmp(&mf, &vmm->last_fault, sizeof(mf)))
		return failx("KVM_EXIT_MEMORY_FAULT at gpa %#llx again, right after it was handled",
			     (unsigned long long)mf.gpa);
	vmm->memory_faults++;
	vmm->last_fault = mf;
	vmm->fault_pending = true;
	if (!r->plugged) {
		printf("  no memory slot there yet: making slot %u (gpa %#llx+%#llx)\n", r->slot,
		       (unsigned long long)r->gpa, (unsigned long long)r->len);
		return plug(vmm, r);
	}
	st = range_state(vmm->file, mf.gpa, mf.size);
	if (st != (int)want)
		return convert(vmm, mf.gpa, mf.size, want, "KVM_EXIT_MEMORY_FAULT");
	return failx("KVM cannot map gpa %#llx+%#llx for a %s access, though it is %s and its slot %u has %s",
		     (unsigned long long)mf.gpa, (unsigned long long)mf.size, state_name((int)want),
		     state_name(st), r->slot,
		     r->s.guest_memfd >= 0 ? "a guest_memfd" : "no guest_memfd");
}

/* Split mode: the file holds @allocated bytes of huge pages, @returned given back. */
static int check_split_stats(struct vmm *vmm, uint64_t allocated, uint64_t returned,
			     const char *when)
{
	struct guestmem_file_stats fs;
	struct guestmem_pool_stats ps;

	if (vmm->mode != GUESTMEM_KVM_SPLIT)
		return 0;
	if (guestmem_file_stats(vmm->file, &fs, sizeof(fs)) ||
	    guestmem_pool_stats(vmm->pool, &ps, sizeof(ps)))
		return gm_fail("stats");
	if (fs.allocated != allocated || fs.kvm_returned != returned ||
	    ps.kvm_split_returned_bytes != returned)
		return failx("%s: the file has %#llx bytes allocated and %#llx returned (pool: %#llx), expected %#llx and %#llx",
			     when, (unsigned long long)fs.allocated,
			     (unsigned long long)fs.kvm_returned,
			     (unsigned long long)ps.kvm_split_returned_bytes,
			     (unsigned long long)allocated, (unsigned long long)returned);
	return 0;
}

/* What the host expects of memory converted after @val was written to it. */
static uint32_t kept(const struct vmm *vmm, uint32_t val)
{
	return vmm->keeps ? val : 0;
}

/* The host's side of the steps, run when the guest passed check @n. */
static int host_step(struct vmm *vmm, unsigned int n)
{
	uint32_t v;

	switch (n) {
	case CHK_SHARED_A:
		/* The host may read A now; split mode kept the secret from it. */
		v = read_word(vmm, PRIV_A);
		if (v != kept(vmm, SECRET_A))
			return failx("the host reads %#x in page A shared by the guest, expected %#x",
				     v, kept(vmm, SECRET_A));
		return 0;
	case CHK_REPLY_A:
		v = read_word(vmm, PRIV_A);
		if (v != REPLY_A)
			return failx("the host reads %#x in shared page A, not the guest's reply %#x",
				     v, REPLY_A);
		write_word(vmm, PRIV_A + 4, HOST_A);
		return 0;
	case CHK_PRIVATE_B:
		/* The first write to B was the memory fault (split mode). */
		if (vmm->memory_faults != (vmm->mode == GUESTMEM_KVM_SPLIT))
			return failx("%u KVM_EXIT_MEMORY_FAULT exits before page B worked, expected %d",
				     vmm->memory_faults, vmm->mode == GUESTMEM_KVM_SPLIT);
		/* B's private memory is guest_memfd's: huge page 1 stays returned. */
		return check_split_stats(vmm, HUGE, HUGE, "page B written");
	case CHK_SHARE_B:
		return check_split_stats(vmm, 2 * HUGE, 0, "page B shared");
	case CHK_SHARED_B:
		v = read_word(vmm, PRIV_B);
		if (v != kept(vmm, SECRET_B))
			return failx("the host reads %#x in page B shared by the guest, expected %#x",
				     v, kept(vmm, SECRET_B));
		return 0;
	case CHK_UNSHARE_B:
		return check_split_stats(vmm, HUGE, HUGE, "page B private again");
	default:
		return 0;
	}
}

/* KVM_EXIT_IO: the guest reports a check.  Returns 0 to go on, or 1. */
static int on_port(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	uint32_t v;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1)
		return failx("unexpected I/O exit: port %#x, %s, size %u",
			     run->io.port, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			     run->io.size);
	memcpy(&v, (uint8_t *)run + run->io.data_offset, sizeof(v));
	switch (run->io.port) {
	case PORT_PASS:
		if (v != vmm->passed + 1)
			return failx("the guest passed check %u after check %u", v, vmm->passed);
		vmm->passed = v;
		printf("guest check %2u ok: %s\n", v, check_what[v]);
		return host_step(vmm, v);
	case PORT_SEEN:
		vmm->seen = v;
		return 0;
	case PORT_WANT:
		vmm->want = v;
		return 0;
	case PORT_FAIL:
		return failx("guest check %u (%s) failed: read %#x, expected %#x", v,
			     v >= 1 && v <= NR_CHECKS ? check_what[v] : "?", vmm->seen, vmm->want);
	default:
		return failx("unexpected I/O exit: out to port %#x", run->io.port);
	}
}

/* Run the guest until it halts: 0, or 1 with the reason printed. */
static int run_guest(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;

	for (;;) {
		int r = ioctl(vmm->vcpu, KVM_RUN, 0), err = 0;

		if (r && (errno == EFAULT || errno == EHWPOISON) &&
		    run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
			err = on_memory_fault(vmm);
		} else if (r) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return fail("KVM_RUN");
		} else {
			vmm->fault_pending = false;
			switch (run->exit_reason) {
			case KVM_EXIT_HLT:
				return 0;
			case KVM_EXIT_HYPERCALL:
				err = on_hypercall(vmm);
				break;
			case KVM_EXIT_IO:
				err = on_port(vmm);
				break;
			case KVM_EXIT_MMIO:
				return failx("the guest touched gpa %#llx, where there is no memory (KVM_EXIT_MMIO)",
					     (unsigned long long)run->mmio.phys_addr);
			case KVM_EXIT_SHUTDOWN:
				return failx("the guest shut down (triple fault)");
			case KVM_EXIT_INTERNAL_ERROR:
				return failx("KVM internal error, suberror %u",
					     run->internal.suberror);
			default:
				return failx("unexpected exit reason %u", run->exit_reason);
			}
		}
		if (err)
			return err;
	}
}

/* ------------------------------------------------------------ setup */

/* The VM, or 77 (skip) if KVM cannot run this example. */
static int vm_create(struct vmm *vmm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_EXIT_HYPERCALL, .args[0] = 1ULL << KVM_HC_MAP_GPA_RANGE,
	};
	long types, exits;

	vmm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vmm->kvm < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	types = ioctl(vmm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types <= 0 || !(types & (1L << KVM_X86_SW_PROTECTED_VM))) {
		printf("SKIP: KVM offers no KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES %#lx: Linux 6.8 or later with CONFIG_KVM_SW_PROTECTED_VM)\n",
		       types > 0 ? types : 0);
		return 77;
	}
	vmm->vm = ioctl(vmm->kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	if (vmm->vm < 0)
		return fail("KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM)");
	exits = ioctl(vmm->vm, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL);
	if (exits <= 0 || !(exits & cap.args[0])) {
		printf("SKIP: KVM cannot exit to userspace for KVM_HC_MAP_GPA_RANGE (KVM_CAP_EXIT_HYPERCALL %#lx)\n",
		       exits > 0 ? exits : 0);
		return 77;
	}
	if (ioctl(vmm->vm, KVM_ENABLE_CAP, &cap))
		return fail("KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)");
	return 0;
}

/* The file for the VM's RAM, or 77 (skip) if @mode is not to be had. */
static int file_create(struct vmm *vmm, unsigned int mode)
{
	struct guestmem_pool_opts opts = {
		.page_size = HUGE, .nr_pages = GUEST_SIZE / HUGE, .node = -1,
		.flags = GUESTMEM_POOL_FALLBACK,
	};
	int err;

	if (guestmem_pool_create(&opts, &vmm->pool))
		return gm_fail("guestmem_pool_create");
	err = guestmem_kvm_file_create(vmm->pool, vmm->vm, GUEST_SIZE, 0, mode, &vmm->mode,
				       &vmm->file);
	if (err == -EOPNOTSUPP) {
		printf("SKIP: mode %s: %s\n", mode_name(mode), guestmem_last_error());
		return 77;
	}
	if (err)
		return gm_fail("guestmem_kvm_file_create");
	/* Split mode zeroes what changes state; in place keeps it. */
	vmm->keeps = vmm->mode == GUESTMEM_KVM_INPLACE;
	vmm->hva = guestmem_file_hva(vmm->file);
	return 0;
}

/*
 * The guest's RAM: all private but the code, mailbox and stack pages,
 * which the host fills; both halves bound, slot 0 made.  Slot 1 too,
 * except in split mode, where the guest's first touch of it makes it.
 */
static int ram_setup(struct vmm *vmm)
{
	uint32_t keep = vmm->keeps ? ~0u : 0;
	size_t i;

	if (guestmem_allocate(vmm->file, 0, GUEST_SIZE))
		return gm_fail("guestmem_allocate");
	if (check_split_stats(vmm, 0, GUEST_SIZE, "all private"))
		return 1;
	if (convert(vmm, CODE_GPA, SHARED_END - CODE_GPA, GUESTMEM_SHARED, "launch"))
		return 1;
	memcpy(vmm->hva + CODE_GPA, guest_main, sizeof(guest_main));
	memcpy(vmm->hva + CHECK_GPA, guest_check, sizeof(guest_check));
	write_word(vmm, MB_HOST, HOST_WORD);
	write_word(vmm, MB_KEEP, keep);
	for (i = 0; i < 2; i++) {
		struct ram *r = &vmm->ram[i];

		*r = (struct ram){ .gpa = i * HUGE, .len = HUGE, .slot = (uint32_t)i };
		if (guestmem_kvm_bind(vmm->file, r->gpa, r->len, r->gpa, &r->s))
			return gm_fail("guestmem_kvm_bind");
		if (r->gpa == 0 || vmm->mode != GUESTMEM_KVM_SPLIT) {
			if (plug(vmm, r))
				return 1;
		}
	}
	return 0;
}

/* One vCPU at CODE_GPA in flat 32-bit protected mode. */
static int vcpu_create(struct vmm *vmm)
{
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .selector = 1 << 3, .present = 1,
		.type = 11 /* code: execute, read, accessed */, .dpl = 0, .db = 1, .s = 1,
		.g = 1,
	};
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };
	struct kvm_sregs sregs;
	int size;

	vmm->vcpu = ioctl(vmm->vm, KVM_CREATE_VCPU, 0);
	if (vmm->vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	size = ioctl(vmm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	vmm->run_size = (size_t)size;
	vmm->run = mmap(NULL, vmm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vmm->vcpu, 0);
	if (vmm->run == MAP_FAILED) {
		vmm->run = NULL;
		return fail("mmap of the vCPU's kvm_run");
	}
	if (ioctl(vmm->vcpu, KVM_GET_SREGS, &sregs))
		return fail("KVM_GET_SREGS");
	sregs.cr0 |= 1;			/* PE */
	sregs.cs = seg;
	seg.type = 3;			/* data: read, write, accessed */
	seg.selector = 2 << 3;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	if (ioctl(vmm->vcpu, KVM_SET_SREGS, &sregs) || ioctl(vmm->vcpu, KVM_SET_REGS, &regs))
		return fail("setting the vCPU's registers");
	return 0;
}

/* After the guest halted: every check passed, every exit counted. */
static int check_run(struct vmm *vmm)
{
	unsigned int faults = vmm->mode == GUESTMEM_KVM_SPLIT;

	if (vmm->passed != NR_CHECKS)
		return failx("the guest halted after %u of its %d checks", vmm->passed, NR_CHECKS);
	/* launch + 4 hypercalls; 2 refused; the missing slot in split mode */
	if (vmm->conversions != 5 || vmm->refused != 2 || vmm->memory_faults != faults)
		return failx("%u conversions, %u refused, %u memory faults: expected 5, 2 and %u",
			     vmm->conversions, vmm->refused, vmm->memory_faults, faults);
	if (range_state(vmm->file, PRIV_A, PAGE) != GUESTMEM_PRIVATE ||
	    range_state(vmm->file, PRIV_B, PAGE) != GUESTMEM_PRIVATE)
		return failx("pages A and B are not private at the end");
	return 0;
}

/* Slots, bindings, file, VM; then the pool must be whole.  Returns @err or 1. */
static int teardown(struct vmm *vmm, int err)
{
	struct guestmem_pool_stats ps;
	size_t i;

	for (i = 0; vmm->file && i < 2; i++) {
		if (unplug(vmm, &vmm->ram[i]))
			err = err ? err : 1;
		if (vmm->ram[i].len && guestmem_kvm_unbind(vmm->file, vmm->ram[i].gpa))
			err = err ? err : gm_fail("guestmem_kvm_unbind");
	}
	if (vmm->file && guestmem_file_destroy(vmm->file))
		err = err ? err : gm_fail("guestmem_file_destroy");
	if (vmm->run)
		munmap(vmm->run, vmm->run_size);
	if (vmm->vcpu >= 0)
		close(vmm->vcpu);
	if (vmm->vm >= 0)
		close(vmm->vm);
	if (vmm->kvm >= 0)
		close(vmm->kvm);
	if (!vmm->pool)
		return err;
	if (guestmem_pool_stats(vmm->pool, &ps, sizeof(ps)))
		return gm_fail("guestmem_pool_stats");
	if (!err && (ps.free != ps.total || ps.reserved || ps.in_use || ps.pending ||
		     ps.kvm_split_files))
		err = failx("the pool is not whole: %llu of %llu huge pages free, %llu reserved, %llu in use, %llu pending",
			    (unsigned long long)ps.free, (unsigned long long)ps.total,
			    (unsigned long long)ps.reserved, (unsigned long long)ps.in_use,
			    (unsigned long long)ps.pending);
	if (!err)
		printf("pool whole: %llu %s huge pages free, %llu splits, %llu merges\n",
		       (unsigned long long)ps.free,
		       ps.backend == GUESTMEM_BACKEND_HUGETLB ? "hugetlb 2M" : "fallback",
		       (unsigned long long)ps.splits, (unsigned long long)ps.merges);
	if (guestmem_pool_destroy(vmm->pool))
		err = err ? err : gm_fail("guestmem_pool_destroy");
	return err;
}

static int parse_mode(int argc, char **argv, unsigned int *mode)
{
	static const struct {
		const char *name;
		unsigned int mode;
	} modes[] = {
		{ "auto", GUESTMEM_KVM_AUTO },
		{ "split", GUESTMEM_KVM_SPLIT },
		{ "inplace", GUESTMEM_KVM_INPLACE },
	};
	size_t i;

	*mode = GUESTMEM_KVM_AUTO;
	if (argc == 1)
		return 0;
	if (argc == 3 && !strcmp(argv[1], "--mode")) {
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			if (!strcmp(argv[2], modes[i].name)) {
				*mode = modes[i].mode;
				return 0;
			}
		}
	}
	fprintf(stderr, "usage: coco-guest [--mode auto|split|inplace]\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct vmm vmm = { .kvm = -1, .vm = -1, .vcpu = -1 };
	unsigned int mode;
	int err;

	if (parse_mode(argc, argv, &mode))
		return 1;
	err = vm_create(&vmm);
	if (!err)
		err = file_create(&vmm, mode);
	if (!err) {
		printf("mode %s: a converted page %s\n", mode_name(vmm.mode),
		       vmm.keeps ? "keeps its contents" : "reads as zero on its new side");
		err = ram_setup(&vmm);
	}
	if (!err)
		err = vcpu_create(&vmm);
	if (!err)
		err = run_guest(&vmm);
	if (!err)
		err = check_run(&vmm);
	err = teardown(&vmm, err);
	if (!err)
		printf("coco-guest: %s mode: %d guest checks passed, %u conversions, %u refused, %u KVM_EXIT_MEMORY_FAULT\n",
		       mode_name(vmm.mode), NR_CHECKS, vmm.conversions, vmm.refused,
		       vmm.memory_faults);
	return err;
}
