// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parts of the NATS sink that need no server: URLs, times, sizes, the
 * host identity and per-run ordering (nats_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nats_int.h"

static int copy_part(char *dst, size_t sz, const char *s, size_t n)
{
	if (n >= sz)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int nats_size__parse(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end && strcmp(end, "B"))
		return -EINVAL;
	*out = v;
	return 0;
}

int nats_time__parse(const char *s, int64_t *ns)
{
	struct tm tm = {};
	const char *p;
	int64_t frac = 0, scale = 1000000000;
	char *end;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p) {
		time_t t = timegm(&tm);

		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				if (scale > 1)
					frac += (*p - '0') * (scale /= 10);
		if (strcmp(p, "Z") && *p)
			return -EINVAL;
		*ns = (int64_t)t * 1000000000 + frac;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ns = strtoll(s, &end, 10);
	if (errno || *ns > INT64_MAX / 1000000000)
		return -EINVAL;
	*ns *= 1000000000;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			if (scale > 1)
				*ns += (*end - '0') * (scale /= 10);
	return *end ? -EINVAL : 0;
}

void nats_stream_of_subject(const char *subject, char *out, size_t sz)
{
	size_t i;

	for (i = 0; subject[i] && i + 1 < sz; i++) {
		char ch = subject[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';

		out[i] = ok ? ch : '_';
	}
	out[i] = '\0';
}

/* One KEY=VALUE of the query. */
static int url_param(const char *kv, size_t n, bool input, struct nats_url *u, char *err,
		     size_t errsz)
{
	const char *eq = memchr(kv, '=', n);
	char key[32], val[256];

	if (!eq || copy_part(key, sizeof(key), kv, eq - kv) ||
	    copy_part(val, sizeof(val), eq + 1, n - (eq + 1 - kv)) || !val[0]) {
		snprintf(err, errsz, "bad parameter '%.*s' (KEY=VALUE)", (int)n, kv);
		return -EINVAL;
	}
	if (!input && !strcmp(key, "stream")) {
		strcpy(u->stream, val);
	} else if (!input && !strcmp(key, "spool")) {
		if (nats_size__parse(val, &u->spool_max) || u->spool_max < 64) {
			snprintf(err, errsz, "bad spool size '%s' (bytes, e.g. 64M, at least 64)",
				 val);
			return -EINVAL;
		}
	} else if (input && !strcmp(key, "durable")) {
		strcpy(u->durable, val);
	} else if (input && !strcmp(key, "host")) {
		strcpy(u->host, val);
	} else if (input && !strcmp(key, "by")) {
		if (strcmp(val, "event") && strcmp(val, "store")) {
			snprintf(err, errsz, "bad value '%s' for by (event or store)", val);
			return -EINVAL;
		}
		u->by_event = val[0] == 'e';
	} else if (input && !strcmp(key, "annotate")) {
		if (strcmp(val, "0") && strcmp(val, "1")) {
			snprintf(err, errsz, "bad value '%s' for annotate (0 or 1)", val);
			return -EINVAL;
		}
		u->annotate = val[0] == '1';
	} else if (input && (!strcmp(key, "since") || !strcmp(key, "until"))) {
		bool since = key[0] == 's';

		if (nats_time__parse(val, since ? &u->since_ns : &u->until_ns)) {
			snprintf(err, errsz,
				 "bad time '%s' for %s (UTC YYYY-MM-DDTHH:MM:SS[.frac][Z] or UNIX "
				 "seconds)",
				 val, key);
			return -EINVAL;
		}
		*(since ? &u->has_since : &u->has_until) = true;
	} else {
		snprintf(err, errsz, "unknown parameter '%s' (%s)", key,
			 input ? "annotate, by, durable, host, since, until" : "stream, spool");
		return -EINVAL;
	}
	return 0;
}

int nats_url__parse(const char *url, bool input, struct nats_url *u, char *err, size_t errsz)
{
	const char *p = url, *host, *slash, *q;
	size_t hn;

	memset(u, 0, sizeof(*u));
	if (strncmp(p, "nats://", 7)) {
		snprintf(err, errsz, "expected nats://HOST[:PORT]/%s",
			 input ? "STREAM" : "SUBJECT");
		return -EINVAL;
	}
	host = p + 7;
	slash = strchr(host, '/');
	hn = slash ? (size_t)(slash - host) : strlen(host);
	if (!hn || memchr(host, '@', hn)) {
		/* Credentials never on the command line (doc/fleet.md §2). */
		snprintf(err, errsz, "%s",
			 hn ? "no credentials in the URL: use RETISC_NATS_CREDS "
			      "and friends (doc/fleet.md)"
			    : "missing HOST");
		return -EINVAL;
	}
	if (snprintf(u->server, sizeof(u->server), "nats://%.*s%s", (int)hn, host,
		     memchr(host, ':', hn) ? "" : ":4222") >= (int)sizeof(u->server)) {
		snprintf(err, errsz, "HOST too long");
		return -EINVAL;
	}
	if (!slash || !slash[1] || slash[1] == '?') {
		snprintf(err, errsz, "missing /%s", input ? "STREAM" : "SUBJECT");
		return -EINVAL;
	}
	q = strchr(slash + 1, '?');
	if (copy_part(u->name, sizeof(u->name), slash + 1,
		      q ? (size_t)(q - slash - 1) : strlen(slash + 1))) {
		snprintf(err, errsz, "%s too long", input ? "STREAM" : "SUBJECT");
		return -EINVAL;
	}
	if (strpbrk(u->name, input ? " \t.*>/" : " \t*>/")) {
		snprintf(err, errsz, "bad %s '%s'", input ? "stream name" : "subject", u->name);
		return -EINVAL;
	}
	while (q && *q) {
		const char *kv = q + 1, *amp = strchr(kv, '&');
		size_t n = amp ? (size_t)(amp - kv) : strlen(kv);

		if (url_param(kv, n, input, u, err, errsz))
			return -EINVAL;
		q = amp;
	}
	if (!input && !u->stream[0])
		nats_stream_of_subject(u->name, u->stream, sizeof(u->stream));
	return 0;
}

/* First line of path, trimmed, or the override. */
static void id_read(const char *env, const char *path, char *out, size_t sz)
{
	const char *v = getenv(env);
	FILE *f;

	out[0] = '\0';
	if (v && *v) {
		snprintf(out, sz, "%s", v);
		return;
	}
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)sz, f))
		out[strcspn(out, "\r\n")] = '\0';
	fclose(f);
}

/*
 * RETISC_HOST_NAME, RETISC_MACHINE_ID and RETISC_BOOT_ID override what
 * the system says: two collections on one machine then act as two hosts
 * (the tests do; doc/fleet.md §2).
 */
int nats_host_id__read(struct nats_host_id *id)
{
	const char *h = getenv("RETISC_HOST_NAME");

	if (h && *h)
		snprintf(id->host, sizeof(id->host), "%s", h);
	else if (gethostname(id->host, sizeof(id->host) - 1))
		snprintf(id->host, sizeof(id->host), "unknown");
	id_read("RETISC_MACHINE_ID", "/etc/machine-id", id->machine, sizeof(id->machine));
	id_read("RETISC_BOOT_ID", "/proc/sys/kernel/random/boot_id", id->boot, sizeof(id->boot));
	if (!id->machine[0])
		snprintf(id->machine, sizeof(id->machine), "unknown");
	if (!id->boot[0])
		snprintf(id->boot, sizeof(id->boot), "unknown");
	return 0;
}

/* --- per-run ordering ---------------------------------------------------- */

/* Records waiting per run, at most; past it the oldest gap is given up. */
#define ORDER_MAX_WAITING 65536

struct order_rec {
	uint64_t seq;
	char *data;
	size_t len;
};

struct order_run {
	char *run;
	uint64_t next;		/* next seq to emit */
	struct order_rec *wait; /* sorted by seq */
	size_t n_wait, cap;
	uint64_t gaps;
};

struct nats_order {
	struct order_run *runs;
	size_t n_runs;
};

struct nats_order *nats_order__new(void)
{
	return calloc(1, sizeof(struct nats_order));
}

void nats_order__free(struct nats_order *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_runs; i++) {
		for (size_t j = 0; j < o->runs[i].n_wait; j++)
			free(o->runs[i].wait[j].data);
		free(o->runs[i].wait);
		free(o->runs[i].run);
	}
	free(o->runs);
	free(o);
}

static struct order_run *order_run(struct nats_order *o, const char *run)
{
	struct order_run *r;

	for (size_t i = 0; i < o->n_runs; i++)
		if (!strcmp(o->runs[i].run, run))
			return &o->runs[i];
	r = realloc(o->runs, (o->n_runs + 1) * sizeof(*r));
	if (!r)
		return NULL;
	o->runs = r;
	r = &o->runs[o->n_runs];
	memset(r, 0, sizeof(*r));
	r->run = strdup(run);
	if (!r->run)
		return NULL;
	r->next = 1;
	o->n_runs++;
	return r;
}

/* Emit the waiting records from the front while they are in order. */
static int order_drain(struct order_run *r, bool all,
		       int (*emit)(void *priv, const char *run, const char *data, size_t len),
		       void *priv)
{
	size_t k = 0;
	int ret = 0;

	while (k < r->n_wait && (all || r->wait[k].seq == r->next)) {
		if (r->wait[k].seq > r->next)
			r->gaps += r->wait[k].seq - r->next;
		if (!ret)
			ret = emit(priv, r->run, r->wait[k].data, r->wait[k].len);
		r->next = r->wait[k].seq + 1;
		free(r->wait[k].data);
		k++;
	}
	memmove(r->wait, r->wait + k, (r->n_wait - k) * sizeof(*r->wait));
	r->n_wait -= k;
	return ret;
}

int nats_order__push(struct nats_order *o, const char *run, uint64_t seq, const char *data,
		     size_t len,
		     int (*emit)(void *priv, const char *run, const char *data, size_t len),
		     void *priv)
{
	struct order_run *r = order_run(o, run);
	size_t pos;
	int ret;

	if (!r)
		return -ENOMEM;
	if (seq < r->next)
		return 1;
	if (seq == r->next) {
		ret = emit(priv, r->run, data, len);
		r->next++;
		return ret ?: order_drain(r, false, emit, priv);
	}
	/* Early: wait, sorted, once. */
	for (pos = r->n_wait; pos > 0 && r->wait[pos - 1].seq > seq; pos--)
		;
	if (pos > 0 && r->wait[pos - 1].seq == seq)
		return 1;
	if (r->n_wait == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct order_rec *w = realloc(r->wait, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		r->wait = w;
		r->cap = cap;
	}
	memmove(r->wait + pos + 1, r->wait + pos, (r->n_wait - pos) * sizeof(*r->wait));
	r->wait[pos].seq = seq;
	r->wait[pos].len = len;
	r->wait[pos].data = malloc(len ? len : 1);
	if (!r->wait[pos].data) {
		memmove(r->wait + pos, r->wait + pos + 1, (r->n_wait - pos) * sizeof(*r->wait));
		return -ENOMEM;
	}
	memcpy(r->wait[pos].data, data, len);
	r->n_wait++;
	if (r->n_wait > ORDER_MAX_WAITING) {
		/* Give the first gap up: what is missing is counted. */
		r->gaps += r->wait[0].seq - r->next;
		r->next = r->wait[0].seq;
		return order_drain(r, false, emit, priv);
	}
	return 0;
}

int nats_order__finish(struct nats_order *o,
		       int (*emit)(void *priv, const char *run, const char *data, size_t len),
		       void *priv, uint64_t *gaps)
{
	int ret = 0;

	*gaps = 0;
	for (size_t i = 0; i < o->n_runs; i++) {
		int err = order_drain(&o->runs[i], true, emit, priv);

		ret = ret ?: err;
		*gaps += o->runs[i].gaps;
	}
	return ret;
}

int nats_order__skip_to(struct nats_order *o, const char *run, uint64_t seq)
{
	struct order_run *r = order_run(o, run);

	if (!r)
		return -ENOMEM;
	if (seq > r->next && !r->n_wait)
		r->next = seq;
	return 0;
}
