#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Command 2 of the README: the whole test suite.
#   1. make check in ./build, configured with --enable-debug (the Check
#      suites, the exported-symbol check, the public-header check);
#   2. kernel-patch/scripts/gen-series.sh --check: the kernel series is
#      generated from mm/ and kernel-patch/src/ and is not stale;
#   3. scripts/checkpatch-mm.sh: mm/ is checkpatch.pl --strict clean;
#   4. kernel-patch/kernel-check.sh (make kernel-check): Linux 7.2 with the
#      series, W=1 and checkpatch on the series, booted in QEMU, KUnit and
#      the KVM selftests run inside.
# 3 and 4 need the Linux 7.2 base; when it cannot be fetched they are
# reported as SKIP, not as failures (unless GUESTMEM_REQUIRE_KERNEL=1, as in
# CI).  Exit status: 0 only if nothing failed.
#
# Env: GUESTMEM_SKIP_KERNEL=1  do not run 3 and 4 (reported as SKIP)
#      GUESTMEM_REQUIRE_KERNEL=1  a kernel check that cannot run is a FAIL
#      GM_JOBS                 parallel make jobs (default 2)
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$GM_ROOT" || exit 1

declare -A result
order=(build "make check" series checkpatch kernel-check)

gm_section "packages"
gm_install_packages

gm_section "bootstrap and configure ($GM_BUILD, debug)"
gm_bootstrap
gm_ensure_debug_build

gm_section "build"
if gm_make "$GM_BUILD"; then
	result[build]=PASS
else
	result[build]=FAIL
fi

gm_section "unit tests: make check"
GM_CHECKS_PASSED=0
GM_CHECKS_FAILED=0
if [ "${result[build]}" = PASS ]; then
	if gm_make "$GM_BUILD" check; then
		result["make check"]=PASS
	else
		result["make check"]=FAIL
	fi
	gm_section "Check suite summaries"
	gm_check_summary "$GM_BUILD"
	[ "${result["make check"]}" = PASS ] || gm_show_failures "$GM_BUILD"
else
	result["make check"]=FAIL
	gm_note "not run: the build failed"
fi

gm_section "series"
if bash kernel-patch/scripts/gen-series.sh --check; then
	result[series]=PASS
else
	result[series]=FAIL
fi

skipped=0
for k in checkpatch kernel-check; do
	gm_section "$k"
	if [ "${GUESTMEM_SKIP_KERNEL:-0}" = 1 ]; then
		gm_note "$k: SKIP (GUESTMEM_SKIP_KERNEL=1)"
		result[$k]=SKIP
		continue
	fi
	case $k in
	checkpatch) gm_kernel_check "$k" scripts/checkpatch-mm.sh ;;
	kernel-check) gm_kernel_check "$k" kernel-patch/kernel-check.sh ;;
	esac
	result[$k]=$GM_KCHECK_RESULT
	if [ "${GUESTMEM_REQUIRE_KERNEL:-0}" = 1 ] && [ "${result[$k]}" = SKIP ]; then
		gm_note "$k: FAIL (GUESTMEM_REQUIRE_KERNEL=1: the kernel half must be checked)"
		result[$k]=FAIL
	fi
done

gm_section "summary"
failed=0
passed=$GM_CHECKS_PASSED
nfailed=$GM_CHECKS_FAILED
for k in "${order[@]}"; do
	printf '  %-16s %s\n' "$k" "${result[$k]}"
	case ${result[$k]} in
	FAIL) failed=1 ;;
	esac
done
for k in series checkpatch kernel-check; do
	case ${result[$k]} in
	PASS) passed=$((passed + 1)) ;;
	FAIL) nfailed=$((nfailed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	esac
done
if [ "${result[build]}" = FAIL ] || [ "${result["make check"]}" = FAIL ]; then
	[ "$nfailed" -gt 0 ] || nfailed=1
fi
echo
echo "(Check test cases plus the series, checkpatch and kernel-check checks)"
echo "test.sh: $passed passed, $nfailed failed, $skipped skipped"
exit "$failed"
