/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): what a KVM guest's memory costs, read from the kernel's own
 * counters (`guestmem run coco-boot --kvm`): the hugetlb pages the run
 * holds and the bytes its guest_memfd has allocated.  kvm_memory.c says
 * which counters and why.
 */
#ifndef GUESTMEM_TOOL_KVM_MEMORY_H
#define GUESTMEM_TOOL_KVM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include <guestmem.h>

/* Where the guest_memfd's bytes come from. */
enum kvm_mem_gmem_counter {
	KVM_MEM_GMEM_NONE,		/* no guest_memfd of its own (in-place, none) */
	KVM_MEM_GMEM_CACHESTAT,		/* cachestat(2) of the guest_memfd */
	KVM_MEM_GMEM_UNEVICTABLE,	/* rise of /proc/meminfo Unevictable */
};

/* One reading; bytes, signed: another process may move the counters back. */
struct kvm_mem_point {
	uint64_t ops;			/* operations done when read */
	int64_t hugetlb_faulted;	/* free_hugepages: fall since the start */
	int64_t hugetlb_reserved;	/* resv_hugepages: rise since the start */
	int64_t gmem;			/* the guest_memfd's allocated bytes */
};

#define KVM_MEM_MAX_POINTS	64

struct kvm_memory {
	uint64_t page_size;		/* hugetlb size of the pool */
	uint64_t guest_size;		/* what the ratio divides by */
	bool started;			/* kvm_mem_start() read the counters */
	struct guestmem_hugetlb_info start;
	enum kvm_mem_gmem_counter counter;
	int gmem_fd;			/* KVM_MEM_GMEM_CACHESTAT */
	int64_t unevictable_start;	/* bytes, KVM_MEM_GMEM_UNEVICTABLE */
	struct kvm_mem_point points[KVM_MEM_MAX_POINTS];
	unsigned int nr_points;
	struct kvm_mem_point peak;	/* the point of the highest total */
	bool have_peak;
	int err;			/* first failure to read a counter, -errno */
	char why[160];			/* ... what it was */
};

/* Before the pool is created (and after nr_hugepages was raised for it). */
int kvm_mem_start(struct kvm_memory *m, uint64_t page_size);
/*
 * The guest's memory exists: @gmem_fd is its guest_memfd (split mode) or
 * -1; @guest_size its size.  Chooses the guest_memfd counter.
 */
void kvm_mem_watch(struct kvm_memory *m, int gmem_fd, uint64_t guest_size);
/* The guest_memfd is about to be closed: read no more of it. */
void kvm_mem_unwatch(struct kvm_memory *m);
/* Read the counters now and keep the point (the last is replaced when full). */
int kvm_mem_sample(struct kvm_memory *m, uint64_t ops);

/* hugetlb held + guest_memfd bytes of a point, negative parts as 0. */
uint64_t kvm_mem_hugetlb(const struct kvm_mem_point *p);
uint64_t kvm_mem_total(const struct kvm_mem_point *p);
double kvm_mem_ratio(const struct kvm_memory *m, const struct kvm_mem_point *p);
const char *kvm_mem_counter_name(enum kvm_mem_gmem_counter c);

#endif /* GUESTMEM_TOOL_KVM_MEMORY_H */
