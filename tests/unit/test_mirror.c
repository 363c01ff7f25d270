/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_mirror.c -- chatd -C's mirror of the other hosts' clients
 * (server/mirror.c): lookups, listings, the table full, a new bridge's
 * sweep, tombstones rebuilt away, and a reader in another process that
 * never misses a client while the writer churns and rebuilds.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/mirror.h"
#include "unit.h"

/* What a listing saw: ids summed and counted, one name kept. */
struct seen {
	unsigned	n;
	uint64_t	idsum;
	char		last[96];
};

static int
note(const struct hub_client_info *ci, void *arg)
{
	struct seen	*s = arg;

	s->n++;
	s->idsum += ci->ci_id;
	snprintf(s->last, sizeof(s->last), "%s %s", ci->ci_nick, ci->ci_addr);
	return 0;
}

/* The whole listing, step by step as a long /who takes it. */
static struct seen
list_all(const struct mirror *m, unsigned step)
{
	struct seen	s;
	uint64_t	pos = 0;
	int		calls = 0;

	memset(&s, 0, sizeof(s));
	while (pos != HUB_SCAN_END && calls++ < 1000000)
		(void)mirror_who_scan(m, &pos, note, &s, step);
	return s;
}

static void
t_put_find_remove(void)
{
	struct mirror	*m;
	struct seen	 s;
	uint64_t	 e;
	char		 exact[32];

	if (!CHECK((m = mirror_create(4)) != NULL))
		return;
	CHECK_UINT(mirror_capacity(m), MIRROR_MIN);
	e = mirror_begin(m, MIRROR_WHO);
	CHECK_INT(mirror_who_put(m, e, 7, "", "10.0.0.1:5"), 0);
	CHECK_INT(mirror_who_put(m, e, 9, "Bob", "10.0.0.2:6"), 0);
	CHECK_UINT(mirror_who_count(m), 2);
	s = list_all(m, 1);
	CHECK_UINT(s.n, 2);
	CHECK_UINT(s.idsum, 16);
	/* A rename is the same entry. */
	CHECK_INT(mirror_who_put(m, e, 7, "al", "10.0.0.1:5"), 0);
	CHECK_UINT(mirror_who_count(m), 2);
	mirror_who_remove(m, 9);
	mirror_who_remove(m, 9);	/* twice: nothing more */
	CHECK_UINT(mirror_who_count(m), 1);
	s = list_all(m, 100);
	CHECK_UINT(s.n, 1);
	CHECK_STR(s.last, "al 10.0.0.1:5");

	e = mirror_begin(m, MIRROR_NICKS);
	CHECK_INT(mirror_nick_put(m, e, "Bob", 9), 0);
	CHECK_UINT(mirror_nick_find(m, "bOB", exact, sizeof(exact)), 9);
	CHECK_STR(exact, "Bob");
	CHECK_UINT(mirror_nick_find(m, "bo", exact, sizeof(exact)), 0);
	CHECK_UINT(mirror_nick_find(m, "bobby", exact, sizeof(exact)), 0);
	/* Respelt by its owner: the key is the name in lower case. */
	CHECK_INT(mirror_nick_put(m, e, "BOB", 9), 0);
	CHECK_UINT(mirror_nick_find(m, "bob", exact, sizeof(exact)), 9);
	CHECK_STR(exact, "BOB");
	mirror_nick_remove(m, "bob");
	CHECK_UINT(mirror_nick_find(m, "bob", exact, sizeof(exact)), 0);
	/* Too long for a name: never found, never stored whole. */
	CHECK_UINT(mirror_nick_find(m, "abcdefghijklmnopqrstuvwxyz", exact,
	    sizeof(exact)), 0);
}

static void
t_full(void)
{
	struct mirror	*m;
	uint64_t	 e, i;

	if (!CHECK((m = mirror_create(1)) != NULL))
		return;
	e = mirror_begin(m, MIRROR_WHO);
	for (i = 1; i <= MIRROR_MIN; i++)
		if (!CHECK_INT(mirror_who_put(m, e, i, "", "a:1"), 0))
			return;
	CHECK_INT(mirror_who_put(m, e, i, "", "a:1"), -1);
	CHECK_UINT(mirror_who_count(m), MIRROR_MIN);
	/* An update still goes in. */
	CHECK_INT(mirror_who_put(m, e, 1, "one", "a:1"), 0);
	mirror_who_remove(m, 1);
	CHECK_INT(mirror_who_put(m, e, i, "", "a:1"), 0);
	CHECK_UINT(list_all(m, 7).n, MIRROR_MIN);
}

/* A new bridge puts what the bucket has; the rest went meanwhile. */
static void
t_sweep(void)
{
	struct mirror	*m;
	uint64_t	 e1, e2;
	char		 exact[32];

	if (!CHECK((m = mirror_create(1)) != NULL))
		return;
	e1 = mirror_begin(m, MIRROR_NICKS);
	CHECK_INT(mirror_nick_put(m, e1, "stays", 1), 0);
	CHECK_INT(mirror_nick_put(m, e1, "went", 2), 0);
	e2 = mirror_begin(m, MIRROR_NICKS);
	CHECK(e2 != e1);
	/* Until the sweep, the old copy is served. */
	CHECK_UINT(mirror_nick_find(m, "went", exact, sizeof(exact)), 2);
	CHECK_INT(mirror_nick_put(m, e2, "stays", 1), 0);
	CHECK_UINT(mirror_sweep(m, MIRROR_NICKS, e2), 1);
	CHECK_UINT(mirror_nick_find(m, "went", exact, sizeof(exact)), 0);
	CHECK_UINT(mirror_nick_find(m, "stays", exact, sizeof(exact)), 1);
	/* The other table is its own. */
	CHECK_UINT(mirror_who_count(m), 0);
}

/*
 * Many more arrivals and departures than the table has slots: the
 * tombstones are rebuilt away, and every client is listed once.
 */
static void
t_churn(void)
{
	struct mirror	*m;
	struct seen	 s;
	uint64_t	 e, i, sum = 0;
	char		 nick[32], exact[32];
	int		 bad = 0;

	if (!CHECK((m = mirror_create(1)) != NULL))
		return;
	e = mirror_begin(m, MIRROR_WHO);
	(void)mirror_begin(m, MIRROR_NICKS);
	for (i = 1; i <= 100; i++) {
		sum += i;
		snprintf(nick, sizeof(nick), "stay%llu", (unsigned long long)i);
		bad += mirror_who_put(m, e, i, nick, "a:1") != 0;
		bad += mirror_nick_put(m, e, nick, i) != 0;
	}
	for (i = 1000; i < 1000 + 50 * MIRROR_MIN; i++) {
		snprintf(nick, sizeof(nick), "x%llu", (unsigned long long)i);
		bad += mirror_who_put(m, e, i, nick, "b:2") != 0;
		bad += mirror_nick_put(m, e, nick, i) != 0;
		if (i >= 1010) {
			mirror_who_remove(m, i - 10);
			snprintf(nick, sizeof(nick), "X%llu",
			    (unsigned long long)(i - 10));
			mirror_nick_remove(m, nick);
		}
	}
	CHECK_INT(bad, 0);
	for (i = 1000 + 50 * MIRROR_MIN - 10; i < 1000 + 50 * MIRROR_MIN; i++)
		sum += i;
	CHECK_UINT(mirror_who_count(m), 110);
	s = list_all(m, 3);
	CHECK_UINT(s.n, 110);
	CHECK_UINT(s.idsum, sum);
	for (i = 1; i <= 100; i++) {
		snprintf(nick, sizeof(nick), "STAY%llu", (unsigned long long)i);
		bad += mirror_nick_find(m, nick, exact, sizeof(exact)) != i;
	}
	CHECK_INT(bad, 0);
	CHECK_UINT(mirror_nick_find(m, "x1000", exact, sizeof(exact)), 0);
}

/*
 * A worker reads while the bridge writes: the clients that stay are
 * found every time, with their own id and spelling, through thousands
 * of rebuilds.
 */
static void
t_reader_never_misses(void)
{
	struct mirror	*m;
	pid_t		 pid;
	uint64_t	 e, i;
	char		 nick[32], exact[32];
	int		 status = 0, round, bad, done;

	if (!CHECK((m = mirror_create(1)) != NULL))
		return;
	e = mirror_begin(m, MIRROR_NICKS);
	for (i = 1; i <= 20; i++) {
		snprintf(nick, sizeof(nick), "Stay%llu", (unsigned long long)i);
		(void)mirror_nick_put(m, e, nick, i);
	}
	if (!CHECK((pid = fork()) != -1))
		return;
	if (pid == 0) {
		bad = 0;
		for (round = 0; round < 300000 && bad == 0; round++) {
			i = (uint64_t)(round % 20) + 1;
			snprintf(nick, sizeof(nick), "stay%llu",
			    (unsigned long long)i);
			if (mirror_nick_find(m, nick, exact, sizeof(exact)) !=
			    i || strncmp(exact, "Stay", 4) != 0)
				bad = 1;
		}
		_exit(bad);
	}
	done = 0;
	for (i = 100; i < 100 + 400 * MIRROR_MIN && !done; i++) {
		snprintf(nick, sizeof(nick), "n%llu", (unsigned long long)i);
		(void)mirror_nick_put(m, e, nick, i);
		snprintf(nick, sizeof(nick), "n%llu",
		    (unsigned long long)(i - 1));
		mirror_nick_remove(m, nick);
		if (i % 256 == 0)
			done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!done)
		done = waitpid(pid, &status, 0) == pid;
	CHECK(done && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int
main(void)
{
	unit_init();
	unit_run("mirror: put, find in any case, list, remove",
	    t_put_find_remove);
	unit_run("mirror: a full table refuses newcomers, takes updates",
	    t_full);
	unit_run("mirror: a new bridge's sweep removes what went meanwhile",
	    t_sweep);
	unit_run("mirror: churn past the table's size: each client once",
	    t_churn);
	unit_run("mirror: a reader in another process never misses one",
	    t_reader_never_misses);
	return unit_done();
}
