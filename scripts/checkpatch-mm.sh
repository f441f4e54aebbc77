#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mm/ is kernel code: every file in it must be clean under the kernel's
#   scripts/checkpatch.pl --strict --no-tree -f FILE
# from the Linux 7.2 base (kernel-patch/scripts/base.sh, verified).
#
# --no-tree: the files are checked where they are, outside the kernel tree.
# It only turns off the checks that need a git kernel tree around the file
# (spdxcheck.py, get_maintainer.pl, the <asm/...> include lookup); the
# spelling and const-struct lists still come from the tree's scripts/.  No
# --ignore is used: --strict CHECKs count as failures too (DESIGN.md: mm/ is
# "checkpatch.pl --strict clean").
#
# Exit: 0 clean, 1 any error, warning or check, 77 base unavailable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

rc=0
tree=$(bash kernel-patch/scripts/base.sh path) || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "checkpatch-mm: SKIP: the Linux 7.2 base is unavailable"
	exit 77
elif [ "$rc" -ne 0 ] || [ ! -x "$tree/scripts/checkpatch.pl" ]; then
	echo "checkpatch-mm: error: base.sh failed (rc=$rc, tree='$tree')" >&2
	exit 1
fi

shopt -s nullglob
files=(mm/*.c mm/*.h)
if [ ${#files[@]} -eq 0 ]; then
	echo "checkpatch-mm: error: no files in mm/" >&2
	exit 1
fi

echo "checkpatch-mm: $tree/scripts/checkpatch.pl --strict --no-tree -f (${#files[@]} files)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
tot_e=0 tot_w=0 tot_c=0 bad=0
summary=()
for f in "${files[@]}"; do
	# checkpatch exits non-zero when it reports anything: read its tally.
	perl "$tree/scripts/checkpatch.pl" --strict --no-tree --no-color \
		--show-types -f "$f" >"$out" 2>&1 || true
	total=$(grep -E '^total: [0-9]+ errors, [0-9]+ warnings' "$out" | tail -n 1 || true)
	if [ -z "$total" ]; then
		echo "---- $f: checkpatch.pl produced no tally:"
		cat "$out"
		summary+=("$(printf '  %-32s checkpatch.pl failed to run' "$f")")
		bad=1
		continue
	fi
	e=$(sed -E 's/^total: ([0-9]+) errors.*/\1/' <<<"$total")
	w=$(sed -E 's/.* ([0-9]+) warnings.*/\1/' <<<"$total")
	c=$(sed -nE 's/.* ([0-9]+) checks.*/\1/p' <<<"$total")
	c=${c:-0}
	tot_e=$((tot_e + e)) tot_w=$((tot_w + w)) tot_c=$((tot_c + c))
	if [ $((e + w + c)) -ne 0 ]; then
		bad=1
		echo "---- $f"
		sed '/^total: /,$d' "$out"
	fi
	summary+=("$(printf '  %-32s %3d errors %3d warnings %3d checks' "$f" "$e" "$w" "$c")")
done

echo
echo "checkpatch-mm summary (--strict):"
printf '%s\n' "${summary[@]}"
echo "  total: $tot_e errors, $tot_w warnings, $tot_c checks in ${#files[@]} files"
if [ "$bad" -ne 0 ]; then
	echo "checkpatch-mm: FAIL"
	exit 1
fi
echo "checkpatch-mm: PASS"
