/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * hub_helpers.h -- what the hub's unit tests (tests/unit/test_hub_*.c)
 * share: hubs under names of their own that are always removed, child
 * processes that cannot outlive the test, and reading records back.
 *
 * Every hub gets a name of its own, "/chatd-test-PID-N", and is removed
 * at the end of its case; an atexit handler and the usual termination
 * signals remove whatever a failed case left behind.  Forked children
 * leave with _exit() so they never run it, and each arms alarm() so
 * that none outlives a test that went wrong.
 */
#ifndef HUB_HELPERS_H
#define HUB_HELPERS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

#define WAIT_SECONDS	30		/* how long the parent waits */

/* What collect_fn gathers from foreach and reap_worker. */
struct collect {
	struct hub_client_info	co_ci[16];
	unsigned		co_n;
};

/* The start of main: cleanup on exit and signals, a deadline. */
void		 thub_init(const char *);

/* Hub names, hubs under them, and the case that checks none is left. */
char		*thub_new_name(void);
char		*thub_last_name(void);
struct hub	*thub_open(size_t, int, unsigned);
void		 thub_close(struct hub *);
void		 thub_no_leftovers(void);

/* Children. */
pid_t		 spawn(int (*)(void *), void *);
int		 wait_child(pid_t, int, int *);
int		 wait_ok(pid_t, const char *);

/* Records. */
int		 read_msg(struct hub *, struct hub_cursor *, struct hub_msg *,
		    uint64_t, const char *, size_t);
size_t		 rec_size(struct hub *, size_t);
int		 fill_to(struct hub *, struct hub_cursor *, size_t, size_t,
		    uint64_t *);

/* The registry. */
void		 collect_fn(const struct hub_client_info *, void *);

#endif
