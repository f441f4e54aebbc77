/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: kmalloc/kfree with accounting and fault injection.
 *
 * Every allocation names its site (the calling function), so a test can
 * fail the Nth allocation from now on, or every allocation at one site, and
 * check that the operation under test changed nothing.
 */
#ifndef GUESTMEM_SHIM_SLAB_H
#define GUESTMEM_SHIM_SLAB_H

#include "kernel.h"

void *shim_kmalloc(size_t size, gfp_t gfp, const char *site);
void shim_kfree(const void *p);

#define kmalloc(size, gfp)	shim_kmalloc((size), (gfp), __func__)
#define kzalloc(size, gfp)	shim_kmalloc((size), (gfp) | __GFP_ZERO, __func__)
#define kzalloc_obj(obj, gfp)	kzalloc(sizeof(obj), (gfp))
#define kcalloc(n, size, gfp)	shim_kcalloc((n), (size), (gfp), __func__)
#define kvcalloc(n, size, gfp)	shim_kcalloc((n), (size), (gfp), __func__)
#define kvmalloc_array(n, size, gfp)	shim_kcalloc((n), (size), (gfp), __func__)
#define kfree(p)		shim_kfree(p)
#define kvfree(p)		shim_kfree(p)

static inline void *shim_kcalloc(size_t n, size_t size, gfp_t gfp, const char *site)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return shim_kmalloc(bytes, gfp | __GFP_ZERO, site);
}

/* Fault injection: fail the nth allocation from now (1 = the next one); 0 disarms. */
void shim_fail_nth(unsigned long nth);
/* Fail every allocation whose site is @site (NULL disarms). */
void shim_fail_site(const char *site);
/* Allocations failed by injection since the last arming. */
unsigned long shim_failed_count(void);
/* Allocations made so far (all sites); lets a test enumerate injection points. */
unsigned long shim_alloc_count(void);
/* Bytes currently allocated through kmalloc: the allocator's metadata. */
size_t shim_kmalloc_bytes(void);

#endif /* GUESTMEM_SHIM_SLAB_H */
