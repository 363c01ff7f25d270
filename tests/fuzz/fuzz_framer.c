/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_framer.c -- the line framer (common/proto.c).
 *
 * Properties:
 *  - the same bytes fed whole, one byte at a time, and in chunks whose
 *    sizes come from the input yield the same events and lines;
 *  - those events are the ones an independent reference framer, written
 *    from the contract in proto.h over the whole stream at once, gives;
 *  - proto_feed consumes at least one byte of a non-empty buffer, never
 *    more than it was given, and all of it when it reports no event;
 *  - a line never holds a LF and never exceeds PROTO_LINE_MAX bytes.
 *
 * Input: the first byte seeds the chunk sizes, the rest is the stream.
 */
#include <string.h>

#include "fuzz.h"
#include "proto.h"

#define TEL_IAC		255
#define TEL_DONT	254
#define TEL_WILL	251
#define TEL_SB		250
#define TEL_SE		240

/* Events as one flat record: 'L' len bytes, or 'O'. */
struct trace {
	unsigned char	*buf;
	size_t		 len, cap;
};

static void
trace_add(struct trace *t, int kind, const unsigned char *p, size_t n)
{
	size_t	need = t->len + 1 + sizeof(size_t) + n;

	if (need > t->cap) {
		t->cap = need * 2;
		t->buf = realloc(t->buf, t->cap);
		FUZZ_CHECK(t->buf != NULL, "out of memory");
	}
	t->buf[t->len++] = (unsigned char)kind;
	memcpy(t->buf + t->len, &n, sizeof(n));
	t->len += sizeof(n);
	if (n > 0)
		memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Feed one chunk to the framer, recording every event. */
static void
feed_chunk(struct proto_framer *f, const unsigned char *p, size_t n,
    struct trace *t)
{
	enum proto_event	ev;
	size_t			used;

	while (n > 0) {
		used = proto_feed(f, p, n, &ev);
		FUZZ_CHECK(used > 0, "no progress on a non-empty buffer");
		FUZZ_CHECK(used <= n, "consumed more than given");
		switch (ev) {
		case PROTO_NONE:
			FUZZ_CHECK(used == n, "NONE before the end of input");
			break;
		case PROTO_LINE:
			FUZZ_CHECK(f->len <= PROTO_LINE_MAX, "line too long");
			FUZZ_CHECK(memchr(f->line, '\n', f->len) == NULL,
			    "LF inside a line");
			trace_add(t, 'L', f->line, f->len);
			break;
		case PROTO_OVERFLOW:
			trace_add(t, 'O', NULL, 0);
			break;
		default:
			FUZZ_CHECK(0, "unknown event");
		}
		p += used;
		n -= used;
	}
}

/* A small PRNG, so the chunking is a function of the input. */
static unsigned
next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/*
 * The reference: strip telnet commands from the whole stream, split
 * the data at LF, and judge each piece.  A piece ended by LF loses one
 * CR before the LF; longer than PROTO_LINE_MAX it is an overflow.  The
 * unterminated tail reports an overflow as soon as it can no longer be
 * a line: more than PROTO_LINE_MAX bytes, unless the extra one is a CR
 * that a LF may yet follow.
 */
static void
reference(const unsigned char *p, size_t n, struct trace *t)
{
	unsigned char	*data;
	size_t		 i, d = 0, start, len;
	enum { DATA, CMD, OPT, SUB, SUB_IAC } st = DATA;

	data = malloc(n + 1);
	FUZZ_CHECK(data != NULL, "out of memory");
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		switch (st) {
		case DATA:
			if (c == TEL_IAC)
				st = CMD;
			else
				data[d++] = c;
			break;
		case CMD:
			if (c == TEL_IAC) {
				data[d++] = c;
				st = DATA;
			} else if (c == TEL_SB)
				st = SUB;
			else if (c >= TEL_WILL && c <= TEL_DONT)
				st = OPT;
			else
				st = DATA;
			break;
		case OPT:
			st = DATA;
			break;
		case SUB:
			if (c == TEL_IAC)
				st = SUB_IAC;
			break;
		case SUB_IAC:
			st = c == TEL_SE ? DATA : SUB;
			break;
		}
	}
	start = 0;
	for (i = 0; i < d; i++) {
		if (data[i] != '\n')
			continue;
		len = i - start;
		if (len > 0 && data[i - 1] == '\r')
			len--;
		if (len > PROTO_LINE_MAX)
			trace_add(t, 'O', NULL, 0);
		else
			trace_add(t, 'L', data + start, len);
		start = i + 1;
	}
	len = d - start;
	if (len > PROTO_LINE_MAX + 1 || (len == PROTO_LINE_MAX + 1 &&
	    data[start + PROTO_LINE_MAX] != '\r'))
		trace_add(t, 'O', NULL, 0);
	free(data);
}

static int
same(const struct trace *a, const struct trace *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->buf, b->buf, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_framer	f;
	struct trace			whole = { 0 }, bytes = { 0 };
	struct trace			chunks = { 0 }, ref = { 0 };
	const unsigned char		*p;
	size_t				n, i, k;
	unsigned			seed;

	if (size < 1)
		return 0;
	seed = data[0];
	p = data + 1;
	n = size - 1;

	proto_framer_init(&f);
	feed_chunk(&f, p, n, &whole);

	proto_framer_init(&f);
	for (i = 0; i < n; i++)
		feed_chunk(&f, p + i, 1, &bytes);

	/* Chunks of 0 to 1100 bytes: empty calls, and ones past the limit. */
	proto_framer_init(&f);
	for (i = 0; i < n; i += k) {
		unsigned r = next_rand(&seed);

		k = r % 8 == 0 ? 0 : r % 4 == 0 ? r % 1100 : r % 17;
		if (k > n - i)
			k = n - i;
		if (k == 0) {
			enum proto_event ev;

			FUZZ_CHECK(proto_feed(&f, p + i, 0, &ev) == 0 &&
			    ev == PROTO_NONE, "empty feed");
			continue;
		}
		feed_chunk(&f, p + i, k, &chunks);
	}

	reference(p, n, &ref);

	FUZZ_CHECK(same(&whole, &bytes), "whole != byte at a time");
	FUZZ_CHECK(same(&whole, &chunks), "whole != chunked");
	FUZZ_CHECK(same(&whole, &ref), "framer != reference");
	free(whole.buf);
	free(bytes.buf);
	free(chunks.buf);
	free(ref.buf);
	return 0;
}
