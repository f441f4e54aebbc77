#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Linux 7.2 base the series applies to: Debian's linux-source-7.2,
# fetched without touching the machine's apt configuration (the suite is
# rewritten into a private sources file, apt keeps its lists and archives
# in the cache), unpacked once into $GUESTMEM_CACHE/linux-7.2, and checked
# against a manifest every time it is used.
#
# The manifest ($GUESTMEM_CACHE/linux-7.2.manifest) is written while the
# tree is unpacked: the .deb's sha256, then the sha256 of every file and the
# target of every symlink.  A tree that does not match it exactly (a file
# changed, added or removed, or a file hard-linked from elsewhere, which is
# how an edit in a copy made with "cp -l" reaches the base) is refused: no
# script of this repository uses or exports against such a tree.
#
# Usage: base.sh path              fetch and unpack if needed, verify, print
#                                  the tree's path (the default command)
#        base.sh verify            verify the tree; exit 1 on any mismatch
#        base.sh reextract         delete the tree and unpack it again
#        base.sh extract DIR [FILE...]
#                                  unpack FILEs (paths in the tree; all of
#                                  it without FILEs) fresh from the
#                                  downloaded package into DIR, never from
#                                  the cached tree; FILEs the base does not
#                                  have are skipped
#        base.sh deb               print the path of the verified .deb
#        base.sh inventory DIR     print DIR's manifest lines (for tests)
# Env:   GUESTMEM_CACHE (default /var/cache/guestmem), GUESTMEM_KSUITE (unstable)
# Exit:  0 ok, 1 error or mismatch, 77 base not available (Debian no longer
#        ships the package, or there is no Debian apt source): a SKIP.
set -euo pipefail

pkg=linux-source-7.2
suite=${GUESTMEM_KSUITE:-unstable}
cache=${GUESTMEM_CACHE:-/var/cache/guestmem}
apt_dir=$cache/apt
tree=$cache/linux-7.2
manifest=$cache/linux-7.2.manifest

msg() { echo "base: $*" >&2; }
die() { echo "base: error: $*" >&2; exit 1; }

# Download the package into $apt_dir/archives unless it is there.
download() {
	local deb
	deb=$(cd "$apt_dir/archives" 2>/dev/null && ls ${pkg}_*.deb 2>/dev/null | tail -n 1 || true)
	if [ -n "$deb" ]; then
		echo "$apt_dir/archives/$deb"
		return 0
	fi
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc"

	# The machine's first Debian source with its suite rewritten: the
	# deb822 file Debian 12 images carry, or the one-line sources.list.
	rm -f "$apt_dir/etc/base.sources" "$apt_dir/etc/base.list"
	local src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ]; then
		awk -v s="$suite" '
			/^$/ { if (seen) exit }
			/^Suites:/ { print "Suites: " s; seen = 1; next }
			{ print; if ($0 ~ /^Types:/) seen = 1 }
		' "$src" >"$apt_dir/etc/base.sources"
	elif [ -f /etc/apt/sources.list ]; then
		# deb [options] URI SUITE COMPONENTS...: replace the suite.
		awk -v s="$suite" '
			$1 == "deb" && !done {
				i = 2
				if ($i ~ /^\[/) while ($i !~ /\]$/) i++
				if ($i ~ /\]$/ && $2 ~ /^\[/) i++
				$(i + 1) = s
				print
				done = 1
			}
		' /etc/apt/sources.list >"$apt_dir/etc/base.list"
	fi
	if [ ! -s "$apt_dir/etc/base.sources" ] && [ ! -s "$apt_dir/etc/base.list" ]; then
		msg "no Debian apt source found on this machine"
		exit 77
	fi

	# A snapshot's or proxy's index may be past its Valid-Until date;
	# signatures and the package's checksum are still checked by apt.
	local apt_opts=(-o "Dir::State::Lists=$apt_dir/lists"
		-o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
		-o Dir::Etc::SourceList=/dev/null
		-o "Dir::Etc::SourceParts=$apt_dir/etc"
		-o Dir::State::status=/var/lib/dpkg/status
		-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1
		-o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)
	apt-get "${apt_opts[@]}" update -qq >&2 || die "apt-get update (suite $suite) failed"
	if ! (cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" download "$pkg" >&2); then
		msg "$pkg is not available from Debian $suite"
		exit 77
	fi
	deb=$(cd "$apt_dir/archives" && ls ${pkg}_*.deb | tail -n 1)
	echo "$apt_dir/archives/$deb"
}

# The kernel tarball inside the package, on stdout.
tarball() { # deb
	dpkg-deb --fsys-tarfile "$1" | tar -xOf - "./usr/src/$pkg.tar.xz"
}

# "sha256  ./path" of every file, "link ./path -> target" of every symlink
# and "hardlink ./path" of every file with more than one link, sorted.
inventory() { # dir
	(
		cd "$1"
		find . -type f -print0 | LC_ALL=C sort -z |
			xargs -0 -r -P"$(nproc)" -n 2000 sha256sum | LC_ALL=C sort -k2
		find . -type l -printf 'link %p -> %l\n' | LC_ALL=C sort
		find . -type f -links +1 -printf 'hardlink %p\n' | LC_ALL=C sort
	)
}

deb_line() { # deb
	echo "deb $(basename "$1") $(sha256sum <"$1" | cut -d' ' -f1)"
}

unpack() {
	local deb
	deb=$(download)
	msg "unpacking $(basename "$deb") into $tree"
	rm -rf "$tree" "$tree.tmp" "$manifest"
	mkdir -p "$tree.tmp"
	tarball "$deb" | tar -xJf - -C "$tree.tmp" --strip-components=1
	{
		deb_line "$deb"
		inventory "$tree.tmp"
	} >"$manifest.tmp"
	grep -q '^hardlink ' "$manifest.tmp" &&
		die "the tarball of $(basename "$deb") has hard links: unsupported"
	mv "$manifest.tmp" "$manifest"
	mv "$tree.tmp" "$tree"
	msg "manifest: $manifest ($(grep -cE '^[0-9a-f]{64} ' "$manifest") files)"
}

verify() {
	[ -f "$manifest" ] || die "$tree has no manifest ($manifest): run '$0 reextract'"
	local now diffs
	now=$(mktemp)
	inventory "$tree" >"$now"
	if diffs=$(diff <(sed 1d "$manifest") "$now"); then
		rm -f "$now"
		return 0
	fi
	rm -f "$now"
	{
		echo "base: error: $tree does not match its manifest ($manifest):"
		printf '%s\n' "$diffs" | grep '^[<>]' | awk '
			$1 == "<" && $2 == "hardlink" { next }
			$1 == ">" && $2 == "hardlink" { print "  hard-linked from elsewhere: " $3; next }
			$1 == "<" { want[$3] = 1; next }
			{ have[$3] = 1 }
			END {
				for (f in want) print "  " ((f in have) ? "changed: " : "missing: ") f
				for (f in have) if (!(f in want)) print "  added: " f
			}' | LC_ALL=C sort | head -n 20
		echo "base: the base must stay as unpacked from the package; edit a copy"
		echo "base: (kernel-patch/scripts/dev-tree.sh) and run '$0 reextract'"
	} >&2
	return 1
}

cmd=${1:-path}
case $cmd in
path)
	[ -f "$tree/Makefile" ] && [ -f "$manifest" ] || unpack
	verify || exit 1
	echo "$tree"
	;;
verify)
	verify
	msg "$tree matches $manifest"
	;;
reextract)
	unpack
	;;
deb)
	deb=$(download)
	if [ -f "$manifest" ] && [ "$(head -n 1 "$manifest")" != "$(deb_line "$deb")" ]; then
		die "$deb is not the package the base was unpacked from ($manifest)"
	fi
	echo "$deb"
	;;
inventory)
	[ $# -eq 2 ] || { echo "usage: $0 inventory DIR" >&2; exit 2; }
	inventory "$2"
	;;
extract)
	[ $# -ge 2 ] || { echo "usage: $0 extract DIR [FILE...]" >&2; exit 2; }
	dir=$2
	shift 2
	deb=$("$0" deb)
	mkdir -p "$dir"
	members=()
	for f in "$@"; do
		f=${f#./}
		# Only files the base has (new files of the series are not).
		awk -v f="./$f" '$2 == f { found = 1; exit } END { exit !found }' \
			"$manifest" && members+=("$pkg/$f")
	done
	if [ $# -gt 0 ] && [ ${#members[@]} -eq 0 ]; then
		exit 0
	fi
	tarball "$deb" | tar -xJf - -C "$dir" --strip-components=1 "${members[@]}"
	;;
*)
	echo "usage: $0 [path|verify|reextract|deb|inventory DIR|extract DIR [FILE...]]" >&2
	exit 2
	;;
esac
