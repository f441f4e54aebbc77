#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of the guestmem command-line tool (tools/guestmem), run by make check
# from the build directory.  GUESTMEM_TOOL overrides the tool's path.
#
#   - the command line: --help, --version, usage errors (exit 2), info;
#   - every workload with --simulate (fast), with its trace replayed;
#   - replay of small traces: an asserted "= -EAGAIN" for converting a pinned
#     shared page to private, checks, and a bad line (line number, exit 1);
#   - run --kvm: its options, and the skip (exit 77, with the reason) where
#     /dev/kvm is missing, or as root with /dev/kvm a real run;
#   - as root, when 2M hugetlb pages can be reserved: coco-boot on real 2M
#     pages, with nr_hugepages and free_hugepages restored afterwards.
#
# Parts that cannot run here are skipped with the reason.  Prints one Check
# style summary line and, last, "N passed, N failed"; exits 1 on failure,
# 77 if nothing could run at all.
set -u

TOOL=${GUESTMEM_TOOL:-./tools/guestmem}
HP=/sys/kernel/mm/hugepages/hugepages-2048kB

passed=0
failed=0
skipped=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_tool.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }

# run NAME EXPECTED-STATUS COMMAND...: run the tool, keep its output in
# $tmp/NAME.out and .err, check the exit status.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$TOOL" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: guestmem $* exited $rc, expected $want"
		sed 's/^/    | /' "$tmp/$name.err" | tail -n 15
		return 1
	fi
	return 0
}

# has NAME out|err REGEX DESCRIPTION: the output matches.
has() {
	if grep -qE -- "$3" "$tmp/$1.$2"; then
		return 0
	fi
	fail "$1: std$2 lacks /$3/ ($4)"
	sed 's/^/    | /' "$tmp/$1.$2" | tail -n 15
	return 1
}

if [ ! -x "$TOOL" ]; then
	echo "SKIP: $TOOL is not built (set GUESTMEM_TOOL)"
	exit 77
fi

# ------------------------------------------------------------ command line
run help 0 --help && has help out '^usage: guestmem COMMAND' "usage on stdout" &&
	pass "--help"
run version 0 --version && has version out '^guestmem [0-9]' "version" && pass "--version"
run noargs 2 && has noargs err '^usage: guestmem' "usage on stderr" && pass "no command: exit 2"
run unknown 2 frobnicate && has unknown err "unknown command 'frobnicate'" "names it" &&
	has unknown err '^usage: guestmem' "usage on stderr" && pass "unknown command: exit 2"
run badopt 2 run coco-boot --page-size 4M && has badopt err 'page-size' "names the option" &&
	pass "bad option: exit 2"
run badwl 2 run nosuch --simulate && has badwl err "unknown workload 'nosuch'" "names it" &&
	pass "unknown workload: exit 2"
run runhelp 0 run --help && has runhelp out 'coco-boot' "lists workloads" && pass "run --help"

# ------------------------------------------------------------ info
run info 0 info && has info out '^hugetlb pages' "hugetlb section" &&
	has info out '^KVM' "KVM section" && pass "info"

# ------------------------------------------------------------ workloads, simulated
# name: workload and options (small and quick, also under ASan)
declare -A wl=(
	[coco-boot]="--size 64M --ops 300"
	[coco-1G]="--page-size 1G --size 1G --ops 200"
	[balloon]="--size 64M --ops 2048"
	[random]="--size 64M --ops 2000 --seed 7"
)
for name in coco-boot coco-1G balloon random; do
	w=${name/coco-1G/coco-boot}
	# shellcheck disable=SC2086
	if run "sim-$name" 0 run "$w" --simulate --quiet ${wl[$name]} --trace-out "$tmp/$name.trace" &&
	   has "sim-$name" out 'result: +PASS' "report says PASS" &&
	   has "sim-$name" out 'backend simulated' "simulated backend" &&
	   has "sim-$name" out '^ +convert .*' "latency table" &&
	   has "sim-$name" out '^memory' "memory section"; then
		pass "run $w --simulate ${wl[$name]}"
		if run "replay-$name" 0 replay --quiet "$tmp/$name.trace" &&
		   has "replay-$name" out 'result: +PASS' "replay PASS"; then
			pass "replay of the $name trace"
		fi
	fi
done
grep -q -- '= -EAGAIN$' "$tmp/coco-boot.trace" && pass "coco-boot trace asserts -EAGAIN" ||
	fail "coco-boot trace has no '= -EAGAIN' line"
grep -qE 'returned by the 4K discards alone: [0-9]+; needed a whole-page punch once fully ballooned: [0-9]+' \
	"$tmp/sim-balloon.out" && pass "balloon reports the pages returned" ||
	fail "balloon report lacks the returned pages"

# A pool too small for the guest: the library's error, exit 1.
run small-pool 1 run coco-boot --simulate --quiet --size 64M --pages 8 &&
	has small-pool err 'cannot reserve' "guestmem_last_error() text" && pass "pool too small: exit 1"

# ------------------------------------------------------------ replay
cat >"$tmp/pin.trace" <<'EOF'
# A pinned shared page cannot be made private; once unpinned it can.
pool 2M 4 simulate
file 0 8M private zero
convert 0 0 2M shared        = 0
alloc 0 0 0x400000
pin 0 0x1000 1
convert 0 0 64K private      = -EAGAIN   # the host holds it
state 0 0x1000 shared
check 0 split_pages 0
unpin 0 1
convert 0 0 64K private
state 0 0x1000 private
check 0 split_pages 1
convert 0 64K 0x1f0000 private
check 0 split_pages 0
check 0 huge_mappable 4M
pin 0 0 2                    = -EPERM    # private pages cannot be pinned
convert 0 0x1001 4K shared   = -EINVAL
convert 0 8M 4K shared       = -ERANGE
punch 0 2M 2M
check 0 allocated 2M
check pool in_use 1
destroy 0
check pool free 4
EOF
run replay-pin 0 replay "$tmp/pin.trace" && has replay-pin out 'result: +PASS' "PASS" &&
	has replay-pin out '^ +convert +6 ' "6 conversions timed" && pass "replay: asserted -EAGAIN on a pinned page"

cat >"$tmp/bad.trace" <<'EOF'
pool 2M 4 simulate
file 0 8M private
convert 0 0 2M sharde
alloc 0 0 4M
EOF
run replay-bad 1 replay "$tmp/bad.trace" && has replay-bad err 'bad\.trace:3: error: .*sharde' "line 3 named" &&
	has replay-bad err 'nothing run' "nothing run" && pass "replay: bad line reported with its number"

cat >"$tmp/wrong.trace" <<'EOF'
pool 2M 4 simulate
file 0 8M private
alloc 0 0 2M
pin 0 0 1 = 0
convert 0 0 4K shared = -EAGAIN
EOF
run replay-wrong 1 replay --quiet "$tmp/wrong.trace" &&
	has replay-wrong err "wrong\.trace:4: 'pin 0 0 1' returned -EPERM, expected 0" "line 4" &&
	has replay-wrong err "wrong\.trace:5: .*returned 0, expected -EAGAIN" "line 5" &&
	pass "replay: unexpected results reported with their line numbers"

# ------------------------------------------------------------ run --kvm
# Options first (exit 2 everywhere), then the run itself: without /dev/kvm
# it must skip (exit 77) and say why; with it, as root, it runs on real 2M
# pages and prints the kernel's memory figures (or skips, naming the mode
# or VM type that is missing).
run kvm-badmode 2 run coco-boot --kvm-mode bogus &&
	has kvm-badmode err "kvm-mode bogus: must be auto, split or inplace" "names the value" &&
	pass "run --kvm-mode bogus: exit 2"
run kvm-ratio-alone 2 run coco-boot --max-memory-ratio 1.1 &&
	has kvm-ratio-alone err 'max-memory-ratio needs --kvm' "says why" &&
	pass "run --max-memory-ratio without --kvm: exit 2"
run kvm-ratio-bad 2 run coco-boot --kvm --max-memory-ratio 0 &&
	has kvm-ratio-bad err 'max-memory-ratio 0: not a positive number' "names the value" &&
	pass "run --kvm --max-memory-ratio 0: exit 2"
run kvm-balloon 2 run balloon --kvm && has kvm-balloon err 'only the coco-boot workload' "says why" &&
	pass "run balloon --kvm: exit 2"
run kvm-simulate 2 run coco-boot --kvm --simulate && has kvm-simulate err 'not with --simulate' "says why" &&
	pass "run coco-boot --kvm --simulate: exit 2"
run kvm-trace 2 run coco-boot --kvm --trace-out "$tmp/kvm.trace" &&
	has kvm-trace err 'no --trace-out' "says why" && pass "run coco-boot --kvm --trace-out: exit 2"
run runhelp-kvm 0 run --help && has runhelp-kvm out '--max-memory-ratio' "documents the bound" &&
	pass "run --help documents --kvm"
if [ ! -e /dev/kvm ]; then
	run kvm-skip 77 run coco-boot --kvm --size 64M --ops 200 --max-memory-ratio 1.1 &&
		has kvm-skip err '^guestmem: SKIP: run coco-boot --kvm: /dev/kvm is missing' "the reason" &&
		pass "run coco-boot --kvm without /dev/kvm: exit 77 with the reason"
elif [ "$(id -u)" -ne 0 ] || [ ! -d "$HP" ]; then
	skip "run coco-boot --kvm: not root or no 2M hugetlb pages"
else
	"$TOOL" run coco-boot --kvm --quiet --size 64M --ops 200 >"$tmp/kvm.out" 2>"$tmp/kvm.err"
	rc=$?
	if [ "$rc" -eq 77 ]; then
		skip "run coco-boot --kvm: $(sed -n 's/^guestmem: SKIP: //p' "$tmp/kvm.err" | head -n 1)"
	elif [ "$rc" -eq 0 ] && has kvm out 'result: +PASS' "PASS" &&
	     has kvm out '^kvm-memory: mode=split .*peak_ratio=' "the kernel's figures"; then
		pass "run coco-boot --kvm on real 2M pages"
	else
		fail "run coco-boot --kvm exited $rc"
		sed 's/^/    | /' "$tmp/kvm.err" | tail -n 15
	fi
fi

# ------------------------------------------------------------ real 2M hugetlb pages
real_reason=
if [ "$(id -u)" -ne 0 ]; then
	real_reason="not root"
elif [ ! -d "$HP" ]; then
	real_reason="no 2M hugetlb pages in this kernel"
elif [ ! -w /proc/sys/vm/nr_hugepages ] && [ ! -w "$HP/nr_hugepages" ]; then
	real_reason="nr_hugepages is read-only here"
fi
if [ -n "$real_reason" ]; then
	skip "coco-boot on real 2M pages: $real_reason"
else
	# nr_hugepages - surplus is the persistent pool size the tool restores;
	# free_hugepages may be moved by other processes (benchmarks, tests),
	# which is told apart from a leak by the tool's own check.
	nr0=$(cat "$HP/nr_hugepages") sur0=$(cat "$HP/surplus_hugepages")
	free0=$(cat "$HP/free_hugepages")
	run real 0 run coco-boot --quiet --size 64M --ops 200 --trace-out "$tmp/real.trace"
	rc=$?
	nr1=$(cat "$HP/nr_hugepages") sur1=$(cat "$HP/surplus_hugepages")
	free1=$(cat "$HP/free_hugepages")
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$free1" = "$free0" ] && break
		sleep 0.5
		free1=$(cat "$HP/free_hugepages")
	done
	if grep -q 'no hugetlb pages: using ordinary memory' "$tmp/real.err"; then
		skip "coco-boot on real 2M pages: $(sed -n 's/.*(fallback): //p' "$tmp/real.err" | head -n 1)"
	elif [ "$rc" -eq 0 ] && has real out 'backend hugetlb' "hugetlb backend" &&
	     has real out 'result: +PASS' "PASS" && has real out '^restored: hugetlb 2M' "tool's own check"; then
		pass "coco-boot on real 2M pages"
	fi
	what="nr_hugepages $nr0 -> $nr1 (surplus $sur0 -> $sur1), free_hugepages $free0 -> $free1"
	if [ $((nr1 - sur1)) -ne $((nr0 - sur0)) ]; then
		fail "hugetlb not restored: $what"
	elif [ "$free1" = "$free0" ]; then
		pass "hugetlb restored: $what"
	elif grep -q '^restored: ' "$tmp/real.out"; then
		# The tool found itself holding nothing and the pool size restored;
		# once it has exited it cannot hold pages: someone else does.
		skip "free_hugepages check: another process is using hugetlb pages ($what)"
	else
		fail "hugetlb not restored: $what"
	fi
	# The trace of a real run replays in a simulated pool.
	if [ -s "$tmp/real.trace" ]; then
		run real-replay 0 replay --simulate --quiet "$tmp/real.trace" &&
			pass "replay --simulate of the real run's trace"
	fi
fi

# ------------------------------------------------------------ summary
total=$((passed + failed))
if [ "$total" -gt 0 ]; then
	echo "$((passed * 100 / total))%: Checks: $total, Failures: $failed, Errors: 0"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || exit 77
exit 0
