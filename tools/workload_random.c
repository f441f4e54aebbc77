// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem run random: a seeded random mix of every operation on two files
 * (the first starts private and zeroes on conversion, the second starts
 * shared), with ranges from 4K to whole huge pages and beyond, and up to
 * 64 pins outstanding.  Each result is checked against what the API
 * promises:
 *   punch, unpin              0
 *   convert                   0, or -EAGAIN when a pinned page lies in a
 *                             huge page of the range
 *   allocate                  0, or -ENOMEM while huge pages punched out of
 *                             the file are still pinned ("orphans": the
 *                             file's reservation does not cover their
 *                             replacements until they are back in the pool)
 *   pin                       0 on a shared page (or -ENOMEM as allocate),
 *                             -EPERM on a private one
 *
 * The last unpin of an orphan page returns with the page reassembled and
 * back in the pool; the workload asserts that after every such unpin with a
 * "check pool pending N" that replay repeats.  At the end every pin is dropped and both files
 * are destroyed: the pool must be entirely free again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>

#include "huge_span.h"
#include "workload.h"

#define MAX_PINS	64

static int random_prepare(struct run_opts *o)
{
	if (!o->ops)
		o->ops = 5000;
	return 0;
}

struct rfile {
	unsigned int idx;
	uint64_t size;
};

/* A pin whose huge page was punched out of its file while pinned. */
struct orphan {
	uint64_t pin;
	unsigned int file;
	uint64_t punch;		/* which punch removed the page... */
	uint64_t hidx;		/* ...and which huge page it was */
};

struct rstate {
	struct orphan orphans[MAX_PINS];
	unsigned int nr_orphans;
	uint64_t punches;
};

/* A random 4K-aligned range of @f, of one of several size classes. */
static void pick_range(struct rng *rng, uint64_t huge, const struct rfile *f,
		       uint64_t *off, uint64_t *len)
{
	uint64_t pages = f->size / TOOL_PAGE, n, c = rng_below(rng, 100);

	if (c < 50) {			/* an I/O buffer: 4K..64K */
		n = 1 + rng_below(rng, 16);
	} else if (c < 80) {		/* up to 2M, unaligned */
		n = 1 + rng_below(rng, 512);
	} else if (c < 95) {		/* one or two whole huge pages */
		uint64_t nh = f->size / huge, k = nh > 1 ? 1 + rng_below(rng, 2) : 1;
		uint64_t h = rng_below(rng, nh - k + 1);

		*off = h * huge;
		*len = k * huge;
		return;
	} else {			/* anything up to a quarter of the file */
		n = 1 + rng_below(rng, pages / 4 ? pages / 4 : 1);
	}
	if (n > pages)
		n = pages;
	*len = n * TOOL_PAGE;
	*off = rng_below(rng, pages - n + 1) * TOOL_PAGE;
}

/* Is a page of file @idx pinned in a huge page that [off, off + len) touches? */
static bool pins_near(struct session *s, unsigned int idx, uint64_t off, uint64_t len)
{
	uint64_t huge = sess_huge(s), first = off / huge, last = (off + len - 1) / huge;
	size_t i;

	for (i = 0; i < s->nr_pins; i++) {
		uint64_t h = s->pins[i].page.offset / huge;

		if (s->pins[i].file == idx && h >= first && h <= last)
			return true;
	}
	return false;
}

static struct orphan *find_orphan(struct rstate *rs, uint64_t pin)
{
	unsigned int i;

	for (i = 0; i < rs->nr_orphans; i++)
		if (rs->orphans[i].pin == pin)
			return &rs->orphans[i];
	return NULL;
}

/* After a punch: pins in the whole huge pages it removed become orphans. */
static void punched(struct session *s, struct rstate *rs, unsigned int idx, uint64_t off,
		    uint64_t len)
{
	uint64_t huge = sess_huge(s), h;
	size_t i;

	rs->punches++;
	for (i = 0; i < s->nr_pins; i++) {
		const struct sess_pin *p = &s->pins[i];

		h = p->page.offset / huge;
		if (p->file != idx || !huge_span_covers(off, len, huge, h) ||
		    find_orphan(rs, p->id) || rs->nr_orphans == MAX_PINS)
			continue;
		rs->orphans[rs->nr_orphans++] = (struct orphan){
			.pin = p->id, .file = idx, .punch = rs->punches, .hidx = h,
		};
	}
}

/* Huge pages still held by orphan pins (each counted once). */
static uint64_t orphan_pages(const struct rstate *rs)
{
	uint64_t n = 0;
	unsigned int i, j;

	for (i = 0; i < rs->nr_orphans; i++) {
		const struct orphan *a = &rs->orphans[i];

		for (j = 0; j < i; j++) {
			const struct orphan *b = &rs->orphans[j];

			if (a->file == b->file && a->punch == b->punch && a->hidx == b->hidx)
				break;
		}
		n += j == i;
	}
	return n;
}

static bool file_has_orphans(const struct rstate *rs, unsigned int idx)
{
	unsigned int i;

	for (i = 0; i < rs->nr_orphans; i++)
		if (rs->orphans[i].file == idx)
			return true;
	return false;
}

/* Unpin; an orphan's page may go back to the pool: wait until it has. */
static int unpin(struct session *s, struct rstate *rs, uint64_t id)
{
	struct orphan *o = find_orphan(rs, id);

	if (wl_want(s, sess_unpin(s, id), 0))
		return -1;
	if (!o)
		return 0;
	*o = rs->orphans[--rs->nr_orphans];
	return wl_check(s, sess_check_pool(s, "pending", orphan_pages(rs)));
}

static int random_run(struct session *s, const struct run_opts *o)
{
	const uint64_t huge = sess_huge(s), nh = o->size / huge;
	struct rstate rs = { .nr_orphans = 0 };
	struct rfile files[2];
	unsigned int nfiles = nh >= 2 ? 2 : 1, i;
	struct rng rng;
	uint64_t op;

	rng_seed(&rng, o->seed);
	files[0] = (struct rfile){ 0, (nh + 1) / 2 * huge };
	files[1] = (struct rfile){ 1, nh / 2 * huge };
	sess_trace_comment(s, "random: seed %" PRIu64 ", %" PRIu64 " operations", o->seed, o->ops);
	if (wl_want(s, sess_file_create(s, 0, files[0].size, GUESTMEM_FILE_ZERO_ON_CONVERT), 0))
		return -1;
	if (nfiles == 2 &&
	    wl_want(s, sess_file_create(s, 1, files[1].size, GUESTMEM_FILE_INIT_SHARED), 0))
		return -1;
	sess_sample(s);

	progress_start("random", o->ops);
	for (op = 0; op < o->ops; op++) {
		const struct rfile *f = &files[rng_below(&rng, nfiles)];
		uint64_t c = rng_below(&rng, 100), off, len;
		unsigned int to, state;
		int rc, want;

		progress_update(op);
		/* Keep the pins bounded, and unpin only what is pinned. */
		if (c >= 65 && c < 85 && s->nr_pins >= MAX_PINS)
			c = 90;
		if (c >= 85 && !s->nr_pins)
			c = 70;
		if (c < 35) {
			pick_range(&rng, huge, f, &off, &len);
			to = rng_below(&rng, 2) ? GUESTMEM_SHARED : GUESTMEM_PRIVATE;
			rc = sess_convert(s, f->idx, off, len, to);
			want = rc == -EAGAIN && pins_near(s, f->idx, off, len) ? -EAGAIN : 0;
		} else if (c < 50) {
			pick_range(&rng, huge, f, &off, &len);
			rc = sess_alloc(s, f->idx, off, len);
			want = rc == -ENOMEM && file_has_orphans(&rs, f->idx) ? -ENOMEM : 0;
		} else if (c < 65) {
			pick_range(&rng, huge, f, &off, &len);
			rc = sess_punch(s, f->idx, off, len);
			want = 0;
			if (!rc)
				punched(s, &rs, f->idx, off, len);
		} else if (c < 85) {
			off = rng_below(&rng, f->size / TOOL_PAGE) * TOOL_PAGE;
			if (guestmem_state(s->files[f->idx].f, off, &state, NULL))
				return wl_want(s, SESS_BAD, 0);
			want = state == GUESTMEM_SHARED ? 0 : -EPERM;
			rc = sess_pin(s, f->idx, off, sess_pin_id(s));
			if (rc == -ENOMEM && !want && file_has_orphans(&rs, f->idx))
				want = -ENOMEM;
			if (!rc)
				wl_touch(s, &s->pins[s->nr_pins - 1], (int)(op & 0xff));
		} else {
			if (unpin(s, &rs, s->pins[rng_below(&rng, s->nr_pins)].id))
				return -1;
			rc = want = 0;
		}
		if (wl_want(s, rc, want))
			return -1;
		wl_maybe_sample(s, op + 1, o->ops / 8);
	}
	progress_end();

	while (s->nr_pins)
		if (unpin(s, &rs, s->pins[s->nr_pins - 1].id))
			return -1;
	sess_sample(s);
	if (wl_check(s, sess_check_pool(s, "pending", 0)))
		return -1;
	for (i = 0; i < nfiles; i++)
		if (wl_want(s, sess_file_destroy(s, i), 0))
			return -1;
	if (wl_check(s, sess_check_pool(s, "free", s->opts.nr_pages)))
		return -1;
	sess_note(s, "%u files (private+zero, shared), %" PRIu64 " random operations, up to %d pins",
		  nfiles, o->ops, MAX_PINS);
	sess_note(s, "every result was one the API allows; the pool was entirely free at the end");
	return 0;
}

const struct workload workload_random = {
	.name = "random",
	.prepare = random_prepare,
	.run = random_run,
	.unit = "operations",
};
