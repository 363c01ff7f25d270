/*
 * scoreboard.c -- chatd -S: attach read-only to the hub of the chatd on
 * a port and print what each worker is doing.
 */
#include <sys/types.h>

#include <stdio.h>

#include "chatd.h"
#include "hub.h"
#include "util.h"

int
scoreboard_print(int port)
{
	struct hub_stats	 st;
	struct hub		*hub;
	char			 name[HUB_NAME_MAX];
	uint64_t		 head;
	int64_t			 now, stall;
	int			 w;

	hub_name(name, sizeof(name), port);
	if ((hub = hub_attach(name)) == NULL)
		return -1;
	printf("chatd on port %d: master pid %ld, %u clients, "
	    "ring head %llu of size %zu\n", port, (long)hub_master_pid(hub),
	    hub_total_clients(hub), (unsigned long long)hub_head(hub),
	    hub_ring_size(hub));
	printf("%-7s %-8s %8s %12s %12s %14s %14s %8s %6s\n", "worker",
	    "pid", "clients", "msgs-in", "msgs-out", "bytes-out", "cursor",
	    "stall-ms", "holds");
	now = now_ms();
	head = hub_head(hub);
	for (w = 0; w < hub_nworkers(hub); w++) {
		hub_worker_stats(hub, w, &st);
		/* Stalled: behind the head and not seen running since. */
		stall = st.st_pid != 0 && st.st_cursor < head ?
		    now - st.st_beat_ms : 0;
		printf("%-7d %-8ld %8u %12llu %12llu %14llu %14llu %8lld "
		    "%6llu%s\n", w + 1,
		    (long)st.st_pid, st.st_clients,
		    (unsigned long long)st.st_msgs_in,
		    (unsigned long long)st.st_msgs_out,
		    (unsigned long long)st.st_bytes_out,
		    (unsigned long long)st.st_cursor, (long long)stall,
		    (unsigned long long)st.st_holds,
		    stall > HUB_STALL_MS ? " untethered" :
		    st.st_held ? " held" : "");
	}
	hub_detach(hub);
	return 0;
}
