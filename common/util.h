/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * util.h -- parsing of option values, and the clock.  Nothing here
 * prints; every parser returns 0 on success and -1 with errno set
 * (EINVAL for malformed text, ERANGE for a value outside [min, max]).
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A decimal number in [min, max]. */
int	parse_uint(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out);
/* A byte count with an optional k or m suffix (powers of 1024). */
int	parse_size(const char *s, size_t min, size_t max, size_t *out);
/* A port 0-65535. */
int	parse_port(const char *s, int *out);

/*
 * Milliseconds of CLOCK_MONOTONIC: the same clock in every process of
 * the machine, so one process may compare another's time stamps.
 */
int64_t	now_ms(void);
/* A 64-bit hash of x whose every bit depends on every bit of x. */
uint64_t mix64(uint64_t x);

#endif
