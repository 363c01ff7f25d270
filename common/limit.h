/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * limit.h -- limits on abuse that several processes enforce together:
 * how many clients one address may have (a table of address prefixes)
 * and how many bytes one client may be sent by the others (a budget).
 * Everything here is lock-free and made of atomics, so it works in
 * shared memory (the hub) as well as in one process (chatd-select), and
 * a process stopped in the middle of a call holds nobody up.
 */
#ifndef LIMIT_H
#define LIMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* An address prefix, as net_addr_prefix makes it. */
#define LIMIT_KEY_LEN		16

/*
 * One entry of the address table.  la_word holds a version in its high
 * 32 bits and the number of clients in its low 32; the version is odd
 * while the key is being written, and changes whenever the entry is
 * given to another address, so a compare-and-swap on the word fails if
 * the key changed under it.
 */
struct limit_addr {
	_Atomic uint64_t	la_word;
	unsigned char		la_key[LIMIT_KEY_LEN];
};

/* An address table: n entries (a power of two), hashed with seed. */
struct limit_table {
	struct limit_addr	*lt_tab;
	unsigned		 lt_n;
	uint64_t		 lt_seed;
};

/*
 * Entries a table needs for max_clients: a power of two, at least
 * twice max_clients, so that at most half of them are in use.
 */
unsigned	limit_table_slots(unsigned max_clients);
/* A seed for a new table's hash: random where the system has it. */
uint64_t	limit_seed(void);
/*
 * Count one more client from the address key if that keeps the
 * address at or below limit clients.  0 with the entry in *ref (give it
 * back with limit_addr_release when the client leaves); -1 with errno
 * EDQUOT if the address has limit clients already, ENOSPC if no entry
 * near the key's place is free (the table is sized so that this does
 * not happen before the server is full).  Never blocks; entries start
 * zeroed.
 */
int		limit_addr_take(const struct limit_table *,
		    const unsigned char *key, unsigned limit, unsigned *ref);
void		limit_addr_release(const struct limit_table *, unsigned ref);
/* How many clients the address key has now. */
unsigned	limit_addr_count(const struct limit_table *,
		    const unsigned char *key);

/*
 * A budget of rate bytes a second with bursts of up to burst bytes,
 * kept in one word (*tat, 0 at first: the generic cell rate algorithm's
 * "theoretical arrival time", in microseconds).  Spend bytes at now_us:
 * 0 if the budget has room for them, -1 if not (nothing is spent).
 */
int		limit_budget_take(_Atomic int64_t *tat, int64_t now_us,
		    size_t bytes, unsigned rate, size_t burst);

#endif
