/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * benchio.c -- chatbench's clients on the wire: opening their
 * connections, reading and writing their sockets, cutting what arrives
 * into lines, and acting on each line by what the client waits for
 * (the welcome, its nickname, or messages and acknowledgments to
 * check).
 *
 * The protocol's strings are not written again here: each line is
 * matched against the format proto.h gives the servers.
 *
 * With --proto redis the clients speak to a Redis server instead: each
 * says HELLO 3 (RESP3, so that a subscribed connection may still
 * PUBLISH) and SUBSCRIBE to one channel; a sender PUBLISHes its
 * messages there, and PUBLISH's integer reply is the acknowledgment.
 * RESP3 is cut into lines at CRLF like the chat protocol; a message
 * arrives as a push whose last line is the message itself, the only
 * line that starts with a digit, and Redis also sends a sender's own
 * messages back to it, which are skipped.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "net.h"
#include "proto.h"
#include "chatbench.h"

#define CB_LINE_MAX		2048	/* longer server lines are skipped */
#define CB_READ_SIZE		(256 * 1024)
#define CB_READS		4	/* per event: one client cannot hog */
/* CB_ACKWIN messages, with room for RESP's framing around each. */
#define CB_OUTQ_MAX		(CB_ACKWIN * (PROTO_LINE_MAX + 64) + 64)
#define REDIS_CHANNEL		"chatbench"
/* Redis's answer to a client past its maxclients. */
#define REDIS_FULL		"-ERR max number of clients reached"
#define REDIS_HELLO		"HELLO 3\r\nSUBSCRIBE " REDIS_CHANNEL "\r\n"
#define CB_CLIENT_NS		(10 * NS)	/* connect, welcome, nick */

/* A fixed part of a protocol line around one conversion of proto.h. */
struct pat {
	const char	*pt_pre;
	size_t		 pt_prelen;
	const char	*pt_suf;
	size_t		 pt_suflen;
	int		 pt_conv;	/* has a conversion */
};

static struct pat	pat_welcome1, pat_welcome2, pat_ack, pat_lost,
			pat_nick_ok, pat_full, pat_per_addr, pat_nick_used,
			pat_nick_bad;
static struct pat	pat_msg_ok;
static const char	*said_sep;	/* " said: ", or " whispers: " */
static size_t		 said_seplen;
static char		 rbuf[CB_READ_SIZE];

static void	pat_init(struct pat *, const char *);
static int	pat_match(const struct pat *, const char *, size_t,
		    const char **, size_t *);
static int	first_connect(void);
static void	client_read(struct client *);
static void	client_input(struct client *, const char *, size_t,
		    int64_t);
static void	client_line(struct client *, const char *, size_t,
		    int64_t);
static void	client_welcomed(struct client *, int64_t);
static void	client_ready(struct client *, int64_t);
static void	client_said(struct client *, const char *, size_t,
		    int64_t);
static void	client_ack(struct client *, const char *, size_t);
static void	client_delivery(struct client *, uint64_t who, const char *,
		    int64_t);
static void	client_hello(struct client *);
static void	redis_line(struct client *, const char *, size_t, int64_t);

/*
 * Take the first line of fmt (a proto.h format with at most one
 * conversion) apart into the text before and after the conversion, so
 * the protocol's strings are written in one place only.
 */
static void
pat_init(struct pat *pt, const char *fmt)
{
	const char	*pc, *nl;

	nl = strchr(fmt, '\n');
	pc = strchr(fmt, '%');
	if (pc == NULL || pc > nl) {
		pt->pt_pre = fmt;
		pt->pt_prelen = (size_t)(nl - fmt);
		pt->pt_suf = nl;
		pt->pt_suflen = 0;
		pt->pt_conv = 0;
		return;
	}
	pt->pt_pre = fmt;
	pt->pt_prelen = (size_t)(pc - fmt);
	/* Past the conversion: flags and length up to its letter. */
	for (pc++; *pc == 'l' || *pc == 'h' || *pc == 'z'; pc++)
		;
	pt->pt_suf = pc + 1;
	pt->pt_suflen = (size_t)(nl - pt->pt_suf);
	pt->pt_conv = 1;
}

/* Does line match?  If so, *arg is the converted part (may be NULL). */
static int
pat_match(const struct pat *pt, const char *line, size_t len,
    const char **arg, size_t *arglen)
{
	if (!pt->pt_conv && len != pt->pt_prelen)
		return 0;
	if (len < pt->pt_prelen + pt->pt_suflen ||
	    memcmp(line, pt->pt_pre, pt->pt_prelen) != 0 ||
	    memcmp(line + len - pt->pt_suflen, pt->pt_suf,
	    pt->pt_suflen) != 0)
		return 0;
	if (arg != NULL) {
		*arg = line + pt->pt_prelen;
		*arglen = len - pt->pt_prelen - pt->pt_suflen;
	}
	return 1;
}

void
pats_init(void)
{
	const char	*p;

	pat_init(&pat_welcome1, PROTO_WELCOME);
	pat_init(&pat_welcome2, strchr(PROTO_WELCOME, '\n') + 1);
	pat_init(&pat_ack, PROTO_ACK);
	pat_init(&pat_lost, PROTO_LOST);
	pat_init(&pat_nick_ok, PROTO_NICK_OK);
	pat_init(&pat_full, PROTO_FULL);
	pat_init(&pat_per_addr, PROTO_PER_ADDR);
	pat_init(&pat_nick_used, PROTO_NICK_IN_USE);
	pat_init(&pat_nick_bad, PROTO_NICK_INVALID);
	pat_init(&pat_msg_ok, PROTO_MSG_OK);
	/* "%s said: %s": what lies between the two conversions. */
	said_sep = bench.whisper ? &PROTO_WHISPER[2] : &PROTO_SAID[2];
	p = strchr(said_sep, '%');
	said_seplen = (size_t)(p - said_sep);
}

/*
 * Find the server the way chatc does, trying every address of host,
 * and keep the one that answered for all the other clients.  This one
 * connection blocks; failing it is the user's error, exit 1.
 */
static int
first_connect(void)
{
	struct addrinfo	*res, *ai;
	char		 why[NET_ERR_MAX];
	int		 fd = -1;

	if (net_resolve(bench.host, bench.port, SOCK_STREAM, &res, why,
	    sizeof(why)) == -1)
		errx(1, "%s %s: %s", bench.host, bench.port, why);
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(bench.addr))
			continue;
		if ((fd = net_connect_addr(ai)) != -1) {
			memcpy(&bench.addr, ai->ai_addr, ai->ai_addrlen);
			bench.addrlen = ai->ai_addrlen;
		}
	}
	/* errno is the last address's. */
	if (fd == -1)
		err(1, "%s %s", bench.host, bench.port);
	freeaddrinfo(res);
	return fd;
}

/* Start connecting one client; its welcome is awaited in the loop. */
void
client_open(struct client *cl, int64_t now)
{
	int	fd, mask = EV_READ;

	buf_init(&cl->cl_out, CB_OUTQ_MAX);
	cl->cl_sender = -1;
	cl->cl_deadline = now + CB_CLIENT_NS;
	cl->cl_state = CL_WELCOME;
	bench.pending++;
	if (cl->cl_id == 0)
		fd = first_connect();
	else if ((fd = socket(bench.addr.ss_family, SOCK_STREAM, 0)) == -1)
		goto fail;
	cl->cl_fd = fd;
	if (net_set_nonblock(fd) == -1 || net_set_cloexec(fd) == -1 ||
	    net_set_nodelay(fd) == -1)
		goto fail;
	if (cl->cl_id != 0 &&
	    connect(fd, (struct sockaddr *)&bench.addr, bench.addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		cl->cl_state = CL_CONNECTING;
		mask = EV_WRITE;
	}
	if (ev_add(bench.ev, fd, mask, cl) == -1)
		goto fail;
	if (cl->cl_state == CL_WELCOME)
		client_hello(cl);
	return;
fail:
	client_fail(cl, NULL);
}

/* A client could not get in: say why once; the report counts them. */
void
client_fail(struct client *cl, const char *why)
{
	if (!bench.warned++) {
		if (why != NULL)
			warnx("client %u: %s", cl->cl_id, why);
		else
			warn("client %u: %s %s", cl->cl_id, bench.host,
			    bench.port);
	}
	client_close(cl, CW_FAILED);
}

/* The one teardown of a client, whatever the reason. */
void
client_close(struct client *cl, enum close_why why)
{
	unsigned	i;
	int		was_ready;

	switch (cl->cl_state) {
	case CL_CONNECTING:
	case CL_WELCOME:
	case CL_NICK:
		bench.pending--;
		if (why == CW_REFUSED)
			bench.res.r_refused++;
		else if (why != CW_END)
			bench.res.r_failed++;
		break;
	case CL_READY:
		bench.live--;
		if (why != CW_END)
			bench.res.r_dropped++;
		break;
	default:
		break;
	}
	if (cl->cl_fd != -1) {
		(void)ev_del(bench.ev, cl->cl_fd);
		close(cl->cl_fd);
		cl->cl_fd = -1;
	}
	buf_free(&cl->cl_out);
	free(cl->cl_part);
	cl->cl_part = NULL;
	cl->cl_partlen = 0;
	was_ready = cl->cl_state == CL_READY;
	cl->cl_state = CL_CLOSED;
	/* One receiver fewer to wait for. */
	if (was_ready && why != CW_END && bench.phase != PH_CONNECT)
		for (i = 0; i < bench.nsenders; i++)
			sender_advance(&bench.senders[i]);
}

void
client_event(struct client *cl, int events)
{
	int		error = 0;
	socklen_t	len = sizeof(error);

	if (cl->cl_fd == -1)
		return;
	if (cl->cl_state == CL_CONNECTING) {
		if (!(events & EV_WRITE))
			return;
		if (getsockopt(cl->cl_fd, SOL_SOCKET, SO_ERROR, &error,
		    &len) == -1 || error != 0) {
			if (error != 0)
				errno = error;
			client_fail(cl, NULL);
			return;
		}
		cl->cl_state = CL_WELCOME;
		if (ev_mod(bench.ev, cl->cl_fd, EV_READ, cl) == -1)
			client_fail(cl, NULL);
		else
			client_hello(cl);
		return;
	}
	if (events & EV_READ)
		client_read(cl);
	if (cl->cl_fd != -1 && (events & EV_WRITE))
		client_flush(cl);
}

/* Read what the server sent, a bounded amount per call. */
static void
client_read(struct client *cl)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < CB_READS; i++) {
		n = read(cl->cl_fd, rbuf, sizeof(rbuf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* The server closed us: a drop, or a refusal. */
			client_close(cl, CW_FAILED);
			return;
		}
		client_input(cl, rbuf, (size_t)n, now_ns());
		if (cl->cl_fd == -1 || (size_t)n < sizeof(rbuf))
			return;
	}
}

/*
 * Cut bytes into lines.  A line split across reads waits in cl_part
 * (allocated on first need); one longer than CB_LINE_MAX is skipped
 * and counted as malformed.
 */
static void
client_input(struct client *cl, const char *p, size_t n, int64_t now)
{
	const char	*nl;
	size_t		 k;

	while (n > 0 && cl->cl_fd != -1) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			if (cl->cl_skipping)
				return;
			if (cl->cl_part == NULL &&
			    (cl->cl_part = malloc(CB_LINE_MAX)) == NULL)
				err(1, NULL);
			if (cl->cl_partlen + n > CB_LINE_MAX) {
				cl->cl_skipping = 1;
				cl->cl_partlen = 0;
				bench.res.r_malformed++;
				return;
			}
			memcpy(cl->cl_part + cl->cl_partlen, p, n);
			cl->cl_partlen += n;
			return;
		}
		k = (size_t)(nl - p);
		if (cl->cl_skipping) {
			cl->cl_skipping = 0;
		} else if (cl->cl_partlen > 0) {
			if (cl->cl_partlen + k > CB_LINE_MAX) {
				bench.res.r_malformed++;
			} else {
				memcpy(cl->cl_part + cl->cl_partlen, p, k);
				client_line(cl, cl->cl_part,
				    cl->cl_partlen + k, now);
			}
			cl->cl_partlen = 0;
		} else {
			client_line(cl, p, k, now);
		}
		p += k + 1;
		n -= k + 1;
	}
}

/* Connected: a Redis client asks for RESP3 and subscribes. */
static void
client_hello(struct client *cl)
{
	if (!bench.redis)
		return;
	if (buf_append(&cl->cl_out, REDIS_HELLO, sizeof(REDIS_HELLO) - 1) ==
	    -1)
		err(1, NULL);
	client_flush(cl);
}

/*
 * One RESP3 line from Redis.  Waiting: the "subscribe" push ends with
 * an integer, the count of channels; that is the welcome (HELLO's
 * reply holds integers too, but comes before).  In the chat: a line
 * starting with a digit is a message, an integer is PUBLISH's reply.
 */
static void
redis_line(struct client *cl, const char *line, size_t len, int64_t now)
{
	struct sender	*s;
	struct msg	 m;

	if (len > 0 && line[0] == '-') {
		/* An error reply: refused if Redis is full, else failed. */
		if (cl->cl_state == CL_READY) {
			bench.res.r_malformed++;
			return;
		}
		if (len >= sizeof(REDIS_FULL) - 1 &&
		    memcmp(line, REDIS_FULL, sizeof(REDIS_FULL) - 1) == 0) {
			client_close(cl, CW_REFUSED);
			return;
		}
		warnx("client %u: %.*s", cl->cl_id, (int)len, line);
		client_close(cl, CW_FAILED);
		return;
	}
	switch (cl->cl_state) {
	case CL_WELCOME:
		/* HELLO 3 is answered with a map; anything else is not Redis. */
		if (!cl->cl_heard++ && (len == 0 || line[0] != '%'))
			errx(1, "%s %s: not a Redis server speaking RESP3 "
			    "(it said \"%.*s\")", bench.host, bench.port,
			    (int)(len > 60 ? 60 : len), line);
		if (len == 9 && memcmp(line, "subscribe", 9) == 0)
			cl->cl_welcomed = 1;
		else if (cl->cl_welcomed && len > 0 && line[0] == ':')
			client_welcomed(cl, now);
		break;
	case CL_READY:
		if (len > 0 && line[0] >= '0' && line[0] <= '9') {
			if ((size_t)len != bench.bytes ||
			    msg_parse(line, len, &m) == -1) {
				bench.res.r_malformed++;
				return;
			}
			/* Redis sends a sender its own messages too. */
			if ((int64_t)m.m_sender == cl->cl_sender)
				return;
			client_delivery(cl, m.m_sender, line, now);
		} else if (len > 0 && line[0] == ':' && cl->cl_sender >= 0) {
			s = &bench.senders[cl->cl_sender];
			if (s->s_acked < s->s_sent)
				s->s_acked++;
			else
				bench.res.r_malformed++;
		}
		break;
	default:
		break;
	}
}

/* One line from the server, by what the client is waiting for. */
static void
client_line(struct client *cl, const char *line, size_t len, int64_t now)
{
	const char	*arg, *p;
	uint64_t	 v;
	size_t		 alen;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (bench.redis) {
		redis_line(cl, line, len, now);
		return;
	}
	switch (cl->cl_state) {
	case CL_WELCOME:
		if (pat_match(&pat_full, line, len, NULL, NULL) ||
		    pat_match(&pat_per_addr, line, len, NULL, NULL))
			client_close(cl, CW_REFUSED);
		else if (!cl->cl_welcomed &&
		    pat_match(&pat_welcome1, line, len, NULL, NULL))
			cl->cl_welcomed = 1;
		else if (cl->cl_welcomed &&
		    pat_match(&pat_welcome2, line, len, NULL, NULL))
			client_welcomed(cl, now);
		break;
	case CL_NICK:
		if (pat_match(&pat_nick_ok, line, len, NULL, NULL))
			client_ready(cl, now);
		else if (pat_match(&pat_nick_used, line, len, NULL, NULL) ||
		    pat_match(&pat_nick_bad, line, len, NULL, NULL))
			errx(1, "nickname b%d: %.*s (another chatbench on "
			    "this server?)", cl->cl_sender, (int)len, line);
		break;
	case CL_READY:
		if (len > 0 && line[0] == 'b')
			client_said(cl, line, len, now);
		else if (len > 0 && (line[0] == '"' || line[0] == 'o'))
			client_ack(cl, line, len);
		else if (pat_match(&pat_lost, line, len, &arg, &alen)) {
			p = arg;
			if (num_parse(&p, arg + alen, &v) == 0)
				bench.res.r_server_lost += v;
		}
		break;
	default:
		break;
	}
}

/* Welcomed: the first ones become the senders and ask for a name. */
static void
client_welcomed(struct client *cl, int64_t now)
{
	char	cmd[sizeof("/nick \n") + PROTO_NICK_MAX];
	int	n;

	if (bench.nsenders >= bench.nsenders_asked) {
		client_ready(cl, now);
		return;
	}
	cl->cl_sender = (int)bench.nsenders;
	bench.senders[bench.nsenders++].s_cl = cl;
	/* Redis has no names: the number in each message is enough. */
	if (bench.redis) {
		client_ready(cl, now);
		return;
	}
	cl->cl_state = CL_NICK;
	n = snprintf(cmd, sizeof(cmd), "/nick b%d\n", cl->cl_sender);
	if (buf_append(&cl->cl_out, cmd, (size_t)n) == -1)
		err(1, NULL);
	client_flush(cl);
}

static void
client_ready(struct client *cl, int64_t now)
{
	cl->cl_state = CL_READY;
	bench.pending--;
	bench.live++;
	bench.res.r_connected++;
	bench.last_ready = now;
}

/*
 * "bN said: N SEQ TIME xxx...": check it against what sender N sent and
 * what this receiver saw of N before.  Lines from nicknames that are
 * not ours are someone else's business.
 */
static void
client_said(struct client *cl, const char *line, size_t len, int64_t now)
{
	const char	*p = line + 1, *end = line + len;
	uint64_t	 who;

	if (num_parse(&p, end, &who) == -1 ||
	    (size_t)(end - p) < said_seplen ||
	    memcmp(p, said_sep, said_seplen) != 0 ||
	    bench.pairs == NULL || who >= bench.nsenders)
		return;
	p += said_seplen;
	if ((size_t)(end - p) != bench.bytes) {
		bench.res.r_malformed++;
		return;
	}
	client_delivery(cl, who, p, now);
}

/*
 * The text of message from sender who (bench.bytes long) reached cl:
 * count it, time it, and check it against what the sender sent and
 * what cl saw of the sender before.
 */
static void
client_delivery(struct client *cl, uint64_t who, const char *p, int64_t now)
{
	uint64_t	 seq;
	int64_t		 t;
	struct sender	*s;
	struct pair	*pr;
	struct msg	 m;

	if (bench.pairs == NULL)
		return;
	if (msg_parse(p, bench.bytes, &m) == -1 || m.m_sender != who ||
	    who >= bench.nsenders ||
	    (bench.whisper && whisper_target((unsigned)who) != cl)) {
		bench.res.r_malformed++;
		return;
	}
	seq = m.m_seq;
	t = (int64_t)m.m_time;
	s = &bench.senders[who];
	if (cl->cl_sender == (int)who) {
		/* Our own message came back to us. */
		bench.res.r_duplicated++;
		return;
	}
	if (seq >= s->s_sent) {
		/* Never sent: a forged or corrupted line. */
		bench.res.r_malformed++;
		return;
	}
	pr = &bench.pairs[(size_t)cl->cl_id * bench.nsenders + who];
	switch (pair_receive(pr, (uint32_t)seq)) {
	case PAIR_DUPLICATE:
		bench.res.r_duplicated++;
		return;
	case PAIR_REORDERED:
		bench.res.r_reordered++;
		break;
	case PAIR_NEW:
		break;
	}
	bench.res.r_total_deliveries++;
	if (now >= bench.t0 && now < bench.t1)
		bench.res.r_deliveries++;
	if (t >= bench.t0 && t < bench.t1 && now >= t)
		hist_add(bench.hist, (uint64_t)(now - t));
	if (seq >= s->s_done && seq - s->s_done < CB_RING) {
		s->s_cnt[seq % CB_RING]++;
		sender_advance(s);
	}
}

/* "\"N SEQ ...\" received by the server": one more in the hub. */
static void
client_ack(struct client *cl, const char *line, size_t len)
{
	const char	*arg;
	size_t		 alen;
	struct sender	*s;
	struct msg	 m;

	if (cl->cl_sender < 0)
		return;
	s = &bench.senders[cl->cl_sender];
	/* A whisper's reply names its receiver, not the message. */
	if (bench.whisper) {
		if (!pat_match(&pat_msg_ok, line, len, &arg, &alen))
			return;
		if (s->s_acked < s->s_sent)
			s->s_acked++;
		else
			bench.res.r_malformed++;
		return;
	}
	if (!pat_match(&pat_ack, line, len, &arg, &alen))
		return;
	if (msg_parse(arg, alen, &m) == -1 ||
	    m.m_sender != (uint64_t)cl->cl_sender ||
	    m.m_seq != s->s_acked || m.m_seq >= s->s_sent) {
		/* Acknowledgments come in the order the lines were sent. */
		bench.res.r_malformed++;
		return;
	}
	s->s_acked++;
}

/* Queue one message (n bytes, its LF included) in the protocol's frame. */
void
client_send_msg(struct client *cl, const char *line, size_t n)
{
	char	hdr[64];
	int	k;

	/* The queue holds CB_ACKWIN messages: this cannot fail. */
	if (!bench.redis) {
		if (buf_append(&cl->cl_out, line, n) == -1)
			err(1, "send queue");
		return;
	}
	k = snprintf(hdr, sizeof(hdr), "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s"
	    "\r\n$%zu\r\n", sizeof(REDIS_CHANNEL) - 1, REDIS_CHANNEL, n - 1);
	if (buf_append(&cl->cl_out, hdr, (size_t)k) == -1 ||
	    buf_append(&cl->cl_out, line, n - 1) == -1 ||
	    buf_append(&cl->cl_out, "\r\n", 2) == -1)
		err(1, "send queue");
}

/* Write what the socket takes; watch for writability if any is left. */
void
client_flush(struct client *cl)
{
	ssize_t	n;
	int	want;

	while (cl->cl_out.b_len > 0) {
		n = write(cl->cl_fd, buf_head(&cl->cl_out), cl->cl_out.b_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1) {
			client_close(cl, CW_FAILED);
			return;
		}
		buf_consume(&cl->cl_out, (size_t)n);
	}
	want = cl->cl_out.b_len > 0;
	if (want != cl->cl_wantw) {
		if (ev_mod(bench.ev, cl->cl_fd, EV_READ | (want ? EV_WRITE : 0),
		    cl) == -1)
			err(1, "ev_mod");
		cl->cl_wantw = want;
	}
}
