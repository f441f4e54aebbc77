// SPDX-License-Identifier: LGPL-2.1-or-later
/* Raising the kernel's hugetlb pool, under the machine-wide lock: see hugetlb_raise.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <guestmem.h>

#include "hugetlb_raise.h"

int hugetlb_lock_take(int timeout_s, void (*waiting)(void))
{
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 50000000 };
	long waited = 0;	/* in pauses of 50 ms */
	int fd;

	/* flock(2) works on a read-only descriptor: every user can take it. */
	fd = open(HUGETLB_LOCK_PATH, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, timeout_s < 0 ? LOCK_EX : LOCK_EX | LOCK_NB)) {
		int err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;

		if (errno == EINTR)
			continue;
		if (err != -ETIMEDOUT || waited >= (long)timeout_s * 20) {
			close(fd);
			return err;
		}
		if (waited++ == 20 && waiting)
			waiting();
		nanosleep(&pause, NULL);
	}
	return fd;
}

uint64_t hugetlb_default_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
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

const char *hugetlb_nr_path(uint64_t page_size, int node, char *buf, size_t len)
{
	if (node < 0 && page_size == hugetlb_default_size())
		snprintf(buf, len, "/proc/sys/vm/nr_hugepages");
	else if (node < 0)
		snprintf(buf, len, "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages",
			 page_size >> 10);
	else
		snprintf(buf, len,
			 "/sys/devices/system/node/node%d/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages",
			 node, page_size >> 10);
	return buf;
}

int hugetlb_write(const char *path, const char *val, size_t len)
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

static int write_nr(const char *path, long nr)
{
	char val[32];
	int n = snprintf(val, sizeof(val), "%ld\n", nr);

	return hugetlb_write(path, val, (size_t)n);
}

int hugetlb_raise(struct hugetlb_raise *r, uint64_t page_size, int node, uint64_t need,
		  void (*arm)(const struct hugetlb_raise *r))
{
	struct guestmem_hugetlb_info info;
	int err;

	memset(r, 0, sizeof(*r));
	r->nr_before = -1;
	err = guestmem_hugetlb_info(page_size, node, &info, sizeof(info));
	if (err) {
		snprintf(r->why, sizeof(r->why), "%s", guestmem_last_error());
		return err;
	}
	if (info.available >= need) {
		snprintf(r->why, sizeof(r->why), "%" PRIu64 " pages available", info.available);
		return 0;
	}
	if (geteuid() != 0) {
		snprintf(r->why, sizeof(r->why),
			 "%" PRIu64 " free, %" PRIu64 " needed, and only root may raise nr_hugepages",
			 info.available, need);
		return -EPERM;
	}
	hugetlb_nr_path(page_size, node, r->path, sizeof(r->path));
	r->nr_after = (long)(info.total + (need - info.available));
	r->nr_before = (long)info.total;
	if (arm)
		arm(r);
	err = write_nr(r->path, r->nr_after);
	if (err) {
		snprintf(r->why, sizeof(r->why), "cannot write %ld to %s: %s", r->nr_after,
			 r->path, strerror(-err));
		return err;
	}
	err = guestmem_hugetlb_info(page_size, node, &info, sizeof(info));
	if (err || info.available < need) {
		snprintf(r->why, sizeof(r->why),
			 "the kernel found only %" PRIu64 " of %" PRIu64 " free %" PRIu64
			 " kB pages after raising %s to %ld",
			 err ? 0 : info.available, need, page_size >> 10, r->path, r->nr_after);
		return -ENOMEM;
	}
	return 1;
}

int hugetlb_raise_undo(struct hugetlb_raise *r)
{
	int err;

	if (r->nr_before < 0)
		return 0;
	err = write_nr(r->path, r->nr_before);
	if (!err)
		r->nr_before = -1;
	return err;
}
