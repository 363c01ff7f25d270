/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * hub.c -- the shared-memory hub.
 *
 * Layout of the object (all offsets fixed at creation):
 *
 *	struct hub_shared	header: sizes, lock, ring head, scoreboard
 *	struct hub_reg[max]	the registry, one slot per possible client
 *	struct limit_addr[n]	clients per address prefix (limit.c)
 *	uint64_t[index_n]	the ring's index: the global order
 *	areas[nworkers + 1]	each writer's records, ring_size bytes each
 *
 * The ring (hub_ring.c) takes no lock.
 *
 * The registry has a semaphore, reg_lock, taken only by renames; it
 * records its holder's pid so that a lock whose holder died is released.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "hub_impl.h"
#include "util.h"

static void	hub_client_drop_addr(struct hub *, struct hub_reg *);

static int
lock_init(struct hub_lock *l)
{
	atomic_store(&l->l_owner, 0);
	return sem_init(&l->l_sem, 1, 1);
}

/*
 * XXX a process killed between sem_wait returning and the owner store
 * (or between the owner clear and sem_post) leaves the lock taken with
 * no owner recorded; the window is two instructions wide.
 */
static void
lock_take(struct hub *h, struct hub_lock *l)
{
	while (sem_wait(&l->l_sem) == -1)
		;	/* only EINTR is possible on a valid semaphore */
	atomic_store(&l->l_owner, h->h_pid);
}

static void
lock_give(struct hub_lock *l)
{
	atomic_store(&l->l_owner, 0);
	sem_post(&l->l_sem);
}

void
hub_name(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, "/chatd-%s-%d", host, port);
}

/*
 * Where the registry, the address table, the index and the areas start,
 * and the object's whole size.
 */
static int
hub_layout(size_t ring_size, int nworkers, unsigned max_clients,
    struct hub_layout *ly)
{
	size_t	reg = hub_align_up(sizeof(struct hub_shared), 64);
	size_t	areas = (size_t)HUB_AREAS(nworkers);

	if (max_clients > (HUB_RING_MAX - reg) / sizeof(struct hub_reg) ||
	    nworkers < 1 || nworkers > HUB_WORKERS_MAX ||
	    ring_size > HUB_RING_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(ly, 0, sizeof(*ly));
	ly->ly_reg_off = reg;
	ly->ly_addr_off = hub_align_up(reg + (size_t)max_clients *
	    sizeof(struct hub_reg), 64);
	ly->ly_index_off = hub_align_up(ly->ly_addr_off +
	    (size_t)limit_table_slots(max_clients) *
	    sizeof(struct limit_addr), 64);
	ly->ly_index_n = hub_ring_index_n(ring_size);
	ly->ly_area_off = hub_align_up(ly->ly_index_off +
	    (size_t)ly->ly_index_n * sizeof(uint64_t), 64);
	ly->ly_total = ly->ly_area_off + areas * ring_size;
	return 0;
}

size_t
hub_size(size_t ring_size, int nworkers, unsigned max_clients)
{
	struct hub_layout	ly;

	if (hub_layout(ring_size, nworkers, max_clients, &ly) == -1)
		return 0;
	return ly.ly_total;
}

/*
 * What is wrong with a header read from an object of "size" bytes, or
 * NULL if every size in it is consistent and may be trusted.
 */
static const char *
hub_header_problem(const struct hub_shared *sh, off_t size)
{
	struct hub_layout	ly;

	if (size < (off_t)sizeof(*sh))
		return "truncated (smaller than its header)";
	if (sh->s_magic != HUB_MAGIC)
		return "not a chatd hub (bad magic number)";
	if (sh->s_version != HUB_VERSION)
		return "made by another version of chatd";
	if (sh->s_nworkers < 1 || sh->s_nworkers > HUB_WORKERS_MAX)
		return "corrupt header (worker count out of range)";
	if (sh->s_ring_size < HUB_RING_MIN || sh->s_ring_size > HUB_RING_MAX ||
	    sh->s_ring_size % HUB_ALIGN != 0)
		return "corrupt header (ring size out of range)";
	if (hub_layout(sh->s_ring_size, sh->s_nworkers, sh->s_max_clients,
	    &ly) == -1 || memcmp(&ly, &sh->s_layout, sizeof(ly)) != 0 ||
	    sh->s_addr_slots != limit_table_slots(sh->s_max_clients))
		return "corrupt header (inconsistent layout)";
	if ((uint64_t)size < ly.ly_total)
		return "truncated (smaller than its header says)";
	if ((uint64_t)size != ly.ly_total)
		return "corrupt (larger than its header says)";
	return NULL;
}

int
hub_probe(const char *name, struct hub_info *hi)
{
	struct hub_shared	sh;
	struct stat		st;
	int			fd;
	ssize_t			n;
	pid_t			pid;

	memset(hi, 0, sizeof(*hi));
	if ((fd = shm_open(name, O_RDONLY, 0)) == -1) {
		if (errno != ENOENT)
			return -1;
		hi->hi_state = HUB_ABSENT;
		return 0;
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	hi->hi_uid = st.st_uid;
	hi->hi_size = st.st_size;
	memset(&sh, 0, sizeof(sh));
	n = st.st_size >= (off_t)sizeof(sh) ? pread(fd, &sh, sizeof(sh), 0) :
	    0;
	close(fd);
	if (n == -1)
		return -1;
	if ((hi->hi_problem = hub_header_problem(&sh, st.st_size)) != NULL) {
		hi->hi_state = HUB_INVALID;
		return 0;
	}
	pid = atomic_load(&sh.s_master);
	hi->hi_master = pid;
	if (pid > 0 && pid != getpid() && (kill(pid, 0) == 0 ||
	    errno == EPERM))
		hi->hi_state = HUB_RUNNING;
	else
		hi->hi_state = HUB_STALE;
	return 0;
}

int
hub_check(const struct hub *h, const char **problem)
{
	const struct hub_shared	*sh = h->h_sh;
	struct stat		 st;

	*problem = NULL;
	if (fstat(h->h_fd, &st) == -1)
		return -1;
	/* The size first: touching a truncated mapping raises SIGBUS. */
	if (st.st_size < (off_t)h->h_size)
		*problem = "truncated (smaller than its header says)";
	else if ((*problem = hub_header_problem(sh, st.st_size)) == NULL &&
	    (sh->s_ring_size != h->h_ring_size ||
	    sh->s_nworkers != h->h_nworkers ||
	    sh->s_max_clients != h->h_max_clients))
		*problem = "corrupt header (sizes changed since it was made)";
	return *problem == NULL ? 0 : -1;
}

/* Map an open object of the given size; NULL with errno. */
static struct hub *
hub_map(int fd, size_t size, int prot, const char *name)
{
	struct hub	*h;
	void		*p;
	int		 i;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((p = mmap(NULL, size, prot, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		free(h);
		return NULL;
	}
	h->h_sh = p;
	h->h_size = size;
	h->h_fd = fd;
	h->h_self = -1;
	h->h_pid = getpid();
	snprintf(h->h_name, sizeof(h->h_name), "%s", name);
	for (i = 0; i < HUB_WORKERS_MAX; i++)
		h->h_wake[i] = -1;
	return h;
}

static void
hub_locate(struct hub *h)
{
	h->h_ring_size = h->h_sh->s_ring_size;
	h->h_nworkers = h->h_sh->s_nworkers;
	h->h_max_clients = h->h_sh->s_max_clients;
	h->h_index_n = h->h_sh->s_layout.ly_index_n;
	h->h_reg = (struct hub_reg *)((char *)h->h_sh +
	    h->h_sh->s_layout.ly_reg_off);
	h->h_addrs.lt_tab = (struct limit_addr *)((char *)h->h_sh +
	    h->h_sh->s_layout.ly_addr_off);
	h->h_addrs.lt_n = h->h_sh->s_addr_slots;
	h->h_addrs.lt_seed = h->h_sh->s_addr_seed;
	h->h_index = (_Atomic uint64_t *)(void *)((char *)h->h_sh +
	    h->h_sh->s_layout.ly_index_off);
	h->h_areas = (unsigned char *)h->h_sh + h->h_sh->s_layout.ly_area_off;
}

/*
 * Remove an object left by a chatd that is gone, or anything else under
 * the name; EADDRINUSE if its master lives.  Whose object it is, is the
 * caller's question (hub_probe): this removes what it is allowed to.
 */
static int
hub_remove_stale(const char *name)
{
	struct hub_info	hi;

	if (hub_probe(name, &hi) == -1)
		return -1;
	if (hi.hi_state == HUB_ABSENT)
		return 0;
	if (hi.hi_state == HUB_RUNNING) {
		errno = EADDRINUSE;
		return -1;
	}
	if (shm_unlink(name) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/*
 * Give the object its size with the memory reserved, so that a full
 * shared-memory filesystem is ENOSPC now and never SIGBUS in a worker.
 */
static int
hub_reserve(int fd, size_t total)
{
	int	rv;

	rv = posix_fallocate(fd, 0, (off_t)total);
	if (rv == 0)
		return 0;
	/*
	 * XXX systems whose shared memory cannot be fallocated (EINVAL,
	 * EOPNOTSUPP) get the size without the reservation.
	 */
	if (rv == EINVAL || rv == EOPNOTSUPP)
		return ftruncate(fd, (off_t)total);
	errno = rv;
	return -1;
}

struct hub *
hub_create(const char *name, size_t ring_size, int nworkers,
    unsigned max_clients)
{
	struct hub		*h;
	struct hub_shared	*sh;
	struct hub_layout	 ly;
	int			 fd, saved;

	if (ring_size < HUB_RING_MIN || ring_size % HUB_ALIGN != 0 ||
	    hub_layout(ring_size, nworkers, max_clients, &ly) == -1) {
		errno = EINVAL;
		return NULL;
	}

	if (hub_remove_stale(name) == -1)
		return NULL;
	if ((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) == -1)
		return NULL;
	if (hub_reserve(fd, ly.ly_total) == -1 ||
	    (h = hub_map(fd, ly.ly_total, PROT_READ | PROT_WRITE, name)) == NULL) {
		saved = errno;
		close(fd);
		shm_unlink(name);
		errno = saved;
		return NULL;
	}

	/* A new object is zeroed: only non-zero fields are set. */
	sh = h->h_sh;
	sh->s_version = HUB_VERSION;
	sh->s_nworkers = nworkers;
	sh->s_max_clients = max_clients;
	sh->s_ring_size = ring_size;
	sh->s_layout = ly;
	sh->s_addr_slots = limit_table_slots(max_clients);
	sh->s_addr_seed = limit_seed();
	sh->s_high = hub_ring_high_mark(ring_size, ly.ly_index_n);
	sh->s_low = sh->s_high / 2;
	sh->s_started = (int64_t)time(NULL);
	atomic_store(&sh->s_next_id, 1);
	if (lock_init(&sh->s_reg_lock) == -1) {
		saved = errno;
		hub_unlink(h);
		hub_detach(h);
		errno = saved;
		return NULL;
	}
	atomic_store(&sh->s_master, getpid());
	/* Last, so a reader of the header never sees a half-made hub. */
	sh->s_magic = HUB_MAGIC;
	hub_locate(h);
	return h;
}

struct hub *
hub_attach(const char *name)
{
	struct hub_shared	 sh;
	struct hub		*h;
	struct stat		 st;
	int			 fd;
	ssize_t			 n = 0;

	if ((fd = shm_open(name, O_RDONLY, 0)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return NULL;
	}
	memset(&sh, 0, sizeof(sh));
	if (st.st_size >= (off_t)sizeof(sh))
		n = pread(fd, &sh, sizeof(sh), 0);
	/* Every size in the header is checked before it is used. */
	if (n != (ssize_t)sizeof(sh) ||
	    hub_header_problem(&sh, st.st_size) != NULL) {
		close(fd);
		errno = EPROTO;
		return NULL;
	}
	if ((h = hub_map(fd, sh.s_layout.ly_total, PROT_READ, name)) == NULL) {
		close(fd);
		return NULL;
	}
	hub_locate(h);
	return h;
}

void
hub_detach(struct hub *h)
{
	if (h == NULL)
		return;
	munmap(h->h_sh, h->h_size);
	close(h->h_fd);
	free(h);
}

const char *
hub_path(const struct hub *h)
{
	return h->h_name;
}

int
hub_unlink(struct hub *h)
{
	return shm_unlink(h->h_name);
}

int
hub_chown(struct hub *h, uid_t uid, gid_t gid)
{
	return fchown(h->h_fd, uid, gid);
}

void
hub_set_master(struct hub *h, pid_t pid)
{
	atomic_store(&h->h_sh->s_master, pid);
	h->h_pid = pid;
}

void
hub_set_wake(struct hub *h, int w, int wake_wfd)
{
	h->h_wake[w] = wake_wfd;
}

void
hub_worker_start(struct hub *h, int w, pid_t pid)
{
	struct hub_slot	*s = &h->h_sh->s_workers[w];
	int		 i;

	h->h_self = w;
	h->h_pid = pid;
	atomic_store(&s->w_clients, 0);
	atomic_store(&s->w_msgs_in, 0);
	atomic_store(&s->w_msgs_out, 0);
	atomic_store(&s->w_bytes_out, 0);
	atomic_store(&s->w_wake_pending, 0);
	atomic_store(&s->w_kick, 0);
	atomic_store(&s->w_cursor, atomic_load(&h->h_sh->s_head));
	atomic_store(&s->w_beat_ms, 0);
	atomic_store(&s->w_holds, 0);
	atomic_store(&s->w_reader, 0);
	for (i = 0; i < HUB_EXT_MAX; i++)
		atomic_store(&s->w_ext[i], 0);
	atomic_fetch_and(&h->h_sh->s_held, ~((uint64_t)1 << w));
	atomic_store(&s->w_pid, pid);
}

/* Release l if the dead process pid held it. */
static int
lock_recover(struct hub_lock *l, pid_t pid)
{
	pid_t	expect = pid;

	if (!atomic_compare_exchange_strong(&l->l_owner, &expect, 0))
		return 0;
	sem_post(&l->l_sem);
	return 1;
}

void
hub_recover(struct hub *h, int w, pid_t pid)
{
	struct hub_shared	*sh = h->h_sh;

	/*
	 * The ring holds nothing to recover: a writer that died before its
	 * compare-and-swap published nothing, one that died after it left
	 * at most the head to move, which the next writer does.
	 */
	lock_recover(&sh->s_reg_lock, pid);
	atomic_store(&sh->s_workers[w].w_pid, 0);
	atomic_fetch_and(&sh->s_held, ~((uint64_t)1 << w));
	/* The dead no longer hold anyone back: wake who waited for it. */
	hub_wake_held(h);
}

void
hub_worker_reader(struct hub *h)
{
	atomic_store(&h->h_sh->s_workers[h->h_self].w_reader, 1);
}

void
hub_worker_ext(struct hub *h, int i, uint64_t v)
{
	if (i >= 0 && i < HUB_EXT_MAX)
		atomic_store(&h->h_sh->s_workers[h->h_self].w_ext[i], v);
}

void
hub_set_id_base(struct hub *h, uint64_t base)
{
	atomic_store(&h->h_sh->s_next_id, base);
}

int
hub_active(const struct hub *h, int64_t now, unsigned *clients)
{
	const struct hub_shared	*sh = h->h_sh;
	const struct hub_slot	*s;
	int			 w, n = 0;

	*clients = 0;
	for (w = 0; w < h->h_nworkers; w++) {
		s = &sh->s_workers[w];
		if (atomic_load(&s->w_pid) == 0 ||
		    atomic_load(&s->w_reader) ||
		    now - atomic_load(&s->w_beat_ms) > HUB_STALL_MS)
			continue;
		*clients += atomic_load(&s->w_clients);
		n++;
	}
	return n;
}

/*
 * The registry.  Each slot is a seqlock: its writer makes g_seq odd,
 * writes, and makes it even again; a reader copies the slot and keeps
 * the copy only if g_seq was even and unchanged around it.  Readers
 * (/who, /msg, the name check) take no lock, so a worker stopped in the
 * middle of anything cannot hold them up.
 *
 * Who writes a slot: a worker adding a client claims a free slot by
 * moving its g_seq from even to odd with a compare-and-swap, which only
 * one can win; from then on only the client's own worker writes it
 * (a rename, the removal), or, once that worker is dead, the worker
 * that replaces it.  The one thing that needs mutual exclusion is
 * making a nickname unique across the server: s_reg_lock, taken only
 * by hub_client_set_nick, for one scan, and never waited on for longer
 * than HUB_LOCK_WAIT_MS (a holder that is stopped makes a rename fail
 * with EAGAIN, nothing else).
 */

/* A reader gives up on a slot that stays odd (its writer is stopped). */
#define REG_READ_TRIES	64

/* Start writing a slot whose g_seq was even at seq: 0, or -1 if lost. */
static int
reg_begin(struct hub_reg *g, uint32_t seq)
{
	if (seq & 1 || !atomic_compare_exchange_strong_explicit(&g->g_seq,
	    &seq, seq + 1, memory_order_acquire, memory_order_relaxed))
		return -1;
	/* The odd seq is visible before any of the writes that follow. */
	atomic_thread_fence(memory_order_release);
	return 0;
}

static void
reg_end(struct hub_reg *g)
{
	atomic_fetch_add_explicit(&g->g_seq, 1, memory_order_release);
}

/* The slot's owner starts writing it; nobody else writes it now. */
static void
reg_begin_own(struct hub_reg *g)
{
	while (reg_begin(g, atomic_load_explicit(&g->g_seq,
	    memory_order_relaxed)) == -1)
		;	/* only a reader-side race: the seq is even */
}

/*
 * A consistent copy of slot g: 1 if it holds a client, 0 if free, -1 if
 * it was being written all along (a writer stopped in the middle).
 * The copy may race with a writer; it is kept only if g_seq says none
 * wrote meanwhile.
 */
static int
reg_read(const struct hub_reg *g, struct hub_client_info *ci)
{
	uint32_t	s1, s2;
	int		i;

	for (i = 0; i < REG_READ_TRIES; i++) {
		s1 = atomic_load_explicit(&g->g_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		ci->ci_id = g->g_id;
		ci->ci_worker = g->g_worker;
		memcpy(ci->ci_nick, g->g_nick, sizeof(ci->ci_nick));
		memcpy(ci->ci_addr, g->g_addr, sizeof(ci->ci_addr));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&g->g_seq, memory_order_relaxed);
		if (s1 == s2) {
			ci->ci_nick[sizeof(ci->ci_nick) - 1] = '\0';
			ci->ci_addr[sizeof(ci->ci_addr) - 1] = '\0';
			return ci->ci_id != 0;
		}
	}
	return -1;
}

uint64_t
hub_client_add(struct hub *h, const char *addr, unsigned *slot)
{
	struct hub_shared	*sh = h->h_sh;
	struct hub_reg		*g;
	unsigned		 i, n = h->h_max_clients, start, at;
	uint32_t		 seq;
	uint64_t		 id;

	/* A place first: the count never exceeds the limit. */
	if (atomic_fetch_add(&sh->s_clients, 1) >= n)
		goto full;
	start = atomic_fetch_add_explicit(&sh->s_reg_hint, 1,
	    memory_order_relaxed);
	for (i = 0; i < n; i++) {
		at = (start + i) % n;
		g = &h->h_reg[at];
		seq = atomic_load_explicit(&g->g_seq, memory_order_acquire);
		if ((seq & 1) || g->g_id != 0 || reg_begin(g, seq) == -1)
			continue;
		id = atomic_fetch_add(&sh->s_next_id, 1);
		g->g_id = id;
		g->g_worker = h->h_self;
		g->g_nick[0] = '\0';
		snprintf(g->g_addr, sizeof(g->g_addr), "%s", addr);
		g->g_addr_ref = 0;
		atomic_store(&g->g_recv_tat, 0);
		reg_end(g);
		*slot = at;
		return id;
	}
full:
	atomic_fetch_sub(&sh->s_clients, 1);
	errno = ENOSPC;
	return 0;
}

/* The client of slot g is gone: its address counts one client less. */
static void
hub_client_drop_addr(struct hub *h, struct hub_reg *g)
{
	if (g->g_addr_ref != 0) {
		limit_addr_release(&h->h_addrs, g->g_addr_ref - 1);
		g->g_addr_ref = 0;
	}
}

void
hub_client_remove(struct hub *h, unsigned slot)
{
	struct hub_shared	*sh = h->h_sh;
	struct hub_reg		*g = &h->h_reg[slot];

	if (slot >= h->h_max_clients || g->g_id == 0)
		return;
	reg_begin_own(g);
	g->g_id = 0;
	reg_end(g);
	hub_client_drop_addr(h, g);
	atomic_fetch_sub(&sh->s_clients, 1);
}

/*
 * The slot of the client called nick (case ignored), or -1, with its
 * copy in *ci.  No client is called "": that is how an unnamed one is
 * stored.
 */
static long
reg_find(struct hub *h, const char *nick, struct hub_client_info *ci)
{
	unsigned	i;

	if (nick[0] == '\0')
		return -1;
	for (i = 0; i < h->h_max_clients; i++)
		if (reg_read(&h->h_reg[i], ci) == 1 &&
		    strcasecmp(ci->ci_nick, nick) == 0)
			return i;
	return -1;
}

/*
 * Take l, waiting at most HUB_LOCK_WAIT_MS: a holder that takes longer
 * is stopped or starved (the critical section is one scan).  A holder
 * that died is released here at once.  0, or -1 with errno EAGAIN.
 */
static int
lock_take_bounded(struct hub *h, struct hub_lock *l)
{
	struct timespec	ts;
	pid_t		owner;
	int		tries;

	for (tries = 0; tries < 2; tries++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += HUB_LOCK_WAIT_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while (sem_timedwait(&l->l_sem, &ts) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (errno != ETIMEDOUT) {
			atomic_store(&l->l_owner, h->h_pid);
			return 0;
		}
		owner = atomic_load(&l->l_owner);
		if (owner == 0 || kill(owner, 0) == 0 || errno == EPERM ||
		    !lock_recover(l, owner))
			break;
	}
	errno = EAGAIN;
	return -1;
}

int
hub_client_set_nick(struct hub *h, unsigned slot, const char *nick)
{
	struct hub_shared	*sh = h->h_sh;
	struct hub_client_info	 ci;
	struct hub_reg		*g = &h->h_reg[slot];
	long			 other;

	if (lock_take_bounded(h, &sh->s_reg_lock) == -1)
		return -1;
	other = reg_find(h, nick, &ci);
	if (other != -1 && (unsigned)other != slot) {
		lock_give(&sh->s_reg_lock);
		errno = EEXIST;
		return -1;
	}
	reg_begin_own(g);
	snprintf(g->g_nick, sizeof(g->g_nick), "%s", nick);
	reg_end(g);
	lock_give(&sh->s_reg_lock);
	return 0;
}

/*
 * The whisper budget lives in the target's slot, outside its seqlock:
 * any worker spends it with a compare-and-swap (limit_budget_take).  A
 * slot given to a new client meanwhile is noticed by its id; at worst
 * one whisper is charged to the newcomer's fresh budget.
 */
uint64_t
hub_client_whisper(struct hub *h, const char *nick, size_t bytes,
    unsigned rate, size_t burst, int64_t now_us, char *exact,
    size_t exactlen)
{
	struct hub_client_info	 ci;
	struct hub_reg		*g;
	long			 slot;

	if ((slot = reg_find(h, nick, &ci)) == -1) {
		errno = ESRCH;
		return 0;
	}
	g = &h->h_reg[slot];
	snprintf(exact, exactlen, "%s", ci.ci_nick);
	if (limit_budget_take(&g->g_recv_tat, now_us, bytes, rate,
	    burst) == -1) {
		errno = EAGAIN;
		return 0;
	}
	if (g->g_id != ci.ci_id) {
		errno = ESRCH;
		return 0;
	}
	return ci.ci_id;
}

int
hub_addr_take(struct hub *h, const unsigned char *prefix, unsigned limit,
    unsigned *ref)
{
	return limit_addr_take(&h->h_addrs, prefix, limit, ref);
}

void
hub_addr_release(struct hub *h, unsigned ref)
{
	limit_addr_release(&h->h_addrs, ref);
}

unsigned
hub_addr_count(struct hub *h, const unsigned char *prefix)
{
	return limit_addr_count(&h->h_addrs, prefix);
}

/*
 * XXX a worker killed between hub_addr_take and this call leaves the
 * address counted once too often, until the hub is made again.
 */
void
hub_client_hold_addr(struct hub *h, unsigned slot, unsigned ref)
{
	if (slot < h->h_max_clients)
		h->h_reg[slot].g_addr_ref = ref + 1;
}

void
hub_test_rename_lock(struct hub *h, int take)
{
	if (take)
		lock_take(h, &h->h_sh->s_reg_lock);
	else
		lock_give(&h->h_sh->s_reg_lock);
}

uint64_t
hub_client_find(struct hub *h, const char *nick, char *exact,
    size_t exactlen)
{
	struct hub_client_info	ci;

	if (reg_find(h, nick, &ci) == -1)
		return 0;
	snprintf(exact, exactlen, "%s", ci.ci_nick);
	return ci.ci_id;
}

unsigned
hub_client_foreach(struct hub *h,
    void (*fn)(const struct hub_client_info *, void *), void *arg)
{
	struct hub_client_info	ci;
	unsigned		i, n = 0;

	for (i = 0; i < h->h_max_clients; i++) {
		if (reg_read(&h->h_reg[i], &ci) != 1)
			continue;
		fn(&ci, arg);
		n++;
	}
	return n;
}

/*
 * Is slot g free?  The seqlock read of g_id alone: a scan of a large
 * registry with few clients passes mostly free slots, and copying each
 * whole (reg_read) would cost it several times more.  A slot being
 * written counts as taken: reg_read decides.
 */
static int
reg_free(const struct hub_reg *g)
{
	uint32_t	s1, s2;
	uint64_t	id;

	s1 = atomic_load_explicit(&g->g_seq, memory_order_acquire);
	id = g->g_id;
	atomic_thread_fence(memory_order_acquire);
	s2 = atomic_load_explicit(&g->g_seq, memory_order_relaxed);
	return id == 0 && s1 == s2 && !(s1 & 1);
}

unsigned
hub_client_scan(struct hub *h, uint64_t *pos,
    int (*fn)(const struct hub_client_info *, void *), void *arg,
    unsigned max)
{
	struct hub_client_info	ci;
	uint64_t		i;
	unsigned		n = 0;

	for (i = *pos; i < h->h_max_clients && n < max; i++) {
		if (reg_free(&h->h_reg[i]) ||
		    reg_read(&h->h_reg[i], &ci) != 1)
			continue;
		n++;
		if (fn(&ci, arg) != 0) {
			i++;
			break;
		}
	}
	*pos = i < h->h_max_clients ? i : HUB_SCAN_END;
	return n;
}

unsigned
hub_client_reap_worker(struct hub *h, int w,
    void (*fn)(const struct hub_client_info *, void *), void *arg)
{
	struct hub_shared	*sh = h->h_sh;
	struct hub_client_info	 ci;
	struct hub_reg		*g;
	unsigned		 i, n = 0;
	uint32_t		 seq;

	/*
	 * Its worker is dead, so nobody else writes these slots.
	 * XXX a worker killed in the middle of writing a slot leaves it
	 * odd for good: readers skip it, and one place is lost.
	 */
	for (i = 0; i < h->h_max_clients; i++) {
		g = &h->h_reg[i];
		seq = atomic_load_explicit(&g->g_seq, memory_order_acquire);
		if (reg_read(g, &ci) != 1 || ci.ci_worker != w ||
		    reg_begin(g, seq) == -1)
			continue;
		g->g_id = 0;
		reg_end(g);
		hub_client_drop_addr(h, g);
		atomic_fetch_sub(&sh->s_clients, 1);
		fn(&ci, arg);
		n++;
	}
	return n;
}

void
hub_count_in(struct hub *h, uint64_t msgs)
{
	atomic_fetch_add_explicit(&h->h_sh->s_workers[h->h_self].w_msgs_in,
	    msgs, memory_order_relaxed);
}

void
hub_count_out(struct hub *h, uint64_t msgs, uint64_t bytes)
{
	struct hub_slot	*s = &h->h_sh->s_workers[h->h_self];

	atomic_fetch_add_explicit(&s->w_msgs_out, msgs, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->w_bytes_out, bytes,
	    memory_order_relaxed);
}

void
hub_count_held(struct hub *h)
{
	atomic_fetch_add_explicit(&h->h_sh->s_workers[h->h_self].w_holds, 1,
	    memory_order_relaxed);
}

void
hub_count_clients(struct hub *h, int delta)
{
	atomic_fetch_add(&h->h_sh->s_workers[h->h_self].w_clients,
	    (unsigned)delta);
}

int
hub_nworkers(const struct hub *h)
{
	return h->h_nworkers;
}

void
hub_worker_stats(const struct hub *h, int w, struct hub_stats *st)
{
	struct hub_slot	*s = &h->h_sh->s_workers[w];
	int		 i;

	st->st_pid = atomic_load(&s->w_pid);
	st->st_clients = atomic_load(&s->w_clients);
	st->st_msgs_in = atomic_load(&s->w_msgs_in);
	st->st_msgs_out = atomic_load(&s->w_msgs_out);
	st->st_bytes_out = atomic_load(&s->w_bytes_out);
	st->st_cursor = atomic_load(&s->w_cursor);
	st->st_beat_ms = atomic_load(&s->w_beat_ms);
	st->st_held = (atomic_load(&h->h_sh->s_held) >> w) & 1;
	st->st_holds = atomic_load(&s->w_holds);
	st->st_reader = atomic_load(&s->w_reader);
	for (i = 0; i < HUB_EXT_MAX; i++)
		st->st_ext[i] = atomic_load(&s->w_ext[i]);
}

int64_t
hub_started(const struct hub *h)
{
	return h->h_sh->s_started;
}

unsigned
hub_total_clients(const struct hub *h)
{
	return atomic_load(&h->h_sh->s_clients);
}

pid_t
hub_master_pid(const struct hub *h)
{
	return atomic_load(&h->h_sh->s_master);
}

size_t
hub_ring_size(const struct hub *h)
{
	return h->h_ring_size;
}
