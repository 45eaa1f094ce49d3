// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc collect --sink URL`: the sink instances of one collection
 * (doc/architecture.md §3.2). Each gets the startup event, then every
 * event as the JSON line -o would write, from the bus; at the end each
 * reports what it could not deliver, logged beside the ring buffer's
 * losses.
 */
#include "collect_int.h"

struct collect_sink {
	const struct retisc_sink *desc;
	const char *url; /* borrowed from the options */
	void *inst;
};

/* A sink error stops the collection as a file's write error does
 * (doc/files.md §8); the first one wins. */
static int sink_failed(struct collect *c, size_t i, int err)
{
	if (atomic_load(&c->write_err))
		return err;
	pr_err("Sink %s failed: %s; stopping", c->sinks[i].url, strerror(-err));
	atomic_store(&c->write_err, err);
	atomic_store(&c->stop_bus, true);
	return err;
}

/* Serialise ev once for every sink and hand it over. 0 or the first error. */
static int sinks_send(struct collect *c, enum retisc_sink_record_kind kind,
		      const struct retisc_json *ev)
{
	struct retisc_sink_record rec = {.sz = sizeof(rec), .kind = kind, .event = ev};
	int err, ret = 0;

	retisc_strbuf__reset(&c->sink_line);
	err = retisc_json__dump(ev, &c->sink_line);
	if (err)
		return err;
	rec.line = c->sink_line.buf;
	rec.len = c->sink_line.len;
	if (kind == RETISC_SINK_EVENT)
		retisc_json__obj_get_u64(retisc_json__obj_get(ev, "common"), "timestamp",
					 &rec.timestamp);
	for (size_t i = 0; i < c->n_sinks; i++) {
		err = c->sinks[i].desc->write(c->sinks[i].inst, &rec);
		if (err && !ret)
			ret = sink_failed(c, i, err);
	}
	return ret;
}

int collect__sinks_open(struct collect *c, struct retisc_startup_info *info)
{
	struct timespec ts;
	struct retisc_json *startup;
	int err;

	if (!c->o.sinks.n)
		return 0;
	c->sinks = calloc(c->o.sinks.n, sizeof(*c->sinks));
	if (!c->sinks)
		return -ENOMEM;
	for (size_t i = 0; i < c->o.sinks.n; i++) {
		const char *url = c->o.sinks.v[i];
		size_t n = retisc_registry__url_scheme(url);
		const struct retisc_sink *d =
			n ? retisc_registry__sink_by_scheme(c->reg, url, n) : NULL;

		if (!n) {
			pr_err("Invalid --sink %s: expected SCHEME://... (e.g. nats://HOST:PORT/"
			       "SUBJECT)",
			       url);
			return -EINVAL;
		}
		if (!d) {
			pr_err("Invalid --sink %s: no plugin handles %.*s:// (see `retisc plugin "
			       "list`)",
			       url, (int)n, url);
			return -EINVAL;
		}
		err = d->open(d->priv, url, &c->sinks[c->n_sinks].inst);
		if (err) {
			pr_err("Cannot open sink %s: %s", url, strerror(-err));
			return err;
		}
		c->sinks[c->n_sinks].desc = d;
		c->sinks[c->n_sinks].url = url;
		c->n_sinks++;
	}
	/* The same startup event as the file's first line, without rotation
	 * (doc/files.md §2): the writer gets the timestamp through info. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	info->timestamp = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	startup = retisc_startup__new(info, -1, 0);
	if (!startup)
		return -errno;
	err = sinks_send(c, RETISC_SINK_STARTUP, startup);
	retisc_json__free(startup);
	return err;
}

int collect__sinks_write(struct collect *c, const struct retisc_json *ev)
{
	int err;

	if (!c->n_sinks)
		return 0;
	err = sinks_send(c, RETISC_SINK_EVENT, ev);
	/* -ENOMEM of the serialisation: as a sink error. */
	if (err && !atomic_load(&c->write_err))
		sink_failed(c, 0, err);
	return err;
}

int collect__sinks_flush(struct collect *c)
{
	int err, ret = 0;

	for (size_t i = 0; i < c->n_sinks; i++) {
		if (!c->sinks[i].desc->flush)
			continue;
		err = c->sinks[i].desc->flush(c->sinks[i].inst);
		if (err && !ret)
			ret = sink_failed(c, i, err);
	}
	return ret;
}

/* Close every sink and log what each lost. 0, or 1 when one failed. */
int collect__sinks_close(struct collect *c)
{
	int status = 0;

	for (size_t i = 0; i < c->n_sinks; i++) {
		struct retisc_sink_report rep = {.sz = sizeof(rep)};
		int err = c->sinks[i].desc->close(c->sinks[i].inst, &rep);

		if (err) {
			pr_err("Cannot finish sink %s: %s", c->sinks[i].url, strerror(-err));
			status = 1;
		}
		rep.reason[sizeof(rep.reason) - 1] = '\0';
		if (rep.dropped)
			pr_warn("sink %s: %llu event(s) lost%s%s", c->sinks[i].url,
				(unsigned long long)rep.dropped, rep.reason[0] ? ": " : "",
				rep.reason);
		pr_info("sink %s: %llu event(s) delivered, %llu replayed", c->sinks[i].url,
			(unsigned long long)rep.delivered, (unsigned long long)rep.replayed);
	}
	free(c->sinks);
	c->sinks = NULL;
	c->n_sinks = 0;
	retisc_strbuf__release(&c->sink_line);
	return status;
}
