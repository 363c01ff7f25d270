/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * tty.c -- raw mode and its restore, the line editor, buffered output.
 *
 * The editor keeps one line of valid UTF-8.  Each character is one
 * cursor step and is deleted whole; its width on the screen comes from
 * wcwidth(3), so a wide character takes two columns.  A line wider than
 * the terminal scrolls horizontally, and the cursor column never reaches
 * the last one, so the terminal never wraps the line being edited.
 */
#define _XOPEN_SOURCE	700	/* wcwidth */

#include <sys/ioctl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include "sanitize.h"
#include "chatc.h"

#define KEY_CTRL(c)		((c) & 0x1f)
#define DEL		0x7f
#define ESC		0x1b

/* Key decoder states. */
enum {
	ES_NONE,
	ES_ESC,		/* after ESC */
	ES_CSI,		/* after ESC [ */
	ES_SS3		/* after ESC O */
};

static size_t	ed_prev(const struct edit *, size_t);
static size_t	ed_next(const struct edit *, size_t);
static int	ed_width(const struct edit *, size_t);
static enum edit_ev ed_insert(struct edit *, const void *, size_t);
static enum edit_ev ed_delete(struct edit *, size_t, size_t);
static enum edit_ev ed_move(struct edit *, size_t);
static size_t	ed_word_left(const struct edit *);
static size_t	ed_word_right(const struct edit *);
static enum edit_ev ed_hist(struct edit *, int);
static void	ed_set(struct edit *, const char *, size_t);
static enum edit_ev ed_control(struct edit *, unsigned char);
static enum edit_ev ed_utf8(struct edit *, unsigned char);
static enum edit_ev ed_csi(struct edit *, unsigned char);
static enum edit_ev ed_escape(struct edit *, unsigned char);
static void	ed_scroll(struct edit *, int);

static struct termios	tty_saved;
static int		tty_fd = -1;	/* in raw mode when not -1 */

/* Write all of buf, retrying over EINTR and short writes. */
int
write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
ob_init(struct obuf *ob, int fd)
{
	ob->o_fd = fd;
	ob->o_len = 0;
}

int
ob_flush(struct obuf *ob)
{
	int	rv;

	rv = write_all(ob->o_fd, ob->o_buf, ob->o_len);
	ob->o_len = 0;
	return rv;
}

/* Append to the buffer, writing it out whenever it fills. */
int
ob_put(struct obuf *ob, const void *data, size_t n)
{
	const char	*p = data;
	size_t		 k;

	while (n > 0) {
		if (ob->o_len == sizeof(ob->o_buf) && ob_flush(ob) == -1)
			return -1;
		k = sizeof(ob->o_buf) - ob->o_len;
		if (k > n)
			k = n;
		memcpy(ob->o_buf + ob->o_len, p, k);
		ob->o_len += k;
		p += k;
		n -= k;
	}
	return 0;
}

int
ob_puts(struct obuf *ob, const char *s)
{
	return ob_put(ob, s, strlen(s));
}

/*
 * Put the terminal on fd in raw mode: no echo, no line discipline, no
 * signals from keys (Ctrl-C and Ctrl-Z arrive as bytes and are handled
 * like the signals), no output processing.  The mode in force before is
 * saved each time raw mode is entered from a restored terminal, so
 * settings changed while chatc was suspended are what comes back.  The
 * restore is registered with atexit before the mode changes, so no
 * exit() can leave the terminal raw.
 */
int
tty_raw(int fd)
{
	static int	registered;
	struct termios	t;

	/*
	 * Already raw: apply it again, for a shell that reset the mode
	 * while chatc was stopped by SIGSTOP, which cannot be caught.
	 */
	if (tty_fd == -1 && tcgetattr(fd, &tty_saved) == -1)
		return -1;
	if (!registered) {
		if (atexit(tty_restore) != 0)
			return -1;
		registered = 1;
	}
	t = tty_saved;
	t.c_iflag &= ~(BRKINT | ICRNL | INLCR | IGNCR | INPCK | ISTRIP | IXON);
	t.c_oflag &= ~OPOST;
	t.c_cflag |= CS8;
	t.c_lflag &= ~(ECHO | ICANON | IEXTEN | ISIG);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	while (tcsetattr(fd, TCSADRAIN, &t) == -1)
		if (errno != EINTR)
			return -1;
	tty_fd = fd;
	return 0;
}

/* Back to the saved mode; harmless when not in raw mode. */
void
tty_restore(void)
{
	int	saved = errno;

	if (tty_fd == -1)
		return;
	while (tcsetattr(tty_fd, TCSADRAIN, &tty_saved) == -1 &&
	    errno == EINTR)
		;
	tty_fd = -1;
	errno = saved;
}

/* The terminal's width in columns, 80 when it does not say. */
int
tty_cols(int fd)
{
	struct winsize	ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

void
edit_init(struct edit *e, int cols)
{
	memset(e, 0, sizeof(*e));
	e->e_cols = cols;
	edit_prompt(e, "> ");
}

/*
 * The prompt, printable ASCII only (one column per byte), cut to
 * EDIT_PROMPT_MAX - 1 bytes.  The caller renders it.
 */
void
edit_prompt(struct edit *e, const char *p)
{
	size_t	i;

	for (i = 0; p[i] != '\0' && i < sizeof(e->e_prompt) - 1; i++)
		e->e_prompt[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	e->e_prompt[i] = '\0';
}

void
edit_free(struct edit *e)
{
	size_t	i;

	for (i = 0; i < e->e_nhist; i++)
		free(e->e_hist[i]);
	e->e_nhist = e->e_hpos = 0;
}

/* Columns taken by the character at byte i. */
static int
ed_width(const struct edit *e, size_t i)
{
	const unsigned char	*s = (const unsigned char *)e->e_buf + i;
	size_t			 len;
	unsigned long		 cp;
	int			 w;

	if (s[0] < 0x80)
		return 1;
	if ((len = san_utf8_len(s, e->e_len - i)) == 0)
		return 1;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
#ifdef __STDC_ISO_10646__
	/* Unknown to the locale (the C locale knows no wide characters). */
	if ((w = wcwidth((wchar_t)cp)) < 0)
		w = 1;
#else
	w = 1;
#endif
	return w;
}

/* Start of the character before byte i. */
static size_t
ed_prev(const struct edit *e, size_t i)
{
	if (i == 0)
		return 0;
	do
		i--;
	while (i > 0 && ((unsigned char)e->e_buf[i] & 0xc0) == 0x80);
	return i;
}

/* Start of the character after the one at byte i. */
static size_t
ed_next(const struct edit *e, size_t i)
{
	if (i >= e->e_len)
		return e->e_len;
	do
		i++;
	while (i < e->e_len && ((unsigned char)e->e_buf[i] & 0xc0) == 0x80);
	return i;
}

static enum edit_ev
ed_insert(struct edit *e, const void *p, size_t n)
{
	if (e->e_len + n > PROTO_LINE_MAX)
		return EDIT_BELL;
	memmove(e->e_buf + e->e_pos + n, e->e_buf + e->e_pos,
	    e->e_len - e->e_pos);
	memcpy(e->e_buf + e->e_pos, p, n);
	e->e_len += n;
	e->e_pos += n;
	return EDIT_REDRAW;
}

/* Remove bytes [from, to) and leave the cursor at from. */
static enum edit_ev
ed_delete(struct edit *e, size_t from, size_t to)
{
	if (from >= to)
		return EDIT_BELL;
	memmove(e->e_buf + from, e->e_buf + to, e->e_len - to);
	e->e_len -= to - from;
	e->e_pos = from;
	return EDIT_REDRAW;
}

static enum edit_ev
ed_move(struct edit *e, size_t pos)
{
	if (pos == e->e_pos)
		return EDIT_NONE;
	e->e_pos = pos;
	return EDIT_REDRAW;
}

/* Start of the word before the cursor, skipping spaces first. */
static size_t
ed_word_left(const struct edit *e)
{
	size_t	i = e->e_pos;

	while (i > 0 && e->e_buf[i - 1] == ' ')
		i--;
	while (i > 0 && e->e_buf[i - 1] != ' ')
		i--;
	return i;
}

/* End of the word after the cursor. */
static size_t
ed_word_right(const struct edit *e)
{
	size_t	i = e->e_pos;

	while (i < e->e_len && e->e_buf[i] == ' ')
		i++;
	while (i < e->e_len && e->e_buf[i] != ' ')
		i++;
	return i;
}

/* Replace the line with s[0 .. n), the cursor at its end. */
static void
ed_set(struct edit *e, const char *s, size_t n)
{
	memcpy(e->e_buf, s, n);
	e->e_len = e->e_pos = n;
	e->e_off = 0;
}

/*
 * Up (dir -1) and Down (+1) through the history.  The line being typed
 * is kept aside while browsing and comes back below the newest entry.
 */
static enum edit_ev
ed_hist(struct edit *e, int dir)
{
	const char	*h;

	if (dir < 0) {
		if (e->e_hpos == 0)
			return EDIT_BELL;
		if (e->e_hpos == e->e_nhist) {
			memcpy(e->e_saved, e->e_buf, e->e_len);
			e->e_savedlen = e->e_len;
		}
		h = e->e_hist[--e->e_hpos];
		ed_set(e, h, strlen(h));
		return EDIT_REDRAW;
	}
	if (e->e_hpos == e->e_nhist)
		return EDIT_BELL;
	if (++e->e_hpos == e->e_nhist)
		ed_set(e, e->e_saved, e->e_savedlen);
	else {
		h = e->e_hist[e->e_hpos];
		ed_set(e, h, strlen(h));
	}
	return EDIT_REDRAW;
}

/*
 * The line was sent: remember it (not an empty line, not the same line
 * twice in a row) and start a new one.  Without memory it is simply not
 * remembered.
 */
void
edit_accept(struct edit *e)
{
	e->e_buf[e->e_len] = '\0';
	edit_hist_add(e, e->e_buf);
	e->e_len = e->e_pos = e->e_off = 0;
}

/*
 * Remember a line as the newest in the history (not an empty line, not
 * the same line twice in a row), forgetting the oldest beyond
 * EDIT_HIST_MAX.  Without memory it is simply not remembered.
 */
void
edit_hist_add(struct edit *e, const char *line)
{
	char	*s;

	if (line[0] != '\0' && (e->e_nhist == 0 ||
	    strcmp(e->e_hist[e->e_nhist - 1], line) != 0) &&
	    (s = strdup(line)) != NULL) {
		if (e->e_nhist == EDIT_HIST_MAX) {
			free(e->e_hist[0]);
			memmove(e->e_hist, e->e_hist + 1,
			    (EDIT_HIST_MAX - 1) * sizeof(e->e_hist[0]));
			e->e_nhist--;
		}
		e->e_hist[e->e_nhist++] = s;
	}
	e->e_hpos = e->e_nhist;
}

size_t
edit_word_start(const struct edit *e)
{
	size_t	i = e->e_pos;

	while (i > 0 && e->e_buf[i - 1] != ' ')
		i--;
	return i;
}

int
edit_replace(struct edit *e, size_t from, const char *s)
{
	size_t	n = strlen(s);

	if (from > e->e_pos || e->e_len - (e->e_pos - from) + n >
	    PROTO_LINE_MAX)
		return -1;
	(void)ed_delete(e, from, e->e_pos);
	(void)ed_insert(e, s, n);
	return 0;
}

/* A control key (C0 or DEL). */
static enum edit_ev
ed_control(struct edit *e, unsigned char c)
{
	switch (c) {
	case '\r':
	case '\n':
		return EDIT_LINE;
	case KEY_CTRL('A'):
		return ed_move(e, 0);
	case KEY_CTRL('E'):
		return ed_move(e, e->e_len);
	case KEY_CTRL('B'):
		return ed_move(e, ed_prev(e, e->e_pos));
	case KEY_CTRL('F'):
		return ed_move(e, ed_next(e, e->e_pos));
	case KEY_CTRL('H'):
	case DEL:
		return ed_delete(e, ed_prev(e, e->e_pos), e->e_pos);
	case KEY_CTRL('D'):
		if (e->e_len == 0)
			return EDIT_EOF;
		return ed_delete(e, e->e_pos, ed_next(e, e->e_pos));
	case KEY_CTRL('U'):
		return ed_delete(e, 0, e->e_pos);
	case KEY_CTRL('K'):
		return ed_delete(e, e->e_pos, e->e_len);
	case KEY_CTRL('W'):
		return ed_delete(e, ed_word_left(e), e->e_pos);
	case KEY_CTRL('P'):
		return ed_hist(e, -1);
	case KEY_CTRL('N'):
		return ed_hist(e, 1);
	case KEY_CTRL('L'):
		return EDIT_CLEAR;
	case KEY_CTRL('C'):
		return EDIT_INTR;
	case KEY_CTRL('Z'):
		return EDIT_SUSPEND;
	case '\t':
		return EDIT_TAB;
	default:
		return EDIT_NONE;
	}
}

/*
 * A byte of a multibyte character.  The character goes in only once it
 * is complete and valid; a stray byte is dropped.
 */
static enum edit_ev
ed_utf8(struct edit *e, unsigned char c)
{
	if ((c & 0xc0) == 0x80) {
		if (e->e_utfneed == 0)
			return EDIT_NONE;
		e->e_utf[e->e_utflen++] = c;
		if (e->e_utflen < e->e_utfneed)
			return EDIT_NONE;
		e->e_utfneed = 0;
		if (san_utf8_len(e->e_utf, e->e_utflen) != e->e_utflen)
			return EDIT_NONE;
		/* C1 controls would be obeyed by some terminals. */
		if (e->e_utf[0] == 0xc2 && e->e_utf[1] <= 0x9f)
			return EDIT_NONE;
		return ed_insert(e, e->e_utf, e->e_utflen);
	}
	if (c >= 0xc2 && c <= 0xdf)
		e->e_utfneed = 2;
	else if (c >= 0xe0 && c <= 0xef)
		e->e_utfneed = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		e->e_utfneed = 4;
	else {
		e->e_utfneed = 0;
		return EDIT_NONE;
	}
	e->e_utf[0] = c;
	e->e_utflen = 1;
	return EDIT_NONE;
}

/* The final byte of ESC [ params final, or of ESC O final. */
static enum edit_ev
ed_csi(struct edit *e, unsigned char c)
{
	const char	*p = e->e_seq;
	int		 word;

	/* xterm reports Ctrl and Alt with arrows as "1;5" and "1;3". */
	word = strcmp(p, "1;5") == 0 || strcmp(p, "1;3") == 0;
	switch (c) {
	case 'A':
		return ed_hist(e, -1);
	case 'B':
		return ed_hist(e, 1);
	case 'C':
		return ed_move(e, word ? ed_word_right(e) :
		    ed_next(e, e->e_pos));
	case 'D':
		return ed_move(e, word ? ed_word_left(e) :
		    ed_prev(e, e->e_pos));
	case 'H':
		return ed_move(e, 0);
	case 'F':
		return ed_move(e, e->e_len);
	case '~':
		if (strcmp(p, "1") == 0 || strcmp(p, "7") == 0)
			return ed_move(e, 0);
		if (strcmp(p, "4") == 0 || strcmp(p, "8") == 0)
			return ed_move(e, e->e_len);
		if (strcmp(p, "3") == 0)
			return ed_delete(e, e->e_pos, ed_next(e, e->e_pos));
		return EDIT_NONE;
	default:
		return EDIT_NONE;
	}
}

/* A byte inside an escape sequence from the keyboard. */
static enum edit_ev
ed_escape(struct edit *e, unsigned char c)
{
	switch (e->e_state) {
	case ES_ESC:
		e->e_state = ES_NONE;
		e->e_seqlen = 0;
		e->e_seq[0] = '\0';
		switch (c) {
		case '[':
			e->e_state = ES_CSI;
			return EDIT_NONE;
		case 'O':
			e->e_state = ES_SS3;
			return EDIT_NONE;
		case 'b':		/* Alt-b, Alt-f, Alt-Backspace */
			return ed_move(e, ed_word_left(e));
		case 'f':
			return ed_move(e, ed_word_right(e));
		case DEL:
			return ed_delete(e, ed_word_left(e), e->e_pos);
		case ESC:
			e->e_state = ES_ESC;
			return EDIT_NONE;
		default:
			return EDIT_NONE;
		}
	case ES_SS3:
		e->e_state = ES_NONE;
		return ed_csi(e, c);
	default:			/* ES_CSI */
		if (c >= 0x20 && c <= 0x3f) {
			/* Parameters and intermediates; too many: no key. */
			if (e->e_seqlen < sizeof(e->e_seq) - 1) {
				e->e_seq[e->e_seqlen++] = (char)c;
				e->e_seq[e->e_seqlen] = '\0';
			} else
				e->e_seq[0] = '!';
			return EDIT_NONE;
		}
		e->e_state = ES_NONE;
		if (c >= 0x40 && c <= 0x7e)
			return ed_csi(e, c);
		return EDIT_NONE;
	}
}

/* Feed one byte from the keyboard; say what the caller must do. */
enum edit_ev
edit_key(struct edit *e, unsigned char c)
{
	if (e->e_state != ES_NONE)
		return ed_escape(e, c);
	if (c >= 0x80)
		return ed_utf8(e, c);
	/* Anything else ends a multibyte character half received. */
	e->e_utfneed = 0;
	if (c == ESC) {
		e->e_state = ES_ESC;
		return EDIT_NONE;
	}
	if (c < 0x20 || c == DEL)
		return ed_control(e, c);
	return ed_insert(e, &c, 1);
}

/*
 * Choose the first byte shown so that the cursor is on the screen, and,
 * when the line got shorter, so that the screen is used.  avail is the
 * number of columns for text; the cursor needs a column of its own.
 */
static void
ed_scroll(struct edit *e, int avail)
{
	size_t	i, p;
	int	w;

	if (e->e_off > e->e_pos)
		e->e_off = e->e_pos;
	for (w = 0, i = e->e_off; i < e->e_pos; i = ed_next(e, i))
		w += ed_width(e, i);
	while (w >= avail && e->e_off < e->e_pos) {
		w -= ed_width(e, e->e_off);
		e->e_off = ed_next(e, e->e_off);
	}
	for (w = 0, i = e->e_off; i < e->e_len; i = ed_next(e, i))
		w += ed_width(e, i);
	while (e->e_off > 0) {
		p = ed_prev(e, e->e_off);
		if (w + ed_width(e, p) >= avail)
			break;
		w += ed_width(e, p);
		e->e_off = p;
	}
}

/* Draw the prompt and the visible part of the line; put the cursor. */
int
edit_render(struct edit *e, struct obuf *ob)
{
	char	mv[32];
	int	plen = (int)strlen(e->e_prompt), avail, w, cw, cur;
	size_t	i;

	/* The last column stays free: writing there would wrap. */
	if ((avail = e->e_cols - plen - 1) < 1)
		avail = 1;
	ed_scroll(e, avail);
	if (ob_puts(ob, "\r") == -1 || ob_puts(ob, e->e_prompt) == -1)
		return -1;
	cur = 0;
	for (w = 0, i = e->e_off; i < e->e_len; i = ed_next(e, i)) {
		if (i == e->e_pos)
			cur = w;
		cw = ed_width(e, i);
		if (w + cw > avail)
			break;
		if (ob_put(ob, e->e_buf + i, ed_next(e, i) - i) == -1)
			return -1;
		w += cw;
	}
	if (e->e_pos >= i)
		cur = w;
	if (ob_puts(ob, "\033[K\r") == -1)
		return -1;
	e->e_col = plen + cur;
	snprintf(mv, sizeof(mv), "\033[%dC", e->e_col);
	return ob_puts(ob, mv);
}

/*
 * The terminal is now cols wide.  A terminal that narrows has wrapped
 * the line drawn for the old width, and those that reflow (tmux, VTE,
 * kitty, iTerm2) left the cursor e_col / cols rows below its start: go
 * up there and clear to the end of the screen before drawing again.
 * Where the terminal merely cuts lines, that clears as many lines of
 * chat above; the screen stays consistent either way.
 */
int
edit_resize(struct edit *e, int cols, struct obuf *ob)
{
	char	up[32];

	if (cols < e->e_cols && e->e_col >= cols) {
		snprintf(up, sizeof(up), "\033[%dA", e->e_col / cols);
		if (ob_puts(ob, up) == -1)
			return -1;
	}
	e->e_cols = cols;
	if (ob_puts(ob, "\r\033[J") == -1)
		return -1;
	return edit_render(e, ob);
}
