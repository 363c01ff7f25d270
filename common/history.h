/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * history.h -- the last broadcasts a server delivered, for /history.
 * A bounded ring of lines; pure: no I/O, no allocation.
 */
#ifndef HISTORY_H
#define HISTORY_H

#include <stddef.h>

#include "proto.h"

/* Lines kept; also the most /history shows. */
#define HISTORY_MAX		100
/* The longest line kept, without its LF: two WHOs, a text, the frame. */
#define HISTORY_LINE_MAX	(2 * PROTO_WHO_MAX + PROTO_LINE_MAX + 64)

struct history {
	size_t	h_next;			/* slot the next line goes to */
	size_t	h_count;		/* lines held, at most HISTORY_MAX */
	size_t	h_len[HISTORY_MAX];
	char	h_line[HISTORY_MAX][HISTORY_LINE_MAX];
};

/* An empty history. */
void	history_init(struct history *);

/*
 * Keep text[0 .. len) as the newest line, forgetting the oldest when
 * HISTORY_MAX are held.  One final LF is not kept; a line longer than
 * HISTORY_LINE_MAX is cut there.  An empty line is not kept.
 */
void	history_add(struct history *, const char *text, size_t len);

/* How many lines are held. */
size_t	history_count(const struct history *);

/*
 * Line i of the last n (0 the oldest of them, n at most
 * history_count()); its length in *len.  The text is not
 * NUL-terminated and stays valid until the next history_add().
 * NULL if i >= n or n > history_count().
 */
const char *history_line(const struct history *, size_t n, size_t i,
	    size_t *len);

#endif
