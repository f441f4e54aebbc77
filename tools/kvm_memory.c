// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the memory of a KVM guest from the kernel's own counters
 * (kvm_memory.h).  Two figures, both in bytes:
 *
 * Hugetlb pages held by the run, from guestmem_hugetlb_info() (the
 * free_hugepages and resv_hugepages files of
 * /sys/kernel/mm/hugepages/hugepages-<kB>kB/), read when the run starts
 * (after nr_hugepages was raised for it, before the pool exists) and at
 * every point:
 *
 *   faulted  = free_hugepages at the start - now: pages holding memory;
 *   reserved = resv_hugepages now - at the start: reserved, not faulted.
 *
 * Reserved pages count.  The kernel gives a reserved page to no other
 * mapping, so no other guest or process can have it: it is the run's as
 * much as a faulted one.  (The baseline VMM's hugetlb backing of shared
 * memory reserves the whole guest the same way when it maps it.)  Held =
 * faulted + reserved = the fall of free_hugepages - resv_hugepages, what
 * a new mapping could still get.  Both files are system-wide: another
 * process taking or freeing pages of the size during the run moves them.
 *
 * The guest_memfd's allocated bytes.  Linux 7.2's guest_memfd
 * (virt/kvm/guest_memfd.c) keeps private memory as order-0 folios in the
 * page cache of an anonymous inode.  What shows them:
 *
 *  - fstat() st_blocks: no.  guest_memfd never adds to i_blocks (shmem
 *    does its own accounting; the page cache does not), so it stays 0.
 *  - lseek(SEEK_DATA): no.  kvm_gmem_fops has no .llseek, so the file
 *    lacks FMODE_LSEEK and lseek() fails with ESPIPE.
 *  - mincore(), /proc/PID/smaps: they need a mapping, and a guest_memfd
 *    without GUEST_MEMFD_FLAG_MMAP (split mode's) cannot be mapped.
 *  - cachestat(2) (Linux 6.5): the folios in a range of a file's page
 *    cache, of this file only and exact.  The most direct counter, used
 *    when the kernel has it (CONFIG_CACHESTAT_SYSCALL, which tinyconfig,
 *    and so the kernel rig, leaves out: ENOSYS).
 *  - /proc/meminfo "Unevictable:": guest_memfd marks its mapping
 *    unevictable (mapping_set_inaccessible() sets AS_UNEVICTABLE), so
 *    every folio it adds goes on the unevictable LRU, which that line
 *    counts.  The fallback: its rise since the start of the run.  It is
 *    system-wide (others' mlock()ed and ramfs pages move it too), and a
 *    folio still in a CPU's LRU-add batch (up to 31 per CPU) or in a
 *    per-CPU counter delta not folded in yet is missing from it: on one
 *    CPU at most 124 KiB.
 *
 * In in-place mode the guest_memfd is itself hugetlb (guestmem's kernel
 * series), counted once, in the hugetlb pages; in none mode there is no
 * guest_memfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_memory.h"

#ifndef __NR_cachestat
#define __NR_cachestat	451	/* the same on every architecture */
#endif

/* <linux/mman.h> of Linux 6.5; Debian 12's headers lack them. */
struct tool_cachestat_range {
	uint64_t off;
	uint64_t len;		/* 0: to the end of the file */
};

struct tool_cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

/* Bytes of the guest_memfd's page cache, or -errno. */
static int64_t gmem_cachestat(int fd)
{
	struct tool_cachestat_range r = { 0, 0 };
	struct tool_cachestat cs;

	memset(&cs, 0, sizeof(cs));
	if (syscall(__NR_cachestat, fd, &r, &cs, 0))
		return -errno;
	return (int64_t)cs.nr_cache * sysconf(_SC_PAGESIZE);
}

/* /proc/meminfo's Unevictable in bytes, or -errno. */
static int64_t meminfo_unevictable(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long long kb = -1;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Unevictable: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -ENOENT : kb * 1024;
}

static void set_err(struct kvm_memory *m, int err, const char *what)
{
	if (m->err)
		return;
	m->err = err;
	snprintf(m->why, sizeof(m->why), "%s: %s", what, strerror(-err));
}

int kvm_mem_start(struct kvm_memory *m, uint64_t page_size)
{
	int64_t u;
	int err;

	memset(m, 0, sizeof(*m));
	m->gmem_fd = -1;
	m->page_size = page_size;
	err = guestmem_hugetlb_info(page_size, -1, &m->start, sizeof(m->start));
	if (err) {
		set_err(m, err, "guestmem_hugetlb_info()");
		return err;
	}
	u = meminfo_unevictable();
	m->unevictable_start = u < 0 ? 0 : u;
	m->started = true;
	return 0;
}

void kvm_mem_watch(struct kvm_memory *m, int gmem_fd, uint64_t guest_size)
{
	m->guest_size = guest_size;
	m->counter = KVM_MEM_GMEM_NONE;
	m->gmem_fd = -1;
	if (gmem_fd < 0)
		return;
	if (gmem_cachestat(gmem_fd) >= 0) {
		m->counter = KVM_MEM_GMEM_CACHESTAT;
		m->gmem_fd = gmem_fd;
	} else if (meminfo_unevictable() >= 0) {
		m->counter = KVM_MEM_GMEM_UNEVICTABLE;
	} else {
		set_err(m, -ENOENT, "neither cachestat(2) nor /proc/meminfo Unevictable");
	}
}

void kvm_mem_unwatch(struct kvm_memory *m)
{
	m->gmem_fd = -1;
}

static int64_t read_gmem(struct kvm_memory *m)
{
	int64_t v;

	switch (m->counter) {
	case KVM_MEM_GMEM_CACHESTAT:
		if (m->gmem_fd < 0)
			return 0;	/* closed with its file */
		v = gmem_cachestat(m->gmem_fd);
		if (v < 0) {
			set_err(m, (int)v, "cachestat(2) of the guest_memfd");
			return 0;
		}
		return v;
	case KVM_MEM_GMEM_UNEVICTABLE:
		v = meminfo_unevictable();
		if (v < 0) {
			set_err(m, (int)v, "/proc/meminfo Unevictable");
			return 0;
		}
		return v - m->unevictable_start;
	case KVM_MEM_GMEM_NONE:
		break;
	}
	return 0;
}

int kvm_mem_sample(struct kvm_memory *m, uint64_t ops)
{
	struct guestmem_hugetlb_info now;
	struct kvm_mem_point *p;
	int err;

	if (!m->started)
		return 0;
	err = guestmem_hugetlb_info(m->page_size, -1, &now, sizeof(now));
	if (err) {
		set_err(m, err, "guestmem_hugetlb_info()");
		return err;
	}
	/* The same point twice, or no room: the new one replaces the last. */
	if (m->nr_points == KVM_MEM_MAX_POINTS ||
	    (m->nr_points && m->points[m->nr_points - 1].ops == ops))
		m->nr_points--;
	p = &m->points[m->nr_points++];
	p->ops = ops;
	p->hugetlb_faulted = ((int64_t)m->start.free - (int64_t)now.free) * (int64_t)m->page_size;
	p->hugetlb_reserved = ((int64_t)now.reserved - (int64_t)m->start.reserved) *
			      (int64_t)m->page_size;
	p->gmem = read_gmem(m);
	if (!m->have_peak || kvm_mem_total(p) > kvm_mem_total(&m->peak)) {
		m->peak = *p;
		m->have_peak = true;
	}
	return 0;
}

static uint64_t pos(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

uint64_t kvm_mem_hugetlb(const struct kvm_mem_point *p)
{
	return pos(p->hugetlb_faulted + p->hugetlb_reserved);
}

uint64_t kvm_mem_total(const struct kvm_mem_point *p)
{
	return kvm_mem_hugetlb(p) + pos(p->gmem);
}

double kvm_mem_ratio(const struct kvm_memory *m, const struct kvm_mem_point *p)
{
	return m->guest_size ? (double)kvm_mem_total(p) / (double)m->guest_size : 0.0;
}

const char *kvm_mem_counter_name(enum kvm_mem_gmem_counter c)
{
	switch (c) {
	case KVM_MEM_GMEM_NONE: return "none";
	case KVM_MEM_GMEM_CACHESTAT: return "cachestat";
	case KVM_MEM_GMEM_UNEVICTABLE: return "unevictable";
	}
	return "?";
}
