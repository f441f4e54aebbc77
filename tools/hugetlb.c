// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the kernel's hugetlb pool.  The sizes and nodes sysfs
 * offers are listed here; their counters come from guestmem_hugetlb_info().
 * As root the tool may raise nr_hugepages for a run (hugetlb_raise() of
 * util/); the original value is written back by hugetlb_restore(), which
 * also runs at exit and from fatal-signal handlers (hugetlb_write(): open,
 * write and close only, which are async-signal-safe).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "hugetlb.h"
#include "tool.h"

#define SYS_HUGEPAGES	"/sys/kernel/mm/hugepages"
#define SYS_NODES	"/sys/devices/system/node"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int hugetlb_sizes(uint64_t *sizes, int max)
{
	DIR *d = opendir(SYS_HUGEPAGES);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		unsigned long long kb;

		if (sscanf(e->d_name, "hugepages-%llukB", &kb) == 1)
			sizes[n++] = (uint64_t)kb << 10;
	}
	closedir(d);
	qsort(sizes, (size_t)n, sizeof(*sizes), cmp_u64);
	return n;
}

int hugetlb_nodes(int *nodes, int max)
{
	DIR *d = opendir(SYS_NODES);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[300];
		int node;

		if (sscanf(e->d_name, "node%d", &node) != 1)
			continue;
		snprintf(path, sizeof(path), SYS_NODES "/node%d/hugepages", node);
		if (!access(path, F_OK))
			nodes[n++] = node;
	}
	closedir(d);
	qsort(nodes, (size_t)n, sizeof(*nodes), cmp_int);
	return n;
}

long hugetlb_self_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugetlbPages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ------------------------------------------------- lock */

static int lock_fd = -1;

static void note_waiting(void)
{
	tool_note("waiting for another process using hugetlb pages (%s)", HUGETLB_LOCK_PATH);
}

int hugetlb_lock(unsigned int timeout_s)
{
	int fd;

	if (lock_fd >= 0)
		return 0;
	fd = hugetlb_lock_take((int)timeout_s, note_waiting);
	if (fd < 0)
		return fd;
	lock_fd = fd;	/* released when the process exits */
	return 0;
}

/* ------------------------------------------------- reserve and restore */

static char restore_path[512];
static char restore_value[32];
static size_t restore_len;
static volatile sig_atomic_t restore_armed;
static long raised_from, raised_to;
static bool handlers_installed;

static const int fatal_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGBUS, SIGSEGV, SIGABRT,
};

static void restore_on_signal(int sig)
{
	int saved = errno;

	if (restore_armed) {
		restore_armed = 0;
		hugetlb_write(restore_path, restore_value, restore_len);
	}
	errno = saved;
	/* SA_RESETHAND: the default action runs when the handler returns. */
	raise(sig);
}

static void restore_at_exit(void)
{
	hugetlb_restore();
}

static void install_handlers(void)
{
	struct sigaction sa;
	size_t i;

	if (handlers_installed)
		return;
	handlers_installed = true;
	atexit(restore_at_exit);
	for (i = 0; i < TOOL_ARRAY_SIZE(fatal_signals); i++) {
		struct sigaction old;

		/*
		 * Only take over default actions: ignored signals stay ignored
		 * (nohup) and handlers of others (sanitizers) stay in place.
		 */
		if (sigaction(fatal_signals[i], NULL, &old) ||
		    (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = restore_on_signal;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		sigaction(fatal_signals[i], &sa, NULL);
	}
}

void hugetlb_raised(long *from, long *to)
{
	*from = raised_from;
	*to = raised_to;
}

int hugetlb_restore(void)
{
	int err;

	if (!restore_armed)
		return 0;
	restore_armed = 0;
	err = hugetlb_write(restore_path, restore_value, restore_len);
	if (err)
		tool_err("cannot restore %s to %.*s: %s", restore_path,
			 (int)restore_len - 1, restore_value, strerror(-err));
	return err;
}

/* Before nr_hugepages is written: from now on a signal or exit puts it back. */
static void arm_restore(const struct hugetlb_raise *r)
{
	snprintf(restore_path, sizeof(restore_path), "%s", r->path);
	restore_len = (size_t)snprintf(restore_value, sizeof(restore_value), "%ld\n",
				       r->nr_before);
	install_handlers();
	restore_armed = 1;
	raised_from = r->nr_before;
	raised_to = r->nr_after;
}

int hugetlb_reserve(uint64_t page_size, int node, uint64_t need, char *why, size_t len)
{
	struct hugetlb_raise r;
	int rc;

	if (restore_armed)
		return 0;	/* one reservation per process */
	rc = hugetlb_raise(&r, page_size, node, need, arm_restore);
	if (rc < 0) {
		hugetlb_restore();
		snprintf(why, len, "%s", r.why);
	}
	return rc;
}
