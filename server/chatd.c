/*
 * chatd.c -- the pre-forking chat daemon: options, sockets, descriptor
 * limit, pidfile, privileges, then the master (master.c) takes over.
 */
#define _DEFAULT_SOURCE		/* initgroups(3), daemon(3) */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#include "log.h"
#include "net.h"
#include "util.h"

/* How often -p 0 retries to find a port free for both TCP and UDP. */
#define BIND_TRIES	32

struct chatd_conf	conf;

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: chatd [-dhvV] [-w workers] [-b address] [-p port] "
	    "[-u port|none]\n"
	    "             [-m max-clients] [-q sendq] [-r rate] "
	    "[-R ring-size]\n"
	    "             [-P pidfile] [-U user]\n"
	    "       chatd -S [-p port]\n");
	exit(status);
}

static void __attribute__((noreturn))
bad_option(const char *what, const char *value)
{
	fprintf(stderr, "chatd: invalid %s: %s\n", what, value);
	usage(2);
}

/* Raise the soft descriptor limit to the hard one; clamp max clients. */
static void
raise_nofile(void)
{
	struct rlimit	rl;
	unsigned long	room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > UINT_MAX ?
	    UINT_MAX : (unsigned long)rl.rlim_cur;
	room = room > CHATD_FD_RESERVE ? room - CHATD_FD_RESERVE : 1;
	if (conf.max_clients > room) {
		log_info("clients limited to %lu by the descriptor limit",
		    room);
		conf.max_clients = (unsigned)room;
	}
}

static void __attribute__((noreturn))
bind_failed(const char *proto, int port)
{
	if (strchr(conf.bind_addr, ':') != NULL)
		fatal("bind %s [%s]:%d", proto, conf.bind_addr, port);
	fatal("bind %s %s:%d", proto, conf.bind_addr, port);
}

/*
 * Bind TCP and UDP.  The UDP port defaults to the TCP port's number;
 * with -p 0 that means finding a number free for both.
 */
static void
open_sockets(void)
{
	int	try, port;

	for (try = 0; try < BIND_TRIES; try++) {
		conf.listen_fd = net_listen(conf.bind_addr, conf.tcp_port,
		    SOCK_STREAM);
		if (conf.listen_fd == -1)
			bind_failed("tcp", conf.tcp_port);
		if ((port = net_local_port(conf.listen_fd)) == -1)
			fatal("getsockname");
		if (conf.udp_port == -1) {
			conf.udp_fd = -1;
			break;
		}
		conf.udp_fd = net_listen(conf.bind_addr,
		    conf.udp_port == -2 ? port : conf.udp_port, SOCK_DGRAM);
		if (conf.udp_fd != -1)
			break;
		if (errno != EADDRINUSE || conf.tcp_port != 0 ||
		    conf.udp_port != -2)
			bind_failed("udp", conf.udp_port == -2 ? port :
			    conf.udp_port);
		close(conf.listen_fd);	/* -p 0: try another number */
	}
	if (try == BIND_TRIES)
		fatalx("no port free for both tcp and udp");
	conf.tcp_port = port;
	if (net_local_addr(conf.listen_fd, conf.tcp_addr,
	    sizeof(conf.tcp_addr)) == -1)
		fatal("getsockname");
	if (conf.udp_fd == -1)
		snprintf(conf.udp_addr, sizeof(conf.udp_addr), "none");
	else if (net_local_addr(conf.udp_fd, conf.udp_addr,
	    sizeof(conf.udp_addr)) == -1)
		fatal("getsockname");
}

static void
drop_privileges(struct hub *hub)
{
	struct passwd	*pw;

	if ((pw = getpwnam(conf.user)) == NULL)
		fatalx("unknown user %s", conf.user);
	if (hub_chown(hub, pw->pw_uid, pw->pw_gid) == -1)
		fatal("hub_chown");
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", conf.user);
}

/* -d changes to "/": a relative pidfile is taken from where we started. */
static const char *
absolute_path(const char *path)
{
	char	cwd[PATH_MAX], *abs;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("getcwd");
	if ((abs = malloc(strlen(cwd) + strlen(path) + 2)) == NULL)
		fatal("malloc");
	sprintf(abs, "%s/%s", cwd, path);
	return abs;
}

static void
write_pidfile(void)
{
	FILE	*f;

	if ((f = fopen(conf.pidfile, "w")) == NULL)
		fatal("%s", conf.pidfile);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF)
		fatal("%s", conf.pidfile);
}

int
main(int argc, char *argv[])
{
	struct hub	*hub;
	unsigned long	 v;
	long		 ncpu;
	char		 name[HUB_NAME_MAX];
	int		 ch, scoreboard = 0, rv;

	log_init("chatd", LOG_TO_STDERR, 0);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	conf.workers = ncpu < 1 ? 1 : ncpu > HUB_WORKERS_MAX ?
	    HUB_WORKERS_MAX : (int)ncpu;
	conf.bind_addr = "127.0.0.1";
	conf.tcp_port = CHATD_PORT;
	conf.udp_port = -2;
	conf.max_clients = CHATD_MAX_CLIENTS;
	conf.sendq = CHATD_SENDQ;
	conf.rate = CHATD_RATE;
	conf.ring = CHATD_RING;

	while ((ch = getopt(argc, argv, "b:dhm:p:P:q:r:R:Su:U:vVw:")) != -1) {
		switch (ch) {
		case 'b':
			if (!net_addr_valid(optarg))
				bad_option("bind address", optarg);
			conf.bind_addr = optarg;
			break;
		case 'd':
			conf.daemonize = 1;
			break;
		case 'h':
			usage(0);
		case 'm':
			if (parse_uint(optarg, 1, 1000000, &v) == -1)
				bad_option("max-clients", optarg);
			conf.max_clients = (unsigned)v;
			break;
		case 'p':
			if (parse_port(optarg, &conf.tcp_port) == -1)
				bad_option("port", optarg);
			break;
		case 'P':
			conf.pidfile = optarg;
			break;
		case 'q':
			if (parse_size(optarg, 4096, (size_t)1 << 30,
			    &conf.sendq) == -1)
				bad_option("send queue size", optarg);
			break;
		case 'r':
			if (parse_uint(optarg, 0, 1000000, &v) == -1)
				bad_option("rate", optarg);
			conf.rate = (unsigned)v;
			break;
		case 'R':
			if (parse_size(optarg, HUB_RING_MIN, HUB_RING_MAX,
			    &conf.ring) == -1 || conf.ring % 8 != 0)
				bad_option("ring size", optarg);
			break;
		case 'S':
			scoreboard = 1;
			break;
		case 'u':
			if (strcmp(optarg, "none") == 0)
				conf.udp_port = -1;
			else if (parse_port(optarg, &conf.udp_port) == -1)
				bad_option("udp port", optarg);
			break;
		case 'U':
			conf.user = optarg;
			break;
		case 'v':
			conf.verbose++;
			break;
		case 'V':
			printf("chatd %s\n", VERSION);
			exit(0);
		case 'w':
			if (parse_uint(optarg, 1, HUB_WORKERS_MAX, &v) == -1)
				bad_option("worker count", optarg);
			conf.workers = (int)v;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chatd: unexpected argument: %s\n",
		    argv[optind]);
		usage(2);
	}
	if (scoreboard) {
		if (scoreboard_print(conf.tcp_port) == -1) {
			fprintf(stderr, "chatd: no chatd hub on port %d: %s\n",
			    conf.tcp_port, strerror(errno));
			return 1;
		}
		return 0;
	}

	log_init("chatd", LOG_TO_STDERR, conf.verbose);
	/* A dead peer is an ordinary write error, never a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	open_sockets();

	hub_name(name, sizeof(name), conf.tcp_port);
	if ((hub = hub_create(name, conf.ring, conf.workers,
	    conf.max_clients)) == NULL) {
		if (errno == EADDRINUSE)
			fatalx("hub %s belongs to a running chatd", name);
		fatal("hub_create %s", name);
	}
	if (conf.pidfile != NULL && conf.pidfile[0] != '/')
		conf.pidfile = absolute_path(conf.pidfile);
	if (conf.user != NULL)
		drop_privileges(hub);
	if (conf.daemonize) {
		if (daemon(0, 0) == -1) {
			hub_unlink(hub);
			fatal("daemon");
		}
		log_init("chatd", LOG_TO_SYSLOG, conf.verbose);
		/* daemon() forked: the hub's owner is this process now. */
		hub_set_master(hub, getpid());
	}
	if (conf.pidfile != NULL)
		write_pidfile();
	rv = master_run(hub);
	if (conf.pidfile != NULL && unlink(conf.pidfile) == -1)
		log_warn("unlink %s", conf.pidfile);
	return rv;
}
