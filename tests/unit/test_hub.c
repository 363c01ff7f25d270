/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub.c -- the shared-memory hub: publishing and reading, the ring
 * wrapping and readers falling behind, the registry, the scoreboard,
 * lock recovery, and several processes publishing and reading at once.
 *
 * Every hub gets a name of its own, "/chatd-test-PID-N", and is removed
 * at the end of its case; an atexit handler and the usual termination
 * signals remove whatever a failed case left behind.  Forked children
 * leave with _exit() so they never run it, and each arms alarm() so
 * that none outlives a test that went wrong.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "hub.h"
#include "unit.h"

#define NAMES_MAX	32		/* hub names one run may use */
#define CHILD_ALARM	60		/* seconds before a child is killed */
#define WAIT_SECONDS	30		/* how long the parent waits */
#define TEST_ALARM	300		/* seconds for the whole run */

/* The concurrent cases. */
#define CONC_MAX	8		/* writers, and readers */
#define CONC_END	"end"		/* published after the writers */

static char	names[NAMES_MAX][HUB_NAME_MAX];
static int	nnames;

/* What a concurrent case's reader reports through a pipe. */
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

/* What a child of a concurrent case needs to know. */
struct conc {
	const struct conc_cfg	*c_cfg;
	struct hub		*c_hub;
	int			 c_index;	/* writer or reader number */
	int			 c_go;		/* read end: EOF means start */
	int			 c_go_w;	/* its write end */
	int			 c_res;		/* for a conc_result */
};

/* What collect_fn gathers from foreach and reap_worker. */
struct collect {
	struct hub_client_info	co_ci[16];
	unsigned		co_n;
};

/* hold_and_probe: the hub, and the child it started. */
struct probe {
	struct hub	*p_hub;
	pid_t		 p_pid;
};

/* child_publish_die: the hub, and text that cannot be read. */
struct bus {
	struct hub	*b_hub;
	const char	*b_bad;		/* mapped, but reading it faults */
};

/* child_worker1: the hub, the pipes to the parent, slot 1's wake-up. */
struct peer {
	struct hub	*pe_hub;
	int		 pe_to;		/* write a byte: done with a step */
	int		 pe_from;	/* read a byte: the parent is done */
	int		 pe_wake;	/* slot 1's wake descriptor, read end */
};

static void	unlink_all(void);
static void	on_signal(int);
static void	on_alarm(int);
static char	*new_name(void);
static struct hub *thub_open(size_t, int, unsigned);
static void	thub_close(struct hub *);
static pid_t	spawn(int (*)(void *), void *);
static int	wait_child(pid_t, int, int *);
static int	wait_ok(pid_t, const char *);
static size_t	make_text(char *, int, unsigned long, size_t);
static int	check_text(const struct hub_msg *, const struct conc_cfg *,
		    int *, unsigned long *);
static uint64_t	fnv(uint64_t, const void *, size_t);
static int	read_msg(struct hub *, struct hub_cursor *, struct hub_msg *,
		    uint64_t, const char *, size_t);
static size_t	rec_size(struct hub *, size_t);
static int	fill_to(struct hub *, struct hub_cursor *, size_t, size_t,
		    uint64_t *);
static int	readable(int);

static int	child_reg_die(void *);
static void	die_in_lock(const struct hub_client_info *, void *);
static int	child_registry(void *);
static int	child_add_one(void *);
static void	hold_and_probe(const struct hub_client_info *, void *);
static int	still_running(pid_t);
static void	on_bus(int);
static int	child_publish_die(void *);
static int	child_publish_one(void *);
static int	child_create(void *);
static int	child_stale(void *);
static int	conc_wait_go(struct conc *);
static int	conc_writer(void *);
static int	conc_reader(void *);
static void	conc_run(const struct conc_cfg *);
static void	collect_fn(const struct hub_client_info *, void *);
static int	peer_step(int, int);
static int	child_worker1(void *);

static void	t_name(void);
static void	t_create_args(void);
static void	t_publish_read(void);
static void	t_cursor_init(void);
static void	t_text_max(void);
static void	t_wrap(void);
static void	t_wrap_edges(void);
static void	t_lost_all(void);
static void	t_lost_partial(void);
static void	t_one_ring_behind(void);
static void	t_backlog(void);
static void	t_attach(void);
static void	t_scoreboard(void);
static void	t_wake(void);
static void	t_wake_peer(void);
static void	t_reg_add(void);
static void	t_reg_nick(void);
static void	t_reg_foreach(void);
static void	t_reg_reap(void);
static void	t_recover_harmless(void);
static void	t_recover_reg(void);
static void	t_recover_ring(void);
static void	t_in_use(void);
static void	t_stale(void);
static void	t_conc_big(void);
static void	t_conc_small(void);
static void	t_conc_lapped(void);
static void	t_no_leftovers(void);

/* Remove every object this run may have made; for exit and signals. */
static void
unlink_all(void)
{
	int	i;

	for (i = 0; i < nnames; i++)
		shm_unlink(names[i]);
}

/* Interrupted: clean up, then die of the signal as we would have. */
static void
on_signal(int sig)
{
	unlink_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The whole run took far too long: something hangs. */
static void
on_alarm(int sig)
{
	static const char	msg[] = "# test_hub: timed out\n";

	(void)sig;
	unlink_all();
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

/* A fresh object name, remembered for the cleanup. */
static char *
new_name(void)
{
	char	*name;

	if (nnames == NAMES_MAX) {
		fprintf(stderr, "test_hub: too many hub names\n");
		exit(1);
	}
	name = names[nnames];
	snprintf(name, HUB_NAME_MAX, "/chatd-test-%ld-%d", (long)getpid(),
	    nnames);
	nnames++;
	return name;
}

/* A hub of our own under a fresh name; NULL (a failed check) if not. */
static struct hub *
thub_open(size_t ring, int nworkers, unsigned max_clients)
{
	struct hub	*h;

	if ((h = hub_create(new_name(), ring, nworkers, max_clients)) == NULL)
		FAIL("hub_create: %s", strerror(errno));
	return h;
}

/* Remove and unmap a hub from thub_open. */
static void
thub_close(struct hub *h)
{
	if (h == NULL)
		return;
	if (hub_unlink(h) == -1)
		FAIL("hub_unlink: %s", strerror(errno));
	hub_detach(h);
}

/* Run fn(arg) in a child that exits with its return value. */
static pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t	pid;

	if ((pid = unit_fork()) == -1) {
		FAIL("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The parent's handlers would remove its objects. */
		signal(SIGALRM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		alarm(CHILD_ALARM);
		_exit(fn(arg));
	}
	return pid;
}

/*
 * Wait up to seconds for pid; 1 with its status in *st, or 0 after
 * killing it when the time is up.
 */
static int
wait_child(pid_t pid, int seconds, int *st)
{
	struct timespec	ms = { 0, 1000000 };
	long		left = seconds * 1000L;
	pid_t		r;

	if (pid <= 0)
		return 0;
	for (; left > 0; left--) {
		if ((r = waitpid(pid, st, WNOHANG)) == pid)
			return 1;
		if (r == -1 && errno != EINTR) {
			FAIL("waitpid %ld: %s", (long)pid, strerror(errno));
			return 0;
		}
		nanosleep(&ms, NULL);
	}
	FAIL("child %ld still running after %d s; killed", (long)pid,
	    seconds);
	kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) == -1 && errno == EINTR)
		;
	return 0;
}

/* Wait for pid and check that it exited 0. */
static int
wait_ok(pid_t pid, const char *what)
{
	int	st;

	if (!wait_child(pid, WAIT_SECONDS, &st))
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (WIFEXITED(st))
		FAIL("%s: exit status %d", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		FAIL("%s: killed by signal %d", what, WTERMSIG(st));
	return 0;
}

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

/* Read one record and check it is seq with the given text. */
static int
read_msg(struct hub *h, struct hub_cursor *cur, struct hub_msg *msg,
    uint64_t seq, const char *text, size_t len)
{
	uint64_t	lost = 0;
	int		r;

	r = hub_read(h, cur, msg, &lost);
	if (!CHECK_INT(r, HUB_MSG)) {
		if (r == HUB_LOST)
			FAIL("lost %llu", (unsigned long long)lost);
		FAIL("wanted seq %llu", (unsigned long long)seq);
		return 0;
	}
	return CHECK_UINT(msg->m_seq, seq) &&
	    CHECK_MEM(msg->m_text, msg->m_len, text, len);
}

/*
 * How far the head moves for a record of len bytes, learnt by
 * publishing one: the layout is hub.c's business, not the test's.
 */
static size_t
rec_size(struct hub *h, size_t len)
{
	static char	zeros[HUB_TEXT_MAX];
	uint64_t	before = hub_head(h);

	hub_publish(h, 0, 0, zeros, len);
	return (size_t)(hub_head(h) - before);
}

/*
 * Publish records, reading each back, until exactly left bytes remain
 * before the end of the ring (left 0: until the head is at its start).
 * hdr is the size of an empty record; *seq the last seq published.
 */
static int
fill_to(struct hub *h, struct hub_cursor *cur, size_t left, size_t hdr,
    uint64_t *seq)
{
	struct hub_msg	msg;
	char		text[HUB_TEXT_MAX];
	size_t		ring = hub_ring_size(h), rem, t, len, room;
	uint64_t	before;
	int		i;

	room = HUB_TEXT_MAX / 8 * 8;
	memset(text, 'f', sizeof(text));
	for (i = 0; i < 10000; i++) {
		rem = ring - hub_head(h) % ring;
		if (rem == left || (left == 0 && rem == ring))
			return 1;
		/* Bytes to place before the end of this lap. */
		t = rem > left ? rem - left : rem;
		if (t < hdr)
			len = 0;	/* cannot be exact: wrap instead */
		else if (t - hdr <= room)
			len = t - hdr;
		else
			len = t - 2 * hdr < room ? t - 2 * hdr : room;
		before = hub_head(h);
		hub_publish(h, *seq, 0, text, len);
		if (!read_msg(h, cur, &msg, ++*seq, text, len))
			return 0;
		/* A record that fits takes hdr + len: the layout we assume. */
		if (t >= hdr && !CHECK_UINT(hub_head(h) - before, hdr + len))
			return 0;
	}
	FAIL("fill_to %zu: no end in sight", left);
	return 0;
}

/* 1 if fd has something to read now. */
static int
readable(int fd)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void
t_name(void)
{
	char	buf[HUB_NAME_MAX], small[8];

	hub_name(buf, sizeof(buf), "127.0.0.1", 8080);
	CHECK_STR(buf, "/chatd-127.0.0.1-8080");
	hub_name(buf, sizeof(buf), "::", 0);
	CHECK_STR(buf, "/chatd-::-0");
	hub_name(small, sizeof(small), "127.0.0.2", 65535);
	CHECK_STR(small, "/chatd-");
}

static void
t_create_args(void)
{
	struct hub	*h;
	char		*name = new_name();
	int		 fd;

	errno = 0;
	CHECK((h = hub_create(name, HUB_RING_MIN, 0, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MIN, HUB_WORKERS_MAX + 1,
	    10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MIN - 8, 1, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MIN + 4, 1, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MAX + 8, 1, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	/* Nothing was made. */
	CHECK((fd = shm_open(name, O_RDONLY, 0)) == -1);
	CHECK_INT(errno, ENOENT);
	if (fd != -1)
		close(fd);
	/* The extremes that are allowed. */
	h = thub_open(HUB_RING_MIN, HUB_WORKERS_MAX, 0);
	if (CHECK(h != NULL)) {
		CHECK_INT(hub_nworkers(h), HUB_WORKERS_MAX);
		CHECK_UINT(hub_ring_size(h), HUB_RING_MIN);
	}
	thub_close(h);
}

static void
t_publish_read(void)
{
	struct hub		*h;
	struct hub_cursor	 a, b;
	struct hub_msg		 msg;
	uint64_t		 lost;

	if ((h = thub_open(HUB_RING_MIN, 4, 16)) == NULL)
		return;
	CHECK_UINT(hub_head(h), 0);
	hub_cursor_init(h, &a);
	hub_cursor_init(h, &b);
	CHECK_INT(hub_read(h, &a, &msg, &lost), HUB_EMPTY);

	CHECK_UINT(hub_publish(h, 7, 0, "hello", 5), 1);
	CHECK_UINT(hub_publish(h, 0, 9, "", 0), 2);
	CHECK_UINT(hub_publish(h, 3, 4, "third one", 9), 3);
	CHECK(hub_head(h) > 0);

	if (read_msg(h, &a, &msg, 1, "hello", 5)) {
		CHECK_UINT(msg.m_origin, 7);
		CHECK_UINT(msg.m_target, 0);
	}
	if (read_msg(h, &a, &msg, 2, "", 0)) {
		CHECK_UINT(msg.m_origin, 0);
		CHECK_UINT(msg.m_target, 9);
	}
	if (read_msg(h, &a, &msg, 3, "third one", 9)) {
		CHECK_UINT(msg.m_origin, 3);
		CHECK_UINT(msg.m_target, 4);
	}
	CHECK_INT(hub_read(h, &a, &msg, &lost), HUB_EMPTY);
	CHECK_UINT(a.hc_seq, 3);
	CHECK_UINT(a.hc_pos, hub_head(h));

	/* Another cursor is independent and sees the same records. */
	read_msg(h, &b, &msg, 1, "hello", 5);
	CHECK_UINT(hub_publish(h, 1, 2, "fourth", 6), 4);
	read_msg(h, &a, &msg, 4, "fourth", 6);
	read_msg(h, &b, &msg, 2, "", 0);
	read_msg(h, &b, &msg, 3, "third one", 9);
	read_msg(h, &b, &msg, 4, "fourth", 6);
	CHECK_INT(hub_read(h, &b, &msg, &lost), HUB_EMPTY);
	/* Binary text goes through unchanged. */
	CHECK_UINT(hub_publish(h, 0, 0, "a\0b\n\xff", 5), 5);
	read_msg(h, &a, &msg, 5, "a\0b\n\xff", 5);
	thub_close(h);
}

static void
t_cursor_init(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	uint64_t		 lost;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_publish(h, 0, 0, "old 1", 5);
	hub_publish(h, 0, 0, "old 2", 5);
	hub_publish(h, 0, 0, "old 3", 5);
	hub_cursor_init(h, &cur);
	CHECK_UINT(cur.hc_seq, 3);
	CHECK_UINT(cur.hc_pos, hub_head(h));
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	hub_publish(h, 0, 0, "new", 3);
	read_msg(h, &cur, &msg, 4, "new", 3);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_text_max(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			*text;
	size_t			 i;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	if ((text = malloc(HUB_TEXT_MAX + 100)) == NULL)
		abort();
	for (i = 0; i < HUB_TEXT_MAX + 100; i++)
		text[i] = (char)('A' + i % 50);
	hub_cursor_init(h, &cur);
	hub_publish(h, 0, 0, text, HUB_TEXT_MAX);
	read_msg(h, &cur, &msg, 1, text, HUB_TEXT_MAX);
	/* Longer text is cut at HUB_TEXT_MAX, never overruns. */
	hub_publish(h, 0, 0, text, HUB_TEXT_MAX + 100);
	read_msg(h, &cur, &msg, 2, text, HUB_TEXT_MAX);
	free(text);
	thub_close(h);
}

static void
t_wrap(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[HUB_TEXT_MAX];
	uint32_t		 r = 2463534242U;
	uint64_t		 seq = 0, lost;
	size_t			 len, ring = HUB_RING_MIN, i;
	int			 batch, k, ok = 1;

	if ((h = thub_open(ring, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	/*
	 * Records of many sizes from empty to the largest, published in
	 * batches well under a ring and read back after each batch.
	 */
	while (ok && hub_head(h) < 6 * ring) {
		r ^= r << 13;
		r ^= r >> 17;
		r ^= r << 5;
		batch = 1 + (int)(r % 20);
		for (k = 0; k < batch; k++) {
			len = (seq * 37 + r % 7) % (HUB_TEXT_MAX + 1);
			for (i = 0; i < len; i++)
				text[i] = (char)(seq + i * 3);
			CHECK_UINT(hub_publish(h, seq * 3 + 1, seq * 5 + 2,
			    text, len), seq + 1);
			seq++;
		}
		for (k = batch; k > 0 && ok; k--) {
			ok = CHECK_INT(hub_read(h, &cur, &msg, &lost),
			    HUB_MSG) &&
			    CHECK_UINT(msg.m_seq, seq - (uint64_t)k + 1) &&
			    CHECK_UINT(msg.m_origin, msg.m_seq * 3 - 2) &&
			    CHECK_UINT(msg.m_target, msg.m_seq * 5 - 3);
			if (!ok)
				break;
			len = ((msg.m_seq - 1) * 37 + r % 7) %
			    (HUB_TEXT_MAX + 1);
			for (i = 0; i < len; i++)
				text[i] = (char)(msg.m_seq - 1 + i * 3);
			ok = CHECK_MEM(msg.m_text, msg.m_len, text, len);
		}
		if (ok)
			ok = CHECK_INT(hub_read(h, &cur, &msg, &lost),
			    HUB_EMPTY);
	}
	CHECK(seq > 200);
	thub_close(h);
}

static void
t_wrap_edges(void)
{
	static const size_t	 lefts[] = { 0, 8, 16, 24, 32, 40, 48, 64,
				    232, 1000 };
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[200];
	size_t			 i, ring = HUB_RING_MIN, hdr, off;
	uint64_t		 seq = 0, lost;

	if ((h = thub_open(ring, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	hdr = rec_size(h, 0);
	read_msg(h, &cur, &msg, ++seq, "", 0);
	memset(text, 'x', sizeof(text));
	/*
	 * Leave exactly "left" bytes at the end of the ring: none, too few
	 * for even a padding header, room for a header but not the record,
	 * just enough; then publish a record and read everything back.
	 */
	for (i = 0; i < sizeof(lefts) / sizeof(lefts[0]); i++) {
		if (!fill_to(h, &cur, lefts[i], hdr, &seq))
			break;
		off = hub_head(h) % ring;
		text[0] = (char)('0' + i);
		hub_publish(h, 0, seq + 1, text, sizeof(text));
		if (!read_msg(h, &cur, &msg, ++seq, text, sizeof(text)) ||
		    !CHECK_UINT(msg.m_target, seq))
			break;
		/* It fits, or it went to the start of the ring. */
		if (lefts[i] >= hdr + sizeof(text))
			CHECK_UINT(hub_head(h) % ring,
			    (off + hdr + sizeof(text)) % ring);
		else
			CHECK_UINT(hub_head(h) % ring, hdr + sizeof(text));
		CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
		/* Go on from half a lap later. */
		if (!fill_to(h, &cur, ring / 2, hdr, &seq))
			break;
	}
	thub_close(h);
}

static void
t_lost_all(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[100];
	uint64_t		 lost = 0;
	int			 n;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	memset(text, 'L', sizeof(text));
	/* Three rings' worth that nobody reads. */
	for (n = 0; hub_head(h) < 3 * HUB_RING_MIN; n++)
		hub_publish(h, 0, 0, text, sizeof(text));
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n);
	CHECK_UINT(cur.hc_seq, n);
	/* Resynchronised at the head: nothing old, then the next record. */
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	hub_publish(h, 5, 6, "after", 5);
	if (read_msg(h, &cur, &msg, n + 1, "after", 5)) {
		CHECK_UINT(msg.m_origin, 5);
		CHECK_UINT(msg.m_target, 6);
	}
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_lost_partial(void)
{
	struct hub		*h;
	struct hub_cursor	 cur, fresh;
	struct hub_msg		 msg;
	char			 text[64];
	uint64_t		 lost = 0, i, n;
	size_t			 len;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	for (i = 1; i <= 10; i++) {
		len = (size_t)snprintf(text, sizeof(text), "m%llu",
		    (unsigned long long)i);
		hub_publish(h, 0, 0, text, len);
	}
	for (i = 1; i <= 4; i++) {
		len = (size_t)snprintf(text, sizeof(text), "m%llu",
		    (unsigned long long)i);
		read_msg(h, &cur, &msg, i, text, len);
	}
	/* The reader stops at 4 while more than a ring goes by. */
	hub_cursor_init(h, &fresh);
	for (n = 10; hub_head(h) - fresh.hc_pos <= HUB_RING_MIN; n++)
		hub_publish(h, 0, 0, "filler filler filler", 20);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n - 4);
	hub_publish(h, 0, 0, "next", 4);
	read_msg(h, &cur, &msg, n + 1, "next", 4);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	/* A cursor that came later counts only what came after it. */
	hub_publish(h, 0, 0, "last", 4);
	CHECK_INT(hub_read(h, &fresh, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n + 2 - 10);
	CHECK_INT(hub_read(h, &fresh, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_one_ring_behind(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[HUB_TEXT_MAX];
	size_t			 ring = HUB_RING_MIN, len, size;
	uint64_t		 lost = 0, i, n;

	if ((h = thub_open(ring, 2, 4)) == NULL)
		return;
	/* Find a text length whose record divides the ring. */
	memset(text, 'r', sizeof(text));
	for (len = 1; len < 200; len++)
		if (ring % (size = rec_size(h, len)) == 0 && size > 16)
			break;
	if (!CHECK(len < 200)) {
		thub_close(h);
		return;
	}
	/* Exactly one ring of records after the cursor: all still there. */
	hub_cursor_init(h, &cur);
	n = ring / size;
	for (i = 0; i < n; i++) {
		text[0] = (char)i;
		hub_publish(h, 0, 0, text, len);
	}
	CHECK_UINT(hub_head(h) - cur.hc_pos, ring);
	for (i = 0; i < n; i++) {
		text[0] = (char)i;
		if (!read_msg(h, &cur, &msg, cur.hc_seq + 1, text, len))
			break;
	}
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	/* One record more than a ring: the oldest is gone. */
	for (i = 0; i <= n; i++)
		hub_publish(h, 0, 0, text, len);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n + 1);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_backlog(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	uint64_t		 head;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	CHECK_UINT(hub_backlog(h, &cur), 0);
	hub_publish(h, 0, 0, "one", 3);
	head = hub_head(h);
	CHECK_UINT(hub_backlog(h, &cur), head);
	hub_publish(h, 0, 0, "two", 3);
	CHECK_UINT(hub_backlog(h, &cur), hub_head(h));
	read_msg(h, &cur, &msg, 1, "one", 3);
	CHECK_UINT(hub_backlog(h, &cur), hub_head(h) - head);
	read_msg(h, &cur, &msg, 2, "two", 3);
	CHECK_UINT(hub_backlog(h, &cur), 0);
	thub_close(h);
}

static void
t_attach(void)
{
	struct hub		*h, *ro;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct hub_stats	 st;
	char			*name;
	int			 fd;

	if ((h = thub_open(HUB_RING_MIN * 2, 3, 8)) == NULL)
		return;
	hub_publish(h, 0, 0, "before", 6);
	hub_worker_start(h, 2, getpid());
	hub_count_in(h, 5);
	name = names[nnames - 1];
	if (CHECK((ro = hub_attach(name)) != NULL)) {
		CHECK_INT(hub_nworkers(ro), 3);
		CHECK_UINT(hub_ring_size(ro), HUB_RING_MIN * 2);
		CHECK_UINT(hub_head(ro), hub_head(h));
		CHECK_INT(hub_master_pid(ro), getpid());
		hub_worker_stats(ro, 2, &st);
		CHECK_INT(st.st_pid, getpid());
		CHECK_UINT(st.st_msgs_in, 5);
		/* A read-only handle can follow the ring. */
		hub_cursor_init(ro, &cur);
		hub_publish(h, 0, 0, "after", 5);
		read_msg(ro, &cur, &msg, 2, "after", 5);
		hub_detach(ro);
	}
	thub_close(h);

	errno = 0;
	CHECK(hub_attach(name) == NULL);
	CHECK_INT(errno, ENOENT);
	/* Something else under a hub's name is refused. */
	name = new_name();
	if (CHECK((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) !=
	    -1)) {
		errno = 0;
		CHECK(hub_attach(name) == NULL);
		CHECK_INT(errno, EPROTO);
		CHECK_INT(ftruncate(fd, 65536), 0);
		errno = 0;
		CHECK(hub_attach(name) == NULL);
		CHECK_INT(errno, EPROTO);
		close(fd);
		shm_unlink(name);
	}
}

static void
t_scoreboard(void)
{
	struct hub		*h;
	struct hub_stats	 st;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	CHECK_INT(hub_nworkers(h), 4);
	CHECK_INT(hub_master_pid(h), getpid());
	hub_worker_stats(h, 1, &st);
	CHECK_INT(st.st_pid, 0);
	CHECK_UINT(st.st_clients + st.st_msgs_in + st.st_msgs_out +
	    st.st_bytes_out, 0);

	hub_worker_start(h, 1, getpid());
	hub_count_in(h, 3);
	hub_count_out(h, 2, 100);
	hub_count_out(h, 1, 50);
	hub_count_clients(h, 2);
	hub_count_clients(h, -1);
	hub_worker_stats(h, 1, &st);
	CHECK_INT(st.st_pid, getpid());
	CHECK_UINT(st.st_clients, 1);
	CHECK_UINT(st.st_msgs_in, 3);
	CHECK_UINT(st.st_msgs_out, 3);
	CHECK_UINT(st.st_bytes_out, 150);
	/* Other slots are untouched. */
	hub_worker_stats(h, 0, &st);
	CHECK_UINT(st.st_clients + st.st_msgs_in + st.st_msgs_out, 0);
	/* A new worker in the slot starts from zero. */
	hub_worker_start(h, 1, getpid());
	hub_worker_stats(h, 1, &st);
	CHECK_UINT(st.st_clients + st.st_msgs_in + st.st_msgs_out +
	    st.st_bytes_out, 0);
	thub_close(h);
}

static void
t_wake(void)
{
	struct hub	*h;
	int		 fds[2], mine[2];

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	if (!CHECK_INT(wake_open(fds), 0) || !CHECK_INT(wake_open(mine), 0)) {
		thub_close(h);
		return;
	}
	hub_set_wake(h, 1, fds[1]);
	hub_set_wake(h, 0, mine[1]);
	hub_worker_start(h, 1, getpid());	/* slot 1 is alive */
	hub_worker_start(h, 0, getpid());	/* and we are slot 0 */
	CHECK(!readable(fds[0]));

	/* One poke, however many records, until the worker acks. */
	hub_publish(h, 0, 0, "one", 3);
	CHECK(readable(fds[0]));
	wake_drain(fds[0]);
	hub_publish(h, 0, 0, "two", 3);
	hub_publish(h, 0, 0, "three", 5);
	CHECK(!readable(fds[0]));
	/* The publisher never wakes itself. */
	CHECK(!readable(mine[0]));

	/* Slot 1 acks (which worker_start also does), then it is poked. */
	hub_worker_start(h, 1, getpid());
	hub_wake_ack(h);
	hub_worker_start(h, 0, getpid());
	hub_publish(h, 0, 0, "four", 4);
	CHECK(readable(fds[0]));
	wake_drain(fds[0]);

	/* A dead slot is not poked. */
	hub_worker_start(h, 1, getpid());
	hub_recover(h, 1, getpid() + 1);
	hub_worker_start(h, 0, getpid());
	hub_publish(h, 0, 0, "five", 4);
	CHECK(!readable(fds[0]));
	wake_close(fds);
	wake_close(mine);
	thub_close(h);
}

/* Send the peer a byte, then wait for one back; 0 if it is gone. */
static int
peer_step(int to, int from)
{
	char	ch = 's';

	return write(to, &ch, 1) == 1 && read(from, &ch, 1) == 1;
}

/*
 * Child: worker 1, in lock step with the parent, which publishes and
 * kicks between the steps.  Returns which expectation failed.
 */
static int
child_worker1(void *arg)
{
	struct peer	*pe = arg;

	hub_worker_start(pe->pe_hub, 1, getpid());
	if (hub_kicked(pe->pe_hub) != 0)
		return 1;
	/* The parent publishes twice and kicks. */
	if (!peer_step(pe->pe_to, pe->pe_from))
		return 2;
	if (!readable(pe->pe_wake))
		return 3;
	wake_drain(pe->pe_wake);
	/* Told once: the first look consumes the kick. */
	if (hub_kicked(pe->pe_hub) != 1 || hub_kicked(pe->pe_hub) != 0)
		return 4;
	/* The parent publishes again: no new poke before our ack ... */
	if (!peer_step(pe->pe_to, pe->pe_from))
		return 5;
	if (readable(pe->pe_wake))
		return 6;
	hub_wake_ack(pe->pe_hub);
	/* ... and one after it. */
	if (!peer_step(pe->pe_to, pe->pe_from))
		return 7;
	if (!readable(pe->pe_wake))
		return 8;
	return 0;
}

static void
t_wake_peer(void)
{
	struct hub	*h;
	struct peer	 pe;
	int		 fds[2], up[2], down[2], step;
	pid_t		 pid;
	char		 ch = 'p';

	if ((h = thub_open(HUB_RING_MIN, 3, 4)) == NULL)
		return;
	if (!CHECK_INT(wake_open(fds), 0)) {
		thub_close(h);
		return;
	}
	if (!CHECK_INT(pipe(up), 0) || !CHECK_INT(pipe(down), 0)) {
		wake_close(fds);
		thub_close(h);
		return;
	}
	hub_set_wake(h, 1, fds[1]);
	hub_worker_start(h, 0, getpid());
	pe.pe_hub = h;
	pe.pe_to = up[1];
	pe.pe_from = down[0];
	pe.pe_wake = fds[0];
	pid = spawn(child_worker1, &pe);
	/* Only the child keeps these ends, so its death reads as EOF. */
	close(up[1]);
	close(down[0]);
	for (step = 0; step < 3; step++) {
		if (read(up[0], &ch, 1) != 1)
			break;
		switch (step) {
		case 0:
			hub_publish(h, 0, 0, "one", 3);
			hub_publish(h, 0, 0, "two", 3);
			hub_kick_accept(h);
			break;
		case 1:
			hub_publish(h, 0, 0, "three", 5);
			break;
		case 2:
			hub_publish(h, 0, 0, "four", 4);
			break;
		}
		if (write(down[1], &ch, 1) != 1)
			break;
	}
	wait_ok(pid, "worker 1");
	/* The kicker does not kick itself. */
	CHECK_INT(hub_kicked(h), 0);
	close(up[0]);
	close(down[1]);
	wake_close(fds);
	thub_close(h);
}

/* foreach and reap callback: keep a copy of each client. */
static void
collect_fn(const struct hub_client_info *ci, void *arg)
{
	struct collect	*co = arg;

	if (co->co_n < 16)
		co->co_ci[co->co_n] = *ci;
	co->co_n++;
}

static void
t_reg_add(void)
{
	struct hub	*h;
	uint64_t	 id[5], again;
	unsigned	 slot[5], s;
	int		 i, j;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	for (i = 0; i < 4; i++) {
		id[i] = hub_client_add(h, "127.0.0.1:1000", &slot[i]);
		CHECK(id[i] != 0);
		CHECK(slot[i] < 4);
		for (j = 0; j < i; j++) {
			CHECK(id[j] != id[i]);
			CHECK(slot[j] != slot[i]);
		}
	}
	CHECK_UINT(hub_total_clients(h), 4);
	errno = 0;
	s = 99;
	CHECK_UINT(hub_client_add(h, "127.0.0.1:1001", &s), 0);
	CHECK_INT(errno, ENOSPC);
	CHECK_UINT(s, 99);
	CHECK_UINT(hub_total_clients(h), 4);

	/* A freed slot is used again, with a new id. */
	hub_client_remove(h, slot[2]);
	CHECK_UINT(hub_total_clients(h), 3);
	hub_client_remove(h, slot[2]);		/* twice is harmless */
	CHECK_UINT(hub_total_clients(h), 3);
	again = hub_client_add(h, "127.0.0.1:1002", &s);
	CHECK(again != 0);
	CHECK_UINT(s, slot[2]);
	for (i = 0; i < 4; i++)
		CHECK(again != id[i]);
	CHECK_UINT(hub_total_clients(h), 4);
	CHECK_UINT(hub_client_add(h, "x", &s), 0);
	thub_close(h);

	/* A server with no room at all. */
	if ((h = thub_open(HUB_RING_MIN, 1, 0)) == NULL)
		return;
	errno = 0;
	CHECK_UINT(hub_client_add(h, "x", &s), 0);
	CHECK_INT(errno, ENOSPC);
	thub_close(h);
}

static void
t_reg_nick(void)
{
	struct hub	*h;
	char		 exact[PROTO_NICK_MAX + 1];
	uint64_t	 a, b;
	unsigned	 sa, sb;

	if ((h = thub_open(HUB_RING_MIN, 2, 8)) == NULL)
		return;
	a = hub_client_add(h, "10.0.0.1:1", &sa);
	b = hub_client_add(h, "10.0.0.2:2", &sb);
	CHECK_INT(hub_client_set_nick(h, sa, "Alice"), 0);
	errno = 0;
	CHECK_INT(hub_client_set_nick(h, sb, "alice"), -1);
	CHECK_INT(errno, EEXIST);
	errno = 0;
	CHECK_INT(hub_client_set_nick(h, sb, "ALICE"), -1);
	CHECK_INT(errno, EEXIST);
	/* Changing the case of one's own name is allowed. */
	CHECK_INT(hub_client_set_nick(h, sa, "ALICE"), 0);
	CHECK_INT(hub_client_set_nick(h, sb, "Bob"), 0);

	memset(exact, 0, sizeof(exact));
	CHECK_UINT(hub_client_find(h, "aLiCe", exact, sizeof(exact)), a);
	CHECK_STR(exact, "ALICE");
	CHECK_UINT(hub_client_find(h, "bob", exact, sizeof(exact)), b);
	CHECK_STR(exact, "Bob");
	strcpy(exact, "untouched");
	CHECK_UINT(hub_client_find(h, "carol", exact, sizeof(exact)), 0);
	CHECK_STR(exact, "untouched");
	/* An unnamed client is not called "". */
	CHECK_UINT(hub_client_add(h, "10.0.0.3:3", &sb) != 0, 1);
	CHECK_UINT(hub_client_find(h, "", exact, sizeof(exact)), 0);

	/* A name is free again once its client has gone. */
	hub_client_remove(h, sa);
	CHECK_UINT(hub_client_find(h, "alice", exact, sizeof(exact)), 0);
	CHECK_INT(hub_client_set_nick(h, sb, "alice"), 0);
	CHECK_UINT(hub_client_find(h, "ALICE", exact, sizeof(exact)),
	    hub_client_find(h, "alice", exact, sizeof(exact)));
	CHECK_STR(exact, "alice");
	thub_close(h);
}

static void
t_reg_foreach(void)
{
	struct hub	*h;
	struct collect	 co;
	unsigned	 s[3];
	uint64_t	 id[3];

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 0);
	CHECK_UINT(co.co_n, 0);

	hub_worker_start(h, 2, getpid());
	id[0] = hub_client_add(h, "192.0.2.1:40000", &s[0]);
	hub_worker_start(h, 3, getpid());
	id[1] = hub_client_add(h, "[2001:db8::1]:5555", &s[1]);
	id[2] = hub_client_add(h, "192.0.2.3:40002", &s[2]);
	hub_client_set_nick(h, s[1], "zed");
	hub_client_remove(h, s[2]);

	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 2);
	if (CHECK_UINT(co.co_n, 2)) {
		/* In slot order: the first added has the lower slot. */
		CHECK(s[0] < s[1]);
		CHECK_UINT(co.co_ci[0].ci_id, id[0]);
		CHECK_INT(co.co_ci[0].ci_worker, 2);
		CHECK_STR(co.co_ci[0].ci_nick, "");
		CHECK_STR(co.co_ci[0].ci_addr, "192.0.2.1:40000");
		CHECK_UINT(co.co_ci[1].ci_id, id[1]);
		CHECK_INT(co.co_ci[1].ci_worker, 3);
		CHECK_STR(co.co_ci[1].ci_nick, "zed");
		CHECK_STR(co.co_ci[1].ci_addr, "[2001:db8::1]:5555");
	}
	/* The removed client is not among them. */
	CHECK(co.co_ci[0].ci_id != id[2] && co.co_ci[1].ci_id != id[2]);
	thub_close(h);
}

static void
t_reg_reap(void)
{
	struct hub	*h;
	struct collect	 co;
	unsigned	 s, i;
	uint64_t	 keep;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_worker_start(h, 2, getpid());
	hub_client_add(h, "10.0.0.1:1", &s);
	hub_client_set_nick(h, s, "one");
	hub_client_add(h, "10.0.0.2:2", &s);
	hub_worker_start(h, 1, getpid());
	keep = hub_client_add(h, "10.0.0.9:9", &s);
	hub_worker_start(h, 2, getpid());
	hub_client_add(h, "10.0.0.3:3", &s);
	CHECK_UINT(hub_total_clients(h), 4);

	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_reap_worker(h, 2, collect_fn, &co), 3);
	if (CHECK_UINT(co.co_n, 3)) {
		for (i = 0; i < 3; i++)
			CHECK_INT(co.co_ci[i].ci_worker, 2);
		CHECK_STR(co.co_ci[0].ci_nick, "one");
		CHECK_STR(co.co_ci[0].ci_addr, "10.0.0.1:1");
		CHECK_STR(co.co_ci[1].ci_addr, "10.0.0.2:2");
		CHECK_STR(co.co_ci[2].ci_addr, "10.0.0.3:3");
	}
	CHECK_UINT(hub_total_clients(h), 1);
	CHECK_UINT(hub_client_find(h, "one", NULL, 0), 0);
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 1);
	CHECK_UINT(co.co_ci[0].ci_id, keep);
	/* Nothing left to reap. */
	CHECK_UINT(hub_client_reap_worker(h, 2, collect_fn, &co), 0);
	thub_close(h);
}

/* Child: register a client as worker 1, then die holding reg_lock. */
static int
child_reg_die(void *arg)
{
	struct hub	*h = arg;
	unsigned	 s;

	hub_worker_start(h, 1, getpid());
	if (hub_client_add(h, "10.1.1.1:1", &s) == 0)
		return 1;
	hub_client_foreach(h, die_in_lock, NULL);
	return 2;
}

/* foreach callback: die right here, inside the registry lock. */
static void
die_in_lock(const struct hub_client_info *ci, void *arg)
{
	(void)ci;
	(void)arg;
	_exit(42);
}

/* Child: use the registry; hangs (until killed) while it is locked. */
static int
child_registry(void *arg)
{
	struct hub	*h = arg;
	struct collect	 co;
	unsigned	 s;

	hub_worker_start(h, 2, getpid());
	if (hub_client_add(h, "10.2.2.2:2", &s) == 0)
		return 1;
	if (hub_client_set_nick(h, s, "alive") == -1)
		return 2;
	memset(&co, 0, sizeof(co));
	if (hub_client_foreach(h, collect_fn, &co) != 2)
		return 3;
	hub_client_remove(h, s);
	return 0;
}

/* Child: add one client; blocks while the registry is locked. */
static int
child_add_one(void *arg)
{
	struct hub	*h = arg;
	unsigned	 s;

	return hub_client_add(h, "10.3.3.3:3", &s) == 0;
}

/*
 * foreach callback: holding reg_lock, start a child that wants it.  Had
 * the lock been released twice, the child would get it at once.
 */
static void
hold_and_probe(const struct hub_client_info *ci, void *arg)
{
	struct probe	*pr = arg;
	struct timespec	 ms = { 0, 1000000 };
	int		 i, st;

	(void)ci;
	if (pr->p_pid != 0 || (pr->p_pid = spawn(child_add_one,
	    pr->p_hub)) == -1)
		return;
	for (i = 0; i < 300; i++) {
		if (waitpid(pr->p_pid, &st, WNOHANG) == pr->p_pid) {
			FAIL("another process took the registry lock");
			pr->p_pid = -1;
			return;
		}
		nanosleep(&ms, NULL);
	}
}

/* 1 if pid is still running (blocked) after about 200 ms. */
static int
still_running(pid_t pid)
{
	struct timespec	ms = { 0, 1000000 };
	int		i, st;

	for (i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) != 0)
			return 0;
		nanosleep(&ms, NULL);
	}
	return 1;
}

/* SIGBUS in child_publish_die: it died where it was meant to. */
static void
on_bus(int sig)
{
	(void)sig;
	_exit(42);
}

/*
 * Child: die inside hub_publish, holding the ring lock: the text is in
 * a mapping whose file was truncated, so copying it raises SIGBUS.
 */
static int
child_publish_die(void *arg)
{
	struct bus		*b = arg;
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1)
		return 1;
	hub_worker_start(b->b_hub, 1, getpid());
	hub_publish(b->b_hub, 0, 0, b->b_bad, 100);
	return 2;
}

/* Child: publish one record; blocks while the ring is locked. */
static int
child_publish_one(void *arg)
{
	struct hub	*h = arg;

	hub_worker_start(h, 2, getpid());
	return hub_publish(h, 0, 0, "recovered", 9) == 0;
}

static void
t_recover_harmless(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct hub_stats	 st;
	struct probe		 pr;
	unsigned		 s;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	hub_worker_start(h, 3, getpid());
	hub_client_add(h, "10.0.0.1:1", &s);
	/* Recovering for processes that hold nothing, us included. */
	hub_recover(h, 3, getpid() + 100000);
	hub_recover(h, 2, getpid());
	hub_worker_stats(h, 3, &st);
	CHECK_INT(st.st_pid, 0);
	CHECK_UINT(hub_total_clients(h), 1);
	hub_publish(h, 0, 0, "still fine", 10);
	read_msg(h, &cur, &msg, 1, "still fine", 10);

	/* The registry lock still keeps a second taker out. */
	pr.p_hub = h;
	pr.p_pid = 0;
	CHECK_UINT(hub_client_foreach(h, hold_and_probe, &pr), 1);
	if (pr.p_pid > 0 && wait_ok(pr.p_pid, "prober"))
		CHECK_UINT(hub_total_clients(h), 2);
	thub_close(h);
}

static void
t_recover_reg(void)
{
	struct hub		*h;
	struct hub_stats	 st;
	struct collect		 co;
	pid_t			 dead, waiter;
	int			 status;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	dead = spawn(child_reg_die, h);
	if (!wait_child(dead, WAIT_SECONDS, &status) ||
	    !CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42)) {
		thub_close(h);
		return;
	}
	CHECK_UINT(hub_total_clients(h), 1);
	/* A process that wants the lock now waits ... */
	waiter = spawn(child_registry, h);
	CHECK(still_running(waiter));
	/* ... until the master releases it for the dead one. */
	hub_recover(h, 1, dead);
	if (!wait_ok(waiter, "registry user after recovery")) {
		/* Still locked: touching the registry would hang us too. */
		thub_close(h);
		return;
	}
	hub_worker_stats(h, 1, &st);
	CHECK_INT(st.st_pid, 0);
	/* The dead worker's client is still there to be reaped. */
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_reap_worker(h, 1, collect_fn, &co), 1);
	CHECK_STR(co.co_ci[0].ci_addr, "10.1.1.1:1");
	CHECK_UINT(hub_total_clients(h), 0);
	thub_close(h);
}

static void
t_recover_ring(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct bus		 b;
	char			*name;
	void			*bad;
	size_t			 page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t		 lost;
	pid_t			 dead, waiter;
	int			 fd, status;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	hub_publish(h, 0, 0, "before", 6);

	name = new_name();
	if (!CHECK((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) !=
	    -1)) {
		thub_close(h);
		return;
	}
	CHECK_INT(ftruncate(fd, (off_t)page), 0);
	bad = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	CHECK_INT(ftruncate(fd, 0), 0);
	close(fd);
	shm_unlink(name);
	if (!CHECK(bad != MAP_FAILED)) {
		thub_close(h);
		return;
	}

	b.b_hub = h;
	b.b_bad = bad;
	dead = spawn(child_publish_die, &b);
	if (!wait_child(dead, WAIT_SECONDS, &status) ||
	    !CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42))
		goto out;
	waiter = spawn(child_publish_one, h);
	CHECK(still_running(waiter));
	hub_recover(h, 1, dead);
	if (!wait_ok(waiter, "publisher after recovery"))
		goto out;
	/* The dead writer's record never appeared; the ring goes on. */
	read_msg(h, &cur, &msg, 1, "before", 6);
	read_msg(h, &cur, &msg, 2, "recovered", 9);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	CHECK_UINT(hub_publish(h, 0, 0, "and on", 6), 3);
	read_msg(h, &cur, &msg, 3, "and on", 6);
out:
	munmap(bad, page);
	thub_close(h);
}

/* Child: creating a hub whose master lives must fail. */
static int
child_create(void *arg)
{
	struct hub	*h;

	if ((h = hub_create(arg, HUB_RING_MIN, 1, 1)) != NULL) {
		hub_detach(h);
		return 1;
	}
	return errno == EADDRINUSE ? 0 : 2;
}

/* Child: a master that dies without removing its hub. */
static int
child_stale(void *arg)
{
	struct hub	*h;

	if ((h = hub_create(arg, HUB_RING_MIN, 1, 1)) == NULL)
		return 1;
	hub_publish(h, 0, 0, "stale", 5);
	hub_detach(h);
	return 0;
}

static void
t_in_use(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;

	if ((h = thub_open(HUB_RING_MIN, 1, 1)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	wait_ok(spawn(child_create, names[nnames - 1]),
	    "hub_create over a live hub");
	/* The live hub is untouched. */
	hub_publish(h, 0, 0, "mine", 4);
	read_msg(h, &cur, &msg, 1, "mine", 4);
	thub_close(h);
}

static void
t_stale(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	char			*name = new_name();
	int			 fd;

	if (!wait_ok(spawn(child_stale, name), "stale master"))
		return;
	/* It is still there, its master gone: a new one replaces it. */
	if (CHECK((fd = shm_open(name, O_RDONLY, 0)) != -1))
		close(fd);
	if (!CHECK((h = hub_create(name, HUB_RING_MIN, 2, 2)) != NULL))
		return;
	CHECK_INT(hub_master_pid(h), getpid());
	CHECK_UINT(hub_head(h), 0);
	hub_cursor_init(h, &cur);
	CHECK_UINT(cur.hc_seq, 0);
	CHECK_UINT(hub_publish(h, 0, 0, "fresh", 5), 1);
	thub_close(h);
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

static void
t_no_leftovers(void)
{
	int	i, fd;

	for (i = 0; i < nnames; i++) {
		errno = 0;
		if (!CHECK((fd = shm_open(names[i], O_RDONLY, 0)) == -1)) {
			FAIL("%s is left over", names[i]);
			close(fd);
		} else
			CHECK_INT(errno, ENOENT);
	}
}

int
main(void)
{
	unit_init();
	atexit(unlink_all);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGALRM, on_alarm);
	alarm(TEST_ALARM);

	unit_run("hub: hub_name", t_name);
	unit_run("hub: hub_create refuses bad sizes, makes nothing",
	    t_create_args);
	unit_run("hub: publish and read in order, exact fields",
	    t_publish_read);
	unit_run("hub: a new cursor sees only later records", t_cursor_init);
	unit_run("hub: text is cut at HUB_TEXT_MAX", t_text_max);
	unit_run("hub: records of every size wrap the ring intact", t_wrap);
	unit_run("hub: records at the very end of the ring", t_wrap_edges);
	unit_run("hub: a reader rings behind gets HUB_LOST, then goes on",
	    t_lost_all);
	unit_run("hub: HUB_LOST counts exactly what was skipped",
	    t_lost_partial);
	unit_run("hub: exactly one ring behind loses nothing",
	    t_one_ring_behind);
	unit_run("hub: hub_backlog counts unread bytes", t_backlog);
	unit_run("hub: hub_attach reads a live hub, refuses others",
	    t_attach);
	unit_run("hub: scoreboard counters per worker", t_scoreboard);
	unit_run("hub: one wake-up per sleeping worker", t_wake);
	unit_run("hub: a worker is poked again only after hub_wake_ack; "
	    "a kick is seen once", t_wake_peer);
	unit_run("hub: registry add up to max_clients, then ENOSPC",
	    t_reg_add);
	unit_run("hub: nicknames unique ignoring case, find", t_reg_nick);
	unit_run("hub: foreach in slot order", t_reg_foreach);
	unit_run("hub: reap_worker removes only that worker's clients",
	    t_reg_reap);
	unit_run("hub: recover for a pid holding nothing is harmless",
	    t_recover_harmless);
	unit_run("hub: recover releases a registry lock held by the dead",
	    t_recover_reg);
	unit_run("hub: recover releases a ring lock held by the dead",
	    t_recover_ring);
	unit_run("hub: hub_create over a live master is EADDRINUSE",
	    t_in_use);
	unit_run("hub: hub_create replaces a dead master's hub", t_stale);
	unit_run("hub: 4 writers, 3 readers, big ring: one order, no loss",
	    t_conc_big);
	unit_run("hub: 4 writers, 3 readers, small ring: loss, never a "
	    "torn record", t_conc_small);
	unit_run("hub: a reader lapped while it copies: never a torn record",
	    t_conc_lapped);
	unit_run("hub: no shared memory objects left", t_no_leftovers);
	return unit_done();
}
