/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * udpc.c -- chatc -u: the seed's UDP client for the timestamp service.
 *
 * One datagram per input line, one reply awaited for UDPC_TIMEOUT
 * seconds.  The socket is connected, so an ICMP port unreachable comes
 * back as ECONNREFUSED instead of a silent wait; on such an error the
 * next address host resolves to is tried with the same message.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "sanitize.h"
#include "chatc.h"

#define UDPC_PROMPT \
	"Please input the message or enter 'exit' to terminate the program."
#define UDPC_TOO_LONG	"too long message"
#define UDPC_TIMEOUT	5	/* seconds */

static int	udpc_read_line(char *, size_t, size_t *);
static int	udpc_wait(int, int);
static int	udpc_try(int, const char *, size_t);

/*
 * Read a line from stdin into buf without its LF (or CRLF).  A line that
 * does not fit is read to its end and reported by *len > size - 1.
 * Returns 0, or -1 at the end of input.
 */
static int
udpc_read_line(char *buf, size_t size, size_t *len)
{
	size_t	n;
	int	ch;

	if (fgets(buf, (int)size, stdin) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == size - 1) {
		while ((ch = getchar()) != EOF && ch != '\n')
			n++;
	}
	if (n > 0 && n < size && buf[n - 1] == '\r')
		buf[--n] = '\0';
	*len = n;
	return 0;
}

/*
 * Wait until fd is readable or timeout seconds have passed, whatever
 * signals come.  Returns 1, 0 on timeout, -1 with errno.
 */
static int
udpc_wait(int fd, int timeout)
{
	struct pollfd	pfd;
	struct timespec	now, end;
	long		ms;
	int		rv;

	if (clock_gettime(CLOCK_MONOTONIC, &end) == -1)
		return -1;
	end.tv_sec += timeout;
	for (;;) {
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			return -1;
		ms = (end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms < 0)
			ms = 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, (int)ms)) != -1 || errno != EINTR)
			return rv;
	}
}

/*
 * Send msg and print the reply.  Returns 0 when a reply came or the
 * wait timed out (both said), -1 with errno on a socket error.
 */
static int
udpc_try(int fd, const char *msg, size_t len)
{
	char	reply[2048], clean[sizeof(reply)];
	ssize_t	n;
	int	rv;

	/* A reply that came after an earlier timeout is not this one's. */
	while (recv(fd, reply, sizeof(reply), 0) != -1 || errno == EINTR ||
	    errno == ECONNREFUSED)
		;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	while (send(fd, msg, len, 0) == -1)
		if (errno != EINTR)
			return -1;
	if ((rv = udpc_wait(fd, UDPC_TIMEOUT)) == -1)
		return -1;
	if (rv == 0) {
		printf("Error: timed out\n");
		return 0;
	}
	while ((n = recv(fd, reply, sizeof(reply), 0)) == -1)
		if (errno != EINTR)
			return -1;
	n = (ssize_t)san_text(clean, reply, (size_t)n, 0);
	printf("Server response: %.*s\n", (int)n, clean);
	return 0;
}

/*
 * The prompt loop.  The address that last answered is used first; when
 * every address fails, the error is shown and the next message starts
 * again from the first.
 */
int
udpc_run(const char *host, const char *port)
{
	struct addrinfo	*res, *ai, *cur;
	char		 line[PROTO_UDP_MAX + 2], why[NET_ERR_MAX];
	size_t		 len;
	int		 fd, saved;

	if (net_resolve(host, port, SOCK_DGRAM, &res, why, sizeof(why)) == -1)
		errx(1, "%s %s: %s", host, port, why);
	fd = -1;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = net_connect_addr(ai);
	if (fd == -1)
		err(1, "%s %s", host, port);
	close(fd);

	cur = res;
	fd = -1;
	for (;;) {
		printf("%s\n", UDPC_PROMPT);
		if (fflush(stdout) == EOF)
			err(1, "stdout");
		if (udpc_read_line(line, sizeof(line), &len) == -1)
			break;
		if (strcmp(line, "exit") == 0)
			break;
		if (len > PROTO_UDP_MAX) {
			printf("%s\n", UDPC_TOO_LONG);
			continue;
		}
		for (ai = cur; ai != NULL; ai = ai->ai_next) {
			if (fd == -1 && (fd = net_connect_addr(ai)) == -1)
				continue;
			if (udpc_try(fd, line, len) == 0)
				break;
			saved = errno;
			close(fd);
			fd = -1;
			errno = saved;
		}
		if (ai == NULL) {
			printf("Error: %s\n", strerror(errno));
			ai = res;
		}
		cur = ai;
	}
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	if (ferror(stdin))
		err(1, "stdin");
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	return 0;
}
