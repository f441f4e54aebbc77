# SPDX-License-Identifier: LGPL-2.1-or-later
# Plots of the benchmark report: gnuplot -e "dir='DATA'; out='OUT'" plots.gp
# Data files are written by bench-report.sh.

set terminal pngcairo size 900,560 font "DejaVu Sans,11" noenhanced
set grid
set key top left
set style data linespoints
set pointsize 1.2

# ---------------------------------------------------------------- allocation
set output out.'/alloc_latency.png'
set title "Allocate zeroed memory, touch every 4K, free (2M pages; 1024 MiB on 1G pages)"
set xlabel "size (MiB)"
set ylabel "time per allocate + free (us)"
set logscale xy
plot for [i=0:4] dir.'/alloc.dat' index i using 1:2 title columnheader(1) lw 2, \
     dir.'/alloc.dat' index 0 using 1:($1*1048576/8.0e3) with lines dt 2 lc rgb "gray" \
	title "8 GB/s (for scale)"
unset logscale

# ---------------------------------------------------------------- conversion latency
set output out.'/convert_latency.png'
set title "Conversion latency (p50) vs range size"
set xlabel "range (KiB)"
set ylabel "latency (us)"
set logscale xy
plot dir.'/convert.dat' index 0 using 1:2 title "guestmem_convert" lw 2, \
     dir.'/convert.dat' index 1 using 1:2 title "mprotect (reference)" lw 2
unset logscale

# ---------------------------------------------------------------- split + merge
set output out.'/split_merge.png'
set title "Split + merge for one 4K conversion, by huge page size"
set xlabel "huge page size"
set ylabel "time (us, log)"
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top left
plot dir.'/split.dat' using 2:xtic(1) title "guestmem (convert 4K shared + private)", \
     '' using 3 title "direct split to 4K (shim)", \
     '' using 4 title "hierarchical 1G->2M->4K (shim)", \
     '' using 5 title "memset of the descriptors (floor)"
unset logscale
set style data linespoints

# ---------------------------------------------------------------- prefault
set output out.'/prefault_bandwidth.png'
set title "Pool prefault (fault + zero) bandwidth vs threads"
set xlabel "threads"
set ylabel "GB/s"
set xtics 1
set yrange [0:*]
plot dir.'/prefault.dat' using 1:2 title "guestmem pool, 2M pages" lw 2, \
     '' using 1:3 title "guestmem pool, 1G pages" lw 2, \
     '' using 1:4 title "memset (reference)" lw 2
set yrange [*:*]
set xtics autofreq

# ---------------------------------------------------------------- metadata
set output out.'/metadata.png'
set title "Allocator metadata vs guest size (fully allocated)"
set xlabel "guest size (GiB)"
set ylabel "metadata (MiB)"
set logscale xy
set key top left
plot for [i=0:4] dir.'/metadata.dat' index i using 1:2 title columnheader(1) lw 2, \
     for [i=5:7] dir.'/metadata.dat' index i using 1:2 title columnheader(1) lw 1 dt 2
unset logscale

# ---------------------------------------------------------------- threads
set output out.'/threads.png'
set title "4K conversion throughput vs threads"
set xlabel "threads"
set ylabel "conversions per second (thousands)"
set xtics 1
set yrange [0:*]
plot dir.'/threads.dat' using 1:2 title "one file, disjoint ranges" lw 2, \
     '' using 1:3 title "one file per thread" lw 2, \
     '' using 1:4 with lines dt 2 lc rgb "gray" title "linear (one file per thread x threads)"
