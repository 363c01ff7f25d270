/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_buf.c -- the bounded byte queue.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

/* Bytes of a stream in which byte k is pattern(k), for content checks. */
#define PATTERN(k)	((char)((k) * 7 + ((k) >> 8)))

static void	fill(char *, size_t, size_t);
static int	holds(const struct buf *, size_t, size_t);
static uint32_t	rnd(uint32_t *);

static void	t_init(void);
static void	t_append_consume(void);
static void	t_growth(void);
static void	t_limit(void);
static void	t_limit_huge(void);
static void	t_compaction(void);
static void	t_grow_with_offset(void);
static void	t_drain(void);
static void	t_free(void);
static void	t_cycles(void);

/* p[0 .. n) = the stream's bytes from position first. */
static void
fill(char *p, size_t first, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = PATTERN(first + i);
}

/* 1 if b holds exactly n bytes of the stream from position first. */
static int
holds(const struct buf *b, size_t first, size_t n)
{
	const char	*p = buf_head(b);
	size_t		 i;

	if (!CHECK_UINT(b->b_len, n))
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] != PATTERN(first + i)) {
			FAIL("byte %zu of %zu: got 0x%02x, want 0x%02x", i, n,
			    (unsigned char)p[i],
			    (unsigned char)PATTERN(first + i));
			return 0;
		}
	return 1;
}

/* xorshift32: a reproducible stream of pseudo-random numbers. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
t_init(void)
{
	struct buf	b;

	buf_init(&b, 1000);
	CHECK(b.b_data == NULL);
	CHECK_UINT(b.b_len, 0);
	CHECK_UINT(b.b_cap, 0);
	CHECK_UINT(b.b_limit, 1000);
	/* Nothing to append allocates nothing. */
	CHECK_INT(buf_append(&b, "x", 0), 0);
	CHECK_UINT(b.b_len, 0);
	buf_consume(&b, 0);
	CHECK_UINT(b.b_len, 0);
	buf_free(&b);
}

static void
t_append_consume(void)
{
	struct buf	b;

	buf_init(&b, 1 << 20);
	CHECK_INT(buf_append(&b, "hello", 5), 0);
	CHECK_INT(buf_append(&b, " world", 6), 0);
	CHECK_MEM(buf_head(&b), b.b_len, "hello world", 11);
	buf_consume(&b, 6);
	CHECK_MEM(buf_head(&b), b.b_len, "world", 5);
	CHECK_INT(buf_append(&b, "!", 1), 0);
	CHECK_MEM(buf_head(&b), b.b_len, "world!", 6);
	buf_consume(&b, 1);
	buf_consume(&b, 5);
	CHECK_UINT(b.b_len, 0);
	CHECK_INT(buf_append(&b, "again", 5), 0);
	CHECK_MEM(buf_head(&b), b.b_len, "again", 5);
	buf_free(&b);
}

static void
t_growth(void)
{
	struct buf	 b;
	char		 chunk[100], *big;
	size_t		 off;

	buf_init(&b, 1 << 20);
	for (off = 0; off < 100000; off += sizeof(chunk)) {
		fill(chunk, off, sizeof(chunk));
		if (!CHECK_INT(buf_append(&b, chunk, sizeof(chunk)), 0))
			break;
	}
	CHECK(b.b_cap >= 100000);
	CHECK(b.b_cap <= 2 * 100000);
	holds(&b, 0, 100000);
	buf_free(&b);

	/* One append bigger than the doubling step. */
	if ((big = malloc(300000)) == NULL)
		abort();
	fill(big, 0, 300000);
	CHECK_INT(buf_append(&b, big, 10), 0);
	CHECK_INT(buf_append(&b, big + 10, 300000 - 10), 0);
	holds(&b, 0, 300000);
	free(big);
	buf_free(&b);
}

static void
t_limit(void)
{
	struct buf	b;
	char		chunk[100];

	buf_init(&b, 100);
	fill(chunk, 0, sizeof(chunk));
	CHECK_INT(buf_append(&b, chunk, 60), 0);
	errno = 0;
	CHECK_INT(buf_append(&b, chunk + 60, 41), -1);
	CHECK_INT(errno, ENOBUFS);
	/* Nothing of the refused append went in. */
	holds(&b, 0, 60);
	CHECK_INT(buf_append(&b, chunk + 60, 40), 0);
	holds(&b, 0, 100);
	errno = 0;
	CHECK_INT(buf_append(&b, "x", 1), -1);
	CHECK_INT(errno, ENOBUFS);
	holds(&b, 0, 100);
	/* Room comes back as the head is consumed. */
	buf_consume(&b, 30);
	CHECK_INT(buf_append(&b, chunk, 31), -1);
	CHECK_INT(buf_append(&b, chunk, 30), 0);
	CHECK_UINT(b.b_len, 100);
	buf_free(&b);

	/* A limit of 0 refuses everything but nothing. */
	buf_init(&b, 0);
	CHECK_INT(buf_append(&b, "x", 1), -1);
	CHECK_INT(errno, ENOBUFS);
	CHECK_INT(buf_append(&b, "x", 0), 0);
	CHECK_UINT(b.b_len, 0);
	buf_free(&b);
}

static void
t_limit_huge(void)
{
	struct buf	b;

	/* Sizes near SIZE_MAX must not wrap around into a small request. */
	buf_init(&b, SIZE_MAX);
	CHECK_INT(buf_append(&b, "abc", 3), 0);
	errno = 0;
	CHECK_INT(buf_append(&b, "x", SIZE_MAX), -1);
	CHECK_INT(errno, ENOBUFS);
	errno = 0;
	CHECK_INT(buf_append(&b, "x", SIZE_MAX - 2), -1);
	CHECK_INT(errno, ENOBUFS);
	CHECK_MEM(buf_head(&b), b.b_len, "abc", 3);
	buf_free(&b);

	buf_init(&b, 10);
	CHECK_INT(buf_append(&b, "abc", 3), 0);
	errno = 0;
	CHECK_INT(buf_append(&b, "x", SIZE_MAX), -1);
	CHECK_INT(errno, ENOBUFS);
	CHECK_MEM(buf_head(&b), b.b_len, "abc", 3);
	buf_free(&b);
}

static void
t_compaction(void)
{
	struct buf	 b;
	char		 chunk[4000];
	const char	*data;
	size_t		 cap;

	buf_init(&b, 1 << 20);
	fill(chunk, 0, 4000);
	CHECK_INT(buf_append(&b, chunk, 4000), 0);
	cap = b.b_cap;
	data = b.b_data;
	buf_consume(&b, 3000);
	/* The tail has no room, but the consumed head does. */
	CHECK(b.b_off + b.b_len + 2000 > cap);
	fill(chunk, 4000, 2000);
	CHECK_INT(buf_append(&b, chunk, 2000), 0);
	CHECK_UINT(b.b_cap, cap);
	CHECK(b.b_data == data);
	holds(&b, 3000, 3000);
	buf_free(&b);
}

static void
t_grow_with_offset(void)
{
	struct buf	b;
	char		chunk[5000];

	buf_init(&b, 1 << 20);
	fill(chunk, 0, 4096);
	CHECK_INT(buf_append(&b, chunk, 4096), 0);
	buf_consume(&b, 100);
	fill(chunk, 4096, 5000);
	CHECK_INT(buf_append(&b, chunk, 5000), 0);
	holds(&b, 100, 4096 - 100 + 5000);
	buf_consume(&b, 1);
	holds(&b, 101, 4096 - 101 + 5000);
	buf_free(&b);
}

static void
t_drain(void)
{
	struct buf	b;
	char		chunk[1000];
	size_t		i;

	/* A big queue that drains gives its memory back ... */
	buf_init(&b, 1 << 20);
	fill(chunk, 0, sizeof(chunk));
	for (i = 0; i < 100; i++)
		CHECK_INT(buf_append(&b, chunk, sizeof(chunk)), 0);
	CHECK(b.b_cap >= 100000);
	buf_consume(&b, 50000);
	CHECK(b.b_cap >= 100000);
	buf_consume(&b, 50000);
	CHECK_UINT(b.b_len, 0);
	CHECK(b.b_cap <= 4096);
	CHECK_UINT(b.b_off, 0);
	CHECK_UINT(b.b_limit, 1 << 20);
	/* ... and works as before. */
	CHECK_INT(buf_append(&b, chunk, 10), 0);
	holds(&b, 0, 10);
	buf_consume(&b, 10);
	CHECK_UINT(b.b_off, 0);
	buf_free(&b);
}

static void
t_free(void)
{
	struct buf	b;

	buf_init(&b, 50);
	buf_free(&b);
	CHECK_INT(buf_append(&b, "0123456789", 10), 0);
	buf_free(&b);
	CHECK(b.b_data == NULL);
	CHECK_UINT(b.b_len, 0);
	CHECK_UINT(b.b_cap, 0);
	CHECK_UINT(b.b_limit, 50);
	buf_free(&b);
	CHECK_INT(buf_append(&b, "0123456789", 10), 0);
	CHECK_MEM(buf_head(&b), b.b_len, "0123456789", 10);
	buf_free(&b);
}

static void
t_cycles(void)
{
	struct buf	 b;
	char		*chunk;
	uint32_t	 seed = 42;
	size_t		 in = 0, out = 0, n, limit = 64 * 1024;
	int		 i, rv, refused = 0;

	if ((chunk = malloc(limit + 1)) == NULL)
		abort();
	buf_init(&b, limit);
	/*
	 * Random appends and consumes against a model that is just two
	 * counters: the queue holds the stream's bytes [out, in).
	 */
	for (i = 0; i < 100000; i++) {
		if (rnd(&seed) % 2) {
			n = rnd(&seed) % (rnd(&seed) % 8 ? 2000 : limit + 1);
			fill(chunk, in, n);
			rv = buf_append(&b, chunk, n);
			if (in - out + n > limit) {
				if (!CHECK_INT(rv, -1) ||
				    !CHECK_INT(errno, ENOBUFS))
					break;
				refused++;
			} else {
				if (!CHECK_INT(rv, 0))
					break;
				in += n;
			}
		} else if (in > out) {
			n = rnd(&seed) % (in - out + 1);
			buf_consume(&b, n);
			out += n;
		}
		if (!CHECK(b.b_len <= limit) || !CHECK(b.b_cap <= 2 * limit))
			break;
		if (i % 97 == 0 && !holds(&b, out, in - out))
			break;
	}
	holds(&b, out, in - out);
	CHECK(refused > 0);
	CHECK(in > 10 * limit);
	buf_free(&b);
	free(chunk);
}

int
main(void)
{
	unit_init();
	unit_run("buf: init allocates nothing", t_init);
	unit_run("buf: append and consume", t_append_consume);
	unit_run("buf: grows to hold what is appended", t_growth);
	unit_run("buf: the limit refuses with ENOBUFS, appending nothing",
	    t_limit);
	unit_run("buf: huge sizes do not overflow", t_limit_huge);
	unit_run("buf: compaction reuses the consumed head", t_compaction);
	unit_run("buf: growth after consumption keeps the contents",
	    t_grow_with_offset);
	unit_run("buf: a drained queue gives its memory back", t_drain);
	unit_run("buf: free resets and keeps the limit", t_free);
	unit_run("buf: 100000 random cycles against a model", t_cycles);
	return unit_done();
}
