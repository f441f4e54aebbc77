#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guestmem kernel rig: build the Linux 7.2 base with kernel-patch/series
# applied, boot it in QEMU (TCG) with a busybox initramfs, run the built-in
# KUnit suites and the KVM selftests inside it, and report.
#
#   1. the base: scripts/base.sh verifies the cached Linux 7.2 tree against
#      the manifest written when it was unpacked (77 = unavailable -> SKIP)
#   2. checkpatch.pl --strict on every patch of the series
#   3. the series applied with --fuzz=0 to its files unpacked fresh from the
#      downloaded package (not from the cached tree)
#   4. $cache/src: a real copy of the base with the series applied (files
#      replaced only where their content changes)
#   5. two configurations built out of tree (make O=): out-builtin (KVM
#      built in, lockdep; booted) and out-modules (KVM=m, KVM_AMD=m,
#      KVM_INTEL=m; built through modpost, the series' exports checked)
#   6. headers_install into $cache/hdr; static guest_memfd_test and the
#      programs listed in rig/tests.list
#   7. initramfs (busybox-static + rig/init), QEMU boot, parse the log: any
#      KUnit or selftest failure, kernel warning or lockdep report fails
#
# Usage: kernel-check.sh          (or: make -C kernel-patch check)
# Env:   GUESTMEM_CACHE    cache directory (default /var/cache/guestmem)
#        GM_JOBS           make -j (default: number of cores)
#        GUESTMEM_QEMU_MEM     guest memory in MiB (default 6144; the boot-time
#                              1 GiB page needs a free 1 GiB-aligned GiB)
#        GUESTMEM_QEMU_TIMEOUT seconds before the boot is killed (default
#                              120 + number of tests * GUESTMEM_TEST_TIMEOUT)
#        GUESTMEM_TEST_TIMEOUT seconds per test inside the guest (default 240)
#        GUESTMEM_KCHECK_NO_INSTALL=1  never run apt-get (fail if missing)
# Exit:  0 pass, 1 fail, 77 skipped (base unavailable).
set -euo pipefail

kp=$(cd "$(dirname "$0")" && pwd)		# kernel-patch/
rig=$kp/rig
cache=${GUESTMEM_CACHE:-/var/cache/guestmem}
jobs=${GM_JOBS:-$(nproc)}
qemu_mem=${GUESTMEM_QEMU_MEM:-6144}
test_timeout=${GUESTMEM_TEST_TIMEOUT:-240}
logs=$cache/logs
kmake=(make ARCH=x86_64)
# Run from make (make -C kernel-patch check), the selftests' lib.mk would see
# MAKELEVEL > 0 and behave as a sub-make of the selftests' top Makefile.
unset MAKEFLAGS MFLAGS MAKELEVEL

t_start=$SECONDS
t_step=$SECONDS
say() { echo "kernel-check: $*"; }
die() { echo "kernel-check: error: $*" >&2; exit 1; }
step() {
	local now=$SECONDS
	echo
	echo "==== kernel-check: $* (+$((now - t_step))s, total $((now - t_start))s)"
	t_step=$now
}
show_log_tail() { # log [lines]
	echo "---- last ${2:-40} lines of $1"
	sed -e '/^make\[[0-9]*\]: \(Entering\|Leaving\) directory/d' "$1" | tail -n "${2:-40}"
	echo "----"
}

# ------------------------------------------------------------- packages
packages=(build-essential flex bison bc libelf-dev libssl-dev cpio perl
	xz-utils patch gzip rsync qemu-system-x86 busybox-static git)
step "packages"
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	say "all packages present"
else
	[ "${GUESTMEM_KCHECK_NO_INSTALL:-0}" = 1 ] &&
		die "missing packages: ${missing[*]} (GUESTMEM_KCHECK_NO_INSTALL=1)"
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			die "not root and no sudo: install ${missing[*]}"
		sudo=(sudo)
	fi
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq || die "apt-get update failed"
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed"
fi

# ------------------------------------------------------------ base tree
# base.sh verifies the cached base against the manifest written when it
# was unpacked, and refuses it if any file differs.
step "the Linux 7.2 base"
# shellcheck source=kernel-patch/scripts/series-lib.sh
. "$kp/scripts/series-lib.sh"
rc=0
tree=$(bash "$kp/scripts/base.sh" path) || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "SKIP: the Linux 7.2 base (Debian linux-source-7.2) is unavailable"
	exit 77
elif [ "$rc" -ne 0 ] || [ ! -f "$tree/Makefile" ]; then
	die "the Linux 7.2 base is unusable (base.sh exited $rc)"
fi
say "base: $tree (matches its manifest)"
base_id=$(head -n 1 "$cache/linux-7.2.manifest")

mkdir -p "$cache" "$logs"
exec 9>"$cache/kernel-check.lock"
flock 9

# --------------------------------------------------------------- series
# The series is generated from kernel-patch/src/ and the repo's mm/: it
# must match them (scripts/gen-series.sh regenerates it).
bash "$kp/scripts/gen-series.sh" --check || die "the series is stale"
series_read || die "kernel-patch/series is broken"
say "series: ${#series_names[@]} patch(es)"

# ------------------------------------------------------------ checkpatch
step "checkpatch.pl --strict"
cp_err=0 cp_warn=0 cp_chk=0
for name in "${series_names[@]}"; do
	out=$(cd "$tree" && perl scripts/checkpatch.pl --strict --color=never \
		"$kp/patches/$name" 2>&1) || true
	line=$(printf '%s\n' "$out" | grep -E '^total: [0-9]+ errors, [0-9]+ warnings' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 20
		die "checkpatch.pl gave no totals for $name"
	fi
	read -r e w c <<<"$(echo "$line" | sed -E 's/^total: ([0-9]+) errors, ([0-9]+) warnings, (([0-9]+) checks, )?.*/\1 \2 \4/')"
	c=${c:-0}
	cp_err=$((cp_err + e)) cp_warn=$((cp_warn + w)) cp_chk=$((cp_chk + c))
	if [ $((e + w + c)) -ne 0 ]; then
		printf '%s\n' "$out" | grep -E '^(ERROR|WARNING|CHECK):|^#[0-9]+: FILE:' | sed 's/^/  /'
	fi
	printf '  %-50s %s errors, %s warnings, %s checks\n' "$name" "$e" "$w" "$c"
done
say "checkpatch: ${#series_names[@]} patch(es): $cp_err errors, $cp_warn warnings, $cp_chk checks"

# ------------------------------------------------------ fresh base check
# Every run applies the whole series with --fuzz=0 to the files it touches
# unpacked fresh from the downloaded package, not from the cached tree:
# an edit that reached the cached base cannot make the series apply here.
# The files the previous run's series touched are unpacked too, so that the
# source tree below can be put back where the series no longer changes it.
step "the series on a base unpacked fresh from the package (patch --fuzz=0)"
src=$cache/src
stage=$cache/stage
new_touched=$(mktemp)
trap 'rm -f "$new_touched"' EXIT
series_files >"$new_touched"
old_touched=()
if [ -f "$src/.guestmem-touched" ] && [ "$(cat "$src/.guestmem-origin" 2>/dev/null)" = "$base_id" ]; then
	mapfile -t old_touched <"$src/.guestmem-touched"
fi
series_stage "$stage" "${#series_names[@]}" "${old_touched[@]}" |
	sed 's/^/kernel-check: /' || die "the series does not apply to the pristine Linux 7.2 base"
say "the series applies to Linux 7.2 as unpacked from $(echo "$base_id" | cut -d' ' -f2)"

# ----------------------------------------------------------- source tree
# $src is a full copy of the verified base (never hard links, so nothing
# done to it can reach the base), kept with the series applied.  Only files
# whose content changes are replaced, so an unchanged header keeps its
# timestamp and a series change rebuilds incrementally.  Kernels are built
# out of tree (make O=...), so $src holds sources only.
step "source tree with the series applied"
if [ "$(cat "$src/.guestmem-origin" 2>/dev/null)" != "$base_id" ]; then
	say "creating $src (a copy of $tree)"
	rm -rf "$src" "$src.tmp" "$cache/out-builtin" "$cache/out-modules"
	cp -a --reflink=auto "$tree" "$src.tmp"
	: >"$src.tmp/.guestmem-touched"
	echo "$base_id" >"$src.tmp/.guestmem-origin"
	mv "$src.tmp" "$src"
fi
# Record every file that may change before changing any, so that an
# interrupted run is repaired by the next one.
sort -u "$src/.guestmem-touched" "$new_touched" -o "$src/.guestmem-touched"
nchanged=0
while IFS= read -r f; do
	[ -n "$f" ] || continue
	if [ -f "$stage/$f" ]; then
		cmp -s "$stage/$f" "$src/$f" && continue
		rm -f "$src/$f"
		mkdir -p "$(dirname "$src/$f")"
		cp "$stage/$f" "$src/$f"
	elif [ -e "$src/$f" ]; then
		rm -f "$src/$f"	# added by an earlier series only
	else
		continue
	fi
	nchanged=$((nchanged + 1))
done <"$src/.guestmem-touched"
cp "$new_touched" "$src/.guestmem-touched"
rm -rf "$stage"
say "$nchanged file(s) of $src changed"
series_hash=$(
	{
		echo "rig-series-v2"
		for i in "${!series_names[@]}"; do
			echo "${series_names[$i]} -p${series_strips[$i]}"
			sha256sum <"$kp/patches/${series_names[$i]}"
		done
	} | sha256sum | cut -d' ' -f1
)

# -------------------------------------------------------------- config
# Two configurations, built out of tree from $src:
#   builtin  KVM built in; booted and tested below (with lockdep)
#   modules  KVM, KVM_AMD and KVM_INTEL as modules; built through modpost
#            to prove the series' exports (not booted)
step "configure"
base_opts=(64BIT PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE BINFMT_ELF
	BINFMT_SCRIPT BLK_DEV_INITRD RD_GZIP DEVTMPFS DEVTMPFS_MOUNT PROC_FS
	SYSFS TMPFS HUGETLBFS HUGETLB_PAGE HUGETLB_PAGE_OPTIMIZE_VMEMMAP
	HUGETLB_PAGE_OPTIMIZE_VMEMMAP_DEFAULT_ON SPARSEMEM_VMEMMAP MEMFD_CREATE
	SHMEM MULTIUSER FUTEX EPOLL KVM KVM_AMD KVM_INTEL KVM_SW_PROTECTED_VM
	EXPERT ADVISE_SYSCALLS COMPACTION MIGRATION TRANSPARENT_HUGEPAGE
	VIRTUALIZATION KUNIT BUG KALLSYMS)
fatal_opts=(KVM HUGETLBFS KUNIT)
fragment=$rig/guestmem.config
config_args=()
for o in "${base_opts[@]}"; do config_args+=(--enable "$o"); done
config_args+=(--disable KUNIT_ALL_TESTS)
frag_opts=()	# SYMBOL=VALUE wanted by the fragment (y/m only are checked)
if [ -f "$fragment" ]; then
	while IFS= read -r line; do
		req=0
		case $line in *'# required') req=1 ;; esac
		if [[ $line =~ ^CONFIG_([A-Za-z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]}
			val=${BASH_REMATCH[2]%%#*}
			val=${val%"${val##*[![:space:]]}"}	# trailing blanks
		elif [[ $line =~ ^#\ CONFIG_([A-Za-z0-9_]+)\ is\ not\ set ]]; then
			sym=${BASH_REMATCH[1]} val=n
		else
			continue
		fi
		case $val in
		y) config_args+=(--enable "$sym") ;;
		m) config_args+=(--module "$sym") ;;
		n) config_args+=(--disable "$sym") ;;
		\"*\") v=${val#\"}; config_args+=(--set-str "$sym" "${v%\"}") ;;
		*) config_args+=(--set-val "$sym" "$val") ;;
		esac
		case $val in y | m) frag_opts+=("$sym=$val"); [ "$req" = 1 ] && fatal_opts+=("$sym") ;; esac
	done <"$fragment"
fi
# The module configuration: the same, with KVM as modules.
mod_args=(--enable MODULES --enable MODULE_UNLOAD --module KVM --module KVM_AMD
	--module KVM_INTEL)

out_builtin=$cache/out-builtin
out_modules=$cache/out-modules

config_value() { sed -n "s/^CONFIG_$2=//p" "$1/.config" | head -n 1; }
known_symbol() { # is SYMBOL defined by some Kconfig file of the source tree?
	grep -rqsE --include='Kconfig*' "^[[:space:]]*(menu)?config[[:space:]]+$1[[:space:]]*\$" "$src"
}

# configure OUT NAME WANT... -- ARGS...: tinyconfig, ARGS, olddefconfig in
# OUT (when the recipe changed), then check that every SYMBOL=VALUE of WANT
# stuck (fatal_opts must).  Sets config_recipe.
configure() {
	local out=$1 name=$2 w sym val have is_fatal f log
	shift 2
	local want=()
	while [ "$1" != -- ]; do want+=("$1"); shift; done
	shift
	config_recipe=$(
		{
			echo "rig-config-v2 $name $series_hash"
			printf '%s\n' "$@"
		} | sha256sum | cut -d' ' -f1
	)
	if [ "$(cat "$out/.guestmem-config" 2>/dev/null)" = "$config_recipe" ] && [ -f "$out/.config" ]; then
		say "$name: configuration unchanged"
	else
		mkdir -p "$out"
		rm -f "$out/.guestmem-config"
		log=$logs/config-$name.log
		{
			"${kmake[@]}" -C "$src" O="$out" tinyconfig &&
			"$src/scripts/config" --file "$out/.config" "$@" &&
			"${kmake[@]}" -C "$src" O="$out" olddefconfig
		} >"$log" 2>&1 || { show_log_tail "$log"; die "configuring $name failed (log: $log)"; }
		echo "$config_recipe" >"$out/.guestmem-config"
		say "$name: configured (log: $log)"
	fi
	local cfg_warn=() cfg_fatal=() cfg_unknown=()
	for w in "${want[@]}"; do
		sym=${w%%=*} val=${w#*=}
		have=$(config_value "$out" "$sym")
		[ "$have" = "$val" ] && continue
		is_fatal=0
		for f in "${fatal_opts[@]}"; do [ "$f" = "$sym" ] && is_fatal=1; done
		if [ "$is_fatal" = 1 ]; then
			cfg_fatal+=("$sym=${have:-n}(want $val)")
		elif [ -n "$have" ] || known_symbol "$sym"; then
			cfg_warn+=("$sym=${have:-n}(want $val)")
		else
			cfg_unknown+=("$sym")
		fi
	done
	[ ${#cfg_unknown[@]} -eq 0 ] ||
		say "$name: note: not known to this tree (yet), dropped: ${cfg_unknown[*]}"
	[ ${#cfg_warn[@]} -eq 0 ] ||
		say "$name: WARNING: options that did not stick: ${cfg_warn[*]}"
	printf 'kernel-check: %s:' "$name"
	for o in KVM KVM_AMD KVM_INTEL KVM_SW_PROTECTED_VM KVM_GUEST_MEMFD GUESTMEM_HUGETLB \
		HUGETLB_PAGE_OPTIMIZE_VMEMMAP KUNIT PROVE_LOCKING DEBUG_ATOMIC_SLEEP MODULES; do
		printf ' %s=%s' "$o" "$(config_value "$out" "$o" | grep . || echo n)"
	done
	echo
	[ ${#cfg_fatal[@]} -eq 0 ] ||
		die "$name: required options are not enabled: ${cfg_fatal[*]} (log: $logs/config-$name.log)"
}

want=()
for o in "${base_opts[@]}"; do want+=("$o=y"); done
want+=("${frag_opts[@]}")
configure "$out_builtin" builtin "${want[@]}" -- "${config_args[@]}"
builtin_recipe=$config_recipe
want_mod=()
for w in "${want[@]}"; do
	case $w in KVM=* | KVM_AMD=* | KVM_INTEL=*) want_mod+=("${w%%=*}=m") ;; *) want_mod+=("$w") ;; esac
done
fatal_opts+=(MODULES)
configure "$out_modules" modules "${want_mod[@]}" MODULES=y -- "${config_args[@]}" "${mod_args[@]}"

# ------------------------------------------------------------------ W=1
# Every C file the series adds or changes is compiled once with W=1 (per
# series: the stamp names it), then the normal build below rebuilds them.
step "W=1 build of the files the series touches"
w1_objs=()
while IFS= read -r f; do
	case $f in
	tools/* | Documentation/*) ;;	# not kernel objects
	*.c) [ -f "$src/$f" ] && w1_objs+=("${f%.c}.o") ;;
	esac
done <"$src/.guestmem-touched"
w1_warn=0
if [ ${#w1_objs[@]} -eq 0 ]; then
	say "no C files in the series"
elif [ "$(cat "$out_builtin/.guestmem-w1" 2>/dev/null)" = "$builtin_recipe" ]; then
	say "done before for this series and configuration: $(cat "$logs/w1.count" 2>/dev/null || echo 0) warning(s)"
	w1_warn=$(cat "$logs/w1.count" 2>/dev/null || echo 0)
else
	log=$logs/w1.log
	rm -f "$log.tmp"
	# Objects of options the configuration leaves off cannot be built.
	built=() unbuilt=()
	for o in "${w1_objs[@]}"; do
		if "${kmake[@]}" -C "$src" O="$out_builtin" -j"$jobs" W=1 "$o" >>"$log.tmp" 2>&1; then
			built+=("$o")
		else
			unbuilt+=("$o")
		fi
	done
	mv "$log.tmp" "$log"
	w1_warn=$(grep -cE '(^|: )warning:' "$log" || true)
	echo "$w1_warn" >"$logs/w1.count"
	echo "$builtin_recipe" >"$out_builtin/.guestmem-w1"
	say "W=1: ${#built[@]} of ${#w1_objs[@]} object(s) built, $w1_warn warning(s) (log: $log)"
	[ ${#unbuilt[@]} -eq 0 ] || say "W=1: not built (configured out?): ${unbuilt[*]}"
	[ "$w1_warn" -eq 0 ] || grep -E '(^|: )warning:' "$log" | head -n 20 | sed 's/^/  /'
fi

# --------------------------------------------------------------- kernel
# build NAME OUT TARGET...: make TARGETs in OUT; prints the warning count.
build() {
	local name=$1 out=$2 log=$logs/kernel-$1.log n
	shift 2
	if ! "${kmake[@]}" -C "$src" O="$out" -j"$jobs" "$@" >"$log" 2>&1; then
		show_log_tail "$log" 60 >&2
		die "$name kernel build failed (log: $log)"
	fi
	n=$(grep -cE '(^|: )warning:' "$log" || true)
	[ "$n" -eq 0 ] || grep -E '(^|: )warning:' "$log" | head -n 20 | sed 's/^/  /' >&2
	echo "$n"
}
step "build the builtin kernel: bzImage (make -j$jobs)"
kwarn=$(build builtin "$out_builtin" bzImage) || exit 1
bzimage=$out_builtin/arch/x86/boot/bzImage
say "builtin: bzImage $(stat -c %s "$bzimage") bytes, $kwarn compiler warning(s) (log: $logs/kernel-builtin.log)"

step "build the modules kernel: vmlinux, modules, modpost (make -j$jobs)"
mwarn=$(build modules "$out_modules" all) || exit 1
kwarn=$((kwarn + mwarn))
mods=$(cd "$out_modules" && find . -name '*.ko' | sed 's|^\./||' | sort | tr '\n' ' ')
say "modules: modpost passed, $mwarn compiler warning(s), modules: $mods(log: $logs/kernel-modules.log)"
case " $mods " in *" arch/x86/kvm/kvm.ko "*) ;; *) die "modules: arch/x86/kvm/kvm.ko was not built" ;; esac
# Every symbol the series exports from the core kernel (mm/) is exported to
# kvm alone, and every symbol it exports from kvm.ko to KVM's vendor modules
# alone (EXPORT_SYMBOL_FOR_KVM_INTERNAL, as KVM does): the new files' exports,
# and what the series adds to existing files' exports.
exports_bad=()
mapfile -t series_exports < <(
	for i in "${!series_names[@]}"; do
		sed -nE 's/^\+EXPORT_SYMBOL[A-Z_]*\(([A-Za-z0-9_]+).*/\1/p' "$kp/patches/${series_names[$i]}"
	done | sort -u)
for sym in "${series_exports[@]}"; do
	line=$(awk -v s="$sym" '$2 == s' "$out_modules/Module.symvers")
	if [ -z "$line" ]; then
		exports_bad+=("$sym (not in Module.symvers)")
	else
		case "$(echo "$line" | cut -f3)" in
		vmlinux) want=module:kvm ;;
		arch/x86/kvm/kvm) want=module:kvm-amd,kvm-intel ;;
		*) want="(not exported by $(echo "$line" | cut -f3))" ;;
		esac
		[ "$(echo "$line" | cut -f5)" = "$want" ] ||
			exports_bad+=("$sym ($(echo "$line" | cut -f3): $(echo "$line" | cut -f4) to '$(echo "$line" | cut -f5)')")
	fi
done
[ ${#exports_bad[@]} -eq 0 ] || die "exports not limited to their user: ${exports_bad[*]}"
say "exports of the series: ${#series_exports[@]}, vmlinux's to module:kvm only, kvm.ko's to KVM's vendor modules only (${series_exports[*]})"

# ------------------------------------------------------------ userspace
step "headers_install + selftests"
hdr=$cache/hdr
log=$logs/headers.log
"${kmake[@]}" -C "$src" O="$out_builtin" headers_install INSTALL_HDR_PATH="$hdr" >"$log" 2>&1 ||
	{ show_log_tail "$log"; die "headers_install failed (log: $log)"; }

kvm_st=tools/testing/selftests/kvm
st_out=$cache/selftests/kvm	# where the KVM selftests are built
# Tests to run: guest_memfd_test, then rig/tests.list (paths relative to the
# source tree or to the cache, optionally followed by arguments; the KVM
# selftests are found in $st_out).
test_paths=("$kvm_st/guest_memfd_test")
test_args=("")
if [ -f "$rig/tests.list" ]; then
	while read -r path args; do
		path=${path%%#*}
		[ -n "$path" ] || continue
		args=${args%%#*}
		dup=0
		for i in "${!test_paths[@]}"; do
			[ "${test_paths[$i]}" = "$path" ] && [ "${test_args[$i]}" = "$args" ] && dup=1
		done
		[ "$dup" = 1 ] && continue
		test_paths+=("$path")
		test_args+=("$args")
	done <"$rig/tests.list"
fi
kvm_targets=()
for p in "${test_paths[@]}"; do
	case $p in
	"$kvm_st"/*)
		t=$st_out/${p#"$kvm_st"/}
		case " ${kvm_targets[*]} " in *" $t "*) ;; *) kvm_targets+=("$t") ;; esac
		;;
	esac
done
log=$logs/selftests.log
# LDFLAGS from the environment is appended to by the selftests' Makefile.
mkdir -p "$st_out"
if ! LDFLAGS=-static make -C "$src/$kvm_st" -j"$jobs" \
		OUTPUT="$st_out" KHDR_INCLUDES="-isystem $hdr/include" "${kvm_targets[@]}" >"$log" 2>&1; then
	show_log_tail "$log" 60
	die "building the KVM selftests failed (log: $log)"
fi
say "built: ${kvm_targets[*]#"$cache/"}"

# ------------------------------------------------------------ initramfs
step "initramfs"
initramfs=$cache/initramfs
rm -rf "$initramfs"
mkdir -p "$initramfs/bin" "$initramfs/tests" "$initramfs/dev"
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
[ -n "$busybox" ] || die "busybox not found (package busybox-static)"
is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; }
is_static "$busybox" || die "$busybox is not statically linked (install busybox-static)"
cp "$busybox" "$initramfs/bin/busybox"
install -m 0755 "$rig/init" "$initramfs/init"
echo "$test_timeout" >"$initramfs/tests/timeout"
# libguestmem's own programs (userspace/ in rig/tests.list), built static.
for p in "${test_paths[@]}"; do
	case $p in
	userspace/*)
		"$rig/build-userspace.sh" "$cache" "$jobs" ||
			die "building libguestmem's programs for the rig failed (log: $logs/userspace.log)"
		break
		;;
	esac
done
: >"$initramfs/tests/list"
for i in "${!test_paths[@]}"; do
	p=${test_paths[$i]}
	case $p in
	"$kvm_st"/*) bin=$st_out/${p#"$kvm_st"/} ;;
	*) bin=$src/$p; [ -f "$bin" ] || bin=$cache/$p ;;
	esac
	[ -f "$bin" ] || die "test $p not found (in $st_out, $src or $cache)"
	[ -x "$bin" ] || die "test $bin is not executable"
	if head -c 4 "$bin" | grep -q 'ELF' && ! is_static "$bin"; then
		die "test $bin is dynamically linked; the initramfs has no libc (link it -static)"
	fi
	name=$(basename "$p")
	[ -e "$initramfs/tests/$name" ] && name="$i-$name"
	cp "$bin" "$initramfs/tests/$name"
	echo "$name ${test_args[$i]}" >>"$initramfs/tests/list"
done
cpio_img=$cache/initramfs.cpio
(cd "$initramfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$cpio_img"
say "$cpio_img: $(stat -c %s "$cpio_img") bytes, ${#test_paths[@]} test(s): $(cut -d' ' -f1 "$initramfs/tests/list" | tr '\n' ' ')"

# ----------------------------------------------------------------- boot
qemu_timeout=${GUESTMEM_QEMU_TIMEOUT:-$((120 + ${#test_paths[@]} * test_timeout))}
step "boot in QEMU (TCG, -m $qemu_mem, timeout ${qemu_timeout}s)"
bootlog=$cache/boot.log
# Under TCG the guest's TSC runs at the host's rate, and calibrating it
# against the PIT fails now and then (no HPET/ACPI PM timer with acpi=off):
# the TSC is then marked unstable and KVM_GET_TSC_KHZ fails, which breaks
# the KVM selftests.  Give the guest the host's TSC frequency instead.
tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo 2>/dev/null || true)
[ "${tsc_khz:-0}" -gt 0 ] 2>/dev/null || tsc_khz=2000000
cmdline="console=ttyS0 acpi=off panic=-1 loglevel=7 tsc_early_khz=$tsc_khz"
cmdline+=" hugepagesz=2M hugepages=64 hugepagesz=1G hugepages=2"
qrc=0
t_boot=$SECONDS
timeout -k 10 "$qemu_timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 2 \
	-m "$qemu_mem" -kernel "$bzimage" -initrd "$cpio_img" \
	-append "$cmdline" -nographic -no-reboot </dev/null >"$bootlog" 2>&1 || qrc=$?
boot_secs=$((SECONDS - t_boot))
sed -i 's/\r$//' "$bootlog"
say "QEMU exited with $qrc after ${boot_secs}s (log: $bootlog)"

# ---------------------------------------------------------------- parse
step "results"
fail=()
grep -q 'Linux version [0-9]' "$bootlog" || fail+=("the kernel did not boot (no 'Linux version' line)")
grep -q '^RIG: init started' "$bootlog" || fail+=("/init did not start")
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	fail+=("QEMU timed out after ${qemu_timeout}s")
fi
# The summary line may have kernel console output in front of it.
summary=$(grep -oE 'RIG: kunit_pass=[0-9]+ .*selftest_skip=[0-9]+ kernel_warn=[0-9]+ debug_locks=[0-9]+' "$bootlog" |
	tail -n 1 || true)
kv() { echo "$summary" | grep -oE "(^| )$1=[0-9]+" | cut -d= -f2 | grep . || echo 0; }
ks=$(kv kunit_suites) ksf=$(kv kunit_suite_fail) kp_=$(kv kunit_pass)
kf=$(kv kunit_fail) kskip=$(kv kunit_skip)
sp=$(kv selftest_pass) sf=$(kv selftest_fail) ss=$(kv selftest_skip)
kw=$(kv kernel_warn)
if [ -z "$summary" ]; then
	fail+=("no summary line (RIG: kunit_pass=...) in the log")
else
	[ "$ksf" -eq 0 ] && [ "$kf" -eq 0 ] || fail+=("KUnit failures: $kf case(s), $ksf suite(s)")
	[ "$sf" -eq 0 ] || fail+=("$sf selftest(s) failed")
	[ "$kw" -eq 0 ] || fail+=("$kw kernel BUG/WARNING/Oops line(s) in the kernel log")
	[ "$(kv debug_locks)" -eq 1 ] || fail+=("lockdep turned itself off (debug_locks=0): see the kernel log")
fi
if grep -q 'Kernel panic' "$bootlog"; then
	fail+=("kernel panic")
fi
[ "$((cp_err + cp_warn + cp_chk))" -eq 0 ] ||
	fail+=("checkpatch: $cp_err error(s), $cp_warn warning(s), $cp_chk check(s)")
[ "$kwarn" -eq 0 ] || fail+=("$kwarn compiler warning(s) in the kernel build")
[ "$w1_warn" -eq 0 ] || fail+=("$w1_warn W=1 warning(s) in the files of the series")
for hp in 2048kB:64 1048576kB:2; do
	n=$(sed -nE "s/^RIG: hugepages: ${hp%:*} nr=([0-9]+).*/\1/p" "$bootlog" | head -n 1)
	[ "${n:-0}" -ge "${hp#*:}" ] ||
		say "WARNING: the guest reserved ${n:-0} of ${hp#*:} ${hp%:*} huge page(s)"
done

grep -E '^RIG: (hugepages|test |KUnit|/dev/kvm|dmesg|lockdep)' "$bootlog" | sed 's/^/  /' || true
# Failed KUnit cases/suites, with the expectation that failed.
grep -E -B3 '^(not ok|    not ok) ' "$bootlog" |
	grep -E '(not ok|FAILED at|Expected|^    # )' | grep -vE '^ *# (Subtest|module):' |
	sed 's/^/  KUnit: /' || true
echo
printf 'kernel-check: KUnit:      %s suite(s), %s passed, %s failed, %s skipped\n' "$ks" "$kp_" "$kf" "$kskip"
printf 'kernel-check: selftests:  %s passed, %s failed, %s skipped\n' "$sp" "$sf" "$ss"
printf 'kernel-check: checkpatch: %s patch(es), %s errors, %s warnings, %s checks\n' \
	"${#series_names[@]}" "$cp_err" "$cp_warn" "$cp_chk"
printf 'kernel-check: build:      %s warning(s); W=1 on the series files: %s warning(s)\n' \
	"$kwarn" "$w1_warn"
printf 'kernel-check: boot: %ss in QEMU; run: %ss in all\n' "$boot_secs" "$((SECONDS - t_start))"
# Closing line: KUnit cases and selftests; a failed check that is neither
# (no boot, timeout, kernel warning, checkpatch error, ...) counts as one
# failure of its own.
nfail=$((kf + sf))
for f in "${fail[@]}"; do
	case $f in
	"KUnit failures:"*) [ "$kf" -ne 0 ] || nfail=$((nfail + ksf)) ;;
	*" selftest(s) failed") ;;
	*) nfail=$((nfail + 1)) ;;
	esac
done
if [ ${#fail[@]} -ne 0 ]; then
	show_log_tail "$bootlog" 60
	for f in "${fail[@]}"; do say "FAIL: $f"; done
	echo "kernel: $((kp_ + sp)) passed, $nfail failed, $((kskip + ss)) skipped"
	exit 1
fi
say "PASS"
echo "kernel: $((kp_ + sp)) passed, 0 failed, $((kskip + ss)) skipped"
