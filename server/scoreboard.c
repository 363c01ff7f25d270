/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * scoreboard.c -- chatd -S: look at the hub of the chatd on an address
 * and port, without trusting it, and print what each worker is doing.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridgeboard.h"
#include "chatd.h"
#include "hub.h"
#include "util.h"

void
scoreboard_hub_name(char *buf, size_t len, const char *host, int port)
{
	unsigned char	addr[sizeof(struct in6_addr)];
	char		canon[INET6_ADDRSTRLEN];

	/* One spelling per address: "::0" and "::" are the same chatd. */
	if (inet_pton(AF_INET, host, addr) == 1 &&
	    inet_ntop(AF_INET, addr, canon, sizeof(canon)) != NULL)
		host = canon;
	else if (inet_pton(AF_INET6, host, addr) == 1 &&
	    inet_ntop(AF_INET6, addr, canon, sizeof(canon)) != NULL)
		host = canon;
	hub_name(buf, len, host, port);
}

/* "3d 4h", "5m 2s": how long ago a time(3) was. */
static void
format_uptime(int64_t since, char *buf, size_t len)
{
	int64_t	s = (int64_t)time(NULL) - since;

	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lldm %llds", (long long)(s / 60),
		    (long long)(s % 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

/*
 * chatd -C: where the bridge is in the cluster's stream, and the NATS
 * server it is connected to (its board, owned like the hub).
 */
static void
print_bridge(const struct hub_stats *st, const char *hub_name, uid_t owner)
{
	const char	*problem;
	char		 url[BRIDGEBOARD_URL_MAX], conn[BRIDGEBOARD_URL_MAX + 64];

	if (!st->st_ext[BRIDGE_EXT_CONNECTED])
		snprintf(conn, sizeof(conn), "not connected to NATS");
	else if (bridgeboard_read(hub_name, owner, url, sizeof(url),
	    &problem) == -1)
		snprintf(conn, sizeof(conn), "connected to NATS (which server "
		    "is unknown: the bridge's board is %s)", problem);
	else if (url[0] == '\0')
		snprintf(conn, sizeof(conn), "connected to NATS (which server "
		    "is not known yet)");
	else
		snprintf(conn, sizeof(conn), "connected to %s", url);
	printf("bridge: host %llu, stream record %llu, %llu after it not "
	    "yet taken, %s\n", (unsigned long long)st->st_ext[BRIDGE_EXT_HOST],
	    (unsigned long long)st->st_ext[BRIDGE_EXT_SEQ],
	    (unsigned long long)st->st_ext[BRIDGE_EXT_PENDING], conn);
}

/*
 * One line per worker: its counters, where it is in the ring and how far
 * behind the head, how long it has been behind without running (over
 * HUB_STALL_MS it no longer holds the others back: untethered), and
 * how often it was held back itself.
 */
static void
print_table(struct hub *hub, const char *hub_name, uid_t owner)
{
	struct hub_stats	st;
	uint64_t		head = hub_head(hub), in = 0, out = 0, bytes = 0;
	int64_t			now = now_ms(), stall;
	unsigned		clients = 0;
	int			w;
	char			label[16];

	printf("%-7s %-8s %8s %12s %12s %14s %14s %10s %8s %6s\n", "worker",
	    "pid", "clients", "msgs-in", "msgs-out", "bytes-out", "ring-pos",
	    "behind", "stall-ms", "holds");
	for (w = 0; w < hub_nworkers(hub); w++) {
		hub_worker_stats(hub, w, &st);
		stall = st.st_pid != 0 && st.st_cursor < head ?
		    now - st.st_beat_ms : 0;
		/* chatd -C's bridge: in, sent to the stream; out, taken. */
		if (st.st_reader)
			snprintf(label, sizeof(label), "bridge");
		else
			snprintf(label, sizeof(label), "%d", w + 1);
		printf("%-7s %-8ld %8u %12llu %12llu %14llu %14llu %10llu "
		    "%8lld %6llu%s\n",
		    label, (long)st.st_pid, st.st_clients,
		    (unsigned long long)st.st_msgs_in,
		    (unsigned long long)st.st_msgs_out,
		    (unsigned long long)st.st_bytes_out,
		    (unsigned long long)st.st_cursor,
		    (unsigned long long)(head > st.st_cursor ?
		    head - st.st_cursor : 0), (long long)stall,
		    (unsigned long long)st.st_holds,
		    stall > HUB_STALL_MS ? " untethered" :
		    st.st_held ? " held" : "");
		clients += st.st_clients;
		in += st.st_msgs_in;
		out += st.st_msgs_out;
		bytes += st.st_bytes_out;
	}
	printf("%-7s %-8s %8u %12llu %12llu %14llu\n", "total", "-", clients,
	    (unsigned long long)in, (unsigned long long)out,
	    (unsigned long long)bytes);
	for (w = 0; w < hub_nworkers(hub); w++) {
		hub_worker_stats(hub, w, &st);
		if (st.st_reader && st.st_pid != 0)
			print_bridge(&st, hub_name, owner);
	}
}

int
scoreboard_print(const char *host, int port)
{
	struct hub_info	 hi;
	struct hub	*hub;
	struct passwd	*pw;
	char		 name[HUB_NAME_MAX], up[32];

	scoreboard_hub_name(name, sizeof(name), host, port);
	if (hub_probe(name, &hi) == -1) {
		if (errno == EACCES) {
			fprintf(stderr, "chatd: hub %s: Permission denied; "
			    "run chatd -S as root or as the user chatd runs "
			    "as\n", name);
			return 1;
		}
		fprintf(stderr, "chatd: hub %s: %s\n", name, strerror(errno));
		return 1;
	}
	switch (hi.hi_state) {
	case HUB_ABSENT:
		fprintf(stderr, "chatd: not running on port %d\n", port);
		return 1;
	case HUB_STALE:
		fprintf(stderr, "chatd: not running on port %d (stale hub %s "
		    "left by pid %ld)\n", port, name, (long)hi.hi_master);
		return 1;
	case HUB_INVALID:
		pw = getpwuid(hi.hi_uid);
		fprintf(stderr, "chatd: hub %s (owner %s) is %s\n", name,
		    pw != NULL ? pw->pw_name : "unknown", hi.hi_problem);
		return 1;
	case HUB_RUNNING:
		break;
	}
	if ((hub = hub_attach(name)) == NULL) {
		fprintf(stderr, "chatd: hub %s: %s\n", name, errno == EPROTO ?
		    "changed while it was read; try again" : strerror(errno));
		return 1;
	}
	format_uptime(hub_started(hub), up, sizeof(up));
	printf("chatd on port %d: master pid %ld, up %s, %u clients, "
	    "ring head %llu, keeps %llu, %zu bytes a writer\n", port,
	    (long)hub_master_pid(hub), up, hub_total_clients(hub),
	    (unsigned long long)hub_head(hub),
	    (unsigned long long)hub_ring_slots(hub), hub_ring_size(hub));
	print_table(hub, name, hi.hi_uid);
	hub_detach(hub);
	return 0;
}
