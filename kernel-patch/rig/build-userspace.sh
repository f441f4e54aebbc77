#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build libguestmem's programs that the rig runs inside the booted kernel,
# statically (the initramfs has no libc): the KVM suites, the public-API
# suite, the example VMMs and the guestmem tool.  kernel-check.sh runs this
# when rig/tests.list names a userspace/ program; it can also be run by hand.
#
#   build-userspace.sh [CACHE [JOBS]]
#
# Builds out of tree in CACHE/userspace-build (configure --enable-debug
# --disable-shared, linked with libtool's -all-static) and copies the
# programs to CACHE/userspace/.  Needs the static libraries of check,
# subunit and libnuma (Debian: check, libsubunit-dev, libnuma-dev).
# Exit status: 0 built, 1 failed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${1:-${GUESTMEM_CACHE:-/var/cache/guestmem}}
jobs=${2:-$(nproc)}
build=$cache/userspace-build
out=$cache/userspace
log=$cache/logs/userspace.log
programs=(tests/check_kvm tests/check_kvm_unit tests/check_api examples/kvm-guest
	examples/coco-guest tools/guestmem)

mkdir -p "$build" "$out" "$cache/logs"
: >"$log"
if [ ! -x "$repo/configure" ]; then
	(cd "$repo" && ./autogen.sh) >>"$log" 2>&1
fi
# A build configured from another checkout (the cache outlives clones)
# would make that checkout's sources: start it again from this one.
if [ -f "$build/config.status" ] &&
   [ "$(sed -n "s/^srcdir='\(.*\)'$/\1/p" "$build/config.status")" != "$repo" ]; then
	echo "build-userspace: $build was configured from another checkout: reconfiguring" >>"$log"
	rm -rf "$build"
	mkdir -p "$build"
fi
if [ ! -f "$build/config.status" ] || [ "$repo/configure" -nt "$build/config.status" ]; then
	(cd "$build" && "$repo/configure" --enable-debug --disable-shared --enable-static) \
		>>"$log" 2>&1 || { tail -30 "$log"; echo "build-userspace: configure failed (log: $log)" >&2; exit 1; }
fi
if ! make -C "$build" -j"$jobs" LDFLAGS=-all-static "${programs[@]}" >>"$log" 2>&1; then
	tail -40 "$log"
	echo "build-userspace: make failed (log: $log)" >&2
	exit 1
fi
for p in "${programs[@]}"; do
	if LC_ALL=C readelf -l "$build/$p" | grep -q 'Requesting program interpreter'; then
		echo "build-userspace: $p is not statically linked" >&2
		exit 1
	fi
	cp "$build/$p" "$out/$(basename "$p")"
done
echo "build-userspace: ${programs[*]##*/} -> $out"
