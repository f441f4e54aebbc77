// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: converting ranges between shared and private.
 *
 * A conversion is a transaction.  Everything that can fail comes first and
 * changes nothing visible: the reference check on pages becoming private,
 * the preallocation of the state store, and the splits of the huge pages
 * the conversion leaves with mixed state (only the two huge pages at the
 * ends of the range can be).  Then the new state is stored, the split
 * folios are published, and huge pages that became uniform are merged
 * back.  Data stays in place unless the file asked for zeroing.
 */
#include "guestmem_internal.h"

/*
 * Pages about to become private must not be referenced beyond the file's
 * own reference.  Reference counts are per folio, so for a huge folio the
 * first page of it inside the range is reported.
 */
static int gmem_check_unreferenced(struct gmem_file *f, const struct gmem_conv *c,
				   pgoff_t *error_index)
{
	pgoff_t i = c->start, last;
	struct gmem_huge *hp;
	struct folio *folio;

	while (i < c->end) {
		if (gmem_state_at(f, i, &last) != GMEM_SHARED) {
			i = last + 1;
			continue;
		}
		hp = xa_load(&f->huge, i >> f->order);
		if (!hp) {
			i = gmem_huge_base(f, i) + gmem_huge_pages(f);
			continue;
		}
		folio = gmem_folio_at(hp, i);
		if (folio_ref_count(folio) > 1) {
			*error_index = i;
			return -EAGAIN;
		}
		i = gmem_folio_index(hp, folio) + folio_nr_pages(folio);
	}
	return 0;
}

/* Zero the allocated pages of [c->start, c->end) whose state is changing. */
static void gmem_zero_changing(struct gmem_file *f, const struct gmem_conv *c)
{
	pgoff_t i = c->start, last, next;
	struct gmem_huge *hp;

	while (i < c->end) {
		next = gmem_huge_base(f, i) + gmem_huge_pages(f);
		if (gmem_state_at(f, i, &last) == c->to) {
			i = last + 1;
			continue;
		}
		last = min3(last + 1, next, c->end);
		hp = xa_load(&f->huge, i >> f->order);
		if (hp)
			gmem_zero(hp, i, last);
		i = last;
	}
}

/* Split the huge page holding @index, if allocated, as @c requires. */
static int gmem_split_end(struct gmem_file *f, pgoff_t index,
			  const struct gmem_conv *c, struct gmem_txn *t,
			  pgoff_t *error_index)
{
	struct gmem_huge *hp = xa_load(&f->huge, index >> f->order);

	return hp ? gmem_split_for_state(f, hp, c, t, error_index) : 0;
}

int gmem_convert(struct gmem_file *f, u64 offset, u64 len, unsigned int to,
		 u64 *error_offset)
{
	MA_STATE(mas, &f->state, 0, 0);
	struct gmem_txn t = { };
	pgoff_t start, end, bad = 0;
	struct gmem_huge *hp;
	struct gmem_conv c;
	unsigned long hidx;
	int err;

	if (to != GMEM_PRIVATE && to != GMEM_SHARED)
		return -EINVAL;
	err = gmem_range(f, offset, len, &start, &end);
	if (err)
		return err;
	c.start = start;
	c.end = end;
	c.to = to;

	mutex_lock(&f->lock);
	if (gmem_uniform_state(f, start, end - start, NULL) == to)
		goto out;
	if (to == GMEM_PRIVATE) {
		err = gmem_check_unreferenced(f, &c, &bad);
		if (err)
			goto out;
	}
	err = gmem_state_prepare(f, &mas, &c);
	if (err)
		goto out;
	err = gmem_split_end(f, start, &c, &t, &bad);
	if (!err && (start >> f->order) != ((end - 1) >> f->order))
		err = gmem_split_end(f, end - 1, &c, &t, &bad);
	if (err) {
		gmem_txn_abort(&t);
		mas_destroy(&mas);
		goto out;
	}

	if (f->flags & GMEM_FILE_ZERO_ON_CONVERT)
		gmem_zero_changing(f, &c);
	gmem_state_commit(&mas, &c);
	gmem_txn_commit(f, &t);
	xa_for_each_range(&f->huge, hidx, hp, start >> f->order,
			  (end - 1) >> f->order)
		gmem_merge_uniform(f, hp, start, end);
out:
	if (err == -EAGAIN && error_offset)
		*error_offset = (u64)bad << PAGE_SHIFT;
	gmem_debug_check(f, start, end);
	mutex_unlock(&f->lock);
	return err;
}
EXPORT_SYMBOL_GPL(gmem_convert);
