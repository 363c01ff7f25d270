/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * util.c -- parsing of option values, and the clock.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

/*
 * strtoul without its surprises: no sign, no blanks, no empty string.
 * Returns 0, or 1 if the digits are too many for an unsigned long (then
 * *out is ULONG_MAX), with *end after the digits; -1 with EINVAL if s
 * does not start with a digit.  The caller checks what follows before
 * it reports a value too large, so that malformed text is EINVAL however
 * long its digits.
 */
static int
parse_digits(const char *s, unsigned long *out, const char **end)
{
	char	*ep;

	if (s == NULL || !isdigit((unsigned char)s[0])) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	*out = strtoul(s, &ep, 10);
	*end = ep;
	return errno == ERANGE ? 1 : 0;
}

int
parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	 v;
	const char	*end;
	int		 big;

	if ((big = parse_digits(s, &v, &end)) == -1)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (big || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_size(const char *s, size_t min, size_t max, size_t *out)
{
	unsigned long	 v, mult = 1;
	const char	*end;
	int		 big;

	if ((big = parse_digits(s, &v, &end)) == -1)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		end++;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (big || v > SIZE_MAX / mult) {
		errno = ERANGE;
		return -1;
	}
	v *= mult;
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_port(const char *s, int *out)
{
	unsigned long	v;

	if (parse_uint(s, 0, 65535, &v) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* MurmurHash3's finaliser: every bit of x moves every bit of the result. */
uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}
