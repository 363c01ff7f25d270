/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * hub.h -- the hub: one POSIX shared-memory object holding the message
 * ring every worker publishes to and reads from, the registry of every
 * client of the server, and the scoreboard.  hub.c is the only file
 * that touches its semaphores.
 */
#ifndef HUB_H
#define HUB_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define HUB_WORKERS_MAX		64
/* The text of one record: a formatted line (WHO, TEXT and the frame). */
#define HUB_TEXT_MAX		(2 * PROTO_WHO_MAX + PROTO_LINE_MAX + 64)
#define HUB_RING_MIN		(64 * 1024)
#define HUB_RING_MAX		((size_t)1 << 30)
/* "/chatd-" + a numeric IPv6 address with a scope + "-65535" */
#define HUB_NAME_MAX		96
/* A worker that has not run for this long no longer holds anyone back. */
#define HUB_STALL_MS		1000
/* A rename waits no longer than this for another worker's rename. */
#define HUB_LOCK_WAIT_MS	50
/* Publishers wait while a live reader is this many records behind. */
#define HUB_HIGH_MARK		512

/* What a reader gets: one record, copied out of the ring. */
struct hub_msg {
	uint64_t	m_seq;		/* 1, 2, ... in publication order */
	uint64_t	m_origin;	/* client not to deliver to, or 0 */
	uint64_t	m_target;	/* the one client to deliver to, or 0 */
	size_t		m_len;
	char		m_text[HUB_TEXT_MAX];
};

/* A reader's position; each worker owns one. */
struct hub_cursor {
	uint64_t	hc_seq;		/* seq of the last record consumed:
					   records read so far */
};

enum hub_read_result {
	HUB_EMPTY,			/* nothing new */
	HUB_MSG,			/* *msg holds the next record */
	HUB_LOST			/* fell a ring behind; *lost skipped */
};

/* One client as every worker sees it, for /nick, /who and /msg. */
struct hub_client_info {
	uint64_t	ci_id;
	int		ci_worker;
	char		ci_nick[PROTO_NICK_MAX + 1];	/* "" until /nick */
	char		ci_addr[PROTO_ADDR_MAX];
};

/* Figures a reader-only slot may publish for the scoreboard. */
#define HUB_EXT_MAX		4

/* One worker's line on the scoreboard. */
struct hub_stats {
	pid_t		st_pid;
	unsigned	st_clients;
	uint64_t	st_msgs_in;
	uint64_t	st_msgs_out;
	uint64_t	st_bytes_out;
	uint64_t	st_cursor;	/* records read, as hub_head */
	int64_t		st_beat_ms;	/* last seen running (now_ms) */
	int		st_held;	/* waiting for a slower reader */
	uint64_t	st_holds;	/* times it was held back */
	int		st_reader;	/* chatd -C's bridge, not a worker */
	uint64_t	st_ext[HUB_EXT_MAX];	/* its figures (hub_worker_ext) */
};

struct hub;

/*
 * The object's name for the chatd listening on host (numeric, without
 * brackets) and this TCP port: "/chatd-127.0.0.1-8080", so chatds on
 * two addresses with one port number each have their own.
 */
void	hub_name(char *buf, size_t len, const char *host, int port);
/* The bytes of shared memory a hub of these sizes takes; 0 if too big. */
size_t	hub_size(size_t ring_size, int nworkers, unsigned max_clients);

/* What is under a hub's name, for chatd's startup checks and chatd -S. */
enum hub_state {
	HUB_ABSENT,			/* nothing */
	HUB_RUNNING,			/* a hub whose master is alive */
	HUB_STALE,			/* a hub whose master is gone */
	HUB_INVALID			/* something else: see hi_problem */
};

struct hub_info {
	enum hub_state	 hi_state;
	uid_t		 hi_uid;	/* the object's owner */
	off_t		 hi_size;
	pid_t		 hi_master;	/* RUNNING, STALE */
	const char	*hi_problem;	/* INVALID: what is wrong, static */
};

/*
 * Look at the object called name without trusting anything in it:
 * every size in the header is checked against the others and against
 * the object's real size.  0 with *hi filled, or -1 with errno when the
 * object exists but cannot be read (EACCES).
 */
int	hub_probe(const char *name, struct hub_info *hi);

/*
 * Master: create the object (removing a stale one whose master is dead;
 * EADDRINUSE if its master lives), size it for the ring, nworkers and
 * max_clients with its memory reserved (ENOSPC if the filesystem is too
 * small: see hub_size), and initialise the semaphores.  The handle is
 * inherited by every worker forked afterwards.  NULL with errno on
 * failure.
 */
struct hub	*hub_create(const char *name, size_t ring_size, int nworkers,
		    unsigned max_clients);
/*
 * Attach to an existing hub read-only, for the scoreboard (chatd -S).
 * NULL with errno; EPROTO if the header or the size is not consistent.
 */
struct hub	*hub_attach(const char *name);
/*
 * Master: is the hub still what hub_create made (size, header)?  0, or
 * -1 with *problem set (a static string), or with errno if fstat fails.
 * Call before touching the hub after a worker died: a truncated object
 * raises SIGBUS and a corrupt header would crash every new worker.
 */
int		 hub_check(const struct hub *, const char **problem);
/* The master's pid changed (it detached with -d). */
void		 hub_set_master(struct hub *, pid_t);
/* Unmap; the master also removes the object with hub_unlink. */
void		 hub_detach(struct hub *);
/* The object's name, as given to hub_create or hub_attach. */
const char	*hub_path(const struct hub *);
int		 hub_unlink(struct hub *);
/* Give the hub to uid/gid (-U), so chatd -S run as that user can read it. */
int		 hub_chown(struct hub *, uid_t, gid_t);

/* Master: the descriptor hub_publish pokes to wake worker slot w. */
void		 hub_set_wake(struct hub *, int w, int wake_wfd);
/* Worker: "I am slot w, process pid"; resets the slot's counters. */
void		 hub_worker_start(struct hub *, int w, pid_t pid);
/*
 * This slot reads the ring but serves no clients (chatd -C's bridge):
 * hub_active leaves it out of the share of newcomers.
 */
void		 hub_worker_reader(struct hub *);
/* Such a slot's figure i (< HUB_EXT_MAX), shown by the scoreboard. */
void		 hub_worker_ext(struct hub *, int i, uint64_t v);
/*
 * Master, before any client: ids start at base (chatd -C puts the
 * host's number in the high bits, so ids are unique in the cluster).
 */
void		 hub_set_id_base(struct hub *, uint64_t base);
/* Master: release the locks a dead process held, clear its slot. */
void		 hub_recover(struct hub *, int w, pid_t pid);

/*
 * Append a record and wake the other workers.  Takes no lock, and a
 * process stopped anywhere in here holds up nobody (see hub_ring.c).
 * A process publishes from its own worker slot (hub_worker_start), or,
 * one process at a time, from the master's handle; one thread at a time
 * (a slot's area of the ring has one writer).  Never waits for a
 * reader (the oldest records are overwritten): the callers hold back
 * their own clients instead (hub_lag, hub_hold).  Returns the record's
 * seq.
 */
uint64_t	 hub_publish(struct hub *, uint64_t origin, uint64_t target,
		    const char *text, size_t len);
/* A cursor at the current head: it will see only what comes next. */
void		 hub_cursor_init(struct hub *, struct hub_cursor *);
/*
 * Copy the record after *cur into *msg and advance.  If the writers
 * have overwritten it, report in *lost how many records were skipped:
 * that one, if only its writer's area was lapped, or all up to the head
 * if the whole ring was.  Never blocks.
 */
enum hub_read_result hub_read(struct hub *, struct hub_cursor *,
		    struct hub_msg *msg, uint64_t *lost);
/* Records published that the cursor has not read yet. */
uint64_t	 hub_backlog(const struct hub *, const struct hub_cursor *);
/*
 * Worker: clear this worker's wake-up flag; call after draining its
 * wake descriptor and before reading, so a publish that races with the
 * read either is seen by it or wakes the worker again.
 */
void		 hub_wake_ack(struct hub *);

/*
 * Back-pressure.  A worker publishes, after every slice it reads and at
 * least every few hundred ms, how far it has read and that it is
 * running (hub_worker_beat); that wakes the workers held back, once the
 * lag is down to the low mark (half of hub_high).
 *
 * hub_lag: records from the head to the slowest live reader that counts:
 * caught-up workers and those that have not beaten for HUB_STALL_MS are
 * left out.  *untether_ms (may be NULL): ms until the slowest reader
 * behind stops counting, -1 if none is behind.
 *
 * hub_hold: a worker over the high mark starts to wait; 1 if it must
 * (it is woken by a beat), 0 if the lag is already below the low mark.
 * Call it again after every wake-up until it returns 0.  Nothing here
 * blocks or takes a lock.
 */
void		 hub_worker_beat(struct hub *, const struct hub_cursor *,
		    int64_t now);
uint64_t	 hub_lag(const struct hub *, int64_t now,
		    int64_t *untether_ms);
uint64_t	 hub_high(const struct hub *);
int		 hub_hold(struct hub *, int64_t now, int64_t *untether_ms);
/*
 * Workers seen running within HUB_STALL_MS (a stopped one leaves its
 * share of the newcomers to the others), and in *clients their clients.
 */
int		 hub_active(const struct hub *, int64_t now, unsigned *clients);

/*
 * A worker that stops accepting asks the others to try accept() once:
 * with EPOLLEXCLUSIVE, a connection already queued on the shared socket
 * woke only the worker that is leaving.  hub_kicked returns 1 (once)
 * when another worker asked.
 */
void		 hub_kick_accept(struct hub *);
int		 hub_kicked(struct hub *);

/*
 * The registry: every client of the server, for /nick, /who and /msg.
 * Reading it takes no lock (see hub.c).  hub_client_add returns the
 * client's id (never 0) and its slot, or 0 with errno ENOSPC when the
 * server is full.  Only the worker that added a client renames or
 * removes it.
 */
uint64_t	 hub_client_add(struct hub *, const char *addr,
		    unsigned *slot);
void		 hub_client_remove(struct hub *, unsigned slot);
/*
 * 0; -1 with EEXIST if another client has the name (case ignored), or
 * with EAGAIN if another worker's rename has not finished within
 * HUB_LOCK_WAIT_MS (that worker is stopped or starved).
 */
int		 hub_client_set_nick(struct hub *, unsigned slot,
		    const char *nick);
/* The id of the client called nick (case ignored), or 0. */
uint64_t	 hub_client_find(struct hub *, const char *nick,
		    char *exact, size_t exactlen);
/*
 * A whisper of bytes for the client called nick, charged to the budget
 * of what others may send it (rate bytes a second, bursts of burst:
 * limit_budget_take): its id, its name's exact spelling in exact; or 0
 * with errno ESRCH if there is no such client, EAGAIN if its budget has
 * no room (nothing is charged then; exact is filled).  Takes no lock.
 */
uint64_t	 hub_client_whisper(struct hub *, const char *nick,
		    size_t bytes, unsigned rate, size_t burst,
		    int64_t now_us, char *exact, size_t exactlen);

/*
 * Clients per address, server-wide (limit.h): count one more client
 * from the address prefix (net_addr_prefix) if that keeps it at or
 * below limit.  0 with a reference in *ref, or -1 with errno EDQUOT if
 * the address has limit clients already, ENOSPC or EAGAIN if there is
 * no room in the table now.  Takes no lock.  The reference is given
 * back with hub_addr_release, or handed to a registered client with
 * hub_client_hold_addr: then removing the client, or reaping its dead
 * worker, gives it back.
 */
int		 hub_addr_take(struct hub *, const unsigned char *prefix,
		    unsigned limit, unsigned *ref);
void		 hub_addr_release(struct hub *, unsigned ref);
unsigned	 hub_addr_count(struct hub *, const unsigned char *prefix);
void		 hub_client_hold_addr(struct hub *, unsigned slot,
		    unsigned ref);
/*
 * Call fn for every client, in slot order, with a consistent copy of
 * its entry; fn may do anything.  Returns how many there were.
 */
unsigned	 hub_client_foreach(struct hub *,
		    void (*fn)(const struct hub_client_info *, void *),
		    void *arg);
/*
 * The registry a part at a time, for a reader that comes back for more
 * (a long /who streamed as its client reads): call fn, as foreach does,
 * for the clients in slots *pos, *pos + 1, ..., until fn returns
 * non-zero or max clients were seen; free slots are skipped and do not
 * count.  *pos (0 at first) moves past the last slot looked at, or
 * becomes HUB_SCAN_END past the last slot.  Returns how many clients fn
 * was called for.  A client keeps its slot, so none is seen twice in
 * one pass; one that comes or goes in between is seen or not depending
 * on where its slot lies.
 */
#define HUB_SCAN_END	UINT64_MAX
unsigned	 hub_client_scan(struct hub *, uint64_t *pos,
		    int (*fn)(const struct hub_client_info *, void *),
		    void *arg, unsigned max);
/*
 * For the unit tests: take (1) or give back (0) the lock a rename holds
 * for its scan, as a worker stopped in the middle of one would hold it.
 */
void		 hub_test_rename_lock(struct hub *, int take);
/*
 * Remove every client registered by worker slot w (a worker that died)
 * and call fn for each as it goes, so the new worker can announce the
 * departures.  Returns how many.
 */
unsigned	 hub_client_reap_worker(struct hub *, int w,
		    void (*fn)(const struct hub_client_info *, void *),
		    void *arg);

/* Scoreboard. */
void		 hub_count_in(struct hub *, uint64_t msgs);
void		 hub_count_out(struct hub *, uint64_t msgs, uint64_t bytes);
void		 hub_count_clients(struct hub *, int delta);
void		 hub_count_held(struct hub *);
int		 hub_nworkers(const struct hub *);
void		 hub_worker_stats(const struct hub *, int w,
		    struct hub_stats *);
unsigned	 hub_total_clients(const struct hub *);
pid_t		 hub_master_pid(const struct hub *);
/* When the hub was made, as time(3). */
int64_t		 hub_started(const struct hub *);
/* Records published so far: the seq of the last one. */
uint64_t	 hub_head(const struct hub *);
/* The bytes of each writer's area (-R). */
size_t		 hub_ring_size(const struct hub *);
/* How many records the ring's index holds: a reader further behind
   than this has lost everything up to the head. */
uint64_t	 hub_ring_slots(const struct hub *);

/*
 * For the unit tests: where the next record of this process goes in its
 * area (bytes, never wraps); and a function hub_publish calls once the
 * record is copied (stage 1) and once it is in the order (stage 2), so
 * that a test can stop a writer at either point.
 */
uint64_t	 hub_test_area_pos(const struct hub *);
extern void	(*hub_test_publish_hook)(int stage);

#endif
