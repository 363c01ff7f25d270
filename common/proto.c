/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * proto.c -- line framing for the chat protocol.
 *
 * A line ends at LF and a CR right before it is dropped.  Telnet command
 * sequences are removed here, before the length is counted, so a telnet
 * client's negotiation never reaches the text:
 *
 *	IAC IAC			a literal 0xff data byte (later shown as "?")
 *	IAC WILL|WONT|DO|DONT x	three bytes, discarded
 *	IAC SB ... IAC SE	subnegotiation, discarded whole
 *	IAC x			any other command, two bytes, discarded
 */
#include <string.h>

#include "proto.h"

#define TEL_IAC		255
#define TEL_DONT	254
#define TEL_WILL	251
#define TEL_SB		250
#define TEL_SE		240

enum tel_state {
	TEL_DATA,		/* ordinary bytes */
	TEL_CMD,		/* after IAC */
	TEL_OPT,		/* after IAC WILL/WONT/DO/DONT */
	TEL_SUB,		/* inside IAC SB ... */
	TEL_SUB_IAC		/* IAC inside a subnegotiation */
};

void
proto_framer_init(struct proto_framer *f)
{
	memset(f, 0, sizeof(*f));
	f->telnet = TEL_DATA;
}

/*
 * Run one byte through the telnet parser; return 1 if it is data.
 */
static int
telnet_byte(struct proto_framer *f, unsigned char c)
{
	switch (f->telnet) {
	case TEL_DATA:
		if (c == TEL_IAC) {
			f->telnet = TEL_CMD;
			return 0;
		}
		return 1;
	case TEL_CMD:
		if (c == TEL_IAC) {
			f->telnet = TEL_DATA;
			return 1;
		}
		if (c == TEL_SB)
			f->telnet = TEL_SUB;
		else if (c >= TEL_WILL && c <= TEL_DONT)
			f->telnet = TEL_OPT;
		else
			f->telnet = TEL_DATA;
		return 0;
	case TEL_OPT:
		f->telnet = TEL_DATA;
		return 0;
	case TEL_SUB:
		if (c == TEL_IAC)
			f->telnet = TEL_SUB_IAC;
		return 0;
	case TEL_SUB_IAC:
		f->telnet = c == TEL_SE ? TEL_DATA : TEL_SUB;
		return 0;
	}
	return 0;
}

size_t
proto_feed(struct proto_framer *f, const void *buf, size_t n,
    enum proto_event *ev)
{
	const unsigned char	*p = buf;
	size_t			 i;
	unsigned char		 c;

	if (f->emitted) {
		f->emitted = 0;
		f->len = 0;
	}
	for (i = 0; i < n; i++) {
		c = p[i];
		if (f->telnet == TEL_DATA && c != TEL_IAC && c != '\n' &&
		    !f->skipping && f->len < PROTO_LINE_MAX) {
			/* The common case, without the state machine. */
			f->line[f->len++] = c;
			continue;
		}
		if (f->telnet != TEL_DATA || c == TEL_IAC) {
			if (!telnet_byte(f, c))
				continue;
			/* IAC IAC: fall through with the data byte 0xff. */
		} else if (c == '\n') {
			*ev = f->skipping ? PROTO_NONE : PROTO_LINE;
			if (f->len > 0 && f->line[f->len - 1] == '\r')
				f->len--;
			if (f->skipping) {
				f->skipping = 0;
				f->len = 0;
				continue;
			}
			f->emitted = 1;
			return i + 1;
		}
		if (f->skipping)
			continue;
		/*
		 * Room for PROTO_LINE_MAX bytes and one CR that may yet turn
		 * out to end the line; anything more is an overlong line.
		 */
		if (f->len == PROTO_LINE_MAX + 1 || (f->len == PROTO_LINE_MAX &&
		    c != '\r')) {
			f->skipping = 1;
			f->len = 0;
			*ev = PROTO_OVERFLOW;
			return i + 1;
		}
		f->line[f->len++] = c;
	}
	*ev = PROTO_NONE;
	return n;
}
