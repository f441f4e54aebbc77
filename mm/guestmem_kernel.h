/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces guestmem is written against.  In the userspace
 * library a shim header with the same include guard is included first, so
 * this file only takes effect inside the kernel.
 *
 * Besides the usual ones (lockdep_assert_held() and might_sleep() state its
 * locking rules), guestmem needs what the hugetlb restructuring patch adds:
 * hugetlb_subpool_alloc_folio(), hugetlb_folio_split() (vmemmap restore,
 * may fail with -ENOMEM changing nothing), the infallible
 * hugetlb_folio_merge() (<linux/hugetlb.h>), and the guestmem page type,
 * whose final folio_put() calls hgmem_folio_free() (<linux/page-flags.h>).
 */
#ifndef _MM_GUESTMEM_KERNEL_H
#define _MM_GUESTMEM_KERNEL_H

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/*
 * Whether the pool handed out @folio, just allocated, known to hold zeroes,
 * so that guestmem need not clear it.  The kernel's hugetlb pool does not
 * track that, so every page is cleared; libguestmem's pool does.
 */
static inline bool hgmem_folio_zeroed(struct folio *folio)
{
	return false;
}

#endif /* _MM_GUESTMEM_KERNEL_H */
