/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_rrl.c -- the UDP reply rate limit (server/rrl.c): counted with a
 * clock the test sets, so every figure is exact.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "../../server/rrl.h"
#include "unit.h"

static struct rrl	r;

static void	t_burst_then_rate(void);
static void	t_networks(void);
static void	t_independent(void);
static void	t_report(void);
static void	t_clock_wrap(void);

/* An address as a sockaddr, v4 or v6 by its text. */
static const struct sockaddr *
sa(const char *text)
{
	static struct sockaddr_storage	ss;
	struct sockaddr_in		*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6		*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return (const struct sockaddr *)&ss;
}

/* How many of n datagrams from text at time now are answered. */
static int
answered(const char *text, int n, int64_t now)
{
	int	i, ok = 0;

	for (i = 0; i < n; i++)
		ok += rrl_allow(&r, sa(text), now);
	return ok;
}

static void
t_burst_then_rate(void)
{
	rrl_init(&r, 1);
	CHECK_INT(answered("192.0.2.1", 100, 5000), RRL_BURST);
	CHECK_INT(answered("192.0.2.1", 1, 5000 + 1000 / RRL_RATE - 1), 0);
	CHECK_INT(answered("192.0.2.1", 5, 5000 + 1000 / RRL_RATE), 1);
	/* A second later: RRL_RATE more, not a new burst. */
	CHECK_INT(answered("192.0.2.1", 100, 6000 + 1000 / RRL_RATE),
	    RRL_RATE);
	/* Quiet for long enough: the whole burst again. */
	CHECK_INT(answered("192.0.2.1", 100, 60000), RRL_BURST);
}

static void
t_networks(void)
{
	char	buf[64];

	rrl_init(&r, 2);
	CHECK_INT(answered("127.0.0.1", 100, 1000), RRL_BURST);
	CHECK_INT(answered("::ffff:127.0.0.1", 1, 1000), 0);
	CHECK_INT(answered("2001:db8:0:1::1", 100, 1000), RRL_BURST);
	CHECK_INT(answered("2001:db8:0:1:ffff:1:2:3", 1, 1000), 0);
	CHECK_INT(rrl_prefix_format(sa("2001:db8:0:1:ffff:1:2:3"), buf,
	    sizeof(buf)), 0);
	CHECK_STR(buf, "2001:db8:0:1::/64");
	CHECK_INT(rrl_prefix_format(sa("::ffff:10.1.2.3"), buf,
	    sizeof(buf)), 0);
	CHECK_STR(buf, "10.1.2.3/32");
}

static void
t_independent(void)
{
	rrl_init(&r, 3);
	CHECK_INT(answered("192.0.2.1", 100, 1000), RRL_BURST);
	CHECK_INT(answered("192.0.2.2", 100, 1000), RRL_BURST);
	CHECK_INT(answered("2001:db8:0:2::1", 100, 1000), RRL_BURST);
	CHECK_INT(answered("::1", 100, 1000), RRL_BURST);
}

static void
t_report(void)
{
	uint64_t	count = 0;

	rrl_init(&r, 4);
	CHECK_INT(rrl_report(&r, 1000, &count), 0);	/* nothing held back */
	CHECK_INT(answered("192.0.2.9", RRL_BURST + 1, 1000), RRL_BURST);
	CHECK_INT(rrl_report(&r, 1000, &count), 1);
	CHECK_UINT(count, 1);
	CHECK_INT(answered("192.0.2.9", 50, 1001), 0);
	CHECK_INT(rrl_report(&r, 1001, &count), 0);
	CHECK_INT(rrl_report(&r, 1000 + RRL_LOG_MS - 1, &count), 0);
	CHECK_INT(rrl_report(&r, 1000 + RRL_LOG_MS, &count), 1);
	CHECK_UINT(count, 50);
}

/* The bucket's clock is kept modulo 2^40 ms. */
static void
t_clock_wrap(void)
{
	int64_t	wrap = (int64_t)1 << 40;

	rrl_init(&r, 5);
	CHECK_INT(answered("192.0.2.7", 100, wrap - 50), RRL_BURST);
	CHECK_INT(answered("192.0.2.7", 100, wrap + 49), 0);
	CHECK_INT(answered("192.0.2.7", 100, wrap + 50), 1);
	/* Empty at exactly time 0 is still empty. */
	rrl_init(&r, 6);
	CHECK_INT(answered("192.0.2.8", 100, 0), RRL_BURST);
	CHECK_INT(answered("192.0.2.8", 1, 0), 0);
}

int
main(void)
{
	unit_init();
	unit_run("rrl: a burst, then the rate", t_burst_then_rate);
	unit_run("rrl: one bucket per IPv4 address and IPv6 /64",
	    t_networks);
	unit_run("rrl: other networks keep their own buckets", t_independent);
	unit_run("rrl: suppression reported once per interval", t_report);
	unit_run("rrl: the clock wraps at 2^40 ms", t_clock_wrap);
	return unit_done();
}
