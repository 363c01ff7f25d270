/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * test_render.c -- chatc's reading of server lines (line_parse,
 * who_is, text_names) and how render_line draws them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/chatc.h"
#include "unit.h"

static void	t_kinds(void);
static void	t_not_fooled(void);
static void	t_names(void);
static void	t_render_plain(void);
static void	t_render_colour(void);

/* Parse s and check its kind, WHO and TEXT (NULL: none). */
#define PARSE(s, kind, who, text) \
	parse_check((s), (kind), (who), (text), __LINE__)

static void
parse_check(const char *s, enum line_kind kind, const char *who,
    const char *text, int line)
{
	struct line_info	li;
	int			ok;

	line_parse(s, strlen(s), &li);
	ok = CHECK_INT(li.li_kind, kind);
	if (who == NULL)
		ok &= CHECK(li.li_who == NULL);
	else
		ok &= li.li_who != NULL && CHECK_MEM(li.li_who,
		    li.li_wholen, who, strlen(who));
	if (text == NULL)
		ok &= CHECK(li.li_text == NULL);
	else
		ok &= li.li_text != NULL && CHECK_MEM(li.li_text,
		    li.li_textlen, text, strlen(text));
	if (!ok)
		FAIL("for \"%s\" (line %d)", s, line);
}

static void
t_kinds(void)
{
	PARSE("bob said: hi there", LK_MESSAGE, "bob", "hi there");
	PARSE("Client (127.0.0.1:5555) said: x", LK_MESSAGE,
	    "Client (127.0.0.1:5555)", "x");
	PARSE("Client ([::1]:5555) said: x", LK_MESSAGE,
	    "Client ([::1]:5555)", "x");
	PARSE("\"hello\" received by the server", LK_OWN, NULL, "hello");
	PARSE("\"say \"x\" received by the server\" received by the server",
	    LK_OWN, NULL, "say \"x\" received by the server");
	PARSE("\"\" received by the server", LK_OWN, NULL, "");
	PARSE("bob whispers: psst", LK_WHISPER, "bob", "psst");
	PARSE("* bob waves at all", LK_ACTION, "bob", "waves at all");
	PARSE("* Client (1.2.3.4:5) jumps", LK_ACTION, "Client (1.2.3.4:5)",
	    "jumps");
	PARSE("Client (1.2.3.4:5) connected", LK_JOIN, "Client (1.2.3.4:5)",
	    NULL);
	PARSE("bob left", LK_LEAVE, "bob", NULL);
	PARSE("bob left (off to lunch)", LK_LEAVE, "bob", NULL);
	PARSE("Client (1.2.3.4:5) is now known as bob", LK_RENAME,
	    "Client (1.2.3.4:5)", "bob");
	PARSE("ok: you are now alice", LK_NICK_OK, NULL, "alice");
	PARSE("who: bob (127.0.0.1:5)", LK_WHO_ENTRY, "bob", NULL);
	PARSE("who: Client (127.0.0.1:5)", LK_NOTICE, NULL, NULL);
	PARSE("who: 2 connected", LK_NOTICE, NULL, NULL);
	PARSE("history: 3 lines", LK_NOTICE, NULL, NULL);
	PARSE("history: bob said: hi", LK_HISTORY, NULL, "bob said: hi");
	PARSE("error: nickname in use", LK_ERROR, NULL, NULL);
	PARSE("Server shutting down", LK_SHUTDOWN, NULL, NULL);
	PARSE("Goodbye.", LK_GOODBYE, NULL, NULL);
	PARSE("*** 3 messages lost", LK_NOTICE, NULL, NULL);
	PARSE("Welcome, Client (1.2.3.4:5).", LK_NOTICE, NULL, NULL);
	PARSE("", LK_NOTICE, NULL, NULL);
}

/* Lines that look like others but are not. */
static void
t_not_fooled(void)
{
	PARSE("bob says: hi", LK_NOTICE, NULL, NULL);
	PARSE("9bob said: hi", LK_NOTICE, NULL, NULL);
	PARSE("abcdefghijklmnopq said: hi", LK_NOTICE, NULL, NULL);
	PARSE("Client (1.2.3.4:5 said: hi", LK_NOTICE, NULL, NULL);
	PARSE("bob left early", LK_NOTICE, NULL, NULL);
	PARSE("bob connected now", LK_NOTICE, NULL, NULL);
	PARSE("* ", LK_NOTICE, NULL, NULL);
	PARSE("*bob waves", LK_NOTICE, NULL, NULL);
	PARSE("Server shutting down now", LK_NOTICE, NULL, NULL);
	PARSE("\"x\" received by the server.", LK_NOTICE, NULL, NULL);
	/* The first WHO decides: a message quoting another is bob's. */
	PARSE("bob said: alice whispers: x", LK_MESSAGE, "bob",
	    "alice whispers: x");
}

static void
t_names(void)
{
	CHECK_INT(who_is("Alice", 5, "alice"), 1);
	CHECK_INT(who_is("alice", 5, "alice_"), 0);
	CHECK_INT(who_is("", 0, ""), 0);
	CHECK_INT(text_names("hi alice!", 9, "alice"), 1);
	CHECK_INT(text_names("ALICE", 5, "alice"), 1);
	CHECK_INT(text_names("malice", 6, "alice"), 0);
	CHECK_INT(text_names("alice_b", 7, "alice"), 0);
	CHECK_INT(text_names("alice-b", 7, "alice"), 0);
	CHECK_INT(text_names("x alice", 7, "alice"), 1);
	CHECK_INT(text_names("alic", 4, "alice"), 0);
	CHECK_INT(text_names("anything", 8, ""), 0);
}

/* Render s into a pipe and compare what comes out. */
#define RENDER(r, s, hist, want) \
	render_check((r), (s), (hist), (want), __LINE__)

static void
render_check(const struct render *r, const char *s, int hist,
    const char *want, int line)
{
	struct obuf	ob;
	char		got[1024];
	int		fds[2];
	ssize_t		n;

	if (pipe(fds) == -1)
		abort();
	ob_init(&ob, fds[1]);
	if (!CHECK_INT(render_line(r, &ob, s, strlen(s), hist), 0) ||
	    !CHECK_INT(ob_flush(&ob), 0))
		FAIL("line %d", line);
	close(fds[1]);
	n = read(fds[0], got, sizeof(got));
	close(fds[0]);
	if (n < 0)
		n = 0;
	if (!CHECK_MEM(got, (size_t)n, want, strlen(want)))
		FAIL("for \"%s\" (line %d)", s, line);
}

static void
t_render_plain(void)
{
	struct render	r = { 0, "12:01", "alice" };

	RENDER(&r, "bob said: hi", 0, "\r\033[K12:01 <bob> hi\r\n");
	RENDER(&r, "\"hello\" received by the server", 0,
	    "\r\033[K12:01 <alice> hello\r\n");
	RENDER(&r, "bob whispers: psst", 0, "\r\033[K12:01 *bob* psst\r\n");
	RENDER(&r, "* bob waves", 0, "\r\033[K12:01 * bob waves\r\n");
	RENDER(&r, "bob left", 0, "\r\033[K12:01 -- bob left\r\n");
	RENDER(&r, "error: nickname in use", 0,
	    "\r\033[K12:01 -! error: nickname in use\r\n");
	RENDER(&r, "history: bob said: hi", 0, "\r\033[K      <bob> hi\r\n");
	RENDER(&r, "history: 2 lines", 0,
	    "\r\033[K12:01 -- history: 2 lines\r\n");
	r.r_nick = "Client (1.2.3.4:5)";
	RENDER(&r, "\"x\" received by the server", 0,
	    "\r\033[K12:01 <Client (1.2.3.4:5)> x\r\n");
}

static void
t_render_colour(void)
{
	struct render	r = { 1, "09:30", "alice" };

	/* The same name in any case, the same colour; ours in bold too. */
	RENDER(&r, "bob said: hi", 0,
	    "\r\033[K09:30 <\033[36mbob\033[0m> hi\r\n");
	RENDER(&r, "* BOB waves", 0,
	    "\r\033[K09:30 * \033[36mBOB\033[0m waves\r\n");
	RENDER(&r, "alice said: me", 0,
	    "\r\033[K09:30 <\033[1m\033[96malice\033[0m> me\r\n");
	RENDER(&r, "bob left", 0,
	    "\r\033[K09:30 \033[2m-- bob left\033[0m\r\n");
	RENDER(&r, "error: x", 0,
	    "\r\033[K09:30 \033[1;31m-! error: x\033[0m\r\n");
}

int
main(void)
{
	unit_init();
	unit_run("render: every kind of server line is recognised",
	    t_kinds);
	unit_run("render: look-alike lines are notices", t_not_fooled);
	unit_run("render: who_is and text_names", t_names);
	unit_run("render: lines without colour", t_render_plain);
	unit_run("render: nick colours are stable, errors bold red",
	    t_render_colour);
	return unit_done();
}
