/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fuzzer needs to see below the public API: mm/'s invariant
 * checker on a file and the shim's WARN count (a debug build WARNs when the
 * checker it runs after every operation finds a violation; the shim only
 * counts WARNs, it never aborts).  fuzz_hooks.c is compiled over the shim.
 */
#ifndef GUESTMEM_FUZZ_HOOKS_H
#define GUESTMEM_FUZZ_HOOKS_H

struct guestmem_file;

/* hgmem_check_file() on the file's mm/ file: 0, or -EUCLEAN and *why. */
int fuzz_check_file(struct guestmem_file *file, const char **why);
/* WARNs so far, and the last one ("file:line: cond"). */
unsigned long fuzz_warn_count(void);
const char *fuzz_last_warning(void);

#endif /* GUESTMEM_FUZZ_HOOKS_H */
