# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/: the Google Benchmark harness (included from Makefile.am).
#
#   make bench          build bench/guestmem-bench and run every benchmark;
#                       JSON in bench/bench.json (BENCH_FLAGS= adds flags,
#                       e.g. BENCH_FLAGS=--benchmark_filter=convert)
#   make bench-report   run everything in quick mode and write
#                       bench/report/{report.md,*.png,bench.json}
#   make check          runs bench/smoke.sh: every benchmark once, tiny
#                       sizes, no timing checked, no system changes
#
# The benchmarks are C (bench/*.c); bench/gbench_shim.cc is the only C++,
# the C interface to Google Benchmark (bench/gbench.h).  bench/bench_mm.c
# drives mm/ and the shim directly and is compiled like mm/'s tests, over
# the kernel shim; the others use the public API (include/guestmem.h).

EXTRA_DIST += \
	bench/README.md \
	bench/local.mk \
	bench/smoke.sh \
	bench/report/bench-report.sh \
	bench/report/ratios.tsv \
	bench/report/plots.gp

if HAVE_BENCHMARK

noinst_PROGRAMS = bench/guestmem-bench
check_LTLIBRARIES += bench/libbench-mm.la

bench_libbench_mm_la_SOURCES = bench/bench_mm.c
bench_libbench_mm_la_CPPFLAGS = $(KERNEL_CPPFLAGS) -I$(srcdir)/include $(UTIL_CPPFLAGS)
bench_libbench_mm_la_CFLAGS = $(KERNEL_CFLAGS)

bench_guestmem_bench_SOURCES = \
	bench/gbench.h \
	bench/gbench_shim.cc \
	bench/bench.h \
	bench/main.c \
	bench/util.c \
	bench/bench_alloc.c \
	bench/bench_convert.c \
	bench/bench_pool.c \
	bench/bench_zero.c
bench_guestmem_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/include $(UTIL_CPPFLAGS)
bench_guestmem_bench_CFLAGS = $(AM_CFLAGS)
bench_guestmem_bench_CXXFLAGS = $(BENCHMARK_CFLAGS) $(WARN_CFLAGS)
# Public API from the shared library; mm/ and the shim (for bench_mm.c) from
# the convenience library: two copies that never meet, since the shared
# library exports only guestmem_*.
bench_guestmem_bench_LDADD = bench/libbench-mm.la lib/libguestmem-core.la \
	$(UTIL_LIBS) lib/libguestmem.la $(BENCHMARK_LIBS) $(HUGETLBFS_LIBS) $(NUMA_LIBS)
bench_guestmem_bench_LDFLAGS = -no-install

# A .sh test (TEST_EXTENSIONS): bench/smoke.log.  It runs after the tests
# that raise nr_hugepages as root and count free pages (check_api,
# check_tool), since it takes hugetlb pages whenever some are free.
TESTS += bench/smoke.sh
bench/smoke.log: bench/guestmem-bench$(EXEEXT) tests/check_api.log tests/check_tool.log

BENCH_FLAGS =

bench: bench/guestmem-bench$(EXEEXT)
	./bench/guestmem-bench$(EXEEXT) --benchmark_out=bench/bench.json \
		--benchmark_out_format=json $(BENCH_FLAGS)

bench-report: bench/guestmem-bench$(EXEEXT)
	BENCH_CC='$(CC)' BENCH_VERSION='$(PACKAGE_VERSION)' \
	$(SHELL) $(srcdir)/bench/report/bench-report.sh \
		./bench/guestmem-bench$(EXEEXT) bench/report $(srcdir)

else !HAVE_BENCHMARK

bench bench-report:
	@echo "$@: Google Benchmark was not found by configure; install libbenchmark-dev" >&2
	@echo "$@: (scripts/setup.sh does) and run configure again" >&2
	@exit 1

endif !HAVE_BENCHMARK

.PHONY: bench bench-report
