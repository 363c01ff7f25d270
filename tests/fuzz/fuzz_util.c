/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_util.c -- option values: parse_uint, parse_size and parse_port
 * (common/util.c).
 *
 * Property: each accepts exactly what a reference parser written from
 * util.h's contract accepts, yields the same value, and fails with the
 * same errno: EINVAL for text that is not a number of the expected
 * shape (so "99999999999999999999x" is EINVAL, not ERANGE), ERANGE for
 * a well-formed number outside [min, max] or too large to represent.
 *
 * Input: byte 0 picks the parser, bytes 1-16 give min and max, the
 * rest up to a NUL is the text.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

/*
 * Digits, then with suffixes allowed one of k K m M, then the end.  The
 * value is computed with a saturating multiply, so any length is fine.
 */
static int
reference(const char *s, int suffixes, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	v = 0, mult = 1;
	int		big = 0;
	size_t		i;

	if (s[0] < '0' || s[0] > '9')
		return EINVAL;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (ULONG_MAX - d) / 10)
			big = 1;
		else
			v = v * 10 + d;
	}
	if (suffixes && (s[i] == 'k' || s[i] == 'K')) {
		mult = 1024;
		i++;
	} else if (suffixes && (s[i] == 'm' || s[i] == 'M')) {
		mult = 1024 * 1024;
		i++;
	}
	if (s[i] != '\0')
		return EINVAL;
	if (big || v > SIZE_MAX / mult)
		return ERANGE;
	v *= mult;
	if (v < min || v > max)
		return ERANGE;
	*out = v;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long	min, max, got = 0, want = 0;
	size_t		sz = 0;
	char		*s;
	int		which, rc, err, port = -1;

	if (size < 17)
		return 0;
	which = data[0] % 3;
	memcpy(&min, data + 1, sizeof(min));
	memcpy(&max, data + 9, sizeof(max));
	/* Mostly small bounds, so that in-range values are common. */
	if (data[0] & 0x10)
		min %= 1000;
	if (data[0] & 0x20)
		max %= 1u << 30;
	s = malloc(size - 17 + 1);
	FUZZ_CHECK(s != NULL, "out of memory");
	memcpy(s, data + 17, size - 17);
	s[size - 17] = '\0';

	errno = 0;
	switch (which) {
	case 0:
		rc = parse_uint(s, min, max, &got);
		err = reference(s, 0, min, max, &want);
		break;
	case 1:
		rc = parse_size(s, min, max, &sz);
		got = sz;
		err = reference(s, 1, min, max, &want);
		break;
	default:
		rc = parse_port(s, &port);
		got = (unsigned long)port;
		err = reference(s, 0, 0, 65535, &want);
		break;
	}
	if (err == 0) {
		FUZZ_CHECK(rc == 0, "rejected what the reference accepts");
		FUZZ_CHECK(got == want, "a different value");
	} else {
		FUZZ_CHECK(rc == -1, "accepted what the reference rejects");
		FUZZ_CHECK(errno == err, "a different errno");
	}
	free(s);
	return 0;
}
