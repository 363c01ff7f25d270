/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * listen.c -- what chatd and chatd-select share before and around their
 * loops: the options both take, binding the TCP and UDP sockets,
 * accepting (with one out-of-descriptors pause for both), and turning
 * away a client the server cannot take.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#include "ev.h"
#include "log.h"
#include "net.h"
#include "udp.h"
#include "util.h"

/* How often -p 0 retries to find a port free for both TCP and UDP. */
#define SRV_BIND_TRIES	32
/* After EMFILE with no spare descriptor: retry accepting after this. */
#define SRV_EMFILE_PAUSE_MS	100

void
srv_opts_init(struct srv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bind_addr = "127.0.0.1";
	o->tcp_port = CHATD_PORT;
	o->udp_port = SRV_UDP_SAME;
	o->max_clients = CHATD_MAX_CLIENTS;
	o->per_addr = CHATD_PER_ADDR;
	o->sendq = CHATD_SENDQ;
	o->rate = CHATD_RATE;
}

int
srv_opts_set(struct srv_opts *o, int ch, const char *arg, const char **what)
{
	unsigned long	v;

	switch (ch) {
	case 'a':
		*what = "max-per-address";
		if (parse_uint(arg, 0, 1000000, &v) == -1)
			return -1;
		o->per_addr = (unsigned)v;
		return 1;
	case 'b':
		*what = "bind address";
		if (!net_addr_valid(arg))
			return -1;
		o->bind_addr = arg;
		return 1;
	case 'm':
		*what = "max-clients";
		if (parse_uint(arg, 1, 1000000, &v) == -1)
			return -1;
		o->max_clients = (unsigned)v;
		return 1;
	case 'p':
		*what = "port";
		return parse_port(arg, &o->tcp_port) == -1 ? -1 : 1;
	case 'q':
		*what = "send queue size";
		return parse_size(arg, 4096, (size_t)1 << 30, &o->sendq) == -1 ?
		    -1 : 1;
	case 'r':
		*what = "rate";
		if (parse_uint(arg, 0, 1000000, &v) == -1)
			return -1;
		o->rate = (unsigned)v;
		return 1;
	case 'u':
		*what = "udp port";
		if (strcmp(arg, "none") == 0) {
			o->udp_port = SRV_UDP_NONE;
			return 1;
		}
		return parse_port(arg, &o->udp_port) == -1 ? -1 : 1;
	case 'v':
		o->verbose++;
		return 1;
	}
	return 0;
}

static void __attribute__((noreturn))
bind_failed(const struct srv_opts *o, const char *proto, int port)
{
	if (strchr(o->bind_addr, ':') != NULL)
		fatal("bind %s [%s]:%d", proto, o->bind_addr, port);
	fatal("bind %s %s:%d", proto, o->bind_addr, port);
}

void
srv_open(const struct srv_opts *o, struct srv_socks *sk)
{
	int	try, port = -1, udp;

	for (try = 0; try < SRV_BIND_TRIES; try++) {
		sk->tcp_fd = net_listen(o->bind_addr, o->tcp_port, SOCK_STREAM);
		if (sk->tcp_fd == -1)
			bind_failed(o, "tcp", o->tcp_port);
		if ((port = net_local_port(sk->tcp_fd)) == -1)
			fatal("getsockname");
		if (o->udp_port == SRV_UDP_NONE) {
			sk->udp_fd = -1;
			break;
		}
		udp = o->udp_port == SRV_UDP_SAME ? port : o->udp_port;
		if ((sk->udp_fd = net_listen(o->bind_addr, udp,
		    SOCK_DGRAM)) != -1)
			break;
		if (errno != EADDRINUSE || o->tcp_port != 0 ||
		    o->udp_port != SRV_UDP_SAME)
			bind_failed(o, "udp", udp);
		close(sk->tcp_fd);	/* -p 0: try another number */
	}
	if (try == SRV_BIND_TRIES)
		fatalx("no port free for both tcp and udp");
	if (net_local_addr(sk->tcp_fd, sk->tcp_addr,
	    sizeof(sk->tcp_addr)) == -1)
		fatal("getsockname");
	if (sk->udp_fd == -1)
		snprintf(sk->udp_addr, sizeof(sk->udp_addr), "none");
	else if (net_local_addr(sk->udp_fd, sk->udp_addr,
	    sizeof(sk->udp_addr)) == -1)
		fatal("getsockname");
	/* Before the workers fork, so that they share the rate limit. */
	if (sk->udp_fd != -1 && udp_init() == -1)
		fatal("udp rate limit table");
}

void
srv_refuse_with(int fd, const char *line)
{
	if (write(fd, line, strlen(line)) == -1)
		log_debug("write: %s", strerror(errno));
	close(fd);
}

void
srv_refuse(int fd)
{
	srv_refuse_with(fd, PROTO_FULL);
}

/*
 * A quarter of the send queue at most, so whispers alone never fill
 * it, yet room for one whisper of the longest line.
 */
size_t
srv_whisper_burst(size_t sendq)
{
	size_t	burst = CHATD_WHISPER_BURST;

	if (burst > sendq / 4)
		burst = sendq / 4;
	if (burst < HUB_TEXT_MAX)
		burst = HUB_TEXT_MAX;
	return burst;
}

void
srv_listener_init(struct srv_listener *l, int tcp_fd)
{
	l->sl_fd = tcp_fd;
	l->sl_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	l->sl_resume_ms = 0;
}

/*
 * Out of descriptors: give back the spare one, accept a client to tell
 * it the server is full, and take the spare again.  -1 without a spare.
 */
static int
srv_emfile(struct srv_listener *l)
{
	int	fd;

	if (l->sl_spare_fd == -1)
		return -1;
	close(l->sl_spare_fd);
	if ((fd = accept(l->sl_fd, NULL, NULL)) != -1)
		srv_refuse(fd);
	l->sl_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return l->sl_spare_fd == -1 ? -1 : 0;
}

/*
 * Out of descriptors with no spare to turn a client away: the listener
 * would stay readable and the loop would spin, so it pauses.  Each
 * round retries to take a spare back, so the pause ends for good once
 * descriptors are free again.
 */
static void
srv_accept_pause(struct srv_listener *l)
{
	log_warnx("out of descriptors: not accepting for %d ms",
	    SRV_EMFILE_PAUSE_MS);
	l->sl_resume_ms = now_ms() + SRV_EMFILE_PAUSE_MS;
}

int64_t
srv_accept_wait(struct srv_listener *l, int64_t now)
{
	if (l->sl_resume_ms == 0)
		return 0;
	if (now < l->sl_resume_ms)
		return l->sl_resume_ms - now;
	l->sl_resume_ms = 0;
	if (l->sl_spare_fd == -1)
		l->sl_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

int
srv_accept(struct srv_listener *l, char *addr, size_t len,
    unsigned char *prefix)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);
	int			fd;

	if (srv_accept_wait(l, now_ms()) != 0)
		return -1;
	if ((fd = ev_accept(l->sl_fd, (struct sockaddr *)&ss,
	    &sslen)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			if (srv_emfile(l) == -1)
				srv_accept_pause(l);
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return -1;
	}
	if (net_addr_format((struct sockaddr *)&ss, addr, len) == -1)
		snprintf(addr, len, "unknown:0");
	/* Not IP (cannot happen on these sockets): counted as one. */
	if (net_addr_prefix((struct sockaddr *)&ss, prefix) == -1)
		memset(prefix, 0, NET_PREFIX_LEN);
	if (net_set_nodelay(fd) == -1)
		log_debug("TCP_NODELAY %s: %s", addr, strerror(errno));
	if (net_set_sndbuf(fd, CHATD_SOCK_SNDBUF) == -1)
		log_debug("SO_SNDBUF %s: %s", addr, strerror(errno));
	if (net_set_keepalive(fd, CHATD_KEEPIDLE, CHATD_KEEPINTVL,
	    CHATD_KEEPCNT) == -1)
		log_debug("keepalive %s: %s", addr, strerror(errno));
	return fd;
}
