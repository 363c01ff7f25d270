/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * clients.c -- a server's clients and the lists a round keeps of them:
 * who has output to write, who is over its rate, who was killed.  Shared
 * by chatd's workers and chatd-select, so both end a round alike.
 *
 * A client is never freed while a loop walks a list: a killed client
 * stays on the list of all clients, marked CONN_DEAD (every walk skips
 * it), until clients_reap after the round.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>

#include "chatd.h"

/*
 * rearm: what the client waits for (reading, writing) has changed.
 * release: the client is about to be closed.  chatd keeps an event set
 * that must follow both; chatd-select rebuilds its fd_sets each round
 * from the flags and passes NULL.
 */
void
clients_init(struct client_set *cs, void (*rearm)(struct conn *),
    void (*release)(struct conn *))
{
	TAILQ_INIT(&cs->cs_all);
	TAILQ_INIT(&cs->cs_dirty);
	TAILQ_INIT(&cs->cs_throttled);
	TAILQ_INIT(&cs->cs_dead);
	cs->cs_count = 0;
	cs->cs_rearm = rearm;
	cs->cs_release = release;
}

static void
clients_rearm(struct client_set *cs, struct conn *c)
{
	if (cs->cs_rearm != NULL)
		cs->cs_rearm(c);
}

void
clients_add(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_all, c, c_entry);
	cs->cs_count++;
}

/* The chat_ops dirty, dead and throttled: conn.c has set the flag. */
void
clients_dirty(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_dirty, c, c_dirty);
}

void
clients_dead(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_dead, c, c_reap);
}

/* Not reading it pushes back on the peer through TCP. */
void
clients_throttled(struct client_set *cs, struct conn *c)
{
	TAILQ_INSERT_TAIL(&cs->cs_throttled, c, c_throttle);
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
	if (readable && !(c->c_flags & CONN_THROTTLED)) {
		if (conn_read(c) == -1)
			return;
		conn_process(c, now);
		/* At EOF it finishes its lines but is not read again. */
		if ((c->c_flags & CONN_EOF) && !(c->c_flags & CONN_DEAD))
			clients_rearm(cs, c);
	}
}

/*
 * Write each client with output once, after the whole round, however
 * many broadcasts it got.  What the socket does not take waits until it
 * is writable (CONN_WRITING).  A client killed here announces its
 * departure, which makes the others dirty again: they are on this list
 * and are written in turn.
 */
void
clients_flush(struct client_set *cs)
{
	struct conn	*c;
	int		 r, was;

	while ((c = TAILQ_FIRST(&cs->cs_dirty)) != NULL) {
		TAILQ_REMOVE(&cs->cs_dirty, c, c_dirty);
		c->c_flags &= ~CONN_DIRTY;
		if (c->c_flags & CONN_DEAD)
			continue;
		if ((r = conn_flush(c)) == -1)
			continue;	/* killed; reaped next */
		was = c->c_flags & CONN_WRITING;
		if (r == 1)
			c->c_flags |= CONN_WRITING;
		else
			c->c_flags &= ~CONN_WRITING;
		if (was != (c->c_flags & CONN_WRITING))
			clients_rearm(cs, c);
	}
}

/* Free the clients killed this round; their departures are published. */
void
clients_reap(struct client_set *cs)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&cs->cs_dead)) != NULL) {
		TAILQ_REMOVE(&cs->cs_dead, c, c_reap);
		TAILQ_REMOVE(&cs->cs_all, c, c_entry);
		if (c->c_flags & CONN_DIRTY)
			TAILQ_REMOVE(&cs->cs_dirty, c, c_dirty);
		if (c->c_flags & CONN_THROTTLED)
			TAILQ_REMOVE(&cs->cs_throttled, c, c_throttle);
		if (cs->cs_release != NULL)
			cs->cs_release(c);
		conn_close_fd(c);	/* sends its last line, if it can */
		conn_free(c);
		cs->cs_count--;
	}
}

/* Let throttled clients go on; return ms until the next may, or -1. */
int64_t
clients_unthrottle(struct client_set *cs, int64_t now)
{
	struct conn	*c, *next;
	int64_t		 wait, soonest = -1;

	for (c = TAILQ_FIRST(&cs->cs_throttled); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_throttle);
		if ((wait = conn_throttle_ms(c, now)) == 0) {
			TAILQ_REMOVE(&cs->cs_throttled, c, c_throttle);
			c->c_flags &= ~CONN_THROTTLED;
			if (conn_process(c, now) == 0) {
				if (!(c->c_flags & CONN_DEAD))
					clients_rearm(cs, c);
				continue;
			}
			/* Throttled again: it went back on the list. */
			wait = conn_throttle_ms(c, now);
		}
		if (soonest == -1 || wait < soonest)
			soonest = wait;
	}
	return soonest;
}
