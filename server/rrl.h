/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * rrl.h -- response rate limiting for the UDP timestamp service, as DNS
 * servers do it: a reply costs a token from the bucket of the source's
 * network (an IPv4 address, an IPv6 /64), so the service cannot be used
 * to reflect traffic at a spoofed victim faster than RRL_RATE replies a
 * second after a burst of RRL_BURST.
 *
 * The table is a fixed array of RRL_SLOTS buckets, one 64-bit word
 * each, with no keys: sources whose prefixes hash alike share a bucket.
 * Memory is bounded whatever the number of sources, no source can ever
 * get more than the limit, and the only cost of a collision is that two
 * unlucky sources are limited together.  Every update is one atomic
 * compare-and-swap, so the table may sit in memory shared by processes
 * (chatd's workers read one UDP socket), and a process killed in the
 * middle of an update leaves no lock behind.
 *
 * Pure: no I/O, time is passed in.
 */
#ifndef RRL_H
#define RRL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RRL_RATE	10	/* replies a second per source network */
#define RRL_BURST	20	/* replies at once after a quiet spell */
#define RRL_SLOTS	4096	/* buckets: 32 KiB */
#define RRL_V6_PREFIX	64	/* bits of an IPv6 source that count */
/* Suppressed replies are logged at most once per this interval. */
#define RRL_LOG_MS	10000

struct rrl {
	uint64_t		key;	/* seeds the hash */
	_Atomic uint64_t	bucket[RRL_SLOTS];
	_Atomic uint64_t	suppressed;	/* since the last report */
	_Atomic int64_t		report_ms;	/* next report not before */
};

/* Empty every bucket; key seeds the hash (random in the servers). */
void	rrl_init(struct rrl *, uint64_t key);
/*
 * 1 if a reply may go to sa at time now_ms (a monotonic clock in
 * milliseconds), taking a token; 0 if it is to be suppressed, which is
 * counted for rrl_report.  An address of another family is allowed.
 */
int	rrl_allow(struct rrl *, const struct sockaddr *sa, int64_t now_ms);
/*
 * 1 at most once per RRL_LOG_MS while replies are being suppressed:
 * then *count holds how many were since the last report.  Else 0.
 */
int	rrl_report(struct rrl *, int64_t now_ms, uint64_t *count);
/* The source network of sa as text, "192.0.2.1/32" or "2001:db8::/64". */
int	rrl_prefix_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
