/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * conn.c -- one chat client: reading and framing its lines, the rate
 * limit, its commands, and its send queue.  Shared by chatd and
 * chatd-select, which supply the chat_ops that reach the other clients,
 * so both servers speak exactly the same protocol.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#include "history.h"
#include "log.h"
#include "net.h"
#include "sanitize.h"

/* Room for a sanitised line and its NUL. */
#define TEXT_MAX	(PROTO_LINE_MAX + 1)

static const struct chat_ops	*ops;
static size_t			 sendq_limit;
static unsigned			 rate_limit;
static uint64_t			 bytes_written;	/* since conn_take_written */
/* The broadcasts this process delivered, for /history. */
static struct history		 history;

static void	conn_line(struct conn *, const unsigned char *, size_t);
static void	conn_command(struct conn *, char *);
static int	conn_vformat(char *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	conn_sendf(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	conn_publishf(struct conn *, uint64_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	conn_replyf(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static size_t	who_mark(void);

void
conn_setup(const struct chat_ops *o, size_t sendq, unsigned rate)
{
	ops = o;
	history_init(&history);
	sendq_limit = sendq;
	rate_limit = rate;
}

struct conn *
conn_new(struct client_set *cs, int fd, const char *addr, uint64_t id,
    unsigned slot, int64_t now)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_kind = SRC_CONN;
	c->c_fd = fd;
	c->c_id = id;
	c->c_slot = slot;
	c->c_set = cs;
	snprintf(c->c_addr, sizeof(c->c_addr), "%s", addr);
	proto_framer_init(&c->c_framer);
	buf_init(&c->c_sendq, sendq_limit);
	c->c_tokens = 2.0 * rate_limit;
	c->c_refill_ms = now;
	return c;
}

/*
 * Close the socket, sending what is left of the queue (a "Goodbye." or
 * an error line) if the socket takes it at once, and free the client;
 * one dropped for falling behind is reset instead (conn_send).
 * Unread input is drained first: closing with unread data makes the
 * kernel send a reset, which could destroy the last line in flight.
 */
void
conn_free(struct conn *c)
{
	char	scratch[4096];
	int	i;

	if (c->c_fd != -1 && (c->c_flags & CONN_RESET)) {
		if (net_reset(c->c_fd) == -1)
			log_debug("SO_LINGER %s: %s", c->c_addr,
			    strerror(errno));
		c->c_fd = -1;
	}
	if (c->c_fd != -1) {
		if (c->c_sendq.b_len > 0 && write(c->c_fd,
		    buf_head(&c->c_sendq), c->c_sendq.b_len) == -1 &&
		    errno != EAGAIN && errno != EWOULDBLOCK)
			log_debug("write %s: %s", c->c_addr, strerror(errno));
		for (i = 0; i < 16; i++)
			if (read(c->c_fd, scratch, sizeof(scratch)) <= 0)
				break;
		shutdown(c->c_fd, SHUT_WR);
		close(c->c_fd);
		c->c_fd = -1;
	}
	buf_free(&c->c_sendq);
	free(c->c_listing);
	free(c->c_reason);
	free(c);
}

/* "WHO": the nickname, or "Client (ADDR)" before one is set. */
void
conn_format_who(const char *nick, const char *addr, char *buf, size_t len)
{
	if (nick[0] != '\0')
		snprintf(buf, len, "%s", nick);
	else
		snprintf(buf, len, "Client (%s)", addr);
}

void
conn_who(const struct conn *c, char *buf, size_t len)
{
	conn_format_who(c->c_nick, c->c_addr, buf, len);
}

/*
 * Queue text for the client.  A client whose queue would pass the limit
 * has fallen too far behind: it is dropped, and nobody else waits.
 */
void
conn_send(struct conn *c, const char *text, size_t len)
{
	if (c->c_flags & CONN_DEAD)
		return;
	if (buf_append(&c->c_sendq, text, len) == -1) {
		/*
		 * The queue is full, but maybe only with this round's batch:
		 * a client that reads keeps up if its socket takes the queue
		 * now.  Only one that does not is behind.
		 */
		if (conn_flush(c) == -1)
			return;
		if (buf_append(&c->c_sendq, text, len) == -1) {
			/*
			 * Its socket is full too: what the kernel holds for
			 * it would stay pinned for as long as the peer keeps
			 * the connection open.  A reset frees it at once.
			 */
			c->c_flags |= CONN_RESET;
			conn_close(c, PROTO_REASON_SENDQ);
			return;
		}
	}
	if (!(c->c_flags & CONN_DIRTY)) {
		c->c_flags |= CONN_DIRTY;
		clients_dirty(c->c_set, c);
	}
}

/*
 * Format one line into line[HUB_TEXT_MAX]: its length, cut to fit, or
 * -1 if it cannot be formatted.
 */
static int
conn_vformat(char *line, const char *fmt, va_list ap)
{
	int	n;

	if ((n = vsnprintf(line, HUB_TEXT_MAX, fmt, ap)) < 0)
		return -1;
	return (size_t)n < HUB_TEXT_MAX ? n : (int)HUB_TEXT_MAX - 1;
}

static void
conn_sendf(struct conn *c, const char *fmt, ...)
{
	char	line[HUB_TEXT_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = conn_vformat(line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		conn_send(c, line, (size_t)n);
}

static void
conn_publishf(struct conn *c, uint64_t target, const char *fmt, ...)
{
	char	line[HUB_TEXT_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = conn_vformat(line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		ops->publish(c->c_id, target, line, (size_t)n);
}

/* The answer to what c just published: see chat_ops.reply. */
static void
conn_replyf(struct conn *c, const char *fmt, ...)
{
	char	line[HUB_TEXT_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = conn_vformat(line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (ops->reply != NULL)
		ops->reply(c, line, (size_t)n);
	else
		conn_send(c, line, (size_t)n);
}

/*
 * "WHO left (connection lost)" for a client whose process died, into
 * line[HUB_TEXT_MAX]: its length, or 0 if it does not fit.
 */
size_t
conn_format_lost(const struct hub_client_info *ci, char *line)
{
	char	who[PROTO_WHO_MAX];
	int	n;

	conn_format_who(ci->ci_nick, ci->ci_addr, who, sizeof(who));
	n = snprintf(line, HUB_TEXT_MAX, PROTO_LEFT_REASON, who,
	    PROTO_REASON_LOST);
	return n > 0 && (size_t)n < HUB_TEXT_MAX ? (size_t)n : 0;
}

/*
 * A published line reaches c unless c sent it or it is for another.
 * Returns 1 if it was queued for c.
 */
int
conn_deliver(struct conn *c, uint64_t origin, uint64_t target,
    const char *text, size_t len)
{
	if ((c->c_flags & CONN_DEAD) ||
	    (target != 0 ? c->c_id != target : c->c_id == origin))
		return 0;
	conn_send(c, text, len);
	return 1;
}

/* Greet the newcomer and tell everyone else. */
void
conn_welcome(struct conn *c)
{
	char	who[PROTO_WHO_MAX];

	conn_who(c, who, sizeof(who));
	conn_sendf(c, PROTO_WELCOME, who);
	conn_publishf(c, 0, PROTO_CONNECTED, who);
}

/*
 * Decide the client's end.  It only marks: the client is skipped by
 * every walk from now on, and clients_end_round carries the end out
 * (conn_depart, then conn_free) at the end of the round.  Safe to call
 * from anywhere, however deep in a delivery.
 */
void
conn_close(struct conn *c, const char *reason)
{
	if (c->c_flags & CONN_DEAD)
		return;
	c->c_flags |= CONN_DEAD;
	if (reason != NULL && *reason != '\0' &&
	    (c->c_reason = strdup(reason)) == NULL)
		log_warn("strdup");
	clients_dead(c->c_set, c);
	log_debug("%s left%s%s", c->c_addr, c->c_reason ? ": " : "",
	    c->c_reason ? c->c_reason : "");
}

/*
 * Carry out a closed client's end: unregister it first -- whoever reads
 * "WHO left" may take the name at once, and must find it free -- then
 * publish the departure, in order after everything it said.
 */
void
conn_depart(struct conn *c)
{
	char	who[PROTO_WHO_MAX];

	ops->unregister(c);
	conn_who(c, who, sizeof(who));
	if (c->c_reason != NULL)
		conn_publishf(c, 0, PROTO_LEFT_REASON, who, c->c_reason);
	else
		conn_publishf(c, 0, PROTO_LEFT, who);
}

/*
 * Read what the socket has into the input buffer.  Returns 0, or -1
 * if the client is gone (it has been killed).
 */
int
conn_read(struct conn *c)
{
	ssize_t	n;

	if (c->c_inoff > 0) {
		memmove(c->c_in, c->c_in + c->c_inoff, c->c_inlen - c->c_inoff);
		c->c_inlen -= c->c_inoff;
		c->c_inoff = 0;
	}
	if (c->c_inlen == sizeof(c->c_in) || (c->c_flags & CONN_EOF))
		return 0;
	n = read(c->c_fd, c->c_in + c->c_inlen, sizeof(c->c_in) - c->c_inlen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		log_debug("read %s: %s", c->c_addr, strerror(errno));
		conn_close(c, NULL);
		return -1;
	}
	if (n == 0)
		c->c_flags |= CONN_EOF;
	c->c_inlen += n;
	return 0;
}

/* Milliseconds until a throttled client may send its next line. */
int64_t
conn_throttle_ms(const struct conn *c, int64_t now)
{
	double	tokens;

	/* A listing under way: the flush path ends it, then a round. */
	if (c->c_flags & CONN_LISTING)
		return -1;
	if (rate_limit == 0)
		return 0;
	tokens = c->c_tokens + (double)(now - c->c_refill_ms) * rate_limit /
	    1000.0;
	if (tokens >= 1.0)
		return 0;
	return (int64_t)((1.0 - tokens) * 1000.0 / rate_limit) + 1;
}

/* Refill the bucket; 1 if the client may send a line now. */
static int
conn_may_send(struct conn *c, int64_t now)
{
	double	burst = 2.0 * rate_limit;

	if (rate_limit == 0)
		return 1;
	c->c_tokens += (double)(now - c->c_refill_ms) * rate_limit / 1000.0;
	if (c->c_tokens > burst)
		c->c_tokens = burst;
	c->c_refill_ms = now;
	return c->c_tokens >= 1.0;
}

/*
 * Frame and handle the buffered input, as far as the rate limit and
 * the hub's back-pressure allow.  Returns 1 if the client is paused
 * with input left over (the server stops reading it, which pushes back
 * on the peer through TCP: slowed, never dropped), else 0.
 */
int
conn_process(struct conn *c, int64_t now)
{
	enum proto_event	ev;
	size_t			n;
	int			why;

	while (!(c->c_flags & CONN_DEAD)) {
		/* A /who under way: its lines go out before the next. */
		if (c->c_flags & CONN_LISTING)
			why = CONN_THROTTLED;
		else if (c->c_inoff >= c->c_inlen)
			break;
		else
			why = c->c_set->cs_hold ? CONN_HELD :
			    !conn_may_send(c, now) ? CONN_THROTTLED : 0;
		if (why != 0) {
			c->c_flags |= why;
			clients_pause(c->c_set, c);
			return 1;
		}
		n = proto_feed(&c->c_framer, c->c_in + c->c_inoff,
		    c->c_inlen - c->c_inoff, &ev);
		c->c_inoff += n;
		if (ev == PROTO_LINE) {
			if (rate_limit != 0)
				c->c_tokens -= 1.0;
			conn_line(c, c->c_framer.line, c->c_framer.len);
		} else if (ev == PROTO_OVERFLOW)
			conn_send(c, PROTO_TOO_LONG,
			    sizeof(PROTO_TOO_LONG) - 1);
	}
	if ((c->c_flags & CONN_EOF) && !(c->c_flags & CONN_DEAD))
		conn_close(c, NULL);
	return 0;
}

/* One line from the client: a command, or a message for everyone. */
static void
conn_line(struct conn *c, const unsigned char *raw, size_t rawlen)
{
	char	text[TEXT_MAX], who[PROTO_WHO_MAX];
	char	*msg = text;
	size_t	len;

	len = san_text(text, raw, rawlen, SAN_TRIM);
	if (len == 0)
		return;
	text[len] = '\0';
	if (text[0] == '/') {
		if (text[1] != '/') {
			conn_command(c, text + 1);
			return;
		}
		msg++;			/* "//text" sends "/text" */
	}
	conn_who(c, who, sizeof(who));
	conn_publishf(c, 0, PROTO_SAID, who, msg);
	/* Only now is the message in the hub: acknowledge it. */
	conn_replyf(c, PROTO_ACK, msg);
}

/* Split "word rest" in place: NUL-terminate word, return rest. */
static char *
next_word(char *s)
{
	while (*s != '\0' && *s != ' ')
		s++;
	if (*s == '\0')
		return s;
	*s++ = '\0';
	while (*s == ' ')
		s++;
	return s;
}

static void
cmd_nick(struct conn *c, char *args)
{
	char	old[PROTO_WHO_MAX];

	if (*next_word(args) != '\0' || !san_nick_valid(args)) {
		conn_send(c, PROTO_NICK_INVALID,
		    sizeof(PROTO_NICK_INVALID) - 1);
		return;
	}
	if (strcmp(args, c->c_nick) == 0) {
		conn_sendf(c, PROTO_NICK_OK, args);
		return;
	}
	if (ops->set_nick(c, args) == -1) {
		if (errno == EEXIST)
			conn_send(c, PROTO_NICK_IN_USE,
			    sizeof(PROTO_NICK_IN_USE) - 1);
		else
			conn_send(c, PROTO_NICK_BUSY,
			    sizeof(PROTO_NICK_BUSY) - 1);
		return;
	}
	conn_who(c, old, sizeof(old));
	snprintf(c->c_nick, sizeof(c->c_nick), "%s", args);
	/*
	 * The answer before the broadcast, which chatd-select queues for
	 * everyone at once; but a chat_ops.reply (chatd -C) answers only
	 * once the rename is in the order, so it must follow the rename.
	 */
	if (ops->reply == NULL)
		conn_sendf(c, PROTO_NICK_OK, c->c_nick);
	conn_publishf(c, 0, PROTO_NICK_CHANGED, old, c->c_nick);
	if (ops->reply != NULL)
		conn_replyf(c, PROTO_NICK_OK, c->c_nick);
}

/*
 * /who [PATTERN], streamed.  The listing is not queued whole: a server
 * of 10,000 clients would put ~300 KB in one queue at once, past a
 * small -q, and stall everyone else while it is built.  The client
 * keeps a place in the list (a registry slot in chatd, a place in the
 * client list in chatd-select) and the flush path adds the next part
 * only when its queue is below WHO_MARK, a little per round, so a long
 * listing goes out as fast as the client reads it and between other
 * clients' turns.  With a PATTERN, two passes: the first counts (the
 * count line comes first), the second lists; without, the count is the
 * server's.  A step looks at no more than WHO_STEP clients.  Entries
 * are listed as they are when sent.
 *
 * The cost goes to the client's rate budget, as a debt that its next
 * lines wait for: one line for every WHO_PER_LINE entries listed, and
 * for every WHO_SCAN_PER_LINE looked at and not listed (counted, or
 * not matching PATTERN).  One line buys about 1 KiB of listing, the
 * longest line a client may send, so /who on a large server is paid
 * for over time, and however often a client asks, its listings cost
 * the server no more per second than its rate in long lines.  Free
 * registry slots cost nothing: hub_client_scan passes them without a
 * copy.  The client is not read until its listing is out: its next
 * lines are answered in order, after it.
 */
#define WHO_MARK		4096	/* bytes queued: add no more */
#define WHO_STEP		256	/* clients looked at per round */
#define WHO_PER_LINE		32.0	/* entries listed per line of rate */
#define WHO_SCAN_PER_LINE	256.0	/* clients looked at, not listed */

enum who_pass {
	WHO_COUNTING,
	WHO_LISTING
};

struct who_listing {
	enum who_pass	 wl_pass;
	uint64_t	 wl_pos;		/* the scan's place */
	unsigned	 wl_count;		/* matches counted */
	unsigned	 wl_step;		/* listed this step */
	struct conn	*wl_conn;		/* the client asking */
	/* The pattern as given, and in lower case for matching; "": all. */
	char		 wl_pattern[PROTO_WHO_PATTERN_MAX + 1];
	char		 wl_lower[PROTO_WHO_PATTERN_MAX + 1];
};

static void
lower(char *dst, const char *src, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len && src[i] != '\0'; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/*
 * Does the client match the listing's pattern?  Nickname or address,
 * case ignored: both sides in lower case (fnmatch has no portable flag
 * for it).  No FNM_PATHNAME or FNM_PERIOD: '*' matches any character.
 */
static int
who_matches(const struct who_listing *wl, const struct hub_client_info *ci)
{
	char	s[PROTO_ADDR_MAX];

	if (wl->wl_lower[0] == '\0')
		return 1;
	lower(s, ci->ci_nick, sizeof(s));
	if (s[0] != '\0' && fnmatch(wl->wl_lower, s, 0) == 0)
		return 1;
	lower(s, ci->ci_addr, sizeof(s));
	return fnmatch(wl->wl_lower, s, 0) == 0;
}

/* The first pass: count. */
static int
who_count(const struct hub_client_info *ci, void *arg)
{
	struct who_listing	*wl = arg;

	if (who_matches(wl, ci))
		wl->wl_count++;
	return 0;
}

/* The second pass: one line per match; stop at the mark. */
static int
who_list(const struct hub_client_info *ci, void *arg)
{
	struct who_listing	*wl = arg;
	struct conn		*c = wl->wl_conn;
	char			 who[PROTO_WHO_MAX];

	if (!who_matches(wl, ci))
		return 0;
	if (ci->ci_nick[0] != '\0')
		conn_sendf(c, PROTO_WHO_NAMED, ci->ci_nick, ci->ci_addr);
	else {
		conn_format_who(ci->ci_nick, ci->ci_addr, who, sizeof(who));
		conn_sendf(c, PROTO_WHO_UNNAMED, who);
	}
	wl->wl_step++;
	return c->c_sendq.b_len >= who_mark();
}

/*
 * The mark: a part is added only below it, and then at most one entry
 * more, so a listing never fills the queue (-q is at least 4 KiB, an
 * entry at most ~150 bytes); what broadcasts leave room for is theirs.
 */
static size_t
who_mark(void)
{
	return sendq_limit / 4 < WHO_MARK ? sendq_limit / 4 : WHO_MARK;
}

/* The listing's cost, as a debt on the client's rate budget. */
static void
who_charge(struct conn *c, unsigned looked, unsigned listed)
{
	if (rate_limit == 0)
		return;
	c->c_tokens -= listed / WHO_PER_LINE +
	    (looked - listed) / WHO_SCAN_PER_LINE;
}

/* On the client's flush list, so the flush path takes it up. */
static void
conn_mark_dirty(struct conn *c)
{
	if (!(c->c_flags & CONN_DIRTY)) {
		c->c_flags |= CONN_DIRTY;
		clients_dirty(c->c_set, c);
	}
}

static void
cmd_who(struct conn *c, const char *pattern)
{
	struct who_listing	*wl;

	if (strchr(pattern, ' ') != NULL) {
		conn_send(c, PROTO_WHO_USAGE, sizeof(PROTO_WHO_USAGE) - 1);
		return;
	}
	if (strlen(pattern) > PROTO_WHO_PATTERN_MAX) {
		conn_send(c, PROTO_WHO_TOO_LONG,
		    sizeof(PROTO_WHO_TOO_LONG) - 1);
		return;
	}
	if ((wl = calloc(1, sizeof(*wl))) == NULL) {
		log_warn("calloc");
		conn_send(c, PROTO_NICK_BUSY, sizeof(PROTO_NICK_BUSY) - 1);
		return;
	}
	wl->wl_pass = WHO_COUNTING;	/* PATTERN: count the matches */
	wl->wl_conn = c;
	snprintf(wl->wl_pattern, sizeof(wl->wl_pattern), "%s", pattern);
	lower(wl->wl_lower, pattern, sizeof(wl->wl_lower));
	c->c_listing = wl;
	if (pattern[0] == '\0') {
		conn_sendf(c, PROTO_WHO_COUNT, ops->count());
		wl->wl_pass = WHO_LISTING;
	}
	/* conn_process pauses the client; the flush path lists. */
	c->c_flags |= CONN_LISTING;
	conn_mark_dirty(c);
}

/* The listing is out: forget it (conn_free does, if the client goes). */
static void
who_end(struct conn *c)
{
	free(c->c_listing);
	c->c_listing = NULL;
	c->c_flags &= ~CONN_LISTING;
}

/*
 * One step of a listing, from the flush path: it only queues, to this
 * client alone.  After the last step the client needs one more round
 * too, for clients_resume to read it again.
 */
int
conn_list_more(struct conn *c)
{
	struct who_listing	*wl = c->c_listing;
	unsigned		 looked;

	if (wl == NULL || (c->c_flags & CONN_DEAD))
		return 0;
	if (c->c_sendq.b_len >= who_mark())
		return 1;
	wl->wl_step = 0;
	looked = ops->scan(&wl->wl_pos, wl->wl_pass == WHO_COUNTING ?
	    who_count : who_list, wl, WHO_STEP);
	who_charge(c, looked, wl->wl_step);
	if (wl->wl_pos != HUB_SCAN_END)
		return 1;
	if (wl->wl_pass == WHO_LISTING) {
		who_end(c);
		return 1;
	}
	conn_sendf(c, PROTO_WHO_MATCHING, wl->wl_count, wl->wl_pattern);
	wl->wl_pass = WHO_LISTING;
	wl->wl_pos = 0;
	return 1;
}

/*
 * /msg NAME TEXT.  What NAME may be sent by everyone else together is
 * bounded (chat_ops whisper): past it the sender is told to try again
 * later, and NAME keeps reading at its own pace instead of being
 * dropped for a send queue that others filled.
 */
static void
cmd_msg(struct conn *c, char *args)
{
	char		 exact[PROTO_NICK_MAX + 1], who[PROTO_WHO_MAX];
	char		*text;
	uint64_t	 id;
	int		 n;

	text = next_word(args);
	if (*args == '\0' || *text == '\0') {
		conn_send(c, PROTO_MSG_USAGE, sizeof(PROTO_MSG_USAGE) - 1);
		return;
	}
	conn_who(c, who, sizeof(who));
	/* The line NAME would get: what its budget is charged. */
	n = snprintf(NULL, 0, PROTO_WHISPER, who, text);
	if (strlen(args) > PROTO_NICK_MAX || n < 0) {
		conn_sendf(c, PROTO_MSG_NO_SUCH, args);
		return;
	}
	if ((id = ops->whisper(args, (size_t)n, exact, sizeof(exact))) == 0) {
		if (errno == EAGAIN)
			conn_sendf(c, PROTO_MSG_TOO_MUCH, exact);
		else
			conn_sendf(c, PROTO_MSG_NO_SUCH, args);
		return;
	}
	conn_publishf(c, id, PROTO_WHISPER, who, text);
	conn_replyf(c, PROTO_MSG_OK, exact);
}

/* /me TEXT: an action, broadcast like a message. */
static void
cmd_me(struct conn *c, const char *text)
{
	char	who[PROTO_WHO_MAX];

	if (*text == '\0') {
		conn_send(c, PROTO_ACTION_USAGE,
		    sizeof(PROTO_ACTION_USAGE) - 1);
		return;
	}
	conn_who(c, who, sizeof(who));
	conn_publishf(c, 0, PROTO_ACTION, who, text);
	conn_replyf(c, "%s", PROTO_ACTION_OK);
}

/*
 * /history [N]: the last N broadcasts this process delivered, oldest
 * first.  In chatd every worker has delivered the same broadcasts in
 * the same order, so every worker gives the same answer.
 */
static void
cmd_history(struct conn *c, char *args)
{
	const char	*line;
	char		*end;
	unsigned long	 want = PROTO_HISTORY_DEFAULT;
	size_t		 n, i, len;

	if (*args != '\0') {
		errno = 0;
		want = strtoul(args, &end, 10);
		if (*args < '0' || *args > '9' || *end != '\0' ||
		    errno != 0) {
			conn_send(c, PROTO_HISTORY_USAGE,
			    sizeof(PROTO_HISTORY_USAGE) - 1);
			return;
		}
	}
	n = history_count(&history);
	if (want < n)
		n = want;
	conn_sendf(c, PROTO_HISTORY_COUNT, (unsigned)n);
	for (i = 0; i < n; i++) {
		line = history_line(&history, n, i, &len);
		conn_send(c, PROTO_HISTORY_PREFIX,
		    sizeof(PROTO_HISTORY_PREFIX) - 1);
		conn_send(c, line, len);
		conn_send(c, "\n", 1);
	}
}

/*
 * A broadcast (a message, an action, a join, a leave, a rename) that
 * this process delivers: keep it for /history.  The servers call this
 * where they deliver, never for a line to one client.
 */
void
conn_history_add(const char *text, size_t len)
{
	history_add(&history, text, len);
}

/* A command line, without its leading '/'. */
static void
conn_command(struct conn *c, char *line)
{
	char	*args = next_word(line);

	if (strcmp(line, "nick") == 0)
		cmd_nick(c, args);
	else if (strcmp(line, "who") == 0)
		cmd_who(c, args);
	else if (strcmp(line, "msg") == 0)
		cmd_msg(c, args);
	else if (strcmp(line, "me") == 0)
		cmd_me(c, args);
	else if (strcmp(line, "history") == 0)
		cmd_history(c, args);
	else if (strcmp(line, "quit") == 0) {
		conn_send(c, PROTO_GOODBYE, sizeof(PROTO_GOODBYE) - 1);
		conn_close(c, args);
	} else if (strcmp(line, "help") == 0)
		conn_send(c, PROTO_HELP, sizeof(PROTO_HELP) - 1);
	else
		conn_sendf(c, PROTO_UNKNOWN_CMD, line);
}

/*
 * Write as much of the send queue as the socket takes.  Returns 1 if
 * output remains (wait for EV_WRITE), 0 if the queue is empty, -1 if
 * the client is gone (it has been killed).
 */
int
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (c->c_sendq.b_len > 0) {
		n = write(c->c_fd, buf_head(&c->c_sendq), c->c_sendq.b_len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			log_debug("write %s: %s", c->c_addr, strerror(errno));
			conn_close(c, NULL);
			return -1;
		}
		buf_consume(&c->c_sendq, (size_t)n);
		bytes_written += (uint64_t)n;
	}
	return 0;
}

uint64_t
conn_take_written(void)
{
	uint64_t	n = bytes_written;

	bytes_written = 0;
	return n;
}
