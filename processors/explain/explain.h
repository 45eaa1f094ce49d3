/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The analysis behind `retisc explain` and `retisc report`
 * (doc/processing.md §7): each packet series gets a fate decided from its
 * events, and per-flow aggregates (fates, NAT rewrites, drop reasons,
 * per-hop latency histograms) are kept in bounded memory.
 *
 * Series come from sort's engine (processors/sort/sort_engine.c, linked
 * into this plugin) for an events file, or straight from a series file.
 * A series whose fate would be "vanished" cannot be told from one still
 * in flight before the end of the collection is known, so verdicts go
 * through a small queue and come out, in series order, once event time
 * has moved past them by the in-flight window (or at the end).
 */
#ifndef __RETISC_EXPLAIN_H
#define __RETISC_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>

enum retisc_fate {
	RETISC_FATE_DELIVERED,
	RETISC_FATE_TRANSMITTED,
	RETISC_FATE_DROPPED,
	RETISC_FATE_UPCALLED,
	RETISC_FATE_CONSUMED,
	RETISC_FATE_INCOMPLETE,
	RETISC_FATE_IN_FLIGHT,
	RETISC_FATE_VANISHED,
	RETISC_FATE__N,
};

const char *retisc_fate__name(enum retisc_fate f);

/* A packet's addresses as first seen (or a flow's key). */
struct retisc_xp_tuple {
	bool valid;
	bool v6;
	uint8_t proto; /* IP protocol: 6, 17, 1, 58, 132, other */
	uint8_t src[16], dst[16];
	/* Ports (TCP, UDP, SCTP); ICMP echo: the id in both, 0 otherwise. */
	uint16_t sport, dport;
	/* ICMP type (echo: 8/0, 128/129); 0xff: not ICMP. */
	uint8_t icmp_type;
	/* Not IP (valid false): the ethertype, 0 without packet bytes. */
	uint16_t ethertype;
};

/* "udp 10.0.0.1:53 > 10.0.0.2:5353"; "icmp 10.0.0.1 > 10.0.0.2 id 7". */
void retisc_xp_tuple__fmt(const struct retisc_xp_tuple *t, const char *sep, char *buf, size_t sz);

#define RETISC_XP_HIST_BUCKETS 184
#define RETISC_XP_MAX_HOPS 16
#define RETISC_XP_MAX_NAMED 16

/* Latency histogram: 4 buckets per power of two of nanoseconds. */
struct retisc_xp_hist {
	uint64_t n, min, max;
	uint32_t bucket[RETISC_XP_HIST_BUCKETS];
};

void retisc_xp_hist__add(struct retisc_xp_hist *h, uint64_t ns);
/* q in [0,1]: an estimate within one bucket (~19%), clamped to [min, max]. */
uint64_t retisc_xp_hist__quantile(const struct retisc_xp_hist *h, double q);
/* Lower bound of bucket i in ns. */
uint64_t retisc_xp_hist__bucket_low(size_t i);

struct retisc_xp_hop {
	char label[112]; /* "net_dev_start_xmit(veth-a) > netif_receive_skb(veth-b)" */
	struct retisc_xp_hist hist;
};

/* A name with a count (drop reasons, NAT rewrites). */
struct retisc_xp_named {
	char name[128];
	uint64_t n;
};

struct retisc_xp_flow {
	struct retisc_xp_tuple key; /* normalised: both directions share it */
	bool other;		    /* the overflow flow (--max-flows reached) */
	uint64_t packets;
	uint64_t fates[RETISC_FATE__N];
	struct retisc_xp_named *drops, *nats;
	size_t n_drops, n_nats;
	struct retisc_xp_hop *hops;
	size_t n_hops;
	uint64_t hops_dropped; /* latencies not kept: more than MAX_HOPS labels */
};

/* One series' fate and what explains it. */
struct retisc_xp_verdict {
	uint64_t index; /* 1-based, in series order */
	char id[40];	/* tracking id in hex as the text shows it */
	uint64_t first_ts, last_ts;
	size_t n_events;
	uint64_t lost;
	enum retisc_fate fate;
	/* The fate is known only at the end (vanished or in flight). */
	bool pending;
	struct retisc_xp_tuple tuple;
	char last_sym[64];     /* probe of the last event */
	char where[160];       /* "veth-b in netns 4026532568" */
	char detail[256];      /* fate details */
	char drop_reason[64];  /* "NO_SOCKET", "openvswitch/OVS_DROP_..." */
	char drop_fn[96];      /* function (stack) or probe of the drop */
	char nft[160];	       /* "table t chain in handle 3 drop" */
	char ct_state[24];     /* last ct state seen */
	char nat[200];	       /* "dst 10.0.0.100:80 -> 10.0.0.2:8080" */
	int hint;	       /* row of the vanished table, -1 none */
	const char *drop_hint; /* likely cause of a drop reason, or NULL */
	size_t flow;	       /* index in flows, SIZE_MAX: no flow */
	bool has_hops;	       /* the report's journey needs the series */
};

/* Row of the vanished table (doc/processing.md §7.3). */
struct retisc_xp_hint {
	const char *key;     /* "rx", "xmit-queue", ... */
	const char *where;   /* "a device receive" */
	const char *reasons; /* "; "-separated likely reasons */
};
const struct retisc_xp_hint *retisc_xp_hint(int i);

struct retisc_xp_opts {
	uint64_t window_ns; /* in-flight window */
	size_t max_flows;   /* 0: no bound */
	size_t max_pending; /* verdicts held back at most */
};

struct retisc_xp;

/*
 * Called with each verdict once its fate is final, in series order.
 * series is the series' events when still available (a verdict decided
 * as soon as its series came), else NULL. Negative return: stop.
 */
typedef int (*retisc_xp_verdict_fn)(void *ctx, const struct retisc_xp_verdict *v,
				    const struct retisc_json *series);

/* NULL + errno. */
struct retisc_xp *retisc_xp__new(const struct retisc_api *api, const struct retisc_xp_opts *opts,
				 retisc_xp_verdict_fn fn, void *ctx);
void retisc_xp__free(struct retisc_xp *x);

/*
 * Optional: called for each series as soon as it is analysed, with its
 * preliminary verdict (pending when the fate waits for the end), before
 * the verdict may be held back. The report keeps a copy of the series it
 * will draw. Negative return: stop.
 */
void retisc_xp__set_seen(struct retisc_xp *x, retisc_xp_verdict_fn seen);

/* One event of a series, for the report's journey view. */
struct retisc_xp_step {
	uint64_t ts;
	char sym[64];
	const char *fn; /* within sym */
	bool has_ns, has_dev;
	uint64_t netns;
	char dev[24];
	char packet[160];
	char reason[64]; /* drop reason */
	char nft[160];
	char ct_state[24];
	char comm[24];
	bool netlink; /* no probe: stamped when userspace read it */
};

/* The events of series in time order (*steps: the caller frees it). 0 or
 * -ENOMEM. */
int retisc_xp__steps(const struct retisc_api *api, const struct retisc_json *series,
		     struct retisc_xp_step **steps, size_t *n);

/* Every event read (before sorting): event time advances. */
void retisc_xp__saw_event(struct retisc_xp *x, const struct retisc_json *ev);
/*
 * One series (an array of events, borrowed). Startup series and
 * untracked single events are counted, not explained. 0 or the verdict
 * callback's error, -ENOMEM.
 */
int retisc_xp__series(struct retisc_xp *x, const struct retisc_json *series);
/* End of input: every held verdict is decided and handed out. */
int retisc_xp__finish(struct retisc_xp *x);

struct retisc_xp_totals {
	uint64_t series, events, untracked, startup;
	uint64_t fates[RETISC_FATE__N];
	uint64_t first_ts, last_ts;
	struct retisc_xp_named *drops;
	size_t n_drops;
	struct retisc_xp_hop *hops; /* all flows together */
	size_t n_hops;
	uint64_t hops_dropped;
};

const struct retisc_xp_totals *retisc_xp__totals(const struct retisc_xp *x);
size_t retisc_xp__n_flows(const struct retisc_xp *x);
const struct retisc_xp_flow *retisc_xp__flow(const struct retisc_xp *x, size_t i);

/* The drop reasons' likely causes (doc/processing.md §7.4), NULL if none. */
const char *retisc_xp_drop_hint(const char *reason);

#endif /* __RETISC_EXPLAIN_H */
