// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Soak: threads making random public API calls on the shared files of one
 * pool for a bounded time (and number of calls): create and destroy files,
 * allocate, punch, convert, read states, pin and unpin, read counters, and
 * run mm/'s invariant checker on a file while others change it.  Every
 * result must be one the API allows for the call.  Afterwards everything is
 * unpinned and destroyed, and the pool must be whole again (every huge page
 * free, nothing reserved, in use or pending), no WARN may have fired (a
 * debug build checks the invariants after every operation and WARNs), and
 * the pool must destroy cleanly.
 *
 * Pools: simulated 2M and 1G (address space only: runs anywhere), ordinary
 * memory (fallback; pinned pages are written and read back), and real 2M
 * hugetlb pages when the machine has them free, or as root reserved here
 * and given back (skipped with the reason otherwise).
 *
 * Files are shared between threads.  A destroy normally waits until no
 * other call is in flight on that file.  The destroy_races_calls case
 * instead destroys while calls that started earlier are still running on
 * the file (include/guestmem.h: calls running when destroy started return
 * first, later ones fail with -EBADF once it succeeded): destroy gives 0 or
 * -EBUSY, the racing calls their usual results or -EBADF, and no pin may
 * be left on a file destroy took away.
 *
 * Env: GUESTMEM_SEED (default 1; printed) picks the threads' call
 * sequences; GUESTMEM_SOAK_SECONDS (default 3) and GUESTMEM_SOAK_OPS
 * (calls per thread, default 200000) bound each case; GUESTMEM_SOAK_THREADS
 * (default 4); GUESTMEM_SOAK_STRICT=1 fails on -EAGAIN where the API does
 * not document it (see transient()).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "../lib/libguestmem.h"
#include "guest_access.h"
#include "hugetlb_env.h"
#include "rng.h"


#define SOAK_MAX_THREADS	16
#define SOAK_SLOTS		6
#define SOAK_PINS		8	/* per thread */
#define SOAK_4K			UINT64_C(4096)

struct slot {
	pthread_mutex_t lock;		/* everything below */
	struct guestmem_file *f;	/* NULL: no file */
	uint64_t size;
	unsigned long gen;		/* bumped by every create */
	unsigned int inflight;		/* calls running on f */
	bool dying;			/* destroy under way: no new calls */
	unsigned int pins;		/* pins held on f, by all threads */
};

struct soak;

struct worker {
	struct soak *s;
	pthread_t thread;
	unsigned int id;
	struct rng rng;
	struct {
		int slot;		/* -1: free */
		unsigned long gen;
		struct guestmem_page page;
	} pins[SOAK_PINS];
	unsigned long calls, eagain, enomem, ebusy, destroys, creates, raced;
	unsigned long transient;	/* -EAGAIN outside the contract, see transient() */
	char failure[512];		/* first failure, "" if none */
};

struct soak {
	const char *name;
	struct guestmem_pool *pool;
	uint64_t huge, total;
	unsigned int max_huge;		/* pages per file at most */
	bool memory;			/* pages can be touched */
	bool race_destroy;
	bool strict;			/* GUESTMEM_SOAK_STRICT: transient() fails */
	struct slot slots[SOAK_SLOTS];
	struct worker w[SOAK_MAX_THREADS];
	unsigned int nr_threads;
	unsigned long seed, max_ops;
	double seconds;
	struct timespec t0;
	atomic_bool stop;		/* a thread failed */
	unsigned long warns;
};

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Record the first failure of a thread and stop everyone. */
static void soak_fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void soak_fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failure[0]) {
		int n = snprintf(w->failure, sizeof(w->failure), "%s: thread %u call %lu: ",
				 w->s->name, w->id, w->calls);

		va_start(ap, fmt);
		vsnprintf(w->failure + n, sizeof(w->failure) - n, fmt, ap);
		va_end(ap);
	}
	atomic_store(&w->s->stop, true);
}

#define want(w, what, rc, cond) do {						\
	if (!(cond))								\
		soak_fail(w, "%s returned %d (%s)", what, rc, guestmem_last_error());	\
} while (0)

/*
 * -EAGAIN where include/guestmem.h does not allow it: from a conversion to
 * shared, an allocation or a pin.  mm/ returns it when a folio it must
 * split holds a reference "for a moment": another thread's allocate or pin
 * holds one between hgmem_get_folio() and folio_put() (lib/file.c), and
 * lib/ passes the -EAGAIN on instead of retrying.  Counted and reported;
 * GUESTMEM_SOAK_STRICT=1 makes it a failure.  True when @rc is one.
 */
static bool transient(struct worker *w, int rc)
{
	if (rc != -EAGAIN || w->s->strict)
		return false;
	w->transient++;
	return true;
}

/* Enter a call on slot @i's file; NULL if there is none or it is going away. */
static struct guestmem_file *enter(struct soak *s, int i, unsigned long *gen)
{
	struct slot *sl = &s->slots[i];
	struct guestmem_file *f = NULL;

	pthread_mutex_lock(&sl->lock);
	if (sl->f && !sl->dying) {
		f = sl->f;
		sl->inflight++;
		*gen = sl->gen;
	}
	pthread_mutex_unlock(&sl->lock);
	return f;
}

static void leave(struct soak *s, int i)
{
	struct slot *sl = &s->slots[i];

	pthread_mutex_lock(&sl->lock);
	sl->inflight--;
	pthread_mutex_unlock(&sl->lock);
}

/* A range of whole 4K pages in a file of @size, biased to small and huge sizes. */
static void pick_range(struct worker *w, uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t pages = size / SOAK_4K, n;

	switch (rng_below(&w->rng, 4)) {
	case 0:
		n = 1 + rng_below(&w->rng, 8);
		break;
	case 1:
		n = 1 + rng_below(&w->rng, 1024);
		break;
	case 2:
		n = w->s->huge / SOAK_4K;
		break;
	default:
		n = 1 + rng_below(&w->rng, pages);
		break;
	}
	n = n < pages ? n : pages;
	*off = rng_below(&w->rng, pages - n + 1) * SOAK_4K;
	if (rng_below(&w->rng, 3) == 0)
		*off &= ~(w->s->huge - 1);
	*len = n * SOAK_4K;
	if (*off + *len > size)
		*len = size - *off;
}

static void do_create(struct worker *w, int i)
{
	struct soak *s = w->s;
	struct slot *sl = &s->slots[i];
	uint64_t size = (1 + rng_below(&w->rng, s->max_huge)) * s->huge;
	uint64_t flags = rng_below(&w->rng, 4);	/* INIT_SHARED, ZERO_ON_CONVERT */
	struct guestmem_file *f;
	int rc;

	pthread_mutex_lock(&sl->lock);
	if (sl->f) {
		pthread_mutex_unlock(&sl->lock);
		return;
	}
	/* Creating under the slot's lock: no call can find a half-made file. */
	rc = guestmem_file_create(s->pool, size, flags, &f);
	want(w, "file_create", rc, rc == 0 || rc == -ENOMEM);
	if (!rc) {
		sl->f = f;
		sl->size = size;
		sl->gen++;
		sl->pins = 0;
		w->creates++;
	} else {
		w->enomem++;
	}
	pthread_mutex_unlock(&sl->lock);
}

static void do_destroy(struct worker *w, int i)
{
	struct soak *s = w->s;
	struct slot *sl = &s->slots[i];
	struct guestmem_file *f;
	unsigned int pins, inflight;
	bool raced;
	int rc;

	pthread_mutex_lock(&sl->lock);
	f = sl->f;
	if (!f || sl->dying || (!s->race_destroy && sl->inflight)) {
		pthread_mutex_unlock(&sl->lock);
		return;
	}
	sl->dying = true;
	pins = sl->pins;
	inflight = sl->inflight;
	pthread_mutex_unlock(&sl->lock);

	/* Other calls may still run on f only in the race case (inflight). */
	rc = guestmem_file_destroy(f);
	raced = inflight > 0;
	w->raced += raced;
	if (!raced)
		want(w, "file_destroy", rc, rc == (pins ? -EBUSY : 0));
	else
		want(w, "file_destroy (racing calls)", rc, rc == 0 || rc == -EBUSY);

	pthread_mutex_lock(&sl->lock);
	if (rc) {
		w->ebusy++;
		sl->dying = false;
		pthread_mutex_unlock(&sl->lock);
		return;
	}
	/* f is gone: calls that raced it must have finished, without a pin on it. */
	while (sl->inflight) {
		pthread_mutex_unlock(&sl->lock);
		sched_yield();
		pthread_mutex_lock(&sl->lock);
	}
	if (sl->pins)
		soak_fail(w, "file_destroy returned 0 with %u pin(s) taken on the file", sl->pins);
	sl->f = NULL;
	sl->dying = false;
	w->destroys++;
	pthread_mutex_unlock(&sl->lock);
}

static void do_pin(struct worker *w, int i)
{
	struct soak *s = w->s;
	struct slot *sl = &s->slots[i];
	struct guestmem_file *f;
	unsigned long gen;
	uint64_t off;
	int p, rc;

	for (p = 0; p < SOAK_PINS && w->pins[p].slot >= 0; p++)
		;
	if (p == SOAK_PINS)
		return;
	f = enter(s, i, &gen);
	if (!f)
		return;
	off = rng_below(&w->rng, sl->size / SOAK_4K) * SOAK_4K;
	rc = guestmem_pin(f, off, &w->pins[p].page);
	/* -ENOMEM: a punched page of the file is still pinned; -EBADF: a destroy won. */
	want(w, "pin", rc, rc == 0 || rc == -EPERM || rc == -ENOMEM || transient(w, rc) ||
	     (s->race_destroy && rc == -EBADF));
	if (!rc) {
		if (s->memory) {
			volatile unsigned char *b = w->pins[p].page.addr;

			/* Mapped and writable (others may punch, which zeroes it). */
			guest_access_begin();
			b[0] = (unsigned char)w->id;
			b[SOAK_4K - 1] = b[0];
			guest_access_end();
		}
		w->pins[p].slot = i;
		w->pins[p].gen = gen;
		pthread_mutex_lock(&sl->lock);
		sl->pins++;
		pthread_mutex_unlock(&sl->lock);
	}
	w->enomem += rc == -ENOMEM;
	leave(s, i);
}

static void do_unpin(struct worker *w, int p)
{
	struct soak *s = w->s;
	int i = w->pins[p].slot;
	struct slot *sl = &s->slots[i];
	struct guestmem_file *f;
	unsigned long gen;
	int rc;

	f = enter(s, i, &gen);
	if (!f)
		return;		/* being destroyed: it will fail with -EBUSY, unpin later */
	if (gen != w->pins[p].gen)
		soak_fail(w, "a file with a pin was destroyed");
	rc = guestmem_unpin(f, &w->pins[p].page);
	want(w, "unpin", rc, rc == 0);
	if (!rc) {
		w->pins[p].slot = -1;
		pthread_mutex_lock(&sl->lock);
		sl->pins--;
		pthread_mutex_unlock(&sl->lock);
	}
	leave(s, i);
}

/* One call on an existing file of slot @i. */
static void do_file_call(struct worker *w, int i, unsigned int kind)
{
	struct soak *s = w->s;
	struct slot *sl = &s->slots[i];
	struct guestmem_file_stats fst;
	struct guestmem_file *f;
	struct guestmem_page none;
	unsigned long gen;
	uint64_t off, len, run, bad = 0;
	unsigned int st, to;
	const char *why;
	bool race;
	int rc;

	f = enter(s, i, &gen);
	if (!f)
		return;
	race = s->race_destroy;
	pick_range(w, sl->size, &off, &len);
	switch (kind) {
	case 0:
		rc = guestmem_allocate(f, off, len);
		want(w, "allocate", rc, rc == 0 || rc == -ENOMEM || transient(w, rc) ||
		     (race && rc == -EBADF));
		w->enomem += rc == -ENOMEM;
		break;
	case 1:
		rc = guestmem_punch_hole(f, off, len);
		want(w, "punch_hole", rc, rc == 0 || (race && rc == -EBADF));
		break;
	case 2:
	case 3:
		to = rng_below(&w->rng, 2) ? GUESTMEM_SHARED : GUESTMEM_PRIVATE;
		rc = guestmem_convert(f, off, len, to, &bad);
		want(w, to == GUESTMEM_SHARED ? "convert to shared" : "convert to private", rc,
		     rc == 0 || (rc == -EAGAIN && to == GUESTMEM_PRIVATE) ||
		     (to == GUESTMEM_SHARED && transient(w, rc)) || (race && rc == -EBADF));
		if (rc == -EAGAIN && (bad < off || bad >= off + len || bad % SOAK_4K))
			soak_fail(w, "convert: -EAGAIN at %#llx, outside [%#llx, +%#llx)",
			     (unsigned long long)bad, (unsigned long long)off,
			     (unsigned long long)len);
		w->eagain += rc == -EAGAIN;
		break;
	case 4:
		rc = guestmem_state(f, off, &st, &run);
		want(w, "state", rc, (rc == 0 && (st == GUESTMEM_SHARED || st == GUESTMEM_PRIVATE) &&
				       run >= SOAK_4K && off + run <= sl->size) || (race && rc == -EBADF));
		break;
	case 5:
		rc = guestmem_file_stats(f, &fst, sizeof(fst));
		want(w, "file_stats", rc, rc == 0 || (race && rc == -EBADF));
		if (!rc && (fst.size != sl->size || fst.shared_bytes + fst.private_bytes != fst.size ||
			    fst.allocated > fst.size || fst.huge_mappable > fst.allocated))
			soak_fail(w, "file stats: size %llu shared %llu private %llu allocated %llu"
			     " huge_mappable %llu", (unsigned long long)fst.size,
			     (unsigned long long)fst.shared_bytes,
			     (unsigned long long)fst.private_bytes,
			     (unsigned long long)fst.allocated,
			     (unsigned long long)fst.huge_mappable);
		break;
	case 6:
		/* mm/'s checker, while other threads change the file. */
		if (!race && hgmem_check_file(f->gf, &why))
			soak_fail(w, "invariant: %s", why);
		break;
	default:
		/* Bad arguments are refused, and change nothing. */
		rc = guestmem_convert(f, off + 1, len, GUESTMEM_SHARED, NULL);
		want(w, "convert (misaligned)", rc, rc == -EINVAL || (race && rc == -EBADF));
		rc = guestmem_allocate(f, sl->size, SOAK_4K);
		want(w, "allocate (past the end)", rc, rc == -ERANGE || (race && rc == -EBADF));
		memset(&none, 0, sizeof(none));
		rc = guestmem_unpin(f, &none);
		want(w, "unpin (never pinned)", rc, rc == -EINVAL || (race && rc == -EBADF));
		break;
	}
	leave(s, i);
}

static void pool_books(struct worker *w)
{
	struct guestmem_pool_stats st;
	int rc = guestmem_pool_stats(w->s->pool, &st, sizeof(st));

	want(w, "pool_stats", rc, rc == 0);
	if (!rc && (st.total != w->s->total || st.free + st.reserved + st.in_use != st.total ||
		    st.pending > st.in_use))
		soak_fail(w, "pool stats: total %llu free %llu reserved %llu in_use %llu pending %llu",
		     (unsigned long long)st.total, (unsigned long long)st.free,
		     (unsigned long long)st.reserved, (unsigned long long)st.in_use,
		     (unsigned long long)st.pending);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct soak *s = w->s;
	int p;

	while (!atomic_load(&s->stop) && w->calls < s->max_ops) {
		int i = (int)rng_below(&w->rng, SOAK_SLOTS);
		unsigned int r = (unsigned int)rng_below(&w->rng, 100);

		w->calls++;
		if ((w->calls & 255) == 0 && elapsed(&s->t0) > s->seconds)
			break;
		if (r < 3) {
			do_create(w, i);
		} else if (r < 6) {
			do_destroy(w, i);
		} else if (r < 18) {
			do_pin(w, i);
		} else if (r < 30) {
			p = (int)rng_below(&w->rng, SOAK_PINS);
			if (w->pins[p].slot >= 0)
				do_unpin(w, p);
		} else if (r < 33) {
			pool_books(w);
		} else {
			/* allocate, punch, convert x2, state, stats, check, bad args */
			static const unsigned char kinds[] = {
				0, 0, 1, 2, 2, 3, 3, 2, 3, 4, 4, 5, 6, 7,
			};

			do_file_call(w, i, kinds[rng_below(&w->rng, sizeof(kinds))]);
		}
	}
	/* Give back every pin; a slot being destroyed will fail with -EBUSY. */
	for (p = 0; p < SOAK_PINS; p++)
		while (w->pins[p].slot >= 0 && !atomic_load(&s->stop))
			do_unpin(w, p);
	return NULL;
}

static void soak_run(struct soak *s)
{
	struct guestmem_pool_stats st;
	unsigned long calls = 0, eagain = 0, enomem = 0, ebusy = 0, creates = 0;
	unsigned long destroys = 0, raced = 0, trans = 0;
	unsigned int i;
	int rc;

	s->seed = env_ulong("GUESTMEM_SEED", 1);
	s->seconds = (double)env_ulong("GUESTMEM_SOAK_SECONDS", 3);
	s->max_ops = env_ulong("GUESTMEM_SOAK_OPS", 200000);
	s->nr_threads = (unsigned int)env_ulong("GUESTMEM_SOAK_THREADS", 4);
	if (s->nr_threads < 1 || s->nr_threads > SOAK_MAX_THREADS)
		s->nr_threads = 4;
	s->strict = env_ulong("GUESTMEM_SOAK_STRICT", 0);
	s->warns = shim_warn_count();
	ck_assert_int_eq(guestmem_pool_stats(s->pool, &st, sizeof(st)), 0);
	s->huge = st.page_size;
	s->total = st.total;
	s->memory = st.backend != GUESTMEM_BACKEND_SIMULATED;
	for (i = 0; i < SOAK_SLOTS; i++) {
		memset(&s->slots[i], 0, sizeof(s->slots[i]));
		pthread_mutex_init(&s->slots[i].lock, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	atomic_store(&s->stop, false);
	for (i = 0; i < s->nr_threads; i++) {
		struct worker *w = &s->w[i];
		int p;

		memset(w, 0, sizeof(*w));
		w->s = s;
		w->id = i;
		rng_seed(&w->rng, (s->seed + 1) * UINT64_C(0x9e3779b97f4a7c15) + i * UINT64_C(7919));
		for (p = 0; p < SOAK_PINS; p++)
			w->pins[p].slot = -1;
		ck_assert_int_eq(pthread_create(&w->thread, NULL, worker_main, w), 0);
	}
	for (i = 0; i < s->nr_threads; i++) {
		struct worker *w = &s->w[i];

		pthread_join(w->thread, NULL);
		ck_assert_msg(!w->failure[0], "GUESTMEM_SEED=%lu: %s", s->seed, w->failure);
		calls += w->calls;
		eagain += w->eagain;
		enomem += w->enomem;
		ebusy += w->ebusy;
		creates += w->creates;
		destroys += w->destroys;
		raced += w->raced;
		trans += w->transient;
	}

	/* Everything freed: the pool must be whole again. */
	for (i = 0; i < SOAK_SLOTS; i++) {
		struct slot *sl = &s->slots[i];

		ck_assert_uint_eq(sl->pins, 0);
		if (sl->f)
			ck_assert_msg((rc = guestmem_file_destroy(sl->f)) == 0,
				      "destroy at the end: %d (%s)", rc, guestmem_last_error());
		pthread_mutex_destroy(&sl->lock);
	}
	ck_assert_int_eq(guestmem_pool_stats(s->pool, &st, sizeof(st)), 0);
	ck_assert_msg(st.free == st.total && st.total == s->total && !st.reserved &&
		      !st.in_use && !st.pending,
		      "GUESTMEM_SEED=%lu: pool not whole: total %llu free %llu reserved %llu"
		      " in_use %llu pending %llu", s->seed, (unsigned long long)st.total,
		      (unsigned long long)st.free, (unsigned long long)st.reserved,
		      (unsigned long long)st.in_use, (unsigned long long)st.pending);
	ck_assert_msg(shim_warn_count() == s->warns, "GUESTMEM_SEED=%lu: WARN fired: %s",
		      s->seed, shim_last_warning());
	ck_assert_int_eq(guestmem_pool_destroy(s->pool), 0);
	printf("%s: GUESTMEM_SEED=%lu, %u threads, %.1fs: %lu calls (%lu -EAGAIN, %lu -ENOMEM,"
	       " %lu -EBUSY), %lu files created, %lu destroyed (%lu racing calls),"
	       " %llu splits, %llu merges; pool whole\n", s->name, s->seed, s->nr_threads,
	       elapsed(&s->t0), calls, eagain, enomem, ebusy, creates, destroys, raced,
	       (unsigned long long)st.splits, (unsigned long long)st.merges);
	if (trans)
		printf("%s: NOTE: %lu -EAGAIN from convert to shared, allocate or pin, which"
		       " include/guestmem.h does not allow (a folio to split held for a moment by"
		       " another thread; GUESTMEM_SOAK_STRICT=1 fails on it)\n", s->name, trans);
}

static struct guestmem_pool *make_pool(uint64_t page, uint64_t nr, uint64_t flags)
{
	struct guestmem_pool_opts o = { .page_size = page, .nr_pages = nr, .node = -1,
					.flags = flags };
	struct guestmem_pool *pool = NULL;
	int rc = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!rc, "pool_create: %d: %s", rc, guestmem_last_error());
	return pool;
}

static struct soak soak;	/* large: not on a test's stack */

START_TEST(test_soak_simulated_2m)
{
	soak = (struct soak){ .name = "simulated 2M", .max_huge = 4 };
	soak.pool = make_pool(GUESTMEM_PAGE_2M, 20, GUESTMEM_POOL_SIMULATE);
	soak_run(&soak);
}
END_TEST

START_TEST(test_soak_simulated_1g)
{
	soak = (struct soak){ .name = "simulated 1G", .max_huge = 2 };
	soak.pool = make_pool(GUESTMEM_PAGE_1G, 8, GUESTMEM_POOL_SIMULATE);
	soak_run(&soak);
}
END_TEST

START_TEST(test_soak_memory)
{
	/* Ordinary memory, or the machine's hugetlb pages if it has them free. */
	soak = (struct soak){ .name = "memory (fallback)", .max_huge = 3 };
	soak.pool = make_pool(GUESTMEM_PAGE_2M, 12, GUESTMEM_POOL_FALLBACK);
	soak_run(&soak);
}
END_TEST

/* ---- real hugetlb: reserved here as root, under the machine-wide lock ---- */

START_TEST(test_soak_hugetlb)
{
	const long need = 12;
	struct hugetlb_env e;

	if (hugetlb_env_reserve(&e, 2048, need)) {
		soak = (struct soak){ .name = "hugetlb 2M", .max_huge = 3 };
		soak.pool = make_pool(GUESTMEM_PAGE_2M, need, 0);
		soak_run(&soak);
	}
	ck_assert_msg(hugetlb_env_restore(&e), "could not restore %s to %ld", e.raise.path,
		      e.raise.nr_before);
}
END_TEST

START_TEST(test_soak_destroy_races_calls)
{
	soak = (struct soak){ .name = "destroy racing calls", .max_huge = 2,
			      .race_destroy = true };
	soak.pool = make_pool(GUESTMEM_PAGE_2M, 16, GUESTMEM_POOL_SIMULATE);
	soak_run(&soak);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("soak");
	TCase *tc = tcase_create("soak");
	SRunner *sr;
	int failed;

	printf("GUESTMEM_SEED=%lu (set it to run other call sequences)\n",
	       env_ulong("GUESTMEM_SEED", 1));
	/* Each case is bounded by GUESTMEM_SOAK_SECONDS; Check's timeout is far above it. */
	tcase_set_timeout(tc, 60 + 4 * (double)env_ulong("GUESTMEM_SOAK_SECONDS", 3));
	tcase_add_test(tc, test_soak_simulated_2m);
	tcase_add_test(tc, test_soak_simulated_1g);
	tcase_add_test(tc, test_soak_memory);
	tcase_add_test(tc, test_soak_hugetlb);
	tcase_add_test(tc, test_soak_destroy_races_calls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
