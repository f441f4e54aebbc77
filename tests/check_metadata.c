// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Metadata cost, on address-space-only memory: a 1 TiB guest on 1G pages,
 * every huge page allocated and none split, must cost at most 4 MiB of
 * allocator metadata.  Prints the figures for the other layouts too.  A
 * split page that is punched and reassembled gives back all its split
 * metadata.
 */
#include "test_util.h"

/* Metadata bytes a file costs: kmalloc'd structures plus folio descriptors. */
static size_t measure(unsigned int order, u64 size, bool split_one_per_huge,
		      size_t *descriptors)
{
	unsigned long nr = size >> (PAGE_SHIFT + order);
	size_t k0, v0, bytes;
	struct hgmem_file *f;
	struct hstate *h;
	u64 off;

	h = tu_pool_kind(order, nr, SHIM_BACKEND_RESERVE);
	k0 = shim_kmalloc_bytes();
	v0 = shim_vmemmap_bytes();
	f = tu_file(h, size, HGMEM_FILE_INIT_SHARED);
	ck_assert_int_eq(hgmem_allocate(f, 0, size), 0);
	if (split_one_per_huge)
		for (off = 0; off < size; off += PAGE_SIZE << order)
			ck_assert_int_eq(hgmem_convert(f, off, SZ_4K, HGMEM_PRIVATE, NULL), 0);
	tu_check(f);
	/*
	 * kmalloc covers the file's structures and the descriptors of split
	 * pieces; the pool's head descriptors (the unsplit folios) come on top.
	 */
	*descriptors = shim_vmemmap_bytes() - v0 + (size_t)nr * sizeof(struct folio);
	bytes = shim_kmalloc_bytes() - k0 + (size_t)nr * sizeof(struct folio);
	hgmem_file_release(f);
	tu_pool_destroy(h);
	return bytes;
}

static void report(const char *what, unsigned int order, u64 size, bool split)
{
	size_t desc, bytes = measure(order, size, split, &desc);

	printf("%-34s %9.2f MiB (%.4f%% of guest), of which descriptors %.2f MiB\n",
	       what, bytes / 1048576.0, 100.0 * bytes / size, desc / 1048576.0);
}

START_TEST(test_1t_on_1g_unsplit_within_4m)
{
	size_t desc, bytes;

	tu_reset_warnings();
	bytes = measure(PUD_ORDER, SZ_1T, false, &desc);
	printf("1 TiB on 1G pages, all allocated, unsplit: %zu bytes (%.2f MiB)\n",
	       bytes, bytes / 1048576.0);
	ck_assert_uint_le(bytes, 4ULL << 20);
	tu_assert_no_warnings();
}
END_TEST

START_TEST(test_metadata_table)
{
	tu_reset_warnings();
	report("1 TiB, 1G pages, unsplit", PUD_ORDER, SZ_1T, false);
	report("1 TiB, 1G pages, one 4K each", PUD_ORDER, SZ_1T, true);
	report("64 GiB, 2M pages, unsplit", PMD_ORDER, 64 * SZ_1G, false);
	report("64 GiB, 2M pages, one 4K each", PMD_ORDER, 64 * SZ_1G, true);
	tu_assert_no_warnings();
}
END_TEST

/*
 * Split at both levels (a 4K page and a whole 2M piece), then punched with
 * nobody holding a piece: the page is reassembled at once and the per-4K
 * and per-2M descriptors are gone with the split.
 */
START_TEST(test_reassembly_frees_split_metadata)
{
	struct hstate *h = tu_pool_kind(PUD_ORDER, 1, SHIM_BACKEND_RESERVE);
	struct hgmem_file *f = tu_file(h, SZ_1G, 0);
	size_t v0 = shim_vmemmap_bytes();

	ck_assert_int_eq(hgmem_allocate(f, 0, SZ_1G), 0);
	ck_assert_int_eq(hgmem_convert(f, SZ_4K, SZ_4K, HGMEM_SHARED, NULL), 0);
	ck_assert_int_eq(hgmem_convert(f, 100 * SZ_2M, SZ_2M, HGMEM_SHARED, NULL), 0);
	tu_check(f);
	ck_assert_uint_eq(shim_vmemmap_bytes() - v0,
			  (512 + 512) * sizeof(struct folio));
	ck_assert_int_eq(hgmem_punch_hole(f, 0, SZ_1G), 0);
	tu_check(f);
	ck_assert_uint_eq(hgmem_nr_pending(h), 0);
	ck_assert_uint_eq(shim_vmemmap_bytes(), v0);
	ck_assert_ptr_null(h->region->heads[0].children);
	hgmem_file_release(f);
	tu_pool_destroy(h);
}
END_TEST

static Suite *metadata_suite(void)
{
	Suite *s = suite_create("metadata");
	TCase *tc = tcase_create("size");

	tcase_add_checked_fixture(tc, tu_reset_warnings, tu_assert_no_warnings);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_1t_on_1g_unsplit_within_4m);
	tcase_add_test(tc, test_metadata_table);
	tcase_add_test(tc, test_reassembly_frees_split_metadata);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(metadata_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
