// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the command-line tool of libguestmem.
 *
 *   guestmem info              hugetlb pages and KVM guest_memfd support
 *   guestmem run WORKLOAD      drive a workload, print a report
 *   guestmem replay FILE       replay a trace of operations
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 77 skipped (run --kvm
 * without KVM).
 */
#define _GNU_SOURCE
#include <string.h>

#include "commands.h"
#include "tool.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "info", cmd_info },
	{ "run", cmd_run },
	{ "replay", cmd_replay },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: guestmem COMMAND [ARGS]\n"
		"\n"
		"Hugepage guest memory for VMs, shared/private per 4K page (libguestmem).\n"
		"\n"
		"Commands:\n"
		"  info                 hugetlb pages per size and NUMA node; KVM guest_memfd support\n"
		"  run WORKLOAD [OPTS]  run coco-boot, balloon or random and print a report\n"
		"  replay FILE [OPTS]   replay a trace of operations, checking their results\n"
		"\n"
		"  guestmem COMMAND --help   options of a command\n"
		"  guestmem --version        the version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 77 skipped (run --kvm\n"
		"without KVM or the mode).\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("guestmem %s\n", TOOL_VERSION);
		return 0;
	}
	for (i = 0; i < TOOL_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "guestmem: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
