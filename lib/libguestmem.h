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

struct guestmem_pool {
	struct hstate *h;
	enum guestmem_backend backend;
	int node;
	pthread_mutex_t lock;		/* files list and counters */
	unsigned long gen;		/* gm_generation() at creation (fork) */
	struct list_head files;
	unsigned long nr_files;
	u64 splits, merges;		/* of files already destroyed */
};

struct guestmem_file {
	struct guestmem_pool *pool;
	struct hgmem_file *gf;
	unsigned long gen;		/* gm_generation() at creation (fork) */
	struct list_head node;		/* on pool->files */
	pthread_mutex_t lock;		/* host mapping and pins */
	u64 size;
	char *hva;			/* huge-aligned host mapping of the file */
	void *map;			/* what to munmap */
	size_t map_len;
	unsigned long *mapped;		/* per huge page: its pfn while held, 0 = none */
	struct xarray pins;		/* pin id -> pinned folio */
	unsigned long nr_pins;
	struct xarray aliases;		/* pool huge frame -> struct gm_alias, while pinned */
	u64 next_pin;
};

/* error.c */
int gm_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gm_clear_error(void);

/* pool.c */
int gm_pool_backend_fd(struct guestmem_pool *pool);

/*
 * pool.c: every public call but guestmem_file_hva() and
 * guestmem_last_error() runs between gm_enter() and gm_leave(), never
 * nested: fork() waits for the calls running to return.  gm_enter() fails
 * with -ECHILD for an object of generation @gen, created before a fork()
 * that made this process; gm_generation() is the current one.
 */
unsigned long gm_generation(void);
int gm_enter(unsigned long gen, const char *what);
void gm_leave(void);

#endif /* GUESTMEM_LIB_H */
