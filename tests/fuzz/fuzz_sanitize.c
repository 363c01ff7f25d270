/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_sanitize.c -- the text sanitiser san_text (common/sanitize.c),
 * with flags 0 and SAN_TRIM.
 *
 * Properties, for each flag set:
 *  - the output is never longer than the input;
 *  - it is valid UTF-8 by an independent decoder (no overlong forms,
 *    surrogates or code points past U+10FFFF);
 *  - it holds no C0 control (a tab included), no DEL, no C1 control;
 *  - it is a fixed point: sanitising it again changes nothing;
 *  - with SAN_TRIM it neither starts nor ends with a space, and equals
 *    the untrimmed output with its outer spaces cut;
 *  - text that is already clean (valid UTF-8, no controls) comes out
 *    unchanged (modulo the trim).
 */
#include <string.h>

#include "fuzz.h"
#include "sanitize.h"

/*
 * Decode one code point at s[0 .. n); return its length, 0 if invalid.
 * Written from RFC 3629, apart from sanitize.c's decoder on purpose.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t		len, i;
	unsigned long	v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; v = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; v = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; v = s[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* 1 if s[0 .. n) is valid UTF-8 holding no C0, DEL or C1 control. */
static int
clean_text(const unsigned char *s, size_t n, int tab_ok)
{
	size_t		i = 0, len;
	unsigned long	cp;

	while (i < n) {
		if ((len = utf8_decode(s + i, n - i, &cp)) == 0)
			return 0;
		if ((cp < 0x20 && !(tab_ok && cp == '\t')) ||
		    (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

static void
check(const uint8_t *in, size_t n, int flags)
{
	char	*out, *again, *plain, *expect;
	size_t	 o, o2, op, s, e;

	out = malloc(n + 1);
	again = malloc(n + 1);
	plain = malloc(n + 1);
	expect = malloc(n + 1);
	FUZZ_CHECK(out && again && plain && expect, "out of memory");

	o = san_text(out, in, n, flags);
	FUZZ_CHECK(o <= n, "output longer than input");
	FUZZ_CHECK(clean_text((unsigned char *)out, o, 0),
	    "output is not clean UTF-8");

	o2 = san_text(again, out, o, flags);
	FUZZ_CHECK(o2 == o && memcmp(again, out, o) == 0, "not a fixed point");

	if (flags & SAN_TRIM) {
		FUZZ_CHECK(o == 0 || (out[0] != ' ' && out[o - 1] != ' '),
		    "spaces left at an end");
		op = san_text(plain, in, n, flags & ~SAN_TRIM);
		for (s = 0; s < op && plain[s] == ' '; s++)
			;
		for (e = op; e > s && plain[e - 1] == ' '; e--)
			;
		FUZZ_CHECK(o == e - s && memcmp(out, plain + s, o) == 0,
		    "trim is not the untrimmed output without outer spaces");
	}

	/* Clean input passes through; only tabs become spaces. */
	if (clean_text(in, n, 1)) {
		memcpy(expect, in, n);
		for (s = 0; s < n; s++)
			if (expect[s] == '\t')
				expect[s] = ' ';
		e = n;
		s = 0;
		if (flags & SAN_TRIM) {
			while (e > 0 && expect[e - 1] == ' ')
				e--;
			while (s < e && expect[s] == ' ')
				s++;
		}
		FUZZ_CHECK(o == e - s && memcmp(out, expect + s, o) == 0,
		    "clean text was changed");
	}
	free(out);
	free(again);
	free(plain);
	free(expect);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, 0);
	check(data, size, SAN_TRIM);
	return 0;
}
