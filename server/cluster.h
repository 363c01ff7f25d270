/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * cluster.h -- chatd -C: several chatd hosts sharing one chat through a
 * NATS JetStream stream.  Only built when libnats is found (CHATD_CLUSTER).
 *
 * Who orders: the stream.  A worker never puts what its clients say
 * straight into the order: it appends a record marked CLUSTER_OUT to
 * the local ring, which every worker skips (no client has that id).
 * The bridge (bridge.c), a child of the master in the hub's last slot,
 * publishes each such record to the stream and waits for JetStream's
 * acknowledgment; it also consumes the stream in order, from the last
 * sequence it appended, and appends every record to the local ring,
 * where the workers deliver it as usual.  A record marked CLUSTER_REPLY
 * is the answer to the client that published before it ("TEXT"
 * received by the server): the bridge puts it in the ring, for that
 * client alone, only once everything before it was acknowledged.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "mirror.h"

/* Marks in a ring record's target; client ids never have them. */
#define CLUSTER_OUT		((uint64_t)1 << 63)
#define CLUSTER_REPLY		((uint64_t)1 << 62)
/*
 * A dead host's client's departure, as a bridge appends it: for
 * everyone, but delivered once per client id however often it is
 * appended (a bridge that dies between appending a stream message and
 * noting that it did appends it again; a client id is never reused).
 */
#define CLUSTER_GONE		((uint64_t)1 << 61)
/* A client's id: the host's number above this bit, the hub's below. */
#define CLUSTER_HOST_SHIFT	40
#define CLUSTER_HOST_MAX	(((uint64_t)1 << 22) - 1)
/* -N: letters, digits, '-' and '_'; it names the stream and buckets. */
#define CLUSTER_NAME_MAX	32
#define CLUSTER_NAME_DEFAULT	"chatd"
/* -C: at most this many server URLs. */
#define CLUSTER_URLS_MAX	16
/* A host not heard of for this long is dead; it beats this often. */
#define CLUSTER_ALIVE_TTL_MS	3000
#define CLUSTER_BEAT_MS		1000
/* How long the master waits for the bridge's first connection. */
#define CLUSTER_START_MS	20000

/*
 * What the master and the bridge share (an anonymous shared mapping
 * made by the master): the host's number, kept for the master's life,
 * and where the bridge is, so that a new bridge resumes there.
 */
#define CLUSTER_SEEN_SLOTS	256

struct cluster_seen {
	_Atomic uint64_t	sn_host;
	_Atomic uint64_t	sn_seq;		/* its last record appended */
};

struct cluster_state {
	_Atomic uint64_t	cs_host;	/* 0 until the first bridge */
	_Atomic uint64_t	cs_stream_seq;	/* last appended to the ring */
	_Atomic uint64_t	cs_ring_seq;	/* the bridge's ring cursor */
	atomic_int		cs_ring_set;	/* cs_ring_seq is meaningful */
	_Atomic uint64_t	cs_published;	/* records sent to the stream */
	/*
	 * Per origin host, the last record appended (by the host's own
	 * ring seq), so a record sent twice -- in two batches, by a bridge
	 * and by the one that replaced it -- is appended once.
	 */
	struct cluster_seen	cs_seen[CLUSTER_SEEN_SLOTS];
};

struct bridgeboard;
struct hub;
struct hub_client_info;
struct mirror;

/* cluster.c: the connection, names, and the nick bucket. */
/* Check -C's URL list; 0, or -1 with *why set. */
int	cluster_check_urls(const char *urls, const char **why);
int	cluster_check_name(const char *name);
/*
 * Connect (retrying in the background); 0, or -1 logged.  At exit, or
 * at cluster_close, what was sent without waiting is waited for (for
 * up to 2 s).
 */
int	cluster_open(const char *procname);
void	cluster_close(void);
natsConnection	*cluster_conn(void);
jsCtx		*cluster_js(void);
/* The stream's and buckets' names, from -N. */
const char *cluster_stream(void);
const char *cluster_subject(void);
/* How many replicas the stream and buckets get: the URLs, at most 3. */
int	cluster_replicas(void);
/*
 * The nick bucket: an atomic create makes a name unique across every
 * host.  claim: 0, or -1 with errno EEXIST (taken) or EAGAIN (NATS did
 * not answer).  find: the id of the client called nick on another host,
 * its exact spelling in exact, or 0; from the mirror, without asking
 * NATS.
 */
int	cluster_nick_claim(const char *nick, uint64_t id);
void	cluster_nick_release(const char *nick);
/* The client's own name, spelt otherwise: the entry follows. */
void	cluster_nick_respell(const char *nick, uint64_t id);
uint64_t cluster_nick_find(const char *nick, char *exact, size_t len);
/*
 * The presence bucket, for /who: every client of every host.  put on
 * arrival and rename, remove on departure, neither waiting for NATS
 * (the entry follows within a round trip).  scan is chat_ops.scan over
 * this host's registry, then over the mirror of the other hosts'
 * clients; count is how many both have.  Neither asks NATS.
 */
void	cluster_who_put(uint64_t id, const char *nick, const char *addr);
void	cluster_who_remove(uint64_t id);
unsigned cluster_who_scan(struct hub *, uint64_t *pos,
	    int (*fn)(const struct hub_client_info *, void *), void *arg,
	    unsigned max);
unsigned cluster_who_count(struct hub *);
/*
 * The mirror (mirror.h): the master's, set before it forks.  The
 * bridge follows bucket which into it until *stop, leaving out the
 * clients of host self (the registry has them); a thread of its own
 * for each bucket, its only writer.
 */
void	cluster_mirror_set(struct mirror *);
void	cluster_mirror_follow(enum mirror_table which, uint64_t self,
	    atomic_int *stop);
/*
 * Hosts (the bridge): join once, beat every CLUSTER_BEAT_MS; reap
 * cleans up after a host found dead whose clean-up this host won: it
 * calls fn for a slice of its clients and returns 1 while more is left
 * (call again soon), else 0.  fn announces the departure in the stream
 * with the id "gone-ID" and returns 1 (stored), 0 (a duplicate:
 * announced already) or -1 (no answer).
 */
int	cluster_host_join(uint64_t host);
void	cluster_host_beat(uint64_t host);
int	cluster_reap_hosts(uint64_t self,
	    int (*fn)(const struct hub_client_info *, void *), void *arg);
/* The bridge: create the stream and the buckets if missing. */
int	cluster_setup(void);
/* The bridge: a number for this host, unique in the cluster, or 0. */
uint64_t cluster_host_number(void);

/* bridge.c */
void	bridge_run(int slot, struct hub *, int master_fd,
	    const int *wake_fds, struct cluster_state *, struct bridgeboard *,
	    int ready_fd)
	    __attribute__((noreturn));

#endif
