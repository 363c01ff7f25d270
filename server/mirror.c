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

#include "log.h"
#include "mirror.h"
#include "proto.h"

#define NICK_WORDS	3		/* PROTO_NICK_MAX + 1 bytes */
#define ADDR_WORDS	(PROTO_ADDR_MAX / 8)
/*
 * A reader looks at a slot (or walks the table) this many times before
 * it takes it as empty: only a writer descheduled, or killed, in the
 * middle of a change keeps it odd that long.
 */
#define MIRROR_TRIES	64

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
	_Atomic uint64_t	 t_gen;		/* odd while rebuilt */
	_Atomic uint64_t	 t_used;	/* entries */
	_Atomic uint64_t	 t_gone;	/* tombstones */
	_Atomic uint64_t	 t_epoch;
	uint64_t		 t_cap;		/* slots, a power of two */
	uint64_t		 t_max;		/* entries at most */
	int			 t_by_nick;	/* keyed by name, not by id */
	int			 t_full;	/* the writer said it is full */
	struct mslot		*t_slots;
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
	size = sizeof(*m) + 2 * (size_t)cap * sizeof(struct mslot);
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
		m->m_tab[i].t_slots = (struct mslot *)(m + 1) + (size_t)i * cap;
	}
	return m;
}

unsigned
mirror_capacity(const struct mirror *m)
{
	return (unsigned)m->m_tab[0].t_max;
}

/* splitmix64's finish: ids differ mostly in their low bits. */
static uint64_t
hash_id(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
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

static uint64_t
home(const struct mtable *t, uint64_t id, const char *nick)
{
	return (t->t_by_nick ? hash_nick(nick) : hash_id(id)) & (t->t_cap - 1);
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

/* A reader's consistent copy of a slot; 0, or -1 if it kept changing. */
static int
slot_read(const struct mslot *s, struct mcopy *c)
{
	uint64_t	g1, g2;
	int		try;

	for (try = 0; try < MIRROR_TRIES; try++) {
		if (try > 0)
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

/* The writer: the slot of key (id or nick), or -1 with *hole a place. */
static int64_t
writer_find(const struct mtable *t, uint64_t id, const char *nick,
    int64_t *hole)
{
	struct mcopy	c;
	uint64_t	i, n;

	*hole = -1;
	i = home(t, id, nick);
	for (n = 0; n < t->t_cap; n++, i = (i + 1) & (t->t_cap - 1)) {
		slot_fields(&t->t_slots[i], &c);
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
 * Tombstones fill the table: every entry again from its home, no
 * tombstone left.  Readers that overlap see the table's counter move
 * and look again.
 */
static void
rebuild(struct mtable *t)
{
	struct mcopy	*live, c, fresh;
	uint64_t	 i, n = 0, g;
	int64_t		 hole;

	if ((live = calloc(atomic_load(&t->t_used) + 1,
	    sizeof(*live))) == NULL) {
		log_warn("mirror: rebuild");
		return;
	}
	g = atomic_load_explicit(&t->t_gen, memory_order_relaxed) | 1;
	atomic_store_explicit(&t->t_gen, g, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memset(&fresh, 0, sizeof(fresh));
	for (i = 0; i < t->t_cap; i++) {
		slot_fields(&t->t_slots[i], &c);
		if (c.state == SLOT_USED && n < atomic_load(&t->t_used))
			live[n++] = c;
		if (c.state != SLOT_FREE)
			slot_write(&t->t_slots[i], &fresh);
	}
	for (i = 0; i < n; i++) {
		(void)writer_find(t, live[i].id, live[i].nick, &hole);
		slot_write(&t->t_slots[hole], &live[i]);
	}
	atomic_store(&t->t_used, n);
	atomic_store(&t->t_gone, 0);
	atomic_store_explicit(&t->t_gen, g + 1, memory_order_release);
	free(live);
}

static int
put(struct mtable *t, const struct mcopy *c)
{
	int64_t	at, hole;

	if ((at = writer_find(t, c->id, c->nick, &hole)) >= 0) {
		slot_write(&t->t_slots[at], c);
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
		(void)writer_find(t, c->id, c->nick, &hole);
	}
	if (atomic_load_explicit(&t->t_slots[hole].s_state,
	    memory_order_relaxed) == SLOT_GONE)
		atomic_fetch_sub(&t->t_gone, 1);
	slot_write(&t->t_slots[hole], c);
	atomic_fetch_add(&t->t_used, 1);
	return 0;
}

static void
take_out(struct mtable *t, uint64_t id, const char *nick)
{
	struct mcopy	c;
	int64_t		at, hole;

	if ((at = writer_find(t, id, nick, &hole)) < 0)
		return;
	slot_fields(&t->t_slots[at], &c);
	c.state = SLOT_GONE;
	slot_write(&t->t_slots[at], &c);
	atomic_fetch_sub(&t->t_used, 1);
	atomic_fetch_add(&t->t_gone, 1);
}

/*
 * A new writer: a slot left odd by a bridge that died in the middle of
 * a change is a tombstone, and the counts are made again.
 */
uint64_t
mirror_begin(struct mirror *m, enum mirror_table which)
{
	struct mtable	*t = tab(m, which);
	struct mcopy	 c;
	uint64_t	 i, used = 0, gone = 0, g;

	for (i = 0; i < t->t_cap; i++) {
		g = atomic_load(&t->t_slots[i].s_gen);
		slot_fields(&t->t_slots[i], &c);
		if (g & 1) {
			c.state = SLOT_GONE;
			slot_write(&t->t_slots[i], &c);
		}
		used += c.state == SLOT_USED;
		gone += c.state == SLOT_GONE;
	}
	atomic_store(&t->t_used, used);
	atomic_store(&t->t_gone, gone);
	if ((g = atomic_load(&t->t_gen)) & 1)
		atomic_store(&t->t_gen, g + 1);
	t->t_full = 0;
	return atomic_fetch_add(&t->t_epoch, 1) + 1;
}

unsigned
mirror_sweep(struct mirror *m, enum mirror_table which, uint64_t epoch)
{
	struct mtable	*t = tab(m, which);
	struct mcopy	 c;
	uint64_t	 i;
	unsigned	 n = 0;

	for (i = 0; i < t->t_cap; i++) {
		slot_fields(&t->t_slots[i], &c);
		if (c.state != SLOT_USED || c.epoch == epoch)
			continue;
		c.state = SLOT_GONE;
		slot_write(&t->t_slots[i], &c);
		atomic_fetch_sub(&t->t_used, 1);
		atomic_fetch_add(&t->t_gone, 1);
		n++;
	}
	return n;
}

int
mirror_who_put(struct mirror *m, uint64_t epoch, uint64_t id,
    const char *nick, const char *addr)
{
	struct mcopy	c;

	memset(&c, 0, sizeof(c));
	c.state = SLOT_USED;
	c.id = id;
	c.epoch = epoch;
	strncpy(c.nick, nick, PROTO_NICK_MAX);
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

	memset(&c, 0, sizeof(c));
	c.state = SLOT_USED;
	c.id = id;
	c.epoch = epoch;
	strncpy(c.nick, nick, PROTO_NICK_MAX);
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

unsigned
mirror_who_scan(const struct mirror *m, uint64_t *pos,
    int (*fn)(const struct hub_client_info *, void *), void *arg,
    unsigned max)
{
	const struct mtable	*t = &m->m_tab[0];
	struct hub_client_info	 ci;
	struct mcopy		 c;
	uint64_t		 i;
	unsigned		 seen = 0;

	for (i = *pos; i < t->t_cap && seen < max; i++) {
		if (atomic_load_explicit(&t->t_slots[i].s_state,
		    memory_order_relaxed) != SLOT_USED ||
		    slot_read(&t->t_slots[i], &c) == -1 ||
		    c.state != SLOT_USED)
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

uint64_t
mirror_nick_find(const struct mirror *m, const char *nick, char *exact,
    size_t len)
{
	const struct mtable	*t = &m->m_tab[1];
	struct mtable		*wt = (struct mtable *)(uintptr_t)t;
	struct mcopy		 c;
	uint64_t		 g, i, n, id;
	int			 try;

	for (try = 0; try < MIRROR_TRIES; try++) {
		if (try > 0)
			sched_yield();
		g = atomic_load_explicit(&wt->t_gen, memory_order_acquire);
		if (g & 1)
			continue;
		id = 0;
		i = home(t, 0, nick);
		for (n = 0; n < t->t_cap; n++, i = (i + 1) & (t->t_cap - 1)) {
			if (slot_read(&t->t_slots[i], &c) == -1)
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
		if (atomic_load_explicit(&wt->t_gen, memory_order_relaxed) == g)
			return id;
	}
	return 0;
}
