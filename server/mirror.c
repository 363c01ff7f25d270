/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * mirror.c -- the other hosts' clients, copied from the cluster's
 * buckets by the bridge, read by the workers without a lock (mirror.h).
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS */

#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "mirror.h"
#include "proto.h"
#include "util.h"

#define NICK_WORDS	3		/* PROTO_NICK_MAX + 1 bytes */
#define ADDR_WORDS	(PROTO_ADDR_MAX / 8)
/*
 * How long a reader waits for a slot that is being changed (slot_read),
 * and how many times it looks for a name again when a rebuild moved
 * the table under it.
 */
#define MIRROR_TRIES	64
#define MIRROR_SLEEPS	20
#define MIRROR_SLEEP_NS	250000		/* 5 ms in all */

enum { SLOT_FREE, SLOT_USED, SLOT_GONE };

/* One entry: 16 words, two to a cache line. */
struct mslot {
	_Atomic uint64_t	s_gen;		/* odd while written */
	_Atomic uint64_t	s_state;	/* SLOT_* */
	_Atomic uint64_t	s_id;
	_Atomic uint64_t	s_epoch;	/* the writer's: put since begin */
	_Atomic uint64_t	s_nick[NICK_WORDS];
	_Atomic uint64_t	s_addr[ADDR_WORDS];
	_Atomic uint64_t	s_pad;
};

/* What a reader or the writer copies out of a slot. */
struct mcopy {
	uint64_t	state, id, epoch;
	char		nick[NICK_WORDS * 8];
	char		addr[ADDR_WORDS * 8];
};

struct mtable {
	_Atomic uint64_t	 t_cur;		/* t_slots[t_cur & 1] is read */
	_Atomic uint64_t	 t_used;	/* entries */
	_Atomic uint64_t	 t_gone;	/* tombstones */
	_Atomic uint64_t	 t_epoch;
	uint64_t		 t_cap;		/* slots, a power of two */
	uint64_t		 t_max;		/* entries at most */
	int			 t_by_nick;	/* keyed by name, not by id */
	int			 t_full;	/* the writer said it is full */
	struct mslot		*t_slots[2];	/* the table and its rebuild */
};

struct mirror {
	struct mtable	m_tab[2];	/* MIRROR_WHO, MIRROR_NICKS */
	size_t		m_size;
};

static struct mtable *
tab(struct mirror *m, enum mirror_table t)
{
	return &m->m_tab[t == MIRROR_NICKS];
}

struct mirror *
mirror_create(unsigned max_clients)
{
	struct mirror	*m;
	uint64_t	 max, cap;
	size_t		 size;
	void		*p;
	int		 i;

	max = (uint64_t)max_clients * MIRROR_HOSTS;
	if (max < MIRROR_MIN)
		max = MIRROR_MIN;
	if (max > MIRROR_MAX)
		max = MIRROR_MAX;
	/* At most half full: probes stay short. */
	for (cap = 1; cap < 2 * max; cap <<= 1)
		;
	size = sizeof(*m) + 4 * (size_t)cap * sizeof(struct mslot);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Zeros: every slot free, every counter even. */
	m = p;
	m->m_size = size;
	for (i = 0; i < 2; i++) {
		m->m_tab[i].t_cap = cap;
		m->m_tab[i].t_max = max;
		m->m_tab[i].t_by_nick = i == 1;
		m->m_tab[i].t_slots[0] = (struct mslot *)(m + 1) +
		    (size_t)i * 2 * cap;
		m->m_tab[i].t_slots[1] = m->m_tab[i].t_slots[0] + cap;
	}
	return m;
}

unsigned
mirror_capacity(const struct mirror *m)
{
	return (unsigned)m->m_tab[0].t_max;
}

/* FNV-1a over the name in lower case: names are unique in any case. */
static uint64_t
hash_nick(const char *nick)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	unsigned char	c;

	for (; *nick != '\0'; nick++) {
		c = (unsigned char)*nick;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h;
}

/* The slots readers read now; the writer's, acquired by readers. */
static struct mslot *
cur(const struct mtable *t, uint64_t *gen)
{
	struct mtable	*wt = (struct mtable *)(uintptr_t)t;
	uint64_t	 g;

	g = atomic_load_explicit(&wt->t_cur, memory_order_acquire);
	if (gen != NULL)
		*gen = g;
	return t->t_slots[g & 1];
}

static uint64_t
home(const struct mtable *t, uint64_t id, const char *nick)
{
	return (t->t_by_nick ? hash_nick(nick) : mix64(id)) & (t->t_cap - 1);
}

static int
matches(const struct mtable *t, const struct mcopy *c, uint64_t id,
    const char *nick)
{
	return t->t_by_nick ? strcasecmp(c->nick, nick) == 0 : c->id == id;
}

static void
words_out(char *dst, _Atomic uint64_t *w, int n)
{
	uint64_t	v;
	int		i;

	for (i = 0; i < n; i++) {
		v = atomic_load_explicit(&w[i], memory_order_relaxed);
		memcpy(dst + i * 8, &v, 8);
	}
}

static void
words_in(_Atomic uint64_t *w, const char *src, int n)
{
	uint64_t	v;
	int		i;

	for (i = 0; i < n; i++) {
		memcpy(&v, src + i * 8, 8);
		atomic_store_explicit(&w[i], v, memory_order_relaxed);
	}
}

/* The fields, without the counter: the writer's own view, or a try. */
static void
slot_fields(const struct mslot *cs, struct mcopy *c)
{
	struct mslot	*s = (struct mslot *)(uintptr_t)cs;

	c->state = atomic_load_explicit(&s->s_state, memory_order_relaxed);
	c->id = atomic_load_explicit(&s->s_id, memory_order_relaxed);
	c->epoch = atomic_load_explicit(&s->s_epoch, memory_order_relaxed);
	words_out(c->nick, s->s_nick, NICK_WORDS);
	words_out(c->addr, s->s_addr, ADDR_WORDS);
	/* Made by another process: never trusted to end. */
	c->nick[sizeof(c->nick) - 1] = '\0';
	c->nick[PROTO_NICK_MAX] = '\0';
	c->addr[sizeof(c->addr) - 1] = '\0';
}

/*
 * A reader's consistent copy of a slot; 0, or -1 if it kept changing
 * for MIRROR_TRIES yields and MIRROR_SLEEPS short sleeps: a writer
 * descheduled in the middle of a change is waited for, one killed
 * there is not (its successor's mirror_begin mends the slot).
 */
static int
slot_read(const struct mslot *s, struct mcopy *c)
{
	struct timespec	ts = { 0, MIRROR_SLEEP_NS };
	uint64_t	g1, g2;
	int		try;

	for (try = 0; try < MIRROR_TRIES + MIRROR_SLEEPS; try++) {
		if (try >= MIRROR_TRIES)
			nanosleep(&ts, NULL);
		else if (try > 0)
			sched_yield();
		g1 = atomic_load_explicit(&s->s_gen, memory_order_acquire);
		if (g1 & 1)
			continue;
		slot_fields(s, c);
		atomic_thread_fence(memory_order_acquire);
		g2 = atomic_load_explicit(&s->s_gen, memory_order_relaxed);
		if (g1 == g2)
			return 0;
	}
	return -1;
}

/* The writer: the slot becomes c. */
static void
slot_write(struct mslot *s, const struct mcopy *c)
{
	uint64_t	g;

	g = atomic_load_explicit(&s->s_gen, memory_order_relaxed);
	if (g & 1)
		g++;		/* a bridge died while it wrote */
	atomic_store_explicit(&s->s_gen, g + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->s_state, c->state, memory_order_relaxed);
	atomic_store_explicit(&s->s_id, c->id, memory_order_relaxed);
	atomic_store_explicit(&s->s_epoch, c->epoch, memory_order_relaxed);
	words_in(s->s_nick, c->nick, NICK_WORDS);
	words_in(s->s_addr, c->addr, ADDR_WORDS);
	atomic_store_explicit(&s->s_gen, g + 2, memory_order_release);
}

/*
 * The writer: the slot of key (id or nick) in slots, or -1 with *hole
 * a place for it.
 */
static int64_t
writer_find(const struct mtable *t, const struct mslot *slots, uint64_t id,
    const char *nick, int64_t *hole)
{
	struct mcopy	c;
	uint64_t	i, n;

	*hole = -1;
	i = home(t, id, nick);
	for (n = 0; n < t->t_cap; n++, i = (i + 1) & (t->t_cap - 1)) {
		slot_fields(&slots[i], &c);
		if (c.state == SLOT_FREE) {
			if (*hole == -1)
				*hole = (int64_t)i;
			return -1;
		}
		if (c.state == SLOT_GONE) {
			if (*hole == -1)
				*hole = (int64_t)i;
		} else if (matches(t, &c, id, nick))
			return (int64_t)i;
	}
	return -1;
}

/*
 * Tombstones fill the table: every entry again from its home, without
 * tombstones, in the other half, which then becomes the one read.  A
 * reader never waits for it: it reads the old half meanwhile, which
 * stays as it is until the next rebuild, cap / 4 changes later, and a
 * reader that saw t_cur move looks again.
 */
static void
rebuild(struct mtable *t)
{
	struct mslot	*from, *to;
	struct mcopy	 c, fresh;
	uint64_t	 g, i, n = 0;
	int64_t		 hole;

	from = cur(t, &g);
	to = t->t_slots[(g + 1) & 1];
	memset(&fresh, 0, sizeof(fresh));
	for (i = 0; i < t->t_cap; i++)
		if (atomic_load_explicit(&to[i].s_state,
		    memory_order_relaxed) != SLOT_FREE)
			slot_write(&to[i], &fresh);
	for (i = 0; i < t->t_cap; i++) {
		slot_fields(&from[i], &c);
		if (c.state != SLOT_USED)
			continue;
		(void)writer_find(t, to, c.id, c.nick, &hole);
		slot_write(&to[hole], &c);
		n++;
	}
	atomic_store(&t->t_used, n);
	atomic_store(&t->t_gone, 0);
	atomic_store_explicit(&t->t_cur, g + 1, memory_order_release);
}

static int
put(struct mtable *t, const struct mcopy *c)
{
	struct mslot	*slots = cur(t, NULL);
	int64_t		 at, hole;

	if ((at = writer_find(t, slots, c->id, c->nick, &hole)) >= 0) {
		slot_write(&slots[at], c);
		return 0;
	}
	if (atomic_load(&t->t_used) >= t->t_max) {
		if (!t->t_full)
			log_warnx("mirror of %s: full (%llu clients); the "
			    "others are not listed or found here",
			    t->t_by_nick ? "names" : "/who",
			    (unsigned long long)t->t_max);
		t->t_full = 1;
		return -1;
	}
	t->t_full = 0;
	if (atomic_load(&t->t_used) + atomic_load(&t->t_gone) + 1 >
	    t->t_cap / 4 * 3) {
		rebuild(t);
		slots = cur(t, NULL);
		(void)writer_find(t, slots, c->id, c->nick, &hole);
	}
	if (atomic_load_explicit(&slots[hole].s_state,
	    memory_order_relaxed) == SLOT_GONE)
		atomic_fetch_sub(&t->t_gone, 1);
	slot_write(&slots[hole], c);
	atomic_fetch_add(&t->t_used, 1);
	return 0;
}

static void
take_out(struct mtable *t, uint64_t id, const char *nick)
{
	struct mslot	*slots = cur(t, NULL);
	struct mcopy	 c;
	int64_t		 at, hole;

	if ((at = writer_find(t, slots, id, nick, &hole)) < 0)
		return;
	slot_fields(&slots[at], &c);
	c.state = SLOT_GONE;
	slot_write(&slots[at], &c);
	atomic_fetch_sub(&t->t_used, 1);
	atomic_fetch_add(&t->t_gone, 1);
}

/*
 * A new writer: a slot left odd by a bridge that died in the middle of
 * a change is a tombstone, and the counts are made again.  A rebuild
 * it died in never became the half read.
 */
uint64_t
mirror_begin(struct mirror *m, enum mirror_table which)
{
	struct mtable	*t = tab(m, which);
	struct mslot	*slots = cur(t, NULL);
	struct mcopy	 c;
	uint64_t	 i, used = 0, gone = 0;

	for (i = 0; i < t->t_cap; i++) {
		slot_fields(&slots[i], &c);
		if (atomic_load(&slots[i].s_gen) & 1) {
			c.state = SLOT_GONE;
			slot_write(&slots[i], &c);
		}
		used += c.state == SLOT_USED;
		gone += c.state == SLOT_GONE;
	}
	atomic_store(&t->t_used, used);
	atomic_store(&t->t_gone, gone);
	t->t_full = 0;
	return atomic_fetch_add(&t->t_epoch, 1) + 1;
}

unsigned
mirror_sweep(struct mirror *m, enum mirror_table which, uint64_t epoch)
{
	struct mtable	*t = tab(m, which);
	struct mslot	*slots = cur(t, NULL);
	struct mcopy	 c;
	uint64_t	 i;
	unsigned	 n = 0;

	for (i = 0; i < t->t_cap; i++) {
		slot_fields(&slots[i], &c);
		if (c.state != SLOT_USED || c.epoch == epoch)
			continue;
		c.state = SLOT_GONE;
		slot_write(&slots[i], &c);
		atomic_fetch_sub(&t->t_used, 1);
		atomic_fetch_add(&t->t_gone, 1);
		n++;
	}
	return n;
}

/* An entry to put: in use, with its id, epoch and name. */
static void
mcopy_init(struct mcopy *c, uint64_t epoch, uint64_t id, const char *nick)
{
	memset(c, 0, sizeof(*c));
	c->state = SLOT_USED;
	c->id = id;
	c->epoch = epoch;
	strncpy(c->nick, nick, PROTO_NICK_MAX);
}

int
mirror_who_put(struct mirror *m, uint64_t epoch, uint64_t id,
    const char *nick, const char *addr)
{
	struct mcopy	c;

	mcopy_init(&c, epoch, id, nick);
	strncpy(c.addr, addr, sizeof(c.addr) - 1);
	return put(tab(m, MIRROR_WHO), &c);
}

void
mirror_who_remove(struct mirror *m, uint64_t id)
{
	take_out(tab(m, MIRROR_WHO), id, "");
}

int
mirror_nick_put(struct mirror *m, uint64_t epoch, const char *nick,
    uint64_t id)
{
	struct mcopy	c;

	mcopy_init(&c, epoch, id, nick);
	return put(tab(m, MIRROR_NICKS), &c);
}

void
mirror_nick_remove(struct mirror *m, const char *nick)
{
	char	key[PROTO_NICK_MAX + 1];

	strncpy(key, nick, PROTO_NICK_MAX);
	key[PROTO_NICK_MAX] = '\0';
	take_out(tab(m, MIRROR_NICKS), 0, key);
}

/*
 * A listing goes through the half read now, a step at a time.  If a
 * rebuild moves the entries between two steps (cap / 4 changes happen
 * meanwhile), it goes on at the same place in the new half, and may
 * list a client twice or not at all: a rare /who on a busy cluster.
 */
unsigned
mirror_who_scan(const struct mirror *m, uint64_t *pos,
    int (*fn)(const struct hub_client_info *, void *), void *arg,
    unsigned max)
{
	const struct mtable	*t = &m->m_tab[0];
	const struct mslot	*slots = cur(t, NULL);
	struct hub_client_info	 ci;
	struct mcopy		 c;
	uint64_t		 i;
	unsigned		 seen = 0;

	for (i = *pos; i < t->t_cap && seen < max; i++) {
		if (atomic_load_explicit(&((struct mslot *)(uintptr_t)
		    slots)[i].s_state, memory_order_relaxed) != SLOT_USED ||
		    slot_read(&slots[i], &c) == -1 || c.state != SLOT_USED)
			continue;
		memset(&ci, 0, sizeof(ci));
		ci.ci_id = c.id;
		ci.ci_worker = -1;
		memcpy(ci.ci_nick, c.nick, sizeof(ci.ci_nick));
		ci.ci_nick[PROTO_NICK_MAX] = '\0';
		memcpy(ci.ci_addr, c.addr, sizeof(ci.ci_addr));
		ci.ci_addr[sizeof(ci.ci_addr) - 1] = '\0';
		seen++;
		if (fn(&ci, arg) != 0) {
			i++;
			break;
		}
	}
	*pos = i < t->t_cap ? i : HUB_SCAN_END;
	return seen;
}

unsigned
mirror_who_count(const struct mirror *m)
{
	return (unsigned)atomic_load(&((struct mirror *)(uintptr_t)m)->
	    m_tab[0].t_used);
}

/*
 * A name's entry: looked for again if a rebuild made another half the
 * one read while it looked (a miss there might be a moved entry).
 */
uint64_t
mirror_nick_find(const struct mirror *m, const char *nick, char *exact,
    size_t len)
{
	const struct mtable	*t = &m->m_tab[1];
	struct mtable		*wt = (struct mtable *)(uintptr_t)t;
	const struct mslot	*slots;
	struct mcopy		 c;
	uint64_t		 g, i, n, id = 0;
	int			 try;

	for (try = 0; try < MIRROR_TRIES; try++) {
		slots = cur(t, &g);
		id = 0;
		i = home(t, 0, nick);
		for (n = 0; n < t->t_cap; n++, i = (i + 1) & (t->t_cap - 1)) {
			if (slot_read(&slots[i], &c) == -1)
				continue;
			if (c.state == SLOT_FREE)
				break;
			if (c.state == SLOT_USED && matches(t, &c, 0, nick)) {
				id = c.id;
				snprintf(exact, len, "%s", c.nick);
				break;
			}
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&wt->t_cur, memory_order_relaxed) == g)
			break;
	}
	return id;
}
