// SPDX-License-Identifier: GPL-2.0
/*
 * hugetlb backing for guest_memfd, on the guestmem allocator (mm/guestmem_*).
 *
 * A guest_memfd created with GUEST_MEMFD_FLAG_HUGETLB keeps its memory in a
 * guestmem file instead of the page cache: the file reserves all of its huge
 * pages at creation, allocates them on first use, and tracks whether each
 * 4K page is shared or private.  Folios are as large as the range's state
 * allows, so KVM can map them at 2M or 1G.
 *
 * The host maps shared memory by pfn (VM_PFNMAP): guestmem folios are never
 * mapped through the rmap, which leaves their mapcount to the guestmem page
 * type and keeps hugetlb's vmemmap optimisation intact for unsplit pages.
 */
#include <linux/guestmem.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "kvm_mm.h"

struct kvm_gmem_hugetlb {
	struct hgmem_file *file;
	struct hstate *h;
};

/* The hstate of a huge page size the kernel has, or NULL. */
static struct hstate *kvm_gmem_hugetlb_hstate(u64 page_size)
{
	if (!page_size || page_size > ULONG_MAX || !is_power_of_2(page_size))
		return NULL;
	return size_to_hstate(page_size);
}

int kvm_gmem_hugetlb_create(u64 size, u64 page_size, bool init_shared,
			    struct kvm_gmem_hugetlb **hgp)
{
	struct kvm_gmem_hugetlb *hg;
	struct hstate *h;
	int err;

	h = kvm_gmem_hugetlb_hstate(page_size);
	if (!h || !size || !IS_ALIGNED(size, page_size))
		return -EINVAL;

	hg = kzalloc_obj(*hg);
	if (!hg)
		return -ENOMEM;
	hg->h = h;
	err = hgmem_file_create(h, size, init_shared ? HGMEM_FILE_INIT_SHARED : 0,
				NUMA_NO_NODE, &hg->file);
	if (err) {
		kfree(hg);
		return err;
	}
	*hgp = hg;
	return 0;
}

void kvm_gmem_hugetlb_release(struct kvm_gmem_hugetlb *hg)
{
	hgmem_file_release(hg->file);
	kfree(hg);
}

u64 kvm_gmem_hugetlb_page_size(struct kvm_gmem_hugetlb *hg)
{
	return huge_page_size(hg->h);
}

/*
 * Whether to call the allocator again after @err.  It fails with -EAGAIN,
 * having changed nothing, when a huge page it just took from the pool had to
 * be split for a range of mixed state and a transient reference to it (a
 * speculative folio_try_get() by a pfn walker) kept it from splitting.
 */
static bool kvm_gmem_hugetlb_retry(int err)
{
	if (err != -EAGAIN || fatal_signal_pending(current))
		return false;
	cond_resched();
	return true;
}

int kvm_gmem_hugetlb_allocate(struct kvm_gmem_hugetlb *hg, loff_t offset,
			      loff_t len)
{
	int err;

	do {
		err = hgmem_allocate(hg->file, offset, len);
	} while (kvm_gmem_hugetlb_retry(err));
	return err;
}

int kvm_gmem_hugetlb_punch_hole(struct kvm_gmem_hugetlb *hg, loff_t offset,
				loff_t len)
{
	return hgmem_punch_hole(hg->file, offset, len);
}

/*
 * The folio holding @index, allocated on first use, with a reference.  It
 * never spans mixed state, so it may be mapped at its own order.
 */
struct folio *kvm_gmem_hugetlb_get_folio(struct kvm_gmem_hugetlb *hg,
					 pgoff_t index)
{
	struct folio *folio;
	int err, order;

	do {
		err = hgmem_get_folio(hg->file, index, &folio, &order);
	} while (kvm_gmem_hugetlb_retry(err));
	if (err)
		return ERR_PTR(err == -ERANGE ? -EINVAL : err);
	return folio;
}

bool kvm_gmem_hugetlb_is_shared(struct kvm_gmem_hugetlb *hg, pgoff_t index)
{
	enum hgmem_state state;

	return !hgmem_get_state(hg->file, (u64)index << PAGE_SHIFT, &state, NULL) &&
	       state == HGMEM_SHARED;
}

/*
 * Convert [@offset, @offset + @len), which the caller checked lies within the
 * file, to private or shared, in place.  On -EAGAIN *@error_offset is the
 * first page still referenced beyond the file's own reference.
 */
int kvm_gmem_hugetlb_convert(struct kvm_gmem_hugetlb *hg, loff_t offset,
			     loff_t len, bool to_private, u64 *error_offset)
{
	return hgmem_convert(hg->file, offset, len,
			     to_private ? HGMEM_PRIVATE : HGMEM_SHARED,
			     error_offset);
}
