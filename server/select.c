/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * select.c -- chatd-select, the classic single-process chat server: the
 * baseline that chatd is compared with.
 *
 * The model.  One process, one thread, one loop.  Every descriptor the
 * server owns goes into the fd_sets handed to select(2): the listening
 * socket, the UDP socket, the read end of a self-pipe that the signal
 * handlers write to, and one socket per client.  select() sleeps until
 * at least one of them is ready; the loop then handles each ready one in
 * turn, writes out what the round produced, and goes round again.
 * Nothing else ever blocks: every socket is non-blocking, and output a
 * client cannot take yet waits in its send queue until select() reports
 * the socket writable.
 *
 * A broadcast is a walk over the client list: what one client says is
 * appended to every other client's send queue there and then, and each
 * client with output is written once, at the end of the round.  With all
 * the clients in one address space there is no shared memory and no
 * lock, and one global order of messages comes for free: the order in
 * which lines are published is the order they enter every queue.
 *
 * The costs are what the comparison with chatd measures.  select() is
 * given the whole set on every call, and both the kernel and this loop
 * scan all of it: O(n) work per wake-up, even when one client spoke.  An
 * fd_set holds FD_SETSIZE bits (1024 on Linux) and FD_SET beyond that
 * writes past its end, so a client whose descriptor is FD_SETSIZE or
 * more is told "error: server full" and closed.  And every read, every
 * copy of every broadcast and every write runs on one CPU.
 *
 * With -1 the loop delivers as the seed's own server did: every line
 * of a broadcast is written to each recipient with its own send() the
 * moment it is made, and a recipient whose socket is full holds up the
 * whole server until it takes the line (sel_send_now).  That is the
 * teaching baseline: what batching the writes buys, measured.
 *
 * The protocol itself -- framing, commands, send queues, the rate limit
 * -- is conn.c, shared with chatd, and so are the UDP service, udp.c,
 * and the client lists with the work that ends each round, clients.c.
 * This file supplies the chat_ops through which conn.c reaches the
 * other clients, and the loop.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chatd.h"
#include "ev.h"
#include "limit.h"
#include "log.h"
#include "longopt.h"
#include "net.h"
#include "util.h"

/* Clients accepted per round, so a crowd arriving cannot starve talkers. */
#define SEL_ACCEPT_BATCH	64
/*
 * -1: how long one blocking send may hold up the server before its
 * client is dropped, so that a client that stops reading cannot stop
 * the seed's model for good.
 */
#define SEL_SEND_WAIT_MS	2000

/* The options; set by main, read-only after. */
static struct srv_opts	opt;
static int		one_by_one;	/* -1: the seed's delivery */

/*
 * What chatd keeps in the hub's registry for a client, kept here by its
 * descriptor (every client's is below FD_SETSIZE): the address-table
 * entry it counts in, and the budget of whispers it may be sent.
 */
struct sel_peer {
	unsigned	 sp_addr_ref;	/* UINT32_MAX: not counted */
	_Atomic int64_t	 sp_recv_tat;
};

/* The whole server: its descriptors and its clients. */
static struct {
	struct srv_socks	 sk;		/* listening TCP and UDP */
	struct srv_listener	 listener;	/* accepting, EMFILE pause */
	int			 sig_fd[2];	/* self-pipe: handlers write */
	uint64_t		 last_id;
	struct client_set	 clients;	/* the clients (clients.c) */
	struct limit_table	 addrs;		/* clients per address (-a) */
	struct sel_peer		 peers[FD_SETSIZE];
} s;

static volatile sig_atomic_t	got_term;

static void	sel_publish(uint64_t, uint64_t, const char *, size_t);
static void	sel_unregister(struct conn *);
static int	sel_set_nick(struct conn *, const char *);
static uint64_t	sel_whisper(const char *, size_t, char *, size_t);
static unsigned	sel_scan(uint64_t *, int (*)(const struct
		    hub_client_info *, void *), void *, unsigned);
static unsigned	sel_count(void);

static const struct chat_ops sel_ops = {
	.publish = sel_publish,
	.unregister = sel_unregister,
	.set_nick = sel_set_nick,
	.whisper = sel_whisper,
	.scan = sel_scan,
	.count = sel_count
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: chatd-select [-1hvV] [-b address] [-p port] "
	    "[-u port|none]\n"
	    "                    [-a max-per-address] [-m max-clients] "
	    "[-q sendq]\n"
	    "                    [-r rate]\n");
	exit(status);
}

static void __attribute__((noreturn))
bad_option(const char *what, const char *value)
{
	fprintf(stderr, "chatd-select: invalid %s: %s\n", what, value);
	usage(2);
}

/*
 * The chat_ops.  chatd's workers meet in a shared-memory hub; here every
 * client is on one list in this process, so each operation is a walk
 * over that list.
 */

/*
 * -1: write c's queue now, waiting for the socket as a blocking send()
 * would, for at most SEL_SEND_WAIT_MS.  The queue holds this broadcast
 * line, after whatever c was owed before it (its welcome, say), so the
 * order is kept.  The whole server waits meanwhile: that is the model.
 */
static void
sel_send_now(struct conn *c)
{
	struct timeval	 tv;
	fd_set		 wset;
	int64_t		 deadline, left;
	int		 r;

	deadline = now_ms() + SEL_SEND_WAIT_MS;
	while ((r = conn_flush(c)) == 1) {
		if ((left = deadline - now_ms()) <= 0) {
			c->c_flags |= CONN_RESET;
			conn_close(c, PROTO_REASON_SENDQ);
			return;
		}
		FD_ZERO(&wset);
		FD_SET(c->c_fd, &wset);
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		if (select(c->c_fd + 1, NULL, &wset, NULL, &tv) == -1) {
			if (errno != EINTR)
				fatal("select");
			/* Stopping: the line stays queued for sel_stop. */
			if (got_term)
				return;
		}
	}
}

/*
 * Publishing is delivering: the line goes into every send queue now,
 * written once per client at the end of the round; or, with -1, written
 * to each at once, one send() per recipient per line.  The order in
 * which lines are published is the one order every client sees.  A
 * client whose queue overflows on the way is only marked closed
 * (conn.c); its departure is published after the round, by
 * clients_end_round, never from inside this walk.
 */
static void
sel_publish(uint64_t origin, uint64_t target, const char *text, size_t len)
{
	struct conn	*c;

	if (target == 0)
		conn_history_add(text, len);
	TAILQ_FOREACH(c, &s.clients.cs_all, c_entry)
		if (conn_deliver(c, origin, target, text, len) && one_by_one)
			sel_send_now(c);
}

/*
 * The client list is the registry: a reaped client is already off it.
 * Its address counts one client less.
 */
static void
sel_unregister(struct conn *c)
{
	struct sel_peer	*p = &s.peers[c->c_fd];

	if (p->sp_addr_ref != UINT32_MAX)
		limit_addr_release(&s.addrs, p->sp_addr_ref);
	p->sp_addr_ref = UINT32_MAX;
}

/* The live client called nick, case ignored, or NULL. */
static struct conn *
sel_lookup(const char *nick)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &s.clients.cs_all, c_entry)
		if (!(c->c_flags & CONN_DEAD) &&
		    strcasecmp(c->c_nick, nick) == 0)
			return c;
	return NULL;
}

/* The client list is the registry: conn.c stores the name itself. */
static int
sel_set_nick(struct conn *c, const char *nick)
{
	struct conn	*other;

	if ((other = sel_lookup(nick)) != NULL && other != c) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

/* A whisper for nick, charged to its budget as in chatd (hub.c). */
static uint64_t
sel_whisper(const char *nick, size_t len, char *exact, size_t exactlen)
{
	struct conn	*c;

	if ((c = sel_lookup(nick)) == NULL) {
		errno = ESRCH;
		return 0;
	}
	snprintf(exact, exactlen, "%s", c->c_nick);
	if (limit_budget_take(&s.peers[c->c_fd].sp_recv_tat, now_ms() * 1000,
	    len, CHATD_WHISPER_RATE, srv_whisper_burst(opt.sendq)) == -1) {
		errno = EAGAIN;
		return 0;
	}
	return c->c_id;
}

/*
 * The client list, a part at a time (a long /who).  The place is the
 * id of the next client to look at: the list is in id order (a
 * newcomer gets the next id and goes at the tail), and a client that
 * leaves in between takes no place with it.  Finding the place again
 * is a walk from the head, bounded by the FD_SETSIZE clients the model
 * can hold.
 */
static unsigned
sel_scan(uint64_t *pos, int (*fn)(const struct hub_client_info *, void *),
    void *arg, unsigned max)
{
	struct hub_client_info	 ci;
	struct conn		*c;
	unsigned		 n = 0;

	TAILQ_FOREACH(c, &s.clients.cs_all, c_entry)
		if (c->c_id >= *pos)
			break;
	for (; c != NULL && n < max; c = TAILQ_NEXT(c, c_entry)) {
		if (c->c_flags & CONN_DEAD)
			continue;
		memset(&ci, 0, sizeof(ci));
		ci.ci_id = c->c_id;
		snprintf(ci.ci_nick, sizeof(ci.ci_nick), "%s", c->c_nick);
		snprintf(ci.ci_addr, sizeof(ci.ci_addr), "%s", c->c_addr);
		n++;
		if (fn(&ci, arg) != 0) {
			c = TAILQ_NEXT(c, c_entry);
			break;
		}
	}
	*pos = c != NULL ? c->c_id : HUB_SCAN_END;
	return n;
}

static unsigned
sel_count(void)
{
	return s.clients.cs_count;
}

/* Take the clients waiting on the listening socket. */
static void
sel_accept(int64_t now)
{
	struct conn		*c;
	char			 addr[PROTO_ADDR_MAX];
	unsigned char		 prefix[NET_PREFIX_LEN];
	unsigned		 ref;
	int			 fd, i, over;

	for (i = 0; i < SEL_ACCEPT_BATCH; i++) {
		if ((fd = srv_accept(&s.listener, addr, sizeof(addr),
		    prefix)) == -1)
			return;
		/*
		 * select() cannot watch a descriptor of FD_SETSIZE or more:
		 * FD_SET would write past the end of the fd_set.  This is
		 * the model's real limit, whatever -m and ulimit -n say.
		 */
		if (fd >= FD_SETSIZE ||
		    s.clients.cs_count >= opt.max_clients) {
			log_debug("%s refused: server full", addr);
			srv_refuse(fd);
			continue;
		}
		ref = UINT32_MAX;
		if (opt.per_addr != 0 && limit_addr_take(&s.addrs, prefix,
		    opt.per_addr, &ref) == -1) {
			over = errno == EDQUOT;
			log_debug("%s refused: %s", addr, over ?
			    "too many connections from it" :
			    "server full (address table)");
			srv_refuse_with(fd, over ? PROTO_PER_ADDR : PROTO_FULL);
			continue;
		}
		if ((c = conn_new(&s.clients, fd, addr, ++s.last_id, 0,
		    now)) == NULL) {
			log_warn("conn_new");
			if (ref != UINT32_MAX)
				limit_addr_release(&s.addrs, ref);
			srv_refuse(fd);
			continue;
		}
		s.peers[fd].sp_addr_ref = ref;
		atomic_store(&s.peers[fd].sp_recv_tat, 0);
		clients_add(&s.clients, c);
		log_debug("%s connected (id %llu)", addr,
		    (unsigned long long)c->c_id);
		conn_welcome(c);
	}
}

/*
 * Fill the sets with what the loop waits for and return the highest
 * descriptor in them.  Every descriptor here is below FD_SETSIZE:
 * sel_accept refuses the others.  A throttled client is not read; one
 * with output the socket would not take is watched for writing.
 */
static int
sel_fill(fd_set *rset, fd_set *wset, int accepting)
{
	struct conn	*c;
	int		 maxfd;

	FD_ZERO(rset);
	FD_ZERO(wset);
	FD_SET(s.sig_fd[0], rset);
	maxfd = s.sig_fd[0];
	if (accepting) {
		FD_SET(s.sk.tcp_fd, rset);
		if (s.sk.tcp_fd > maxfd)
			maxfd = s.sk.tcp_fd;
	}
	if (s.sk.udp_fd != -1) {
		FD_SET(s.sk.udp_fd, rset);
		if (s.sk.udp_fd > maxfd)
			maxfd = s.sk.udp_fd;
	}
	TAILQ_FOREACH(c, &s.clients.cs_all, c_entry) {
		if (!(c->c_flags & (CONN_DEAD | CONN_THROTTLED | CONN_HELD |
		    CONN_EOF)))
			FD_SET(c->c_fd, rset);
		if (c->c_flags & CONN_WRITING)
			FD_SET(c->c_fd, wset);
		if (c->c_fd > maxfd)
			maxfd = c->c_fd;
	}
	return maxfd;
}

/*
 * Stop: every client gets "Server shutting down" after what it is owed
 * and is closed (clients.c, as in chatd).  Their departures are not
 * announced: everyone is being told the same.
 */
static void __attribute__((noreturn))
sel_stop(void)
{
	log_info("stopping");
	clients_stop(&s.clients, now_ms() + CHATD_STOP_FLUSH_MS);
	log_info("stopped");
	exit(0);
}

/*
 * The loop.  Each round: let throttled clients go on, write what the
 * last round produced and carry out the ends it decided, then sleep in
 * select() and handle whatever is ready.
 */
static void __attribute__((noreturn))
sel_loop(void)
{
	struct timeval	 tv, *tvp;
	fd_set		 rset, wset;
	struct conn	*c;
	int64_t		 now, timeout, resume;
	int		 accepting, maxfd;
	char		 drain[64];

	for (;;) {
		now = now_ms();
		timeout = clients_resume(&s.clients, now);
		clients_end_round(&s.clients);
		resume = srv_accept_wait(&s.listener, now);
		accepting = resume == 0;
		if (!accepting && (timeout == -1 || resume < timeout))
			timeout = resume;
		if (got_term)
			sel_stop();

		maxfd = sel_fill(&rset, &wset, accepting);
		tvp = NULL;
		if (timeout >= 0) {
			tv.tv_sec = timeout / 1000;
			tv.tv_usec = (timeout % 1000) * 1000;
			tvp = &tv;
		}
		if (select(maxfd + 1, &rset, &wset, NULL, tvp) == -1) {
			if (errno == EINTR)
				continue;
			fatal("select");
		}
		now = now_ms();

		/* A signal came: empty the pipe; got_term says what to do. */
		if (FD_ISSET(s.sig_fd[0], &rset))
			while (read(s.sig_fd[0], drain, sizeof(drain)) > 0)
				continue;
		/*
		 * Every client, ready or not: the O(n) walk of the model.
		 * No client leaves the list during the walk (the dead are
		 * reaped after it), and none joins: accepting comes next.
		 */
		TAILQ_FOREACH(c, &s.clients.cs_all, c_entry)
			clients_event(&s.clients, c, FD_ISSET(c->c_fd, &rset),
			    FD_ISSET(c->c_fd, &wset), now);
		if (accepting && FD_ISSET(s.sk.tcp_fd, &rset))
			sel_accept(now);
		if (s.sk.udp_fd != -1 && FD_ISSET(s.sk.udp_fd, &rset))
			udp_serve(s.sk.udp_fd);
	}
}

/* The address table, for at most as many clients as select() can take. */
static void
sel_addrs_init(void)
{
	unsigned	n = opt.max_clients < FD_SETSIZE ? opt.max_clients :
			    FD_SETSIZE;

	s.addrs.lt_n = limit_table_slots(n);
	s.addrs.lt_seed = limit_seed();
	if ((s.addrs.lt_tab = calloc(s.addrs.lt_n,
	    sizeof(*s.addrs.lt_tab))) == NULL)
		fatal("calloc");
}

/* Async-signal-safe: set the flag and wake select() through the pipe. */
static void
sel_signal(int sig)
{
	int	saved = errno;
	char	byte = (char)sig;

	got_term = 1;
	/* EAGAIN means the pipe is full: a wake-up is pending anyway. */
	(void)!write(s.sig_fd[1], &byte, 1);
	errno = saved;
}

/*
 * The self-pipe turns a signal into a readable descriptor, so it wakes
 * select() like any other event; both ends are non-blocking, so a full
 * pipe never blocks the handler and draining it never blocks the loop.
 */
static void
sel_signals(void)
{
	struct sigaction	sa;

	if (pipe(s.sig_fd) == -1)
		fatal("pipe");
	if (net_set_nonblock(s.sig_fd[0]) == -1 ||
	    net_set_nonblock(s.sig_fd[1]) == -1 ||
	    net_set_cloexec(s.sig_fd[0]) == -1 ||
	    net_set_cloexec(s.sig_fd[1]) == -1)
		fatal("self-pipe");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sel_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
	/* A dead peer is an ordinary write error, never a fatal signal. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
}

int
main(int argc, char *argv[])
{
	const char	*what;
	int		 ch;

	log_init("chatd-select", LOG_TO_STDERR, 0);
	srv_opts_init(&opt);

	switch (longopt_find(argc, argv)) {
	case 'h':
		usage(0);
	case 'V':
		printf("chatd-select %s\n", VERSION);
		exit(0);
	}
	while ((ch = getopt(argc, argv, "1a:b:hm:p:q:r:u:vV")) != -1) {
		switch (ch) {
		case '1':
			one_by_one = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("chatd-select %s\n", VERSION);
			exit(0);
		case '?':
			usage(2);
		default:
			if (srv_opts_set(&opt, ch, optarg, &what) == -1)
				bad_option(what, optarg);
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chatd-select: unexpected argument: %s\n",
		    argv[optind]);
		usage(2);
	}

	log_init("chatd-select", LOG_TO_STDERR, opt.verbose);
	srv_open(&opt, &s.sk);
	sel_signals();
	srv_listener_init(&s.listener, s.sk.tcp_fd);
	/* The loop's own descriptors must fit in an fd_set too. */
	if (s.sk.tcp_fd >= FD_SETSIZE || s.sk.udp_fd >= FD_SETSIZE ||
	    s.sig_fd[0] >= FD_SETSIZE)
		fatalx("too many descriptors open: none left below "
		    "FD_SETSIZE (%d)", FD_SETSIZE);
	/* No event set to keep up to date: sel_fill reads the flags. */
	clients_init(&s.clients, &(struct client_hooks){ NULL, NULL, NULL });
	conn_setup(&sel_ops, opt.sendq, opt.rate);
	sel_addrs_init();

	if (one_by_one)
		log_info("delivering one send() per recipient per line (-1)");
	log_info("ready tcp=%s udp=%s", s.sk.tcp_addr, s.sk.udp_addr);
	sel_loop();
}
