/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * version.h -- the one place the version is written; every program's
 * -V and --version, and make dist, read it from here.
 */
#ifndef VERSION_H
#define VERSION_H

#define VERSION		"0.2"

#endif
