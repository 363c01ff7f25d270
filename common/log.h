/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * log.h -- logging for the daemons: stderr in the foreground, syslog
 * when detached.  The only file in common/ that may print or exit.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_BOTH		/* detaching: syslog, and stderr until ready */
};

/*
 * Set the program name, where lines go and how chatty to be (0 normal,
 * 1 or more adds debug lines).  May be called again after a fork.
 */
void	log_init(const char *progname, enum log_dest dest, int verbose);
/* Name the process in every following line ("worker 3"); NULL for none. */
void	log_procname(const char *name);
int	log_verbose(void);

/* log_warn appends ": strerror(errno)"; errno is preserved by all. */
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Log and exit(1): for broken invariants and unusable startup only. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
