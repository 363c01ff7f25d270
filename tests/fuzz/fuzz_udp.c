/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_udp.c -- the UDP service's reply (server/udp.c, udp_answer).
 *
 * Property: given a datagram and the time it came, the reply is
 * exactly nothing for an empty datagram, the too-long error for one
 * over PROTO_UDP_MAX bytes, and otherwise "Message received at " with
 * ctime(3) of that time, its newline cut; never more than the buffer.
 *
 * Input: 5 bytes of time (years 1970 to 9999, where ctime is defined),
 * then the datagram.
 */
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "proto.h"
#include "udp.h"

#define YEAR_10000	253402300800LL	/* 10000-01-01, UTC */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		out[128], want[128], stamp[64];
	uint64_t	t = 0;
	time_t		now;
	size_t		n, len, i;

	if (size < 5)
		return 0;
	for (i = 0; i < 5; i++)
		t = t << 8 | data[i];
	/* A day short of the end, so no time zone reaches year 10000. */
	now = (time_t)(t % (uint64_t)(YEAR_10000 - 86400));
	n = size - 5;

	memset(out, 0x55, sizeof(out));
	len = udp_answer(n, now, out, sizeof(out));
	if (n == 0) {
		FUZZ_CHECK(len == 0, "an empty datagram was answered");
		return 0;
	}
	if (n > PROTO_UDP_MAX) {
		FUZZ_CHECK(len == strlen(PROTO_UDP_TOO_LONG) &&
		    memcmp(out, PROTO_UDP_TOO_LONG, len) == 0,
		    "not the too-long error");
		return 0;
	}
	FUZZ_CHECK(ctime_r(&now, stamp) != NULL, "ctime_r");
	stamp[strcspn(stamp, "\n")] = '\0';
	snprintf(want, sizeof(want), "Message received at %s", stamp);
	FUZZ_CHECK(len == strlen(want) && memcmp(out, want, len) == 0,
	    "not the timestamp line");
	FUZZ_CHECK(len < sizeof(out) && out[len] == '\0',
	    "reply not terminated within the buffer");

	/* A buffer too small for the reply gets nothing, not a piece. */
	FUZZ_CHECK(udp_answer(n, now, out, len) == 0, "truncated reply");
	return 0;
}
