/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_nick.c -- nickname validation, san_nick_valid (common/sanitize.c).
 *
 * Property: it accepts exactly what the rule in SPEC.md accepts, 1 to
 * PROTO_NICK_MAX bytes of A-Z a-z 0-9 _ -, the first a letter, checked
 * here by a reference written from that sentence.  The input is a C
 * string: the bytes up to the first NUL.
 */
#include <string.h>

#include "fuzz.h"
#include "proto.h"
#include "sanitize.h"

static int
reference(const char *s)
{
	static const char	letters[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t			len = strlen(s);

	if (len < 1 || len > PROTO_NICK_MAX)
		return 0;
	if (strchr(letters, s[0]) == NULL)
		return 0;
	/* strspn over the allowed set: the whole string, nothing else. */
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	FUZZ_CHECK(!san_nick_valid(s) == !reference(s),
	    "san_nick_valid disagrees with the rule");
	free(s);
	return 0;
}
