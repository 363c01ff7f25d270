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
	if (conf.opts.max_clients > room) {
		log_info("clients limited to %lu by the descriptor limit",
		    room);
		conf.opts.max_clients = (unsigned)room;
	}
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
	const char	*what;
	int		 ch, scoreboard = 0, rv;

	log_init("chatd", LOG_TO_STDERR, 0);
	srv_opts_init(&conf.opts);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	conf.workers = ncpu < 1 ? 1 : ncpu > HUB_WORKERS_MAX ?
	    HUB_WORKERS_MAX : (int)ncpu;
	conf.ring = CHATD_RING;

	while ((ch = getopt(argc, argv, "b:dhm:p:P:q:r:R:Su:U:vVw:")) != -1) {
		switch (ch) {
		case 'd':
			conf.daemonize = 1;
			break;
		case 'h':
			usage(0);
		case 'P':
			conf.pidfile = optarg;
			break;
		case 'R':
			if (parse_size(optarg, HUB_RING_MIN, HUB_RING_MAX,
			    &conf.ring) == -1 || conf.ring % 8 != 0)
				bad_option("ring size", optarg);
			break;
		case 'S':
			scoreboard = 1;
			break;
		case 'U':
			conf.user = optarg;
			break;
		case 'V':
			printf("chatd %s\n", VERSION);
			exit(0);
		case 'w':
			if (parse_uint(optarg, 1, HUB_WORKERS_MAX, &v) == -1)
				bad_option("worker count", optarg);
			conf.workers = (int)v;
			break;
		case '?':
			usage(2);
		default:
			if (srv_opts_set(&conf.opts, ch, optarg, &what) == -1)
				bad_option(what, optarg);
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chatd: unexpected argument: %s\n",
		    argv[optind]);
		usage(2);
	}
	if (scoreboard) {
		if (scoreboard_print(conf.opts.tcp_port) == -1) {
			fprintf(stderr, "chatd: no chatd hub on port %d: %s\n",
			    conf.opts.tcp_port, strerror(errno));
			return 1;
		}
		return 0;
	}

	log_init("chatd", LOG_TO_STDERR, conf.opts.verbose);
	/* A dead peer is an ordinary write error, never a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	srv_open(&conf.opts, &conf.socks);

	hub_name(name, sizeof(name), net_local_port(conf.socks.tcp_fd));
	if ((hub = hub_create(name, conf.ring, conf.workers,
	    conf.opts.max_clients)) == NULL) {
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
		log_init("chatd", LOG_TO_SYSLOG, conf.opts.verbose);
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
