/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub_registry.c -- the registry of clients: adding up to the limit,
 * nicknames unique ignoring case, walking it in slot order (whole, or
 * a part at a time from a slot), reaping a worker's clients.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"
#include "hub_helpers.h"
#include "unit.h"


static void	t_reg_add(void);
static void	t_reg_nick(void);
static void	t_reg_foreach(void);
static void	t_reg_reap(void);
static void	t_reg_scan(void);

static void
t_reg_add(void)
{
	struct hub	*h;
	uint64_t	 id[5], again;
	unsigned	 slot[5], s;
	int		 i, j;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	for (i = 0; i < 4; i++) {
		id[i] = hub_client_add(h, "127.0.0.1:1000", &slot[i]);
		CHECK(id[i] != 0);
		CHECK(slot[i] < 4);
		for (j = 0; j < i; j++) {
			CHECK(id[j] != id[i]);
			CHECK(slot[j] != slot[i]);
		}
	}
	CHECK_UINT(hub_total_clients(h), 4);
	errno = 0;
	s = 99;
	CHECK_UINT(hub_client_add(h, "127.0.0.1:1001", &s), 0);
	CHECK_INT(errno, ENOSPC);
	CHECK_UINT(s, 99);
	CHECK_UINT(hub_total_clients(h), 4);

	/* A freed slot is used again, with a new id. */
	hub_client_remove(h, slot[2]);
	CHECK_UINT(hub_total_clients(h), 3);
	hub_client_remove(h, slot[2]);		/* twice is harmless */
	CHECK_UINT(hub_total_clients(h), 3);
	again = hub_client_add(h, "127.0.0.1:1002", &s);
	CHECK(again != 0);
	CHECK_UINT(s, slot[2]);
	for (i = 0; i < 4; i++)
		CHECK(again != id[i]);
	CHECK_UINT(hub_total_clients(h), 4);
	CHECK_UINT(hub_client_add(h, "x", &s), 0);
	thub_close(h);

	/* A server with no room at all. */
	if ((h = thub_open(HUB_RING_MIN, 1, 0)) == NULL)
		return;
	errno = 0;
	CHECK_UINT(hub_client_add(h, "x", &s), 0);
	CHECK_INT(errno, ENOSPC);
	thub_close(h);
}

static void
t_reg_nick(void)
{
	struct hub	*h;
	char		 exact[PROTO_NICK_MAX + 1];
	uint64_t	 a, b;
	unsigned	 sa, sb;

	if ((h = thub_open(HUB_RING_MIN, 2, 8)) == NULL)
		return;
	a = hub_client_add(h, "10.0.0.1:1", &sa);
	b = hub_client_add(h, "10.0.0.2:2", &sb);
	CHECK_INT(hub_client_set_nick(h, sa, "Alice"), 0);
	errno = 0;
	CHECK_INT(hub_client_set_nick(h, sb, "alice"), -1);
	CHECK_INT(errno, EEXIST);
	errno = 0;
	CHECK_INT(hub_client_set_nick(h, sb, "ALICE"), -1);
	CHECK_INT(errno, EEXIST);
	/* Changing the case of one's own name is allowed. */
	CHECK_INT(hub_client_set_nick(h, sa, "ALICE"), 0);
	CHECK_INT(hub_client_set_nick(h, sb, "Bob"), 0);

	memset(exact, 0, sizeof(exact));
	CHECK_UINT(hub_client_find(h, "aLiCe", exact, sizeof(exact)), a);
	CHECK_STR(exact, "ALICE");
	CHECK_UINT(hub_client_find(h, "bob", exact, sizeof(exact)), b);
	CHECK_STR(exact, "Bob");
	strcpy(exact, "untouched");
	CHECK_UINT(hub_client_find(h, "carol", exact, sizeof(exact)), 0);
	CHECK_STR(exact, "untouched");
	/* An unnamed client is not called "". */
	CHECK_UINT(hub_client_add(h, "10.0.0.3:3", &sb) != 0, 1);
	CHECK_UINT(hub_client_find(h, "", exact, sizeof(exact)), 0);

	/* A name is free again once its client has gone. */
	hub_client_remove(h, sa);
	CHECK_UINT(hub_client_find(h, "alice", exact, sizeof(exact)), 0);
	CHECK_INT(hub_client_set_nick(h, sb, "alice"), 0);
	CHECK_UINT(hub_client_find(h, "ALICE", exact, sizeof(exact)),
	    hub_client_find(h, "alice", exact, sizeof(exact)));
	CHECK_STR(exact, "alice");
	thub_close(h);
}

static void
t_reg_foreach(void)
{
	struct hub	*h;
	struct collect	 co;
	unsigned	 s[3];
	uint64_t	 id[3];

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 0);
	CHECK_UINT(co.co_n, 0);

	hub_worker_start(h, 2, getpid());
	id[0] = hub_client_add(h, "192.0.2.1:40000", &s[0]);
	hub_worker_start(h, 3, getpid());
	id[1] = hub_client_add(h, "[2001:db8::1]:5555", &s[1]);
	id[2] = hub_client_add(h, "192.0.2.3:40002", &s[2]);
	hub_client_set_nick(h, s[1], "zed");
	hub_client_remove(h, s[2]);

	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 2);
	if (CHECK_UINT(co.co_n, 2)) {
		/* In slot order: the first added has the lower slot. */
		CHECK(s[0] < s[1]);
		CHECK_UINT(co.co_ci[0].ci_id, id[0]);
		CHECK_INT(co.co_ci[0].ci_worker, 2);
		CHECK_STR(co.co_ci[0].ci_nick, "");
		CHECK_STR(co.co_ci[0].ci_addr, "192.0.2.1:40000");
		CHECK_UINT(co.co_ci[1].ci_id, id[1]);
		CHECK_INT(co.co_ci[1].ci_worker, 3);
		CHECK_STR(co.co_ci[1].ci_nick, "zed");
		CHECK_STR(co.co_ci[1].ci_addr, "[2001:db8::1]:5555");
	}
	/* The removed client is not among them. */
	CHECK(co.co_ci[0].ci_id != id[2] && co.co_ci[1].ci_id != id[2]);
	thub_close(h);
}

/* hub_client_scan's fn: keep a copy; stop after co_ci[stop_at]. */
static unsigned	stop_at = 99;

static int
scan_fn(const struct hub_client_info *ci, void *arg)
{
	struct collect	*co = arg;

	if (co->co_n < 16)
		co->co_ci[co->co_n++] = *ci;
	return co->co_n == stop_at + 1;
}

static void
t_reg_scan(void)
{
	struct hub	*h;
	struct collect	 co;
	unsigned	 s[6], i;
	uint64_t	 id[6], pos = 0;

	if ((h = thub_open(HUB_RING_MIN, 2, 8)) == NULL)
		return;
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_scan(h, &pos, scan_fn, &co, 4), 0);
	CHECK(pos == HUB_SCAN_END);
	for (i = 0; i < 6; i++)
		id[i] = hub_client_add(h, "10.0.0.1:1", &s[i]);
	/* Two at a time, in slot order. */
	pos = 0;
	CHECK_UINT(hub_client_scan(h, &pos, scan_fn, &co, 2), 2);
	CHECK_UINT(co.co_n, 2);
	CHECK(pos != HUB_SCAN_END);
	/* In between: one already seen leaves, and one not yet seen. */
	hub_client_remove(h, s[0]);
	hub_client_remove(h, s[4]);
	/* fn stops the scan: the place is just past what it saw. */
	stop_at = 2;
	CHECK_UINT(hub_client_scan(h, &pos, scan_fn, &co, 4), 1);
	stop_at = 99;
	CHECK_UINT(co.co_n, 3);
	CHECK_UINT(hub_client_scan(h, &pos, scan_fn, &co, 4), 2);
	CHECK(pos == HUB_SCAN_END);
	CHECK_UINT(hub_client_scan(h, &pos, scan_fn, &co, 4), 0);
	/* Each once, and the one that left before its turn not at all. */
	if (CHECK_UINT(co.co_n, 5)) {
		CHECK_UINT(co.co_ci[0].ci_id, id[0]);
		CHECK_UINT(co.co_ci[1].ci_id, id[1]);
		CHECK_UINT(co.co_ci[2].ci_id, id[2]);
		CHECK_UINT(co.co_ci[3].ci_id, id[3]);
		CHECK_UINT(co.co_ci[4].ci_id, id[5]);
	}
	thub_close(h);
}

static void
t_reg_reap(void)
{
	struct hub	*h;
	struct collect	 co;
	unsigned	 s, i;
	uint64_t	 keep;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_worker_start(h, 2, getpid());
	hub_client_add(h, "10.0.0.1:1", &s);
	hub_client_set_nick(h, s, "one");
	hub_client_add(h, "10.0.0.2:2", &s);
	hub_worker_start(h, 1, getpid());
	keep = hub_client_add(h, "10.0.0.9:9", &s);
	hub_worker_start(h, 2, getpid());
	hub_client_add(h, "10.0.0.3:3", &s);
	CHECK_UINT(hub_total_clients(h), 4);

	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_reap_worker(h, 2, collect_fn, &co), 3);
	if (CHECK_UINT(co.co_n, 3)) {
		for (i = 0; i < 3; i++)
			CHECK_INT(co.co_ci[i].ci_worker, 2);
		CHECK_STR(co.co_ci[0].ci_nick, "one");
		CHECK_STR(co.co_ci[0].ci_addr, "10.0.0.1:1");
		CHECK_STR(co.co_ci[1].ci_addr, "10.0.0.2:2");
		CHECK_STR(co.co_ci[2].ci_addr, "10.0.0.3:3");
	}
	CHECK_UINT(hub_total_clients(h), 1);
	CHECK_UINT(hub_client_find(h, "one", NULL, 0), 0);
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 1);
	CHECK_UINT(co.co_ci[0].ci_id, keep);
	/* Nothing left to reap. */
	CHECK_UINT(hub_client_reap_worker(h, 2, collect_fn, &co), 0);
	thub_close(h);
}

int
main(void)
{
	thub_init("test_hub_registry");
	unit_run("hub: registry add up to max_clients, then ENOSPC",
	    t_reg_add);
	unit_run("hub: nicknames unique ignoring case, find", t_reg_nick);
	unit_run("hub: foreach in slot order", t_reg_foreach);
	unit_run("hub: scan a part at a time from a slot, each client once",
	    t_reg_scan);
	unit_run("hub: reap_worker removes only that worker's clients",
	    t_reg_reap);
	unit_run("hub: no shared memory objects left", thub_no_leftovers);
	return unit_done();
}
