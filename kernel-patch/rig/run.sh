#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run static programs in the kernel the rig built last, for quick work on
# userspace that needs the series (libguestmem's KVM modes, the example
# VMMs): no build, no checkpatch, no KUnit verdict.  kernel-check.sh is
# still what says whether the series works.
#
#   rig/run.sh [-m MiB] [-t SECONDS] 'PROGRAM [ARGS...]' ...
#
# Each PROGRAM is a path to a statically linked program; it runs in the
# booted kernel as "/tests/NAME ARGS" (rig/init runs them in order and
# prints "RIG: test NAME: PASS|SKIP|FAIL").  The console log goes to
# standard output.  Uses $GUESTMEM_CACHE/out-builtin (default
# /var/cache/guestmem): run kernel-check.sh once first.
# Exit status: 0 when every program passed or skipped, 1 otherwise.
set -euo pipefail

rig=$(cd "$(dirname "$0")" && pwd)
cache=${GUESTMEM_CACHE:-/var/cache/guestmem}
mem=6144
timeout_s=300
while getopts m:t: opt; do
	case $opt in
	m) mem=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	*) echo "usage: $0 [-m MiB] [-t SECONDS] 'PROGRAM [ARGS...]' ..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-m MiB] [-t SECONDS] 'PROGRAM [ARGS...]' ..." >&2; exit 2; }

bzimage=$cache/out-builtin/arch/x86/boot/bzImage
[ -f "$bzimage" ] || { echo "run.sh: no $bzimage: run kernel-check.sh first" >&2; exit 1; }
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=$(command -v busybox)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/tests" "$tmp/root/dev"
cp "$busybox" "$tmp/root/bin/busybox"
install -m 0755 "$rig/init" "$tmp/root/init"
echo "$timeout_s" >"$tmp/root/tests/timeout"
: >"$tmp/root/tests/list"
for t in "$@"; do
	read -r prog args <<<"$t"
	if LC_ALL=C readelf -l "$prog" | grep -q 'Requesting program interpreter'; then
		echo "run.sh: $prog is dynamically linked (the initramfs has no libc)" >&2
		exit 1
	fi
	cp "$prog" "$tmp/root/tests/"
	echo "$(basename "$prog") $args" >>"$tmp/root/tests/list"
done
(cd "$tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$tmp/initramfs.cpio"

tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
cmdline="console=ttyS0 acpi=off panic=-1 tsc_early_khz=${tsc_khz:-2000000}"
cmdline+=" hugepagesz=2M hugepages=64 hugepagesz=1G hugepages=2"
timeout -k 10 $((120 + $# * timeout_s)) qemu-system-x86_64 -accel tcg -cpu max -smp 2 \
	-m "$mem" -kernel "$bzimage" -initrd "$tmp/initramfs.cpio" \
	-append "$cmdline" -nographic -no-reboot </dev/null 2>&1 | tr -d '\r' | tee "$tmp/log"
! grep -q '^RIG: test .*: FAIL' "$tmp/log" && grep -q '^RIG: kunit_pass=' "$tmp/log"
