# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared shell for scripts/setup.sh, scripts/test.sh and .ci/run.
# Source it from bash; it sets GM_ROOT (the repository) and GM_BUILD.

GM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GM_BUILD=${GM_BUILD:-$GM_ROOT/build}
GM_JOBS=${GM_JOBS:-2}

# Debian packages: the userspace build, its tests and benchmarks, and the
# kernel-side checks (compiling mm/ inside the Linux tree needs flex, bison,
# bc and libelf for objtool; base.sh needs dpkg-deb and xz; gen-series.sh
# needs git for the patches' index lines and diffstat; the libFuzzer target
# needs clang and its fuzzer runtime).
GM_PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	check libnuma-dev libhugetlbfs-dev libjemalloc-dev libbenchmark-dev gnuplot-nox
	clang libclang-rt-14-dev
	flex bison bc libelf-dev perl python3 xz-utils groff-base git
)

gm_section() {
	printf '\n==================== %s ====================\n' "$*"
}

gm_note() {
	printf '%s: %s\n' "${0##*/}" "$*"
}

gm_die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# Install whatever of GM_PACKAGES is missing.  Nothing is run when all are
# present, so this works unprivileged on a prepared machine.
gm_install_packages() {
	local missing=() p
	for p in "${GM_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		gm_note "all build packages present"
		return 0
	fi
	gm_note "installing: ${missing[*]}"
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			gm_die "not root and no sudo: install these packages: ${missing[*]}"
		sudo="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq || gm_die "apt-get update failed"
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
		gm_die "apt-get install failed"
}

# Generate ./configure when it is missing or older than its inputs.
gm_bootstrap() {
	local r=$GM_ROOT
	if [ -x "$r/configure" ] && [ -f "$r/Makefile.in" ] &&
	   [ ! "$r/configure.ac" -nt "$r/configure" ] &&
	   [ ! "$r/Makefile.am" -nt "$r/Makefile.in" ]; then
		return 0
	fi
	gm_note "bootstrapping (autogen.sh)"
	(cd "$r" && ./autogen.sh) || gm_die "autogen.sh failed"
}

# The configure arguments an existing build directory was made with.
gm_configured_args() {
	local dir=${1:-$GM_BUILD}
	[ -x "$dir/config.status" ] || return 1
	(cd "$dir" && ./config.status --config)
}

# gm_configure DIR ARGS...: configure DIR out of tree with ARGS, unless it
# already is configured with exactly these arguments.
gm_configure() {
	local dir=$1
	shift
	local want have harr=()
	want=$(printf '%q ' "$@")
	want=${want% }
	if have=$(gm_configured_args "$dir"); then
		eval "harr=($have)"
		have=$(printf '%q ' "${harr[@]}")
		have=${have% }
	fi
	if [ -n "$have" ] && [ "$have" = "$want" ]; then
		gm_note "$dir: already configured ($want)"
		return 0
	fi
	gm_note "configuring $dir: $want"
	mkdir -p "$dir"
	(cd "$dir" && "$GM_ROOT/configure" "$@") >"$dir/configure.out" 2>&1 || {
		tail -n 40 "$dir/configure.out"
		gm_die "configure failed in $dir (see $dir/config.log)"
	}
	sed -n '/^configure:$/,$p' "$dir/configure.out"
}

# gm_ensure_debug_build: make sure GM_BUILD is configured with --enable-debug,
# keeping whatever else it was configured with (CI adds --enable-werror).
# Extra arguments for a fresh build come from GUESTMEM_CONFIGURE_FLAGS.
gm_ensure_debug_build() {
	local args=() have a
	if have=$(gm_configured_args "$GM_BUILD"); then
		eval "args=($have)"
	else
		# shellcheck disable=SC2206
		args=(${GUESTMEM_CONFIGURE_FLAGS:-})
	fi
	for a in "${args[@]}"; do
		[ "$a" = --enable-debug ] && { gm_configure "$GM_BUILD" "${args[@]}"; return; }
	done
	gm_configure "$GM_BUILD" "${args[@]}" --enable-debug
}

# gm_ensure_build: configure GM_BUILD if it is not (default --enable-debug,
# or GUESTMEM_CONFIGURE_FLAGS), keep it as it is otherwise.
gm_ensure_build() {
	if gm_configured_args "$GM_BUILD" >/dev/null; then
		gm_note "$GM_BUILD: configured with $(gm_configured_args "$GM_BUILD")"
		return 0
	fi
	# shellcheck disable=SC2086
	gm_configure "$GM_BUILD" ${GUESTMEM_CONFIGURE_FLAGS:---enable-debug}
}

gm_make() {
	local dir=$1
	shift
	make -C "$dir" -j"$GM_JOBS" "$@"
}

# gm_check_summary DIR: print each Check suite's summary line from DIR's
# test logs, then "check: N passed, N failed" over all of them.  Sets
# GM_CHECKS_PASSED and GM_CHECKS_FAILED.
gm_check_summary() {
	local dir=$1 log line n f e res
	GM_CHECKS_PASSED=0
	GM_CHECKS_FAILED=0
	for log in "$dir"/tests/*.log; do
		[ -f "$log" ] || continue
		[ "${log##*/}" = test-suite.log ] && continue
		line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1)
		if [ -z "$line" ]; then
			res=$(sed -n 's/^:test-result: //p' "${log%.log}.trs" 2>/dev/null | head -n 1)
			printf '  %-22s no Check summary line (test result: %s)\n' \
				"$(basename "$log" .log)" "${res:-none}"
			case $res in
			FAIL|ERROR|XPASS) GM_CHECKS_FAILED=$((GM_CHECKS_FAILED + 1)) ;;
			esac
			continue
		fi
		printf '  %-22s %s\n' "$(basename "$log" .log)" "$line"
		n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
		e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
		GM_CHECKS_FAILED=$((GM_CHECKS_FAILED + f + e))
		GM_CHECKS_PASSED=$((GM_CHECKS_PASSED + n - f - e))
	done
}

# gm_show_failures DIR: print the logs of failed tests in DIR.
gm_show_failures() {
	local dir=$1 trs
	for trs in "$dir"/tests/*.trs; do
		[ -f "$trs" ] || continue
		if grep -qE '^:test-result: (FAIL|XPASS|ERROR)' "$trs"; then
			printf '\n---- %s ----\n' "${trs%.trs}.log"
			tail -n 80 "${trs%.trs}.log"
		fi
	done
}

# gm_kernel_check NAME SCRIPT: run a kernel-side check script; exit 77 from
# it means the Linux base is unavailable, which is a SKIP, not a failure.
# Returns 0 (pass or skip) or 1; sets GM_KCHECK_RESULT to PASS/SKIP/FAIL.
gm_kernel_check() {
	local name=$1 script=$2 rc=0
	bash "$script" || rc=$?
	case $rc in
	0) GM_KCHECK_RESULT=PASS ;;
	77) GM_KCHECK_RESULT=SKIP
	    gm_note "$name: SKIP (Linux 7.2 base unavailable: kernel-patch/scripts/base.sh exited 77)" ;;
	*) GM_KCHECK_RESULT=FAIL ;;
	esac
	[ "$GM_KCHECK_RESULT" != FAIL ]
}
