#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run the libFuzzer target tests/fuzz/fuzz_trace for a bounded time, from
# the committed seed corpus (tests/fuzz/corpus, traces of the tool's
# workloads) plus a working corpus kept in the build directory, and print
# one summary line.  Exit 0 when no crash, leak or timeout was found.
#
# Env: GUESTMEM_FUZZ   the fuzz target (default tests/fuzz/fuzz_trace)
#      FUZZ_TIME       seconds (default 60)
#      FUZZ_JOBS       parallel jobs/workers (default 1)
#      GUESTMEM_SEED   libFuzzer's -seed (default 1; printed)
#      FUZZ_WORK       working corpus, artifacts, fuzz.log and fuzz.summary
#                      (default tests/fuzz/work under the current directory)
# Extra arguments go to libFuzzer, e.g. a crash file to reproduce it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=${GUESTMEM_FUZZ:-tests/fuzz/fuzz_trace}
time=${FUZZ_TIME:-60}
jobs=${FUZZ_JOBS:-1}
seed=${GUESTMEM_SEED:-1}
work=${FUZZ_WORK:-tests/fuzz/work}

[ -x "$fuzzer" ] || { echo "fuzz: $fuzzer not built (make fuzz)" >&2; exit 1; }
mkdir -p "$work/corpus" "$work/artifacts"
log=$work/fuzz.log
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# A file argument: reproduce that input, nothing else.
if [ $# -gt 0 ] && [ -f "${!#}" ]; then
	exec "$fuzzer" -dict="$here/trace.dict" "$@"
fi

echo "fuzz: $fuzzer for ${time}s, $jobs job(s), GUESTMEM_SEED=$seed (set it to explore another sequence)"
args=(-max_total_time="$time" -seed="$seed" -dict="$here/trace.dict" -max_len=4096
      -timeout=20 -rss_limit_mb=4096 -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
if [ "$jobs" -gt 1 ]; then
	args+=(-jobs="$jobs" -workers="$jobs")
fi
start=$SECONDS
"$fuzzer" "${args[@]}" "$@" "$work/corpus" "$here/corpus" >"$log" 2>&1
rc=$?
if [ "$jobs" -gt 1 ]; then
	cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log
fi
# The last status line: "#N  DONE|pulse|NEW  cov: C ft: F corp: K/SIZE ...".
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
runs=$(grep -E '^stat::number_of_executed_units:' "$log" |
	awk '{ s += $2 } END { print s + 0 }')
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$last")
crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o \
	-name 'timeout-*' -o -name 'oom-*' \) | wc -l)
if [ "$rc" -ne 0 ]; then
	tail -n 60 "$log"
	echo "fuzz: artifacts in $work/artifacts:"
	ls -l "$work/artifacts"
fi
echo "fuzz: ${runs:-?} executions in $((SECONDS - start))s, cov ${cov:-?} ft ${ft:-?}," \
	"corpus ${corp:-?}, $crashes crash/leak/timeout file(s), exit $rc (log: $log)" |
	tee "$work/fuzz.summary"
exit "$rc"
