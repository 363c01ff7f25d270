/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * bridgeboard.c -- the bridge's board (bridgeboard.h): the URL of the
 * NATS server the bridge is connected to, for chatd -S.
 *
 * One writer (the bridge; the master starts a new one only after the
 * old one is gone) and any number of readers in other processes.  The
 * URL is kept in 64-bit words under a sequence counter, odd while the
 * writer changes them: a reader copies the words with atomic loads and
 * keeps the copy only if the counter was even and the same before and
 * after.  No lock, so a reader can never hold the bridge back, and no
 * byte is read while it is written (every access is atomic).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridgeboard.h"

#define BRIDGEBOARD_MAGIC	0x6368617464627262ULL	/* "chatdbrb" */
#define BRIDGEBOARD_VERSION	1
#define BRIDGEBOARD_WORDS	(BRIDGEBOARD_URL_MAX / 8)
/* A reader gives up after this many tries, 1 ms apart while odd. */
#define BRIDGEBOARD_TRIES	1000

struct bridgeboard {
	uint64_t		bb_magic;	/* written last at creation */
	uint32_t		bb_version;
	uint32_t		bb_size;	/* sizeof(struct bridgeboard) */
	_Atomic uint64_t	bb_gen;		/* odd while the URL changes */
	_Atomic uint64_t	bb_url[BRIDGEBOARD_WORDS];
};

void
bridgeboard_name(char *buf, size_t len, const char *hub_name)
{
	snprintf(buf, len, "%s-bridge", hub_name);
}

struct bridgeboard *
bridgeboard_create(const char *hub_name, int chown, uid_t uid, gid_t gid)
{
	struct bridgeboard	*bb;
	char			 name[256];
	int			 fd, saved;

	bridgeboard_name(name, sizeof(name), hub_name);
	/* Left by a chatd killed on this address: nobody uses it now. */
	if (shm_unlink(name) == -1 && errno != ENOENT)
		return NULL;
	if ((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) == -1)
		return NULL;
	if (ftruncate(fd, (off_t)sizeof(*bb)) == -1 ||
	    (chown && fchown(fd, uid, gid) == -1))
		goto fail;
	bb = mmap(NULL, sizeof(*bb), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (bb == MAP_FAILED)
		goto fail;
	close(fd);
	/* ftruncate gave zeros: no URL, counter even. */
	bb->bb_version = BRIDGEBOARD_VERSION;
	bb->bb_size = (uint32_t)sizeof(*bb);
	atomic_thread_fence(memory_order_release);
	bb->bb_magic = BRIDGEBOARD_MAGIC;
	return bb;
fail:
	saved = errno;
	close(fd);
	(void)shm_unlink(name);
	errno = saved;
	return NULL;
}

int
bridgeboard_unlink(const char *hub_name)
{
	char	name[256];

	bridgeboard_name(name, sizeof(name), hub_name);
	if (shm_unlink(name) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

void
bridgeboard_set_url(struct bridgeboard *bb, const char *url)
{
	char		copy[BRIDGEBOARD_URL_MAX];
	uint64_t	g, w;
	int		i;

	memset(copy, 0, sizeof(copy));
	snprintf(copy, sizeof(copy), "%s", url);
	g = atomic_load_explicit(&bb->bb_gen, memory_order_relaxed);
	if (g & 1)
		g++;		/* a bridge died while it wrote */
	atomic_store_explicit(&bb->bb_gen, g + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < BRIDGEBOARD_WORDS; i++) {
		memcpy(&w, copy + i * 8, 8);
		atomic_store_explicit(&bb->bb_url[i], w,
		    memory_order_relaxed);
	}
	atomic_store_explicit(&bb->bb_gen, g + 2, memory_order_release);
}

/* One consistent copy of the URL; 0, or -1 if it kept changing. */
static int
bridgeboard_copy(const struct bridgeboard *bb, char *copy)
{
	struct timespec	ts = { 0, 1000000 };
	uint64_t	g1, g2, w;
	int		i, try;

	for (try = 0; try < BRIDGEBOARD_TRIES; try++) {
		g1 = atomic_load_explicit(&bb->bb_gen, memory_order_acquire);
		if (g1 & 1) {
			nanosleep(&ts, NULL);
			continue;
		}
		for (i = 0; i < BRIDGEBOARD_WORDS; i++) {
			w = atomic_load_explicit(&bb->bb_url[i],
			    memory_order_relaxed);
			memcpy(copy + i * 8, &w, 8);
		}
		atomic_thread_fence(memory_order_acquire);
		g2 = atomic_load_explicit(&bb->bb_gen, memory_order_relaxed);
		if (g1 == g2)
			return 0;
	}
	return -1;
}

int
bridgeboard_read(const char *hub_name, uid_t owner, char *url, size_t len,
    const char **problem)
{
	const struct bridgeboard	*bb;
	struct stat			 st;
	char				 name[256];
	char				 copy[BRIDGEBOARD_URL_MAX];
	size_t				 i;
	int				 fd, rv = -1;

	if (len > 0)
		url[0] = '\0';
	bridgeboard_name(name, sizeof(name), hub_name);
	if ((fd = shm_open(name, O_RDONLY, 0)) == -1) {
		*problem = errno == ENOENT ? "missing" : "cannot be opened";
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*problem = "cannot be looked at";
		close(fd);
		return -1;
	}
	if (st.st_uid != owner || st.st_size != (off_t)sizeof(*bb)) {
		*problem = st.st_uid != owner ? "not the hub owner's" :
		    "of the wrong size";
		close(fd);
		return -1;
	}
	bb = mmap(NULL, sizeof(*bb), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (bb == MAP_FAILED) {
		*problem = "cannot be mapped";
		return -1;
	}
	if (bb->bb_magic != BRIDGEBOARD_MAGIC ||
	    bb->bb_version != BRIDGEBOARD_VERSION ||
	    bb->bb_size != sizeof(*bb))
		*problem = "not a bridge board of this version";
	else if (bridgeboard_copy(bb, copy) == -1)
		*problem = "changing too fast to be read";
	else {
		/* Made by another process: printable ASCII only. */
		copy[sizeof(copy) - 1] = '\0';
		for (i = 0; copy[i] != '\0'; i++)
			if (copy[i] < 0x20 || copy[i] > 0x7e)
				copy[i] = '?';
		snprintf(url, len, "%s", copy);
		rv = 0;
	}
	munmap((void *)(uintptr_t)bb, sizeof(*bb));
	return rv;
}
