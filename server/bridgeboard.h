/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * bridgeboard.h -- chatd -C: what chatd -S shows of the bridge that does
 * not fit in the hub's figures (hub_worker_ext): the URL of the NATS
 * server it is connected to.  A small shared-memory object beside the
 * hub, "/chatd-HOST-PORT-bridge", made by the master, written by the
 * bridge and read by chatd -S without trusting it.  Needs no libnats:
 * chatd -S is built in every chatd.
 */
#ifndef BRIDGEBOARD_H
#define BRIDGEBOARD_H

#include <sys/types.h>

#include <stddef.h>

/* The longest URL shown, with its NUL; a longer one is cut. */
#define BRIDGEBOARD_URL_MAX	256

struct bridgeboard;

/* The object's name for the hub called hub_name. */
void	bridgeboard_name(char *buf, size_t len, const char *hub_name);
/*
 * Master: make the object for the hub called hub_name, replacing one
 * left by a chatd that was killed (the hub's checks have made sure none
 * runs there), owned by uid/gid when chown is set (-U).  NULL with
 * errno.  The mapping is inherited by the bridge.
 */
struct bridgeboard *bridgeboard_create(const char *hub_name, int chown,
	    uid_t uid, gid_t gid);
/* Master: remove the object (on every orderly exit); 0 or -1. */
int	bridgeboard_unlink(const char *hub_name);
/*
 * The bridge, its only writer: the URL of the server it is connected
 * to, or "" while it is not connected.
 */
void	bridgeboard_set_url(struct bridgeboard *, const char *url);
/*
 * chatd -S: the URL into url[len] ("" while not connected), made safe to
 * print.  The object must be owned by owner (the hub's owner).  0, or
 * -1 with *problem set (a static string).
 */
int	bridgeboard_read(const char *hub_name, uid_t owner, char *url,
	    size_t len, const char **problem);

#endif
