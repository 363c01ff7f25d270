/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * proto.h -- the chat protocol's wire format: limits, the lines the
 * server sends, and the framer that cuts a byte stream into lines.
 *
 * Every string and limit here is part of the contract in SPEC.md.  A
 * change to any of them must also change SPEC.md, man/chatd.8,
 * man/chatd-select.8, man/chatc.1 and the tests that assert the text.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>

#define PROTO_LINE_MAX		1024	/* bytes of text before the LF */
#define PROTO_UDP_MAX		140	/* bytes in one datagram */
#define PROTO_NICK_MAX		16
#define PROTO_ADDR_MAX		64	/* "[v6 address%scope]:port" and NUL */
/* "Client (ADDR)" or a nickname, and its NUL. */
#define PROTO_WHO_MAX		(sizeof("Client ()") + PROTO_ADDR_MAX)

/* Server -> client lines; "%s" is WHO, ADDR, TEXT or a count. */
#define PROTO_WELCOME		"Welcome, %s.\nPlease enter your message.\n"
#define PROTO_CONNECTED		"%s connected\n"
#define PROTO_ACK		"\"%s\" received by the server\n"
#define PROTO_SAID		"%s said: %s\n"
#define PROTO_LEFT		"%s left\n"
#define PROTO_LEFT_REASON	"%s left (%s)\n"
#define PROTO_LOST		"*** %llu messages lost\n"
#define PROTO_FULL		"error: server full\n"
/* -a: the address (IPv6: the /64) has as many clients as it may. */
#define PROTO_PER_ADDR		"error: too many connections from your address\n"
#define PROTO_SHUTDOWN		"Server shutting down\n"
#define PROTO_TOO_LONG		"error: line too long (max 1024 bytes)\n"
#define PROTO_NICK_OK		"ok: you are now %s\n"
#define PROTO_NICK_CHANGED	"%s is now known as %s\n"
#define PROTO_NICK_IN_USE	"error: nickname in use\n"
#define PROTO_NICK_INVALID	"error: invalid nickname\n"
/* Another worker's rename is stuck (it is stopped): try again. */
#define PROTO_NICK_BUSY		"error: server busy, try again\n"
#define PROTO_WHO_COUNT		"who: %u connected\n"
#define PROTO_WHO_NAMED		"who: %s (%s)\n"
#define PROTO_WHO_UNNAMED	"who: %s\n"
/* /who PATTERN: the count line, then only the clients that match. */
#define PROTO_WHO_MATCHING	"who: %u matching %s\n"
#define PROTO_WHO_PATTERN_MAX	64	/* bytes in a /who PATTERN */
#define PROTO_WHO_USAGE		"error: usage: /who [PATTERN]\n"
#define PROTO_WHO_TOO_LONG	"error: pattern too long (max 64 bytes)\n"
#define PROTO_WHISPER		"%s whispers: %s\n"
#define PROTO_MSG_OK		"ok: sent to %s\n"
#define PROTO_MSG_NO_SUCH	"error: no such client: %s\n"
#define PROTO_MSG_USAGE		"error: usage: /msg NAME TEXT\n"
/* NAME's budget of whispers from others is spent for now. */
#define PROTO_MSG_TOO_MUCH	"error: %s is receiving too much, try again later\n"
#define PROTO_ACTION		"* %s %s\n"
#define PROTO_ACTION_OK		"ok: action sent\n"
#define PROTO_ACTION_USAGE	"error: usage: /me TEXT\n"
#define PROTO_HISTORY_COUNT	"history: %u lines\n"
#define PROTO_HISTORY_PREFIX	"history: "
#define PROTO_HISTORY_USAGE	"error: usage: /history [N]\n"
#define PROTO_HISTORY_DEFAULT	20	/* lines /history shows */
#define PROTO_GOODBYE		"Goodbye.\n"
#define PROTO_UNKNOWN_CMD	"error: unknown command /%s (try /help)\n"
#define PROTO_HELP \
	"help: /nick NAME       set your nickname\n" \
	"help: /who [PATTERN]   list who is connected, or who matches\n" \
	"help: /msg NAME TEXT   send TEXT to NAME only\n" \
	"help: /me TEXT         act: others see * WHO TEXT\n" \
	"help: /history [N]     the last N broadcasts (20, at most 100)\n" \
	"help: /quit [REASON]   leave the chat\n" \
	"help: /help            this list\n" \
	"help: //TEXT           send a message that starts with /\n"

/* Reasons a server gives in "WHO left (REASON)". */
#define PROTO_REASON_SENDQ	"send queue exceeded"
#define PROTO_REASON_LOST	"connection lost"	/* its worker died */

/* UDP timestamp service. */
#define PROTO_UDP_REPLY		"Message received at %s"
#define PROTO_UDP_TOO_LONG	"error: message too long (max 140 bytes)"

/*
 * The framer: bytes in, lines out.  It holds at most PROTO_LINE_MAX + 1
 * bytes (a line and the CR that may precede its LF) however long the
 * peer's line, discards telnet commands, and reports an overlong line
 * once, then skips to the next LF.
 */
enum proto_event {
	PROTO_NONE,		/* all input consumed, no complete line yet */
	PROTO_LINE,		/* f->line[0 .. f->len) holds a line */
	PROTO_OVERFLOW		/* the line exceeds PROTO_LINE_MAX; skipping */
};

struct proto_framer {
	unsigned char	line[PROTO_LINE_MAX + 1];
	size_t		len;
	int		skipping;	/* after an overflow, until the LF */
	int		telnet;		/* telnet command parser state */
	int		emitted;	/* line[] was handed out; reset it */
};

void	proto_framer_init(struct proto_framer *);
/*
 * Consume bytes from buf[0 .. n) until a line is complete, an overflow
 * is detected, or the input runs out; return how many were consumed and
 * set *ev.  A PROTO_LINE's text is valid until the next call.
 */
size_t	proto_feed(struct proto_framer *, const void *buf, size_t n,
	    enum proto_event *ev);

#endif
