// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's hugetlb pool: huge page sizes and counters from sysfs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/kernel.h>
#include <linux/sizes.h>

#include "hugetlb_pool.h"
#include "kselftest.h"
#include "test_util.h"

#define HUGEPAGES_DIR	"/sys/kernel/mm/hugepages"

struct hugetlb_hstate hugetlb_hstates[HUGETLB_MAX_HSTATES];
int hugetlb_nr_hstates;

static int hstate_index(const struct hugetlb_hstate *h)
{
	int i = h - hugetlb_hstates;

	TEST_ASSERT(i >= 0 && i < hugetlb_nr_hstates,
		    "Not one of hugetlb_hstates: %p", h);
	return i;
}

static void hstate_set_name(struct hugetlb_hstate *h)
{
	if (h->page_size >= SZ_1G)
		snprintf(h->name, sizeof(h->name), "%zuG", h->page_size >> 30);
	else if (h->page_size >= SZ_1M)
		snprintf(h->name, sizeof(h->name), "%zuM", h->page_size >> 20);
	else
		snprintf(h->name, sizeof(h->name), "%zuK", h->page_size >> 10);
}

int hugetlb_find_hstates(void)
{
	static bool found;
	struct dirent *ent;
	unsigned long kb;
	DIR *dir;
	int i, j;

	if (found)
		return hugetlb_nr_hstates;
	found = true;

	dir = opendir(HUGEPAGES_DIR);
	if (!dir)
		return 0;

	while ((ent = readdir(dir))) {
		struct hugetlb_hstate *h = &hugetlb_hstates[hugetlb_nr_hstates];

		if (sscanf(ent->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		TEST_ASSERT(hugetlb_nr_hstates < HUGETLB_MAX_HSTATES,
			    "Too many huge page sizes");
		h->page_size = (size_t)kb << 10;
		hstate_set_name(h);
		hugetlb_nr_hstates++;
	}
	closedir(dir);

	/* Smallest size first. */
	for (i = 1; i < hugetlb_nr_hstates; i++) {
		for (j = i; j > 0; j--) {
			struct hugetlb_hstate tmp = hugetlb_hstates[j];

			if (hugetlb_hstates[j - 1].page_size <= tmp.page_size)
				break;
			hugetlb_hstates[j] = hugetlb_hstates[j - 1];
			hugetlb_hstates[j - 1] = tmp;
		}
	}

	return hugetlb_nr_hstates;
}

const struct hugetlb_hstate *hugetlb_hstate_find(size_t page_size)
{
	const struct hugetlb_hstate *h;

	for_each_hugetlb_hstate(h) {
		if (h->page_size == page_size)
			return h;
	}
	return NULL;
}

unsigned long hugetlb_hstate_read(const struct hugetlb_hstate *h,
				  const char *file)
{
	char path[128], buf[32];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), HUGEPAGES_DIR "/hugepages-%zukB/%s",
		 h->page_size >> 10, file);
	fd = open(path, O_RDONLY);
	TEST_ASSERT(fd >= 0, "Failed to open %s", path);
	len = read(fd, buf, sizeof(buf) - 1);
	TEST_ASSERT(len > 0, "Failed to read %s", path);
	buf[len] = '\0';
	close(fd);

	return strtoul(buf, NULL, 10);
}

void hugetlb_pool_read(struct hugetlb_pool *p)
{
	const struct hugetlb_hstate *h;
	struct hugetlb_counters *c = p->c;

	for_each_hugetlb_hstate(h) {
		c->nr = hugetlb_hstate_read(h, "nr_hugepages");
		c->free = hugetlb_hstate_read(h, "free_hugepages");
		c->resv = hugetlb_hstate_read(h, "resv_hugepages");
		c->surplus = hugetlb_hstate_read(h, "surplus_hugepages");
		c++;
	}
}

void hugetlb_pool_print(const struct hugetlb_pool *p)
{
	int i;

	for (i = 0; i < hugetlb_nr_hstates; i++)
		ksft_print_msg("hugepages-%s: nr %lu free %lu resv %lu surplus %lu\n",
			       hugetlb_hstates[i].name, p->c[i].nr,
			       p->c[i].free, p->c[i].resv, p->c[i].surplus);
}

unsigned long hugetlb_pool_avail(const struct hugetlb_pool *p,
				 const struct hugetlb_hstate *h)
{
	const struct hugetlb_counters *c = &p->c[hstate_index(h)];

	return c->free > c->resv ? c->free - c->resv : 0;
}

unsigned long hugetlb_hstate_avail(const struct hugetlb_hstate *h)
{
	struct hugetlb_pool p;

	hugetlb_pool_read(&p);
	return hugetlb_pool_avail(&p, h);
}

unsigned long hugetlb_nr_test_pages(const struct hugetlb_hstate *h,
				    unsigned long avail, unsigned long max)
{
	if (h->page_size >= SZ_1G)
		max = 1;
	return min(avail, max);
}

void __hugetlb_pool_assert(const struct hugetlb_pool *base,
			   const struct hugetlb_hstate *h, long free,
			   long resv, const char *what)
{
	int hi = h ? hstate_index(h) : -1;
	struct hugetlb_pool now;
	int i;

	hugetlb_pool_read(&now);

	for (i = 0; i < hugetlb_nr_hstates; i++) {
		const struct hugetlb_counters *b = &base->c[i];
		const struct hugetlb_counters *n = &now.c[i];
		long dfree = i == hi ? free : 0;
		long dresv = i == hi ? resv : 0;

		TEST_ASSERT(n->nr == b->nr && n->surplus == b->surplus &&
			    n->free == b->free + dfree &&
			    n->resv == b->resv + dresv,
			    "%s: hugepages-%s: nr/free/resv/surplus = %lu/%lu/%lu/%lu, expected %lu/%lu/%lu/%lu",
			    what, hugetlb_hstates[i].name, n->nr, n->free,
			    n->resv, n->surplus, b->nr, b->free + dfree,
			    b->resv + dresv, b->surplus);
	}
}

void hugetlb_test_report(const char *skip, const char *name, const char *size)
{
	if (skip)
		ksft_test_result_skip("%s %s: %s\n", name, size, skip);
	else
		ksft_test_result_pass("%s %s\n", name, size);
}

void hugetlb_tests_start(struct hugetlb_pool *base, int nr_once, size_t nr)
{
	ksft_print_header();
	ksft_set_plan(nr_once + hugetlb_nr_hstates * nr);
	hugetlb_pool_read(base);
	hugetlb_pool_print(base);
}

void hugetlb_tests_run(const struct hugetlb_test *tests, size_t nr)
{
	const struct hugetlb_hstate *h;
	size_t i;

	for_each_hugetlb_hstate(h) {
		for (i = 0; i < nr; i++)
			hugetlb_test_report(tests[i].fn(h), tests[i].name,
					    h->name);
	}
}

void hugetlb_tests_finish(const struct hugetlb_pool *base)
{
	hugetlb_pool_assert_restored(base);
	if (!ksft_get_pass_cnt())
		ksft_exit_skip("No sub-test ran\n");
	ksft_finished();
}
