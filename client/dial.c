/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * dial.c -- connecting again without blocking, for terminal mode: the
 * keyboard stays alive while a connection is being made (a host that
 * does not answer holds a blocking connect() for minutes).  Each
 * address of the host is tried in turn, each for at most
 * DIAL_TIMEOUT_MS.  The name is still resolved with a blocking
 * getaddrinfo(), which for a name in /etc/hosts or a numeric address
 * returns at once.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "chatc.h"

static int	dial_next(struct dial *, int64_t);

/* Try the addresses from d_ai on until one connects or is pending. */
static int
dial_next(struct dial *d, int64_t now)
{
	int	fd, saved = errno;

	for (; d->d_ai != NULL; d->d_ai = d->d_ai->ai_next) {
		if ((fd = socket(d->d_ai->ai_family, d->d_ai->ai_socktype,
		    d->d_ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		if (net_set_nonblock(fd) == -1 || net_set_cloexec(fd) == -1) {
			saved = errno;
			close(fd);
			continue;
		}
		if (connect(fd, d->d_ai->ai_addr, d->d_ai->ai_addrlen) == 0) {
			dial_cancel(d);
			return fd;
		}
		if (errno == EINPROGRESS) {
			d->d_fd = fd;
			d->d_deadline = now + DIAL_TIMEOUT_MS;
			return DIAL_PENDING;
		}
		saved = errno;
		close(fd);
	}
	snprintf(d->d_why, sizeof(d->d_why), "%s", strerror(saved));
	dial_cancel(d);
	return DIAL_FAILED;
}

int
dial_start(struct dial *d, const char *host, const char *port, int64_t now)
{
	memset(d, 0, sizeof(*d));
	d->d_fd = -1;
	if (net_resolve(host, port, SOCK_STREAM, &d->d_res, d->d_why,
	    sizeof(d->d_why)) == -1) {
		d->d_res = NULL;
		return DIAL_FAILED;
	}
	d->d_ai = d->d_res;
	errno = ECONNREFUSED;		/* for a host without addresses */
	return dial_next(d, now);
}

int
dial_poll(struct dial *d, int64_t now)
{
	socklen_t	len = sizeof(int);
	int		fd = d->d_fd, soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0) {
		d->d_fd = -1;
		dial_cancel(d);
		return fd;
	}
	close(fd);
	d->d_fd = -1;
	d->d_ai = d->d_ai->ai_next;
	errno = soerr;
	return dial_next(d, now);
}

int
dial_timeout(struct dial *d, int64_t now)
{
	close(d->d_fd);
	d->d_fd = -1;
	d->d_ai = d->d_ai->ai_next;
	errno = ETIMEDOUT;
	return dial_next(d, now);
}

void
dial_cancel(struct dial *d)
{
	if (d->d_fd != -1)
		close(d->d_fd);
	d->d_fd = -1;
	if (d->d_res != NULL)
		freeaddrinfo(d->d_res);
	d->d_res = d->d_ai = NULL;
}
