#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Make a development tree for kernel changes: a full copy (never hard
# links) of the verified Linux 7.2 base with patches 1..N of the series
# applied, to edit, build and test in.  Export what changed with
# export-diff.sh.  See kernel-patch/README.md, "Editing the series".
#
# Usage: dev-tree.sh DIR [N]    N: apply patches 1..N (default: all)
# Env:   GUESTMEM_CACHE (the base's cache, see base.sh)
set -euo pipefail
kp=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=kernel-patch/scripts/series-lib.sh
. "$kp/scripts/series-lib.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [N]" >&2; exit 2; }
dir=$1
[ ! -e "$dir" ] || { echo "dev-tree: $dir exists; remove it or choose another" >&2; exit 1; }
series_read
n=${2:-${#series_names[@]}}
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -le ${#series_names[@]} ] ||
	{ echo "dev-tree: N must be 0..${#series_names[@]}" >&2; exit 2; }

tree=$(bash "$kp/scripts/base.sh" path)
echo "dev-tree: copying $tree to $dir"
cp -a --reflink=auto "$tree" "$dir"
series_apply "$dir" "$n" | sed 's/^/dev-tree: /'
echo "dev-tree: $dir is ready (patches 1..$n of ${#series_names[@]})"
