#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guestmem kernel rig: build the Linux 7.2 base with kernel-patch/series
# applied, boot it in QEMU (TCG) with a busybox initramfs, run the built-in
# KUnit suites and the KVM selftests inside it, and report.
#
#   1. fetch the base (scripts/fetch-base.sh; 77 = unavailable -> SKIP)
#   2. checkpatch.pl --strict on every patch of the series
#   3. build copy $cache/build-tree of the pristine tree, series applied
#   4. tinyconfig + the rig's options + rig/guestmem.config, olddefconfig,
#      bzImage (incremental when nothing changed)
#   5. headers_install into $cache/hdr; static guest_memfd_test and the
#      programs listed in rig/tests.list
#   6. initramfs (busybox-static + rig/init), QEMU boot, parse the log
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
build=$cache/build-tree
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
	xz-utils patch gzip rsync qemu-system-x86 busybox-static)
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
step "fetch the Linux 7.2 base"
rc=0
tree=$(sh "$kp/scripts/fetch-base.sh") || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "SKIP: the Linux 7.2 base (Debian linux-source-7.2) is unavailable"
	exit 77
elif [ "$rc" -ne 0 ] || [ ! -f "$tree/Makefile" ]; then
	die "fetch-base.sh failed (exit $rc, tree '$tree')"
fi
tree=$(cd "$tree" && pwd -P)
say "base: $tree"

mkdir -p "$cache" "$logs"
exec 9>"$cache/kernel-check.lock"
flock 9

# --------------------------------------------------------------- series
# The series is generated from kernel-patch/src/ and the repo's mm/: it
# must match them (scripts/gen-series.sh regenerates it).
bash "$kp/scripts/gen-series.sh" --check || die "the series is stale"

# Quilt format: one patch name per line (relative to kernel-patch/patches/),
# optionally followed by -pN; '#' starts a comment.
series=()
strips=()
if [ -f "$kp/series" ]; then
	while read -r name opt _; do
		name=${name%%#*}
		[ -n "$name" ] || continue
		case ${opt:-} in
		-p[0-9]) strip=${opt#-p} ;;
		'' | \#*) strip=1 ;;
		*) die "series: unsupported option '$opt' for $name" ;;
		esac
		[ -f "$kp/patches/$name" ] || die "series lists $name, but kernel-patch/patches/$name does not exist"
		series+=("$name")
		strips+=("$strip")
	done <"$kp/series"
fi
say "series: ${#series[@]} patch(es)"

# The files a patch touches, relative to the tree (one per line).
patch_files() { # patch strip
	awk -v strip="$2" '
		function emit(p, n,   i) {
			sub(/\t.*/, "", p)
			if (p == "/dev/null" || p == "") return
			for (i = 0; i < n; i++) {
				if (index(p, "/") == 0) return
				sub(/^[^\/]*\//, "", p)
			}
			print p
		}
		/^(---|\+\+\+) [^ ]/ { emit(substr($0, 5), strip) }
		/^(rename|copy) (from|to) / { emit(substr($0, index($0, $3)), 0) }
	' "$1" | sort -u
}

# ------------------------------------------------------------ checkpatch
step "checkpatch.pl --strict"
cp_err=0 cp_warn=0 cp_chk=0
for name in "${series[@]}"; do
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
say "checkpatch: ${#series[@]} patch(es): $cp_err errors, $cp_warn warnings, $cp_chk checks"

# ----------------------------------------------------------- build copy
# A hard-linked copy of the pristine tree.  Kbuild only creates files; every
# file a patch touches is replaced by a real copy before patching, so the
# pristine tree is never written through a link.  When the series changes,
# the files the old series touched are restored from the pristine tree (as
# new copies, so make sees them as changed) and the new series is applied:
# the objects of everything else stay valid and the rebuild is incremental.
step "build copy with the series applied"
origin="$tree $(stat -c %i "$tree/Makefile")"
if [ ! -f "$build/.guestmem-origin" ] || [ "$(cat "$build/.guestmem-origin")" != "$origin" ]; then
	say "creating $build (hard links to $tree)"
	rm -rf "$build" "$build.tmp"
	cp -al "$tree" "$build.tmp"
	echo "$origin" >"$build.tmp/.guestmem-origin"
	: >"$build.tmp/.guestmem-touched"
	mv "$build.tmp" "$build"
fi

series_hash=$(
	{
		echo "rig-series-v1"
		for i in "${!series[@]}"; do
			echo "${series[$i]} -p${strips[$i]}"
			sha256sum <"$kp/patches/${series[$i]}"
		done
	} | sha256sum | cut -d' ' -f1
)
if [ "$(cat "$build/.guestmem-series" 2>/dev/null)" = "$series_hash" ]; then
	say "series unchanged ($series_hash): nothing to apply"
else
	rm -f "$build/.guestmem-series"
	new_touched=$(mktemp)
	trap 'rm -f "$new_touched"' EXIT
	for i in "${!series[@]}"; do
		patch_files "$kp/patches/${series[$i]}" "${strips[$i]}"
	done | sort -u >"$new_touched"
	# Record every file that may change before changing any, so that an
	# interrupted run is repaired by the next one.
	sort -u "$build/.guestmem-touched" "$new_touched" -o "$build/.guestmem-touched"
	# Apply the series to a staging copy of the files it touches (old and
	# new series), then replace only the build files whose content
	# changes: a header the series leaves as it was keeps its timestamp,
	# so make does not rebuild everything that includes it.
	stage=$build.stage
	rm -rf "$stage"
	mkdir -p "$stage"
	while IFS= read -r f; do
		[ -n "$f" ] && [ -f "$tree/$f" ] || continue
		mkdir -p "$(dirname "$stage/$f")"
		cp "$tree/$f" "$stage/$f"
	done <"$build/.guestmem-touched"
	for i in "${!series[@]}"; do
		name=${series[$i]}
		p=$kp/patches/$name
		if ! out=$(cd "$stage" && patch -p"${strips[$i]}" --dry-run --forward --batch \
				--fuzz=0 --no-backup-if-mismatch <"$p" 2>&1); then
			printf '%s\n' "$out"
			die "patch $((i + 1))/${#series[@]} $name does not apply to Linux 7.2 (with the patches before it)"
		fi
		(cd "$stage" && patch -p"${strips[$i]}" --forward --batch --fuzz=0 \
			--no-backup-if-mismatch --quiet <"$p") ||
			die "applying $name failed"
		say "applied $((i + 1))/${#series[@]} $name"
	done
	nchanged=0
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if [ -f "$stage/$f" ]; then
			cmp -s "$stage/$f" "$build/$f" && continue
			rm -f "$build/$f"
			mkdir -p "$(dirname "$build/$f")"
			cp "$stage/$f" "$build/$f"
		elif [ -e "$build/$f" ]; then
			rm -f "$build/$f"
		else
			continue
		fi
		nchanged=$((nchanged + 1))
	done <"$build/.guestmem-touched"
	rm -rf "$stage"
	say "$nchanged file(s) of the build tree changed"
	cp "$new_touched" "$build/.guestmem-touched"
	echo "$series_hash" >"$build/.guestmem-series"
fi

# -------------------------------------------------------------- config
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

config_recipe=$(
	{
		echo "rig-config-v1 $series_hash"
		printf '%s\n' "${config_args[@]}"
	} | sha256sum | cut -d' ' -f1
)
if [ "$(cat "$build/.guestmem-config" 2>/dev/null)" = "$config_recipe" ] && [ -f "$build/.config" ]; then
	say "configuration unchanged"
else
	rm -f "$build/.guestmem-config"
	log=$logs/config.log
	{
		"${kmake[@]}" -C "$build" tinyconfig &&
		"$build/scripts/config" --file "$build/.config" "${config_args[@]}" &&
		"${kmake[@]}" -C "$build" olddefconfig
	} >"$log" 2>&1 || { show_log_tail "$log"; die "configuring the kernel failed (log: $log)"; }
	echo "$config_recipe" >"$build/.guestmem-config"
	say "configured (log: $log)"
fi

config_value() { sed -n "s/^CONFIG_$1=//p" "$build/.config" | head -n 1; }
known_symbol() { # is SYMBOL defined by some Kconfig file of the build tree?
	grep -rqsE --include='Kconfig*' "^[[:space:]]*(menu)?config[[:space:]]+$1[[:space:]]*\$" "$build"
}
cfg_warn=() cfg_fatal=() cfg_unknown=()
want=()
for o in "${base_opts[@]}"; do want+=("$o=y"); done
want+=("${frag_opts[@]}")
for w in "${want[@]}"; do
	sym=${w%%=*} val=${w#*=}
	have=$(config_value "$sym")
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
	say "note: not known to this tree (yet), dropped: ${cfg_unknown[*]}"
[ ${#cfg_warn[@]} -eq 0 ] ||
	say "WARNING: options that did not stick: ${cfg_warn[*]}"
printf 'kernel-check: config:'
for o in KVM KVM_AMD KVM_INTEL KVM_SW_PROTECTED_VM KVM_GUEST_MEMFD HUGETLBFS \
	HUGETLB_PAGE_OPTIMIZE_VMEMMAP TRANSPARENT_HUGEPAGE KUNIT; do
	printf ' %s=%s' "$o" "$(config_value "$o" | grep . || echo n)"
done
echo
[ ${#cfg_fatal[@]} -eq 0 ] ||
	die "required options are not enabled: ${cfg_fatal[*]} (log: $logs/config.log)"

# ------------------------------------------------------------------ W=1
# Every C file the series adds or changes is compiled once with W=1 (per
# series: the stamp names it), then the normal build below rebuilds them.
step "W=1 build of the files the series touches"
w1_objs=()
while IFS= read -r f; do
	case $f in
	tools/* | Documentation/*) ;;	# not kernel objects
	*.c) [ -f "$build/$f" ] && w1_objs+=("${f%.c}.o") ;;
	esac
done <"$build/.guestmem-touched"
w1_warn=0
if [ ${#w1_objs[@]} -eq 0 ]; then
	say "no C files in the series"
elif [ "$(cat "$build/.guestmem-w1" 2>/dev/null)" = "$config_recipe" ]; then
	say "done before for this series and configuration: $(cat "$logs/w1.count" 2>/dev/null || echo 0) warning(s)"
	w1_warn=$(cat "$logs/w1.count" 2>/dev/null || echo 0)
else
	log=$logs/w1.log
	# Objects of options the configuration leaves off cannot be built.
	built=() unbuilt=()
	for o in "${w1_objs[@]}"; do
		if "${kmake[@]}" -C "$build" -j"$jobs" W=1 "$o" >>"$log.tmp" 2>&1; then
			built+=("$o")
		else
			unbuilt+=("$o")
		fi
	done
	mv "$log.tmp" "$log"
	w1_warn=$(grep -cE '(^|: )warning:' "$log" || true)
	echo "$w1_warn" >"$logs/w1.count"
	echo "$config_recipe" >"$build/.guestmem-w1"
	say "W=1: ${#built[@]} of ${#w1_objs[@]} object(s) built, $w1_warn warning(s) (log: $log)"
	[ ${#unbuilt[@]} -eq 0 ] || say "W=1: not built (configured out?): ${unbuilt[*]}"
	[ "$w1_warn" -eq 0 ] || grep -E '(^|: )warning:' "$log" | head -n 20 | sed 's/^/  /'
fi

# --------------------------------------------------------------- kernel
step "build bzImage (make -j$jobs)"
log=$logs/kernel.log
if ! "${kmake[@]}" -C "$build" -j"$jobs" bzImage >"$log" 2>&1; then
	show_log_tail "$log" 60
	die "kernel build failed (log: $log)"
fi
kwarn=$(grep -cE '(^|: )warning:' "$log" || true)
bzimage=$build/arch/x86/boot/bzImage
say "$(grep -E 'Kernel: arch/x86/boot/bzImage is ready' "$log" || echo "bzImage up to date") ($(stat -c %s "$bzimage") bytes, $kwarn compiler warning(s); log: $log)"
if [ "$kwarn" -ne 0 ]; then
	grep -E '(^|: )warning:' "$log" | head -n 20 | sed 's/^/  /'
fi

# ------------------------------------------------------------ userspace
step "headers_install + selftests"
hdr=$cache/hdr
log=$logs/headers.log
"${kmake[@]}" -C "$build" headers_install INSTALL_HDR_PATH="$hdr" >"$log" 2>&1 ||
	{ show_log_tail "$log"; die "headers_install failed (log: $log)"; }

kvm_st=tools/testing/selftests/kvm
# Tests to run: guest_memfd_test, then rig/tests.list (paths relative to the
# build tree or to the cache, optionally followed by arguments).
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
		t=$build/$p
		case " ${kvm_targets[*]} " in *" $t "*) ;; *) kvm_targets+=("$t") ;; esac
		;;
	esac
done
log=$logs/selftests.log
# LDFLAGS from the environment is appended to by the selftests' Makefile.
if ! LDFLAGS=-static make -C "$build/$kvm_st" -j"$jobs" \
		OUTPUT="$build/$kvm_st" KHDR_INCLUDES="-isystem $hdr/include" "${kvm_targets[@]}" >"$log" 2>&1; then
	show_log_tail "$log" 60
	die "building the KVM selftests failed (log: $log)"
fi
say "built: ${kvm_targets[*]#"$build/"}"

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
: >"$initramfs/tests/list"
for i in "${!test_paths[@]}"; do
	p=${test_paths[$i]}
	if [ -f "$build/$p" ]; then
		src=$build/$p
	elif [ -f "$cache/$p" ]; then
		src=$cache/$p
	else
		die "test $p not found in $build or $cache"
	fi
	[ -x "$src" ] || die "test $src is not executable"
	if head -c 4 "$src" | grep -q 'ELF' && ! is_static "$src"; then
		die "test $src is dynamically linked; the initramfs has no libc (link it -static)"
	fi
	name=$(basename "$p")
	[ -e "$initramfs/tests/$name" ] && name="$i-$name"
	cp "$src" "$initramfs/tests/$name"
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
summary=$(grep -oE 'RIG: kunit_pass=[0-9]+ .*selftest_skip=[0-9]+( kernel_warn=[0-9]+)?' "$bootlog" |
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

grep -E '^RIG: (hugepages|test |KUnit|/dev/kvm|dmesg)' "$bootlog" | sed 's/^/  /' || true
# Failed KUnit cases/suites, with the expectation that failed.
grep -E -B3 '^(not ok|    not ok) ' "$bootlog" |
	grep -E '(not ok|FAILED at|Expected|^    # )' | grep -vE '^ *# (Subtest|module):' |
	sed 's/^/  KUnit: /' || true
echo
printf 'kernel-check: KUnit:      %s suite(s), %s passed, %s failed, %s skipped\n' "$ks" "$kp_" "$kf" "$kskip"
printf 'kernel-check: selftests:  %s passed, %s failed, %s skipped\n' "$sp" "$sf" "$ss"
printf 'kernel-check: checkpatch: %s patch(es), %s errors, %s warnings, %s checks\n' \
	"${#series[@]}" "$cp_err" "$cp_warn" "$cp_chk"
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
