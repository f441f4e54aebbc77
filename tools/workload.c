// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem run WORKLOAD: options, the pool, the workload, teardown, the
 * hugetlb restore check and the report.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "workload.h"

static const struct workload *const workloads[] = {
	&workload_coco_boot,
	&workload_balloon,
	&workload_random,
};

int wl_want(struct session *s, int rc, int want)
{
	if (rc == want)
		return 0;
	sess_fail(s, rc, want);
	return -1;
}

int wl_check(struct session *s, int rc)
{
	if (!rc)
		return 0;
	s->failures++;
	tool_err("%s: check failed: %s", s->name, s->why);
	return -1;
}

void wl_touch(struct session *s, struct sess_pin *p, int byte)
{
	/* Simulated pools are address space only: nothing to write to. */
	if (s->backend != GUESTMEM_BACKEND_SIMULATED && p)
		memset(p->page.addr, byte, TOOL_PAGE);
}

void wl_maybe_sample(struct session *s, uint64_t step, uint64_t every)
{
	if (!every)
		every = 1;
	if (step % every == 0)
		sess_sample(s);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "guestmem: run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: guestmem run WORKLOAD [OPTIONS]   (guestmem run --help)\n");
	return EXIT_USAGE;
}

enum {
	OPT_PAGE_SIZE = 256, OPT_SIZE, OPT_PAGES, OPT_SEED, OPT_OPS, OPT_NODE, OPT_THREADS,
	OPT_PREFAULT, OPT_FALLBACK, OPT_SIMULATE, OPT_NO_FALLBACK, OPT_TRACE_OUT, OPT_QUIET,
	OPT_KVM, OPT_KVM_MODE, OPT_MAX_RATIO, OPT_HELP,
};

static const struct option run_options[] = {
	{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "pages", required_argument, NULL, OPT_PAGES },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "prefault", no_argument, NULL, OPT_PREFAULT },
	{ "fallback", no_argument, NULL, OPT_FALLBACK },
	{ "simulate", no_argument, NULL, OPT_SIMULATE },
	{ "no-fallback", no_argument, NULL, OPT_NO_FALLBACK },
	{ "trace-out", required_argument, NULL, OPT_TRACE_OUT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "kvm", no_argument, NULL, OPT_KVM },
	{ "kvm-mode", required_argument, NULL, OPT_KVM_MODE },
	{ "max-memory-ratio", required_argument, NULL, OPT_MAX_RATIO },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	long l;
	int c;

	memset(o, 0, sizeof(*o));
	o->page_size = GUESTMEM_PAGE_2M;
	o->size = TOOL_G;
	o->seed = 1;
	o->node = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
		switch (c) {
		case OPT_PAGE_SIZE:
			if (parse_page_size(optarg, &o->page_size))
				return usage_error("--page-size %s: must be 2M or 1G", optarg);
			break;
		case OPT_SIZE:
			if (parse_u64(optarg, &o->size) || !o->size)
				return usage_error("--size %s: not a size", optarg);
			break;
		case OPT_PAGES:
			if (parse_u64(optarg, &o->pages) || !o->pages)
				return usage_error("--pages %s: not a page count", optarg);
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &o->seed))
				return usage_error("--seed %s: not a number", optarg);
			break;
		case OPT_OPS:
			if (parse_u64(optarg, &o->ops) || !o->ops)
				return usage_error("--ops %s: not a positive number", optarg);
			break;
		case OPT_NODE:
			if (parse_long(optarg, 0, 4095, &l))
				return usage_error("--node %s: not a node number", optarg);
			o->node = (int)l;
			break;
		case OPT_THREADS:
			if (parse_long(optarg, 1, 4096, &l))
				return usage_error("--threads %s: 1 to 4096", optarg);
			o->threads = (unsigned int)l;
			break;
		case OPT_PREFAULT:
			o->pool_flags |= GUESTMEM_POOL_PREFAULT;
			break;
		case OPT_FALLBACK:
			o->pool_flags |= GUESTMEM_POOL_FALLBACK;
			break;
		case OPT_SIMULATE:
			o->pool_flags |= GUESTMEM_POOL_SIMULATE;
			break;
		case OPT_NO_FALLBACK:
			o->no_fallback = true;
			break;
		case OPT_TRACE_OUT:
			o->trace_out = optarg;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_KVM:
			o->kvm = true;
			break;
		case OPT_KVM_MODE:
			if (kvm_vm_parse_mode(optarg, &o->kvm_mode))
				return usage_error("--kvm-mode %s: must be auto, split or inplace", optarg);
			o->kvm = true;
			break;
		case OPT_MAX_RATIO: {
			char *end;

			o->max_ratio = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(o->max_ratio) || o->max_ratio <= 0)
				return usage_error("--max-memory-ratio %s: not a positive number", optarg);
			break;
		}
		case 'h':
		case OPT_HELP:
			printf("usage: guestmem run WORKLOAD [OPTIONS]\n\n%s", RUN_HELP);
			return -1;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "which workload? coco-boot, balloon or random");
	o->workload = argv[optind];
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	if (o->no_fallback && (o->pool_flags & GUESTMEM_POOL_FALLBACK))
		return usage_error("%s", "--fallback and --no-fallback contradict each other");
	if (o->max_ratio > 0 && !o->kvm)
		return usage_error("%s", "--max-memory-ratio needs --kvm (the kernel's counters)");
	if (o->kvm) {
		if (strcmp(o->workload, "coco-boot"))
			return usage_error("--kvm: only the coco-boot workload runs in a KVM VM, not %s",
					   o->workload);
		if (o->pool_flags & (GUESTMEM_POOL_SIMULATE | GUESTMEM_POOL_FALLBACK))
			return usage_error("%s", "--kvm measures hugetlb pages: not with --simulate or --fallback");
		/* Replay has no VM, and split mode's counters differ from a plain file's. */
		if (o->trace_out)
			return usage_error("%s", "--kvm: no --trace-out (a replay has no VM)");
		o->no_fallback = true;
	}
	if (o->size % o->page_size) {
		char b[32];

		return usage_error("--size %s: not a multiple of the page size",
				   fmt_size(o->size, b, sizeof(b)));
	}
	if (!o->pages)
		o->pages = o->size / o->page_size;
	return 0;
}

static void trace_header(struct session *s, const struct run_opts *o, const struct workload *w,
			 int argc, char **argv)
{
	char cmd[512] = "guestmem";
	int i;

	for (i = 0; i < argc; i++)
		if (strlen(cmd) + strlen(argv[i]) + 2 < sizeof(cmd)) {
			strcat(cmd, " ");
			strcat(cmd, argv[i]);
		}
	sess_trace_comment(s, "written by: %s", cmd);
	sess_trace_comment(s, "workload %s, seed %" PRIu64 ", %" PRIu64 " %s", o->workload, o->seed,
			   o->ops, w->unit);
	sess_trace_comment(s, "each operation ends with its result (= 0, = -EAGAIN, ...):"
			   " replay checks it");
}

/*
 * --kvm: open /dev/kvm and make the VM before anything else, so that a
 * machine without KVM (or without the mode) skips the run at once.
 * Returns 0 or EXIT_SKIP (told why).
 */
static int kvm_start(struct session *s, struct sess_kvm *k, struct run_opts *o)
{
	char why[400];

	memset(k, 0, sizeof(*k));
	if (kvm_vm_open(&k->vm, o->kvm_mode, why, sizeof(why))) {
		kvm_vm_close(&k->vm);
		tool_err("SKIP: run %s --kvm: %s", o->workload, why);
		return EXIT_SKIP;
	}
	s->kvm = k;
	/*
	 * Split mode's wholly private huge pages leave the pool's memory only
	 * if the pool gives free pages back to the kernel; a node-bound pool
	 * cannot (-EINVAL), and the report then shows what stays.
	 */
	if (o->node < 0) {
		o->pool_flags |= GUESTMEM_POOL_RETURN_TO_KERNEL;
		k->return_to_kernel = true;
	} else if (!o->quiet) {
		tool_note("--node: the pool keeps its free huge pages"
			  " (GUESTMEM_POOL_RETURN_TO_KERNEL is not for node-bound pools)");
	}
	return 0;
}

/* --max-memory-ratio: the peak of the kernel's figures against the bound. */
static void check_memory_ratio(struct session *s, double bound)
{
	const struct kvm_memory *m = &s->kvm->mem;
	char b1[32], b2[32];
	double r;

	if (m->err || !m->have_peak) {
		tool_err("%s: --max-memory-ratio: no memory figures: %s", s->name,
			 m->err ? m->why : "the kernel's counters were never read");
		s->failures++;
		return;
	}
	r = kvm_mem_ratio(m, &m->peak);
	if (r <= bound)
		return;
	tool_err("%s: memory %.3fx the guest size (hugetlb %s + guest_memfd %s, after %" PRIu64
		 " operations), above --max-memory-ratio %g", s->name, r,
		 fmt_bytes(kvm_mem_hugetlb(&m->peak), b1, sizeof(b1)),
		 fmt_bytes(m->peak.gmem > 0 ? (uint64_t)m->peak.gmem : 0, b2, sizeof(b2)),
		 m->peak.ops, bound);
	s->failures++;
}

int cmd_run(int argc, char **argv)
{
	const struct workload *w = NULL;
	struct sess_pool_cfg cfg;
	struct sess_kvm kvm;
	struct run_opts o;
	struct session s;
	uint64_t t0;
	size_t i;
	int rc;

	rc = parse_run_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	for (i = 0; i < TOOL_ARRAY_SIZE(workloads); i++)
		if (!strcmp(workloads[i]->name, o.workload))
			w = workloads[i];
	if (!w)
		return usage_error("unknown workload '%s': coco-boot, balloon or random", o.workload);
	rc = w->prepare(&o);
	if (rc)
		return rc;
	progress_enable(!o.quiet);

	sess_init(&s, o.workload);
	s.quiet = o.quiet;
	if (o.kvm && kvm_start(&s, &kvm, &o))
		return EXIT_SKIP;
	if (sess_trace_open(&s, o.trace_out))
		return 1;
	trace_header(&s, &o, w, argc, argv);
	cfg = (struct sess_pool_cfg){
		.page_size = o.page_size,
		.nr_pages = o.pages,
		.node = o.node,
		.threads = o.threads,
		.flags = o.pool_flags,
		.no_fallback = o.no_fallback,
	};
	rc = sess_pool_create(&s, &cfg);
	if (rc) {
		if (rc == SESS_BAD)
			tool_err("%s", s.why);
		else
			tool_lib_err(rc, "creating the pool (%" PRIu64 " pages)", o.pages);
		sess_teardown(&s);
		sess_free(&s);
		return 1;
	}

	rc = w->run(&s, &o);
	if (rc && !s.failures)
		s.failures++;
	progress_end();
	t0 = now_ns();
	if (sess_teardown(&s))
		s.failures++;
	s.teardown_ns = now_ns() - t0;
	if (s.kvm && s.kvm->unsupported) {
		tool_err("SKIP: run %s --kvm: libguestmem does not implement %s mode, which this"
			 " kernel offers", o.workload, kvm_vm_mode_name(s.kvm->vm.want));
		sess_free(&s);
		return EXIT_SKIP;
	}
	s.hugetlb_rc = sess_check_hugetlb_restored(&s, s.hugetlb_msg, sizeof(s.hugetlb_msg));
	if (s.hugetlb_rc > 0)
		tool_note("%s", s.hugetlb_msg);
	if (s.hugetlb_rc < 0) {
		tool_err("%s: the kernel's hugetlb pool is not as it was: %s", s.name, s.hugetlb_msg);
		s.failures++;
	}
	if (s.kvm && o.max_ratio > 0)
		check_memory_ratio(&s, o.max_ratio);
	report_print(&s, &(struct report_info){
		.command = "run",
		.name = o.workload,
		.seed = o.seed,
		.ops = o.ops,
		.unit = w->unit,
		.max_memory_ratio = o.max_ratio,
	});
	rc = s.failures ? 1 : 0;
	sess_free(&s);
	return rc;
}
