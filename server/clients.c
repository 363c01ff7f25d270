/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * clients.c -- a server's clients and the lists a round keeps of them:
 * who has output to write, who is paused (over its rate, or held back
 * by the hub), who was closed.  Shared by chatd's workers and
 * chatd-select, so both end a round, and stop, alike.
 *
 * A client is never freed, unregistered or announced while a loop walks
 * a list: a closed client stays on the list of all clients, marked
 * CONN_DEAD (every walk skips it), until clients_end_round carries its
 * end out (see the lifetime rule in chatd.h).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "chatd.h"
#include "log.h"
#include "util.h"

/* Departures published per delivery pass: a crowd leaving at once must
 * not lap the ring before this worker has read its own records. */
#define CLIENTS_REAP_BATCH	64

void
clients_init(struct client_set *cs, const struct client_hooks *hooks)
{
	TAILQ_INIT(&cs->cs_all);
	TAILQ_INIT(&cs->cs_dirty);
	TAILQ_INIT(&cs->cs_paused);
	TAILQ_INIT(&cs->cs_dead);
	cs->cs_count = 0;
	cs->cs_hold = 0;
	cs->cs_hooks = *hooks;
}

static void
clients_rearm(struct client_set *cs, struct conn *c)
{
	if (cs->cs_hooks.ch_rearm != NULL)
		cs->cs_hooks.ch_rearm(c);
}

void
clients_add(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_all, c, c_entry);
	cs->cs_count++;
}

/* conn.c's marks: it has set the flag, the list follows. */
void
clients_dirty(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_dirty, c, c_dirty);
}

/* Closed: no longer counted, reaped at the end of the round. */
void
clients_dead(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_dead, c, c_reap);
	cs->cs_count--;
}

/* Not reading it pushes back on the peer through TCP. */
void
clients_pause(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_paused, c, c_paused);
	clients_rearm(cs, c);
}

/* The socket is readable (or writable): do what the client needs. */
void
clients_event(struct client_set *cs, struct conn *c, int readable,
    int writable, int64_t now)
{
	if (c->c_flags & CONN_DEAD)
		return;
	if (writable && (c->c_flags & CONN_WRITING) &&
	    !(c->c_flags & CONN_DIRTY)) {
		c->c_flags |= CONN_DIRTY;
		clients_dirty(cs, c);
	}
	if (!readable || (c->c_flags & (CONN_THROTTLED | CONN_HELD)))
		return;
	if (cs->cs_hold) {
		/* Held back: leave its bytes in the socket for now. */
		c->c_flags |= CONN_HELD;
		clients_pause(cs, c);
		return;
	}
	if (conn_read(c) == -1)
		return;
	conn_process(c, now);
	/* At EOF it finishes its lines but is not read again. */
	if ((c->c_flags & CONN_EOF) &&
	    !(c->c_flags & (CONN_DEAD | CONN_THROTTLED | CONN_HELD)))
		clients_rearm(cs, c);
}

/*
 * Write each client with output once, however many lines it got this
 * round.  What the socket does not take waits until it is writable
 * (CONN_WRITING).  A write that fails closes the client (a mark).
 *
 * A client with a /who under way gets its next part first, while it
 * is still marked dirty, so what the part queues does not put it back
 * on this round's list: one part per round, and it waits for its
 * socket (writable at once if it took everything) for the next.
 */
static void
clients_flush(struct client_set *cs)
{
	struct conn	*c;
	int		 r, was, more;

	while ((c = TAILQ_FIRST(&cs->cs_dirty)) != NULL) {
		TAILQ_REMOVE(&cs->cs_dirty, c, c_dirty);
		more = (c->c_flags & CONN_LISTING) ? conn_list_more(c) : 0;
		c->c_flags &= ~CONN_DIRTY;
		if (c->c_flags & CONN_DEAD)
			continue;
		if ((r = conn_flush(c)) == -1)
			continue;	/* closed; reaped next */
		if (more)
			r = 1;
		was = c->c_flags & CONN_WRITING;
		if (r == 1)
			c->c_flags |= CONN_WRITING;
		else
			c->c_flags &= ~CONN_WRITING;
		if (was != (c->c_flags & CONN_WRITING))
			clients_rearm(cs, c);
	}
}

/* Take a client off every list; it is about to be freed. */
static void
clients_remove(struct client_set *cs, struct conn *c)
{
	TAILQ_REMOVE(&cs->cs_all, c, c_entry);
	if (c->c_flags & CONN_DEAD)
		TAILQ_REMOVE(&cs->cs_dead, c, c_reap);
	if (c->c_flags & CONN_DIRTY)
		TAILQ_REMOVE(&cs->cs_dirty, c, c_dirty);
	if (c->c_flags & (CONN_THROTTLED | CONN_HELD))
		TAILQ_REMOVE(&cs->cs_paused, c, c_paused);
	if (cs->cs_hooks.ch_release != NULL)
		cs->cs_hooks.ch_release(c);
}

/*
 * Carry out up to max ends decided this round: announce and free.  The
 * client leaves every list before its departure is published, so a
 * server that delivers at once (chatd-select) walks past it; a client
 * that the delivery closes joins the dead list behind it.
 */
static unsigned
clients_reap(struct client_set *cs, unsigned max)
{
	struct conn	*c;
	unsigned	 n = 0;

	while (n < max && (c = TAILQ_FIRST(&cs->cs_dead)) != NULL) {
		clients_remove(cs, c);
		conn_depart(c);
		conn_free(c);
		n++;
	}
	return n;
}

void
clients_end_round(struct client_set *cs)
{
	do {
		if (cs->cs_hooks.ch_deliver != NULL)
			cs->cs_hooks.ch_deliver();
		clients_flush(cs);
	} while (clients_reap(cs, CLIENTS_REAP_BATCH) > 0 ||
	    !TAILQ_EMPTY(&cs->cs_dirty));
}

void
clients_hold(struct client_set *cs, int on)
{
	cs->cs_hold = on;
}

int64_t
clients_resume(struct client_set *cs, int64_t now)
{
	struct conn	*c, *next;
	int64_t		 wait, soonest = -1;

	for (c = TAILQ_FIRST(&cs->cs_paused); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_paused);
		if (c->c_flags & CONN_DEAD)
			continue;
		if (c->c_flags & CONN_HELD)
			wait = cs->cs_hold ? -1 : 0;
		else
			wait = conn_throttle_ms(c, now);
		if (wait == 0) {
			TAILQ_REMOVE(&cs->cs_paused, c, c_paused);
			c->c_flags &= ~(CONN_THROTTLED | CONN_HELD);
			if (conn_process(c, now) == 0) {
				if (!(c->c_flags & CONN_DEAD))
					clients_rearm(cs, c);
				continue;
			}
			/* Paused again: it went back on the list. */
			wait = (c->c_flags & CONN_THROTTLED) ?
			    conn_throttle_ms(c, now) : -1;
		}
		if (wait != -1 && (soonest == -1 || wait < soonest))
			soonest = wait;
	}
	return soonest;
}

/*
 * Write what the socket takes of a stopping client's queue, without the
 * protocol's error handling: 1 if output remains, 0 if done or hopeless.
 */
static int
clients_stop_write(struct conn *c)
{
	ssize_t	n;

	while (c->c_sendq.b_len > 0) {
		n = write(c->c_fd, buf_head(&c->c_sendq), c->c_sendq.b_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		buf_consume(&c->c_sendq, (size_t)n);
	}
	return 0;
}

/*
 * Stop: their departures are not published, everyone is told the same.
 * The last line goes in even if the queue is full.  Waiting uses poll(2)
 * on the clients still owed output, whatever loop the server runs.
 */
void
clients_stop(struct client_set *cs, int64_t deadline)
{
	struct pollfd	*pfd;
	struct conn	*c, *next;
	size_t		 all = 0;
	nfds_t		 n;
	int64_t		 left;

	TAILQ_FOREACH(c, &cs->cs_all, c_entry) {
		c->c_sendq.b_limit += sizeof(PROTO_SHUTDOWN);
		(void)buf_append(&c->c_sendq, PROTO_SHUTDOWN,
		    sizeof(PROTO_SHUTDOWN) - 1);
		all++;
	}
	/* Without memory for the poll set, each gets one try. */
	pfd = calloc(all + 1, sizeof(*pfd));
	for (;;) {
		n = 0;
		for (c = TAILQ_FIRST(&cs->cs_all); c != NULL; c = next) {
			next = TAILQ_NEXT(c, c_entry);
			if (clients_stop_write(c) == 1 &&
			    now_ms() < deadline && pfd != NULL) {
				pfd[n].fd = c->c_fd;
				pfd[n++].events = POLLOUT;
				continue;
			}
			clients_remove(cs, c);
			conn_free(c);
		}
		left = deadline - now_ms();
		if (n == 0 || left <= 0)
			break;
		if (poll(pfd, n, (int)left) == -1 && errno != EINTR)
			break;
	}
	free(pfd);
	while ((c = TAILQ_FIRST(&cs->cs_all)) != NULL) {
		clients_remove(cs, c);
		conn_free(c);
	}
}
