// SPDX-License-Identifier: LGPL-2.1-or-later
/* Helpers shared by the Check suites. */
#include <stdarg.h>

#include "test_util.h"

static unsigned long warn_base;

struct hstate *tu_pool_kind(unsigned int order, unsigned long nr,
			    enum shim_backend kind)
{
	struct hstate *h = NULL;
	int err = shim_hstate_create(order, nr, kind, &h);

	ck_assert_msg(!err, "shim_hstate_create: %d", err);
	return h;
}

struct hstate *tu_pool(unsigned int order, unsigned long nr)
{
	return tu_pool_kind(order, nr, SHIM_BACKEND_MEMORY);
}

void tu_pool_destroy(struct hstate *h)
{
	tu_assert_pool_whole(h);
	ck_assert_int_eq(shim_hstate_destroy(h), 0);
}

struct hgmem_file *tu_file(struct hstate *h, u64 size, u64 flags)
{
	struct hgmem_file *f = NULL;
	int err = hgmem_file_create(h, size, flags, NUMA_NO_NODE, &f);

	ck_assert_msg(!err, "hgmem_file_create: %d", err);
	tu_check(f);
	return f;
}

void tu_check_at(struct hgmem_file *f, const char *file, int line)
{
	struct shim_hstate_counters c;
	const char *why = NULL;

	ck_assert_msg(!hgmem_check_file(f, &why), "%s:%d: invariant: %s",
		      file, line, why);
	ck_assert_msg(shim_hstate_consistent(f->h), "%s:%d: pool books", file, line);
	shim_hstate_counters(f->h, &c);
	/* Conservation: every page in use is the file's or awaiting return. */
	ck_assert_msg(c.free + c.in_use == c.total, "%s:%d: pool leaks", file, line);
	ck_assert_msg(c.in_use >= atomic_long_read(&f->nr_huge) + hgmem_nr_pending(f->h),
		      "%s:%d: in use %lu < allocated %lu + pending %lu", file, line,
		      c.in_use, atomic_long_read(&f->nr_huge), hgmem_nr_pending(f->h));
}

void tu_assert_pool_whole_at(struct hstate *h, const char *file, int line)
{
	struct shim_hstate_counters c;

	hgmem_flush_deferred();
	shim_hstate_counters(h, &c);
	ck_assert_msg(c.free == c.total && c.resv == 0 && c.in_use == 0 &&
		      c.subpools == 0 && hgmem_nr_pending(h) == 0,
		      "%s:%d: pool not whole: total %lu free %lu resv %lu in_use %lu subpools %ld pending %lu",
		      file, line, c.total, c.free, c.resv, c.in_use, c.subpools,
		      hgmem_nr_pending(h));
	ck_assert(shim_hstate_consistent(h));
}

void tu_reset_warnings(void)
{
	warn_base = shim_warn_count();
}

void tu_assert_no_warnings(void)
{
	ck_assert_msg(shim_warn_count() == warn_base, "WARN fired: %s",
		      shim_last_warning());
}

static struct hgmem_huge *tu_huge(struct hgmem_file *f, u64 off)
{
	struct hgmem_huge *hp = xa_load(&f->huge, (off >> PAGE_SHIFT) >> f->order);

	ck_assert_msg(hp, "offset %#llx not allocated", (unsigned long long)off);
	return hp;
}

int tu_order_at(struct hgmem_file *f, u64 off)
{
	return folio_order(hgmem_folio_at(tu_huge(f, off), off >> PAGE_SHIFT));
}

unsigned long tu_nr_folios(struct hgmem_file *f, u64 off)
{
	struct hgmem_huge *hp = tu_huge(f, off);
	unsigned long pfn, n = 0, end = hp->pfn + (1UL << hp->order);

	for (pfn = hp->pfn; pfn < end; pfn += folio_nr_pages(pfn_folio(pfn)))
		n++;
	return n;
}

unsigned char *tu_addr(struct hgmem_file *f, u64 off)
{
	struct hgmem_huge *hp = tu_huge(f, off);
	pgoff_t index = off >> PAGE_SHIFT;
	struct folio *folio = hgmem_folio_at(hp, index);

	return (unsigned char *)folio_address(folio) +
	       (index - hgmem_folio_index(hp, folio)) * PAGE_SIZE;
}

static void tu_printf(FILE *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

void tu_snapshot(struct hgmem_file *f, struct tu_snapshot *s)
{
	FILE *out = open_memstream(&s->text, &s->len);
	struct shim_hstate_counters c;
	pgoff_t i, last, next;
	struct hgmem_huge *hp;
	unsigned long hidx;
	enum hgmem_state state;

	hgmem_lock(f, 0, f->nr_pages);
	for (i = 0; i < f->nr_pages; i = last + 1) {
		state = hgmem_state_at(f, i, &last);
		while (last + 1 < f->nr_pages && hgmem_state_at(f, last + 1, &next) == state)
			last = next;
		tu_printf(out, "state [%lu,%lu]=%d\n", i, last, state);
	}
	xa_for_each(&f->huge, hidx, hp) {
		unsigned long pfn, end = hp->pfn + (1UL << hp->order);

		tu_printf(out, "huge %lu pfn %lu:", hidx, hp->pfn);
		for (pfn = hp->pfn; pfn < end;) {
			struct folio *folio = pfn_folio(pfn);

			tu_printf(out, " %lu/o%u/r%d/f%lx", pfn - hp->pfn,
				  folio_order(folio), folio_ref_count(folio),
				  folio->flags);
			pfn += folio_nr_pages(folio);
		}
		tu_printf(out, "\n");
	}
	tu_printf(out, "nr_huge %ld splits %ld merges %ld\n",
		  atomic_long_read(&f->nr_huge), atomic_long_read(&f->nr_splits),
		  atomic_long_read(&f->nr_merges));
	hgmem_unlock(f, 0, f->nr_pages);
	shim_hstate_counters(f->h, &c);
	tu_printf(out, "pool total %lu free %lu resv %lu in_use %lu pending %lu\n",
		  c.total, c.free, c.resv, c.in_use, hgmem_nr_pending(f->h));
	tu_printf(out, "spool used %ld rsv %ld\n", f->spool->used_hpages,
		  f->spool->rsv_hpages);
	fclose(out);
}

void tu_snapshot_free(struct tu_snapshot *s)
{
	free(s->text);
	s->text = NULL;
}

unsigned long tu_seed(unsigned long def)
{
	const char *env = getenv("GUESTMEM_SEED");

	return env ? strtoul(env, NULL, 0) : def;
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

static void *tu_holder_main(void *arg)
{
	struct tu_holder *hd = arg;

	hd->lock(hd->l);
	pthread_barrier_wait(&hd->taken);
	pthread_barrier_wait(&hd->release);
	hd->unlock(hd->l);
	return NULL;
}

void tu_hold_start(struct tu_holder *hd, void (*lock)(void *), void (*unlock)(void *),
		   void *l)
{
	hd->lock = lock;
	hd->unlock = unlock;
	hd->l = l;
	ck_assert_int_eq(pthread_barrier_init(&hd->taken, NULL, 2), 0);
	ck_assert_int_eq(pthread_barrier_init(&hd->release, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&hd->thread, NULL, tu_holder_main, hd), 0);
	pthread_barrier_wait(&hd->taken);
}

void tu_hold_stop(struct tu_holder *hd)
{
	pthread_barrier_wait(&hd->release);
	ck_assert_int_eq(pthread_join(hd->thread, NULL), 0);
	pthread_barrier_destroy(&hd->taken);
	pthread_barrier_destroy(&hd->release);
}

void tu_mutex_lock(void *l) { mutex_lock(l); }
void tu_mutex_unlock(void *l) { mutex_unlock(l); }
void tu_spin_lock(void *l) { spin_lock(l); }
void tu_spin_unlock(void *l) { spin_unlock(l); }
