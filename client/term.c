/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * term.c -- terminal mode: the line editor, the server's lines drawn
 * for people above it (render.c), the connection's state in the
 * prompt, and what happens when the connection ends: say why, keep the
 * half-typed line, and exit non-zero, or with -r (or /reconnect)
 * connect again with back-off and claim the nickname again.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "net.h"
#include "sanitize.h"
#include "chatc.h"

/* /me and /msg lines sent and not yet answered, shown when they are. */
#define PENDING_MAX	16

/* Seconds between reconnection attempts: doubled each time, up to. */
#define BACKOFF_FIRST	1
#define BACKOFF_MAX	30

enum term_state {
	T_CONNECTED,
	T_WAITING,		/* -r: connecting again at t_retry_ms */
	T_DIALING,		/* t_dial is connecting */
	T_DISCONNECTED		/* the end: shown in the last prompt */
};

/* Why the loop stopped. */
enum term_end {
	END_NONE,
	END_QUIT,		/* the user quit: exit 0 */
	END_LOST,		/* the connection ended: exit 1 */
	END_TTY,		/* the terminal failed: exit 1 */
	END_SIGNAL		/* die of t_sig */
};

struct term {
	const struct term_opts	*t_opts;
	int		 t_fd;		/* -1 when not connected */
	enum term_state	 t_state;
	enum term_end	 t_end;
	int		 t_sig;
	struct sendq	 t_sendq;
	struct linebuf	 t_in;
	struct edit	 t_edit;
	struct obuf	 t_out;
	struct render	 t_render;
	char		 t_who[PROTO_WHO_MAX];	/* as others see us */
	char		 t_want[PROTO_NICK_MAX + 1];	/* name to claim */
	int		 t_nick_try;	/* 1: t_want sent, 2: t_want_ */
	int		 t_quitting;	/* we sent /quit */
	int		 t_rejoin;	/* /reconnect: we sent /quit */
	int		 t_shutdown;	/* "Server shutting down" seen */
	int		 t_backoff;	/* seconds before the next try */
	int64_t		 t_retry_ms;
	struct dial	 t_dial;
	char		 t_clean[CHATC_LINE_MAX + 1];
	char		 t_hist_path[1024];
	/* Our /me and /msg lines, in the order the server answers them. */
	char		 t_pending[PENDING_MAX][PROTO_LINE_MAX + 1];
	size_t		 t_pend_head, t_pend_count;
};

static int64_t	mono_ms(void);
static void	sig_handler(int);
static int	sig_catch(int, int);
static int	term_suspend(struct term *);
static void	term_prompt(struct term *);
static int	term_notice(struct term *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	term_learn(const struct line_info *);
static void	term_nick_refused(struct term *);
static void	term_pending_add(struct term *, const char *);
static int	term_pending_show(struct term *, const char *, size_t);
static int	term_show(void *, const char *, size_t);
static void	term_connected(struct term *, int);
static void	term_lost(struct term *, const char *);
static void	term_connect(struct term *);
static void	term_dialed(struct term *, int);
static void	term_line(struct term *);
static int	term_keys(struct term *, const unsigned char *, size_t);
static void	term_read_server(struct term *);
static void	term_init(struct term *, const struct term_opts *);
static void	term_finish(struct term *);

/* Requests from signal handlers; each also pokes wake_fds. */
static volatile sig_atomic_t	got_term;	/* SIGINT, SIGTERM, SIGHUP */
static volatile sig_atomic_t	got_winch;
static volatile sig_atomic_t	got_tstp;
static volatile sig_atomic_t	got_cont;
static int			wake_fds[2] = { -1, -1 };

static struct term	term;

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only flags and a wake-up here; the loop does the work. */
static void
sig_handler(int sig)
{
	switch (sig) {
	case SIGWINCH:
		got_winch = 1;
		break;
	case SIGTSTP:
		got_tstp = 1;
		break;
	case SIGCONT:
		got_cont = 1;
		break;
	default:
		got_term = sig;
		break;
	}
	wake_post(wake_fds[1]);
}

/*
 * Catch sig, or give it back its default action.  A signal ignored
 * when chatc started (nohup) stays ignored.
 */
static int
sig_catch(int sig, int catch)
{
	struct sigaction	sa, old;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = catch ? sig_handler : SIG_DFL;
	/* No SA_RESTART: poll() is woken anyway, by wake_fds. */
	if (sigaction(sig, &sa, &old) == -1)
		return -1;
	if (catch && old.sa_handler == SIG_IGN)
		return sigaction(sig, &old, NULL);
	return 0;
}

/*
 * Ctrl-Z or SIGTSTP: give the terminal back, stop, and take it again
 * when continued.
 */
static int
term_suspend(struct term *t)
{
	if (ob_puts(&t->t_out, "\r\033[K") == -1 || ob_flush(&t->t_out) == -1)
		return -1;
	tty_restore();
	if (sig_catch(SIGTSTP, 0) == -1)
		return -1;
	raise(SIGTSTP);
	if (sig_catch(SIGTSTP, 1) == -1)
		return -1;
	return tty_raw(STDIN_FILENO);
}

/* "[state] nick@host:port> ", from what we know now. */
static void
term_prompt(struct term *t)
{
	char		 p[EDIT_PROMPT_MAX];
	const char	*state = "", *host = t->t_opts->host;
	int		 named = san_nick_valid(t->t_who);
	int		 v6 = strchr(host, ':') != NULL;

	if (t->t_state == T_WAITING || t->t_state == T_DIALING)
		state = "[connecting] ";
	else if (t->t_state == T_DISCONNECTED)
		state = "[disconnected] ";
	/* An IPv6 address in brackets, as in the server's ADDR. */
	snprintf(p, sizeof(p), "%s%s%s%s%s%s:%s> ", state,
	    named ? t->t_who : "", named ? "@" : "", v6 ? "[" : "", host,
	    v6 ? "]" : "", t->t_opts->port);
	edit_prompt(&t->t_edit, p);
}

/* A line of chatc's own, above the input line. */
static int
term_notice(struct term *t, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return render_notice(&t->t_render, &t->t_out, msg);
}

/* Keep the nicknames Tab completes up to date. */
static void
term_learn(const struct line_info *li)
{
	switch (li->li_kind) {
	case LK_MESSAGE:
	case LK_WHISPER:
	case LK_ACTION:
	case LK_JOIN:
	case LK_WHO_ENTRY:
		names_add(li->li_who, li->li_wholen);
		break;
	case LK_LEAVE:
		names_remove(li->li_who, li->li_wholen);
		break;
	case LK_RENAME:
		names_remove(li->li_who, li->li_wholen);
		names_add(li->li_text, li->li_textlen);
		break;
	case LK_NICK_OK:
		names_add(li->li_text, li->li_textlen);
		break;
	default:
		break;
	}
}

/*
 * The nickname chatc asked for was refused: try NAME_ once, then say
 * so and carry on without one.
 */
static void
term_nick_refused(struct term *t)
{
	if (t->t_nick_try == 1 && strlen(t->t_want) < PROTO_NICK_MAX &&
	    sq_addf(&t->t_sendq, "/nick %s_\n", t->t_want) == 0) {
		(void)term_notice(t, "%s is taken, trying %s_", t->t_want,
		    t->t_want);
		t->t_nick_try = 2;
		return;
	}
	(void)term_notice(t, "%s%s is taken%s; choose one with /nick NAME",
	    t->t_want, t->t_nick_try == 2 ? "_" : "",
	    t->t_nick_try == 2 ? " too" : "");
	t->t_nick_try = 0;
}

/*
 * Remember a /me or /msg line we send, so that the server's answer can
 * show it as others see it.  A full ring forgets the line: its answer
 * is then shown as the server words it.
 */
static void
term_pending_add(struct term *t, const char *line)
{
	size_t	slot;

	if (strncmp(line, "/me ", 4) != 0 && strncmp(line, "/msg ", 5) != 0)
		return;
	if (t->t_pend_count == PENDING_MAX)
		return;
	slot = (t->t_pend_head + t->t_pend_count++) % PENDING_MAX;
	snprintf(t->t_pending[slot], sizeof(t->t_pending[slot]), "%s", line);
}

/*
 * An answer to /me or /msg: show our action as "* me TEXT" and our
 * whisper as "-> *NAME* TEXT".  Returns 1 if it was shown, 0 to show
 * the answer as it is, -1 on a terminal error.
 */
static int
term_pending_show(struct term *t, const char *s, size_t n)
{
	char		 line[PROTO_LINE_MAX + PROTO_WHO_MAX + 16];
	const char	*p, *text;
	size_t		 len;
	int		 ok_me, ok_msg, any_me, any_msg;

	ok_me = strcmp(s, "ok: action sent") == 0;
	ok_msg = n > 12 && strncmp(s, "ok: sent to ", 12) == 0;
	any_me = ok_me || strcmp(s, "error: usage: /me TEXT") == 0;
	any_msg = ok_msg || strncmp(s, "error: no such client: ", 23) == 0 ||
	    strcmp(s, "error: usage: /msg NAME TEXT") == 0;
	if ((!any_me && !any_msg) || t->t_pend_count == 0)
		return 0;
	p = t->t_pending[t->t_pend_head];
	/* Out of step (a line lost to a full ring): show it as it is. */
	if ((any_me && strncmp(p, "/me ", 4) != 0) ||
	    (any_msg && strncmp(p, "/msg ", 5) != 0))
		return 0;
	t->t_pend_head = (t->t_pend_head + 1) % PENDING_MAX;
	t->t_pend_count--;
	if (ok_me) {
		/* The server trims and cleans the text as it does ours. */
		len = san_text(line, p + 4, strlen(p + 4), SAN_TRIM);
		return render_action(&t->t_render, &t->t_out, line, len) ==
		    -1 ? -1 : 1;
	}
	if (ok_msg) {
		text = p + 5;
		while (*text == ' ')
			text++;
		while (*text != ' ' && *text != '\0')
			text++;
		len = san_text(line, text, strlen(text), SAN_TRIM);
		return render_whisper_sent(&t->t_render, &t->t_out, s + 12,
		    n - 12, line, len) == -1 ? -1 : 1;
	}
	return 0;
}

/*
 * One line from the server: cleaned, taken apart to follow our own
 * name and the others', drawn, and the bell rung once for a whisper or
 * a line that names us.
 */
static int
term_show(void *arg, const char *line, size_t n)
{
	struct term		*t = arg;
	struct line_info	 li, inner;
	const char		*s = t->t_clean;
	int			 bell = 0, named;

	n = san_text(t->t_clean, line, n, SAN_DISPLAY);
	t->t_clean[n] = '\0';
	line_parse(s, n, &li);
	term_learn(&li);
	named = san_nick_valid(t->t_who);
	switch (li.li_kind) {
	case LK_HISTORY:
		line_parse(li.li_text, li.li_textlen, &inner);
		term_learn(&inner);
		break;
	case LK_NICK_OK:
		if (li.li_textlen > PROTO_NICK_MAX)
			break;
		memcpy(t->t_want, li.li_text, li.li_textlen);
		t->t_want[li.li_textlen] = '\0';
		snprintf(t->t_who, sizeof(t->t_who), "%s", t->t_want);
		t->t_nick_try = 0;
		term_prompt(t);
		break;
	case LK_SHUTDOWN:
		t->t_shutdown = 1;
		break;
	case LK_WHISPER:
		bell = 1;
		break;
	case LK_MESSAGE:
	case LK_ACTION:
		bell = named && !who_is(li.li_who, li.li_wholen, t->t_who) &&
		    text_names(li.li_text, li.li_textlen, t->t_who);
		break;
	case LK_NOTICE:
		/* "Welcome, WHO.": who we are before a nickname. */
		if (n > strlen("Welcome, .") && memcmp(s, "Welcome, ",
		    strlen("Welcome, ")) == 0 && s[n - 1] == '.' && !named)
			snprintf(t->t_who, sizeof(t->t_who), "%.*s",
			    (int)(n - strlen("Welcome, .")),
			    s + strlen("Welcome, "));
		break;
	default:
		break;
	}
	switch (term_pending_show(t, s, n)) {
	case -1:
		return -1;
	case 0:
		if (render_line(&t->t_render, &t->t_out, s, n, 0) == -1)
			return -1;
		break;
	}
	if (li.li_kind == LK_ERROR && t->t_nick_try != 0 &&
	    (strcmp(s, "error: nickname in use") == 0 ||
	    strcmp(s, "error: invalid nickname") == 0))
		term_nick_refused(t);
	if (bell && ob_puts(&t->t_out, "\a") == -1)
		return -1;
	return 0;
}

/*
 * A new connection: claim the nickname (the one from -n, or the last
 * one the server gave us) and ask what was said before we came.
 */
static void
term_connected(struct term *t, int fd)
{
	t->t_fd = fd;
	t->t_state = T_CONNECTED;
	t->t_backoff = BACKOFF_FIRST;
	t->t_shutdown = t->t_quitting = t->t_rejoin = 0;
	t->t_sendq.sq_len = 0;
	t->t_in.lb_len = 0;
	t->t_who[0] = '\0';
	t->t_nick_try = 0;
	t->t_pend_head = t->t_pend_count = 0;
	names_clear();
	/*
	 * /history first: what was said before we came, the same on
	 * either server, which would not agree on whether our own
	 * rename, published in the same round, is in it yet.
	 */
	(void)sq_addf(&t->t_sendq, "/history\n");
	if (t->t_want[0] != '\0' &&
	    sq_addf(&t->t_sendq, "/nick %s\n", t->t_want) == 0)
		t->t_nick_try = 1;
	term_prompt(t);
}

/*
 * The connection ended for reason.  Say so; then wait to connect
 * again (-r), or stop.
 */
static void
term_lost(struct term *t, const char *reason)
{
	(void)lines_flush(&t->t_in, term_show, t);
	close(t->t_fd);
	t->t_fd = -1;
	if (t->t_quitting) {
		t->t_end = END_QUIT;
		return;
	}
	if (t->t_rejoin) {
		t->t_rejoin = 0;
		t->t_state = T_WAITING;
		term_connect(t);
		term_prompt(t);
		return;
	}
	if (t->t_shutdown)
		reason = "server shutting down";
	(void)term_notice(t, "disconnected: %s", reason);
	if (!t->t_opts->reconnect) {
		t->t_state = T_DISCONNECTED;
		t->t_end = END_LOST;
	} else {
		(void)term_notice(t, "reconnecting in %d s (/reconnect: now)",
		    t->t_backoff);
		t->t_state = T_WAITING;
		t->t_retry_ms = mono_ms() + t->t_backoff * 1000;
	}
	term_prompt(t);
}

/* Start connecting now. */
static void
term_connect(struct term *t)
{
	dial_cancel(&t->t_dial);
	term_dialed(t, dial_start(&t->t_dial, t->t_opts->host,
	    t->t_opts->port, mono_ms()));
}

/*
 * Where connecting got to: connected (r, a descriptor), still under
 * way, or failed: then wait twice as long before the next try.
 */
static void
term_dialed(struct term *t, int r)
{
	if (r == DIAL_PENDING)
		t->t_state = T_DIALING;
	else if (r == DIAL_FAILED) {
		if (t->t_backoff < BACKOFF_MAX)
			t->t_backoff = t->t_backoff * 2 > BACKOFF_MAX ?
			    BACKOFF_MAX : t->t_backoff * 2;
		(void)term_notice(t, "%s %s: %s; retrying in %d s",
		    t->t_opts->host, t->t_opts->port, t->t_dial.d_why,
		    t->t_backoff);
		t->t_state = T_WAITING;
		t->t_retry_ms = mono_ms() + t->t_backoff * 1000;
	} else {
		(void)term_notice(t, "connected to %s %s", t->t_opts->host,
		    t->t_opts->port);
		term_connected(t, r);
	}
	term_prompt(t);
}

/* Enter: a line for the server, or one of chatc's own commands. */
static void
term_line(struct term *t)
{
	struct edit	*e = &t->t_edit;

	e->e_buf[e->e_len] = '\0';
	if (strcmp(e->e_buf, "/reconnect") == 0) {
		edit_accept(e);
		t->t_backoff = BACKOFF_FIRST;
		/*
		 * Connected: leave first, so that the name is free when
		 * the new connection claims it; term_lost() goes on.
		 */
		if (t->t_fd != -1) {
			if (sq_addf(&t->t_sendq, "/quit reconnecting\n") == 0)
				t->t_rejoin = 1;
			return;
		}
		term_connect(t);
		term_prompt(t);
		return;
	}
	if (t->t_fd == -1) {
		if (strcmp(e->e_buf, "/quit") == 0 ||
		    strncmp(e->e_buf, "/quit ", 6) == 0) {
			edit_accept(e);
			t->t_end = END_QUIT;
			return;
		}
		/* Not sent: the line stays for when we are back. */
		(void)term_notice(t, "not connected: /reconnect to try now, "
		    "/quit to leave");
		(void)ob_puts(&t->t_out, "\a");
		return;
	}
	/* The server is not reading: keep the line. */
	if (sq_room(&t->t_sendq) < e->e_len + 1) {
		(void)ob_puts(&t->t_out, "\a");
		return;
	}
	if (strcmp(e->e_buf, "/quit") == 0 ||
	    strncmp(e->e_buf, "/quit ", 6) == 0)
		t->t_quitting = 1;
	sq_add(&t->t_sendq, e->e_buf, e->e_len);
	sq_add(&t->t_sendq, "\n", 1);
	term_pending_add(t, e->e_buf);
	edit_accept(e);
}

/* Feed keys to the editor; -1 when the terminal fails. */
static int
term_keys(struct term *t, const unsigned char *p, size_t n)
{
	struct edit	*e = &t->t_edit;
	char		 list[1024];
	size_t		 i;
	int		 redraw = 0;

	for (i = 0; i < n && t->t_end == END_NONE; i++) {
		switch (edit_key(e, p[i])) {
		case EDIT_NONE:
			break;
		case EDIT_REDRAW:
			redraw = 1;
			break;
		case EDIT_BELL:
			if (ob_puts(&t->t_out, "\a") == -1)
				return -1;
			break;
		case EDIT_LINE:
			if (e->e_len > 0)
				term_line(t);
			redraw = 1;
			break;
		case EDIT_TAB:
			list[0] = '\0';
			switch (complete(e, list, sizeof(list))) {
			case 0:
				break;
			case 1:
				if (term_notice(t, "%s", list) == -1)
					return -1;
				break;
			default:
				if (ob_puts(&t->t_out, "\a") == -1)
					return -1;
			}
			redraw = 1;
			break;
		case EDIT_EOF:
			t->t_end = END_QUIT;
			break;
		case EDIT_INTR:
			t->t_end = END_SIGNAL;
			t->t_sig = SIGINT;
			break;
		case EDIT_SUSPEND:
			if (term_suspend(t) == -1)
				return -1;
			redraw = 1;
			break;
		case EDIT_CLEAR:
			if (ob_puts(&t->t_out, "\033[H\033[2J") == -1)
				return -1;
			redraw = 1;
			break;
		}
	}
	if (redraw && t->t_end == END_NONE &&
	    edit_render(e, &t->t_out) == -1)
		return -1;
	return ob_flush(&t->t_out);
}

/* What the server sent, or the end of the connection. */
static void
term_read_server(struct term *t)
{
	char	buf[4096];
	ssize_t	n;

	n = read(t->t_fd, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1)
		term_lost(t, errno == ECONNRESET ? "connection reset" :
		    strerror(errno));
	else if (n == 0)
		term_lost(t, "connection closed by server");
	else if (lines_feed(&t->t_in, buf, (size_t)n, term_show, t) == -1)
		t->t_end = END_TTY;
}

/*
 * Colour on a terminal unless NO_COLOR is set (and not empty, as
 * no-color.org says) or TERM is dumb or unset.  CHATC_CLOCK=HH:MM fixes
 * the time shown, for tests and screenshots.
 */
static void
term_init(struct term *t, const struct term_opts *o)
{
	const char	*nc = getenv("NO_COLOR"), *tm = getenv("TERM");
	const char	*clock = getenv("CHATC_CLOCK");
	int		 rv;

	t->t_opts = o;
	t->t_fd = -1;
	t->t_dial.d_fd = -1;
	t->t_backoff = BACKOFF_FIRST;
	t->t_render.r_colour = (nc == NULL || nc[0] == '\0') && tm != NULL &&
	    tm[0] != '\0' && strcmp(tm, "dumb") != 0;
	if (clock != NULL && strlen(clock) == 5 && clock[2] == ':' &&
	    clock[0] >= '0' && clock[0] <= '2' && clock[1] >= '0' &&
	    clock[1] <= '9' && clock[3] >= '0' && clock[3] <= '5' &&
	    clock[4] >= '0' && clock[4] <= '9')
		t->t_render.r_clock = clock;
	t->t_render.r_nick = t->t_who;
	if (o->nick != NULL)
		snprintf(t->t_want, sizeof(t->t_want), "%s", o->nick);
	ob_init(&t->t_out, STDOUT_FILENO);
	edit_init(&t->t_edit, tty_cols(STDOUT_FILENO));
	/* Without a home there is nowhere to keep it: say nothing. */
	if ((rv = histfile_path(t->t_hist_path, sizeof(t->t_hist_path),
	    1)) != 0) {
		if (rv == -1)
			warn("history: %s", t->t_hist_path);
		t->t_hist_path[0] = '\0';
	}
	else if (histfile_load(&t->t_edit, t->t_hist_path) == -1)
		warn("%s", t->t_hist_path);
}

/*
 * Leave the screen for the shell: after a lost connection the last
 * prompt stays, with the half-typed line, which also goes into the
 * history so that Up brings it back next time.
 */
static void
term_finish(struct term *t)
{
	struct edit	*e = &t->t_edit;

	if (t->t_end == END_LOST) {
		(void)edit_render(e, &t->t_out);
		(void)ob_puts(&t->t_out, "\r\n");
		e->e_buf[e->e_len] = '\0';
		edit_hist_add(e, e->e_buf);
	} else
		(void)ob_puts(&t->t_out, "\r\033[K");
	(void)ob_flush(&t->t_out);
}

/*
 * Terminal mode.  The loop waits on the signal wake-up, the keyboard,
 * the socket, and the reconnection timer.  Every way out of it ends up
 * after the loop, which restores the terminal before anything is said
 * or a signal is raised again.
 */
int
term_run(int fd, const struct term_opts *o)
{
	struct term	*t = &term;
	struct pollfd	 pfd[3];
	char		 buf[4096];
	ssize_t		 n;
	size_t		 i;
	int		 timeout, saved = 0;
	int64_t		 left, now;
	const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH,
			     SIGTSTP, SIGCONT };

	if (wake_open(wake_fds) == -1)
		err(1, "wake_open");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sig_catch(sigs[i], 1) == -1)
			err(1, "sigaction");
	term_init(t, o);
	if (tty_raw(STDIN_FILENO) == -1)
		err(1, "stdin");
	term_connected(t, fd);
	if (edit_render(&t->t_edit, &t->t_out) == -1 ||
	    ob_flush(&t->t_out) == -1)
		t->t_end = END_TTY;

	while (t->t_end == END_NONE) {
		if (got_term) {
			t->t_end = END_SIGNAL;
			t->t_sig = got_term;
			break;
		}
		if (got_tstp) {
			got_tstp = 0;
			if (term_suspend(t) == -1) {
				t->t_end = END_TTY;
				break;
			}
			got_cont = 1;
		}
		if (got_cont || got_winch) {
			/* The shell may have changed the mode while stopped. */
			if (got_cont && tty_raw(STDIN_FILENO) == -1) {
				t->t_end = END_TTY;
				break;
			}
			got_cont = got_winch = 0;
			if (edit_resize(&t->t_edit, tty_cols(STDOUT_FILENO),
			    &t->t_out) == -1 || ob_flush(&t->t_out) == -1) {
				t->t_end = END_TTY;
				break;
			}
		}

		timeout = -1;
		if (t->t_state == T_WAITING || t->t_state == T_DIALING) {
			now = mono_ms();
			left = (t->t_state == T_WAITING ? t->t_retry_ms :
			    t->t_dial.d_deadline) - now;
			if (left <= 0) {
				if (t->t_state == T_WAITING)
					term_connect(t);
				else
					term_dialed(t, dial_timeout(&t->t_dial,
					    now));
				if (edit_render(&t->t_edit, &t->t_out) == -1 ||
				    ob_flush(&t->t_out) == -1)
					t->t_end = END_TTY;
				continue;
			}
			timeout = (int)left;
		}
		pfd[0].fd = wake_fds[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		pfd[2].fd = t->t_fd;
		pfd[2].events = POLLIN;
		if (t->t_sendq.sq_len > 0)
			pfd[2].events |= POLLOUT;
		if (t->t_state == T_DIALING) {
			pfd[2].fd = t->t_dial.d_fd;
			pfd[2].events = POLLOUT;
		}
		if (poll(pfd, 3, timeout) == -1) {
			if (errno != EINTR)
				t->t_end = END_TTY;
			continue;
		}
		if (pfd[0].revents & POLLIN)
			wake_drain(wake_fds[0]);

		if (t->t_state == T_DIALING && pfd[2].revents)
			term_dialed(t, dial_poll(&t->t_dial, mono_ms()));
		else if (t->t_fd != -1 && pfd[2].revents & (POLLIN | POLLHUP |
		    POLLERR))
			term_read_server(t);
		if (t->t_fd != -1 && pfd[2].revents & POLLOUT &&
		    sq_write(&t->t_sendq, t->t_fd) == -1)
			term_lost(t, errno == ECONNRESET ? "connection reset" :
			    errno == EPIPE ? "connection closed by server" :
			    strerror(errno));
		if (t->t_end == END_NONE && pfd[2].revents &&
		    (edit_render(&t->t_edit, &t->t_out) == -1 ||
		    ob_flush(&t->t_out) == -1))
			t->t_end = END_TTY;

		if (t->t_end == END_NONE &&
		    pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* The terminal is gone (SIGHUP follows). */
				if (n == 0)
					errno = EIO;
				t->t_end = END_TTY;
				break;
			}
			if (term_keys(t, (unsigned char *)buf,
			    (size_t)n) == -1)
				t->t_end = END_TTY;
		}
	}
	saved = errno;

	term_finish(t);
	tty_restore();
	dial_cancel(&t->t_dial);
	/* A line typed just before Ctrl-D: send it if the socket takes it. */
	if (t->t_fd != -1) {
		if (t->t_end == END_QUIT)
			(void)sq_write(&t->t_sendq, t->t_fd);
		close(t->t_fd);
	}
	if (t->t_hist_path[0] != '\0' &&
	    histfile_save(&t->t_edit, t->t_hist_path) == -1)
		warn("%s", t->t_hist_path);
	edit_free(&t->t_edit);

	if (t->t_end == END_SIGNAL || got_term) {
		/* Die of the signal, so that the shell knows what happened. */
		if (t->t_sig == 0)
			t->t_sig = got_term;
		if (sig_catch(t->t_sig, 0) == 0)
			raise(t->t_sig);
		return 1;
	}
	errno = saved;
	if (t->t_end == END_TTY)
		warn("terminal");
	return t->t_end == END_QUIT ? 0 : 1;
}
