// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: the invariant checker.
 *
 * It verifies what every operation must preserve: the state of every huge
 * page is a known state or a bitmap of mixed state; each allocated huge page
 * is one huge folio or is covered exactly by its pieces, every piece held
 * by the file and pointing back to its huge page; no folio spans mixed
 * state; and the file's subpool accounts for every allocated page.
 * Debug builds (CONFIG_GUESTMEM_DEBUG) run it after every operation.
 */
#include "guestmem_internal.h"

/* Check the folios of @hp, a huge page of @f.  Caller locked @hp. */
static const char *hgmem_check_huge(struct hgmem_file *f, struct hgmem_huge *hp)
{
	unsigned long end = hp->pfn + (1UL << hp->order), pfn;
	struct folio *folio;

	hgmem_assert_huge_locked(f, hp);
	if (hp->order != f->order || !IS_ALIGNED(hp->pfn, 1UL << hp->order))
		return "huge page record is malformed";
	for (pfn = hp->pfn; pfn < end; pfn += folio_nr_pages(folio)) {
		folio = pfn_folio(pfn);
		if (folio_pfn(folio) != pfn || pfn + folio_nr_pages(folio) > end)
			return "folios do not tile the huge page";
		if (folio_ref_count(folio) < 1)
			return "a folio of the file has no reference";
		if (folio_order(folio) == f->order) {
			if (!folio_test_hugetlb(folio))
				return "an unsplit huge folio is not a hugetlb folio";
		} else if (!folio_test_guestmem(folio) || folio->private != hp) {
			return "a piece does not point back to its huge page";
		} else if (folio_order(folio) &&
			   folio_order(folio) != PMD_ORDER) {
			return "a piece has an unexpected order";
		}
		if (folio_order(folio) &&
		    hgmem_uniform_state(f, hgmem_folio_index(hp, folio),
					folio_nr_pages(folio), NULL) < 0)
			return "a folio spans mixed state";
	}
	return NULL;
}

/*
 * Check the huge pages of @f holding pages [start, end), which the caller
 * locked.  A debug build's check after each operation costs what the
 * operation touched.  Over the whole file it also checks the counts.
 */
static const char *hgmem_check_range(struct hgmem_file *f, pgoff_t start,
				     pgoff_t end)
{
	bool whole = start == 0 && end == f->nr_pages;
	unsigned long hidx, n = 0;
	struct hgmem_huge *hp;
	const char *why;

	why = hgmem_state_check(f, start, end);
	if (why)
		return why;
	xa_for_each_range(&f->huge, hidx, hp, start >> f->order,
			  whole ? ULONG_MAX : (end - 1) >> f->order) {
		if (hidx >= f->nr_pages >> f->order || hp->base != hidx << f->order)
			return "huge page outside the file";
		why = hgmem_check_huge(f, hp);
		if (why)
			return why;
		n++;
	}
	if (whole && n != atomic_long_read(&f->nr_huge))
		return "allocated huge page count is wrong";
	return NULL;
}

/*
 * Check the part of @f around pages [start, end), which the caller locked;
 * with the file to itself (@exclusive), also its subpool accounting.
 */
static const char *__hgmem_check_file(struct hgmem_file *f, pgoff_t start,
				      pgoff_t end, bool exclusive)
{
	struct hugepage_subpool *spool = f->spool;
	unsigned long flags;
	const char *why;
	long rsv;

	hgmem_assert_locked(f, start, end);
	why = hgmem_check_range(f, start, end);
	if (why || !exclusive)
		return why;
	/*
	 * Every allocated page took one of the subpool's reserved pages.  A
	 * freed page gives its reservation back later, from its final
	 * folio_put(), under the subpool's lock: read it there.
	 */
	spin_lock_irqsave(&spool->lock, flags);
	rsv = spool->rsv_hpages;
	spin_unlock_irqrestore(&spool->lock, flags);
	if (rsv + atomic_long_read(&f->nr_huge) > spool->min_hpages)
		why = "subpool does not account for the file's pages";
	return why;
}

/**
 * hgmem_check_file() - Check the invariants of a file.
 * @f: The file.
 * @why: If not NULL, where to store the first violation found, or NULL.
 *
 * Checks the whole file: the state of every huge page is a known state or
 * a bitmap of mixed state, the folios of every allocated huge page tile it,
 * point back to it and never span mixed state, and the subpool accounts
 * for every page.
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 * Return:
 * * %0 - The file is consistent.
 * * %-EUCLEAN - It is not; the reason is stored through @why.
 */
int hgmem_check_file(struct hgmem_file *f, const char **why)
{
	const char *reason;

	might_sleep();
	hgmem_lock(f, 0, f->nr_pages);
	reason = __hgmem_check_file(f, 0, f->nr_pages, true);
	hgmem_unlock(f, 0, f->nr_pages);
	if (why)
		*why = reason;
	return reason ? -EUCLEAN : 0;
}

/*
 * Debug builds: check @f after an operation on pages [start, end).  Caller
 * locked them with hgmem_lock(), in every build.
 */
void hgmem_debug_check(struct hgmem_file *f, pgoff_t start, pgoff_t end)
{
	hgmem_assert_locked(f, start, end);
	if (IS_ENABLED(CONFIG_GUESTMEM_DEBUG))
		WARN_ON(__hgmem_check_file(f, start, end,
					   !hgmem_range_in_huge(f, start, end)));
}
