/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * unit.h -- the harness shared by the C unit tests in tests/unit/.
 *
 * A test file is a list of cases, each a static void function, run by
 * unit_run().  A case prints exactly one line, "ok - NAME" or
 * "not ok - NAME"; every failed check before it prints a diagnostic
 * line that starts with "# ".  main() returns unit_done(): 1 if any
 * case failed, 0 otherwise.  tests/run counts the lines.
 *
 * The checks are expressions that yield 1 if they passed, so a case
 * can stop early and still clean up:
 *
 *	if (!CHECK_INT(fd = open(path, O_RDONLY), 3))
 *		goto out;
 *
 * The code lives here, as static inline functions; only the state of
 * the run is in unit.c, so that a test built from several files (a
 * helper file and the cases) counts every check in one place.  The
 * Makefile links unit.o into every test.
 */
#ifndef UNIT_H
#define UNIT_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__GNUC__)
#define UNIT_PRINTF(f, a)	__attribute__((__format__(__printf__, f, a)))
#else
#define UNIT_PRINTF(f, a)
#endif

/* How much of a byte string a diagnostic shows. */
#define UNIT_SHOW_MAX	120

struct unit_state {
	int	us_case_failed;		/* a check failed in this case */
	int	us_failed;		/* cases that failed */
	int	us_cases;
};

/* The one state of the run (unit.c). */
struct unit_state	*unit_state(void);

/* Print one diagnostic line and mark the current case failed. */
static inline void UNIT_PRINTF(3, 4)
unit_diag(const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	unit_state()->us_case_failed = 1;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Print p[0 .. n) with anything unprintable as \xNN, bounded. */
static inline void
unit_show(const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	putchar('"');
	for (i = 0; i < n && i < UNIT_SHOW_MAX; i++) {
		if (s[i] == '"' || s[i] == '\\')
			printf("\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			putchar(s[i]);
		else
			printf("\\x%02x", s[i]);
	}
	putchar('"');
	if (n > UNIT_SHOW_MAX)
		printf("... (%zu bytes)", n);
}

static inline int
unit_check(int ok, const char *file, int line, const char *what)
{
	if (!ok)
		unit_diag(file, line, "failed: %s", what);
	return ok;
}

static inline int
unit_check_int(long long got, long long want, const char *what,
    const char *file, int line)
{
	if (got == want)
		return 1;
	unit_diag(file, line, "%s: got %lld, want %lld", what, got, want);
	return 0;
}

static inline int
unit_check_uint(unsigned long long got, unsigned long long want,
    const char *what, const char *file, int line)
{
	if (got == want)
		return 1;
	unit_diag(file, line, "%s: got %llu, want %llu", what, got, want);
	return 0;
}

static inline int
unit_check_mem(const void *got, size_t gotlen, const void *want,
    size_t wantlen, const char *what, const char *file, int line)
{
	if (gotlen == wantlen && (gotlen == 0 ||
	    memcmp(got, want, gotlen) == 0))
		return 1;
	unit_diag(file, line, "%s differs", what);
	printf("#   got  (%zu): ", gotlen);
	unit_show(got, gotlen);
	printf("\n#   want (%zu): ", wantlen);
	unit_show(want, wantlen);
	printf("\n");
	fflush(stdout);
	return 0;
}

static inline int
unit_check_str(const char *got, const char *want, const char *what,
    const char *file, int line)
{
	if (got == NULL)
		got = "(null)";
	return unit_check_mem(got, strlen(got), want, strlen(want), what,
	    file, line);
}

#define CHECK(c) \
	unit_check(!!(c), __FILE__, __LINE__, #c)
#define CHECK_INT(got, want) \
	unit_check_int((long long)(got), (long long)(want), \
	    #got " == " #want, __FILE__, __LINE__)
#define CHECK_UINT(got, want) \
	unit_check_uint((unsigned long long)(got), \
	    (unsigned long long)(want), #got " == " #want, __FILE__, __LINE__)
#define CHECK_MEM(got, gotlen, want, wantlen) \
	unit_check_mem((got), (gotlen), (want), (wantlen), #got, \
	    __FILE__, __LINE__)
#define CHECK_STR(got, want) \
	unit_check_str((got), (want), #got, __FILE__, __LINE__)
/* A failure that is not a comparison. */
#define FAIL(...) \
	unit_diag(__FILE__, __LINE__, __VA_ARGS__)

/* Line-buffer stdout, so output from forked children is not doubled. */
static inline void
unit_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Run one case and print its line. */
static inline void
unit_run(const char *name, void (*fn)(void))
{
	struct unit_state	*us = unit_state();

	us->us_case_failed = 0;
	fn();
	us->us_cases++;
	if (us->us_case_failed) {
		us->us_failed++;
		printf("not ok - %s\n", name);
	} else
		printf("ok - %s\n", name);
	fflush(stdout);
}

/* 1 if the current case has failed so far (for a forked child's exit). */
static inline int
unit_case_failed(void)
{
	return unit_state()->us_case_failed;
}

/* fork(2) with nothing left in the stdio buffers to be written twice. */
static inline pid_t
unit_fork(void)
{
	fflush(NULL);
	return fork();
}

static inline int
unit_done(void)
{
	return unit_state()->us_failed > 0 ? 1 : 0;
}

#endif
