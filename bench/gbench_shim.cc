// SPDX-License-Identifier: LGPL-2.1-or-later
//
// gbench: the C shim over Google Benchmark (see gbench.h).  This is the
// only C++ in bench/; every benchmark is C.

#include <benchmark/benchmark.h>

#include "gbench.h"

using benchmark::State;
using benchmark::internal::Benchmark;

static State *S(struct gb_state *st)
{
	return reinterpret_cast<State *>(st);
}

static Benchmark *B(struct gb_bench *b)
{
	return reinterpret_cast<Benchmark *>(b);
}

static struct gb_bench *G(Benchmark *b)
{
	return reinterpret_cast<struct gb_bench *>(b);
}

extern "C" {

struct gb_bench *gb_register(const char *name, gb_fn fn)
{
	return G(benchmark::RegisterBenchmark(name, [fn](State &st) {
		fn(reinterpret_cast<struct gb_state *>(&st));
	}));
}

struct gb_bench *gb_arg(struct gb_bench *b, int64_t arg)
{
	return G(B(b)->Arg(arg));
}

struct gb_bench *gb_args(struct gb_bench *b, int n, const int64_t *args)
{
	return G(B(b)->Args(std::vector<int64_t>(args, args + n)));
}

struct gb_bench *gb_range_mult(struct gb_bench *b, int64_t lo, int64_t hi, int mult)
{
	return G(B(b)->RangeMultiplier(mult)->Range(lo, hi));
}

struct gb_bench *gb_arg_name(struct gb_bench *b, const char *name)
{
	return G(B(b)->ArgName(name));
}

struct gb_bench *gb_threads(struct gb_bench *b, int n)
{
	return G(B(b)->Threads(n));
}

struct gb_bench *gb_manual_time(struct gb_bench *b)
{
	return G(B(b)->UseManualTime());
}

struct gb_bench *gb_real_time(struct gb_bench *b)
{
	return G(B(b)->UseRealTime());
}

struct gb_bench *gb_iterations(struct gb_bench *b, int64_t n)
{
	return G(B(b)->Iterations(n));
}

struct gb_bench *gb_min_time(struct gb_bench *b, double seconds)
{
	return G(B(b)->MinTime(seconds));
}

struct gb_bench *gb_unit(struct gb_bench *b, enum gb_unit unit)
{
	static const benchmark::TimeUnit units[] = {
		benchmark::kNanosecond, benchmark::kMicrosecond,
		benchmark::kMillisecond, benchmark::kSecond,
	};
	return G(B(b)->Unit(units[unit]));
}

void gb_context(const char *key, const char *value)
{
	benchmark::AddCustomContext(key, value);
}

int gb_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

bool gb_keep_running(struct gb_state *st)
{
	return S(st)->KeepRunning();
}

void gb_pause(struct gb_state *st)
{
	S(st)->PauseTiming();
}

void gb_resume(struct gb_state *st)
{
	S(st)->ResumeTiming();
}

int64_t gb_range(struct gb_state *st, int i)
{
	return S(st)->range(static_cast<std::size_t>(i));
}

int64_t gb_iterations_done(struct gb_state *st)
{
	return S(st)->iterations();
}

int gb_thread_index(struct gb_state *st)
{
	return S(st)->thread_index();
}

int gb_nthreads(struct gb_state *st)
{
	return S(st)->threads();
}

void gb_counter(struct gb_state *st, const char *name, double value, unsigned int flags)
{
	int f = 0;

	if (flags & GB_COUNTER_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & GB_COUNTER_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	if (flags & GB_COUNTER_AVG_ITERS)
		f |= benchmark::Counter::kAvgIterations;
	if (flags & GB_COUNTER_INVERT)
		f |= benchmark::Counter::kInvert;
	S(st)->counters[name] =
		benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f),
				   benchmark::Counter::kIs1000);
}

void gb_set_iteration_time(struct gb_state *st, double seconds)
{
	S(st)->SetIterationTime(seconds);
}

void gb_bytes_processed(struct gb_state *st, int64_t bytes)
{
	S(st)->SetBytesProcessed(bytes);
}

void gb_items_processed(struct gb_state *st, int64_t items)
{
	S(st)->SetItemsProcessed(items);
}

void gb_label(struct gb_state *st, const char *label)
{
	S(st)->SetLabel(label);
}

void gb_skip(struct gb_state *st, const char *msg)
{
	S(st)->SkipWithError(msg);
}

bool gb_skipped(struct gb_state *st)
{
	return S(st)->error_occurred();
}

}  // extern "C"
