/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz.h -- shared by the libFuzzer targets in tests/fuzz/.
 *
 * A target asserts properties of what the code under test returns, not
 * only that it does not crash: FUZZ_CHECK prints the failed property
 * and aborts, which libFuzzer reports as a crash and saves the input.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, what) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz: property failed: %s (%s:%d)\n",	\
		    (what), __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
