/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub_ring.c -- the shared-memory ring: publishing and reading,
 * records of every size wrapping a writer's area, readers falling
 * behind and told how much they lost, the backlog.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"
#include "hub_helpers.h"
#include "unit.h"


static void	t_name(void);
static void	t_create_args(void);
static void	t_publish_read(void);
static void	t_cursor_init(void);
static void	t_text_max(void);
static void	t_wrap(void);
static void	t_wrap_edges(void);
static void	t_lost_all(void);
static void	t_lost_partial(void);
static void	t_one_ring_behind(void);
static void	t_lost_area(void);
static void	t_backlog(void);

static void
t_name(void)
{
	char	buf[HUB_NAME_MAX], small[8];

	hub_name(buf, sizeof(buf), "127.0.0.1", 8080);
	CHECK_STR(buf, "/chatd-127.0.0.1-8080");
	hub_name(buf, sizeof(buf), "::", 0);
	CHECK_STR(buf, "/chatd-::-0");
	hub_name(small, sizeof(small), "127.0.0.2", 65535);
	CHECK_STR(small, "/chatd-");
}

static void
t_create_args(void)
{
	struct hub	*h;
	char		*name = thub_new_name();
	int		 fd;

	errno = 0;
	CHECK((h = hub_create(name, HUB_RING_MIN, 0, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MIN, HUB_WORKERS_MAX + 1,
	    10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MIN - 8, 1, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MIN + 4, 1, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	CHECK((h = hub_create(name, HUB_RING_MAX + 8, 1, 10)) == NULL);
	CHECK_INT(errno, EINVAL);
	hub_detach(h);
	/* Nothing was made. */
	CHECK((fd = shm_open(name, O_RDONLY, 0)) == -1);
	CHECK_INT(errno, ENOENT);
	if (fd != -1)
		close(fd);
	/* The extremes that are allowed. */
	h = thub_open(HUB_RING_MIN, HUB_WORKERS_MAX, 0);
	if (CHECK(h != NULL)) {
		CHECK_INT(hub_nworkers(h), HUB_WORKERS_MAX);
		CHECK_UINT(hub_ring_size(h), HUB_RING_MIN);
	}
	thub_close(h);
}

static void
t_publish_read(void)
{
	struct hub		*h;
	struct hub_cursor	 a, b;
	struct hub_msg		 msg;
	uint64_t		 lost;

	if ((h = thub_open(HUB_RING_MIN, 4, 16)) == NULL)
		return;
	CHECK_UINT(hub_head(h), 0);
	hub_cursor_init(h, &a);
	hub_cursor_init(h, &b);
	CHECK_INT(hub_read(h, &a, &msg, &lost), HUB_EMPTY);

	CHECK_UINT(hub_publish(h, 7, 0, "hello", 5), 1);
	CHECK_UINT(hub_publish(h, 0, 9, "", 0), 2);
	CHECK_UINT(hub_publish(h, 3, 4, "third one", 9), 3);
	CHECK(hub_head(h) > 0);

	if (read_msg(h, &a, &msg, 1, "hello", 5)) {
		CHECK_UINT(msg.m_origin, 7);
		CHECK_UINT(msg.m_target, 0);
	}
	if (read_msg(h, &a, &msg, 2, "", 0)) {
		CHECK_UINT(msg.m_origin, 0);
		CHECK_UINT(msg.m_target, 9);
	}
	if (read_msg(h, &a, &msg, 3, "third one", 9)) {
		CHECK_UINT(msg.m_origin, 3);
		CHECK_UINT(msg.m_target, 4);
	}
	CHECK_INT(hub_read(h, &a, &msg, &lost), HUB_EMPTY);
	CHECK_UINT(a.hc_seq, 3);
	CHECK_UINT(hub_head(h), 3);

	/* Another cursor is independent and sees the same records. */
	read_msg(h, &b, &msg, 1, "hello", 5);
	CHECK_UINT(hub_publish(h, 1, 2, "fourth", 6), 4);
	read_msg(h, &a, &msg, 4, "fourth", 6);
	read_msg(h, &b, &msg, 2, "", 0);
	read_msg(h, &b, &msg, 3, "third one", 9);
	read_msg(h, &b, &msg, 4, "fourth", 6);
	CHECK_INT(hub_read(h, &b, &msg, &lost), HUB_EMPTY);
	/* Binary text goes through unchanged. */
	CHECK_UINT(hub_publish(h, 0, 0, "a\0b\n\xff", 5), 5);
	read_msg(h, &a, &msg, 5, "a\0b\n\xff", 5);
	thub_close(h);
}

static void
t_cursor_init(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	uint64_t		 lost;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_publish(h, 0, 0, "old 1", 5);
	hub_publish(h, 0, 0, "old 2", 5);
	hub_publish(h, 0, 0, "old 3", 5);
	hub_cursor_init(h, &cur);
	CHECK_UINT(cur.hc_seq, 3);
	CHECK_UINT(hub_head(h), 3);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	hub_publish(h, 0, 0, "new", 3);
	read_msg(h, &cur, &msg, 4, "new", 3);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_text_max(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			*text;
	size_t			 i;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	if ((text = malloc(HUB_TEXT_MAX + 100)) == NULL)
		abort();
	for (i = 0; i < HUB_TEXT_MAX + 100; i++)
		text[i] = (char)('A' + i % 50);
	hub_cursor_init(h, &cur);
	hub_publish(h, 0, 0, text, HUB_TEXT_MAX);
	read_msg(h, &cur, &msg, 1, text, HUB_TEXT_MAX);
	/* Longer text is cut at HUB_TEXT_MAX, never overruns. */
	hub_publish(h, 0, 0, text, HUB_TEXT_MAX + 100);
	read_msg(h, &cur, &msg, 2, text, HUB_TEXT_MAX);
	free(text);
	thub_close(h);
}

static void
t_wrap(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[HUB_TEXT_MAX];
	uint32_t		 r = 2463534242U;
	uint64_t		 seq = 0, lost;
	size_t			 len, ring = HUB_RING_MIN, i;
	int			 batch, k, ok = 1;

	if ((h = thub_open(ring, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	/*
	 * Records of many sizes from empty to the largest, published in
	 * batches well under a ring and read back after each batch.
	 */
	while (ok && hub_test_area_pos(h) < 6 * ring) {
		r ^= r << 13;
		r ^= r >> 17;
		r ^= r << 5;
		batch = 1 + (int)(r % 20);
		for (k = 0; k < batch; k++) {
			len = (seq * 37 + r % 7) % (HUB_TEXT_MAX + 1);
			for (i = 0; i < len; i++)
				text[i] = (char)(seq + i * 3);
			CHECK_UINT(hub_publish(h, seq * 3 + 1, seq * 5 + 2,
			    text, len), seq + 1);
			seq++;
		}
		for (k = batch; k > 0 && ok; k--) {
			ok = CHECK_INT(hub_read(h, &cur, &msg, &lost),
			    HUB_MSG) &&
			    CHECK_UINT(msg.m_seq, seq - (uint64_t)k + 1) &&
			    CHECK_UINT(msg.m_origin, msg.m_seq * 3 - 2) &&
			    CHECK_UINT(msg.m_target, msg.m_seq * 5 - 3);
			if (!ok)
				break;
			len = ((msg.m_seq - 1) * 37 + r % 7) %
			    (HUB_TEXT_MAX + 1);
			for (i = 0; i < len; i++)
				text[i] = (char)(msg.m_seq - 1 + i * 3);
			ok = CHECK_MEM(msg.m_text, msg.m_len, text, len);
		}
		if (ok)
			ok = CHECK_INT(hub_read(h, &cur, &msg, &lost),
			    HUB_EMPTY);
	}
	CHECK(seq > 200);
	thub_close(h);
}

static void
t_wrap_edges(void)
{
	static const size_t	 lefts[] = { 0, 8, 16, 24, 32, 40, 48, 64,
				    232, 1000 };
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[200];
	size_t			 i, ring = HUB_RING_MIN, hdr, off;
	uint64_t		 seq = 0, lost;

	if ((h = thub_open(ring, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	hdr = rec_size(h, 0);
	read_msg(h, &cur, &msg, ++seq, "", 0);
	memset(text, 'x', sizeof(text));
	/*
	 * Leave exactly "left" bytes at the end of the ring: none, too few
	 * for even a padding header, room for a header but not the record,
	 * just enough; then publish a record and read everything back.
	 */
	for (i = 0; i < sizeof(lefts) / sizeof(lefts[0]); i++) {
		if (!fill_to(h, &cur, lefts[i], hdr, &seq))
			break;
		off = hub_test_area_pos(h) % ring;
		text[0] = (char)('0' + i);
		hub_publish(h, 0, seq + 1, text, sizeof(text));
		if (!read_msg(h, &cur, &msg, ++seq, text, sizeof(text)) ||
		    !CHECK_UINT(msg.m_target, seq))
			break;
		/* It fits, or it went to the start of the area. */
		if (lefts[i] >= hdr + sizeof(text))
			CHECK_UINT(hub_test_area_pos(h) % ring,
			    (off + hdr + sizeof(text)) % ring);
		else
			CHECK_UINT(hub_test_area_pos(h) % ring,
			    hdr + sizeof(text));
		CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
		/* Go on from half a lap later. */
		if (!fill_to(h, &cur, ring / 2, hdr, &seq))
			break;
	}
	thub_close(h);
}

static void
t_lost_all(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[100];
	uint64_t		 lost = 0;
	int			 n;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	memset(text, 'L', sizeof(text));
	/* Three rings' worth that nobody reads. */
	for (n = 0; hub_head(h) < 3 * hub_ring_slots(h) ||
	    hub_test_area_pos(h) < 3 * HUB_RING_MIN; n++)
		hub_publish(h, 0, 0, text, sizeof(text));
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n);
	CHECK_UINT(cur.hc_seq, n);
	/* Resynchronised at the head: nothing old, then the next record. */
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	hub_publish(h, 5, 6, "after", 5);
	if (read_msg(h, &cur, &msg, n + 1, "after", 5)) {
		CHECK_UINT(msg.m_origin, 5);
		CHECK_UINT(msg.m_target, 6);
	}
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_lost_partial(void)
{
	struct hub		*h;
	struct hub_cursor	 cur, fresh, probe;
	struct hub_msg		 msg;
	char			 text[64];
	uint64_t		 lost = 0, i, n;
	size_t			 len;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	for (i = 1; i <= 10; i++) {
		len = (size_t)snprintf(text, sizeof(text), "m%llu",
		    (unsigned long long)i);
		hub_publish(h, 0, 0, text, len);
	}
	for (i = 1; i <= 4; i++) {
		len = (size_t)snprintf(text, sizeof(text), "m%llu",
		    (unsigned long long)i);
		read_msg(h, &cur, &msg, i, text, len);
	}
	/* The reader stops at 4 while more than a ring goes by. */
	hub_cursor_init(h, &fresh);
	for (n = 10;; n++) {
		probe = fresh;
		if (hub_read(h, &probe, &msg, &lost) == HUB_LOST)
			break;
		hub_publish(h, 0, 0, "fill", 4);
	}
	CHECK_UINT(n - 10, hub_ring_slots(h) + 1);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n - 4);
	hub_publish(h, 0, 0, "next", 4);
	read_msg(h, &cur, &msg, n + 1, "next", 4);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	/* A cursor that came later counts only what came after it. */
	hub_publish(h, 0, 0, "last", 4);
	CHECK_INT(hub_read(h, &fresh, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n + 2 - 10);
	CHECK_INT(hub_read(h, &fresh, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_one_ring_behind(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 text[HUB_TEXT_MAX];
	size_t			 ring = HUB_RING_MIN, len, size;
	uint64_t		 lost = 0, i, n;

	if ((h = thub_open(ring, 2, 4)) == NULL)
		return;
	/* A text length whose records fill the area as the index fills. */
	n = hub_ring_slots(h);
	memset(text, 'r', sizeof(text));
	for (len = 1; len < 200; len++)
		if ((size = rec_size(h, len)) * n == ring)
			break;
	if (!CHECK(len < 200)) {
		thub_close(h);
		return;
	}
	/* Exactly one ring of records after the cursor: all still there. */
	hub_cursor_init(h, &cur);
	for (i = 0; i < n; i++) {
		text[0] = (char)i;
		hub_publish(h, 0, 0, text, len);
	}
	CHECK_UINT(hub_backlog(h, &cur), n);
	for (i = 0; i < n; i++) {
		text[0] = (char)i;
		if (!read_msg(h, &cur, &msg, cur.hc_seq + 1, text, len))
			break;
	}
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	/* One record more than a ring: the oldest is gone. */
	for (i = 0; i <= n; i++)
		hub_publish(h, 0, 0, text, len);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_LOST);
	CHECK_UINT(lost, n + 1);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

/*
 * A writer whose records are large laps its own area long before the
 * index: only its oldest records are lost, every one of another
 * writer's comes through, and the loss is reported as one run.
 */
static void
t_lost_area(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	char			 big[1000], small[16];
	uint64_t		 lost = 0, i, n = 100, kept;
	size_t			 len;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	memset(big, 'B', sizeof(big));
	for (i = 0; i < n; i++) {
		hub_worker_start(h, 0, getpid());
		big[0] = (char)i;
		hub_publish(h, 0, 0, big, sizeof(big));
		hub_worker_start(h, 1, getpid());
		len = (size_t)snprintf(small, sizeof(small), "s%llu",
		    (unsigned long long)i);
		hub_publish(h, 0, 0, small, len);
	}
	/* How many big records the area holds: the newest ones. */
	kept = HUB_RING_MIN / rec_size(h, sizeof(big));
	CHECK_UINT(kept, 64);
	for (i = 0; i < n; i++) {
		if (i < n - kept) {
			if (!CHECK_INT(hub_read(h, &cur, &msg, &lost),
			    HUB_LOST) || !CHECK_UINT(lost, 1))
				break;
		} else {
			big[0] = (char)i;
			if (!read_msg(h, &cur, &msg, 2 * i + 1, big,
			    sizeof(big)))
				break;
		}
		len = (size_t)snprintf(small, sizeof(small), "s%llu",
		    (unsigned long long)i);
		if (!read_msg(h, &cur, &msg, 2 * i + 2, small, len))
			break;
	}
	/* The record rec_size published. */
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_MSG);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	thub_close(h);
}

static void
t_backlog(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;

	if ((h = thub_open(HUB_RING_MIN, 2, 4)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	CHECK_UINT(hub_backlog(h, &cur), 0);
	hub_publish(h, 0, 0, "one", 3);
	CHECK_UINT(hub_backlog(h, &cur), 1);
	hub_publish(h, 0, 0, "two", 3);
	CHECK_UINT(hub_backlog(h, &cur), 2);
	read_msg(h, &cur, &msg, 1, "one", 3);
	CHECK_UINT(hub_backlog(h, &cur), 1);
	read_msg(h, &cur, &msg, 2, "two", 3);
	CHECK_UINT(hub_backlog(h, &cur), 0);
	thub_close(h);
}

int
main(void)
{
	thub_init("test_hub_ring");
	unit_run("hub: hub_name", t_name);
	unit_run("hub: hub_create refuses bad sizes, makes nothing",
	    t_create_args);
	unit_run("hub: publish and read in order, exact fields",
	    t_publish_read);
	unit_run("hub: a new cursor sees only later records", t_cursor_init);
	unit_run("hub: text is cut at HUB_TEXT_MAX", t_text_max);
	unit_run("hub: records of every size wrap the ring intact", t_wrap);
	unit_run("hub: records at the very end of the ring", t_wrap_edges);
	unit_run("hub: a reader rings behind gets HUB_LOST, then goes on",
	    t_lost_all);
	unit_run("hub: HUB_LOST counts exactly what was skipped",
	    t_lost_partial);
	unit_run("hub: exactly one ring behind loses nothing",
	    t_one_ring_behind);
	unit_run("hub: a writer that laps its own area loses only its own "
	    "records", t_lost_area);
	unit_run("hub: hub_backlog counts unread records", t_backlog);
	unit_run("hub: no shared memory objects left", thub_no_leftovers);
	return unit_done();
}
