/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * worker.c -- a chatd worker: accepts clients on the shared listening
 * socket, serves them from one event loop, publishes what they say to
 * the hub and delivers everything the hub carries, in hub order, to its
 * own clients.  It exits when the master asks it to (SIGTERM) or is
 * gone (EOF on the master pipe).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chatd.h"
#ifdef CHATD_CLUSTER
#include "cluster.h"
#endif
#include "ev.h"
#include "log.h"
#include "net.h"
#include "util.h"

#define WORKER_EVENTS		256
#define WORKER_ACCEPT_BATCH	64
/*
 * The longest a worker sleeps: it beats this often even when idle, so
 * the others can tell it from one that is stopped (HUB_STALL_MS).
 */
#define WORKER_BEAT_MS		250

static struct {
	int			 slot;
	struct hub		*hub;
	struct hub_cursor	 cursor;
	struct ev		*ev;
	int			 wake_fd;
	int			 master_fd;
	int			 accepting;	/* listener in the event set */
	struct srv_listener	 listener;
	struct client_set	 clients;
} w;

static enum src_kind	src_listen = SRC_LISTEN;
static enum src_kind	src_udp = SRC_UDP;
static enum src_kind	src_wake = SRC_WAKE;
static enum src_kind	src_master = SRC_MASTER;

static volatile sig_atomic_t	got_term;

static void	worker_publish(uint64_t, uint64_t, const char *, size_t);
static void	worker_unregister(struct conn *);
static int	worker_set_nick(struct conn *, const char *);
static uint64_t	worker_whisper(const char *, size_t, char *, size_t);
static unsigned	worker_scan(uint64_t *, int (*)(const struct
		    hub_client_info *, void *), void *, unsigned);
static unsigned	worker_count(void);
static void	worker_rearm(struct conn *);
static void	worker_release(struct conn *);
static void	worker_drain(void);
static void	worker_deliver(void);

static const struct chat_ops worker_ops = {
	.publish = worker_publish,
	.unregister = worker_unregister,
	.set_nick = worker_set_nick,
	.whisper = worker_whisper,
	.scan = worker_scan,
	.count = worker_count
};

#ifdef CHATD_CLUSTER
static void	worker_cluster_reply(struct conn *, const char *, size_t);
static void	worker_cluster_unregister(struct conn *);
static int	worker_cluster_set_nick(struct conn *, const char *);
static uint64_t	worker_cluster_whisper(const char *, size_t, char *,
		    size_t);
static unsigned	worker_cluster_scan(uint64_t *, int (*)(const struct
		    hub_client_info *, void *), void *, unsigned);
static unsigned	worker_cluster_count(void);

/* chatd -C: what clients say goes through the stream (cluster.h). */
static const struct chat_ops worker_cluster_ops = {
	.publish = worker_publish,
	.unregister = worker_cluster_unregister,
	.set_nick = worker_cluster_set_nick,
	.whisper = worker_cluster_whisper,
	.scan = worker_cluster_scan,
	.count = worker_cluster_count,
	.reply = worker_cluster_reply
};
#endif

/* Into the ring; with -C, for the bridge to send to the stream. */
static void
worker_ring_put(uint64_t origin, uint64_t target, const char *text,
    size_t len)
{
#ifdef CHATD_CLUSTER
	if (conf.cluster != NULL)
		target |= CLUSTER_OUT;
#endif
	hub_publish(w.hub, origin, target, text, len);
}

static const struct client_hooks worker_hooks = {
	.ch_rearm = worker_rearm,
	.ch_release = worker_release,
	.ch_deliver = worker_deliver
};

static void
worker_sigterm(int sig)
{
	(void)sig;
	got_term = 1;
	wake_post(w.wake_fd);
}

/*
 * Into the ring, and nothing more: the record reaches this worker's own
 * clients when the loop drains the ring, like everyone else's.
 */
static void
worker_publish(uint64_t origin, uint64_t target, const char *text,
    size_t len)
{
	worker_ring_put(origin, target, text, len);
	hub_count_in(w.hub, 1);
	/*
	 * A live reader too far behind: read no more from our clients
	 * (conn.c stops at the next line) until it has caught up.
	 */
	if (!w.clients.cs_hold &&
	    hub_lag(w.hub, now_ms(), NULL) > hub_high(w.hub)) {
		clients_hold(&w.clients, 1);
		hub_count_held(w.hub);
	}
}

static void
worker_unregister(struct conn *c)
{
	hub_client_remove(w.hub, c->c_slot);
}

static int
worker_set_nick(struct conn *c, const char *nick)
{
	return hub_client_set_nick(w.hub, c->c_slot, nick);
}

static uint64_t
worker_whisper(const char *nick, size_t len, char *exact, size_t exactlen)
{
	return hub_client_whisper(w.hub, nick, len, CHATD_WHISPER_RATE,
	    srv_whisper_burst(conf.opts.sendq), now_ms() * 1000, exact,
	    exactlen);
}

/* The registry, a part at a time, from a slot on (a long /who). */
static unsigned
worker_scan(uint64_t *pos, int (*fn)(const struct hub_client_info *,
    void *), void *arg, unsigned max)
{
	return hub_client_scan(w.hub, pos, fn, arg, max);
}

#ifdef CHATD_CLUSTER
/* The bridge puts it back into the ring once the stream has the line. */
static void
worker_cluster_reply(struct conn *c, const char *text, size_t len)
{
	hub_publish(w.hub, c->c_id, c->c_id | CLUSTER_REPLY, text, len);
}

static void
worker_cluster_unregister(struct conn *c)
{
	hub_client_remove(w.hub, c->c_slot);
	cluster_nick_release(c->c_nick);
	cluster_who_remove(c->c_id);
}

/*
 * The cluster's bucket first: its atomic create decides between hosts.
 * Then this host's registry, which /who and /msg read here.
 */
static int
worker_cluster_set_nick(struct conn *c, const char *nick)
{
	int	save;

	/* The same name in another spelling: the entry is ours already. */
	if (strcasecmp(nick, c->c_nick) == 0) {
		if (hub_client_set_nick(w.hub, c->c_slot, nick) == -1)
			return -1;
		cluster_nick_respell(nick, c->c_id);
		cluster_who_put(c->c_id, nick, c->c_addr);
		return 0;
	}
	if (cluster_nick_claim(nick, c->c_id) == -1)
		return -1;
	if (hub_client_set_nick(w.hub, c->c_slot, nick) == -1) {
		save = errno;
		cluster_nick_release(nick);
		errno = save;
		return -1;
	}
	cluster_nick_release(c->c_nick);
	cluster_who_put(c->c_id, nick, c->c_addr);
	return 0;
}

/*
 * A client of this host, charged to its whisper budget, or of another
 * host (found in the bridge's mirror of the nick bucket; its host has
 * the budget, which this one cannot charge).
 */
static uint64_t
worker_cluster_whisper(const char *nick, size_t len, char *exact,
    size_t exactlen)
{
	uint64_t	id;

	if ((id = worker_whisper(nick, len, exact, exactlen)) != 0 ||
	    errno != ESRCH)
		return id;
	if ((id = cluster_nick_find(nick, exact, exactlen)) == 0)
		errno = ESRCH;
	return id;
}

/* /who: this host's registry, then the bridge's mirror of the others. */
static unsigned
worker_cluster_scan(uint64_t *pos, int (*fn)(const struct hub_client_info *,
    void *), void *arg, unsigned max)
{
	return cluster_who_scan(w.hub, pos, fn, arg, max);
}

static unsigned
worker_cluster_count(void)
{
	return cluster_who_count(w.hub);
}
#endif

static unsigned
worker_count(void)
{
	return hub_total_clients(w.hub);
}

/* The event set follows the client's flags: the mask it needs now. */
static void
worker_rearm(struct conn *c)
{
	int	mask = 0;

	if (!(c->c_flags & (CONN_THROTTLED | CONN_HELD | CONN_EOF)))
		mask |= EV_READ;
	if (c->c_flags & CONN_WRITING)
		mask |= EV_WRITE;
	if (ev_mod(w.ev, c->c_fd, mask, c) == -1)
		log_warn("ev_mod %s", c->c_addr);
}

/* A client about to be freed leaves the event set and the count. */
static void
worker_release(struct conn *c)
{
	ev_del(w.ev, c->c_fd);
	hub_count_clients(w.hub, -1);
}

/*
 * Take or give up the listening socket.  A worker holding more than its
 * share of the server's clients lets the others accept, so connections
 * spread evenly: its share is the mean plus an eighth, plus one.  Both
 * sides of the comparison count live clients only (a client closed
 * this round is already out of both), and every worker looks again at
 * the end of every round, so the worker with the fewest clients, which
 * is always under its share, is always accepting.  The mean is over the
 * workers seen running lately: one that is stopped leaves its share to
 * the others, who look again at least every WORKER_BEAT_MS.
 */
static void
worker_balance(int64_t now)
{
	unsigned	total, share;
	int		want, active;

	if (srv_accept_wait(&w.listener, now) != 0)
		want = 0;
	else {
		active = hub_active(w.hub, now, &total);
		share = active > 0 ? total / (unsigned)active : 0;
		want = w.clients.cs_count <= share + share / 8 + 1;
	}
	if (want == w.accepting)
		return;
	if (want && ev_add(w.ev, conf.socks.tcp_fd, EV_READ | EV_EXCLUSIVE,
	    &src_listen) == -1) {
		log_warn("ev_add listener");
		return;
	}
	if (!want && ev_del(w.ev, conf.socks.tcp_fd) == -1) {
		log_warn("ev_del listener");
		return;
	}
	w.accepting = want;
	/* Connections may be queued that woke only us: pass them on. */
	if (!want)
		hub_kick_accept(w.hub);
}

/*
 * Count the newcomer against its address's limit (-a), server-wide: 0
 * with a reference in *ref (none if there is no limit), or -1 once the
 * client has been refused.
 */
static int
worker_addr_take(int fd, const char *addr, const unsigned char *prefix,
    unsigned *ref)
{
	*ref = UINT32_MAX;
	if (conf.opts.per_addr == 0 ||
	    hub_addr_take(w.hub, prefix, conf.opts.per_addr, ref) == 0)
		return 0;
	if (errno == EDQUOT) {
		log_debug("%s refused: too many connections from it", addr);
		srv_refuse_with(fd, PROTO_PER_ADDR);
	} else {
		log_debug("%s refused: server full (address table)", addr);
		srv_refuse(fd);
	}
	return -1;
}

static void
worker_accept(int64_t now)
{
	struct conn		*c;
	char			 addr[PROTO_ADDR_MAX];
	unsigned char		 prefix[NET_PREFIX_LEN];
	uint64_t		 id;
	unsigned		 slot, ref;
	int			 fd, i;

	for (i = 0; i < WORKER_ACCEPT_BATCH && w.accepting; i++) {
		if ((fd = srv_accept(&w.listener, addr, sizeof(addr),
		    prefix)) == -1)
			return;
		if (worker_addr_take(fd, addr, prefix, &ref) == -1)
			continue;
		/*
		 * Deliver what is already in the hub to the clients we have,
		 * so the newcomer's first line is the first after it came.
		 */
		worker_drain();
		if ((id = hub_client_add(w.hub, addr, &slot)) == 0) {
			log_debug("%s refused: server full", addr);
			if (ref != UINT32_MAX)
				hub_addr_release(w.hub, ref);
			srv_refuse(fd);
			continue;
		}
		/* From here on, removing the client gives the count back. */
		if (ref != UINT32_MAX)
			hub_client_hold_addr(w.hub, slot, ref);
		if ((c = conn_new(&w.clients, fd, addr, id, slot,
		    now)) == NULL) {
			log_warn("conn_new");
			hub_client_remove(w.hub, slot);
			srv_refuse(fd);
			continue;
		}
		if (ev_add(w.ev, fd, EV_READ, c) == -1) {
			log_warn("ev_add %s", addr);
			hub_client_remove(w.hub, slot);
			srv_refuse(fd);
			c->c_fd = -1;
			conn_free(c);
			continue;
		}
		clients_add(&w.clients, c);
		hub_count_clients(w.hub, 1);
#ifdef CHATD_CLUSTER
		if (conf.cluster != NULL)
			cluster_who_put(id, "", addr);
#endif
		log_debug("%s connected (id %llu)", addr,
		    (unsigned long long)id);
		conn_welcome(c);
		worker_balance(now);
	}
}

#ifdef CHATD_CLUSTER
/*
 * 1 if the departure of client id was delivered already (CLUSTER_GONE);
 * else remember it.  Departures of dead hosts' clients are rare and
 * come close together: the last WORKER_GONE_KEEP are enough.
 */
#define WORKER_GONE_KEEP	1024

static int
worker_gone_seen(uint64_t id)
{
	static uint64_t	gone[WORKER_GONE_KEEP];
	static unsigned	next;
	unsigned	i;

	for (i = 0; i < WORKER_GONE_KEEP; i++)
		if (gone[i] == id)
			return 1;
	gone[next++ % WORKER_GONE_KEEP] = id;
	return 0;
}
#endif

/*
 * Deliver what is new in the hub to our clients, in hub order, up to
 * budget bytes of records (0: everything); 1 if more is waiting.  The
 * record is this function's own: delivering only queues and marks (a
 * client that overflows is closed, not announced), so nothing it calls
 * can come back here.
 */
static int
worker_drain_some(size_t budget)
{
	static struct hub_msg	 msg;
	struct conn		*c;
	enum hub_read_result	 r;
	uint64_t		 lost, delivered = 0;
	size_t			 taken = 0;
	char			 line[64];
	int			 n;

	while (budget == 0 || taken < budget) {
		r = hub_read(w.hub, &w.cursor, &msg, &lost);
		if (r == HUB_EMPTY)
			break;
		if (r == HUB_LOST) {
			log_warnx("fell a ring behind: %llu messages lost",
			    (unsigned long long)lost);
			n = snprintf(line, sizeof(line), PROTO_LOST,
			    (unsigned long long)lost);
			TAILQ_FOREACH(c, &w.clients.cs_all, c_entry)
				conn_send(c, line, (size_t)n);
			continue;
		}
#ifdef CHATD_CLUSTER
		if (msg.m_target == CLUSTER_GONE) {
			if (worker_gone_seen(msg.m_origin))
				continue;
			msg.m_target = 0;
		}
#endif
		if (msg.m_target == 0)
			conn_history_add(msg.m_text, msg.m_len);
		TAILQ_FOREACH(c, &w.clients.cs_all, c_entry)
			delivered += conn_deliver(c, msg.m_origin,
			    msg.m_target, msg.m_text, msg.m_len);
		taken += msg.m_len;
	}
	if (delivered > 0)
		hub_count_out(w.hub, delivered, 0);
	hub_worker_beat(w.hub, &w.cursor, now_ms());
	return hub_backlog(w.hub, &w.cursor) > 0;
}

/* Everything new in the hub, before a newcomer joins after it. */
static void
worker_drain(void)
{
	(void)worker_drain_some(0);
}

/*
 * The round's delivery.  A worker far behind (it was stopped, or
 * starved) catches up a slice at a time, a quarter of a send queue per
 * pass, with a write to every client between passes: a client that
 * reads at all keeps up, and only one that does not read is dropped.
 */
static void
worker_deliver(void)
{
	size_t	slice = conf.opts.sendq / 4;

	(void)worker_drain_some(slice > 0 ? slice : 1);
}

/* A dead worker's clients: tell everyone they are gone. */
static void
worker_announce_orphan(const struct hub_client_info *ci, void *arg)
{
	char	line[HUB_TEXT_MAX];
	size_t	n;

	(void)arg;
	if ((n = conn_format_lost(ci, line)) > 0)
		worker_ring_put(ci->ci_id, 0, line, n);
#ifdef CHATD_CLUSTER
	if (conf.cluster != NULL) {
		cluster_nick_release(ci->ci_nick);
		cluster_who_remove(ci->ci_id);
	}
#endif
}

/*
 * The shared sockets wake one worker each time (EV_EXCLUSIVE).  If that
 * one is stopped, the connection or datagram waits in the kernel and
 * nobody else is told: so every worker also tries them now and then.
 */
static void
worker_poll_shared(int64_t now)
{
	if (w.accepting)
		worker_accept(now);
	if (conf.socks.udp_fd != -1)
		udp_serve(conf.socks.udp_fd);
}

/*
 * Held back by a slow reader: stay held, and sleep no longer than until
 * the slowest one would be untethered, or let go and read the clients
 * held (return 0: at once).  -1 when not held.
 */
static int64_t
worker_pressure(int64_t now)
{
	int64_t	untether = -1;

	if (!w.clients.cs_hold)
		return -1;
	if (hub_hold(w.hub, now, &untether))
		return untether;
	clients_hold(&w.clients, 0);
	return 0;
}

/* The soonest of two timeouts, -1 meaning none. */
static int64_t
soonest(int64_t a, int64_t b)
{
	if (a == -1)
		return b;
	if (b == -1)
		return a;
	return a < b ? a : b;
}

/*
 * Stop: every client gets "Server shutting down" after what it is owed,
 * for as long as CHATD_STOP_FLUSH_MS allows, and is closed (clients.c,
 * as in chatd-select).  Their departures are not published: everyone is
 * being told the same.
 */
static void __attribute__((noreturn))
worker_stop(void)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &w.clients.cs_all, c_entry) {
		hub_client_remove(w.hub, c->c_slot);
#ifdef CHATD_CLUSTER
		if (conf.cluster != NULL) {
			cluster_nick_release(c->c_nick);
			cluster_who_remove(c->c_id);
		}
#endif
	}
	clients_stop(&w.clients, now_ms() + CHATD_STOP_FLUSH_MS);
	log_debug("stopped");
	exit(0);
}

void
worker_run(int slot, struct hub *hub, const struct hub_cursor *start,
    int master_fd, const int *wake_fds)
{
	struct ev_event		 events[WORKER_EVENTS];
	struct sigaction	 sa;
	enum src_kind		*kind;
	static char		 procname[32];
	int64_t			 now, timeout, wait, last_poll = 0;
	uint64_t		 lag;
	int			 i, n;
	char			 byte;

	w.slot = slot;
	w.hub = hub;
	w.master_fd = master_fd;
	w.wake_fd = wake_fds[0];
	srv_listener_init(&w.listener, conf.socks.tcp_fd);
	clients_init(&w.clients, &worker_hooks);
	snprintf(procname, sizeof(procname), "worker %d", slot + 1);
	log_procname(procname);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_sigterm;
	sigaction(SIGTERM, &sa, NULL);

	hub_worker_start(hub, slot, getpid());
	w.cursor = *start;
	hub_worker_beat(hub, &w.cursor, now_ms());
	conn_setup(&worker_ops, conf.opts.sendq, conf.opts.rate);
#ifdef CHATD_CLUSTER
	if (conf.cluster != NULL) {
		if (cluster_open(procname) == -1)
			exit(1);
		conn_setup(&worker_cluster_ops, conf.opts.sendq,
		    conf.opts.rate);
	}
#endif
	if ((w.ev = ev_new(conf.opts.max_clients + CHATD_FD_RESERVE)) == NULL)
		fatal("ev_new");
	if (ev_add(w.ev, w.wake_fd, EV_READ, &src_wake) == -1 ||
	    ev_add(w.ev, master_fd, EV_READ, &src_master) == -1 ||
	    (conf.socks.udp_fd != -1 && ev_add(w.ev, conf.socks.udp_fd,
	    EV_READ | EV_EXCLUSIVE, &src_udp) == -1))
		fatal("ev_add");
	/* A predecessor in this slot died: its clients are gone. */
	if ((n = hub_client_reap_worker(hub, slot, worker_announce_orphan,
	    NULL)) > 0)
		log_info("announced %d clients of the previous worker", n);
	worker_balance(now_ms());
	log_debug("started");

	for (;;) {
		now = now_ms();
		timeout = clients_resume(&w.clients, now);
		clients_end_round(&w.clients);
		/* What the round wrote, for the scoreboard. */
		hub_count_out(w.hub, 0, conn_take_written());
		if (got_term)
			worker_stop();
		now = now_ms();
		hub_worker_beat(w.hub, &w.cursor, now);
		timeout = soonest(timeout, worker_pressure(now));
		/*
		 * Another worker further behind than we are: let it run
		 * before we read more.  On a shared core that keeps the
		 * latency the ring adds near one worker's (bench/backpressure,
		 * pinned: the p99 of -w 4 went from about 4x that of -w 1 to
		 * 1.8x).  When we are the slowest, yielding would only delay
		 * ourselves.
		 */
		lag = hub_lag(w.hub, now, NULL);
		if (lag > hub_high(w.hub) / 4 &&
		    lag > hub_backlog(w.hub, &w.cursor))
			sched_yield();
		/* After the round's ends are carried out: true counts. */
		worker_balance(now);
		wait = srv_accept_wait(&w.listener, now);
		timeout = soonest(timeout, wait != 0 ? wait : -1);
		timeout = soonest(timeout, WORKER_BEAT_MS);
		/* Behind in the ring: the next slice after this round's I/O. */
		if (hub_backlog(w.hub, &w.cursor) > 0)
			timeout = 0;
		n = ev_wait(w.ev, events, WORKER_EVENTS, (int)timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("ev_wait");
		}
		now = now_ms();
		if (now - last_poll >= WORKER_BEAT_MS) {
			worker_poll_shared(now);
			last_poll = now;
		}
		for (i = 0; i < n; i++) {
			kind = events[i].udata;
			switch (*kind) {
			case SRC_LISTEN:
				worker_accept(now);
				break;
			case SRC_UDP:
				udp_serve(conf.socks.udp_fd);
				break;
			case SRC_WAKE:
				wake_drain(w.wake_fd);
				hub_wake_ack(w.hub);
				if (hub_kicked(w.hub)) {
					worker_balance(now);
					worker_accept(now);
				}
				break;
			case SRC_MASTER:
				if (read(master_fd, &byte, 1) == 0) {
					log_debug("master gone");
					got_term = 1;
				}
				break;
			case SRC_CONN:
				clients_event(&w.clients, (struct conn *)kind,
				    events[i].events & EV_READ,
				    events[i].events & EV_WRITE, now);
				break;
			}
		}
	}
}
