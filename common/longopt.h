/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * longopt.h -- the two long options every program takes, --help and
 * --version, found before getopt(3) sees the arguments.
 */
#ifndef LONGOPT_H
#define LONGOPT_H

/*
 * 'h' if --help comes before any "--", else 'V' if --version does,
 * else 0.  The caller prints; argv is not changed.
 */
int	longopt_find(int argc, char *const argv[]);

#endif
