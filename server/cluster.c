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
#include <unistd.h>

#include "chatd.h"
#include "cluster.h"
#include "log.h"

/* How long a worker waits for NATS on a /nick, /msg or a departure. */
#define CLUSTER_KV_WAIT_MS	2000
/* The stream keeps this much of the chat; older records are dropped. */
#define CLUSTER_STREAM_BYTES	((int64_t)256 * 1024 * 1024)

static struct {
	natsConnection	*nc;
	jsCtx		*js;
	kvStore		*nicks;
	kvStore		*who;
	char		 stream[CLUSTER_NAME_MAX + 16];
	char		 subject[CLUSTER_NAME_MAX + 16];
	char		 nick_bucket[CLUSTER_NAME_MAX + 16];
	char		 host_bucket[CLUSTER_NAME_MAX + 16];
	char		 who_bucket[CLUSTER_NAME_MAX + 16];
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
		s = natsConnection_JetStream(&cl.js, cl.nc, &jo);
	}
	natsOptions_Destroy(o);
	free(copy);
	if (s != NATS_OK) {
		log_warnx("nats %s: %s", conf.cluster, natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/* The bucket called name, made with these settings if it is missing. */
static natsStatus
cluster_bucket(kvStore **kv, const char *name)
{
	kvConfig	kc;
	natsStatus	s;

	if ((s = js_KeyValue(kv, cl.js, name)) != NATS_NOT_FOUND)
		return s;
	kvConfig_Init(&kc);
	kc.Bucket = name;
	kc.History = 1;
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
	kvStore		*kv = NULL;
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
	if (s != NATS_OK) {
		log_warnx("stream %s: %s (%d)", cl.stream,
		    natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	if ((s = cluster_bucket(&kv, cl.host_bucket)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.host_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	kvStore_Destroy(kv);
	if ((s = cluster_bucket(&cl.nicks, cl.nick_bucket)) != NATS_OK) {
		log_warnx("bucket %s: %s", cl.nick_bucket,
		    natsStatus_GetText(s));
		return -1;
	}
	if ((s = cluster_bucket(&cl.who, cl.who_bucket)) != NATS_OK) {
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
	kvStore		*kv = NULL;
	natsStatus	 s;
	uint64_t	 rev = 0;
	char		 host[256];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if ((s = js_KeyValue(&kv, cl.js, cl.host_bucket)) == NATS_OK)
		s = kvStore_PutString(&rev, kv, "last", host);
	kvStore_Destroy(kv);
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

uint64_t
cluster_nick_find(const char *nick, char *exact, size_t len)
{
	kvStore		*kv;
	kvEntry		*e = NULL;
	const char	*val, *sp;
	uint64_t	 id = 0;
	char		 key[PROTO_NICK_MAX + 1];

	if ((kv = cluster_nicks()) == NULL)
		return 0;
	cluster_nick_key(nick, key, sizeof(key));
	if (kvStore_Get(&e, kv, key) != NATS_OK)
		return 0;
	val = kvEntry_ValueString(e);
	if (val != NULL && (sp = strchr(val, ' ')) != NULL &&
	    sscanf(val, "%" SCNu64, &id) == 1)
		snprintf(exact, len, "%s", sp + 1);
	else
		id = 0;
	kvEntry_Destroy(e);
	return id;
}

/*
 * The presence bucket: one entry per client of the cluster, key its id,
 * value "NICK ADDR" (NICK empty before /nick), for /who.
 */
void
cluster_who_put(uint64_t id, const char *nick, const char *addr)
{
	kvStore		*kv;
	natsStatus	 s;
	char		 key[32], val[PROTO_NICK_MAX + PROTO_ADDR_MAX + 2];

	if ((kv = cluster_kv(&cl.who, cl.who_bucket)) == NULL)
		return;
	snprintf(key, sizeof(key), "%" PRIu64, id);
	snprintf(val, sizeof(val), "%s %s", nick, addr);
	if ((s = kvStore_PutString(NULL, kv, key, val)) != NATS_OK)
		log_warnx("who %s: %s", key, natsStatus_GetText(s));
}

void
cluster_who_remove(uint64_t id)
{
	kvStore		*kv;
	natsStatus	 s;
	char		 key[32];

	if ((kv = cluster_kv(&cl.who, cl.who_bucket)) == NULL)
		return;
	snprintf(key, sizeof(key), "%" PRIu64, id);
	if ((s = kvStore_Delete(kv, key)) != NATS_OK)
		log_warnx("who %s: remove: %s", key, natsStatus_GetText(s));
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

unsigned
cluster_who_foreach(void (*fn)(const struct hub_client_info *, void *),
    void *arg)
{
	struct hub_client_info	 ci;
	kvKeysList		 keys;
	kvStore			*kv;
	natsStatus		 s;
	unsigned		 n = 0;
	int			 i;

	if ((kv = cluster_kv(&cl.who, cl.who_bucket)) == NULL)
		return 0;
	memset(&keys, 0, sizeof(keys));
	if ((s = kvStore_Keys(&keys, kv, NULL)) != NATS_OK) {
		if (s != NATS_NOT_FOUND)	/* NOT_FOUND: nobody */
			log_warnx("who: %s", natsStatus_GetText(s));
		return 0;
	}
	for (i = 0; i < keys.Count; i++)
		if (cluster_who_get(kv, keys.Keys[i], &ci)) {
			fn(&ci, arg);
			n++;
		}
	kvKeysList_Destroy(&keys);
	return n;
}
