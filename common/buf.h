/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * buf.h -- a bounded byte queue: append at the tail, consume from the
 * head.  Used for each client's send queue.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char	*b_data;
	size_t	 b_off;		/* first unconsumed byte */
	size_t	 b_len;		/* unconsumed bytes from b_off */
	size_t	 b_cap;		/* allocated */
	size_t	 b_limit;	/* b_len never exceeds this */
};

/* An empty queue that will hold at most limit bytes; allocates nothing. */
void	buf_init(struct buf *, size_t limit);
void	buf_free(struct buf *);
/*
 * Append n bytes.  Returns 0, or -1 with errno ENOBUFS if the queue
 * would exceed its limit (nothing is appended) or ENOMEM.
 */
int	buf_append(struct buf *, const void *, size_t n);
/* Drop n bytes from the head (n <= b_len); shrinks the queue when empty. */
void	buf_consume(struct buf *, size_t n);

/* The first unconsumed byte; never NULL, even before the first append. */
static inline const char *
buf_head(const struct buf *b)
{
	return b->b_data == NULL ? "" : b->b_data + b->b_off;
}

#endif
