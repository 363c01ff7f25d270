/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * udpflood.c -- send datagrams to the UDP timestamp service from one
 * socket (one source address and port) and count the replies: the
 * check on its reflector limits (tests/udp.bats) and the figure of
 * replies per second from one source (bench/).  Loopback use only.
 *
 *	udpflood [-e empty] [-n count | -d seconds] [-s size] [-w ms]
 *	    host port
 *
 * First sends `empty` empty datagrams, then `count` datagrams of `size`
 * bytes as fast as the socket takes them (or keeps sending for
 * `seconds`), reading replies all along; then reads until `ms`
 * milliseconds pass with no reply.  Prints one line:
 *
 *	sent N replies R seconds S replies/s X
 *
 * Every loop is bounded: at most 10,000,000 datagrams, 600 seconds.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define FLOOD_COUNT_MAX		10000000UL
#define FLOOD_SECONDS_MAX	600UL

static void
usage(void)
{
	fprintf(stderr, "usage: udpflood [-e empty] [-n count | -d seconds] "
	    "[-s size] [-w ms] host port\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
open_socket(const char *host, const char *port)
{
	struct addrinfo	hints, *res, *ai;
	int		fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "udpflood: %s %s: %s\n", host, port,
		    gai_strerror(rc));
		exit(2);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		/* Connected: only the server's replies are read. */
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		fprintf(stderr, "udpflood: %s %s: %s\n", host, port,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

/* Read every reply waiting, or wait up to ms for one; return how many. */
static unsigned long
read_replies(int fd, int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	char		buf[512];
	unsigned long	got = 0;

	while (poll(&pfd, 1, got == 0 ? ms : 0) > 0) {
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			/* ECONNREFUSED: nobody listens; count nothing. */
			break;
		}
		got++;
	}
	return got;
}

int
main(int argc, char *argv[])
{
	static char	payload[65536];
	unsigned long	count = 1, seconds = 0, empty = 0, wait_ms = 300;
	unsigned long	sent = 0, replies = 0, i, got;
	size_t		size = 1;
	double		start, end, last;
	int		ch, fd;

	while ((ch = getopt(argc, argv, "d:e:n:s:w:")) != -1) {
		switch (ch) {
		case 'd':
			if (parse_uint(optarg, 1, FLOOD_SECONDS_MAX,
			    &seconds) == -1)
				usage();
			break;
		case 'e':
			if (parse_uint(optarg, 0, FLOOD_COUNT_MAX, &empty) == -1)
				usage();
			break;
		case 'n':
			if (parse_uint(optarg, 0, FLOOD_COUNT_MAX, &count) == -1)
				usage();
			break;
		case 's':
			if (parse_size(optarg, 0, sizeof(payload), &size) == -1)
				usage();
			break;
		case 'w':
			if (parse_uint(optarg, 0, 60000, &wait_ms) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	memset(payload, 'x', sizeof(payload));
	fd = open_socket(argv[optind], argv[optind + 1]);

	start = now_s();
	for (i = 0; i < empty; i++)
		if (send(fd, payload, 0, 0) == 0)
			sent++;
	end = seconds > 0 ? start + (double)seconds : 0;
	for (i = 0; i < FLOOD_COUNT_MAX; i++) {
		if (seconds > 0 ? now_s() >= end : i >= count)
			break;
		if (send(fd, payload, size, 0) == -1) {
			if (errno == ENOBUFS || errno == EAGAIN ||
			    errno == ECONNREFUSED || errno == EINTR) {
				replies += read_replies(fd, 1);
				continue;
			}
			fprintf(stderr, "udpflood: send: %s\n",
			    strerror(errno));
			return 1;
		}
		sent++;
		/* Keep the receive buffer from overflowing. */
		if (i % 16 == 15)
			replies += read_replies(fd, 0);
	}
	last = now_s();
	while ((got = read_replies(fd, (int)wait_ms)) > 0)
		replies += got;
	printf("sent %lu replies %lu seconds %.3f replies/s %.0f\n", sent,
	    replies, last - start, replies / (last - start > 0 ?
	    last - start : 1e-9));
	close(fd);
	return 0;
}
