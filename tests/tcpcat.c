/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * tcpcat.c -- the suite's fake server, so that it needs no nc(1).
 *
 *	tcpcat [-dNu] host port
 *	tcpcat [-dN] -s source host port
 *
 * Listens on host and port (0: any free one) and says so on stderr as
 * "Listening on HOST PORT".  TCP: accepts one client, copies stdin to
 * it and what it sends to stdout, and exits when it closes.  -N shuts
 * the connection down for writing at the end of stdin; -d never reads
 * stdin.  -u: UDP; prints each datagram received, never replies.
 * -s: a client instead, connecting to host and port from the numeric
 * address source (any of 127/8 is this host on Linux), so a test can be
 * another peer than 127.0.0.1.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "tcpcat: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Write all of buf, or die. */
static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Bind host:port; print the port bound. */
static int
listen_on(const char *host, const char *port, int type)
{
	struct addrinfo		 hints, *ai;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 num[32];
	int			 fd, on = 1, rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rv = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "tcpcat: %s %s: %s\n", host, port,
		    gai_strerror(rv));
		exit(1);
	}
	if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		die("bind");
	freeaddrinfo(ai);
	if (type == SOCK_STREAM && listen(fd, 1) == -1)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, NULL, 0, num,
	    sizeof(num), NI_NUMERICSERV) != 0)
		die("getsockname");
	fprintf(stderr, "Listening on %s %s\n", host, num);
	fflush(stderr);
	return fd;
}

static void __attribute__((noreturn))
serve_udp(int fd)
{
	char	buf[65536];
	ssize_t	n;

	for (;;) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		write_all(STDOUT_FILENO, buf, (size_t)n);
	}
}

/* Connect to host:port from source (port 0: any). */
static int
connect_from(const char *source, const char *host, const char *port)
{
	struct addrinfo	 hints, *src, *dst;
	int		 fd, rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rv = getaddrinfo(host, port, &hints, &dst)) != 0 ||
	    (rv = getaddrinfo(source, "0", &hints, &src)) != 0) {
		fprintf(stderr, "tcpcat: %s %s: %s\n", host, port,
		    gai_strerror(rv));
		exit(1);
	}
	if ((fd = socket(dst->ai_family, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (bind(fd, src->ai_addr, src->ai_addrlen) == -1)
		die("bind");
	if (connect(fd, dst->ai_addr, dst->ai_addrlen) == -1)
		die("connect");
	freeaddrinfo(src);
	freeaddrinfo(dst);
	return fd;
}

static int
accept_one(int lfd)
{
	int	fd;

	while ((fd = accept(lfd, NULL, NULL)) == -1)
		if (errno != EINTR)
			die("accept");
	close(lfd);
	return fd;
}

/* Copy stdin to the connection and the connection to stdout. */
static void __attribute__((noreturn))
copy_tcp(int fd, int read_stdin, int shut)
{
	struct pollfd	pfd[2];
	char		buf[4096];
	ssize_t		n;

	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = read_stdin ? STDIN_FILENO : -1;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents != 0) {
			if ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
				write_all(fd, buf, (size_t)n);
			else if (n == 0 || errno != EINTR) {
				pfd[1].fd = -1;
				if (shut)
					shutdown(fd, SHUT_WR);
				/* Both directions done. */
				if (pfd[0].fd == -1)
					exit(0);
			}
		}
		if (pfd[0].revents != 0) {
			n = read(fd, buf, sizeof(buf));
			if (n == -1 && errno != EINTR)
				exit(0);	/* reset by the peer: it is gone */
			if (n > 0)
				write_all(STDOUT_FILENO, buf, (size_t)n);
			/*
			 * The peer half-closed: it may still read, so what
			 * stdin holds is still sent to it before exiting.
			 */
			if (n == 0) {
				if (pfd[1].fd == -1)
					exit(0);
				pfd[0].fd = -1;
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	const char	*source = NULL;
	int		 ch, udp = 0, read_stdin = 1, shut = 0, fd;

	while ((ch = getopt(argc, argv, "dNs:u")) != -1) {
		switch (ch) {
		case 'd':
			read_stdin = 0;
			break;
		case 'N':
			shut = 1;
			break;
		case 's':
			source = optarg;
			break;
		case 'u':
			udp = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || (source != NULL && udp))
		goto usage;
	if (source != NULL)
		copy_tcp(connect_from(source, argv[optind], argv[optind + 1]),
		    read_stdin, shut);
	fd = listen_on(argv[optind], argv[optind + 1],
	    udp ? SOCK_DGRAM : SOCK_STREAM);
	if (udp)
		serve_udp(fd);
	copy_tcp(accept_one(fd), read_stdin, shut);
usage:
	fprintf(stderr, "usage: tcpcat [-dNu] host port\n"
	    "       tcpcat [-dN] -s source host port\n");
	return 2;
}
