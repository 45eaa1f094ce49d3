// SPDX-License-Identifier: GPL-2.0-only
/*
 * latency: an example third-party processor, built out of the retisc tree
 * against the installed SDK.
 *
 *	retisc process latency [--from-first] [INPUT]
 *
 * For every probe, a log2 histogram of the time a packet took to reach it:
 * from the packet's previous event (default) or from its first event
 * (--from-first). Packets are the series of a sorted file (`retisc sort -o`)
 * or, in a plain events file, the events sharing a tracking id. Events
 * without a tracking id have no packet to measure against and are only
 * counted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/plugin.h>

#define N_BUCKETS 64
#define BAR_WIDTH 40

static const struct retisc_api *api;

struct probe_hist {
	char *name;
	uint64_t n, sum, min, max;
	uint64_t buckets[N_BUCKETS];
};

/* Previous (or first) timestamp of each packet of a plain events file. */
struct pkt {
	uint64_t id_ts, id_head; /* tracking id; id_ts 0 = empty slot */
	uint64_t ref;
};

struct state {
	bool from_first;
	struct probe_hist *probes;
	size_t n_probes;
	struct pkt *pkts;
	size_t pkt_cap, n_pkts;
	uint64_t untracked, out_of_order, events;
};

static int bucket_of(uint64_t v)
{
	return v < 2 ? 0 : 63 - __builtin_clzll(v);
}

/* "tp:net:netif_receive_skb", as probes are written on the command line. */
static int probe_name(const struct retisc_json *ev, char *buf, size_t sz)
{
	const struct retisc_json *k = api->json_obj_get(ev, "kernel");
	const char *sym, *type;

	if (!k) {
		k = api->json_obj_get(ev, "userspace");
		sym = k ? api->json_get_str(api->json_obj_get(k, "symbol"), NULL) : NULL;
		if (!sym)
			return -ENOENT;
		snprintf(buf, sz, "usdt:%s", sym);
		return 0;
	}
	sym = api->json_get_str(api->json_obj_get(k, "symbol"), NULL);
	type = api->json_get_str(api->json_obj_get(k, "probe_type"), NULL);
	if (!sym || !type)
		return -ENOENT;
	if (!strcmp(type, "raw_tracepoint"))
		type = "tp";
	snprintf(buf, sz, "%s:%s", type, sym);
	return 0;
}

static struct probe_hist *probe_get(struct state *st, const char *name)
{
	struct probe_hist *v;

	for (size_t i = 0; i < st->n_probes; i++)
		if (!strcmp(st->probes[i].name, name))
			return &st->probes[i];
	v = realloc(st->probes, (st->n_probes + 1) * sizeof(*v));
	if (!v)
		return NULL;
	st->probes = v;
	v = &v[st->n_probes];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	v->min = UINT64_MAX;
	st->n_probes++;
	return v;
}

static int record(struct state *st, const struct retisc_json *ev, uint64_t ref, uint64_t ts)
{
	struct probe_hist *p;
	char name[256];
	uint64_t d;

	if (probe_name(ev, name, sizeof(name)))
		return 0;
	/* Events of one packet reach the ring buffer from several CPUs. */
	if (ts < ref) {
		st->out_of_order++;
		return 0;
	}
	p = probe_get(st, name);
	if (!p)
		return -ENOMEM;
	d = ts - ref;
	p->n++;
	p->sum += d;
	p->min = d < p->min ? d : p->min;
	p->max = d > p->max ? d : p->max;
	p->buckets[bucket_of(d)]++;
	return 0;
}

static bool event_ts(const struct retisc_json *ev, uint64_t *ts)
{
	return api->json_get_u64(api->json_obj_get(api->json_obj_get(ev, "common"), "timestamp"),
				 ts);
}

static bool tracking_id(const struct retisc_json *ev, uint64_t *ts, uint64_t *head)
{
	const struct retisc_json *t = api->json_obj_get(ev, "skb-tracking");

	return t && api->json_get_u64(api->json_obj_get(t, "timestamp"), ts) &&
	       api->json_get_u64(api->json_obj_get(t, "orig_head"), head) && *ts;
}

static size_t pkt_slot(const struct state *st, uint64_t ts, uint64_t head)
{
	size_t i = (size_t)((ts * 0x9e3779b97f4a7c15ull) ^ head) & (st->pkt_cap - 1);

	while (st->pkts[i].id_ts && (st->pkts[i].id_ts != ts || st->pkts[i].id_head != head))
		i = (i + 1) & (st->pkt_cap - 1);
	return i;
}

static int pkt_grow(struct state *st)
{
	struct pkt *old = st->pkts;
	size_t old_cap = st->pkt_cap;

	st->pkt_cap = old_cap ? old_cap * 2 : 1024;
	st->pkts = calloc(st->pkt_cap, sizeof(*st->pkts));
	if (!st->pkts) {
		st->pkts = old;
		st->pkt_cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id_ts)
			st->pkts[pkt_slot(st, old[i].id_ts, old[i].id_head)] = old[i];
	free(old);
	return 0;
}

static int plain_event(struct state *st, const struct retisc_json *ev)
{
	uint64_t ts, id_ts, id_head;
	struct pkt *p;
	int err = 0;

	if (!event_ts(ev, &ts) || api->json_obj_get(ev, "startup"))
		return 0;
	st->events++;
	if (!tracking_id(ev, &id_ts, &id_head)) {
		st->untracked++;
		return 0;
	}
	if ((st->n_pkts + 1) * 2 > st->pkt_cap && (err = pkt_grow(st)))
		return err;
	p = &st->pkts[pkt_slot(st, id_ts, id_head)];
	if (!p->id_ts) {
		p->id_ts = id_ts;
		p->id_head = id_head;
		p->ref = ts;
		st->n_pkts++;
		return 0;
	}
	err = record(st, ev, p->ref, ts);
	if (!st->from_first)
		p->ref = ts;
	return err;
}

static int series(struct state *st, const struct retisc_json *s)
{
	uint64_t ref = 0, ts;
	bool have_ref = false;
	int err = 0;

	for (size_t i = 0; i < api->json_arr_len(s) && !err; i++) {
		const struct retisc_json *ev = api->json_arr_get(s, i);

		if (!event_ts(ev, &ts) || api->json_obj_get(ev, "startup"))
			continue;
		st->events++;
		if (!have_ref) {
			ref = ts;
			have_ref = true;
			st->n_pkts++;
			continue;
		}
		err = record(st, ev, ref, ts);
		if (!st->from_first)
			ref = ts;
	}
	return err;
}

static void print_duration(char *buf, size_t sz, uint64_t ns)
{
	if (ns < 10000)
		snprintf(buf, sz, "%lluns", (unsigned long long)ns);
	else if (ns < 10000000)
		snprintf(buf, sz, "%.1fus", ns / 1e3);
	else if (ns < 10000000000ull)
		snprintf(buf, sz, "%.1fms", ns / 1e6);
	else
		snprintf(buf, sz, "%.1fs", ns / 1e9);
}

static int cmp_probe(const void *a, const void *b)
{
	return strcmp(((const struct probe_hist *)a)->name, ((const struct probe_hist *)b)->name);
}

static void report(struct state *st)
{
	char lo[32], hi[32], mn[32], avg[32], mx[32];

	qsort(st->probes, st->n_probes, sizeof(*st->probes), cmp_probe);
	printf("%llu event(s), %zu packet(s), %llu without tracking id, %llu out of order\n",
	       (unsigned long long)st->events, st->n_pkts, (unsigned long long)st->untracked,
	       (unsigned long long)st->out_of_order);
	printf("latency from the packet's %s event\n", st->from_first ? "first" : "previous");
	for (size_t i = 0; i < st->n_probes; i++) {
		const struct probe_hist *p = &st->probes[i];
		uint64_t top = 0;
		int first = N_BUCKETS, last = 0;

		for (int b = 0; b < N_BUCKETS; b++) {
			if (!p->buckets[b])
				continue;
			first = b < first ? b : first;
			last = b;
			top = p->buckets[b] > top ? p->buckets[b] : top;
		}
		print_duration(mn, sizeof(mn), p->min);
		print_duration(avg, sizeof(avg), p->sum / p->n);
		print_duration(mx, sizeof(mx), p->max);
		printf("\n%s: %llu sample(s), min %s, avg %s, max %s\n", p->name,
		       (unsigned long long)p->n, mn, avg, mx);
		for (int b = first; b <= last; b++) {
			int w = (int)(p->buckets[b] * BAR_WIDTH / top);

			print_duration(lo, sizeof(lo), b ? 1ull << b : 0);
			print_duration(hi, sizeof(hi), 1ull << (b + 1));
			printf("  %8s .. %-8s %8llu |%-*.*s|\n", lo, hi,
			       (unsigned long long)p->buckets[b], BAR_WIDTH, w,
			       "****************************************");
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: retisc process latency [--from-first] [INPUT]\n\n"
		   "Per-probe latency histograms of the packets of an events file or a\n"
		   "sorted file.\n\n"
		   "      --from-first  measure from the packet's first event (default: from\n"
		   "                    its previous event)\n"
		   "  -h, --help        print help\n");
}

static int run(void *priv, const struct retisc_api *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"from-first", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct state st = {};
	struct retisc_reader *r;
	struct retisc_json *v;
	char err[1024];
	int c, ret, status = 0;

	(void)priv;
	api = a;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			st.from_first = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	r = api->reader_open(optind < argc ? argv[optind] : NULL, err, sizeof(err));
	if (!r) {
		api->log(RETISC_LOG_ERROR, "%s", err);
		return 1;
	}
	while ((ret = api->reader_next(r, &v, err, sizeof(err))) > 0) {
		ret = api->reader_kind(r) == 2 ? series(&st, v) : plain_event(&st, v);
		api->json_free(v);
		if (ret) {
			snprintf(err, sizeof(err), "%s", strerror(-ret));
			break;
		}
	}
	if (ret < 0) {
		api->log(RETISC_LOG_ERROR, "%s", err);
		status = 1;
	} else {
		report(&st);
	}
	api->reader_free(r);
	for (size_t i = 0; i < st.n_probes; i++)
		free(st.probes[i].name);
	free(st.probes);
	free(st.pkts);
	return status;
}

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_processor_desc p = {
		.sz = sizeof(p),
		.name = "latency",
		.summary = "per-probe latency histograms of packets",
		.run = run,
	};

	api = a;
	return a->register_processor(plugin, &p);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "latency",
	.version = "1.0.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
