/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatc.h -- the chat client's private structs and prototypes.
 */
#ifndef CHATC_H
#define CHATC_H

#include <stddef.h>

#include "proto.h"

#include "version.h"

/*
 * The longest server line shown whole.  The server's own lines stay under
 * PROTO_LINE_MAX plus a WHO prefix; anything longer is shown in pieces.
 */
#define CHATC_LINE_MAX	4096
/* Bytes queued for the server: typed or piped lines not yet written. */
#define CHATC_SENDQ_MAX	65536

/* tty.c */

/* Buffered writes to a descriptor, retried over EINTR and short writes. */
struct obuf {
	int	o_fd;
	size_t	o_len;
	char	o_buf[8192];
};

void	ob_init(struct obuf *, int fd);
int	ob_put(struct obuf *, const void *, size_t);
int	ob_puts(struct obuf *, const char *);
int	ob_flush(struct obuf *);
int	write_all(int fd, const void *, size_t);

int	tty_raw(int fd);
void	tty_restore(void);
int	tty_cols(int fd);

#define EDIT_PROMPT	"> "
#define EDIT_HIST_MAX	100

/* What a key asks the caller to do. */
enum edit_ev {
	EDIT_NONE,		/* nothing visible changed */
	EDIT_REDRAW,		/* the line changed: render it */
	EDIT_BELL,		/* refused (line full, nothing to delete) */
	EDIT_LINE,		/* Enter: e_buf[0 .. e_len) is the line */
	EDIT_EOF,		/* Ctrl-D on an empty line */
	EDIT_INTR,		/* Ctrl-C */
	EDIT_SUSPEND,		/* Ctrl-Z */
	EDIT_CLEAR		/* Ctrl-L: clear the screen, then render */
};

/*
 * The line editor: one line of valid UTF-8 (bytes from the keyboard
 * that are not valid UTF-8 never get in), a cursor on a character
 * boundary, a horizontal scroll offset, and the history.
 */
struct edit {
	char		 e_buf[PROTO_LINE_MAX + 1];
	size_t		 e_len;		/* bytes in e_buf */
	size_t		 e_pos;		/* cursor, a byte offset */
	size_t		 e_off;		/* first byte shown */
	int		 e_cols;	/* terminal width */
	int		 e_col;		/* cursor column at the last render */

	int		 e_state;	/* key decoder: escape sequences */
	char		 e_seq[16];	/* CSI parameters */
	size_t		 e_seqlen;
	unsigned char	 e_utf[4];	/* a multibyte character so far */
	size_t		 e_utflen, e_utfneed;

	char		*e_hist[EDIT_HIST_MAX];	/* oldest first */
	size_t		 e_nhist;
	size_t		 e_hpos;	/* e_nhist: the new line */
	char		 e_saved[PROTO_LINE_MAX + 1];	/* the new line */
	size_t		 e_savedlen;
};

void		edit_init(struct edit *, int cols);
void		edit_free(struct edit *);
enum edit_ev	edit_key(struct edit *, unsigned char);
void		edit_accept(struct edit *);
int		edit_render(struct edit *, struct obuf *);
int		edit_resize(struct edit *, int, struct obuf *);

/* udpc.c */
int	udpc_run(const char *host, const char *port);

#endif
