/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestmem(1): workloads for `guestmem run`. */
#ifndef GUESTMEM_TOOL_WORKLOAD_H
#define GUESTMEM_TOOL_WORKLOAD_H

#include "session.h"

struct run_opts {
	const char *workload;
	uint64_t page_size;
	uint64_t size;
	uint64_t pages;		/* 0: size / page_size */
	uint64_t seed;
	uint64_t ops;		/* 0: the workload's default */
	int node;
	unsigned int threads;
	uint64_t pool_flags;	/* GUESTMEM_POOL_* */
	bool no_fallback;
	bool quiet;
	const char *trace_out;
	bool kvm;		/* --kvm: file 0 is a KVM VM's guest memory */
	unsigned int kvm_mode;	/* --kvm-mode: enum guestmem_kvm_mode, AUTO default */
	double max_ratio;	/* --max-memory-ratio, 0 = none */
};

struct workload {
	const char *name;
	/* Check the options, fill in defaults (o->ops); print why not. */
	int (*prepare)(struct run_opts *o);
	/* Run on the session's pool; 0, or nonzero after sess_fail(). */
	int (*run)(struct session *s, const struct run_opts *o);
	const char *unit;	/* what --ops counts: "rounds", "operations" */
};

extern const struct workload workload_coco_boot;
extern const struct workload workload_balloon;
extern const struct workload workload_random;

/*
 * Helpers for workloads: an operation's result must be @want (or the check
 * must pass); if not, the failure is printed and counted, and the workload
 * should stop.  Return 0 if as expected, -1 otherwise.
 */
int wl_want(struct session *s, int rc, int want);
int wl_check(struct session *s, int rc);
/* Host DMA: fill a pinned page with @byte (not in simulated pools). */
void wl_touch(struct session *s, struct sess_pin *p, int byte);
/* Sample coverage every @every steps (and at 0). */
void wl_maybe_sample(struct session *s, uint64_t step, uint64_t every);

#endif /* GUESTMEM_TOOL_WORKLOAD_H */
