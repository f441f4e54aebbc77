// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: converting ranges between shared and private.
 *
 * A conversion is a transaction.  Everything that can fail comes first and
 * changes nothing visible: the reference check on pages becoming private,
 * the splits of the huge pages the conversion leaves with mixed state (only
 * the two huge pages at the ends of the range can be), and the
 * preallocation of the state store.  Then the new state is stored, the
 * split folios are published, and huge pages that became uniform are
 * merged back.  Data stays in place unless the file asked for zeroing.
 */
#include "guestmem_internal.h"

/*
 * Pages about to become private must not be referenced beyond the file's
 * own reference.  Reference counts are per folio, so for a huge folio the
 * first page of it inside the range is reported.  Caller locked the range.
 */
static int hgmem_check_unreferenced(struct hgmem_file *f, const struct hgmem_conv *c,
				    pgoff_t *error_index)
{
	pgoff_t i = c->start, last;
	struct hgmem_huge *hp;
	struct folio *folio;

	hgmem_assert_locked(f, c->start, c->end);
	while (i < c->end) {
		if (hgmem_state_at(f, i, &last) != HGMEM_SHARED) {
			i = last + 1;
			continue;
		}
		hp = xa_load(&f->huge, i >> f->order);
		if (!hp) {
			i = hgmem_huge_base(f, i) + hgmem_huge_pages(f);
			continue;
		}
		folio = hgmem_folio_at(hp, i);
		if (folio_ref_count(folio) > 1) {
			*error_index = i;
			return -EAGAIN;
		}
		i = hgmem_folio_index(hp, folio) + folio_nr_pages(folio);
	}
	return 0;
}

/*
 * Zero the allocated pages of [c->start, c->end) whose state is changing.
 * Caller locked the range.
 */
static void hgmem_zero_changing(struct hgmem_file *f, const struct hgmem_conv *c)
{
	pgoff_t i = c->start, last, next;
	struct hgmem_huge *hp;

	hgmem_assert_locked(f, c->start, c->end);
	while (i < c->end) {
		next = hgmem_huge_base(f, i) + hgmem_huge_pages(f);
		if (hgmem_state_at(f, i, &last) == c->to) {
			i = last + 1;
			continue;
		}
		last = min3(last + 1, next, c->end);
		hp = xa_load(&f->huge, i >> f->order);
		if (hp)
			hgmem_zero(f, hp, i, last);
		i = last;
	}
}

/*
 * Split the huge page holding @index, if allocated, as @c requires.
 * Caller locked the range of @c.
 */
static int hgmem_split_end(struct hgmem_file *f, pgoff_t index,
			   const struct hgmem_conv *c, struct hgmem_txn *t,
			  pgoff_t *error_index)
{
	struct hgmem_huge *hp;

	hgmem_assert_locked(f, c->start, c->end);
	hp = xa_load(&f->huge, index >> f->order);
	return hp ? hgmem_split_for_state(f, hp, c, t, error_index) : 0;
}

/**
 * hgmem_convert() - Convert a range of a file between shared and private.
 * @f: The file.
 * @offset: Start of the range in bytes, 4K aligned.
 * @len: Length of the range in bytes, 4K aligned and not zero.
 * @to: The new state, %HGMEM_SHARED or %HGMEM_PRIVATE.
 * @error_offset: If not NULL, where to store the byte offset of the first
 *	page still referenced elsewhere when the conversion fails with -EAGAIN.
 *
 * A transaction: the huge pages the range leaves with mixed state are split
 * (only those at the ends of the range can be), the state is stored, and
 * the huge pages that become uniform are merged back.  The data stays in
 * place unless the file was created with %HGMEM_FILE_ZERO_ON_CONVERT, in
 * which case the allocated pages that change state are zeroed.  A failed
 * conversion changes nothing.  Conversions within different huge pages run
 * in parallel (see hgmem_lock()).
 *
 * Context: Process context.  Takes and releases the file's locks, so the
 * caller must not hold them.  May sleep.
 * Return:
 * * %0 - The range is in state @to (which it may have been already).
 * * %-EINVAL - @offset or @len is not 4K aligned, @len is zero, or @to is not
 *   a state.
 * * %-ERANGE - The range ends past the end of the file, or @offset + @len
 *   overflows.
 * * %-ENOMEM - No memory for the state or for a split.
 * * %-EAGAIN - A page to be made private, or a folio to be split, is
 *   referenced elsewhere; the first such page is stored through
 *   @error_offset.
 */
int hgmem_convert(struct hgmem_file *f, u64 offset, u64 len, unsigned int to,
		  u64 *error_offset)
{
	struct hgmem_state_prep prep;
	struct hgmem_txn t = { };
	pgoff_t start, end, bad = 0;
	struct hgmem_huge *hp;
	struct hgmem_conv c;
	unsigned long hidx;
	int err;

	might_sleep();
	if (to != HGMEM_PRIVATE && to != HGMEM_SHARED)
		return -EINVAL;
	err = hgmem_range(f, offset, len, &start, &end);
	if (err)
		return err;
	c.start = start;
	c.end = end;
	c.to = to;

	hgmem_lock(f, start, end);
	if (hgmem_uniform_state(f, start, end - start, NULL) == to)
		goto out;
	if (to == HGMEM_PRIVATE) {
		err = hgmem_check_unreferenced(f, &c, &bad);
		if (err)
			goto out;
	}
	err = hgmem_split_end(f, start, &c, &t, &bad);
	if (!err && !hgmem_range_in_huge(f, start, end))
		err = hgmem_split_end(f, end - 1, &c, &t, &bad);
	if (!err)
		err = hgmem_state_prepare(f, &c, &prep);
	if (err)
		goto abort;
	/* Nothing can fail from here on. */
	if (f->flags & HGMEM_FILE_ZERO_ON_CONVERT)
		hgmem_zero_changing(f, &c);
	hgmem_state_commit(f, &c, &prep);

	hgmem_txn_commit(f, &t);
	xa_for_each_range(&f->huge, hidx, hp, start >> f->order,
			  (end - 1) >> f->order)
		hgmem_merge_uniform(f, hp, start, end);
	goto out;
abort:
	hgmem_txn_abort(f, &t);
out:
	if (err == -EAGAIN && error_offset)
		*error_offset = (u64)bad << PAGE_SHIFT;
	hgmem_debug_check(f, start, end);
	hgmem_unlock(f, start, end);
	return err;
}
EXPORT_SYMBOL_FOR_MODULES(hgmem_convert, "kvm");
