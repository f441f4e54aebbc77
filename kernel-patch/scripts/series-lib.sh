# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by kernel-check.sh, dev-tree.sh and export-diff.sh: reading the
# series and applying it to a base unpacked fresh from the package.
# Source it from bash after setting kp (the kernel-patch/ directory).
: "${kp:?series-lib.sh: set kp to the kernel-patch/ directory first}"

# series_read: fill series_names[] and series_strips[] from $kp/series
# (quilt format: a patch name per line, optionally followed by -pN; '#'
# starts a comment).
series_read() {
	local name opt strip
	series_names=()
	series_strips=()
	[ -f "$kp/series" ] || return 0
	while read -r name opt _; do
		name=${name%%#*}
		[ -n "$name" ] || continue
		case ${opt:-} in
		-p[0-9]) strip=${opt#-p} ;;
		'' | \#*) strip=1 ;;
		*) echo "series: unsupported option '$opt' for $name" >&2; return 1 ;;
		esac
		if [ ! -f "$kp/patches/$name" ]; then
			echo "series lists $name, but kernel-patch/patches/$name does not exist" >&2
			return 1
		fi
		series_names+=("$name")
		series_strips+=("$strip")
	done <"$kp/series"
}

# patch_files PATCH STRIP: the files PATCH touches, relative to the tree.
patch_files() {
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

# series_files N: the files patches 1..N touch (all patches without N).
series_files() {
	local n=${1:-${#series_names[@]}} i
	for ((i = 0; i < n; i++)); do
		patch_files "$kp/patches/${series_names[$i]}" "${series_strips[$i]}"
	done | sort -u
}

# series_apply DIR N: apply patches 1..N to the tree in DIR with --fuzz=0.
# Fails, saying which patch and why, if one does not apply exactly.
series_apply() {
	local dir=$1 n=$2 i out p
	for ((i = 0; i < n; i++)); do
		p=$kp/patches/${series_names[$i]}
		if ! out=$(cd "$dir" && patch -p"${series_strips[$i]}" --forward --batch \
				--fuzz=0 --no-backup-if-mismatch <"$p" 2>&1); then
			printf '%s\n' "$out" >&2
			echo "patch $((i + 1))/${#series_names[@]} ${series_names[$i]} does not apply" \
				"with --fuzz=0 to the Linux 7.2 base (with the patches before it)" >&2
			return 1
		fi
		echo "applied $((i + 1))/${#series_names[@]} ${series_names[$i]}"
	done
}

# series_stage DIR N [FILE...]: unpack the files patches 1..N touch, and
# FILEs, fresh from the downloaded package into DIR (never from the cached
# tree), then apply patches 1..N there (series_apply).
series_stage() {
	local dir=$1 n=$2
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir"
	{ series_files "$n"; printf '%s\n' "$@"; } | sort -u | sed '/^$/d' |
		xargs -r bash "$kp/scripts/base.sh" extract "$dir" || {
		echo "could not unpack the base's files from the package" >&2
		return 1
	}
	series_apply "$dir" "$n"
}
