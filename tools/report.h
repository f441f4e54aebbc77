/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestmem(1): the report printed after `run` and `replay`. */
#ifndef GUESTMEM_TOOL_REPORT_H
#define GUESTMEM_TOOL_REPORT_H

#include "session.h"

struct report_info {
	const char *command;	/* "run" or "replay" */
	const char *name;	/* workload or trace file */
	uint64_t seed;		/* run only */
	uint64_t ops;		/* run only: --ops */
	const char *unit;	/* what ops counts */
	double max_memory_ratio;	/* run --kvm: --max-memory-ratio, 0 = none */
};

void report_print(struct session *s, const struct report_info *ri);

#endif /* GUESTMEM_TOOL_REPORT_H */
