/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
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
 *
 * This file holds the options, the phases, the senders' flow control
 * and the event loop; benchio.c the clients' sockets and the lines
 * they receive; stats.c the checks, the figures and the report.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
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
#include "longopt.h"
#include "proto.h"
#include "util.h"
#include "chatbench.h"

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

#define CB_BATCH		128	/* connections being opened at once */
#define CB_EVENTS		1024
#define CB_STALL_NS		(10 * NS)	/* no client got ready */
#define CB_DRAIN_NS		(10 * NS)
#define CB_QUIET_NS		(2 * NS)	/* no progress before this */

struct bench	bench;

static void	usage(FILE *);
static void	bad_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	args_parse(int, char *[]);
static void	fd_limit(void);
static unsigned	sender_need(const struct sender *);
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
	    "                 [-d seconds] [-w seconds] [-P pid] [--json]\n"
	    "                 [--proto chat|redis] [--whisper] host port\n");
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
	const char	*p;
	int		 ch, i, j, port, sflag = 0;

	bench.nclients = CB_CLIENTS;
	bench.nsenders_asked = CB_SENDERS;
	bench.bytes = CB_BYTES;
	bench.duration = CB_DURATION;
	bench.warmup = CB_WARMUP;

	switch (longopt_find(argc, argv)) {
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		printf("chatbench %s\n", VERSION);
		exit(0);
	}
	/* getopt(3) knows no long options: take --json out first. */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			bench.json = 1;
		else if (strcmp(argv[i], "--whisper") == 0)
			bench.whisper = 1;
		else if (strcmp(argv[i], "--proto") == 0 ||
		    strncmp(argv[i], "--proto=", 8) == 0) {
			if (argv[i][7] == '=')
				p = argv[i] + 8;
			else if ((p = argv[++i]) == NULL)
				bad_usage("option --proto needs an argument");
			if (strcmp(p, "redis") == 0)
				bench.redis = 1;
			else if (strcmp(p, "chat") == 0)
				bench.redis = 0;
			else
				bad_usage("unknown protocol: %s (chat or redis)",
				    p);
		} else if (strncmp(argv[i], "--", 2) == 0)
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
			bench.nclients = (unsigned)v;
			break;
		case 'd':
			if (parse_uint(optarg, 1, CB_SECONDS_MAX, &v) == -1)
				bad_usage("invalid duration: %s", optarg);
			bench.duration = (unsigned)v;
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
			bench.bytes = sz;
			break;
		case 'P':
			if (parse_uint(optarg, 1, INT_MAX, &v) == -1)
				bad_usage("invalid pid: %s", optarg);
			bench.pid = (pid_t)v;
			break;
		case 'r':
			if (parse_uint(optarg, 0, 1000000, &v) == -1)
				bad_usage("invalid rate: %s", optarg);
			bench.rate = (unsigned)v;
			break;
		case 's':
			if (parse_uint(optarg, 1, CB_SENDERS_MAX, &v) == -1)
				bad_usage("invalid senders: %s", optarg);
			bench.nsenders_asked = (unsigned)v;
			sflag = 1;
			break;
		case 'V':
			printf("chatbench %s\n", VERSION);
			exit(0);
		case 'w':
			if (parse_uint(optarg, 0, CB_SECONDS_MAX, &v) == -1)
				bad_usage("invalid warm-up: %s", optarg);
			bench.warmup = (unsigned)v;
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
	if (!sflag && bench.nsenders_asked > bench.nclients)
		bench.nsenders_asked = bench.nclients;
	if (bench.nsenders_asked > bench.nclients)
		bad_usage("more senders (%u) than clients (%u)",
		    bench.nsenders_asked, bench.nclients);
	if ((unsigned long)bench.nclients * bench.nsenders_asked > CB_PAIRS_MAX)
		bad_usage("too many clients times senders to track "
		    "(at most %lu)", CB_PAIRS_MAX);
	if (bench.whisper && bench.redis)
		bad_usage("--whisper is for the chat protocol only");
	if (bench.whisper && bench.nsenders_asked < 2)
		bad_usage("--whisper needs at least 2 senders");
	/* "/msg bN " before the text, within the server's line limit. */
	if (bench.whisper && bench.bytes > PROTO_LINE_MAX - CB_WHISPER_PREFIX)
		bad_usage("invalid message length: %zu (at most %d with "
		    "--whisper)", bench.bytes,
		    PROTO_LINE_MAX - CB_WHISPER_PREFIX);
	bench.host = argv[0];
	bench.port = argv[1];

	/* A whisper has one receiver: only its sender's messages queue. */
	if (bench.whisper) {
		v = CB_INFLIGHT_BYTES / (bench.bytes + 32);
		if (v > CB_INFLIGHT_LINES / bench.nsenders_asked)
			v = CB_INFLIGHT_LINES / bench.nsenders_asked;
		bench.dlvwin = v > CB_DLVWIN_MAX ? CB_DLVWIN_MAX :
		    v < CB_DLVWIN_MIN ? CB_DLVWIN_MIN : (unsigned)v;
		return;
	}

	v = CB_INFLIGHT_BYTES / (bench.nsenders_asked * (bench.bytes + 32));
	if (v > CB_INFLIGHT_LINES / ((unsigned long)bench.nsenders_asked *
	    bench.nclients))
		v = CB_INFLIGHT_LINES / ((unsigned long)bench.nsenders_asked *
		    bench.nclients);
	if (v > CB_DLVWIN_MAX)
		v = CB_DLVWIN_MAX;
	if (v < CB_DLVWIN_MIN)
		v = CB_DLVWIN_MIN;
	bench.dlvwin = (unsigned)v;
}

/*
 * CLOCK_MONOTONIC in nanoseconds since one second before the first
 * call: every message carries a time, and every delivery parses it, so
 * 10 digits rather than the 16 or more of the clock's own epoch save
 * work on the path that must outrun the server.  Never 0.
 */
int64_t
now_ns(void)
{
	static int64_t	base;
	struct timespec	ts;
	int64_t		t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
	if (base == 0)
		base = t - NS;
	return t - base;
}

/*
 * The load generator measures itself: above about 90 % of a CPU in the
 * window it may be what limits the rate, and the report says so.
 */
int64_t
self_cpu_us(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		err(1, "getrusage");
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* Raise the soft descriptor limit to the hard one; check it is enough. */
static void
fd_limit(void)
{
	struct rlimit	rl;
	rlim_t		need = (rlim_t)bench.nclients + 64;

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
		    "(raise ulimit -n)", bench.nclients,
		    (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

/* --whisper: sender i whispers to the next one, the last to the first. */
struct client *
whisper_target(unsigned i)
{
	return bench.senders[(i + 1) % bench.nsenders].s_cl;
}

/* How many clients must receive each of s's messages. */
static unsigned
sender_need(const struct sender *s)
{
	if (bench.whisper)
		return whisper_target((unsigned)s->s_cl->cl_sender)->cl_state ==
		    CL_READY ? 1 : 0;
	return bench.live - (s->s_cl->cl_state == CL_READY ? 1 : 0);
}

/* Move s_done past the messages every live client has received. */
void
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
	size_t		 n, pre = 0;
	int		 queued = 0;

	if (cl->cl_state != CL_READY || now >= bench.t1)
		return;
	/* With no one else to receive, no delivery moves s_done. */
	sender_advance(s);
	while (s->s_sent - s->s_acked < CB_ACKWIN &&
	    s->s_sent - s->s_done < bench.dlvwin && s->s_sent < UINT32_MAX) {
		if (bench.rate > 0) {
			if (s->s_next > now)
				break;
			s->s_next += NS / bench.rate;
		}
		if (bench.whisper)
			pre = (size_t)snprintf(line, CB_WHISPER_PREFIX + 1,
			    "/msg b%u ", (unsigned)whisper_target(
			    (unsigned)cl->cl_sender)->cl_sender);
		n = msg_format(line + pre, bench.bytes,
		    (unsigned)cl->cl_sender, s->s_sent, now_ns());
		client_send_msg(cl, line, pre + n);
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

	for (i = 0; i < bench.nsenders; i++) {
		s = &bench.senders[i];
		if (s->s_cl->cl_state == CL_READY)
			lost += s->s_sent - s->s_acked;
	}
	if (bench.pairs == NULL)
		return lost;
	if (bench.whisper) {
		for (i = 0; i < bench.nsenders; i++) {
			s = &bench.senders[i];
			r = whisper_target(i)->cl_id;
			if (bench.clients[r].cl_state != CL_READY)
				continue;
			pr = &bench.pairs[(size_t)r * bench.nsenders + i];
			want = s->s_cl->cl_state == CL_READY ? s->s_sent :
			    s->s_acked;
			if (want > pr->p_got)
				lost += want - pr->p_got;
		}
		return lost;
	}
	for (r = 0; r < bench.nclients; r++) {
		if (bench.clients[r].cl_state != CL_READY)
			continue;
		pr = &bench.pairs[(size_t)r * bench.nsenders];
		for (i = 0; i < bench.nsenders; i++) {
			s = &bench.senders[i];
			if (s->s_cl == &bench.clients[r])
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

	for (i = 0; i < bench.nsenders; i++) {
		s = &bench.senders[i];
		sender_advance(s);
		live = s->s_cl->cl_state == CL_READY;
		if (live && s->s_acked != s->s_sent)
			return 0;
		if (s->s_done < (live ? s->s_sent : s->s_acked))
			return 0;
	}
	if (now - bench.last_check < NS / 50)
		return 0;
	bench.last_check = now;
	return count_lost() == 0;
}

/* Open clients in batches; time out the slow; then start sending. */
static void
connect_step(int64_t now)
{
	struct client	*cl;
	unsigned	 i;

	while (bench.next_open < bench.nclients && bench.pending < CB_BATCH)
		client_open(&bench.clients[bench.next_open++], now);

	if (now - bench.last_check >= NS / 10) {
		bench.last_check = now;
		for (i = bench.scan_lo; i < bench.next_open; i++) {
			cl = &bench.clients[i];
			if (cl->cl_state == CL_READY ||
			    cl->cl_state == CL_CLOSED) {
				if (i == bench.scan_lo)
					bench.scan_lo++;
				continue;
			}
			if (now >= cl->cl_deadline)
				client_fail(cl, "no welcome in time");
		}
		/* The server stopped letting anyone in: give up the rest. */
		if (now - bench.last_ready >= CB_STALL_NS) {
			for (i = bench.scan_lo; i < bench.next_open; i++) {
				cl = &bench.clients[i];
				if (cl->cl_state != CL_READY)
					client_close(cl, CW_FAILED);
			}
			bench.res.r_failed += bench.nclients - bench.next_open;
			bench.next_open = bench.nclients;
		}
	}
	if (bench.next_open == bench.nclients && bench.pending == 0)
		send_start(now);
}

static void
send_start(int64_t now)
{
	struct sender	*s;
	unsigned	 i;

	if (bench.res.r_connected == 0)
		errx(1, "%s %s: no client got in (%u refused, %u failed)",
		    bench.host, bench.port, bench.res.r_refused,
		    bench.res.r_failed);
	if ((bench.pairs = calloc((size_t)bench.nclients *
	    (bench.nsenders ? bench.nsenders : 1), sizeof(*bench.pairs))) ==
	    NULL)
		err(1, NULL);
	for (i = 0; i < bench.nsenders; i++) {
		s = &bench.senders[i];
		if (s->s_cl->cl_state == CL_READY)
			bench.res.r_active_senders++;
		/* Spread the senders over one interval, not in lockstep. */
		if (bench.rate > 0)
			s->s_next = now + (int64_t)i * (NS / bench.rate) /
			    bench.nsenders;
	}
	usage_take(&bench.u_ready);
	bench.t_ready = now;
	bench.t0 = now + (int64_t)bench.warmup * NS;
	bench.t1 = bench.t0 + (int64_t)bench.duration * NS;
	bench.phase = PH_SEND;
}

/* Sample the server's /proc figures, if -P asked for them. */
static void
usage_take(struct usage *u)
{
	if (!bench.have_usage)
		return;
	if (usage_sample(bench.pid, u) == -1) {
		warn("pid %ld", (long)bench.pid);
		bench.have_usage = 0;
	}
}

/* Move the run along; 0 once it is over. */
static int
step(int64_t now)
{
	unsigned	i;

	switch (bench.phase) {
	case PH_CONNECT:
		connect_step(now);
		break;
	case PH_SEND:
		if (!bench.t0_taken && now >= bench.t0) {
			usage_take(&bench.u_t0);
			bench.self_t0_us = self_cpu_us();
			bench.t0_taken = 1;
		}
		/* Everyone dropped: nothing left to measure. */
		if (now >= bench.t1 || bench.live == 0) {
			if (now < bench.t1)
				bench.t1 = now;
			usage_take(&bench.u_t1);
			bench.self_t1_us = self_cpu_us();
			bench.phase = PH_DRAIN;
			break;
		}
		for (i = 0; i < bench.nsenders; i++)
			sender_pump(&bench.senders[i], now);
		break;
	case PH_DRAIN:
		if (all_delivered(now)) {
			bench.res.r_drained = 1;
			bench.phase = PH_DONE;
		} else if (now >= bench.t1 + CB_DRAIN_NS)
			bench.phase = PH_DONE;
		if (bench.phase == PH_DONE) {
			bench.t_drained = now;
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

	switch (bench.phase) {
	case PH_CONNECT:
		next = now + NS / 100;
		break;
	case PH_SEND:
		if (!bench.t0_taken && bench.t0 < next)
			next = bench.t0;
		if (bench.t1 < next)
			next = bench.t1;
		for (i = 0; bench.rate > 0 && i < bench.nsenders; i++) {
			s = &bench.senders[i];
			if (s->s_cl->cl_state == CL_READY &&
			    s->s_sent - s->s_acked < CB_ACKWIN &&
			    s->s_sent - s->s_done < bench.dlvwin &&
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
	if (now - bench.start < CB_QUIET_NS || now - bench.last_progress < NS)
		return;
	bench.last_progress = now;
	switch (bench.phase) {
	case PH_CONNECT:
		fprintf(stderr, "chatbench: connecting: %u of %u in, "
		    "%u refused, %u failed\n", bench.res.r_connected,
		    bench.nclients, bench.res.r_refused, bench.res.r_failed);
		break;
	case PH_SEND:
		fprintf(stderr, "chatbench: %s: %lld of %u s, %llu "
		    "deliveries\n", now < bench.t0 ? "warming up" : "measuring",
		    (long long)((now - bench.t_ready) / NS),
		    bench.warmup + bench.duration,
		    (unsigned long long)bench.res.r_total_deliveries);
		break;
	case PH_DRAIN:
		fprintf(stderr, "chatbench: draining: %llu deliveries\n",
		    (unsigned long long)bench.res.r_total_deliveries);
		break;
	default:
		break;
	}
}

static void
result_fill(void)
{
	struct result	*r = &bench.res;
	unsigned	 i;
	double		 cpu;

	r->r_clients = bench.nclients;
	r->r_senders = bench.nsenders_asked;
	r->r_rate = bench.rate;
	r->r_bytes = bench.bytes;
	r->r_duration = bench.duration;
	r->r_warmup = bench.warmup;
	r->r_ackwin = CB_ACKWIN;
	r->r_dlvwin = bench.dlvwin;
	r->r_window_s = bench.t1 > bench.t0 ?
	    (double)(bench.t1 - bench.t0) / NS : 0;
	for (i = 0; i < bench.nsenders; i++) {
		r->r_sent += bench.senders[i].s_sent;
		r->r_acked += bench.senders[i].s_acked;
	}
	r->r_lost = count_lost();
	r->r_drain_s = (double)(bench.t_drained - bench.t1) / NS;
	r->r_latency = bench.hist;
	if (bench.t0_taken && r->r_window_s > 0)
		r->r_self_cpu_pct = (double)(bench.self_t1_us -
		    bench.self_t0_us) / 1e4 / r->r_window_s;
	if (bench.have_usage) {
		r->r_have_usage = 1;
		cpu = (double)(bench.u_t1.u_cpu_us - bench.u_t0.u_cpu_us);
		r->r_cpu_us_per_delivery = r->r_deliveries > 0 ?
		    cpu / (double)r->r_deliveries : 0;
		r->r_rss_kb_per_client = ((double)bench.u_ready.u_rss_kb -
		    (double)bench.u_before.u_rss_kb) / r->r_connected;
	}
}

static void
cleanup(void)
{
	unsigned	i;

	for (i = 0; i < bench.nclients; i++)
		client_close(&bench.clients[i], CW_END);
	ev_free(bench.ev);
	free(bench.clients);
	free(bench.senders);
	free(bench.pairs);
	free(bench.hist);
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
	if (bench.pid != 0) {
		if (usage_sample(bench.pid, &bench.u_before) == -1)
			err(1, "pid %ld", (long)bench.pid);
		bench.have_usage = 1;
	}
	if ((bench.clients = calloc(bench.nclients,
	    sizeof(*bench.clients))) == NULL ||
	    (bench.senders = calloc(bench.nsenders_asked,
	    sizeof(*bench.senders))) == NULL ||
	    (bench.hist = calloc(1, sizeof(*bench.hist))) == NULL)
		err(1, NULL);
	for (i = 0; i < bench.nclients; i++) {
		bench.clients[i].cl_id = i;
		bench.clients[i].cl_fd = -1;
		bench.clients[i].cl_sender = -1;
	}
	if ((bench.ev = ev_new((int)bench.nclients + 1024)) == NULL)
		err(1, "ev_new");

	bench.start = bench.last_ready = now_ns();
	while (step(now = now_ns())) {
		n = ev_wait(bench.ev, evs, CB_EVENTS, wait_ms(now));
		if (n == -1 && errno != EINTR)
			err(1, "ev_wait");
		for (i = 0; n > 0 && i < (unsigned)n; i++)
			client_event(evs[i].udata, evs[i].events);
	}

	result_fill();
	if (bench.json)
		report_json(stdout, &bench.res);
	else
		report_table(stdout, &bench.res);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	cleanup();
	return bench.res.r_lost || bench.res.r_duplicated ||
	    bench.res.r_reordered || bench.res.r_malformed ? 1 : 0;
}
