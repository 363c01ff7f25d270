/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * unit.c -- the state of a unit test run, one for all the files a test
 * is built from (unit.h has the rest of the harness).
 */
#include "unit.h"

struct unit_state *
unit_state(void)
{
	static struct unit_state	us;

	return &us;
}
