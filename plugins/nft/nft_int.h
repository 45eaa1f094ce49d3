/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The nft collector's netlink path (doc/collectors.md §7.7): on kernels where
 * kprobes do not attach, verdicts come from nf_tables' trace messages
 * (NFT_MSG_TRACE on the NFNLGRP_NFTRACE group of NETLINK_NETFILTER, what
 * `nft monitor trace` reads) and are attached to the packets' series by
 * content. Shared by:
 *
 *	nft.c		the plugin: collector callbacks, section, text
 *	nft_trace.c	netlink: namespaces, sockets, trace table, messages,
 *			table/chain handles, the listener thread
 *	nft_match.c	content keys, the window of recent packets, pending
 *			trace messages and when they become events
 *	nft_filter.c	-f applied to a trace message's header bytes
 *
 * Every file but nft.c is self-contained (the ASan test builds link them
 * without the plugin entry, Makefile): they get the API table as an
 * argument and never reach into nft.c.
 *
 * Threads: the listener thread (nft_trace.c) parses messages and adds them
 * to the matcher; the bus thread gives the matcher every BPF event
 * (on_event); the main thread creates and frees everything. The matcher
 * has its own lock; events are emitted through api->event_emit().
 */
#ifndef __RETISC_NFT_INT_H
#define __RETISC_NFT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>

/* The table the collector adds with --allow-system-changes; trace messages
 * about its own chains are not reported. */
#define RETISC_NFT_TRACE_TABLE "retisc_trace"
/* Before conntrack (-200) and raw (-300), after defragmentation (-400). */
#define RETISC_NFT_TRACE_PRIO "-350"
/* NFT_TABLE_MAXNAMELEN, NFT_CHAIN_MAXNAMELEN. */
#define RETISC_NFT_NAME_LEN 256

/* -------------------------------------------------------------------------
 * Content keys (nft_match.c): what identifies a packet in both a trace
 * message's header bytes and a BPF event's packet capture. Built to tell
 * packets apart, not to survive NAT: addresses are left out (so a NAT that
 * keeps ports still matches), ports are in (so a NAT that changes them
 * does not, unless the packet has events on both sides of it). Checksums
 * are masked (NAT and checksum offload change them).
 */
struct retisc_nft_key {
	uint8_t ver;	/* 4, 6; 0: no key */
	uint8_t proto;	/* IPv4 protocol; IPv6: the fixed header's next header */
	uint16_t len;	/* IPv4 total length; IPv6 payload length */
	uint32_t id;	/* IPv4 identification; IPv6 flow label */
	uint16_t frag;	/* IPv4 flags and fragment offset */
	uint8_t l4_len; /* transport bytes known, at most 8 */
	uint8_t pad;
	uint8_t l4[8]; /* first transport bytes: ports and TCP sequence; UDP
			* ports and length; ICMP type, code, id and sequence */
};

/*
 * From an IP header (nh, nh_len bytes) and its transport header (th,
 * th_len bytes; NULL: found in nh's own bytes, after the IPv4 options or
 * the IPv6 extension headers, as in a packet capture). 0, or -EINVAL when
 * nh is no IPv4/IPv6 header (k is then zeroed).
 */
int retisc_nft_key__from_ip(struct retisc_nft_key *k, const uint8_t *nh, size_t nh_len,
			    const uint8_t *th, size_t th_len);
/* From an Ethernet frame (the packet section, doc/events.md §4.7), VLAN
 * tags skipped. 0 or -EINVAL. */
int retisc_nft_key__from_frame(struct retisc_nft_key *k, const uint8_t *frame, size_t len);
bool retisc_nft_key__eq(const struct retisc_nft_key *a, const struct retisc_nft_key *b);

/* -------------------------------------------------------------------------
 * Trace messages (nft_trace.c parses, nft_match.c keeps).
 */

/* One trace message, ready to become an nft section (doc/events.md §4.13). */
struct retisc_nft_trace {
	char table[RETISC_NFT_NAME_LEN];
	char chain[RETISC_NFT_NAME_LEN];
	char vchain[RETISC_NFT_NAME_LEN]; /* jump/goto target, "" if none */
	uint32_t family;		  /* the table's (NFPROTO_*) */
	uint32_t type;			  /* enum nft_trace_types */
	int64_t t_handle, c_handle;	  /* -1: unknown */
	int64_t r_handle;		  /* -1: none (policy, implicit return) */
	int32_t verdict;		  /* the verdict or policy code */
	bool policy;
	uint32_t id; /* the kernel's trace id (NFTA_TRACE_ID) */
	uint32_t iif, oif, mark;
	bool has_iif, has_oif;
	struct retisc_nft_key key; /* ver 0: unknown */
	uint64_t recv_ts;	   /* CLOCK_MONOTONIC when retisc read it */
};

/* What a message says beyond the section: its header bytes. */
struct retisc_nft_msg {
	struct retisc_nft_trace t;
	uint32_t nfproto;
	uint16_t iiftype;
	bool has_iiftype;
	uint8_t ll[32], nh[64], th[32];
	size_t ll_len, nh_len, th_len;
};

/*
 * Parse one NFT_MSG_TRACE netlink message (libnftnl) into m: names,
 * verdict (the policy for policy messages), rule handle, trace id,
 * interfaces, mark, header bytes, and the key when the message carries a
 * network header (the first message of each chain traversal does). Table
 * and chain handles are left at -1 (messages have none). 0, -ENOENT (not
 * a trace message), -EINVAL (malformed), -ENOMEM.
 */
int retisc_nft_msg__parse(const void *nlh, struct retisc_nft_msg *m);

/* --nft-verdicts bit of a verdict code (doc/collectors.md §7.3), -1 for
 * codes no bit covers. */
int retisc_nft_verdict_bit(int32_t code);

/* -------------------------------------------------------------------------
 * -f on trace messages (nft_filter.c), as the core's filter decides on a
 * packet (doc/filters.md §1.2): the L2 program when the message carries an
 * Ethernet header, else the L3 one (DLT_RAW) on the network header and
 * the transport header that follows it.
 */
struct retisc_nft_filter {
	void *l2, *l3; /* struct bpf_program * of libpcap; l3 NULL: no L3 */
};

/* 0, or -EINVAL with libpcap's message in err. */
int retisc_nft_filter__compile(struct retisc_nft_filter *f, const char *expr, char *err,
			       size_t errsz);
bool retisc_nft_filter__active(const struct retisc_nft_filter *f);
/* Does the message's packet match? Always true without a filter. */
bool retisc_nft_filter__match(const struct retisc_nft_filter *f, const struct retisc_nft_msg *m);
void retisc_nft_filter__release(struct retisc_nft_filter *f);

/* -------------------------------------------------------------------------
 * Matching trace messages to packets (nft_match.c, doc/collectors.md §7.7).
 */

/* A BPF event of a packet, as the window keeps it. */
struct retisc_nft_seen {
	struct retisc_nft_key key;
	uint64_t ts;			   /* common.timestamp */
	uint64_t orig_head, first_ts, skb; /* its skb-tracking section */
	bool nf_drop;			   /* skb-drop NETFILTER_DROP */
};

struct retisc_nft_match_cfg {
	size_t window;	       /* packets' events kept (count bound) */
	uint64_t back_ns;      /* how old a packet's event may be (time bound) */
	uint64_t fwd_ns;       /* how long after a message its packet's first
				* event may come (output hooks run before the
				* transmit probes) */
	uint64_t drop_wait_ns; /* how long a drop verdict waits for its skb-drop */
	uint64_t expire_ns;    /* a message pending that long (wall time) is
				* decided without more events */
	size_t pending_max;
};

/* The defaults (doc/collectors.md §7.7). */
void retisc_nft_match_cfg__default(struct retisc_nft_match_cfg *cfg);

/*
 * Called for every trace message that becomes an event: m is its packet's
 * event (NULL: unmatched), ts the event's timestamp. Under the matcher's
 * lock: never call back into the matcher.
 */
typedef void (*retisc_nft_emit_fn)(void *priv, const struct retisc_nft_trace *t,
				   const struct retisc_nft_seen *m, uint64_t ts);

struct retisc_nft_match_stats {
	uint64_t traces;      /* added */
	uint64_t matched;     /* emitted with a packet */
	uint64_t drop_placed; /* of which placed before their skb-drop */
	uint64_t unmatched;   /* emitted alone */
	uint64_t overflow;    /* decided early: too many pending */
};

struct retisc_nft_matcher;

/* NULL + errno. */
struct retisc_nft_matcher *retisc_nft_matcher__new(const struct retisc_nft_match_cfg *cfg,
						   retisc_nft_emit_fn emit, void *priv);
void retisc_nft_matcher__free(struct retisc_nft_matcher *m);
/* A trace message (copied). Listener thread. */
void retisc_nft_matcher__add_trace(struct retisc_nft_matcher *m, const struct retisc_nft_trace *t);
/* A BPF event at ts, with its packet when it has one (s may be NULL).
 * Bus thread, after the listener read every message older than ts. */
void retisc_nft_matcher__on_event(struct retisc_nft_matcher *m, uint64_t ts,
				  const struct retisc_nft_seen *s);
/* Decide the messages pending since before now - expire_ns. */
void retisc_nft_matcher__expire(struct retisc_nft_matcher *m, uint64_t now);
/* Decide every pending message (end of the collection). */
void retisc_nft_matcher__flush(struct retisc_nft_matcher *m);
void retisc_nft_matcher__stats(struct retisc_nft_matcher *m, struct retisc_nft_match_stats *out);

/*
 * The event of a trace message (doc/events.md §4.13): common with ts,
 * skb-tracking of m when matched, and the nft section with trace_id and
 * match. NULL on allocation failure.
 */
struct retisc_json *retisc_nft_event__new(const struct retisc_api *api,
					  const struct retisc_nft_trace *t,
					  const struct retisc_nft_seen *m, uint64_t ts);
/* The nft section alone (shared with nft.c's decoder rules). */
struct retisc_json *retisc_nft_section__new(const struct retisc_api *api,
					    const struct retisc_nft_trace *t, bool matched);
/* The verdict name of a code (doc/events.md §4.13). */
const char *retisc_nft_verdict_name(uint32_t raw);

/* -------------------------------------------------------------------------
 * Netlink (nft_trace.c).
 */
struct retisc_nft_nl_cfg {
	const struct retisc_api *api;
	bool system_changes;			/* add the trace tables */
	uint64_t verdicts;			/* --nft-verdicts mask */
	const struct retisc_nft_filter *filter; /* -f, or NULL */
	struct retisc_nft_matcher *matcher;
};

struct retisc_nft_nl_stats {
	uint64_t received;  /* NFT_MSG_TRACE messages read */
	uint64_t own;	    /* about the collector's own table */
	uint64_t filtered;  /* refused by -f */
	uint64_t verdicts;  /* verdict not selected */
	uint64_t lost;	    /* socket overruns (ENOBUFS) */
	unsigned int n_ns;  /* namespaces listened to */
	unsigned int n_tab; /* trace tables added */
};

struct retisc_nft_nl;

/*
 * Can trace messages be read here? 0, or a negative errno with the reason
 * in reason.
 */
int retisc_nft_nl__probe(char *reason, size_t reason_sz);
/*
 * Listen in retisc's network namespace and in every named one
 * (/run/netns/NAME): sockets there, and the trace table when cfg asks for it
 * (a stale one replaced). NULL + errno; whatever was added is removed then.
 * Main thread.
 */
struct retisc_nft_nl *retisc_nft_nl__new(const struct retisc_nft_nl_cfg *cfg);
/* Subscribe and start the listener thread. 0 or -errno. */
int retisc_nft_nl__start(struct retisc_nft_nl *nl);
/* Wait (bounded) until every message older than ts was read. Bus thread. */
void retisc_nft_nl__sync(struct retisc_nft_nl *nl, uint64_t ts);
/* Stop the listener after reading what is queued. Main thread. */
void retisc_nft_nl__stop(struct retisc_nft_nl *nl);
void retisc_nft_nl__stats(struct retisc_nft_nl *nl, struct retisc_nft_nl_stats *out);
/* Remove the trace tables, close everything. Main thread. */
void retisc_nft_nl__free(struct retisc_nft_nl *nl);

/* -------------------------------------------------------------------------
 * The cleanup guardian (nft_guard.c, doc/collectors.md §7.8).
 */
struct retisc_nft_guard;

/*
 * Fork the child that removes table inet TABLE in each namespace of
 * ns_names ("" for retisc's own, else a name of /run/netns) when retisc
 * ends without retisc_nft_guard__release(), SIGKILL included. Call it
 * before adding the tables, from the thread in retisc's own namespace.
 * 0, or a negative errno (logged: the run goes on unguarded).
 */
int retisc_nft_guard__start(struct retisc_nft_guard **g, const struct retisc_api *api,
			    const char *table, const char *const *ns_names, size_t n);
/* After the tables were removed: the child exits doing nothing, reaped. */
void retisc_nft_guard__release(struct retisc_nft_guard *g);

/* CLOCK_MONOTONIC in ns, the clock of BPF events. */
uint64_t retisc_nft_now(void);

#endif
