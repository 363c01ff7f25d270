/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * master.c -- the chatd master: forks the workers, replaces one that
 * dies (backing off while they keep dying at start, as postfix's master
 * does), and stops them all on SIGTERM or SIGINT.  It never touches the
 * ring; it only releases the locks of a worker that died holding them,
 * after checking that the hub is still the one it made.
 *
 * The master keeps the privileges it started with, so that it can
 * remove the pidfile and the hub when it stops; it never reads from the
 * network.  With -U, each worker becomes that user right after fork.
 */
#define _DEFAULT_SOURCE		/* setgroups(2) */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chatd.h"
#ifdef CHATD_CLUSTER
#include "bridgeboard.h"
#include "cluster.h"
#endif
#include "ev.h"
#include "log.h"
#include "proctitle.h"
#include "util.h"

/* A worker that dies this soon after starting counts as a failure... */
#define MASTER_FAIL_MS		1000
/*
 * ...and the second failure in a row waits this long before the next
 * try, doubling up to MASTER_BACKOFF_MAX: a worker that cannot start
 * is retried for ever, without spinning.
 */
#define MASTER_BACKOFF_MIN_MS	100
#define MASTER_BACKOFF_MAX_MS	30000

static struct {
	pid_t	pid;
	int64_t	started_ms;
	int64_t	respawn_ms;	/* when to start it again; 0: not due */
	int	fails;
	int	wake[2];
} slots[HUB_WORKERS_MAX];

/*
 * The workers hold the read end; only the master holds the write end,
 * so a worker reads EOF as soon as the master is gone, however it died.
 */
static int	master_pipe[2] = { -1, -1 };

/*
 * The slots the master fills: the workers, then with -C the bridge
 * (bridge.c), which the hub counts as one more reader.
 */
static int	nslots;
#define IS_BRIDGE(w)	((w) == conf.workers)

#ifdef CHATD_CLUSTER
static struct cluster_state	*cluster;
/* The bridge's connected server, for chatd -S (bridgeboard.c). */
static struct bridgeboard	*board;
/* The bridge's copy of the other hosts' clients (mirror.c). */
static struct mirror		*mirror;
/* The first bridge says on this pipe that it has joined the cluster. */
static int	ready_pipe[2] = { -1, -1 };
#endif

/* "worker 3" or "bridge", for the log. */
static const char *
slot_name(int w)
{
	static char	name[32];

	if (IS_BRIDGE(w))
		return "bridge";
	snprintf(name, sizeof(name), "worker %d", w + 1);
	return name;
}

static volatile sig_atomic_t	got_chld, got_term, got_alrm, got_hup;

static void
master_signal(int sig)
{
	switch (sig) {
	case SIGCHLD:
		got_chld = 1;
		break;
	case SIGALRM:
		got_alrm = 1;
		break;
	case SIGHUP:
		got_hup = 1;
		break;
	default:
		got_term = 1;
		break;
	}
}

/* In a new worker: become the -U user, or exit. */
static void
master_drop_privileges(int w)
{
	if (conf.user == NULL)
		return;
	if (setgroups(1, &conf.gid) == -1 || setgid(conf.gid) == -1 ||
	    setuid(conf.uid) == -1)
		fatal("%s: cannot become user %s", slot_name(w), conf.user);
}

/* Fork the worker for slot w.  Signals are blocked by the caller. */
static int
master_spawn(struct hub *hub, int w)
{
	struct sigaction	sa;
	struct hub_cursor	start;
	sigset_t		none;
	pid_t			pid;
	char			title[48];

	/*
	 * Where the worker starts to read: here, not once it has set up,
	 * so that what is said in between (by the clients of workers that
	 * were faster, or the bridge) is in its /history too.
	 */
	hub_cursor_init(hub, &start);
	if ((pid = fork()) == -1) {
		log_warn("fork %s", slot_name(w));
		return -1;
	}
	if (pid == 0) {
		/* Back to defaults before doing anything else. */
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		/*
		 * Ctrl-C and a hangup reach the whole process group: the
		 * master decides.  SIGTERM is each child's own (worker_run,
		 * bridge_run).
		 */
		sa.sa_handler = SIG_IGN;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(master_pipe[1]);
		if (conf.daemonize) {
			detach_forget();
			log_init("chatd", LOG_TO_SYSLOG, conf.opts.verbose);
		}
		snprintf(title, sizeof(title), "chatd: %s", slot_name(w));
		proctitle_set(title);
		master_drop_privileges(w);
#ifdef CHATD_CLUSTER
		if (IS_BRIDGE(w)) {
			if (ready_pipe[0] != -1)
				close(ready_pipe[0]);
			bridge_run(w, hub, master_pipe[0], slots[w].wake,
			    cluster, board, ready_pipe[1]);
		}
		if (ready_pipe[0] != -1) {
			close(ready_pipe[0]);
			close(ready_pipe[1]);
		}
#endif
		worker_run(w, hub, &start, master_pipe[0], slots[w].wake);
	}
	slots[w].pid = pid;
	slots[w].started_ms = now_ms();
	slots[w].respawn_ms = 0;
	return 0;
}

static int
master_slot(pid_t pid)
{
	int	w;

	for (w = 0; w < nslots; w++)
		if (slots[w].pid == pid)
			return w;
	return -1;
}

/* Log how worker w (pid) ended. */
static void
master_log_death(int w, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("%s (pid %ld) killed by signal %d (%s)",
		    slot_name(w), (long)pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		log_warnx("%s (pid %ld) exited with status %d",
		    slot_name(w), (long)pid, WEXITSTATUS(status));
}

/* When to start slot w again: at once, or later if it keeps failing. */
static void
master_schedule(int w, int64_t now)
{
	int64_t	delay = 0;
	int	i;

	if (now - slots[w].started_ms < MASTER_FAIL_MS)
		slots[w].fails++;
	else
		slots[w].fails = 0;
	if (slots[w].fails >= 2) {
		delay = MASTER_BACKOFF_MIN_MS;
		for (i = 2; i < slots[w].fails &&
		    delay < MASTER_BACKOFF_MAX_MS; i++)
			delay *= 2;
		if (delay > MASTER_BACKOFF_MAX_MS)
			delay = MASTER_BACKOFF_MAX_MS;
		log_warnx("%s died at start %d times in a row; "
		    "next try in %lld ms", slot_name(w), slots[w].fails,
		    (long long)delay);
	}
	slots[w].respawn_ms = now + delay;
}

/*
 * Collect dead workers and schedule their replacement unless stopping.
 * Returns -1 if the hub is damaged: no worker can run on it, and the
 * server must stop.
 */
static int
master_reap(struct hub *hub, int stopping)
{
	const char	*problem;
	pid_t		 pid;
	int		 status, w, rv = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((w = master_slot(pid)) == -1)
			continue;
		slots[w].pid = 0;
		if (stopping && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_debug("%s (pid %ld) stopped", slot_name(w),
			    (long)pid);
		else
			master_log_death(w, pid, status);
		/* A truncated hub would kill the master with SIGBUS. */
		if (rv == -1 || hub_check(hub, &problem) == -1) {
			if (rv == 0)
				log_warnx("hub %s is %s; stopping",
				    hub_path(hub), problem != NULL ?
				    problem : strerror(errno));
			rv = -1;
			continue;
		}
		hub_recover(hub, w, pid);
		if (!stopping)
			master_schedule(w, now_ms());
	}
	return rv;
}

/* Start the workers that are due; the ms until the next one, or -1. */
static int64_t
master_respawn(struct hub *hub)
{
	int64_t	now = now_ms(), next = -1, left;
	int	w;

	for (w = 0; w < nslots; w++) {
		if (slots[w].pid != 0 || slots[w].respawn_ms == 0)
			continue;
		left = slots[w].respawn_ms - now;
		if (left <= 0) {
			if (master_spawn(hub, w) == 0) {
				log_info("%s replaced (pid %ld)",
				    slot_name(w), (long)slots[w].pid);
				continue;
			}
			slots[w].respawn_ms = now + 1000;
			left = 1000;
		}
		if (next == -1 || left < next)
			next = left;
	}
	return next;
}

static int
master_alive(void)
{
	int	w, n = 0;

	for (w = 0; w < nslots; w++)
		if (slots[w].pid != 0)
			n++;
	return n;
}

/* Ask every worker to stop: close the pipe, and SIGTERM for speed. */
static void
master_stop_workers(void)
{
	int	w;

	if (master_pipe[1] != -1) {
		close(master_pipe[1]);
		master_pipe[1] = -1;
	}
	for (w = 0; w < nslots; w++) {
		slots[w].respawn_ms = 0;
		if (slots[w].pid != 0)
			kill(slots[w].pid, SIGTERM);
	}
	alarm(CHATD_STOP_GRACE);
}

/* Sleep until a signal arrives, or for ms (-1: no limit). */
static void
master_wait(const sigset_t *wait_mask, int64_t ms)
{
	struct timespec	ts;

	if (ms < 0) {
		sigsuspend(wait_mask);
		return;
	}
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	pselect(0, NULL, NULL, NULL, &ts, wait_mask);
}

static void
master_signals(sigset_t *wait_mask)
{
	static const int	sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP,
				    SIGALRM };
	struct sigaction	sa;
	sigset_t		block;
	size_t			i;

	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = master_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigdelset(wait_mask, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
}

#ifdef CHATD_CLUSTER
/*
 * chatd -C: start the bridge first and wait until it has joined the
 * cluster (the stream and the buckets exist, this host has its number):
 * the workers' clients get ids with the host's number in their high
 * bits, unique in the cluster.  0, or -1 (logged) if the bridge died or
 * NATS did not answer within CLUSTER_START_MS.
 */
static int
master_cluster_start(struct hub *hub, const sigset_t *wait_mask)
{
	struct timespec	ts;
	fd_set		rfds;
	int64_t		deadline = now_ms() + CLUSTER_START_MS, left;
	uint64_t	host;
	char		byte;
	int		n;

	cluster = mmap(NULL, sizeof(*cluster), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cluster == MAP_FAILED)
		fatal("mmap");
	memset(cluster, 0, sizeof(*cluster));
	/* The other hosts' clients, for /who and /msg (mirror.h). */
	if ((mirror = mirror_create(conf.opts.max_clients)) == NULL) {
		log_warn("mmap: the mirror of the other hosts' clients");
		return -1;
	}
	cluster_mirror_set(mirror);
	if ((board = bridgeboard_create(hub_path(hub), conf.user != NULL,
	    conf.uid, conf.gid)) == NULL) {
		log_warn("shared memory %s-bridge", hub_path(hub));
		return -1;
	}
	if (pipe(ready_pipe) == -1)
		fatal("pipe");
	if (master_spawn(hub, conf.workers) == -1)
		return -1;
	close(ready_pipe[1]);
	for (;;) {
		if (got_term || got_chld) {
			log_warnx("the bridge did not join the cluster");
			return -1;
		}
		if ((left = deadline - now_ms()) <= 0) {
			log_warnx("no NATS server of %s answered within %d s",
			    conf.cluster, CLUSTER_START_MS / 1000);
			return -1;
		}
		FD_ZERO(&rfds);
		FD_SET(ready_pipe[0], &rfds);
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		n = pselect(ready_pipe[0] + 1, &rfds, NULL, NULL, &ts,
		    wait_mask);
		if (n == 1 && read(ready_pipe[0], &byte, 1) == 1)
			break;
	}
	close(ready_pipe[0]);
	ready_pipe[0] = ready_pipe[1] = -1;
	host = atomic_load(&cluster->cs_host);
	hub_set_id_base(hub, host << CLUSTER_HOST_SHIFT | 1);
	log_info("cluster %s: this host is number %llu", conf.cluster_name,
	    (unsigned long long)host);
	return 0;
}

/* Startup failed after the bridge was started: stop it, clean up. */
static int
master_abort(struct hub *hub)
{
	int	status;

	master_stop_workers();
	alarm(0);
	if (slots[conf.workers].pid != 0) {
		kill(slots[conf.workers].pid, SIGKILL);
		waitpid(slots[conf.workers].pid, &status, 0);
	}
	if (bridgeboard_unlink(hub_path(hub)) == -1)
		log_warn("shm_unlink %s-bridge", hub_path(hub));
	if (hub_unlink(hub) == -1)
		log_warn("hub_unlink");
	hub_detach(hub);
	return 1;
}
#endif

int
master_run(struct hub *hub)
{
	sigset_t	wait_mask;
	int64_t		next = -1;
	int		w, stopping = 0, rv = 0;

	log_procname("master");
	proctitle_set("chatd: master");
	nslots = conf.workers + (conf.cluster != NULL);
	if (pipe(master_pipe) == -1)
		fatal("pipe");
	for (w = 0; w < nslots; w++) {
		if (wake_open(slots[w].wake) == -1)
			fatal("wake_open");
		hub_set_wake(hub, w, slots[w].wake[1]);
	}
	master_signals(&wait_mask);

#ifdef CHATD_CLUSTER
	if (conf.cluster != NULL && master_cluster_start(hub, &wait_mask) == -1)
		return master_abort(hub);
#endif
	for (w = 0; w < conf.workers; w++)
		if (master_spawn(hub, w) == -1)
			fatalx("cannot start the workers");
	log_info("ready tcp=%s udp=%s workers=%d", conf.socks.tcp_addr,
	    conf.socks.udp_addr, conf.workers);
	if (conf.daemonize) {
		detach_done();
		log_init("chatd", LOG_TO_SYSLOG, conf.opts.verbose);
	}

	for (;;) {
		if (!got_chld && !got_term && !got_alrm && !got_hup)
			master_wait(&wait_mask, stopping ? -1 : next);
		/*
		 * A stop first: a SIGTERM sent to the whole process group
		 * (timeout(1), a service manager) also stops the workers,
		 * and they must not be replaced.
		 */
		if (got_term) {
			got_term = 0;
			if (!stopping) {
				log_info("stopping");
				stopping = 1;
				master_stop_workers();
			}
		}
		if (got_hup) {
			got_hup = 0;
			/* Logs go to stderr or syslog: no file to reopen. */
			log_info("SIGHUP: nothing to reload; ignored");
		}
		if (got_chld) {
			got_chld = 0;
			if (master_reap(hub, stopping) == -1 && !stopping) {
				rv = 1;
				log_info("stopping");
				stopping = 1;
				master_stop_workers();
			}
		}
		if (got_alrm) {
			got_alrm = 0;
			for (w = 0; w < nslots; w++)
				if (slots[w].pid != 0) {
					log_warnx("%s did not stop; "
					    "killing it", slot_name(w));
					kill(slots[w].pid, SIGKILL);
				}
		}
		if (stopping && master_alive() == 0)
			break;
		if (!stopping)
			next = master_respawn(hub);
	}
	alarm(0);
#ifdef CHATD_CLUSTER
	if (board != NULL && bridgeboard_unlink(hub_path(hub)) == -1)
		log_warn("shm_unlink %s-bridge", hub_path(hub));
#endif
	if (hub_unlink(hub) == -1)
		log_warn("hub_unlink");
	hub_detach(hub);
	log_info("stopped");
	return rv;
}
