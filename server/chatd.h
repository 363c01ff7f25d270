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
};

/* Event sources share the event loop; each starts with its kind. */
enum src_kind {
	SRC_LISTEN,
	SRC_UDP,
	SRC_WAKE,
	SRC_MASTER,
	SRC_CONN
};

#define CONN_INBUF		2048

#define CONN_DEAD		0x01	/* killed; reaped after this round */
#define CONN_DIRTY		0x02	/* on the flush list */
#define CONN_WRITING		0x04	/* waiting for EV_WRITE */
#define CONN_THROTTLED		0x08	/* over its rate; not reading */
#define CONN_EOF		0x10	/* peer closed; finish its lines */

/* One chat client. */
struct conn {
	enum src_kind		 c_kind;	/* SRC_CONN; must be first */
	int			 c_fd;
	int			 c_flags;
	uint64_t		 c_id;		/* server-wide, never 0 */
	unsigned		 c_slot;	/* registry slot */
	char			 c_addr[PROTO_ADDR_MAX];
	char			 c_nick[PROTO_NICK_MAX + 1];
	struct proto_framer	 c_framer;
	unsigned char		 c_in[CONN_INBUF];
	size_t			 c_inoff;	/* framed up to here */
	size_t			 c_inlen;
	struct buf		 c_sendq;
	double			 c_tokens;	/* rate limit bucket */
	int64_t			 c_refill_ms;
	TAILQ_ENTRY(conn)	 c_entry;	/* all clients */
	TAILQ_ENTRY(conn)	 c_dirty;	/* clients with output */
	TAILQ_ENTRY(conn)	 c_throttle;	/* clients over their rate */
	TAILQ_ENTRY(conn)	 c_reap;	/* killed, to be freed */
};
TAILQ_HEAD(conn_list, conn);

/*
 * What conn.c needs from the server around it.  chatd implements these
 * with the hub, chatd-select with its own client list.
 */
struct chat_ops {
	/* Deliver text to every client but from, or to target only. */
	void	 (*publish)(struct conn *from, uint64_t target,
		    const char *text, size_t len);
	/* 0, or -1 with EEXIST when another client has the name. */
	int	 (*set_nick)(struct conn *, const char *nick);
	/* The id of the client called nick (exact spelling in exact). */
	uint64_t (*find)(const char *nick, char *exact, size_t len);
	/* Call fn for every client of the server; return the count. */
	unsigned (*foreach)(void (*fn)(const struct hub_client_info *,
		    void *), void *arg);
	/* The conn has output queued: flush it at the end of this round. */
	void	 (*dirty)(struct conn *);
	/* The conn was killed: unregister it, reap it after this round. */
	void	 (*dead)(struct conn *);
	/* The conn is over its rate: stop reading until it may go on. */
	void	 (*throttled)(struct conn *);
};

/*
 * A server's clients (clients.c).  rearm and release are chatd's: its
 * event set follows each client; chatd-select passes NULL.
 */
struct client_set {
	struct conn_list	 cs_all;	/* every client, oldest first */
	struct conn_list	 cs_dirty;	/* output to write this round */
	struct conn_list	 cs_throttled;	/* over their rate: not read */
	struct conn_list	 cs_dead;	/* killed: freed when reaped */
	unsigned		 cs_count;	/* on cs_all */
	void			(*cs_rearm)(struct conn *);
	void			(*cs_release)(struct conn *);
};

/* chatd.c */
extern struct chatd_conf	conf;

/* conn.c */
void	conn_setup(const struct chat_ops *, size_t sendq, unsigned rate);
void	conn_init(struct conn *, int fd, const char *addr, uint64_t id,
	    unsigned slot, int64_t now_ms);
void	conn_free(struct conn *);
void	conn_welcome(struct conn *);
void	conn_who(const struct conn *, char *buf, size_t len);
void	conn_send(struct conn *, const char *text, size_t len);
int	conn_deliver(struct conn *, uint64_t origin, uint64_t target,
	    const char *text, size_t len);
int	conn_read(struct conn *);
int	conn_process(struct conn *, int64_t now_ms);
int64_t	conn_throttle_ms(const struct conn *, int64_t now_ms);
int	conn_flush(struct conn *);
/* Bytes written to clients since the last call, for the scoreboard. */
uint64_t conn_take_written(void);
void	conn_kill(struct conn *, const char *reason);
void	conn_close_fd(struct conn *);
void	conn_format_who(const char *nick, const char *addr, char *buf,
	    size_t len);
int64_t	now_ms(void);

/* clients.c */
void	clients_init(struct client_set *, void (*rearm)(struct conn *),
	    void (*release)(struct conn *));
void	clients_add(struct client_set *, struct conn *);
void	clients_dirty(struct client_set *, struct conn *);
void	clients_dead(struct client_set *, struct conn *);
void	clients_throttled(struct client_set *, struct conn *);
void	clients_event(struct client_set *, struct conn *, int readable,
	    int writable, int64_t now);
void	clients_flush(struct client_set *);
void	clients_reap(struct client_set *);
int64_t	clients_unthrottle(struct client_set *, int64_t now);

/* listen.c */
void	srv_opts_init(struct srv_opts *);
/*
 * Apply option ch (one of b m p q r u v) with its argument: 1 if done,
 * 0 if ch is not a shared option, -1 if arg is bad (*what names it).
 */
int	srv_opts_set(struct srv_opts *, int ch, const char *arg,
	    const char **what);
/* Bind TCP and UDP as the options say; fatal on failure. */
void	srv_open(const struct srv_opts *, struct srv_socks *);
/* Tell a client "error: server full" and close it. */
void	srv_refuse(int fd);
/*
 * Accept one client, non-blocking, close-on-exec and TCP_NODELAY, its
 * address in addr.  Out of descriptors, the spare descriptor is given
 * up to tell one client the server is full.  Returns the descriptor,
 * or -1: errno EMFILE if the caller must stop accepting for a moment
 * (no spare left), else EAGAIN (nothing more this round).
 */
int	srv_accept(int tcp_fd, int *spare_fd, char *addr, size_t len);

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
void	worker_run(int slot, struct hub *, int master_fd,
	    const int *wake_fds) __attribute__((noreturn));

/* scoreboard.c */
/* chatd -S: print the scoreboard; returns the exit status. */
int	scoreboard_print(const char *host, int port);
/* The hub's name for a chatd on host (any numeric spelling) and port. */
void	scoreboard_hub_name(char *buf, size_t len, const char *host,
	    int port);

#endif
