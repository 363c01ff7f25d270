/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * mirror.h -- chatd -C: the other hosts' clients as this host last
 * heard of them, for /who and the /msg name lookup.
 *
 * The bridge watches the cluster's buckets _who (a client's id: its
 * name and address) and _nicks (a name: its owner's id and spelling)
 * and keeps a copy of both here, in an anonymous shared mapping that
 * the master makes before it forks anyone.  Workers read it without a
 * lock and without asking NATS, so no client waits for a round trip to
 * NATS because another asked who is there.  The copy may lag NATS by
 * the time the bridge takes to hear of a change: one round trip.
 *
 * Two hash tables (open addressing, linear probing), one per bucket,
 * each written by one thread of the bridge alone.  Every slot is a row
 * of 64-bit words under its own sequence counter, odd while the writer
 * changes it: a reader copies the words with atomic loads and keeps the
 * copy only if the counter was even and the same before and after (as
 * in the hub's registry and bridgeboard.c).  A removed entry leaves a
 * tombstone, so an entry never moves while readers walk the table;
 * when tombstones fill a quarter of it, the writer rebuilds it in a
 * second table of the same size and then makes that one the table
 * read, so that no reader ever waits for a rebuild.
 *
 * Needs no libnats: the bridge feeds it what it hears (cluster.c).
 */
#ifndef MIRROR_H
#define MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

/*
 * How many clients of the other hosts are mirrored: MIRROR_HOSTS hosts
 * of -m clients each, at least MIRROR_MIN and at most MIRROR_MAX.  Past
 * it, a client is left out of the copy (the bridge logs it once per
 * table filling): /who does not list it and /msg does not find it.
 * Each table has two halves of twice as many 128-byte slots: 1 KiB of
 * shared memory per client, 32 MiB at the most (the default -m).
 */
#define MIRROR_HOSTS	4
#define MIRROR_MIN	1024
#define MIRROR_MAX	(32 * 1024)

struct mirror;

/*
 * The master: a mirror for max_clients per host, before the bridge and
 * the workers are forked, who inherit it.  NULL with errno.
 */
struct mirror	*mirror_create(unsigned max_clients);
/* How many clients it holds at most. */
unsigned	 mirror_capacity(const struct mirror *);

/*
 * The writers.  A bridge that (re)starts following a bucket calls
 * begin, puts what the bucket has, then sweep: what it did not put
 * again since begin is gone (removed while no bridge listened).  put
 * returns 0, or -1 if the table is full.
 */
enum mirror_table { MIRROR_WHO, MIRROR_NICKS };

uint64_t	 mirror_begin(struct mirror *, enum mirror_table);
unsigned	 mirror_sweep(struct mirror *, enum mirror_table,
		    uint64_t epoch);
/* _who: client id is called nick ("" before /nick), from addr. */
int		 mirror_who_put(struct mirror *, uint64_t epoch, uint64_t id,
		    const char *nick, const char *addr);
void		 mirror_who_remove(struct mirror *, uint64_t id);
/* _nicks: nick, in that spelling, is client id's. */
int		 mirror_nick_put(struct mirror *, uint64_t epoch,
		    const char *nick, uint64_t id);
void		 mirror_nick_remove(struct mirror *, const char *nick);

/*
 * The readers.  scan calls fn for the mirrored clients from *pos on, as
 * hub_client_scan does for the registry (at most max of them; fn
 * returns non-zero to stop after this one); *pos becomes where to go
 * on, or HUB_SCAN_END.  Only ci_id, ci_nick and ci_addr are set.
 * count: how many clients are mirrored.  find: the id of the client
 * whose name is nick in any case, its spelling in exact; or 0.
 */
unsigned	 mirror_who_scan(const struct mirror *, uint64_t *pos,
		    int (*fn)(const struct hub_client_info *, void *),
		    void *arg, unsigned max);
unsigned	 mirror_who_count(const struct mirror *);
uint64_t	 mirror_nick_find(const struct mirror *, const char *nick,
		    char *exact, size_t len);

#endif
