/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): a session drives one pool and its files through the public
 * API.  Workloads (run) and traces (replay) both go through it, so both get
 * the same timing, accounting, trace output and report.  Every operation:
 *   - is timed with CLOCK_MONOTONIC around the library call only;
 *   - is written to the trace (--trace-out) with its result, "= -EAGAIN";
 *   - updates the tool's models: which huge pages are allocated (checked
 *     against guestmem_file_stats() at every sample) and which 4K pages
 *     were ever private (for the memory baseline, see report.c).
 */
#ifndef GUESTMEM_TOOL_SESSION_H
#define GUESTMEM_TOOL_SESSION_H

#include "hugetlb.h"
#include "kvm_memory.h"
#include "kvm_vm.h"
#include "latency.h"
#include "tool.h"

enum op_kind {
	OPK_ALLOC,
	OPK_PUNCH,
	OPK_CONVERT,
	OPK_PIN,
	OPK_UNPIN,
	OPK_NR
};

extern const char *const op_kind_names[OPK_NR];

#define SESS_MAX_FILES		64
#define SESS_MAX_SAMPLES	64
/* Returned instead of a library result for a trace-level error (s->why). */
#define SESS_BAD		1000

/* How to get the pool's memory. */
struct sess_pool_cfg {
	uint64_t page_size;
	uint64_t nr_pages;
	int node;
	unsigned int threads;
	uint64_t flags;		/* GUESTMEM_POOL_* */
	bool no_fallback;	/* never fall back to ordinary memory */
};

struct sess_file {
	struct guestmem_file *f;
	uint64_t size;
	uint64_t flags;		/* GUESTMEM_FILE_* */
	uint64_t *alloc;	/* model: huge pages allocated */
	uint64_t nr_alloc;
	uint64_t *ever_private;	/* model: 4K pages ever private while allocated */
	uint64_t ever_private_pages;
};

struct sess_pin {
	uint64_t id;
	unsigned int file;
	struct guestmem_page page;
};

struct sess_sample {
	uint64_t ops;		/* operations done when taken */
	uint64_t size, allocated, huge_mappable, split_pages, shared;
	uint64_t kvm_returned;	/* split mode: wholly private huge pages, returned */
	uint64_t splits, merges;	/* since the pool was created */
	uint64_t pool_free, pool_in_use;
};

/*
 * --kvm: the session's file 0 is the guest memory of a KVM VM
 * (guestmem_kvm_file_create(), bound and in a memory slot), and the
 * kernel's counters are read at every sample.
 */
struct sess_kvm {
	struct kvm_vm vm;
	struct kvm_memory mem;
	bool unsupported;	/* the library refused the mode (-EOPNOTSUPP) */
	bool return_to_kernel;	/* the pool has GUESTMEM_POOL_RETURN_TO_KERNEL */
};

struct session {
	const char *name;	/* workload or trace, for messages */
	bool quiet;
	struct sess_kvm *kvm;	/* --kvm, else NULL; the caller's, opened */

	struct guestmem_pool *pool;
	struct guestmem_pool_opts opts;	/* as created, flags as used */
	unsigned int backend;		/* enum guestmem_backend */
	uint64_t pool_create_ns;
	bool reserved_hugetlb;		/* nr_hugepages raised for this pool */
	long raised_from, raised_to;	/* ... from and to (global or node) */
	bool fell_back;			/* fallback chosen by the tool */
	struct guestmem_hugetlb_info before;	/* kernel counters before the pool */
	bool have_before;

	struct sess_file files[SESS_MAX_FILES];
	struct sess_pin *pins;
	size_t nr_pins, cap_pins;
	uint64_t next_pin_id;

	struct latency lat[OPK_NR];
	uint64_t nr_ops;		/* library calls made */
	uint64_t results[OPK_NR][4];	/* 0, -EAGAIN, -EPERM, other */
	uint64_t failures;		/* unexpected results and failed checks */
	uint64_t checks;		/* checks that passed */
	uint64_t cur_alloc, peak_alloc;	/* model, bytes over all files */
	uint64_t files_bytes;		/* sizes of every file created */
	uint64_t ever_private_gone;	/* ever-private bytes of destroyed files */

	struct sess_sample samples[SESS_MAX_SAMPLES];
	unsigned int nr_samples;

	uint64_t teardown_ns;
	char hugetlb_msg[256];		/* sess_check_hugetlb_restored() */
	int hugetlb_rc;
	char notes[16][200];		/* workload findings for the report */
	unsigned int nr_notes;

	FILE *trace;
	char op[192];			/* the last operation, as a trace line */
	char last_error[512];		/* guestmem_last_error() of it */
	char why[512];			/* SESS_BAD and check failures */
};

void sess_init(struct session *s, const char *name);
/* Open @path for the trace (written as operations run); NULL: none. */
int sess_trace_open(struct session *s, const char *path);
void sess_trace_comment(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Pool: reserves hugetlb pages as root, falls back with a note. */
int sess_pool_create(struct session *s, const struct sess_pool_cfg *cfg);
int sess_file_create(struct session *s, unsigned int idx, uint64_t size, uint64_t flags);
int sess_file_destroy(struct session *s, unsigned int idx);

int sess_alloc(struct session *s, unsigned int idx, uint64_t off, uint64_t len);
int sess_punch(struct session *s, unsigned int idx, uint64_t off, uint64_t len);
int sess_convert(struct session *s, unsigned int idx, uint64_t off, uint64_t len,
		 unsigned int to);
/* Pin: @id names the pin in the trace; sess_pin_id() hands out fresh ones. */
int sess_pin(struct session *s, unsigned int idx, uint64_t off, uint64_t id);
int sess_unpin(struct session *s, uint64_t id);
uint64_t sess_pin_id(struct session *s);
struct sess_pin *sess_find_pin(struct session *s, uint64_t id);

/*
 * Checks (written to the trace as "check" lines): a pool or file counter
 * by name, or the state of a page.  Counters are polled for up to 2 s, as
 * pages freed by an unpin are reassembled asynchronously.  Return 0 or
 * SESS_BAD (s->why says what differed).
 */
int sess_check_pool(struct session *s, const char *field, uint64_t want);
int sess_check_file(struct session *s, unsigned int idx, const char *field, uint64_t want);
int sess_check_state(struct session *s, unsigned int idx, uint64_t off, unsigned int want);
bool sess_pool_field(const char *field);
bool sess_file_field(const char *field);
int sess_pool_stats(struct session *s, struct guestmem_pool_stats *st);

/* A line for the report's "workload" section. */
void sess_note(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the coverage sample for the report (and check the model). */
void sess_sample(struct session *s);
/* An unexpected result of the last operation: print it, count a failure. */
void sess_fail(struct session *s, int rc, int want);
/* Unpin everything, destroy files and the pool, restore nr_hugepages. */
int sess_teardown(struct session *s);
/* Check the kernel's hugetlb counters are back to what they were. */
int sess_check_hugetlb_restored(struct session *s, char *msg, size_t len);
void sess_free(struct session *s);

/*
 * --kvm: the file's enum guestmem_kvm_mode (0 without --kvm); the guest
 * touches its private memory in a range (kvm_vm_touch_private(); 0 or
 * SESS_BAD, s->why says why).
 */
unsigned int sess_kvm_mode(const struct session *s);
int sess_guest_touch(struct session *s, unsigned int idx, uint64_t off, uint64_t len);

/* Baseline memory: every file's size plus its ever-private bytes. */
uint64_t sess_ever_private(const struct session *s);

/* For session*.c: set s->why and return SESS_BAD; a file or NULL (s->why). */
int sess_bad(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct sess_file *sess_file_get(struct session *s, unsigned int idx);
const char *sess_state_name(unsigned int state);

static inline uint64_t sess_huge(const struct session *s)
{
	return s->opts.page_size;
}

#endif /* GUESTMEM_TOOL_SESSION_H */
