/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * hub_helpers.c -- what the hub's unit tests share (hub_helpers.h).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hub.h"
#include "hub_helpers.h"
#include "unit.h"

#define NAMES_MAX	32		/* hub names one run may use */
#define CHILD_ALARM	60		/* seconds before a child is killed */
#define TEST_ALARM	300		/* seconds for the whole run */

static char		 names[NAMES_MAX][HUB_NAME_MAX];
static int		 nnames;
static const char	*prog = "test_hub";

static void	unlink_all(void);
static void	on_signal(int);
static void	on_alarm(int);

/* Remove every object this run may have made; for exit and signals. */
static void
unlink_all(void)
{
	int	i;

	for (i = 0; i < nnames; i++)
		shm_unlink(names[i]);
}

/* Interrupted: clean up, then die of the signal as we would have. */
static void
on_signal(int sig)
{
	unlink_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The whole run took far too long: something hangs. */
static void
on_alarm(int sig)
{
	static const char	msg[] = ": timed out\n";

	(void)sig;
	unlink_all();
	(void)!write(STDOUT_FILENO, "# ", 2);
	(void)!write(STDOUT_FILENO, prog, strlen(prog));
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

/*
 * The start of main: remove every hub on exit or on a termination
 * signal, and give up on the whole run after TEST_ALARM seconds.
 */
void
thub_init(const char *name)
{
	prog = name;
	unit_init();
	atexit(unlink_all);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGALRM, on_alarm);
	alarm(TEST_ALARM);
}

/* A fresh object name, remembered for the cleanup. */
char *
thub_new_name(void)
{
	char	*name;

	if (nnames == NAMES_MAX) {
		fprintf(stderr, "%s: too many hub names\n", prog);
		exit(1);
	}
	name = names[nnames];
	snprintf(name, HUB_NAME_MAX, "/chatd-test-%ld-%d", (long)getpid(),
	    nnames);
	nnames++;
	return name;
}

/* The name of the hub thub_open made last (or thub_new_name gave). */
char *
thub_last_name(void)
{
	return names[nnames > 0 ? nnames - 1 : 0];
}

/* A hub of our own under a fresh name; NULL (a failed check) if not. */
struct hub *
thub_open(size_t ring, int nworkers, unsigned max_clients)
{
	struct hub	*h;

	if ((h = hub_create(thub_new_name(), ring, nworkers,
	    max_clients)) == NULL)
		FAIL("hub_create: %s", strerror(errno));
	return h;
}

/* Remove and unmap a hub from thub_open. */
void
thub_close(struct hub *h)
{
	if (h == NULL)
		return;
	if (hub_unlink(h) == -1)
		FAIL("hub_unlink: %s", strerror(errno));
	hub_detach(h);
}

/* Run fn(arg) in a child that exits with its return value. */
pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t	pid;

	if ((pid = unit_fork()) == -1) {
		FAIL("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The parent's handlers would remove its objects. */
		signal(SIGALRM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		alarm(CHILD_ALARM);
		_exit(fn(arg));
	}
	return pid;
}

/*
 * Wait up to seconds for pid; 1 with its status in *st, or 0 after
 * killing it when the time is up.
 */
int
wait_child(pid_t pid, int seconds, int *st)
{
	struct timespec	ms = { 0, 1000000 };
	long		left = seconds * 1000L;
	pid_t		r;

	if (pid <= 0)
		return 0;
	for (; left > 0; left--) {
		if ((r = waitpid(pid, st, WNOHANG)) == pid)
			return 1;
		if (r == -1 && errno != EINTR) {
			FAIL("waitpid %ld: %s", (long)pid, strerror(errno));
			return 0;
		}
		nanosleep(&ms, NULL);
	}
	FAIL("child %ld still running after %d s; killed", (long)pid,
	    seconds);
	kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) == -1 && errno == EINTR)
		;
	return 0;
}

/* Wait for pid and check that it exited 0. */
int
wait_ok(pid_t pid, const char *what)
{
	int	st;

	if (!wait_child(pid, WAIT_SECONDS, &st))
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (WIFEXITED(st))
		FAIL("%s: exit status %d", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		FAIL("%s: killed by signal %d", what, WTERMSIG(st));
	return 0;
}

/* Read one record and check it is seq with the given text. */
int
read_msg(struct hub *h, struct hub_cursor *cur, struct hub_msg *msg,
    uint64_t seq, const char *text, size_t len)
{
	uint64_t	lost = 0;
	int		r;

	r = hub_read(h, cur, msg, &lost);
	if (!CHECK_INT(r, HUB_MSG)) {
		if (r == HUB_LOST)
			FAIL("lost %llu", (unsigned long long)lost);
		FAIL("wanted seq %llu", (unsigned long long)seq);
		return 0;
	}
	return CHECK_UINT(msg->m_seq, seq) &&
	    CHECK_MEM(msg->m_text, msg->m_len, text, len);
}

/*
 * How many bytes of its area a record of len bytes takes, learnt by
 * publishing one: the layout is hub_ring.c's business, not the test's.
 */
size_t
rec_size(struct hub *h, size_t len)
{
	static char	zeros[HUB_TEXT_MAX];
	uint64_t	before = hub_test_area_pos(h);

	hub_publish(h, 0, 0, zeros, len);
	return (size_t)(hub_test_area_pos(h) - before);
}

/*
 * Publish records, reading each back, until exactly left bytes remain
 * before the end of this process's area (left 0: until it is at its
 * start).
 * hdr is the size of an empty record; *seq the last seq published.
 */
int
fill_to(struct hub *h, struct hub_cursor *cur, size_t left, size_t hdr,
    uint64_t *seq)
{
	struct hub_msg	msg;
	char		text[HUB_TEXT_MAX];
	size_t		ring = hub_ring_size(h), rem, t, len, room;
	uint64_t	before;
	int		i;

	room = HUB_TEXT_MAX / 8 * 8;
	memset(text, 'f', sizeof(text));
	for (i = 0; i < 10000; i++) {
		rem = ring - hub_test_area_pos(h) % ring;
		if (rem == left || (left == 0 && rem == ring))
			return 1;
		/* Bytes to place before the end of this lap. */
		t = rem > left ? rem - left : rem;
		if (t < hdr)
			len = 0;	/* cannot be exact: wrap instead */
		else if (t - hdr <= room)
			len = t - hdr;
		else
			len = t - 2 * hdr < room ? t - 2 * hdr : room;
		before = hub_test_area_pos(h);
		hub_publish(h, *seq, 0, text, len);
		if (!read_msg(h, cur, &msg, ++*seq, text, len))
			return 0;
		/* A record that fits takes hdr + len: the layout we assume. */
		if (t >= hdr && !CHECK_UINT(hub_test_area_pos(h) - before,
		    hdr + len))
			return 0;
	}
	FAIL("fill_to %zu: no end in sight", left);
	return 0;
}

/* foreach and reap callback: keep a copy of each client. */
void
collect_fn(const struct hub_client_info *ci, void *arg)
{
	struct collect	*co = arg;

	if (co->co_n < 16)
		co->co_ci[co->co_n] = *ci;
	co->co_n++;
}

/* A case of its own, the last of each test: nothing was left behind. */
void
thub_no_leftovers(void)
{
	int	i, fd;

	for (i = 0; i < nnames; i++) {
		errno = 0;
		if (!CHECK((fd = shm_open(names[i], O_RDONLY, 0)) == -1)) {
			FAIL("%s is left over", names[i]);
			close(fd);
		} else
			CHECK_INT(errno, ENOENT);
	}
}
