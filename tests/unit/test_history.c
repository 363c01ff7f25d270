/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_history.c -- the ring of broadcast lines behind /history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "unit.h"

static void	t_empty(void);
static void	t_order(void);
static void	t_wrap(void);
static void	t_lf_and_empty(void);
static void	t_long(void);
static void	t_bounds(void);

static struct history	h;

/* Line i of the last n is want. */
#define LINE_IS(n, i, want) \
	line_is((n), (i), (want), __LINE__)

static int
line_is(size_t n, size_t i, const char *want, int line)
{
	const char	*p;
	size_t		 len = 0;

	if ((p = history_line(&h, n, i, &len)) == NULL) {
		FAIL("line %zu of %zu is missing (line %d)", i, n, line);
		return 0;
	}
	if (!CHECK_MEM(p, len, want, strlen(want))) {
		FAIL("line %zu of %zu (line %d)", i, n, line);
		return 0;
	}
	return 1;
}

static void
t_empty(void)
{
	size_t	len;

	history_init(&h);
	CHECK_UINT(history_count(&h), 0);
	CHECK(history_line(&h, 0, 0, &len) == NULL);
	CHECK(history_line(&h, 1, 0, &len) == NULL);
}

static void
t_order(void)
{
	history_init(&h);
	history_add(&h, "one\n", 4);
	history_add(&h, "two\n", 4);
	history_add(&h, "three\n", 6);
	CHECK_UINT(history_count(&h), 3);
	/* The last n, oldest first. */
	LINE_IS(3, 0, "one");
	LINE_IS(3, 1, "two");
	LINE_IS(3, 2, "three");
	LINE_IS(2, 0, "two");
	LINE_IS(2, 1, "three");
	LINE_IS(1, 0, "three");
}

static void
t_wrap(void)
{
	char	buf[32], want[32];
	size_t	i;
	int	n;

	history_init(&h);
	for (i = 0; i < 3 * HISTORY_MAX + 7; i++) {
		n = snprintf(buf, sizeof(buf), "line %zu\n", i);
		history_add(&h, buf, (size_t)n);
	}
	CHECK_UINT(history_count(&h), HISTORY_MAX);
	for (i = 0; i < HISTORY_MAX; i++) {
		snprintf(want, sizeof(want), "line %zu",
		    2 * HISTORY_MAX + 7 + i);
		if (!LINE_IS(HISTORY_MAX, i, want))
			break;
	}
	LINE_IS(1, 0, "line 306");
	LINE_IS(20, 0, "line 287");
}

static void
t_lf_and_empty(void)
{
	history_init(&h);
	history_add(&h, "\n", 1);
	history_add(&h, "", 0);
	CHECK_UINT(history_count(&h), 0);
	history_add(&h, "no lf", 5);
	history_add(&h, "two\n\n", 5);	/* only one LF goes */
	CHECK_UINT(history_count(&h), 2);
	LINE_IS(2, 0, "no lf");
	LINE_IS(2, 1, "two\n");
}

static void
t_long(void)
{
	char		*big;
	const char	*p;
	size_t		 len = 0;

	if ((big = malloc(HISTORY_LINE_MAX + 10)) == NULL)
		abort();
	memset(big, 'x', HISTORY_LINE_MAX + 10);
	history_init(&h);
	history_add(&h, big, HISTORY_LINE_MAX + 10);
	p = history_line(&h, 1, 0, &len);
	CHECK(p != NULL);
	CHECK_UINT(len, HISTORY_LINE_MAX);
	free(big);
}

static void
t_bounds(void)
{
	size_t	len;

	history_init(&h);
	history_add(&h, "a", 1);
	history_add(&h, "b", 1);
	CHECK(history_line(&h, 3, 0, &len) == NULL);	/* more than held */
	CHECK(history_line(&h, 2, 2, &len) == NULL);	/* i past n */
	CHECK(history_line(&h, 0, 0, &len) == NULL);
}

int
main(void)
{
	unit_init();
	unit_run("history: empty", t_empty);
	unit_run("history: the last n lines, oldest first", t_order);
	unit_run("history: keeps the newest HISTORY_MAX lines", t_wrap);
	unit_run("history: one LF is dropped, empty lines are not kept",
	    t_lf_and_empty);
	unit_run("history: a line longer than the bound is cut", t_long);
	unit_run("history: out of range gives NULL", t_bounds);
	return unit_done();
}
