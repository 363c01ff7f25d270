/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_proto.c -- the line framer: LF and CRLF, the 1024-byte limit and
 * the skip to the next LF, telnet commands, input split anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "unit.h"

/* A record of what the framer produced: "[line]" per line, "!" per overflow. */
#define LOG_MAX		(8 * PROTO_LINE_MAX)
/* Frame a string literal, which may hold NULs, in every way. */
#define FRAME(s, want)	frame_check((s), sizeof(s) - 1, (want))

struct log {
	char	l_text[LOG_MAX];
	size_t	l_len;
	size_t	l_consumed;	/* bytes proto_feed said it consumed */
	int	l_bad;		/* a call broke the framer's contract */
};

static void	log_put(struct log *, const void *, size_t);
static void	frame(struct proto_framer *, const void *, size_t, size_t,
		    struct log *);
static int	frame_check(const void *, size_t, const char *);
static char	*repeat(int, size_t, const char *);
static char	*bracket(int, size_t, const char *);

static void	t_lf(void);
static void	t_crlf(void);
static void	t_cr_elsewhere(void);
static void	t_empty_lines(void);
static void	t_several_lines(void);
static void	t_partial(void);
static void	t_split_everywhere(void);
static void	t_next_call_resets(void);
static void	t_exactly_max(void);
static void	t_max_crlf(void);
static void	t_max_plus_one(void);
static void	t_max_cr_then_byte(void);
static void	t_overflow_crlf(void);
static void	t_very_long(void);
static void	t_telnet_option(void);
static void	t_telnet_option_lf(void);
static void	t_telnet_sb(void);
static void	t_telnet_iac_iac(void);
static void	t_telnet_other(void);
static void	t_telnet_split(void);
static void	t_telnet_limit(void);
static void	t_telnet_while_skipping(void);
static void	t_consumed(void);

/* Append p[0 .. n) to the log, bytes outside printable ASCII as \xNN. */
static void
log_put(struct log *lg, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;
	int			 w;

	for (i = 0; i < n; i++) {
		if (lg->l_len + 5 >= sizeof(lg->l_text)) {
			lg->l_bad = 1;
			return;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f)
			lg->l_text[lg->l_len++] = (char)s[i];
		else {
			w = snprintf(lg->l_text + lg->l_len,
			    sizeof(lg->l_text) - lg->l_len, "\\x%02x", s[i]);
			lg->l_len += (size_t)w;
		}
	}
	lg->l_text[lg->l_len] = '\0';
}

/*
 * Feed buf[0 .. n) to f in chunks of at most chunk bytes, calling
 * proto_feed until each chunk is used up, and log what comes out.
 * Checks the contract of each call on the way.
 */
static void
frame(struct proto_framer *f, const void *buf, size_t n, size_t chunk,
    struct log *lg)
{
	const unsigned char	*p = buf;
	size_t			 off = 0, end, used;
	enum proto_event	 ev;

	while (off < n) {
		end = n - off < chunk ? n : off + chunk;
		while (off < end) {
			used = proto_feed(f, p + off, end - off, &ev);
			lg->l_consumed += used;
			if (used == 0 || used > end - off ||
			    f->len > PROTO_LINE_MAX + 1)
				lg->l_bad = 1;
			switch (ev) {
			case PROTO_LINE:
				if (p[off + used - 1] != '\n' ||
				    f->len > PROTO_LINE_MAX)
					lg->l_bad = 1;
				log_put(lg, "[", 1);
				log_put(lg, f->line, f->len);
				log_put(lg, "]", 1);
				break;
			case PROTO_OVERFLOW:
				log_put(lg, "!", 1);
				break;
			case PROTO_NONE:
				if (used != end - off)
					lg->l_bad = 1;
				break;
			default:
				lg->l_bad = 1;
			}
			off += used;
		}
	}
}

/*
 * Frame buf[0 .. n) from a fresh framer in chunks of every size from 1
 * to 16 and in one piece; each must log exactly want.
 */
static int
frame_check(const void *buf, size_t n, const char *want)
{
	struct proto_framer	 f;
	struct log		*lg;
	size_t			 chunk;
	int			 ok = 1;

	if ((lg = malloc(sizeof(*lg))) == NULL) {
		FAIL("malloc failed");
		return 0;
	}
	for (chunk = 1; chunk <= 17 && ok; chunk++) {
		memset(lg, 0, sizeof(*lg));
		proto_framer_init(&f);
		frame(&f, buf, n, chunk == 17 ? n : chunk, lg);
		ok = CHECK_STR(lg->l_text, want) &&
		    CHECK_INT(lg->l_bad, 0) &&
		    CHECK_UINT(lg->l_consumed, n);
		if (!ok)
			FAIL("in chunks of %zu bytes", chunk == 17 ? n : chunk);
	}
	free(lg);
	return ok;
}

/* A string of n copies of c followed by tail; the caller frees it. */
static char *
repeat(int c, size_t n, const char *tail)
{
	size_t	 tl = strlen(tail);
	char	*s;

	if ((s = malloc(n + tl + 1)) == NULL)
		abort();
	memset(s, c, n);
	memcpy(s + n, tail, tl + 1);
	return s;
}

/* The log of a line of n copies of c: "[", the bytes, then tail. */
static char *
bracket(int c, size_t n, const char *tail)
{
	char	*s;

	s = repeat(c, n + 1, tail);
	s[0] = '[';
	return s;
}

static void
t_lf(void)
{
	struct proto_framer	f;
	enum proto_event	ev;

	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, "hello\n", 6, &ev), 6);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "hello", 5);
	CHECK_UINT(proto_feed(&f, "", 0, &ev), 0);
	CHECK_INT(ev, PROTO_NONE);
	FRAME("hello\n", "[hello]");
}

static void
t_crlf(void)
{
	struct proto_framer	f;
	enum proto_event	ev;

	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, "hello\r\n", 7, &ev), 7);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "hello", 5);
	FRAME("hello\r\n", "[hello]");
	FRAME("a\r\nb\n", "[a][b]");
}

static void
t_cr_elsewhere(void)
{
	/* Only the CR right before the LF goes; sanitize removes others. */
	FRAME("a\rb\n", "[a\\x0db]");
	FRAME("\ra\n", "[\\x0da]");
	FRAME("a\r\r\n", "[a\\x0d]");
	FRAME("a\r", "");
	FRAME("a\rb", "");
}

static void
t_empty_lines(void)
{
	FRAME("\n", "[]");
	FRAME("\r\n", "[]");
	FRAME("\n\n\r\n", "[][][]");
}

static void
t_several_lines(void)
{
	static const char	 in[] = "one\ntwo\r\nthree\n";
	struct proto_framer	 f;
	enum proto_event	 ev;
	const char		*p = in;
	size_t			 n = sizeof(in) - 1, used;

	proto_framer_init(&f);
	used = proto_feed(&f, p, n, &ev);
	CHECK_UINT(used, 4);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "one", 3);
	p += used;
	n -= used;
	used = proto_feed(&f, p, n, &ev);
	CHECK_UINT(used, 5);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "two", 3);
	p += used;
	n -= used;
	used = proto_feed(&f, p, n, &ev);
	CHECK_UINT(used, 6);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "three", 5);
	CHECK_UINT(n - used, 0);
	FRAME(in, "[one][two][three]");
}

static void
t_partial(void)
{
	struct proto_framer	f;
	enum proto_event	ev;

	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, "abc", 3, &ev), 3);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "def", 3, &ev), 3);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "\r", 1, &ev), 1);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "\nxy", 3, &ev), 1);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "abcdef", 6);
}

static void
t_split_everywhere(void)
{
	static const char	in[] = "first line\r\n\nsecond\rx\nthird";

	FRAME(in, "[first line][][second\\x0dx]");
}

static void
t_next_call_resets(void)
{
	struct proto_framer	f;
	enum proto_event	ev;

	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, "long line\n", 10, &ev), 10);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_UINT(proto_feed(&f, "x\n", 2, &ev), 2);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "x", 1);
	/* An empty call after a line also starts the next one afresh. */
	CHECK_UINT(proto_feed(&f, "", 0, &ev), 0);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "y\n", 2, &ev), 2);
	CHECK_MEM(f.line, f.len, "y", 1);
}

static void
t_exactly_max(void)
{
	struct proto_framer	 f;
	enum proto_event	 ev;
	char			*in, *want;

	in = repeat('a', PROTO_LINE_MAX, "\nb\n");
	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, in, PROTO_LINE_MAX + 3, &ev),
	    PROTO_LINE_MAX + 1);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, in, PROTO_LINE_MAX);
	want = bracket('a', PROTO_LINE_MAX, "][b]");
	frame_check(in, strlen(in), want);
	free(want);
	free(in);
}

static void
t_max_crlf(void)
{
	struct proto_framer	 f;
	enum proto_event	 ev;
	char			*in;

	in = repeat('a', PROTO_LINE_MAX, "\r\n");
	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, in, PROTO_LINE_MAX + 2, &ev),
	    PROTO_LINE_MAX + 2);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, in, PROTO_LINE_MAX);
	free(in);
}

static void
t_max_plus_one(void)
{
	struct proto_framer	 f;
	enum proto_event	 ev;
	char			*in;
	size_t			 n, used;

	in = repeat('a', PROTO_LINE_MAX + 1, "\nnext\n");
	n = strlen(in);
	proto_framer_init(&f);
	/* Reported on the 1025th byte, once. */
	used = proto_feed(&f, in, n, &ev);
	CHECK_UINT(used, PROTO_LINE_MAX + 1);
	CHECK_INT(ev, PROTO_OVERFLOW);
	/* The rest of the long line goes; the next line is normal. */
	CHECK_UINT(proto_feed(&f, in + used, n - used, &ev), 6);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "next", 4);
	frame_check(in, n, "![next]");
	free(in);

	/* The same with the LF in a later read. */
	in = repeat('a', PROTO_LINE_MAX + 100, "");
	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, in, PROTO_LINE_MAX + 100, &ev),
	    PROTO_LINE_MAX + 1);
	CHECK_INT(ev, PROTO_OVERFLOW);
	CHECK_UINT(proto_feed(&f, in, 99, &ev), 99);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, in, PROTO_LINE_MAX + 100, &ev),
	    PROTO_LINE_MAX + 100);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "xx\nok\n", 6, &ev), 6);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "ok", 2);
	free(in);
}

static void
t_max_cr_then_byte(void)
{
	char	*in, *want;

	/* A CR at byte 1025 is held, but the line is too long after all. */
	in = repeat('a', PROTO_LINE_MAX, "\rx\nok\n");
	frame_check(in, strlen(in), "![ok]");
	free(in);
	in = repeat('a', PROTO_LINE_MAX, "\r\r\nok\n");
	frame_check(in, strlen(in), "![ok]");
	free(in);
	in = repeat('a', PROTO_LINE_MAX - 1, "\r\r\n");
	want = bracket('a', PROTO_LINE_MAX - 1, "\\x0d]");
	frame_check(in, strlen(in), want);
	free(want);
	free(in);
}

static void
t_overflow_crlf(void)
{
	char	*in;

	in = repeat('z', 2000, "\r\nb\r\n\r\n");
	frame_check(in, strlen(in), "![b][]");
	free(in);
}

static void
t_very_long(void)
{
	struct proto_framer	 f;
	struct log		*lg;
	size_t			 n = 100 * 1024, chunk;
	char			*in;

	/* The framer is a fixed-size struct: nothing grows with the input. */
	CHECK(sizeof(struct proto_framer) < PROTO_LINE_MAX + 64);
	in = repeat('x', n, "\nok\n");
	if ((lg = calloc(1, sizeof(*lg))) == NULL)
		abort();
	for (chunk = 1; chunk <= 8192; chunk *= 8) {
		memset(lg, 0, sizeof(*lg));
		proto_framer_init(&f);
		frame(&f, in, n + 4, chunk, lg);
		CHECK_STR(lg->l_text, "![ok]");
		CHECK_INT(lg->l_bad, 0);
		CHECK_UINT(lg->l_consumed, n + 4);
	}
	free(lg);
	free(in);
}

static void
t_telnet_option(void)
{
	/* IAC WILL/WONT/DO/DONT x: three bytes, wherever they are. */
	FRAME("\xff\xfb\x01hi\xff\xfd\x03\n", "[hi]");
	FRAME("a\xff\xfc\x22" "b\xff\xfe\x01" "c\n", "[abc]");
	FRAME("\xff\xfb\x18\xff\xfd\x1f\r\n", "[]");
}

static void
t_telnet_option_lf(void)
{
	/* The option byte is not data even when it is an LF or an IAC. */
	FRAME("a\xff\xfb\nb\n", "[ab]");
	FRAME("a\xff\xfd\xff" "b\n", "[ab]");
}

static void
t_telnet_sb(void)
{
	/* Terminal type subnegotiation, an LF and an IAC IAC inside. */
	FRAME("a\xff\xfa\x18\x01\xff\xf0" "b\n", "[ab]");
	FRAME("\xff\xfa\x18\x00xterm\xff\xff\n\xff\xf0ok\n", "[ok]");
	/* IAC x inside SB other than SE does not end it. */
	FRAME("\xff\xfa\x01\xff\x01zz\xff\xf0y\n", "[y]");
}

static void
t_telnet_iac_iac(void)
{
	FRAME("a\xff\xff" "b\n", "[a\\xffb]");
	FRAME("\xff\xff\xff\xff\n", "[\\xff\\xff]");
	FRAME("\xff\xff\r\n", "[\\xff]");
}

static void
t_telnet_other(void)
{
	/* Two-byte commands: NOP, AYT, GA, SE outside SB. */
	FRAME("\xff\xf1x\xff\xf6y\xff\xf9z\xff\xf0\n", "[xyz]");
}

static void
t_telnet_split(void)
{
	struct proto_framer	f;
	enum proto_event	ev;

	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, "a\xff", 2, &ev), 2);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "\xfb", 1, &ev), 1);
	CHECK_UINT(proto_feed(&f, "\n", 1, &ev), 1);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "b\xff", 2, &ev), 2);
	CHECK_UINT(proto_feed(&f, "\xff", 1, &ev), 1);
	CHECK_UINT(proto_feed(&f, "\xff\xfa", 2, &ev), 2);
	CHECK_UINT(proto_feed(&f, "\n\xff", 2, &ev), 2);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "\xf0", 1, &ev), 1);
	CHECK_UINT(proto_feed(&f, "c\n", 2, &ev), 2);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "ab\xff" "c", 4);
	/* Every split of a mixed stream gives the same lines. */
	FRAME("x\xff\xfb\x01y\xff\xff\xff\xfa\x18\xff\xff\xff\xf0z\r\n"
	    "\xff\xfd\x03w\n", "[xy\\xffz][w]");
}

static void
t_telnet_limit(void)
{
	struct proto_framer	 f;
	enum proto_event	 ev;
	char			*in, *want;

	/* Telnet commands do not count toward the limit ... */
	in = repeat('a', PROTO_LINE_MAX,
	    "\xff\xfb\x01\xff\xfa\x18\xff\xf0\r\n");
	want = bracket('a', PROTO_LINE_MAX, "]");
	frame_check(in, strlen(in), want);
	free(want);
	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, in, strlen(in), &ev), strlen(in));
	CHECK_INT(ev, PROTO_LINE);
	CHECK_UINT(f.len, PROTO_LINE_MAX);
	free(in);

	/* ... but the data byte of IAC IAC does. */
	in = repeat('a', PROTO_LINE_MAX - 1, "\xff\xff\n");
	proto_framer_init(&f);
	CHECK_UINT(proto_feed(&f, in, strlen(in), &ev), strlen(in));
	CHECK_INT(ev, PROTO_LINE);
	CHECK_UINT(f.len, PROTO_LINE_MAX);
	CHECK_INT(f.line[PROTO_LINE_MAX - 1], 0xff);
	free(in);
	in = repeat('a', PROTO_LINE_MAX, "\xff\xffz\nok\n");
	frame_check(in, strlen(in), "![ok]");
	free(in);
}

static void
t_telnet_while_skipping(void)
{
	char	*in;

	/* While skipping, an option byte that is LF does not end the line. */
	in = repeat('a', PROTO_LINE_MAX + 5, "\xff\xfb\nstill\nok\n");
	frame_check(in, strlen(in), "![ok]");
	free(in);
}

static void
t_consumed(void)
{
	struct proto_framer	f;
	enum proto_event	ev;

	proto_framer_init(&f);
	/* A line returns what it used, up to and including its LF. */
	CHECK_UINT(proto_feed(&f, "ab\ncd\nef", 8, &ev), 3);
	CHECK_UINT(proto_feed(&f, "cd\nef", 5, &ev), 3);
	/* No line: everything is consumed, even a telnet command's start. */
	CHECK_UINT(proto_feed(&f, "ef\xff", 3, &ev), 3);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "\xfd", 1, &ev), 1);
	CHECK_INT(ev, PROTO_NONE);
	CHECK_UINT(proto_feed(&f, "\x01\n", 2, &ev), 2);
	CHECK_INT(ev, PROTO_LINE);
	CHECK_MEM(f.line, f.len, "ef", 2);
}

int
main(void)
{
	unit_init();
	unit_run("proto: LF ends a line", t_lf);
	unit_run("proto: CR before LF is dropped", t_crlf);
	unit_run("proto: CR elsewhere is kept", t_cr_elsewhere);
	unit_run("proto: empty lines", t_empty_lines);
	unit_run("proto: several lines in one buffer", t_several_lines);
	unit_run("proto: a line across feeds", t_partial);
	unit_run("proto: any split gives the same lines",
	    t_split_everywhere);
	unit_run("proto: the next call starts a new line",
	    t_next_call_resets);
	unit_run("proto: a line of exactly 1024 bytes", t_exactly_max);
	unit_run("proto: 1024 bytes and CRLF", t_max_crlf);
	unit_run("proto: 1025 bytes overflow once, then skip to LF",
	    t_max_plus_one);
	unit_run("proto: a held CR that is not before LF overflows",
	    t_max_cr_then_byte);
	unit_run("proto: an overflowing CRLF line", t_overflow_crlf);
	unit_run("proto: 100 KB line is bounded and overflows once",
	    t_very_long);
	unit_run("proto: telnet IAC WILL/WONT/DO/DONT discarded",
	    t_telnet_option);
	unit_run("proto: telnet option byte is never data",
	    t_telnet_option_lf);
	unit_run("proto: telnet IAC SB ... IAC SE discarded", t_telnet_sb);
	unit_run("proto: telnet IAC IAC is a 0xff byte", t_telnet_iac_iac);
	unit_run("proto: telnet two-byte commands discarded",
	    t_telnet_other);
	unit_run("proto: telnet sequences split across feeds",
	    t_telnet_split);
	unit_run("proto: telnet commands do not count toward the limit",
	    t_telnet_limit);
	unit_run("proto: telnet parsed while skipping",
	    t_telnet_while_skipping);
	unit_run("proto: consumed counts", t_consumed);
	return unit_done();
}
