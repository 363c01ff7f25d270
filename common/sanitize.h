/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * sanitize.h -- make peer-supplied text safe to show on a terminal.
 * Pure functions: no I/O, no allocation.
 */
#ifndef SANITIZE_H
#define SANITIZE_H

#include <stddef.h>

/*
 * Clean src[0 .. n) into dst, which must hold at least n bytes; return
 * the length written (never more than n; dst is not NUL-terminated).
 * An escape sequence (ESC and the parameters that follow it: CSI, OSC
 * and the other string commands, two- and three-byte escapes) is removed
 * whole; a tab becomes a space; every other C0 control byte and DEL is
 * removed, as are the C1 controls U+0080-U+009F, which some terminals
 * obey like escapes; each byte that is not part of valid UTF-8 becomes
 * '?'.  With SAN_TRIM, leading and trailing spaces are stripped too.
 */
#define SAN_TRIM	0x1
/*
 * SAN_DISPLAY: also neutralise what would reorder or hide text on a
 * terminal: the bidirectional controls (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069) and the invisible format characters
 * (U+180E, U+200B-U+200D, U+2028, U+2029, U+2060-U+2065, U+206A-U+206F,
 * U+FEFF, U+FFF9-U+FFFB, the tags U+E0000-U+E007F).  They are removed,
 * like escape sequences.  For a client showing lines to a person.
 */
#define SAN_DISPLAY	0x2
size_t	san_text(char *dst, const void *src, size_t n, int flags);

/* 1 if s is a valid nickname: 1-16 of A-Z a-z 0-9 _ -, first a letter. */
int	san_nick_valid(const char *s);

/*
 * Length of the valid UTF-8 sequence at s[0 .. n), 0 if the byte at s
 * does not start one.  Overlong forms, surrogates and code points above
 * U+10FFFF are invalid.
 */
size_t	san_utf8_len(const unsigned char *s, size_t n);

#endif
