/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * ev.h -- the event loop, and every other call that differs between
 * Linux and the BSDs.  Linux uses epoll, eventfd and accept4; elsewhere
 * the same interface runs on poll(), a pipe and accept + fcntl.  This is
 * the one file a port has to touch.
 */
#ifndef EV_H
#define EV_H

#include <sys/socket.h>

#define EV_READ		0x1
#define EV_WRITE	0x2
/*
 * Wake only one of the processes waiting on this descriptor (a listening
 * socket shared by several workers); a no-op where unsupported.
 */
#define EV_EXCLUSIVE	0x4

struct ev_event {
	void	*udata;
	int	 events;	/* EV_READ | EV_WRITE; errors count as both */
};

struct ev;

/* A loop for up to maxfds descriptors; NULL with errno on failure. */
struct ev	*ev_new(int maxfds);
void		 ev_free(struct ev *);
/* Watch fd for the events in mask; udata comes back with each event. */
int		 ev_add(struct ev *, int fd, int mask, void *udata);
int		 ev_mod(struct ev *, int fd, int mask, void *udata);
int		 ev_del(struct ev *, int fd);
/*
 * Wait up to timeout ms (-1: forever) and fill out[0 .. max); returns
 * the count, 0 on timeout, -1 with errno (EINTR included) on failure.
 */
int		 ev_wait(struct ev *, struct ev_event *out, int max,
		    int timeout);

/*
 * A wake-up descriptor another process can poke: wake_fds[0] becomes
 * readable after wake_post(wake_fds[1]).  Both ends non-blocking and
 * close-on-exec; on Linux both are the same eventfd.
 */
int	wake_open(int wake_fds[2]);
void	wake_close(int wake_fds[2]);
/* Async-signal-safe; a wake-up already pending absorbs this one. */
void	wake_post(int wfd);
/* Clear pending wake-ups. */
void	wake_drain(int rfd);

/* accept(2) whose new descriptor is non-blocking and close-on-exec. */
int	ev_accept(int fd, struct sockaddr *sa, socklen_t *salen);

#endif
