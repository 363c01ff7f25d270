/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * stats.c -- what chatbench checks and measures, and how it says it:
 * the message format, the per-(receiver, sender) sequence check, the
 * latency histogram, the server's CPU time and memory from /proc, and
 * the report as a table or as one JSON object.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatbench.h"

static unsigned	hist_log2(uint64_t);
static size_t	hist_index(uint64_t);
static uint64_t	hist_value(size_t);
static int	proc_stat(pid_t, pid_t *, uint64_t *, uint64_t *);
static uint64_t	proc_cpu_us(pid_t, uint64_t, uint64_t, long);
static int	proc_rss(pid_t, uint64_t *);
static double	us(uint64_t);

size_t
msg_format(char *line, size_t bytes, unsigned sender, uint32_t seq,
    int64_t t)
{
	size_t	n;

	n = (size_t)snprintf(line, bytes + 2, "%u %lu %lld", sender,
	    (unsigned long)seq, (long long)t);
	/*
	 * The server strips trailing blanks, so a single byte of padding
	 * cannot be " x": lengthen the seq with a leading zero instead.
	 */
	if (bytes == n + 1)
		n = (size_t)snprintf(line, bytes + 2, "%u 0%lu %lld", sender,
		    (unsigned long)seq, (long long)t);
	else if (bytes > n) {
		line[n++] = ' ';
		memset(line + n, 'x', bytes - n);
		n = bytes;
	}
	line[n++] = '\n';
	return n;
}

int
msg_parse(const char *p, size_t len, struct msg *m)
{
	const char	*end = p + len;

	if (num_parse(&p, end, &m->m_sender) == -1 ||
	    p == end || *p++ != ' ' ||
	    num_parse(&p, end, &m->m_seq) == -1 ||
	    p == end || *p++ != ' ' ||
	    num_parse(&p, end, &m->m_time) == -1 ||
	    (p != end && *p != ' ') || m->m_seq > UINT32_MAX)
		return -1;
	return 0;
}

int
num_parse(const char **pp, const char *end, uint64_t *out)
{
	const char	*p = *pp, *fast;
	uint64_t	 v = 0;
	unsigned	 d;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	/*
	 * Every delivery is parsed here, so the common case must be
	 * cheap: 19 digits cannot overflow 64 bits, and only a 20th one
	 * needs the check.
	 */
	fast = end - p > 19 ? p + 19 : end;
	for (; p < fast && (d = (unsigned)(*p - '0')) <= 9; p++)
		v = v * 10 + d;
	for (; p < end && (d = (unsigned)(*p - '0')) <= 9; p++) {
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return 0;
}

/*
 * Record that seq arrived.  A 64-message window past p_lo tells a late
 * arrival from a duplicate; a gap wider than that slides the window,
 * and a message later than 64 behind is then taken for a duplicate.
 */
enum pair_verdict
pair_receive(struct pair *pr, uint32_t seq)
{
	uint32_t		off;
	enum pair_verdict	v;

	if (seq < pr->p_lo)
		return PAIR_DUPLICATE;
	off = seq - pr->p_lo;
	if (off >= 64) {
		pr->p_win = off - 63 >= 64 ? 0 : pr->p_win >> (off - 63);
		pr->p_lo += off - 63;
		off = 63;
	}
	if (pr->p_win & ((uint64_t)1 << off))
		return PAIR_DUPLICATE;
	pr->p_win |= (uint64_t)1 << off;
	pr->p_got++;
	v = seq < pr->p_hi ? PAIR_REORDERED : PAIR_NEW;
	if (seq >= pr->p_hi)
		pr->p_hi = seq + 1;
	/* Bit 0 is p_lo, which has not arrived: keep it that way. */
	while (pr->p_win & 1) {
		pr->p_win >>= 1;
		pr->p_lo++;
	}
	return v;
}

/* floor(log2(v)) for v > 0. */
static unsigned
hist_log2(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
	return 63 - (unsigned)__builtin_clzll(v);
#else
	unsigned	e = 0;

	while (v >>= 1)
		e++;
	return e;
#endif
}

static size_t
hist_index(uint64_t v)
{
	unsigned	shift;

	if (v < HIST_EXACT)
		return (size_t)v;
	/* v >> shift lands in [HIST_SUB, 2 * HIST_SUB). */
	shift = hist_log2(v) - 7;
	return HIST_EXACT + (size_t)(shift - 1) * HIST_SUB +
	    (size_t)((v >> shift) - HIST_SUB);
}

/* The middle of bucket i. */
static uint64_t
hist_value(size_t i)
{
	unsigned	shift;
	uint64_t	m;

	if (i < HIST_EXACT)
		return i;
	shift = (unsigned)((i - HIST_EXACT) / HIST_SUB) + 1;
	m = HIST_SUB + (i - HIST_EXACT) % HIST_SUB;
	return (m << shift) + ((uint64_t)1 << (shift - 1));
}

void
hist_add(struct hist *h, uint64_t v)
{
	h->h_bins[hist_index(v)]++;
	h->h_count++;
	if (v > h->h_max)
		h->h_max = v;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t	rank, seen = 0, v;
	size_t		i;

	if (h->h_count == 0)
		return 0;
	if (q >= 1.0)
		return h->h_max;
	/* The smallest value with at least q of the samples at or below. */
	rank = (uint64_t)(q * (double)h->h_count);
	if ((double)rank < q * (double)h->h_count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HIST_BINS; i++) {
		seen += h->h_bins[i];
		if (seen >= rank)
			break;
	}
	v = hist_value(i);
	return v > h->h_max ? h->h_max : v;
}

/*
 * Read /proc/PID/stat: the parent's pid, the CPU time in clock ticks of
 * the process itself, and that of its children it has already reaped
 * (a worker that died and was replaced keeps counting).
 */
static int
proc_stat(pid_t pid, pid_t *ppid, uint64_t *ticks, uint64_t *reaped)
{
	char			 path[64], buf[1024], *p;
	FILE			*fp;
	size_t			 n;
	int			 parent;
	unsigned long long	 ut, st;
	long long		 cut, cst;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past it. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %lld %lld", &parent, &ut, &st, &cut, &cst) != 5) {
		errno = EINVAL;
		return -1;
	}
	*ppid = (pid_t)parent;
	*ticks = ut + st;
	*reaped = (cut > 0 ? (uint64_t)cut : 0) + (cst > 0 ? (uint64_t)cst : 0);
	return 0;
}

/*
 * The CPU time of pid in microseconds: from /proc/PID/schedstat, in
 * nanoseconds, where the kernel has it, so that a light load measured
 * for a few seconds is not rounded to ticks of 10 ms; else the ticks.
 * The reaped children's time exists only in ticks.
 */
static uint64_t
proc_cpu_us(pid_t pid, uint64_t ticks, uint64_t reaped, long hz)
{
	char			 path[64];
	FILE			*fp;
	unsigned long long	 ns;
	int			 ok;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (ticks + reaped) * 1000000 / (uint64_t)hz;
	ok = fscanf(fp, "%llu", &ns) == 1 && ns > 0;
	fclose(fp);
	if (!ok)
		return (ticks + reaped) * 1000000 / (uint64_t)hz;
	return ns / 1000 + reaped * 1000000 / (uint64_t)hz;
}

/* VmRSS of pid in KB; a kernel thread or zombie has none (0). */
static int
proc_rss(pid_t pid, uint64_t *kb)
{
	char			 path[64], line[256];
	FILE			*fp;
	unsigned long long	 v;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	*kb = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "VmRSS: %llu", &v) == 1) {
			*kb = v;
			break;
		}
	}
	fclose(fp);
	return 0;
}

int
usage_sample(pid_t pid, struct usage *u)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 child, ppid;
	uint64_t	 ticks, reaped, kb;
	long		 hz;
	char		*end;
	unsigned long	 v;

	memset(u, 0, sizeof(*u));
	if ((hz = sysconf(_SC_CLK_TCK)) <= 0)
		hz = 100;
	if (proc_stat(pid, &ppid, &ticks, &reaped) == -1 ||
	    proc_rss(pid, &kb) == -1)
		return -1;
	u->u_cpu_us = proc_cpu_us(pid, ticks, reaped, hz);
	u->u_rss_kb = kb;
	u->u_nproc = 1;

	/* chatd's workers are the master's children; find them by ppid. */
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		v = strtoul(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || v > INT_MAX)
			continue;
		child = (pid_t)v;
		/* A child that exits between the two reads is skipped. */
		if (proc_stat(child, &ppid, &ticks, &reaped) == -1 ||
		    ppid != pid || proc_rss(child, &kb) == -1)
			continue;
		u->u_cpu_us += proc_cpu_us(child, ticks, reaped, hz);
		u->u_rss_kb += kb;
		u->u_nproc++;
	}
	closedir(d);
	return 0;
}

/* Nanoseconds as microseconds. */
static double
us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

void
report_table(FILE *fp, const struct result *r)
{
	const struct hist	*h = r->r_latency;
	double			 rate;

	rate = r->r_window_s > 0 ? (double)r->r_deliveries / r->r_window_s : 0;
	fprintf(fp, "clients      %u asked, %u connected, %u refused "
	    "(turned away), %u failed, %u dropped by the server\n",
	    r->r_clients, r->r_connected, r->r_refused, r->r_failed,
	    r->r_dropped);
	fprintf(fp, "senders      %u of %u-byte messages, ",
	    r->r_active_senders, (unsigned)r->r_bytes);
	if (r->r_rate == 0)
		fprintf(fp, "as fast as acknowledged\n");
	else
		fprintf(fp, "%u/s each\n", r->r_rate);
	fprintf(fp, "window       %u unacknowledged, %u undelivered "
	    "per sender\n", r->r_ackwin, r->r_dlvwin);
	fprintf(fp, "run          %u s warm-up, %.2f s measured, "
	    "drained in %.2f s%s\n", r->r_warmup, r->r_window_s,
	    r->r_drain_s, r->r_drained ? "" : " (timed out)");
	fprintf(fp, "messages     %llu sent, %llu acknowledged\n",
	    (unsigned long long)r->r_sent, (unsigned long long)r->r_acked);
	fprintf(fp, "deliveries   %llu measured, %.0f/s (%llu in all)\n",
	    (unsigned long long)r->r_deliveries, rate,
	    (unsigned long long)r->r_total_deliveries);
	fprintf(fp, "latency us   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  "
	    "max %.1f\n", us(hist_quantile(h, 0.50)),
	    us(hist_quantile(h, 0.90)), us(hist_quantile(h, 0.99)),
	    us(hist_quantile(h, 0.999)), us(h->h_max));
	fprintf(fp, "lost         %llu\n", (unsigned long long)r->r_lost);
	fprintf(fp, "duplicated   %llu\n", (unsigned long long)r->r_duplicated);
	fprintf(fp, "reordered    %llu\n", (unsigned long long)r->r_reordered);
	if (r->r_malformed > 0 || r->r_server_lost > 0)
		fprintf(fp, "anomalies    %llu malformed lines, %llu reported "
		    "lost by the server\n",
		    (unsigned long long)r->r_malformed,
		    (unsigned long long)r->r_server_lost);
	fprintf(fp, "chatbench    %.0f%% of a CPU in the measured window%s\n",
	    r->r_self_cpu_pct, r->r_self_cpu_pct > BENCH_BUSY_PCT ?
	    " (busy: the server may be faster than measured)" : "");
	if (r->r_have_usage)
		fprintf(fp, "server       %.2f us CPU per delivery, "
		    "%.1f KB RSS per client\n", r->r_cpu_us_per_delivery,
		    r->r_rss_kb_per_client);
}

void
report_json(FILE *fp, const struct result *r)
{
	const struct hist	*h = r->r_latency;
	double			 rate;

	rate = r->r_window_s > 0 ? (double)r->r_deliveries / r->r_window_s : 0;
	/* One line, keys in a fixed order, so that sed can read it too. */
	fprintf(fp, "{\"clients\": %u, \"connected\": %u, \"senders\": %u, "
	    "\"rate\": %u, \"bytes\": %u, \"duration\": %u, \"warmup\": %u, "
	    "\"window_s\": %.3f, ",
	    r->r_clients, r->r_connected, r->r_active_senders, r->r_rate,
	    (unsigned)r->r_bytes, r->r_duration, r->r_warmup, r->r_window_s);
	fprintf(fp, "\"sent\": %llu, \"acked\": %llu, \"deliveries\": %llu, "
	    "\"deliveries_per_sec\": %.0f, \"total_deliveries\": %llu, ",
	    (unsigned long long)r->r_sent, (unsigned long long)r->r_acked,
	    (unsigned long long)r->r_deliveries, rate,
	    (unsigned long long)r->r_total_deliveries);
	fprintf(fp, "\"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, "
	    "\"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}, ",
	    us(hist_quantile(h, 0.50)), us(hist_quantile(h, 0.90)),
	    us(hist_quantile(h, 0.99)), us(hist_quantile(h, 0.999)),
	    us(h->h_max));
	fprintf(fp, "\"lost\": %llu, \"duplicated\": %llu, "
	    "\"reordered\": %llu, \"malformed\": %llu, "
	    "\"server_reported_lost\": %llu, ",
	    (unsigned long long)r->r_lost, (unsigned long long)r->r_duplicated,
	    (unsigned long long)r->r_reordered,
	    (unsigned long long)r->r_malformed,
	    (unsigned long long)r->r_server_lost);
	fprintf(fp, "\"dropped_clients\": %u, \"refused\": %u, \"failed\": %u, "
	    "\"drained\": %s, \"drain_s\": %.3f",
	    r->r_dropped, r->r_refused, r->r_failed,
	    r->r_drained ? "true" : "false", r->r_drain_s);
	fprintf(fp, ", \"bench_cpu_pct\": %.1f", r->r_self_cpu_pct);
	if (r->r_have_usage)
		fprintf(fp, ", \"server_cpu_us_per_delivery\": %.3f, "
		    "\"server_rss_kb_per_client\": %.1f",
		    r->r_cpu_us_per_delivery, r->r_rss_kb_per_client);
	fprintf(fp, "}\n");
}
