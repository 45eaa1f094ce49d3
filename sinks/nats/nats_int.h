/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The NATS JetStream sink (doc/fleet.md): nats.c registers it and holds
 * what its two halves share (URLs, settings from the environment, the host
 * identity, the connection); publish.c is `collect --sink`, source.c reads
 * a stream back as a processor's INPUT. url.c needs no libnats, so that
 * the unit tests check it without a server.
 */
#ifndef __RETISC_NATS_INT_H
#define __RETISC_NATS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>

extern const struct retisc_api *nats_api;

#define nats_log(level, ...) nats_api->log(level, __VA_ARGS__)

/* A parsed nats://HOST[:PORT]/NAME[?KEY=VALUE&...] (doc/fleet.md §1). */
struct nats_url {
	char server[300]; /* "nats://HOST:PORT" for the client */
	char name[256];	  /* SUBJECT (sink) or STREAM (input) */
	/* Query parameters; empty when absent. */
	char stream[256];   /* sink: stream to create/use */
	char durable[256];  /* input: durable consumer name */
	char host[256];	    /* input: only this host's events */
	uint64_t spool_max; /* sink: spool bound in bytes (0: default) */
	bool has_since, has_until;
	int64_t since_ns, until_ns; /* input: UNIX time ns */
	bool by_event;		    /* input: since/until on event times, not store times */
	bool annotate;		    /* input: startup events get a `fleet` section */
};

/*
 * Parse url; kind "sink" or "input" picks the parameters allowed. 0 or
 * -EINVAL with "what is wrong" in err.
 */
int nats_url__parse(const char *url, bool input, struct nats_url *u, char *err, size_t errsz);
/* "2026-12-05T16:30:00Z", "2026-12-05T16:30:00.5Z", or UNIX seconds
 * "1764952200[.5]": UTC ns. 0 or -EINVAL. */
int nats_time__parse(const char *s, int64_t *ns);
/* A size "4096", "64k", "16M", "1G" (powers of 1024). 0 or -EINVAL. */
int nats_size__parse(const char *s, uint64_t *out);
/* The stream name derived from a subject: characters other than
 * [A-Za-z0-9_-] become '_'. */
void nats_stream_of_subject(const char *subject, char *out, size_t sz);

/* Who sent a message (headers Retisc-Host, Retisc-Machine-Id,
 * Retisc-Boot-Id): read once per process. */
struct nats_host_id {
	char host[256];
	char machine[64];
	char boot[64];
};
int nats_host_id__read(struct nats_host_id *id);

/*
 * Per-run ordering of what a stream gives back (source.c, doc/fleet.md
 * §3): records of one run (Retisc-Run) carry Retisc-Seq 1, 2, ...;
 * those that arrive early wait, duplicates (a replay the server's
 * de-duplication window did not catch) are dropped.
 */
struct nats_order;
struct nats_order *nats_order__new(void);
void nats_order__free(struct nats_order *o);
/*
 * Offer record seq of run (data, len bytes, copied). emit() is called for
 * every record that is now in order, oldest first; its non-zero return
 * stops and is returned. Returns 0, 1 for a duplicate (dropped), or a
 * negative errno.
 */
int nats_order__push(struct nats_order *o, const char *run, uint64_t seq, const char *data,
		     size_t len,
		     int (*emit)(void *priv, const char *run, const char *data, size_t len),
		     void *priv);
/* emit() gets the record's run: the records of several runs interleave. */
/* The run's records before seq are not wanted (a selection starting later):
 * its next expected record is seq. 0 or -ENOMEM. */
int nats_order__skip_to(struct nats_order *o, const char *run, uint64_t seq);
/* End of the input: emit what still waits, per run in seq order; *gaps is
 * set to the number of sequence numbers never seen. */
int nats_order__finish(struct nats_order *o,
		       int (*emit)(void *priv, const char *run, const char *data, size_t len),
		       void *priv, uint64_t *gaps);

#ifdef RETISC_HAVE_LIBNATS
#include <nats/nats.h>

/* Options of a connection to u->server: credentials and TLS from the
 * environment (doc/fleet.md §2). 0 or -errno (logged). */
int nats_conn_options(const struct nats_url *u, natsOptions **out);
const char *nats_status_str(natsStatus s);

int nats_sink_open(void *priv, const char *url, void **out);
int nats_sink_write(void *sink, const struct retisc_sink_record *rec);
int nats_sink_flush(void *sink);
int nats_sink_close(void *sink, struct retisc_sink_report *report);
int nats_source_open(void *priv, const char *url, int fd, char *err, size_t errsz);
void nats_source_fini(void);
#endif

#endif
