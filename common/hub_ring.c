/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * hub_ring.c -- the hub's message ring, and the back-pressure on it.
 *
 * Nobody takes a lock to publish, and a process stopped anywhere in
 * hub_publish (SIGSTOP, a debugger, starvation) holds up no other
 * writer and no reader.  Two parts make that so:
 *
 *   Areas.  Every writer (a worker slot, or the master's handle) has an
 *   area of its own, ring_size bytes, into which only it copies its
 *   records: a struct hub_rec and the text, padded to 8 bytes, at a_pos,
 *   a byte offset that only grows (byte o lives at o % ring_size; a
 *   record never straddles the end, the tail is skipped).  Before it
 *   copies, the writer moves a_reserve past the record, so a reader that
 *   copies a record and then finds a_reserve more than ring_size past it
 *   knows the copy may be torn (the writer lapped it) and drops it.
 *   Since nobody else writes an area, a writer stopped in the middle of
 *   a copy tears nothing of anyone else's when it resumes.
 *
 *   The index.  The global order is an array of index_n 64-bit entries
 *   (a power of two).  Record number t (from 0; its seq is t + 1) is
 *   entry t % index_n, and it is published by ONE compare-and-swap that
 *   turns that entry from "free for t" into "t, in area A at position
 *   P".  An entry carries a tag, the lap of the ring it was written in
 *   plus one, so "free for t" is the tag of lap(t) - 1 + 1 and "filled
 *   for t" the tag of lap(t) + 1: a reader tells a record of its lap
 *   from an older or a newer one without a lock, and a writer whose
 *   compare-and-swap finds anything but the exact value it read has
 *   lost the race (or was stopped past it) and tries the next entry.
 *   No word is ever half-written, so there is nothing to recover.
 *
 *   s_head counts the records published; the writer that fills entry t
 *   moves it from t to t + 1, and any writer that finds entry s_head
 *   already filled does it for it, so a writer stopped between its two
 *   compare-and-swaps delays nobody.  s_head may therefore be a few
 *   behind the truth for an instant: ring_head() looks past it.
 *
 * Wake-ups.  A worker sleeps in its event loop, so it is woken through a
 * descriptor (an eventfd on Linux) that hub_publish pokes.  A per-worker
 * flag, wake_pending, makes that one write per sleeping worker however
 * many records are published before it runs: the publisher pokes only
 * when it turns the flag on, the worker turns it off before it reads.
 *
 * Back-pressure: see hub_lag.
 */
#include <sys/types.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ev.h"
#include "hub_impl.h"
#include "util.h"

struct hub_rec {
	uint32_t		r_len;		/* whole record, padded */
	uint32_t		r_textlen;
	uint64_t		r_origin;
	uint64_t		r_target;
};

#define REC_MAX		hub_align_up(sizeof(struct hub_rec) + HUB_TEXT_MAX, \
			    HUB_ALIGN)

/* An index entry: tag (20 bits), area (7), position / 8 (37). */
#define ENT_TAG_BITS	20
#define ENT_AREA_BITS	7
#define ENT_POS_BITS	37
#define ENT_TAG_MASK	((1ULL << ENT_TAG_BITS) - 1)
#define ENT_AREA_MASK	((1ULL << ENT_AREA_BITS) - 1)
#define ENT_POS_MASK	((1ULL << ENT_POS_BITS) - 1)
#define ENT_TAG(e)	((e) >> (ENT_AREA_BITS + ENT_POS_BITS))
#define ENT_AREA(e)	(((e) >> ENT_POS_BITS) & ENT_AREA_MASK)
#define ENT_POS(e)	((e) & ENT_POS_MASK)

static void	hub_wake_others(struct hub *);

void		(*hub_test_publish_hook)(int);

/* Entries in the index of a ring of this size: one per 32 bytes, the
   size of a record of a short line, so the areas run out first. */
uint64_t
hub_ring_index_n(size_t ring_size)
{
	uint64_t	n = 1024;

	while (n < ring_size / 32)
		n *= 2;
	return n;
}

/*
 * The high-water mark of the back-pressure, in records: how far behind
 * the head the slowest live reader may fall before publishers wait.  It
 * bounds the latency that the ring adds: at 1,000 clients a worker fans
 * out ~10,000 records a second, so 512 records is ~50 ms, about what
 * one worker's own loop adds.  A small ring gets less: a quarter of its
 * index, and no more than half an area of the largest records, so that
 * a reader within the mark never finds a record overwritten.
 */
uint64_t
hub_ring_high_mark(size_t ring_size, uint64_t index_n)
{
	uint64_t	high = HUB_HIGH_MARK;

	if (high > index_n / 4)
		high = index_n / 4;
	if (high > ring_size / (2 * REC_MAX))
		high = ring_size / (2 * REC_MAX);
	return high > 2 ? high : 2;
}

/* The lap of record t, plus one, as an entry's tag: "filled for t". */
static uint64_t
tag_filled(const struct hub *h, uint64_t t)
{
	return (t / h->h_index_n + 1) & ENT_TAG_MASK;
}

/* The tag an entry has before record t is published in it. */
static uint64_t
tag_free(const struct hub *h, uint64_t t)
{
	return (t / h->h_index_n) & ENT_TAG_MASK;
}

static _Atomic uint64_t *
ring_entry(const struct hub *h, uint64_t t)
{
	return &h->h_index[t & (h->h_index_n - 1)];
}

/*
 * How many records are published: s_head, and past it the entries
 * filled by writers that have not moved s_head yet (at most one each).
 */
static uint64_t
ring_head(const struct hub *h)
{
	uint64_t	t, e;
	int		i;

	t = atomic_load_explicit(&h->h_sh->s_head, memory_order_acquire);
	for (i = 0; i <= HUB_WORKERS_MAX; i++) {
		e = atomic_load_explicit(ring_entry(h, t),
		    memory_order_acquire);
		if (ENT_TAG(e) != tag_filled(h, t))
			break;
		t++;
	}
	return t;
}

static unsigned char *
area_base(const struct hub *h, unsigned a)
{
	return h->h_areas + (size_t)a * h->h_ring_size;
}

/* Copy a record into this process's own area; where it starts. */
static uint64_t
area_write(struct hub *h, unsigned a, uint64_t origin, uint64_t target,
    const char *text, size_t len, size_t need)
{
	struct hub_area	*ar = &h->h_sh->s_areas[a];
	struct hub_rec	 rec;
	size_t		 ring = h->h_ring_size, off;
	uint64_t	 pos;

	pos = atomic_load_explicit(&ar->a_reserve, memory_order_relaxed);
	off = pos % ring;
	if (ring - off < need) {
		pos += ring - off;	/* skip the tail: never straddle */
		off = 0;
	}
	/* The reservation is visible before any byte of the record. */
	atomic_store_explicit(&ar->a_reserve, pos + need,
	    memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memset(&rec, 0, sizeof(rec));
	rec.r_len = (uint32_t)need;
	rec.r_textlen = (uint32_t)len;
	rec.r_origin = origin;
	rec.r_target = target;
	memcpy(area_base(h, a) + off, &rec, sizeof(rec));
	memcpy(area_base(h, a) + off + sizeof(rec), text, len);
	return pos;
}

uint64_t
hub_publish(struct hub *h, uint64_t origin, uint64_t target,
    const char *text, size_t len)
{
	struct hub_shared	*sh = h->h_sh;
	_Atomic uint64_t	*e;
	unsigned		 a;
	uint64_t		 pos, where, t, old, next;

	if (len > HUB_TEXT_MAX)
		len = HUB_TEXT_MAX;
	a = h->h_self >= 0 ? (unsigned)h->h_self : (unsigned)h->h_nworkers;
	pos = area_write(h, a, origin, target, text, len,
	    hub_align_up(sizeof(struct hub_rec) + len, HUB_ALIGN));
	where = ((uint64_t)a << ENT_POS_BITS) | ((pos / HUB_ALIGN) &
	    ENT_POS_MASK);
	if (hub_test_publish_hook != NULL)
		hub_test_publish_hook(1);

	for (;;) {
		t = atomic_load_explicit(&sh->s_head, memory_order_acquire);
		e = ring_entry(h, t);
		old = atomic_load_explicit(e, memory_order_acquire);
		if (ENT_TAG(old) == tag_filled(h, t)) {
			/* Its writer has not moved the head yet: help. */
			next = t + 1;
			atomic_compare_exchange_strong(&sh->s_head, &t, next);
			continue;
		}
		if (ENT_TAG(old) != tag_free(h, t))
			continue;	/* the head moved on meanwhile */
		/* The one store that publishes; release orders the copy. */
		if (atomic_compare_exchange_strong(e, &old,
		    (tag_filled(h, t) << (ENT_AREA_BITS + ENT_POS_BITS)) |
		    where))
			break;
	}
	if (hub_test_publish_hook != NULL)
		hub_test_publish_hook(2);
	next = t + 1;
	atomic_compare_exchange_strong(&sh->s_head, &(uint64_t){ t }, next);
	hub_wake_others(h);
	return t + 1;
}

/* Wake every other worker that is not already due to wake. */
static void
hub_wake_others(struct hub *h)
{
	struct hub_shared	*sh = h->h_sh;
	struct hub_slot		*s;
	int			 w;

	/* Pairs with the fence in hub_wake_ack: see the comment there. */
	atomic_thread_fence(memory_order_seq_cst);
	for (w = 0; w < h->h_nworkers; w++) {
		s = &sh->s_workers[w];
		if (w == h->h_self || h->h_wake[w] == -1 ||
		    atomic_load(&s->w_pid) == 0)
			continue;
		/*
		 * Read before writing: a busy worker's flag stays set, and
		 * a plain load leaves its cache line shared instead of
		 * pulling it over on every publish.
		 */
		if (atomic_load(&s->w_wake_pending) == 0 &&
		    atomic_exchange(&s->w_wake_pending, 1) == 0)
			wake_post(h->h_wake[w]);
	}
}

void
hub_kick_accept(struct hub *h)
{
	struct hub_shared	*sh = h->h_sh;
	int			 w;

	for (w = 0; w < h->h_nworkers; w++)
		if (w != h->h_self)
			atomic_store(&sh->s_workers[w].w_kick, 1);
	hub_wake_others(h);
}

int
hub_kicked(struct hub *h)
{
	return atomic_exchange(&h->h_sh->s_workers[h->h_self].w_kick, 0);
}

void
hub_wake_ack(struct hub *h)
{
	struct hub_slot	*s = &h->h_sh->s_workers[h->h_self];

	/*
	 * Store-then-load on both sides (publisher: the entry, then the
	 * flag; reader: the flag, then the entry) with a full fence between:
	 * at least one of them sees the other's store, so no record is left
	 * unseen by a sleeping worker.
	 */
	atomic_store(&s->w_wake_pending, 0);
	atomic_thread_fence(memory_order_seq_cst);
}

uint64_t
hub_head(const struct hub *h)
{
	return ring_head(h);
}

uint64_t
hub_ring_slots(const struct hub *h)
{
	return h->h_index_n;
}

uint64_t
hub_test_area_pos(const struct hub *h)
{
	unsigned	a = h->h_self >= 0 ? (unsigned)h->h_self :
			    (unsigned)h->h_nworkers;

	return atomic_load(&h->h_sh->s_areas[a].a_reserve);
}

uint64_t
hub_backlog(const struct hub *h, const struct hub_cursor *cur)
{
	uint64_t	head = ring_head(h);

	return head > cur->hc_seq ? head - cur->hc_seq : 0;
}

void
hub_cursor_init(struct hub *h, struct hub_cursor *cur)
{
	cur->hc_seq = ring_head(h);
}

/*
 * Copy record t, published in entry e, into *msg: 1, or 0 if its
 * writer has overwritten it (its area lapped) or it makes no sense.
 */
static int
ring_copy(struct hub *h, uint64_t e, struct hub_msg *msg)
{
	struct hub_area	*ar;
	struct hub_rec	 rec;
	size_t		 ring = h->h_ring_size, off;
	uint64_t	 reserve, units, pos;
	unsigned	 a = (unsigned)ENT_AREA(e);

	if (a >= (unsigned)HUB_AREAS(h->h_nworkers))
		return 0;
	ar = &h->h_sh->s_areas[a];
	/* The whole position, from its low bits and the area's reserve. */
	reserve = atomic_load_explicit(&ar->a_reserve, memory_order_acquire);
	units = reserve / HUB_ALIGN;
	pos = (units - ((units - ENT_POS(e)) & ENT_POS_MASK)) * HUB_ALIGN;
	off = pos % ring;
	if (ring - off < sizeof(rec))
		return 0;
	memcpy(&rec, area_base(h, a) + off, sizeof(rec));
	/* Sizes are checked before use: the copy may be torn. */
	if (rec.r_len < sizeof(rec) || rec.r_len > ring - off ||
	    rec.r_textlen > rec.r_len - sizeof(rec) ||
	    rec.r_textlen > HUB_TEXT_MAX)
		return 0;
	memcpy(msg->m_text, area_base(h, a) + off + sizeof(rec),
	    rec.r_textlen);
	atomic_thread_fence(memory_order_acquire);
	reserve = atomic_load_explicit(&ar->a_reserve, memory_order_relaxed);
	if (reserve - pos > ring)
		return 0;		/* overwritten while we copied */
	msg->m_origin = rec.r_origin;
	msg->m_target = rec.r_target;
	msg->m_len = rec.r_textlen;
	return 1;
}

enum hub_read_result
hub_read(struct hub *h, struct hub_cursor *cur, struct hub_msg *msg,
    uint64_t *lost)
{
	uint64_t	t, e, head, gone = 0;

	for (t = cur->hc_seq;; t++) {
		head = atomic_load_explicit(&h->h_sh->s_head,
		    memory_order_acquire);
		if (head > t && head - t > h->h_index_n)
			goto lapped;
		e = atomic_load_explicit(ring_entry(h, t),
		    memory_order_acquire);
		if (ENT_TAG(e) == tag_free(h, t))
			break;		/* not published yet */
		if (ENT_TAG(e) != tag_filled(h, t))
			goto lapped;	/* a later lap took the entry */
		if (ring_copy(h, e, msg))
			break;
		/*
		 * Its writer lapped its own area: this record is gone, the
		 * others' may not be.  Count the run, report it first.
		 */
		gone++;
	}
	if (gone > 0) {
		cur->hc_seq = t;	/* the record after, read again */
		*lost = gone;
		return HUB_LOST;
	}
	if (ENT_TAG(e) == tag_free(h, t))
		return HUB_EMPTY;
	cur->hc_seq = t + 1;
	msg->m_seq = t + 1;
	return HUB_MSG;
lapped:
	/* A full ring behind: skip to the head, count what was skipped. */
	head = ring_head(h);
	*lost = head - cur->hc_seq;
	cur->hc_seq = head;
	return HUB_LOST;
}

/*
 * Back-pressure.  Each worker publishes how far it has read (w_cursor,
 * in records) and when it was last seen running (w_beat_ms).  The lag
 * is the distance from the head to the slowest live worker that still
 * counts as a reader: one that is caught up does not hold anyone back,
 * and one that has not beaten for HUB_STALL_MS (stopped, starved) is
 * untethered and no longer counts; it resynchronises when it runs again.
 */
uint64_t
hub_lag(const struct hub *h, int64_t now, int64_t *untether_ms)
{
	struct hub_shared	*sh = h->h_sh;
	const struct hub_slot	*s;
	uint64_t		 head, min, cur;
	int64_t			 age, soonest = -1;
	int			 w;

	head = ring_head(h);
	min = head;
	for (w = 0; w < h->h_nworkers; w++) {
		s = &sh->s_workers[w];
		if (atomic_load_explicit(&s->w_pid, memory_order_relaxed) == 0)
			continue;
		cur = atomic_load_explicit(&s->w_cursor, memory_order_acquire);
		if (cur >= head)
			continue;
		age = now - atomic_load_explicit(&s->w_beat_ms,
		    memory_order_relaxed);
		if (age > HUB_STALL_MS)
			continue;
		if (cur < min)
			min = cur;
		if (soonest == -1 || HUB_STALL_MS - age + 1 < soonest)
			soonest = HUB_STALL_MS - age + 1;
	}
	if (untether_ms != NULL)
		*untether_ms = soonest;
	return head - min;
}

uint64_t
hub_high(const struct hub *h)
{
	return h->h_sh->s_high;
}

/* Wake every held worker if the lag is down to the low mark. */
void
hub_wake_held(struct hub *h)
{
	struct hub_shared	*sh = h->h_sh;
	uint64_t		 held;
	int			 w;

	if (atomic_load(&sh->s_held) == 0 ||
	    hub_lag(h, now_ms(), NULL) > sh->s_low)
		return;
	held = atomic_exchange(&sh->s_held, 0);
	for (w = 0; w < h->h_nworkers; w++)
		if ((held & ((uint64_t)1 << w)) && w != h->h_self &&
		    h->h_wake[w] != -1)
			wake_post(h->h_wake[w]);
}

void
hub_worker_beat(struct hub *h, const struct hub_cursor *cur, int64_t now)
{
	struct hub_slot	*s = &h->h_sh->s_workers[h->h_self];

	atomic_store_explicit(&s->w_cursor, cur->hc_seq, memory_order_release);
	atomic_store_explicit(&s->w_beat_ms, now, memory_order_relaxed);
	/*
	 * Store-then-load against hub_hold's: a worker that starts to wait
	 * as this one moves on either sees the new cursor or is woken.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	hub_wake_held(h);
}

int
hub_hold(struct hub *h, int64_t now, int64_t *untether_ms)
{
	struct hub_shared	*sh = h->h_sh;
	uint64_t		 bit = (uint64_t)1 << h->h_self;

	atomic_fetch_or(&sh->s_held, bit);
	atomic_thread_fence(memory_order_seq_cst);
	if (hub_lag(h, now, untether_ms) > sh->s_low)
		return 1;
	atomic_fetch_and(&sh->s_held, ~bit);
	return 0;
}
