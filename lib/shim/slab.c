// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Userspace shim: kmalloc/kfree over malloc, with a size header so live
 * metadata bytes can be counted, and two kinds of fault injection: fail the
 * Nth allocation from now, or every allocation made at a named site.
 * Objects of a cache line or more are cache-line aligned, as the kernel's
 * kmalloc caches place them, so ____cacheline_aligned_in_smp members are
 * aligned in fact; smaller ones are malloc()'s, 16-byte aligned.
 */
#include <stdlib.h>
#include <string.h>

#include "slab.h"

/* Right before each object: its size, and where its block starts. */
struct slab_hdr {
	size_t size;
	size_t offset;		/* from the block's start to the object */
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
	size_t align, total;
	struct slab_hdr *h;
	char *base;

	if (should_fail(n, site)) {
		atomic_fetch_add(&nr_failed, 1);
		return NULL;
	}
	align = size >= SMP_CACHE_BYTES ? SMP_CACHE_BYTES : sizeof(*h);
	if (__builtin_add_overflow(size, align + SMP_CACHE_BYTES - 1, &total))
		return NULL;
	if (align == SMP_CACHE_BYTES)
		base = aligned_alloc(SMP_CACHE_BYTES, total & ~(size_t)(SMP_CACHE_BYTES - 1));
	else
		base = malloc(size + align);
	if (!base)
		return NULL;
	h = (struct slab_hdr *)(base + align) - 1;
	if (gfp & __GFP_ZERO)
		memset(h + 1, 0, size);
	h->size = size;
	h->offset = align;
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
	free((char *)(h + 1) - h->offset);
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
