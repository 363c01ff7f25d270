/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub_wake.c -- waking the workers: one poke per sleeping worker
 * until it acknowledges, never the publisher itself, never a dead
 * slot; a kick to accept is seen once.
 */
#include <sys/types.h>

#include <poll.h>
#include <unistd.h>

#include "ev.h"
#include "hub.h"
#include "hub_helpers.h"
#include "unit.h"

/* child_worker1: the hub, the pipes to the parent, slot 1's wake-up. */
struct peer {
	struct hub	*pe_hub;
	int		 pe_to;		/* write a byte: done with a step */
	int		 pe_from;	/* read a byte: the parent is done */
	int		 pe_wake;	/* slot 1's wake descriptor, read end */
};

static int	readable(int);
static int	peer_step(int, int);
static int	child_worker1(void *);

static void	t_wake(void);
static void	t_wake_peer(void);

/* 1 if fd has something to read now. */
static int
readable(int fd)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void
t_wake(void)
{
	struct hub	*h;
	int		 fds[2], mine[2];

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	if (!CHECK_INT(wake_open(fds), 0) || !CHECK_INT(wake_open(mine), 0)) {
		thub_close(h);
		return;
	}
	hub_set_wake(h, 1, fds[1]);
	hub_set_wake(h, 0, mine[1]);
	hub_worker_start(h, 1, getpid());	/* slot 1 is alive */
	hub_worker_start(h, 0, getpid());	/* and we are slot 0 */
	CHECK(!readable(fds[0]));

	/* One poke, however many records, until the worker acks. */
	hub_publish(h, 0, 0, "one", 3);
	CHECK(readable(fds[0]));
	wake_drain(fds[0]);
	hub_publish(h, 0, 0, "two", 3);
	hub_publish(h, 0, 0, "three", 5);
	CHECK(!readable(fds[0]));
	/* The publisher never wakes itself. */
	CHECK(!readable(mine[0]));

	/* Slot 1 acks (which worker_start also does), then it is poked. */
	hub_worker_start(h, 1, getpid());
	hub_wake_ack(h);
	hub_worker_start(h, 0, getpid());
	hub_publish(h, 0, 0, "four", 4);
	CHECK(readable(fds[0]));
	wake_drain(fds[0]);

	/* A dead slot is not poked. */
	hub_worker_start(h, 1, getpid());
	hub_recover(h, 1, getpid() + 1);
	hub_worker_start(h, 0, getpid());
	hub_publish(h, 0, 0, "five", 4);
	CHECK(!readable(fds[0]));
	wake_close(fds);
	wake_close(mine);
	thub_close(h);
}

/* Send the peer a byte, then wait for one back; 0 if it is gone. */
static int
peer_step(int to, int from)
{
	char	ch = 's';

	return write(to, &ch, 1) == 1 && read(from, &ch, 1) == 1;
}

/*
 * Child: worker 1, in lock step with the parent, which publishes and
 * kicks between the steps.  Returns which expectation failed.
 */
static int
child_worker1(void *arg)
{
	struct peer	*pe = arg;

	hub_worker_start(pe->pe_hub, 1, getpid());
	if (hub_kicked(pe->pe_hub) != 0)
		return 1;
	/* The parent publishes twice and kicks. */
	if (!peer_step(pe->pe_to, pe->pe_from))
		return 2;
	if (!readable(pe->pe_wake))
		return 3;
	wake_drain(pe->pe_wake);
	/* Told once: the first look consumes the kick. */
	if (hub_kicked(pe->pe_hub) != 1 || hub_kicked(pe->pe_hub) != 0)
		return 4;
	/* The parent publishes again: no new poke before our ack ... */
	if (!peer_step(pe->pe_to, pe->pe_from))
		return 5;
	if (readable(pe->pe_wake))
		return 6;
	hub_wake_ack(pe->pe_hub);
	/* ... and one after it. */
	if (!peer_step(pe->pe_to, pe->pe_from))
		return 7;
	if (!readable(pe->pe_wake))
		return 8;
	return 0;
}

static void
t_wake_peer(void)
{
	struct hub	*h;
	struct peer	 pe;
	int		 fds[2], up[2], down[2], step;
	pid_t		 pid;
	char		 ch = 'p';

	if ((h = thub_open(HUB_RING_MIN, 3, 4)) == NULL)
		return;
	if (!CHECK_INT(wake_open(fds), 0)) {
		thub_close(h);
		return;
	}
	if (!CHECK_INT(pipe(up), 0) || !CHECK_INT(pipe(down), 0)) {
		wake_close(fds);
		thub_close(h);
		return;
	}
	hub_set_wake(h, 1, fds[1]);
	hub_worker_start(h, 0, getpid());
	pe.pe_hub = h;
	pe.pe_to = up[1];
	pe.pe_from = down[0];
	pe.pe_wake = fds[0];
	pid = spawn(child_worker1, &pe);
	/* Only the child keeps these ends, so its death reads as EOF. */
	close(up[1]);
	close(down[0]);
	for (step = 0; step < 3; step++) {
		if (read(up[0], &ch, 1) != 1)
			break;
		switch (step) {
		case 0:
			hub_publish(h, 0, 0, "one", 3);
			hub_publish(h, 0, 0, "two", 3);
			hub_kick_accept(h);
			break;
		case 1:
			hub_publish(h, 0, 0, "three", 5);
			break;
		case 2:
			hub_publish(h, 0, 0, "four", 4);
			break;
		}
		if (write(down[1], &ch, 1) != 1)
			break;
	}
	wait_ok(pid, "worker 1");
	/* The kicker does not kick itself. */
	CHECK_INT(hub_kicked(h), 0);
	close(up[0]);
	close(down[1]);
	wake_close(fds);
	thub_close(h);
}

int
main(void)
{
	thub_init("test_hub_wake");
	unit_run("hub: one wake-up per sleeping worker", t_wake);
	unit_run("hub: a worker is poked again only after hub_wake_ack; "
	    "a kick is seen once", t_wake_peer);
	unit_run("hub: no shared memory objects left", thub_no_leftovers);
	return unit_done();
}
