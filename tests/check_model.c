// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Randomized operations checked against a simple reference model: one
 * entry per 4K page (state, content byte) and one per huge page (allocated).
 * Pins are held across operations, so conversions hit -EAGAIN, merges get
 * skipped and punched pages wait for reassembly.  The seed is fixed, can be
 * chosen with GUESTMEM_SEED, and is printed with every failure.
 */
#include "huge_span.h"
#include "rng.h"
#include "test_util.h"

#define MAX_PINS 4

struct pin {
	struct folio *folio;
	pgoff_t first, last;	/* file pages the folio covered */
	bool attached;
};

struct model {
	struct hgmem_file *f;
	unsigned long seed;
	pgoff_t nr_pages;
	unsigned int order;
	bool touch;		/* memory is real: check contents */
	unsigned char *state;
	unsigned char *data;	/* first byte of each page */
	bool *allocated;	/* per huge page */
	struct pin pins[MAX_PINS];
	unsigned long ops, eagain;
};

static struct rng rng;

/* Only failures reach Check: a passing ck_assert costs a write(2). */
#define mcheck(m, cond, fmt, ...) do {						\
	if (!(cond))								\
		ck_abort_msg("seed %lu op %lu: " fmt, (m)->seed, (m)->ops, ##__VA_ARGS__); \
} while (0)

/* A random page range, biased towards the sizes real guests convert. */
static void pick_range(struct model *m, pgoff_t *start, pgoff_t *nr)
{
	pgoff_t huge = 1UL << m->order;

	switch (rng_below(&rng, 4)) {
	case 0:
		*nr = 1 + rng_below(&rng, 4);
		break;
	case 1:
		*nr = 1 + rng_below(&rng, 600);
		break;
	case 2:
		*nr = 512 * (1 + rng_below(&rng, 3));
		break;
	default:
		*nr = huge * (1 + rng_below(&rng, 2));
		break;
	}
	*nr = min(*nr, m->nr_pages);
	*start = rng_below(&rng, m->nr_pages - *nr + 1);
	if (rng_below(&rng, 3) == 0)
		*start &= ~(pgoff_t)511;
}

static void compare(struct model *m)
{
	struct hgmem_file_stats st;
	pgoff_t i = 0, h;
	u64 shared = 0;

	tu_check(m->f);
	while (i < m->nr_pages) {
		enum hgmem_state s;
		u64 run;
		pgoff_t n, j;

		mcheck(m, !hgmem_get_state(m->f, (u64)i << PAGE_SHIFT, &s, &run), "state %lu", i);
		n = run >> PAGE_SHIFT;
		for (j = i; j < i + n; j++)
			mcheck(m, m->state[j] == s, "page %lu state %d, model %d", j, s, m->state[j]);
		mcheck(m, i + n == m->nr_pages || m->state[i + n] != s,
		       "run at %lu not maximal", i);
		if (s == HGMEM_SHARED)
			shared += run;
		i += n;
	}
	for (h = 0; h < m->nr_pages >> m->order; h++) {
		bool present = xa_load(&m->f->huge, h);

		mcheck(m, present == m->allocated[h], "huge %lu allocated %d, model %d",
		       h, present, m->allocated[h]);
		if (!m->touch || !present)
			continue;
		for (i = 0; i < 8; i++) {
			pgoff_t p = (h << m->order) + rng_below(&rng, 1UL << m->order);

			mcheck(m, tu_addr(m->f, (u64)p << PAGE_SHIFT)[0] == m->data[p],
			       "page %lu content %d, model %d", p,
			       tu_addr(m->f, (u64)p << PAGE_SHIFT)[0], m->data[p]);
		}
	}
	hgmem_file_stats(m->f, &st);
	mcheck(m, st.shared == shared, "stats shared %llu vs %llu",
	       (unsigned long long)st.shared, (unsigned long long)shared);
}

/* Fill the model's zero pages for a huge page that becomes allocated. */
static void model_alloc(struct model *m, pgoff_t h)
{
	if (m->allocated[h])
		return;
	m->allocated[h] = true;
	memset(m->data + (h << m->order), 0, 1UL << m->order);
}

static void op_convert(struct model *m)
{
	unsigned int to = rng_below(&rng, 2);
	pgoff_t start, nr, i, want = ~0UL;
	u64 bad = ~0ULL;
	int err, p;

	pick_range(m, &start, &nr);
	for (i = start; to == HGMEM_PRIVATE && i < start + nr && want == ~0UL; i++) {
		if (m->state[i] != HGMEM_SHARED)
			continue;
		for (p = 0; p < MAX_PINS; p++)
			if (m->pins[p].folio && m->pins[p].attached &&
			    i >= m->pins[p].first && i <= m->pins[p].last)
				want = i;
	}
	err = hgmem_convert(m->f, (u64)start << PAGE_SHIFT, (u64)nr << PAGE_SHIFT, to, &bad);
	if (want != ~0UL) {
		mcheck(m, err == -EAGAIN && bad == (u64)want << PAGE_SHIFT,
		       "convert [%lu,+%lu) expected -EAGAIN at %lu, got %d at %llu",
		       start, nr, want, err, (unsigned long long)bad >> PAGE_SHIFT);
		m->eagain++;
		return;
	}
	mcheck(m, !err, "convert [%lu,+%lu) to %u: %d", start, nr, to, err);
	for (i = start; i < start + nr; i++) {
		/* Only pages whose state changes are zeroed. */
		if ((m->f->flags & HGMEM_FILE_ZERO_ON_CONVERT) && m->state[i] != to)
			m->data[i] = 0;
		m->state[i] = to;
	}
}

static void op_punch(struct model *m)
{
	pgoff_t start, nr, i, h, huge = 1UL << m->order;
	int p;

	pick_range(m, &start, &nr);
	mcheck(m, !hgmem_punch_hole(m->f, (u64)start << PAGE_SHIFT, (u64)nr << PAGE_SHIFT),
	       "punch [%lu,+%lu)", start, nr);
	for (h = start / huge; h <= (start + nr - 1) / huge; h++) {
		pgoff_t base = h * huge;

		if (huge_span_covers(start, nr, huge, h)) {
			m->allocated[h] = false;
			for (p = 0; p < MAX_PINS; p++)
				if (m->pins[p].folio && m->pins[p].first >= base &&
				    m->pins[p].first < base + huge)
					m->pins[p].attached = false;
		} else if (m->allocated[h]) {
			for (i = max(start, base); i < min(start + nr, base + huge); i++)
				m->data[i] = 0;
		}
	}
}

static void op_allocate(struct model *m)
{
	pgoff_t start, nr, h;
	int err;

	pick_range(m, &start, &nr);
	err = hgmem_allocate(m->f, (u64)start << PAGE_SHIFT, (u64)nr << PAGE_SHIFT);
	mcheck(m, !err, "allocate [%lu,+%lu): %d", start, nr, err);
	for (h = start >> m->order; h <= (start + nr - 1) >> m->order; h++)
		model_alloc(m, h);
}

static void op_write(struct model *m)
{
	pgoff_t i = rng_below(&rng, m->nr_pages);
	struct folio *folio;
	unsigned char v = 1 + rng_below(&rng, 255);
	int order, err;

	err = hgmem_get_folio(m->f, i, &folio, &order);
	mcheck(m, !err, "fault %lu: %d", i, err);
	model_alloc(m, i >> m->order);
	mcheck(m, (unsigned int)order == folio_order(folio), "max order");
	if (m->touch) {
		tu_addr(m->f, (u64)i << PAGE_SHIFT)[0] = v;
		m->data[i] = v;
	}
	folio_put(folio);
}

static void op_pin(struct model *m)
{
	struct pin *pin = &m->pins[rng_below(&rng, MAX_PINS)];
	struct hgmem_huge *hp;
	pgoff_t i;
	int order;

	if (pin->folio) {
		folio_put(pin->folio);
		pin->folio = NULL;
		return;
	}
	/* The host pins shared pages only. */
	i = rng_below(&rng, m->nr_pages);
	if (m->state[i] != HGMEM_SHARED)
		return;
	mcheck(m, !hgmem_get_folio(m->f, i, &pin->folio, &order), "pin %lu", i);
	model_alloc(m, i >> m->order);
	hp = xa_load(&m->f->huge, i >> m->order);
	pin->first = hgmem_folio_index(hp, pin->folio);
	pin->last = pin->first + folio_nr_pages(pin->folio) - 1;
	pin->attached = true;
}

static void run_model(unsigned int order, unsigned long nr_huge, u64 flags,
		      enum shim_backend kind, unsigned long nr_ops)
{
	/* Room for the pages pins keep out of the pool after a punch. */
	struct hstate *h = tu_pool_kind(order, nr_huge + MAX_PINS, kind);
	struct model m = { .seed = tu_seed(1), .order = order };
	int p;

	tu_reset_warnings();
	rng_seed(&rng, m.seed * 2654435761UL + order + 1);
	m.f = tu_file(h, nr_huge * (PAGE_SIZE << order), flags);
	m.nr_pages = m.f->nr_pages;
	m.touch = kind == SHIM_BACKEND_MEMORY;
	m.state = malloc(m.nr_pages);
	m.data = calloc(m.nr_pages, 1);
	m.allocated = calloc(nr_huge, sizeof(bool));
	memset(m.state, flags & HGMEM_FILE_INIT_SHARED ? HGMEM_SHARED : HGMEM_PRIVATE,
	       m.nr_pages);

	for (m.ops = 0; m.ops < nr_ops; m.ops++) {
		switch (rng_below(&rng, 10)) {
		case 0 ... 4:
			op_convert(&m);
			break;
		case 5:
			op_punch(&m);
			break;
		case 6:
			op_allocate(&m);
			break;
		case 7 ... 8:
			op_write(&m);
			break;
		default:
			op_pin(&m);
			break;
		}
		compare(&m);
		tu_assert_no_warnings();
	}
	printf("order %u, seed %lu: %lu ops, %lu refused with -EAGAIN, %ld splits, %ld merges\n",
	       order, m.seed, m.ops, m.eagain, atomic_long_read(&m.f->nr_splits),
	       atomic_long_read(&m.f->nr_merges));
	for (p = 0; p < MAX_PINS; p++)
		if (m.pins[p].folio)
			folio_put(m.pins[p].folio);
	hgmem_file_release(m.f);
	tu_pool_destroy(h);
	free(m.state);
	free(m.data);
	free(m.allocated);
	tu_assert_no_warnings();
}

START_TEST(test_model_2m)
{
	run_model(PMD_ORDER, 8, 0, SHIM_BACKEND_MEMORY, 3000);
}
END_TEST

START_TEST(test_model_2m_zeroing)
{
	run_model(PMD_ORDER, 4, HGMEM_FILE_INIT_SHARED | HGMEM_FILE_ZERO_ON_CONVERT,
		  SHIM_BACKEND_MEMORY, 2000);
}
END_TEST

START_TEST(test_model_1g)
{
	run_model(PUD_ORDER, 2, HGMEM_FILE_INIT_SHARED, SHIM_BACKEND_RESERVE, 600);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("random");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_model_2m);
	tcase_add_test(tc, test_model_2m_zeroing);
	tcase_add_test(tc, test_model_1g);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	printf("GUESTMEM_SEED=%lu (set it to replay another sequence)\n", tu_seed(1));
	return tu_run(model_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
