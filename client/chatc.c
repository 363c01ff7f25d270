/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatc.c -- the chat client: options, connecting, and the two ways of
 * talking to the server: plain lines when stdin and stdout are not both
 * a terminal, a line editor when they are.
 *
 * Nothing that arrives from the network reaches stdout unsanitised:
 * every line goes through san_text(), which removes escape sequences
 * whole and every other control byte, and repairs UTF-8.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "longopt.h"
#include "net.h"
#include "sanitize.h"
#include "util.h"
#include "chatc.h"

/* Bytes waiting to be written to the server. */
struct sendq {
	size_t	sq_len;
	char	sq_buf[CHATC_SENDQ_MAX];
};

/* A server line being assembled. */
struct linebuf {
	size_t	lb_len;
	char	lb_buf[CHATC_LINE_MAX];
};

struct client {
	int		 c_fd;
	const char	*c_host;
	const char	*c_port;
	struct sendq	 c_sendq;
	struct linebuf	 c_in;
};

typedef int	show_fn(void *, const char *, size_t);

static void	usage(FILE *);
static void	bad_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static size_t	sq_room(const struct sendq *);
static void	sq_add(struct sendq *, const void *, size_t);
static int	sq_write(struct sendq *, int);
static int	lines_feed(struct linebuf *, const char *, size_t, show_fn *,
		    void *);
static int	lines_flush(struct linebuf *, show_fn *, void *);
static int	show_plain(void *, const char *, size_t);
static int	show_term(void *, const char *, size_t);
static int	pipe_run(struct client *);
static void	sig_handler(int);
static int	sig_catch(int, int);
static int	term_suspend(struct obuf *);
static int	term_keys(struct client *, struct edit *, struct obuf *,
		    const unsigned char *, size_t);
static int	term_run(struct client *);

/* Requests from signal handlers; each also pokes wake_fds. */
static volatile sig_atomic_t	got_term;	/* SIGINT, SIGTERM, SIGHUP */
static volatile sig_atomic_t	got_winch;
static volatile sig_atomic_t	got_tstp;
static volatile sig_atomic_t	got_cont;
static int			wake_fds[2] = { -1, -1 };

/* Results of term_keys() beyond 0 (go on) and -1 (terminal error). */
#define KEYS_EOF	1
#define KEYS_INTR	2

/* Why term_run() stopped, when it was not the user or the server. */
#define FAIL_TTY	1
#define FAIL_NET	2

static struct client	client;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: chatc [-hV] [-n nick] host port\n"
	    "       chatc -u host port\n");
}

/* A one-line complaint, the usage, exit 2. */
static void
bad_usage(const char *fmt, ...)
{
	va_list	ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	usage(stderr);
	exit(2);
}

static size_t
sq_room(const struct sendq *q)
{
	return sizeof(q->sq_buf) - q->sq_len;
}

/* Queue bytes for the server; the caller checked sq_room(). */
static void
sq_add(struct sendq *q, const void *p, size_t n)
{
	memcpy(q->sq_buf + q->sq_len, p, n);
	q->sq_len += n;
}

/* Write what the socket takes now; -1 with errno on a write error. */
static int
sq_write(struct sendq *q, int fd)
{
	ssize_t	w;

	while (q->sq_len > 0) {
		if ((w = write(fd, q->sq_buf, q->sq_len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		memmove(q->sq_buf, q->sq_buf + w, q->sq_len - (size_t)w);
		q->sq_len -= (size_t)w;
	}
	return 0;
}

/*
 * Cut bytes from the server into lines and hand each, without its LF,
 * to show().  A line longer than CHATC_LINE_MAX is handed over in
 * pieces, so a server that never sends a LF cannot grow our memory.
 */
static int
lines_feed(struct linebuf *lb, const char *p, size_t n, show_fn *show,
    void *arg)
{
	const char	*nl;
	size_t		 k, room;

	while (n > 0) {
		room = sizeof(lb->lb_buf) - lb->lb_len;
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (k > room)
			k = room;
		memcpy(lb->lb_buf + lb->lb_len, p, k);
		lb->lb_len += k;
		p += k;
		n -= k;
		if (n > 0 && *p == '\n') {
			p++;
			n--;
		} else if (n == 0)
			break;		/* the rest of the line comes later */
		/* Otherwise the buffer is full and the line goes on. */
		if (show(arg, lb->lb_buf, lb->lb_len) == -1)
			return -1;
		lb->lb_len = 0;
	}
	return 0;
}

/* At the end of the stream: show a last line that had no LF. */
static int
lines_flush(struct linebuf *lb, show_fn *show, void *arg)
{
	size_t	n = lb->lb_len;

	lb->lb_len = 0;
	return n > 0 ? show(arg, lb->lb_buf, n) : 0;
}

/* Pipe mode: the sanitised line and a LF. */
static int
show_plain(void *arg, const char *line, size_t n)
{
	struct obuf	*ob = arg;
	char		 clean[CHATC_LINE_MAX];

	n = san_text(clean, line, n, 0);
	if (ob_put(ob, clean, n) == -1 || ob_put(ob, "\n", 1) == -1)
		return -1;
	return 0;
}

/*
 * Terminal mode: over the input line, which is redrawn below it
 * afterwards.  The terminal wraps a long line by itself.
 */
static int
show_term(void *arg, const char *line, size_t n)
{
	struct obuf	*ob = arg;
	char		 clean[CHATC_LINE_MAX];

	n = san_text(clean, line, n, 0);
	if (ob_puts(ob, "\r\033[K") == -1 || ob_put(ob, clean, n) == -1 ||
	    ob_puts(ob, "\r\n") == -1)
		return -1;
	return 0;
}

/*
 * Pipe mode: stdin goes to the server as it comes, the server's lines
 * come out on stdout.  At the end of stdin, the rest is sent (with a
 * final LF if it lacked one), the connection is half-closed, and the
 * server's lines are printed until it closes.
 */
static int
pipe_run(struct client *c)
{
	struct pollfd	 pfd[2];
	struct obuf	 out;
	char		 buf[4096];
	size_t		 want;
	ssize_t		 n;
	int		 in_open = 1, wr_open = 1, lastnl = 1, status = 0;

	ob_init(&out, STDOUT_FILENO);
	for (;;) {
		if (!in_open && wr_open && c->c_sendq.sq_len == 0) {
			if (shutdown(c->c_fd, SHUT_WR) == -1) {
				warn("%s %s", c->c_host, c->c_port);
				status = 1;
			}
			wr_open = 0;
		}
		/* One byte of room is kept for the LF that may end it. */
		pfd[0].fd = in_open && sq_room(&c->c_sendq) > 1 ?
		    STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->c_fd;
		pfd[1].events = POLLIN;
		if (wr_open && c->c_sendq.sq_len > 0)
			pfd[1].events |= POLLOUT;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}

		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(c->c_fd, buf, sizeof(buf));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1) {
				warn("%s %s", c->c_host, c->c_port);
				status = 1;
				break;
			}
			if (n == 0)
				break;
			if (lines_feed(&c->c_in, buf, (size_t)n, show_plain,
			    &out) == -1 || ob_flush(&out) == -1)
				err(1, "stdout");
		}

		if (pfd[1].revents & POLLOUT &&
		    sq_write(&c->c_sendq, c->c_fd) == -1) {
			/* Say it once, then read what the server still says. */
			warn("%s %s", c->c_host, c->c_port);
			status = 1;
			c->c_sendq.sq_len = 0;
			in_open = wr_open = 0;
		}

		if (in_open && pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			want = sq_room(&c->c_sendq) - 1;
			if (want > sizeof(buf))
				want = sizeof(buf);
			n = read(STDIN_FILENO, buf, want);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1) {
				warn("stdin");
				status = 1;
			}
			if (n <= 0) {
				in_open = 0;
				if (!lastnl)
					sq_add(&c->c_sendq, "\n", 1);
				continue;
			}
			sq_add(&c->c_sendq, buf, (size_t)n);
			lastnl = buf[n - 1] == '\n';
		}
	}
	if (lines_flush(&c->c_in, show_plain, &out) == -1 ||
	    ob_flush(&out) == -1)
		err(1, "stdout");
	close(c->c_fd);
	return status;
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
term_suspend(struct obuf *ob)
{
	if (ob_puts(ob, "\r\033[K") == -1 || ob_flush(ob) == -1)
		return -1;
	tty_restore();
	if (sig_catch(SIGTSTP, 0) == -1)
		return -1;
	raise(SIGTSTP);
	if (sig_catch(SIGTSTP, 1) == -1)
		return -1;
	return tty_raw(STDIN_FILENO);
}

/*
 * Feed keys to the editor.  Returns 0 to go on, KEYS_EOF, KEYS_INTR, or
 * -1 with errno when the terminal fails.
 */
static int
term_keys(struct client *c, struct edit *e, struct obuf *ob,
    const unsigned char *p, size_t n)
{
	size_t	i;
	int	redraw = 0;

	for (i = 0; i < n; i++) {
		switch (edit_key(e, p[i])) {
		case EDIT_NONE:
			break;
		case EDIT_REDRAW:
			redraw = 1;
			break;
		case EDIT_BELL:
			if (ob_puts(ob, "\a") == -1)
				return -1;
			break;
		case EDIT_LINE:
			if (e->e_len == 0)
				break;
			/* The server is not reading: keep the line. */
			if (sq_room(&c->c_sendq) < e->e_len + 1) {
				if (ob_puts(ob, "\a") == -1)
					return -1;
				break;
			}
			sq_add(&c->c_sendq, e->e_buf, e->e_len);
			sq_add(&c->c_sendq, "\n", 1);
			edit_accept(e);
			redraw = 1;
			break;
		case EDIT_EOF:
			return KEYS_EOF;
		case EDIT_INTR:
			return KEYS_INTR;
		case EDIT_SUSPEND:
			if (term_suspend(ob) == -1)
				return -1;
			redraw = 1;
			break;
		case EDIT_CLEAR:
			if (ob_puts(ob, "\033[H\033[2J") == -1)
				return -1;
			redraw = 1;
			break;
		}
	}
	if (redraw && edit_render(e, ob) == -1)
		return -1;
	return ob_flush(ob);
}

/*
 * Terminal mode.  The loop waits on the signal wake-up, the keyboard
 * and the socket.  Every way out of it ends up after the loop, which
 * clears the input line and restores the terminal before anything is
 * said or a signal is raised again.
 */
static int
term_run(struct client *c)
{
	static struct edit	 e;
	struct pollfd		 pfd[3];
	struct obuf		 out;
	char			 buf[4096];
	ssize_t			 n;
	size_t			 i;
	int			 sig = 0, fail = 0, saved = 0, rv;
	const int		 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH,
				     SIGTSTP, SIGCONT };

	if (wake_open(wake_fds) == -1)
		err(1, "wake_open");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sig_catch(sigs[i], 1) == -1)
			err(1, "sigaction");
	if (tty_raw(STDIN_FILENO) == -1)
		err(1, "stdin");
	ob_init(&out, STDOUT_FILENO);
	edit_init(&e, tty_cols(STDOUT_FILENO));
	if (edit_render(&e, &out) == -1 || ob_flush(&out) == -1)
		fail = FAIL_TTY;

	while (!fail) {
		if (got_term) {
			sig = got_term;
			break;
		}
		if (got_tstp) {
			got_tstp = 0;
			if (term_suspend(&out) == -1) {
				fail = FAIL_TTY;
				break;
			}
			got_cont = 1;
		}
		if (got_cont || got_winch) {
			/* The shell may have changed the mode while stopped. */
			if (got_cont && tty_raw(STDIN_FILENO) == -1) {
				fail = FAIL_TTY;
				break;
			}
			got_cont = got_winch = 0;
			if (edit_resize(&e, tty_cols(STDOUT_FILENO),
			    &out) == -1 || ob_flush(&out) == -1) {
				fail = FAIL_TTY;
				break;
			}
		}

		pfd[0].fd = wake_fds[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		pfd[2].fd = c->c_fd;
		pfd[2].events = POLLIN;
		if (c->c_sendq.sq_len > 0)
			pfd[2].events |= POLLOUT;
		if (poll(pfd, 3, -1) == -1) {
			if (errno != EINTR)
				fail = FAIL_TTY;
			continue;
		}
		if (pfd[0].revents & POLLIN)
			wake_drain(wake_fds[0]);

		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(c->c_fd, buf, sizeof(buf));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1) {
				fail = FAIL_NET;
				break;
			}
			if (n == 0) {
				/* Closed after /quit or a shutdown. */
				if (lines_flush(&c->c_in, show_term,
				    &out) == -1)
					fail = FAIL_TTY;
				break;
			}
			if (lines_feed(&c->c_in, buf, (size_t)n, show_term,
			    &out) == -1 || edit_render(&e, &out) == -1 ||
			    ob_flush(&out) == -1) {
				fail = FAIL_TTY;
				break;
			}
		}

		if (pfd[2].revents & POLLOUT &&
		    sq_write(&c->c_sendq, c->c_fd) == -1) {
			fail = FAIL_NET;
			break;
		}

		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* The terminal is gone (SIGHUP follows). */
				if (n == 0)
					errno = EIO;
				fail = FAIL_TTY;
				break;
			}
			rv = term_keys(c, &e, &out, (unsigned char *)buf,
			    (size_t)n);
			if (rv == -1)
				fail = FAIL_TTY;
			else if (rv == KEYS_INTR)
				sig = SIGINT;
			if (rv != 0)
				break;
		}
	}
	saved = errno;

	/* Leave a clean line for the shell, then the mode it had. */
	(void)ob_puts(&out, "\r\033[K");
	(void)ob_flush(&out);
	tty_restore();
	edit_free(&e);
	/* A line typed just before Ctrl-D: send it if the socket takes it. */
	if (!fail)
		(void)sq_write(&c->c_sendq, c->c_fd);
	close(c->c_fd);

	if (sig == 0 && got_term)
		sig = got_term;
	if (sig != 0) {
		/* Die of the signal, so that the shell knows what happened. */
		if (sig_catch(sig, 0) == 0)
			raise(sig);
		return 1;
	}
	errno = saved;
	if (fail == FAIL_NET)
		warn("%s %s", c->c_host, c->c_port);
	else if (fail == FAIL_TTY)
		warn("terminal");
	return fail ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	const char	*nick = NULL;
	char		 cmd[sizeof("/nick \n") + PROTO_NICK_MAX];
	char		 why[NET_ERR_MAX];
	int		 ch, udp = 0, port;

	switch (longopt_find(argc, argv)) {
	case 'h':
		usage(stdout);
		return 0;
	case 'V':
		printf("chatc %s\n", VERSION);
		return 0;
	}
	/* Our own messages, in the same "chatc: ..." form as the others. */
	while ((ch = getopt(argc, argv, ":hn:uV")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			nick = optarg;
			break;
		case 'u':
			udp = 1;
			break;
		case 'V':
			printf("chatc %s\n", VERSION);
			return 0;
		case ':':
			bad_usage("option -%c needs an argument", optopt);
		default:
			bad_usage("unknown option -%c", optopt);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		bad_usage("missing host or port");
	if (argc > 2)
		bad_usage("too many arguments");
	if (parse_port(argv[1], &port) == -1 || port == 0)
		bad_usage("invalid port: %s", argv[1]);
	if (nick != NULL && udp)
		bad_usage("-n cannot be used with -u");
	if (nick != NULL && !san_nick_valid(nick))
		bad_usage("invalid nickname: %s", nick);

	/* A server gone away is a write error, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	if (udp)
		return udpc_run(argv[0], argv[1]);

	client.c_host = argv[0];
	client.c_port = argv[1];
	if ((client.c_fd = net_connect(argv[0], argv[1], SOCK_STREAM, why,
	    sizeof(why))) == -1)
		errx(1, "%s %s: %s", argv[0], argv[1], why);
	if (nick != NULL) {
		snprintf(cmd, sizeof(cmd), "/nick %s\n", nick);
		sq_add(&client.c_sendq, cmd, strlen(cmd));
	}
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		/* wcwidth() needs the user's locale for wide characters. */
		setlocale(LC_CTYPE, "");
		return term_run(&client);
	}
	return pipe_run(&client);
}
