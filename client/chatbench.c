/*
 * chatbench.c -- the load generator behind the classroom comparison:
 * many chat clients in one process, on non-blocking sockets and one
 * event loop.  Some of them send numbered, timestamped messages; every
 * one of them checks every line it receives.
 *
 * A run has four phases.  Connect: open the clients in batches, wait
 * for each welcome, and name the senders b0, b1, ... so that receivers
 * can tell them apart.  Send: a warm-up, then the measured window.
 * Drain: no more sending; wait until every expected delivery arrived
 * or a deadline passed.  Report: a table, or one JSON object.
 *
 * A message is "SENDER SEQ TIME" padded with x to -l bytes, TIME being
 * CLOCK_MONOTONIC in nanoseconds when it was written, so a receiver in
 * the same process measures the latency without any clock skew.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "net.h"
#include "proto.h"
#include "util.h"
#include "chatbench.h"

#define NS			1000000000LL

/* Defaults, as in the man page. */
#define CB_CLIENTS		100
#define CB_SENDERS		10
#define CB_BYTES		64
#define CB_DURATION		5
#define CB_WARMUP		1

#define CB_CLIENTS_MAX		100000
#define CB_SENDERS_MAX		10000
/* (receiver, sender) pairs tracked: 24 bytes each, 400 MB at most. */
#define CB_PAIRS_MAX		(16UL * 1024 * 1024)
/* The longest header, "9999 4294967295 " and 19 digits, fits. */
#define CB_BYTES_MIN		40
#define CB_SECONDS_MAX		3600

/*
 * Flow control.  A sender keeps at most CB_ACKWIN messages
 * unacknowledged.  Acknowledgment only means the message is in the
 * hub, so a server can accept far faster than it delivers; a sender
 * therefore also keeps at most dlvwin messages that some client has not
 * yet received.  dlvwin is chosen so that all senders together keep
 * at most CB_INFLIGHT_BYTES queued for any one client (a quarter of
 * chatd's 1 MiB send queue, so a correct server never drops one) and
 * CB_INFLIGHT_LINES deliveries in flight overall (so the drain is
 * short and the server's memory is not the benchmark's).
 */
#define CB_ACKWIN		8
#define CB_DLVWIN_MAX		256
#define CB_INFLIGHT_BYTES	(256 * 1024)
#define CB_INFLIGHT_LINES	(256 * 1024)
#define CB_RING			512	/* > CB_DLVWIN_MAX, a power of 2 */

#define CB_BATCH		128	/* connections being opened at once */
#define CB_EVENTS		1024
#define CB_LINE_MAX		2048	/* longer server lines are skipped */
#define CB_READ_SIZE		(256 * 1024)
#define CB_READS		4	/* per event: one client cannot hog */
#define CB_OUTQ_MAX		(CB_ACKWIN * (PROTO_LINE_MAX + 1) + 64)
#define CB_CLIENT_NS		(10 * NS)	/* connect, welcome, nick */
#define CB_STALL_NS		(10 * NS)	/* no client got ready */
#define CB_DRAIN_NS		(10 * NS)
#define CB_QUIET_NS		(2 * NS)	/* no progress before this */

enum cl_state {
	CL_IDLE,		/* not opened yet */
	CL_CONNECTING,		/* connect(2) in progress */
	CL_WELCOME,		/* waiting for the welcome */
	CL_NICK,		/* a sender waiting for its nickname */
	CL_READY,		/* in the chat: counted, checked */
	CL_CLOSED		/* refused, failed or dropped */
};

/* Why a client is closed, for the count it goes into. */
enum close_why {
	CW_END,			/* the run is over */
	CW_REFUSED,		/* "error: server full" */
	CW_FAILED		/* an error, EOF or timeout */
};

enum phase {
	PH_CONNECT,
	PH_SEND,		/* warm-up, then the measured window */
	PH_DRAIN,
	PH_DONE
};

struct client {
	int		 cl_fd;
	unsigned	 cl_id;
	enum cl_state	 cl_state;
	int		 cl_sender;	/* index into senders, or -1 */
	int		 cl_welcomed;	/* saw the first welcome line */
	int		 cl_wantw;	/* EV_WRITE is on */
	int64_t		 cl_deadline;	/* to get CL_READY */
	struct buf	 cl_out;
	char		*cl_part;	/* a line cut by read(), CB_LINE_MAX */
	size_t		 cl_partlen;
	int		 cl_skipping;	/* the cut line is too long */
};

struct sender {
	struct client	*s_cl;
	uint32_t	 s_sent;	/* also the next seq */
	uint32_t	 s_acked;
	uint32_t	 s_done;	/* every live client has all below */
	uint32_t	 s_cnt[CB_RING]; /* receivers of s_done + i */
	int64_t		 s_next;	/* -r: when the next one is due */
};

/* A fixed part of a protocol line around one conversion of proto.h. */
struct pat {
	const char	*pt_pre;
	size_t		 pt_prelen;
	const char	*pt_suf;
	size_t		 pt_suflen;
	int		 pt_conv;	/* has a conversion */
};

static struct {
	/* Options. */
	const char	*host;
	const char	*port;
	unsigned	 nclients;
	unsigned	 nsenders_asked;
	unsigned	 rate;
	size_t		 bytes;
	unsigned	 duration;
	unsigned	 warmup;
	pid_t		 pid;
	int		 json;
	unsigned	 dlvwin;

	struct sockaddr_storage	 addr;
	socklen_t	 addrlen;
	struct ev	*ev;
	struct client	*clients;
	struct sender	*senders;
	unsigned	 nsenders;	/* that got their nickname */
	struct pair	*pairs;		/* [client][sender] */

	enum phase	 phase;
	unsigned	 next_open;	/* clients[] opened so far */
	unsigned	 pending;	/* opened, not yet ready or closed */
	unsigned	 live;		/* CL_READY */
	unsigned	 scan_lo;	/* clients below are settled */
	int		 warned;	/* a client error was shown */
	int		 t0_taken;	/* the window's start was sampled */
	int64_t		 start, t_ready, t0, t1, t_drained;
	int64_t		 last_progress, last_ready, last_check;
	struct usage	 u_before, u_ready, u_t0, u_t1;
	int		 have_usage;
	struct result	 res;
	struct hist	*hist;
} b;

static struct pat	pat_welcome1, pat_welcome2, pat_ack, pat_lost,
			pat_nick_ok, pat_full, pat_nick_used, pat_nick_bad;
static const char	*said_sep;
static size_t		 said_seplen;
static char		 rbuf[CB_READ_SIZE];

static void	usage(FILE *);
static void	bad_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	args_parse(int, char *[]);
static int64_t	now_ns(void);
static void	pat_init(struct pat *, const char *);
static int	pat_match(const struct pat *, const char *, size_t,
		    const char **, size_t *);
static void	pats_init(void);
static void	fd_limit(void);
static int	first_connect(void);
static void	client_open(struct client *, int64_t);
static void	client_fail(struct client *, const char *);
static void	client_close(struct client *, enum close_why);
static void	client_event(struct client *, int);
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
static void	client_flush(struct client *);
static unsigned	sender_need(const struct sender *);
static void	sender_advance(struct sender *);
static void	sender_pump(struct sender *, int64_t);
static int	all_delivered(int64_t);
static uint64_t	count_lost(void);
static void	connect_step(int64_t);
static void	send_start(int64_t);
static void	usage_take(struct usage *);
static int	step(int64_t);
static int	wait_ms(int64_t);
static void	progress(int64_t);
static void	result_fill(void);
static void	cleanup(void);

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: chatbench [-hV] [-c clients] [-s senders] "
	    "[-r rate] [-l bytes]\n"
	    "                 [-d seconds] [-w seconds] [-P pid] [--json] "
	    "host port\n");
}

/* A one-line complaint, the usage, exit 2. */
static void
bad_usage(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	usage(stderr);
	exit(2);
}

static void
args_parse(int argc, char *argv[])
{
	unsigned long	 v;
	size_t		 sz;
	int		 ch, i, j, port, sflag = 0;

	b.nclients = CB_CLIENTS;
	b.nsenders_asked = CB_SENDERS;
	b.bytes = CB_BYTES;
	b.duration = CB_DURATION;
	b.warmup = CB_WARMUP;

	/* getopt(3) knows no long options: take --json out first. */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			b.json = 1;
		else if (strncmp(argv[i], "--", 2) == 0)
			bad_usage("unknown option %s", argv[i]);
		else
			argv[j++] = argv[i];
	}
	argc = j;
	argv[argc] = NULL;

	while ((ch = getopt(argc, argv, ":c:d:hl:P:r:s:Vw:")) != -1) {
		switch (ch) {
		case 'c':
			if (parse_uint(optarg, 1, CB_CLIENTS_MAX, &v) == -1)
				bad_usage("invalid clients: %s", optarg);
			b.nclients = (unsigned)v;
			break;
		case 'd':
			if (parse_uint(optarg, 1, CB_SECONDS_MAX, &v) == -1)
				bad_usage("invalid duration: %s", optarg);
			b.duration = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'l':
			if (parse_size(optarg, CB_BYTES_MIN, PROTO_LINE_MAX,
			    &sz) == -1)
				bad_usage("invalid message length: %s "
				    "(%d to %d bytes)", optarg, CB_BYTES_MIN,
				    PROTO_LINE_MAX);
			b.bytes = sz;
			break;
		case 'P':
			if (parse_uint(optarg, 1, INT_MAX, &v) == -1)
				bad_usage("invalid pid: %s", optarg);
			b.pid = (pid_t)v;
			break;
		case 'r':
			if (parse_uint(optarg, 0, 1000000, &v) == -1)
				bad_usage("invalid rate: %s", optarg);
			b.rate = (unsigned)v;
			break;
		case 's':
			if (parse_uint(optarg, 1, CB_SENDERS_MAX, &v) == -1)
				bad_usage("invalid senders: %s", optarg);
			b.nsenders_asked = (unsigned)v;
			sflag = 1;
			break;
		case 'V':
			printf("chatbench %s\n", VERSION);
			exit(0);
		case 'w':
			if (parse_uint(optarg, 0, CB_SECONDS_MAX, &v) == -1)
				bad_usage("invalid warm-up: %s", optarg);
			b.warmup = (unsigned)v;
			break;
		case ':':
			bad_usage("option -%c needs an argument", optopt);
		default:
			bad_usage("unknown option -%c", optopt);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		bad_usage("missing host or port");
	if (argc > 2)
		bad_usage("too many arguments");
	if (parse_port(argv[1], &port) == -1 || port == 0)
		bad_usage("invalid port: %s", argv[1]);
	/* The default number of senders, but not -s, fits in -c. */
	if (!sflag && b.nsenders_asked > b.nclients)
		b.nsenders_asked = b.nclients;
	if (b.nsenders_asked > b.nclients)
		bad_usage("more senders (%u) than clients (%u)",
		    b.nsenders_asked, b.nclients);
	if ((unsigned long)b.nclients * b.nsenders_asked > CB_PAIRS_MAX)
		bad_usage("too many clients times senders to track "
		    "(at most %lu)", CB_PAIRS_MAX);
	b.host = argv[0];
	b.port = argv[1];

	v = CB_INFLIGHT_BYTES / (b.nsenders_asked * (b.bytes + 32));
	if (v > CB_INFLIGHT_LINES / ((unsigned long)b.nsenders_asked *
	    b.nclients))
		v = CB_INFLIGHT_LINES / ((unsigned long)b.nsenders_asked *
		    b.nclients);
	if (v > CB_DLVWIN_MAX)
		v = CB_DLVWIN_MAX;
	if (v < CB_ACKWIN)
		v = CB_ACKWIN;
	b.dlvwin = (unsigned)v;
}

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

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

static void
pats_init(void)
{
	const char	*p;

	pat_init(&pat_welcome1, PROTO_WELCOME);
	pat_init(&pat_welcome2, strchr(PROTO_WELCOME, '\n') + 1);
	pat_init(&pat_ack, PROTO_ACK);
	pat_init(&pat_lost, PROTO_LOST);
	pat_init(&pat_nick_ok, PROTO_NICK_OK);
	pat_init(&pat_full, PROTO_FULL);
	pat_init(&pat_nick_used, PROTO_NICK_IN_USE);
	pat_init(&pat_nick_bad, PROTO_NICK_INVALID);
	/* "%s said: %s": what lies between the two conversions. */
	said_sep = &PROTO_SAID[2];
	p = strchr(said_sep, '%');
	said_seplen = (size_t)(p - said_sep);
}

/* Raise the soft descriptor limit to the hard one; check it is enough. */
static void
fd_limit(void)
{
	struct rlimit	rl;
	rlim_t		need = (rlim_t)b.nclients + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		/* Linux refuses infinity here; ask for what we need. */
		if (rl.rlim_cur == RLIM_INFINITY)
			rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			warn("setrlimit RLIMIT_NOFILE");
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(1, "getrlimit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		errx(1, "%u clients need %llu descriptors, the limit is %llu "
		    "(raise ulimit -n)", b.nclients, (unsigned long long)need,
		    (unsigned long long)rl.rlim_cur);
}

/*
 * Find the server the way chatc does, trying every address of host,
 * and keep the one that answered for all the other clients.  This one
 * connection blocks; failing it is the user's error, exit 1.
 */
static int
first_connect(void)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, saved = 0, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(b.host, b.port, &hints, &res)) != 0)
		errx(1, "%s %s: %s", b.host, b.port, gai == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(b.addr))
			continue;
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			memcpy(&b.addr, ai->ai_addr, ai->ai_addrlen);
			b.addrlen = ai->ai_addrlen;
			break;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = saved;
		err(1, "%s %s", b.host, b.port);
	}
	if (net_set_nonblock(fd) == -1 || net_set_cloexec(fd) == -1)
		err(1, "%s %s", b.host, b.port);
	return fd;
}

/* Start connecting one client; its welcome is awaited in the loop. */
static void
client_open(struct client *cl, int64_t now)
{
	int	fd, mask = EV_READ, one = 1;

	buf_init(&cl->cl_out, CB_OUTQ_MAX);
	cl->cl_sender = -1;
	cl->cl_deadline = now + CB_CLIENT_NS;
	cl->cl_state = CL_WELCOME;
	b.pending++;
	if (cl->cl_id == 0)
		fd = first_connect();
	else if ((fd = socket(b.addr.ss_family, SOCK_STREAM, 0)) == -1)
		goto fail;
	cl->cl_fd = fd;
	if (net_set_nonblock(fd) == -1 || net_set_cloexec(fd) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		goto fail;
	if (cl->cl_id != 0 &&
	    connect(fd, (struct sockaddr *)&b.addr, b.addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		cl->cl_state = CL_CONNECTING;
		mask = EV_WRITE;
	}
	if (ev_add(b.ev, fd, mask, cl) == -1)
		goto fail;
	return;
fail:
	client_fail(cl, NULL);
}

/* A client could not get in: say why once; the report counts them. */
static void
client_fail(struct client *cl, const char *why)
{
	if (!b.warned++) {
		if (why != NULL)
			warnx("client %u: %s", cl->cl_id, why);
		else
			warn("client %u: %s %s", cl->cl_id, b.host, b.port);
	}
	client_close(cl, CW_FAILED);
}

/* The one teardown of a client, whatever the reason. */
static void
client_close(struct client *cl, enum close_why why)
{
	unsigned	i;
	int		was_ready;

	switch (cl->cl_state) {
	case CL_CONNECTING:
	case CL_WELCOME:
	case CL_NICK:
		b.pending--;
		if (why == CW_REFUSED)
			b.res.r_refused++;
		else if (why != CW_END)
			b.res.r_failed++;
		break;
	case CL_READY:
		b.live--;
		if (why != CW_END)
			b.res.r_dropped++;
		break;
	default:
		break;
	}
	if (cl->cl_fd != -1) {
		(void)ev_del(b.ev, cl->cl_fd);
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
	if (was_ready && why != CW_END && b.phase != PH_CONNECT)
		for (i = 0; i < b.nsenders; i++)
			sender_advance(&b.senders[i]);
}

static void
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
		if (ev_mod(b.ev, cl->cl_fd, EV_READ, cl) == -1)
			client_fail(cl, NULL);
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
				b.res.r_malformed++;
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
				b.res.r_malformed++;
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

/* One line from the server, by what the client is waiting for. */
static void
client_line(struct client *cl, const char *line, size_t len, int64_t now)
{
	const char	*arg, *p;
	uint64_t	 v;
	size_t		 alen;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	switch (cl->cl_state) {
	case CL_WELCOME:
		if (pat_match(&pat_full, line, len, NULL, NULL))
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
		else if (len > 0 && line[0] == '"')
			client_ack(cl, line, len);
		else if (pat_match(&pat_lost, line, len, &arg, &alen)) {
			p = arg;
			if (num_parse(&p, arg + alen, &v) == 0)
				b.res.r_server_lost += v;
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

	if (b.nsenders >= b.nsenders_asked) {
		client_ready(cl, now);
		return;
	}
	cl->cl_sender = (int)b.nsenders;
	b.senders[b.nsenders++].s_cl = cl;
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
	b.pending--;
	b.live++;
	b.res.r_connected++;
	b.last_ready = now;
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
	uint64_t	 who, seq;
	int64_t		 t;
	struct sender	*s;
	struct msg	 m;

	if (num_parse(&p, end, &who) == -1 ||
	    (size_t)(end - p) < said_seplen ||
	    memcmp(p, said_sep, said_seplen) != 0 ||
	    b.pairs == NULL || who >= b.nsenders)
		return;
	p += said_seplen;
	if ((size_t)(end - p) != b.bytes || msg_parse(p, b.bytes, &m) == -1 ||
	    m.m_sender != who) {
		b.res.r_malformed++;
		return;
	}
	seq = m.m_seq;
	t = (int64_t)m.m_time;
	s = &b.senders[who];
	if (cl->cl_sender == (int)who) {
		/* Our own message came back to us. */
		b.res.r_duplicated++;
		return;
	}
	if (seq >= s->s_sent) {
		/* Never sent: a forged or corrupted line. */
		b.res.r_malformed++;
		return;
	}
	switch (pair_receive(&b.pairs[(size_t)cl->cl_id * b.nsenders + who],
	    (uint32_t)seq)) {
	case PAIR_DUPLICATE:
		b.res.r_duplicated++;
		return;
	case PAIR_REORDERED:
		b.res.r_reordered++;
		break;
	case PAIR_NEW:
		break;
	}
	b.res.r_total_deliveries++;
	if (now >= b.t0 && now < b.t1)
		b.res.r_deliveries++;
	if (t >= b.t0 && t < b.t1 && now >= t)
		hist_add(b.hist, (uint64_t)(now - t));
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

	if (cl->cl_sender < 0 ||
	    !pat_match(&pat_ack, line, len, &arg, &alen))
		return;
	s = &b.senders[cl->cl_sender];
	if (msg_parse(arg, alen, &m) == -1 ||
	    m.m_sender != (uint64_t)cl->cl_sender ||
	    m.m_seq != s->s_acked || m.m_seq >= s->s_sent) {
		/* Acknowledgments come in the order the lines were sent. */
		b.res.r_malformed++;
		return;
	}
	s->s_acked++;
}

/* Write what the socket takes; watch for writability if any is left. */
static void
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
		if (ev_mod(b.ev, cl->cl_fd, EV_READ | (want ? EV_WRITE : 0),
		    cl) == -1)
			err(1, "ev_mod");
		cl->cl_wantw = want;
	}
}

/* How many clients must receive each of s's messages. */
static unsigned
sender_need(const struct sender *s)
{
	return b.live - (s->s_cl->cl_state == CL_READY ? 1 : 0);
}

/* Move s_done past the messages every live client has received. */
static void
sender_advance(struct sender *s)
{
	unsigned	need = sender_need(s);

	while (s->s_done < s->s_sent && s->s_cnt[s->s_done % CB_RING] >= need) {
		s->s_cnt[s->s_done % CB_RING] = 0;
		s->s_done++;
	}
}

/* Send what the rate and the windows allow now. */
static void
sender_pump(struct sender *s, int64_t now)
{
	struct client	*cl = s->s_cl;
	char		 line[PROTO_LINE_MAX + 2];
	size_t		 n;
	int		 queued = 0;

	if (cl->cl_state != CL_READY || now >= b.t1)
		return;
	/* With no one else to receive, no delivery moves s_done. */
	sender_advance(s);
	while (s->s_sent - s->s_acked < CB_ACKWIN &&
	    s->s_sent - s->s_done < b.dlvwin && s->s_sent < UINT32_MAX) {
		if (b.rate > 0) {
			if (s->s_next > now)
				break;
			s->s_next += NS / b.rate;
		}
		n = msg_format(line, b.bytes, (unsigned)cl->cl_sender,
		    s->s_sent, now_ns());
		/* The queue holds CB_ACKWIN messages: this cannot fail. */
		if (buf_append(&cl->cl_out, line, n) == -1)
			err(1, "send queue");
		s->s_sent++;
		queued = 1;
	}
	if (queued)
		client_flush(cl);
}

/*
 * Expected deliveries that did not arrive: for every live receiver
 * and every other sender, what that sender sent (or, if the server
 * dropped the sender, what it acknowledged) minus what arrived; plus
 * acknowledgments a live sender never got.
 */
static uint64_t
count_lost(void)
{
	const struct sender	*s;
	const struct pair	*pr;
	uint64_t		 lost = 0, want;
	unsigned		 r, i;

	for (i = 0; i < b.nsenders; i++) {
		s = &b.senders[i];
		if (s->s_cl->cl_state == CL_READY)
			lost += s->s_sent - s->s_acked;
	}
	if (b.pairs == NULL)
		return lost;
	for (r = 0; r < b.nclients; r++) {
		if (b.clients[r].cl_state != CL_READY)
			continue;
		pr = &b.pairs[(size_t)r * b.nsenders];
		for (i = 0; i < b.nsenders; i++) {
			s = &b.senders[i];
			if (s->s_cl == &b.clients[r])
				continue;
			want = s->s_cl->cl_state == CL_READY ? s->s_sent :
			    s->s_acked;
			if (want > pr[i].p_got)
				lost += want - pr[i].p_got;
		}
	}
	return lost;
}

/*
 * Has everything arrived?  The per-sender counters answer cheaply but
 * may count a receiver that was dropped since, so a yes is confirmed
 * by the exact count over every (receiver, sender) pair.
 */
static int
all_delivered(int64_t now)
{
	struct sender	*s;
	unsigned	 i;
	int		 live;

	for (i = 0; i < b.nsenders; i++) {
		s = &b.senders[i];
		sender_advance(s);
		live = s->s_cl->cl_state == CL_READY;
		if (live && s->s_acked != s->s_sent)
			return 0;
		if (s->s_done < (live ? s->s_sent : s->s_acked))
			return 0;
	}
	if (now - b.last_check < NS / 50)
		return 0;
	b.last_check = now;
	return count_lost() == 0;
}

/* Open clients in batches; time out the slow; then start sending. */
static void
connect_step(int64_t now)
{
	struct client	*cl;
	unsigned	 i;

	while (b.next_open < b.nclients && b.pending < CB_BATCH)
		client_open(&b.clients[b.next_open++], now);

	if (now - b.last_check >= NS / 10) {
		b.last_check = now;
		for (i = b.scan_lo; i < b.next_open; i++) {
			cl = &b.clients[i];
			if (cl->cl_state == CL_READY ||
			    cl->cl_state == CL_CLOSED) {
				if (i == b.scan_lo)
					b.scan_lo++;
				continue;
			}
			if (now >= cl->cl_deadline)
				client_fail(cl, "no welcome in time");
		}
		/* The server stopped letting anyone in: give up the rest. */
		if (now - b.last_ready >= CB_STALL_NS) {
			for (i = b.scan_lo; i < b.next_open; i++)
				if (b.clients[i].cl_state != CL_READY)
					client_close(&b.clients[i], CW_FAILED);
			b.res.r_failed += b.nclients - b.next_open;
			b.next_open = b.nclients;
		}
	}
	if (b.next_open == b.nclients && b.pending == 0)
		send_start(now);
}

static void
send_start(int64_t now)
{
	struct sender	*s;
	unsigned	 i;

	if (b.res.r_connected == 0)
		errx(1, "%s %s: no client got in (%u refused, %u failed)",
		    b.host, b.port, b.res.r_refused, b.res.r_failed);
	if ((b.pairs = calloc((size_t)b.nclients * (b.nsenders ? b.nsenders :
	    1), sizeof(*b.pairs))) == NULL)
		err(1, NULL);
	for (i = 0; i < b.nsenders; i++) {
		s = &b.senders[i];
		if (s->s_cl->cl_state == CL_READY)
			b.res.r_active_senders++;
		/* Spread the senders over one interval, not in lockstep. */
		if (b.rate > 0)
			s->s_next = now + (int64_t)i * (NS / b.rate) /
			    b.nsenders;
	}
	usage_take(&b.u_ready);
	b.t_ready = now;
	b.t0 = now + (int64_t)b.warmup * NS;
	b.t1 = b.t0 + (int64_t)b.duration * NS;
	b.phase = PH_SEND;
}

/* Sample the server's /proc figures, if -P asked for them. */
static void
usage_take(struct usage *u)
{
	if (!b.have_usage)
		return;
	if (usage_sample(b.pid, u) == -1) {
		warn("pid %ld", (long)b.pid);
		b.have_usage = 0;
	}
}

/* Move the run along; 0 once it is over. */
static int
step(int64_t now)
{
	unsigned	i;

	switch (b.phase) {
	case PH_CONNECT:
		connect_step(now);
		break;
	case PH_SEND:
		if (!b.t0_taken && now >= b.t0) {
			usage_take(&b.u_t0);
			b.t0_taken = 1;
		}
		/* Everyone dropped: nothing left to measure. */
		if (now >= b.t1 || b.live == 0) {
			if (now < b.t1)
				b.t1 = now;
			usage_take(&b.u_t1);
			b.phase = PH_DRAIN;
			break;
		}
		for (i = 0; i < b.nsenders; i++)
			sender_pump(&b.senders[i], now);
		break;
	case PH_DRAIN:
		if (all_delivered(now)) {
			b.res.r_drained = 1;
			b.phase = PH_DONE;
		} else if (now >= b.t1 + CB_DRAIN_NS)
			b.phase = PH_DONE;
		if (b.phase == PH_DONE) {
			b.t_drained = now;
			return 0;
		}
		break;
	case PH_DONE:
		return 0;
	}
	progress(now);
	return 1;
}

/* How long the loop may sleep: until the next thing due, 100 ms at most. */
static int
wait_ms(int64_t now)
{
	const struct sender	*s;
	int64_t			 next = now + NS / 10;
	unsigned		 i;

	switch (b.phase) {
	case PH_CONNECT:
		next = now + NS / 100;
		break;
	case PH_SEND:
		if (!b.t0_taken && b.t0 < next)
			next = b.t0;
		if (b.t1 < next)
			next = b.t1;
		for (i = 0; b.rate > 0 && i < b.nsenders; i++) {
			s = &b.senders[i];
			if (s->s_cl->cl_state == CL_READY &&
			    s->s_sent - s->s_acked < CB_ACKWIN &&
			    s->s_sent - s->s_done < b.dlvwin &&
			    s->s_next < next)
				next = s->s_next;
		}
		break;
	default:
		next = now + NS / 200;
		break;
	}
	if (next <= now)
		return 0;
	return (int)((next - now + 999999) / 1000000);
}

/* A line a second on stderr, once the run has taken a while. */
static void
progress(int64_t now)
{
	if (now - b.start < CB_QUIET_NS || now - b.last_progress < NS)
		return;
	b.last_progress = now;
	switch (b.phase) {
	case PH_CONNECT:
		fprintf(stderr, "chatbench: connecting: %u of %u in, "
		    "%u refused, %u failed\n", b.res.r_connected, b.nclients,
		    b.res.r_refused, b.res.r_failed);
		break;
	case PH_SEND:
		fprintf(stderr, "chatbench: %s: %lld of %u s, %llu "
		    "deliveries\n", now < b.t0 ? "warming up" : "measuring",
		    (long long)((now - b.t_ready) / NS), b.warmup + b.duration,
		    (unsigned long long)b.res.r_total_deliveries);
		break;
	case PH_DRAIN:
		fprintf(stderr, "chatbench: draining: %llu deliveries\n",
		    (unsigned long long)b.res.r_total_deliveries);
		break;
	default:
		break;
	}
}

static void
result_fill(void)
{
	struct result	*r = &b.res;
	unsigned	 i;
	double		 cpu;

	r->r_clients = b.nclients;
	r->r_senders = b.nsenders_asked;
	r->r_rate = b.rate;
	r->r_bytes = b.bytes;
	r->r_duration = b.duration;
	r->r_warmup = b.warmup;
	r->r_ackwin = CB_ACKWIN;
	r->r_dlvwin = b.dlvwin;
	r->r_window_s = b.t1 > b.t0 ? (double)(b.t1 - b.t0) / NS : 0;
	for (i = 0; i < b.nsenders; i++) {
		r->r_sent += b.senders[i].s_sent;
		r->r_acked += b.senders[i].s_acked;
	}
	r->r_lost = count_lost();
	r->r_drain_s = (double)(b.t_drained - b.t1) / NS;
	r->r_latency = b.hist;
	if (b.have_usage) {
		r->r_have_usage = 1;
		cpu = (double)(b.u_t1.u_cpu_us - b.u_t0.u_cpu_us);
		r->r_cpu_us_per_delivery = r->r_deliveries > 0 ?
		    cpu / (double)r->r_deliveries : 0;
		r->r_rss_kb_per_client = ((double)b.u_ready.u_rss_kb -
		    (double)b.u_before.u_rss_kb) / r->r_connected;
	}
}

static void
cleanup(void)
{
	unsigned	i;

	for (i = 0; i < b.nclients; i++)
		client_close(&b.clients[i], CW_END);
	ev_free(b.ev);
	free(b.clients);
	free(b.senders);
	free(b.pairs);
	free(b.hist);
}

int
main(int argc, char *argv[])
{
	struct ev_event	 evs[CB_EVENTS];
	int64_t		 now;
	unsigned	 i;
	int		 n;

	args_parse(argc, argv);
	pats_init();
	/* A server gone away is a write error, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	fd_limit();
	if (b.pid != 0) {
		if (usage_sample(b.pid, &b.u_before) == -1)
			err(1, "pid %ld", (long)b.pid);
		b.have_usage = 1;
	}
	if ((b.clients = calloc(b.nclients, sizeof(*b.clients))) == NULL ||
	    (b.senders = calloc(b.nsenders_asked, sizeof(*b.senders))) ==
	    NULL || (b.hist = calloc(1, sizeof(*b.hist))) == NULL)
		err(1, NULL);
	for (i = 0; i < b.nclients; i++) {
		b.clients[i].cl_id = i;
		b.clients[i].cl_fd = -1;
		b.clients[i].cl_sender = -1;
	}
	if ((b.ev = ev_new((int)b.nclients + 1024)) == NULL)
		err(1, "ev_new");

	b.start = b.last_ready = now_ns();
	while (step(now = now_ns())) {
		n = ev_wait(b.ev, evs, CB_EVENTS, wait_ms(now));
		if (n == -1 && errno != EINTR)
			err(1, "ev_wait");
		for (i = 0; n > 0 && i < (unsigned)n; i++)
			client_event(evs[i].udata, evs[i].events);
	}

	result_fill();
	if (b.json)
		report_json(stdout, &b.res);
	else
		report_table(stdout, &b.res);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	cleanup();
	return b.res.r_lost || b.res.r_duplicated || b.res.r_reordered ||
	    b.res.r_malformed ? 1 : 0;
}
