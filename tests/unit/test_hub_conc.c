/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub_conc.c -- several processes publishing and reading the ring at
 * once, each in a process of its own: one order for every reader, no
 * loss on a ring big enough, never a torn or misordered record.
 */
#include <sys/types.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"
#include "hub_helpers.h"
#include "unit.h"

#define CONC_MAX	8		/* writers, and readers */
#define CONC_END	"end"		/* published after the writers */

/* What a reader reports through a pipe. */
struct conc_result {
	int		cr_reader;
	uint64_t	cr_hash;
	uint64_t	cr_got;
	uint64_t	cr_lost;
};

/* One concurrent case. */
struct conc_cfg {
	size_t		cf_ring;
	int		cf_writers;
	int		cf_readers;
	unsigned long	cf_records;	/* per writer */
	size_t		cf_fill;	/* records vary in length up to this */
	int		cf_may_lose;	/* the ring is too small to keep up */
};

/* What a child needs to know. */
struct conc {
	const struct conc_cfg	*c_cfg;
	struct hub		*c_hub;
	int			 c_index;	/* writer or reader number */
	int			 c_go;		/* read end: EOF means start */
	int			 c_go_w;	/* its write end */
	int			 c_res;		/* for a conc_result */
};

static size_t	make_text(char *, int, unsigned long, size_t);
static int	check_text(const struct hub_msg *, const struct conc_cfg *,
		    int *, unsigned long *);
static uint64_t	fnv(uint64_t, const void *, size_t);
static int	conc_wait_go(struct conc *);
static int	conc_writer(void *);
static int	conc_reader(void *);
static void	conc_run(const struct conc_cfg *);

static void	t_conc_big(void);
static void	t_conc_small(void);
static void	t_conc_lapped(void);

/*
 * The text of record n of writer i: "w<i> <n>", and with fill a blank
 * and a run of one letter whose length (below fill) varies from record
 * to record.
 */
static size_t
make_text(char *buf, int i, unsigned long n, size_t fill)
{
	size_t	len, extra;

	len = (size_t)snprintf(buf, HUB_TEXT_MAX, "w%d %lu", i, n);
	if (fill > 0) {
		extra = (n * 7 + (unsigned long)i * 13) % fill;
		buf[len++] = ' ';
		memset(buf + len, 'a' + (int)((n + (unsigned long)i) % 26),
		    extra);
		len += extra;
	}
	return len;
}

/*
 * Check that msg is a well-formed record of the concurrent case cf,
 * its text, origin and target all of one piece; return its writer and
 * number.
 */
static int
check_text(const struct hub_msg *msg, const struct conc_cfg *cf, int *ip,
    unsigned long *np)
{
	char		want[HUB_TEXT_MAX];
	const char	*p = msg->m_text, *end = msg->m_text + msg->m_len;
	unsigned long	n = 0;
	size_t		len;
	int		i;

	if (msg->m_len < 4 || msg->m_len > HUB_TEXT_MAX || p[0] != 'w' ||
	    p[1] < '0' || p[1] >= '0' + cf->cf_writers || p[2] != ' ')
		goto bad;
	i = p[1] - '0';
	for (p += 3; p < end && *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (n >= cf->cf_records)
		goto bad;
	len = make_text(want, i, n, cf->cf_fill);
	if (msg->m_len != len || memcmp(msg->m_text, want, len) != 0 ||
	    msg->m_origin != (uint64_t)i + 1 || msg->m_target != n + 1)
		goto bad;
	*ip = i;
	*np = n;
	return 1;
bad:
	FAIL("malformed record seq %llu origin %llu target %llu:",
	    (unsigned long long)msg->m_seq,
	    (unsigned long long)msg->m_origin,
	    (unsigned long long)msg->m_target);
	printf("#   ");
	unit_show(msg->m_text, msg->m_len < HUB_TEXT_MAX ? msg->m_len :
	    HUB_TEXT_MAX);
	printf("\n");
	return 0;
}

/* FNV-1a, 64 bits. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Close our copy of the start pipe's write end, then wait for EOF. */
static int
conc_wait_go(struct conc *c)
{
	ssize_t	n;
	char	ch;

	close(c->c_go_w);
	while ((n = read(c->c_go, &ch, 1)) == -1 && errno == EINTR)
		;
	close(c->c_go);
	return n == 0;
}

/* Child: publish cf_records records as writer c_index. */
static int
conc_writer(void *arg)
{
	struct conc		*c = arg;
	const struct conc_cfg	*cf = c->c_cfg;
	char			 text[HUB_TEXT_MAX];
	unsigned long		 n;
	uint64_t		 seq, last = 0;
	size_t			 len;

	close(c->c_res);
	hub_worker_start(c->c_hub, c->c_index, getpid());
	if (!conc_wait_go(c))
		return 1;
	for (n = 0; n < cf->cf_records; n++) {
		len = make_text(text, c->c_index, n, cf->cf_fill);
		seq = hub_publish(c->c_hub, (uint64_t)c->c_index + 1, n + 1,
		    text, len);
		if (seq <= last) {
			FAIL("writer %d: seq %llu after %llu", c->c_index,
			    (unsigned long long)seq,
			    (unsigned long long)last);
			return 1;
		}
		last = seq;
		/* With many processes on a small ring, let readers in. */
		if (cf->cf_may_lose && cf->cf_writers > 1 && n % 16 == 0)
			sched_yield();
	}
	return 0;
}

/*
 * Child: follow the ring until the end record, checking that every
 * record is whole, that seqs run on with no gap but the ones reported
 * lost, and that each writer's records come in order; on a ring big
 * enough to lose nothing, that each comes exactly once.
 */
static int
conc_reader(void *arg)
{
	struct conc		*c = arg;
	const struct conc_cfg	*cf = c->c_cfg;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct conc_result	 res;
	unsigned long		 next[CONC_MAX], n;
	uint64_t		 total, expect = 1, lost;
	int			 i, r;

	total = (uint64_t)cf->cf_writers * cf->cf_records;
	memset(next, 0, sizeof(next));
	memset(&res, 0, sizeof(res));
	res.cr_reader = c->c_index;
	res.cr_hash = 0xcbf29ce484222325ULL;
	hub_cursor_init(c->c_hub, &cur);
	if (!conc_wait_go(c))
		return 1;
	for (;;) {
		r = hub_read(c->c_hub, &cur, &msg, &lost);
		if (r == HUB_EMPTY) {
			if (cur.hc_seq == total + 1)
				break;
			sched_yield();
			continue;
		}
		if (r == HUB_LOST) {
			if (!cf->cf_may_lose || lost == 0) {
				FAIL("reader %d: lost %llu after seq %llu",
				    c->c_index, (unsigned long long)lost,
				    (unsigned long long)expect - 1);
				return 1;
			}
			expect += lost;
			res.cr_lost += lost;
			continue;
		}
		if (msg.m_seq != expect) {
			FAIL("reader %d: seq %llu, want %llu", c->c_index,
			    (unsigned long long)msg.m_seq,
			    (unsigned long long)expect);
			return 1;
		}
		expect++;
		if (msg.m_seq == total + 1) {
			if (msg.m_len != strlen(CONC_END) ||
			    memcmp(msg.m_text, CONC_END, msg.m_len) != 0) {
				FAIL("reader %d: bad end record", c->c_index);
				return 1;
			}
			continue;
		}
		if (!check_text(&msg, cf, &i, &n))
			return 1;
		if (n < next[i] || (!cf->cf_may_lose && n != next[i])) {
			FAIL("reader %d: writer %d's record %lu after %lu",
			    c->c_index, i, n, next[i]);
			return 1;
		}
		next[i] = n + 1;
		res.cr_got++;
		res.cr_hash = fnv(res.cr_hash, &msg.m_seq, sizeof(msg.m_seq));
		res.cr_hash = fnv(res.cr_hash, msg.m_text, msg.m_len);
	}
	if (!cf->cf_may_lose && res.cr_got != total) {
		FAIL("reader %d: %llu records, want %llu", c->c_index,
		    (unsigned long long)res.cr_got,
		    (unsigned long long)total);
		return 1;
	}
	/* Every seq up to the end record was read or counted lost. */
	if (expect != total + 2) {
		FAIL("reader %d: %llu read + %llu lost, last seq %llu",
		    c->c_index, (unsigned long long)res.cr_got,
		    (unsigned long long)res.cr_lost,
		    (unsigned long long)expect - 1);
		return 1;
	}
	if (write(c->c_res, &res, sizeof(res)) != (ssize_t)sizeof(res))
		return 1;
	return 0;
}

/*
 * Writers publish while readers follow the ring, each in a process of
 * its own.  If the ring is big enough for nobody to fall behind, every
 * reader gets every record exactly once, and all of them, and the
 * parent reading afterwards, see one and the same order.  If not,
 * readers lose records but never see a torn or misordered one.
 */
static void
conc_run(const struct conc_cfg *cf)
{
	struct hub		*h;
	struct conc		 c[2 * CONC_MAX];
	struct conc_result	 res[CONC_MAX + 1];
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	pid_t			 pid[2 * CONC_MAX];
	uint64_t		 hash = 0xcbf29ce484222325ULL, lost, seq;
	uint64_t		 total;
	unsigned long		 next[CONC_MAX], n;
	ssize_t			 got;
	int			 go[2], rp[2], i, k, nres, nproc, ok = 1;

	nproc = cf->cf_writers + cf->cf_readers;
	total = (uint64_t)cf->cf_writers * cf->cf_records;
	if ((h = thub_open(cf->cf_ring, nproc, 4)) == NULL)
		return;
	if (pipe(go) == -1 || pipe(rp) == -1) {
		FAIL("pipe: %s", strerror(errno));
		thub_close(h);
		return;
	}
	for (k = 0; k < nproc; k++) {
		c[k].c_cfg = cf;
		c[k].c_hub = h;
		c[k].c_index = k < cf->cf_writers ? k : k - cf->cf_writers;
		c[k].c_go = go[0];
		c[k].c_go_w = go[1];
		c[k].c_res = rp[1];
		pid[k] = spawn(k < cf->cf_writers ? conc_writer : conc_reader,
		    &c[k]);
	}
	close(go[0]);
	close(go[1]);
	close(rp[1]);

	for (k = 0; k < cf->cf_writers; k++)
		if (!wait_ok(pid[k], "writer"))
			ok = 0;
	if (ok)
		CHECK_UINT(hub_publish(h, 0, 0, CONC_END, strlen(CONC_END)),
		    total + 1);
	else
		for (k = cf->cf_writers; k < nproc; k++)
			kill(pid[k], SIGKILL);
	for (k = cf->cf_writers; k < nproc; k++)
		if (!wait_ok(pid[k], "reader"))
			ok = 0;

	for (nres = 0; nres <= cf->cf_readers; nres++) {
		while ((got = read(rp[0], &res[nres], sizeof(res[0]))) ==
		    -1 && errno == EINTR)
			;
		if (got != (ssize_t)sizeof(res[0]))
			break;
	}
	close(rp[0]);
	if (!ok || !CHECK_INT(nres, cf->cf_readers) || cf->cf_may_lose)
		goto out;

	/* The parent's own pass: the order every reader must have seen. */
	memset(&cur, 0, sizeof(cur));
	memset(next, 0, sizeof(next));
	for (seq = 1; seq <= total; seq++) {
		if (!CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_MSG) ||
		    !CHECK_UINT(msg.m_seq, seq) ||
		    !check_text(&msg, cf, &i, &n) ||
		    !CHECK_UINT(n, next[i]))
			goto out;
		next[i]++;
		hash = fnv(hash, &msg.m_seq, sizeof(msg.m_seq));
		hash = fnv(hash, msg.m_text, msg.m_len);
	}
	for (k = 0; k < nres; k++)
		if (!CHECK_UINT(res[k].cr_hash, hash))
			FAIL("reader %d saw another order", res[k].cr_reader);
out:
	thub_close(h);
}

static void
t_conc_big(void)
{
	static const struct conc_cfg	cf = {
		4 * 1024 * 1024, 4, 3, 20000, 0, 0
	};

	conc_run(&cf);
}

static void
t_conc_small(void)
{
	static const struct conc_cfg	cf = {
		HUB_RING_MIN, 4, 3, 20000, 300, 1
	};

	conc_run(&cf);
}

/*
 * One writer and one reader, each on a CPU of its own, with records up
 * to a kilobyte: the reader, slower than the writer, is lapped again
 * and again, very often while it copies a record.  (Take out the
 * reserve check in hub_read and this sees a torn record in most runs.)
 */
static void
t_conc_lapped(void)
{
	static const struct conc_cfg	cf = {
		HUB_RING_MIN, 1, 1, 100000, 1200, 1
	};

	conc_run(&cf);
}

int
main(void)
{
	thub_init("test_hub_conc");
	unit_run("hub: 4 writers, 3 readers, big ring: one order, no loss",
	    t_conc_big);
	unit_run("hub: 4 writers, 3 readers, small ring: loss, never a "
	    "torn record", t_conc_small);
	unit_run("hub: a reader lapped while it copies: never a torn record",
	    t_conc_lapped);
	unit_run("hub: no shared memory objects left", thub_no_leftovers);
	return unit_done();
}
