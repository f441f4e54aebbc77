// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: every input is a guestmem trace (README.md, "Traces"),
 * parsed line by line with the tool's own parser (tools/trace.c) and run
 * through the public API against a model of what the API promises:
 *
 *   - every result is one the API documents for that call: -EINVAL and
 *     -ERANGE exactly when the arguments are bad, -EPERM exactly for a pin
 *     of a private page, -EBUSY exactly for a file with pins, -EAGAIN only
 *     for a conversion to private next to a pin (and always when a pinned
 *     page is inside the range), -ENOMEM only where the API allows it;
 *   - after every operation: mm/'s invariant checker passes on every file,
 *     no WARN fired (the debug build's checker after each operation WARNs),
 *     every page's state and the allocated pages match the model, the run
 *     length guestmem_state() gives is the model's, and the pool's books
 *     balance (free + reserved + in_use == total, the files' reservations
 *     held, exceeded only while punched pages are still pinned);
 *   - after every input: everything is unpinned and destroyed, then the pool
 *     must be whole again (free == total, nothing reserved, in use or
 *     pending) and destroy cleanly; ASan's leak check runs after each input.
 *
 * A violation prints the line and the reason and aborts, so libFuzzer keeps
 * the input; it is a trace that "guestmem replay --simulate" also runs.
 * Lines that do not parse, or name a missing file or pin, are skipped: the
 * rest of the input still runs.  Expected results ("= RESULT") and check
 * values are ignored: the model decides.  Pools are simulated (address
 * space only) unless the line says "fallback", 2M pages, at most 8, and the
 * machine has no free 2M hugetlb pages (never take the kernel's pages from
 * under other tests); sizes are capped so that one input stays cheap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_hooks.h"
#include "trace.h"

#define FZ_MAX_OPS	200	/* operations run per input */
#define FZ_MAX_LINE	256
#define FZ_MAX_PINS	32
#define FZ_MAX_2M	32	/* pool caps: one input stays fast */
#define FZ_MAX_1G	2
#define FZ_MAX_MEMORY	8	/* 2M pages of ordinary memory (fallback) */
#define FZ_PAGE		UINT64_C(4096)
#define FZ_WHOLE_EVERY	8	/* check_file() */

/* tools/trace.c checks field names with the session's lists: the same names. */
static const char *const pool_fields[] = {
	"total", "free", "reserved", "in_use", "pending", "splits", "merges",
};
static const char *const file_fields[] = {
	"size", "allocated", "shared", "private", "huge_mappable", "split_pages",
};

static bool in_list(const char *const *names, size_t n, const char *field)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], field))
			return true;
	return false;
}

bool sess_pool_field(const char *field)
{
	return in_list(pool_fields, TOOL_ARRAY_SIZE(pool_fields), field);
}

bool sess_file_field(const char *field)
{
	return in_list(file_fields, TOOL_ARRAY_SIZE(file_fields), field);
}

struct fz_file {
	struct guestmem_file *f;
	uint64_t size, nr_huge;
	unsigned char *shared;	/* model: per 4K page, 1 = shared */
	uint64_t nr_shared;
	bool *alloc;		/* model: per huge page, allocated */
	uint64_t nr_alloc;
};

struct fz_pin {
	bool used;
	bool attached;		/* its huge page is still the file's */
	uint64_t id;
	unsigned int file;
	struct guestmem_page page;
};

static struct {
	struct guestmem_pool *pool;
	uint64_t huge, total;
	bool memory;			/* ordinary memory: pages can be touched */
	struct fz_file files[SESS_MAX_FILES];
	struct fz_pin pins[FZ_MAX_PINS];
	uint64_t splits, merges;	/* last seen: they never go down */
	unsigned long warns;		/* WARNs before this input */
	const char *line;		/* the line being run, for reports */
	unsigned int lineno;
} fz;

static bool hugetlb_2m_free;	/* the machine has free 2M hugetlb pages */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_trace: line %u: %s\nfuzz_trace: ", fz.lineno,
		fz.line ? fz.line : "(after the input: teardown)");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " [last error: %s]\n", guestmem_last_error());
	abort();
}

static void expect(const char *what, int rc, bool ok)
{
	if (!ok)
		die("%s returned %d, which the API does not allow here", what, rc);
}

/* ------------------------------------------------------------ checks */

/*
 * @whole: also run mm/'s checker over the whole file.  The debug build
 * checks what each operation touched; the whole file is checked every
 * FZ_WHOLE_EVERY operations, on "check F" lines and at the end.
 */
static void check_file(unsigned int i, bool whole)
{
	struct fz_file *m = &fz.files[i];
	struct guestmem_file_stats st;
	const char *why = NULL;

	if (whole && fuzz_check_file(m->f, &why))
		die("file %u: invariant: %s", i, why ? why : "?");
	if (guestmem_file_stats(m->f, &st, sizeof(st)))
		die("file %u: guestmem_file_stats failed", i);
	if (st.size != m->size || st.shared_bytes != m->nr_shared * FZ_PAGE ||
	    st.private_bytes != m->size - m->nr_shared * FZ_PAGE ||
	    st.allocated != m->nr_alloc * fz.huge)
		die("file %u: stats size %" PRIu64 " shared %" PRIu64 " private %" PRIu64
		    " allocated %" PRIu64 ", model size %" PRIu64 " shared %" PRIu64
		    " allocated %" PRIu64, i, st.size, st.shared_bytes, st.private_bytes,
		    st.allocated, m->size, m->nr_shared * FZ_PAGE, m->nr_alloc * fz.huge);
	if (st.huge_mappable > st.allocated || st.split_pages * fz.huge > st.allocated)
		die("file %u: huge_mappable %" PRIu64 " split_pages %" PRIu64
		    " beyond allocated %" PRIu64, i, st.huge_mappable, st.split_pages,
		    st.allocated);
}

static void check_pool(void)
{
	struct guestmem_pool_stats st;
	uint64_t file_pages = 0;
	unsigned int i;

	if (guestmem_pool_stats(fz.pool, &st, sizeof(st)))
		die("guestmem_pool_stats failed");
	for (i = 0; i < SESS_MAX_FILES; i++)
		if (fz.files[i].f)
			file_pages += fz.files[i].nr_huge;
	/*
	 * Files hold their reservations; a file whose punched pages are still
	 * pinned (pending) may take free pages beyond it, and only then.
	 */
	if (st.total != fz.total || st.free + st.reserved + st.in_use != st.total ||
	    st.reserved + st.in_use < file_pages || st.pending > st.in_use ||
	    (!st.pending && st.reserved + st.in_use != file_pages))
		die("pool books: total %" PRIu64 " free %" PRIu64 " reserved %" PRIu64
		    " in_use %" PRIu64 " pending %" PRIu64 "; files reserve %" PRIu64,
		    st.total, st.free, st.reserved, st.in_use, st.pending, file_pages);
	if (st.splits < fz.splits || st.merges < fz.merges)
		die("splits/merges went down: %" PRIu64 "/%" PRIu64 " after %" PRIu64
		    "/%" PRIu64, st.splits, st.merges, fz.splits, fz.merges);
	fz.splits = st.splits;
	fz.merges = st.merges;
}

static void check_all(bool whole)
{
	unsigned int i;

	if (fuzz_warn_count() != fz.warns)
		die("WARN: %s", fuzz_last_warning());
	for (i = 0; i < SESS_MAX_FILES; i++)
		if (fz.files[i].f)
			check_file(i, whole);
	check_pool();
}

/* ------------------------------------------------------------ model */

/* -EINVAL or -ERANGE as mm/ decides them for a range, or 0. */
static int range_result(const struct fz_file *m, uint64_t off, uint64_t len)
{
	if (!len || (off | len) % FZ_PAGE)
		return -EINVAL;
	if (off + len < off || off + len > m->size)
		return -ERANGE;
	return 0;
}

static bool file_has_pins(unsigned int file, bool detached_only)
{
	unsigned int i;

	for (i = 0; i < FZ_MAX_PINS; i++)
		if (fz.pins[i].used && fz.pins[i].file == file &&
		    (!detached_only || !fz.pins[i].attached))
			return true;
	return false;
}

/* An attached pin of @file in huge pages [first, last], or whose page is in [lo, hi). */
static bool pin_near(unsigned int file, uint64_t first, uint64_t last, uint64_t lo,
		     uint64_t hi, bool exact)
{
	unsigned int i;

	for (i = 0; i < FZ_MAX_PINS; i++) {
		const struct fz_pin *p = &fz.pins[i];

		if (!p->used || !p->attached || p->file != file)
			continue;
		if (exact ? (p->page.offset >= lo && p->page.offset < hi) :
			    (p->page.offset / fz.huge >= first && p->page.offset / fz.huge <= last))
			return true;
	}
	return false;
}

static void model_free(struct fz_file *m)
{
	free(m->shared);
	free(m->alloc);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------ operations */

static bool pool_create(const struct sess_pool_cfg *cfg)
{
	struct guestmem_pool_opts o = {
		.page_size = cfg->page_size, .nr_pages = cfg->nr_pages, .node = cfg->node,
		.threads = cfg->threads > 2 ? 2 : cfg->threads, .flags = GUESTMEM_POOL_SIMULATE,
	};
	uint64_t api_max = (UINT64_C(1) << 40) / (cfg->page_size >> 21);
	uint64_t cap = cfg->page_size == GUESTMEM_PAGE_1G ? FZ_MAX_1G : FZ_MAX_2M;
	int rc;

	/* Too big to stay cheap, yet valid: not this input's business. */
	if (cfg->nr_pages > cap && cfg->nr_pages <= api_max)
		return false;
	if ((cfg->flags & GUESTMEM_POOL_FALLBACK) && !hugetlb_2m_free &&
	    cfg->page_size == GUESTMEM_PAGE_2M && cfg->nr_pages <= FZ_MAX_MEMORY)
		o.flags = GUESTMEM_POOL_FALLBACK | (cfg->flags & GUESTMEM_POOL_PREFAULT);
	rc = guestmem_pool_create(&o, &fz.pool);
	if (!cfg->nr_pages || cfg->nr_pages > api_max) {
		expect("pool_create", rc, rc == -EINVAL);
		return false;
	}
	expect("pool_create", rc, !rc || rc == -EINVAL || rc == -ENOMEM);
	if (rc) {
		fz.pool = NULL;
		return false;
	}
	fz.huge = cfg->page_size;
	fz.total = cfg->nr_pages;
	fz.memory = !(o.flags & GUESTMEM_POOL_SIMULATE);
	fz.splits = fz.merges = 0;
	return true;
}

/* Operations before any pool line, or after a refused one, use this. */
static void default_pool(void)
{
	struct sess_pool_cfg cfg = { .page_size = GUESTMEM_PAGE_2M, .nr_pages = 8, .node = -1 };

	if (!pool_create(&cfg))
		die("cannot create the default pool (2M x 8, simulated)");
}

static void file_create(const struct trace_op *op)
{
	struct fz_file *m = &fz.files[op->file];
	struct guestmem_pool_stats st;
	uint64_t pages, i;
	int rc, want;

	if (m->f)
		return;
	/*
	 * Free and unreserved pages: fewer than the files' reservations leave
	 * while a file whose punched pages are pinned took pages beyond its own.
	 */
	if (guestmem_pool_stats(fz.pool, &st, sizeof(st)))
		die("guestmem_pool_stats failed");
	if (!op->len || op->len % fz.huge) {
		want = -EINVAL;
	} else {
		/* The library sizes its host mapping before the pool refuses. */
		if (op->len / fz.huge > 2 * fz.total)
			return;
		want = op->len / fz.huge > st.free ? -ENOMEM : 0;
	}
	rc = guestmem_file_create(fz.pool, op->len, op->flags, &m->f);
	expect("file_create", rc, rc == want);
	if (rc) {
		m->f = NULL;
		return;
	}
	m->size = op->len;
	pages = m->size / FZ_PAGE;
	m->nr_huge = m->size / fz.huge;
	m->shared = malloc(pages);
	m->alloc = calloc(m->nr_huge, sizeof(*m->alloc));
	if (!m->shared || !m->alloc)
		die("out of memory for the model");
	memset(m->shared, !!(op->flags & GUESTMEM_FILE_INIT_SHARED), pages);
	m->nr_shared = op->flags & GUESTMEM_FILE_INIT_SHARED ? pages : 0;
	for (i = 0; i < m->nr_huge; i++)
		m->alloc[i] = false;
	m->nr_alloc = 0;
}

static void file_destroy(unsigned int idx)
{
	struct fz_file *m = &fz.files[idx];
	bool busy = file_has_pins(idx, false);
	int rc;

	rc = guestmem_file_destroy(m->f);
	expect("file_destroy", rc, rc == (busy ? -EBUSY : 0));
	if (!rc)
		model_free(m);
}

static void mark_alloc(struct fz_file *m, uint64_t hidx)
{
	if (!m->alloc[hidx]) {
		m->alloc[hidx] = true;
		m->nr_alloc++;
	}
}

static void allocate(unsigned int idx, uint64_t off, uint64_t len)
{
	struct fz_file *m = &fz.files[idx];
	int want = range_result(m, off, len), rc;
	uint64_t h;

	rc = guestmem_allocate(m->f, off, len);
	if (want || rc != -ENOMEM || !file_has_pins(idx, true))
		expect("allocate", rc, rc == want);
	if (rc)
		return;
	for (h = off / fz.huge; h <= (off + len - 1) / fz.huge; h++)
		mark_alloc(m, h);
	if (fz.memory) {
		volatile unsigned char *p = (unsigned char *)guestmem_file_hva(m->f) + off;

		(void)p[0];
		(void)p[len - 1];
	}
}

static void punch(unsigned int idx, uint64_t off, uint64_t len)
{
	struct fz_file *m = &fz.files[idx];
	int want = range_result(m, off, len), rc;
	uint64_t h;
	unsigned int i;

	rc = guestmem_punch_hole(m->f, off, len);
	expect("punch_hole", rc, rc == want);
	if (rc)
		return;
	/* Whole huge pages inside the hole leave the file, pinned or not. */
	for (h = (off + fz.huge - 1) / fz.huge; (h + 1) * fz.huge <= off + len; h++) {
		if (m->alloc[h]) {
			m->alloc[h] = false;
			m->nr_alloc--;
		}
		for (i = 0; i < FZ_MAX_PINS; i++)
			if (fz.pins[i].used && fz.pins[i].file == idx &&
			    fz.pins[i].page.offset / fz.huge == h)
				fz.pins[i].attached = false;
	}
}

static void convert(unsigned int idx, uint64_t off, uint64_t len, unsigned int to)
{
	struct fz_file *m = &fz.files[idx];
	int want = range_result(m, off, len), rc;
	uint64_t bad = UINT64_MAX, p, first, last, changed = 0;

	rc = guestmem_convert(m->f, off, len, to, &bad);
	if (want) {
		expect("convert", rc, rc == want);
		return;
	}
	first = off / FZ_PAGE;
	last = (off + len) / FZ_PAGE;
	for (p = first; p < last; p++)
		changed += m->shared[p] != (to == GUESTMEM_SHARED);
	if (to == GUESTMEM_PRIVATE && pin_near(idx, 0, 0, off, off + len, true)) {
		/* A pinned page inside the range: the host holds it. */
		expect("convert (a pinned page in range)", rc, rc == -EAGAIN);
	} else if (rc == -EAGAIN) {
		/* Allowed only for a shared page in a pinned huge page of the range. */
		expect("convert", rc, to == GUESTMEM_PRIVATE && changed &&
		       pin_near(idx, off / fz.huge, (off + len - 1) / fz.huge, 0, 0, false));
	} else {
		expect("convert", rc, rc == 0);
	}
	if (rc == -EAGAIN) {
		if (bad < off || bad >= off + len || bad % FZ_PAGE || !m->shared[bad / FZ_PAGE] ||
		    !pin_near(idx, bad / fz.huge, bad / fz.huge, 0, 0, false))
			die("convert: -EAGAIN with error offset %#" PRIx64
			    ", not a shared page of the range in a pinned huge page", bad);
		return;
	}
	if (!changed)
		return;
	memset(m->shared + first, to == GUESTMEM_SHARED, last - first);
	if (to == GUESTMEM_SHARED)
		m->nr_shared += changed;
	else
		m->nr_shared -= changed;
}

static void state(unsigned int idx, uint64_t off)
{
	struct fz_file *m = &fz.files[idx];
	unsigned int s = 7;
	uint64_t run = 0, p, end;
	int rc, want;

	want = off % FZ_PAGE ? -EINVAL : off >= m->size ? -ERANGE : 0;
	rc = guestmem_state(m->f, off, &s, &run);
	expect("state", rc, rc == want);
	if (rc)
		return;
	p = off / FZ_PAGE;
	if (s != (m->shared[p] ? GUESTMEM_SHARED : GUESTMEM_PRIVATE))
		die("state of %#" PRIx64 " is %u, model %u", off, s, m->shared[p]);
	for (end = p + 1; end < m->size / FZ_PAGE && m->shared[end] == m->shared[p]; end++)
		;
	if (run != (end - p) * FZ_PAGE)
		die("run length at %#" PRIx64 " is %#" PRIx64 ", model %#" PRIx64, off, run,
		    (end - p) * FZ_PAGE);
}

static struct fz_pin *find_pin(uint64_t id)
{
	unsigned int i;

	for (i = 0; i < FZ_MAX_PINS; i++)
		if (fz.pins[i].used && fz.pins[i].id == id)
			return &fz.pins[i];
	return NULL;
}

static void pin(unsigned int idx, uint64_t off, uint64_t id)
{
	struct fz_file *m = &fz.files[idx];
	struct fz_pin *p = NULL;
	unsigned int i;
	int rc, want;

	if (find_pin(id))
		return;
	for (i = 0; i < FZ_MAX_PINS && !p; i++)
		if (!fz.pins[i].used)
			p = &fz.pins[i];
	if (!p)
		return;
	want = off % FZ_PAGE ? -EINVAL : off >= m->size ? -ERANGE :
	       !m->shared[off / FZ_PAGE] ? -EPERM : 0;
	memset(&p->page, 0, sizeof(p->page));
	rc = guestmem_pin(m->f, off, &p->page);
	if (want || rc != -ENOMEM || !file_has_pins(idx, true))
		expect("pin", rc, rc == want);
	if (rc)
		return;
	if (p->page.offset != off || p->page.state != GUESTMEM_SHARED ||
	    (!fz.memory && p->page.addr != (char *)guestmem_file_hva(m->f) + off) || !p->page.addr ||
	    (p->page.max_order != 0 && p->page.max_order != 9 && p->page.max_order != 18) ||
	    (UINT64_C(1) << p->page.max_order) * FZ_PAGE > fz.huge)
		die("pin of %#" PRIx64 ": page offset %#" PRIx64 " state %u order %u", off,
		    p->page.offset, p->page.state, p->page.max_order);
	p->used = true;
	p->attached = true;
	p->id = id;
	p->file = idx;
	mark_alloc(m, off / fz.huge);
	if (fz.memory) {
		/* The host may touch a pinned page: it must be mapped. */
		volatile unsigned char *b = p->page.addr;

		b[FZ_PAGE - 1] = b[0];
	}
}

static void unpin(unsigned int idx, uint64_t id)
{
	struct fz_pin *p = find_pin(id);
	struct guestmem_page none;
	int rc;

	if (!p) {
		/* A handle that holds no pin is refused. */
		memset(&none, 0, sizeof(none));
		rc = guestmem_unpin(fz.files[idx].f, &none);
		expect("unpin (never pinned)", rc, rc == -EINVAL);
		return;
	}
	rc = guestmem_unpin(fz.files[idx].f, &p->page);
	if (p->file != idx) {
		/* Another file's pin: refused, and still held. */
		expect("unpin (another file's pin)", rc, rc == -EINVAL);
		return;
	}
	expect("unpin", rc, rc == 0);
	p->used = false;
}

static void stats(void)
{
	struct guestmem_pool_stats ps;

	if (guestmem_pool_stats(fz.pool, &ps, sizeof(ps)))
		die("guestmem_pool_stats failed");
}

/* ------------------------------------------------------------ one input */

static void run_op(const struct trace_op *op)
{
	struct fz_file *m = &fz.files[op->file];

	if (op->cmd == TR_POOL) {
		if (!fz.pool)
			pool_create(&op->pool);
		return;
	}
	if (!fz.pool)
		default_pool();
	if (op->cmd == TR_FILE) {
		file_create(op);
		return;
	}
	if (op->cmd == TR_CHECK_POOL) {
		stats();
		return;
	}
	if (!m->f)
		return;		/* a missing file: the line is skipped */
	switch (op->cmd) {
	case TR_DESTROY:
		file_destroy(op->file);
		break;
	case TR_ALLOC:
		allocate(op->file, op->off, op->len);
		break;
	case TR_PUNCH:
		punch(op->file, op->off, op->len);
		break;
	case TR_CONVERT:
		convert(op->file, op->off, op->len, op->state);
		break;
	case TR_PIN:
		pin(op->file, op->off, op->id);
		break;
	case TR_UNPIN:
		unpin(op->file, op->id);
		break;
	case TR_CHECK_FILE:
		check_file(op->file, true);
		break;
	case TR_STATE:
		state(op->file, op->off);
		break;
	default:
		break;
	}
}

/* Unpin and destroy everything: the pool must be whole and go away cleanly. */
static void teardown(void)
{
	struct guestmem_pool_stats st;
	unsigned int i;
	int rc;

	fz.line = NULL;
	if (fz.pool)
		check_all(true);
	for (i = 0; i < FZ_MAX_PINS; i++) {
		if (!fz.pins[i].used)
			continue;
		rc = guestmem_unpin(fz.files[fz.pins[i].file].f, &fz.pins[i].page);
		expect("unpin at teardown", rc, rc == 0);
		fz.pins[i].used = false;
	}
	for (i = 0; i < SESS_MAX_FILES; i++) {
		if (!fz.files[i].f)
			continue;
		rc = guestmem_file_destroy(fz.files[i].f);
		expect("file_destroy at teardown", rc, rc == 0);
		model_free(&fz.files[i]);
	}
	if (!fz.pool)
		return;
	if (guestmem_pool_stats(fz.pool, &st, sizeof(st)))
		die("guestmem_pool_stats failed");
	if (st.free != st.total || st.reserved || st.in_use || st.pending || st.total != fz.total)
		die("pool not whole after everything was freed: total %" PRIu64 " free %" PRIu64
		    " reserved %" PRIu64 " in_use %" PRIu64 " pending %" PRIu64, st.total, st.free,
		    st.reserved, st.in_use, st.pending);
	rc = guestmem_pool_destroy(fz.pool);
	expect("pool_destroy", rc, rc == 0);
	fz.pool = NULL;
	if (fuzz_warn_count() != fz.warns)
		die("WARN: %s", fuzz_last_warning());
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct guestmem_hugetlb_info info;

	(void)argc;
	(void)argv;
	/* Fallback pools would take the kernel's hugetlb pages: simulate instead. */
	hugetlb_2m_free = !guestmem_hugetlb_info(GUESTMEM_PAGE_2M, -1, &info, sizeof(info)) &&
			  info.free > 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[FZ_MAX_LINE], copy[FZ_MAX_LINE], err[256];
	unsigned int lineno = 0, ops = 0;
	struct trace_op op;
	size_t pos = 0;

	memset(&fz, 0, sizeof(fz));
	fz.warns = fuzz_warn_count();
	while (pos < size && ops < FZ_MAX_OPS) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;

		lineno++;
		if (len < sizeof(line) && !memchr(data + pos, '\0', len)) {
			memcpy(line, data + pos, len);
			line[len] = '\0';
			memcpy(copy, line, len + 1);
			if (trace_parse_line(line, lineno, &op, err, sizeof(err)) == 1) {
				fz.line = copy;
				fz.lineno = lineno;
				run_op(&op);
				ops++;
				if (fz.pool)
					check_all(ops % FZ_WHOLE_EVERY == 0);
			}
		}
		pos += len + 1;
	}
	teardown();
	return 0;
}
