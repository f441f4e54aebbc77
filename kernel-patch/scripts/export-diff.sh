#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Export the edits of one patch from a development tree (dev-tree.sh) into
# its sources, kernel-patch/src/NNNN-*/:
#   - changes.diff: the unified diff (a/ b/) of the existing kernel files the
#     patch changes: those its changes.diff already names, plus FILEs.  The
#     "before" side is never a tree on disk: it is unpacked fresh from the
#     downloaded package, with patches 1..NNNN-1 applied (--fuzz=0);
#   - the new files listed in its "files" live in the repository (mm/,
#     kvm/, ...): where DIR's copy differs, export-diff says so, and with
#     --copy-new copies DIR's copy over the repository's (without it the
#     repository's stays: it may be the newer one).
# Then the series is regenerated (gen-series.sh).
#
# Usage: export-diff.sh [--copy-new] NNNN DIR [FILE...]
#        NNNN: the patch number (e.g. 0004); FILE: a tree path to add
set -euo pipefail
kp=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$kp/.." && pwd)
# shellcheck source=kernel-patch/scripts/series-lib.sh
. "$kp/scripts/series-lib.sh"

copy_new=0
[ "${1:-}" = --copy-new ] && { copy_new=1; shift; }
[ $# -ge 2 ] || { echo "usage: $0 [--copy-new] NNNN DIR [FILE...]" >&2; exit 2; }
num=$1 dev=$2
shift 2
shopt -s nullglob
srcs=("$kp"/src/"$num"-*/)
[ ${#srcs[@]} -eq 1 ] || { echo "export-diff: no kernel-patch/src/$num-*/" >&2; exit 1; }
src=${srcs[0]%/}
[ -f "$dev/Makefile" ] || { echo "export-diff: $dev is not a kernel tree" >&2; exit 1; }
series_read
idx=-1
for i in "${!series_names[@]}"; do
	[ "${series_names[$i]}" = "$(basename "$src").patch" ] && idx=$i
done
[ "$idx" -ge 0 ] || { echo "export-diff: $(basename "$src") is not in the series" >&2; exit 1; }

# The existing files the patch changes.
files=()
[ -f "$src/changes.diff" ] && mapfile -t files < <(patch_files "$src/changes.diff" 1)
files+=("$@")
mapfile -t files < <(printf '%s\n' "${files[@]}" | grep . | sort -u)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
echo "export-diff: the base fresh from the package, patches 1..$idx applied"
series_stage "$stage/before" "$idx" "${files[@]}" >/dev/null

out=$stage/changes.diff
: >"$out"
for f in "${files[@]}"; do
	[ -f "$stage/before/$f" ] ||
		{ echo "export-diff: $f is not in the base (a new file belongs in $src/files)" >&2; exit 1; }
	[ -f "$dev/$f" ] || { echo "export-diff: $dev/$f does not exist" >&2; exit 1; }
	rc=0
	diff -u --label "a/$f" --label "b/$f" "$stage/before/$f" "$dev/$f" >>"$out" || rc=$?
	[ "$rc" -le 1 ] || exit 1
	[ "$rc" -eq 1 ] || echo "export-diff: note: $f is unchanged"
done
if [ -s "$out" ]; then
	cp "$out" "$src/changes.diff"
else
	rm -f "$src/changes.diff"
fi
echo "export-diff: wrote $src/changes.diff (${#files[@]} files)"

if [ -f "$src/files" ]; then
	while read -r rpath tpath _; do
		case $rpath in '' | \#*) continue ;; esac
		if [ -f "$dev/$tpath" ] && ! cmp -s "$dev/$tpath" "$root/$rpath"; then
			if [ "$copy_new" = 1 ]; then
				cp "$dev/$tpath" "$root/$rpath"
				echo "export-diff: copied $tpath back to $rpath"
			else
				echo "export-diff: note: $dev/$tpath differs from $rpath;" \
					"kept $rpath (--copy-new takes $dev's)"
			fi
		fi
	done <"$src/files"
fi
bash "$kp/scripts/gen-series.sh"
