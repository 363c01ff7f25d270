/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * longopt.c -- --help and --version, as users of GNU programs expect,
 * beside getopt's -h and -V.
 */
#include <string.h>

#include "longopt.h"

int
longopt_find(int argc, char *const argv[])
{
	int	i, found = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return 'h';
		if (strcmp(argv[i], "--version") == 0)
			found = 'V';
	}
	return found;
}
