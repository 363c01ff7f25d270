/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * sanitize.c -- trim, control-byte and escape removal, UTF-8 repair,
 * nickname validation.
 */
#include <string.h>

#include "proto.h"
#include "sanitize.h"

#define ESC	0x1b
#define BEL	0x07

size_t
san_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	c = s[0];
	size_t		len, i;
	unsigned long	cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond Unicode. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* The code point of the valid UTF-8 sequence s[0 .. len). */
static unsigned long
utf8_decode(const unsigned char *s, size_t len)
{
	unsigned long	cp;
	size_t		i;

	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

/*
 * 1 if cp changes the order of the text around it or is not seen at
 * all: bidi embeddings, overrides and isolates would let a peer make
 * "evil.sh" read as "hs.live", and zero-width characters would hide
 * words or make two names look alike.
 */
static int
display_hidden(unsigned long cp)
{
	return cp == 0x061c || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	    (cp >= 0xe0000 && cp <= 0xe007f);
}

/*
 * Length of the escape sequence starting with the ESC at s[0].  An
 * unterminated sequence runs to the end of the line: better to lose the
 * rest of a hostile line than to let half a sequence through.
 */
static size_t
escape_len(const unsigned char *s, size_t n)
{
	size_t	i;

	if (n < 2)
		return n;
	switch (s[1]) {
	case '[':		/* CSI: parameters, intermediates, a final */
		for (i = 2; i < n; i++)
			if (s[i] >= 0x40 && s[i] <= 0x7e)
				return i + 1;
		return n;
	case ']':		/* OSC, DCS, SOS, PM, APC: up to BEL or ST */
	case 'P':
	case 'X':
	case '^':
	case '_':
		for (i = 2; i < n; i++) {
			if (s[i] == BEL)
				return i + 1;
			if (s[i] == ESC && i + 1 < n && s[i + 1] == '\\')
				return i + 2;
		}
		return n;
	default:		/* ESC, intermediates 0x20-0x2f, a final */
		for (i = 1; i < n && s[i] >= 0x20 && s[i] <= 0x2f; i++)
			;
		if (i < n && s[i] >= 0x30 && s[i] <= 0x7e)
			return i + 1;
		return i;
	}
}

size_t
san_text(char *dst, const void *src, size_t n, int flags)
{
	const unsigned char	*s = src;
	size_t			 i = 0, o = 0, len, start;

	while (i < n) {
		if (s[i] == ESC) {
			i += escape_len(s + i, n - i);
			continue;
		}
		if (s[i] == '\t') {
			dst[o++] = ' ';
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			i++;
			continue;
		}
		if ((len = san_utf8_len(s + i, n - i)) == 0) {
			dst[o++] = '?';
			i++;
			continue;
		}
		/* C1 controls, U+0080-U+009F, are C2 80 to C2 9F. */
		if (len == 2 && s[i] == 0xc2 && s[i + 1] <= 0x9f) {
			i += 2;
			continue;
		}
		if ((flags & SAN_DISPLAY) && len > 1 &&
		    display_hidden(utf8_decode(s + i, len))) {
			i += len;
			continue;
		}
		memcpy(dst + o, s + i, len);
		o += len;
		i += len;
	}
	if (flags & SAN_TRIM) {
		while (o > 0 && dst[o - 1] == ' ')
			o--;
		for (start = 0; start < o && dst[start] == ' '; start++)
			;
		if (start > 0) {
			memmove(dst, dst + start, o - start);
			o -= start;
		}
	}
	return o;
}

int
san_nick_valid(const char *s)
{
	size_t	i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == PROTO_NICK_MAX)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return 0;
	}
	return 1;
}
