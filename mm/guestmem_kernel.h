/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces guestmem is written against.  In the userspace
 * library a shim header with the same include guard is included first, so
 * this file only takes effect inside the kernel.
 */
#ifndef _MM_GUESTMEM_KERNEL_H
#define _MM_GUESTMEM_KERNEL_H

#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/*
 * Restructuring of hugetlb folios, added to mm/hugetlb.c by this series:
 * allocation against a subpool without a VMA, split with vmemmap restore
 * (may fail with -ENOMEM, changing nothing), and the infallible merge that
 * re-optimises the vmemmap.  Split and merge need the folios frozen.
 */
struct folio *hugetlb_subpool_alloc_folio(struct hugepage_subpool *spool, int nid);
int hugetlb_folio_split(struct folio *folio, unsigned int new_order);
struct folio *hugetlb_folio_merge(struct folio *first, unsigned int order);

/* The page type of split guestmem folios, whose final put calls gmem_folio_free(). */
bool folio_test_guestmem(const struct folio *folio);
void __folio_set_guestmem(struct folio *folio);
void __folio_clear_guestmem(struct folio *folio);

#endif /* _MM_GUESTMEM_KERNEL_H */
