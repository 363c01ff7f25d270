/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatc.c -- the chat client: options, the first connection, and pipe
 * mode, where the server's lines go to stdout as they are.  When stdin
 * and stdout are both a terminal, term.c takes over.
 *
 * Nothing that arrives from the network reaches stdout unsanitised:
 * every line goes through san_text() with SAN_DISPLAY, which removes
 * escape sequences whole, every other control byte, and what would
 * reorder or hide text, and repairs UTF-8.
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

#include "longopt.h"
#include "net.h"
#include "sanitize.h"
#include "util.h"
#include "chatc.h"

struct client {
	int		 c_fd;
	const char	*c_host;
	const char	*c_port;
	struct sendq	 c_sendq;
	struct linebuf	 c_in;
};

static void	usage(FILE *);
static void	bad_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static int	show_plain(void *, const char *, size_t);
static int	pipe_run(struct client *);

static struct client	client;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: chatc [-hrV] [-n nick] host [port]\n"
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

/* Pipe mode: the sanitised line and a LF. */
static int
show_plain(void *arg, const char *line, size_t n)
{
	struct obuf	*ob = arg;
	static char	 clean[CHATC_LINE_MAX];

	n = san_text(clean, line, n, SAN_DISPLAY);
	if (ob_put(ob, clean, n) == -1 || ob_put(ob, "\n", 1) == -1)
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

int
main(int argc, char *argv[])
{
	struct term_opts	 o;
	const char		*port;
	char			 why[NET_ERR_MAX];
	int			 ch, udp = 0, portnum;

	memset(&o, 0, sizeof(o));
	switch (longopt_find(argc, argv)) {
	case 'h':
		usage(stdout);
		return 0;
	case 'V':
		printf("chatc %s\n", VERSION);
		return 0;
	}
	/* Our own messages, in the same "chatc: ..." form as the others. */
	while ((ch = getopt(argc, argv, ":hn:ruV")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			o.nick = optarg;
			break;
		case 'r':
			o.reconnect = 1;
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
	if (argc < 1 || (udp && argc < 2))
		bad_usage("missing host or port");
	if (argc > 2)
		bad_usage("too many arguments");
	port = argc == 2 ? argv[1] : CHATC_PORT;
	if (parse_port(port, &portnum) == -1 || portnum == 0)
		bad_usage("invalid port: %s", port);
	if (o.nick != NULL && udp)
		bad_usage("-n cannot be used with -u");
	if (o.reconnect && udp)
		bad_usage("-r cannot be used with -u");
	if (o.nick != NULL && !san_nick_valid(o.nick))
		bad_usage("invalid nickname: %s", o.nick);

	/* A server gone away is a write error, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	if (udp)
		return udpc_run(argv[0], port);

	o.host = client.c_host = argv[0];
	o.port = client.c_port = port;
	if ((client.c_fd = net_connect(o.host, o.port, SOCK_STREAM, why,
	    sizeof(why))) == -1)
		errx(1, "%s %s: %s", o.host, o.port, why);
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		/* wcwidth() needs the user's locale for wide characters. */
		setlocale(LC_CTYPE, "");
		return term_run(client.c_fd, &o);
	}
	/* Pipe mode talks the protocol as it is: -n is its one addition. */
	if (o.nick != NULL)
		(void)sq_addf(&client.c_sendq, "/nick %s\n", o.nick);
	return pipe_run(&client);
}
