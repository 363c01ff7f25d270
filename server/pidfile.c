/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * pidfile.c -- the pidfile: opened without following a symbolic link,
 * locked for the life of the daemon so that a second chatd refuses to
 * start, and removed by the master when it stops.
 */
#define _DEFAULT_SOURCE		/* flock(2) */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#include "log.h"

static int		 pidfile_fd = -1;
static const char	*pidfile_path;
static pid_t		 pidfile_owner;	/* who removes it at exit */

/*
 * Any exit of the owner removes the pidfile, a fatal one before the
 * server ran included; a worker's exit (a forked copy) does not.
 */
static void
pidfile_atexit(void)
{
	if (getpid() == pidfile_owner)
		pidfile_remove();
}

/*
 * Open and lock path; 0, or -1 with a message in msg.  flock(2), not
 * fcntl(2): its lock belongs to the open file, so it survives the fork
 * that detaches (-d) and is held until the master exits.
 */
int
pidfile_open(const char *path, char *msg, size_t len)
{
	struct stat	st;
	char		other[32];
	ssize_t		n;
	int		fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(msg, len, "pidfile %s is a symbolic link; "
			    "refusing to follow it", path);
		else
			snprintf(msg, len, "pidfile %s: %s", path,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		snprintf(msg, len, "pidfile %s is not a plain file; refusing "
		    "to write it", path);
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			snprintf(msg, len, "pidfile %s: lock: %s", path,
			    strerror(errno));
			goto fail;
		}
		n = pread(fd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		snprintf(msg, len, "pidfile %s is locked: chatd is already "
		    "running (pid %s)", path, other[0] ? other : "unknown");
		goto fail;
	}
	pidfile_fd = fd;
	pidfile_path = path;
	pidfile_owner = getpid();
	atexit(pidfile_atexit);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Write this process's pid into the locked pidfile. */
int
pidfile_write(void)
{
	char	line[32];
	int	n;

	if (pidfile_fd == -1)
		return 0;
	pidfile_owner = getpid();	/* -d forked */
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(pidfile_fd, 0) == -1 ||
	    pwrite(pidfile_fd, line, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* Remove the pidfile, then let go of the lock. */
void
pidfile_remove(void)
{
	if (pidfile_fd == -1)
		return;
	if (unlink(pidfile_path) == -1)
		log_warn("unlink %s", pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
}
