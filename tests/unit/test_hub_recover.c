/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_hub_recover.c -- a hub outliving its processes: attaching to a
 * live one and the scoreboard it shows, the master releasing a lock
 * held by a worker that died, a new master over a live or a dead
 * one's hub.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hub.h"
#include "hub_helpers.h"
#include "util.h"
#include "unit.h"

/* child_publish_die: the hub, and text that cannot be read. */
struct bus {
	struct hub	*b_hub;
	const char	*b_bad;		/* mapped, but reading it faults */
};

static int	child_reg_die(void *);
static int	child_reg_stop(void *);
static int	child_rename(void *);
static int	wait_stopped(pid_t);
static void	on_bus(int);
static int	child_publish_die(void *);
static int	child_publish_one(void *);
static int	child_create(void *);
static int	child_stale(void *);

static void	t_attach(void);
static void	t_scoreboard(void);
static void	t_recover_harmless(void);
static void	t_recover_reg(void);
static void	t_stopped_holder(void);
static void	t_recover_ring(void);
static void	t_in_use(void);
static void	t_stale(void);

static void
t_attach(void)
{
	struct hub		*h, *ro;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct hub_stats	 st;
	char			*name;
	int			 fd;

	if ((h = thub_open(HUB_RING_MIN * 2, 3, 8)) == NULL)
		return;
	hub_publish(h, 0, 0, "before", 6);
	hub_worker_start(h, 2, getpid());
	hub_count_in(h, 5);
	name = thub_last_name();
	if (CHECK((ro = hub_attach(name)) != NULL)) {
		CHECK_INT(hub_nworkers(ro), 3);
		CHECK_UINT(hub_ring_size(ro), HUB_RING_MIN * 2);
		CHECK_UINT(hub_head(ro), hub_head(h));
		CHECK_INT(hub_master_pid(ro), getpid());
		hub_worker_stats(ro, 2, &st);
		CHECK_INT(st.st_pid, getpid());
		CHECK_UINT(st.st_msgs_in, 5);
		/* A read-only handle can follow the ring. */
		hub_cursor_init(ro, &cur);
		hub_publish(h, 0, 0, "after", 5);
		read_msg(ro, &cur, &msg, 2, "after", 5);
		hub_detach(ro);
	}
	thub_close(h);

	errno = 0;
	CHECK(hub_attach(name) == NULL);
	CHECK_INT(errno, ENOENT);
	/* Something else under a hub's name is refused. */
	name = thub_new_name();
	if (CHECK((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) !=
	    -1)) {
		errno = 0;
		CHECK(hub_attach(name) == NULL);
		CHECK_INT(errno, EPROTO);
		CHECK_INT(ftruncate(fd, 65536), 0);
		errno = 0;
		CHECK(hub_attach(name) == NULL);
		CHECK_INT(errno, EPROTO);
		close(fd);
		shm_unlink(name);
	}
}

static void
t_scoreboard(void)
{
	struct hub		*h;
	struct hub_stats	 st;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	CHECK_INT(hub_nworkers(h), 4);
	CHECK_INT(hub_master_pid(h), getpid());
	hub_worker_stats(h, 1, &st);
	CHECK_INT(st.st_pid, 0);
	CHECK_UINT(st.st_clients + st.st_msgs_in + st.st_msgs_out +
	    st.st_bytes_out, 0);

	hub_worker_start(h, 1, getpid());
	hub_count_in(h, 3);
	hub_count_out(h, 2, 100);
	hub_count_out(h, 1, 50);
	hub_count_clients(h, 2);
	hub_count_clients(h, -1);
	hub_worker_stats(h, 1, &st);
	CHECK_INT(st.st_pid, getpid());
	CHECK_UINT(st.st_clients, 1);
	CHECK_UINT(st.st_msgs_in, 3);
	CHECK_UINT(st.st_msgs_out, 3);
	CHECK_UINT(st.st_bytes_out, 150);
	/* Other slots are untouched. */
	hub_worker_stats(h, 0, &st);
	CHECK_UINT(st.st_clients + st.st_msgs_in + st.st_msgs_out, 0);
	/* A new worker in the slot starts from zero. */
	hub_worker_start(h, 1, getpid());
	hub_worker_stats(h, 1, &st);
	CHECK_UINT(st.st_clients + st.st_msgs_in + st.st_msgs_out +
	    st.st_bytes_out, 0);
	thub_close(h);
}

/* Child: register a client as worker 1, then die holding the rename lock. */
static int
child_reg_die(void *arg)
{
	struct hub	*h = arg;
	unsigned	 s;

	hub_worker_start(h, 1, getpid());
	if (hub_client_add(h, "10.1.1.1:1", &s) == 0)
		return 1;
	hub_test_rename_lock(h, 1);
	_exit(42);
}

/* Child: take the rename lock as worker 1, then stop, holding it. */
static int
child_reg_stop(void *arg)
{
	struct hub	*h = arg;
	unsigned	 s;

	hub_worker_start(h, 1, getpid());
	if (hub_client_add(h, "10.1.1.1:1", &s) == 0 ||
	    hub_client_set_nick(h, s, "stopped") == -1)
		return 1;
	hub_test_rename_lock(h, 1);
	raise(SIGSTOP);
	return 2;
}

/* Child: rename a client of its own; 0 if it could, 3 if busy. */
static int
child_rename(void *arg)
{
	struct hub	*h = arg;
	unsigned	 s;

	hub_worker_start(h, 2, getpid());
	if (hub_client_add(h, "10.3.3.3:3", &s) == 0)
		return 1;
	if (hub_client_set_nick(h, s, "renamed") == -1)
		return errno == EAGAIN ? 3 : 2;
	hub_client_remove(h, s);
	return 0;
}

/* The process is stopped (a waitpid that reports stops says so). */
static int
wait_stopped(pid_t pid)
{
	int	st;

	return waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st);
}

/* SIGBUS in child_publish_die: it died where it was meant to. */
static void
on_bus(int sig)
{
	(void)sig;
	_exit(42);
}

/*
 * Child: die inside hub_publish, in the middle of copying its record:
 * the text is in a mapping whose file was truncated, so copying it
 * raises SIGBUS.
 */
static int
child_publish_die(void *arg)
{
	struct bus		*b = arg;
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1)
		return 1;
	hub_worker_start(b->b_hub, 1, getpid());
	hub_publish(b->b_hub, 0, 0, b->b_bad, 100);
	return 2;
}

/* Child: publish one record. */
static int
child_publish_one(void *arg)
{
	struct hub	*h = arg;

	hub_worker_start(h, 2, getpid());
	return hub_publish(h, 0, 0, "recovered", 9) == 0;
}

static void
t_recover_harmless(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct hub_stats	 st;
	unsigned		 s;
	pid_t			 waiter;
	int			 status;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	hub_worker_start(h, 3, getpid());
	hub_client_add(h, "10.0.0.1:1", &s);
	/* Recovering for processes that hold nothing, us included. */
	hub_recover(h, 3, getpid() + 100000);
	hub_recover(h, 2, getpid());
	hub_worker_stats(h, 3, &st);
	CHECK_INT(st.st_pid, 0);
	CHECK_UINT(hub_total_clients(h), 1);
	hub_publish(h, 0, 0, "still fine", 10);
	read_msg(h, &cur, &msg, 1, "still fine", 10);

	/* The rename lock still keeps a second taker out. */
	hub_test_rename_lock(h, 1);
	waiter = spawn(child_rename, h);
	if (wait_child(waiter, WAIT_SECONDS, &status))
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	hub_test_rename_lock(h, 0);
	waiter = spawn(child_rename, h);
	wait_ok(waiter, "rename after the lock is given back");
	thub_close(h);
}

static void
t_recover_reg(void)
{
	struct hub		*h;
	struct collect		 co;
	pid_t			 dead, waiter;
	int			 status;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	dead = spawn(child_reg_die, h);
	if (!wait_child(dead, WAIT_SECONDS, &status) ||
	    !CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42)) {
		thub_close(h);
		return;
	}
	CHECK_UINT(hub_total_clients(h), 1);
	/* A rename finds the holder dead and releases the lock itself. */
	waiter = spawn(child_rename, h);
	wait_ok(waiter, "rename after the holder died");
	/* The master's recovery after that is harmless. */
	hub_recover(h, 1, dead);
	waiter = spawn(child_rename, h);
	wait_ok(waiter, "rename after recovery");
	/* The dead worker's client is still there to be reaped. */
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_reap_worker(h, 1, collect_fn, &co), 1);
	CHECK_STR(co.co_ci[0].ci_addr, "10.1.1.1:1");
	CHECK_UINT(hub_total_clients(h), 0);
	thub_close(h);
}

/*
 * A worker stopped holding the rename lock holds nobody up: a rename
 * elsewhere fails with EAGAIN within the bound, and adding, finding,
 * listing and removing clients never wait for it.
 */
static void
t_stopped_holder(void)
{
	struct hub		*h;
	struct collect		 co;
	char			 exact[PROTO_NICK_MAX + 1];
	unsigned		 s;
	pid_t			 stopped;
	int64_t			 t0;
	int			 status;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	stopped = spawn(child_reg_stop, h);
	if (!CHECK(wait_stopped(stopped))) {
		kill(stopped, SIGKILL);
		wait_child(stopped, WAIT_SECONDS, &status);
		thub_close(h);
		return;
	}
	hub_worker_start(h, 3, getpid());
	CHECK(hub_client_add(h, "10.0.0.9:9", &s) != 0);
	t0 = now_ms();
	CHECK_INT(hub_client_set_nick(h, s, "mine"), -1);
	CHECK_INT(errno, EAGAIN);
	/* The bound, and some slack for a loaded machine. */
	CHECK(now_ms() - t0 < 2 * HUB_LOCK_WAIT_MS + 500);
	CHECK(hub_client_find(h, "STOPPED", exact, sizeof(exact)) != 0);
	CHECK_STR(exact, "stopped");
	memset(&co, 0, sizeof(co));
	CHECK_UINT(hub_client_foreach(h, collect_fn, &co), 2);
	hub_client_remove(h, s);
	CHECK_UINT(hub_total_clients(h), 1);
	/* Killed while stopped: the next rename takes the lock over. */
	kill(stopped, SIGKILL);
	wait_child(stopped, WAIT_SECONDS, &status);
	CHECK(hub_client_add(h, "10.0.0.9:9", &s) != 0);
	CHECK_INT(hub_client_set_nick(h, s, "mine"), 0);
	thub_close(h);
}

static void
t_recover_ring(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;
	struct bus		 b;
	char			*name;
	void			*bad;
	size_t			 page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t		 lost;
	pid_t			 dead, waiter;
	int			 fd, status;

	if ((h = thub_open(HUB_RING_MIN, 4, 8)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	hub_publish(h, 0, 0, "before", 6);

	name = thub_new_name();
	if (!CHECK((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) !=
	    -1)) {
		thub_close(h);
		return;
	}
	CHECK_INT(ftruncate(fd, (off_t)page), 0);
	bad = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	CHECK_INT(ftruncate(fd, 0), 0);
	close(fd);
	shm_unlink(name);
	if (!CHECK(bad != MAP_FAILED)) {
		thub_close(h);
		return;
	}

	b.b_hub = h;
	b.b_bad = bad;
	dead = spawn(child_publish_die, &b);
	if (!wait_child(dead, WAIT_SECONDS, &status) ||
	    !CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42))
		goto out;
	/* Nobody waits for the dead: not even for the master's recovery. */
	waiter = spawn(child_publish_one, h);
	if (!wait_ok(waiter, "publisher after a writer died"))
		goto out;
	hub_recover(h, 1, dead);
	/* The dead writer's record never appeared; the ring goes on. */
	read_msg(h, &cur, &msg, 1, "before", 6);
	read_msg(h, &cur, &msg, 2, "recovered", 9);
	CHECK_INT(hub_read(h, &cur, &msg, &lost), HUB_EMPTY);
	CHECK_UINT(hub_publish(h, 0, 0, "and on", 6), 3);
	read_msg(h, &cur, &msg, 3, "and on", 6);
out:
	munmap(bad, page);
	thub_close(h);
}

/* Child: creating a hub whose master lives must fail. */
static int
child_create(void *arg)
{
	struct hub	*h;

	if ((h = hub_create(arg, HUB_RING_MIN, 1, 1)) != NULL) {
		hub_detach(h);
		return 1;
	}
	return errno == EADDRINUSE ? 0 : 2;
}

/* Child: a master that dies without removing its hub. */
static int
child_stale(void *arg)
{
	struct hub	*h;

	if ((h = hub_create(arg, HUB_RING_MIN, 1, 1)) == NULL)
		return 1;
	hub_publish(h, 0, 0, "stale", 5);
	hub_detach(h);
	return 0;
}

static void
t_in_use(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	struct hub_msg		 msg;

	if ((h = thub_open(HUB_RING_MIN, 1, 1)) == NULL)
		return;
	hub_cursor_init(h, &cur);
	wait_ok(spawn(child_create, thub_last_name()),
	    "hub_create over a live hub");
	/* The live hub is untouched. */
	hub_publish(h, 0, 0, "mine", 4);
	read_msg(h, &cur, &msg, 1, "mine", 4);
	thub_close(h);
}

static void
t_stale(void)
{
	struct hub		*h;
	struct hub_cursor	 cur;
	char			*name = thub_new_name();
	int			 fd;

	if (!wait_ok(spawn(child_stale, name), "stale master"))
		return;
	/* It is still there, its master gone: a new one replaces it. */
	if (CHECK((fd = shm_open(name, O_RDONLY, 0)) != -1))
		close(fd);
	if (!CHECK((h = hub_create(name, HUB_RING_MIN, 2, 2)) != NULL))
		return;
	CHECK_INT(hub_master_pid(h), getpid());
	CHECK_UINT(hub_head(h), 0);
	hub_cursor_init(h, &cur);
	CHECK_UINT(cur.hc_seq, 0);
	CHECK_UINT(hub_publish(h, 0, 0, "fresh", 5), 1);
	thub_close(h);
}

int
main(void)
{
	thub_init("test_hub_recover");
	unit_run("hub: hub_attach reads a live hub, refuses others",
	    t_attach);
	unit_run("hub: scoreboard counters per worker", t_scoreboard);
	unit_run("hub: recover for a pid holding nothing is harmless",
	    t_recover_harmless);
	unit_run("hub: a rename releases a lock held by the dead",
	    t_recover_reg);
	unit_run("hub: a worker stopped in a rename holds nobody up",
	    t_stopped_holder);
	unit_run("hub: a writer that dies inside hub_publish holds nobody up",
	    t_recover_ring);
	unit_run("hub: hub_create over a live master is EADDRINUSE",
	    t_in_use);
	unit_run("hub: hub_create replaces a dead master's hub", t_stale);
	unit_run("hub: no shared memory objects left", thub_no_leftovers);
	return unit_done();
}
