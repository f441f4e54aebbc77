// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Operations on different huge pages of one file run in parallel: one huge
 * page held by an operation in progress does not stop the others, and
 * threads hammering one file, within and across huge pages, leave it
 * consistent, with exactly the state each thread asked for, and give every
 * page back to the pool.  No timing is measured here (bench "threads" does
 * that); the TSan build runs this suite too.
 */
#include "rng.h"
#include "test_util.h"

#define NR_THREADS	4

/* Hold huge page @hidx of a file as an operation on it does. */
struct huge_hold {
	struct hgmem_file *f;
	pgoff_t hidx;
};

static void hold_huge(void *arg)
{
	struct huge_hold *hh = arg;
	pgoff_t base = hh->hidx << hh->f->order;

	hgmem_lock(hh->f, base, base + 1);
}

static void release_huge(void *arg)
{
	struct huge_hold *hh = arg;
	pgoff_t base = hh->hidx << hh->f->order;

	hgmem_unlock(hh->f, base, base + 1);
}

/*
 * With huge page 0 held by another thread, every operation on the other
 * huge pages completes (were they serialised on the file, this would hang
 * until the suite's timeout), reading their state too.
 */
START_TEST(test_held_huge_page_does_not_block_others)
{
	struct hstate *h = tu_pool(PMD_ORDER, 4);
	struct hgmem_file *f = tu_file(h, 4 * SZ_2M, 0);
	struct huge_hold hh = { .f = f, .hidx = 0 };
	enum hgmem_state s;
	struct folio *folio;
	struct tu_holder hd;
	u64 bad = 0;
	int order;

	ck_assert_int_eq(hgmem_allocate(f, 0, 4 * SZ_2M), 0);
	tu_hold_start(&hd, hold_huge, release_huge, &hh);

	ck_assert_int_eq(hgmem_convert(f, SZ_2M + SZ_4K, SZ_4K, HGMEM_SHARED, &bad), 0);
	ck_assert_int_eq(hgmem_get_folio(f, (2 * SZ_2M) >> PAGE_SHIFT, &folio, &order), 0);
	ck_assert_int_eq(order, PMD_ORDER);
	folio_put(folio);
	ck_assert_int_eq(hgmem_punch_hole(f, 3 * SZ_2M, SZ_2M), 0);
	ck_assert_int_eq(hgmem_allocate(f, 3 * SZ_2M, SZ_4K), 0);
	ck_assert_int_eq(hgmem_get_state(f, SZ_2M + SZ_4K, &s, NULL), 0);
	ck_assert_int_eq(s, HGMEM_SHARED);
	ck_assert_int_eq(hgmem_convert(f, SZ_2M + SZ_4K, SZ_4K, HGMEM_PRIVATE, &bad), 0);

	tu_hold_stop(&hd);
	tu_check(f);
	hgmem_file_release(f);
	tu_assert_pool_whole(h);
	tu_pool_destroy(h);
}
END_TEST

/* A huge page lock held by another thread does not count as held. */
START_TEST(test_huge_lock_of_another_thread_does_not_count)
{
	struct huge_hold hh = { .hidx = 0 };
	struct hgmem_file *f;
	struct tu_holder hd;
	unsigned long warns;
	struct hstate *h;

	TU_SKIP_WITHOUT_LOCK_CHECKS();
	h = tu_pool(PMD_ORDER, 2);
	f = tu_file(h, 2 * SZ_2M, 0);
	hh.f = f;
	tu_hold_start(&hd, hold_huge, release_huge, &hh);
	warns = shim_warn_count();
	hgmem_assert_locked(f, 0, 1);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	tu_hold_stop(&hd);

	/* Held here: the huge page's lock covers its pages, not a wider range. */
	hold_huge(&hh);
	hgmem_assert_locked(f, 0, 1);
	hgmem_assert_locked(f, 0, 512);
	ck_assert_uint_eq(shim_warn_count(), warns + 1);
	hgmem_assert_locked(f, 0, 513);
	ck_assert_uint_eq(shim_warn_count(), warns + 2);
	release_huge(&hh);
	/* A range spanning huge pages: the file's lock, with every huge page lock. */
	hgmem_lock(f, 0, 1024);
	hgmem_assert_locked(f, 0, 1024);
	hgmem_assert_locked(f, 512, 513);
	ck_assert(lockdep_is_held(hgmem_huge_lock(f, HGMEM_HUGE_LOCKS - 1)));
	hgmem_unlock(f, 0, 1024);
	ck_assert(!lockdep_is_held(hgmem_huge_lock(f, 0)));
	ck_assert_uint_eq(shim_warn_count(), warns + 2);
	tu_reset_warnings();

	hgmem_file_release(f);
	tu_assert_pool_whole(h);
	tu_pool_destroy(h);
}
END_TEST

/*
 * Each thread owns some huge pages and keeps a model of their state; it
 * converts random runs inside them (4K to whole pages, splitting and
 * merging), faults, punches and allocates, while the other threads do the
 * same next door, and now and then reads the file's statistics, checks it
 * or allocates all of its pages at once, which take the file exclusively.
 * At the end every page has the state its owner's model says.  On pools
 * with memory behind them each thread also keeps a model of the first byte
 * of its pages, which it writes through faults: a conversion keeps the
 * data in place, or zeroes exactly the pages that change state
 * (HGMEM_FILE_ZERO_ON_CONVERT), and a punch zeroes what it covers.
 */
struct worker {
	struct hgmem_file *f;
	unsigned int id;
	struct rng rng;
	unsigned long ops;
	pgoff_t first, nr;		/* owned pages */
	unsigned char *model;		/* state per owned page */
	unsigned char *data;		/* first byte per owned page, or NULL */
	int err;
};

/* Fault page @index of @w's file in; compare its first byte, then write @set (if >= 0). */
static int touch_page(struct worker *w, pgoff_t index, int set)
{
	unsigned char *byte, *want = &w->data[index - w->first];
	struct folio *folio;
	int order, err;

	err = hgmem_get_folio(w->f, index, &folio, &order);
	if (err)
		return err == -EAGAIN ? 0 : err;
	byte = (unsigned char *)folio_address(folio) +
	       ((index & ((1UL << folio_order(folio)) - 1)) << PAGE_SHIFT);
	if (*byte != *want) {
		fprintf(stderr, "thread %u page %lu: byte %#x, model %#x\n", w->id,
			(unsigned long)index, *byte, *want);
		err = -EUCLEAN;
	} else if (set >= 0) {
		*byte = *want = set;
	}
	folio_put(folio);
	return err;
}

static int worker_op(struct worker *w)
{
	unsigned long r = (unsigned long)rng_next(&w->rng);
	pgoff_t huge = hgmem_huge_pages(w->f), start, n, i;
	unsigned int to = r & 1;
	struct folio *folio;
	u64 bad;
	int order, err;

	switch ((r >> 1) % 8) {
	case 0:
	case 1:		/* a short run inside one owned huge page */
		start = w->first + (r >> 4) % w->nr;
		n = 1 + (r >> 24) % 8;
		n = min(n, huge - (start & (huge - 1)));
		break;
	case 2:		/* a short run across two owned huge pages (exclusive) */
		if (w->nr / huge < 2)
			return 0;
		start = w->first + (1 + (r >> 4) % (w->nr / huge - 1)) * huge -
			1 - (r >> 24) % 4;
		n = 2 + (r >> 28) % 8;
		break;
	case 3:		/* a whole owned huge page */
		start = w->first + ((r >> 4) % (w->nr / huge)) * huge;
		n = huge;
		break;
	case 4: {	/* fault a page (and write to it) */
		start = w->first + (r >> 4) % w->nr;
		if (w->data)
			return touch_page(w, start, 1 + (r >> 24) % 255);
		err = hgmem_get_folio(w->f, start, &folio, &order);
		if (!err)
			folio_put(folio);
		return err == -EAGAIN ? 0 : err;
	}
	case 5:		/* punch an owned huge page, or part of it */
		start = w->first + ((r >> 4) % (w->nr / huge)) * huge;
		n = r & 16 ? huge : 1 + (r >> 24) % huge;
		err = hgmem_punch_hole(w->f, (u64)start << PAGE_SHIFT,
				       (u64)n << PAGE_SHIFT);
		if (!err && w->data)
			memset(&w->data[start - w->first], 0, n);
		return err;
	case 6:		/* allocate an owned huge page */
		start = w->first + ((r >> 4) % (w->nr / huge)) * huge;
		err = hgmem_allocate(w->f, (u64)start << PAGE_SHIFT, PAGE_SIZE);
		return err == -EAGAIN ? 0 : err;
	default: {	/* the whole file: these take it exclusively */
		struct hgmem_file_stats st;

		hgmem_file_stats(w->f, &st);
		return r & 16 ? hgmem_check_file(w->f, NULL) :
		       hgmem_allocate(w->f, (u64)w->first << PAGE_SHIFT,
				      (u64)w->nr << PAGE_SHIFT);
	}
	}
	err = hgmem_convert(w->f, (u64)start << PAGE_SHIFT, (u64)n << PAGE_SHIFT,
			    to, &bad);
	if (err)
		return err;
	for (i = start; i < start + n; i++) {
		if (w->data && (w->f->flags & HGMEM_FILE_ZERO_ON_CONVERT) &&
		    w->model[i - w->first] != to)
			w->data[i - w->first] = 0;
		w->model[i - w->first] = to;
	}
	return 0;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	unsigned long i;

	for (i = 0; i < w->ops && !w->err; i++)
		w->err = worker_op(w);
	return NULL;
}

static void hammer(unsigned int order, unsigned long huge_per_thread,
		   unsigned long ops, u64 flags, enum shim_backend kind)
{
	const pgoff_t per = huge_per_thread << order;
	struct hstate *h = tu_pool_kind(order, NR_THREADS * huge_per_thread, kind);
	struct hgmem_file *f = tu_file(h, (u64)NR_THREADS * per << PAGE_SHIFT, flags);
	unsigned long seed = tu_seed(0x5eed), i;
	struct worker w[NR_THREADS];
	pthread_t tid[NR_THREADS];
	enum hgmem_state s;
	u64 run;

	for (i = 0; i < NR_THREADS; i++) {
		w[i] = (struct worker){
			.f = f, .id = i, .rng = { seed * 2654435761UL + i + 1 },
			.ops = ops, .first = i * per, .nr = per,
			.model = calloc(per, 1),
			.data = kind == SHIM_BACKEND_RESERVE ? NULL : calloc(per, 1),
		};
		ck_assert_ptr_nonnull(w[i].model);
		ck_assert(kind == SHIM_BACKEND_RESERVE || w[i].data);
		memset(w[i].model, !!(flags & HGMEM_FILE_INIT_SHARED), per);
		ck_assert_int_eq(pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < NR_THREADS; i++) {
		pthread_join(tid[i], NULL);
		ck_assert_msg(!w[i].err, "thread %lu: error %d", i, w[i].err);
	}
	tu_check(f);
	for (i = 0; i < NR_THREADS; i++) {
		pgoff_t p;

		for (p = 0; p < per; p += run >> PAGE_SHIFT) {
			ck_assert_int_eq(hgmem_get_state(f, (u64)(w[i].first + p) << PAGE_SHIFT,
							 &s, &run), 0);
			run = min_t(u64, run, (u64)(per - p) << PAGE_SHIFT);
			ck_assert_msg(s == w[i].model[p],
				      "thread %lu page %lu: state %d, model %d",
				      i, (unsigned long)p, s, w[i].model[p]);
			ck_assert_msg(!memchr(&w[i].model[p], !s, run >> PAGE_SHIFT),
				      "thread %lu: run from page %lu is not uniform in the model",
				      i, (unsigned long)p);
		}
		for (p = 0; w[i].data && p < per; p++)
			ck_assert_int_eq(touch_page(&w[i], w[i].first + p, -1), 0);
		free(w[i].model);
		free(w[i].data);
	}
	hgmem_file_release(f);
	hgmem_flush_deferred();
	tu_assert_pool_whole(h);
	tu_pool_destroy(h);
}

START_TEST(test_threads_2m)
{
	hammer(PMD_ORDER, 4, 3000, 0, SHIM_BACKEND_MEMORY);
}
END_TEST

/* The same from shared, zeroing what converts. */
START_TEST(test_threads_2m_shared_zeroing)
{
	hammer(PMD_ORDER, 4, 3000, HGMEM_FILE_INIT_SHARED | HGMEM_FILE_ZERO_ON_CONVERT,
	       SHIM_BACKEND_MEMORY);
}
END_TEST

/*
 * A file of 2 * HGMEM_HUGE_LOCKS huge pages: every hashed lock is shared by
 * two huge pages of two different threads, whose operations then take
 * turns on one lock and must still leave every model exact.
 */
START_TEST(test_threads_2m_hashed_locks)
{
	hammer(PMD_ORDER, HGMEM_HUGE_LOCKS / 2, 1500, 0, SHIM_BACKEND_RESERVE);
}
END_TEST

START_TEST(test_threads_1g)
{
	hammer(PUD_ORDER, 1, 400, 0, SHIM_BACKEND_RESERVE);
}
END_TEST

static Suite *parallel_suite(void)
{
	Suite *s = suite_create("parallel");
	TCase *tc = tcase_create("parallel");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_held_huge_page_does_not_block_others);
	tcase_add_test(tc, test_huge_lock_of_another_thread_does_not_count);
	tcase_add_test(tc, test_threads_2m);
	tcase_add_test(tc, test_threads_2m_shared_zeroing);
	tcase_add_test(tc, test_threads_2m_hashed_locks);
	tcase_add_test(tc, test_threads_1g);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(parallel_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
