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

void report_print(struct session *s, const struct report_info *ri)
{
	unsigned int i;

	fflush(stderr);
	print_header(s, ri);
	print_latency(s);
	print_coverage(s);
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
