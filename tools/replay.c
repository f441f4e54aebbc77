// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem replay FILE: run a trace through a session.  The whole file is
 * parsed first; any syntax error is reported with its line number and
 * nothing runs.  Then every line runs in order: an operation whose result
 * differs from its "= RESULT" (0 when absent), a failed check, or a line
 * that names a missing file or pin is reported as FILE:LINE and counted,
 * and the replay goes on.  The exit status is 1 if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "trace.h"

struct replay_opts {
	const char *path;
	uint64_t add_flags;	/* --simulate, --fallback */
	bool no_fallback;
	bool quiet;
	const char *trace_out;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "guestmem: replay: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: guestmem replay [OPTIONS] FILE   (guestmem replay --help)\n");
	return EXIT_USAGE;
}

static int parse_replay_opts(int argc, char **argv, struct replay_opts *o)
{
	static const struct option options[] = {
		{ "simulate", no_argument, NULL, 's' },
		{ "fallback", no_argument, NULL, 'f' },
		{ "no-fallback", no_argument, NULL, 'n' },
		{ "trace-out", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 's': o->add_flags |= GUESTMEM_POOL_SIMULATE; break;
		case 'f': o->add_flags |= GUESTMEM_POOL_FALLBACK; break;
		case 'n': o->no_fallback = true; break;
		case 't': o->trace_out = optarg; break;
		case 'q': o->quiet = true; break;
		case 'h':
			printf("usage: guestmem replay [OPTIONS] FILE\n\n%s", REPLAY_HELP);
			return -1;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "which trace file?");
	o->path = argv[optind];
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	return 0;
}

/* Read and parse every line; print every syntax error.  Returns how many, or -1. */
static int load(const struct replay_opts *o, struct trace_op **opsp, size_t *nrp,
		unsigned int *lines)
{
	FILE *f = strcmp(o->path, "-") ? fopen(o->path, "r") : stdin;
	struct trace_op *ops = NULL, op;
	size_t nr = 0, cap = 0, len = 0;
	char *line = NULL, err[256];
	unsigned int lineno = 0;
	int errors = 0, r;

	if (!f) {
		tool_err("replay: cannot open %s: %s", o->path, strerror(errno));
		return -1;
	}
	while (getline(&line, &len, f) >= 0) {
		char copy[256];

		lineno++;
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "\r\n")] = '\0';
		r = trace_parse_line(line, lineno, &op, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "%s:%u: error: %s\n    %s\n", o->path, lineno, err, copy);
			errors++;
			continue;
		}
		if (!r)
			continue;
		if (nr == cap) {
			struct trace_op *p;

			cap = cap ? 2 * cap : 256;
			p = realloc(ops, cap * sizeof(*p));
			if (!p) {
				tool_err("replay: out of memory");
				errors++;
				break;
			}
			ops = p;
		}
		ops[nr++] = op;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	*opsp = ops;
	*nrp = nr;
	*lines = lineno;
	return errors;
}

/* Run one line; returns 0 or the number of failures (0 or 1). */
static int run_op(struct session *s, const struct replay_opts *o, const struct trace_op *op,
		  bool *fatal)
{
	struct sess_pool_cfg cfg;
	struct sess_pin *pin;
	char e1[24], e2[24];
	int rc = 0;

	switch (op->cmd) {
	case TR_POOL:
		cfg = op->pool;
		cfg.flags |= o->add_flags;
		cfg.no_fallback = o->no_fallback;
		rc = sess_pool_create(s, &cfg);
		if (rc && rc != op->expect)
			*fatal = true;
		break;
	case TR_FILE:
		rc = sess_file_create(s, op->file, op->len, op->flags);
		break;
	case TR_DESTROY:
		rc = sess_file_destroy(s, op->file);
		break;
	case TR_ALLOC:
		rc = sess_alloc(s, op->file, op->off, op->len);
		break;
	case TR_PUNCH:
		rc = sess_punch(s, op->file, op->off, op->len);
		break;
	case TR_CONVERT:
		rc = sess_convert(s, op->file, op->off, op->len, op->state);
		break;
	case TR_PIN:
		rc = sess_pin(s, op->file, op->off, op->id);
		break;
	case TR_UNPIN:
		pin = sess_find_pin(s, op->id);
		if (pin && pin->file != op->file) {
			snprintf(s->why, sizeof(s->why), "pin %" PRIu64 " is on file %u, not %u",
				 op->id, pin->file, op->file);
			rc = SESS_BAD;
		} else {
			rc = sess_unpin(s, op->id);
		}
		break;
	case TR_CHECK_POOL:
		if (sess_check_pool(s, op->field, op->value)) {
			fprintf(stderr, "%s:%u: check failed: %s\n", o->path, op->line, s->why);
			return 1;
		}
		return 0;
	case TR_CHECK_FILE:
		if (sess_check_file(s, op->file, op->field, op->value)) {
			fprintf(stderr, "%s:%u: check failed: %s\n", o->path, op->line, s->why);
			return 1;
		}
		return 0;
	case TR_STATE:
		if (sess_check_state(s, op->file, op->off, op->state)) {
			fprintf(stderr, "%s:%u: check failed: %s\n", o->path, op->line, s->why);
			return 1;
		}
		return 0;
	}
	if (rc == SESS_BAD) {
		fprintf(stderr, "%s:%u: error: %s\n", o->path, op->line, s->why);
		if (!s->pool)
			*fatal = true;
		return 1;
	}
	if (rc != op->expect) {
		fprintf(stderr, "%s:%u: '%s' returned %s, expected %s%s%s\n", o->path, op->line,
			s->op, errno_str(rc, e1, sizeof(e1)), errno_str(op->expect, e2, sizeof(e2)),
			s->last_error[0] ? ": " : "", s->last_error);
		return 1;
	}
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct trace_op *ops = NULL;
	struct replay_opts o;
	struct session s;
	unsigned int lines = 0;
	size_t nr = 0, i, every;
	bool fatal = false;
	uint64_t t0;
	int rc;

	rc = parse_replay_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.no_fallback && (o.add_flags & GUESTMEM_POOL_FALLBACK))
		return usage_error("%s", "--fallback and --no-fallback contradict each other");
	rc = load(&o, &ops, &nr, &lines);
	if (rc) {
		if (rc > 0)
			fprintf(stderr, "guestmem: replay: %s: %d bad line%s: nothing run\n", o.path,
				rc, rc == 1 ? "" : "s");
		free(ops);
		return 1;
	}
	progress_enable(!o.quiet);
	sess_init(&s, o.path);
	s.quiet = o.quiet;
	if (sess_trace_open(&s, o.trace_out)) {
		free(ops);
		return 1;
	}
	sess_trace_comment(&s, "replayed from %s", o.path);

	every = nr / 8 ? nr / 8 : 1;
	progress_start("replay", nr);
	for (i = 0; i < nr && !fatal; i++) {
		progress_update(i);
		s.failures += (uint64_t)run_op(&s, &o, &ops[i], &fatal);
		if (ops[i].cmd == TR_POOL && s.pool)
			sess_sample(&s);
		else if ((i + 1) % every == 0)
			sess_sample(&s);
	}
	progress_end();
	if (fatal)
		fprintf(stderr, "%s:%u: cannot go on without a pool\n", o.path, ops[i - 1].line);
	if (s.pool && (!s.nr_samples || s.samples[s.nr_samples - 1].ops != s.nr_ops))
		sess_sample(&s);
	t0 = now_ns();
	if (sess_teardown(&s))
		s.failures++;
	s.teardown_ns = now_ns() - t0;
	s.hugetlb_rc = sess_check_hugetlb_restored(&s, s.hugetlb_msg, sizeof(s.hugetlb_msg));
	if (s.hugetlb_rc > 0)
		tool_note("%s", s.hugetlb_msg);
	if (s.hugetlb_rc < 0) {
		tool_err("replay: the kernel's hugetlb pool is not as it was: %s", s.hugetlb_msg);
		s.failures++;
	}
	sess_note(&s, "%u lines, %zu operations and checks run, %" PRIu64 " failed", lines,
		  i, s.failures);
	report_print(&s, &(struct report_info){ .command = "replay", .name = o.path });
	rc = s.failures ? 1 : 0;
	sess_free(&s);
	free(ops);
	return rc;
}
