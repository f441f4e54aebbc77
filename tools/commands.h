/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestmem(1): the commands and their help texts. */
#ifndef GUESTMEM_TOOL_COMMANDS_H
#define GUESTMEM_TOOL_COMMANDS_H

#include "config.h"

#define TOOL_VERSION PACKAGE_VERSION

#define INFO_HELP \
	"Show the hugetlb pages of this machine (per size and NUMA node) and what\n" \
	"the running kernel's KVM offers for guest_memfd (KVM_CAP_GUEST_MEMFD and\n" \
	"the flags of KVM_CAP_GUEST_MEMFD_FLAGS: MMAP, INIT_SHARED, HUGETLB).\n"

#define RUN_HELP \
	"Drive a workload through libguestmem and print a report: splits and\n" \
	"merges, huge-page coverage over time, memory against a separate\n" \
	"shared+private baseline, and latency percentiles per operation.\n" \
	"\n" \
	"Workloads:\n" \
	"  coco-boot   confidential guest: memory private, firmware (2M) and a\n" \
	"              swiotlb bounce buffer (64M) shared, then I/O buffers\n" \
	"              (4K..64K) converted shared, pinned for DMA, unpinned and\n" \
	"              converted back, 32 in flight (--ops rounds, default 2000)\n" \
	"  balloon     4K discards that cover whole huge pages, which must go back\n" \
	"              to the pool; then the balloon deflates (--ops 4K discards,\n" \
	"              rounded to whole huge pages; default 32 huge pages' worth)\n" \
	"  random      a seeded random mix of every operation on two files\n" \
	"              (--ops operations, default 5000)\n" \
	"\n" \
	"Options:\n" \
	"  --page-size 2M|1G   huge page size (default 2M)\n" \
	"  --size SIZE         guest size (default 1G); K/M/G/T suffixes, hex\n" \
	"  --pages N           pool pages (default size / page size)\n" \
	"  --seed N            random seed (default 1)\n" \
	"  --ops N             rounds or operations, see above\n" \
	"  --node N            NUMA node of the pool (default none)\n" \
	"  --threads N         prefault threads (default one per CPU)\n" \
	"  --prefault          fault and zero every pool page at creation\n" \
	"  --fallback          allow ordinary memory if hugetlb is short; the tool\n" \
	"                      then leaves nr_hugepages alone\n" \
	"  --simulate          address space only, nothing touched (fast)\n" \
	"  --no-fallback       fail rather than fall back to ordinary memory\n" \
	"  --trace-out FILE    write the operations as a trace (guestmem replay)\n" \
	"  --quiet             no progress display and no notes\n" \
	"\n" \
	"KVM (coco-boot only; hugetlb pages, no --simulate, --fallback, --trace-out):\n" \
	"  --kvm               the guest memory is a KVM_X86_SW_PROTECTED_VM's\n" \
	"                      (guestmem_kvm_file_create, bound whole in a memory\n" \
	"                      slot): every conversion also goes through KVM, and\n" \
	"                      the report gives the memory from the kernel's\n" \
	"                      counters (hugetlb pages held, guest_memfd bytes).\n" \
	"                      Exit 77 (skip) without /dev/kvm or the mode\n" \
	"  --kvm-mode MODE     auto (default), split or inplace; implies --kvm\n" \
	"  --max-memory-ratio R  fail if the peak of hugetlb + guest_memfd memory\n" \
	"                      exceeds R times the guest size (e.g. 1.1)\n" \
	"\n" \
	"Without --fallback or --simulate the pool uses hugetlb pages.  As root,\n" \
	"if the kernel's pool is short, the tool raises nr_hugepages for the run and\n" \
	"restores it at exit; otherwise it falls back to ordinary memory with a note.\n"

#define REPLAY_HELP \
	"Replay a trace (see README.md, \"The guestmem tool\"), checking every\n" \
	"operation's result against its \"= RESULT\" field (0 when absent) and\n" \
	"every check line; errors name the line.  FILE - reads standard input.\n" \
	"\n" \
	"Options:\n" \
	"  --simulate, --fallback, --no-fallback   override the pool line's memory\n" \
	"  --trace-out FILE    write the operations again, with their results\n" \
	"  --quiet             no progress display and no notes\n"

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif /* GUESTMEM_TOOL_COMMANDS_H */
