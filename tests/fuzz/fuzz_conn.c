/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_conn.c -- one client's protocol (server/conn.c): framing, the
 * sanitiser and every command, driven with bytes as a peer sends them,
 * against a server of three clients made up here (chat_ops).
 *
 * Properties: whatever the bytes, everything queued for the client and
 * everything it publishes is whole lines of valid UTF-8 with no control
 * byte but the final LF, no longer than a hub record; every line the
 * client is sent starts with one of the protocol's forms; only valid
 * names reach the registry; a listing (/who) ends as the client reads
 * it; and a client that is closed is on the dead list, once.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "chatd.h"
#include "fuzz.h"
#include "sanitize.h"

/* The three other clients of the made-up server. */
static const struct hub_client_info others[] = {
	{ 2, 0, "alice", "127.0.0.1:1000" },
	{ 3, 0, "", "[::1]:2000" },
	{ 4, 1, "Bob-2", "10.0.0.1:3000" },
};
#define NOTHERS	(sizeof(others) / sizeof(others[0]))

static unsigned	published;

/* A line: valid UTF-8, no control byte, LF last and only there. */
static void
check_lines(const char *p, size_t n, const char *what)
{
	size_t	i = 0, len;

	FUZZ_CHECK(n > 0 && p[n - 1] == '\n', what);
	while (i < n) {
		if (p[i] == '\n') {
			i++;
			continue;
		}
		FUZZ_CHECK((unsigned char)p[i] >= 0x20 && p[i] != 0x7f, what);
		if ((unsigned char)p[i] < 0x80) {
			i++;
			continue;
		}
		len = san_utf8_len((const unsigned char *)p + i, n - i);
		FUZZ_CHECK(len > 0, what);
		i += len;
	}
}

static void
fake_publish(uint64_t origin, uint64_t target, const char *text, size_t len)
{
	(void)origin;
	(void)target;
	FUZZ_CHECK(len <= HUB_TEXT_MAX, "a published record too long");
	check_lines(text, len, "a published record is not clean lines");
	published++;
}

static void
fake_unregister(struct conn *c)
{
	(void)c;
}

static int
fake_set_nick(struct conn *c, const char *nick)
{
	size_t	i;

	(void)c;
	FUZZ_CHECK(san_nick_valid(nick), "an invalid name reached the registry");
	for (i = 0; i < NOTHERS; i++)
		if (strcasecmp(others[i].ci_nick, nick) == 0) {
			errno = EEXIST;
			return -1;
		}
	return 0;
}

static uint64_t
fake_whisper(const char *nick, size_t len, char *exact, size_t exactlen)
{
	size_t	i;

	(void)len;
	for (i = 0; i < NOTHERS; i++)
		if (others[i].ci_nick[0] != '\0' &&
		    strcasecmp(others[i].ci_nick, nick) == 0) {
			snprintf(exact, exactlen, "%s", others[i].ci_nick);
			return others[i].ci_id;
		}
	errno = ESRCH;
	return 0;
}

static unsigned
fake_scan(uint64_t *pos, int (*fn)(const struct hub_client_info *, void *),
    void *arg, unsigned max)
{
	unsigned	seen = 0;

	while (*pos < NOTHERS && seen < max) {
		seen++;
		if (fn(&others[(*pos)++], arg) != 0)
			break;
	}
	if (*pos >= NOTHERS)
		*pos = HUB_SCAN_END;
	return seen;
}

static unsigned
fake_count(void)
{
	return NOTHERS;
}

static const struct chat_ops fake_ops = {
	.publish = fake_publish,
	.unregister = fake_unregister,
	.set_nick = fake_set_nick,
	.whisper = fake_whisper,
	.scan = fake_scan,
	.count = fake_count
};

/* Every line the client is sent starts with one of these. */
static int
known_reply(const char *line, size_t len)
{
	static const char *const forms[] = {
		"ok: ", "error: ", "who: ", "help: ", "history: ",
		"Goodbye.", "\"", "Welcome, ", "Please enter your message."
	};
	size_t	i, n;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		n = strlen(forms[i]);
		if (len >= n && memcmp(line, forms[i], n) == 0)
			return 1;
	}
	return 0;
}

/* Check and empty what is queued for the client. */
static void
drain(struct conn *c)
{
	const char	*p = buf_head(&c->c_sendq), *nl;
	size_t		 n = c->c_sendq.b_len;

	if (n == 0)
		return;
	check_lines(p, n, "a reply is not clean lines");
	while (n > 0) {
		nl = memchr(p, '\n', n);
		FUZZ_CHECK(known_reply(p, (size_t)(nl - p)),
		    "a reply of no known form");
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	buf_consume(&c->c_sendq, c->c_sendq.b_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_set	 cs;
	struct client_hooks	 none = { NULL, NULL, NULL };
	struct conn		*c;
	size_t			 take, off = 0;
	int			 steps;

	conn_setup(&fake_ops, 1 << 20, 0);
	clients_init(&cs, &none);
	/* fd -1: nothing is written; the queue is read here instead. */
	c = conn_new(&cs, -1, "127.0.0.1:9", 1, 0, 0);
	FUZZ_CHECK(c != NULL, "out of memory");
	clients_add(&cs, c);
	published = 0;
	while (off < size && !(c->c_flags & CONN_DEAD)) {
		/* What one read would bring: at most the room left. */
		if (c->c_inoff > 0) {
			memmove(c->c_in, c->c_in + c->c_inoff,
			    c->c_inlen - c->c_inoff);
			c->c_inlen -= c->c_inoff;
			c->c_inoff = 0;
		}
		take = sizeof(c->c_in) - c->c_inlen;
		if (take > size - off)
			take = size - off;
		memcpy(c->c_in + c->c_inlen, data + off, take);
		c->c_inlen += take;
		off += take;
		conn_process(c, 0);
		/* A listing goes on as the client reads it. */
		for (steps = 0; (c->c_flags & CONN_LISTING) && steps < 64;
		    steps++) {
			drain(c);
			conn_list_more(c);
		}
		FUZZ_CHECK(!(c->c_flags & CONN_LISTING), "a listing never ends");
		drain(c);
		if (c->c_flags & (CONN_HELD | CONN_THROTTLED))
			break;
	}
	drain(c);
	/* Closed at most once: on the dead list, or not. */
	FUZZ_CHECK(!(c->c_flags & CONN_DEAD) || TAILQ_FIRST(&cs.cs_dead) == c,
	    "a closed client is not on the dead list");
	if (c->c_flags & CONN_DEAD)
		TAILQ_REMOVE(&cs.cs_dead, c, c_reap);
	TAILQ_REMOVE(&cs.cs_all, c, c_entry);
	if (c->c_flags & CONN_DIRTY)
		TAILQ_REMOVE(&cs.cs_dirty, c, c_dirty);
	if (c->c_flags & (CONN_THROTTLED | CONN_HELD))
		TAILQ_REMOVE(&cs.cs_paused, c, c_paused);
	conn_free(c);
	return 0;
}
