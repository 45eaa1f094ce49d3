// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc collect --sink nats://HOST:PORT/SUBJECT` (doc/fleet.md §1-§2).
 *
 * Every record goes through a spool file first: the bus thread appends it
 * (write() never waits for the network), a publisher thread reads the file
 * in order and publishes asynchronously, and the acknowledged prefix of
 * the file is released (hole punched). While the server is away the file
 * grows, up to its bound; past the bound new records are dropped and
 * counted. After a failure (lost connection, an error or a timed-out
 * acknowledgement) the publisher waits for its in-flight messages to
 * settle, then starts again from the first record not acknowledged: the
 * same message ids (Nats-Msg-Id: run and sequence number) let JetStream
 * drop what it had already stored, so every record is stored once and in
 * order.
 */
#include "nats_int.h"

#ifdef RETISC_HAVE_LIBNATS
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <retisc/strbuf.h>

/* Defaults: spool bound, in-flight window, ack timeout, drain at exit. */
#define SPOOL_MAX_DEFAULT (256ull << 20)
#define MAX_INFLIGHT 4096
#define ACK_WAIT_MS 5000
#define DRAIN_MS_DEFAULT 15000
/* Bus-side buffer: written to the spool at this size, or when idle. */
#define WBUF_CHUNK (64 * 1024)
/* A record in the spool: u32 length, u64 sequence number, the line. */
#define REC_HDR 12
/* Acknowledged bytes released from the spool in steps of this size. */
#define PUNCH_STEP (1u << 20)

struct inflight {
	uint64_t seq;
	uint64_t end; /* spool offset after the record */
	int state;    /* 0 waiting, 1 acked, -1 failed */
};

struct nsink {
	struct nats_url u;
	struct nats_host_id id;
	char run[17];
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	int spool_fd;
	uint64_t spool_max;

	/* Bus thread only. */
	struct retisc_strbuf wbuf;
	uint64_t next_seq; /* last sequence number given */
	uint64_t bus_off;  /* spool offset after wbuf */
	uint64_t dropped;  /* spool full */

	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* [mu] */
	uint64_t file_off; /* written to the spool file */
	uint64_t file_seq; /* last sequence number in the file */
	uint64_t ack_off;  /* acknowledged prefix of the spool */
	uint64_t ack_seq;
	atomic_uint_least64_t ack_off_pub; /* ack_off, read by the bus unlocked */
	uint64_t read_off;		   /* next record to publish */
	uint64_t high_seq;		   /* highest sequence number ever published */
	struct inflight *fl;
	size_t fl_head, fl_n; /* ring of MAX_INFLIGHT */
	size_t fl_waiting;    /* entries still waiting for their ack */
	bool failed, closing, stream_ready, give_up;
	uint64_t delivered, replayed, punched;
	/* After an outage, records before this offset were waiting. */
	uint64_t replay_until;
	uint64_t failures;
	char last_err[128];

	pthread_t thread;
	bool thread_started;
	uint64_t opened_ms;
	char auth_err[128]; /* [mu] from on_error() */
	/* Publisher-side read buffer. */
	char *rbuf;
	size_t rbuf_sz;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cond_wait_ms(struct nsink *s, unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(&s->cond, &s->mu, &ts);
}

static bool connected(struct nsink *s)
{
	return natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* [mu] Settle the front of the in-flight ring: the acknowledged prefix. */
static void inflight_advance(struct nsink *s)
{
	while (s->fl_n && s->fl[s->fl_head].state == 1) {
		s->ack_off = s->fl[s->fl_head].end;
		s->ack_seq = s->fl[s->fl_head].seq;
		s->delivered++;
		s->fl_head = (s->fl_head + 1) % MAX_INFLIGHT;
		s->fl_n--;
	}
	atomic_store(&s->ack_off_pub, s->ack_off);
}

/* [mu] The in-flight entry of seq, or NULL (a late ack after a restart). */
static struct inflight *inflight_find(struct nsink *s, uint64_t seq)
{
	if (!s->fl_n)
		return NULL;
	uint64_t first = s->fl[s->fl_head].seq;

	if (seq < first || seq - first >= s->fl_n)
		return NULL;
	return &s->fl[(s->fl_head + (seq - first)) % MAX_INFLIGHT];
}

/* libnats thread: one acknowledgement, positive or not, per message. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct nsink *s = closure;
	const char *seq_s = NULL;
	struct inflight *f;

	(void)js;
	natsMsgHeader_Get(msg, "Retisc-Seq", &seq_s);
	pthread_mutex_lock(&s->mu);
	f = seq_s ? inflight_find(s, strtoull(seq_s, NULL, 10)) : NULL;
	if (f && f->state == 0) {
		f->state = pa ? 1 : -1;
		s->fl_waiting--;
		if (!pa) {
			s->failed = true;
			s->failures++;
			snprintf(s->last_err, sizeof(s->last_err), "%s%s%s",
				 natsStatus_GetText(pae->Err),
				 pae->ErrText && strcmp(pae->ErrText, natsStatus_GetText(pae->Err))
					 ? ": "
					 : "",
				 pae->ErrText && strcmp(pae->ErrText, natsStatus_GetText(pae->Err))
					 ? pae->ErrText
					 : "");
			/* No stream takes the subject any more: create it again. */
			if (pae->Err == NATS_NO_RESPONDERS)
				s->stream_ready = false;
		}
		inflight_advance(s);
	}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	natsMsg_Destroy(msg);
}

static void on_disconnect(natsConnection *nc, void *closure)
{
	struct nsink *s = closure;

	(void)nc;
	pthread_mutex_lock(&s->mu);
	s->failed = true;
	snprintf(s->last_err, sizeof(s->last_err), "disconnected");
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

/* Asynchronous errors (an authorisation refused at a reconnection):
 * kept as the reason of the outage. */
static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
	struct nsink *s = closure;
	const char *why = NULL;

	(void)sub;
	natsConnection_GetLastError(nc, &why);
	pthread_mutex_lock(&s->mu);
	snprintf(s->auth_err, sizeof(s->auth_err), "%s",
		 why && *why ? why : natsStatus_GetText(err));
	pthread_mutex_unlock(&s->mu);
}

static void on_reconnect(natsConnection *nc, void *closure)
{
	struct nsink *s = closure;

	(void)nc;
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

/*
 * The stream that captures the subject: used as it is when it exists
 * (an operator may have set its retention and replicas), else created
 * with file storage and a de-duplication window long enough to cover a
 * server restart (doc/fleet.md §1). Without mu.
 */
static int stream_ensure(struct nsink *s)
{
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	const char *subjects[2];
	char wild[300];
	natsStatus st;

	st = js_GetStreamInfo(&si, s->js, s->u.stream, NULL, &jerr);
	if (st == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (jerr != JSStreamNotFoundErr && st != NATS_NOT_FOUND)
		return -EAGAIN;
	jsStreamConfig_Init(&cfg);
	cfg.Name = s->u.stream;
	snprintf(wild, sizeof(wild), "%s.>", s->u.name);
	subjects[0] = s->u.name;
	subjects[1] = wild;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 2;
	cfg.Storage = js_FileStorage;
	cfg.Duplicates = 10LL * 60 * 1000000000; /* 10 minutes */
	st = js_AddStream(&si, s->js, &cfg, NULL, &jerr);
	if (st != NATS_OK && jerr != JSStreamNameExistErr) {
		nats_log(RETISC_LOG_WARN, "%s: cannot create stream %s for %s: %s (error %d)",
			 s->u.server, s->u.stream, s->u.name, natsStatus_GetText(st), (int)jerr);
		return -EIO;
	}
	jsStreamInfo_Destroy(si);
	nats_log(RETISC_LOG_INFO, "%s: created stream %s (subjects %s, %s)", s->u.server,
		 s->u.stream, s->u.name, wild);
	return 0;
}

/* The next record at off: 1 with it, 0 when none is complete in the
 * file yet, -errno. Publisher thread, without mu. */
static int spool_read(struct nsink *s, uint64_t off, uint64_t file_off, uint64_t *seq,
		      const char **line, uint32_t *len)
{
	uint32_t n;
	ssize_t r;

	if (file_off - off < REC_HDR)
		return 0;
	if (pread(s->spool_fd, &n, sizeof(n), (off_t)off) != sizeof(n))
		return -EIO;
	if (REC_HDR + (uint64_t)n > file_off - off)
		return -EIO;
	if (s->rbuf_sz < REC_HDR + (size_t)n) {
		char *b = realloc(s->rbuf, REC_HDR + (size_t)n);

		if (!b)
			return -ENOMEM;
		s->rbuf = b;
		s->rbuf_sz = REC_HDR + (size_t)n;
	}
	r = pread(s->spool_fd, s->rbuf, REC_HDR + (size_t)n, (off_t)off);
	if (r != (ssize_t)(REC_HDR + n))
		return -EIO;
	memcpy(seq, s->rbuf + 4, sizeof(*seq));
	*line = s->rbuf + REC_HDR;
	*len = n;
	return 1;
}

static natsStatus publish_one(struct nsink *s, uint64_t seq, const char *line, uint32_t len)
{
	jsPubOptions po;
	natsMsg *m = NULL;
	char seq_s[24], msgid[48], subj[300];
	natsStatus st;

	snprintf(seq_s, sizeof(seq_s), "%" PRIu64, seq);
	snprintf(msgid, sizeof(msgid), "%s-%" PRIu64, s->run, seq);
	/* The startup event (sequence 1) has a subject of its run's own, so
	 * that a reader starting later in the stream finds it
	 * (source.c). */
	if (seq == 1)
		snprintf(subj, sizeof(subj), "%s.startup.%s", s->u.name, s->run);
	st = natsMsg_Create(&m, seq == 1 ? subj : s->u.name, NULL, line, (int)len);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Retisc-Host", s->id.host);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Retisc-Machine-Id", s->id.machine);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Retisc-Boot-Id", s->id.boot);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Retisc-Run", s->run);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Retisc-Seq", seq_s);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT_MS;
	if (st == NATS_OK)
		st = js_PublishMsgAsync(s->js, &m, &po);
	natsMsg_Destroy(m);
	return st;
}

/* Release the acknowledged part of the spool to the file system. [mu] */
static void spool_punch(struct nsink *s)
{
	uint64_t to = s->ack_off & ~((uint64_t)PUNCH_STEP - 1);

	if (to <= s->punched)
		return;
	if (!fallocate(s->spool_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)s->punched,
		       (off_t)(to - s->punched)))
		s->punched = to;
}

/*
 * [mu] Say once per outage that events spool, with the client's reason
 * (refused, authorisation, TLS) once it has one, or after a second
 * without. True once said.
 */
static bool unreachable(struct nsink *s)
{
	const char *why = NULL;
	natsStatus st = natsConnection_GetLastError(s->nc, &why);

	if (s->auth_err[0])
		snprintf(s->last_err, sizeof(s->last_err), "%s", s->auth_err);
	else if (st != NATS_OK && why && *why)
		snprintf(s->last_err, sizeof(s->last_err), "%s", why);
	else if (now_ms() - s->opened_ms < 1000)
		return false;
	nats_log(RETISC_LOG_WARN, "%s: server unreachable (%s); spooling events", s->u.server,
		 s->last_err[0] ? s->last_err : "no answer");
	return true;
}

static void *publisher_main(void *arg)
{
	struct nsink *s = arg;
	uint64_t deadline = 0;
	bool warned = false;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t seq, off, file_off;
		const char *line;
		uint32_t len;
		natsStatus st;
		int ret;

		if (s->closing) {
			if (s->ack_off == s->file_off && !s->fl_waiting)
				break;
			if (!deadline) {
				const char *e = getenv("RETISC_NATS_DRAIN_MS");

				deadline =
					now_ms() + (e ? strtoull(e, NULL, 10) : DRAIN_MS_DEFAULT);
			}
			if (now_ms() >= deadline) {
				s->give_up = true;
				break;
			}
		}
		if (s->failed) {
			/* Restart from the first unacknowledged record once
			 * every message in flight has settled. */
			if (s->fl_waiting || !connected(s)) {
				if (!warned && !connected(s))
					warned = unreachable(s);
				cond_wait_ms(s, 50);
				continue;
			}
			/* What settled after the first failure is sent again:
			 * the server drops the copies it stored (Nats-Msg-Id). */
			s->fl_n = 0;
			s->read_off = s->ack_off;
			s->failed = false;
			s->replay_until = s->file_off;
		}
		if (!connected(s) || !s->stream_ready) {
			if (connected(s)) {
				pthread_mutex_unlock(&s->mu);
				ret = stream_ensure(s);
				pthread_mutex_lock(&s->mu);
				if (!ret) {
					s->stream_ready = true;
					if (warned)
						s->replay_until = s->file_off;
					if (warned)
						nats_log(RETISC_LOG_INFO,
							 "%s: connected; replaying the spool",
							 s->u.server);
					warned = false;
					continue;
				}
				if (!warned)
					warned = unreachable(s);
			} else if (!warned) {
				warned = unreachable(s);
			}
			cond_wait_ms(s, 50);
			continue;
		}
		if (s->read_off >= s->file_off || s->fl_n == MAX_INFLIGHT) {
			spool_punch(s);
			cond_wait_ms(s, 50);
			continue;
		}
		off = s->read_off;
		file_off = s->file_off;
		pthread_mutex_unlock(&s->mu);
		ret = spool_read(s, off, file_off, &seq, &line, &len);
		pthread_mutex_lock(&s->mu);
		if (ret <= 0) {
			if (ret < 0) {
				snprintf(s->last_err, sizeof(s->last_err), "spool: %s",
					 strerror(-ret));
				s->give_up = true;
				break;
			}
			continue;
		}
		/* Register first: the acknowledgement may come back before
		 * js_PublishMsgAsync() returns. */
		s->fl[(s->fl_head + s->fl_n) % MAX_INFLIGHT] =
			(struct inflight){.seq = seq, .end = off + REC_HDR + len};
		s->fl_n++;
		s->fl_waiting++;
		s->read_off = off + REC_HDR + len;
		/* Sent again, or held back by an outage: replayed. */
		if (seq <= s->high_seq || off < s->replay_until)
			s->replayed++;
		if (seq > s->high_seq)
			s->high_seq = seq;
		pthread_mutex_unlock(&s->mu);
		st = publish_one(s, seq, line, len);
		pthread_mutex_lock(&s->mu);
		if (st != NATS_OK) {
			struct inflight *f = inflight_find(s, seq);

			/* Not taken by the library: no acknowledgement will
			 * come for it. */
			if (f && f->state == 0) {
				f->state = -1;
				s->fl_waiting--;
			}
			s->failed = true;
			snprintf(s->last_err, sizeof(s->last_err), "%s", natsStatus_GetText(st));
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int spool_create(struct nsink *s)
{
	const char *dir = getenv("RETISC_NATS_SPOOL_DIR");

	if (!dir || !*dir)
		dir = "/var/tmp";
	/* Unnamed: nothing is left behind however the collection ends. */
	s->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->spool_fd < 0) {
		nats_log(RETISC_LOG_ERROR, "Cannot create a spool file in %s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static void sink_free(struct nsink *s)
{
	if (!s)
		return;
	if (s->nc)
		natsConnection_Destroy(s->nc);
	jsCtx_Destroy(s->js);
	natsOptions_Destroy(s->opts);
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	retisc_strbuf__release(&s->wbuf);
	free(s->fl);
	free(s->rbuf);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s);
}

int nats_sink_open(void *priv, const char *url, void **out)
{
	pthread_condattr_t ca;
	struct nsink *s;
	jsOptions jo;
	uint64_t rnd = 0;
	natsStatus st;
	char err[256];
	int ret;

	(void)priv;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->spool_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = nats_url__parse(url, false, &s->u, err, sizeof(err));
	if (ret) {
		nats_log(RETISC_LOG_ERROR, "--sink %s: %s", url, err);
		goto fail;
	}
	s->spool_max = s->u.spool_max ?: SPOOL_MAX_DEFAULT;
	nats_host_id__read(&s->id);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = ((uint64_t)getpid() << 32) ^ now_ms();
	snprintf(s->run, sizeof(s->run), "%016" PRIx64, rnd);
	s->fl = calloc(MAX_INFLIGHT, sizeof(*s->fl));
	ret = s->fl ? spool_create(s) : -ENOMEM;
	if (ret)
		goto fail;
	ret = nats_conn_options(&s->u, &s->opts);
	if (ret)
		goto fail;
	/* Keep trying: a server that is down at start is spooled for. With
	 * a callback the first connection is made in the background
	 * (without one, Connect() would block until it succeeds). */
	st = natsOptions_SetRetryOnFailedConnect(s->opts, true, on_reconnect, s);
	if (st == NATS_OK)
		st = natsOptions_SetMaxReconnect(s->opts, -1);
	if (st == NATS_OK)
		st = natsOptions_SetReconnectWait(s->opts, 250);
	if (st == NATS_OK)
		st = natsOptions_SetDisconnectedCB(s->opts, on_disconnect, s);
	if (st == NATS_OK)
		st = natsOptions_SetReconnectedCB(s->opts, on_reconnect, s);
	if (st == NATS_OK)
		st = natsOptions_SetErrorHandler(s->opts, on_error, s);
	if (st == NATS_OK) {
		st = natsConnection_Connect(&s->nc, s->opts);
		if (st == NATS_NOT_YET_CONNECTED)
			st = NATS_OK;
	}
	if (st == NATS_OK) {
		jsOptions_Init(&jo);
		jo.PublishAsync.MaxPending = MAX_INFLIGHT;
		jo.PublishAsync.AckHandler = on_ack;
		jo.PublishAsync.AckHandlerClosure = s;
		st = natsConnection_JetStream(&s->js, s->nc, &jo);
	}
	if (st != NATS_OK) {
		nats_log(RETISC_LOG_ERROR, "--sink %s: %s", url, natsStatus_GetText(st));
		ret = -EIO;
		goto fail;
	}
	s->opened_ms = now_ms();
	if (pthread_create(&s->thread, NULL, publisher_main, s)) {
		ret = -EAGAIN;
		goto fail;
	}
	s->thread_started = true;
	nats_log(RETISC_LOG_DEBUG, "sink %s: host %s, run %s, stream %s", url, s->id.host, s->run,
		 s->u.stream);
	*out = s;
	return 0;
fail:
	sink_free(s);
	return ret;
}

/* Hand the buffered records to the publisher. Bus thread. */
static int wbuf_flush(struct nsink *s)
{
	size_t done = 0;

	while (done < s->wbuf.len) {
		ssize_t n = pwrite(s->spool_fd, s->wbuf.buf + done, s->wbuf.len - done,
				   (off_t)(s->bus_off - s->wbuf.len + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			nats_log(RETISC_LOG_ERROR, "Cannot write the NATS spool: %s",
				 strerror(errno));
			return -errno;
		}
		done += (size_t)n;
	}
	if (!s->wbuf.len)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->file_off = s->bus_off;
	s->file_seq = s->next_seq;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	retisc_strbuf__reset(&s->wbuf);
	return 0;
}

int nats_sink_write(void *sink, const struct retisc_sink_record *rec)
{
	struct nsink *s = sink;
	uint32_t len = (uint32_t)rec->len;
	uint64_t seq;

	/* The bound counts what is not acknowledged yet; the startup event
	 * always fits, readers need it (source.c). */
	if (rec->kind != RETISC_SINK_STARTUP &&
	    s->bus_off + REC_HDR + len - atomic_load(&s->ack_off_pub) > s->spool_max) {
		s->dropped++;
		return 0;
	}
	seq = ++s->next_seq;
	if (retisc_strbuf__append(&s->wbuf, (const char *)&len, sizeof(len)) ||
	    retisc_strbuf__append(&s->wbuf, (const char *)&seq, sizeof(seq)) ||
	    retisc_strbuf__append(&s->wbuf, rec->line, rec->len))
		return -ENOMEM;
	s->bus_off += REC_HDR + len;
	return s->wbuf.len >= WBUF_CHUNK ? wbuf_flush(s) : 0;
}

int nats_sink_flush(void *sink)
{
	return wbuf_flush(sink);
}

int nats_sink_close(void *sink, struct retisc_sink_report *rep)
{
	struct nsink *s = sink;
	uint64_t lost;
	int ret;

	ret = wbuf_flush(s);
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	if (s->js && connected(s)) {
		jsPubOptions po;

		/* Late acknowledgements still count. */
		jsPubOptions_Init(&po);
		po.MaxWait = 1000;
		js_PublishAsyncComplete(s->js, &po);
	}
	pthread_mutex_lock(&s->mu);
	/* In the file but never acknowledged: lost with the process. */
	lost = s->file_seq - s->ack_seq;
	rep->delivered = s->delivered;
	rep->replayed = s->replayed;
	rep->dropped = s->dropped + lost;
	if (s->dropped && lost)
		snprintf(rep->reason, sizeof(rep->reason),
			 "%" PRIu64 " with the spool full (%" PRIu64 " bytes), %" PRIu64
			 " not acknowledged at exit",
			 s->dropped, s->spool_max, lost);
	else if (s->dropped)
		snprintf(rep->reason, sizeof(rep->reason), "spool full (%" PRIu64 " bytes)",
			 s->spool_max);
	else if (lost)
		snprintf(rep->reason, sizeof(rep->reason), "not acknowledged at exit (%.80s)",
			 s->auth_err[0]	  ? s->auth_err
			 : s->last_err[0] ? s->last_err
					  : "server unreachable");
	pthread_mutex_unlock(&s->mu);
	sink_free(s);
	return ret;
}
#endif /* RETISC_HAVE_LIBNATS */
