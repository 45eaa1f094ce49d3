// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft hook (doc/collectors.md §7.4), targeted on kprobe:__nft_trace_packet:
 * the table, chain, rule and verdict of one rule-evaluation step. The
 * kernel types are local CO-RE flavours, picked by field and type
 * existence, never by version, so one object loads on nf_tables built in
 * (this project's 6.18) and as a module (Debian's 6.1, module BTF).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "nft.h"

const volatile __u64 retisc_nft_verdicts = RETISC_NFT_VERDICTS_DEFAULT;
const volatile struct retisc_nft_args retisc_nft_args = {-1, -1, -1, -1, -1};

/* enum nft_trace_types (include/uapi/linux/netfilter/nf_tables.h). */
#define NFT_TRACETYPE_POLICY 1
#define NFT_TRACETYPE_RETURN 2
/* Verdict codes (include/uapi/linux/netfilter/nf_tables.h, netfilter.h). */
#define NFT_CONTINUE_CODE (-1)
#define NFT_JUMP_CODE (-3)
#define NFT_GOTO_CODE (-4)
#define NF_VERDICT_MASK_CODE 0xff

struct nft_table___retisc {
	__u64 handle;
	char *name;
} __attribute__((preserve_access_index));

struct nft_chain___retisc {
	struct nft_table___retisc *table;
	__u64 handle;
	char *name;
} __attribute__((preserve_access_index));

struct nft_base_chain___retisc {
	__u8 policy;
	struct nft_chain___retisc chain;
} __attribute__((preserve_access_index));

struct nft_verdict___retisc {
	__u32 code;
	struct nft_chain___retisc *chain;
} __attribute__((preserve_access_index));

/*
 * Up to 6.3 the trace info carried the packet, rule and verdict; v6.4's
 * nf_tables trace rework (Florian Westphal's "netfilter: nf_tables: ...
 * trace" series) made them __nft_trace_packet's arguments. Told apart by
 * the existence of nft_traceinfo.rule.
 */
struct nft_traceinfo___retisc_old {
	const void *pkt;
	const void *rule;
	const struct nft_verdict___retisc *verdict;
	const struct nft_base_chain___retisc *basechain;
} __attribute__((preserve_access_index));

struct nft_traceinfo___retisc {
	const struct nft_base_chain___retisc *basechain;
} __attribute__((preserve_access_index));

/* Rules as the datapath walks them (v5.17, commit 2c865a8a28a1,
 * "netfilter: nf_tables: add rule blob layout"): a u64 of bitfields, then
 * the expressions. */
struct nft_rule_dp___retisc {
	__u64 is_last : 1, dlen : 12, handle : 42;
} __attribute__((preserve_access_index));

/* The trailing rule of a blob, which names the chain (6.4+). */
struct nft_rule_dp_last___retisc {
	const struct nft_chain___retisc *chain;
} __attribute__((preserve_access_index));

/* Before 5.17: struct nft_rule, handle after a list_head. */
struct nft_rule___retisc {
	__u64 handle : 42;
} __attribute__((preserve_access_index));

/* A 42-bit handle bitfield of a rule, either flavour; -1 when unknown. */
static __always_inline __s64 rule_handle(const void *rule)
{
	if (bpf_core_type_exists(struct nft_rule_dp___retisc)) {
		const struct nft_rule_dp___retisc *r = rule;

		return (__s64)BPF_CORE_READ_BITFIELD_PROBED(r, handle);
	}
	if (bpf_core_type_exists(struct nft_rule___retisc)) {
		const struct nft_rule___retisc *r = rule;

		return (__s64)BPF_CORE_READ_BITFIELD_PROBED(r, handle);
	}
	return -1;
}

static __always_inline int rule_is_last(const void *rule)
{
	const struct nft_rule_dp___retisc *r = rule;

	if (!bpf_core_type_exists(struct nft_rule_dp___retisc))
		return 0;
	return BPF_CORE_READ_BITFIELD_PROBED(r, is_last);
}

/* The chain of the rules blob rule belongs to: walk to its trailing rule, as
 * the kernel's own trace code does (6.4+). */
static __always_inline const struct nft_chain___retisc *chain_of_rule(const void *rule)
{
	const struct nft_rule_dp___retisc *r = rule;

	for (int i = 0; i < 1024; i++) {
		if (BPF_CORE_READ_BITFIELD_PROBED(r, is_last))
			break;
		r = (const void *)r + sizeof(__u64) + BPF_CORE_READ_BITFIELD_PROBED(r, dlen);
	}
	return BPF_CORE_READ((const struct nft_rule_dp_last___retisc *)r, chain);
}

RETISC_HOOK(nft)
{
	const struct nft_base_chain___retisc *basechain;
	const struct nft_verdict___retisc *verdict;
	const struct nft_chain___retisc *chain;
	struct retisc_raw_nft *s;
	const void *info, *rule;
	__u32 code, type = 0;
	__s32 idx;

	if (!retisc_gate_all(h))
		return 0;
	info = (const void *)retisc_arg(h, retisc_nft_args.info);
	if (!info)
		return 0;
	if (retisc_nft_args.type >= 0)
		type = (__u32)retisc_arg(h, retisc_nft_args.type);

	if (bpf_core_field_exists(struct nft_traceinfo___retisc_old, rule)) {
		const struct nft_traceinfo___retisc_old *i = info;

		rule = BPF_CORE_READ(i, rule);
		verdict = BPF_CORE_READ(i, verdict);
		basechain = BPF_CORE_READ(i, basechain);
		chain = (const void *)retisc_arg(h, retisc_nft_args.chain);
	} else {
		const struct nft_traceinfo___retisc *i = info;

		rule = (const void *)retisc_arg(h, retisc_nft_args.rule);
		verdict = (const void *)retisc_arg(h, retisc_nft_args.verdict);
		basechain = BPF_CORE_READ(i, basechain);
		if (rule)
			chain = chain_of_rule(rule);
		else
			chain = basechain ? &basechain->chain : NULL;
	}
	if (!chain)
		return 0;

	if (type == NFT_TRACETYPE_POLICY)
		code = basechain ? BPF_CORE_READ(basechain, policy) : 0;
	else if (verdict)
		code = BPF_CORE_READ(verdict, code);
	else
		return 0;
	/* NF_VERDICT_MASK: the upper bits carry a queue number or an errno. */
	idx = (__s32)code < 0 ? (__s32)code + 5 : (__s32)(code & NF_VERDICT_MASK_CODE) + 5;
	if (idx < 0 || idx >= RETISC_NFT_VERDICT_BITS || !(retisc_nft_verdicts & (1ULL << idx)))
		return RETISC_VETO;

	s = retisc_section_add(h, RETISC_NFT_TYPE_EVENT, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->policy = type == NFT_TRACETYPE_POLICY;
	s->verdict = code;
	bpf_probe_read_kernel_str(s->table_name, sizeof(s->table_name),
				  BPF_CORE_READ(chain, table, name));
	bpf_probe_read_kernel_str(s->chain_name, sizeof(s->chain_name), BPF_CORE_READ(chain, name));
	if (verdict && ((__s32)code == NFT_JUMP_CODE || (__s32)code == NFT_GOTO_CODE))
		bpf_probe_read_kernel_str(s->verdict_chain_name, sizeof(s->verdict_chain_name),
					  BPF_CORE_READ(verdict, chain, name));
	s->t_handle = (__s64)BPF_CORE_READ(chain, table, handle);
	s->c_handle = (__s64)BPF_CORE_READ(chain, handle);
	/*
	 * No rule for policies, the trailing rule of a blob, and the implicit
	 * return at a chain's end (RETURN with CONTINUE: the rule pointer is
	 * not a rule), as the kernel's nf_trace_fill_rule_info() decides.
	 */
	s->r_handle = -1;
	if (rule && verdict && !s->policy && !rule_is_last(rule) &&
	    !(type == NFT_TRACETYPE_RETURN && (__s32)code == NFT_CONTINUE_CODE))
		s->r_handle = rule_handle(rule);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
