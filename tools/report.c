// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the report.
 *
 * Memory is compared with a baseline VMM that keeps shared and private
 * memory apart (QEMU with a 4K guest_memfd): it backs the whole guest with
 * shared memory (size bytes, all of it touched by boot) and, in addition,
 * every 4K page that was ever private while allocated stays in its
 * guest_memfd.  baseline = size + ever-private bytes, up to 2x the guest.
 * guestmem keeps one copy of each page: its figure is the peak of the huge
 * pages allocated to the files.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "report.h"

static const char *backend_name(unsigned int backend)
{
	switch (backend) {
	case GUESTMEM_BACKEND_HUGETLB: return "hugetlb";
	case GUESTMEM_BACKEND_FALLBACK: return "fallback (ordinary memory, no huge TLB entries)";
	case GUESTMEM_BACKEND_SIMULATED: return "simulated (address space only)";
	}
	return "?";
}

static void print_header(struct session *s, const struct report_info *ri)
{
	char b1[32], b2[32], b3[32];

	printf("== guestmem %s %s ==\n", ri->command, ri->name);
	if (ri->unit)
		printf("workload:   %s guest memory on %s pages, seed %" PRIu64 ", %" PRIu64 " %s\n",
		       fmt_bytes(s->files_bytes, b1, sizeof(b1)),
		       fmt_size(s->opts.page_size, b2, sizeof(b2)), ri->seed, ri->ops, ri->unit);
	else
		printf("trace:      %s of guest memory in files, %s pages\n",
		       fmt_bytes(s->files_bytes, b1, sizeof(b1)),
		       fmt_size(s->opts.page_size, b2, sizeof(b2)));
	printf("pool:       %" PRIu64 " x %s pages%s", s->opts.nr_pages,
	       fmt_size(s->opts.page_size, b1, sizeof(b1)),
	       s->opts.flags & GUESTMEM_POOL_PREFAULT ? ", prefaulted" : "");
	if (s->opts.node >= 0)
		printf(", NUMA node %d", s->opts.node);
	printf(", backend %s\n            created in %s, torn down in %s\n", backend_name(s->backend),
	       fmt_ns(s->pool_create_ns, b2, sizeof(b2)), fmt_ns(s->teardown_ns, b3, sizeof(b3)));
	if (s->kvm)
		printf("kvm:        KVM_X86_SW_PROTECTED_VM, %s mode (asked %s), the whole file"
		       " in memory slot %u at GPA %#" PRIx64 "\n", kvm_vm_mode_name(s->kvm->vm.mode),
		       kvm_vm_mode_name(s->kvm->vm.want), KVM_VM_SLOT, KVM_VM_GPA);
	printf("result:     %s: %" PRIu64 " operations, %" PRIu64 " checks passed, %" PRIu64
	       " failures\n", s->failures ? "FAIL" : "PASS", s->nr_ops, s->checks, s->failures);
}

static void print_latency(struct session *s)
{
	/* The order of the issue: convert, punch, pin, allocate; then unpin. */
	static const enum op_kind order[] = { OPK_CONVERT, OPK_PUNCH, OPK_PIN, OPK_ALLOC, OPK_UNPIN };
	char b[5][32];
	size_t i;

	printf("\nlatency per call (CLOCK_MONOTONIC around the library call"
#if CONFIG_GUESTMEM_DEBUG
	       "; library built with --enable-debug: every call runs the invariant checker"
#endif
	       "):\n");
	printf("  %-9s %9s %10s %10s %10s %10s   %s\n", "operation", "count", "p50", "p99", "max",
	       "mean", "results (0 / -EAGAIN / -EPERM / other)");
	for (i = 0; i < TOOL_ARRAY_SIZE(order); i++) {
		struct latency *l = &s->lat[order[i]];
		const uint64_t *r = s->results[order[i]];

		if (!l->n) {
			printf("  %-9s %9d %10s %10s %10s %10s\n", op_kind_names[order[i]], 0, "-", "-",
			       "-", "-");
			continue;
		}
		printf("  %-9s %9zu %10s %10s %10s %10s   %" PRIu64 " / %" PRIu64 " / %" PRIu64
		       " / %" PRIu64 "\n", op_kind_names[order[i]], l->n,
		       fmt_ns(latency_pct(l, 50), b[0], sizeof(b[0])),
		       fmt_ns(latency_pct(l, 99), b[1], sizeof(b[1])),
		       fmt_ns(latency_max(l), b[2], sizeof(b[2])),
		       fmt_ns(l->sum / l->n, b[3], sizeof(b[3])), r[0], r[1], r[2], r[3]);
	}
}

static void print_coverage(struct session *s)
{
	const struct sess_sample *last;
	char b1[32], b2[32];
	unsigned int i;

	if (!s->nr_samples)
		return;
	last = &s->samples[s->nr_samples - 1];
	printf("\nsplits and merges: %" PRIu64 " splits, %" PRIu64 " merges"
	       " (folio splits 1G->2M and 2M->4K, and merges back)\n", last->splits, last->merges);
	printf("\nhuge coverage over time (coverage = huge_mappable / file size):\n");
	printf("  %9s %12s %14s %9s %7s %9s %9s\n", "ops", "allocated", "huge-mappable",
	       "coverage", "split", "splits", "merges");
	for (i = 0; i < s->nr_samples; i++) {
		const struct sess_sample *x = &s->samples[i];

		printf("  %9" PRIu64 " %12s %14s %8.1f%% %7" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
		       x->ops, fmt_bytes(x->allocated, b1, sizeof(b1)),
		       fmt_bytes(x->huge_mappable, b2, sizeof(b2)),
		       x->size ? 100.0 * (double)x->huge_mappable / (double)x->size : 0.0,
		       x->split_pages, x->splits, x->merges);
	}
	printf("  (split = huge pages currently split; splits/merges are running totals)\n");
}

static void print_memory(struct session *s)
{
	uint64_t priv = sess_ever_private(s), base = s->files_bytes + priv;
	char b1[32], b2[32], b3[32], b4[32];

	if (!s->files_bytes)
		return;
	printf("\nmemory (guestmem vs. separate shared + private memory):\n");
	printf("  guestmem   %12s  peak of the huge pages allocated to the files\n",
	       fmt_bytes(s->peak_alloc, b1, sizeof(b1)));
	printf("  baseline   %12s  = %s shared (the whole guest) + %s private"
	       " (4K pages ever private)\n", fmt_bytes(base, b2, sizeof(b2)),
	       fmt_bytes(s->files_bytes, b3, sizeof(b3)), fmt_bytes(priv, b4, sizeof(b4)));
	if (base)
		printf("  guestmem uses %.1f%% of the baseline (%.2fx of the guest size vs. %.2fx),"
		       " saving %s\n", 100.0 * (double)s->peak_alloc / (double)base,
		       (double)s->peak_alloc / (double)s->files_bytes,
		       (double)base / (double)s->files_bytes,
		       fmt_bytes(base > s->peak_alloc ? base - s->peak_alloc : 0, b1, sizeof(b1)));
	printf("  (baseline: a VMM with separate memories backs the whole guest with shared memory\n"
	       "   and keeps, in a 4K guest_memfd, every page that was private while allocated;\n"
	       "   guestmem converts in place and keeps one copy of each page)\n");
}

/* One row of the --kvm memory table. */
static void print_kvm_point(const char *label, const struct kvm_memory *m,
			    const struct kvm_mem_point *p)
{
	uint64_t gmem = p->gmem > 0 ? (uint64_t)p->gmem : 0, base = m->guest_size + gmem;
	uint64_t faulted = p->hugetlb_faulted > 0 ? (uint64_t)p->hugetlb_faulted : 0;
	uint64_t reserved = p->hugetlb_reserved > 0 ? (uint64_t)p->hugetlb_reserved : 0;
	char b[5][32];

	printf("  %-9s %11s %11s %11s %11s %6.3fx %11s %6.3fx\n", label,
	       fmt_bytes(faulted, b[0], sizeof(b[0])), fmt_bytes(reserved, b[1], sizeof(b[1])),
	       fmt_bytes(gmem, b[2], sizeof(b[2])), fmt_bytes(kvm_mem_total(p), b[3], sizeof(b[3])),
	       kvm_mem_ratio(m, p), fmt_bytes(base, b[4], sizeof(b[4])),
	       m->guest_size ? (double)base / (double)m->guest_size : 0.0);
}

static const char *gmem_counter_text(enum kvm_mem_gmem_counter c)
{
	switch (c) {
	case KVM_MEM_GMEM_CACHESTAT:
		return "cachestat(2) of the guest_memfd";
	case KVM_MEM_GMEM_UNEVICTABLE:
		return "the rise of /proc/meminfo Unevictable (this kernel has no\n"
		       "  cachestat(2); system-wide, up to 31 pages per CPU late)";
	case KVM_MEM_GMEM_NONE:
		break;
	}
	return "nothing: this mode has no guest_memfd of its own";
}

/* One line for scripts: bytes, and ratios to the guest size. */
static void print_kvm_line(struct session *s, const struct report_info *ri, bool over)
{
	const struct kvm_memory *m = &s->kvm->mem;
	const struct kvm_mem_point *last = &m->points[m->nr_points - 1];

	printf("kvm-memory: mode=%s page_size=%" PRIu64 " guest=%" PRIu64 " counter=%s"
	       " return_to_kernel=%d", kvm_vm_mode_name(s->kvm->vm.mode), m->page_size,
	       m->guest_size, kvm_mem_counter_name(m->counter), s->kvm->return_to_kernel);
	printf(" peak_ops=%" PRIu64 " peak_hugetlb=%" PRIu64 " peak_gmem=%" PRIu64
	       " peak_total=%" PRIu64 " peak_ratio=%.4f", m->peak.ops, kvm_mem_hugetlb(&m->peak),
	       kvm_mem_total(&m->peak) - kvm_mem_hugetlb(&m->peak), kvm_mem_total(&m->peak),
	       kvm_mem_ratio(m, &m->peak));
	printf(" end_hugetlb=%" PRIu64 " end_gmem=%" PRIu64 " end_total=%" PRIu64
	       " end_ratio=%.4f", kvm_mem_hugetlb(last), kvm_mem_total(last) - kvm_mem_hugetlb(last),
	       kvm_mem_total(last), kvm_mem_ratio(m, last));
	if (ri->max_memory_ratio > 0)
		printf(" max_ratio=%g within=%d", ri->max_memory_ratio, !over);
	printf("\n");
}

/*
 * --kvm: the memory from the kernel's counters (kvm_memory.c) at every
 * sample, against the baseline VMM: hugetlb backing of the whole guest
 * for shared memory plus the same 4K guest_memfd for private memory.
 */
static void print_kvm_memory(struct session *s, const struct report_info *ri)
{
	const struct kvm_memory *m = &s->kvm->mem;
	const struct kvm_mem_point *last;
	char b[2][32];
	unsigned int i;
	bool over;

	printf("\nmemory (the kernel's counters; %s mode, guest %s on %s hugetlb pages):\n",
	       kvm_vm_mode_name(s->kvm->vm.mode), fmt_bytes(m->guest_size, b[0], sizeof(b[0])),
	       fmt_size(m->page_size, b[1], sizeof(b[1])));
	if (!m->nr_points) {
		printf("  not measured%s%s\n", m->err ? ": " : "", m->err ? m->why : "");
		return;
	}
	printf("  %-9s %11s %11s %11s %11s %7s %11s %7s\n", "ops", "hugetlb", "reserved",
	       "guest_memfd", "total", "x guest", "baseline", "x guest");
	for (i = 0; i < m->nr_points; i++) {
		char label[24];

		snprintf(label, sizeof(label), "%" PRIu64, m->points[i].ops);
		print_kvm_point(label, m, &m->points[i]);
	}
	print_kvm_point("peak", m, &m->peak);
	printf("  hugetlb = the fall of free_hugepages since the run started (pages faulted\n"
	       "  in); reserved = the rise of resv_hugepages (reserved, not faulted in: no\n"
	       "  other mapping can have them, so they count); guest_memfd = its allocated\n"
	       "  bytes, from %s.\n", gmem_counter_text(m->counter));
	printf("  baseline = the guest size (hugetlb backing for shared memory) + the same\n"
	       "  guest_memfd bytes (a 4K guest_memfd for private memory): up to 2x.\n");
	printf("  No vCPU: the guest's touches of its private memory are fallocate(2) calls\n"
	       "  on the guest_memfd, %s in all.\n",
	       fmt_bytes(s->kvm->vm.touched, b[0], sizeof(b[0])));
	printf("  The pool gives its free huge pages back to the kernel: %s\n",
	       s->kvm->return_to_kernel ? "yes (GUESTMEM_POOL_RETURN_TO_KERNEL)" :
	       "no (--node: GUESTMEM_POOL_RETURN_TO_KERNEL\n  is not for node-bound pools:"
	       " split mode's wholly private huge pages\n  stay in the pool's memory)");
	if (m->err)
		printf("  counter errors: %s\n", m->why);

	last = &m->points[m->nr_points - 1];
	over = ri->max_memory_ratio > 0 && kvm_mem_ratio(m, &m->peak) > ri->max_memory_ratio;
	printf("  peak %.3fx of the guest size (after %" PRIu64 " operations), %.3fx at the end",
	       kvm_mem_ratio(m, &m->peak), m->peak.ops, kvm_mem_ratio(m, last));
	if (ri->max_memory_ratio > 0)
		printf("; --max-memory-ratio %g: %s", ri->max_memory_ratio,
		       over ? "EXCEEDED" : "within");
	printf("\n");
	print_kvm_line(s, ri, over);
}

void report_print(struct session *s, const struct report_info *ri)
{
	unsigned int i;

	fflush(stderr);
	print_header(s, ri);
	print_latency(s);
	print_coverage(s);
	if (s->kvm)
		print_kvm_memory(s, ri);
	else
		print_memory(s);
	if (s->nr_notes) {
		printf("\n%s:\n", ri->unit ? ri->name : "trace");
		for (i = 0; i < s->nr_notes; i++)
			printf("  %s\n", s->notes[i]);
	}
	if (s->hugetlb_msg[0])
		printf("\n%s: %s\n", s->hugetlb_rc < 0 ? "NOT RESTORED" : "restored", s->hugetlb_msg);
	else if (s->backend != GUESTMEM_BACKEND_HUGETLB)
		printf("\nhugetlb: not used\n");
	fflush(stdout);
}
