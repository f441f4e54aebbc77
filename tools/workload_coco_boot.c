// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem run coco-boot: a confidential guest boots and does I/O.
 *
 *   1. The file starts private (zeroed on conversion, as with memory
 *      encryption).  The firmware region, the first 2M, is made shared and
 *      the host loads the firmware into it through pins.
 *   2. The swiotlb bounce buffer (64M, or size/8 for small guests) at the
 *      top of memory is made shared.
 *   3. The guest accepts all of its memory: every huge page is allocated.
 *   4. I/O rounds (--ops, default 2000): each round makes a random private
 *      buffer of 4K..64K shared and pins its pages for "DMA" (the host writes
 *      them); every 16th round the guest tries to take a buffer back while it
 *      is pinned, which must fail with -EAGAIN.  32 buffers are in flight;
 *      the oldest is completed each round (unpinned, converted back to
 *      private).  Each round also does one DMA through the bounce buffer.
 *   5. All buffers complete: the shared bytes are the firmware and bounce
 *      buffer again and every allocated byte is huge-mappable (merged back).
 *
 * With --kvm the file is the guest memory of a KVM VM (session.h): every
 * conversion also sets the VM's memory attributes.  In split mode the
 * huge pages hold only shared memory (those wholly private are returned
 * to the pool) and private memory is in a 4K guest_memfd, which the guest
 * fills as it touches its memory: here when it accepts it (3.) and when
 * it takes a buffer back (4.), by fallocate(2), as no vCPU runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>

#include "huge_span.h"
#include "workload.h"

#define FIRMWARE	(2 * TOOL_M)
#define BOUNCE_MAX	(64 * TOOL_M)
#define IO_MAX_PAGES	16
#define QUEUE_DEPTH	32
#define EAGAIN_EVERY	16

struct io_buf {
	uint64_t off, len;
	uint64_t pins[IO_MAX_PAGES];
	unsigned int nr_pins;
};

static int coco_prepare(struct run_opts *o)
{
	char b[32];

	if (o->size < 16 * TOOL_M) {
		tool_err("run coco-boot: --size %s: at least 16M (firmware, bounce buffer, I/O)",
			 fmt_size(o->size, b, sizeof(b)));
		return EXIT_USAGE;
	}
	if (!o->ops)
		o->ops = 2000;
	return 0;
}

static bool overlaps(const struct io_buf *q, unsigned int n, uint64_t off, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (off < q[i].off + q[i].len && q[i].off < off + len)
			return true;
	return false;
}

/* Host DMA into the shared range [off, off + len) through pins. */
static int dma(struct session *s, uint64_t off, uint64_t len, int byte)
{
	uint64_t p;

	for (p = off; p < off + len; p += TOOL_PAGE) {
		uint64_t id = sess_pin_id(s);

		if (wl_want(s, sess_pin(s, 0, p, id), 0))
			return -1;
		wl_touch(s, sess_find_pin(s, id), byte);
		if (wl_want(s, sess_unpin(s, id), 0))
			return -1;
	}
	return 0;
}

/* Complete the oldest buffer: unpin, back to private, used by the guest. */
static int complete(struct session *s, struct io_buf *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_pins; i++)
		if (wl_want(s, sess_unpin(s, b->pins[i]), 0))
			return -1;
	b->nr_pins = 0;
	if (wl_want(s, sess_convert(s, 0, b->off, b->len, GUESTMEM_PRIVATE), 0))
		return -1;
	return wl_check(s, sess_guest_touch(s, 0, b->off, b->len));
}

/*
 * Bytes of huge pages the file holds once all is accepted: all of them,
 * but in KVM split mode only those with a shared page, the firmware's and
 * the bounce buffer's (the others are private, returned to the pool).
 */
static uint64_t held_bytes(struct session *s, uint64_t size, uint64_t bounce_off)
{
	uint64_t huge = sess_huge(s), f0, f1, b0, b1, lo, hi, n;

	if (sess_kvm_mode(s) != GUESTMEM_KVM_SPLIT)
		return size;
	n = huge_span_touched(0, FIRMWARE, huge, &f0, &f1);
	n += huge_span_touched(bounce_off, size - bounce_off, huge, &b0, &b1);
	lo = f0 > b0 ? f0 : b0;
	hi = f1 < b1 ? f1 : b1;
	if (hi > lo)
		n -= hi - lo;
	return n * huge;
}

static int coco_run(struct session *s, const struct run_opts *o)
{
	const uint64_t size = o->size, huge = sess_huge(s);
	uint64_t bounce = size / 8 < BOUNCE_MAX ? size / 8 : BOUNCE_MAX;
	uint64_t bounce_off, io_end, off, r, eagain = 0, skipped = 0, held;
	struct io_buf q[QUEUE_DEPTH + 1];
	unsigned int nq = 0, i;
	struct rng rng;
	char b1[32], b2[32];

	bounce -= bounce % FIRMWARE;
	bounce_off = size - bounce;
	io_end = bounce_off;
	rng_seed(&rng, o->seed);
	sess_trace_comment(s, "coco-boot: firmware [0, %s) and bounce buffer [%#" PRIx64 ", %s) shared",
			   fmt_size(FIRMWARE, b1, sizeof(b1)), bounce_off, fmt_size(size, b2, sizeof(b2)));

	if (wl_want(s, sess_file_create(s, 0, size, GUESTMEM_FILE_ZERO_ON_CONVERT), 0))
		return -1;
	held = held_bytes(s, size, bounce_off);	/* the file's mode is known now */
	sess_sample(s);

	/* 1. Firmware: shared, loaded by the host (first 64K written). */
	if (wl_want(s, sess_convert(s, 0, 0, FIRMWARE, GUESTMEM_SHARED), 0) ||
	    wl_want(s, sess_alloc(s, 0, 0, FIRMWARE), 0) ||
	    dma(s, 0, 64 * TOOL_K, 0xf1))
		return -1;
	/* 2. swiotlb bounce buffer. */
	if (wl_want(s, sess_convert(s, 0, bounce_off, bounce, GUESTMEM_SHARED), 0))
		return -1;
	/* 3. The guest accepts its memory. */
	progress_start("coco-boot: accepting memory", size / huge);
	for (off = 0; off < size; off += huge) {
		if (wl_want(s, sess_alloc(s, 0, off, huge), 0) ||
		    wl_check(s, sess_guest_touch(s, 0, off, huge)))
			return -1;
		progress_update(off / huge);
	}
	progress_end();
	if (wl_check(s, sess_check_file(s, 0, "allocated", held)) ||
	    wl_check(s, sess_check_file(s, 0, "shared", FIRMWARE + bounce)) ||
	    wl_check(s, sess_check_state(s, 0, 0, GUESTMEM_SHARED)) ||
	    wl_check(s, sess_check_state(s, 0, FIRMWARE, GUESTMEM_PRIVATE)))
		return -1;
	sess_sample(s);

	/* 4. I/O rounds. */
	progress_start("coco-boot: I/O rounds", o->ops);
	for (r = 0; r < o->ops; r++) {
		uint64_t len = (1 + rng_below(&rng, IO_MAX_PAGES)) * TOOL_PAGE, p;
		struct io_buf *nb = &q[nq];
		int tries;

		progress_update(r);
		for (tries = 0; tries < 8; tries++) {
			off = FIRMWARE + rng_below(&rng, (io_end - FIRMWARE - len) / TOOL_PAGE + 1) *
					 TOOL_PAGE;
			if (!overlaps(q, nq, off, len))
				break;
		}
		if (tries == 8) {
			skipped++;
		} else {
			nb->off = off;
			nb->len = len;
			nb->nr_pins = 0;
			if (wl_want(s, sess_convert(s, 0, off, len, GUESTMEM_SHARED), 0))
				return -1;
			for (p = off; p < off + len; p += TOOL_PAGE) {
				uint64_t id = sess_pin_id(s);

				if (wl_want(s, sess_pin(s, 0, p, id), 0))
					return -1;
				nb->pins[nb->nr_pins++] = id;
				wl_touch(s, sess_find_pin(s, id), (int)(r & 0xff));
			}
			/* The guest wants it back while the host still holds it. */
			if (r % EAGAIN_EVERY == EAGAIN_EVERY - 1) {
				if (wl_want(s, sess_convert(s, 0, off, len, GUESTMEM_PRIVATE), -EAGAIN))
					return -1;
				eagain++;
			}
			nq++;
		}
		if (nq > QUEUE_DEPTH || (tries == 8 && nq)) {
			if (complete(s, &q[0]))
				return -1;
			for (i = 1; i < nq; i++)
				q[i - 1] = q[i];
			nq--;
		}
		/* One DMA through the bounce buffer. */
		if (dma(s, bounce_off + rng_below(&rng, bounce / TOOL_PAGE) * TOOL_PAGE, TOOL_PAGE,
			(int)(r & 0xff)))
			return -1;
		wl_maybe_sample(s, r + 1, o->ops / 8);
	}
	progress_end();

	/* 5. Drain: everything merges back. */
	while (nq) {
		if (complete(s, &q[--nq]))
			return -1;
	}
	sess_sample(s);
	if (wl_check(s, sess_check_file(s, 0, "shared", FIRMWARE + bounce)) ||
	    wl_check(s, sess_check_file(s, 0, "allocated", held)) ||
	    wl_check(s, sess_check_file(s, 0, "huge_mappable", held)) ||
	    (huge == GUESTMEM_PAGE_2M && wl_check(s, sess_check_file(s, 0, "split_pages", 0))))
		return -1;
	sess_note(s, "firmware %s and bounce buffer %s shared; %" PRIu64 " I/O rounds, %u in flight",
		  fmt_size(FIRMWARE, b1, sizeof(b1)), fmt_bytes(bounce, b2, sizeof(b2)), o->ops,
		  QUEUE_DEPTH);
	sess_note(s, "%" PRIu64 " conversions of pinned buffers to private refused with -EAGAIN, as expected",
		  eagain);
	if (skipped)
		sess_note(s, "%" PRIu64 " rounds found no free spot for a new buffer", skipped);
	sess_note(s, "after the I/O every allocated byte is huge-mappable again (merged back)");
	if (sess_kvm_mode(s) == GUESTMEM_KVM_SPLIT)
		sess_note(s, "KVM split mode: the file holds %s of huge pages (those with a shared"
			  " page); private memory is in the guest_memfd", fmt_bytes(held, b1, sizeof(b1)));

	if (wl_want(s, sess_file_destroy(s, 0), 0) ||
	    wl_check(s, sess_check_pool(s, "free", s->opts.nr_pages)))
		return -1;
	return 0;
}

const struct workload workload_coco_boot = {
	.name = "coco-boot",
	.prepare = coco_prepare,
	.run = coco_run,
	.unit = "I/O rounds",
};
