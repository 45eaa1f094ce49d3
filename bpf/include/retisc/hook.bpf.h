/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc BPF hook SDK: include this (after vmlinux.h and the libbpf BPF
 * headers) in a collector's <name>_hook.bpf.c and write one hook with
 * RETISC_HOOK():
 *
 *	RETISC_HOOK(my_hook)
 *	{
 *		struct my_section *s;
 *
 *		if (!retisc_gate_all(h))
 *			return 0;
 *		s = retisc_section_add(h, MY_TYPE, sizeof(*s));
 *		if (!s)
 *			return 0;
 *		s->mark = RETISC_SKB(h->ctx, mark);
 *		return 0;
 *	}
 *
 * The macro emits two programs, retisc_hook_tp (raw tracepoint chains) and
 * retisc_hook_kp (kprobe/kretprobe chains); the core loads the ones it needs
 * and inserts them in the tail-call chain of each probe the hook applies to.
 * The body runs with h->ctx (probe context, read-only except `veto`) and
 * h->ev (event under construction). Return 0, or RETISC_VETO to discard the
 * whole event. After the body the macro continues the chain; if the tail
 * call fails the event is dropped and counted (`chain_break`).
 *
 * retisc_owner is this object's section owner id; the core writes it into
 * the object's rodata before loading (plugin.h, retisc_section_desc.owner).
 */
#ifndef __RETISC_HOOK_BPF_H
#define __RETISC_HOOK_BPF_H

#include "ctx.h"
#include "event.h"
#include "maps.bpf.h"
#include "skb.bpf.h"

#define RETISC_VETO 1

#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

const volatile __u8 retisc_owner = 0;

struct retisc_hook_ctx {
	struct retisc_ctx *ctx;
	struct retisc_scratch *ev;
	__u32 level;
};

/* The skb passed both filters or is tracked (doc/collectors.md gate ALL). */
static __always_inline int retisc_gate_all(const struct retisc_hook_ctx *h)
{
	return (h->ctx->flags & RETISC_F_TRACKABLE) == RETISC_F_TRACKABLE;
}

static __always_inline __u64 retisc_arg(const struct retisc_hook_ctx *h, __s8 idx)
{
	__u32 i = (__u32)(__s32)idx;

	if (i >= RETISC_MAX_ARGS)
		return 0;
	return h->ctx->args[i];
}

/*
 * Append a section header for `owner` and reserve `size` payload bytes
 * (size is a compile-time constant in practice). Returns the payload, or NULL
 * when the event is full (counted as `too_big`). The payload is not zeroed.
 */
static __always_inline void *retisc_section_add_owner(struct retisc_hook_ctx *h, __u8 owner,
						      __u8 type, __u16 size)
{
	struct retisc_section_hdr *hdr;
	__u32 off = h->ev->used;

	if (off > RETISC_EVENT_MAX - sizeof(*hdr) - size) {
		struct retisc_probe_stats *st = retisc_probe_stats(h->ctx->cfg.probe_id);

		if (st)
			st->too_big++;
		return NULL;
	}
	barrier_var(off);
	off &= RETISC_EVENT_MAX - 1;
	hdr = (void *)&h->ev->data[off];
	hdr->owner = owner;
	hdr->data_type = type;
	hdr->size = size;
	h->ev->used = off + sizeof(*hdr) + size;
	return (void *)hdr + sizeof(*hdr);
}

static __always_inline void *retisc_section_add(struct retisc_hook_ctx *h, __u8 type, __u16 size)
{
	return retisc_section_add_owner(h, retisc_owner, type, size);
}

/*
 * Variable-size sections: reserve the largest payload with
 * retisc_section_add*(), fill it, then give the unused tail back with
 * retisc_section_shrink() (the ring buffer only carries the bytes used), or
 * drop the section with retisc_section_cancel() when filling it failed.
 * Both apply only to the section added last (payload is what its
 * retisc_section_add*() returned), before any other section is added.
 */
static __always_inline void retisc_section_shrink(struct retisc_hook_ctx *h, void *payload,
						  __u16 size)
{
	struct retisc_section_hdr *hdr = payload - sizeof(*hdr);
	__u16 reserved = hdr->size;

	if (size >= reserved)
		return;
	hdr->size = size;
	h->ev->used -= reserved - size;
}

static __always_inline void retisc_section_cancel(struct retisc_hook_ctx *h, void *payload)
{
	struct retisc_section_hdr *hdr = payload - sizeof(*hdr);

	h->ev->used -= sizeof(*hdr) + hdr->size;
}

/*
 * The sk_buff of this kernel stack, for the probes whose targeted hook has
 * RETISC_HOOK_STACK_SKB (plugin.h): set it where the packet's processing
 * starts, clear it where it ends, so that no later hit on the same stack
 * takes a packet that is gone.
 */
static __always_inline void retisc_stack_skb_set(const struct retisc_hook_ctx *h, __u64 skb)
{
	bpf_map_update_elem(&retisc_stack_skb, &h->ctx->stack_base, &skb, BPF_ANY);
}

static __always_inline void retisc_stack_skb_clear(const struct retisc_hook_ctx *h)
{
	bpf_map_delete_elem(&retisc_stack_skb, &h->ctx->stack_base);
}

static __always_inline int __retisc_hook_enter(struct retisc_hook_ctx *h)
{
	__u32 *nest = retisc_nest_ptr();
	__u32 level;

	if (!nest || *nest == 0 || *nest > RETISC_NEST_MAX)
		return -1;
	level = *nest - 1;
	h->level = level;
	h->ctx = bpf_map_lookup_elem(&retisc_ctx_map, &level);
	h->ev = bpf_map_lookup_elem(&retisc_scratch_map, &level);
	if (!h->ctx || !h->ev)
		return -1;
	return 0;
}

static __always_inline __u32 __retisc_hook_next(struct retisc_hook_ctx *h, int ret)
{
	if (ret == RETISC_VETO)
		h->ctx->veto = 1;
	h->ctx->hook_idx++;
	return h->ctx->cfg.probe_id * RETISC_CHAIN_SLOTS + h->ctx->hook_idx;
}

/* The chain cannot go on: drop this level's event so the CPU's nesting
 * depth stays right. (The core's end stage, tracking end of life, does not
 * run on this path; it only happens past the 33 tail-call limit.) */
static __always_inline void __retisc_hook_broken(struct retisc_hook_ctx *h)
{
	struct retisc_probe_stats *st = retisc_probe_stats(h->ctx->cfg.probe_id);
	__u32 *nest = retisc_nest_ptr();

	if (st)
		st->chain_break++;
	if (nest && *nest)
		(*nest)--;
}

#define RETISC_HOOK(fn)                                                                            \
	static __always_inline int fn(struct retisc_hook_ctx *h);                                  \
	SEC("raw_tp")                                                                              \
	int retisc_hook_tp(void *c)                                                                \
	{                                                                                          \
		struct retisc_hook_ctx h;                                                          \
		__u32 slot;                                                                        \
		if (__retisc_hook_enter(&h))                                                       \
			return 0;                                                                  \
		slot = __retisc_hook_next(&h, fn(&h));                                             \
		bpf_tail_call(c, &retisc_progs_tp, slot);                                          \
		__retisc_hook_broken(&h);                                                          \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kprobe")                                                                              \
	int retisc_hook_kp(struct pt_regs *c)                                                      \
	{                                                                                          \
		struct retisc_hook_ctx h;                                                          \
		__u32 slot;                                                                        \
		if (__retisc_hook_enter(&h))                                                       \
			return 0;                                                                  \
		slot = __retisc_hook_next(&h, fn(&h));                                             \
		bpf_tail_call(c, &retisc_progs_kp, slot);                                          \
		__retisc_hook_broken(&h);                                                          \
		return 0;                                                                          \
	}                                                                                          \
	static __always_inline int fn(struct retisc_hook_ctx *h)

#endif /* __RETISC_HOOK_BPF_H */
