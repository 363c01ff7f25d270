/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * fuzz_rrl.c -- the UDP reply rate limit (server/rrl.c).
 *
 * The input is a sequence of datagrams: each picks a source among a
 * few IPv4, IPv4-mapped IPv6 and IPv6 addresses (some in one /64) and
 * how long after the previous one it came.  Properties:
 *  - per source network (an IPv4 address, an IPv6 /64; a mapped IPv4
 *    address is that IPv4 address), the replies allowed in any span of
 *    time T never exceed RRL_BURST + RRL_RATE * T: checked over every
 *    pair of allowed replies;
 *  - after RRL_BURST / RRL_RATE seconds with no datagram at all, the
 *    next one is answered (the limit does not stick);
 *  - rrl_report reports at most once per RRL_LOG_MS and the counts it
 *    reports add up to the number suppressed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "fuzz.h"
#include "rrl.h"

#define SOURCES		12
#define EVENTS_MAX	1024
#define REFILL_MS	((int64_t)RRL_BURST * 1000 / RRL_RATE)

static struct sockaddr_storage	src[SOURCES];
static int			group[SOURCES];	/* its network */

static void
set_v4(int i, uint32_t a, int g)
{
	struct sockaddr_in	*s = (struct sockaddr_in *)&src[i];

	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(a);
	s->sin_port = htons((uint16_t)(1000 + i));
	group[i] = g;
}

static void
set_v6(int i, const char *bytes16, int g)
{
	struct sockaddr_in6	*s = (struct sockaddr_in6 *)&src[i];

	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, bytes16, 16);
	s->sin6_port = htons((uint16_t)(2000 + i));
	group[i] = g;
}

static void
sources(void)
{
	set_v4(0, 0xc0000201, 0);		/* 192.0.2.1 */
	set_v4(1, 0xc0000202, 1);		/* 192.0.2.2 */
	set_v6(2, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\0\2\1", 0); /* mapped .1 */
	set_v4(3, 0x7f000001, 2);		/* 127.0.0.1 */
	set_v6(4, "\x20\x01\x0d\xb8\0\0\0\1" "\0\0\0\0\0\0\0\1", 3);
	set_v6(5, "\x20\x01\x0d\xb8\0\0\0\1" "\xff\0\0\0\0\0\0\2", 3);
	set_v6(6, "\x20\x01\x0d\xb8\0\0\0\2" "\0\0\0\0\0\0\0\1", 4);
	set_v6(7, "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\1", 5);	/* ::1 */
	set_v4(8, 0x0a000001, 6);
	set_v4(9, 0x0a000002, 7);
	set_v6(10, "\xfe\x80\0\0\0\0\0\0" "\0\0\0\0\0\0\0\1", 8);
	set_v6(11, "\xfe\x80\0\0\0\0\0\0" "\1\2\3\4\5\6\7\x8", 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rrl	r;
	static int64_t		allowed_at[SOURCES][EVENTS_MAX];
	size_t			nallowed[SOURCES] = { 0 };
	int64_t			now, last = 0, last_report = 0;
	uint64_t		key = 0, suppressed = 0, reported = 0, c;
	size_t			i, e, a, b;
	int			s, g, ok, any = 0, reports = 0;

	if (size < 14)
		return 0;
	sources();
	memcpy(&key, data, 8);
	/* Start anywhere, the 2^40 ms wrap of the stamps included. */
	now = 0;
	for (i = 8; i < 14; i++)
		now = now << 8 | data[i];
	now &= ((int64_t)1 << 42) - 1;
	rrl_init(&r, key);

	for (i = 14, e = 0; i + 1 < size && e < EVENTS_MAX; i += 2, e++) {
		s = data[i] % SOURCES;
		g = group[s];
		/* Mostly a few ms apart, sometimes a long pause. */
		if (data[i + 1] >= 250)
			now += (int64_t)(data[i + 1] - 249) * 1000;
		else
			now += data[i + 1] % 64;
		ok = rrl_allow(&r, (struct sockaddr *)&src[s], now);
		if (any && now - last >= REFILL_MS)
			FUZZ_CHECK(ok, "refused after a quiet spell");
		any = 1;
		last = now;
		if (!ok) {
			suppressed++;
			if (rrl_report(&r, now, &c)) {
				FUZZ_CHECK(reports == 0 ||
				    now - last_report >= RRL_LOG_MS,
				    "reported twice in one interval");
				reports++;
				last_report = now;
				reported += c;
			}
			continue;
		}
		/* Allowed: check every span that ends here, for its network. */
		allowed_at[g][nallowed[g]++] = now;
		for (a = 0; a + 1 < nallowed[g]; a++) {
			b = nallowed[g] - 1;
			FUZZ_CHECK(((int64_t)(b - a + 1) - RRL_BURST) * 1000 <=
			    RRL_RATE * (allowed_at[g][b] - allowed_at[g][a]),
			    "more replies than the rate and burst allow");
		}
	}
	if (rrl_report(&r, now + RRL_LOG_MS, &c))
		reported += c;
	FUZZ_CHECK(reported == suppressed, "reports do not add up");
	return 0;
}
