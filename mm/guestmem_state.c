// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: the shared/private state of every 4K page.
 *
 * The state is kept per huge page of the file, in f->state[huge index]:
 * one word, HGMEM_UNIFORM(state), while all its pages have the same state,
 * else a bitmap of its pages, a bit set for each shared page.  A huge page
 * whose pages all agree is never a bitmap, so the representation of a
 * state is unique, as a merged range tree's would be.  The state and the
 * bitmaps are charged to the memory cgroup of the file's creator.  Each huge page's
 * state belongs to that huge page's lock, like its folios: conversions in
 * different huge pages share nothing, and the cost of one does not grow
 * with the number of ranges elsewhere in the file.  A uniform huge page
 * costs a word (4 MiB for 1 TiB of 2M pages), a mixed one a bitmap of
 * 64 bytes (2M) or 32K (1G) more.
 *
 * Runs are reported up to the end of their huge page; callers walk on.
 * Every function here needs the huge pages it reads or changes locked
 * (hgmem_lock()), except hgmem_state_init() and hgmem_state_destroy(),
 * which run while nobody else can see the file.
 */
#include "guestmem_internal.h"

#define HGMEM_UNIFORM(state)	((unsigned long)(state) << 1 | 1)

static inline bool hgmem_word_uniform(unsigned long word)
{
	return word & 1;
}

static inline enum hgmem_state hgmem_word_state(unsigned long word)
{
	return word >> 1;
}

static inline unsigned long *hgmem_word_bitmap(unsigned long word)
{
	return (unsigned long *)word;
}

/* A bitmap of the pages of a huge page of @f: 64 bytes for 2M, 32K for 1G. */
static unsigned long *hgmem_bitmap_alloc(struct hgmem_file *f)
{
	return kvmalloc_array(BITS_TO_LONGS(hgmem_huge_pages(f)), sizeof(unsigned long),
			      GFP_KERNEL_ACCOUNT);
}

/*
 * Fill the state of the new file @f with @init for every page: a word per
 * huge page, which the caller has reserved in the pool already, so the
 * size is one the pool can back.  Returns 0 or -ENOMEM.  May sleep.
 */
int hgmem_state_init(struct hgmem_file *f, enum hgmem_state init)
{
	unsigned long hidx, nr_huge = f->nr_pages >> f->order;

	f->state = kvcalloc(nr_huge, sizeof(*f->state), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!f->state)
		return -ENOMEM;
	for (hidx = 0; hidx < nr_huge; hidx++)
		f->state[hidx] = HGMEM_UNIFORM(init);
	return 0;
}

/* Free the state of @f, which nobody else can reach any more. */
void hgmem_state_destroy(struct hgmem_file *f)
{
	unsigned long hidx, nr_huge = f->nr_pages >> f->order;

	for (hidx = 0; hidx < nr_huge; hidx++)
		if (!hgmem_word_uniform(f->state[hidx]))
			kvfree(hgmem_word_bitmap(f->state[hidx]));
	kvfree(f->state);
	f->state = NULL;
}

/*
 * State of page @index; *last is set to the last page of its run within
 * its huge page.  Caller locked that huge page.
 */
enum hgmem_state hgmem_state_at(struct hgmem_file *f, pgoff_t index, pgoff_t *last)
{
	pgoff_t base = hgmem_huge_base(f, index), n = hgmem_huge_pages(f);
	unsigned long word = f->state[index >> f->order], *map, next;
	bool shared;

	hgmem_assert_locked(f, index, index + 1);
	if (hgmem_word_uniform(word)) {
		*last = base + n - 1;
		return hgmem_word_state(word);
	}
	map = hgmem_word_bitmap(word);
	shared = test_bit(index - base, map);
	if (shared)
		next = find_next_zero_bit(map, n, index - base + 1);
	else
		next = find_next_bit(map, n, index - base + 1);
	*last = base + next - 1;
	return shared ? HGMEM_SHARED : HGMEM_PRIVATE;
}

/*
 * Number of pages in [start, end) of @f in state @state.  Caller locked
 * the huge pages of the range.
 */
pgoff_t hgmem_state_count(struct hgmem_file *f, pgoff_t start, pgoff_t end,
			  enum hgmem_state state)
{
	pgoff_t i = start, last, n = 0;

	while (i < end) {
		if (hgmem_state_at(f, i, &last) == state)
			n += min(last + 1, end) - i;
		i = last + 1;
	}
	return n;
}

/*
 * If pages [first, first + nr) all have the same state once @c (may be
 * NULL) is applied, return that state, else -1.  Caller locked the huge
 * pages of the range.
 */
int hgmem_uniform_state(struct hgmem_file *f, pgoff_t first, pgoff_t nr,
			const struct hgmem_conv *c)
{
	pgoff_t i = first, last = first + nr - 1, run_end;
	int state = -1, s;

	while (i <= last) {
		if (c && i >= c->start && i < c->end) {
			s = c->to;
			run_end = c->end - 1;
		} else {
			s = hgmem_state_at(f, i, &run_end);
			if (c && i < c->start)
				run_end = min(run_end, c->start - 1);
		}
		if (state >= 0 && s != state)
			return -1;
		state = s;
		if (run_end >= last)
			break;
		i = run_end + 1;
	}
	return state;
}

/*
 * Allocate the bitmaps @c needs: the huge pages at its ends that are
 * uniform now and will be mixed.  hgmem_state_commit() then cannot fail.
 * Returns 0 or -ENOMEM, having allocated nothing.  Caller locked the huge
 * pages of @c; may sleep.
 */
int hgmem_state_prepare(struct hgmem_file *f, const struct hgmem_conv *c,
			struct hgmem_state_prep *p)
{
	pgoff_t ends[2] = { c->start, c->end - 1 }, n = hgmem_huge_pages(f), base;
	unsigned long word;
	int i;

	hgmem_assert_locked(f, c->start, c->end);
	memset(p, 0, sizeof(*p));
	for (i = 0; i < 2; i++) {
		base = hgmem_huge_base(f, ends[i]);
		word = f->state[base >> f->order];
		if ((i && base == hgmem_huge_base(f, c->start)) ||
		    !hgmem_word_uniform(word) ||
		    hgmem_uniform_state(f, base, n, c) >= 0)
			continue;
		p->map[i] = hgmem_bitmap_alloc(f);
		if (!p->map[i]) {
			kvfree(p->map[0]);
			return -ENOMEM;
		}
		if (hgmem_word_state(word) == HGMEM_SHARED)
			bitmap_fill(p->map[i], n);
		else
			bitmap_zero(p->map[i], n);
		p->hidx[i] = base >> f->order;
	}
	return 0;
}

/* The bitmap hgmem_state_prepare() allocated for huge page @hidx, taken from @p. */
static unsigned long *hgmem_prep_take(struct hgmem_state_prep *p, unsigned long hidx)
{
	unsigned long *map;
	int i;

	for (i = 0; i < 2; i++) {
		if (p->map[i] && p->hidx[i] == hidx) {
			map = p->map[i];
			p->map[i] = NULL;
			return map;
		}
	}
	return NULL;
}

/* Store @state for pages [from, to) of the huge page @hidx. */
static void hgmem_state_store(struct hgmem_file *f, unsigned long hidx, pgoff_t from,
			      pgoff_t to, enum hgmem_state state,
			      struct hgmem_state_prep *p)
{
	pgoff_t base = (pgoff_t)hidx << f->order, n = hgmem_huge_pages(f);
	unsigned long word = f->state[hidx], *map;

	if (from == base && to == base + n) {
		if (!hgmem_word_uniform(word))
			kvfree(hgmem_word_bitmap(word));
		f->state[hidx] = HGMEM_UNIFORM(state);
		return;
	}
	if (hgmem_word_uniform(word)) {
		if (hgmem_word_state(word) == state)
			return;
		map = hgmem_prep_take(p, hidx);
		/* Prepared for every huge page left mixed from uniform. */
		if (WARN_ON_ONCE(!map))
			return;
	} else {
		map = hgmem_word_bitmap(word);
	}
	if (state == HGMEM_SHARED)
		bitmap_set(map, from - base, to - from);
	else
		bitmap_clear(map, from - base, to - from);
	if (find_first_bit(map, n) == n || find_first_zero_bit(map, n) == n) {
		f->state[hidx] = HGMEM_UNIFORM(state);
		kvfree(map);
		return;
	}
	f->state[hidx] = (unsigned long)map;
}

/*
 * Store @c, with the bitmaps hgmem_state_prepare() allocated into @p.
 * Caller locked the huge pages of @c.
 */
void hgmem_state_commit(struct hgmem_file *f, const struct hgmem_conv *c,
			struct hgmem_state_prep *p)
{
	unsigned long hidx, last_hidx = (c->end - 1) >> f->order;
	pgoff_t base;

	hgmem_assert_locked(f, c->start, c->end);
	for (hidx = c->start >> f->order; hidx <= last_hidx; hidx++) {
		base = (pgoff_t)hidx << f->order;
		hgmem_state_store(f, hidx, max(c->start, base),
				  min(c->end, base + hgmem_huge_pages(f)), c->to, p);
	}
	/* Every prepared bitmap is used: prepare saw the state commit changes. */
	if (WARN_ON_ONCE(p->map[0] || p->map[1])) {
		kvfree(p->map[0]);
		kvfree(p->map[1]);
	}
}

/*
 * Check the state of the huge pages of pages [start, end): each is a known
 * state, or a bitmap holding both.  Returns what is wrong, or NULL.
 * Caller locked those huge pages.
 */
const char *hgmem_state_check(struct hgmem_file *f, pgoff_t start, pgoff_t end)
{
	unsigned long hidx, word, *map, n = hgmem_huge_pages(f);

	hgmem_assert_locked(f, start, end);
	for (hidx = start >> f->order; hidx <= (end - 1) >> f->order; hidx++) {
		word = f->state[hidx];
		if (hgmem_word_uniform(word)) {
			if (hgmem_word_state(word) > HGMEM_SHARED)
				return "state holds an unknown value";
			continue;
		}
		map = hgmem_word_bitmap(word);
		if (!map)
			return "a huge page has no state";
		if (find_first_bit(map, n) == n || find_first_zero_bit(map, n) == n)
			return "a huge page of uniform state keeps a bitmap";
	}
	return NULL;
}
