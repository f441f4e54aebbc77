// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): the kernel's hugetlb pool.  Counters come from
 * /sys/kernel/mm/hugepages/hugepages-<kB>kB/ (global) and
 * /sys/devices/system/node/node<N>/hugepages/ (per node).  As root the tool
 * may raise nr_hugepages for a run; the original value is written back by
 * hugetlb_restore(), which also runs at exit and from fatal-signal handlers
 * (open/write/close only, which are async-signal-safe).
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

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

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

uint64_t hugetlb_default_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

static void dir_of(uint64_t page_size, int node, char *buf, size_t len)
{
	if (node < 0)
		snprintf(buf, len, SYS_HUGEPAGES "/hugepages-%" PRIu64 "kB", page_size >> 10);
	else
		snprintf(buf, len, SYS_NODES "/node%d/hugepages/hugepages-%" PRIu64 "kB",
			 node, page_size >> 10);
}

static long read_counter(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_long(path);
}

int hugetlb_read(uint64_t page_size, int node, struct hugetlb_counts *c)
{
	char dir[300];

	dir_of(page_size, node, dir, sizeof(dir));
	c->nr = read_counter(dir, "nr_hugepages");
	c->free = read_counter(dir, "free_hugepages");
	c->surplus = read_counter(dir, "surplus_hugepages");
	c->resv = node < 0 ? read_counter(dir, "resv_hugepages") : -1;
	c->overcommit = node < 0 ? read_counter(dir, "nr_overcommit_hugepages") : -1;
	return c->nr < 0 || c->free < 0 ? -ENOENT : 0;
}

long hugetlb_available(uint64_t page_size)
{
	struct hugetlb_counts c;

	if (hugetlb_read(page_size, -1, &c) || c.resv < 0)
		return -1;
	return c.free - c.resv;
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

const char *hugetlb_nr_path(uint64_t page_size, int node, char *buf, size_t len)
{
	char dir[300];

	/* /proc/sys/vm/nr_hugepages is the pool of the default size. */
	if (node < 0 && page_size == hugetlb_default_size()) {
		snprintf(buf, len, "/proc/sys/vm/nr_hugepages");
		return buf;
	}
	dir_of(page_size, node, dir, sizeof(dir));
	snprintf(buf, len, "%s/nr_hugepages", dir);
	return buf;
}

/* ------------------------------------------------- lock */

static int lock_fd = -1;

int hugetlb_lock(unsigned int timeout_s)
{
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 50000000 };
	unsigned int waited = 0;	/* in pauses of 50 ms */
	int fd;

	if (lock_fd >= 0)
		return 0;
	/* flock(2) works on a read-only descriptor: every user can take it. */
	fd = open(HUGETLB_LOCK_PATH, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || waited >= timeout_s * 20) {
			int err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;

			close(fd);
			return err;
		}
		if (waited++ == 20)
			tool_note("waiting for another process using hugetlb pages (%s)",
				  HUGETLB_LOCK_PATH);
		nanosleep(&pause, NULL);
	}
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

static int write_value(const char *path, const char *val, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

static void restore_on_signal(int sig)
{
	int saved = errno;

	if (restore_armed) {
		restore_armed = 0;
		write_value(restore_path, restore_value, restore_len);
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
	err = write_value(restore_path, restore_value, restore_len);
	if (err)
		tool_err("cannot restore %s to %.*s: %s", restore_path,
			 (int)restore_len - 1, restore_value, strerror(-err));
	return err;
}

int hugetlb_reserve(uint64_t page_size, int node, uint64_t need, char *why, size_t len)
{
	struct hugetlb_counts g, n;
	char path[512], val[32];
	long have, want;
	int err;

	if (restore_armed)
		return 0;	/* one reservation per process */
	if (hugetlb_read(page_size, -1, &g) || g.resv < 0) {
		snprintf(why, len, "this kernel offers no %" PRIu64 " kB huge pages",
			 page_size >> 10);
		return -ENOENT;
	}
	have = g.free - g.resv;
	if (node >= 0) {
		if (hugetlb_read(page_size, node, &n)) {
			snprintf(why, len, "node %d has no %" PRIu64 " kB huge pages",
				 node, page_size >> 10);
			return -ENOENT;
		}
		if (n.free < have)
			have = n.free;
	} else {
		n = g;
	}
	if (have >= (long)need)
		return 0;
	if (geteuid() != 0) {
		snprintf(why, len, "%ld free, %" PRIu64 " needed, and only root may raise nr_hugepages",
			 have < 0 ? 0 : have, need);
		return -EPERM;
	}

	hugetlb_nr_path(page_size, node, path, sizeof(path));
	want = n.nr + ((long)need - have);
	/* Arm the restore first: a signal during the write must still undo it. */
	snprintf(restore_path, sizeof(restore_path), "%s", path);
	restore_len = (size_t)snprintf(restore_value, sizeof(restore_value), "%ld\n", n.nr);
	install_handlers();
	restore_armed = 1;
	raised_from = n.nr;
	raised_to = want;
	snprintf(val, sizeof(val), "%ld\n", want);
	err = write_value(path, val, strlen(val));
	if (err) {
		hugetlb_restore();
		snprintf(why, len, "cannot write %ld to %s: %s", want, path, strerror(-err));
		return err;
	}
	have = hugetlb_available(page_size);
	if (node >= 0 && hugetlb_read(page_size, node, &n) == 0 && n.free < have)
		have = n.free;
	if (have < (long)need) {
		hugetlb_restore();
		snprintf(why, len, "the kernel found only %ld of %" PRIu64 " free %s pages after raising %s to %ld",
			 have < 0 ? 0 : have, need,
			 page_size == GUESTMEM_PAGE_1G ? "1G" : "2M", path, want);
		return -ENOMEM;
	}
	return 1;
}
