// SPDX-License-Identifier: GPL-2.0-only
/*
 * nats://HOST:PORT/STREAM as a processor's INPUT (doc/fleet.md §3): a
 * thread pulls the stream through a consumer and writes the records into
 * the pipe the core reads as an events file. What the stream holds at the
 * start is read, then the input ends, as a file would.
 *
 * Order: per run (one collection on one host), by Retisc-Seq, so that a
 * replay after a server outage still reads in collection order; the
 * stream interleaves the hosts as they published. Each run's startup
 * event comes before its events, as in a followed set of split files
 * (doc/files.md §6): print shows each, stats starts a block on each.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nats_int.h"

#ifdef RETISC_HAVE_LIBNATS

#define FETCH_BATCH 512
#define FETCH_WAIT_MS 500

/* A run (one collection on one host) met in the stream. */
struct nrun {
	char run[24];
	struct nats_host_id id; /* from its headers */
	/* by=event: the run's clock offset (its startup event), and the
	 * startup event held back until one of its events is selected. */
	int64_t off;
	bool has_off;
	char *held;
	size_t held_len;
};

struct nsource {
	struct nats_url u;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	struct nats_order *order;
	int fd;
	uint64_t last_seq; /* the stream's last sequence when opened */
	uint64_t pending;  /* what the consumer had to deliver then */
	bool broken;
	/* Runs whose startup event was seen or looked up. */
	struct nrun *runs;
	size_t n_runs;
	uint64_t records, dups, startups;
	pthread_t thread;
	struct nsource *next;
};

/* Sources still reading, joined at fini. Main thread. */
static struct nsource *sources;

static int fd_write(struct nsource *src, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(src->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			src->broken = true;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool is_startup(const char *data, size_t len)
{
	static const char key[] = "\"startup\":{";

	return memmem(data, len, key, sizeof(key) - 1) != NULL;
}

static struct nrun *run_find(struct nsource *src, const char *run)
{
	for (size_t i = 0; i < src->n_runs; i++)
		if (!strcmp(src->runs[i].run, run))
			return &src->runs[i];
	return NULL;
}

static int line_write(struct nsource *src, const char *data, size_t len)
{
	int ret;

	if (is_startup(data, len))
		src->startups++;
	src->records++;
	ret = fd_write(src, data, len);
	return ret ?: fd_write(src, "\n", 1);
}

/* s as a JSON string (the identity comes from headers: anything goes). */
static void json_str(char *out, size_t sz, const char *s)
{
	size_t n = 0;

	out[n++] = '"';
	for (; *s && n + 8 < sz; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, sz - n, "\\%c", ch);
		else if (ch < 0x20)
			n += (size_t)snprintf(out + n, sz - n, "\\u%04x", ch);
		else
			out[n++] = (char)ch;
	}
	out[n++] = '"';
	out[n] = '\0';
}

/*
 * annotate=1: a `fleet` section with the run's identity from its headers
 * (doc/fleet.md §3) on the startup event, and the run alone on the others,
 * so that a processor reading one stream, where runs interleave, can split
 * it by host (stitch does). A new allocation, or NULL.
 */
static char *record_annotate(const struct nrun *r, bool startup, const char *data, size_t len,
			     size_t *out_len)
{
	char host[600], mid[150], boot[150], run[60], *buf;
	size_t cap;
	int n;

	while (len && data[len - 1] != '}')
		len--;
	if (!len)
		return NULL;
	json_str(host, sizeof(host), r->id.host);
	json_str(mid, sizeof(mid), r->id.machine);
	json_str(boot, sizeof(boot), r->id.boot);
	json_str(run, sizeof(run), r->run);
	cap = len + 100 + strlen(host) + strlen(mid) + strlen(boot) + strlen(run);
	buf = malloc(cap);
	if (!buf)
		return NULL;
	memcpy(buf, data, len - 1);
	if (startup)
		n = snprintf(
			buf + len - 1, cap - (len - 1),
			",\"fleet\":{\"host\":%s,\"machine_id\":%s,\"boot_id\":%s,\"run\":%s}}",
			host, mid, boot, run);
	else
		n = snprintf(buf + len - 1, cap - (len - 1), ",\"fleet\":{\"run\":%s}}", run);
	*out_len = len - 1 + (size_t)n;
	return buf;
}

/* An i64 at path a.b (b NULL: a) of a JSON object line; false when absent. */
static bool line_i64(const char *data, size_t len, const char *a, const char *b, const char *c,
		     int64_t *out)
{
	struct retisc_json *j = nats_api->json_parse(data, len, NULL, 0);
	const struct retisc_json *v = j ? nats_api->json_obj_get(j, a) : NULL;
	bool ok;

	if (v && b)
		v = nats_api->json_obj_get(v, b);
	if (v && c)
		v = nats_api->json_obj_get(v, c);
	ok = v && nats_api->json_get_i64(v, out);
	nats_api->json_free(j);
	return ok;
}

/*
 * by=event: whether an event is inside since/until by its own time, the
 * event's monotonic timestamp plus its run's startup offset (the host's
 * wall clock when the run started). An event without a timestamp, or of
 * a run whose startup event is gone, stays: its time is not known.
 */
static bool event_selected(const struct nsource *src, const struct nrun *r, const char *data,
			   size_t len)
{
	int64_t ts;

	if (!r || !r->has_off || !line_i64(data, len, "common", "timestamp", NULL, &ts))
		return true;
	ts += r->off;
	return !(src->u.has_since && ts < src->u.since_ns) &&
	       !(src->u.has_until && ts > src->u.until_ns);
}

/* Ordered records go out as lines. */
static int emit(void *priv, const char *run, const char *data, size_t len)
{
	struct nsource *src = priv;
	struct nrun *r = run_find(src, run);
	int64_t sec = 0, nsec = 0;
	char *ann = NULL;
	int ret;

	if (is_startup(data, len)) {
		if (src->u.annotate && r) {
			ann = record_annotate(r, true, data, len, &len);
			if (!ann)
				return -ENOMEM;
			data = ann;
		}
		if (!src->u.by_event || !r) {
			ret = line_write(src, data, len);
			free(ann);
			return ret;
		}
		/* Held until one of the run's events is selected: a run
		 * wholly outside since/until does not show. */
		line_i64(data, len, "startup", "clock_monotonic_offset", "sec", &sec);
		line_i64(data, len, "startup", "clock_monotonic_offset", "nsec", &nsec);
		r->off = sec * 1000000000LL + nsec;
		r->has_off = true;
		free(r->held);
		r->held = ann ? ann : malloc(len ? len : 1);
		if (!r->held)
			return -ENOMEM;
		if (!ann)
			memcpy(r->held, data, len);
		r->held_len = len;
		return 0;
	}
	if (src->u.by_event) {
		if (!event_selected(src, r, data, len))
			return 0;
		if (r && r->held) {
			ret = line_write(src, r->held, r->held_len);
			free(r->held);
			r->held = NULL;
			if (ret)
				return ret;
		}
	}
	if (src->u.annotate && r) {
		ann = record_annotate(r, false, data, len, &len);
		if (!ann)
			return -ENOMEM;
		data = ann;
	}
	ret = line_write(src, data, len);
	free(ann);
	return ret;
}

/*
 * A run first met past its start (since=, or a durable consumer going on):
 * its startup event is looked up on its own subject (publish.c) and
 * offered first.
 */
static int run_startup(struct nsource *src, natsMsg *m, const char *run, uint64_t seq)
{
	const char *s, *hdr;
	char subj[320];
	natsMsg *st = NULL;
	struct nrun *v;
	int ret = 0;

	if (run_find(src, run))
		return 0;
	v = realloc(src->runs, (src->n_runs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	src->runs = v;
	v = &src->runs[src->n_runs++];
	memset(v, 0, sizeof(*v));
	snprintf(v->run, sizeof(v->run), "%s", run);
	/* Every message of a run has the same identity headers (publish.c). */
	hdr = NULL;
	natsMsgHeader_Get(m, "Retisc-Host", &hdr);
	snprintf(v->id.host, sizeof(v->id.host), "%s", hdr ? hdr : "unknown");
	hdr = NULL;
	natsMsgHeader_Get(m, "Retisc-Machine-Id", &hdr);
	snprintf(v->id.machine, sizeof(v->id.machine), "%s", hdr ? hdr : "unknown");
	hdr = NULL;
	natsMsgHeader_Get(m, "Retisc-Boot-Id", &hdr);
	snprintf(v->id.boot, sizeof(v->id.boot), "%s", hdr ? hdr : "unknown");
	s = natsMsg_GetSubject(m);
	if (seq == 1 || strstr(s, ".startup."))
		return 0; /* it is the startup event itself */
	snprintf(subj, sizeof(subj), "%s.startup.%s", s, run);
	if (js_GetLastMsg(&st, src->js, src->u.name, subj, NULL, NULL) == NATS_OK) {
		ret = nats_order__push(src->order, run, 1, natsMsg_GetData(st),
				       (size_t)natsMsg_GetDataLength(st), emit, src);
		natsMsg_Destroy(st);
		/* What came before m is outside the selection, not missing. */
		if (ret >= 0 && seq > 2)
			ret = nats_order__skip_to(src->order, run, seq);
	} else {
		nats_log(RETISC_LOG_WARN, "%s: the startup event of run %s (%s) is gone",
			 src->u.server, run, subj);
	}
	return ret < 0 ? ret : 0;
}

/* One message: 1 to go on, 0 at the end (until=), -errno. */
static int source_msg(struct nsource *src, natsMsg *m, uint64_t *stream_seq, uint64_t *pending)
{
	const char *run = NULL, *seq_s = NULL, *host = NULL;
	jsMsgMetaData *md = NULL;
	int ret;

	if (natsMsg_GetMetaData(&md, m) != NATS_OK)
		return -EPROTO;
	*stream_seq = md->Sequence.Stream;
	*pending = md->NumPending;
	/* By event time, a later store time says nothing (replays). */
	if (src->u.has_until && !src->u.by_event && md->Timestamp > src->u.until_ns) {
		jsMsgMetaData_Destroy(md);
		return 0;
	}
	jsMsgMetaData_Destroy(md);
	natsMsgHeader_Get(m, "Retisc-Run", &run);
	natsMsgHeader_Get(m, "Retisc-Seq", &seq_s);
	natsMsgHeader_Get(m, "Retisc-Host", &host);
	if (!run || !seq_s) {
		nats_log(RETISC_LOG_WARN,
			 "%s: stream %s, message %" PRIu64 " has no Retisc-Run/Retisc-Seq: skipped",
			 src->u.server, src->u.name, *stream_seq);
		return 1;
	}
	if (src->u.host[0] && (!host || strcmp(host, src->u.host)))
		return 1;
	ret = run_startup(src, m, run, strtoull(seq_s, NULL, 10));
	if (!ret)
		ret = nats_order__push(src->order, run, strtoull(seq_s, NULL, 10),
				       natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), emit,
				       src);
	if (ret == 1)
		src->dups++;
	return ret < 0 ? ret : 1;
}

static void *source_main(void *arg)
{
	struct nsource *src = arg;
	uint64_t gaps = 0, seq = 0, pending = src->pending;
	bool more = src->pending > 0;
	jsErrCode jerr = 0;

	while (more && !src->broken) {
		natsMsgList list = {0};
		natsStatus st =
			natsSubscription_Fetch(&list, src->sub, FETCH_BATCH, FETCH_WAIT_MS, &jerr);

		if (st == NATS_TIMEOUT)
			break; /* nothing more arrived: the end */
		if (st != NATS_OK) {
			nats_log(RETISC_LOG_ERROR, "%s: stream %s: %s", src->u.server, src->u.name,
				 natsStatus_GetText(st));
			break;
		}
		for (int i = 0; i < list.Count && more; i++) {
			int ret = source_msg(src, list.Msgs[i], &seq, &pending);

			if (ret <= 0 || !pending || seq >= src->last_seq)
				more = false;
			if (ret < 0 && ret != -EPIPE)
				nats_log(RETISC_LOG_ERROR, "%s: stream %s: %s", src->u.server,
					 src->u.name, strerror(-ret));
		}
		/* A durable consumer acknowledges what was read (ack-all). */
		if (src->u.durable[0] && list.Count)
			natsMsg_Ack(list.Msgs[list.Count - 1], NULL);
		natsMsgList_Destroy(&list);
	}
	if (!src->broken)
		nats_order__finish(src->order, emit, src, &gaps);
	if (!src->records && !src->broken)
		nats_log(RETISC_LOG_WARN,
			 "%s: stream %s: nothing to read (empty, or nothing left for this "
			 "selection or durable consumer)",
			 src->u.server, src->u.name);
	if (gaps)
		nats_log(RETISC_LOG_WARN,
			 "%s: stream %s: %" PRIu64 " record(s) missing in the runs read",
			 src->u.server, src->u.name, gaps);
	nats_log(RETISC_LOG_DEBUG,
		 "%s: stream %s: %" PRIu64 " record(s) (%" PRIu64 " run(s)), %" PRIu64
		 " duplicate(s) left out",
		 src->u.server, src->u.name, src->records, src->startups, src->dups);
	close(src->fd);
	src->fd = -1;
	return NULL;
}

static void source_free(struct nsource *src)
{
	if (!src)
		return;
	natsSubscription_Destroy(src->sub);
	jsCtx_Destroy(src->js);
	natsConnection_Destroy(src->nc);
	natsOptions_Destroy(src->opts);
	nats_order__free(src->order);
	if (src->fd >= 0)
		close(src->fd);
	for (size_t i = 0; i < src->n_runs; i++)
		free(src->runs[i].held);
	free(src->runs);
	free(src);
}

int nats_source_open(void *priv, const char *url, int fd, char *err, size_t errsz)
{
	jsConsumerConfig cc;
	jsSubOptions so;
	jsStreamInfo *si = NULL;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	struct nsource *src;
	char why[256];
	natsStatus st;
	int ret;

	(void)priv;
	src = calloc(1, sizeof(*src));
	if (!src) {
		close(fd);
		snprintf(err, errsz, "%s: %s", url, strerror(ENOMEM));
		return -ENOMEM;
	}
	src->fd = fd;
	ret = nats_url__parse(url, true, &src->u, why, sizeof(why));
	if (ret) {
		snprintf(err, errsz, "%s: %s", url, why);
		goto fail;
	}
	src->order = nats_order__new();
	ret = src->order ? nats_conn_options(&src->u, &src->opts) : -ENOMEM;
	if (ret) {
		snprintf(err, errsz, "%s: cannot set up the connection", url);
		goto fail;
	}
	st = natsConnection_Connect(&src->nc, src->opts);
	if (st == NATS_OK)
		st = natsConnection_JetStream(&src->js, src->nc, NULL);
	if (st != NATS_OK) {
		snprintf(err, errsz, "%s: cannot connect: %s", url, natsStatus_GetText(st));
		ret = -ECONNREFUSED;
		goto fail;
	}
	st = js_GetStreamInfo(&si, src->js, src->u.name, NULL, &jerr);
	if (st != NATS_OK) {
		snprintf(err, errsz, "%s: no stream %s (%s)", url, src->u.name,
			 natsStatus_GetText(st));
		ret = -ENOENT;
		goto fail;
	}
	src->last_seq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);

	/* The consumer first, without a subject filter (the stream's
	 * subjects, startup subjects included), then bound to. */
	jsConsumerConfig_Init(&cc);
	if (src->u.durable[0]) {
		cc.Durable = src->u.durable;
		cc.AckPolicy = js_AckAll;
	} else {
		cc.AckPolicy = js_AckNone;
	}
	/* By event time, the whole stream is read: event times are the hosts'
	 * clocks, store times the server's, and a replay is stored long after
	 * its events. */
	if (src->u.has_since && !src->u.by_event) {
		cc.DeliverPolicy = js_DeliverByStartTime;
		cc.OptStartTime = src->u.since_ns;
	}
	st = js_AddConsumer(&ci, src->js, src->u.name, &cc, NULL, &jerr);
	/* A durable consumer that exists goes on where it stopped. */
	if (st != NATS_OK && src->u.durable[0] && jerr == JSConsumerNameExistErr)
		st = js_GetConsumerInfo(&ci, src->js, src->u.name, src->u.durable, NULL, &jerr);
	if (st == NATS_OK) {
		jsSubOptions_Init(&so);
		so.Stream = src->u.name;
		so.Consumer = ci->Name;
		st = js_PullSubscribe(&src->sub, src->js, NULL, NULL, NULL, &so, &jerr);
	}
	if (st != NATS_OK) {
		snprintf(err, errsz, "%s: cannot read stream %s: %s (error %d)", url, src->u.name,
			 natsStatus_GetText(st), (int)jerr);
		jsConsumerInfo_Destroy(ci);
		ret = -EIO;
		goto fail;
	}
	src->pending = ci->NumPending;
	jsConsumerInfo_Destroy(ci);
	if (pthread_create(&src->thread, NULL, source_main, src)) {
		snprintf(err, errsz, "%s: %s", url, strerror(EAGAIN));
		ret = -EAGAIN;
		goto fail;
	}
	src->next = sources;
	sources = src;
	return 0;
fail:
	source_free(src);
	return ret;
}

void nats_source_fini(void)
{
	while (sources) {
		struct nsource *src = sources;

		sources = src->next;
		pthread_join(src->thread, NULL);
		source_free(src);
	}
}

#endif /* RETISC_HAVE_LIBNATS */
