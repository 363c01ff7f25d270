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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#include "ev.h"
#include "log.h"
#include "net.h"

#define WORKER_EVENTS		256
#define WORKER_ACCEPT_BATCH	64
/* After EMFILE with no spare descriptor: retry accepting after this. */
#define WORKER_EMFILE_PAUSE_MS	100

static struct {
	int			 slot;
	struct hub		*hub;
	struct hub_cursor	 cursor;
	struct ev		*ev;
	int			 wake_fd;
	int			 master_fd;
	int			 accepting;	/* listener in the event set */
	int64_t			 accept_resume_ms; /* after EMFILE, or 0 */
	int			 spare_fd;	/* kept for EMFILE */
	struct client_set	 clients;
	struct hub_msg		 msg;
} w;

static enum src_kind	src_listen = SRC_LISTEN;
static enum src_kind	src_udp = SRC_UDP;
static enum src_kind	src_wake = SRC_WAKE;
static enum src_kind	src_master = SRC_MASTER;

static volatile sig_atomic_t	got_term;

static void	worker_drain(void);
static void	worker_publish(struct conn *, uint64_t, const char *, size_t);
static int	worker_set_nick(struct conn *, const char *);
static uint64_t	worker_find(const char *, char *, size_t);
static unsigned	worker_foreach(void (*)(const struct hub_client_info *,
		    void *), void *);
static void	worker_dirty(struct conn *);
static void	worker_dead(struct conn *);
static void	worker_throttled(struct conn *);
static void	worker_rearm(struct conn *);
static void	worker_release(struct conn *);

static const struct chat_ops worker_ops = {
	.publish = worker_publish,
	.set_nick = worker_set_nick,
	.find = worker_find,
	.foreach = worker_foreach,
	.dirty = worker_dirty,
	.dead = worker_dead,
	.throttled = worker_throttled
};

static void
worker_sigterm(int sig)
{
	(void)sig;
	got_term = 1;
	wake_post(w.wake_fd);
}

static void
worker_publish(struct conn *from, uint64_t target, const char *text,
    size_t len)
{
	hub_publish(w.hub, from->c_id, target, text, len);
	hub_count_in(w.hub, 1);
	/*
	 * Many clients of this worker talking in one round could lap the
	 * ring before the round ends: read it before they do.
	 */
	if (hub_backlog(w.hub, &w.cursor) > hub_ring_size(w.hub) / 2)
		worker_drain();
}

static int
worker_set_nick(struct conn *c, const char *nick)
{
	return hub_client_set_nick(w.hub, c->c_slot, nick);
}

static uint64_t
worker_find(const char *nick, char *exact, size_t len)
{
	return hub_client_find(w.hub, nick, exact, len);
}

static unsigned
worker_foreach(void (*fn)(const struct hub_client_info *, void *),
    void *arg)
{
	return hub_client_foreach(w.hub, fn, arg);
}

static void
worker_dirty(struct conn *c)
{
	clients_dirty(&w.clients, c);
}

/* Unregister at once, so the name is free; free it after this round. */
static void
worker_dead(struct conn *c)
{
	hub_client_remove(w.hub, c->c_slot);
	clients_dead(&w.clients, c);
}

static void
worker_throttled(struct conn *c)
{
	clients_throttled(&w.clients, c);
}

/* The event set follows the client's flags: the mask it needs now. */
static void
worker_rearm(struct conn *c)
{
	int	mask = 0;

	if (!(c->c_flags & (CONN_THROTTLED | CONN_EOF)))
		mask |= EV_READ;
	if (c->c_flags & CONN_WRITING)
		mask |= EV_WRITE;
	if (ev_mod(w.ev, c->c_fd, mask, c) == -1)
		log_warn("ev_mod %s", c->c_addr);
}

/* A client about to be closed leaves the event set and the count. */
static void
worker_release(struct conn *c)
{
	ev_del(w.ev, c->c_fd);
	hub_count_clients(w.hub, -1);
}

/*
 * Take or give up the listening socket.  A worker holding more than its
 * share of the server's clients lets the others accept, so connections
 * spread evenly: its share is the mean plus an eighth, plus one.  The
 * worker with the fewest clients is always under that, so somebody is
 * always accepting.
 */
static void
worker_balance(int64_t now)
{
	unsigned	total, share;
	int		want;

	if (w.accept_resume_ms != 0 && now < w.accept_resume_ms)
		want = 0;
	else {
		w.accept_resume_ms = 0;
		total = hub_total_clients(w.hub);
		share = total / (unsigned)hub_nworkers(w.hub);
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

/* Out of descriptors, and no spare left: pause accepting. */
static void
worker_emfile(void)
{
	log_warnx("out of descriptors: not accepting for %d ms",
	    WORKER_EMFILE_PAUSE_MS);
	w.accept_resume_ms = now_ms() + WORKER_EMFILE_PAUSE_MS;
}

static void
worker_accept(int64_t now)
{
	struct conn		*c;
	char			 addr[PROTO_ADDR_MAX];
	uint64_t		 id;
	unsigned		 slot;
	int			 fd, i;

	for (i = 0; i < WORKER_ACCEPT_BATCH && w.accepting; i++) {
		fd = srv_accept(conf.socks.tcp_fd, &w.spare_fd, addr,
		    sizeof(addr));
		if (fd == -1) {
			if (errno == EMFILE)
				worker_emfile();
			return;
		}
		/*
		 * Deliver what is already in the hub to the clients we have,
		 * so the newcomer's first line is the first after it came.
		 */
		worker_drain();
		if ((id = hub_client_add(w.hub, addr, &slot)) == 0) {
			log_debug("%s refused: server full", addr);
			srv_refuse(fd);
			continue;
		}
		if ((c = malloc(sizeof(*c))) == NULL) {
			log_warn("malloc");
			hub_client_remove(w.hub, slot);
			srv_refuse(fd);
			continue;
		}
		conn_init(c, fd, addr, id, slot, now);
		if (ev_add(w.ev, fd, EV_READ, c) == -1) {
			log_warn("ev_add %s", addr);
			hub_client_remove(w.hub, slot);
			srv_refuse(fd);
			conn_free(c);
			continue;
		}
		clients_add(&w.clients, c);
		hub_count_clients(w.hub, 1);
		log_debug("%s connected (id %llu)", addr,
		    (unsigned long long)id);
		conn_welcome(c);
		worker_balance(now);
	}
}

/* Deliver everything new in the hub to our clients, in hub order. */
static void
worker_drain(void)
{
	struct conn		*c;
	enum hub_read_result	 r;
	uint64_t		 lost, delivered = 0;
	char			 line[64];
	int			 n;

	for (;;) {
		r = hub_read(w.hub, &w.cursor, &w.msg, &lost);
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
		TAILQ_FOREACH(c, &w.clients.cs_all, c_entry)
			delivered += conn_deliver(c, w.msg.m_origin,
			    w.msg.m_target, w.msg.m_text, w.msg.m_len);
	}
	if (delivered > 0)
		hub_count_out(w.hub, delivered, 0);
	hub_worker_position(w.hub, w.cursor.hc_pos);
}

/* A dead worker's clients: tell everyone they are gone. */
static void
worker_announce_orphan(const struct hub_client_info *ci, void *arg)
{
	char	who[PROTO_WHO_MAX], line[HUB_TEXT_MAX];
	int	n;

	(void)arg;
	conn_format_who(ci->ci_nick, ci->ci_addr, who, sizeof(who));
	n = snprintf(line, sizeof(line), PROTO_LEFT_REASON, who,
	    PROTO_REASON_LOST);
	if (n > 0 && (size_t)n < sizeof(line))
		hub_publish(w.hub, ci->ci_id, 0, line, (size_t)n);
}

/*
 * Write what the socket takes of a stopping client's queue, without the
 * protocol's error handling: 1 if output remains, 0 if done or hopeless.
 */
static int
worker_stop_flush(struct conn *c)
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
 * Stop: every client gets "Server shutting down" after what it is owed,
 * for as long as CHATD_STOP_FLUSH_MS allows, and is closed.  Their
 * departures are not published: everyone is being told the same.
 */
static void __attribute__((noreturn))
worker_stop(void)
{
	struct ev_event	 events[WORKER_EVENTS];
	struct conn	*c, *next;
	int64_t		 deadline = now_ms() + CHATD_STOP_FLUSH_MS, left;

	clients_reap(&w.clients);
	if (w.accepting)
		ev_del(w.ev, conf.socks.tcp_fd);
	if (conf.socks.udp_fd != -1)
		ev_del(w.ev, conf.socks.udp_fd);
	ev_del(w.ev, w.wake_fd);
	ev_del(w.ev, w.master_fd);
	TAILQ_FOREACH(c, &w.clients.cs_all, c_entry) {
		hub_client_remove(w.hub, c->c_slot);
		/* The last line goes in even if the queue is full. */
		c->c_sendq.b_limit += sizeof(PROTO_SHUTDOWN);
		(void)buf_append(&c->c_sendq, PROTO_SHUTDOWN,
		    sizeof(PROTO_SHUTDOWN) - 1);
		ev_mod(w.ev, c->c_fd, EV_WRITE, c);
	}
	for (;;) {
		for (c = TAILQ_FIRST(&w.clients.cs_all); c != NULL; c = next) {
			next = TAILQ_NEXT(c, c_entry);
			if (worker_stop_flush(c) == 1 && now_ms() < deadline)
				continue;
			TAILQ_REMOVE(&w.clients.cs_all, c, c_entry);
			ev_del(w.ev, c->c_fd);
			conn_close_fd(c);
			conn_free(c);
		}
		left = deadline - now_ms();
		if (TAILQ_EMPTY(&w.clients.cs_all) || left <= 0)
			break;
		if (ev_wait(w.ev, events, WORKER_EVENTS, (int)left) == -1 &&
		    errno != EINTR)
			break;
	}
	log_debug("stopped");
	exit(0);
}

void
worker_run(int slot, struct hub *hub, int master_fd, const int *wake_fds)
{
	struct ev_event		 events[WORKER_EVENTS];
	struct sigaction	 sa;
	enum src_kind		*kind;
	static char		 procname[32];
	int64_t			 now;
	int			 i, n, timeout, resume;
	char			 byte;

	w.slot = slot;
	w.hub = hub;
	w.master_fd = master_fd;
	w.wake_fd = wake_fds[0];
	w.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	clients_init(&w.clients, worker_rearm, worker_release);
	snprintf(procname, sizeof(procname), "worker %d", slot + 1);
	log_procname(procname);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	/* Ctrl-C reaches the whole process group; the master decides. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	hub_worker_start(hub, slot, getpid());
	conn_setup(&worker_ops, conf.opts.sendq, conf.opts.rate);
	if ((w.ev = ev_new(conf.opts.max_clients + CHATD_FD_RESERVE)) == NULL)
		fatal("ev_new");
	hub_cursor_init(hub, &w.cursor);
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
		timeout = (int)clients_unthrottle(&w.clients, now);
		if (w.accept_resume_ms != 0) {
			resume = (int)(w.accept_resume_ms - now);
			if (resume < 0)
				resume = 0;
			if (timeout == -1 || resume < timeout)
				timeout = resume;
		}
		worker_drain();
		clients_reap(&w.clients);
		clients_flush(&w.clients);
		/* What the flush wrote, for the scoreboard. */
		hub_count_out(w.hub, 0, conn_take_written());
		if (got_term)
			worker_stop();
		n = ev_wait(w.ev, events, WORKER_EVENTS, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("ev_wait");
		}
		now = now_ms();
		worker_drain();
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
		worker_balance(now);
	}
}
