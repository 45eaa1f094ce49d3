/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet (-f) and meta (-m) filters (doc/filters.md): compiled in
 * userspace into eBPF "stages" that are spliced into the core probe programs
 * at load time, replacing the placeholder calls of bpf/filter.bpf.h.
 *
 * Stage contract (doc/filters.md §1.1, §2.2): the stage starts with its input in
 * r1, leaves its result in r0 (non-zero: match), never executes `exit` and
 * "returns" by jumping to the instruction right after its last one (index
 * `n` of its array). It may use r0-r9 and the 80 bytes below r10 of its own
 * frame (it is spliced into a __noinline subprogram). It must contain no
 * unreachable instruction and at most RETISC_FILTER_MAX_INSNS instructions.
 */
#ifndef __RETISC_FILTER_H
#define __RETISC_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#define RETISC_FILTER_MAX_INSNS 4096
#define RETISC_FILTER_PASS 0x40000

/* Placeholder immediates (doc/filters.md §3.1). */
#define RETISC_FILTER_MAGIC_L2 0xdeadbeef
#define RETISC_FILTER_MAGIC_L3 0xdeadc0de
#define RETISC_FILTER_MAGIC_META 0xdeadbeed

/* A growable instruction array. Zero-initialise; release with __release. */
struct retisc_insns {
	struct bpf_insn *insns;
	size_t n;
	size_t cap;
};

int retisc_insns__push(struct retisc_insns *v, struct bpf_insn insn);
void retisc_insns__release(struct retisc_insns *v);

/*
 * Translate a classic BPF program (libpcap's output) into a stage whose r1 is
 * a struct retisc_packet_filter_ctx * (doc/filters.md §1.4). 0, or -EINVAL /
 * -E2BIG with the doc/filters.md message in err ("Unknown bpf instruction: N",
 * "unsupported ancillary load", "Filter exceeds the maximum allowed size.",
 * "Failed to convert filter: program is empty").
 */
struct sock_filter;
int retisc_filter__cbpf_to_ebpf(const struct sock_filter *prog, size_t len,
				struct retisc_insns *out, char *err, size_t errsz);

/*
 * Compile a pcap expression (doc/filters.md §2.1): the L2 stage always (failure
 * is an error: "Could not compile the filter: libpcap error: ..."), the L3
 * stage when possible (else *l3 is left empty and *has_l3 false).
 */
int retisc_filter__compile_pcap(const char *expr, struct retisc_insns *l2, struct retisc_insns *l3,
				bool *has_l3, char *err, size_t errsz);

/*
 * Compile a meta filter expression (doc/filters.md §4) against the running
 * kernel's BTF into a stage whose r1 is the struct sk_buff * (a scalar).
 * 0, or a negative errno with "meta filter: <message>" (doc/filters.md §4.4) in
 * err.
 */
int retisc_filter__compile_meta(const char *expr, struct retisc_insns *out, char *err,
				size_t errsz);

/* Filters for one collection: NULL stage = pass (L2/META) or reject (L3
 * when -f is given). Set by collect before loading probe programs. */
struct retisc_filters {
	bool active; /* -f or -m given */
	bool packet; /* -f given */
	struct retisc_insns l2, l3, meta;
	bool has_l3;
};

/*
 * Install the libbpf section handlers that splice the stages into every
 * probe program at load (doc/filters.md §3.2). Must be called before the probe
 * objects are opened; the filters must outlive the loads. 0 or -errno.
 */
int retisc_filter__install(const struct retisc_filters *f);
void retisc_filter__uninstall(void);

/*
 * Splice the stages into an instruction array in place of the placeholder
 * calls, fixing bpf-to-bpf calls, jumps, func_info and line_info offsets
 * (doc/filters.md §3.2 step 4). Exposed for unit tests. 0 or -errno.
 */
int retisc_filter__splice(const struct bpf_insn *insns, size_t n, const struct retisc_filters *f,
			  struct retisc_insns *out, void *func_info, uint32_t func_info_cnt,
			  uint32_t func_info_rec_size, void *line_info, uint32_t line_info_cnt,
			  uint32_t line_info_rec_size);

#endif
