/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * histfile.c -- the input history kept across runs:
 * $XDG_STATE_HOME/chatc/history, or ~/.chatc_history, mode 0600, the
 * last EDIT_HIST_MAX lines.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sanitize.h"
#include "chatc.h"

/*
 * XDG_STATE_HOME counts only when it is an absolute path, as the XDG
 * base directory specification says.  With create_dir, it and its
 * chatc directory are made (mode 0700) if missing.  Returns 0, -1
 * with errno, or -2 when there is no HOME either.
 */
int
histfile_path(char *buf, size_t len, int create_dir)
{
	const char	*xdg = getenv("XDG_STATE_HOME"), *home;
	int		 n;

	if (xdg != NULL && xdg[0] == '/') {
		n = snprintf(buf, len, "%s/chatc", xdg);
		if (n < 0 || (size_t)n >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		/* ~/.local/state may not exist yet on a new account. */
		if (create_dir && ((mkdir(xdg, 0700) == -1 &&
		    errno != EEXIST) || (mkdir(buf, 0700) == -1 &&
		    errno != EEXIST)))
			return -1;
		n = snprintf(buf, len, "%s/chatc/history", xdg);
	} else if ((home = getenv("HOME")) != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s/.chatc_history", home);
	else
		return -2;
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Read the history into the editor.  A line the editor could not have
 * produced (control bytes, invalid UTF-8, too long) is skipped.  A
 * missing file is an empty history.
 */
int
histfile_load(struct edit *e, const char *path)
{
	FILE	*fp;
	char	 line[PROTO_LINE_MAX + 2], clean[PROTO_LINE_MAX + 2];
	size_t	 n;
	int	 skipping = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n') {
			skipping = 1;	/* too long: skip to its end */
			continue;
		}
		line[--n] = '\0';
		if (skipping) {
			skipping = 0;
			continue;
		}
		if (san_text(clean, line, n, 0) != n ||
		    memcmp(clean, line, n) != 0)
			continue;
		edit_hist_add(e, line);
	}
	fclose(fp);
	return 0;
}

/*
 * Write the history to a new file, mode 0600 whatever the umask, and
 * put it in place of the old one in one rename.
 */
int
histfile_save(const struct edit *e, const char *path)
{
	char	tmp[1024];
	FILE	*fp;
	size_t	i;
	int	fd, n, saved;

	n = snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (fchmod(fd, 0600) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		goto fail;
	}
	for (i = 0; i < e->e_nhist; i++)
		fprintf(fp, "%s\n", e->e_hist[i]);
	if (fflush(fp) == EOF || fsync(fd) == -1) {
		saved = errno;
		fclose(fp);
		goto fail;
	}
	if (fclose(fp) == EOF) {
		saved = errno;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return -1;
}
