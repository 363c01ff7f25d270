/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * udp.c -- the timestamp service, shared by chatd and chatd-select:
 * a datagram of at most 140 bytes is answered with the time it came.
 *
 * A UDP source address can be forged, so every reply is rate limited
 * per source network (rrl.h) and an empty datagram, which carries no
 * question, gets no answer: the service must not be a reflector.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chatd.h"
#include "log.h"
#include "net.h"
#include "rrl.h"
#include "udp.h"

/* Datagrams answered per wake-up, so TCP clients are not starved. */
#define UDP_BATCH	64

/* Shared by every process forked after udp_init. */
static struct rrl	*udp_rrl;

/* A seed for the bucket hash that a remote sender cannot predict. */
static uint64_t
udp_seed(void)
{
	uint64_t	key = 0;
	int		fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		if (read(fd, &key, sizeof(key)) != (ssize_t)sizeof(key))
			key = 0;
		close(fd);
	}
	if (key == 0)
		key = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return key;
}

int
udp_init(void)
{
	void	*p;
	int	 fd, saved;

	/* MAP_SHARED of /dev/zero: anonymous shared memory, in POSIX terms. */
	if ((fd = open("/dev/zero", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	p = mmap(NULL, sizeof(*udp_rrl), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = saved;
		return -1;
	}
	udp_rrl = p;
	rrl_init(udp_rrl, udp_seed());
	return 0;
}

size_t
udp_answer(size_t n, time_t now, char *out, size_t outlen)
{
	char		stamp[64];
	struct tm	tm;
	int		w;

	if (n == 0)
		return 0;
	if (n > PROTO_UDP_MAX) {
		if (outlen < sizeof(PROTO_UDP_TOO_LONG))
			return 0;
		memcpy(out, PROTO_UDP_TOO_LONG, sizeof(PROTO_UDP_TOO_LONG));
		return sizeof(PROTO_UDP_TOO_LONG) - 1;
	}
	/* ctime's layout: "Tue Nov 24 05:27:32 2026", day padded to two. */
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	w = snprintf(out, outlen, PROTO_UDP_REPLY, stamp);
	return w > 0 && (size_t)w < outlen ? (size_t)w : 0;
}

static int64_t
udp_clock_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Say, at most once per interval, that replies are being held back. */
static void
udp_report(const struct sockaddr *sa, int64_t now)
{
	char		net[PROTO_ADDR_MAX];
	uint64_t	count;

	if (!rrl_report(udp_rrl, now, &count))
		return;
	if (rrl_prefix_format(sa, net, sizeof(net)) == -1)
		snprintf(net, sizeof(net), "unknown");
	log_info("udp: rate limit (%d/s, burst %d per source network): "
	    "suppressing replies to %s; %llu suppressed since the last report",
	    RRL_RATE, RRL_BURST, net, (unsigned long long)count);
}

void
udp_serve(int fd)
{
	/* Larger than any datagram, so a long one is seen at full size. */
	static char		 dgram[65536];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 reply[128], addr[PROTO_ADDR_MAX];
	size_t			 len;
	int64_t			 now;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDP_BATCH; i++) {
		sslen = sizeof(ss);
		n = recvfrom(fd, dgram, sizeof(dgram), 0,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("udp recvfrom");
			return;
		}
		if (n == 0)
			continue;
		now = udp_clock_ms();
		if (udp_rrl != NULL &&
		    !rrl_allow(udp_rrl, (struct sockaddr *)&ss, now)) {
			udp_report((struct sockaddr *)&ss, now);
			continue;
		}
		if ((len = udp_answer((size_t)n, time(NULL), reply,
		    sizeof(reply))) == 0)
			continue;
		if (sendto(fd, reply, len, 0, (struct sockaddr *)&ss,
		    sslen) == -1 && log_verbose() &&
		    net_addr_format((struct sockaddr *)&ss, addr,
		    sizeof(addr)) == 0)
			log_debug("udp sendto %s: %s", addr, strerror(errno));
	}
}
