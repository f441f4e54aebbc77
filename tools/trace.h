/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guestmem(1): the trace format, one operation per line (README.md, "The
 * guestmem tool"):
 *
 *   pool SIZE NR [prefault] [fallback] [simulate] [node=N] [threads=N]
 *   file F SIZE shared|private [zero]
 *   destroy F
 *   alloc F OFFSET LEN          (also: allocate)
 *   punch F OFFSET LEN
 *   convert F OFFSET LEN shared|private
 *   pin F OFFSET ID
 *   unpin F ID
 *   check pool FIELD VALUE      (total free reserved in_use pending splits merges)
 *   check F FIELD VALUE         (size allocated shared private huge_mappable split_pages)
 *   state F OFFSET shared|private
 *
 * Numbers are decimal or 0x hex, with optional K/M/G/T suffixes.  An
 * operation line may end with "= RESULT" (0, -EAGAIN, -EPERM, ... or a
 * number): the result replay expects; 0 when absent.  "#" starts a comment.
 */
#ifndef GUESTMEM_TOOL_TRACE_H
#define GUESTMEM_TOOL_TRACE_H

#include "session.h"

enum trace_cmd {
	TR_POOL,
	TR_FILE,
	TR_DESTROY,
	TR_ALLOC,
	TR_PUNCH,
	TR_CONVERT,
	TR_PIN,
	TR_UNPIN,
	TR_CHECK_POOL,
	TR_CHECK_FILE,
	TR_STATE,
};

struct trace_op {
	unsigned int line;
	enum trace_cmd cmd;
	unsigned int file;
	uint64_t off, len, id, value;
	unsigned int state;
	uint64_t flags;			/* file flags */
	char field[24];			/* check */
	struct sess_pool_cfg pool;	/* pool */
	int expect;			/* result expected (0 when not given) */
};

/*
 * Parse one line (modified in place).  Returns 1 for an operation in *op,
 * 0 for a blank or comment line, -1 for an error described in @err.
 */
int trace_parse_line(char *line, unsigned int lineno, struct trace_op *op,
		     char *err, size_t errlen);

#endif /* GUESTMEM_TOOL_TRACE_H */
