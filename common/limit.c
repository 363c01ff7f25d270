/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * limit.c -- the address table and the byte budget (see limit.h).
 *
 * The address table is an open-addressing hash table of fixed size,
 * keyed by the whole prefix: two addresses never share an entry.  An
 * address lives within LIMIT_WINDOW entries of its hash; an entry
 * whose count is 0 may be given to another address at any time.
 *
 * Admission counts first and checks after: a worker adds its client to
 * the address's entry (or claims a free one), then sums every entry of
 * the address in the window, and takes the client back if the sum is
 * over the limit.  All of it is sequentially consistent, so of any
 * clients admitted at once the last to count sees the others: the limit
 * is never exceeded, though two racing newcomers may both be refused.
 * Two workers claiming an entry for the same new address at once may
 * each claim one; the sum counts both, and the spare one is freed when
 * its clients leave.
 *
 * XXX a process killed while it writes a key (between two stores)
 * leaves that entry odd for good: it is skipped, and the table has one
 * entry less until the hub is made again.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "limit.h"
#include "util.h"

/* How far from its hash an address may be placed. */
#define LIMIT_WINDOW	64
/* Compare-and-swaps lost to other workers before giving up. */
#define LIMIT_TRIES	1000

#define WORD_VERSION(w)	((uint32_t)((w) >> 32))
#define WORD_COUNT(w)	((uint32_t)(w))
#define WORD(v, c)	(((uint64_t)(v) << 32) | (uint32_t)(c))

unsigned
limit_table_slots(unsigned max_clients)
{
	unsigned	n = LIMIT_WINDOW;

	while (n < 2ULL * max_clients && n < (1U << 31))
		n <<= 1;
	return n;
}

/*
 * Random, so that nobody outside can pick addresses that crowd one part
 * of the table.  Without a random source, the clock and the pid still
 * differ between runs.
 */
uint64_t
limit_seed(void)
{
	struct timespec	ts;
	uint64_t	seed = 0;
	int		fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
			seed = 0;
		close(fd);
	}
	if (seed == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 16);
	}
	return seed;
}

/*
 * Where key's window starts.  The seed is random per table, so nobody
 * outside can choose addresses that crowd one window.
 */
static unsigned
limit_home(const struct limit_table *t, const unsigned char *key)
{
	uint64_t	a, b;

	memcpy(&a, key, sizeof(a));
	memcpy(&b, key + sizeof(a), sizeof(b));
	return (unsigned)(mix64(mix64(t->lt_seed ^ a) ^ b) & (t->lt_n - 1));
}

/*
 * Read entry e: 1 if it holds key (its word in *w), 0 if it holds
 * another address or none, -1 if its key is being written.
 */
static int
limit_entry_is(const struct limit_addr *e, const unsigned char *key,
    uint64_t *w)
{
	uint64_t	w1, w2;
	int		same;

	w1 = atomic_load(&e->la_word);
	if (WORD_VERSION(w1) & 1)
		return -1;
	same = WORD_VERSION(w1) != 0 &&
	    memcmp(e->la_key, key, LIMIT_KEY_LEN) == 0;
	w2 = atomic_load(&e->la_word);
	if (WORD_VERSION(w2) != WORD_VERSION(w1))
		return -1;
	*w = w2;
	return same;
}

unsigned
limit_addr_count(const struct limit_table *t, const unsigned char *key)
{
	unsigned	home = limit_home(t, key), i, sum = 0;
	uint64_t	w;

	for (i = 0; i < LIMIT_WINDOW; i++)
		if (limit_entry_is(&t->lt_tab[(home + i) & (t->lt_n - 1)],
		    key, &w) == 1)
			sum += WORD_COUNT(w);
	return sum;
}

/* Give the free entry e, whose word was w, to key with a count of 1. */
static int
limit_claim(struct limit_addr *e, uint64_t w, const unsigned char *key)
{
	uint32_t	v = WORD_VERSION(w) + 1;

	if (!atomic_compare_exchange_strong(&e->la_word, &w, WORD(v, 0)))
		return -1;
	memcpy(e->la_key, key, LIMIT_KEY_LEN);
	atomic_store(&e->la_word, WORD(v + 1, 1));
	return 0;
}

/*
 * Add one client to key's entry, or to a free entry claimed for it: 0
 * with the entry in *ref; -1 with EAGAIN if another worker changed the
 * entry first (try again), ENOSPC if the window is full.
 */
static int
limit_add(const struct limit_table *t, const unsigned char *key,
    unsigned *ref)
{
	unsigned	 home = limit_home(t, key), i, at;
	unsigned	 mine = 0, spare = 0;
	uint64_t	 w, mine_w = 0, spare_w = 0;
	int		 found = 0, have_spare = 0, r;

	for (i = 0; i < LIMIT_WINDOW && !found; i++) {
		at = (home + i) & (t->lt_n - 1);
		if ((r = limit_entry_is(&t->lt_tab[at], key, &w)) == 1) {
			found = 1;
			mine = at;
			mine_w = w;
		} else if (r == 0 && WORD_COUNT(w) == 0 && !have_spare) {
			have_spare = 1;
			spare = at;
			spare_w = w;
		}
	}
	if (found) {
		if (!atomic_compare_exchange_strong(&t->lt_tab[mine].la_word,
		    &mine_w, mine_w + 1)) {
			errno = EAGAIN;
			return -1;
		}
		*ref = mine;
		return 0;
	}
	if (!have_spare) {
		errno = ENOSPC;
		return -1;
	}
	if (limit_claim(&t->lt_tab[spare], spare_w, key) == -1) {
		errno = EAGAIN;
		return -1;
	}
	*ref = spare;
	return 0;
}

int
limit_addr_take(const struct limit_table *t, const unsigned char *key,
    unsigned limit, unsigned *ref)
{
	int	tries;

	for (tries = 0; tries < LIMIT_TRIES; tries++) {
		if (limit_add(t, key, ref) == 0)
			break;
		if (errno != EAGAIN)
			return -1;
	}
	if (tries == LIMIT_TRIES)
		return -1;	/* errno EAGAIN */
	if (limit_addr_count(t, key) > limit) {
		limit_addr_release(t, *ref);
		errno = EDQUOT;
		return -1;
	}
	return 0;
}

void
limit_addr_release(const struct limit_table *t, unsigned ref)
{
	/*
	 * The count is at least 1 (ours), so the entry cannot be given to
	 * another address meanwhile: a plain decrement is safe.
	 */
	if (ref < t->lt_n)
		atomic_fetch_sub(&t->lt_tab[ref].la_word, 1);
}

int
limit_budget_take(_Atomic int64_t *tat, int64_t now_us, size_t bytes,
    unsigned rate, size_t burst)
{
	int64_t	cost, tau, old, base, next;

	if (rate == 0)
		return 0;
	cost = (int64_t)((bytes * 1000000ULL + rate - 1) / rate);
	tau = (int64_t)(burst * 1000000ULL / rate);
	old = atomic_load(tat);
	for (;;) {
		base = old > now_us ? old : now_us;
		next = base + cost;
		if (next - now_us > tau)
			return -1;
		/* A failure reloads old: another spent meanwhile. */
		if (atomic_compare_exchange_weak(tat, &old, next))
			return 0;
	}
}
