/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_sanitize.c -- san_text, san_nick_valid and san_utf8_len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"
#include "unit.h"

/*
 * Clean a string literal (which may hold NULs) and compare with want.
 * dst is allocated to exactly the input's size, so AddressSanitizer
 * and valgrind catch a write past the bound the contract allows.
 */
#define CLEAN(in, flags, want) \
	clean_check((in), sizeof(in) - 1, (flags), (want), sizeof(want) - 1, \
	    __LINE__)

static int	clean_check(const char *, size_t, int, const char *, size_t,
		    int);
static uint32_t	rnd(uint32_t *);

static void	t_plain(void);
static void	t_controls(void);
static void	t_tab(void);
static void	t_trim(void);
static void	t_csi(void);
static void	t_osc(void);
static void	t_two_byte_escapes(void);
static void	t_unterminated(void);
static void	t_invalid_utf8(void);
static void	t_valid_utf8(void);
static void	t_c1(void);
static void	t_empty(void);
static void	t_display(void);
static void	t_display_random(void);
static void	t_random(void);
static void	t_nick(void);
static void	t_utf8_len(void);

static int
clean_check(const char *in, size_t n, int flags, const char *want,
    size_t wantlen, int line)
{
	char	*dst;
	size_t	 len;
	int	 ok;

	/* malloc(0) may return NULL; one spare byte keeps it simple. */
	if ((dst = malloc(n + 1)) == NULL)
		abort();
	memset(dst, '#', n + 1);
	len = san_text(dst, in, n, flags);
	ok = CHECK(len <= n) && CHECK_MEM(dst, len, want, wantlen) &&
	    CHECK_INT(dst[n], '#');
	if (!ok)
		FAIL("for the input on line %d", line);
	free(dst);
	return ok;
}

/* xorshift32: a reproducible stream of pseudo-random numbers. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
t_plain(void)
{
	CLEAN("hello, world", 0, "hello, world");
	CLEAN("hello, world", SAN_TRIM, "hello, world");
	CLEAN("a  b", SAN_TRIM, "a  b");
	CLEAN("~!@#$%^&*()[]{}", 0, "~!@#$%^&*()[]{}");
}

static void
t_controls(void)
{
	CLEAN("a\x01" "b\x07" "c\x7f" "d\x00" "e", 0, "abcde");
	CLEAN("\r\nline\r\n", 0, "line");
	CLEAN("\x08\x08\x08x", 0, "x");
	CLEAN("a\x1f" "b\x0b" "c\x0c", 0, "abc");
}

static void
t_tab(void)
{
	CLEAN("a\tb", 0, "a b");
	CLEAN("\tx\t", 0, " x ");
	CLEAN("a\t\tb", SAN_TRIM, "a  b");
}

static void
t_trim(void)
{
	CLEAN("  \t hi there \t ", SAN_TRIM, "hi there");
	CLEAN("  \t hi there \t ", 0, "    hi there   ");
	CLEAN(" x", SAN_TRIM, "x");
	CLEAN("x ", SAN_TRIM, "x");
	/* Trimming happens after cleaning: hidden blanks go too. */
	CLEAN(" \x01 x \x1b[0m ", SAN_TRIM, "x");
}

static void
t_csi(void)
{
	CLEAN("\x1b[2Jclear", 0, "clear");
	CLEAN("\x1b[1;31mred\x1b[0m", 0, "red");
	CLEAN("a\x1b[?25lb", 0, "ab");
	CLEAN("\x1b[38;5;196mx", 0, "x");
	CLEAN("\x1b[ q!", 0, "!");		/* intermediate, then final */
	CLEAN("\x1b[5@x\x1b[2~y", 0, "xy");	/* finals '@' and '~' */
	CLEAN("\x1b[H\x1b[2J\x1b[3J", SAN_TRIM, "");
}

static void
t_osc(void)
{
	CLEAN("\x1b]0;title\x07" "after", 0, "after");
	CLEAN("\x1b]0;title\x1b\\after", 0, "after");
	CLEAN("a\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\b", 0, "alinkb");
	CLEAN("\x1bPq#0;2;0;0;0\x1b\\x", 0, "x");	/* DCS */
	CLEAN("\x1b_apc\x07" "y", 0, "y");			/* APC */
	CLEAN("\x1b^pm\x07" "z", 0, "z");			/* PM */
	CLEAN("\x1bXsos\x1b\\w", 0, "w");			/* SOS */
}

static void
t_two_byte_escapes(void)
{
	CLEAN("a\x1b" "cb", 0, "ab");		/* RIS: full reset */
	CLEAN("\x1b" "7x\x1b" "8", 0, "x");	/* save/restore cursor */
	CLEAN("\x1b(Bx", 0, "x");		/* charset: intermediate */
	CLEAN("\x1b#8y", 0, "y");		/* DECALN */
	/* ESC before a byte that cannot follow it: only the ESC goes. */
	CLEAN("\x1b\x01z", 0, "z");
	CLEAN("\x1b\xc3\xa9", 0, "\xc3\xa9");
}

static void
t_unterminated(void)
{
	/* Half a sequence would be worse than losing the rest of the line. */
	CLEAN("ok\x1b[12", 0, "ok");
	CLEAN("ok\x1b]0;title", 0, "ok");
	CLEAN("ok\x1b", 0, "ok");
	CLEAN("ok\x1b(", 0, "ok");
	CLEAN("ok\x1b]0;x\x1b", 0, "ok");
}

static void
t_invalid_utf8(void)
{
	CLEAN("\xff", 0, "?");
	CLEAN("a\xff" "b", 0, "a?b");
	CLEAN("\xfe\xff", 0, "??");
	CLEAN("\x80", 0, "?");				/* lone continuation */
	CLEAN("\xc3", 0, "?");				/* truncated 2-byte */
	CLEAN("a\xe2\x82", 0, "a??");			/* truncated 3-byte */
	CLEAN("\xe2\x82z", 0, "??z");
	CLEAN("\xf0\x9f\x98", 0, "???");		/* truncated 4-byte */
	CLEAN("\xc0\x80", 0, "??");			/* overlong NUL */
	CLEAN("\xc1\xbf", 0, "??");			/* overlong 0x7f */
	CLEAN("\xe0\x80\x80", 0, "???");		/* overlong 3-byte */
	CLEAN("\xe0\x9f\xbf", 0, "???");
	CLEAN("\xf0\x80\x80\x80", 0, "????");		/* overlong 4-byte */
	CLEAN("\xf0\x8f\xbf\xbf", 0, "????");
	CLEAN("\xed\xa0\x80", 0, "???");		/* surrogate D800 */
	CLEAN("\xed\xbf\xbf", 0, "???");		/* surrogate DFFF */
	CLEAN("\xf4\x90\x80\x80", 0, "????");		/* U+110000 */
	CLEAN("\xf5\x80\x80\x80", 0, "????");		/* F5 and above */
	CLEAN("\xf8\x88\x80\x80\x80", 0, "?????");
	CLEAN("\xc3\x28", 0, "?(");			/* bad continuation */
	CLEAN("\xe2\x28\xa1", 0, "?(?");
}

static void
t_valid_utf8(void)
{
	CLEAN("caf\xc3\xa9", 0, "caf\xc3\xa9");		/* é */
	CLEAN("\xe2\x82\xac" "5", 0, "\xe2\x82\xac" "5");	/* € */
	CLEAN("\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80");	/* 😀 */
	CLEAN("\xc2\xa0", 0, "\xc2\xa0");		/* U+00A0, not C1 */
	CLEAN("\xdf\xbf\xe0\xa0\x80", 0, "\xdf\xbf\xe0\xa0\x80");
	CLEAN("\xed\x9f\xbf\xee\x80\x80", 0, "\xed\x9f\xbf\xee\x80\x80");
	CLEAN("\xef\xbf\xbd", 0, "\xef\xbf\xbd");	/* U+FFFD */
	CLEAN("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 0,
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");	/* U+10000, U+10FFFF */
	CLEAN(" \xc3\xa9 ", SAN_TRIM, "\xc3\xa9");
}

static void
t_c1(void)
{
	CLEAN("a\xc2\x9b" "2Jb", 0, "a2Jb");	/* U+009B, 8-bit CSI */
	CLEAN("\xc2\x80\xc2\x85\xc2\x9f", 0, "");
	CLEAN("x\xc2\x9d" "0;t\xc2\x9c", 0, "x0;t");
	/* A raw C1 byte is not UTF-8 at all. */
	CLEAN("\x9b" "2J", 0, "?2J");
}

static void
t_empty(void)
{
	CLEAN("", 0, "");
	CLEAN("", SAN_TRIM, "");
	CLEAN("   ", SAN_TRIM, "");
	CLEAN("\t\t", SAN_TRIM, "");
	CLEAN("\x1b[2J\x01\t \x7f", SAN_TRIM, "");
	CLEAN("\x00\x00", 0, "");
}

/* SAN_DISPLAY removes what reorders or hides text; 0 keeps it. */
static void
t_display(void)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+202C POP. */
	CLEAN("a\xe2\x80\xae" "evil\xe2\x80\xac" "b", SAN_DISPLAY, "aevilb");
	CLEAN("a\xe2\x80\xae" "evil\xe2\x80\xac" "b", 0,
	    "a\xe2\x80\xae" "evil\xe2\x80\xac" "b");
	/* Embeddings and overrides U+202A-U+202E, each end. */
	CLEAN("\xe2\x80\xaa" "1\xe2\x80\xab" "2\xe2\x80\xad" "3",
	    SAN_DISPLAY, "123");
	/* Isolates U+2066-U+2069. */
	CLEAN("\xe2\x81\xa6x\xe2\x81\xa7y\xe2\x81\xa8z\xe2\x81\xa9",
	    SAN_DISPLAY, "xyz");
	/* Marks: U+200E LRM, U+200F RLM, U+061C ALM. */
	CLEAN("\xe2\x80\x8e" "a\xe2\x80\x8f" "b\xd8\x9c" "c", SAN_DISPLAY,
	    "abc");
	/* Zero width space, non-joiner, joiner. */
	CLEAN("ad\xe2\x80\x8bmin\xe2\x80\x8c\xe2\x80\x8d", SAN_DISPLAY,
	    "admin");
	/* Line and paragraph separators. */
	CLEAN("one\xe2\x80\xa8two\xe2\x80\xa9three", SAN_DISPLAY,
	    "onetwothree");
	/* Word joiner, invisible operators U+2060-U+2064, U+206A-U+206F. */
	CLEAN("\xe2\x81\xa0\xe2\x81\xa1\xe2\x81\xa4w\xe2\x81\xaa"
	    "\xe2\x81\xaf", SAN_DISPLAY, "w");
	/* BOM, interlinear annotation, Mongolian vowel separator. */
	CLEAN("\xef\xbb\xbfx\xef\xbf\xb9y\xef\xbf\xbbz\xe1\xa0\x8e",
	    SAN_DISPLAY, "xyz");
	/* Tag characters U+E0000-U+E007F hide text in plain sight. */
	CLEAN("hi\xf3\xa0\x80\x81\xf3\xa0\x81\xbf", SAN_DISPLAY, "hi");
	/* Neighbours stay: U+200A, U+2010, U+2027, U+202F, U+205F. */
	CLEAN("\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa7\xe2\x80\xaf"
	    "\xe2\x81\x9f", SAN_DISPLAY,
	    "\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa7\xe2\x80\xaf"
	    "\xe2\x81\x9f");
	/* U+FEFE, U+FFFC, U+E0080 and ordinary text are kept. */
	CLEAN("\xef\xbb\xbe\xef\xbf\xbc\xf3\xa0\x82\x80" "caf\xc3\xa9",
	    SAN_DISPLAY,
	    "\xef\xbb\xbe\xef\xbf\xbc\xf3\xa0\x82\x80" "caf\xc3\xa9");
	/* With SAN_TRIM: a hidden character does not shield a blank. */
	CLEAN(" \xe2\x80\x8b x \xef\xbb\xbf", SAN_DISPLAY | SAN_TRIM, "x");
	/* Escapes and invalid bytes are handled as without the flag. */
	CLEAN("\x1b[31m\xe2\x80\xaer\xff", SAN_DISPLAY, "r?");
}

/* Random input: no hidden character survives SAN_DISPLAY. */
static void
t_display_random(void)
{
	static const char	*pieces[] = { "a", " ", "\xe2\x80\xae",
				    "\xe2\x81\xa6", "\xe2\x80\x8b",
				    "\xef\xbb\xbf", "\xe2\x80", "\xc3\xa9",
				    "\xf3\xa0\x80\x81", "\x1b[", "\xe2" };
	unsigned char		 in[64], out[64];
	uint32_t		 seed = 777;
	size_t			 n, len, i, k, p;
	unsigned long		 cp;
	int			 iter, bad = 0;

	for (iter = 0; iter < 20000 && !bad; iter++) {
		for (n = 0; n < sizeof(in) - 4; n += p) {
			const char	*s = pieces[rnd(&seed) % 11];

			p = strlen(s);
			memcpy(in + n, s, p);
			if (rnd(&seed) % 16 == 0)
				break;
		}
		len = san_text((char *)out, in, n, SAN_DISPLAY);
		for (i = 0; i < len && !bad; i += k) {
			if ((k = san_utf8_len(out + i, len - i)) == 0) {
				bad = !CHECK(k > 0);
				break;
			}
			cp = out[i] & (0x7f >> k);
			for (p = 1; p < k; p++)
				cp = (cp << 6) | (out[i + p] & 0x3f);
			if (k == 1)
				cp = out[i];
			bad |= !CHECK(cp != 0x202e && cp != 0x2066 &&
			    cp != 0x200b && cp != 0xfeff && cp != 0xe0001);
		}
		if (bad) {
			FAIL("iteration %d, input:", iter);
			printf("#   ");
			unit_show(in, n);
			printf("\n");
		}
	}
}

static void
t_random(void)
{
	unsigned char	 in[64], *out;
	uint32_t	 seed = 12345, r;
	size_t		 n, len, i, k;
	int		 iter, bad = 0;

	if ((out = malloc(sizeof(in))) == NULL)
		abort();
	for (iter = 0; iter < 20000 && !bad; iter++) {
		n = rnd(&seed) % sizeof(in);
		for (i = 0; i < n; i++) {
			/* Bias toward the bytes that matter. */
			r = rnd(&seed);
			switch (r % 4) {
			case 0:
				in[i] = "\x1b[]\x07\t \\\xc2\x9b\xe2\x82\xac"
				    "\xf0\xed\x80\xff\r"[(r >> 8) % 16];
				break;
			default:
				in[i] = (unsigned char)(r >> 8);
			}
		}
		len = san_text((char *)out, in, n, SAN_TRIM);
		bad |= !CHECK(len <= n);
		for (i = 0; i < len && !bad; i += k) {
			k = san_utf8_len(out + i, len - i);
			bad |= !CHECK(k > 0);
			bad |= !CHECK(out[i] >= 0x20 && out[i] != 0x7f);
			bad |= !CHECK(!(k == 2 && out[i] == 0xc2 &&
			    out[i + 1] <= 0x9f));
			if (k == 0)
				break;
		}
		if (len > 0) {
			bad |= !CHECK(out[0] != ' ');
			bad |= !CHECK(out[len - 1] != ' ');
		}
		if (bad) {
			FAIL("iteration %d, input:", iter);
			printf("#   ");
			unit_show(in, n);
			printf("\n");
		}
	}
	free(out);
}

static void
t_nick(void)
{
	CHECK_INT(san_nick_valid("a"), 1);
	CHECK_INT(san_nick_valid("Alice"), 1);
	CHECK_INT(san_nick_valid("bob_42"), 1);
	CHECK_INT(san_nick_valid("x-y"), 1);
	CHECK_INT(san_nick_valid("Z_-9"), 1);
	CHECK_INT(san_nick_valid("abcdefghijklmnop"), 1);	/* 16 */
	CHECK_INT(san_nick_valid("abcdefghijklmnopq"), 0);	/* 17 */
	CHECK_INT(san_nick_valid("Abcdefghijklmnopqrstuvwxyz"), 0);
	CHECK_INT(san_nick_valid(""), 0);
	CHECK_INT(san_nick_valid("1abc"), 0);
	CHECK_INT(san_nick_valid("_abc"), 0);
	CHECK_INT(san_nick_valid("-abc"), 0);
	CHECK_INT(san_nick_valid("a b"), 0);
	CHECK_INT(san_nick_valid("a.b"), 0);
	CHECK_INT(san_nick_valid("ab!"), 0);
	CHECK_INT(san_nick_valid("a\n"), 0);
	CHECK_INT(san_nick_valid("caf\xc3\xa9"), 0);
	CHECK_INT(san_nick_valid("\xc3\xa9t\xc3\xa9"), 0);
	CHECK_INT(san_nick_valid(" abc"), 0);
}

static void
t_utf8_len(void)
{
	static const unsigned char	s[] = "a\xc3\xa9\xe2\x82\xac"
					    "\xf0\x9f\x98\x80";

	CHECK_UINT(san_utf8_len(s, 1), 1);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\0", 1), 1);
	CHECK_UINT(san_utf8_len(s + 1, 2), 2);
	CHECK_UINT(san_utf8_len(s + 1, sizeof(s) - 2), 2);
	CHECK_UINT(san_utf8_len(s + 3, 3), 3);
	CHECK_UINT(san_utf8_len(s + 6, 4), 4);
	/* Cut short by n. */
	CHECK_UINT(san_utf8_len(s + 1, 1), 0);
	CHECK_UINT(san_utf8_len(s + 3, 2), 0);
	CHECK_UINT(san_utf8_len(s + 6, 3), 0);
	/* Not a start, overlong, surrogate, too big, bad continuation. */
	CHECK_UINT(san_utf8_len(s + 2, 1), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xc0\x80", 2), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xc1\xbf", 2), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xc2\x80", 2), 2);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xe0\x9f\xbf", 3), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xe0\xa0\x80", 3), 3);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xed\x9f\xbf", 3), 3);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xf0\x8f\xbf\xbf", 4),
	    0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4),
	    4);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4),
	    0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xf5\x80\x80\x80", 4),
	    0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xff", 1), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xc3\x28", 2), 0);
	CHECK_UINT(san_utf8_len((const unsigned char *)"\xe2\x82\x28", 3), 0);
}

int
main(void)
{
	unit_init();
	unit_run("sanitize: plain text is unchanged", t_plain);
	unit_run("sanitize: control bytes are removed", t_controls);
	unit_run("sanitize: a tab becomes a space", t_tab);
	unit_run("sanitize: SAN_TRIM strips leading and trailing blanks",
	    t_trim);
	unit_run("sanitize: CSI sequences are removed whole", t_csi);
	unit_run("sanitize: OSC and string commands end at BEL or ST",
	    t_osc);
	unit_run("sanitize: two- and three-byte escapes", t_two_byte_escapes);
	unit_run("sanitize: an unterminated escape eats the rest",
	    t_unterminated);
	unit_run("sanitize: each invalid UTF-8 byte becomes ?",
	    t_invalid_utf8);
	unit_run("sanitize: valid multibyte UTF-8 is kept", t_valid_utf8);
	unit_run("sanitize: SAN_DISPLAY removes bidi controls and invisible "
	    "format characters", t_display);
	unit_run("sanitize: SAN_DISPLAY leaves no hidden character in random "
	    "input", t_display_random);
	unit_run("sanitize: C1 controls are removed", t_c1);
	unit_run("sanitize: empty after cleaning has length 0", t_empty);
	unit_run("sanitize: random input gives clean, bounded output",
	    t_random);
	unit_run("sanitize: san_nick_valid", t_nick);
	unit_run("sanitize: san_utf8_len", t_utf8_len);
	return unit_done();
}
