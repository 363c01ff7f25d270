/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * udp.h -- the UDP timestamp service (udp.c), shared by chatd and
 * chatd-select.  udp_serve is declared in chatd.h with the servers'
 * other entry points.
 */
#ifndef UDP_H
#define UDP_H

#include <stddef.h>
#include <time.h>

/*
 * Set up the reply rate limit (rrl.h) in memory that processes forked
 * afterwards share.  Call once, before the workers start.  0 or -1.
 */
int	udp_init(void);

/*
 * The reply to a datagram of n bytes that came at time now, into out
 * (outlen bytes, 64 are enough): its length, or 0 for no reply (an
 * empty datagram, which is never answered).  Pure.
 */
size_t	udp_answer(size_t n, time_t now, char *out, size_t outlen);

#endif
