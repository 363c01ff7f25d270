/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * tcpcat.c -- the suite's fake server, so that it needs no nc(1).
 *
 *	tcpcat [-dNu] host port
 *
 * Listens on host and port (0: any free one) and says so on stderr as
 * "Listening on HOST PORT".  TCP: accepts one client, copies stdin to
 * it and what it sends to stdout, and exits when it closes.  -N shuts
 * the connection down for writing at the end of stdin; -d never reads
 * stdin.  -u: UDP; prints each datagram received, never replies.
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

static void __attribute__((noreturn))
serve_tcp(int lfd, int read_stdin, int shut)
{
	struct pollfd	pfd[2];
	char		buf[4096];
	ssize_t		n;
	int		fd;

	while ((fd = accept(lfd, NULL, NULL)) == -1)
		if (errno != EINTR)
			die("accept");
	close(lfd);
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
	int	ch, udp = 0, read_stdin = 1, shut = 0, fd;

	while ((ch = getopt(argc, argv, "dNu")) != -1) {
		switch (ch) {
		case 'd':
			read_stdin = 0;
			break;
		case 'N':
			shut = 1;
			break;
		case 'u':
			udp = 1;
			break;
		default:
			fprintf(stderr, "usage: tcpcat [-dNu] host port\n");
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: tcpcat [-dNu] host port\n");
		return 2;
	}
	fd = listen_on(argv[optind], argv[optind + 1],
	    udp ? SOCK_DGRAM : SOCK_STREAM);
	if (udp)
		serve_udp(fd);
	serve_tcp(fd, read_stdin, shut);
}
