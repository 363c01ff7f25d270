/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * log.c -- logging for the daemons.
 *
 * In the foreground every line goes to stderr as "chatd: LINE" or, once a
 * process has named itself, "chatd: worker 2: LINE", so a merged log of
 * all processes reads clearly.  Detached (-d) the same text goes to
 * syslog; while chatd -d is starting, to both, so that an error before
 * the ready line is seen on the terminal.  Every function keeps errno as
 * it found it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char	*log_prog = "chatd";
static const char	*log_proc;
static enum log_dest	 log_dest = LOG_TO_STDERR;
static int		 log_level;

static void	log_vwrite(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

void
log_init(const char *progname, enum log_dest dest, int verbose)
{
	log_prog = progname;
	log_dest = dest;
	log_level = verbose;
	if (dest != LOG_TO_STDERR)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_procname(const char *name)
{
	log_proc = name;
}

int
log_verbose(void)
{
	return log_level;
}

/* Format one line; "suffix" (an strerror text) is appended when set. */
static void
log_vwrite(int pri, const char *suffix, const char *fmt, va_list ap)
{
	char	msg[1024];
	int	saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_dest != LOG_TO_STDERR) {
		if (suffix != NULL)
			syslog(pri, "%s%s%s: %s", log_proc ? log_proc : "",
			    log_proc ? ": " : "", msg, suffix);
		else
			syslog(pri, "%s%s%s", log_proc ? log_proc : "",
			    log_proc ? ": " : "", msg);
	}
	if (log_dest != LOG_TO_SYSLOG) {
		/* One fprintf per line keeps the processes' lines whole. */
		fprintf(stderr, "%s: %s%s%s%s%s\n", log_prog,
		    log_proc ? log_proc : "", log_proc ? ": " : "", msg,
		    suffix ? ": " : "", suffix ? suffix : "");
		fflush(stderr);
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
