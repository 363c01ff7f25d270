/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * render.c -- server lines for people: what each line is (a message, a
 * whisper, an action, a notice...), and how it is drawn: the local
 * time, "<nick> text", nicknames in stable colours, notices and errors
 * set apart.  The line has been sanitised (SAN_DISPLAY) before it gets
 * here, so whatever is drawn is text, never a terminal command.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chatc.h"

#define SGR_RESET	"\033[0m"
#define SGR_DIM		"\033[2m"
#define SGR_BOLD	"\033[1m"
#define SGR_ERROR	"\033[1;31m"

static size_t	who_len(const char *, size_t);
static int	starts(const char *, size_t, const char *);
static int	ends(const char *, size_t, const char *);
static const char *nick_colour(const char *, size_t);
static int	put_nick(const struct render *, struct obuf *, const char *,
		    size_t, int);
static int	put_styled(const struct render *, struct obuf *,
		    const char *, const char *, const char *, size_t);
static int	nick_char(char);
static int	put_body(const struct render *, struct obuf *, const char *,
		    size_t, const struct line_info *);
static int	put_time(const struct render *, struct obuf *, int);

/*
 * Nickname colours: no red, which is for errors, and no colour that
 * is hard to read on either a dark or a light background.
 */
static const char	*palette[] = {
	"\033[32m", "\033[33m", "\033[34m", "\033[35m", "\033[36m",
	"\033[92m", "\033[93m", "\033[94m", "\033[95m", "\033[96m"
};

static int
starts(const char *s, size_t n, const char *prefix)
{
	size_t	k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

static int
ends(const char *s, size_t n, const char *suffix)
{
	size_t	k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * Length of the WHO that starts s: "Client (ADDR)" or a nickname
 * followed by a space or the end; 0 if s does not start with one.
 */
static size_t
who_len(const char *s, size_t n)
{
	const char	*close;
	size_t		 i;

	if (starts(s, n, "Client (")) {
		/* An address has no parenthesis, not even an IPv6 one. */
		if ((close = memchr(s, ')', n)) == NULL)
			return 0;
		return (size_t)(close - s) + 1;
	}
	for (i = 0; i < n && i <= PROTO_NICK_MAX && s[i] != ' '; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))))
			return 0;
	if (i == 0 || i > PROTO_NICK_MAX)
		return 0;
	return i;
}

/* Take a server line apart (see enum line_kind). */
void
line_parse(const char *s, size_t n, struct line_info *li)
{
	const char	*rest;
	size_t		 w, r;

	memset(li, 0, sizeof(*li));
	li->li_kind = LK_NOTICE;
	if (starts(s, n, "error: ")) {
		li->li_kind = LK_ERROR;
		return;
	}
	if (n >= 2 && s[0] == '"' && ends(s, n, "\" received by the server")) {
		li->li_kind = LK_OWN;
		li->li_text = s + 1;
		li->li_textlen = n - 1 - strlen("\" received by the server");
		return;
	}
	if (starts(s, n, "ok: you are now ")) {
		li->li_kind = LK_NICK_OK;
		li->li_text = s + strlen("ok: you are now ");
		li->li_textlen = n - strlen("ok: you are now ");
		return;
	}
	if (starts(s, n, "history: ") && !(ends(s, n, " lines") &&
	    s[strlen("history: ")] >= '0' && s[strlen("history: ")] <= '9')) {
		li->li_kind = LK_HISTORY;
		li->li_text = s + strlen("history: ");
		li->li_textlen = n - strlen("history: ");
		return;
	}
	if (starts(s, n, "who: ")) {
		w = who_len(s + 5, n - 5);
		if (w > 0 && !starts(s + 5, n - 5, "Client (") &&
		    starts(s + 5 + w, n - 5 - w, " (")) {
			li->li_kind = LK_WHO_ENTRY;
			li->li_who = s + 5;
			li->li_wholen = w;
		}
		return;
	}
	if (n == strlen("Server shutting down") &&
	    starts(s, n, "Server shutting down")) {
		li->li_kind = LK_SHUTDOWN;
		return;
	}
	if (n == strlen("Goodbye.") && starts(s, n, "Goodbye.")) {
		li->li_kind = LK_GOODBYE;
		return;
	}
	if (starts(s, n, "* ") && !starts(s, n, "***")) {
		if ((w = who_len(s + 2, n - 2)) == 0 || !starts(s + 2 + w,
		    n - 2 - w, " "))
			return;
		li->li_kind = LK_ACTION;
		li->li_who = s + 2;
		li->li_wholen = w;
		li->li_text = s + 3 + w;
		li->li_textlen = n - 3 - w;
		return;
	}
	if ((w = who_len(s, n)) == 0)
		return;
	rest = s + w;
	r = n - w;
	li->li_who = s;
	li->li_wholen = w;
	if (starts(rest, r, " said: ")) {
		li->li_kind = LK_MESSAGE;
		li->li_text = rest + strlen(" said: ");
	} else if (starts(rest, r, " whispers: ")) {
		li->li_kind = LK_WHISPER;
		li->li_text = rest + strlen(" whispers: ");
	} else if (r == strlen(" connected") && starts(rest, r, " connected"))
		li->li_kind = LK_JOIN;
	else if ((r == strlen(" left") && starts(rest, r, " left")) ||
	    (starts(rest, r, " left (") && ends(rest, r, ")")))
		li->li_kind = LK_LEAVE;
	else if (starts(rest, r, " is now known as ")) {
		li->li_kind = LK_RENAME;
		li->li_text = rest + strlen(" is now known as ");
	} else
		li->li_who = NULL;
	if (li->li_text != NULL)
		li->li_textlen = n - (size_t)(li->li_text - s);
}

int
who_is(const char *who, size_t len, const char *name)
{
	return name[0] != '\0' && strlen(name) == len &&
	    strncasecmp(who, name, len) == 0;
}

/* 1 if a nickname character: a name ends where one of these does not. */
static int
nick_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
text_names(const char *text, size_t len, const char *name)
{
	size_t	k = strlen(name), i;

	if (k == 0)
		return 0;
	for (i = 0; i + k <= len; i++)
		if (strncasecmp(text + i, name, k) == 0 &&
		    (i == 0 || !nick_char(text[i - 1])) &&
		    (i + k == len || !nick_char(text[i + k])))
			return 1;
	return 0;
}

/* FNV-1a over the name, case folded: the same name, the same colour. */
static const char *
nick_colour(const char *who, size_t len)
{
	unsigned long	h = 2166136261UL;
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)who[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = ((h ^ c) * 16777619UL) & 0xffffffffUL;
	}
	return palette[h % (sizeof(palette) / sizeof(palette[0]))];
}

/* A nickname in its colour; ours in bold as well. */
static int
put_nick(const struct render *r, struct obuf *ob, const char *who,
    size_t len, int own)
{
	if (!r->r_colour)
		return ob_put(ob, who, len);
	if ((own && ob_puts(ob, SGR_BOLD) == -1) ||
	    ob_puts(ob, nick_colour(who, len)) == -1 ||
	    ob_put(ob, who, len) == -1 || ob_puts(ob, SGR_RESET) == -1)
		return -1;
	return 0;
}

/* prefix and text in style sgr (when colour is on). */
static int
put_styled(const struct render *r, struct obuf *ob, const char *sgr,
    const char *prefix, const char *text, size_t len)
{
	if (r->r_colour && ob_puts(ob, sgr) == -1)
		return -1;
	if (ob_puts(ob, prefix) == -1 || ob_put(ob, text, len) == -1)
		return -1;
	return r->r_colour ? ob_puts(ob, SGR_RESET) : 0;
}

/* The line's body, after the time. */
static int
put_body(const struct render *r, struct obuf *ob, const char *s, size_t n,
    const struct line_info *li)
{
	const char	*me = r->r_nick;
	int		 own;

	switch (li->li_kind) {
	case LK_MESSAGE:
		own = who_is(li->li_who, li->li_wholen, me);
		if (ob_puts(ob, "<") == -1 ||
		    put_nick(r, ob, li->li_who, li->li_wholen, own) == -1 ||
		    ob_puts(ob, "> ") == -1)
			return -1;
		return ob_put(ob, li->li_text, li->li_textlen);
	case LK_OWN:
		/* Before a nickname: "Client (ADDR)", as the others see us. */
		if (ob_puts(ob, "<") == -1 || (me[0] != '\0' ?
		    put_nick(r, ob, me, strlen(me), 1) :
		    ob_puts(ob, "me")) == -1 || ob_puts(ob, "> ") == -1)
			return -1;
		return ob_put(ob, li->li_text, li->li_textlen);
	case LK_WHISPER:
		if (ob_puts(ob, "*") == -1 ||
		    put_nick(r, ob, li->li_who, li->li_wholen, 0) == -1 ||
		    ob_puts(ob, "* ") == -1)
			return -1;
		return ob_put(ob, li->li_text, li->li_textlen);
	case LK_ACTION:
		own = who_is(li->li_who, li->li_wholen, me);
		if (ob_puts(ob, "* ") == -1 ||
		    put_nick(r, ob, li->li_who, li->li_wholen, own) == -1 ||
		    ob_puts(ob, " ") == -1)
			return -1;
		return ob_put(ob, li->li_text, li->li_textlen);
	case LK_ERROR:
		return put_styled(r, ob, SGR_ERROR, "-! ", s, n);
	default:
		return put_styled(r, ob, SGR_DIM, "-- ", s, n);
	}
}

/* "12:01 " at the start of a cleared line. */
static int
put_time(const struct render *r, struct obuf *ob, int history)
{
	char		 hhmm[16];
	struct tm	*tm;
	time_t		 now;

	if (history)
		snprintf(hhmm, sizeof(hhmm), "     ");	/* time unknown */
	else if (r->r_clock != NULL)
		snprintf(hhmm, sizeof(hhmm), "%s", r->r_clock);
	else {
		now = time(NULL);
		if ((tm = localtime(&now)) == NULL ||
		    strftime(hhmm, sizeof(hhmm), "%H:%M", tm) == 0)
			snprintf(hhmm, sizeof(hhmm), "--:--");
	}
	if (ob_puts(ob, "\r\033[K") == -1 || ob_puts(ob, hhmm) == -1)
		return -1;
	return ob_puts(ob, " ");
}

/*
 * Draw a line over the input line (which the caller draws again
 * below it).  The terminal wraps a long line by itself, so a line of
 * any length is shown whole.
 */
int
render_line(const struct render *r, struct obuf *ob, const char *s,
    size_t n, int history)
{
	struct line_info	 li;

	line_parse(s, n, &li);
	if (li.li_kind == LK_HISTORY && !history)
		return render_line(r, ob, li.li_text, li.li_textlen, 1);
	if (put_time(r, ob, history) == -1 || put_body(r, ob, s, n, &li) == -1)
		return -1;
	return ob_puts(ob, "\r\n");
}

int
render_action(const struct render *r, struct obuf *ob, const char *text,
    size_t len)
{
	const char	*me = r->r_nick;

	if (put_time(r, ob, 0) == -1 || ob_puts(ob, "* ") == -1 ||
	    put_nick(r, ob, me, strlen(me), 1) == -1 ||
	    ob_puts(ob, " ") == -1 || ob_put(ob, text, len) == -1)
		return -1;
	return ob_puts(ob, "\r\n");
}

int
render_whisper_sent(const struct render *r, struct obuf *ob,
    const char *name, size_t namelen, const char *text, size_t len)
{
	if (put_time(r, ob, 0) == -1 || ob_puts(ob, "-> *") == -1 ||
	    put_nick(r, ob, name, namelen, 0) == -1 ||
	    ob_puts(ob, "* ") == -1 || ob_put(ob, text, len) == -1)
		return -1;
	return ob_puts(ob, "\r\n");
}

int
render_notice(const struct render *r, struct obuf *ob, const char *text)
{
	if (put_time(r, ob, 0) == -1 ||
	    put_styled(r, ob, SGR_DIM, "-- ", text, strlen(text)) == -1)
		return -1;
	return ob_puts(ob, "\r\n");
}
