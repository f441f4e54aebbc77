#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Prove that mm/ is real kernel C: compile every mm/guestmem*.c inside the
# Linux 7.2 tree with W=1 and fail on any warning or error.
#
# The pristine tree comes from kernel-patch/scripts/fetch-base.sh.  A build
# copy of it (hard links, made once) lives in $GUESTMEM_CACHE/linux-7.2-mmcheck,
# configured once (tinyconfig + 64BIT + hugetlb + KUnit) and prepared once;
# later runs only copy mm/ in and recompile the guestmem objects.
#
#   mm/guestmem*.c, mm/guestmem*.h  ->  <tree>/mm/
#   mm/guestmem.h                   ->  <tree>/include/linux/guestmem.h
#
# Env: GUESTMEM_CACHE (default /var/cache/guestmem), GM_JOBS (default 2),
#      GUESTMEM_KCONFIG  extra Kconfig symbols to enable (space separated)
# Exit: 0 clean, 1 warnings/errors or a failed step, 77 base unavailable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${GUESTMEM_CACHE:-/var/cache/guestmem}
jobs=${GM_JOBS:-2}
build=$cache/linux-7.2-mmcheck
say() { echo "kernel-compile-mm: $*"; }

rc=0
tree=$(sh kernel-patch/scripts/fetch-base.sh) || rc=$?
if [ "$rc" -eq 77 ]; then
	say "SKIP: the Linux 7.2 base is unavailable"
	exit 77
elif [ "$rc" -ne 0 ] || [ ! -f "$tree/Makefile" ]; then
	say "error: fetch-base.sh failed (rc=$rc, tree='$tree')" >&2
	exit 1
fi

for tool in make gcc flex bison bc perl; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ say "error: '$tool' is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ -f /usr/include/gelf.h ] ||
	{ say "error: libelf-dev is missing (objtool needs it; scripts/setup.sh installs it)" >&2; exit 1; }

shopt -s nullglob
srcs=(mm/guestmem*.c)
hdrs=(mm/guestmem*.h)
if [ ${#srcs[@]} -eq 0 ]; then
	say "error: no mm/guestmem*.c to compile" >&2
	exit 1
fi
for f in mm/*; do
	case ${f##*/} in
	guestmem*.c | guestmem*.h) ;;
	*) say "note: $f is not a guestmem* file: not copied into the kernel tree" ;;
	esac
done

mkdir -p "$cache"
exec 9>"$cache/linux-7.2-mmcheck.lock"
flock 9

# ---------------------------------------------------------------- build copy
# Hard links make the copy cheap; kbuild only creates new files, and the
# files this script puts in are unlinked first, so the pristine tree is
# never written through a link.  A re-fetched pristine tree (new inode of
# its Makefile) invalidates the copy.
origin="$tree $(stat -c %i "$tree/Makefile")"
if [ ! -f "$build/.guestmem-origin" ] || [ "$(cat "$build/.guestmem-origin")" != "$origin" ]; then
	say "creating the build copy $build (once)"
	rm -rf "$build" "$build.tmp"
	cp -al "$tree" "$build.tmp"
	echo "$origin" >"$build.tmp/.guestmem-origin"
	mv "$build.tmp" "$build"
fi

# ----------------------------------------------------------- configure once
kconfig="64BIT HUGETLBFS HUGETLB_PAGE HUGETLB_PAGE_OPTIMIZE_VMEMMAP SPARSEMEM_VMEMMAP KUNIT ${GUESTMEM_KCONFIG:-}"
recipe="v1 tinyconfig + $kconfig"
if [ ! -f "$build/.guestmem-configured" ] ||
   [ "$(cat "$build/.guestmem-configured")" != "$recipe" ]; then
	say "configuring: $recipe (once)"
	rm -f "$build/.guestmem-configured"
	log=$build/.guestmem-prepare.log
	{
		make -C "$build" tinyconfig
		args=()
		for sym in $kconfig; do args+=(--enable "$sym"); done
		"$build/scripts/config" --file "$build/.config" "${args[@]}"
		make -C "$build" olddefconfig
		make -C "$build" -j"$jobs" prepare
	} >"$log" 2>&1 || {
		tail -n 40 "$log"
		say "error: configuring/preparing the tree failed (log: $log)" >&2
		exit 1
	}
	for sym in 64BIT HUGETLBFS HUGETLB_PAGE; do
		grep -qx "CONFIG_$sym=y" "$build/.config" ||
			{ say "error: CONFIG_$sym did not stay enabled" >&2; exit 1; }
	done
	echo "$recipe" >"$build/.guestmem-configured"
fi
echo "kernel-compile-mm: tree $build"
printf 'kernel-compile-mm: config:'
for sym in $kconfig; do
	printf ' %s=%s' "$sym" "$(sed -n "s/^CONFIG_$sym=//p" "$build/.config" | grep . || echo n)"
done
echo

# -------------------------------------------------------------- copy mm/ in
install_file() { # src dst: replace dst (never write through a hard link)
	if ! cmp -s "$1" "$2"; then
		rm -f "$2"
		cp "$1" "$2"
	fi
}
# Remove guestmem files left from an earlier run whose source is gone.
for f in "$build"/mm/guestmem*.[ch]; do
	[ -f "mm/${f##*/}" ] || rm -f "$f" "${f%.*}.o"
done
for f in "${srcs[@]}" "${hdrs[@]}"; do
	if [ "$f" = mm/guestmem.h ]; then
		install_file "$f" "$build/include/linux/guestmem.h"
	else
		install_file "$f" "$build/$f"
	fi
done
[ -f mm/guestmem.h ] || rm -f "$build/include/linux/guestmem.h"

# ------------------------------------------------------------------ compile
objs=()
for f in "${srcs[@]}"; do
	objs+=("${f%.c}.o")
	rm -f "$build/${f%.c}.o"	# always recompile: warnings must show
done
say "make -j$jobs W=1 ${objs[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mrc=0
make -C "$build" -j"$jobs" W=1 "${objs[@]}" >"$log" 2>&1 || mrc=$?
sed -e '/^make\[[0-9]*\]: \(Entering\|Leaving\) directory/d' "$log"

bad=$(grep -cE 'warning:|error:' "$log" || true)
missing=()
for o in "${objs[@]}"; do
	[ -f "$build/$o" ] || missing+=("$o")
done
echo
say "compiled in $build (W=1):"
for o in "${objs[@]}"; do
	if [ -f "$build/$o" ]; then
		printf '  %-32s ok\n' "$o"
	else
		printf '  %-32s NOT BUILT\n' "$o"
	fi
done
if [ "$mrc" -ne 0 ] || [ "$bad" -ne 0 ] || [ ${#missing[@]} -ne 0 ]; then
	say "FAIL (make exit $mrc, $bad warning/error lines, ${#missing[@]} objects not built)"
	exit 1
fi
say "PASS (${#objs[@]} objects, no warnings)"
