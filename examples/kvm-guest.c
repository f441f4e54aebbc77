// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A minimal VMM on libguestmem: the guest's RAM is a guestmem file, its
 * host mapping (guestmem_file_hva()) is the KVM memslot's userspace_addr.
 *
 * The guest is a few bytes of flat 32-bit code.  It echoes a word the
 * host left in RAM, writes a pattern to its second huge page and echoes
 * it, then reads that word again and echoes it, writes a last pattern and
 * halts.  Between the second and the third echo the host punches the
 * whole second huge page out of the file (a balloon would), so the
 * guest's next read touches memory that is gone.  How it comes back is
 * shown twice:
 *
 *   on fault:  the file has GUESTMEM_FILE_ALLOC_ON_FAULT; KVM's fault on
 *              the page blocks in the kernel until the library's fault
 *              thread has allocated it, and the guest reads zero.  Needs
 *              a userfaultfd for kernel-mode faults (root is enough); the
 *              part is skipped with the reason where there is none.
 *   explicit:  without the flag the punched range is a trap: KVM_RUN
 *              fails with EFAULT and does not say where (x86 KVM fills
 *              KVM_EXIT_MEMORY_FAULT only for private accesses), so the
 *              VMM allocates what it punched, here after that EFAULT (a
 *              real VMM does it before resuming the vCPU), and runs again.
 *
 * Either way the host then checks what the guest wrote through its own
 * mapping, converts the code page to private and back (the data stays in
 * place), and checks that the pool is whole when the files are gone.
 *
 *   examples/kvm-guest     exit 0 on success, 77 (skip) without /dev/kvm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <guestmem.h>

#define HUGE		GUESTMEM_PAGE_2M
#define GUEST_SIZE	(2 * HUGE)
#define CODE_GPA	0x1000u
#define HELLO_GPA	0x2000u			/* huge page 0: left by the host */
#define DATA_GPA	(HUGE + 0x3000u)	/* huge page 1: punched */
#define PORT		0xe9
#define HELLO		0x6b6f6968u		/* "hiok" */
#define FIRST		0x11223344u
#define LAST		0xcafef00du

#define LE32(v)	(v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, (uint32_t)(v) >> 24

/* Flat 32-bit protected mode, no paging: addresses are guest-physical. */
static const uint8_t guest_code[] = {
	0xa1, LE32(HELLO_GPA),			/* mov eax, [HELLO_GPA] */
	0xe7, PORT,				/* out 0xe9, eax: HELLO */
	0xc7, 0x05, LE32(DATA_GPA), LE32(FIRST),	/* mov dword [DATA_GPA], FIRST */
	0xa1, LE32(DATA_GPA),			/* mov eax, [DATA_GPA] */
	0xe7, PORT,				/* out 0xe9, eax: FIRST; host punches */
	0xa1, LE32(DATA_GPA),			/* mov eax, [DATA_GPA]: the page is gone */
	0xe7, PORT,				/* out 0xe9, eax: 0 */
	0xc7, 0x05, LE32(DATA_GPA), LE32(LAST),	/* mov dword [DATA_GPA], LAST */
	0xf4,					/* hlt */
};

struct vm {
	int kvm, fd, vcpu, run_size;
	struct kvm_run *run;
};

/* A system call failed (errno). */
static int fail(const char *what)
{
	fprintf(stderr, "kvm-guest: %s: %s\n", what, strerror(errno));
	return 1;
}

/* A libguestmem call failed. */
static int gm_fail(const char *what)
{
	fprintf(stderr, "kvm-guest: %s: %s\n", what, guestmem_last_error());
	return 1;
}

/* A check failed. */
static int failx(const char *what)
{
	fprintf(stderr, "kvm-guest: %s\n", what);
	return 1;
}

static void vm_close(struct vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->fd >= 0)
		close(vm->fd);
	close(vm->kvm);
}

/* A VM whose RAM is @ram, one vCPU at CODE_GPA in flat 32-bit mode. */
static int vm_open(struct vm *vm, int kvm, void *ram)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_SIZE,
		.userspace_addr = (uintptr_t)ram,
	};
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .selector = 1 << 3, .present = 1,
		.type = 11 /* code: execute, read, accessed */, .dpl = 0, .db = 1,
		.s = 1, .l = 0, .g = 1,
	};
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };
	struct kvm_sregs sregs;

	*vm = (struct vm){ .kvm = kvm, .fd = -1, .vcpu = -1 };
	vm->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0 || ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot))
		return fail("KVM memslot on the guestmem mapping");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	vm->run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu < 0 || vm->run_size <= 0)
		return fail("vCPU");
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED || ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		return fail("vCPU");
	sregs.cr0 |= 1;		/* PE */
	sregs.cs = seg;
	seg.type = 3;		/* data: read, write, accessed */
	seg.selector = 2 << 3;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) || ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		return fail("vCPU registers");
	return 0;
}

/*
 * Run until the guest echoes a word (returns 0, *@val set) or halts
 * (returns 1).  KVM_RUN failing returns -errno.
 */
static int vm_run(struct vm *vm, uint32_t *val)
{
	struct kvm_run *run = vm->run;

	if (ioctl(vm->vcpu, KVM_RUN, 0))
		return -errno;
	if (run->exit_reason == KVM_EXIT_HLT)
		return 1;
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4) {
		fprintf(stderr, "kvm-guest: unexpected exit %u\n", run->exit_reason);
		return -EPROTO;
	}
	memcpy(val, (char *)run + run->io.data_offset, 4);
	return 0;
}

/* The guest echoes @want next. */
static int expect_echo(struct vm *vm, uint32_t want, const char *what)
{
	uint32_t val = 0;
	int r = vm_run(vm, &val);

	if (r < 0) {
		errno = -r;
		return fail(what);
	}
	if (r || val != want) {
		fprintf(stderr, "kvm-guest: %s: guest %s %#x, expected %#x\n", what,
			r ? "halted instead of echoing" : "echoed", val, want);
		return 1;
	}
	return 0;
}

static uint64_t allocated(struct guestmem_file *file)
{
	struct guestmem_file_stats st = { 0 };

	guestmem_file_stats(file, &st, sizeof(st));
	return st.allocated;
}

/* Punch -> the guest touches the hole -> memory comes back, zeroed. */
static int run_guest(struct guestmem_file *file, int kvm, int on_fault)
{
	uint8_t *ram = guestmem_file_hva(file);
	uint32_t word;
	struct vm vm;
	int r, err;

	if (guestmem_allocate(file, 0, GUEST_SIZE)) {
		close(kvm);
		return gm_fail("allocate");
	}
	memcpy(ram + CODE_GPA, guest_code, sizeof(guest_code));
	memcpy(ram + HELLO_GPA, "hiok", 4);
	err = vm_open(&vm, kvm, ram);
	if (!err)
		err = expect_echo(&vm, HELLO, "the word the host left") ||
		      expect_echo(&vm, FIRST, "the guest's first write");
	if (err)
		goto out;
	memcpy(&word, ram + DATA_GPA, 4);
	if (word != FIRST) {
		err = failx("the host does not see the guest's first write");
		goto out;
	}

	/* The balloon takes the whole second huge page. */
	if (guestmem_punch_hole(file, HUGE, HUGE)) {
		err = gm_fail("punch");
		goto out;
	}
	if (allocated(file) != HUGE) {
		err = failx("the punched page is still allocated");
		goto out;
	}
	if (!on_fault) {
		/* The trap: KVM cannot map the page and cannot say which it is. */
		r = vm_run(&vm, &word);
		if (r != -EFAULT) {
			fprintf(stderr, "kvm-guest: KVM_RUN on a punched page returned %d, expected -EFAULT\n",
				r);
			err = 1;
			goto out;
		}
		if (guestmem_allocate(file, HUGE, HUGE)) {
			err = gm_fail("allocate the punched page");
			goto out;
		}
	}
	err = expect_echo(&vm, 0, "the guest's read of the punched page");
	if (err)
		goto out;
	if (allocated(file) != GUEST_SIZE) {
		err = failx("the punched page did not come back");
		goto out;
	}
	r = vm_run(&vm, &word);
	if (r != 1) {
		fprintf(stderr, "kvm-guest: the guest did not halt: %s\n",
			r < 0 ? strerror(-r) : "it echoed again");
		err = 1;
		goto out;
	}
	memcpy(&word, ram + DATA_GPA, 4);
	if (word != LAST) {
		err = failx("the host does not see the guest's last write");
		goto out;
	}
	for (r = 0; r < (int)HUGE; r++)
		if (ram[HUGE + r] && (r < 0x3000 || r >= 0x3004)) {
			err = failx("the page that came back is not zero");
			goto out;
		}
	/* In-place conversion: the code page goes private and back, data intact. */
	if (guestmem_convert(file, CODE_GPA, 4096, GUESTMEM_PRIVATE, NULL) ||
	    guestmem_convert(file, CODE_GPA, 4096, GUESTMEM_SHARED, NULL)) {
		err = gm_fail("convert");
		goto out;
	}
	if (memcmp(ram + CODE_GPA, guest_code, sizeof(guest_code)))
		err = failx("code after conversion");
out:
	vm_close(&vm);
	return err;
}

int main(void)
{
	struct guestmem_pool_opts opts = {
		.page_size = HUGE, .nr_pages = GUEST_SIZE / HUGE, .node = -1,
		.flags = GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool;
	struct guestmem_file *file;
	int kvm, err, on_fault;

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: /dev/kvm is not usable here\n");
		return 77;
	}
	if (guestmem_pool_create(&opts, &pool))
		return gm_fail("guestmem pool");
	for (on_fault = 1; on_fault >= 0; on_fault--) {
		uint64_t flags = GUESTMEM_FILE_INIT_SHARED;

		if (on_fault)
			flags |= GUESTMEM_FILE_ALLOC_ON_FAULT;
		err = guestmem_file_create(pool, GUEST_SIZE, flags, &file);
		if (on_fault && (err == -EPERM || err == -EOPNOTSUPP)) {
			printf("on fault: skipped: %s\n", guestmem_last_error());
			continue;
		}
		if (err)
			return gm_fail("guestmem file");
		kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (kvm < 0)
			return fail("/dev/kvm");
		err = run_guest(file, kvm, on_fault);	/* closes kvm */
		if (err)
			return err;
		printf("%s: the guest's read of a punched huge page got a new zeroed page%s; its write reached the host\n",
		       on_fault ? "on fault" : "explicit",
		       on_fault ? " on demand" : " after KVM_RUN's EFAULT and guestmem_allocate()");
		if (guestmem_file_destroy(file))
			return gm_fail("file teardown");
	}
	guestmem_pool_stats(pool, &st, sizeof(st));
	if (st.in_use || st.reserved || st.free != st.total)
		return failx("the pool is not whole");
	printf("ran on %s memory; code page converted private and back in place\n",
	       st.backend == GUESTMEM_BACKEND_HUGETLB ? "hugetlb 2M" : "fallback");
	if (guestmem_pool_destroy(pool))
		return gm_fail("pool teardown");
	return 0;
}
