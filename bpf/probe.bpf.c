// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generic probe programs. Userspace opens this object once per probe, writes
 * the probe's configuration into retisc_cfg (rodata, so the verifier prunes
 * what the probe does not use, e.g. reads past its argument count), reuses
 * the core's maps and loads only the program of the probe's type.
 *
 * Order of a hit (doc/tracking.md §3): enable check, context, filter (skipped for
 * tracked skbs), track_start, resolve the id, common + kernel sections, then
 * the hook chain (tail calls) ending in the core's submit program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include <retisc/maps.bpf.h>
#include "submit.bpf.h"
#include "filter.bpf.h"

const volatile struct retisc_probe_cfg retisc_cfg = {};
/* THREAD_SIZE of the running kernel (doc/tracking.md §7). */
const volatile __u64 retisc_thread_size = 16384;
/*
 * A targeted hook of this probe asks for the sk_buff stored for the stack
 * (RETISC_HOOK_STACK_SKB, doc/collectors.md §1.3): taken when the probe has
 * no sk_buff argument of its own.
 */
const volatile __u8 retisc_stack_skb_on = 0;

/*
 * Filter flags of an skb (doc/filters.md §1.2). A tracked skb passes without
 * evaluating anything so that a packet matched once is followed through NAT
 * and rewrites. The packet and meta filters are spliced in by a later stage;
 * until then every skb matches both.
 */
static __always_inline __u8 retisc_filter(struct retisc_ctx *ctx, struct retisc_scratch *ev,
					  struct trk_ident *id)
{
	struct retisc_tracking_info *ti;
	struct retisc_tracking_skb *v2;
	__u64 head, key = 0, skb = ctx->skb;
	int stale;

	if (!skb) {
		__u64 *found = bpf_map_lookup_elem(&stack_tracking_map, &ctx->stack_base);

		return found && *found ? RETISC_F_STACK : 0;
	}
	if (!retisc_filter_packet && !retisc_filter_meta_on)
		return RETISC_F_PACKET | RETISC_F_META;
	head = trk_skb_head(ctx);
	if (ctx->cfg.tracking_on) {
		ti = trk_lookup(skb, head, trk_skb_cloned(ctx), &key, &v2, &stale);
		/* An entry the identity guard rejects is another packet's. */
		if (ti && (key == skb || !trk_guard_differs(ctx, ev, id, ti, key != head)))
			return RETISC_F_PACKET | RETISC_F_META;
	}
	return retisc_filters_eval(ctx);
}

/*
 * The current task's comm. bpf_get_current_comm() costs a helper call and a
 * byte-wise strscpy_pad(); with the BTF-typed task (5.11, "bpf: Add
 * bpf_get_current_task_btf helper") two 8-byte loads do. The bytes after the
 * NUL are not zeroed: the decoder stops at the NUL.
 */
static __always_inline void retisc_task_comm(char comm[16])
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		struct task_struct *t = bpf_get_current_task_btf();
		const __u64 *src = (const __u64 *)&t->comm[0];

		((__u64 *)comm)[0] = src[0];
		((__u64 *)comm)[1] = src[1];
		return;
	}
	bpf_get_current_comm(comm, 16);
}

static __always_inline int retisc_core_sections(void *c, struct retisc_ctx *ctx,
						struct retisc_scratch *ev)
{
	struct retisc_section_hdr *hdr;
	struct retisc_raw_common *common;
	struct retisc_raw_kernel *kernel;
	struct retisc_raw_task *task;
	__u8 *p = ev->data;

	/* The core's sections come first, at fixed offsets. */
	hdr = (void *)p;
	hdr->owner = RETISC_OWNER_COMMON;
	hdr->data_type = RETISC_COMMON_TYPE_EVENT;
	hdr->size = sizeof(*common);
	common = (void *)(hdr + 1);
	common->timestamp = ctx->timestamp;
	common->smp_id = bpf_get_smp_processor_id();
	common->pad = 0;
	p = (void *)(common + 1);

	hdr = (void *)p;
	hdr->owner = RETISC_OWNER_COMMON;
	hdr->data_type = RETISC_COMMON_TYPE_TASK;
	hdr->size = sizeof(*task);
	task = (void *)(hdr + 1);
	task->pid_tgid = bpf_get_current_pid_tgid();
	retisc_task_comm(task->comm);
	p = (void *)(task + 1);

	if (retisc_cfg.probe_type == RETISC_PROBE_USDT) {
		/* doc/events.md §4.3: a USDT event has a userspace section and
		 * no kernel one (no kernel stack worth taking either). */
		struct retisc_raw_userspace *us;

		hdr = (void *)p;
		hdr->owner = RETISC_OWNER_USERSPACE;
		hdr->data_type = RETISC_USERSPACE_TYPE_PROBE;
		hdr->size = sizeof(*us);
		us = (void *)(hdr + 1);
		us->ip = PT_REGS_IP((struct pt_regs *)c);
		us->pid_tgid = task->pid_tgid;
		us->probe_id = ctx->cfg.probe_id;
		us->probe_type = ctx->cfg.probe_type;
		__builtin_memset(us->pad, 0, sizeof(us->pad));
		p = (void *)(us + 1);
		ev->used = (__u32)((void *)p - (void *)ev->data);
		return 0;
	}

	hdr = (void *)p;
	hdr->owner = RETISC_OWNER_KERNEL;
	hdr->data_type = RETISC_KERNEL_TYPE_PROBE;
	hdr->size = sizeof(*kernel);
	kernel = (void *)(hdr + 1);
	kernel->probe_id = ctx->cfg.probe_id;
	kernel->probe_type = ctx->cfg.probe_type;
	__builtin_memset(kernel->pad, 0, sizeof(kernel->pad));
	kernel->stack_id = -1;
	if (retisc_cfg.stack)
		/*
		 * A raw tracepoint's stack starts in the BPF dispatch (the
		 * program, then bpf_trace_run<N>); skip both so the first frame
		 * is the function that hit the tracepoint, as Retis shows it.
		 */
		kernel->stack_id = bpf_get_stackid(c, &retisc_stack_map,
						   retisc_cfg.probe_type == RETISC_PROBE_RAW_TP
							   ? 2 & BPF_F_SKIP_FIELD_MASK
							   : 0);
	p = (void *)(kernel + 1);

	ev->used = (__u32)((void *)p - (void *)ev->data);
	return 0;
}

/*
 * The built-in context extension of nft probes (doc/collectors.md §1.3): a
 * probe with a struct nft_traceinfo * and no struct sk_buff * gets the
 * packet's sk_buff from the trace info (up to 6.3) or from the struct
 * nft_pktinfo * argument (6.4+, when the trace info lost its pkt member);
 * any other probe with a struct nft_pktinfo * (nft_do_chain) from that.
 * Local flavours: nf_tables may be a module, whose BTF libbpf relocates
 * against; on probes without these arguments the code is pruned.
 */
struct nft_pktinfo___retisc {
	struct sk_buff *skb;
} __attribute__((preserve_access_index));

struct nft_traceinfo___retisc_pkt {
	const struct nft_pktinfo___retisc *pkt;
} __attribute__((preserve_access_index));

static __always_inline __u64 retisc_nft_skb(const struct retisc_ctx *ctx)
{
	const struct nft_pktinfo___retisc *pkt = NULL;

	if (retisc_cfg.arg_nft_traceinfo >= 0 && retisc_cfg.arg_nft_traceinfo < RETISC_MAX_ARGS &&
	    bpf_core_field_exists(struct nft_traceinfo___retisc_pkt, pkt)) {
		const struct nft_traceinfo___retisc_pkt *info =
			(const void *)ctx->args[retisc_cfg.arg_nft_traceinfo];

		pkt = BPF_CORE_READ(info, pkt);
	} else if (retisc_cfg.arg_nft_pktinfo >= 0 &&
		   retisc_cfg.arg_nft_pktinfo < RETISC_MAX_ARGS) {
		pkt = (const void *)ctx->args[retisc_cfg.arg_nft_pktinfo];
	}
	return pkt ? (__u64)BPF_CORE_READ(pkt, skb) : 0;
}

/*
 * Shared body of every probe type once the arguments are in ctx. Returns
 * with the chain started (tail call) or finished inline.
 */
static __always_inline void retisc_probe_run(void *c, struct retisc_ctx *ctx,
					     struct retisc_scratch *ev, void *progs)
{
	struct trk_ident id = {};
	__u8 flags;

	ctx->skb = 0;
	if (retisc_cfg.arg_skb >= 0 && retisc_cfg.arg_skb < RETISC_MAX_ARGS)
		ctx->skb = ctx->args[retisc_cfg.arg_skb];
	else if (retisc_cfg.arg_nft_traceinfo >= 0 || retisc_cfg.arg_nft_pktinfo >= 0)
		ctx->skb = retisc_nft_skb(ctx);
	else if (retisc_stack_skb_on) {
		__u64 *skb = bpf_map_lookup_elem(&retisc_stack_skb, &ctx->stack_base);

		if (skb)
			ctx->skb = *skb;
	}
	/* An sk_buff that cannot be read is no sk_buff to anyone. */
	if (ctx->skb && retisc_skb_snap_take(ctx))
		ctx->skb = 0;

	flags = retisc_filter(ctx, ev, &id);
	ctx->flags = flags;
	ctx->tracked = 0;
	ctx->trk_lost = 0;
	/* A tracked skb always passes the filters, so a hit that is not
	 * trackable belongs to an untracked packet. */
	if (retisc_cfg.tracking_on && ctx->skb)
		track_start(ctx, ev, &id, (flags & RETISC_F_TRACKABLE) == RETISC_F_TRACKABLE,
			    retisc_cfg.tracking, retisc_cfg.n_hooks);

	/*
	 * A probe without hooks never emits (the core's tracking-only probes,
	 * hit once per packet): its core sections, comm and stack included,
	 * would be written for nothing.
	 */
	if (retisc_cfg.n_hooks || retisc_cfg.probe_type == RETISC_PROBE_USDT)
		retisc_core_sections(c, ctx, ev);
	ctx->core_used = ev->used;
	/*
	 * The submit program writes events that hooks added to; a USDT hit is
	 * worth an event with its userspace section alone (the user's -p
	 * usdt:... probes have no hook), so that section counts as added.
	 */
	if (retisc_cfg.probe_type == RETISC_PROBE_USDT)
		ctx->core_used -=
			sizeof(struct retisc_section_hdr) + sizeof(struct retisc_raw_userspace);

	/* A USDT probe's chain is at least the submit program (setup.c). */
	if (retisc_cfg.n_hooks || retisc_cfg.probe_type == RETISC_PROBE_USDT) {
		bpf_tail_call(c, progs, retisc_cfg.probe_id * RETISC_CHAIN_SLOTS);
		/* Empty slot or failed call: count it, then end inline. */
		struct retisc_probe_stats *st = retisc_probe_stats(retisc_cfg.probe_id);

		if (st)
			st->chain_break++;
		ctx->veto = 1;
	}
	retisc_end_stage(ctx, ev);
}

/* Push a nesting level and return its context, NULL if none is free. */
static __always_inline struct retisc_ctx *retisc_enter(struct retisc_scratch **ev)
{
	__u32 zero = 0, level;
	struct retisc_global *g;
	struct retisc_ctx *ctx;
	__u32 *nest;

	g = bpf_map_lookup_elem(&retisc_global_map, &zero);
	if (!g || !g->enabled)
		return NULL;
	nest = retisc_nest_ptr();
	if (!nest)
		return NULL;
	level = *nest;
	if (level >= RETISC_NEST_MAX) {
		struct retisc_probe_stats *st = retisc_probe_stats(retisc_cfg.probe_id);

		if (st)
			st->nested_drop++;
		return NULL;
	}
	ctx = bpf_map_lookup_elem(&retisc_ctx_map, &level);
	*ev = bpf_map_lookup_elem(&retisc_scratch_map, &level);
	if (!ctx || !*ev)
		return NULL;
	*nest = level + 1;

	ctx->timestamp = bpf_ktime_get_ns();
	ctx->cfg = retisc_cfg;
	ctx->veto = 0;
	ctx->hook_idx = 0;
	ctx->retval = 0;
	(*ev)->used = 0;
	return ctx;
}

SEC("raw_tp")
int retisc_probe_tp(struct bpf_raw_tracepoint_args *c)
{
	struct retisc_scratch *ev;
	struct retisc_ctx *ctx;

	ctx = retisc_enter(&ev);
	if (!ctx)
		return 0;
		/* Reads past the tracepoint's arguments are refused at attach time:
		 * nargs is a verifier-known constant so unused reads are pruned. */
#pragma unroll
	for (int i = 0; i < RETISC_MAX_ARGS; i++)
		ctx->args[i] = i < retisc_cfg.nargs ? c->args[i] : 0;
	/*
	 * The argument array lives on the current kernel stack. Bitwise
	 * operations on pointers are refused by the verifier, but a privileged
	 * program may store one in a map value and read it back as a scalar.
	 */
	*(volatile __u64 *)&ctx->stack_base = (__u64)c;
	ctx->stack_base = *(volatile __u64 *)&ctx->stack_base & ~(retisc_thread_size - 1);
	retisc_probe_run(c, ctx, ev, &retisc_progs_tp);
	return 0;
}

static __always_inline void retisc_kprobe_args(struct pt_regs *c, struct retisc_ctx *ctx)
{
	__builtin_memset(ctx->args, 0, sizeof(ctx->args));
	ctx->args[0] = PT_REGS_PARM1(c);
	ctx->args[1] = PT_REGS_PARM2(c);
	ctx->args[2] = PT_REGS_PARM3(c);
	ctx->args[3] = PT_REGS_PARM4(c);
	ctx->args[4] = PT_REGS_PARM5(c);
	ctx->stack_base = PT_REGS_SP(c) & ~(retisc_thread_size - 1);
}

SEC("kprobe")
int retisc_probe_kp(struct pt_regs *c)
{
	struct retisc_scratch *ev;
	struct retisc_ctx *ctx;

	ctx = retisc_enter(&ev);
	if (!ctx)
		return 0;
	retisc_kprobe_args(c, ctx);
	retisc_probe_run(c, ctx, ev, &retisc_progs_kp);
	return 0;
}

/*
 * The arguments of each call a kretprobe waits for (doc/architecture.md
 * §4.2), stashed at entry by retisc_probe_krp_entry, keyed by thread: a
 * probe object is one probe, so the thread names the call (a function that
 * recurses sees its innermost call's arguments at every return). LRU: a
 * return the kretprobe misses (maxactive) leaves an entry the map reclaims.
 * Userspace shrinks it to one entry in objects of other probe types.
 */
struct retisc_krp_args {
	__u64 args[RETISC_MAX_ARGS];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct retisc_krp_args);
} retisc_krp_stash SEC(".maps");

SEC("kprobe")
int retisc_probe_krp_entry(struct pt_regs *c)
{
	struct retisc_krp_args a = {};
	__u64 tid = bpf_get_current_pid_tgid();

	a.args[0] = PT_REGS_PARM1(c);
	a.args[1] = PT_REGS_PARM2(c);
	a.args[2] = PT_REGS_PARM3(c);
	a.args[3] = PT_REGS_PARM4(c);
	a.args[4] = PT_REGS_PARM5(c);
	bpf_map_update_elem(&retisc_krp_stash, &tid, &a, BPF_ANY);
	return 0;
}

/*
 * At return the argument registers are gone: the arguments come from the
 * entry stash, so a kretprobe event has the sk_buff of its call (and joins
 * its packet's series) as Retis's do; the return value is ctx->retval. A
 * call whose entry was not seen (the probe attached mid-call) has none.
 */
SEC("kretprobe")
int retisc_probe_krp(struct pt_regs *c)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct retisc_krp_args *a = bpf_map_lookup_elem(&retisc_krp_stash, &tid);
	struct retisc_scratch *ev;
	struct retisc_ctx *ctx;

	ctx = retisc_enter(&ev);
	if (!ctx) {
		if (a)
			bpf_map_delete_elem(&retisc_krp_stash, &tid);
		return 0;
	}
	if (a) {
		__builtin_memcpy(ctx->args, a->args, sizeof(ctx->args));
		bpf_map_delete_elem(&retisc_krp_stash, &tid);
	} else {
		__builtin_memset(ctx->args, 0, sizeof(ctx->args));
	}
	ctx->retval = PT_REGS_RC(c);
	ctx->stack_base = PT_REGS_SP(c) & ~(retisc_thread_size - 1);
	retisc_probe_run(c, ctx, ev, &retisc_progs_kp);
	return 0;
}

/*
 * USDT probes (doc/collectors.md §8.5). libbpf keeps each probe's argument
 * specs in this object's own __bpf_usdt_* maps, which hooks (objects of
 * their own, shared by every probe) cannot see: the arguments are read
 * here, through bpf_usdt_arg(), into ctx->args as for a kprobe, and hooks
 * read ctx->args. Missing arguments stay 0. A uprobe runs in the thread
 * that hit it, on its kernel stack: stack_base is computed as for raw
 * tracepoints, from the address of the registers saved there.
 */
SEC("usdt")
int retisc_probe_usdt(struct pt_regs *c)
{
	struct retisc_scratch *ev;
	struct retisc_ctx *ctx;
	int cnt;

	ctx = retisc_enter(&ev);
	if (!ctx)
		return 0;
	__builtin_memset(ctx->args, 0, sizeof(ctx->args));
	cnt = bpf_usdt_arg_cnt(c);
	for (int i = 0; i < RETISC_MAX_ARGS && i < BPF_USDT_MAX_ARG_CNT; i++) {
		long v = 0;

		if (i >= cnt)
			break;
		if (!bpf_usdt_arg(c, i, &v))
			ctx->args[i] = (__u64)v;
	}
	*(volatile __u64 *)&ctx->stack_base = (__u64)c;
	ctx->stack_base = *(volatile __u64 *)&ctx->stack_base & ~(retisc_thread_size - 1);
	retisc_probe_run(c, ctx, ev, &retisc_progs_kp);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
