# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Manual pages: the guestmem tool (man1), one per public function (man3)
# and the overview (man7).
# Included from the top-level Makefile.am, so paths are relative to it.
# man/check-man.sh checks that this list matches the pages on disk.

dist_man1_MANS = \
	man/man1/guestmem.1

dist_man3_MANS = \
	man/man3/guestmem_allocate.3 \
	man/man3/guestmem_convert.3 \
	man/man3/guestmem_file_create.3 \
	man/man3/guestmem_file_destroy.3 \
	man/man3/guestmem_file_hva.3 \
	man/man3/guestmem_file_stats.3 \
	man/man3/guestmem_hugetlb_info.3 \
	man/man3/guestmem_kvm_bind.3 \
	man/man3/guestmem_kvm_file_create.3 \
	man/man3/guestmem_kvm_probe.3 \
	man/man3/guestmem_kvm_unbind.3 \
	man/man3/guestmem_last_error.3 \
	man/man3/guestmem_pin.3 \
	man/man3/guestmem_pool_create.3 \
	man/man3/guestmem_pool_destroy.3 \
	man/man3/guestmem_pool_stats.3 \
	man/man3/guestmem_punch_hole.3 \
	man/man3/guestmem_state.3 \
	man/man3/guestmem_unpin.3

dist_man7_MANS = \
	man/man7/libguestmem.7

# The page checker (warnings, one page per declared function); make check
# runs it from the top-level Makefile.am.
dist_noinst_SCRIPTS = man/check-man.sh
