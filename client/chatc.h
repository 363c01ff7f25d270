/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatc.h -- the chat client's private structs and prototypes.
 */
#ifndef CHATC_H
#define CHATC_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "proto.h"

#include "version.h"

/* The port when none is given. */
#define CHATC_PORT	"8080"
/*
 * The longest server line shown whole.  The server's own lines stay
 * under PROTO_LINE_MAX plus a WHO prefix, but another server's may not;
 * anything longer than this is shown in pieces, so a server that never
 * sends a LF cannot grow our memory.
 */
#define CHATC_LINE_MAX	65536
/* Bytes queued for the server: typed or piped lines not yet written. */
#define CHATC_SENDQ_MAX	65536

/* link.c: the connection's queues. */

/* Bytes waiting to be written to the server. */
struct sendq {
	size_t	sq_len;
	char	sq_buf[CHATC_SENDQ_MAX];
};

/* A server line being assembled. */
struct linebuf {
	size_t	lb_len;
	char	lb_buf[CHATC_LINE_MAX];
};

/* Called with each complete line from the server, without its LF. */
typedef int	show_fn(void *, const char *, size_t);

size_t	sq_room(const struct sendq *);
void	sq_add(struct sendq *, const void *, size_t);
int	sq_addf(struct sendq *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	sq_write(struct sendq *, int fd);
int	lines_feed(struct linebuf *, const char *, size_t, show_fn *,
	    void *);
int	lines_flush(struct linebuf *, show_fn *, void *);

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

#define EDIT_PROMPT_MAX	128
#define EDIT_HIST_MAX	1000

/* What a key asks the caller to do. */
enum edit_ev {
	EDIT_NONE,		/* nothing visible changed */
	EDIT_REDRAW,		/* the line changed: render it */
	EDIT_BELL,		/* refused (line full, nothing to delete) */
	EDIT_LINE,		/* Enter: e_buf[0 .. e_len) is the line */
	EDIT_EOF,		/* Ctrl-D on an empty line */
	EDIT_INTR,		/* Ctrl-C */
	EDIT_SUSPEND,		/* Ctrl-Z */
	EDIT_CLEAR,		/* Ctrl-L: clear the screen, then render */
	EDIT_TAB		/* Tab: the caller completes the word */
};

/*
 * The line editor: one line of valid UTF-8 (bytes from the keyboard
 * that are not valid UTF-8 never get in), a cursor on a character
 * boundary, a horizontal scroll offset, and the history.
 */
struct edit {
	char		 e_buf[PROTO_LINE_MAX + 1];
	char		 e_prompt[EDIT_PROMPT_MAX];	/* ASCII */
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
void		edit_prompt(struct edit *, const char *);
void		edit_hist_add(struct edit *, const char *);
/* Replace bytes [from, cursor) with s; -1 if the line would be too long. */
int		edit_replace(struct edit *, size_t from, const char *s);
/* Start of the word the cursor is in or after. */
size_t		edit_word_start(const struct edit *);

/* render.c: what a server line is, and how a person sees it. */

enum line_kind {
	LK_NOTICE,		/* anything else, shown as a notice */
	LK_ERROR,		/* "error: ..." */
	LK_MESSAGE,		/* WHO said: TEXT */
	LK_OWN,			/* "TEXT" received by the server */
	LK_WHISPER,		/* WHO whispers: TEXT */
	LK_ACTION,		/* * WHO TEXT */
	LK_JOIN,		/* WHO connected */
	LK_LEAVE,		/* WHO left [(REASON)] */
	LK_RENAME,		/* WHO is now known as NAME */
	LK_NICK_OK,		/* ok: you are now NAME */
	LK_WHO_ENTRY,		/* who: NAME (ADDR) */
	LK_HISTORY,		/* history: LINE */
	LK_SHUTDOWN,		/* Server shutting down */
	LK_GOODBYE		/* Goodbye. */
};

/* A server line taken apart; the pointers are into the line. */
struct line_info {
	enum line_kind	 li_kind;
	const char	*li_who;	/* the WHO, or NULL */
	size_t		 li_wholen;
	const char	*li_text;	/* the TEXT, REASON or NAME, or NULL */
	size_t		 li_textlen;
};

struct render {
	int		 r_colour;	/* use SGR colours */
	const char	*r_clock;	/* fixed "HH:MM", or NULL for now */
	const char	*r_nick;	/* our WHO: nickname or Client (ADDR) */
};

void	line_parse(const char *, size_t, struct line_info *);
/* 1 if WHO is name (case ignored, as the server compares them). */
int	who_is(const char *who, size_t len, const char *name);
/* 1 if text names name as a word. */
int	text_names(const char *text, size_t len, const char *name);
/* Draw one line above the input line; history lines have no time. */
int	render_line(const struct render *, struct obuf *, const char *,
	    size_t, int history);
/* Our own action, "* me TEXT", and whisper, "-> *NAME* TEXT". */
int	render_action(const struct render *, struct obuf *, const char *,
	    size_t);
int	render_whisper_sent(const struct render *, struct obuf *,
	    const char *name, size_t, const char *text, size_t);
/* A notice of chatc's own, in the notice style. */
int	render_notice(const struct render *, struct obuf *, const char *);

/* complete.c: Tab completion of nicknames and commands. */
void	names_add(const char *, size_t);
void	names_remove(const char *, size_t);
void	names_clear(void);
/*
 * Complete the word before the cursor.  Returns 0 if it changed the
 * line, 1 if there were several candidates (listed in *list, a
 * space-separated string), -1 if there is nothing to complete.
 */
int	complete(struct edit *, char *list, size_t listlen);

/* histfile.c: the history kept across runs. */
/* The file's path into buf; -2 without XDG_STATE_HOME and HOME. */
int	histfile_path(char *buf, size_t len, int create_dir);
int	histfile_load(struct edit *, const char *path);
int	histfile_save(const struct edit *, const char *path);

/* dial.c: connecting without blocking. */
#define DIAL_TIMEOUT_MS	10000		/* per address */
#define DIAL_FAILED	(-1)		/* d_why says why */
#define DIAL_PENDING	(-2)		/* wait for d_fd to be writable */

struct dial {
	struct addrinfo	*d_res;
	struct addrinfo	*d_ai;		/* the address being tried */
	int		 d_fd;		/* its socket, while pending */
	int64_t		 d_deadline;	/* when to give it up, in ms */
	char		 d_why[NET_ERR_MAX];
};

/*
 * Each returns a connected, non-blocking descriptor, DIAL_FAILED, or
 * DIAL_PENDING.  dial_poll() is called when d_fd is writable,
 * dial_timeout() at d_deadline; times are CLOCK_MONOTONIC ms.
 */
int	dial_start(struct dial *, const char *host, const char *port,
	    int64_t now);
int	dial_poll(struct dial *, int64_t now);
int	dial_timeout(struct dial *, int64_t now);
/* Give up: close and free what dial_start() made. */
void	dial_cancel(struct dial *);

/* term.c: terminal mode. */
struct term_opts {
	const char	*host;
	const char	*port;
	const char	*nick;		/* -n, or NULL */
	int		 reconnect;	/* -r */
};
int	term_run(int fd, const struct term_opts *);

/* udpc.c */
int	udpc_run(const char *host, const char *port);

#endif
