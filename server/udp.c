/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * udp.c -- the timestamp service, shared by chatd and chatd-select:
 * a datagram of at most 140 bytes is answered with the time it came.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chatd.h"
#include "log.h"
#include "net.h"

/* Datagrams answered per wake-up, so TCP clients are not starved. */
#define UDP_BATCH	64

/* "Message received at " and ctime(3) of now, without its newline. */
static size_t
udp_reply(char *buf, size_t len)
{
	char		stamp[64];
	struct tm	tm;
	time_t		now = time(NULL);
	int		n;

	/* ctime's layout: "Tue Nov 24 05:27:32 2026", day padded to two. */
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	n = snprintf(buf, len, PROTO_UDP_REPLY, stamp);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

void
udp_serve(int fd)
{
	/* Larger than any datagram, so a long one is seen at full size. */
	static char		 dgram[65536];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 reply[128], addr[PROTO_ADDR_MAX];
	const char		*text;
	size_t			 len;
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
		if (n > PROTO_UDP_MAX) {
			text = PROTO_UDP_TOO_LONG;
			len = sizeof(PROTO_UDP_TOO_LONG) - 1;
		} else {
			text = reply;
			len = udp_reply(reply, sizeof(reply));
		}
		if (sendto(fd, text, len, 0, (struct sockaddr *)&ss,
		    sslen) == -1 && log_verbose() &&
		    net_addr_format((struct sockaddr *)&ss, addr,
		    sizeof(addr)) == 0)
			log_debug("udp sendto %s: %s", addr, strerror(errno));
	}
}
