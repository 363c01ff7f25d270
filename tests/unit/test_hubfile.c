/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hubfile.c -- the hub as a shared-memory object: its size,
 * hub_probe on what can be found under its name, hub_check against
 * truncation and a damaged header, hub_attach's refusals.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"
#include "unit.h"

#define RING		HUB_RING_MIN
#define CLIENTS		10
/* Where the ring size sits in the header (LP64 and ILP32 alike). */
#define RING_SIZE_OFF	24

static char	name[HUB_NAME_MAX];

static void
unlink_name(void)
{
	shm_unlink(name);
}

/* An object of len bytes under the name, filled with byte. */
static int
plant(size_t len, int byte)
{
	unsigned char	buf[4096];
	size_t		n;
	int		fd;

	if ((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	memset(buf, byte, sizeof(buf));
	for (n = 0; n < len; n += sizeof(buf))
		if (pwrite(fd, buf, len - n < sizeof(buf) ? len - n :
		    sizeof(buf), (off_t)n) == -1)
			break;
	close(fd);
	return 0;
}

static void
t_size(void)
{
	struct hub	*h;
	struct stat	 st;
	int		 fd;

	CHECK(hub_size(RING, 2, CLIENTS) > RING);
	CHECK(hub_size(RING, 2, CLIENTS + 1) > hub_size(RING, 2, CLIENTS));
	if (!CHECK((h = hub_create(name, RING, 2, CLIENTS)) != NULL))
		return;
	/* The object has exactly the size announced, all of it reserved. */
	if (CHECK((fd = shm_open(name, O_RDONLY, 0)) != -1)) {
		CHECK_INT(fstat(fd, &st), 0);
		CHECK_UINT(st.st_size, hub_size(RING, 2, CLIENTS));
		CHECK_UINT((uintmax_t)st.st_blocks * 512 >= (uintmax_t)st.st_size, 1);
		close(fd);
	}
	hub_unlink(h);
	hub_detach(h);
}

static void
t_probe(void)
{
	struct hub_info	 hi;
	struct hub	*h;

	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_INT(hi.hi_state, HUB_ABSENT);
	if (!CHECK((h = hub_create(name, RING, 2, CLIENTS)) != NULL))
		return;
	/* Our own master: hub_probe does not count it as running. */
	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_INT(hi.hi_state, HUB_STALE);
	CHECK_INT(hi.hi_uid, geteuid());
	CHECK_UINT(hi.hi_size, hub_size(RING, 2, CLIENTS));
	/* A live master elsewhere: our parent stands in for it. */
	hub_set_master(h, getppid());
	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_INT(hi.hi_state, HUB_RUNNING);
	CHECK_INT(hi.hi_master, getppid());
	hub_unlink(h);
	hub_detach(h);

	CHECK_INT(plant(10, 'x'), 0);
	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_INT(hi.hi_state, HUB_INVALID);
	CHECK_STR(hi.hi_problem, "truncated (smaller than its header)");
	unlink_name();
	CHECK_INT(plant(100000, 'x'), 0);
	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_INT(hi.hi_state, HUB_INVALID);
	CHECK_STR(hi.hi_problem, "not a chatd hub (bad magic number)");
	unlink_name();
}

/* Overwrite the header's ring size in the object itself. */
static void
spoil_ring_size(void)
{
	uint64_t	bad = UINT64_MAX;
	int		fd;

	if ((fd = shm_open(name, O_RDWR, 0)) == -1)
		return;
	if (pwrite(fd, &bad, sizeof(bad), RING_SIZE_OFF) != sizeof(bad))
		FAIL("pwrite: %s", strerror(errno));
	close(fd);
}

static void
t_check(void)
{
	struct hub_info	 hi;
	struct hub	*h;
	const char	*problem;
	int		 fd;

	if (!CHECK((h = hub_create(name, RING, 2, CLIENTS)) != NULL))
		return;
	CHECK_INT(hub_check(h, &problem), 0);
	CHECK(problem == NULL);

	spoil_ring_size();
	CHECK_INT(hub_check(h, &problem), -1);
	CHECK_STR(problem ? problem : "", "corrupt header (ring size out of range)");
	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_STR(hi.hi_problem ? hi.hi_problem : "",
	    "corrupt header (ring size out of range)");
	errno = 0;
	CHECK(hub_attach(name) == NULL);
	CHECK_INT(errno, EPROTO);

	/* Truncated: hub_check says so without touching the mapping. */
	if (CHECK((fd = shm_open(name, O_RDWR, 0)) != -1)) {
		CHECK_INT(ftruncate(fd, 4096), 0);
		close(fd);
	}
	CHECK_INT(hub_check(h, &problem), -1);
	CHECK_STR(problem ? problem : "",
	    "truncated (smaller than its header says)");
	CHECK_INT(hub_probe(name, &hi), 0);
	CHECK_INT(hi.hi_state, HUB_INVALID);
	hub_unlink(h);
	hub_detach(h);
}

static void
t_create_replaces(void)
{
	struct hub	*h;

	/* Anything that is not a live hub under the name is replaced. */
	CHECK_INT(plant(100, 'x'), 0);
	if (CHECK((h = hub_create(name, RING, 1, CLIENTS)) != NULL)) {
		CHECK_INT(hub_nworkers(h), 1);
		hub_unlink(h);
		hub_detach(h);
	}
}

int
main(void)
{
	unit_init();
	snprintf(name, sizeof(name), "/chatd-unit-%ld", (long)getpid());
	atexit(unlink_name);
	unit_run("hubfile: hub_size is the object's size, reserved", t_size);
	unit_run("hubfile: hub_probe tells absent, stale, running, invalid",
	    t_probe);
	unit_run("hubfile: hub_check catches a damaged header and truncation",
	    t_check);
	unit_run("hubfile: hub_create replaces what is not a live hub",
	    t_create_replaces);
	return unit_done();
}
