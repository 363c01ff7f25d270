/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * link.c -- the two queues of a connection to the server: bytes to
 * write, and the server's bytes cut into lines.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chatc.h"

size_t
sq_room(const struct sendq *q)
{
	return sizeof(q->sq_buf) - q->sq_len;
}

/* Queue bytes for the server; the caller checked sq_room(). */
void
sq_add(struct sendq *q, const void *p, size_t n)
{
	memcpy(q->sq_buf + q->sq_len, p, n);
	q->sq_len += n;
}

/* Queue a formatted line if it fits whole; -1 if it does not. */
int
sq_addf(struct sendq *q, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(q->sq_buf + q->sq_len, sq_room(q), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sq_room(q))
		return -1;
	q->sq_len += (size_t)n;
	return 0;
}

/* Write what the socket takes now; -1 with errno on a write error. */
int
sq_write(struct sendq *q, int fd)
{
	ssize_t	w;

	while (q->sq_len > 0) {
		if ((w = write(fd, q->sq_buf, q->sq_len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		memmove(q->sq_buf, q->sq_buf + w, q->sq_len - (size_t)w);
		q->sq_len -= (size_t)w;
	}
	return 0;
}

/*
 * Cut bytes from the server into lines and hand each, without its LF,
 * to show().  A line longer than CHATC_LINE_MAX is handed over in
 * pieces, so a server that never sends a LF cannot grow our memory.
 */
int
lines_feed(struct linebuf *lb, const char *p, size_t n, show_fn *show,
    void *arg)
{
	const char	*nl;
	size_t		 k, room;

	while (n > 0) {
		room = sizeof(lb->lb_buf) - lb->lb_len;
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (k > room)
			k = room;
		memcpy(lb->lb_buf + lb->lb_len, p, k);
		lb->lb_len += k;
		p += k;
		n -= k;
		if (n > 0 && *p == '\n') {
			p++;
			n--;
		} else if (n == 0)
			break;		/* the rest of the line comes later */
		/* Otherwise the buffer is full and the line goes on. */
		if (show(arg, lb->lb_buf, lb->lb_len) == -1)
			return -1;
		lb->lb_len = 0;
	}
	return 0;
}

/* At the end of the stream: show a last line that had no LF. */
int
lines_flush(struct linebuf *lb, show_fn *show, void *arg)
{
	size_t	n = lb->lb_len;

	lb->lb_len = 0;
	return n > 0 ? show(arg, lb->lb_buf, n) : 0;
}
