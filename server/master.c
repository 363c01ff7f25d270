/*
 * master.c -- the chatd master: forks the workers, replaces one that
 * dies, and stops them all on SIGTERM or SIGINT.  It never touches the
 * ring; it only releases the locks of a worker that died holding them.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#include "ev.h"
#include "log.h"
#include "util.h"

/* A worker that dies this soon after starting counts as a failure... */
#define MASTER_FAIL_MS		1000
/* ...and this many in a row stop the server instead of a respawn loop. */
#define MASTER_FAIL_MAX		5

static struct {
	pid_t	pid;
	int64_t	started_ms;
	int	fails;
	int	wake[2];
} slots[HUB_WORKERS_MAX];

/*
 * The workers hold the read end; only the master holds the write end,
 * so a worker reads EOF as soon as the master is gone, however it died.
 */
static int	master_pipe[2] = { -1, -1 };

static volatile sig_atomic_t	got_chld, got_term, got_alrm;

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
	default:
		got_term = 1;
		break;
	}
}

/* Fork the worker for slot w.  Signals are blocked by the caller. */
static int
master_spawn(struct hub *hub, int w)
{
	struct sigaction	sa;
	sigset_t		none;
	pid_t			pid;

	if ((pid = fork()) == -1) {
		log_warn("fork worker %d", w + 1);
		return -1;
	}
	if (pid == 0) {
		/* Back to defaults before doing anything else. */
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(master_pipe[1]);
		worker_run(w, hub, master_pipe[0], slots[w].wake);
	}
	slots[w].pid = pid;
	slots[w].started_ms = now_ms();
	return 0;
}

static int
master_slot(pid_t pid)
{
	int	w;

	for (w = 0; w < conf.workers; w++)
		if (slots[w].pid == pid)
			return w;
	return -1;
}

/*
 * Collect dead workers; replace them unless stopping.  Returns -1 if a
 * worker keeps dying at start, which stops the server.
 */
static int
master_reap(struct hub *hub, int stopping)
{
	pid_t	pid;
	int	status, w, rv = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((w = master_slot(pid)) == -1)
			continue;
		slots[w].pid = 0;
		hub_recover(hub, w, pid);
		if (stopping) {
			log_debug("worker %d (pid %ld) stopped", w + 1,
			    (long)pid);
			continue;
		}
		if (WIFSIGNALED(status))
			log_warnx("worker %d (pid %ld) killed by signal %d",
			    w + 1, (long)pid, WTERMSIG(status));
		else
			log_warnx("worker %d (pid %ld) exited with status %d",
			    w + 1, (long)pid, WEXITSTATUS(status));
		if (now_ms() - slots[w].started_ms < MASTER_FAIL_MS) {
			if (++slots[w].fails >= MASTER_FAIL_MAX) {
				log_warnx("worker %d keeps dying; stopping",
				    w + 1);
				rv = -1;
				continue;
			}
		} else
			slots[w].fails = 0;
		if (master_spawn(hub, w) == 0)
			log_info("worker %d replaced (pid %ld)", w + 1,
			    (long)slots[w].pid);
	}
	return rv;
}

static int
master_alive(void)
{
	int	w, n = 0;

	for (w = 0; w < conf.workers; w++)
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
	for (w = 0; w < conf.workers; w++)
		if (slots[w].pid != 0)
			kill(slots[w].pid, SIGTERM);
	alarm(CHATD_STOP_GRACE);
}

int
master_run(struct hub *hub)
{
	struct sigaction	sa;
	sigset_t		block, wait_mask;
	int			w, stopping = 0, rv = 0;

	if (pipe(master_pipe) == -1)
		fatal("pipe");
	for (w = 0; w < conf.workers; w++) {
		if (wake_open(slots[w].wake) == -1)
			fatal("wake_open");
		hub_set_wake(hub, w, slots[w].wake[1]);
	}

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGCHLD);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGHUP);
	sigdelset(&wait_mask, SIGALRM);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = master_signal;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	for (w = 0; w < conf.workers; w++)
		if (master_spawn(hub, w) == -1)
			fatalx("cannot start the workers");
	log_info("ready tcp=%s udp=%s workers=%d", conf.socks.tcp_addr,
	    conf.socks.udp_addr, conf.workers);

	for (;;) {
		if (!got_chld && !got_term && !got_alrm)
			sigsuspend(&wait_mask);
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
			for (w = 0; w < conf.workers; w++)
				if (slots[w].pid != 0) {
					log_warnx("worker %d did not stop; "
					    "killing it", w + 1);
					kill(slots[w].pid, SIGKILL);
				}
		}
		if (stopping && master_alive() == 0)
			break;
	}
	alarm(0);
	if (hub_unlink(hub) == -1)
		log_warn("hub_unlink");
	hub_detach(hub);
	log_info("stopped");
	return rv;
}
