// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: kmalloc/kfree over malloc, with a size header so live
 * metadata bytes can be counted, and two kinds of fault injection: fail the
 * Nth allocation from now, or every allocation made at a named site.
 */
#include <stdlib.h>

#include "slab.h"

struct slab_hdr {
	size_t size;
	size_t pad;	/* keeps the payload 16-byte aligned */
};

static atomic_size_t live_bytes;
static atomic_ulong nr_allocs;
static atomic_ulong fail_at;		/* absolute allocation number to fail, 0 = off */
static atomic_ulong nr_failed;
static _Atomic(const char *) fail_site;

static bool should_fail(unsigned long n, const char *site)
{
	const char *fs = atomic_load(&fail_site);

	if (fs && site && !strcmp(fs, site))
		return true;
	return atomic_load(&fail_at) == n;
}

void *shim_kmalloc(size_t size, gfp_t gfp, const char *site)
{
	unsigned long n = atomic_fetch_add(&nr_allocs, 1) + 1;
	struct slab_hdr *h;

	if (should_fail(n, site)) {
		atomic_fetch_add(&nr_failed, 1);
		return NULL;
	}
	h = (gfp & __GFP_ZERO) ? calloc(1, sizeof(*h) + size) :
				 malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	atomic_fetch_add(&live_bytes, size);
	return h + 1;
}

void shim_kfree(const void *p)
{
	struct slab_hdr *h;

	if (!p)
		return;
	h = (struct slab_hdr *)p - 1;
	atomic_fetch_sub(&live_bytes, h->size);
	free(h);
}

void shim_fail_nth(unsigned long nth)
{
	atomic_store(&nr_failed, 0);
	atomic_store(&fail_at, nth ? atomic_load(&nr_allocs) + nth : 0);
}

void shim_fail_site(const char *site)
{
	atomic_store(&nr_failed, 0);
	atomic_store(&fail_site, site);
}

unsigned long shim_failed_count(void)
{
	return atomic_load(&nr_failed);
}

unsigned long shim_alloc_count(void)
{
	return atomic_load(&nr_allocs);
}

size_t shim_kmalloc_bytes(void)
{
	return atomic_load(&live_bytes);
}
