// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A minimal VMM on libguestmem: the guest's RAM is a guestmem file, its
 * host mapping (guestmem_file_hva()) is the KVM memslot's userspace_addr.
 *
 * The guest is a few bytes of real-mode code that writes a greeting to an
 * I/O port, reads a word the host left in RAM, and halts.  The host then
 * converts the page holding the code to private and back, and the data
 * survives in place.
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

#define GUEST_SIZE	GUESTMEM_PAGE_2M
#define CODE_GPA	0x1000
#define DATA_GPA	0x2000
#define PORT		0xe9

/*
 * mov si, DATA_GPA; mov ax, [si]; out 0xe9, al; mov al, ah; out 0xe9, al;
 * then print "ok\n" and hlt.
 */
static const uint8_t guest_code[] = {
	0xbe, DATA_GPA & 0xff, DATA_GPA >> 8,	/* mov si, 0x2000 */
	0x8b, 0x04,				/* mov ax, [si] */
	0xe6, PORT,				/* out 0xe9, al */
	0x88, 0xe0,				/* mov al, ah */
	0xe6, PORT,				/* out 0xe9, al */
	0xb0, 'o', 0xe6, PORT,			/* mov al, 'o'; out */
	0xb0, 'k', 0xe6, PORT,			/* mov al, 'k'; out */
	0xb0, '\n', 0xe6, PORT,			/* mov al, '\n'; out */
	0xf4,					/* hlt */
};

static int fail(const char *what)
{
	fprintf(stderr, "kvm-guest: %s: %s\n", what,
		errno ? strerror(errno) : guestmem_last_error());
	return 1;
}

static int run_guest(void *ram, char *out, size_t outlen)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_SIZE,
		.userspace_addr = (uintptr_t)ram,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };
	struct kvm_run *run;
	size_t n = 0;
	int kvm, vm, vcpu, mmap_size;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return 77;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return fail("KVM memslot on the guestmem mapping");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs))
		return fail("vCPU");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		return fail("vCPU registers");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			return fail("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != PORT ||
		    run->io.direction != KVM_EXIT_IO_OUT) {
			fprintf(stderr, "kvm-guest: unexpected exit %u\n", run->exit_reason);
			return 1;
		}
		if (n + 1 < outlen)
			out[n++] = *((char *)run + run->io.data_offset);
	}
	out[n] = '\0';
	munmap(run, mmap_size);
	close(vcpu);
	close(vm);
	close(kvm);
	return 0;
}

int main(void)
{
	struct guestmem_pool_opts opts = {
		.page_size = GUESTMEM_PAGE_2M, .nr_pages = 1, .node = -1,
		.flags = GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool_stats st;
	struct guestmem_pool *pool;
	struct guestmem_file *file;
	char out[64];
	uint8_t *ram;
	int err;

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: /dev/kvm is not usable here\n");
		return 77;
	}
	if (guestmem_pool_create(&opts, &pool) ||
	    guestmem_file_create(pool, GUEST_SIZE, GUESTMEM_FILE_INIT_SHARED, &file) ||
	    guestmem_allocate(file, 0, GUEST_SIZE))
		return fail("guestmem");
	guestmem_pool_stats(pool, &st);
	ram = guestmem_file_hva(file);
	memcpy(ram + CODE_GPA, guest_code, sizeof(guest_code));
	memcpy(ram + DATA_GPA, "hi", 2);

	err = run_guest(ram, out, sizeof(out));
	if (err)
		return err;
	printf("guest said: %s", out);
	if (strcmp(out, "hiok\n")) {
		fprintf(stderr, "kvm-guest: expected \"hiok\\n\"\n");
		return 1;
	}
	/* In-place conversion: the code page goes private and back, data intact. */
	if (guestmem_convert(file, CODE_GPA, 4096, GUESTMEM_PRIVATE, NULL) ||
	    guestmem_convert(file, CODE_GPA, 4096, GUESTMEM_SHARED, NULL))
		return fail("convert");
	if (memcmp(ram + CODE_GPA, guest_code, sizeof(guest_code)))
		return fail("data after conversion");
	printf("ran on %s memory; code page converted private and back in place\n",
	       st.backend == GUESTMEM_BACKEND_HUGETLB ? "hugetlb 2M" : "fallback");
	if (guestmem_file_destroy(file) || guestmem_pool_destroy(pool))
		return fail("teardown");
	return 0;
}
