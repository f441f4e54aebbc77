// SPDX-License-Identifier: LGPL-2.1-or-later
/* guestmem(1): parsing trace lines (the format is in trace.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>

#include "trace.h"

#define MAX_TOKENS	16

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct {
	const char *name;
	enum trace_cmd cmd;
	int min_args, max_args;	/* after the command word */
	bool result;		/* may end with "= RESULT" */
	const char *usage;
} cmds[] = {
	{ "pool", TR_POOL, 2, 7, true,
	  "pool SIZE NR [prefault] [fallback] [simulate] [node=N] [threads=N]" },
	{ "file", TR_FILE, 3, 4, true, "file F SIZE shared|private [zero]" },
	{ "destroy", TR_DESTROY, 1, 1, true, "destroy F" },
	{ "alloc", TR_ALLOC, 3, 3, true, "alloc F OFFSET LEN" },
	{ "allocate", TR_ALLOC, 3, 3, true, "allocate F OFFSET LEN" },
	{ "punch", TR_PUNCH, 3, 3, true, "punch F OFFSET LEN" },
	{ "convert", TR_CONVERT, 4, 4, true, "convert F OFFSET LEN shared|private" },
	{ "pin", TR_PIN, 3, 3, true, "pin F OFFSET ID" },
	{ "unpin", TR_UNPIN, 2, 2, true, "unpin F ID" },
	{ "check", TR_CHECK_FILE, 3, 3, false, "check pool|F FIELD VALUE" },
	{ "state", TR_STATE, 3, 3, false, "state F OFFSET shared|private" },
};

static int number(const char *tok, const char *what, uint64_t *v, char *err, size_t len)
{
	if (parse_u64(tok, v))
		return fail(err, len, "%s '%s' is not a number (decimal, 0x hex, K/M/G/T suffix)",
			    what, tok);
	return 0;
}

static int file_index(const char *tok, unsigned int *idx, char *err, size_t len)
{
	uint64_t v;

	if (parse_u64(tok, &v) || v >= SESS_MAX_FILES)
		return fail(err, len, "file '%s' is not a file index (0..%d)", tok, SESS_MAX_FILES - 1);
	*idx = (unsigned int)v;
	return 0;
}

static int state_word(const char *tok, unsigned int *state, char *err, size_t len)
{
	if (!strcmp(tok, "shared"))
		*state = GUESTMEM_SHARED;
	else if (!strcmp(tok, "private"))
		*state = GUESTMEM_PRIVATE;
	else
		return fail(err, len, "'%s' is not a state (shared or private)", tok);
	return 0;
}

static int pool_args(char **tok, int n, struct trace_op *op, char *err, size_t len)
{
	struct sess_pool_cfg *c = &op->pool;
	uint64_t v;
	int i;

	memset(c, 0, sizeof(*c));
	c->node = -1;
	if (parse_page_size(tok[0], &c->page_size))
		return fail(err, len, "page size '%s': must be 2M or 1G", tok[0]);
	if (number(tok[1], "page count", &c->nr_pages, err, len))
		return -1;
	for (i = 2; i < n; i++) {
		if (!strcmp(tok[i], "prefault")) {
			c->flags |= GUESTMEM_POOL_PREFAULT;
		} else if (!strcmp(tok[i], "fallback")) {
			c->flags |= GUESTMEM_POOL_FALLBACK;
		} else if (!strcmp(tok[i], "simulate")) {
			c->flags |= GUESTMEM_POOL_SIMULATE;
		} else if (!strncmp(tok[i], "node=", 5)) {
			if (parse_u64(tok[i] + 5, &v) || v > 4095)
				return fail(err, len, "'%s': not a NUMA node", tok[i]);
			c->node = (int)v;
		} else if (!strncmp(tok[i], "threads=", 8)) {
			if (parse_u64(tok[i] + 8, &v) || v > 4096)
				return fail(err, len, "'%s': not a thread count", tok[i]);
			c->threads = (unsigned int)v;
		} else {
			return fail(err, len, "unknown pool option '%s'"
				    " (prefault, fallback, simulate, node=N, threads=N)", tok[i]);
		}
	}
	return 0;
}

static int check_args(char **tok, struct trace_op *op, char *err, size_t len)
{
	if (!strcmp(tok[0], "pool")) {
		op->cmd = TR_CHECK_POOL;
		if (!sess_pool_field(tok[1]))
			return fail(err, len, "unknown pool field '%s'"
				    " (total free reserved in_use pending splits merges)", tok[1]);
	} else {
		op->cmd = TR_CHECK_FILE;
		if (file_index(tok[0], &op->file, err, len))
			return -1;
		if (!sess_file_field(tok[1]))
			return fail(err, len, "unknown file field '%s'"
				    " (size allocated shared private huge_mappable split_pages)", tok[1]);
	}
	if (strlen(tok[1]) >= sizeof(op->field))
		return fail(err, len, "field name too long");
	strcpy(op->field, tok[1]);
	return number(tok[2], "value", &op->value, err, len);
}

int trace_parse_line(char *line, unsigned int lineno, struct trace_op *op,
		     char *err, size_t errlen)
{
	char *tok[MAX_TOKENS + 1], *p, *save = NULL, *res = NULL;
	int n = 0, i, c;

	p = strchr(line, '#');
	if (p)
		*p = '\0';
	for (p = strtok_r(line, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_TOKENS)
			return fail(err, errlen, "too many words");
		tok[n++] = p;
	}
	if (!n)
		return 0;
	memset(op, 0, sizeof(*op));
	op->line = lineno;

	/* "= RESULT" or "=RESULT" at the end. */
	for (i = 1; i < n; i++) {
		if (tok[i][0] != '=')
			continue;
		if (tok[i][1] && i == n - 1) {
			res = tok[i] + 1;
		} else if (!tok[i][1] && i == n - 2) {
			res = tok[i + 1];
		} else {
			return fail(err, errlen, "'=' must be followed by exactly one result at the"
				    " end of the line");
		}
		n = i;
		break;
	}

	for (c = 0; c < (int)TOOL_ARRAY_SIZE(cmds); c++)
		if (!strcmp(tok[0], cmds[c].name))
			break;
	if (c == (int)TOOL_ARRAY_SIZE(cmds))
		return fail(err, errlen, "unknown operation '%s' (pool file destroy alloc punch"
			    " convert pin unpin check state)", tok[0]);
	if (n - 1 < cmds[c].min_args || n - 1 > cmds[c].max_args)
		return fail(err, errlen, "%s: wrong number of arguments; usage: %s", tok[0],
			    cmds[c].usage);
	if (res) {
		if (!cmds[c].result)
			return fail(err, errlen, "%s lines take no '= RESULT'", tok[0]);
		if (parse_errno(res, &op->expect))
			return fail(err, errlen, "result '%s' is not 0, -EAGAIN, -EPERM, ... or a"
				    " negative number", res);
	}
	op->cmd = cmds[c].cmd;

	switch (op->cmd) {
	case TR_POOL:
		return pool_args(tok + 1, n - 1, op, err, errlen) ?: 1;
	case TR_FILE:
		if (file_index(tok[1], &op->file, err, errlen) ||
		    number(tok[2], "size", &op->len, err, errlen) ||
		    state_word(tok[3], &op->state, err, errlen))
			return -1;
		if (op->state == GUESTMEM_SHARED)
			op->flags |= GUESTMEM_FILE_INIT_SHARED;
		if (n == 5) {
			if (strcmp(tok[4], "zero"))
				return fail(err, errlen, "'%s': the only file option is 'zero'", tok[4]);
			op->flags |= GUESTMEM_FILE_ZERO_ON_CONVERT;
		}
		return 1;
	case TR_DESTROY:
		return file_index(tok[1], &op->file, err, errlen) ?: 1;
	case TR_ALLOC:
	case TR_PUNCH:
	case TR_CONVERT:
		if (file_index(tok[1], &op->file, err, errlen) ||
		    number(tok[2], "offset", &op->off, err, errlen) ||
		    number(tok[3], "length", &op->len, err, errlen))
			return -1;
		if (op->cmd == TR_CONVERT && state_word(tok[4], &op->state, err, errlen))
			return -1;
		return 1;
	case TR_PIN:
		if (file_index(tok[1], &op->file, err, errlen) ||
		    number(tok[2], "offset", &op->off, err, errlen) ||
		    number(tok[3], "pin id", &op->id, err, errlen))
			return -1;
		return 1;
	case TR_UNPIN:
		if (file_index(tok[1], &op->file, err, errlen) ||
		    number(tok[2], "pin id", &op->id, err, errlen))
			return -1;
		return 1;
	case TR_CHECK_POOL:
	case TR_CHECK_FILE:
		return check_args(tok + 1, op, err, errlen) ?: 1;
	case TR_STATE:
		if (file_index(tok[1], &op->file, err, errlen) ||
		    number(tok[2], "offset", &op->off, err, errlen) ||
		    state_word(tok[3], &op->state, err, errlen))
			return -1;
		return 1;
	}
	return fail(err, errlen, "internal error");
}
