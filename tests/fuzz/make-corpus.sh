#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerate the fuzzer's seed corpus, tests/fuzz/corpus: traces of the
# guestmem tool's workloads (simulated pools), cut to their first lines so
# each stays a few KB (the fuzzer runs at most 200 operations of an input
# and tears everything down itself), plus the hand-written traces in
# tests/fuzz/corpus/hand-* that this script leaves alone.
#
# usage: tests/fuzz/make-corpus.sh [GUESTMEM_TOOL]   (default tools/guestmem)
set -euo pipefail
tool=${1:-tools/guestmem}
out=$(cd "$(dirname "$0")" && pwd)/corpus
lines=140
[ -x "$tool" ] || { echo "make-corpus: $tool: not built" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out"/tool-*
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

seed() { # name, then the run arguments
	local name=$1
	shift
	"$tool" run "$@" --simulate --quiet --trace-out "$tmp" >/dev/null
	grep -v '^#' "$tmp" | head -n "$lines" >"$out/tool-$name"
	echo "make-corpus: tool-$name: $(wc -c <"$out/tool-$name") bytes ($*)"
}

seed random-1 random --size 32M --ops 120 --seed 1
seed random-2 random --size 16M --ops 120 --seed 2
seed random-3 random --size 64M --ops 120 --seed 3
seed random-4 random --size 8M --pages 6 --ops 120 --seed 4
seed random-1g random --page-size 1G --size 2G --ops 120 --seed 5
seed coco-boot coco-boot --size 64M --ops 40 --seed 1
seed coco-boot-small coco-boot --size 16M --ops 40 --seed 2
seed balloon balloon --size 16M --ops 512 --seed 1
