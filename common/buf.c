/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * buf.c -- bounded byte queues.
 *
 * The queue grows by doubling up to its limit and gives all but a small
 * buffer back when it drains, so a burst does not pin memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN		4096

void
buf_init(struct buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->b_limit = limit;
}

void
buf_free(struct buf *b)
{
	free(b->b_data);
	buf_init(b, b->b_limit);
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	size_t	 need, cap;
	char	*nd;

	if (n > b->b_limit || b->b_len > b->b_limit - n) {
		errno = ENOBUFS;
		return -1;
	}
	/* Nothing to copy; b_data may still be NULL, which memcpy forbids. */
	if (n == 0)
		return 0;
	need = b->b_len + n;
	if (b->b_off + need > b->b_cap) {
		if (need <= b->b_cap) {
			/* Enough room once the consumed head is reclaimed. */
			memmove(b->b_data, b->b_data + b->b_off, b->b_len);
			b->b_off = 0;
		} else {
			cap = b->b_cap ? b->b_cap : BUF_MIN;
			while (cap < need)
				cap = cap > SIZE_MAX / 2 ? need : cap * 2;
			if (b->b_off > 0) {
				memmove(b->b_data, b->b_data + b->b_off,
				    b->b_len);
				b->b_off = 0;
			}
			if ((nd = realloc(b->b_data, cap)) == NULL)
				return -1;
			b->b_data = nd;
			b->b_cap = cap;
		}
	}
	memcpy(b->b_data + b->b_off + b->b_len, p, n);
	b->b_len += n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->b_off += n;
	b->b_len -= n;
	if (b->b_len > 0)
		return;
	/* Keep a small buffer for the next message; give back a big one. */
	if (b->b_cap > BUF_MIN)
		buf_free(b);
	else
		b->b_off = 0;
}
