/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_limit.c -- the address table and the byte budget (limit.c), and
 * the prefixes addresses are counted by (net.c).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "net.h"
#include "unit.h"

#define RACE_THREADS	8
#define RACE_ROUNDS	20000
#define RACE_LIMIT	3

static void	t_limit_and_release(void);
static void	t_distinct_keys(void);
static void	t_churn(void);
static void	t_race(void);
static void	t_budget(void);
static void	t_prefix(void);

/* A table for max clients, zeroed, with a fixed seed. */
static struct limit_table
table(unsigned max)
{
	struct limit_table	t;

	t.lt_n = limit_table_slots(max);
	t.lt_seed = 0x5eed;
	t.lt_tab = calloc(t.lt_n, sizeof(*t.lt_tab));
	return t;
}

/* The key of IPv4 address n, as net_addr_prefix makes it. */
static void
key4(unsigned char *key, uint32_t n)
{
	memset(key, 0, LIMIT_KEY_LEN);
	key[10] = key[11] = 0xff;
	memcpy(key + 12, &n, sizeof(n));
}

static void
t_limit_and_release(void)
{
	struct limit_table	t = table(16);
	unsigned char		k[LIMIT_KEY_LEN];
	unsigned		ref[3], extra;

	key4(k, 1);
	CHECK_INT(limit_addr_take(&t, k, 3, &ref[0]), 0);
	CHECK_INT(limit_addr_take(&t, k, 3, &ref[1]), 0);
	CHECK_INT(limit_addr_take(&t, k, 3, &ref[2]), 0);
	CHECK_UINT(limit_addr_count(&t, k), 3);
	errno = 0;
	CHECK_INT(limit_addr_take(&t, k, 3, &extra), -1);
	CHECK_INT(errno, EDQUOT);
	/* A refusal takes nothing. */
	CHECK_UINT(limit_addr_count(&t, k), 3);
	limit_addr_release(&t, ref[1]);
	CHECK_UINT(limit_addr_count(&t, k), 2);
	CHECK_INT(limit_addr_take(&t, k, 3, &ref[1]), 0);
	CHECK_UINT(limit_addr_count(&t, k), 3);
	free(t.lt_tab);
}

/* As many addresses as clients, each with its own count. */
static void
t_distinct_keys(void)
{
	struct limit_table	t = table(1000);
	unsigned char		k[LIMIT_KEY_LEN];
	unsigned		ref, i, bad = 0;

	for (i = 0; i < 1000; i++) {
		key4(k, i);
		if (limit_addr_take(&t, k, 1, &ref) == -1)
			bad++;
	}
	CHECK_UINT(bad, 0);
	for (i = 0; i < 1000; i++) {
		key4(k, i);
		if (limit_addr_count(&t, k) != 1)
			bad++;
	}
	CHECK_UINT(bad, 0);
	free(t.lt_tab);
}

/* Far more addresses over time than entries: freed ones are reused. */
static void
t_churn(void)
{
	struct limit_table	t = table(8);
	unsigned char		k[LIMIT_KEY_LEN];
	unsigned		ref[8], i, j, bad = 0;

	for (i = 0; i < 10000; i++) {
		for (j = 0; j < 8; j++) {
			key4(k, i * 8 + j);
			if (limit_addr_take(&t, k, 1, &ref[j]) == -1)
				bad++;
		}
		for (j = 0; j < 8; j++)
			limit_addr_release(&t, ref[j]);
	}
	CHECK_UINT(bad, 0);
	free(t.lt_tab);
}

/*
 * Threads admit clients of one address as fast as they can; each
 * counts itself in "inside" while it holds a place.  However they race,
 * never more than the limit are inside at once.
 */
static struct limit_table	race_table;
static atomic_uint		race_inside, race_max, race_admitted;

static void *
race_thread(void *arg)
{
	unsigned char	k[LIMIT_KEY_LEN];
	unsigned	ref, now, max;
	int		i;

	(void)arg;
	key4(k, 42);
	for (i = 0; i < RACE_ROUNDS; i++) {
		if (limit_addr_take(&race_table, k, RACE_LIMIT, &ref) == -1)
			continue;
		now = atomic_fetch_add(&race_inside, 1) + 1;
		max = atomic_load(&race_max);
		while (now > max &&
		    !atomic_compare_exchange_weak(&race_max, &max, now))
			;
		atomic_fetch_add(&race_admitted, 1);
		atomic_fetch_sub(&race_inside, 1);
		limit_addr_release(&race_table, ref);
	}
	return NULL;
}

static void
t_race(void)
{
	pthread_t		th[RACE_THREADS];
	unsigned char		k[LIMIT_KEY_LEN];
	int			i;

	race_table = table(RACE_THREADS);
	for (i = 0; i < RACE_THREADS; i++)
		if (!CHECK_INT(pthread_create(&th[i], NULL, race_thread,
		    NULL), 0))
			return;
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK(atomic_load(&race_max) <= RACE_LIMIT);
	CHECK(atomic_load(&race_admitted) > 0);
	key4(k, 42);
	CHECK_UINT(limit_addr_count(&race_table, k), 0);
	free(race_table.lt_tab);
}

static void
t_budget(void)
{
	_Atomic int64_t	tat = 0;
	int64_t		now = 1000000;
	int		i, ok = 0;

	/* 1000 bytes a second, bursts of 4000: four 1000-byte lines. */
	for (i = 0; i < 10; i++)
		if (limit_budget_take(&tat, now, 1000, 1000, 4000) == 0)
			ok++;
	CHECK_INT(ok, 4);
	/* Half a second later: nothing yet; one second: one more. */
	CHECK_INT(limit_budget_take(&tat, now + 500000, 1000, 1000, 4000),
	    -1);
	CHECK_INT(limit_budget_take(&tat, now + 1000000, 1000, 1000, 4000),
	    0);
	CHECK_INT(limit_budget_take(&tat, now + 1000000, 1000, 1000, 4000),
	    -1);
	/* Long idle: the burst again, not more. */
	ok = 0;
	for (i = 0; i < 10; i++)
		if (limit_budget_take(&tat, now + 60000000, 1000, 1000,
		    4000) == 0)
			ok++;
	CHECK_INT(ok, 4);
	/* More than the burst at once never fits. */
	CHECK_INT(limit_budget_take(&tat, now + 120000000, 5000, 1000, 4000),
	    -1);
}

/* The prefix of a numeric address and port 1. */
static void
prefix_of(const char *ip, unsigned char *p)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		net_addr_prefix((struct sockaddr *)&sin, p);
	} else {
		sin6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &sin6.sin6_addr);
		net_addr_prefix((struct sockaddr *)&sin6, p);
	}
}

static void
t_prefix(void)
{
	unsigned char	a[NET_PREFIX_LEN], b[NET_PREFIX_LEN];

	prefix_of("192.0.2.7", a);
	prefix_of("::ffff:192.0.2.7", b);
	CHECK_MEM(a, sizeof(a), b, sizeof(b));
	prefix_of("192.0.2.8", b);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	prefix_of("2001:db8:1:2:aaaa::1", a);
	prefix_of("2001:db8:1:2:bbbb::2", b);
	CHECK_MEM(a, sizeof(a), b, sizeof(b));
	prefix_of("2001:db8:1:3::1", b);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	/* ::/64 and an IPv4 address never meet. */
	prefix_of("::1", a);
	prefix_of("0.0.0.1", b);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

int
main(void)
{
	unit_init();
	unit_run("limit: an address is refused over its limit, and a "
	    "release makes room", t_limit_and_release);
	unit_run("limit: 1000 addresses in a table for 1000 clients",
	    t_distinct_keys);
	unit_run("limit: 80000 addresses come and go through 8 places",
	    t_churn);
	unit_run("limit: 8 threads racing for one address never pass it",
	    t_race);
	unit_run("limit: the budget gives its burst, then its rate",
	    t_budget);
	unit_run("net: prefixes: IPv4 whole, mapped as IPv4, IPv6 by /64",
	    t_prefix);
	return unit_done();
}
