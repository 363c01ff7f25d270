/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * hub_impl.h -- the layout of the hub's shared memory, private to
 * hub.c (the object, the workers' slots, the registry) and hub_ring.c
 * (the message ring and the back-pressure).  Nothing else includes it.
 */
#ifndef HUB_IMPL_H
#define HUB_IMPL_H

#include <semaphore.h>
#include <stdatomic.h>

#include "hub.h"
#include "limit.h"

#define HUB_MAGIC	0x63686174647562ULL	/* "chatdub" */
#define HUB_VERSION	4
#define HUB_ALIGN	8
/* Writers' areas: one per worker slot, and one for the master's handle. */
#define HUB_AREAS(nworkers)	((nworkers) + 1)

struct hub_lock {
	sem_t			l_sem;
	_Atomic pid_t		l_owner;	/* 0 when free */
};

/* A worker's slot: what it tells the others, and the scoreboard. */
struct hub_slot {
	_Atomic pid_t		w_pid;
	atomic_int		w_wake_pending;
	atomic_int		w_kick;		/* try accept() when woken */
	atomic_uint		w_clients;
	_Atomic uint64_t	w_msgs_in;
	_Atomic uint64_t	w_msgs_out;
	_Atomic uint64_t	w_bytes_out;
	_Atomic uint64_t	w_cursor;	/* records read */
	_Atomic int64_t		w_beat_ms;	/* last seen running */
	_Atomic uint64_t	w_holds;	/* times held back */
	atomic_int		w_reader;	/* reads only: serves no clients */
	/* A reader's own figures (chatd -C's bridge), for the scoreboard. */
	_Atomic uint64_t	w_ext[HUB_EXT_MAX];
};

/*
 * One writer's area of the ring (see hub_ring.c): only that writer
 * moves a_reserve, on a cache line of its own.
 */
struct hub_area {
	_Atomic uint64_t	a_reserve;	/* it writes below this */
	char			a_pad[56];
};

struct hub_reg {
	_Atomic uint32_t	g_seq;		/* odd while being written */
	uint64_t		g_id;		/* 0: free */
	int			g_worker;
	char			g_nick[PROTO_NICK_MAX + 1];
	char			g_addr[PROTO_ADDR_MAX];
	/*
	 * Outside the seqlock: the address-table entry the client holds
	 * (+1; 0 for none), used only by its worker or the reaper, and
	 * the budget of whispers it may be sent, which any worker spends.
	 */
	unsigned		g_addr_ref;
	_Atomic int64_t		g_recv_tat;
};

/* Where everything lies in the object; fixed at creation. */
struct hub_layout {
	size_t			ly_reg_off;
	size_t			ly_addr_off;
	size_t			ly_index_off;
	uint64_t		ly_index_n;	/* a power of two */
	size_t			ly_area_off;
	size_t			ly_total;
};

struct hub_shared {
	uint64_t		s_magic;
	uint32_t		s_version;
	_Atomic pid_t		s_master;
	int			s_nworkers;
	unsigned		s_max_clients;
	size_t			s_ring_size;	/* of each writer's area */
	struct hub_layout	s_layout;
	unsigned		s_addr_slots;
	uint64_t		s_addr_seed;
	int64_t			s_started;	/* time(3) at creation */

	_Atomic uint64_t	s_head;		/* records published, or one
						   or a few more (hub_ring.c) */
	_Atomic uint64_t	s_held;		/* workers waiting for readers */
	uint64_t		s_high;		/* back-pressure marks, records */
	uint64_t		s_low;

	struct hub_lock		s_reg_lock;
	atomic_uint		s_clients;	/* registered clients */
	atomic_uint		s_reg_hint;	/* where to look for a slot */
	_Atomic uint64_t	s_next_id;

	struct hub_slot		s_workers[HUB_WORKERS_MAX];
	struct hub_area		s_areas[HUB_AREAS(HUB_WORKERS_MAX)];
};

struct hub {
	struct hub_shared	*h_sh;
	struct hub_reg		*h_reg;
	struct limit_table	 h_addrs;
	_Atomic uint64_t	*h_index;
	unsigned char		*h_areas;
	size_t			 h_size;
	int			 h_fd;		/* kept to fstat the object */
	/* The sizes as created: the shared copies are checked against them. */
	size_t			 h_ring_size;
	int			 h_nworkers;
	unsigned		 h_max_clients;
	uint64_t		 h_index_n;
	char			 h_name[HUB_NAME_MAX];
	int			 h_self;	/* worker slot, -1 in master */
	pid_t			 h_pid;
	int			 h_wake[HUB_WORKERS_MAX];
};

static inline size_t
hub_align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

/* hub_ring.c, for hub.c */
uint64_t	hub_ring_index_n(size_t ring_size);
uint64_t	hub_ring_high_mark(size_t ring_size, uint64_t index_n);
void		hub_wake_held(struct hub *);

#endif
