#!/bin/sh
# Fetch and unpack Debian's linux-source-7.2 without touching the machine's
# apt configuration: the suite is rewritten into a private sources file and
# apt keeps its lists and archives in a private cache directory.
#
# Usage: fetch-base.sh            prints the path of the unpacked tree
# Env:   GUESTMEM_CACHE (default /var/cache/guestmem), GUESTMEM_KSUITE (unstable)
#
# Exit status 77 means "base not available" (Debian no longer ships it); CI
# reports that as skipped.
set -eu

pkg=linux-source-7.2
suite=${GUESTMEM_KSUITE:-unstable}
cache=${GUESTMEM_CACHE:-/var/cache/guestmem}
apt_dir=$cache/apt
tree=$cache/linux-7.2

if [ -f "$tree/Makefile" ]; then
	echo "$tree"
	exit 0
fi

mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc"

# The machine's first Debian source with its suite rewritten: the deb822
# file Debian 12 images carry, or else the classic one-line sources.list.
rm -f "$apt_dir/etc/base.sources" "$apt_dir/etc/base.list"
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
	awk -v s="$suite" '
		/^$/ { if (seen) exit }
		/^Suites:/ { print "Suites: " s; seen = 1; next }
		{ print; if ($0 ~ /^Types:/) seen = 1 }
	' "$src" > "$apt_dir/etc/base.sources"
elif [ -f /etc/apt/sources.list ]; then
	# deb [options] URI SUITE COMPONENTS...: replace the field after the URI.
	awk -v s="$suite" '
		$1 == "deb" && !done {
			i = 2
			if ($i ~ /^\[/) while ($i !~ /\]$/) i++
			if ($i ~ /\]$/ && $2 ~ /^\[/) i++
			$(i + 1) = s
			print
			done = 1
		}
	' /etc/apt/sources.list > "$apt_dir/etc/base.list"
fi
if [ ! -s "$apt_dir/etc/base.sources" ] && [ ! -s "$apt_dir/etc/base.list" ]; then
	echo "fetch-base: no Debian apt source found on this machine" >&2
	exit 77
fi

# The package index of a snapshot or proxy can be past its Valid-Until date;
# the signatures are still checked.
apt_opts="-o Dir::State::Lists=$apt_dir/lists
	-o Dir::Cache=$apt_dir -o Dir::Cache::archives=$apt_dir/archives
	-o Dir::Etc::SourceList=/dev/null
	-o Dir::Etc::SourceParts=$apt_dir/etc
	-o Dir::State::status=/var/lib/dpkg/status
	-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1
	-o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false"

# shellcheck disable=SC2086
apt-get $apt_opts update -qq >&2
deb=$(cd "$apt_dir/archives" && ls ${pkg}_*.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$deb" ]; then
	# shellcheck disable=SC2086
	if ! (cd "$apt_dir/archives" && apt-get $apt_opts download "$pkg" >&2); then
		echo "fetch-base: $pkg is not available from Debian $suite" >&2
		exit 77
	fi
	deb=$(cd "$apt_dir/archives" && ls ${pkg}_*.deb | tail -n 1)
fi

work=$cache/unpack
rm -rf "$work"
mkdir -p "$work"
dpkg-deb -x "$apt_dir/archives/$deb" "$work"
tarball=$(ls "$work"/usr/src/linux-source-7.2.tar.* | head -n 1)
rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
tar -xf "$tarball" -C "$tree.tmp" --strip-components=1
rm -rf "$work"
mv "$tree.tmp" "$tree"
echo "$tree"
