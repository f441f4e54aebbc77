/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem internals: the public objects wrapping mm/'s files and the
 * shim's hugetlb pools.  Compiled over the shim, like mm/.
 */
#ifndef GUESTMEM_LIB_H
#define GUESTMEM_LIB_H

#include <guestmem.h>

#include "guestmem_kernel.h"
#include <linux/guestmem.h>

/*
 * Calls racing destroy.  Every call on a pool or file enters its gate and
 * leaves it on return; destroy closes the gate (new calls wait for its
 * verdict), waits for the calls inside to return, and then either opens it
 * again (-EBUSY: nothing changed) or kills it (every call then fails with
 * -EBADF).  @state holds the two flags, written by destroy only: a call
 * notes the gate it is in in its own thread's record (lib/gate.c), which
 * destroy reads.
 */
#define GM_GATE_CLOSING	(1u << 31)	/* a destroy is deciding */
#define GM_GATE_DEAD	(1u << 30)	/* destroyed */

struct gm_gate {
	atomic_uint state;
	pthread_mutex_t lock;		/* @waiters, and waiting for the verdict */
	pthread_cond_t cond;
	unsigned int waiters;		/* calls waiting for the verdict */
};

struct guestmem_pool {
	struct hstate *h;
	struct gm_gate gate;
	enum guestmem_backend backend;
	int node;
	pthread_mutex_t lock;		/* files list and counters */
	unsigned long gen;		/* gm_generation() at creation (fork) */
	struct list_head files;
	unsigned long nr_files;
	struct list_head dead_files;	/* destroyed files, freed with the pool */
	u64 splits, merges;		/* of files already destroyed */
};

struct guestmem_file {
	struct guestmem_pool *pool;
	struct hgmem_file *gf;
	unsigned long gen;		/* gm_generation() at creation (fork) */
	struct gm_gate gate;		/* kept, dead, until the pool goes */
	struct list_head node;		/* on pool->files, then pool->dead_files */
	pthread_mutex_t lock;		/* host mapping and pins */
	u64 size;
	char *hva;			/* huge-aligned host mapping of the file */
	void *map;			/* what to munmap */
	size_t map_len;
	unsigned long *mapped;		/* per huge page: its pfn while held, 0 = none */
	struct xarray pins;		/* pin id -> struct gm_pin (file.c) */
	unsigned long nr_pins;
	struct xarray aliases;		/* pool huge frame -> struct gm_alias, while pinned */
	u64 next_pin;
	struct gm_fault *fault;		/* GUESTMEM_FILE_ALLOC_ON_FAULT, else NULL */
	struct gm_kvm *kvm;		/* guestmem_kvm_file_create(), else NULL (kvm.c) */
};

/* error.c */
int gm_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gm_clear_error(void);
int gm_check_out(const void *obj, const void *dst, size_t size, size_t min_size);
void gm_copy_out(void *dst, size_t size, const void *src, size_t src_size);

/*
 * Versions of the shared library's symbols (lib/libguestmem.map).  The
 * stats functions of LIBGUESTMEM_0.1 took no size and wrote the structures
 * of that version; they stay for binaries linked then, under the internal
 * names below, bound to the old version with .symver.  Only in the shared
 * library (libtool's PIC objects): a static library or a test compiling
 * the sources in has the current functions only.
 */
#if defined(GM_COMPAT_SYMBOLS) && defined(PIC)
#define GM_COMPAT_SYMVER(impl, sym) __asm__(".symver " #impl ", " #sym "@LIBGUESTMEM_0.1")
#endif

/* hugetlb_info.c: guestmem_hugetlb_info() without touching guestmem_last_error(). */
int gm_hugetlb_read(u64 page_size, int node, struct guestmem_hugetlb_info *info);

/* pool.c */
int gm_pool_backend_fd(struct guestmem_pool *pool);

/*
 * gate.c: every public call but guestmem_file_hva() and
 * guestmem_last_error() runs between gm_enter() and gm_leave(), never
 * nested: fork() waits for the calls running to return.  gm_enter() fails
 * with -ECHILD for an object of generation @gen, created before a fork()
 * that made this process; gm_generation() is the current one.  A call
 * enters at most one gate at a time, between the two.
 */
unsigned long gm_generation(void);
int gm_enter(unsigned long gen, const char *what);
void gm_leave(void);

/* gate.c: struct gm_gate (above). */
void gm_gate_init(struct gm_gate *g);
int gm_gate_enter(struct gm_gate *g, const char *what);
void gm_gate_leave(struct gm_gate *g);
int gm_gate_close(struct gm_gate *g, const char *what);
void gm_gate_open(struct gm_gate *g);
void gm_gate_kill(struct gm_gate *g);
void gm_gate_drain(struct gm_gate *g);
bool gm_gate_dead(struct gm_gate *g);

/*
 * file.c: guestmem_convert() retries a conversion that failed with -EAGAIN
 * because of a reference that is not a pin, GM_CONVERT_TRIES times in
 * all, yielding the CPU before the first GM_CONVERT_YIELDS retries and
 * sleeping 1 us, 2 us, ... 1 ms before the others (about 7 ms at most).
 * Test hook: called after every such failure, before it is classified,
 * with no lock held; @attempt counts from 0.
 */
#define GM_CONVERT_TRIES	24
#define GM_CONVERT_YIELDS	8
extern void (*gm_convert_eagain_hook)(struct guestmem_file *file, unsigned int attempt);
/* Wait before retry @attempt (from 0) of a conversion that got -EAGAIN. */
void gm_convert_backoff(unsigned int attempt);

/* fault.c: allocation on fault */
int gm_fault_start(struct guestmem_file *file, u64 flags);
void gm_fault_arm(struct guestmem_file *file, unsigned long hidx);
void gm_fault_stop(struct guestmem_file *file);

/*
 * file.c, for kvm.c: a pool's gate for the calls that make a file, the
 * calls on a file without their gate (the caller is inside it), and the
 * gate.
 */
int gm_pool_enter(struct guestmem_pool *pool);
void gm_pool_leave(struct guestmem_pool *pool);
int gm_file_check_args(struct guestmem_pool *pool, u64 size, u64 flags);
int gm_file_create(struct guestmem_pool *pool, u64 size, u64 flags, struct gm_kvm *kvm,
		   struct guestmem_file **filep);
int gm_file_enter(struct guestmem_file *file);
void gm_file_leave(struct guestmem_file *file);
int gm_file_convert(struct guestmem_file *file, u64 offset, u64 len, unsigned int to,
		    u64 *error_offset);
int gm_file_allocate(struct guestmem_file *file, u64 offset, u64 len);
int gm_file_punch_hole(struct guestmem_file *file, u64 offset, u64 len);
int gm_file_pin(struct guestmem_file *file, u64 offset, struct guestmem_page *page);
int gm_file_state(struct guestmem_file *file, u64 offset, unsigned int *state, u64 *run_len);
void gm_file_rearm(struct guestmem_file *file, unsigned long hidx);

/* kvm.c: the calls on a KVM file (file->kvm set), from file.c and pool.c. */
int gm_kvm_convert(struct guestmem_file *file, u64 offset, u64 len, unsigned int to,
		   u64 *error_offset);
int gm_kvm_allocate(struct guestmem_file *file, u64 offset, u64 len);
int gm_kvm_punch_hole(struct guestmem_file *file, u64 offset, u64 len);
int gm_kvm_pin(struct guestmem_file *file, u64 offset, struct guestmem_page *page);
int gm_kvm_state(struct guestmem_file *file, u64 offset, unsigned int *state, u64 *run_len);
void gm_kvm_file_stats(struct guestmem_file *file, struct guestmem_file_stats *st);
void gm_kvm_pool_stats(struct guestmem_pool *pool, struct guestmem_pool_stats *st);
void gm_kvm_release(struct guestmem_file *file);
bool gm_kvm_inplace(struct guestmem_file *file);
int gm_kvm_unpin(struct guestmem_file *file, struct guestmem_page *page);
/* kvm_inplace.c: an in-place file has no mm/ file (file->gf is NULL). */
int gm_inplace_map(struct guestmem_file *file);

#endif /* GUESTMEM_LIB_H */
