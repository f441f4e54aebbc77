// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libguestmem: allocation on fault (GUESTMEM_FILE_ALLOC_ON_FAULT).
 *
 * Without it, a huge page that is not allocated (never allocated, or
 * removed by guestmem_punch_hole()) is mapped PROT_NONE: a host touch is
 * SIGSEGV and a guest touch makes KVM_RUN fail with EFAULT.  KVM resolves
 * a guest fault on an ordinary memslot with get_user_pages() on the host
 * mapping; when that fails, x86 KVM returns -EFAULT from KVM_RUN without
 * filling KVM_EXIT_MEMORY_FAULT (that exit carries a GPA only for
 * guest_memfd and private faults), so the VMM is not told where to
 * allocate.
 *
 * With it, every huge page of the file that is not allocated is armed: an
 * anonymous, read/write, MAP_NORESERVE mapping registered with a
 * userfaultfd in MISSING mode.  A touch from a user thread, or from the
 * kernel (copy_to_user(), KVM's get_user_pages()), blocks in the kernel
 * and queues a message; the file's fault thread allocates the huge page
 * through guestmem_allocate(), which maps the hugetlb frame over the armed
 * range with MAP_FIXED (dropping the registration with the old mapping),
 * and wakes the faulting thread with UFFDIO_WAKE.  The access is retried
 * and finds the page.
 *
 * Lock rule: gm_fault_arm() runs under file->lock (from unmap_huge()); the
 * fault thread takes file->lock (through guestmem_allocate()), so no code
 * may touch a file's host mapping while holding its lock, and
 * gm_fault_stop() must be called without it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libguestmem.h"

/* The flag is the library's own: mm/ must never see it. */
BUILD_BUG_ON(GUESTMEM_FILE_ALLOC_ON_FAULT & HGMEM_FILE_FLAGS);

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW	_IO(0xAA, 0x00)
#endif

/* Messages read from the userfaultfd at once. */
#define FAULT_BATCH	16

struct gm_fault {
	int uffd;		/* registered over the armed pages */
	int stop_fd;		/* eventfd: gm_fault_stop() asks the thread to exit */
	pthread_t thread;
	pid_t pid;		/* the process whose mm the userfaultfd serves */
};

/*
 * A fork child shares the userfaultfd (which serves the parent's address
 * space: registering through it would arm the parent's range) and the
 * stop eventfd, and has no fault thread: it must use neither.
 */
static bool fault_is_ours(const struct gm_fault *ft)
{
	return ft->pid == getpid();
}

static size_t huge_size(struct guestmem_file *file)
{
	return huge_page_size(file->pool->h);
}

/*
 * A userfaultfd that also reports faults taken in kernel mode, as KVM's
 * get_user_pages() and copy_to_user() take them.  The syscall allows that
 * with CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1; /dev/userfaultfd
 * allows it to whoever may open the device.
 */
static int open_userfaultfd(void)
{
	int fd, dev, err;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == ENOSYS)
		return gm_error(-EOPNOTSUPP,
				"GUESTMEM_FILE_ALLOC_ON_FAULT: this kernel has no userfaultfd (CONFIG_USERFAULTFD is off)");
	if (err != EPERM)
		return gm_error(-err, "GUESTMEM_FILE_ALLOC_ON_FAULT: userfaultfd(2) failed");
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		err = errno;
		close(dev);
		if (fd >= 0)
			return fd;
		if (err != EPERM && err != EACCES)
			return gm_error(-err, "GUESTMEM_FILE_ALLOC_ON_FAULT: /dev/userfaultfd failed");
	}
	return gm_error(-EPERM,
			"GUESTMEM_FILE_ALLOC_ON_FAULT needs a userfaultfd that handles kernel-mode faults (KVM's): give the process CAP_SYS_PTRACE, or read/write access to /dev/userfaultfd, or run: sysctl vm.unprivileged_userfaultfd=1");
}

/*
 * Arm [addr, addr + len), an anonymous PROT_NONE mapping: register it for
 * missing-page faults, then make it accessible.  In that order, a touch
 * racing with the arming faults (SIGSEGV, EFAULT) instead of silently
 * landing in anonymous memory that the next allocation would discard.
 * MADV_DONTFORK: a fork child has no fault thread and inherits no
 * registration, so it gets a hole there (SIGSEGV) rather than private
 * zero pages that are not guest memory.  munlock(): under
 * mlockall(MCL_FUTURE) the mapping is VM_LOCKED, and making a locked
 * mapping writable populates it, which would fault every page in while
 * our caller holds file->lock, the lock the fault thread needs.
 */
static int arm(struct gm_fault *ft, char *addr, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	if (madvise(addr, len, MADV_DONTFORK) || munlock(addr, len) ||
	    ioctl(ft->uffd, UFFDIO_REGISTER, &reg) ||
	    mprotect(addr, len, PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

static void wake(struct gm_fault *ft, char *addr, size_t len)
{
	struct uffdio_range range = { .start = (uintptr_t)addr, .len = len };

	ioctl(ft->uffd, UFFDIO_WAKE, &range);
}

/*
 * Faults read from the userfaultfd and not yet answered.  A fault queued
 * before its huge page was mapped is stale once it is: answering it by
 * allocating could bring back a page punched meanwhile that nobody
 * touched since.  So, after allocating a page, the thread reads every
 * fault queued so far with file->lock held (no punch can re-arm the page
 * meanwhile) and only wakes those of that page: a real toucher among them
 * retries, and faults again if the page is gone.
 */
#define FAULT_QUEUE	256

struct fault_queue {
	uintptr_t addr[FAULT_QUEUE];
	bool wake_only[FAULT_QUEUE];
	unsigned int head, tail;
};

/* Read what the userfaultfd has queued, as far as there is room. */
static void drain(struct gm_fault *ft, struct fault_queue *q)
{
	struct uffd_msg msg[FAULT_BATCH];
	ssize_t n, i;

	if (q->head) {
		memmove(q->addr, q->addr + q->head, (q->tail - q->head) * sizeof(q->addr[0]));
		memmove(q->wake_only, q->wake_only + q->head,
			(q->tail - q->head) * sizeof(q->wake_only[0]));
		q->tail -= q->head;
		q->head = 0;
	}
	while (FAULT_QUEUE - q->tail >= FAULT_BATCH) {
		n = read(ft->uffd, msg, sizeof(msg));
		if (n <= 0)
			break;
		for (i = 0; i < n / (ssize_t)sizeof(msg[0]); i++) {
			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			q->addr[q->tail] = msg[i].arg.pagefault.address;
			q->wake_only[q->tail++] = false;
		}
	}
}

/*
 * Give the huge page holding @addr to the thread that touched it.  If it
 * cannot be allocated, or allocating it maps nothing (a split-mode KVM
 * file's wholly private huge page, which the host must not touch), the
 * page is made PROT_NONE (unarmed) before the wake-up, so the retried
 * access fails (SIGSEGV, EFAULT from KVM_RUN) instead of faulting here
 * forever; guestmem_allocate() then tells why.
 */
static void handle_fault(struct guestmem_file *file, struct gm_fault *ft,
			 struct fault_queue *q, uintptr_t addr, bool wake_only)
{
	size_t huge = huge_size(file);
	uintptr_t start = (uintptr_t)file->hva;
	unsigned long hidx;
	unsigned int i;
	char *page;

	if (addr < start || addr - start >= file->size) {
		/* Not ours (cannot happen): let it retry rather than hang. */
		wake(ft, (char *)(addr & ~(uintptr_t)(PAGE_SIZE - 1)), PAGE_SIZE);
		return;
	}
	hidx = (addr - start) / huge;
	page = file->hva + hidx * huge;
	if (wake_only) {
		wake(ft, page, huge);
		return;
	}
	(void)guestmem_allocate(file, (u64)hidx * huge, huge);
	pthread_mutex_lock(&file->lock);
	/*
	 * Success without a mapping fails too: a split-mode KVM file's wholly
	 * private huge page counts as allocated but is not mapped (lib/kvm.c).
	 * Woken with nothing mapped, the access would fault here forever.
	 */
	if (!file->mapped[hidx])
		mmap(page, huge, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	/* Every fault of this page queued until now is answered by this one. */
	drain(ft, q);
	for (i = q->head; i < q->tail; i++)
		if (q->addr[i] >= (uintptr_t)page && q->addr[i] - (uintptr_t)page < huge)
			q->wake_only[i] = true;
	pthread_mutex_unlock(&file->lock);
	wake(ft, page, huge);
}

static void *fault_thread(void *arg)
{
	struct guestmem_file *file = arg;
	struct gm_fault *ft = file->fault;
	struct pollfd pfd[2] = {
		{ .fd = ft->uffd, .events = POLLIN },
		{ .fd = ft->stop_fd, .events = POLLIN },
	};
	struct fault_queue *q = calloc(1, sizeof(*q));
	unsigned int i;

	if (!q)
		return NULL;	/* gm_fault_stop() still wakes the faulters */
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;		/* gm_fault_stop() */
		drain(ft, q);
		while (q->head != q->tail) {
			i = q->head++;
			handle_fault(file, ft, q, q->addr[i], q->wake_only[i]);
		}
	}
	free(q);
	return NULL;
}

static void fault_free(struct gm_fault *ft)
{
	if (ft->uffd >= 0)
		close(ft->uffd);
	if (ft->stop_fd >= 0)
		close(ft->stop_fd);
	free(ft);
}

/**
 * gm_fault_start() - arm a new file for allocation on fault
 * @file: the file, with its mm/ file, lock and (PROT_NONE) host mapping
 *	set up, not yet visible to the caller.
 * @flags: the flags given to guestmem_file_create().
 *
 * Context: file->lock not held.
 * Return: 0 (also without %GUESTMEM_FILE_ALLOC_ON_FAULT, doing nothing),
 * or a negative errno with guestmem_last_error() set and nothing to undo
 * but the host mapping, which the caller unmaps anyway.
 */
int gm_fault_start(struct guestmem_file *file, u64 flags)
{
	struct gm_fault *ft;
	sigset_t all, old;
	int err;

	if (!(flags & GUESTMEM_FILE_ALLOC_ON_FAULT))
		return 0;
	if (file->pool->h->region->fd < 0)
		return gm_error(-EINVAL,
				"GUESTMEM_FILE_ALLOC_ON_FAULT: a simulated pool has no memory to fault in");
	ft = malloc(sizeof(*ft));
	if (!ft)
		return gm_error(-ENOMEM, "out of memory");
	ft->stop_fd = -1;
	ft->pid = getpid();
	ft->uffd = open_userfaultfd();
	if (ft->uffd < 0) {
		err = ft->uffd;
		goto fail;
	}
	{
		struct uffdio_api api = { .api = UFFD_API };

		if (ioctl(ft->uffd, UFFDIO_API, &api)) {
			err = gm_error(-errno, "GUESTMEM_FILE_ALLOC_ON_FAULT: UFFDIO_API failed");
			goto fail;
		}
	}
	ft->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ft->stop_fd < 0) {
		err = gm_error(-errno, "GUESTMEM_FILE_ALLOC_ON_FAULT: eventfd(2) failed");
		goto fail;
	}
	err = arm(ft, file->hva, file->size);
	if (err) {
		err = gm_error(err, "GUESTMEM_FILE_ALLOC_ON_FAULT: cannot register %#llx bytes with userfaultfd",
			       (unsigned long long)file->size);
		goto fail;
	}
	file->fault = ft;
	/* The thread takes no signal meant for the VMM's own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&ft->thread, NULL, fault_thread, file);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		file->fault = NULL;
		err = gm_error(err, "GUESTMEM_FILE_ALLOC_ON_FAULT: cannot start the fault thread");
		goto fail;
	}
	pthread_setname_np(ft->thread, "guestmem-fault");
	return 0;
fail:
	fault_free(ft);
	return err;
}

/**
 * gm_fault_arm() - make an unmapped huge page allocate itself on touch
 * @file: the file.
 * @hidx: the huge page, just mapped anonymous PROT_NONE by unmap_huge().
 *
 * Does nothing without %GUESTMEM_FILE_ALLOC_ON_FAULT, nor in a fork
 * child.  If arming fails (the kernel is out of memory or of mappings)
 * the page stays PROT_NONE: a touch fails as it would without the flag.
 *
 * Context: file->lock held.
 */
void gm_fault_arm(struct guestmem_file *file, unsigned long hidx)
{
	size_t huge = huge_size(file);

	if (file->fault && fault_is_ours(file->fault))
		arm(file->fault, file->hva + hidx * huge, huge);
}

/**
 * gm_fault_stop() - stop allocating on fault; fail blocked accesses
 * @file: the file being destroyed, past the point where destruction can
 *	fail, its mm/ file not yet released.
 *
 * Joins the fault thread, makes the whole host mapping PROT_NONE (which
 * drops every registration), and only then wakes every access blocked on
 * a fault of the file: it retries and fails (SIGSEGV, or EFAULT from
 * KVM_RUN) instead of hanging.  The explicit wake-up matters because a
 * fork child may hold a copy of the userfaultfd, so closing ours need not
 * release it.  In a fork child it only closes the child's descriptors.
 *
 * Context: between gm_enter() and gm_leave() (guestmem_file_destroy()),
 * which it leaves while it waits for the thread; file->lock not held (the
 * thread may be waiting for it).
 */
void gm_fault_stop(struct guestmem_file *file)
{
	struct gm_fault *ft = file->fault;
	uint64_t one = 1;
	ssize_t n;

	if (!ft)
		return;
	if (!fault_is_ours(ft)) {
		file->fault = NULL;
		fault_free(ft);		/* our copies of the descriptors only */
		return;
	}
	n = write(ft->stop_fd, &one, sizeof(one));
	(void)n;	/* cannot fail: the counter is far from overflowing */
	/*
	 * Join outside the fork lock: the thread may be in guestmem_allocate()
	 * waiting in gm_enter() behind a fork() that waits for our caller's
	 * gm_leave().  The file is off its pool's list and holds no lock here,
	 * so a fork() in between finds nothing half done.
	 */
	gm_leave();
	pthread_join(ft->thread, NULL);
	gm_enter(file->gen, "file");	/* this process made it: cannot fail */
	file->fault = NULL;	/* only now: the thread used it */
	mmap(file->hva, file->size, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	wake(ft, file->hva, file->size);
	fault_free(ft);
}
