/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * complete.c -- Tab completion: commands at the start of the line,
 * nicknames elsewhere.  The nicknames are those seen: in /who lists
 * and in the lines of people who talk, join, leave or change names.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sanitize.h"
#include "chatc.h"

/* More names than a class; past this, new ones are not learnt. */
#define NAMES_MAX	1024

static int	name_find(const char *, size_t);
static size_t	common_prefix(const char **, size_t);

static char	names[NAMES_MAX][PROTO_NICK_MAX + 1];
static size_t	nnames;

/* The server's commands and chatc's own. */
static const char	*commands[] = {
	"/help", "/history", "/me", "/msg", "/nick", "/quit", "/reconnect",
	"/who"
};

/* Index of the name s[0 .. n), case ignored, or -1. */
static int
name_find(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < nnames; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], s, n) == 0)
			return (int)i;
	return -1;
}

/* Learn a nickname; anything that is not one (Client (ADDR)) is not. */
void
names_add(const char *s, size_t n)
{
	char	name[PROTO_NICK_MAX + 1];
	int	i;

	if (n == 0 || n > PROTO_NICK_MAX)
		return;
	memcpy(name, s, n);
	name[n] = '\0';
	if (!san_nick_valid(name))
		return;
	if ((i = name_find(s, n)) >= 0) {
		/* The spelling may have changed: keep the latest. */
		memcpy(names[i], name, n + 1);
		return;
	}
	if (nnames < NAMES_MAX)
		memcpy(names[nnames++], name, n + 1);
}

void
names_remove(const char *s, size_t n)
{
	int	i;

	if ((i = name_find(s, n)) < 0)
		return;
	nnames--;
	memmove(names[i], names[i + 1], (nnames - (size_t)i) *
	    sizeof(names[0]));
}

void
names_clear(void)
{
	nnames = 0;
}

/* How long a prefix all of cand[0 .. n) share, case ignored. */
static size_t
common_prefix(const char **cand, size_t n)
{
	size_t	len = strlen(cand[0]), i, k;

	for (i = 1; i < n; i++) {
		for (k = 0; k < len && cand[i][k] != '\0' &&
		    strncasecmp(cand[0] + k, cand[i] + k, 1) == 0; k++)
			;
		len = k;
	}
	return len;
}

int
complete(struct edit *e, char *list, size_t listlen)
{
	const char	*cand[NAMES_MAX];
	const char	*word;
	char		 repl[PROTO_NICK_MAX + 16];
	size_t		 from, wlen, n = 0, i, k, used;
	int		 command;

	from = edit_word_start(e);
	word = e->e_buf + from;
	wlen = e->e_pos - from;
	command = from == 0 && wlen > 0 && word[0] == '/';
	if (command) {
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strncmp(commands[i], word, wlen) == 0)
				cand[n++] = commands[i];
	} else {
		for (i = 0; i < nnames; i++)
			if (strncasecmp(names[i], word, wlen) == 0)
				cand[n++] = names[i];
	}
	if (n == 0)
		return -1;
	if (n == 1) {
		/* A name that starts the line addresses someone. */
		snprintf(repl, sizeof(repl), "%s%s", cand[0],
		    command || from > 0 ? " " : ": ");
		return edit_replace(e, from, repl) == -1 ? -1 : 0;
	}
	if ((k = common_prefix(cand, n)) > wlen) {
		snprintf(repl, sizeof(repl), "%.*s", (int)k, cand[0]);
		return edit_replace(e, from, repl) == -1 ? -1 : 0;
	}
	for (i = 0, used = 0; i < n && listlen > 0; i++) {
		k = (size_t)snprintf(list + used, listlen - used, "%s%s",
		    i > 0 ? " " : "", cand[i]);
		if (k >= listlen - used)
			break;
		used += k;
	}
	return 1;
}
