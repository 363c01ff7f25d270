/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * rrl.c -- per-source token buckets for UDP replies; see rrl.h.
 *
 * A bucket is one word: the time of its last update in milliseconds
 * (the upper 40 bits, modulo 2^40, about 34 years) and its tokens in
 * thousandths of a reply (the lower 24 bits).  A zero word is a bucket
 * never used, which is full.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "rrl.h"

#define TOKEN		1000			/* one reply */
#define TOKENS_MAX	((uint64_t)RRL_BURST * TOKEN)
#define TOKEN_BITS	24
#define TOKEN_MASK	(((uint64_t)1 << TOKEN_BITS) - 1)
#define STAMP_MASK	(((uint64_t)1 << (64 - TOKEN_BITS)) - 1)

_Static_assert(TOKENS_MAX <= TOKEN_MASK, "a full bucket fits its bits");

void
rrl_init(struct rrl *r, uint64_t key)
{
	size_t	i;

	r->key = key;
	for (i = 0; i < RRL_SLOTS; i++)
		atomic_init(&r->bucket[i], 0);
	atomic_init(&r->suppressed, 0);
	atomic_init(&r->report_ms, INT64_MIN);
}

/*
 * The bytes of sa that name its network: an IPv4 address (an IPv4-mapped
 * IPv6 address counts as IPv4), or the first RRL_V6_PREFIX bits of an
 * IPv6 one.  Returns their number, 0 for another family.
 */
static size_t
rrl_prefix(const struct sockaddr *sa, unsigned char *out)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out, &sin->sin_addr, 4);
		return 4;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(out, sin6->sin6_addr.s6_addr + 12, 4);
			return 4;
		}
		memcpy(out, sin6->sin6_addr.s6_addr, RRL_V6_PREFIX / 8);
		return RRL_V6_PREFIX / 8;
	}
	return 0;
}

/* FNV-1a over the prefix, seeded, then a finaliser to spread the bits. */
static size_t
rrl_slot(const struct rrl *r, const unsigned char *p, size_t n)
{
	uint64_t	h = 0xcbf29ce484222325ULL ^ r->key;
	size_t		i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= (uint64_t)n;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)(h % RRL_SLOTS);
}

int
rrl_allow(struct rrl *r, const struct sockaddr *sa, int64_t now_ms)
{
	unsigned char	 prefix[16];
	_Atomic uint64_t *b;
	uint64_t	 old, new, tokens, stamp, now, elapsed;
	size_t		 n;
	int		 ok;

	if ((n = rrl_prefix(sa, prefix)) == 0)
		return 1;
	b = &r->bucket[rrl_slot(r, prefix, n)];
	now = (uint64_t)now_ms & STAMP_MASK;
	old = atomic_load(b);
	do {
		if (old == 0)
			tokens = TOKENS_MAX;
		else {
			stamp = old >> TOKEN_BITS;
			tokens = old & TOKEN_MASK;
			/*
			 * Another process may have stamped a later time than
			 * our clock read: count that as no time passed.
			 */
			elapsed = (now - stamp) & STAMP_MASK;
			if (elapsed > STAMP_MASK / 2)
				elapsed = 0;
			if (elapsed >= TOKENS_MAX)	/* refilled anyway */
				tokens = TOKENS_MAX;
			else {
				tokens += elapsed * RRL_RATE;
				if (tokens > TOKENS_MAX)
					tokens = TOKENS_MAX;
			}
		}
		ok = tokens >= TOKEN;
		if (ok)
			tokens -= TOKEN;
		new = now << TOKEN_BITS | tokens;
		if (new == 0)	/* empty at time 0 is not an unused bucket */
			new = 1;
	} while (!atomic_compare_exchange_weak(b, &old, new));
	if (!ok)
		atomic_fetch_add(&r->suppressed, 1);
	return ok;
}

int
rrl_report(struct rrl *r, int64_t now_ms, uint64_t *count)
{
	int64_t	due = atomic_load(&r->report_ms);

	if (atomic_load(&r->suppressed) == 0 || now_ms < due)
		return 0;
	/* One process wins the interval; the others see the new time. */
	if (!atomic_compare_exchange_strong(&r->report_ms, &due,
	    now_ms + RRL_LOG_MS))
		return 0;
	*count = atomic_exchange(&r->suppressed, 0);
	return *count > 0;
}

int
rrl_prefix_format(const struct sockaddr *sa, char *buf, size_t len)
{
	unsigned char	prefix[16], addr[16];
	char		text[INET6_ADDRSTRLEN];
	size_t		n;
	int		w;

	memset(addr, 0, sizeof(addr));
	if ((n = rrl_prefix(sa, prefix)) == 0)
		return -1;
	memcpy(addr, prefix, n);
	if (inet_ntop(n == 4 ? AF_INET : AF_INET6, addr, text,
	    sizeof(text)) == NULL)
		return -1;
	w = snprintf(buf, len, "%s/%d", text, n == 4 ? 32 : RRL_V6_PREFIX);
	return w > 0 && (size_t)w < len ? 0 : -1;
}
