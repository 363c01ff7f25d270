/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * bridge.c -- chatd -C: the process that joins this host's hub to the
 * cluster's JetStream stream.  The master runs it in the hub's last
 * slot and replaces it like a worker when it dies.
 *
 * Two directions, two threads:
 *
 * - Out (the main thread): it reads the ring like a worker.  The
 *   records marked CLUSTER_OUT that are waiting go out together, as
 *   one stream message (a batch: at most BRIDGE_BATCH_MAX bytes), with
 *   the id "HOST-FIRST-LAST" for JetStream's de-duplication, and the
 *   bridge waits for the acknowledgment, retrying for as long as it
 *   takes: it reads nothing more meanwhile, so the workers, whose
 *   records it no longer reads, hold their clients back (hub_lag).  One
 *   message per batch keeps the batch's order whatever fails.  A record
 *   marked CLUSTER_REPLY is an answer owed to one client; it is put
 *   back into the ring for that client once the batch with everything
 *   before it is acknowledged, so the client hears "received" only for
 *   what the stream has.
 *
 * - In (the library's thread for the subscription): an ordered
 *   consumer delivers the stream in order, from the sequence after the
 *   last one appended (cs_stream_seq), and each record goes into the
 *   ring as it came, with its origin and target, unless it is one
 *   already appended (cs_seen: a batch sent again by a new bridge may
 *   differ from the first, so JetStream's ids cannot catch every
 *   repeat; the hosts' own record numbers can; the departures of a
 *   dead host's clients, host 0, are each a message of their own, which
 *   JetStream's id alone de-duplicates).  A gap that cannot be
 *   filled (the stream dropped old records) is announced in the ring as
 *   "*** N messages lost".
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridgeboard.h"
#include "chatd.h"
#include "cluster.h"
#include "ev.h"
#include "log.h"
#include "util.h"

/*
 * A stream message: the origin host (8 bytes), then records: the
 * host's ring seq, origin, target (8 bytes each), the text's length (2)
 * and the text; numbers big-endian.
 */
#define BRIDGE_MSG_HDR		8
#define BRIDGE_REC_HDR		26
#define BRIDGE_BATCH_MAX	(64 * 1024)
/*
 * How long one publish waits for its acknowledgment before a retry:
 * well under HUB_STALL_MS, so that the bridge, beating between tries,
 * keeps holding the workers back while NATS does not answer.
 */
#define BRIDGE_PUB_WAIT_MS	500
/* The main thread beats this often, even while it waits for NATS. */
#define BRIDGE_BEAT_MS		250
/* The stream's heartbeat to the consumer, in ns. */
#define BRIDGE_HEARTBEAT_NS	((int64_t)1000 * 1000 * 1000)
/* The consumer waits at most this long for slow local readers. */
#define BRIDGE_HOLD_MAX_MS	5000

static struct {
	struct hub		*hub;
	struct hub_cursor	 cursor;
	struct cluster_state	*st;
	struct bridgeboard	*board;		/* the URL, for chatd -S */
	natsSubscription	*sub;
	uint64_t		 host;
	int			 reaping;	/* a dead host's clean-up */
	int			 wake_fd;
	int			 master_fd;
	pthread_t		 follower[2];	/* _who, _nicks */
	int			 following;
	atomic_int		 stop_following;
} b;

static volatile sig_atomic_t	got_term;

static void
bridge_sigterm(int sig)
{
	(void)sig;
	got_term = 1;
	wake_post(b.wake_fd);
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t
get_be16(const unsigned char *p)
{
	return (uint64_t)p[0] << 8 | p[1];
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sleep up to ms, or less if the master goes away; 0, or -1 if gone. */
static int
bridge_pause(int ms)
{
	struct pollfd	pfd;
	char		byte;

	pfd.fd = b.master_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms) == 1 && read(b.master_fd, &byte, 1) == 0)
		got_term = 1;
	return got_term ? -1 : 0;
}

/*
 * The local readers are far behind: wait for them (as a worker's
 * clients would be held), but never for longer than BRIDGE_HOLD_MAX_MS;
 * the stream's flow control holds the servers back meanwhile.
 */
static void
bridge_wait_room(void)
{
	struct timespec	ts = { 0, 1000000 };
	int		i;

	for (i = 0; i < BRIDGE_HOLD_MAX_MS && !got_term &&
	    hub_lag(b.hub, now_ms(), NULL) > hub_high(b.hub); i++)
		nanosleep(&ts, NULL);
}

/*
 * Into the ring.  The bridge is the only process with two threads that
 * publish (the stream's messages arrive on a NATS thread, the replies
 * go out from the main one), and a slot's area of the ring has one
 * writer at a time (hub.h): this lock is the bridge's own, so a
 * stopped bridge still holds up nobody else.
 */
static void
bridge_ring_put(uint64_t origin, uint64_t target, const char *text,
    size_t len)
{
	static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);
	hub_publish(b.hub, origin, target, text, len);
	pthread_mutex_unlock(&lock);
}

/* 1 if host's record seq was appended already; else note it. */
static int
bridge_seen(uint64_t host, uint64_t seq)
{
	struct cluster_seen	*sn = &b.st->cs_seen[host % CLUSTER_SEEN_SLOTS];

	if (atomic_load(&sn->sn_host) != host) {
		atomic_store(&sn->sn_host, host);
		atomic_store(&sn->sn_seq, 0);
	}
	if (seq <= atomic_load(&sn->sn_seq))
		return 1;
	atomic_store(&sn->sn_seq, seq);
	return 0;
}

/* One stream message's records into the ring; -1 if it is malformed. */
static int
bridge_append(const unsigned char *p, size_t len)
{
	uint64_t	host, seq;
	size_t		tlen;

	if (len < BRIDGE_MSG_HDR)
		return -1;
	host = get_be64(p);
	p += BRIDGE_MSG_HDR;
	len -= BRIDGE_MSG_HDR;
	while (len > 0) {
		if (len < BRIDGE_REC_HDR)
			return -1;
		tlen = (size_t)get_be16(p + 24);
		if (tlen > HUB_TEXT_MAX || tlen > len - BRIDGE_REC_HDR)
			return -1;
		seq = get_be64(p);
		/* Host 0: a departure a reaper sent (bridge_announce). */
		if (host == 0 || !bridge_seen(host, seq)) {
			bridge_wait_room();
			bridge_ring_put(get_be64(p + 8), host == 0 ?
			    CLUSTER_GONE : get_be64(p + 16),
			    (const char *)p + BRIDGE_REC_HDR, tlen);
			hub_count_out(b.hub, 1, 0);
		}
		p += BRIDGE_REC_HDR + tlen;
		len -= BRIDGE_REC_HDR + tlen;
	}
	return 0;
}

/* In: one message of the stream, in stream order, into the ring. */
static void
bridge_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m,
    void *arg)
{
	jsMsgMetaData		*meta = NULL;
	uint64_t		 seq, want;
	char			 line[64];
	int			 n;

	(void)nc;
	(void)sub;
	(void)arg;
	if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
		log_warnx("stream message without metadata; skipped");
		natsMsg_Destroy(m);
		return;
	}
	seq = meta->Sequence.Stream;
	hub_worker_ext(b.hub, BRIDGE_EXT_PENDING, meta->NumPending);
	jsMsgMetaData_Destroy(meta);
	want = atomic_load(&b.st->cs_stream_seq) + 1;
	if (seq < want) {		/* seen before a consumer reset */
		natsMsg_Destroy(m);
		return;
	}
	if (seq > want) {
		log_warnx("stream %s: messages %" PRIu64 " to %" PRIu64
		    " are gone", cluster_stream(), want, seq - 1);
		n = snprintf(line, sizeof(line), PROTO_LOST,
		    (unsigned long long)(seq - want));
		bridge_wait_room();
		bridge_ring_put(0, 0, line, (size_t)n);
	}
	if (bridge_append((const unsigned char *)natsMsg_GetData(m),
	    (size_t)natsMsg_GetDataLength(m)) == -1)
		log_warnx("stream message %" PRIu64 " is malformed; "
		    "the rest of it is skipped", seq);
	atomic_store(&b.st->cs_stream_seq, seq);
	hub_worker_ext(b.hub, BRIDGE_EXT_SEQ, seq);
	natsMsg_Destroy(m);
}

/* Subscribe from the record after the last one appended. */
static int
bridge_subscribe(void)
{
	jsSubOptions	so;
	jsErrCode	jerr = 0;
	natsStatus	s;

	jsSubOptions_Init(&so);
	so.Stream = cluster_stream();
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = atomic_load(&b.st->cs_stream_seq) + 1;
	/*
	 * Heartbeats tell the library that the feed stopped (its server
	 * died): it then makes a new consumer from the record after the
	 * last it delivered.  The default, 5 s, would stall the chat long.
	 */
	so.Config.Heartbeat = BRIDGE_HEARTBEAT_NS;
	s = js_Subscribe(&b.sub, cluster_js(), cluster_subject(),
	    bridge_on_msg, NULL, NULL, &so, &jerr);
	if (s != NATS_OK) {
		log_warnx("subscribe %s: %s (%d)", cluster_subject(),
		    natsStatus_GetText(s), (int)jerr);
		b.sub = NULL;
		return -1;
	}
	/* A slow ring must not make the library drop records. */
	natsSubscription_SetPendingLimits(b.sub, -1, -1);
	return 0;
}

/*
 * The first bridge of this master: where the stream ends now is where
 * this host joins the chat.
 */
static int
bridge_first_seq(void)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;

	if (atomic_load(&b.st->cs_host) != 0)
		return 0;
	s = js_GetStreamInfo(&si, cluster_js(), cluster_stream(), NULL,
	    &jerr);
	if (s != NATS_OK) {
		log_warnx("stream %s: %s", cluster_stream(),
		    natsStatus_GetText(s));
		return -1;
	}
	atomic_store(&b.st->cs_stream_seq, si->State.LastSeq);
	jsStreamInfo_Destroy(si);
	return 0;
}

/* Until NATS answers: the stream, the buckets, our number, the feed. */
static void
bridge_start(int ready_fd)
{
	uint64_t	host;
	int		ms = 100;
	char		byte = 1;

	for (;;) {
		if (cluster_setup() == 0 && bridge_first_seq() == 0 &&
		    (atomic_load(&b.st->cs_host) != 0 ||
		    (host = cluster_host_number()) != 0)) {
			if (atomic_load(&b.st->cs_host) == 0)
				atomic_store(&b.st->cs_host, host);
			if (bridge_subscribe() == 0)
				break;
		}
		if (bridge_pause(ms) == -1)
			exit(0);
		if (ms < 2000)
			ms *= 2;
	}
	b.host = atomic_load(&b.st->cs_host);
	while (cluster_host_join(b.host) == -1)
		if (bridge_pause(500) == -1)
			exit(0);
	if (ready_fd != -1) {
		if (write(ready_fd, &byte, 1) == -1)
			log_warn("write to master");
		close(ready_fd);
	}
	hub_worker_ext(b.hub, BRIDGE_EXT_HOST, b.host);
	hub_worker_ext(b.hub, BRIDGE_EXT_SEQ, atomic_load(&b.st->cs_stream_seq));
	log_info("joined stream %s as host %" PRIu64 " at record %" PRIu64,
	    cluster_stream(), b.host, atomic_load(&b.st->cs_stream_seq));
}

/*
 * The mirror (mirror.h): a thread per bucket follows it, the only
 * writer of its table, so that neither waits for the other nor for the
 * stream; /who and /msg on this host read what they put there.
 */
static void *
bridge_follow_who(void *arg)
{
	(void)arg;
	cluster_mirror_follow(MIRROR_WHO, b.host, &b.stop_following);
	return NULL;
}

static void *
bridge_follow_nicks(void *arg)
{
	(void)arg;
	cluster_mirror_follow(MIRROR_NICKS, b.host, &b.stop_following);
	return NULL;
}

static void
bridge_follow_start(void)
{
	sigset_t	all, old;
	int		e;

	/* Signals are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((e = pthread_create(&b.follower[0], NULL, bridge_follow_who,
	    NULL)) != 0 || (e = pthread_create(&b.follower[1], NULL,
	    bridge_follow_nicks, NULL)) != 0) {
		errno = e;
		fatal("pthread_create");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	b.following = 1;
}

static void
bridge_follow_stop(void)
{
	if (!b.following)
		return;
	atomic_store(&b.stop_following, 1);
	pthread_join(b.follower[0], NULL);
	pthread_join(b.follower[1], NULL);
	b.following = 0;
}

/* What the bridge has read from the ring and not yet dealt with. */
static struct {
	unsigned char	data[BRIDGE_BATCH_MAX];
	size_t		len;		/* BRIDGE_MSG_HDR when empty */
	uint64_t	first, last;	/* ring seqs of its records */
	unsigned	count;
	struct buf	replies;	/* origin, target, length, text */
} out;

/*
 * For chatd -S: whether the bridge is connected to NATS and, on its
 * board, to which server (the library moves to another by itself).
 */
static void
bridge_show_conn(void)
{
	static char	shown[BRIDGEBOARD_URL_MAX];
	char		url[BRIDGEBOARD_URL_MAX];
	natsStatus	s;

	url[0] = '\0';
	if (natsConnection_Status(cluster_conn()) ==
	    NATS_CONN_STATUS_CONNECTED &&
	    (s = natsConnection_GetConnectedUrl(cluster_conn(), url,
	    sizeof(url))) != NATS_OK)
		snprintf(url, sizeof(url), "a server (its URL: %s)",
		    natsStatus_GetText(s));
	hub_worker_ext(b.hub, BRIDGE_EXT_CONNECTED, url[0] != '\0');
	if (strcmp(url, shown) == 0)
		return;
	if (url[0] != '\0')
		log_info("connected to %s", url);
	else
		log_info("not connected to NATS");
	memcpy(shown, url, sizeof(shown));
	bridgeboard_set_url(b.board, url);
}

/* Publish the batch, wait until JetStream has it; -1: told to stop. */
static int
bridge_publish(void)
{
	jsPubOptions	po;
	jsErrCode	jerr;
	natsStatus	s;
	char		id[64];
	int		warned = 0;

	put_be64(out.data, b.host);
	snprintf(id, sizeof(id), "%" PRIu64 "-%" PRIu64 "-%" PRIu64, b.host,
	    out.first, out.last);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = BRIDGE_PUB_WAIT_MS;
	for (;;) {
		jerr = 0;
		s = js_Publish(NULL, cluster_js(), cluster_subject(), out.data,
		    (int)out.len, &po, &jerr);
		if (s == NATS_OK)
			break;
		if (!warned++)
			log_warnx("publish to %s: %s (%d); retrying",
			    cluster_subject(), natsStatus_GetText(s),
			    (int)jerr);
		/* Still here: the workers wait for us, not for a dead one. */
		hub_worker_beat(b.hub, &b.cursor, now_ms());
		bridge_show_conn();
		if (bridge_pause(100) == -1)
			return -1;
	}
	if (warned)
		log_info("publish to %s: going on", cluster_subject());
	atomic_fetch_add(&b.st->cs_published, out.count);
	hub_count_in(b.hub, out.count);
	return 0;
}

/*
 * Deal with everything read up to upto: the batch into the stream, then
 * the answers owed into the ring, then remember how far the ring was
 * read.  -1 if told to stop first (a new bridge does it again).
 */
static int
bridge_flush(const struct hub_cursor *upto)
{
	const unsigned char	*r;
	size_t			 len;

	if (out.count > 0 && bridge_publish() == -1)
		return -1;
	while (out.replies.b_len > 0) {
		r = (const unsigned char *)buf_head(&out.replies);
		len = (size_t)get_be16(r + 16);
		bridge_ring_put(get_be64(r), get_be64(r + 8),
		    (const char *)r + 18, len);
		buf_consume(&out.replies, 18 + len);
	}
	out.len = BRIDGE_MSG_HDR;
	out.count = 0;
	atomic_store(&b.st->cs_ring_seq, upto->hc_seq);
	hub_worker_beat(b.hub, &b.cursor, now_ms());
	return 0;
}

static void
put_be16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* A record for the stream joins the batch. */
static void
bridge_batch_add(const struct hub_msg *msg)
{
	unsigned char	*p = out.data + out.len;

	if (out.count == 0)
		out.first = msg->m_seq;
	out.last = msg->m_seq;
	put_be64(p, msg->m_seq);
	put_be64(p + 8, msg->m_origin);
	put_be64(p + 16, msg->m_target & ~CLUSTER_OUT);
	put_be16(p + 24, msg->m_len);
	memcpy(p + BRIDGE_REC_HDR, msg->m_text, msg->m_len);
	out.len += BRIDGE_REC_HDR + msg->m_len;
	out.count++;
}

/* An answer owed to a client waits for the batch before it. */
static void
bridge_reply_add(const struct hub_msg *msg)
{
	unsigned char	hdr[18];

	put_be64(hdr, msg->m_origin);
	put_be64(hdr + 8, msg->m_target & ~CLUSTER_REPLY);
	put_be16(hdr + 16, msg->m_len);
	if (buf_append(&out.replies, hdr, sizeof(hdr)) == -1 ||
	    buf_append(&out.replies, msg->m_text, msg->m_len) == -1)
		fatal("bridge: out of memory for replies");
}

/* Out: everything new in the ring, in ring order. */
static void
bridge_forward(void)
{
	static struct hub_msg	msg;
	struct hub_cursor	before;
	enum hub_read_result	r;
	uint64_t		lost, end = hub_head(b.hub);
	unsigned		n = 0;

	/*
	 * What is there now, and no more: the consumer thread appends all
	 * the time, and the batch must not wait for a quiet ring.
	 */
	while (!got_term && b.cursor.hc_seq < end) {
		before = b.cursor;
		r = hub_read(b.hub, &b.cursor, &msg, &lost);
		if (r == HUB_EMPTY)
			break;
		if (r == HUB_LOST)
			log_warnx("fell a ring behind: %" PRIu64 " records "
			    "not sent to the stream", lost);
		else if (msg.m_target & CLUSTER_OUT) {
			/* Full: send what is before this record first. */
			if (out.len + BRIDGE_REC_HDR + msg.m_len >
			    sizeof(out.data) && bridge_flush(&before) == -1)
				return;
			bridge_batch_add(&msg);
		} else if (msg.m_target & CLUSTER_REPLY)
			bridge_reply_add(&msg);
		/* The consumer thread waits on this cursor: show progress. */
		if (++n % 64 == 0)
			hub_worker_beat(b.hub, &b.cursor, now_ms());
	}
	if (!got_term)
		(void)bridge_flush(&b.cursor);
}

/*
 * Where the previous bridge stopped, so that nothing published while
 * no bridge ran is left out (hub_read reports it if it was overwritten).
 */
static void
bridge_cursor(void)
{
	hub_cursor_init(b.hub, &b.cursor);
	if (atomic_load(&b.st->cs_ring_set))
		b.cursor.hc_seq = atomic_load(&b.st->cs_ring_seq);
	else {
		atomic_store(&b.st->cs_ring_seq, b.cursor.hc_seq);
		atomic_store(&b.st->cs_ring_set, 1);
	}
}

/*
 * CHATD_TEST_REAP_EXIT=FILE, for the tests only: the first bridge that
 * announces a departure makes FILE and dies at once, before the
 * client's name and entry are freed -- a reaper killed half-way, on cue.
 */
static void
bridge_test_reap_exit(void)
{
	const char	*path = getenv("CHATD_TEST_REAP_EXIT");
	int		 fd;

	if (path == NULL || *path == '\0' ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return;
	close(fd);
	log_warnx("CHATD_TEST_REAP_EXIT: dying half-way through a clean-up");
	_exit(3);
}

/*
 * A client of a host that died: its departure goes to the stream as a
 * message of its own, with the id "gone-ID", so that a reaper that
 * announces it again is told it is a duplicate and the stream keeps one
 * (cluster.c, Hosts).  Its host field is 0, which is no host's number:
 * JetStream's id alone de-duplicates it.  1: stored, 0: there already,
 * -1: NATS did not answer.
 */
static int
bridge_announce(const struct hub_client_info *ci, void *arg)
{
	static unsigned char	 msg[BRIDGE_MSG_HDR + BRIDGE_REC_HDR +
				    HUB_TEXT_MAX];
	unsigned char		*p = msg + BRIDGE_MSG_HDR;
	jsPubOptions		 po;
	jsPubAck		*pa = NULL;
	jsErrCode		 jerr = 0;
	natsStatus		 s;
	size_t			 n;
	char			 id[32];
	int			 rv;

	(void)arg;
	if ((n = conn_format_lost(ci, (char *)p + BRIDGE_REC_HDR)) == 0)
		return 0;	/* cannot be said: nothing to announce */
	put_be64(msg, 0);
	put_be64(p, 0);
	put_be64(p + 8, ci->ci_id);
	put_be64(p + 16, 0);
	put_be16(p + 24, n);
	snprintf(id, sizeof(id), "gone-%" PRIu64, ci->ci_id);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = BRIDGE_PUB_WAIT_MS;
	s = js_Publish(&pa, cluster_js(), cluster_subject(), msg,
	    (int)(BRIDGE_MSG_HDR + BRIDGE_REC_HDR + n), &po, &jerr);
	if (s != NATS_OK) {
		log_warnx("publish %s to %s: %s (%d)", id, cluster_subject(),
		    natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	rv = pa->Duplicate ? 0 : 1;
	jsPubAck_Destroy(pa);
	if (rv == 1) {
		atomic_fetch_add(&b.st->cs_published, 1);
		hub_count_in(b.hub, 1);
		bridge_test_reap_exit();
	}
	return rv;
}

/*
 * Say we are alive; find the hosts that are not, and clean up after
 * one a slice per pass of the loop, forwarding in between.
 */
static void
bridge_hosts(void)
{
	static int64_t	last;
	int64_t		now = now_ms();

	if (now - last >= CLUSTER_BEAT_MS) {
		last = now;
		bridge_show_conn();
		cluster_host_beat(b.host);
	} else if (!b.reaping)
		return;
	b.reaping = cluster_reap_hosts(b.host, bridge_announce, NULL);
}

void
bridge_run(int slot, struct hub *hub, int master_fd, const int *wake_fds,
    struct cluster_state *st, struct bridgeboard *board, int ready_fd)
{
	struct sigaction	sa;
	struct pollfd		pfd[2];
	char			byte;

	b.hub = hub;
	b.st = st;
	b.board = board;
	b.master_fd = master_fd;
	b.wake_fd = wake_fds[0];
	log_procname("bridge");

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = bridge_sigterm;
	sigaction(SIGTERM, &sa, NULL);

	hub_worker_start(hub, slot, getpid());
	hub_worker_reader(hub);
	bridge_cursor();
	out.len = BRIDGE_MSG_HDR;
	buf_init(&out.replies, (size_t)-1);
	hub_worker_beat(hub, &b.cursor, now_ms());
	if (cluster_open("bridge") == -1)
		exit(1);
	bridge_start(ready_fd);
	bridge_follow_start();

	pfd[0].fd = b.wake_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = master_fd;
	pfd[1].events = POLLIN;
	while (!got_term) {
		bridge_hosts();
		bridge_forward();
		if (got_term)
			break;
		if (poll(pfd, 2, hub_backlog(hub, &b.cursor) > 0 ||
		    b.reaping ? 0 : BRIDGE_BEAT_MS) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((pfd[1].revents & (POLLIN | POLLHUP)) &&
		    read(master_fd, &byte, 1) <= 0) {
			log_debug("master gone");
			break;
		}
		if (pfd[0].revents & POLLIN) {
			wake_drain(b.wake_fd);
			hub_wake_ack(hub);
		}
	}
	bridge_follow_stop();
	/* The subscription's thread appends to the ring: stop it first. */
	if (b.sub != NULL) {
		natsSubscription_Unsubscribe(b.sub);
		natsSubscription_Destroy(b.sub);
	}
	cluster_close();
	log_debug("stopped");
	exit(0);
}
