// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem run balloon: a balloon driver inflates with 4K discards.
 *
 * The guest (shared memory, all allocated) hands pages to the balloon 4K
 * at a time, in random order, and the VMM punches each out of the file.
 * The discards eventually cover whole huge pages, which must go back to
 * the pool: the pool's in_use count drops by one per covered page (the page
 * stays reserved for the file, which may grow back into it).
 *
 * A VMM cannot count on 4K punches alone freeing the huge page: guestmem
 * zeroes a partially punched huge page and frees it only when one punch
 * covers it whole.  Like QEMU's virtio-balloon, which tracks partially
 * ballooned host pages, the workload punches the whole huge page once its
 * last 4K piece is in the balloon, unless the library already returned it.
 * The report counts both cases.  Then the balloon deflates: the pages are
 * allocated again and the pool is back where it started.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>

#include "workload.h"

static int balloon_prepare(struct run_opts *o)
{
	uint64_t pieces = o->page_size / TOOL_PAGE, nr = o->size / o->page_size;
	uint64_t target;

	if (!o->ops) {
		target = nr / 4 < 32 ? nr / 4 : 32;
		o->ops = (target ? target : 1) * pieces;
	}
	/* Whole huge pages, at least one, at most all of them. */
	target = o->ops / pieces;
	if (!target)
		target = 1;
	if (target > nr)
		target = nr;
	o->ops = target * pieces;
	return 0;
}

static int pool_in_use(struct session *s, uint64_t *in_use)
{
	struct guestmem_pool_stats st;
	int rc = sess_pool_stats(s, &st);

	if (rc)
		return wl_want(s, rc, 0);
	*in_use = st.in_use;
	return 0;
}

static int balloon_run(struct session *s, const struct run_opts *o)
{
	const uint64_t huge = sess_huge(s), pieces = huge / TOOL_PAGE;
	const uint64_t nr = o->size / huge, target = o->ops / pieces;
	uint64_t *pages = NULL, *order = NULL, *count = NULL;
	uint64_t in_use0, reserved0, in_use, off, i, by_lib = 0, coalesced = 0;
	struct guestmem_pool_stats st;
	struct rng rng;
	char b[32];
	int err = -1;

	rng_seed(&rng, o->seed);
	sess_trace_comment(s, "balloon: %" PRIu64 " huge pages inflated by %" PRIu64 " 4K discards",
			   target, o->ops);
	if (wl_want(s, sess_file_create(s, 0, o->size, GUESTMEM_FILE_INIT_SHARED), 0))
		return -1;
	sess_sample(s);
	progress_start("balloon: booting", nr);
	for (off = 0; off < o->size; off += huge) {
		if (wl_want(s, sess_alloc(s, 0, off, huge), 0))
			return -1;
		progress_update(off / huge);
	}
	progress_end();
	if (sess_pool_stats(s, &st))
		return wl_want(s, SESS_BAD, 0);
	in_use0 = st.in_use;
	reserved0 = st.reserved;
	sess_sample(s);

	pages = calloc(nr, sizeof(*pages));
	order = calloc(target * pieces, sizeof(*order));
	count = calloc(target, sizeof(*count));
	if (!pages || !order || !count) {
		tool_err("balloon: out of memory");
		goto out;
	}
	/* Which huge pages: a random subset (partial Fisher-Yates). */
	for (i = 0; i < nr; i++)
		pages[i] = i;
	for (i = 0; i < target; i++) {
		uint64_t j = i + rng_below(&rng, nr - i), t = pages[i];

		pages[i] = pages[j];
		pages[j] = t;
	}
	/* In which order their 4K pieces come: all of them shuffled together. */
	for (i = 0; i < target * pieces; i++)
		order[i] = i;
	for (i = target * pieces; i > 1; i--) {
		uint64_t j = rng_below(&rng, i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}

	progress_start("balloon: inflating", target * pieces);
	in_use = in_use0;
	for (i = 0; i < target * pieces; i++) {
		uint64_t t = order[i] / pieces, piece = order[i] % pieces, now = 0;
		uint64_t base = pages[t] * huge;

		progress_update(i);
		if (wl_want(s, sess_punch(s, 0, base + piece * TOOL_PAGE, TOOL_PAGE), 0))
			goto out;
		if (++count[t] == pieces) {
			/* The last piece: the page must leave the file. */
			if (pool_in_use(s, &now))
				goto out;
			if (now == in_use - 1) {
				by_lib++;
			} else {
				coalesced++;
				if (wl_want(s, sess_punch(s, 0, base, huge), 0))
					goto out;
			}
			in_use--;
			if (wl_check(s, sess_check_pool(s, "in_use", in_use)))
				goto out;
		}
		wl_maybe_sample(s, i + 1, target * pieces / 8);
	}
	progress_end();
	if (wl_check(s, sess_check_pool(s, "in_use", in_use0 - target)) ||
	    wl_check(s, sess_check_pool(s, "reserved", reserved0 + target)) ||
	    wl_check(s, sess_check_file(s, 0, "allocated", o->size - target * huge)))
		goto out;
	sess_note(s, "inflate: %" PRIu64 " huge pages (%s) ballooned with %" PRIu64
		  " 4K discards; all went back to the pool (in_use %" PRIu64 " -> %" PRIu64 ")",
		  target, fmt_bytes(target * huge, b, sizeof(b)), target * pieces, in_use0,
		  in_use0 - target);
	sess_note(s, "returned by the 4K discards alone: %" PRIu64
		  "; needed a whole-page punch once fully ballooned: %" PRIu64, by_lib, coalesced);
	if (coalesced)
		sess_note(s, "(guestmem zeroes partially punched huge pages and frees a page only"
			  " when one punch covers it)");

	/* Deflate: the guest takes its pages back. */
	progress_start("balloon: deflating", target);
	for (i = 0; i < target; i++) {
		progress_update(i);
		if (wl_want(s, sess_alloc(s, 0, pages[i] * huge, huge), 0))
			goto out;
	}
	progress_end();
	sess_sample(s);
	if (wl_check(s, sess_check_pool(s, "in_use", in_use0)) ||
	    wl_check(s, sess_check_pool(s, "reserved", reserved0)) ||
	    wl_check(s, sess_check_file(s, 0, "allocated", o->size)))
		goto out;
	sess_note(s, "deflate: %" PRIu64 " huge pages allocated again; pool back to in_use %" PRIu64,
		  target, in_use0);
	if (wl_want(s, sess_file_destroy(s, 0), 0) ||
	    wl_check(s, sess_check_pool(s, "free", s->opts.nr_pages)))
		goto out;
	err = 0;
out:
	progress_end();
	free(pages);
	free(order);
	free(count);
	return err;
}

const struct workload workload_balloon = {
	.name = "balloon",
	.prepare = balloon_prepare,
	.run = balloon_run,
	.unit = "4K discards",
};
