// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem-bench: the guestmem benchmarks (Google Benchmark through
 * bench/gbench.h).  Usage:
 *
 *   guestmem-bench [--smoke] [--no-system-setup] [--benchmark_* flags]
 *
 * The process runs twice.  The first one (the supervisor) prepares the
 * machine when it runs as root: it raises nr_hugepages for 2M and 1G pages
 * to what the benchmarks need, mounts a 1G hugetlbfs for libhugetlbfs when
 * there is none, and touches every huge page once (on a lazily backed VM
 * the first touch of memory costs far more than any later one).  It then
 * runs the benchmarks in a child process, waits for it, and puts the
 * machine back as it found it, even when the child crashes or is
 * interrupted.  The child is started with enough static TLS surplus for
 * jemalloc to be dlopen()ed privately (see bench_alloc.c).
 *
 * --smoke: tiny sizes, no 1G pages and no system changes; for make check.
 * --no-system-setup: do not touch nr_hugepages or mounts even as root.
 * Without root, benchmarks that need hugetlb pages skip with the reason,
 * and guestmem pools fall back to ordinary memory (labelled "fallback").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "bench.h"
#include "hugetlb_raise.h"	/* util/ */

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define CHILD_ENV	"GUESTMEM_BENCH_CHILD"
#define SETUP_ENV	"GUESTMEM_BENCH_SETUP"
#define STATIC_TLS	"glibc.rtld.optional_static_tls=16384"

struct bench_cfg bench_cfg;

const char *bench_jemalloc_version(void);	/* bench_alloc.c */
void bench_register_zero(void);			/* bench_zero.c */

static void configure(bool smoke)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	bench_cfg.smoke = smoke;
	bench_cfg.max_threads = ncpu > 2 ? (int)ncpu : 2;
	if (smoke) {
		bench_cfg.guest_size = 128 << 20;
		bench_cfg.convert_file = 8 << 20;
		bench_cfg.random_span = 4 << 20;
		bench_cfg.alloc_max = SZ_2M;
		bench_cfg.meta_max = SZ_1G;
		bench_cfg.meta_split_max = SZ_1G;
	} else {
		bench_cfg.guest_size = 2 * SZ_1G;
		bench_cfg.convert_file = 256 << 20;
		bench_cfg.random_span = 128 << 20;
		bench_cfg.alloc_max = 512 << 20;
		bench_cfg.meta_max = UINT64_C(1) << 40;
		bench_cfg.meta_split_max = 16 * SZ_1G;
	}
}

/* ------------------------------------------------------------ system setup */
struct hsize {
	uint64_t page;
	long need;		/* pages the benchmarks use at once */
	struct hugetlb_raise raise;	/* raise.nr_before -1: not changed */
	char why[400];
};

static struct hsize hsizes[2];
static char mounted[128];
static volatile sig_atomic_t got_signal;
static volatile pid_t child;

/* The supervisor never dies of a signal: it passes it on and cleans up. */
static void on_signal(int sig)
{
	got_signal = sig;
	if (child > 0)
		kill(child, sig);
}

static void reserve(struct hsize *hs)
{
	char sz[16];
	int rc;

	bench_size_name(hs->page, sz, sizeof(sz));
	rc = hugetlb_raise(&hs->raise, hs->page, -1, (uint64_t)hs->need, NULL);
	if (rc > 0 || rc == -ENOMEM)
		snprintf(hs->why, sizeof(hs->why), "%s: nr_hugepages %ld -> %ld, %ld available%s",
			 sz, hs->raise.nr_before, hs->raise.nr_after, bench_hugetlb_avail(hs->page),
			 rc < 0 ? " (short: the kernel found no more memory)" : "");
	else
		snprintf(hs->why, sizeof(hs->why), "%s: %s", sz, hs->raise.why);
}

/* Touch every free huge page once, so that the VM backs it before timing. */
static void warm(struct hsize *hs)
{
	long n = bench_hugetlb_avail(hs->page);
	uint64_t t0 = bench_now_ns();
	size_t len, off, slice = hs->page > (128 << 20) ? hs->page : (128 << 20);
	void *p;

	if (n <= 0 || got_signal)
		return;
	len = (size_t)n * hs->page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		 ((__builtin_ctzll(hs->page)) << MAP_HUGE_SHIFT), -1, 0);
	if (p == MAP_FAILED)
		return;
	/* In slices, so that a signal is acted on after one slice at most. */
	for (off = 0; off < len && !got_signal; off += slice) {
		size_t chunk = len - off < slice ? len - off : slice;

		if (madvise((char *)p + off, chunk, MADV_POPULATE_WRITE))
			bench_touch((char *)p + off, chunk);
	}
	munmap(p, len);
	if (!got_signal)
		fprintf(stderr, "guestmem-bench: warmed %ld huge pages of %llu MiB in %.1f s\n",
			n, (unsigned long long)(hs->page >> 20),
			(double)(bench_now_ns() - t0) * 1e-9);
}

static bool have_1g_mount(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " hugetlbfs ") && strstr(line, "pagesize=1024M");
	fclose(f);
	return found;
}

static void mount_1g(void)
{
#ifdef HAVE_LIBHUGETLBFS
	char dir[] = "/tmp/guestmem-bench-1G.XXXXXX";
	struct guestmem_hugetlb_info info;

	if (guestmem_hugetlb_info(SZ_1G, -1, &info, sizeof(info)) || have_1g_mount())
		return;
	if (!mkdtemp(dir))
		return;
	if (mount("guestmem-bench", dir, "hugetlbfs", MS_NOSUID | MS_NODEV, "pagesize=1G")) {
		fprintf(stderr, "guestmem-bench: cannot mount a 1G hugetlbfs: %s\n",
			strerror(errno));
		rmdir(dir);
		return;
	}
	snprintf(mounted, sizeof(mounted), "%s", dir);
#endif
}

static void restore(void)
{
	int i;

	if (mounted[0]) {
		if (umount2(mounted, MNT_DETACH) || rmdir(mounted))
			fprintf(stderr, "guestmem-bench: cannot remove %s: %s\n", mounted,
				strerror(errno));
		mounted[0] = 0;
	}
	for (i = 0; i < 2; i++) {
		int err = hugetlb_raise_undo(&hsizes[i].raise);

		if (err)
			fprintf(stderr, "guestmem-bench: cannot restore %s: %s\n",
				hsizes[i].raise.path, strerror(-err));
	}
}

static int supervise(int argc, char **argv, bool smoke, bool setup)
{
	char note[1024] = "", *tun, *env;
	const char *old;
	struct sigaction act = { .sa_handler = on_signal }, saved[3];
	int status, i, sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	pid_t pid;

	(void)argc;
	/* From here on, a signal ends in restore(), not in a half-set machine. */
	sigemptyset(&act.sa_mask);
	for (i = 0; i < 3; i++) {
		sigaction(sigs[i], &act, &saved[i]);
		if (saved[i].sa_handler == SIG_IGN)	/* nohup & co. */
			sigaction(sigs[i], &saved[i], NULL);
	}
	hsizes[0] = (struct hsize){ .page = SZ_2M, .raise.nr_before = -1,
				    .need = (long)(bench_cfg.guest_size / SZ_2M) + 32 };
	hsizes[1] = (struct hsize){ .page = SZ_1G, .raise.nr_before = -1,
				    .need = (long)(bench_cfg.guest_size / SZ_1G) };
	if (smoke || !setup) {
		snprintf(note, sizeof(note), "no system setup (%s)",
			 smoke ? "--smoke" : "--no-system-setup");
	} else if (geteuid() != 0) {
		snprintf(note, sizeof(note),
			 "not root: hugetlb pages not reserved, benchmarks that need them skip");
	} else {
		/* Held until exit: other users of hugetlb pages wait for the restore. */
		hugetlb_lock_take(-1, NULL);
		for (i = 0; i < 2 && !got_signal; i++) {
			reserve(&hsizes[i]);
			warm(&hsizes[i]);
		}
		if (!got_signal)
			mount_1g();
		snprintf(note, sizeof(note), "root: %s; %s%s%s", hsizes[0].why, hsizes[1].why,
			 mounted[0] ? "; mounted a 1G hugetlbfs at " : "", mounted);
	}
	fprintf(stderr, "guestmem-bench: %s\n", note);

	old = getenv("GLIBC_TUNABLES");
	if (old && *old) {
		if (asprintf(&tun, "%s:%s", old, STATIC_TLS) < 0)
			tun = NULL;
	} else {
		tun = strdup(STATIC_TLS);
	}
	if (asprintf(&env, "%s", note) < 0)
		env = NULL;
	if (got_signal) {
		fprintf(stderr, "guestmem-bench: interrupted by signal %d during setup\n",
			(int)got_signal);
		restore();
		free(tun);
		free(env);
		return 128 + got_signal;
	}
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < 3; i++)
			sigaction(sigs[i], &saved[i], NULL);
		if (tun)
			setenv("GLIBC_TUNABLES", tun, 1);
		setenv(SETUP_ENV, env ? env : "", 1);
		setenv(CHILD_ENV, "1", 1);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "guestmem-bench: exec /proc/self/exe: %s\n", strerror(errno));
		_exit(127);
	}
	status = 0;
	child = pid;
	if (pid < 0)
		fprintf(stderr, "guestmem-bench: fork: %s\n", strerror(errno));
	else if (got_signal)	/* arrived between the check and fork() */
		kill(pid, got_signal);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	restore();
	free(tun);
	free(env);
	if (pid < 0)
		return 1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "guestmem-bench: benchmarks killed by signal %d\n",
			WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/* ------------------------------------------------------------ the child */
static void contexts(void)
{
	char buf[256];
	const char *setup = getenv(SETUP_ENV);
	long avail;
	int i;

	gb_context("guestmem_version", PACKAGE_VERSION);
	gb_context("guestmem_debug_checks", CONFIG_GUESTMEM_DEBUG ? "yes" : "no");
	gb_context("jemalloc_version", bench_jemalloc_version());
	gb_context("system_setup", setup ? setup : "");
	for (i = 0; i < 2; i++) {
		uint64_t page = i ? SZ_1G : SZ_2M;

		avail = bench_hugetlb_avail(page);
		snprintf(buf, sizeof(buf), "%ld", avail);
		gb_context(i ? "hugetlb_1G_available" : "hugetlb_2M_available", buf);
	}
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)bench_cfg.guest_size);
	gb_context("guest_size", buf);
	snprintf(buf, sizeof(buf), "%d", bench_cfg.max_threads);
	gb_context("max_threads", buf);
	gb_context("mode", bench_cfg.smoke ? "smoke" : "full");
}

int main(int argc, char **argv)
{
	bool smoke = false, setup = true;
	int i, j;

	/* Our own flags; the rest go to Google Benchmark. */
	for (i = j = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke"))
			smoke = true;
		else if (!strcmp(argv[i], "--no-system-setup"))
			setup = false;
		else
			argv[j++] = argv[i];
	}
	configure(smoke);
	if (!getenv(CHILD_ENV)) {
		/* The child gets our flags back. */
		char **cargv = calloc(argc + 3, sizeof(*cargv));
		int k = 0, r;

		if (!cargv)
			return 1;
		cargv[k++] = argv[0];
		if (smoke)
			cargv[k++] = "--smoke";
		if (!setup)
			cargv[k++] = "--no-system-setup";
		for (i = 1; i < j; i++)
			cargv[k++] = argv[i];
		r = supervise(k, cargv, smoke, setup);
		free(cargv);
		return r;
	}
	argc = j;
	argv[argc] = NULL;

	bench_register_alloc();
	bench_register_split();
	bench_register_mm_split();
	bench_register_convert();
	bench_register_pool();
	bench_register_zero();
	bench_register_state();
	bench_register_metadata();
	contexts();
	return gb_main(argc, argv);
}
