// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Punched ranges, through the public API only.
 *
 * Without GUESTMEM_FILE_ALLOC_ON_FAULT a removed huge page is a trap until
 * guestmem_allocate(): a host touch is SIGSEGV, a kernel-mode access (what
 * KVM's get_user_pages() does for a vCPU) fails with EFAULT.  With it, any
 * touch allocates the page again, zeroed: from the thread that punched,
 * from other threads at once, and from the kernel (read(2) from a pipe
 * into the range, write(2) from it, process_vm_readv(2), which reads it
 * through get_user_pages() like KVM).  Allocation that cannot be done is an
 * error for the access, never a hang, and so is a file destroyed under a
 * blocked access.  A fork child gets a hole, not private memory.  Every
 * test ends with the pool whole: no huge page lost.
 *
 * /dev/kvm is absent where this runs; examples/kvm-guest covers a real
 * guest's touch in the booted test kernel.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <guestmem.h>

#define SZ_4K	UINT64_C(4096)
#define SZ_2M	GUESTMEM_PAGE_2M

static struct guestmem_pool *pool_of(uint64_t nr, uint64_t flags)
{
	struct guestmem_pool_opts o = {
		.page_size = SZ_2M, .nr_pages = nr, .node = -1,
		.flags = flags ? flags : GUESTMEM_POOL_FALLBACK,
	};
	struct guestmem_pool *pool = NULL;
	int err = guestmem_pool_create(&o, &pool);

	ck_assert_msg(!err, "pool_create: %d: %s", err, guestmem_last_error());
	return pool;
}

static void assert_pool_whole(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.free, st.total);
	ck_assert_uint_eq(st.reserved, 0);
	ck_assert_uint_eq(st.in_use, 0);
	ck_assert_uint_eq(st.pending, 0);
}

static void finish(struct guestmem_pool *pool, struct guestmem_file *f)
{
	ck_assert_int_eq(guestmem_file_destroy(f), 0);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}

static uint64_t allocated(struct guestmem_file *f)
{
	struct guestmem_file_stats st;

	ck_assert_int_eq(guestmem_file_stats(f, &st, sizeof(st)), 0);
	return st.allocated;
}

static uint64_t in_use(struct guestmem_pool *pool)
{
	struct guestmem_pool_stats st;

	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.free + st.reserved + st.in_use, st.total);
	return st.in_use;
}

static bool all_zero(const volatile unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static struct guestmem_file *file_of(struct guestmem_pool *pool, uint64_t size,
				     uint64_t flags)
{
	struct guestmem_file *f = NULL;
	int err = guestmem_file_create(pool, size, flags, &f);

	ck_assert_msg(!err, "file_create: %d: %s", err, guestmem_last_error());
	return f;
}

/*
 * Whether this process may use GUESTMEM_FILE_ALLOC_ON_FAULT; if not, says
 * why (the test is then skipped, and test_flag_errors checks the error).
 */
static bool can_alloc_on_fault(void)
{
	struct guestmem_pool *pool = pool_of(1, 0);
	struct guestmem_file *f = NULL;
	int err = guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_ALLOC_ON_FAULT, &f);

	if (err == -EPERM || err == -EOPNOTSUPP)
		printf("SKIP: no allocation on fault here: %s\n", guestmem_last_error());
	else
		ck_assert_msg(!err, "file_create: %d: %s", err, guestmem_last_error());
	if (!err)
		ck_assert_int_eq(guestmem_file_destroy(f), 0);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	return !err;
}

/* read(2) @len bytes of @byte into @dst through a pipe: the kernel writes @dst. */
static ssize_t read_into(void *dst, unsigned char byte, size_t len)
{
	unsigned char buf[4096];
	int p[2];
	ssize_t n;
	int saved;

	ck_assert_uint_le(len, sizeof(buf));
	memset(buf, byte, len);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], buf, len), (ssize_t)len);
	n = read(p[0], dst, len);
	saved = errno;
	close(p[0]);
	close(p[1]);
	errno = saved;
	return n;
}

/* ---- without GUESTMEM_FILE_ALLOC_ON_FAULT: a trap until guestmem_allocate() ---- */

START_TEST(test_trap_kernel_access_efault_until_allocate)
{
	struct guestmem_pool *pool = pool_of(2, 0);
	struct guestmem_file *f = file_of(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	unsigned char *hva = guestmem_file_hva(f);

	ck_assert_int_eq(guestmem_allocate(f, 0, 2 * SZ_2M), 0);
	memset(hva + SZ_2M, 0x5a, SZ_2M);
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_2M, SZ_2M), 0);
	ck_assert_uint_eq(allocated(f), SZ_2M);
	ck_assert_uint_eq(in_use(pool), 1);
	/* The kernel cannot write there: what KVM_RUN's EFAULT comes from. */
	errno = 0;
	ck_assert_int_eq(read_into(hva + SZ_2M, 0x77, 64), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(allocated(f), SZ_2M);
	/* What the VMM must do: allocate it again before anything touches it. */
	ck_assert_int_eq(guestmem_allocate(f, SZ_2M, SZ_4K), 0);
	ck_assert(all_zero(hva + SZ_2M, SZ_2M));
	ck_assert_int_eq(read_into(hva + SZ_2M, 0x77, 64), 64);
	ck_assert_uint_eq(hva[SZ_2M + 63], 0x77);
	finish(pool, f);
}
END_TEST

START_TEST(test_trap_host_touch_sigsegv)
{
	struct guestmem_pool *pool = pool_of(1, 0);
	struct guestmem_file *f = file_of(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED);
	volatile unsigned char *hva = guestmem_file_hva(f);

	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_2M), 0);
	hva[100] = 1;
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	signal(SIGSEGV, SIG_DFL);	/* a sanitizer's handler would exit instead */
	(void)hva[100];			/* SIGSEGV */
	ck_abort_msg("a punched page was readable without GUESTMEM_FILE_ALLOC_ON_FAULT");
}
END_TEST

/* ---- GUESTMEM_FILE_ALLOC_ON_FAULT ---- */

START_TEST(test_host_touch_allocates)
{
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	volatile unsigned char *hva;
	int round;

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(3, 0);
	f = file_of(pool, 3 * SZ_2M, GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ALLOC_ON_FAULT);
	hva = guestmem_file_hva(f);
	ck_assert_int_eq(guestmem_allocate(f, 0, 3 * SZ_2M), 0);
	memset((void *)hva, 0xa5, 3 * SZ_2M);
	for (round = 0; round < 3; round++) {
		ck_assert_int_eq(guestmem_punch_hole(f, SZ_2M, SZ_2M), 0);
		ck_assert_uint_eq(allocated(f), 2 * SZ_2M);
		ck_assert_uint_eq(in_use(pool), 2);
		/* Round 0 reads first, the others write first. */
		if (round)
			hva[SZ_2M + 7] = 0x11;
		else
			ck_assert_uint_eq(hva[SZ_2M + SZ_2M / 2], 0);
		ck_assert_uint_eq(allocated(f), 3 * SZ_2M);
		ck_assert_uint_eq(in_use(pool), 3);
		ck_assert_uint_eq(hva[SZ_2M + 7], round ? 0x11 : 0);
		hva[SZ_2M + 7] = 0;
		ck_assert(all_zero(hva + SZ_2M, SZ_2M));
		memset((void *)(hva + SZ_2M), 0xc3, SZ_2M);
	}
	/* Neighbours untouched; a partial punch zeroes and keeps the page. */
	ck_assert_uint_eq(hva[SZ_2M - 1], 0xa5);
	ck_assert_uint_eq(hva[2 * SZ_2M], 0xa5);
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_4K, 3 * SZ_2M - SZ_4K), 0);
	ck_assert_uint_eq(allocated(f), SZ_2M);
	ck_assert_uint_eq(hva[0], 0xa5);
	ck_assert(all_zero(hva + SZ_4K, SZ_2M - SZ_4K));
	ck_assert(all_zero(hva + 2 * SZ_2M, SZ_2M));
	ck_assert_uint_eq(allocated(f), 2 * SZ_2M);
	ck_assert(all_zero(hva + SZ_2M, SZ_4K));
	ck_assert_uint_eq(allocated(f), 3 * SZ_2M);
	finish(pool, f);
}
END_TEST

START_TEST(test_never_allocated_pages_allocate_on_touch)
{
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	struct guestmem_pool_stats st;
	volatile unsigned char *hva;
	unsigned int state;

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(4, 0);
	/* Private pages too: in userspace they stay mapped. */
	f = file_of(pool, 4 * SZ_2M, GUESTMEM_FILE_ALLOC_ON_FAULT);
	hva = guestmem_file_hva(f);
	ck_assert_uint_eq(allocated(f), 0);
	hva[2 * SZ_2M + 12345] = 9;
	ck_assert_uint_eq(allocated(f), SZ_2M);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.in_use, 1);
	ck_assert_uint_eq(st.reserved, 3);
	ck_assert_int_eq(guestmem_state(f, 2 * SZ_2M, &state, NULL), 0);
	ck_assert_uint_eq(state, GUESTMEM_PRIVATE);
	ck_assert_uint_eq(hva[2 * SZ_2M + 12345], 9);
	ck_assert(all_zero(hva + 2 * SZ_2M, 12345));
	/* guestmem_allocate() of a page a touch allocated is a no-op. */
	ck_assert_int_eq(guestmem_allocate(f, 2 * SZ_2M, SZ_2M), 0);
	ck_assert_uint_eq(hva[2 * SZ_2M + 12345], 9);
	finish(pool, f);
}
END_TEST

START_TEST(test_kernel_access_allocates)
{
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	unsigned char *hva, buf[SZ_4K];
	struct iovec local = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct iovec remote;
	int p[2];

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(3, 0);
	f = file_of(pool, 3 * SZ_2M, GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ALLOC_ON_FAULT);
	hva = guestmem_file_hva(f);
	ck_assert_int_eq(guestmem_allocate(f, 0, 3 * SZ_2M), 0);
	memset(hva, 0x3c, 3 * SZ_2M);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, 3 * SZ_2M), 0);
	ck_assert_uint_eq(allocated(f), 0);
	ck_assert_uint_eq(in_use(pool), 0);

	/* The kernel writes into page 0 (copy_to_user()). */
	ck_assert_int_eq(read_into(hva + 100, 0x77, 1000), 1000);
	ck_assert_uint_eq(allocated(f), SZ_2M);
	ck_assert(all_zero(hva, 100));
	ck_assert_uint_eq(hva[100], 0x77);
	ck_assert_uint_eq(hva[1099], 0x77);
	ck_assert(all_zero(hva + 1100, SZ_2M - 1100));

	/* The kernel reads page 1 (copy_from_user()). */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], hva + SZ_2M + SZ_4K, SZ_4K), (ssize_t)SZ_4K);
	memset(buf, 0xff, sizeof(buf));
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	ck_assert(all_zero(buf, sizeof(buf)));
	close(p[0]);
	close(p[1]);
	ck_assert_uint_eq(allocated(f), 2 * SZ_2M);

	/* get_user_pages() on page 2, as KVM resolves a guest fault. */
	remote.iov_base = hva + 2 * SZ_2M + 5 * SZ_4K;
	remote.iov_len = SZ_4K;
	memset(buf, 0xff, sizeof(buf));
	ck_assert_int_eq(process_vm_readv(getpid(), &local, 1, &remote, 1, 0),
			 (ssize_t)sizeof(buf));
	ck_assert(all_zero(buf, sizeof(buf)));
	ck_assert_uint_eq(allocated(f), 3 * SZ_2M);
	ck_assert_uint_eq(in_use(pool), 3);
	finish(pool, f);
}
END_TEST

/* ---- threads faulting the same punched pages at once ---- */

#define NR_TOUCHERS	4
#define NR_PAGES	4

struct toucher {
	unsigned char *hva;
	unsigned int id;
	pthread_barrier_t *go;
	int bad;
};

/* Each thread owns one 4K page in every huge page: zero, then its own byte. */
static void *toucher(void *arg)
{
	struct toucher *t = arg;
	unsigned char *mine;
	unsigned int k;

	pthread_barrier_wait(t->go);
	for (k = 0; k < NR_PAGES; k++) {
		/* Every thread starts on a different huge page, then they collide. */
		mine = t->hva + (k + t->id) % NR_PAGES * SZ_2M + t->id * SZ_4K;
		if (t->id % 2) {
			if (!all_zero(mine, SZ_4K))
				t->bad++;
			memset(mine, (int)(t->id + 1), SZ_4K);
		} else if (read_into(mine, (unsigned char)(t->id + 1), SZ_4K) != (ssize_t)SZ_4K) {
			t->bad++;
		}
	}
	return NULL;
}

START_TEST(test_threads_fault_at_once)
{
	struct toucher t[NR_TOUCHERS];
	pthread_t tid[NR_TOUCHERS];
	pthread_barrier_t go;
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	unsigned char *hva;
	unsigned int round, i, k;

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(NR_PAGES, 0);
	f = file_of(pool, NR_PAGES * SZ_2M,
		    GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ALLOC_ON_FAULT);
	hva = guestmem_file_hva(f);
	for (round = 0; round < 20; round++) {
		ck_assert_int_eq(guestmem_punch_hole(f, 0, NR_PAGES * SZ_2M), 0);
		ck_assert_uint_eq(allocated(f), 0);
		pthread_barrier_init(&go, NULL, NR_TOUCHERS);
		for (i = 0; i < NR_TOUCHERS; i++) {
			t[i] = (struct toucher){ .hva = hva, .id = i, .go = &go };
			ck_assert_int_eq(pthread_create(&tid[i], NULL, toucher, &t[i]), 0);
		}
		for (i = 0; i < NR_TOUCHERS; i++) {
			pthread_join(tid[i], NULL);
			ck_assert_msg(!t[i].bad, "round %u thread %u saw %d bad pages",
				      round, i, t[i].bad);
		}
		pthread_barrier_destroy(&go);
		ck_assert_uint_eq(allocated(f), NR_PAGES * SZ_2M);
		ck_assert_uint_eq(in_use(pool), NR_PAGES);
		for (k = 0; k < NR_PAGES; k++) {
			for (i = 0; i < NR_TOUCHERS; i++)
				ck_assert_uint_eq(hva[k * SZ_2M + i * SZ_4K + SZ_4K - 1], i + 1);
			ck_assert(all_zero(hva + k * SZ_2M + NR_TOUCHERS * SZ_4K,
					   SZ_2M - NR_TOUCHERS * SZ_4K));
		}
	}
	finish(pool, f);
}
END_TEST

/* ---- failures are errors, never hangs ---- */

/*
 * A page punched while pinned keeps the file's reservation until it is
 * unpinned, so a touch of its range cannot be given a huge page: the
 * access fails (EFAULT here, SIGSEGV for a host touch) and
 * guestmem_allocate() then says why.
 */
START_TEST(test_fault_that_cannot_allocate_fails)
{
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	struct guestmem_page pg;
	unsigned char *hva;
	int err;

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(1, 0);
	f = file_of(pool, SZ_2M, GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ALLOC_ON_FAULT);
	hva = guestmem_file_hva(f);
	ck_assert_int_eq(guestmem_pin(f, SZ_4K, &pg), 0);
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	errno = 0;
	ck_assert_int_eq(read_into(hva + 64, 0x42, 64), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(allocated(f), 0);
	err = guestmem_allocate(f, 0, SZ_4K);
	ck_assert_int_eq(err, -ENOMEM);
	printf("fault with no huge page left: %s\n", guestmem_last_error());
	/* Unpinned, the page goes back and the range works again. */
	ck_assert_int_eq(guestmem_unpin(f, &pg), 0);
	ck_assert_int_eq(guestmem_allocate(f, 0, SZ_4K), 0);
	ck_assert_int_eq(read_into(hva + 64, 0x42, 64), 64);
	ck_assert(all_zero(hva, 64));
	ck_assert_uint_eq(hva[127], 0x42);
	/* Punched again, it is armed again. */
	ck_assert_int_eq(guestmem_punch_hole(f, 0, SZ_2M), 0);
	ck_assert_int_eq(read_into(hva + 64, 0x43, 64), 64);
	ck_assert_uint_eq(hva[127], 0x43);
	finish(pool, f);
}
END_TEST

struct blocked {
	unsigned char *addr;
	pthread_barrier_t *go;
	ssize_t n;
	int err;
};

static void *blocked_reader(void *arg)
{
	struct blocked *b = arg;

	pthread_barrier_wait(b->go);
	errno = 0;
	b->n = read_into(b->addr, 0x99, 512);
	b->err = errno;
	return NULL;
}

/* fork() in a loop: fork() waits for the library calls running to return. */
static void *forker(void *arg)
{
	atomic_int *stop = arg;
	pid_t pid;

	while (!atomic_load(stop)) {
		pid = fork();
		if (!pid)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return NULL;
}

/*
 * Destroy a file while other threads are touching it (a VMM bug): every
 * access either got its page or fails with EFAULT; none may hang.  A fork
 * child holds a copy of the file's userfaultfd meanwhile, so that closing
 * it does not wake anyone: the library must.  Another thread forks all
 * along: the fault thread may wait for a fork() that waits for the
 * destroy, which must not wait for the fault thread meanwhile.
 */
START_TEST(test_destroy_wakes_blocked_accesses)
{
	struct blocked b[8];
	pthread_t tid[8];
	pthread_barrier_t go;
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	unsigned int i, round, served = 0, failed = 0;
	atomic_int stop = 0;
	pthread_t fork_thread;
	int hold[2];
	pid_t child;

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(8, 0);
	ck_assert_int_eq(pthread_create(&fork_thread, NULL, forker, &stop), 0);
	for (round = 0; round < 50; round++) {
		f = file_of(pool, 8 * SZ_2M, GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ALLOC_ON_FAULT);
		ck_assert_int_eq(pipe(hold), 0);
		child = fork();
		ck_assert_int_ge(child, 0);
		if (!child) {
			char c;

			close(hold[1]);
			_exit(read(hold[0], &c, 1) < 0);
		}
		close(hold[0]);
		pthread_barrier_init(&go, NULL, 9);
		for (i = 0; i < 8; i++) {
			b[i] = (struct blocked){
				.addr = (unsigned char *)guestmem_file_hva(f) + i * SZ_2M + SZ_4K,
				.go = &go,
			};
			ck_assert_int_eq(pthread_create(&tid[i], NULL, blocked_reader, &b[i]), 0);
		}
		pthread_barrier_wait(&go);
		if (round % 2)
			usleep(200);
		ck_assert_int_eq(guestmem_file_destroy(f), 0);
		for (i = 0; i < 8; i++) {
			pthread_join(tid[i], NULL);
			if (b[i].n == 512) {
				served++;
			} else {
				ck_assert_int_eq(b[i].n, -1);
				ck_assert_int_eq(b[i].err, EFAULT);
				failed++;
			}
		}
		pthread_barrier_destroy(&go);
		close(hold[1]);
		ck_assert_int_eq(waitpid(child, NULL, 0), child);
		assert_pool_whole(pool);
	}
	atomic_store(&stop, 1);
	pthread_join(fork_thread, NULL);
	printf("destroy under 400 touches: %u served, %u failed with EFAULT, none hung\n",
	       served, failed);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
}
END_TEST

/* ---- fork ---- */

START_TEST(test_fork_child_gets_a_hole)
{
	struct guestmem_pool *pool;
	struct guestmem_file *f;
	volatile unsigned char *hva;
	int status;
	pid_t child;

	if (!can_alloc_on_fault())
		return;
	pool = pool_of(2, 0);
	f = file_of(pool, 2 * SZ_2M, GUESTMEM_FILE_INIT_SHARED | GUESTMEM_FILE_ALLOC_ON_FAULT);
	hva = guestmem_file_hva(f);
	hva[10] = 0x61;
	hva[SZ_2M + 10] = 0x62;
	ck_assert_int_eq(guestmem_punch_hole(f, SZ_2M, SZ_2M), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (!child) {
		/* The punched page is not there at all, for the kernel or for us. */
		errno = 0;
		if (read_into((void *)(hva + SZ_2M), 1, 1) != -1 || errno != EFAULT)
			_exit(4);
		signal(SIGSEGV, SIG_DFL);
		(void)hva[SZ_2M + 10];
		_exit(3);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		      "child: status %#x, expected SIGSEGV", status);
	ck_assert_uint_eq(allocated(f), SZ_2M);
	ck_assert_uint_eq(hva[SZ_2M + 10], 0);
	ck_assert_uint_eq(allocated(f), 2 * SZ_2M);
	finish(pool, f);
}
END_TEST

/* ---- the flag's errors ---- */

static long read_sysctl(const char *path)
{
	FILE *fp = fopen(path, "r");
	long v = -1;

	if (fp) {
		if (fscanf(fp, "%ld", &v) != 1)
			v = -1;
		fclose(fp);
	}
	return v;
}

/* In a child without privileges: -EPERM, the fix in the message, pool untouched. */
static void unprivileged_gets_eperm(void)
{
	struct stat st;
	int status;
	pid_t child;

	if (read_sysctl("/proc/sys/vm/unprivileged_userfaultfd") == 1 ||
	    (!stat("/dev/userfaultfd", &st) && (st.st_mode & S_IWOTH))) {
		printf("SKIP: unprivileged userfaultfd is allowed here: no -EPERM to check\n");
		return;
	}
	child = fork();
	ck_assert_int_ge(child, 0);
	if (!child) {
		struct guestmem_pool *pool;
		struct guestmem_file *f = NULL;
		int err;

		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(10);
		pool = pool_of(1, 0);
		err = guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_ALLOC_ON_FAULT, &f);
		printf("unprivileged: %d: %s\n", err, guestmem_last_error());
		fflush(stdout);
		if (err != -EPERM || f)
			_exit(11);
		if (!strstr(guestmem_last_error(), "CAP_SYS_PTRACE") ||
		    !strstr(guestmem_last_error(), "/dev/userfaultfd") ||
		    !strstr(guestmem_last_error(), "vm.unprivileged_userfaultfd=1"))
			_exit(12);
		assert_pool_whole(pool);
		_exit(guestmem_pool_destroy(pool) ? 13 : 0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status), "child: status %#x", status);
}

START_TEST(test_flag_errors)
{
	struct guestmem_pool *pool;
	struct guestmem_pool_stats st;
	struct guestmem_file *f = NULL;

	/* A simulated pool has no memory to fault in. */
	pool = pool_of(2, GUESTMEM_POOL_SIMULATE);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_ALLOC_ON_FAULT, &f),
			 -EINVAL);
	ck_assert(strstr(guestmem_last_error(), "simulated"));
	ck_assert_ptr_null(f);
	ck_assert_int_eq(guestmem_pool_stats(pool, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.free, 2);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);

	pool = pool_of(1, 0);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M, GUESTMEM_FILE_ALLOC_ON_FAULT << 1, &f),
			 -EINVAL);
	ck_assert_int_eq(guestmem_file_create(pool, SZ_2M + SZ_4K, GUESTMEM_FILE_ALLOC_ON_FAULT, &f),
			 -EINVAL);
	ck_assert_int_eq(guestmem_file_create(pool, 2 * SZ_2M, GUESTMEM_FILE_ALLOC_ON_FAULT, &f),
			 -ENOMEM);
	ck_assert_ptr_null(f);
	assert_pool_whole(pool);
	ck_assert_int_eq(guestmem_pool_destroy(pool), 0);
	unprivileged_gets_eperm();
}
END_TEST

static Suite *punch_suite(void)
{
	Suite *s = suite_create("punch");
	TCase *trap = tcase_create("trap");
	TCase *fault = tcase_create("alloc_on_fault");

	tcase_add_test(trap, test_trap_kernel_access_efault_until_allocate);
	tcase_add_test_raise_signal(trap, test_trap_host_touch_sigsegv, SIGSEGV);
	suite_add_tcase(s, trap);
	tcase_set_timeout(fault, 120);
	tcase_add_test(fault, test_host_touch_allocates);
	tcase_add_test(fault, test_never_allocated_pages_allocate_on_touch);
	tcase_add_test(fault, test_kernel_access_allocates);
	tcase_add_test(fault, test_threads_fault_at_once);
	tcase_add_test(fault, test_fault_that_cannot_allocate_fails);
	tcase_add_test(fault, test_destroy_wakes_blocked_accesses);
	tcase_add_test(fault, test_fork_child_gets_a_hole);
	tcase_add_test(fault, test_flag_errors);
	suite_add_tcase(s, fault);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(punch_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
