/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * proctitle.c -- process titles.  The command line that ps(1) shows is
 * the argument area, so a title is written over it (as nginx does);
 * Linux also gets the short name that top(1) and ps -e show, which
 * the kernel limits to 15 bytes.  Other systems: setproctitle(3) where
 * there is one (the BSDs), else only the argument area.
 */
#if defined(__linux__)
#define _DEFAULT_SOURCE
#include <sys/prctl.h>
#endif
#include <sys/types.h>

#if defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define HAVE_SETPROCTITLE
#endif

#include <stdlib.h>
#include <string.h>

#include "proctitle.h"

extern char	**environ;

static char	*title_area;
static size_t	 title_len;

void
proctitle_init(int argc, char *argv[])
{
	char	*copy;
	size_t	 len;
	int	 i, e;

	if (argc < 1 || argv[0] == NULL)
		return;
	/* The arguments are contiguous; use them up to the last one's end. */
	title_area = argv[0];
	title_len = strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++) {
		if (argv[i] != title_area + title_len)
			break;
		title_len += strlen(argv[i]) + 1;
	}
	/*
	 * The environment usually follows: room for a title longer than
	 * a bare "chatd", once its strings are moved elsewhere.
	 */
	for (e = 0; i == argc && environ != NULL && environ[e] != NULL; e++) {
		if (environ[e] != title_area + title_len)
			break;
		len = strlen(environ[e]);
		if ((copy = strdup(environ[e])) == NULL)
			break;
		environ[e] = copy;
		title_len += len + 1;
	}
	/*
	 * A title overwrites the arguments, and options keep pointers into
	 * them: give argv copies.  Without memory, keep no title area.
	 */
	for (i = 0; i < argc; i++) {
		if ((copy = strdup(argv[i])) == NULL) {
			title_area = NULL;
			return;
		}
		argv[i] = copy;
	}
}

void
proctitle_set(const char *title)
{
#if defined(HAVE_SETPROCTITLE)
	/* "-" keeps the BSD setproctitle from prefixing the program name. */
	setproctitle("-%s", title);
#else
	size_t	n;

	if (title_area != NULL && title_len > 1) {
		n = strlen(title);
		if (n > title_len - 1)
			n = title_len - 1;
		memcpy(title_area, title, n);
		memset(title_area + n, '\0', title_len - n);
	}
#endif
#if defined(__linux__)
	prctl(PR_SET_NAME, title, 0, 0, 0);
#endif
}
