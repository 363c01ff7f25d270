/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * net.h -- sockets: listening, connecting, address formatting,
 * descriptor flags.  Nothing here prints; failures return -1 with errno
 * set, and where the caller needs words for a user, a reason in a
 * buffer it passes.
 */
#ifndef NET_H
#define NET_H

#include <sys/socket.h>

#include <netdb.h>
#include <stddef.h>

/* A reason's buffer: strerror() and gai_strerror() texts fit. */
#define NET_ERR_MAX	128

/*
 * Bind a socket of type SOCK_STREAM or SOCK_DGRAM to the numeric address
 * addr and port (0 picks a free one), non-blocking and close-on-exec; a
 * stream socket also listens.  "::" accepts IPv4 too (dual stack).
 * Returns the descriptor, or -1 with errno (EAI_* failures as EINVAL).
 */
int	net_listen(const char *addr, int port, int type);
/* 1 if s is a numeric IPv4 or IPv6 address. */
int	net_addr_valid(const char *s);
/* The port a bound socket got, or -1. */
int	net_local_port(int fd);
/* "IP:PORT" of the socket's local address into buf (PROTO_ADDR_MAX). */
int	net_local_addr(int fd, char *buf, size_t len);
/*
 * Format sa as "IP:PORT", "[IPv6]:PORT", and an IPv4-mapped IPv6
 * address as plain IPv4.  Returns 0 or -1 with errno.
 */
int	net_addr_format(const struct sockaddr *sa, char *buf, size_t len);
/*
 * Resolve host (a name or a numeric address) and the numeric port to
 * the IPv4 and IPv6 addresses of type SOCK_STREAM or SOCK_DGRAM, in
 * the order getaddrinfo() gives; the caller frees *res with
 * freeaddrinfo().  Returns 0, or -1 with errno (EINVAL for a resolver
 * failure other than EAI_SYSTEM) and the resolver's reason in errbuf.
 */
int	net_resolve(const char *host, const char *port, int type,
	    struct addrinfo **res, char *errbuf, size_t errlen);
/*
 * A socket connected to one address, waiting for connect() to finish,
 * then made non-blocking and close-on-exec.  Returns the descriptor,
 * or -1 with errno.
 */
int	net_connect_addr(const struct addrinfo *ai);
/*
 * Connect to host and port, trying every address net_resolve() gives
 * until one answers, so "localhost" reaches a server on 127.0.0.1 as
 * well as one on ::1.  Returns a non-blocking, close-on-exec
 * descriptor, or -1 with errno and a reason in errbuf (errlen bytes,
 * NET_ERR_MAX is enough): the resolver's, or the last address's error.
 */
int	net_connect(const char *host, const char *port, int type,
	    char *errbuf, size_t errlen);
int	net_set_nonblock(int fd);
/*
 * Send small writes at once (TCP_NODELAY).  The servers already batch
 * their output per round, so Nagle's wait for an ACK only adds latency.
 */
int	net_set_nodelay(int fd);
/*
 * Bound what the kernel holds for one peer (SO_SNDBUF; the kernel may
 * double it for its own bookkeeping, and stops tuning it upwards).
 */
int	net_set_sndbuf(int fd, int bytes);
/*
 * Close with a reset (SO_LINGER of 0): whatever is still queued for
 * the peer is thrown away at once, instead of being kept, and retried,
 * for as long as the peer keeps the connection open.  The descriptor
 * is closed even if the option cannot be set; -1 with errno then.
 */
int	net_reset(int fd);
int	net_set_cloexec(int fd);

/*
 * Probe an idle connection with TCP keepalive: the first probe after
 * idle seconds without traffic, then every intvl seconds, and the
 * connection fails after cnt unanswered probes.  Where the system lacks
 * the per-socket timings, only SO_KEEPALIVE is set and the system's
 * defaults apply.  Returns 0 or -1 with errno.
 */
int	net_set_keepalive(int fd, int idle, int intvl, int cnt);

/* The bytes of an address prefix (net_addr_prefix). */
#define NET_PREFIX_LEN	16
/*
 * The prefix that stands for a peer when counting its connections: an
 * IPv4 address whole (an IPv4-mapped IPv6 address as its IPv4 address),
 * an IPv6 address by its /64, the network a single host is usually
 * given.  prefix is NET_PREFIX_LEN bytes: IPv4 as ::ffff:a.b.c.d, IPv6
 * as its first 8 bytes and 8 zero bytes, so the two never meet.
 * Returns 0, or -1 with errno EAFNOSUPPORT.
 */
int	net_addr_prefix(const struct sockaddr *sa, unsigned char *prefix);

#endif
