// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the session's checks of pool and file counters and page
 * states (trace "check" and "state" lines), its coverage samples, and how
 * it reports failures.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "session.h"


/* ---------------------------------------------------------------- checks */

static const char *const pool_fields[] = {
	"total", "free", "reserved", "in_use", "pending", "splits", "merges",
};
static const char *const file_fields[] = {
	"size", "allocated", "shared", "private", "huge_mappable", "split_pages",
};

static int field_index(const char *const *names, size_t n, const char *field)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], field))
			return (int)i;
	return -1;
}

bool sess_pool_field(const char *field)
{
	return field_index(pool_fields, TOOL_ARRAY_SIZE(pool_fields), field) >= 0;
}

bool sess_file_field(const char *field)
{
	return field_index(file_fields, TOOL_ARRAY_SIZE(file_fields), field) >= 0;
}

static uint64_t pool_value(const struct guestmem_pool_stats *st, int i)
{
	const uint64_t v[] = {
		st->total, st->free, st->reserved, st->in_use, st->pending, st->splits, st->merges,
	};

	return v[i];
}

static uint64_t file_value(const struct guestmem_file_stats *st, int i)
{
	const uint64_t v[] = {
		st->size, st->allocated, st->shared_bytes, st->private_bytes,
		st->huge_mappable, st->split_pages,
	};

	return v[i];
}

static const char *fmt_value(bool bytes, uint64_t v, char *buf, size_t len)
{
	if (!bytes || !v) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	return fmt_size(v, buf, len);
}

int sess_check_pool(struct session *s, const char *field, uint64_t want)
{
	int i = field_index(pool_fields, TOOL_ARRAY_SIZE(pool_fields), field);
	struct guestmem_pool_stats st;
	uint64_t got;
	int rc;

	if (i < 0)
		return sess_bad(s, "unknown pool field '%s'", field);
	if (!s->pool)
		return sess_bad(s, "there is no pool (a \"pool\" line must come first)");
	if (s->trace)
		fprintf(s->trace, "check pool %s %" PRIu64 "\n", field, want);
	/* Exact: the library returns with deferred reassembly done, no waiting here. */
	rc = guestmem_pool_stats(s->pool, &st, sizeof(st));
	if (rc)
		return sess_bad(s, "pool stats: %s", guestmem_last_error());
	got = pool_value(&st, i);
	if (got != want)
		return sess_bad(s, "pool %s is %" PRIu64 ", expected %" PRIu64
			   " (total %" PRIu64 ", free %" PRIu64 ", reserved %" PRIu64
			   ", in_use %" PRIu64 ", pending %" PRIu64 ")",
			   field, got, want, st.total, st.free, st.reserved, st.in_use, st.pending);
	s->checks++;
	return 0;
}

int sess_check_file(struct session *s, unsigned int idx, const char *field, uint64_t want)
{
	int i = field_index(file_fields, TOOL_ARRAY_SIZE(file_fields), field);
	struct sess_file *f = sess_file_get(s, idx);
	struct guestmem_file_stats st;
	uint64_t got;
	bool bytes = i >= 0 && strcmp(field, "split_pages");
	char b1[32], b2[32];
	int rc;

	if (!f)
		return SESS_BAD;
	if (i < 0)
		return sess_bad(s, "unknown file field '%s'", field);
	/*
	 * In-place mode: the guest_memfd's pages are the kernel's, allocated
	 * on its faults, and the file's stats say 0 (struct
	 * guestmem_file_stats); the kernel's counters in the report tell.
	 */
	if (sess_kvm_mode(s) == GUESTMEM_KVM_INPLACE && !strcmp(field, "allocated"))
		return 0;
	if (s->trace)
		fprintf(s->trace, "check %u %s %s\n", idx, field, fmt_value(bytes, want, b1, sizeof(b1)));
	rc = guestmem_file_stats(f->f, &st, sizeof(st));
	if (rc)
		return sess_bad(s, "file stats: %s", guestmem_last_error());
	got = file_value(&st, i);
	if (got != want)
		return sess_bad(s, "file %u %s is %s, expected %s", idx, field,
			   fmt_value(bytes, got, b1, sizeof(b1)), fmt_value(bytes, want, b2, sizeof(b2)));
	s->checks++;
	return 0;
}

int sess_check_state(struct session *s, unsigned int idx, uint64_t off, unsigned int want)
{
	struct sess_file *f = sess_file_get(s, idx);
	unsigned int state;
	int rc;

	if (!f)
		return SESS_BAD;
	if (s->trace)
		fprintf(s->trace, "state %u %#" PRIx64 " %s\n", idx, off, sess_state_name(want));
	rc = guestmem_state(f->f, off, &state, NULL);
	if (rc)
		return sess_bad(s, "state of file %u at %#" PRIx64 ": %s", idx, off,
			   guestmem_last_error());
	if (state != want)
		return sess_bad(s, "file %u page %#" PRIx64 " is %s, expected %s", idx, off,
			   sess_state_name(state), sess_state_name(want));
	s->checks++;
	return 0;
}

/* ---------------------------------------------------------------- samples */

void sess_sample(struct session *s)
{
	struct guestmem_pool_stats ps;
	struct sess_sample *x;
	unsigned int i;

	if (!s->pool)
		return;
	/* The same point twice, or no room: the new sample replaces the last. */
	if (s->nr_samples == SESS_MAX_SAMPLES ||
	    (s->nr_samples && s->samples[s->nr_samples - 1].ops == s->nr_ops))
		s->nr_samples--;
	x = &s->samples[s->nr_samples++];
	memset(x, 0, sizeof(*x));
	x->ops = s->nr_ops;
	for (i = 0; i < SESS_MAX_FILES; i++) {
		struct guestmem_file_stats st;

		if (!s->files[i].f || guestmem_file_stats(s->files[i].f, &st, sizeof(st)))
			continue;
		x->size += st.size;
		x->allocated += st.allocated;
		x->huge_mappable += st.huge_mappable;
		x->split_pages += st.split_pages;
		x->shared += st.shared_bytes;
		x->kvm_returned += st.kvm_returned;
	}
	if (!guestmem_pool_stats(s->pool, &ps, sizeof(ps))) {
		x->splits = ps.splits;
		x->merges = ps.merges;
		x->pool_free = ps.free;
		x->pool_in_use = ps.in_use;
	}
	/*
	 * The model counts every huge page allocated and not punched; in
	 * split mode those wholly private are returned instead (kvm_returned).
	 */
	if (x->allocated + x->kvm_returned != s->cur_alloc &&
	    sess_kvm_mode(s) != GUESTMEM_KVM_INPLACE) {	/* as in sess_check_file() */
		char b1[32], b2[32], b3[32];

		tool_err("%s: after %" PRIu64 " operations guestmem_file_stats() reports %s allocated"
			 " (+ %s returned in split mode), the tool's model %s", s->name, s->nr_ops,
			 fmt_bytes(x->allocated, b1, sizeof(b1)),
			 fmt_bytes(x->kvm_returned, b3, sizeof(b3)),
			 fmt_bytes(s->cur_alloc, b2, sizeof(b2)));
		s->failures++;
		s->cur_alloc = x->allocated + x->kvm_returned;	/* report once */
	}
	if (s->kvm)
		kvm_mem_sample(&s->kvm->mem, s->nr_ops);
}

void sess_note(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nr_notes == TOOL_ARRAY_SIZE(s->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(s->notes[s->nr_notes++], sizeof(s->notes[0]), fmt, ap);
	va_end(ap);
}

void sess_fail(struct session *s, int rc, int want)
{
	char e1[24], e2[24];

	s->failures++;
	if (rc == SESS_BAD) {
		tool_err("%s: %s", s->name, s->why);
		return;
	}
	tool_err("%s: '%s' returned %s, expected %s%s%s", s->name, s->op,
		 errno_str(rc, e1, sizeof(e1)), errno_str(want, e2, sizeof(e2)),
		 s->last_error[0] ? ": " : "", s->last_error);
}
