/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * net.c -- listening and connecting sockets, address formatting.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define NET_BACKLOG	1024

int
net_set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
net_set_nodelay(int fd)
{
	int	on = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

int
net_set_sndbuf(int fd, int bytes)
{
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

int
net_reset(int fd)
{
	struct linger	l;
	int		rv, saved;

	l.l_onoff = 1;
	l.l_linger = 0;
	rv = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

int
net_set_keepalive(int fd, int idle, int intvl, int cnt)
{
	int	on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1)
		return -1;
#if defined(TCP_KEEPIDLE)
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1)
		return -1;
#elif defined(TCP_KEEPALIVE)
	/* macOS spells the idle time TCP_KEEPALIVE. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &idle,
	    sizeof(idle)) == -1)
		return -1;
#else
	(void)idle;
#endif
#if defined(TCP_KEEPINTVL)
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1)
		return -1;
#else
	(void)intvl;
#endif
#if defined(TCP_KEEPCNT)
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) == -1)
		return -1;
#else
	(void)cnt;
#endif
	return 0;
}

int
net_addr_prefix(const struct sockaddr *sa, unsigned char *prefix)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(prefix, 0, NET_PREFIX_LEN);
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		prefix[10] = prefix[11] = 0xff;
		memcpy(prefix + 12, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			memcpy(prefix, &sin6->sin6_addr, NET_PREFIX_LEN);
		else
			memcpy(prefix, &sin6->sin6_addr, 8);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

int
net_set_cloexec(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int
net_listen(const char *addr, int port, int type)
{
	struct addrinfo	 hints, *res = NULL;
	char		 portstr[8];
	int		 fd = -1, on = 1, off = 0, saved, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(addr, portstr, &hints, &res)) != 0) {
		errno = gai == EAI_SYSTEM ? errno : EINVAL;
		return -1;
	}
	if ((fd = socket(res->ai_family, res->ai_socktype, 0)) == -1)
		goto fail;
	if (net_set_nonblock(fd) == -1 || net_set_cloexec(fd) == -1)
		goto fail;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
	    &on, sizeof(on)) == -1)
		goto fail;
	/* "::" means every address, IPv4 included, whatever the sysctl. */
	if (res->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &off, sizeof(off)) == -1)
		goto fail;
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, NET_BACKLOG) == -1)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	errno = saved;
	return -1;
}

int
net_resolve(const char *host, const char *port, int type,
    struct addrinfo **res, char *errbuf, size_t errlen)
{
	struct addrinfo	hints;
	int		gai, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port, &hints, res)) != 0) {
		saved = gai == EAI_SYSTEM ? errno : EINVAL;
		snprintf(errbuf, errlen, "%s", gai == EAI_SYSTEM ?
		    strerror(saved) : gai_strerror(gai));
		errno = saved;
		return -1;
	}
	return 0;
}

int
net_connect_addr(const struct addrinfo *ai)
{
	int	fd, saved;

	if ((fd = socket(ai->ai_family, ai->ai_socktype,
	    ai->ai_protocol)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    net_set_nonblock(fd) == -1 || net_set_cloexec(fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
net_connect(const char *host, const char *port, int type, char *errbuf,
    size_t errlen)
{
	struct addrinfo	*res, *ai;
	int		 fd = -1, saved;

	if (net_resolve(host, port, type, &res, errbuf, errlen) == -1)
		return -1;
	/* The error that stays is the last address's. */
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = net_connect_addr(ai);
	saved = errno;
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(errbuf, errlen, "%s", strerror(saved));
	errno = saved;
	return fd;
}

int
net_addr_valid(const char *s)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

int
net_local_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	errno = EAFNOSUPPORT;
	return -1;
}

int
net_local_addr(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
		return -1;
	return net_addr_format((struct sockaddr *)&ss, buf, len);
}

int
net_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	struct in_addr			 v4;
	char				 ip[INET6_ADDRSTRLEN];
	int				 n;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) == NULL)
			return -1;
		n = snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
			if (inet_ntop(AF_INET, &v4, ip, sizeof(ip)) == NULL)
				return -1;
			n = snprintf(buf, len, "%s:%u", ip,
			    ntohs(sin6->sin6_port));
		} else {
			if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip,
			    sizeof(ip)) == NULL)
				return -1;
			n = snprintf(buf, len, "[%s]:%u", ip,
			    ntohs(sin6->sin6_port));
		}
		break;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}
