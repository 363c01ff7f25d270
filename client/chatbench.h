/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatbench.h -- the load generator's private structs and prototypes.
 */
#ifndef CHATBENCH_H
#define CHATBENCH_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>

#include "buf.h"

#include "version.h"

/* stats.c */

/*
 * A message's text: "SENDER SEQ TIME", then " xxx..." up to the message
 * length; TIME is CLOCK_MONOTONIC in nanoseconds when it was written.
 */
struct msg {
	uint64_t	m_sender;
	uint64_t	m_seq;
	uint64_t	m_time;
};

/* Write one into line (bytes + 2 long) with its LF; return its length. */
size_t		msg_format(char *line, size_t bytes, unsigned sender,
		    uint32_t seq, int64_t t);
/* Read the header of a message's text; -1 if it is not one. */
int		msg_parse(const char *, size_t, struct msg *);
/* A decimal number of at most 20 digits at *pp, which moves past it. */
int		num_parse(const char **pp, const char *end, uint64_t *);

/* What one receiver has seen of one sender. */
struct pair {
	uint32_t	p_lo;		/* every seq below has arrived */
	uint32_t	p_hi;		/* the highest seq seen, plus one */
	uint32_t	p_got;		/* distinct seqs seen */
	uint64_t	p_win;		/* bit i: seq p_lo + i has arrived */
};

enum pair_verdict {
	PAIR_NEW,
	PAIR_REORDERED,		/* new, but after a higher seq */
	PAIR_DUPLICATE
};

enum pair_verdict	pair_receive(struct pair *, uint32_t seq);

/*
 * A log-bucketed histogram of nanosecond values.  Values below
 * HIST_EXACT are counted exactly; above, each power of two is cut into
 * HIST_SUB buckets, so a percentile is off by less than 1/HIST_SUB
 * (0.8%) of its value.  The maximum is kept exactly.
 */
#define HIST_EXACT	256
#define HIST_SUB	128
#define HIST_BINS	(HIST_EXACT + 56 * HIST_SUB)

struct hist {
	uint64_t	h_bins[HIST_BINS];
	uint64_t	h_count;
	uint64_t	h_max;
};

void		hist_add(struct hist *, uint64_t);
/* The value at quantile q (0..1): the middle of its bucket; 0 if empty. */
uint64_t	hist_quantile(const struct hist *, double);

/* What /proc says about the server under test and its children. */
struct usage {
	uint64_t	u_cpu_us;	/* utime + stime, children included */
	uint64_t	u_rss_kb;	/* VmRSS summed */
	int		u_nproc;	/* processes found */
};

/* -1 with errno if pid is not there; children that vanish are skipped. */
int		usage_sample(pid_t, struct usage *);

/* Everything a run measured, for the report. */
struct result {
	/* The run as asked. */
	unsigned	 r_clients;
	unsigned	 r_senders;
	unsigned	 r_rate;
	size_t		 r_bytes;
	unsigned	 r_duration;
	unsigned	 r_warmup;
	unsigned	 r_ackwin;
	unsigned	 r_dlvwin;
	/* Clients. */
	unsigned	 r_connected;	/* welcomed */
	unsigned	 r_refused;	/* server full, or the address */
	unsigned	 r_failed;	/* connect errors and timeouts */
	unsigned	 r_dropped;	/* closed by the server mid-run */
	unsigned	 r_active_senders;
	/* Messages and deliveries. */
	uint64_t	 r_sent;
	uint64_t	 r_acked;
	uint64_t	 r_deliveries;	/* in the measured window */
	double		 r_window_s;	/* its length */
	uint64_t	 r_total_deliveries;
	uint64_t	 r_lost;
	uint64_t	 r_duplicated;
	uint64_t	 r_reordered;
	uint64_t	 r_malformed;
	uint64_t	 r_server_lost;	/* "*** N messages lost" */
	int		 r_drained;	/* everything arrived in time */
	double		 r_drain_s;
	struct hist	*r_latency;
	/* -P */
	int		 r_have_usage;
	double		 r_cpu_us_per_delivery;
	double		 r_rss_kb_per_client;
	/* chatbench's own CPU time over the window, per cent of one CPU. */
	double		 r_self_cpu_pct;
};

/* Above this share of a CPU, chatbench may be what limits the rate. */
#define BENCH_BUSY_PCT	90.0

void		report_table(FILE *, const struct result *);
void		report_json(FILE *, const struct result *);

/* chatbench.c */

#define NS			1000000000LL

/*
 * Flow control.  A sender keeps at most CB_ACKWIN messages
 * unacknowledged: enough that a server that batches its work finds
 * plenty to batch each round (with 8, 100 clients and 10 senders,
 * chatd -w 1 went no faster than the round trips allowed, 0.7 times
 * what it does with 64; 128 and 256 were no faster).  Acknowledgment
 * only means the message is in the hub, so a server can accept far
 * faster than it delivers; a sender therefore also keeps at most
 * dlvwin messages that some client has not yet received.  dlvwin is
 * chosen so that all senders together keep at most CB_INFLIGHT_BYTES
 * queued for any one client (a quarter of chatd's 1 MiB send queue, so
 * a correct server never drops one) and CB_INFLIGHT_LINES deliveries
 * in flight overall (so the drain is short and the server's memory is
 * not the benchmark's), but never fewer than CB_DLVWIN_MIN.
 */
#define CB_ACKWIN		64
#define CB_WHISPER_PREFIX	12	/* "/msg b9999 " and its NUL */
#define CB_DLVWIN_MIN		8
#define CB_DLVWIN_MAX		256
#define CB_INFLIGHT_BYTES	(256 * 1024)
#define CB_INFLIGHT_LINES	(256 * 1024)
#define CB_RING			512	/* > CB_DLVWIN_MAX, a power of 2 */

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
	CW_REFUSED,		/* server full, or the address */
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
	int		 cl_heard;	/* got a line from the server */
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

/* The one run of the process: its options, clients and figures. */
struct bench {
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
	int		 redis;		/* --proto redis: pub/sub over RESP3 */
	int		 whisper;	/* --whisper: /msg the next sender */
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
	int64_t		 self_t0_us, self_t1_us;	/* our own CPU time */
	int		 have_usage;
	struct result	 res;
	struct hist	*hist;
};

extern struct bench	bench;

/* CLOCK_MONOTONIC in nanoseconds since the run began (never 0). */
int64_t		now_ns(void);
/* This process's user and system CPU time in microseconds. */
int64_t		self_cpu_us(void);
/* Move s_done past the messages every live client has received. */
void		sender_advance(struct sender *);
/* --whisper: the client sender i whispers to. */
struct client	*whisper_target(unsigned i);

/* benchio.c */

/* Cut the protocol's lines out of proto.h; once, before any client. */
void		pats_init(void);
/* Start connecting one client; its welcome is awaited in the loop. */
void		client_open(struct client *, int64_t now);
/* A client could not get in: say why (once per run), then close it. */
void		client_fail(struct client *, const char *why);
/* The one teardown of a client, whatever the reason. */
void		client_close(struct client *, enum close_why);
/* What the event loop saw on the client's socket. */
void		client_event(struct client *, int events);
/* Write what the socket takes; watch for writability if any is left. */
void		client_flush(struct client *);
/* Queue one message of sender s, framed for the protocol. */
void		client_send_msg(struct client *, const char *line, size_t n);

#endif
