/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * ev.c -- the event loop and the Linux-specific calls, with portable
 * fallbacks.
 *
 * Linux: epoll (EPOLLEXCLUSIVE keeps a new connection on a shared
 * listening socket from waking every worker), eventfd, accept4.
 * Elsewhere: poll() over an array indexed by descriptor, a non-blocking
 * pipe, accept + fcntl.  The fallback is plain POSIX; it wakes every
 * worker on a new connection (the losers get EAGAIN and go back to
 * sleep), which is the price of portability here.
 */
/* EV_PORTABLE builds the fallback on Linux too, so it stays tested. */
#if defined(__linux__) && !defined(EV_PORTABLE)
#define EV_LINUX
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>
#ifdef EV_LINUX
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"

#ifdef EV_LINUX

struct ev {
	int			 ep_fd;
	int			 maxfds;
	struct epoll_event	*ep_events;
};

struct ev *
ev_new(int maxfds)
{
	struct ev	*ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return NULL;
	ev->maxfds = maxfds;
	if ((ev->ep_fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(ev);
		return NULL;
	}
	return ev;
}

void
ev_free(struct ev *ev)
{
	if (ev == NULL)
		return;
	close(ev->ep_fd);
	free(ev->ep_events);
	free(ev);
}

static int
ev_ctl(struct ev *ev, int op, int fd, int mask, void *udata)
{
	struct epoll_event	ee;

	memset(&ee, 0, sizeof(ee));
	if (mask & EV_READ)
		ee.events |= EPOLLIN;
	if (mask & EV_WRITE)
		ee.events |= EPOLLOUT;
	if (mask & EV_EXCLUSIVE)
		ee.events |= EPOLLEXCLUSIVE;
	ee.data.ptr = udata;
	return epoll_ctl(ev->ep_fd, op, fd, &ee);
}

int
ev_add(struct ev *ev, int fd, int mask, void *udata)
{
	return ev_ctl(ev, EPOLL_CTL_ADD, fd, mask, udata);
}

int
ev_mod(struct ev *ev, int fd, int mask, void *udata)
{
	return ev_ctl(ev, EPOLL_CTL_MOD, fd, mask, udata);
}

int
ev_del(struct ev *ev, int fd)
{
	struct epoll_event	ee;

	memset(&ee, 0, sizeof(ee));
	return epoll_ctl(ev->ep_fd, EPOLL_CTL_DEL, fd, &ee);
}

int
ev_wait(struct ev *ev, struct ev_event *out, int max, int timeout)
{
	struct epoll_event	*ee;
	int			 n, i;

	if (ev->ep_events == NULL) {
		if ((ev->ep_events = calloc(max, sizeof(*ee))) == NULL)
			return -1;
	}
	ee = ev->ep_events;
	if ((n = epoll_wait(ev->ep_fd, ee, max, timeout)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		out[i].udata = ee[i].data.ptr;
		out[i].events = 0;
		if (ee[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			out[i].events |= EV_READ;
		if (ee[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			out[i].events |= EV_WRITE;
	}
	return n;
}

int
wake_open(int wake_fds[2])
{
	int	fd;

	if ((fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	wake_fds[0] = wake_fds[1] = fd;
	return 0;
}

void
wake_close(int wake_fds[2])
{
	close(wake_fds[0]);
	wake_fds[0] = wake_fds[1] = -1;
}

void
wake_post(int wfd)
{
	uint64_t	one = 1;
	int		saved = errno;

	/* EAGAIN means the counter is full: a wake-up is pending anyway. */
	(void)!write(wfd, &one, sizeof(one));
	errno = saved;
}

void
wake_drain(int rfd)
{
	uint64_t	n;

	while (read(rfd, &n, sizeof(n)) == -1 && errno == EINTR)
		;
}

int
ev_accept(int fd, struct sockaddr *sa, socklen_t *salen)
{
	return accept4(fd, sa, salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

#else /* !EV_LINUX */

struct ev {
	struct pollfd	 *pfds;		/* compact array handed to poll() */
	int		  npfds;
	int		 *slot;		/* fd -> index in pfds, or -1 */
	void		**udata;	/* fd -> udata */
	int		  maxfds;
};

struct ev *
ev_new(int maxfds)
{
	struct ev	*ev;
	int		 i;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return NULL;
	ev->maxfds = maxfds;
	ev->pfds = calloc(maxfds, sizeof(*ev->pfds));
	ev->slot = calloc(maxfds, sizeof(*ev->slot));
	ev->udata = calloc(maxfds, sizeof(*ev->udata));
	if (ev->pfds == NULL || ev->slot == NULL || ev->udata == NULL) {
		ev_free(ev);
		return NULL;
	}
	for (i = 0; i < maxfds; i++)
		ev->slot[i] = -1;
	return ev;
}

void
ev_free(struct ev *ev)
{
	if (ev == NULL)
		return;
	free(ev->pfds);
	free(ev->slot);
	free(ev->udata);
	free(ev);
}

static short
ev_pollmask(int mask)
{
	return ((mask & EV_READ) ? POLLIN : 0) |
	    ((mask & EV_WRITE) ? POLLOUT : 0);
}

int
ev_add(struct ev *ev, int fd, int mask, void *udata)
{
	if (fd < 0 || fd >= ev->maxfds) {
		errno = EINVAL;
		return -1;
	}
	if (ev->slot[fd] != -1) {
		errno = EEXIST;
		return -1;
	}
	ev->slot[fd] = ev->npfds;
	ev->pfds[ev->npfds].fd = fd;
	ev->pfds[ev->npfds].events = ev_pollmask(mask);
	ev->npfds++;
	ev->udata[fd] = udata;
	return 0;
}

int
ev_mod(struct ev *ev, int fd, int mask, void *udata)
{
	if (fd < 0 || fd >= ev->maxfds || ev->slot[fd] == -1) {
		errno = ENOENT;
		return -1;
	}
	ev->pfds[ev->slot[fd]].events = ev_pollmask(mask);
	ev->udata[fd] = udata;
	return 0;
}

int
ev_del(struct ev *ev, int fd)
{
	int	i, last;

	if (fd < 0 || fd >= ev->maxfds || (i = ev->slot[fd]) == -1) {
		errno = ENOENT;
		return -1;
	}
	/* Move the last entry into the hole to keep the array compact. */
	last = --ev->npfds;
	ev->pfds[i] = ev->pfds[last];
	ev->slot[ev->pfds[i].fd] = i;
	ev->slot[fd] = -1;
	ev->udata[fd] = NULL;
	return 0;
}

int
ev_wait(struct ev *ev, struct ev_event *out, int max, int timeout)
{
	int	n, i, got = 0;
	short	re;

	if ((n = poll(ev->pfds, ev->npfds, timeout)) <= 0)
		return n;
	for (i = 0; i < ev->npfds && got < max; i++) {
		if ((re = ev->pfds[i].revents) == 0)
			continue;
		out[got].udata = ev->udata[ev->pfds[i].fd];
		out[got].events = 0;
		if (re & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
			out[got].events |= EV_READ;
		if (re & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
			out[got].events |= EV_WRITE;
		got++;
	}
	return got;
}

int
wake_open(int wake_fds[2])
{
	int	i;

	if (pipe(wake_fds) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fcntl(wake_fds[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(wake_fds[i], F_SETFD, FD_CLOEXEC) == -1) {
			wake_close(wake_fds);
			return -1;
		}
	}
	return 0;
}

void
wake_close(int wake_fds[2])
{
	close(wake_fds[0]);
	close(wake_fds[1]);
	wake_fds[0] = wake_fds[1] = -1;
}

void
wake_post(int wfd)
{
	char	c = 1;
	int	saved = errno;

	(void)!write(wfd, &c, 1);
	errno = saved;
}

void
wake_drain(int rfd)
{
	char	buf[256];

	while (read(rfd, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
}

int
ev_accept(int fd, struct sockaddr *sa, socklen_t *salen)
{
	int	nfd;

	if ((nfd = accept(fd, sa, salen)) == -1)
		return -1;
	if (fcntl(nfd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(nfd, F_SETFD, FD_CLOEXEC) == -1) {
		close(nfd);
		return -1;
	}
	return nfd;
}

#endif /* EV_LINUX */
