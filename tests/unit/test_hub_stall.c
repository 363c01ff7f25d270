/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub_stall.c -- a writer stopped anywhere in hub_publish (SIGSTOP,
 * a debugger, starvation) holds up no other writer and no reader, and
 * its record comes out whole and once, in the order of the moment it
 * was really published, when it runs again.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
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

/* How long a publisher may take while another is stopped. */
#define STALL_WAIT_SECONDS	5
/* The stress case: stops, and records the running writer may publish. */
#define STRESS_STOPS		40
#define STRESS_RECORDS		5000000UL

static void	t_stopped_copied(void);
static void	t_stopped_ordered(void);
static void	t_stopped_anywhere(void);

/* Where child_stalled stops itself: a stage of hub_test_publish_hook. */
static int	stop_stage;

static void
stop_here(int stage)
{
	if (stage == stop_stage)
		raise(SIGSTOP);
}

/* Child, worker slot 1: publish "stalled", stopping at stop_stage. */
static int
child_stalled(void *arg)
{
	struct hub	*h = arg;

	hub_worker_start(h, 1, getpid());
	hub_test_publish_hook = stop_here;
	return hub_publish(h, 0, 0, "stalled", 7) == 0;
}

/* Child, worker slot 2: publish "one" and "two". */
static int
child_two(void *arg)
{
	struct hub	*h = arg;

	hub_worker_start(h, 2, getpid());
	hub_publish(h, 0, 0, "one", 3);
	hub_publish(h, 0, 0, "two", 3);
	return 0;
}

/* The process is stopped (a waitpid that reports stops says so). */
static int
wait_stopped(pid_t pid)
{
	int	st;

	if (waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st))
		return 1;
	FAIL("child %ld did not stop", (long)pid);
	return 0;
}

/*
 * A writer stopped in hub_publish at stage: another publishes two
 * records meanwhile, within the bound, and a reader reads them; then
 * the stopped one goes on.  Returns the stopped child, or -1.
 */
static pid_t
stall_at(struct hub *h, int stage)
{
	pid_t	stalled, other;

	stop_stage = stage;
	stalled = spawn(child_stalled, h);
	if (!wait_stopped(stalled)) {
		kill(stalled, SIGKILL);
		wait_child(stalled, WAIT_SECONDS, &(int){ 0 });
		return -1;
	}
	other = spawn(child_two, h);
	if (!wait_child(other, STALL_WAIT_SECONDS, &(int){ 0 })) {
		FAIL("a publisher waited for a stopped one");
		kill(stalled, SIGKILL);
		wait_child(stalled, WAIT_SECONDS, &(int){ 0 });
		return -1;
	}
	return stalled;
}

/*
 * A writer stopped at stage while another publishes "one" and "two":
 * a reader then finds the records named in seen, in that order, and
 * nothing more; once the stopped writer has finished, those in later.
 * Then the ring goes on.
 */
static void
stopped_case(int stage, const char *const *seen, const char *const *later)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	uint64_t		 lost, seq = 0;
	pid_t			 stalled;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	if ((stalled = stall_at(h, stage)) == -1)
		goto out;
	for (; *seen != NULL; seen++)
		read_msg(h, &cur, &msg, ++seq, *seen, strlen(*seen));
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	CHECK_UINT(hub_head(h), seq);
	kill(stalled, SIGCONT);
	wait_ok(stalled, "stopped writer");
	for (; *later != NULL; later++)
		read_msg(h, &cur, &msg, ++seq, *later, strlen(*later));
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	CHECK_UINT(hub_publish(h, 0, 0, "after", 5), seq + 1);
	read_msg(h, &cur, &msg, seq + 1, "after", 5);
out:
	thub_close(h);
}

/*
 * Stopped after copying its record, before it is in the order: the
 * others' records come first, its own after them once it runs.
 */
static void
t_stopped_copied(void)
{
	static const char *const	seen[] = { "one", "two", NULL };
	static const char *const	later[] = { "stalled", NULL };

	stopped_case(1, seen, later);
}

/*
 * Stopped after its record is in the order, before it moved the head:
 * its record is first, the others go on after it, nothing twice.
 */
static void
t_stopped_ordered(void)
{
	static const char *const	seen[] = { "stalled", "one", "two",
					    NULL };
	static const char *const	later[] = { NULL };

	stopped_case(2, seen, later);
}

/* What the stress case's children share. */
struct stress {
	struct hub	*s_hub;
	int		 s_stop;	/* read end: EOF means stop */
	int		 s_stop_w;	/* its write end, the parent's */
	unsigned	 s_n;		/* child_one's record number */
};

/* Child, slot 1: publish "a<n>" as fast as it can until told to stop. */
static int
child_flood(void *arg)
{
	struct stress	*s = arg;
	struct pollfd	 pfd = { s->s_stop, POLLIN, 0 };
	char		 text[32];
	unsigned long	 n;
	int		 len;

	close(s->s_stop_w);
	hub_worker_start(s->s_hub, 1, getpid());
	for (n = 0; n < STRESS_RECORDS; n++) {
		if (n % 1024 == 0 && poll(&pfd, 1, 0) != 0)
			break;
		len = snprintf(text, sizeof(text), "a%lu", n);
		hub_publish(s->s_hub, 1, 0, text, (size_t)len);
	}
	return 0;
}

/* Child, slot 2: publish "b<n>". */
static int
child_one(void *arg)
{
	struct stress	*s = arg;
	char		 text[32];
	int		 len;

	hub_worker_start(s->s_hub, 2, getpid());
	len = snprintf(text, sizeof(text), "b%u", s->s_n);
	hub_publish(s->s_hub, 2, 0, text, (size_t)len);
	return 0;
}

/*
 * Read what is there: every "a" record the next of its writer's, every
 * "b" the one expected; 0 on the first surprise.
 */
static int
stress_drain(struct hub *h, struct hub_cursor *cur, unsigned long *a,
    unsigned *b)
{
	static struct hub_msg	msg;
	char			want[32];
	uint64_t		lost;
	int			r, len;

	while ((r = hub_read(h, cur, &msg, &lost)) != HUB_EMPTY) {
		if (!CHECK_INT(r, HUB_MSG)) {
			FAIL("lost %llu after a%lu b%u, at %llu of %llu",
			    (unsigned long long)lost, *a, *b,
			    (unsigned long long)cur->hc_seq,
			    (unsigned long long)hub_head(h));
			return 0;
		}
		if (msg.m_origin == 1)
			len = snprintf(want, sizeof(want), "a%lu", (*a)++);
		else
			len = snprintf(want, sizeof(want), "b%u", (*b)++);
		if (!CHECK_MEM(msg.m_text, msg.m_len, want, (size_t)len))
			return 0;
	}
	return 1;
}

/*
 * A writer flooding the ring is stopped again and again wherever it
 * happens to be, mostly inside hub_publish: each time, another writer
 * publishes at once, and a reader finds every record whole, once, each
 * writer's in order.  (With a lock around publishing, the other writer
 * waits for the stopped one in most rounds.)
 */
static void
t_stopped_anywhere(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct stress		 s;
	struct timespec		 ts;
	unsigned long		 a = 0;
	unsigned		 b = 0, i;
	pid_t			 flood, one;
	int			 stop[2], st;

	if ((h = thub_open(4 * 1024 * 1024, 4, 8)) == NULL)
		return;
	if (!CHECK_INT(pipe(stop), 0)) {
		thub_close(h);
		return;
	}
	hub_cursor_init(h, &cur);
	s.s_hub = h;
	s.s_stop = stop[0];
	s.s_stop_w = stop[1];
	flood = spawn(child_flood, &s);
	close(stop[0]);
	srand((unsigned)getpid());
	for (i = 0; i < STRESS_STOPS; i++) {
		/* Somewhere in its loop: a random moment, not a wait. */
		ts.tv_sec = 0;
		ts.tv_nsec = 100000L + rand() % 900000L;
		nanosleep(&ts, NULL);
		kill(flood, SIGSTOP);
		if (!wait_stopped(flood))
			break;
		s.s_n = i;
		one = spawn(child_one, &s);
		if (!wait_child(one, STALL_WAIT_SECONDS, &st)) {
			FAIL("stop %u: a publisher waited for a stopped one",
			    i);
			break;
		}
		if (!stress_drain(h, &cur, &a, &b))
			break;
		kill(flood, SIGCONT);
	}
	kill(flood, SIGCONT);
	close(stop[1]);
	wait_ok(flood, "flooding writer");
	stress_drain(h, &cur, &a, &b);
	CHECK_UINT(b, STRESS_STOPS);
	CHECK(a > STRESS_STOPS);
	thub_close(h);
}

int
main(void)
{
	thub_init("test_hub_stall");
	unit_run("hub: a writer stopped after copying its record holds "
	    "nobody up", t_stopped_copied);
	unit_run("hub: a writer stopped after ordering its record holds "
	    "nobody up", t_stopped_ordered);
	unit_run("hub: writers stopped anywhere in hub_publish hold nobody "
	    "up; nothing torn, lost or repeated", t_stopped_anywhere);
	unit_run("hub: no shared memory objects left", thub_no_leftovers);
	return unit_done();
}
