#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-report.sh BIN OUTDIR [SRCDIR]: run the guestmem benchmarks in quick
# mode and write OUTDIR/report.md, OUTDIR/*.png, OUTDIR/bench.json and
# OUTDIR/bench.log.  Called by `make bench-report`.  Needs jq and gnuplot
# (installed with apt-get when missing and running as root); no python.
#
# Environment:
#   BENCH_JSON=FILE          do not run: make the report from an earlier JSON
#   BENCH_MIN_TIME=SECONDS   per-benchmark minimum time (default 0.05)
#   BENCH_FLAGS="..."        more flags for the binary (e.g. a filter)
#   BENCH_CC, BENCH_VERSION  compiler and guestmem version (set by make)
set -u

bin=${1:?usage: bench-report.sh BIN OUTDIR [SRCDIR]}
out=${2:?usage: bench-report.sh BIN OUTDIR [SRCDIR]}
src=${3:-.}
here=$(cd "$(dirname "$0")" && pwd)
spec=$here/ratios.tsv
gp=$here/plots.gp

note() { printf 'bench-report: %s\n' "$*" >&2; }
die() { note "error: $*"; exit 1; }

# ------------------------------------------------------------ tools
need_pkgs=
command -v jq >/dev/null 2>&1 || need_pkgs="$need_pkgs jq"
command -v gnuplot >/dev/null 2>&1 || need_pkgs="$need_pkgs gnuplot-nox"
if [ -n "$need_pkgs" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		note "installing$need_pkgs"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$need_pkgs >/dev/null 2>&1 ||
			{ DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends $need_pkgs >/dev/null 2>&1; } ||
			note "apt-get install$need_pkgs failed"
	fi
fi
command -v jq >/dev/null 2>&1 || die "jq is needed to read the results (apt-get install jq)"
have_gnuplot=yes
command -v gnuplot >/dev/null 2>&1 ||
	{ have_gnuplot=no; note "no gnuplot: the report will have no plots (apt-get install gnuplot-nox)"; }

mkdir -p "$out/data" || die "cannot create $out"

# ------------------------------------------------------------ run
start=$(date +%s)
if [ -n "${BENCH_JSON:-}" ]; then
	[ "$BENCH_JSON" -ef "$out/bench.json" ] || cp "$BENCH_JSON" "$out/bench.json" ||
		die "cannot read $BENCH_JSON"
	note "report from $BENCH_JSON (benchmarks not run)"
	runtime="(not run: report made from an earlier bench.json)"
else
	[ -x "$bin" ] || die "$bin not built"
	note "running $bin in quick mode; log in $out/bench.log"
	# shellcheck disable=SC2086
	"$bin" --benchmark_min_time="${BENCH_MIN_TIME:-0.05}" \
		--benchmark_out="$out/bench.json" --benchmark_out_format=json \
		${BENCH_FLAGS:-} >"$out/bench.log" 2>&1
	rc=$?
	end=$(date +%s)
	runtime="$((end - start)) s"
	[ $rc -eq 0 ] || die "$bin failed with status $rc (see $out/bench.log)"
fi
[ -s "$out/bench.json" ] || die "no results in $out/bench.json"

# ------------------------------------------------------------ flatten
# name <TAB> key <TAB> value: time_ns, every numeric counter, label, error.
# Names lose the "/min_time:X" that Google Benchmark adds for per-benchmark
# minimum times, so that ratios.tsv does not depend on them.
res=$out/data/results.tsv
jq -r '
  def mult: if .time_unit == "us" then 1e3 elif .time_unit == "ms" then 1e6
	    elif .time_unit == "s" then 1e9 else 1 end;
  .benchmarks[] | select((.run_type // "iteration") == "iteration") |
  (.name | sub("/min_time:[0-9.]+"; "")) as $n |
  if .error_occurred then [$n, "error", .error_message] | @tsv
  else ([$n, "time_ns", (.real_time * mult)] | @tsv),
       (to_entries[] | select(.value | type == "number") |
	select(.key as $k | ["real_time", "cpu_time", "iterations", "repetitions",
			     "repetition_index", "threads", "family_index",
			     "per_family_instance_index"] | index($k) | not) |
	[$n, .key, .value] | @tsv),
       ([$n, "iterations", .iterations] | @tsv),
       (if (.label // "") != "" then [$n, "label", .label] | @tsv else empty end)
  end' "$out/bench.json" >"$res" || die "cannot parse $out/bench.json"

ctx() { jq -r --arg k "$1" '.context[$k] // empty' "$out/bench.json"; }

# Thread counts: every one a benchmark ran with ({T} rows whose figures
# are missing at some count say so in the table).
threads=$(jq -r '.benchmarks[].name' "$out/bench.json" |
	  sed -n 's/.*threads:\([0-9][0-9]*\).*/\1/p' | sort -nu | tr '\n' ' ')
[ -n "$threads" ] || threads=1

# ------------------------------------------------------------ machine and versions
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
kernel=$(uname -sr)
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)
gm_ver=${BENCH_VERSION:-$(ctx guestmem_version)}
git_ver=$(git -C "$src" describe --always --dirty 2>/dev/null || true)
[ -n "$git_ver" ] && gm_ver="$gm_ver ($git_ver)"
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
gb_ver=$(pkg-config --modversion benchmark 2>/dev/null || pkgver libbenchmark-dev)
gb_build=$(ctx library_build_type)
je_ver=$(ctx jemalloc_version)
[ -n "$je_ver" ] || je_ver="$(pkgver libjemalloc2) (not loaded)"
hl_ver=$(pkgver libhugetlbfs0 || pkgver libhugetlbfs-dev)
[ -n "$hl_ver" ] || hl_ver=unknown
cc_ver=$(${BENCH_CC:-gcc} --version 2>/dev/null | head -n 1)
gp_ver=$(gnuplot --version 2>/dev/null)

# ------------------------------------------------------------ ratio table
# Expand {T}, look both figures up, divide.
ratios=$out/data/ratios.tsv
grep -v '^#' "$spec" | while IFS='	' read -r group fig metric ref scale better what; do
	[ -n "$fig" ] || continue
	case "$fig$ref$scale$what" in
	*'{T}'*)
		for t in $threads; do
			# "{T} x one thread" against itself says nothing.
			[ "$t" = 1 ] && [ "$scale" = '{T}' ] && continue
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" \
				"$(echo "$fig" | sed "s/{T}/$t/g")" "$metric" \
				"$(echo "$ref" | sed "s/{T}/$t/g")" \
				"$(echo "$scale" | sed "s/{T}/$t/g")" "$better" \
				"$(echo "$what" | sed "s/{T}/$t/g")"
		done ;;
	*)
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$fig" "$metric" "$ref" \
			"$scale" "$better" "$what" ;;
	esac
done >"$out/data/spec.tsv"

awk -F'\t' -v OFS='\t' '
function fmt_time(ns) {
	if (ns < 1000) return sprintf("%.0f ns", ns)
	if (ns < 1e6) return sprintf("%.2f us", ns / 1e3)
	if (ns < 1e9) return sprintf("%.2f ms", ns / 1e6)
	return sprintf("%.2f s", ns / 1e9)
}
function fmt_bytes(b) {
	if (b < 1024) return sprintf("%.0f B", b)
	if (b < 1048576) return sprintf("%.1f KiB", b / 1024)
	if (b < 1073741824) return sprintf("%.1f MiB", b / 1048576)
	return sprintf("%.2f GiB", b / 1073741824)
}
function key(m) {
	if (m == "time") return "time_ns"
	if (m == "p99") return "p99_ns"
	if (m == "bw") return "bytes_per_second"
	if (m == "ops") return "items_per_second"
	if (m == "meta") return "bytes_per_TiB"
	return m
}
function fmt(m, v) {
	if (m == "time" || m == "p99") return fmt_time(v)
	if (m == "bw") return sprintf("%.2f GB/s", v / 1e9)
	if (m == "ops") return sprintf("%.0f k/s", v / 1e3)
	if (m == "meta") return fmt_bytes(v) "/TiB"
	return v
}
function show(name, m) {
	if ((name, "error") in val) return "skipped"
	if (!((name, key(m)) in val)) return "missing"
	return fmt(m, val[name, key(m)])
}
FNR == NR { val[$1, $2] = $3; next }
{
	group = $1; fig = $2; m = $3; ref = $4; scale = $5; better = $6; what = $7
	fv = show(fig, m); rv = show(ref, m)
	ratio = "n/a"; verdict = ""
	if (fv !~ /^(skipped|missing)$/ && rv !~ /^(skipped|missing)$/ &&
	    val[ref, key(m)] * scale > 0) {
		r = val[fig, key(m)] / (val[ref, key(m)] * scale)
		ratio = sprintf(r < 0.01 ? "%.2g" : r < 10 ? "%.2f" : "%.0f", r)
		if (better == "floor")
			verdict = sprintf("%s x the floor", ratio)
		else if (better == "lower")
			verdict = r < 0.9 ? "guestmem better" : r > 1.1 ? "guestmem worse" : "on par"
		else
			verdict = r > 1.1 ? "guestmem better" : r < 0.9 ? "guestmem worse" : "on par"
		if (better == "higher" && group == "threads")
			verdict = sprintf("%.0f%% of linear", 100 * r)
		if (better == "higher" && (group == "prefault" || group == "zero"))
			verdict = sprintf("%.0f%% of memset", 100 * r)
	} else {
		verdict = (fv == "skipped" || rv == "skipped") ? "skipped" : "missing"
	}
	if (scale != 1) rv = rv " x " scale
	b = better == "floor" ? "lower (1 = floor)" : better
	print group, what, fv, rv, ratio, b, verdict, fig, ref
}' "$res" "$out/data/spec.tsv" >"$ratios"

# ------------------------------------------------------------ plot data
d=$out/data
awk -F'\t' -v d="$d" -v threads="$threads" '
function get(n, k) { return ((n, k) in val) && !((n, "error") in val) ? val[n, k] : "" }
{ val[$1, $2] = $3; names[$1] = 1 }
END {
	# Allocation latency vs size, one block per implementation.
	f = d "/alloc.dat"; printf "" > f
	split("guestmem mmap_hugetlb libhugetlbfs jemalloc glibc", impl, " ")
	for (i = 1; i <= 5; i++) {
		printf "%s\n", impl[i] > f
		for (s = 2097152; s <= 1073741824; s *= 4) {
			n = "alloc_free/" impl[i] "_2M/" sprintf("%.0f", s) "/real_time"
			if (get(n, "time_ns") != "") printf "%g %g\n", s / 1048576, get(n, "time_ns") / 1e3 > f
		}
		n = "alloc_free/" impl[i] "_1G/1073741824/real_time"
		if (get(n, "time_ns") != "") printf "%g %g\n", 1024, get(n, "time_ns") / 1e3 > f
		printf "\n\n" > f
	}
	close(f)
	# Conversion latency (p50) vs range size.
	f = d "/convert.dat"; printf "" > f
	printf "# guestmem\n" > f
	if ((v = get("convert/seq_4K/guestmem/manual_time", "p50_ns")) != "") printf "%g %g\n", 4, v / 1e3 > f
	for (s = 2097152; s <= 67108864; s *= 32)
		if ((v = get("convert/huge/guestmem_2M/" sprintf("%.0f", s) "/manual_time", "p50_ns")) != "")
			printf "%g %g\n", s / 1024, v / 1e3 > f
	if ((v = get("convert/huge/guestmem_1G/1073741824/manual_time", "p50_ns")) != "")
		printf "%g %g\n", 1048576, v / 1e3 > f
	printf "\n\n# mprotect\n" > f
	if ((v = get("convert/seq_4K/mprotect/manual_time", "p50_ns")) != "") printf "%g %g\n", 4, v / 1e3 > f
	for (s = 2097152; s <= 67108864; s *= 32)
		if ((v = get("convert/huge/mprotect/" sprintf("%.0f", s) "/manual_time", "p50_ns")) != "")
			printf "%g %g\n", s / 1024, v / 1e3 > f
	if ((v = get("convert/huge/mprotect/1073741824/manual_time", "p50_ns")) != "")
		printf "%g %g\n", 1048576, v / 1e3 > f
	printf "\n\n" > f
	close(f)
	# Split + merge vs page size: guestmem, shim direct, shim hierarchical, memset floor.
	f = d "/split.dat"
	printf "# page guestmem direct hierarchical floor\n" > f
	g = get("split_merge/guestmem_2M", "time_ns"); s = get("split_merge/shim_direct_2M", "time_ns")
	m = get("split_merge/memset_floor/512", "time_ns")
	printf "2M %s %s NaN %s\n", g == "" ? "NaN" : g / 1e3, s == "" ? "NaN" : s / 1e3, \
		m == "" ? "NaN" : m / 1e3 > f
	g = get("split_merge/guestmem_1G", "time_ns"); s = get("split_merge/shim_direct_1G", "time_ns")
	h = get("split_merge/shim_hier_1G", "time_ns"); m = get("split_merge/memset_floor/1024", "time_ns")
	printf "1G %s %s %s %s\n", g == "" ? "NaN" : g / 1e3, s == "" ? "NaN" : s / 1e3, \
		h == "" ? "NaN" : h / 1e3, m == "" ? "NaN" : m / 1e3 > f
	close(f)
	# Prefault bandwidth vs threads.
	f = d "/prefault.dat"
	printf "# threads guestmem_2M guestmem_1G memset\n" > f
	nt = split(threads, T, " ")
	for (i = 1; i <= nt; i++) {
		a = get("prefault/guestmem_2M/threads:" T[i] "/manual_time", "bytes_per_second")
		b = get("prefault/guestmem_1G/threads:" T[i] "/manual_time", "bytes_per_second")
		c = get("prefault/memset/threads:" T[i] "/manual_time", "bytes_per_second")
		printf "%d %s %s %s\n", T[i], a == "" ? "NaN" : a / 1e9, b == "" ? "NaN" : b / 1e9, \
			c == "" ? "NaN" : c / 1e9 > f
	}
	close(f)
	# Conversion throughput vs threads.
	f = d "/threads.dat"
	printf "# threads shared_file own_file linear\n" > f
	one = get("mt_convert/own_file/real_time/threads:1", "items_per_second")
	for (i = 1; i <= nt; i++) {
		a = get("mt_convert/shared_file/real_time/threads:" T[i], "items_per_second")
		b = get("mt_convert/own_file/real_time/threads:" T[i], "items_per_second")
		printf "%d %s %s %s\n", T[i], a == "" ? "NaN" : a / 1e3, b == "" ? "NaN" : b / 1e3, \
			one == "" ? "NaN" : one * T[i] / 1e3 > f
	}
	close(f)
	# Metadata vs guest size, one block per layout.
	f = d "/metadata.dat"; printf "" > f
	split("2M_unsplit 2M_split 1G_unsplit 1G_split_one 1G_split kernel_memmap kernel_hvo_2M kernel_hvo_1G", lay, " ")
	for (i = 1; i <= 8; i++) {
		printf "%s\n", lay[i] > f
		for (s = 1073741824; s <= 1099511627776; s *= 2) {
			n = "metadata/" lay[i] "/" sprintf("%.0f", s) "/iterations:1"
			if ((v = get(n, "bytes")) != "") printf "%g %g\n", s / 1073741824, v / 1048576 > f
		}
		printf "\n\n" > f
	}
	close(f)
}' "$res"

plots=
if [ "$have_gnuplot" = yes ]; then
	if gnuplot -e "dir='$d'; out='$out'" "$gp" >"$d/gnuplot.log" 2>&1; then
		plots=yes
	else
		note "gnuplot failed: see $d/gnuplot.log"
	fi
fi

# ------------------------------------------------------------ report
md=$out/report.md
{
	echo "# guestmem benchmark report"
	echo
	echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') by \`make bench-report\` (quick mode:"
	echo "\`--benchmark_min_time=${BENCH_MIN_TIME:-0.05}\`). Benchmark run time: $runtime."
	echo "Raw results: [bench.json](bench.json), console output: [bench.log](bench.log)."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPU | ${cpu:-unknown} |"
	echo "| cores | $cores |"
	echo "| memory | ${mem:-unknown} |"
	echo "| kernel | $kernel |"
	echo "| transparent hugepages | $thp |"
	echo "| hugetlb setup | $(ctx system_setup) |"
	echo "| hugetlb pages available at start | 2M: $(ctx hugetlb_2M_available), 1G: $(ctx hugetlb_1G_available) |"
	echo "| load average at start | $(jq -r '.context.load_avg // [] | map(tostring) | join(", ")' "$out/bench.json") |"
	echo
	echo "## Versions"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| guestmem | $gm_ver (allocator debug checks: $(ctx guestmem_debug_checks)) |"
	echo "| Google Benchmark | ${gb_ver:-unknown} (library build type: ${gb_build:-unknown}) |"
	echo "| jemalloc | $je_ver |"
	echo "| libhugetlbfs | $hl_ver |"
	echo "| compiler | ${cc_ver:-unknown} |"
	echo "| gnuplot | ${gp_ver:-not installed} |"
	echo
	echo "## Ratios"
	echo
	echo "Each figure divided by its reference, measured in the same run. *better* says"
	echo "which way is good: **lower** for times and metadata, **higher** for bandwidth"
	echo "and throughput; **lower (1 = floor)** when the reference is a physical limit"
	echo "(memset of the same bytes), so the ratio says how many times above the floor"
	echo "the operation is. Times are means per operation."
	echo
	echo "| group | what | figure | reference | ratio | better | verdict |"
	echo "|---|---|---|---|---:|---|---|"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$ratios"
	echo
	if grep -q '	guestmem worse	' "$ratios"; then
		echo "Rows where guestmem is worse than its reference:"
		echo
		awk -F'\t' '$7 == "guestmem worse" { printf "- %s: %s (%s vs %s)\n", $1, $2, $3, $4 }' \
			"$ratios"
		echo
	fi
	echo "<details><summary>benchmark names of each row</summary>"
	echo
	awk -F'\t' '{ printf "- %s: `%s` / `%s`\n", $2, $8, $9 }' "$ratios"
	echo
	echo "</details>"
	echo
	echo "## Plots"
	echo
	if [ -n "$plots" ]; then
		for p in alloc_latency:"Allocate + free latency vs size" \
			 convert_latency:"Conversion latency (p50) vs range size" \
			 split_merge:"Split + merge vs page size" \
			 prefault_bandwidth:"Pool prefault (zeroing) bandwidth vs threads" \
			 metadata:"Metadata vs guest size" \
			 threads:"Conversion throughput vs threads"; do
			f=${p%%:*}
			[ -s "$out/$f.png" ] && printf '### %s\n\n![%s](%s.png)\n\n' "${p#*:}" "${p#*:}" "$f"
		done
	else
		echo "(no plots: gnuplot is missing or failed)"
		echo
	fi
	echo "## Latency percentiles"
	echo
	echo "Per operation, in ns..ms; for coco_boot the mean is one whole boot and the"
	echo "percentiles are those of its conversions."
	echo
	echo "| benchmark | mean | p50 | p99 | max | iterations |"
	echo "|---|---:|---:|---:|---:|---:|"
	awk -F'\t' '
	function t(ns) {
		if (ns == "") return ""
		if (ns < 1000) return sprintf("%.0f ns", ns)
		if (ns < 1e6) return sprintf("%.2f us", ns / 1e3)
		return sprintf("%.2f ms", ns / 1e6)
	}
	{ val[$1, $2] = $3; if ($2 == "p50_ns" && !($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
	END { for (i = 0; i < n; i++) { b = order[i]
		printf "| `%s` | %s | %s | %s | %s | %s |\n", b, t(val[b, "time_ns"]),
			t(val[b, "p50_ns"]), t(val[b, "p99_ns"]), t(val[b, "max_ns"]), val[b, "iterations"] } }' "$res"
	echo
	echo "## Metadata per TiB of guest memory"
	echo
	echo "Address-space-only pools (nothing touched). *split* layouts convert one 4K page"
	echo "per 2M (every huge page split down to 4K folios); *split_one* converts one 4K"
	echo "page per 1G page (512 2M folios and 512 4K folios each). kernel_memmap is the"
	echo "kernel's 64-byte struct page per 4K; kernel_hvo_* what the HugeTLB vmemmap"
	echo "optimisation keeps (one 4K vmemmap page per huge page)."
	echo
	echo "| layout | largest guest measured | metadata | per TiB | % of guest |"
	echo "|---|---:|---:|---:|---:|"
	awk -F'\t' '
	function b(x) {
		if (x < 1048576) return sprintf("%.1f KiB", x / 1024)
		if (x < 1073741824) return sprintf("%.2f MiB", x / 1048576)
		return sprintf("%.2f GiB", x / 1073741824)
	}
	$1 ~ /^metadata\// && $2 == "bytes" {
		split($1, p, "/"); s = p[3] + 0
		if (!(p[2] in best) || s > best[p[2]]) { best[p[2]] = s; name[p[2]] = $1 }
		if (!(p[2] in seen)) { seen[p[2]] = 1; order[n++] = p[2] }
	}
	{ val[$1, $2] = $3 }
	END { for (i = 0; i < n; i++) { l = order[i]; x = name[l]
		printf "| %s | %s | %s | %s | %.4f%% |\n", l, b(best[l]), b(val[x, "bytes"]),
			b(val[x, "bytes_per_TiB"]), val[x, "pct_of_guest"] } }' "$res"
	echo
	echo "## Skipped benchmarks"
	echo
	if grep -q '	error	' "$res"; then
		awk -F'\t' '$2 == "error" { printf "- `%s`: %s\n", $1, $3 }' "$res"
	else
		echo "None."
	fi
	echo
	echo "## Backends"
	echo
	echo "guestmem pools use the kernel's hugetlb pages when available and ordinary memory"
	echo "(\"fallback\") otherwise; each benchmark's label says which:"
	echo
	awk -F'\t' '$2 == "label" && $3 ~ /^(hugetlb|fallback|simulated)$/ {
			l[$3] = l[$3] (l[$3] == "" ? "" : ", ") "`" $1 "`" }
		END { for (k in l) printf "- **%s**: %s\n", k, l[k] }' "$res"
	echo
	echo "## What is measured"
	echo
	echo "- **alloc_free**: obtain zeroed memory of the size, write one byte per 4K page,"
	echo "  free it. guestmem: \`guestmem_allocate\` + touch through the file's host"
	echo "  mapping + \`guestmem_punch_hole\` in a prefaulted pool."
	echo "- **fault**: first access to a huge page not yet allocated: \`guestmem_pin\` +"
	echo "  write + \`guestmem_unpin\`, against a write to a fresh \`MAP_HUGETLB\` mapping."
	echo "- **split_merge**: make one 4K page of an unsplit huge page shared, then private"
	echo "  again (one split and one merge per level); the shim rows call"
	echo "  \`hugetlb_folio_split\`/\`hugetlb_folio_merge\` directly; memset_floor writes"
	echo "  \`n * sizeof(struct folio)\` bytes of warm memory."
	echo "- **convert**: one \`guestmem_convert\` per iteration (latency of each recorded),"
	echo "  against \`mprotect\` of the same range of populated 4K-mapped memory."
	echo "- **pin**: \`guestmem_pin\` + \`guestmem_unpin\` of a random shared 4K page,"
	echo "  against \`process_vm_readv\` of 8 bytes (the kernel's GUP pin + unpin)."
	echo "- **coco_boot**: create a 2 GiB guest, load a 16 MiB image while shared, make"
	echo "  everything private (launch), accept and touch all memory, share a 64 MiB"
	echo "  swiotlb buffer and 8 GHCB pages, 512 share/pin/write/unpin/unshare DMA cycles,"
	echo "  destroy; against mmap(MAP_HUGETLB) of the same size, image copy, touch, munmap."
	echo "- **prefault**: \`guestmem_pool_create\` with \`GUESTMEM_POOL_PREFAULT\` on T"
	echo "  threads, against memset of as many bytes on T threads."
	echo "- **mt_convert**: 4K conversions on T threads in disjoint ranges of one file, or"
	echo "  one file per thread; wall-clock throughput."
	echo "- **metadata**: bytes kmalloc'd by the allocator plus folio descriptors, as"
	echo "  \`tests/check_metadata\` counts them."
} >"$md"

note "wrote $md"
[ -n "$plots" ] && note "plots: $(cd "$out" && ls ./*.png 2>/dev/null | tr '\n' ' ')"
exit 0
