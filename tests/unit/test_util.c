/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_util.c -- parse_uint, parse_size and parse_port.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "unit.h"

/* Check that a parse succeeds with the given value. */
#define UINT_OK(s, min, max, want)	uint_ok((s), (min), (max), (want), \
					    __LINE__)
#define UINT_ERR(s, min, max, err)	uint_err((s), (min), (max), (err), \
					    __LINE__)
#define SIZE_OK(s, min, max, want)	size_ok((s), (min), (max), (want), \
					    __LINE__)
#define SIZE_ERR(s, min, max, err)	size_err((s), (min), (max), (err), \
					    __LINE__)

static void	uint_ok(const char *, unsigned long, unsigned long,
		    unsigned long, int);
static void	uint_err(const char *, unsigned long, unsigned long, int,
		    int);
static void	size_ok(const char *, size_t, size_t, size_t, int);
static void	size_err(const char *, size_t, size_t, int, int);
static void	port_ok(const char *, int);
static void	port_err(const char *, int);

static void	t_uint(void);
static void	t_uint_range(void);
static void	t_uint_junk(void);
static void	t_uint_overflow(void);
static void	t_size(void);
static void	t_size_suffix_junk(void);
static void	t_size_overflow(void);
static void	t_port(void);

static void
uint_ok(const char *s, unsigned long min, unsigned long max,
    unsigned long want, int line)
{
	unsigned long	v = 12345;

	if (!CHECK_INT(parse_uint(s, min, max, &v), 0) ||
	    !CHECK_UINT(v, want))
		FAIL("parse_uint(\"%s\", %lu, %lu) on line %d",
		    s ? s : "(null)", min, max, line);
}

static void
uint_err(const char *s, unsigned long min, unsigned long max, int err,
    int line)
{
	unsigned long	v = 12345;

	errno = 0;
	if (!CHECK_INT(parse_uint(s, min, max, &v), -1) ||
	    !CHECK_INT(errno, err) || !CHECK_UINT(v, 12345))
		FAIL("parse_uint(\"%s\", %lu, %lu) on line %d",
		    s ? s : "(null)", min, max, line);
}

static void
size_ok(const char *s, size_t min, size_t max, size_t want, int line)
{
	size_t	v = 12345;

	if (!CHECK_INT(parse_size(s, min, max, &v), 0) ||
	    !CHECK_UINT(v, want))
		FAIL("parse_size(\"%s\", %zu, %zu) on line %d",
		    s ? s : "(null)", min, max, line);
}

static void
size_err(const char *s, size_t min, size_t max, int err, int line)
{
	size_t	v = 12345;

	errno = 0;
	if (!CHECK_INT(parse_size(s, min, max, &v), -1) ||
	    !CHECK_INT(errno, err) || !CHECK_UINT(v, 12345))
		FAIL("parse_size(\"%s\", %zu, %zu) on line %d",
		    s ? s : "(null)", min, max, line);
}

static void
port_ok(const char *s, int want)
{
	int	v = -7;

	if (!CHECK_INT(parse_port(s, &v), 0) || !CHECK_INT(v, want))
		FAIL("parse_port(\"%s\")", s);
}

static void
port_err(const char *s, int err)
{
	int	v = -7;

	errno = 0;
	if (!CHECK_INT(parse_port(s, &v), -1) || !CHECK_INT(errno, err) ||
	    !CHECK_INT(v, -7))
		FAIL("parse_port(\"%s\")", s ? s : "(null)");
}

static void
t_uint(void)
{
	UINT_OK("0", 0, 10, 0);
	UINT_OK("7", 0, 10, 7);
	UINT_OK("42", 0, ULONG_MAX, 42);
	UINT_OK("007", 0, 10, 7);
	UINT_OK("4294967295", 0, ULONG_MAX, 4294967295UL);
}

static void
t_uint_range(void)
{
	UINT_OK("10", 0, 10, 10);
	UINT_OK("1", 1, 10, 1);
	UINT_ERR("11", 0, 10, ERANGE);
	UINT_ERR("0", 1, 10, ERANGE);
	UINT_ERR("65", 1, 64, ERANGE);
	UINT_OK("5", 5, 5, 5);
	UINT_ERR("4", 5, 5, ERANGE);
}

static void
t_uint_junk(void)
{
	UINT_ERR("", 0, 10, EINVAL);
	UINT_ERR(NULL, 0, 10, EINVAL);
	UINT_ERR("-1", 0, 10, EINVAL);
	UINT_ERR("-0", 0, 10, EINVAL);
	UINT_ERR("+1", 0, 10, EINVAL);
	UINT_ERR(" 1", 0, 10, EINVAL);
	UINT_ERR("1 ", 0, 10, EINVAL);
	UINT_ERR("1\n", 0, 10, EINVAL);
	UINT_ERR("12abc", 0, 100, EINVAL);
	UINT_ERR("abc", 0, 100, EINVAL);
	UINT_ERR("0x10", 0, 100, EINVAL);
	UINT_ERR("1.5", 0, 100, EINVAL);
	UINT_ERR("1k", 0, 100000, EINVAL);
	/* Junk wins over range: the text is wrong before the value is. */
	UINT_ERR("999x", 0, 10, EINVAL);
}

static void
t_uint_overflow(void)
{
	char	s[64];

	snprintf(s, sizeof(s), "%lu", ULONG_MAX);
	UINT_OK(s, 0, ULONG_MAX, ULONG_MAX);
	UINT_ERR(s, 0, ULONG_MAX - 1, ERANGE);
	/* One more than ULONG_MAX: the last digit goes up by one. */
	s[strlen(s) - 1]++;
	UINT_ERR(s, 0, ULONG_MAX, ERANGE);
	UINT_ERR("99999999999999999999999999999", 0, ULONG_MAX, ERANGE);
	/* Malformed is malformed, however big the digits (fuzz_util). */
	UINT_ERR("99999999999999999999999999999x", 0, ULONG_MAX, EINVAL);
}

static void
t_size(void)
{
	SIZE_OK("0", 0, SIZE_MAX, 0);
	SIZE_OK("512", 0, SIZE_MAX, 512);
	SIZE_OK("1k", 0, SIZE_MAX, 1024);
	SIZE_OK("1K", 0, SIZE_MAX, 1024);
	SIZE_OK("64k", 0, SIZE_MAX, 65536);
	SIZE_OK("4m", 0, SIZE_MAX, 4194304);
	SIZE_OK("4M", 0, SIZE_MAX, 4194304);
	SIZE_OK("0k", 0, SIZE_MAX, 0);
	SIZE_OK("1024m", 0, SIZE_MAX, (size_t)1 << 30);
	/* The range applies after the suffix. */
	SIZE_OK("64k", 65536, 1 << 30, 65536);
	SIZE_ERR("63k", 65536, 1 << 30, ERANGE);
	SIZE_ERR("65535", 65536, 1 << 30, ERANGE);
	SIZE_OK("1m", 0, 1024 * 1024, 1024 * 1024);
	SIZE_ERR("1m", 0, 1023 * 1024, ERANGE);
	SIZE_ERR("1025m", 0, (size_t)1 << 30, ERANGE);
}

static void
t_size_suffix_junk(void)
{
	SIZE_ERR("", 0, SIZE_MAX, EINVAL);
	SIZE_ERR(NULL, 0, SIZE_MAX, EINVAL);
	SIZE_ERR("k", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("m", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1g", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1G", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1kb", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1kk", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1 k", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1k ", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("-1", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("-1k", 0, SIZE_MAX, EINVAL);
	SIZE_ERR(" 1k", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("1.5m", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("0x10", 0, SIZE_MAX, EINVAL);
}

static void
t_size_overflow(void)
{
	char	s[64];

	/* The largest count that still fits once multiplied, and one more. */
	snprintf(s, sizeof(s), "%zuk", SIZE_MAX / 1024);
	SIZE_OK(s, 0, SIZE_MAX, SIZE_MAX / 1024 * 1024);
	snprintf(s, sizeof(s), "%zuk", SIZE_MAX / 1024 + 1);
	SIZE_ERR(s, 0, SIZE_MAX, ERANGE);
	snprintf(s, sizeof(s), "%zum", SIZE_MAX / (1024 * 1024));
	SIZE_OK(s, 0, SIZE_MAX, SIZE_MAX / (1024 * 1024) * (1024 * 1024));
	snprintf(s, sizeof(s), "%zum", SIZE_MAX / (1024 * 1024) + 1);
	SIZE_ERR(s, 0, SIZE_MAX, ERANGE);
	snprintf(s, sizeof(s), "%zu", SIZE_MAX);
	SIZE_OK(s, 0, SIZE_MAX, SIZE_MAX);
	SIZE_ERR("99999999999999999999999999999", 0, SIZE_MAX, ERANGE);
	SIZE_ERR("99999999999999999999999999999k", 0, SIZE_MAX, ERANGE);
	SIZE_ERR("99999999999999999999999999999x", 0, SIZE_MAX, EINVAL);
	SIZE_ERR("99999999999999999999999999999kk", 0, SIZE_MAX, EINVAL);
}

static void
t_port(void)
{
	port_ok("0", 0);
	port_ok("1", 1);
	port_ok("80", 80);
	port_ok("8080", 8080);
	port_ok("65535", 65535);
	port_ok("08080", 8080);
	port_err("65536", ERANGE);
	port_err("100000", ERANGE);
	port_err("99999999999999999999999", ERANGE);
	port_err("", EINVAL);
	port_err(NULL, EINVAL);
	port_err("-1", EINVAL);
	port_err("http", EINVAL);
	port_err("8080x", EINVAL);
	port_err(" 80", EINVAL);
	port_err("1k", EINVAL);
}

int
main(void)
{
	unit_init();
	unit_run("util: parse_uint accepts decimal numbers", t_uint);
	unit_run("util: parse_uint enforces [min, max] with ERANGE",
	    t_uint_range);
	unit_run("util: parse_uint refuses junk, blanks, signs with EINVAL",
	    t_uint_junk);
	unit_run("util: parse_uint overflow is ERANGE", t_uint_overflow);
	unit_run("util: parse_size k and m suffixes and range", t_size);
	unit_run("util: parse_size refuses junk and unknown suffixes",
	    t_size_suffix_junk);
	unit_run("util: parse_size overflow is ERANGE", t_size_overflow);
	unit_run("util: parse_port", t_port);
	return unit_done();
}
