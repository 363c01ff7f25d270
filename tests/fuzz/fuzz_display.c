/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_display.c -- what chatc shows of a server's line: san_text with
 * SAN_DISPLAY (common/sanitize.c).
 *
 * Properties: nothing reaches the terminal that moves the cursor,
 * changes the screen or reorders or hides text -- no C0 or C1 control,
 * no DEL, no ESC, no bidi control (U+061C, U+200E, U+200F, U+202A to
 * U+202E, U+2066 to U+2069), no invisible format character (U+200B to
 * U+200D, U+2028, U+2029, U+2060 to U+2064, U+FEFF); the output is
 * valid UTF-8, never longer than the input, and a fixed point.
 */
#include <string.h>

#include "fuzz.h"
#include "sanitize.h"

/* The code point of the UTF-8 sequence of len bytes at p. */
static unsigned long
code_point(const unsigned char *p, size_t len)
{
	unsigned long	cp;
	size_t		i;

	if (len == 1)
		return p[0];
	cp = p[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

static int
forbidden(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	    (cp >= 0x200b && cp <= 0x200f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static void
check(const unsigned char *data, size_t size, int flags)
{
	char	*out, *again;
	size_t	 n, m, i, len;

	out = malloc(size + 1);
	again = malloc(size + 1);
	FUZZ_CHECK(out != NULL && again != NULL, "out of memory");
	n = san_text(out, data, size, flags);
	FUZZ_CHECK(n <= size, "longer than the input");
	for (i = 0; i < n; i += len) {
		len = san_utf8_len((const unsigned char *)out + i, n - i);
		FUZZ_CHECK(len > 0, "not valid UTF-8");
		FUZZ_CHECK(!forbidden(code_point((const unsigned char *)out + i,
		    len)), "a control, bidi or invisible character passed");
	}
	m = san_text(again, out, n, flags);
	FUZZ_CHECK(m == n && memcmp(out, again, n) == 0, "not a fixed point");
	free(out);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, SAN_DISPLAY);
	check(data, size, SAN_DISPLAY | SAN_TRIM);
	return 0;
}
