/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Probe context shared by the core probe programs, the hooks of every
 * collector and the core's userspace (fixed-width types only).
 *
 * Tail calls cannot carry data, so the core probe program fills a
 * struct retisc_ctx in a per-CPU map; hooks read it there. A probe can
 * interrupt another probe on the same CPU (irq, softirq, NMI-safe
 * tracepoints), so context and scratch event are arrays indexed by a per-CPU
 * nesting level: the running chain always uses level `nest - 1`.
 */
#ifndef __RETISC_CTX_H
#define __RETISC_CTX_H

#include "event.h"

#define RETISC_MAX_ARGS 12
#define RETISC_NEST_MAX 4
/* Hooks per probe, the submit program included. */
#define RETISC_CHAIN_SLOTS 16
#define RETISC_MAX_PROBES 1024
#define RETISC_PROG_ARRAY_SIZE (RETISC_MAX_PROBES * RETISC_CHAIN_SLOTS)
/* Kernel stacks with an sk_buff stored for them (maps.bpf.h, retisc_stack_skb). */
#define RETISC_STACK_SKB_MAX 1024
/*
 * Room for the copy of the probe's struct sk_buff (224 bytes on x86_64 6.x
 * kernels); a larger struct is read field by field instead (skb.bpf.h).
 */
#define RETISC_SKB_SNAP_MAX 320

/* Filter flags (doc/tracking.md §7): trackable = PACKET|META exactly. */
#define RETISC_F_PACKET 0x1
#define RETISC_F_META 0x2
#define RETISC_F_STACK 0x4
#define RETISC_F_TRACKABLE (RETISC_F_PACKET | RETISC_F_META)

/* Argument slot not present in a probe. */
#define RETISC_NO_ARG (-1)

/* Tracking configuration of a probe (doc/tracking.md §2.3). */
#define RETISC_TRK_FREE 0x01
#define RETISC_TRK_PARTIAL_FREE 0x02
#define RETISC_TRK_INV_HEAD 0x04
#define RETISC_TRK_NO_TRACKING 0x08
#define RETISC_TRK_RELEASE_CHECK 0x10

/* Per-probe configuration, set by userspace in each probe program's rodata. */
struct retisc_probe_cfg {
	__u32 probe_id;
	__u8 probe_type; /* enum retisc_probe_type */
	__u8 nargs;	 /* argument registers captured */
	__u8 n_hooks;	 /* chain length without the submit program */
	__u8 stack;	 /* collect a stack trace */
	__s8 arg_skb;	 /* index of the first struct sk_buff * argument */
	__s8 arg_drop_reason;
	__s8 arg_netdev;
	__s8 arg_net;
	__s8 arg_nft_pktinfo;
	__s8 arg_nft_traceinfo;
	__u8 tracking;	  /* RETISC_TRK_* */
	__u8 tracking_on; /* tracking is initialised (a collector knows sk_buff) */
};

struct retisc_ctx {
	__u64 timestamp;
	__u64 args[RETISC_MAX_ARGS];
	__u64 retval;	  /* kretprobes */
	__u64 skb;	  /* struct sk_buff * of the event, 0 if none */
	__u64 stack_base; /* doc/tracking.md §7 */
	/* Tracking result of this hit (doc/tracking.md §3 step 5). */
	__u64 trk_orig_head;
	__u64 trk_timestamp;
	__u32 trk_lost;	 /* loss count carried by this event */
	__u32 core_used; /* scratch bytes written by the core */
	struct retisc_probe_cfg cfg;
	__u8 flags; /* RETISC_F_* */
	__u8 tracked;
	__u8 veto;     /* set by a hook: drop the event */
	__u8 hook_idx; /* next chain slot */
	__u8 pad[4];
	/*
	 * Copy of *skb taken once per hit, when skb is set, so that the core
	 * and every hook read its fields without a probe read each. Appended
	 * last: hooks built against an older layout keep their offsets.
	 */
	__u8 skb_snap[RETISC_SKB_SNAP_MAX];
};

struct retisc_scratch {
	__u32 used;
	__u32 pad;
	__u8 data[RETISC_EVENT_MAX];
};

/* Global switches, one entry in retisc_global (ARRAY). */
struct retisc_global {
	__u32 enabled; /* set after every probe is attached */
	__u32 pad;
};

/* Per-probe counters, PERCPU_ARRAY indexed by probe id. */
struct retisc_probe_stats {
	__u64 lost;	   /* ring buffer full */
	__u64 nested_drop; /* nesting deeper than RETISC_NEST_MAX */
	__u64 chain_break; /* a tail call failed */
	__u64 too_big;	   /* a section did not fit in the scratch event */
};

#endif /* __RETISC_CTX_H */
