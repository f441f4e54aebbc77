#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Check libguestmem's manual pages:
#  - every page renders without a warning, through man(1) as lintian runs
#    it and through groff -ww (all warnings);
#  - every function declared in include/guestmem.h has a page in man/man3
#    and a kernel-doc comment in the header, and every man3 page documents
#    a declared function;
#  - man/local.mk lists exactly the pages on disk.
#
# Usage: sh man/check-man.sh   (from any directory; "make check" runs it)
# Exit status: 0 pass, 1 fail, 77 skip (neither man nor groff installed).

set -u

mandir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
header=$mandir/../include/guestmem.h
status=0

fail() {
	printf 'check-man: FAIL: %s\n' "$*"
	status=1
}

have_man=no
have_groff=no
if command -v man >/dev/null 2>&1 && man --version 2>/dev/null | grep -q '^man'; then
	have_man=yes
fi
if command -v groff >/dev/null 2>&1; then
	have_groff=yes
fi
if [ "$have_man" = no ] && [ "$have_groff" = no ]; then
	echo 'check-man: SKIP: neither man (man-db) nor groff is installed'
	exit 77
fi

# Print the warnings (and errors) that rendering page $1 produces.
render_warnings() {
	if [ "$have_man" = yes ]; then
		{ LC_ALL=C MANROFFSEQ='' MANWIDTH=80 \
			man --warnings -E UTF-8 -l -Tutf8 -Z "$1" >/dev/null; } 2>&1 ||
			echo "man exited with status $?"
	fi
	if [ "$have_groff" = yes ]; then
		LC_ALL=C groff -man -ww -z -Tutf8 "$1" 2>&1 ||
			echo "groff exited with status $?"
	fi
}

# The functions include/guestmem.h declares: prototypes start in column 0.
functions=$(sed -n 's/^[a-z][a-z0-9_ ]*[ *]\(guestmem_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u)
if [ -z "$functions" ]; then
	fail "no function prototype found in $header"
fi

pages=0
for page in "$mandir"/man1/*.1 "$mandir"/man3/*.3 "$mandir"/man7/*.7; do
	[ -f "$page" ] || continue
	pages=$((pages + 1))
	name=$(basename "$page")
	if LC_ALL=C grep -n '[^ -~	]' "$page" >/dev/null; then
		fail "$name: non-ASCII characters (use groff escapes)"
	fi
	th=$(sed -n 's/^\.TH  *\([^ ]*\) \([^ ]*\) .*/\1.\2/p' "$page")
	if [ "$th" != "$name" ]; then
		fail "$name: .TH says '$th'"
	fi
	warnings=$(render_warnings "$page")
	if [ -n "$warnings" ]; then
		fail "$name: rendering warnings:"
		printf '%s\n' "$warnings" | sed 's/^/    /'
	fi
done

for fn in $functions; do
	if [ ! -f "$mandir/man3/$fn.3" ]; then
		fail "$fn is declared in include/guestmem.h but has no man/man3/$fn.3"
	fi
	if ! grep -q "^ \* $fn() - " "$header"; then
		fail "$fn has no kernel-doc comment (/** $fn() - ...) in include/guestmem.h"
	fi
	if ! grep -q "^\.BR $fn (3)" "$mandir/man7/libguestmem.7"; then
		fail "libguestmem.7 does not refer to $fn(3)"
	fi
done

for page in "$mandir"/man3/*.3; do
	[ -f "$page" ] || continue
	fn=$(basename "$page" .3)
	if ! printf '%s\n' "$functions" | grep -qx "$fn"; then
		fail "man3/$fn.3 documents no function declared in include/guestmem.h"
	fi
done

# man/local.mk must install and distribute exactly these pages.
listed=$(sed -n 's|^[	 ]*man/\(man[137]/[^ ]*\.[137]\).*|\1|p' "$mandir/local.mk" | sort)
present=$(cd "$mandir" && for p in man1/*.1 man3/*.3 man7/*.7; do [ -f "$p" ] && echo "$p"; done | sort)
if [ "$listed" != "$present" ]; then
	fail "man/local.mk does not list exactly the pages in man/man1, man/man3 and man/man7"
fi

if [ "$status" -eq 0 ]; then
	count=$(printf '%s\n' "$functions" | wc -l)
	echo "check-man: PASS ($pages pages, $((count)) functions documented)"
fi
exit "$status"
