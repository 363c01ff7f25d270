/*
 * net.h -- sockets: listening, address formatting, descriptor flags.
 * Nothing here prints; failures return -1 with errno set.
 */
#ifndef NET_H
#define NET_H

#include <sys/socket.h>

#include <stddef.h>

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
int	net_set_nonblock(int fd);
/*
 * Send small writes at once (TCP_NODELAY).  The servers already batch
 * their output per round, so Nagle's wait for an ACK only adds latency.
 */
int	net_set_nodelay(int fd);
int	net_set_cloexec(int fd);

#endif
