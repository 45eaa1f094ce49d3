// SPDX-License-Identifier: GPL-2.0-only
/*
 * --ovs-enrich-flows (doc/collectors.md §8.9). The bus thread hands each
 * flow hit (flow_lookup with a flow) to a bounded queue; the thread
 * "ovs-flow-enricher" asks ovs-vswitchd, at most --ovs-enrich-rate
 * requests a second, `dpctl/get-flow ufid:<UFID>` and, where the running
 * OVS has it (3.4+), `ofproto/detrace ufid:<UFID> pmd=2147483647`, over
 * its unixctl socket (JSON-RPC, 500 ms timeout), and emits one ovs-detrace
 * event per (ufid, flow, sf_acts), which `sort` copies into the matching
 * flow_lookup events.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <retisc/plugin_util.h>
#include <retisc/strbuf.h>

#include "ovs_enrich.h"

#define QUEUE_MAX 100	       /* requests waiting (Retis's channel size) */
#define CACHE_MAX 4096	       /* flows remembered */
#define KEEP_NS 10000000000ULL /* a cached flow unused, a request waiting: 10 s */
#define TIMEOUT_MS 500
#define DEFAULT_RATE 20
#define PMD_ID_NULL "2147483647" /* ofproto/detrace's "not a PMD thread" */

struct flow_key {
	__u32 ufid[4];
	__u64 flow, sf_acts;
};

struct request {
	struct flow_key k;
	__u64 queued; /* CLOCK_MONOTONIC ns */
};

struct cached {
	struct flow_key k;
	__u64 used;
};

static struct {
	const struct retisc_api *api;
	bool on, detrace, running, stopping;
	int fd;
	unsigned int rate;
	char path[108];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct request queue[QUEUE_MAX];
	size_t head, n;
	struct cached cache[CACHE_MAX]; /* bus thread only */
	size_t n_cache;
	__u64 swept;	       /* last pass forgetting unused flows */
	unsigned long dropped; /* requests lost to a full queue */
	unsigned int id;
	char *buf;
	size_t buf_len, buf_cap;
} en = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* -------------------------------------------------------------------------
 * Replies (exposed for the unit tests).
 */

size_t ovs_enrich__frame_len(const char *buf, size_t len)
{
	int depth = 0;
	bool str = false, esc = false, started = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				str = false;
			continue;
		}
		if (c == '"') {
			str = true;
		} else if (c == '{' || c == '[') {
			depth++;
			started = true;
		} else if (c == '}' || c == ']') {
			if (--depth == 0 && started)
				return i + 1;
		}
	}
	return 0;
}

int ovs_enrich__reply(const struct retisc_api *api, const struct retisc_json *reply,
		      const char **result, const char **error)
{
	const struct retisc_json *r = api->json_obj_get(reply, "result");
	const struct retisc_json *e = api->json_obj_get(reply, "error");

	*result = NULL;
	*error = NULL;
	if (e && api->json_type(e) != RETISC_JSON_NULL) {
		*error = api->json_get_str(e, NULL);
		return -EPROTO;
	}
	if (!r)
		return -EPROTO;
	*result = api->json_type(r) == RETISC_JSON_NULL ? "" : api->json_get_str(r, NULL);
	return *result ? 0 : -EPROTO;
}

bool ovs_enrich__has_command(const char *list, const char *command)
{
	size_t n = strlen(command);

	/* One command per line, indented, then its arguments. */
	for (const char *l = list; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (!strncmp(l, command, n) && (!l[n] || l[n] == ' ' || l[n] == '\n'))
			return true;
	}
	return false;
}

void ovs_enrich__ufid_str(const __u32 u[4], char *buf, size_t sz)
{
	snprintf(buf, sz, "ufid:%08x-%04x-%04x-%04x-%04x%08x", u[0], u[1] >> 16, u[1] & 0xffff,
		 u[2] >> 16, u[2] & 0xffff, u[3]);
}

/* s without its surrounding white space, as a new JSON string. */
static struct retisc_json *trimmed(const struct retisc_api *api, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return api->json_new_strn(s, n);
}

struct retisc_json *ovs_enrich__section(const struct retisc_api *api, const __u32 ufid[4],
					__u64 flow, __u64 sf_acts, const char *dpflow,
					const char *detrace)
{
	struct retisc_json *o = api->json_new_object(), *u = api->json_new_array(),
			   *flows = api->json_new_array();
	int err = o && u && flows ? 0 : -ENOMEM;

	for (int i = 0; i < 4 && !err; i++)
		err = api->json_arr_append(u, api->json_new_u64(ufid[i]));
	/* One OpenFlow flow per line of the detrace. */
	for (const char *l = detrace; !err && l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		struct retisc_json *f = trimmed(api, l, n);

		if (f && !*api->json_get_str(f, NULL))
			api->json_free(f);
		else
			err = api->json_arr_append(flows, f);
		l = nl ? nl + 1 : NULL;
	}
	if (!err) {
		err = api->json_obj_set(o, "ufid", u);
		u = NULL;
	}
	err = err ?: retisc_api__put_u64(api, o, "flow", flow);
	err = err ?: retisc_api__put_u64(api, o, "sf_acts", sf_acts);
	err = err
		      ?: retisc_api__put(
				 api, o, "dpflow",
				 trimmed(api, dpflow ? dpflow : "", dpflow ? strlen(dpflow) : 0));
	if (!err) {
		err = api->json_obj_set(o, "ofpflows", flows);
		flows = NULL;
	}
	api->json_free(u);
	api->json_free(flows);
	if (err) {
		api->json_free(o);
		errno = -err;
		return NULL;
	}
	return o;
}

/* -------------------------------------------------------------------------
 * The unixctl socket.
 */

/* ovs-vswitchd's control socket: <rundir>/ovs-vswitchd.<pid>.ctl, the pid
 * from its pid file; OVS_RUNDIR as OVS's own tools read it. */
static int socket_path(char *path, size_t sz)
{
	const char *dir = getenv("OVS_RUNDIR");
	char pidfile[256];
	long pid = 0;
	FILE *f;

	if (!dir || !*dir)
		dir = "/var/run/openvswitch";
	snprintf(pidfile, sizeof(pidfile), "%s/ovs-vswitchd.pid", dir);
	f = fopen(pidfile, "re");
	if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
		int err = f ? -EINVAL : -errno;

		if (f)
			fclose(f);
		en.api->log(RETISC_LOG_ERROR, "ovs: Failed to connect to OVS via unixctl (%s: %s)",
			    pidfile, strerror(-err));
		return err;
	}
	fclose(f);
	if ((size_t)snprintf(path, sz, "%s/ovs-vswitchd.%ld.ctl", dir, pid) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

static int connect_ctl(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_usec = TIMEOUT_MS * 1000};
	int fd, err;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", en.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	en.fd = fd;
	en.buf_len = 0;
	return 0;
}

/* Send method(args) and wait for its reply (owned by the caller). */
static int call(const char *method, const char *arg1, const char *arg2, struct retisc_json **reply)
{
	struct retisc_json *req = en.api->json_new_object(), *params = en.api->json_new_array();
	struct retisc_strbuf out = {0};
	unsigned int id = en.id++;
	int err = req && params ? 0 : -ENOMEM;

	*reply = NULL;
	if (!err && arg1)
		err = en.api->json_arr_append(params, en.api->json_new_str(arg1));
	if (!err && arg2)
		err = en.api->json_arr_append(params, en.api->json_new_str(arg2));
	err = err ?: retisc_api__put(en.api, req, "method", en.api->json_new_str(method));
	if (!err) {
		err = en.api->json_obj_set(req, "params", params);
		params = NULL;
	}
	err = err ?: retisc_api__put_u64(en.api, req, "id", id);
	err = err ?: en.api->json_dump(req, &out);
	en.api->json_free(req);
	en.api->json_free(params);
	for (size_t off = 0; !err && off < out.len;) {
		ssize_t w = send(en.fd, out.buf + off, out.len - off, MSG_NOSIGNAL);

		if (w < 0)
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
		else
			off += (size_t)w;
	}
	retisc_strbuf__release(&out);
	/* Read until one whole reply is there. */
	while (!err) {
		size_t n = ovs_enrich__frame_len(en.buf, en.buf_len);
		char perr[128];
		ssize_t r;

		if (n) {
			*reply = en.api->json_parse(en.buf, n, perr, sizeof(perr));
			memmove(en.buf, en.buf + n, en.buf_len - n);
			en.buf_len -= n;
			if (!*reply) {
				en.api->log(RETISC_LOG_WARN, "ovs: bad unixctl reply: %s", perr);
				err = -EPROTO;
			}
			break;
		}
		if (en.buf_cap - en.buf_len < 4096) {
			char *b = realloc(en.buf, en.buf_cap + 65536);

			if (!b) {
				err = -ENOMEM;
				break;
			}
			en.buf = b;
			en.buf_cap += 65536;
		}
		r = recv(en.fd, en.buf + en.buf_len, en.buf_cap - en.buf_len, 0);
		if (r < 0)
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
		else if (!r)
			err = -ECONNRESET;
		else
			en.buf_len += (size_t)r;
	}
	/* A late reply would answer the next request: start afresh. */
	if (err && en.fd >= 0) {
		close(en.fd);
		en.fd = -1;
	}
	return err;
}

/* method's result into *text (strdup'ed), or -errno; "" on an error
 * reply, which is logged once per method. */
static int ask(const char *method, const char *arg1, const char *arg2, char **text)
{
	struct retisc_json *reply;
	const char *res, *error;
	int err;

	*text = NULL;
	if (en.fd < 0 && (err = connect_ctl()))
		return err;
	err = call(method, arg1, arg2, &reply);
	if (err)
		return err;
	err = ovs_enrich__reply(en.api, reply, &res, &error);
	*text = strdup(err ? "" : res);
	if (err)
		en.api->log(RETISC_LOG_DEBUG, "ovs: %s %s: %s", method, arg1 ? arg1 : "",
			    error ? error : "malformed reply");
	en.api->json_free(reply);
	return *text ? 0 : -ENOMEM;
}

/* -------------------------------------------------------------------------
 * The enricher thread.
 */

static bool cache_not_found(const char *s)
{
	return !*s || !strncmp(s, "Cache was not found", 19);
}

/* One request: 0 done (or given up), -EAGAIN to retry later. */
static int serve(const struct request *r)
{
	char ufid[64], *dpflow = NULL, *detrace = NULL;
	struct retisc_json *ev, *common, *sec;
	int err;

	ovs_enrich__ufid_str(r->k.ufid, ufid, sizeof(ufid));
	err = ask("dpctl/get-flow", ufid, NULL, &dpflow);
	if (!err && en.detrace)
		err = ask("ofproto/detrace", ufid, "pmd=" PMD_ID_NULL, &detrace);
	if (err) {
		en.api->log(RETISC_LOG_WARN, "ovs: flow enrichment of %s: %s", ufid,
			    strerror(-err));
		goto out;
	}
	/* The flow is not in ovs-vswitchd's caches yet (it is being installed). */
	if (cache_not_found(dpflow) || (en.detrace && cache_not_found(detrace))) {
		err = -EAGAIN;
		goto out;
	}
	sec = ovs_enrich__section(en.api, r->k.ufid, r->k.flow, r->k.sf_acts, dpflow, detrace);
	ev = en.api->json_new_object();
	common = en.api->json_new_object();
	if (!sec || !ev || !common || retisc_api__put_u64(en.api, common, "timestamp", now_ns()) ||
	    en.api->json_obj_set(ev, "common", common)) {
		en.api->json_free(sec);
		en.api->json_free(ev);
		en.api->json_free(common);
		err = -ENOMEM;
		goto out;
	}
	if (en.api->json_obj_set(ev, "ovs-detrace", sec)) {
		en.api->json_free(ev);
		err = -ENOMEM;
		goto out;
	}
	err = en.api->event_emit(ev);
	if (err && err != -EAGAIN)
		en.api->log(RETISC_LOG_WARN, "ovs: cannot emit the enrichment of %s: %s", ufid,
			    strerror(-err));
	err = 0;
out:
	free(dpflow);
	free(detrace);
	return err;
}

static void *enricher(void *arg)
{
	__u64 period = 1000000000ULL / en.rate, next = 0;

	(void)arg;
	pthread_mutex_lock(&en.lock);
	while (!en.stopping) {
		struct request r;
		struct timespec ts;
		__u64 now = now_ns();

		if (!en.n || now < next) {
			__u64 until = en.n ? next : now + 100000000ULL;
			struct timespec rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			until = (__u64)rt.tv_sec * 1000000000ULL + (__u64)rt.tv_nsec +
				(until - now);
			ts.tv_sec = (time_t)(until / 1000000000ULL);
			ts.tv_nsec = (long)(until % 1000000000ULL);
			pthread_cond_timedwait(&en.cond, &en.lock, &ts);
			continue;
		}
		r = en.queue[en.head];
		en.head = (en.head + 1) % QUEUE_MAX;
		en.n--;
		if (now - r.queued > KEEP_NS) {
			en.api->log(RETISC_LOG_WARN,
				    "ovs: flow enrichment request older than 10 s dropped");
			continue;
		}
		pthread_mutex_unlock(&en.lock);
		next = now + period;
		if (serve(&r) == -EAGAIN) {
			pthread_mutex_lock(&en.lock);
			/* Retried after the others, until it is too old. */
			if (en.n < QUEUE_MAX) {
				en.queue[(en.head + en.n) % QUEUE_MAX] = r;
				en.n++;
			}
			continue;
		}
		pthread_mutex_lock(&en.lock);
	}
	pthread_mutex_unlock(&en.lock);
	return NULL;
}

/* -------------------------------------------------------------------------
 * Lifecycle.
 */

int ovs_enrich__init(const struct retisc_api *api, const struct retisc_collect_env *env)
{
	const char *const *rate = api->env_option(env, "ovs-enrich-rate");
	char *list = NULL, *end;
	unsigned long v;
	int err;

	en.api = api;
	en.on = api->env_option(env, "ovs-enrich-flows") != NULL;
	en.rate = DEFAULT_RATE;
	if (rate) {
		errno = 0;
		v = strtoul(rate[0], &end, 10);
		if (errno || end == rate[0] || *end || !v || v > 1000000) {
			api->log(RETISC_LOG_ERROR,
				 "ovs: --ovs-enrich-rate: '%s' is not a number of requests per "
				 "second (1 to 1000000)",
				 rate[0]);
			return -EINVAL;
		}
		en.rate = (unsigned int)v;
	}
	if (!en.on)
		return 0;
	if (!RETISC_API_HAS(api, event_emit)) {
		api->log(RETISC_LOG_ERROR, "ovs: --ovs-enrich-flows needs a newer retisc core");
		return -EOPNOTSUPP;
	}
	err = socket_path(en.path, sizeof(en.path));
	if (err)
		return err;
	err = connect_ctl();
	if (err) {
		api->log(RETISC_LOG_ERROR, "ovs: Failed to connect to OVS via unixctl (%s: %s)",
			 en.path, strerror(-err));
		return err;
	}
	err = ask("list-commands", NULL, NULL, &list);
	if (err) {
		api->log(RETISC_LOG_ERROR, "ovs: Failed to connect to OVS via unixctl (%s: %s)",
			 en.path, strerror(-err));
		return err;
	}
	en.detrace = ovs_enrich__has_command(list, "ofproto/detrace");
	if (!en.detrace)
		api->log(RETISC_LOG_WARN,
			 "ovs: Running OpenvSwitch does not support "
			 "'ofproto/detrace', only datapath flows will be enriched");
	free(list);
	return 0;
}

int ovs_enrich__start(void)
{
	int err;

	if (!en.on)
		return 0;
	en.stopping = false;
	err = -pthread_create(&en.thread, NULL, enricher, NULL);
	if (err) {
		en.api->log(RETISC_LOG_ERROR, "ovs: cannot start the flow enricher: %s",
			    strerror(-err));
		return err;
	}
	pthread_setname_np(en.thread, "ovs-flow-enrich");
	en.running = true;
	return 0;
}

void ovs_enrich__stop(void)
{
	if (en.running) {
		pthread_mutex_lock(&en.lock);
		en.stopping = true;
		pthread_cond_signal(&en.cond);
		pthread_mutex_unlock(&en.lock);
		pthread_join(en.thread, NULL);
		en.running = false;
	}
	if (en.dropped)
		en.api->log(RETISC_LOG_WARN,
			    "ovs: %lu flow enrichment request(s) dropped (channel full)",
			    en.dropped);
	en.dropped = 0;
	if (en.fd >= 0)
		close(en.fd);
	en.fd = -1;
	free(en.buf);
	en.buf = NULL;
	en.buf_len = en.buf_cap = 0;
	en.n = en.head = en.n_cache = 0;
	en.swept = 0;
	en.on = false;
}

/* Is this flow new (or changed) since it was last asked for? Bus thread:
 * one pass over the cache per flow hit; unused flows are forgotten once a
 * second. */
static bool cache_fresh(const struct flow_key *k, __u64 now)
{
	size_t i, w = 0;

	for (i = 0; i < en.n_cache; i++) {
		struct cached *c = &en.cache[i];
		bool same;

		if (memcmp(c->k.ufid, k->ufid, sizeof(k->ufid)))
			continue;
		/* The same ufid for another flow: a new one to ask about. */
		same = c->k.flow == k->flow && c->k.sf_acts == k->sf_acts;
		c->k = *k;
		c->used = now;
		return !same;
	}
	if (now - en.swept > 1000000000ULL) {
		for (i = 0; i < en.n_cache; i++)
			if (now - en.cache[i].used <= KEEP_NS)
				en.cache[w++] = en.cache[i];
		en.n_cache = w;
		en.swept = now;
	}
	if (en.n_cache < CACHE_MAX)
		en.cache[en.n_cache++] = (struct cached){.k = *k, .used = now};
	return true;
}

void ovs_enrich__on_event(const struct retisc_json *event)
{
	const struct retisc_api *api = en.api;
	const struct retisc_json *ovs, *ufid;
	const char *type;
	struct flow_key k = {0};
	__u64 now = now_ns();
	uint64_t v;

	if (!en.on || !(ovs = api->json_obj_get(event, "ovs")))
		return;
	type = retisc_api__get_str(api, ovs, "event_type", NULL);
	ufid = api->json_obj_get(ovs, "ufid");
	if (!type || strcmp(type, "flow_lookup") || !retisc_api__get_u64(api, ovs, "flow", &v) ||
	    !v || api->json_arr_len(ufid) != 4)
		return;
	k.flow = v;
	if (retisc_api__get_u64(api, ovs, "sf_acts", &v))
		k.sf_acts = v;
	for (size_t i = 0; i < 4; i++)
		if (api->json_get_u64(api->json_arr_get(ufid, i), &v))
			k.ufid[i] = (__u32)v;
	if (!cache_fresh(&k, now))
		return;
	pthread_mutex_lock(&en.lock);
	if (en.n == QUEUE_MAX) {
		pthread_mutex_unlock(&en.lock);
		/* Once, then counted (stop() says how many): not one line per packet. */
		if (!en.dropped++)
			api->log(RETISC_LOG_WARN,
				 "ovs: Flow enrichment channel full, dropping enrichment request");
		return;
	}
	en.queue[(en.head + en.n) % QUEUE_MAX] = (struct request){.k = k, .queued = now};
	en.n++;
	pthread_cond_signal(&en.cond);
	pthread_mutex_unlock(&en.lock);
}
