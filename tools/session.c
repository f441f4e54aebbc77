// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the session, the one place where the tool calls libguestmem
 * to change anything.  See session.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "huge_span.h"
#include "session.h"

const char *const op_kind_names[OPK_NR] = {
	[OPK_ALLOC] = "allocate",
	[OPK_PUNCH] = "punch",
	[OPK_CONVERT] = "convert",
	[OPK_PIN] = "pin",
	[OPK_UNPIN] = "unpin",
};

void sess_init(struct session *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->next_pin_id = 1;
}

int sess_trace_open(struct session *s, const char *path)
{
	if (!path)
		return 0;
	s->trace = fopen(path, "w");
	if (!s->trace) {
		int err = -errno;

		tool_err("cannot write the trace %s: %s", path, strerror(errno));
		return err;
	}
	fprintf(s->trace, "# guestmem trace (replay with: guestmem replay FILE)\n");
	return 0;
}

void sess_trace_comment(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->trace)
		return;
	fputs("# ", s->trace);
	va_start(ap, fmt);
	vfprintf(s->trace, fmt, ap);
	va_end(ap);
	fputc('\n', s->trace);
}

/* Format the operation (s->op) that is about to run. */
static void set_op(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_op(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->op, sizeof(s->op), fmt, ap);
	va_end(ap);
}

/* After a library call: remember its error and write the trace line. */
static void done_op(struct session *s, int rc)
{
	char e[24];

	if (rc)
		snprintf(s->last_error, sizeof(s->last_error), "%s", guestmem_last_error());
	else
		s->last_error[0] = '\0';
	if (s->trace)
		fprintf(s->trace, "%s = %s\n", s->op, errno_str(rc, e, sizeof(e)));
}

/* A timed library operation of kind @k. */
static void account(struct session *s, enum op_kind k, uint64_t t0, int rc)
{
	uint64_t dt = now_ns() - t0;

	latency_add(&s->lat[k], dt);
	s->nr_ops++;
	s->results[k][rc == 0 ? 0 : rc == -EAGAIN ? 1 : rc == -EPERM ? 2 : 3]++;
	done_op(s, rc);
}

int sess_bad(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return SESS_BAD;
}

struct sess_file *sess_file_get(struct session *s, unsigned int idx)
{
	if (idx >= SESS_MAX_FILES || !s->files[idx].f) {
		sess_bad(s, "file %u does not exist (create it with a \"file\" line)", idx);
		return NULL;
	}
	return &s->files[idx];
}

const char *sess_state_name(unsigned int state)
{
	return state == GUESTMEM_SHARED ? "shared" : "private";
}

/* ---------------------------------------------------------------- pool */

int sess_pool_create(struct session *s, const struct sess_pool_cfg *cfg)
{
	struct guestmem_pool_opts o = {
		.page_size = cfg->page_size,
		.nr_pages = cfg->nr_pages,
		.node = cfg->node,
		.threads = cfg->threads,
		.flags = cfg->flags,
	};
	struct guestmem_pool_stats st;
	char why[400] = "", b[32], path[512];
	uint64_t t0;
	int rc;

	if (s->pool)
		return sess_bad(s, "there is a pool already (one pool per session)");
	if (!(o.flags & GUESTMEM_POOL_SIMULATE) &&
	    (o.page_size == GUESTMEM_PAGE_2M || o.page_size == GUESTMEM_PAGE_1G)) {
		/* Others (tests, runs) may change nr_hugepages too: one at a time. */
		rc = hugetlb_lock(60);
		if (rc && !s->quiet)
			tool_note("running without %s: %s", HUGETLB_LOCK_PATH, strerror(-rc));
		s->have_before = guestmem_hugetlb_info(o.page_size, -1, &s->before,
							 sizeof(s->before)) == 0;
	}
	if (!(o.flags & (GUESTMEM_POOL_SIMULATE | GUESTMEM_POOL_FALLBACK)) && s->have_before) {
		rc = hugetlb_reserve(o.page_size, o.node, o.nr_pages, why, sizeof(why));
		if (rc > 0) {
			s->reserved_hugetlb = true;
			hugetlb_raised(&s->raised_from, &s->raised_to);
			hugetlb_nr_path(o.page_size, o.node, path, sizeof(path));
			if (!s->quiet)
				tool_note("raised %s from %ld to %ld for this run (restored at exit)",
					  path, s->raised_from, s->raised_to);
		} else if (rc < 0 && !cfg->no_fallback) {
			o.flags |= GUESTMEM_POOL_FALLBACK;
			s->fell_back = true;
			tool_note("no hugetlb pages: using ordinary memory (fallback): %s", why);
		} else if (rc < 0) {
			tool_note("cannot reserve hugetlb pages (--no-fallback): %s", why);
		}
	} else if (!s->have_before && !(o.flags & GUESTMEM_POOL_SIMULATE) && !cfg->no_fallback &&
		   !(o.flags & GUESTMEM_POOL_FALLBACK)) {
		o.flags |= GUESTMEM_POOL_FALLBACK;
		s->fell_back = true;
		tool_note("no hugetlb pages: using ordinary memory (fallback): the kernel offers no %s pages",
			  fmt_size(o.page_size, b, sizeof(b)));
	}

	/* The kernel's counters before the pool, after nr_hugepages was raised. */
	if (s->kvm && !(o.flags & GUESTMEM_POOL_SIMULATE))
		kvm_mem_start(&s->kvm->mem, o.page_size);

	set_op(s, "pool %s %" PRIu64 "%s%s%s", fmt_size(o.page_size, b, sizeof(b)), o.nr_pages,
	       o.flags & GUESTMEM_POOL_PREFAULT ? " prefault" : "",
	       o.flags & GUESTMEM_POOL_FALLBACK ? " fallback" : "",
	       o.flags & GUESTMEM_POOL_SIMULATE ? " simulate" : "");
	if (o.node >= 0)
		snprintf(s->op + strlen(s->op), sizeof(s->op) - strlen(s->op), " node=%d", o.node);
	if (o.threads)
		snprintf(s->op + strlen(s->op), sizeof(s->op) - strlen(s->op), " threads=%u",
			 o.threads);
	s->opts = o;
	if (o.flags & GUESTMEM_POOL_PREFAULT)
		progress_busy_start("prefaulting the pool");
	t0 = now_ns();
	rc = guestmem_pool_create(&o, &s->pool);
	s->pool_create_ns = now_ns() - t0;
	progress_busy_stop();
	done_op(s, rc);
	if (rc) {
		s->pool = NULL;
		return rc;
	}
	if (!guestmem_pool_stats(s->pool, &st, sizeof(st))) {
		s->backend = st.backend;
		if (st.backend == GUESTMEM_BACKEND_FALLBACK && !s->fell_back)
			tool_note("no hugetlb pages: using ordinary memory (fallback)");
	}
	return 0;
}

int sess_pool_stats(struct session *s, struct guestmem_pool_stats *st)
{
	int rc;

	if (!s->pool)
		return sess_bad(s, "there is no pool (a \"pool\" line must come first)");
	rc = guestmem_pool_stats(s->pool, st, sizeof(*st));
	if (rc)
		tool_lib_err(rc, "pool stats");
	return rc;
}

/* ---------------------------------------------------------------- files */

/*
 * --kvm: the file is the VM's guest memory (kvm_vm_file_create()), and its
 * guest_memfd is watched.  Its error, which may be KVM's, goes to
 * s->last_error.
 */
static int kvm_file_create(struct session *s, struct sess_file *f, uint64_t size,
			   uint64_t flags)
{
	struct sess_kvm *k = s->kvm;
	char why[sizeof(s->last_error)];
	int rc;

	rc = kvm_vm_file_create(&k->vm, s->pool, size, flags, &f->f, &k->unsupported, why,
				sizeof(why));
	done_op(s, rc);
	if (rc) {
		snprintf(s->last_error, sizeof(s->last_error), "%s", why);
		return rc;
	}
	kvm_mem_watch(&k->mem, kvm_vm_gmem_fd(&k->vm), size);
	return 0;
}

int sess_file_create(struct session *s, unsigned int idx, uint64_t size, uint64_t flags)
{
	struct sess_file *f;
	char b[32];
	int rc;

	if (!s->pool)
		return sess_bad(s, "there is no pool (a \"pool\" line must come first)");
	if (idx >= SESS_MAX_FILES)
		return sess_bad(s, "file index %u: at most %d files", idx, SESS_MAX_FILES);
	f = &s->files[idx];
	if (f->f)
		return sess_bad(s, "file %u exists already", idx);
	set_op(s, "file %u %s %s%s", idx, fmt_size(size, b, sizeof(b)),
	       flags & GUESTMEM_FILE_INIT_SHARED ? "shared" : "private",
	       flags & GUESTMEM_FILE_ZERO_ON_CONVERT ? " zero" : "");
	if (s->kvm) {
		rc = kvm_file_create(s, f, size, flags);
	} else {
		rc = guestmem_file_create(s->pool, size, flags, &f->f);
		done_op(s, rc);
	}
	if (rc) {
		f->f = NULL;
		return rc;
	}
	f->size = size;
	f->flags = flags;
	s->files_bytes += size;
	f->alloc = bitmap_alloc(size / sess_huge(s));
	f->ever_private = bitmap_alloc(size / TOOL_PAGE);
	f->nr_alloc = 0;
	f->ever_private_pages = 0;
	if (!f->alloc || !f->ever_private) {
		free(f->alloc);
		free(f->ever_private);
		guestmem_file_destroy(f->f);
		memset(f, 0, sizeof(*f));
		return sess_bad(s, "out of memory for the models of a %s file", fmt_size(size, b, sizeof(b)));
	}
	return 0;
}

static void retire_file(struct session *s, struct sess_file *f)
{
	s->ever_private_gone += f->ever_private_pages * TOOL_PAGE;
	free(f->alloc);
	free(f->ever_private);
	memset(f, 0, sizeof(*f));
}

/*
 * --kvm: before the VM's file is destroyed, stop reading its guest_memfd,
 * delete the memory slot and unbind.  0, or SESS_BAD (s->why).
 */
static int kvm_file_release(struct session *s, struct sess_file *f)
{
	const char *what;
	int rc;

	if (!s->kvm || s->kvm->vm.file != f->f)
		return 0;
	kvm_mem_unwatch(&s->kvm->mem);
	rc = kvm_vm_file_release(&s->kvm->vm, &what);
	if (rc)
		return sess_bad(s, "%s: %s", what, strerror(-rc));
	return 0;
}

int sess_file_destroy(struct session *s, unsigned int idx)
{
	struct sess_file *f = sess_file_get(s, idx);
	int rc;

	if (!f)
		return SESS_BAD;
	set_op(s, "destroy %u", idx);
	rc = kvm_file_release(s, f);
	if (rc)
		return rc;
	rc = guestmem_file_destroy(f->f);
	done_op(s, rc);
	if (rc)
		return rc;
	if (s->kvm && s->kvm->vm.file == f->f)
		kvm_vm_file_destroyed(&s->kvm->vm);
	s->cur_alloc -= f->nr_alloc * sess_huge(s);
	retire_file(s, f);
	return 0;
}

unsigned int sess_kvm_mode(const struct session *s)
{
	return s->kvm ? s->kvm->vm.mode : 0;
}

int sess_guest_touch(struct session *s, unsigned int idx, uint64_t off, uint64_t len)
{
	struct sess_file *f = sess_file_get(s, idx);
	int rc;

	if (!f)
		return SESS_BAD;
	if (!s->kvm || s->kvm->vm.file != f->f)
		return 0;
	rc = kvm_vm_touch_private(&s->kvm->vm, off, len);
	if (rc)
		return sess_bad(s, "the guest's touch of its private memory at %#" PRIx64 "+%#" PRIx64
				" (fallocate(2) of the guest_memfd): %s", off, len, strerror(-rc));
	return 0;
}

uint64_t sess_ever_private(const struct session *s)
{
	uint64_t bytes = s->ever_private_gone;
	unsigned int i;

	for (i = 0; i < SESS_MAX_FILES; i++)
		bytes += s->files[i].ever_private_pages * TOOL_PAGE;
	return bytes;
}

/* ---------------------------------------------------------------- models */

static void model_alloc_huge(struct session *s, struct sess_file *f, uint64_t hidx)
{
	if (bitmap_test(f->alloc, hidx))
		return;
	bitmap_set_bit(f->alloc, hidx);
	f->nr_alloc++;
	s->cur_alloc += sess_huge(s);
	if (s->cur_alloc > s->peak_alloc)
		s->peak_alloc = s->cur_alloc;
}

/* Mark the private runs of [off, end) as ever private. */
static void model_mark_private(struct session *s, struct sess_file *f, uint64_t off,
			       uint64_t end)
{
	(void)s;
	while (off < end) {
		unsigned int state;
		uint64_t run;

		if (guestmem_state(f->f, off, &state, &run) || !run)
			return;
		if (run > end - off)
			run = end - off;
		if (state == GUESTMEM_PRIVATE)
			f->ever_private_pages += bitmap_set_range(f->ever_private, off / TOOL_PAGE,
								  (off + run) / TOOL_PAGE);
		off += run;
	}
}

/* ---------------------------------------------------------------- operations */

int sess_alloc(struct session *s, unsigned int idx, uint64_t off, uint64_t len)
{
	struct sess_file *f = sess_file_get(s, idx);
	uint64_t t0, h, huge = sess_huge(s);
	char b[32];
	int rc;

	if (!f)
		return SESS_BAD;
	set_op(s, "alloc %u %#" PRIx64 " %s", idx, off, fmt_size(len, b, sizeof(b)));
	t0 = now_ns();
	rc = guestmem_allocate(f->f, off, len);
	account(s, OPK_ALLOC, t0, rc);
	if (!rc) {
		for (h = off / huge; h <= (off + len - 1) / huge; h++)
			model_alloc_huge(s, f, h);
		model_mark_private(s, f, off, off + len);
	}
	return rc;
}

int sess_punch(struct session *s, unsigned int idx, uint64_t off, uint64_t len)
{
	struct sess_file *f = sess_file_get(s, idx);
	uint64_t t0, h, end, huge = sess_huge(s);
	char b[32];
	int rc;

	if (!f)
		return SESS_BAD;
	set_op(s, "punch %u %#" PRIx64 " %s", idx, off, fmt_size(len, b, sizeof(b)));
	t0 = now_ns();
	rc = guestmem_punch_hole(f->f, off, len);
	account(s, OPK_PUNCH, t0, rc);
	if (!rc) {
		/* Whole huge pages inside the hole leave the file. */
		huge_span_whole(off, len, huge, &h, &end);
		for (; h < end; h++)
			if (bitmap_test(f->alloc, h)) {
				bitmap_clear_bit(f->alloc, h);
				f->nr_alloc--;
				s->cur_alloc -= huge;
			}
	}
	return rc;
}

int sess_convert(struct session *s, unsigned int idx, uint64_t off, uint64_t len,
		 unsigned int to)
{
	struct sess_file *f = sess_file_get(s, idx);
	uint64_t t0, h, huge = sess_huge(s), bad_off = 0;
	char b[32];
	int rc;

	if (!f)
		return SESS_BAD;
	set_op(s, "convert %u %#" PRIx64 " %s %s", idx, off, fmt_size(len, b, sizeof(b)),
	       to == GUESTMEM_SHARED ? "shared" : to == GUESTMEM_PRIVATE ? "private" : "?");
	t0 = now_ns();
	rc = guestmem_convert(f->f, off, len, to, &bad_off);
	account(s, OPK_CONVERT, t0, rc);
	if (!rc && to == GUESTMEM_PRIVATE) {
		for (h = off / huge; h <= (off + len - 1) / huge; h++) {
			uint64_t from = h * huge > off ? h * huge : off;
			uint64_t end = (h + 1) * huge < off + len ? (h + 1) * huge : off + len;

			if (bitmap_test(f->alloc, h))
				f->ever_private_pages += bitmap_set_range(f->ever_private,
									  from / TOOL_PAGE,
									  end / TOOL_PAGE);
		}
	}
	return rc;
}

uint64_t sess_pin_id(struct session *s)
{
	return s->next_pin_id++;
}

struct sess_pin *sess_find_pin(struct session *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->nr_pins; i++)
		if (s->pins[i].id == id)
			return &s->pins[i];
	return NULL;
}

int sess_pin(struct session *s, unsigned int idx, uint64_t off, uint64_t id)
{
	struct sess_file *f = sess_file_get(s, idx);
	struct guestmem_page page;
	uint64_t t0;
	int rc;

	if (!f)
		return SESS_BAD;
	if (sess_find_pin(s, id))
		return sess_bad(s, "pin %" PRIu64 " is pinned already (unpin it first)", id);
	if (s->nr_pins == s->cap_pins) {
		size_t cap = s->cap_pins ? 2 * s->cap_pins : 64;
		struct sess_pin *p = realloc(s->pins, cap * sizeof(*p));

		if (!p)
			return sess_bad(s, "out of memory for pins");
		s->pins = p;
		s->cap_pins = cap;
	}
	if (id >= s->next_pin_id)
		s->next_pin_id = id + 1;
	set_op(s, "pin %u %#" PRIx64 " %" PRIu64, idx, off, id);
	t0 = now_ns();
	rc = guestmem_pin(f->f, off, &page);
	account(s, OPK_PIN, t0, rc);
	if (!rc) {
		s->pins[s->nr_pins].id = id;
		s->pins[s->nr_pins].file = idx;
		s->pins[s->nr_pins].page = page;
		s->nr_pins++;
		model_alloc_huge(s, f, off / sess_huge(s));
	}
	return rc;
}

int sess_unpin(struct session *s, uint64_t id)
{
	struct sess_pin *p = sess_find_pin(s, id);
	uint64_t t0;
	int rc;

	if (!p)
		return sess_bad(s, "pin %" PRIu64 " is not pinned", id);
	set_op(s, "unpin %u %" PRIu64, p->file, id);
	t0 = now_ns();
	rc = guestmem_unpin(s->files[p->file].f, &p->page);
	account(s, OPK_UNPIN, t0, rc);
	if (!rc)
		*p = s->pins[--s->nr_pins];
	return rc;
}

/* ---------------------------------------------------------------- teardown */

int sess_teardown(struct session *s)
{
	int rc, err = 0;
	unsigned int i;

	while (s->nr_pins) {
		struct sess_pin *p = &s->pins[s->nr_pins - 1];

		rc = guestmem_unpin(s->files[p->file].f, &p->page);
		if (rc && !err)
			err = tool_lib_err(rc, "%s: unpin at teardown", s->name);
		s->nr_pins--;
	}
	for (i = 0; i < SESS_MAX_FILES; i++) {
		struct sess_file *f = &s->files[i];

		if (!f->f)
			continue;
		if (kvm_file_release(s, f) && !err) {
			tool_err("%s: file %u: %s", s->name, i, s->why);
			err = -EIO;
		}
		rc = guestmem_file_destroy(f->f);
		if (rc && !err)
			err = tool_lib_err(rc, "%s: destroying file %u", s->name, i);
		if (!rc && s->kvm && s->kvm->vm.file == f->f)
			kvm_vm_file_destroyed(&s->kvm->vm);
		retire_file(s, f);
	}
	s->cur_alloc = 0;
	if (s->kvm)
		kvm_vm_close(&s->kvm->vm);
	if (s->pool) {
		rc = guestmem_pool_destroy(s->pool);
		if (rc && !err)
			err = tool_lib_err(rc, "%s: destroying the pool", s->name);
		s->pool = NULL;
	}
	rc = hugetlb_restore();
	return err ?: rc;
}

int sess_check_hugetlb_restored(struct session *s, char *msg, size_t len)
{
	struct guestmem_hugetlb_info after;
	long self = hugetlb_self_kb();
	size_t n;
	char b[32];

	msg[0] = '\0';
	/* Only pools that used (or reserved) hugetlb pages are checked. */
	if (!s->have_before || (!s->reserved_hugetlb && s->backend != GUESTMEM_BACKEND_HUGETLB) ||
	    guestmem_hugetlb_info(s->opts.page_size, -1, &after, sizeof(after)))
		return 0;
	snprintf(msg, len, "hugetlb %s: free_hugepages %" PRIu64 " before, %" PRIu64
		 " after; nr_hugepages %" PRIu64, fmt_size(s->opts.page_size, b, sizeof(b)),
		 s->before.free, after.free, s->before.total);
	n = strlen(msg);
	if (s->reserved_hugetlb && s->opts.node < 0)
		snprintf(msg + n, len - n, " -> %ld (raised) -> %" PRIu64, s->raised_to,
			 after.total);
	else if (s->reserved_hugetlb)
		snprintf(msg + n, len - n, " (node %d: %ld -> %ld) -> %" PRIu64, s->opts.node,
			 s->raised_from, s->raised_to, after.total);
	else
		snprintf(msg + n, len - n, " before, %" PRIu64 " after", after.total);
	n = strlen(msg);
	/* What this process still holds is a leak, whatever others do. */
	if (self > 0) {
		snprintf(msg + n, len - n, "; this process still maps %ld kB of hugetlb pages", self);
		return -EIO;
	}
	/*
	 * nr_hugepages minus surplus is the persistent pool size, what the
	 * restore wrote back (pages still in use elsewhere stay as surplus).
	 */
	if (after.total - after.surplus != s->before.total - s->before.surplus) {
		if (s->reserved_hugetlb)
			return -EIO;
		snprintf(msg + n, len - n, "; changed by another process (this one holds none)");
		return 1;
	}
	if (after.free != s->before.free) {
		snprintf(msg + n, len - n, "; free_hugepages changed by another process"
			 " (this one holds none)");
		return 1;
	}
	return 0;
}

void sess_free(struct session *s)
{
	int k;

	for (k = 0; k < OPK_NR; k++)
		latency_free(&s->lat[k]);
	free(s->pins);
	s->pins = NULL;
	if (s->trace) {
		fclose(s->trace);
		s->trace = NULL;
	}
}
