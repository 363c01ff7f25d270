/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * chatd.c -- the pre-forking chat daemon: options, then everything that
 * can fail at startup (the -U user, the pidfile, the sockets, the hub),
 * reported on the terminal before -d detaches; then the master
 * (master.c) takes over.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatd.h"
#ifdef CHATD_CLUSTER
#include "cluster.h"
#endif
#include "log.h"
#include "longopt.h"
#include "net.h"
#include "proctitle.h"
#include "util.h"

struct chatd_conf	conf;

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: chatd [-dhvV] [-w workers] [-b address] [-p port] "
	    "[-u port|none]\n"
	    "             [-a max-per-address] [-m max-clients] [-q sendq] "
	    "[-r rate]\n"
	    "             [-R ring-size] [-P pidfile] [-U user] [-C url[,...]] "
	    "[-N name]\n"
	    "       chatd -S [-b address] [-p port]\n");
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

/* -U: only root can become another user; look the user up now. */
static void
check_user(void)
{
	struct passwd	*pw;

	if (conf.user == NULL)
		return;
	if (geteuid() != 0) {
		fprintf(stderr, "chatd: -U %s needs root: chatd runs as uid "
		    "%ld and cannot change user\n", conf.user,
		    (long)geteuid());
		exit(1);
	}
	errno = 0;
	if ((pw = getpwnam(conf.user)) == NULL) {
		if (errno != 0)
			fatal("user %s", conf.user);
		fatalx("unknown user %s", conf.user);
	}
	conf.uid = pw->pw_uid;
	conf.gid = pw->pw_gid;
}

/* -d changes to "/": a relative pidfile is taken from where we started. */
static const char *
absolute_path(const char *path)
{
	char	cwd[PATH_MAX], *abs;
	size_t	len;

	if (path[0] == '/')
		return path;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("getcwd");
	len = strlen(cwd) + strlen(path) + 2;
	if ((abs = malloc(len)) == NULL)
		fatal("malloc");
	snprintf(abs, len, "%s/%s", cwd, path);
	return abs;
}

/* The owner of a file, by name if it has one. */
static const char *
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s (uid %ld)", pw->pw_name, (long)uid);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
	return buf;
}

/*
 * Create the hub while still root.  Whatever is under its name must be
 * ours (this uid, or the -U user's from an earlier run) before a stale
 * one is replaced: another user's object is reported with its owner.
 */
static struct hub *
make_hub(void)
{
	struct hub_info	 hi;
	struct hub	*hub;
	char		 name[HUB_NAME_MAX], who[64];
	size_t		 need;

	scoreboard_hub_name(name, sizeof(name), conf.opts.bind_addr,
	    net_local_port(conf.socks.tcp_fd));
	if (hub_probe(name, &hi) == -1)
		fatal("hub %s", name);
	if (hi.hi_state != HUB_ABSENT && hi.hi_uid != geteuid() &&
	    (conf.user == NULL || hi.hi_uid != conf.uid))
		fatalx("hub %s exists and belongs to %s, not to chatd; "
		    "remove /dev/shm%s if no program of that user needs it",
		    name, owner_name(hi.hi_uid, who, sizeof(who)), name);
	if (hi.hi_state == HUB_RUNNING)
		fatalx("hub %s belongs to a running chatd (pid %ld)", name,
		    (long)hi.hi_master);
	need = hub_size(conf.ring, conf.workers + (conf.cluster != NULL),
	    conf.opts.max_clients);
	/* With -C the bridge reads the ring too, in the last slot. */
	if ((hub = hub_create(name, conf.ring, conf.workers +
	    (conf.cluster != NULL),
	    conf.opts.max_clients)) == NULL) {
		if (errno == EADDRINUSE)
			fatalx("hub %s belongs to a running chatd", name);
		if (errno == ENOSPC)
			fatalx("hub %s: cannot reserve %zu bytes (%.1f MiB) of "
			    "shared memory: No space left on device; enlarge "
			    "/dev/shm or lower -R or -m", name, need,
			    need / 1048576.0);
		fatal("hub %s", name);
	}
	if (conf.user != NULL && hub_chown(hub, conf.uid, conf.gid) == -1) {
		hub_unlink(hub);
		fatal("hub %s: chown to %s", name, conf.user);
	}
	return hub;
}

/*
 * -C and -N: only a chatd built with libnats has cluster mode (see the
 * Makefile); the bridge takes the hub's last worker slot.
 */
static void
check_cluster(void)
{
#ifdef CHATD_CLUSTER
	const char	*why;

	if (conf.cluster_name == NULL)
		conf.cluster_name = CLUSTER_NAME_DEFAULT;
	else if (conf.cluster == NULL) {
		fprintf(stderr, "chatd: -N needs -C\n");
		usage(2);
	}
	if (cluster_check_name(conf.cluster_name) == -1) {
		fprintf(stderr, "chatd: invalid cluster name: %s (1 to %d "
		    "letters, digits, '-' or '_')\n", conf.cluster_name,
		    CLUSTER_NAME_MAX);
		exit(2);
	}
	if (conf.cluster == NULL)
		return;
	if (cluster_check_urls(conf.cluster, &why) == -1) {
		fprintf(stderr, "chatd: invalid -C %s: %s\n", conf.cluster,
		    why);
		exit(2);
	}
	if (conf.workers >= HUB_WORKERS_MAX) {
		fprintf(stderr, "chatd: -C: at most %d workers (the bridge "
		    "takes a slot)\n", HUB_WORKERS_MAX - 1);
		exit(2);
	}
#else
	if (conf.cluster != NULL || conf.cluster_name != NULL) {
		fprintf(stderr, "chatd: -%c: this chatd was built without "
		    "cluster support; rebuild it with libnats-dev installed "
		    "(see README.md)\n", conf.cluster != NULL ? 'C' : 'N');
		exit(2);
	}
#endif
}

int
main(int argc, char *argv[])
{
	struct hub	*hub;
	unsigned long	 v;
	long		 ncpu;
	const char	*what;
	char		 msg[PATH_MAX + 128];
	int		 ch, scoreboard = 0, rv;

	proctitle_init(argc, argv);
	log_init("chatd", LOG_TO_STDERR, 0);
	switch (longopt_find(argc, argv)) {
	case 'h':
		usage(0);
	case 'V':
		printf("chatd %s\n", VERSION);
		exit(0);
	}
	srv_opts_init(&conf.opts);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	conf.workers = ncpu < 1 ? 1 : ncpu > HUB_WORKERS_MAX ?
	    HUB_WORKERS_MAX : (int)ncpu;
	conf.ring = CHATD_RING;

	while ((ch = getopt(argc, argv,
	    "a:b:C:dhm:N:p:P:q:r:R:Su:U:vVw:")) != -1) {
		switch (ch) {
		case 'C':
			conf.cluster = optarg;
			break;
		case 'N':
			conf.cluster_name = optarg;
			break;
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
	check_cluster();
	if (scoreboard)
		return scoreboard_print(conf.opts.bind_addr,
		    conf.opts.tcp_port);

	/*
	 * Everything that can fail is done here, in order, and reported
	 * on the terminal with exit 1, before -d detaches.
	 */
	log_init("chatd", LOG_TO_STDERR, conf.opts.verbose);
	/* A dead peer is an ordinary write error, never a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	check_user();
	if (conf.pidfile != NULL) {
		conf.pidfile = absolute_path(conf.pidfile);
		if (pidfile_open(conf.pidfile, msg, sizeof(msg)) == -1)
			fatalx("%s", msg);
	}
	raise_nofile();
	srv_open(&conf.opts, &conf.socks);
	hub = make_hub();
	if (conf.daemonize) {
		if (detach_start() == -1) {
			hub_unlink(hub);
			fatal("detach");
		}
		log_init("chatd", LOG_TO_BOTH, conf.opts.verbose);
		/* The master is the detached child now. */
		hub_set_master(hub, getpid());
	}
	if (pidfile_write() == -1) {
		hub_unlink(hub);
		fatal("pidfile %s", conf.pidfile);
	}
	rv = master_run(hub);
	pidfile_remove();
	return rv;
}
