// SPDX-License-Identifier: GPL-2.0-only
/*
 * -f: pcap expression -> libpcap classic BPF -> eBPF stage (doc/filters.md §2).
 * Classic BPF semantics are kept exactly: 32-bit ALU, unsigned jumps,
 * out-of-bounds loads and division by zero reject the packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpcap's classic struct bpf_insn would clash with the eBPF one. */
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn

#include <linux/filter.h>

#include "filter.h"
#include "log.h"

/* eBPF instruction builders. */
#define I(c, d, s, o, i)                                                                           \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define R0 0
#define R1 1
#define R2 2
#define R3 3
#define R6 6
#define R7 7
#define R8 8
#define R10 10

/* Scratch layout below the stage's frame pointer (doc/filters.md §2.2). */
#define SCR_LOAD (-8)
#define SCR_MEM(k) (-72 + 4 * (k))
#define SCR_SAVED_A (-76)

#define HELPER_PROBE_READ_KERNEL 113

/* Offsets in struct retisc_packet_filter_ctx { u64 data; u32 len; u32 linear; } */
#define CTX_DATA 0
#define CTX_LEN 8
#define CTX_LINEAR 12

/* A jump whose target is resolved after emission. */
struct fixup {
	size_t at;   /* eBPF instruction to patch */
	long target; /* cBPF pc, or -1 for the end of the stage */
};

struct xlat {
	struct retisc_insns *out;
	struct fixup *fix;
	size_t nfix, capfix;
	size_t *start; /* eBPF index of each cBPF pc */
	int err;
};

static void emit(struct xlat *x, struct bpf_insn insn)
{
	if (!x->err)
		x->err = retisc_insns__push(x->out, insn);
}

/* Emit a jump (code with off to patch) to cBPF pc `target` or the end (-1). */
static void emit_jump(struct xlat *x, struct bpf_insn insn, long target)
{
	if (x->err)
		return;
	if (x->nfix == x->capfix) {
		size_t cap = x->capfix ? x->capfix * 2 : 64;
		struct fixup *f = realloc(x->fix, cap * sizeof(*f));

		if (!f) {
			x->err = -ENOMEM;
			return;
		}
		x->fix = f;
		x->capfix = cap;
	}
	x->fix[x->nfix].at = x->out->n;
	x->fix[x->nfix].target = target;
	x->nfix++;
	emit(x, insn);
}

/* Result 0 and leave the stage. */
static void emit_reject(struct xlat *x)
{
	emit(x, I(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 0));
	emit_jump(x, I(BPF_JMP | BPF_JA, 0, 0, 0, 0), -1);
}

/*
 * A = packet[off], off = k (+ X for indirect loads), size 1/2/4, big-endian
 * (doc/filters.md §2.3 LOAD). The packet is kernel memory: bounds-checked
 * against ctx->linear, then read with bpf_probe_read_kernel.
 */
static void emit_load(struct xlat *x, uint32_t k, int size, bool indirect, int dst)
{
	static const int sz[] = {[1] = BPF_B, [2] = BPF_H, [4] = BPF_W};

	/* r3 = off (64-bit, so off + size cannot wrap) */
	emit(x, I(BPF_ALU | BPF_MOV | BPF_K, R3, 0, 0, (int32_t)k));
	if (indirect)
		emit(x, I(BPF_ALU64 | BPF_ADD | BPF_X, R3, R7, 0, 0));
	/* r2 = off + size; if r2 > linear -> reject */
	emit(x, I(BPF_ALU64 | BPF_MOV | BPF_X, R2, R3, 0, 0));
	emit(x, I(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, size));
	emit(x, I(BPF_LDX | BPF_MEM | BPF_W, R1, R6, CTX_LINEAR, 0));
	emit(x, I(BPF_JMP | BPF_JLE | BPF_X, R2, R1, 2, 0));
	emit_reject(x);
	/* probe_read(scratch - 8, size, data + off) */
	emit(x, I(BPF_ALU64 | BPF_ADD | BPF_X, R3, R8, 0, 0));
	emit(x, I(BPF_ALU64 | BPF_MOV | BPF_X, R1, R10, 0, 0));
	emit(x, I(BPF_ALU64 | BPF_ADD | BPF_K, R1, 0, 0, SCR_LOAD));
	emit(x, I(BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, size));
	emit(x, I(BPF_JMP | BPF_CALL, 0, 0, 0, HELPER_PROBE_READ_KERNEL));
	emit(x, I(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 2, 0));
	emit_reject(x);
	emit(x, I(BPF_LDX | BPF_MEM | sz[size], dst, R10, SCR_LOAD, 0));
	if (size > 1)
		emit(x, I(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, size * 8));
}

static int bpf_op(uint16_t code)
{
	return BPF_OP(code);
}

/* Mark the cBPF instructions reachable from pc 0 (the verifier refuses
 * unreachable code in the spliced program). */
static int reachable(const struct sock_filter *p, size_t len, bool *seen)
{
	for (size_t pc = 0; pc < len; pc++) {
		uint16_t c = p[pc].code;

		if (pc && !seen[pc])
			continue;
		seen[pc] = true;
		if (BPF_CLASS(c) == BPF_RET)
			continue;
		if (BPF_CLASS(c) == BPF_JMP) {
			size_t t1, t2;

			if (BPF_OP(c) == BPF_JA) {
				t1 = pc + 1 + p[pc].k;
				if (t1 >= len)
					return -EINVAL;
				seen[t1] = true;
				continue;
			}
			t1 = pc + 1 + p[pc].jt;
			t2 = pc + 1 + p[pc].jf;
			if (t1 >= len || t2 >= len)
				return -EINVAL;
			seen[t1] = seen[t2] = true;
			continue;
		}
		if (pc + 1 < len)
			seen[pc + 1] = true;
	}
	return 0;
}

int retisc_filter__cbpf_to_ebpf(const struct sock_filter *p, size_t len, struct retisc_insns *out,
				char *err, size_t errsz)
{
	struct xlat x = {.out = out};
	bool uses_mem = false, *seen = NULL;
	int ret = 0;

	if (!len) {
		snprintf(err, errsz, "Failed to convert filter: program is empty");
		return -EINVAL;
	}
	seen = calloc(len, sizeof(*seen));
	x.start = calloc(len + 1, sizeof(*x.start));
	if (!seen || !x.start) {
		ret = -ENOMEM;
		goto out;
	}
	if (reachable(p, len, seen)) {
		snprintf(err, errsz, "Failed to convert filter: jump out of the program");
		ret = -EINVAL;
		goto out;
	}
	for (size_t pc = 0; pc < len; pc++) {
		uint16_t c = p[pc].code;

		if (seen[pc] && ((BPF_CLASS(c) == BPF_LD && BPF_MODE(c) == BPF_MEM) ||
				 (BPF_CLASS(c) == BPF_LDX && BPF_MODE(c) == BPF_MEM) ||
				 BPF_CLASS(c) == BPF_ST || BPF_CLASS(c) == BPF_STX))
			uses_mem = true;
	}

	/* Prologue (doc/filters.md §2.3). */
	emit(&x, I(BPF_JMP | BPF_JNE | BPF_K, R1, 0, 2, 0));
	emit_reject(&x);
	emit(&x, I(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0));
	emit(&x, I(BPF_LDX | BPF_MEM | BPF_DW, R8, R6, CTX_DATA, 0));
	emit(&x, I(BPF_JMP | BPF_JNE | BPF_K, R8, 0, 2, 0));
	emit_reject(&x);
	emit(&x, I(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 0));
	emit(&x, I(BPF_ALU | BPF_MOV | BPF_K, R7, 0, 0, 0));
	if (uses_mem)
		for (int k = 0; k < 16; k += 2)
			emit(&x, I(BPF_ST | BPF_MEM | BPF_DW, R10, 0, SCR_MEM(k), 0));

	for (size_t pc = 0; pc < len && !x.err && !ret; pc++) {
		const struct sock_filter *f = &p[pc];
		uint16_t c = f->code;
		int size = BPF_SIZE(c) == BPF_W ? 4 : BPF_SIZE(c) == BPF_H ? 2 : 1;

		x.start[pc] = out->n;
		if (!seen[pc])
			continue;
		switch (BPF_CLASS(c)) {
		case BPF_LD:
			switch (BPF_MODE(c)) {
			case BPF_ABS:
			case BPF_IND:
				if (f->k >= 0x80000000u) {
					snprintf(err, errsz, "unsupported ancillary load");
					ret = -EINVAL;
					break;
				}
				emit_load(&x, f->k, size, BPF_MODE(c) == BPF_IND, R0);
				break;
			case BPF_IMM:
				emit(&x, I(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, (int32_t)f->k));
				break;
			case BPF_LEN:
				emit(&x, I(BPF_LDX | BPF_MEM | BPF_W, R0, R6, CTX_LEN, 0));
				break;
			case BPF_MEM:
				if (f->k >= 16)
					goto bad_mem;
				emit(&x, I(BPF_LDX | BPF_MEM | BPF_W, R0, R10, SCR_MEM(f->k), 0));
				break;
			default:
				goto unknown;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(c)) {
			case BPF_IMM:
				emit(&x, I(BPF_ALU | BPF_MOV | BPF_K, R7, 0, 0, (int32_t)f->k));
				break;
			case BPF_LEN:
				emit(&x, I(BPF_LDX | BPF_MEM | BPF_W, R7, R6, CTX_LEN, 0));
				break;
			case BPF_MEM:
				if (f->k >= 16)
					goto bad_mem;
				emit(&x, I(BPF_LDX | BPF_MEM | BPF_W, R7, R10, SCR_MEM(f->k), 0));
				break;
			case BPF_MSH:
				if (f->k >= 0x80000000u) {
					snprintf(err, errsz, "unsupported ancillary load");
					ret = -EINVAL;
					break;
				}
				/* X = 4 * (pkt[k] & 0xf); A survives the helper call. */
				emit(&x, I(BPF_STX | BPF_MEM | BPF_W, R10, R0, SCR_SAVED_A, 0));
				emit_load(&x, f->k, 1, false, R7);
				emit(&x, I(BPF_ALU | BPF_AND | BPF_K, R7, 0, 0, 0xf));
				emit(&x, I(BPF_ALU | BPF_LSH | BPF_K, R7, 0, 0, 2));
				emit(&x, I(BPF_LDX | BPF_MEM | BPF_W, R0, R10, SCR_SAVED_A, 0));
				break;
			default:
				goto unknown;
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (f->k >= 16)
				goto bad_mem;
			emit(&x, I(BPF_STX | BPF_MEM | BPF_W, R10, BPF_CLASS(c) == BPF_ST ? R0 : R7,
				   SCR_MEM(f->k), 0));
			break;
		case BPF_ALU:
			if (bpf_op(c) == BPF_NEG) {
				emit(&x, I(BPF_ALU | BPF_NEG | BPF_K, R0, 0, 0, 0));
				break;
			}
			switch (bpf_op(c)) {
			case BPF_ADD:
			case BPF_SUB:
			case BPF_MUL:
			case BPF_DIV:
			case BPF_MOD:
			case BPF_AND:
			case BPF_OR:
			case BPF_XOR:
			case BPF_LSH:
			case BPF_RSH:
				break;
			default:
				goto unknown;
			}
			if (BPF_SRC(c) == BPF_X) {
				if (bpf_op(c) == BPF_DIV || bpf_op(c) == BPF_MOD) {
					/* cBPF: division by X = 0 rejects. */
					emit(&x, I(BPF_JMP32 | BPF_JNE | BPF_K, R7, 0, 2, 0));
					emit_reject(&x);
				}
				emit(&x, I(BPF_ALU | bpf_op(c) | BPF_X, R0, R7, 0, 0));
			} else {
				if ((bpf_op(c) == BPF_DIV || bpf_op(c) == BPF_MOD) && f->k == 0) {
					emit_reject(&x);
					break;
				}
				emit(&x, I(BPF_ALU | bpf_op(c) | BPF_K, R0, 0, 0, (int32_t)f->k));
			}
			break;
		case BPF_JMP:
			if (bpf_op(c) == BPF_JA) {
				emit_jump(&x, I(BPF_JMP | BPF_JA, 0, 0, 0, 0),
					  (long)(pc + 1 + f->k));
				break;
			}
			switch (bpf_op(c)) {
			case BPF_JEQ:
			case BPF_JGT:
			case BPF_JGE:
			case BPF_JSET:
				break;
			default:
				goto unknown;
			}
			if (BPF_SRC(c) == BPF_X)
				emit_jump(&x, I(BPF_JMP32 | bpf_op(c) | BPF_X, R0, R7, 0, 0),
					  (long)(pc + 1 + f->jt));
			else
				emit_jump(&x,
					  I(BPF_JMP32 | bpf_op(c) | BPF_K, R0, 0, 0, (int32_t)f->k),
					  (long)(pc + 1 + f->jt));
			if (f->jf)
				emit_jump(&x, I(BPF_JMP | BPF_JA, 0, 0, 0, 0),
					  (long)(pc + 1 + f->jf));
			break;
		case BPF_RET:
			if (BPF_RVAL(c) == BPF_K)
				emit(&x, I(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, (int32_t)f->k));
			else if (BPF_RVAL(c) != BPF_A)
				goto unknown;
			emit_jump(&x, I(BPF_JMP | BPF_JA, 0, 0, 0, 0), -1);
			break;
		case BPF_MISC:
			if (BPF_MISCOP(c) == BPF_TAX)
				emit(&x, I(BPF_ALU | BPF_MOV | BPF_X, R7, R0, 0, 0));
			else if (BPF_MISCOP(c) == BPF_TXA)
				emit(&x, I(BPF_ALU | BPF_MOV | BPF_X, R0, R7, 0, 0));
			else
				goto unknown;
			break;
		default:
			goto unknown;
		}
		continue;
	unknown:
		snprintf(err, errsz, "Unknown bpf instruction: %u", c);
		ret = -EINVAL;
		break;
	bad_mem:
		snprintf(err, errsz, "Failed to convert filter: scratch memory index %u", f->k);
		ret = -EINVAL;
		break;
	}
	if (ret)
		goto out;
	/* A program falling off its end (libpcap never makes one) rejects. */
	if (BPF_CLASS(p[len - 1].code) != BPF_RET && BPF_CLASS(p[len - 1].code) != BPF_JMP)
		emit(&x, I(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 0));
	x.start[len] = out->n;
	if (x.err) {
		ret = x.err;
		goto out;
	}
	/* Resolve jumps; a trailing jump to the end is kept (it is reachable
	 * and harmless: ja +0). */
	for (size_t i = 0; i < x.nfix; i++) {
		size_t target = x.fix[i].target < 0 ? out->n : x.start[x.fix[i].target];
		long off = (long)target - (long)x.fix[i].at - 1;

		out->insns[x.fix[i].at].off = (int16_t)off;
	}
	if (out->n > RETISC_FILTER_MAX_INSNS) {
		snprintf(err, errsz, "Filter exceeds the maximum allowed size.");
		ret = -E2BIG;
	}
out:
	free(seen);
	free(x.start);
	free(x.fix);
	return ret;
}

/* Link-layer byte accessors index the IP header on DLT_RAW (doc/filters.md §2.1). */
static bool has_link_accessor(const char *expr)
{
	static const char *const kw[] = {"ether", "link", "ppp", "fddi", "tr", "wlan"};

	for (const char *s = expr; *s; s++) {
		for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
			size_t n = strlen(kw[i]);
			const char *t = s + n;

			if (strncmp(s, kw[i], n))
				continue;
			if (s > expr && ((s[-1] >= 'a' && s[-1] <= 'z') || s[-1] == '_'))
				continue;
			while (*t == ' ' || *t == '\t')
				t++;
			if (*t == '[')
				return true;
		}
	}
	return false;
}

static int compile_one(int dlt, const char *expr, struct retisc_insns *out, char *err, size_t errsz)
{
	struct bpf_program prog = {};
	pcap_t *p = pcap_open_dead(dlt, 262144);
	int ret;

	if (!p) {
		snprintf(err, errsz, "Could not compile the filter: cannot open a pcap handle");
		return -ENOMEM;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errsz, "Could not compile the filter: libpcap error: %s",
			 pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	ret = retisc_filter__cbpf_to_ebpf((const struct sock_filter *)prog.bf_insns, prog.bf_len,
					  out, err, errsz);
	pcap_freecode(&prog);
	pcap_close(p);
	return ret;
}

int retisc_filter__compile_pcap(const char *expr, struct retisc_insns *l2, struct retisc_insns *l3,
				bool *has_l3, char *err, size_t errsz)
{
	char l3err[512];
	int ret;

	*has_l3 = false;
	ret = compile_one(DLT_EN10MB, expr, l2, err, errsz);
	if (ret)
		return ret;
	if (has_link_accessor(expr)) {
		pr_debug("Skipping L3 filter generation (ether[n:m] not allowed)");
	} else if (compile_one(DLT_RAW, expr, l3, l3err, sizeof(l3err))) {
		retisc_insns__release(l3);
		pr_debug("Skipping L3 filter generation (%s).", l3err);
	} else {
		*has_l3 = true;
	}
	pr_info("%s packet filter(s) loaded", *has_l3 ? "L2+L3" : "L2");
	return 0;
}
