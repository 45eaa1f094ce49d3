/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw section of the nft collector (owner 8, doc/collectors.md §7.4), shared
 * by nft_hook.bpf.c and nft.c. Fixed-width types only; the layout is Retis's
 * nft_event (424 bytes), so that raw sections are the same on both sides.
 */
#ifndef __RETISC_NFT_H
#define __RETISC_NFT_H

#define RETISC_NFT_TYPE_EVENT 1
#define RETISC_NFT_NAME_MAX 128

struct retisc_raw_nft {
	char table_name[RETISC_NFT_NAME_MAX];
	char chain_name[RETISC_NFT_NAME_MAX];
	__u32 verdict; /* the verdict code as the kernel holds it (s32 meaning) */
	char verdict_chain_name[RETISC_NFT_NAME_MAX];
	__s64 t_handle;
	__s64 c_handle;
	__s64 r_handle; /* -1: no rule (policy, implicit return, last rule) */
	__u8 policy;
	__u8 pad[7];
};

/*
 * Verdict filter bits: bit (code + 5) for codes -5 (return) .. 4 (repeat)
 * (doc/collectors.md §7.3). Default drop,accept.
 */
#define RETISC_NFT_VERDICT_BITS 10
#define RETISC_NFT_VERDICTS_ALL ((1ULL << RETISC_NFT_VERDICT_BITS) - 1)
#define RETISC_NFT_VERDICTS_DEFAULT 0x60ULL

/*
 * Positions of __nft_trace_packet's parameters, from BTF (-1: absent), set
 * in the hook's rodata: the signature changed in 6.4 (doc/collectors.md
 * §7.3).
 */
struct retisc_nft_args {
	__s8 chain;   /* const struct nft_chain * (<= 6.3) */
	__s8 rule;    /* const struct nft_rule_dp * (6.4+) */
	__s8 verdict; /* const struct nft_verdict * (6.4+) */
	__s8 type;    /* enum nft_trace_types */
	__s8 info;    /* struct nft_traceinfo * */
	__u8 pad[3];
};

#endif
