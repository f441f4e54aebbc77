#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Write the unified diff (a/ b/ prefixes) of FILES between a pristine tree
# and a development copy of it: the changes.diff of a kernel-patch/src/
# directory.  New files belong in that directory's "files" list instead.
#
# Usage: export-diff.sh PRISTINE DEV FILE... > changes.diff
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 PRISTINE DEV FILE..." >&2; exit 2; }
base=$1 dev=$2
shift 2
for f in "$@"; do
	diff -u --label "a/$f" --label "b/$f" "$base/$f" "$dev/$f"
	[ $? -le 1 ] || exit 1
done
exit 0
