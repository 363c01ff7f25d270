/*
 * chatbench.h -- the load generator's private structs and prototypes.
 */
#ifndef CHATBENCH_H
#define CHATBENCH_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#ifndef VERSION
#define VERSION		"0.1"
#endif

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
	unsigned	 r_refused;	/* "error: server full" */
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
};

void		report_table(FILE *, const struct result *);
void		report_json(FILE *, const struct result *);

#endif
