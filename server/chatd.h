/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatd.h -- private structures and prototypes of the servers, chatd
 * and chatd-select, grouped by the file that defines them.
 */
#ifndef CHATD_H
#define CHATD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include "buf.h"
#include "hub.h"
#include "proto.h"

#include "version.h"

#define CHATD_PORT		8080
#define CHATD_MAX_CLIENTS	10000
#define CHATD_SENDQ		(1024 * 1024)
#define CHATD_RATE		50
#define CHATD_RING		(4 * 1024 * 1024)
/*
 * What the kernel may hold for one client (SO_SNDBUF): the send queue
 * (-q) is where a client's backlog waits, not the kernel's memory.
 */
#define CHATD_SOCK_SNDBUF	(512 * 1024)
/*
 * Clients one address (IPv4) or /64 (IPv6) may have at once: a class
 * or an office behind one NAT address, two connections each, and room
 * to spare (-a; the man page says why).
 */
#define CHATD_PER_ADDR		128
/*
 * What one client may be sent by the others through /msg: 32 KiB a
 * second (~30 full-length lines, ~1,000 short ones), in bursts of up to
 * 64 KiB but never more than a quarter of the send queue.  A client
 * that reads a fifth as fast as a slow link (160 KB/s) keeps up with
 * whispers alone, whoever sends them.
 */
#define CHATD_WHISPER_RATE	(32 * 1024)
#define CHATD_WHISPER_BURST	(64 * 1024)
/*
 * TCP keepalive on every client: probe after 60 s of silence, then
 * every 10 s; 6 unanswered probes (2 minutes in all) and the peer is
 * dead, the read fails, and the client leaves with its slot.
 */
#define CHATD_KEEPIDLE		60
#define CHATD_KEEPINTVL		10
#define CHATD_KEEPCNT		6
/* Descriptors kept back from the client limit: sockets, pipes, logs. */
#define CHATD_FD_RESERVE	32
/* How long the master lets workers finish before SIGKILL, in seconds. */
#define CHATD_STOP_GRACE	4
/* How long a stopping worker tries to send clients what they are owed. */
#define CHATD_STOP_FLUSH_MS	2000

/* The options both servers take (listen.c). */
#define SRV_UDP_NONE		(-1)	/* -u none */
#define SRV_UDP_SAME		(-2)	/* the TCP port's number */

struct srv_opts {
	const char	*bind_addr;
	int		 tcp_port;
	int		 udp_port;	/* a port, SRV_UDP_NONE or _SAME */
	unsigned	 max_clients;
	unsigned	 per_addr;	/* -a: clients per address, 0: any */
	size_t		 sendq;
	unsigned	 rate;		/* lines per second, 0: no limit */
	int		 verbose;
};

/* The sockets a server listens on, and their addresses as bound. */
struct srv_socks {
	int		 tcp_fd;
	int		 udp_fd;	/* -1 when off */
	char		 tcp_addr[PROTO_ADDR_MAX];
	char		 udp_addr[PROTO_ADDR_MAX];
};

/* What every chatd process knows; filled by main, read-only after. */
struct chatd_conf {
	struct srv_opts	 opts;
	struct srv_socks socks;
	int		 workers;
	size_t		 ring;		/* -R */
	int		 daemonize;
	const char	*pidfile;
	const char	*user;		/* -U: the workers run as this user */
	uid_t		 uid;
	gid_t		 gid;
	const char	*cluster;	/* -C: NATS URLs, or NULL */
	const char	*cluster_name;	/* -N */
};

/* Event sources share the event loop; each starts with its kind. */
enum src_kind {
	SRC_LISTEN,
	SRC_UDP,
	SRC_WAKE,
	SRC_MASTER,
	SRC_CONN
};

/*
 * A client's lifetime: one owner, one decision, one point of teardown.
 *
 * 1. conn_new makes a client; the server adds it to its client_set.
 * 2. Its end is decided in one place, conn_close(c, reason): a read or
 *    write that fails, the peer's EOF, /quit, a send queue that
 *    overflows.  conn_close only marks the client CONN_DEAD and puts it
 *    on the set's dead list; every walk of a list skips it from then on.
 *    It may be called from anywhere -- while delivering a record from
 *    the ring, while walking the client list -- because it does nothing
 *    else: it never publishes, never unregisters, never frees.
 * 3. The end is carried out at one point of the loop, clients_end_round:
 *    after the round's deliveries and writes, each dead client is taken
 *    out of the event set, unregistered (so its name is free by the time
 *    anyone reads that it left), its departure published, and it is
 *    freed with conn_free, which sends what the socket still takes and
 *    closes it.  Publishing a departure may kill another client (the
 *    server delivers it, a queue overflows); that one is marked, goes
 *    on the dead list, and is reaped in turn.
 *
 * The rule that follows: code that runs while walking the ring or a
 * client list (conn_deliver, conn_send, conn_flush, the chat_ops) only
 * marks and queues.  Delivering a line never publishes, and publishing
 * never delivers in chatd (records wait in the ring until the worker
 * drains it at the top of its loop), so nothing re-enters the loop.
 */
#define CONN_INBUF		2048

#define CONN_DEAD		0x01	/* closed; reaped at the end of round */
#define CONN_DIRTY		0x02	/* on the flush list */
#define CONN_WRITING		0x04	/* waiting for EV_WRITE */
#define CONN_THROTTLED		0x08	/* over its rate; not reading */
#define CONN_EOF		0x10	/* peer closed; finish its lines */
#define CONN_HELD		0x20	/* hub back-pressure; not reading */
#define CONN_RESET		0x40	/* close with a reset: it fell behind */

struct client_set;

/* A /who under way (conn.c): its client is not read until it is out. */
#define CONN_LISTING		0x80
struct who_listing;

/* One chat client. */
struct conn {
	enum src_kind		 c_kind;	/* SRC_CONN; must be first */
	int			 c_fd;
	int			 c_flags;
	uint64_t		 c_id;		/* server-wide, never 0 */
	unsigned		 c_slot;	/* registry slot */
	struct client_set	*c_set;		/* the set it is on */
	char			*c_reason;	/* why it left, or NULL */
	char			 c_addr[PROTO_ADDR_MAX];
	char			 c_nick[PROTO_NICK_MAX + 1];
	struct proto_framer	 c_framer;
	unsigned char		 c_in[CONN_INBUF];
	size_t			 c_inoff;	/* framed up to here */
	size_t			 c_inlen;
	struct buf		 c_sendq;
	double			 c_tokens;	/* rate limit bucket */
	int64_t			 c_refill_ms;
	struct who_listing	*c_listing;	/* a /who under way, or NULL */
	TAILQ_ENTRY(conn)	 c_entry;	/* all clients */
	TAILQ_ENTRY(conn)	 c_dirty;	/* clients with output */
	TAILQ_ENTRY(conn)	 c_paused;	/* throttled or held */
	TAILQ_ENTRY(conn)	 c_reap;	/* closed, to be freed */
};
TAILQ_HEAD(conn_list, conn);

/*
 * What really differs between chatd and chatd-select: where the other
 * clients are.  chatd reaches them through the hub (the ring and the
 * registry in shared memory), chatd-select through its own client list.
 * None of these may re-enter the server's loop.
 */
struct chat_ops {
	/*
	 * Put text into the server's one order of broadcasts: for every
	 * client but origin, or for target alone.  chatd appends it to the
	 * ring; chatd-select queues it for each client at once.
	 */
	void	 (*publish)(uint64_t origin, uint64_t target,
		    const char *text, size_t len);
	/* Take the client out of the registry: its name is free. */
	void	 (*unregister)(struct conn *);
	/* 0, or -1 with EEXIST when another client has the name. */
	int	 (*set_nick)(struct conn *, const char *nick);
	/*
	 * A whisper of len bytes for the client called nick, charged to
	 * what it may be sent by others (srv_whisper_burst): its id, with
	 * its name's exact spelling in exact; or 0 with errno ESRCH if
	 * there is no such client, EAGAIN if it is receiving too much
	 * (exact is filled then too).
	 */
	uint64_t (*whisper)(const char *nick, size_t len, char *exact,
		    size_t exactlen);
	/*
	 * Call fn for the clients of the server from place *pos on (0:
	 * the first), in an order that does not change, until fn returns
	 * non-zero or max clients were seen; *pos moves past the last one
	 * seen, or becomes HUB_SCAN_END after the last.  Returns how many
	 * fn saw.  A long /who comes back for more as its client reads.
	 */
	unsigned (*scan)(uint64_t *pos, int (*fn)(const struct
		    hub_client_info *, void *), void *arg, unsigned max);
	/* How many clients the server has now. */
	unsigned (*count)(void);
	/*
	 * Answer the client about what it has just published, once that
	 * is in the server's order (chatd -C: once JetStream has it).
	 * NULL: the answer is queued at once.
	 */
	void	 (*reply)(struct conn *, const char *text, size_t len);
};

/*
 * What a server's event loop must do when a client changes (clients.c).
 * chatd keeps an event set that follows each client; chatd-select
 * rebuilds its fd_sets from the flags every round and passes NULLs.
 */
struct client_hooks {
	/* What the client waits for (reading, writing) has changed. */
	void	(*ch_rearm)(struct conn *);
	/* The client is about to be freed. */
	void	(*ch_release)(struct conn *);
	/* Deliver what was published since the last call (chatd: the ring). */
	void	(*ch_deliver)(void);
};

/* A server's clients and the lists a round keeps of them (clients.c). */
struct client_set {
	struct conn_list	 cs_all;	/* every client, oldest first */
	struct conn_list	 cs_dirty;	/* output to write this round */
	struct conn_list	 cs_paused;	/* throttled or held: not read */
	struct conn_list	 cs_dead;	/* closed: reaped at end of round */
	unsigned		 cs_count;	/* live clients on cs_all */
	int			 cs_hold;	/* hub back-pressure: read nobody */
	struct client_hooks	 cs_hooks;
};

/* What a server needs to accept clients (listen.c). */
struct srv_listener {
	int			 sl_fd;		/* the listening socket */
	int			 sl_spare_fd;	/* given up on EMFILE */
	int64_t			 sl_resume_ms;	/* after EMFILE, or 0 */
};

/* chatd.c */
extern struct chatd_conf	conf;

/* conn.c */
void	conn_setup(const struct chat_ops *, size_t sendq, unsigned rate);
/* A new client on fd, or NULL (errno ENOMEM); the caller adds it. */
struct conn *conn_new(struct client_set *, int fd, const char *addr,
	    uint64_t id, unsigned slot, int64_t now_ms);
/* Send what the socket takes at once, close it, free the client. */
void	conn_free(struct conn *);
/* Decide the client's end; reason NULL or "" gives a plain "WHO left". */
void	conn_close(struct conn *, const char *reason);
/* Carry the end out: unregister it and publish its departure. */
void	conn_depart(struct conn *);
void	conn_welcome(struct conn *);
void	conn_who(const struct conn *, char *buf, size_t len);
void	conn_send(struct conn *, const char *text, size_t len);
int	conn_deliver(struct conn *, uint64_t origin, uint64_t target,
	    const char *text, size_t len);
int	conn_read(struct conn *);
int	conn_process(struct conn *, int64_t now_ms);
int64_t	conn_throttle_ms(const struct conn *, int64_t now_ms);
int	conn_flush(struct conn *);
/*
 * The flush path: a client with a /who under way (CONN_LISTING) gets
 * its next part if its queue is below the mark.  Returns 1 if the
 * client needs another round (wait until its socket is writable).
 */
int	conn_list_more(struct conn *);
/* Bytes written to clients since the last call, for the scoreboard. */
uint64_t conn_take_written(void);
void	conn_format_who(const char *nick, const char *addr, char *buf,
	    size_t len);
/* "WHO left (connection lost)" into line[HUB_TEXT_MAX]; length or 0. */
size_t	conn_format_lost(const struct hub_client_info *, char *line);
/* A broadcast, as delivered: /history answers from these. */
void	conn_history_add(const char *text, size_t len);

/* clients.c */
void	clients_init(struct client_set *, const struct client_hooks *);
void	clients_add(struct client_set *, struct conn *);
/* conn.c's marks: output queued, closed, over its rate or held. */
void	clients_dirty(struct client_set *, struct conn *);
void	clients_dead(struct client_set *, struct conn *);
void	clients_pause(struct client_set *, struct conn *);
void	clients_event(struct client_set *, struct conn *, int readable,
	    int writable, int64_t now);
/*
 * The end of every round: deliver, write, and carry out every end
 * decided during the round, until nothing is left to do.
 */
void	clients_end_round(struct client_set *);
/*
 * Let paused clients go on where they may (their rate allows, the hold
 * is off); return ms until the next one may, or -1.
 */
int64_t	clients_resume(struct client_set *, int64_t now);
/* The hub's back-pressure turns on or off. */
void	clients_hold(struct client_set *, int on);
/*
 * Stop: every client gets "Server shutting down" after what it is
 * owed, as far as its socket takes it before deadline_ms, and is freed.
 */
void	clients_stop(struct client_set *, int64_t deadline_ms);

/* listen.c */
void	srv_opts_init(struct srv_opts *);
/*
 * Apply option ch (one of a b m p q r u v) with its argument: 1 if done,
 * 0 if ch is not a shared option, -1 if arg is bad (*what names it).
 */
int	srv_opts_set(struct srv_opts *, int ch, const char *arg,
	    const char **what);
/* Bind TCP and UDP as the options say; fatal on failure. */
void	srv_open(const struct srv_opts *, struct srv_socks *);
/* Tell a client "error: server full" and close it. */
void	srv_refuse(int fd);
/* Tell a client line (a PROTO_ error) and close it. */
void	srv_refuse_with(int fd, const char *line);
/* The burst of a client's whisper budget for a send queue of sendq. */
size_t	srv_whisper_burst(size_t sendq);
void	srv_listener_init(struct srv_listener *, int tcp_fd);
/*
 * Accept one client, non-blocking, close-on-exec, TCP_NODELAY and
 * keepalive (CHATD_KEEP*), its address in addr and the prefix it is
 * counted by in prefix (NET_PREFIX_LEN bytes: net_addr_prefix).  Out
 * of descriptors, the spare descriptor is given up to tell one client
 * the server is full; with no spare left, the listener pauses
 * (srv_accept_wait).  Returns the descriptor, or -1
 * when there is nothing more to accept now.
 */
int	srv_accept(struct srv_listener *, char *addr, size_t len,
	    unsigned char *prefix);
/* 0 if the listener may accept now, else ms until it may. */
int64_t	srv_accept_wait(struct srv_listener *, int64_t now);

/* udp.c */
void	udp_serve(int fd);

/* detach.c */
int	detach_start(void);
void	detach_done(void);
void	detach_forget(void);

/* master.c */
int	master_run(struct hub *);

/* pidfile.c */
int	pidfile_open(const char *path, char *msg, size_t len);
int	pidfile_write(void);
void	pidfile_remove(void);

/* worker.c */
void	worker_run(int slot, struct hub *, const struct hub_cursor *start,
	    int master_fd, const int *wake_fds) __attribute__((noreturn));

/*
 * chatd -C's bridge publishes these figures in its hub slot
 * (hub_worker_ext) for chatd -S.
 */
#define BRIDGE_EXT_HOST		0	/* this host's number */
#define BRIDGE_EXT_SEQ		1	/* last stream record appended */
#define BRIDGE_EXT_PENDING	2	/* records in the stream after it */
#define BRIDGE_EXT_CONNECTED	3	/* 1 while connected to NATS */

/* scoreboard.c */
/* chatd -S: print the scoreboard; returns the exit status. */
int	scoreboard_print(const char *host, int port);
/* The hub's name for a chatd on host (any numeric spelling) and port. */
void	scoreboard_hub_name(char *buf, size_t len, const char *host,
	    int port);

#endif
