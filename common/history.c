/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * history.c -- a ring of the last HISTORY_MAX broadcast lines.
 */
#include <string.h>

#include "history.h"

void
history_init(struct history *h)
{
	h->h_next = 0;
	h->h_count = 0;
}

void
history_add(struct history *h, const char *text, size_t len)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return;
	if (len > HISTORY_LINE_MAX)
		len = HISTORY_LINE_MAX;
	memcpy(h->h_line[h->h_next], text, len);
	h->h_len[h->h_next] = len;
	h->h_next = (h->h_next + 1) % HISTORY_MAX;
	if (h->h_count < HISTORY_MAX)
		h->h_count++;
}

size_t
history_count(const struct history *h)
{
	return h->h_count;
}

const char *
history_line(const struct history *h, size_t n, size_t i, size_t *len)
{
	size_t	slot;

	if (n > h->h_count || i >= n)
		return NULL;
	/* The newest is at h_next - 1; the oldest of the last n, n back. */
	slot = (h->h_next + HISTORY_MAX - n + i) % HISTORY_MAX;
	*len = h->h_len[slot];
	return h->h_line[slot];
}
