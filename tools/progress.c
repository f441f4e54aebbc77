// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guestmem(1): progress on a terminal.  Only when stderr is a terminal
 * (and not --quiet); the line is redrawn at most ten times a second and
 * erased when done, so reports on stdout stay clean.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define REDRAW_NS	100000000u	/* 0.1 s */

static bool enabled;
static const char *label;
static uint64_t total, started, last_draw;
static bool drawn;

static pthread_t busy_thread;
static bool busy_running;
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cond = PTHREAD_COND_INITIALIZER;
static bool busy_stop;

void progress_enable(bool on)
{
	enabled = on && isatty(STDERR_FILENO);
}

void progress_start(const char *what, uint64_t n)
{
	label = what;
	total = n;
	started = now_ns();
	last_draw = 0;
	drawn = false;
}

static void draw(uint64_t done)
{
	char t[32];

	if (total)
		fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64 " (%" PRIu64 "%%) %s", label,
			done, total, done * 100 / total, fmt_ns(now_ns() - started, t, sizeof(t)));
	else
		fprintf(stderr, "\r\033[K%s: %s", label, fmt_ns(now_ns() - started, t, sizeof(t)));
	fflush(stderr);
	drawn = true;
}

void progress_update(uint64_t done)
{
	uint64_t now;

	if (!enabled || !label)
		return;
	now = now_ns();
	/* Nothing for the first half second: short runs stay silent. */
	if (now - started < 5 * REDRAW_NS || now - last_draw < REDRAW_NS)
		return;
	last_draw = now;
	draw(done);
}

void progress_end(void)
{
	if (enabled && drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	drawn = false;
	label = NULL;
}

static void *busy_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&busy_lock);
	while (!busy_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REDRAW_NS * 2;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&busy_cond, &busy_lock, &ts);
		if (!busy_stop)
			progress_update(0);
	}
	pthread_mutex_unlock(&busy_lock);
	return NULL;
}

void progress_busy_start(const char *what)
{
	if (!enabled)
		return;
	progress_start(what, 0);
	busy_stop = false;
	busy_running = !pthread_create(&busy_thread, NULL, busy_main, NULL);
}

void progress_busy_stop(void)
{
	if (!busy_running)
		return;
	pthread_mutex_lock(&busy_lock);
	busy_stop = true;
	pthread_cond_signal(&busy_cond);
	pthread_mutex_unlock(&busy_lock);
	pthread_join(busy_thread, NULL);
	busy_running = false;
	progress_end();
}
