/* Copyright (c) 2026 The chatd authors.  See LICENSE. */
/*
 * cluster.c -- chatd -C: the NATS connection every chatd process of a
 * cluster host opens (the bridge for the stream, the workers for the
 * nick bucket), the names of the stream and the buckets, and the nick
 * bucket itself: a JetStream key-value bucket whose atomic create makes
 * a nickname unique across every host.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "chatd.h"
#include "cluster.h"
#include "log.h"
#include "mirror.h"

/* How long a worker waits for NATS on a /nick, /msg or a departure. */
#define CLUSTER_KV_WAIT_MS	2000
/* A clean-up announces this many departures between two forwards. */
#define CLUSTER_REAP_SLICE	32
/* JetStream's de-duplication window when the stream does not say. */
#define CLUSTER_DEDUP_DEFAULT_NS	((int64_t)120 * 1000 * 1000 * 1000)
/* The stream keeps this much of the chat; older records are dropped. */
#define CLUSTER_STREAM_BYTES	((int64_t)256 * 1024 * 1024)

static struct {
	natsConnection	*nc;
	jsCtx		*js;
	kvStore		*nicks;
	kvStore		*who;
	kvStore		*hosts;
	kvStore		*alive;
	kvStore		*gone;		/* departures being announced */
	int64_t		 dedup_ns;	/* the stream's de-duplication window */
	char		 stream[CLUSTER_NAME_MAX + 16];
	char		 subject[CLUSTER_NAME_MAX + 16];
	char		 nick_bucket[CLUSTER_NAME_MAX + 16];
	char		 host_bucket[CLUSTER_NAME_MAX + 16];
	char		 who_bucket[CLUSTER_NAME_MAX + 16];
	char		 alive_bucket[CLUSTER_NAME_MAX + 16];
	char		 gone_bucket[CLUSTER_NAME_MAX + 16];
} cl;

/* -C: URLs "nats://HOST:PORT" separated by commas. */
int
cluster_check_urls(const char *urls, const char **why)
{
	const char	*p = urls, *end;
	int		 n = 0;

	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (strncmp(p, "nats://", 7) != 0) {
			*why = "each server must be nats://HOST:PORT";
			return -1;
		}
		if (end - p <= 7) {
			*why = "a server URL has no host";
			return -1;
		}
		if (++n > CLUSTER_URLS_MAX) {
			*why = "too many servers";
			return -1;
		}
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

int
cluster_check_name(const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++)
		if (i == CLUSTER_NAME_MAX || !(isalnum((unsigned char)name[i]) ||
		    name[i] == '-' || name[i] == '_'))
			return -1;
	return i == 0 ? -1 : 0;
}

int
cluster_replicas(void)
{
	const char	*p;
	int		 n = 1;

	for (p = conf.cluster; *p != '\0'; p++)
		if (*p == ',')
			n++;
	return n > 3 ? 3 : n;
}

const char *
cluster_stream(void)
{
	return cl.stream;
}

const char *
cluster_subject(void)
{
	return cl.subject;
}

natsConnection *
cluster_conn(void)
{
	return cl.nc;
}

jsCtx *
cluster_js(void)
{
	return cl.js;
}

/* Split conf.cluster into servers[]; returns how many. */
static int
cluster_servers(char *copy, const char **servers)
{
	char	*p, *next;
	int	 n = 0;

	for (p = copy; p != NULL && n < CLUSTER_URLS_MAX; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		servers[n++] = p;
	}
	return n;
}

/*
 * A put or delete sent without waiting (cluster_kv_send) that NATS
 * refused or did not acknowledge in time.  The library's thread.
 */
static void
cluster_async_err(jsCtx *js, jsPubAckErr *pae, void *arg)
{
	(void)js;
	(void)arg;
	log_warnx("%s: %s", natsMsg_GetSubject(pae->Msg),
	    pae->ErrText != NULL ? pae->ErrText : natsStatus_GetText(pae->Err));
}

/* At exit: what was sent without waiting, acknowledged if it can be. */
static void
cluster_flush(void)
{
	jsPubOptions	po;

	if (cl.nc == NULL)
		return;
	jsPubOptions_Init(&po);
	po.MaxWait = CLUSTER_KV_WAIT_MS;
	if (js_PublishAsyncComplete(cl.js, &po) != NATS_OK)
		log_warnx("exit: some presence updates may be lost");
}

void
cluster_close(void)
{
	cluster_flush();
	jsCtx_Destroy(cl.js);
	natsConnection_Destroy(cl.nc);
	cl.js = NULL;
	cl.nc = NULL;
}

/*
 * Connect to the servers of -C.  The library reconnects by itself for
 * ever, to whichever server answers; until then every request fails
 * with a timeout, which the callers report.
 */
int
cluster_open(const char *procname)
{
	natsOptions	*o = NULL;
	jsOptions	 jo;
	natsStatus	 s;
	const char	*servers[CLUSTER_URLS_MAX];
	char		*copy, name[64];
	int		 n;

	snprintf(cl.stream, sizeof(cl.stream), "CHATD_%s", conf.cluster_name);
	snprintf(cl.subject, sizeof(cl.subject), "chatd.%s.msg",
	    conf.cluster_name);
	snprintf(cl.nick_bucket, sizeof(cl.nick_bucket), "chatd_%s_nicks",
	    conf.cluster_name);
	snprintf(cl.host_bucket, sizeof(cl.host_bucket), "chatd_%s_hosts",
	    conf.cluster_name);
	snprintf(cl.who_bucket, sizeof(cl.who_bucket), "chatd_%s_who",
	    conf.cluster_name);
	snprintf(cl.alive_bucket, sizeof(cl.alive_bucket), "chatd_%s_alive",
	    conf.cluster_name);
	snprintf(cl.gone_bucket, sizeof(cl.gone_bucket), "chatd_%s_gone",
	    conf.cluster_name);
	if ((copy = strdup(conf.cluster)) == NULL) {
		log_warn("strdup");
		return -1;
	}
	n = cluster_servers(copy, servers);
	snprintf(name, sizeof(name), "chatd %s pid %ld", procname,
	    (long)getpid());
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(o, true, NULL, NULL);
	if (s == NATS_OK) {
		s = natsConnection_Connect(&cl.nc, o);
		if (s == NATS_NOT_YET_CONNECTED)
			s = NATS_OK;
	}
	if (s == NATS_OK) {
		jsOptions_Init(&jo);
		jo.Wait = CLUSTER_KV_WAIT_MS;
		jo.PublishAsync.ErrHandler = cluster_async_err;
		s = natsConnection_JetStream(&cl.js, cl.nc, &jo);
	}
	if (s == NATS_OK && atexit(cluster_flush) != 0)
		s = NATS_NO_MEMORY;
	natsOptions_Destroy(o);
	free(copy);
	if (s != NATS_OK) {
		log_warnx("nats %s: %s", conf.cluster, natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/*
 * The bucket called name, made if it is missing; its entries expire
 * after ttl_ms (0: never).
 */
static natsStatus
cluster_bucket(kvStore **kv, const char *name, int64_t ttl_ms)
{
	kvConfig	kc;
	natsStatus	s;

	if (*kv != NULL)
		return NATS_OK;		/* an earlier try got this far */
	if ((s = js_KeyValue(kv, cl.js, name)) != NATS_NOT_FOUND)
		return s;
	kvConfig_Init(&kc);
	kc.Bucket = name;
	kc.History = 1;
	kc.TTL = ttl_ms * 1000 * 1000;
	kc.Replicas = cluster_replicas();
	kc.StorageType = js_FileStorage;
	return js_CreateKeyValue(kv, cl.js, &kc);
}

int
cluster_setup(void)
{
	jsStreamConfig	 sc;
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	const char	*subjects[1];

	jsStreamConfig_Init(&sc);
	subjects[0] = cl.subject;
	sc.Name = cl.stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = cluster_replicas();
	sc.MaxBytes = CLUSTER_STREAM_BYTES;
	sc.Discard = js_DiscardOld;
	s = js_AddStream(&si, cl.js, &sc, NULL, &jerr);
	if (s != NATS_OK && jerr == JSStreamNameExistErr)
		s = NATS_OK;	/* made by another host, maybe otherwise */
	jsStreamInfo_Destroy(si);
	si = NULL;
	/* The window as it is, whoever made the stream (the reaper's). */
	if (s == NATS_OK && (s = js_GetStreamInfo(&si, cl.js, cl.stream, NULL,
	    &jerr)) == NATS_OK) {
		cl.dedup_ns = si->Config->Duplicates;
		jsStreamInfo_Destroy(si);
	}
	if (s != NATS_OK) {
		log_warnx("stream %s: %s (%d)", cl.stream,
		    natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	if ((s = cluster_bucket(&cl.hosts, cl.host_bucket, 0)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.host_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	if ((s = cluster_bucket(&cl.alive, cl.alive_bucket,
	    CLUSTER_ALIVE_TTL_MS)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.alive_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	if ((s = cluster_bucket(&cl.gone, cl.gone_bucket, 0)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.gone_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	if ((s = cluster_bucket(&cl.nicks, cl.nick_bucket, 0)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.nick_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	if ((s = cluster_bucket(&cl.who, cl.who_bucket, 0)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.who_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/*
 * The revision of a put is the sequence of the bucket's stream: every
 * host that starts gets a new one, and no two the same.
 */
uint64_t
cluster_host_number(void)
{
	natsStatus	 s;
	uint64_t	 rev = 0;
	char		 host[256];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	s = kvStore_PutString(&rev, cl.hosts, "last", host);
	if (s != NATS_OK) {
		log_warnx("bucket %s: %s", cl.host_bucket,
		    natsStatus_GetText(s));
		return 0;
	}
	if (rev > CLUSTER_HOST_MAX) {
		log_warnx("bucket %s: host number %" PRIu64 " too large; "
		    "purge the bucket", cl.host_bucket, rev);
		return 0;
	}
	return rev;
}

/* A bucket, looked up on first use (NATS may have been away). */
static kvStore *
cluster_kv(kvStore **kv, const char *name)
{
	natsStatus	s;

	if (*kv == NULL && (s = js_KeyValue(kv, cl.js, name)) != NATS_OK) {
		log_warnx("bucket %s: %s", name, natsStatus_GetText(s));
		*kv = NULL;
	}
	return *kv;
}

static kvStore *
cluster_nicks(void)
{
	return cluster_kv(&cl.nicks, cl.nick_bucket);
}

/* Names are unique without regard to case: the key is in lower case. */
static void
cluster_nick_key(const char *nick, char *key, size_t len)
{
	size_t	i;

	for (i = 0; nick[i] != '\0' && i + 1 < len; i++)
		key[i] = (char)tolower((unsigned char)nick[i]);
	key[i] = '\0';
}

int
cluster_nick_claim(const char *nick, uint64_t id)
{
	kvStore		*kv;
	kvEntry		*e = NULL;
	natsStatus	 s;
	uint64_t	 rev;
	char		 key[PROTO_NICK_MAX + 1], val[PROTO_NICK_MAX + 32];

	if ((kv = cluster_nicks()) == NULL) {
		errno = EAGAIN;
		return -1;
	}
	cluster_nick_key(nick, key, sizeof(key));
	snprintf(val, sizeof(val), "%" PRIu64 " %s", id, nick);
	if ((s = kvStore_CreateString(&rev, kv, key, val)) == NATS_OK)
		return 0;
	/* Taken, or no answer: the entry tells which. */
	if (kvStore_Get(&e, kv, key) == NATS_OK) {
		kvEntry_Destroy(e);
		errno = EEXIST;
	} else {
		log_warnx("nick %s: %s", key, natsStatus_GetText(s));
		errno = EAGAIN;
	}
	return -1;
}

void
cluster_nick_respell(const char *nick, uint64_t id)
{
	kvStore		*kv;
	natsStatus	 s;
	char		 key[PROTO_NICK_MAX + 1], val[PROTO_NICK_MAX + 32];

	if ((kv = cluster_nicks()) == NULL)
		return;
	cluster_nick_key(nick, key, sizeof(key));
	snprintf(val, sizeof(val), "%" PRIu64 " %s", id, nick);
	if ((s = kvStore_PutString(NULL, kv, key, val)) != NATS_OK)
		log_warnx("nick %s: %s", key, natsStatus_GetText(s));
}

void
cluster_nick_release(const char *nick)
{
	kvStore		*kv;
	natsStatus	 s;
	char		 key[PROTO_NICK_MAX + 1];

	if (nick[0] == '\0' || (kv = cluster_nicks()) == NULL)
		return;
	cluster_nick_key(nick, key, sizeof(key));
	if ((s = kvStore_Delete(kv, key)) != NATS_OK)
		log_warnx("nick %s: release: %s", key, natsStatus_GetText(s));
}

/*
 * A put (val) or a delete (val NULL) of key in the bucket called
 * bucket, the message kvStore_Put or kvStore_Delete would publish,
 * sent without waiting for JetStream's answer: a worker must not stop
 * serving its clients for a round trip per arrival and departure.  One
 * connection's messages are stored in the order sent, so an entry's
 * put and delete never swap.  Errors come to cluster_async_err;
 * cluster_flush waits for the last ones at exit.
 */
static void
cluster_kv_send(const char *bucket, const char *key, const char *val)
{
	natsMsg		*m = NULL;
	jsPubOptions	 po;
	natsStatus	 s;
	char		 subj[CLUSTER_NAME_MAX + 64];

	snprintf(subj, sizeof(subj), "$KV.%s.%s", bucket, key);
	s = natsMsg_Create(&m, subj, NULL, val,
	    val != NULL ? (int)strlen(val) : 0);
	if (s == NATS_OK && val == NULL)
		s = natsMsgHeader_Set(m, "KV-Operation", "DEL");
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = CLUSTER_KV_WAIT_MS;
		s = js_PublishMsgAsync(cl.js, &m, &po);
	}
	natsMsg_Destroy(m);	/* NULL if the library took it */
	if (s != NATS_OK)
		log_warnx("%s: %s", subj, natsStatus_GetText(s));
}

/*
 * The presence bucket: one entry per client of the cluster, key its id,
 * value "NICK ADDR" (NICK empty before /nick), for /who.  Put on
 * arrival and rename, deleted on departure, without waiting.
 */
void
cluster_who_put(uint64_t id, const char *nick, const char *addr)
{
	char	key[32], val[PROTO_NICK_MAX + PROTO_ADDR_MAX + 2];

	snprintf(key, sizeof(key), "%" PRIu64, id);
	snprintf(val, sizeof(val), "%s %s", nick, addr);
	cluster_kv_send(cl.who_bucket, key, val);
}

void
cluster_who_remove(uint64_t id)
{
	char	key[32];

	snprintf(key, sizeof(key), "%" PRIu64, id);
	cluster_kv_send(cl.who_bucket, key, NULL);
}

static void	cluster_nick_key(const char *, char *, size_t);

static int
cluster_id_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One entry of the presence bucket as the registry would give it. */
static int
cluster_who_get(kvStore *kv, const char *key, struct hub_client_info *ci)
{
	kvEntry		*e = NULL;
	const char	*val, *sp;
	int		 ok = 0;

	if (kvStore_Get(&e, kv, key) != NATS_OK)
		return 0;
	memset(ci, 0, sizeof(*ci));
	val = kvEntry_ValueString(e);
	if (val != NULL && (sp = strchr(val, ' ')) != NULL &&
	    (size_t)(sp - val) <= PROTO_NICK_MAX &&
	    sscanf(key, "%" SCNu64, &ci->ci_id) == 1) {
		memcpy(ci->ci_nick, val, (size_t)(sp - val));
		snprintf(ci->ci_addr, sizeof(ci->ci_addr), "%s", sp + 1);
		ci->ci_worker = -1;
		ok = 1;
	}
	kvEntry_Destroy(e);
	return ok;
}

/*
 * /who and the /msg lookup read no bucket: this host's clients are in
 * the registry, the others' in the mirror the bridge keeps
 * (cluster_mirror_follow).  A /who lists the registry first, then the
 * mirror: places in the mirror are CLUSTER_SCAN_MIRROR and above.
 */
#define CLUSTER_SCAN_MIRROR	((uint64_t)1 << 62)

static struct mirror	*mirror;

void
cluster_mirror_set(struct mirror *m)
{
	mirror = m;
}

/* fn, noting whether it asked to stop. */
struct cluster_scan {
	int	(*fn)(const struct hub_client_info *, void *);
	void	 *arg;
	int	  stopped;
};

static int
cluster_scan_note(const struct hub_client_info *ci, void *arg)
{
	struct cluster_scan	*cs = arg;

	if (cs->fn(ci, cs->arg) == 0)
		return 0;
	cs->stopped = 1;
	return 1;
}

unsigned
cluster_who_scan(struct hub *hub, uint64_t *pos,
    int (*fn)(const struct hub_client_info *, void *), void *arg,
    unsigned max)
{
	struct cluster_scan	cs = { fn, arg, 0 };
	uint64_t		mpos;
	unsigned		seen = 0;

	if (*pos < CLUSTER_SCAN_MIRROR) {
		seen = hub_client_scan(hub, pos, cluster_scan_note, &cs, max);
		if (*pos != HUB_SCAN_END)
			return seen;
		*pos = CLUSTER_SCAN_MIRROR;
		if (cs.stopped || seen >= max)
			return seen;
	}
	mpos = *pos - CLUSTER_SCAN_MIRROR;
	seen += mirror_who_scan(mirror, &mpos, fn, arg, max - seen);
	*pos = mpos == HUB_SCAN_END ? HUB_SCAN_END : CLUSTER_SCAN_MIRROR + mpos;
	return seen;
}

unsigned
cluster_who_count(struct hub *hub)
{
	return hub_total_clients(hub) + mirror_who_count(mirror);
}

uint64_t
cluster_nick_find(const char *nick, char *exact, size_t len)
{
	return mirror_nick_find(mirror, nick, exact, len);
}

/* Wait up to ms for stop; 0, or -1 if it came. */
static int
cluster_follow_pause(int ms, atomic_int *stop)
{
	struct timespec	ts = { 0, 10 * 1000000 };

	for (; ms > 0 && !atomic_load(stop); ms -= 10)
		nanosleep(&ts, NULL);
	return atomic_load(stop) ? -1 : 0;
}

/* "N" of an entry's key, a client's id; 0 if it is not one. */
static uint64_t
cluster_key_id(const char *key)
{
	uint64_t	id;
	char		end;

	if (key == NULL || sscanf(key, "%" SCNu64 "%c", &id, &end) != 1)
		return 0;
	return id;
}

/* One change of bucket which into the mirror. */
static void
cluster_mirror_apply(enum mirror_table which, uint64_t self, uint64_t epoch,
    kvEntry *e)
{
	const char	*key = kvEntry_Key(e), *val, *sp;
	kvOperation	 op = kvEntry_Operation(e);
	uint64_t	 id = 0;
	char		 nick[PROTO_NICK_MAX + 1];
	size_t		 n;

	val = op == kvOp_Put ? kvEntry_ValueString(e) : NULL;
	if (which == MIRROR_WHO) {
		if ((id = cluster_key_id(key)) == 0)
			return;
		/* Ours are in the registry; "NICK ADDR" */
		if (val == NULL || id >> CLUSTER_HOST_SHIFT == self ||
		    (sp = strchr(val, ' ')) == NULL ||
		    (n = (size_t)(sp - val)) > PROTO_NICK_MAX) {
			mirror_who_remove(mirror, id);
			return;
		}
		memcpy(nick, val, n);
		nick[n] = '\0';
		(void)mirror_who_put(mirror, epoch, id, nick, sp + 1);
		return;
	}
	if (key == NULL || strlen(key) > PROTO_NICK_MAX)
		return;
	/* "ID NICK" */
	if (val == NULL || sscanf(val, "%" SCNu64, &id) != 1 ||
	    id >> CLUSTER_HOST_SHIFT == self ||
	    (sp = strchr(val, ' ')) == NULL || strlen(sp + 1) > PROTO_NICK_MAX ||
	    strcasecmp(sp + 1, key) != 0) {
		mirror_nick_remove(mirror, key);
		return;
	}
	(void)mirror_nick_put(mirror, epoch, sp + 1, id);
}

void
cluster_mirror_follow(enum mirror_table which, uint64_t self,
    atomic_int *stop)
{
	kvWatcher	*w = NULL;
	kvEntry		*e;
	kvStore		*kv;
	natsStatus	 s;
	uint64_t	 epoch = 0;
	const char	*name;
	unsigned	 swept;

	name = which == MIRROR_WHO ? cl.who_bucket : cl.nick_bucket;
	kv = which == MIRROR_WHO ? cl.who : cl.nicks;	/* cluster_setup's */
	while (!atomic_load(stop)) {
		if (w == NULL) {
			if ((s = kvStore_WatchAll(&w, kv, NULL)) != NATS_OK) {
				log_warnx("watch %s: %s", name,
				    natsStatus_GetText(s));
				w = NULL;
				(void)cluster_follow_pause(500, stop);
				continue;
			}
			epoch = mirror_begin(mirror, which);
		}
		e = NULL;
		if ((s = kvWatcher_Next(&e, w, 250)) == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			log_warnx("watch %s: %s; watching again", name,
			    natsStatus_GetText(s));
			kvWatcher_Destroy(w);
			w = NULL;
			continue;
		}
		if (e == NULL) {	/* what the bucket had, all put */
			swept = mirror_sweep(mirror, which, epoch);
			log_debug("mirror of %s: up to date (%u gone meanwhile)",
			    name, swept);
			continue;
		}
		cluster_mirror_apply(which, self, epoch, e);
		kvEntry_Destroy(e);
	}
	kvWatcher_Destroy(w);
}

/*
 * Hosts.  Each host is a member ("member.N" in the bucket _hosts, for
 * good) and, while its bridge runs, alive ("N" in _alive, put every
 * second, expiring after CLUSTER_ALIVE_TTL_MS).  A member that is not
 * alive died without stopping: one surviving host, the one whose
 * create of "reap.N" in _alive wins, announces its clients' departures
 * and removes their names and entries, then the membership; a slice of
 * clients at a time, putting "reap.N" again before each.
 *
 * Each departure is announced once although a reaper may die half-way
 * or, slow, see its "reap.N" expire and another reaper start on the
 * same clients.  Per client, in this order:
 *
 *  1. "gone.N.ID" is created in _gone (an atomic create; the first
 *     reaper's stays).  It dates the first try.  Not in _hosts, whose
 *     revisions number the hosts.
 *  2. The departure goes to the stream as a message of its own with
 *     JetStream's de-duplication id "gone-ID", and the reaper waits
 *     for the acknowledgment.  Another reaper that sends it again is
 *     told it is a duplicate, and the stream keeps one.
 *  3. Only then are the client's name and /who entry removed: a client
 *     still listed may not have been announced yet.  The name only if
 *     it is still the client's, by a revision-checked delete: another
 *     client may have taken it since a first reaper freed it.
 *
 * A reaper that finds "gone.N.ID" made longer ago than half the
 * stream's de-duplication window (2 minutes unless set otherwise) does
 * not announce again, since JetStream might no longer catch the repeat:
 * it only frees the name.  That leaves one case without announcement:
 * a reaper dies between steps 1 and 2, and no other host takes over
 * for that long.  When a host is done, its "gone.N.*" go too.
 */
int
cluster_host_join(uint64_t host)
{
	natsStatus	s;
	char		key[32];

	snprintf(key, sizeof(key), "member.%" PRIu64, host);
	if ((s = kvStore_PutString(NULL, cl.hosts, key, "1")) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.host_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	cluster_host_beat(host);
	return 0;
}

void
cluster_host_beat(uint64_t host)
{
	natsStatus	s;
	char		key[32];

	snprintf(key, sizeof(key), "%" PRIu64, host);
	if ((s = kvStore_PutString(NULL, cl.alive, key, "1")) != NATS_OK)
		log_debug("bucket %s: %s", cl.alive_bucket,
		    natsStatus_GetText(s));
}

/* The stream's de-duplication window, in ns, as cluster_setup found. */
static int64_t
cluster_dedup_ns(void)
{
	return cl.dedup_ns > 0 ? cl.dedup_ns : CLUSTER_DEDUP_DEFAULT_NS;
}

/*
 * Step 1 for client id of host h: 1 to announce its departure (maybe
 * again), 0 if its first try is too old for a repeat to be caught, -1
 * if NATS did not answer.
 */
static int
cluster_gone_claim(uint64_t h, uint64_t id)
{
	struct timespec	 ts;
	kvEntry		*e = NULL;
	int64_t		 age;
	char		 key[64];

	snprintf(key, sizeof(key), "gone.%" PRIu64 ".%" PRIu64, h, id);
	if (kvStore_CreateString(NULL, cl.gone, key, "1") == NATS_OK)
		return 1;
	if (kvStore_Get(&e, cl.gone, key) != NATS_OK)
		return -1;	/* not made, not there: try again later */
	clock_gettime(CLOCK_REALTIME, &ts);
	age = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec -
	    kvEntry_Created(e);
	kvEntry_Destroy(e);
	if (age < cluster_dedup_ns() / 2)
		return 1;
	log_warnx("client %" PRIu64 " of host %" PRIu64 ": its departure "
	    "was first announced %lld s ago, too long for a repeat to be "
	    "caught; not announced again", id, h,
	    (long long)(age / 1000000000));
	return 0;
}

/*
 * Delete key from the bucket called bucket only while its revision is
 * rev, which kvStore_Delete cannot ask: the delete marker it would
 * publish, with JetStream's check of the key's last sequence.
 */
static natsStatus
cluster_kv_delete_if(const char *bucket, const char *key, uint64_t rev)
{
	natsMsg		*m = NULL;
	jsPubOptions	 po;
	natsStatus	 s;
	char		 subj[CLUSTER_NAME_MAX + PROTO_NICK_MAX + 48];

	snprintf(subj, sizeof(subj), "$KV.%s.%s", bucket, key);
	s = natsMsg_Create(&m, subj, NULL, NULL, 0);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "KV-Operation", "DEL");
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.ExpectLastSubjectSeq = rev;
		s = js_PublishMsg(NULL, cl.js, m, &po, NULL);
	}
	natsMsg_Destroy(m);
	return s;
}

/*
 * Step 3: client id's name, if it still has it.  Checked by revision:
 * a reaper that took over may come after the name was freed and taken
 * by someone else, who keeps it.
 */
static void
cluster_nick_free(const char *nick, uint64_t id)
{
	kvEntry		*e = NULL;
	const char	*val;
	uint64_t	 owner;
	char		 key[PROTO_NICK_MAX + 1];

	cluster_nick_key(nick, key, sizeof(key));
	if (kvStore_Get(&e, cl.nicks, key) != NATS_OK)
		return;		/* free already */
	val = kvEntry_ValueString(e);
	if (val != NULL && sscanf(val, "%" SCNu64, &owner) == 1 &&
	    owner == id)
		(void)cluster_kv_delete_if(cl.nick_bucket, key,
		    kvEntry_Revision(e));
	kvEntry_Destroy(e);
}

/* Step 4: the markers of host h's clients, all announced. */
static void
cluster_gone_clear(uint64_t h)
{
	kvKeysList	 keys;
	char		 prefix[32];
	size_t		 plen;
	int		 i;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "gone.%" PRIu64 ".",
	    h);
	memset(&keys, 0, sizeof(keys));
	if (kvStore_Keys(&keys, cl.gone, NULL) != NATS_OK)
		return;
	for (i = 0; i < keys.Count; i++)
		if (strncmp(keys.Keys[i], prefix, plen) == 0)
			(void)kvStore_Delete(cl.gone, keys.Keys[i]);
	kvKeysList_Destroy(&keys);
}

/*
 * A clean-up under way: the clients a dead host had when it began, a
 * slice at a time, so that the bridge goes on forwarding and beating
 * in between (a beat missed for CLUSTER_ALIVE_TTL_MS would have this
 * host taken for dead).
 */
static struct {
	uint64_t	 host;		/* 0: none */
	uint64_t	*ids;
	int		 n, next;
	unsigned	 stored, repeated;
} reap;

static void
cluster_reap_end(void)
{
	free(reap.ids);
	memset(&reap, 0, sizeof(reap));
}

/* Host h's clients in the presence bucket, into reap; 0 or -1. */
static int
cluster_reap_list(uint64_t h)
{
	kvKeysList	keys;
	natsStatus	s;
	uint64_t	id;
	int		i;

	memset(&keys, 0, sizeof(keys));
	if (cluster_kv(&cl.who, cl.who_bucket) == NULL)
		return -1;
	if ((s = kvStore_Keys(&keys, cl.who, NULL)) != NATS_OK)
		return s == NATS_NOT_FOUND ? 0 : -1;	/* nobody */
	if ((reap.ids = calloc((size_t)keys.Count + 1,
	    sizeof(*reap.ids))) == NULL) {
		kvKeysList_Destroy(&keys);
		return -1;
	}
	for (i = 0; i < keys.Count; i++)
		if (sscanf(keys.Keys[i], "%" SCNu64, &id) == 1 &&
		    id >> CLUSTER_HOST_SHIFT == h)
			reap.ids[reap.n++] = id;
	kvKeysList_Destroy(&keys);
	qsort(reap.ids, (size_t)reap.n, sizeof(*reap.ids), cluster_id_cmp);
	return 0;
}

/* A member that is not alive and whose clean-up this host wins, or 0. */
static uint64_t
cluster_reap_find(uint64_t self)
{
	kvKeysList	 keys;
	kvEntry		*e = NULL;
	natsStatus	 s;
	uint64_t	 h, found = 0;
	char		 key[32];
	int		 i;

	memset(&keys, 0, sizeof(keys));
	if (kvStore_Keys(&keys, cl.hosts, NULL) != NATS_OK)
		return 0;
	for (i = 0; i < keys.Count && found == 0; i++) {
		if (sscanf(keys.Keys[i], "member.%" SCNu64, &h) != 1 ||
		    h == self)
			continue;
		snprintf(key, sizeof(key), "%" PRIu64, h);
		if ((s = kvStore_Get(&e, cl.alive, key)) == NATS_OK) {
			kvEntry_Destroy(e);
			continue;
		}
		if (s != NATS_NOT_FOUND)
			continue;	/* no answer: nothing is known */
		snprintf(key, sizeof(key), "reap.%" PRIu64, h);
		if (kvStore_CreateString(NULL, cl.alive, key, "1") == NATS_OK)
			found = h;	/* else another host does it */
	}
	kvKeysList_Destroy(&keys);
	return found;
}

/*
 * The next CLUSTER_REAP_SLICE clients of the clean-up: announce each
 * (fn: 1 stored, 0 a duplicate, -1 no answer), then free its name and
 * entry.  1 if more is left, 0 when done, -1 if NATS stopped answering
 * (the rest waits for the next try, by whichever host).
 */
static int
cluster_reap_slice(int (*fn)(const struct hub_client_info *, void *),
    void *arg)
{
	struct hub_client_info	ci;
	char			key[32];
	int			end, r;

	/* Still at it: the others keep off ("reap.N" would expire). */
	snprintf(key, sizeof(key), "reap.%" PRIu64, reap.host);
	(void)kvStore_PutString(NULL, cl.alive, key, "1");
	end = reap.next + CLUSTER_REAP_SLICE;
	for (; reap.next < reap.n && reap.next < end; reap.next++) {
		snprintf(key, sizeof(key), "%" PRIu64, reap.ids[reap.next]);
		if (!cluster_who_get(cl.who, key, &ci))
			continue;	/* done by another cleaner */
		if ((r = cluster_gone_claim(reap.host, ci.ci_id)) == 1 &&
		    (r = fn(&ci, arg)) >= 0)
			*(r == 1 ? &reap.stored : &reap.repeated) += 1;
		if (r == -1)
			return -1;
		if (ci.ci_nick[0] != '\0')
			cluster_nick_free(ci.ci_nick, ci.ci_id);
		if (kvStore_Delete(cl.who, key) != NATS_OK)
			return -1;
	}
	return reap.next < reap.n;
}

int
cluster_reap_hosts(uint64_t self,
    int (*fn)(const struct hub_client_info *, void *), void *arg)
{
	char	key[32];
	int	r;

	if (reap.host == 0) {
		if ((reap.host = cluster_reap_find(self)) == 0)
			return 0;
		if (cluster_reap_list(reap.host) == -1) {
			log_warnx("host %" PRIu64 " is gone: its clients "
			    "cannot be listed; later", reap.host);
			cluster_reap_end();
			return 0;
		}
	}
	if ((r = cluster_reap_slice(fn, arg)) == 1)
		return 1;
	if (r == -1)
		log_warnx("host %" PRIu64 " is gone: %u clients announced "
		    "(%u more had been already); NATS stopped answering, "
		    "the rest later", reap.host, reap.stored, reap.repeated);
	else {
		log_info("host %" PRIu64 " is gone: %u clients announced "
		    "(%u more had been already)", reap.host, reap.stored,
		    reap.repeated);
		cluster_gone_clear(reap.host);
		snprintf(key, sizeof(key), "member.%" PRIu64, reap.host);
		(void)kvStore_Delete(cl.hosts, key);
	}
	cluster_reap_end();
	return 0;
}
