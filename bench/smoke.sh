#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Smoke run of the benchmarks for make check: every benchmark once, at tiny
# sizes, without touching the machine's hugetlb setup.  Nothing is timed
# against anything; the test fails only if the binary fails or a benchmark
# reports an error that is not a missing facility of this machine (no
# hugetlb pages, no jemalloc, no hugetlbfs mount).
bin=./bench/guestmem-bench
test -x "$bin" || { echo "SKIP: $bin not built"; exit 77; }
out=$(mktemp "${TMPDIR:-/tmp}/guestmem-smoke.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT

"$bin" --smoke --benchmark_min_time=0 --benchmark_out="$out" \
	--benchmark_out_format=json || { echo "FAIL: $bin exited with $?"; exit 1; }

grep -q '"benchmarks"' "$out" || { echo "FAIL: no JSON output"; exit 1; }
n=$(grep -c '"run_type"' "$out")
echo "smoke: $n benchmark runs"
test "$n" -gt 20 || { echo "FAIL: only $n benchmarks ran"; exit 1; }
bad=$(grep '"error_message"' "$out" |
	grep -v -e 'hugetlb pages' -e 'jemalloc' -e 'hugetlbfs' -e 'threads for' || true)
if test -n "$bad"; then
	echo "FAIL: benchmarks reported errors:"
	echo "$bad"
	exit 1
fi
grep '"error_message"' "$out" | sed 's/^ */skipped: /' || true
exit 0
