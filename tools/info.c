// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem info: the hugetlb pages of this machine, per size and NUMA
 * node, and what the running kernel's KVM offers for guest_memfd.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "hugetlb.h"
#include "kvm.h"
#include "kvm_uapi.h"
#include "tool.h"

static void print_count(uint64_t v)
{
	printf(" %9" PRIu64, v);
}

static void print_none(void)
{
	printf(" %9s", "-");
}

static void print_hugetlb(void)
{
	uint64_t sizes[HUGETLB_MAX_SIZES], def = hugetlb_default_size();
	int nodes[HUGETLB_MAX_NODES];
	int nsizes = hugetlb_sizes(sizes, HUGETLB_MAX_SIZES);
	int nnodes = hugetlb_nodes(nodes, HUGETLB_MAX_NODES);
	char b[32], path[512];
	int i, j;

	printf("hugetlb pages");
	if (def)
		printf(" (default size %s)", fmt_size(def, b, sizeof(b)));
	printf(":\n");
	if (!nsizes) {
		printf("  none: this kernel has no hugetlb support (%s missing)\n",
		       "/sys/kernel/mm/hugepages");
		return;
	}
	printf("  %-5s %-6s %9s %9s %9s %9s %9s\n", "size", "node", "total", "free",
	       "reserved", "surplus", "overcommit");
	for (i = 0; i < nsizes; i++) {
		struct guestmem_hugetlb_info c;

		if (guestmem_hugetlb_info(sizes[i], -1, &c, sizeof(c)))
			continue;
		printf("  %-5s %-6s", fmt_size(sizes[i], b, sizeof(b)), "all");
		print_count(c.total);
		print_count(c.free);
		print_count(c.reserved);
		print_count(c.surplus);
		print_count(c.overcommit);
		printf("\n");
		for (j = 0; j < nnodes; j++) {
			char name[16];

			/* Reserved and overcommit are the whole system's only. */
			if (guestmem_hugetlb_info(sizes[i], nodes[j], &c, sizeof(c)))
				continue;
			snprintf(name, sizeof(name), "node%d", nodes[j]);
			printf("  %-5s %-6s", "", name);
			print_count(c.total);
			print_count(c.free);
			print_none();
			print_count(c.surplus);
			print_none();
			printf("\n");
		}
	}
	printf("  free = not allocated; reserved = promised to existing mappings;"
	       " usable now = free - reserved\n");
	for (i = 0; i < nsizes; i++) {
		if (sizes[i] != GUESTMEM_PAGE_2M && sizes[i] != GUESTMEM_PAGE_1G)
			continue;
		hugetlb_nr_path(sizes[i], -1, path, sizeof(path));
		printf("  %s pool size: %s (%s)\n", fmt_size(sizes[i], b, sizeof(b)), path,
		       access(path, W_OK) ? "read-only for this user: guestmem run falls back"
					  : "writable: guestmem run raises it as needed and restores it");
	}
}

static const char *err_name(int err, char *buf, size_t len)
{
	char e[24];

	snprintf(buf, len, "%s (%s)", strerror(-err), errno_str(err, e, sizeof(e)));
	return buf;
}

static void print_gmem_flags(long flags)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ GUEST_MEMFD_FLAG_MMAP, "MMAP" },
		{ GUEST_MEMFD_FLAG_INIT_SHARED, "INIT_SHARED" },
		{ GM_GUEST_MEMFD_FLAG_HUGETLB, "HUGETLB" },
	};
	uint64_t rest = (uint64_t)flags;
	bool missing = false;
	size_t i;

	printf("%#lx:", flags);
	for (i = 0; i < TOOL_ARRAY_SIZE(names); i++)
		if (rest & names[i].bit)
			printf(" %s", names[i].name);
	for (i = 0; i < TOOL_ARRAY_SIZE(names); i++)
		if (!(rest & names[i].bit)) {
			printf("%s %s", missing ? "" : "; not offered:", names[i].name);
			missing = true;
		}
	for (i = 0; i < TOOL_ARRAY_SIZE(names); i++)
		rest &= ~names[i].bit;
	if (rest)
		printf("; unknown bits %#" PRIx64, rest);
	printf("\n");
}

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case GUESTMEM_KVM_NONE: return "none";
	case GUESTMEM_KVM_SPLIT: return "split";
	case GUESTMEM_KVM_INPLACE: return "in-place";
	default: return "?";
	}
}

/* The guest memory modes libguestmem gives a VM type (guestmem_kvm_file_create()). */
static void print_modes(const char *type, const struct kvm_probe_modes *m)
{
	unsigned int mode;
	char b[96];

	if (!m->tried) {
		printf("  modes, %-16s not offered by this KVM\n", type);
		return;
	}
	if (m->err) {
		printf("  modes, %-16s %s\n", type, err_name(m->err, b, sizeof(b)));
		return;
	}
	printf("  modes, %-16s", type);
	for (mode = GUESTMEM_KVM_NONE; mode <= GUESTMEM_KVM_INPLACE; mode++)
		if (m->offered & GUESTMEM_KVM_MODE_BIT(mode))
			printf(" %s", mode_name(mode));
	printf("; libguestmem picks %s\n", mode_name(m->best));
}

static void print_kvm(void)
{
	static const char *const vm_types[] = {
		"DEFAULT", "SW_PROTECTED", "SEV", "SEV_ES", "SNP", "TDX",
	};
	struct kvm_probe p;
	char b[96];
	unsigned int i;

	kvm_probe(&p);
	printf("\nKVM (the kernel side of guestmem is guest_memfd):\n");
	if (!p.present) {
		printf("  /dev/kvm            absent: no KVM in this kernel or machine\n");
		return;
	}
	if (p.open_err) {
		printf("  /dev/kvm            present, cannot open: %s\n",
		       err_name(p.open_err, b, sizeof(b)));
		return;
	}
	printf("  /dev/kvm            present, opened (API version %d)\n", p.api_version);
	if (p.vm_types) {
		printf("  VM types            %#lx:", p.vm_types);
		for (i = 0; i < 8 * sizeof(long); i++)
			if ((unsigned long)p.vm_types & (1UL << i)) {
				if (i < TOOL_ARRAY_SIZE(vm_types))
					printf(" %s", vm_types[i]);
				else
					printf(" type%u", i);
			}
		printf("\n");
	}
	if (p.vm_err) {
		printf("  KVM_CREATE_VM       failed: %s\n", err_name(p.vm_err, b, sizeof(b)));
		return;
	}
	printf("  KVM_CREATE_VM       ok (default VM type; capabilities below are of this VM)\n");
	printf("  guest_memfd         %s (KVM_CAP_GUEST_MEMFD = %u: %ld)\n",
	       p.gmem ? "supported" : "not supported", p.cap_gmem, p.gmem);
	if (p.gmem)
		printf("  create guest_memfd  %s\n", p.gmem_create_err ?
		       err_name(p.gmem_create_err, b, sizeof(b)) : "ok (2M, flags 0)");
	printf("  guest_memfd flags   ");
	if (p.gmem_flags)
		print_gmem_flags(p.gmem_flags);
	else
		printf("none reported (KVM_CAP_GUEST_MEMFD_FLAGS unsupported)\n");
	printf("                      (KVM_CAP_GUEST_MEMFD_FLAGS = %u, %s;"
	       " HUGETLB is bit 2, from guestmem's kernel patch)\n", p.cap_gmem_flags,
	       p.flags_cap_from_headers ? "from <linux/kvm.h>" : "from the Linux 7.2 uapi");
	printf("  memory attributes   %#lx%s\n", p.mem_attrs,
	       ((unsigned long)p.mem_attrs & (1UL << 3)) ? ": PRIVATE" : " (no PRIVATE attribute)");
	printf("  KVM_SET_USER_MEMORY_REGION2 %s\n", p.user_memory2 ? "supported" : "not supported");
	print_modes("default VM", &p.modes[0]);
	print_modes("SW_PROTECTED VM", &p.modes[1]);
}

int cmd_info(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: guestmem info\n\n%s", INFO_HELP);
			return 0;
		}
		tool_err("info: unexpected argument '%s'", argv[1]);
		fprintf(stderr, "usage: guestmem info\n");
		return EXIT_USAGE;
	}
	printf("guestmem %s: what this machine offers\n\n", TOOL_VERSION);
	print_hugetlb();
	print_kvm();
	return 0;
}
