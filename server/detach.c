/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * detach.c -- chatd -d: go into the background only once the server is
 * ready.  The process on the terminal waits on a pipe for one byte that
 * the master writes after its ready line; it exits 0 then, or 1 if the
 * master died first, so a failed start is never reported as success.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "chatd.h"

static int	detach_fd = -1;

/* Wait for the child's word; never returns. */
static void __attribute__((noreturn))
detach_wait(int fd, pid_t child)
{
	char	byte;
	ssize_t	n;
	int	status;

	while ((n = read(fd, &byte, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	while (waitpid(child, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		fprintf(stderr, "chatd: the daemon was killed by signal %d "
		    "before it was ready\n", WTERMSIG(status));
	else
		fprintf(stderr, "chatd: the daemon exited with status %d "
		    "before it was ready; see the system log\n",
		    WEXITSTATUS(status));
	_exit(1);
}

/*
 * Fork; the parent waits (detach_wait), the child returns in a new
 * session with "/" as its directory and /dev/null as stdin and stdout.
 * stderr stays until detach_done, for a fatal error before the ready
 * line.  0, or -1 with errno in the original process.
 */
int
detach_start(void)
{
	int	p[2], null;
	pid_t	pid;

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid != 0) {
		close(p[1]);
		detach_wait(p[0], pid);
	}
	close(p[0]);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	detach_fd = p[1];
	if (setsid() == -1 || chdir("/") == -1)
		return -1;
	if ((null = open("/dev/null", O_RDWR)) == -1)
		return -1;
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1)
		return -1;
	if (null > STDERR_FILENO)
		close(null);
	return 0;
}

/* Point stderr at /dev/null: the terminal is left behind. */
static void
detach_stderr(void)
{
	int	null;

	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* The server is ready: release the waiting parent, let go of stderr. */
void
detach_done(void)
{
	if (detach_fd == -1)
		return;
	detach_stderr();
	while (write(detach_fd, "", 1) == -1 && errno == EINTR)
		;
	close(detach_fd);
	detach_fd = -1;
}

/*
 * A worker forked before the ready line must not hold the parent's pipe
 * or the terminal open: it logs to syslog only.
 */
void
detach_forget(void)
{
	if (detach_fd != -1) {
		close(detach_fd);
		detach_fd = -1;
		detach_stderr();
	}
}
