// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load-time injection of the filter stages (doc/filters.md §3.2, option A): a
 * libbpf section handler's prepare-load callback replaces each placeholder
 * `call <magic>` of the probe programs by its stage, after CO-RE relocation
 * and subprogram linking, and fixes every offset that spans it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter.h"
#include "log.h"

#define LIBBPF_POISON_CALL 0xbad2310

static const struct retisc_filters *installed;
static int handler_ids[3];
static int n_handlers;

static bool is_magic(const struct bpf_insn *in, uint32_t *magic)
{
	uint32_t imm = (uint32_t)in->imm;

	if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg != 0 || imm == LIBBPF_POISON_CALL)
		return false;
	if (imm != RETISC_FILTER_MAGIC_L2 && imm != RETISC_FILTER_MAGIC_L3 &&
	    imm != RETISC_FILTER_MAGIC_META)
		return false;
	*magic = imm;
	return true;
}

/* An absent stage: constant pass (L2, META, L3 without -f) or reject (L3
 * when -f could not build one), doc/filters.md §1.1. */
static void stage_for(const struct retisc_filters *f, uint32_t magic, const struct bpf_insn **s,
		      size_t *n, struct bpf_insn *konst)
{
	const struct retisc_insns *v = NULL;
	int32_t value = RETISC_FILTER_PASS;

	if (magic == RETISC_FILTER_MAGIC_L2 && f->packet)
		v = &f->l2;
	else if (magic == RETISC_FILTER_MAGIC_L3 && f->packet)
		v = f->has_l3 ? &f->l3 : NULL, value = 0;
	else if (magic == RETISC_FILTER_MAGIC_META && f->meta.n)
		v = &f->meta;
	if (v && v->n) {
		*s = v->insns;
		*n = v->n;
		return;
	}
	*konst = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = value};
	*s = konst;
	*n = 1;
}

struct place {
	size_t pos;
	size_t grow; /* stage length - 1 */
	const struct bpf_insn *stage;
	size_t n;
};

/* New index of original instruction x: x plus the growth of every
 * placeholder before it. */
static size_t new_pos(const struct place *pl, size_t np, size_t x)
{
	size_t r = x;

	for (size_t i = 0; i < np; i++)
		if (pl[i].pos < x)
			r += pl[i].grow;
	return r;
}

static bool is_jump(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

int retisc_filter__splice(const struct bpf_insn *insns, size_t n, const struct retisc_filters *f,
			  struct retisc_insns *out, void *func_info, uint32_t func_info_cnt,
			  uint32_t func_info_rec_size, void *line_info, uint32_t line_info_cnt,
			  uint32_t line_info_rec_size)
{
	struct bpf_insn konst[3];
	struct place pl[3];
	size_t np = 0;
	int err;

	for (size_t i = 0; i < n; i++) {
		uint32_t magic;

		if (!is_magic(&insns[i], &magic))
			continue;
		for (size_t j = 0; j < np; j++) {
			if ((uint32_t)insns[pl[j].pos].imm == magic) {
				pr_err("filter: found duplicate %#x at %zu", magic, i);
				return -EINVAL;
			}
		}
		pl[np].pos = i;
		stage_for(f, magic, &pl[np].stage, &pl[np].n, &konst[np]);
		pl[np].grow = pl[np].n - 1;
		np++;
	}
	for (size_t i = 0; i < n; i++) {
		struct bpf_insn in = insns[i];
		bool placeholder = false;

		for (size_t j = 0; j < np; j++) {
			if (pl[j].pos != i)
				continue;
			placeholder = true;
			for (size_t k = 0; k < pl[j].n; k++)
				if ((err = retisc_insns__push(out, pl[j].stage[k])))
					return err;
		}
		if (placeholder)
			continue;
		if (np &&
		    (is_jump(&in) ||
		     (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL) ||
		     (in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.src_reg == BPF_PSEUDO_FUNC))) {
			bool use_imm = in.code == (BPF_JMP | BPF_CALL) ||
				       in.code == (BPF_LD | BPF_IMM | BPF_DW) ||
				       in.code == (BPF_JMP32 | BPF_JA);
			long rel = use_imm ? in.imm : in.off;
			long target = (long)i + rel + 1;
			long nrel = (long)new_pos(pl, np, (size_t)target) -
				    (long)new_pos(pl, np, i) - 1;

			if (use_imm) {
				in.imm = (int32_t)nrel;
			} else {
				if (nrel > INT16_MAX || nrel < INT16_MIN)
					return -E2BIG;
				in.off = (int16_t)nrel;
			}
		}
		if ((err = retisc_insns__push(out, in)))
			return err;
		/* The second half of a 64-bit immediate is data. */
		if (in.code == (BPF_LD | BPF_IMM | BPF_DW) && i + 1 < n) {
			if ((err = retisc_insns__push(out, insns[++i])))
				return err;
		}
	}
	/* struct bpf_func_info / bpf_line_info both start with insn_off. */
	for (uint32_t i = 0; func_info && i < func_info_cnt; i++) {
		uint32_t *off = (uint32_t *)((char *)func_info + (size_t)i * func_info_rec_size);

		*off = (uint32_t)new_pos(pl, np, *off);
	}
	for (uint32_t i = 0; line_info && i < line_info_cnt; i++) {
		uint32_t *off = (uint32_t *)((char *)line_info + (size_t)i * line_info_rec_size);

		*off = (uint32_t)new_pos(pl, np, *off);
	}
	return 0;
}

static int prepare_load(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	struct retisc_insns out = {};
	int err;

	(void)cookie;
	if (!installed)
		return 0;
	err = retisc_filter__splice(bpf_program__insns(prog), bpf_program__insn_cnt(prog),
				    installed, &out, (void *)opts->func_info, opts->func_info_cnt,
				    opts->func_info_rec_size, (void *)opts->line_info,
				    opts->line_info_cnt, opts->line_info_rec_size);
	if (!err && out.n != bpf_program__insn_cnt(prog))
		err = bpf_program__set_insns(prog, out.insns, out.n);
	retisc_insns__release(&out);
	if (err)
		pr_err("Cannot inject the filters into %s: %s", bpf_program__name(prog),
		       strerror(-err));
	return err;
}

int retisc_filter__install(const struct retisc_filters *f)
{
	static const struct {
		const char *sec;
		enum bpf_prog_type type;
	} secs[] = {
		{"raw_tp", BPF_PROG_TYPE_RAW_TRACEPOINT},
		{"kprobe", BPF_PROG_TYPE_KPROBE},
		{"kretprobe", BPF_PROG_TYPE_KPROBE},
	};
	LIBBPF_OPTS(libbpf_prog_handler_opts, o, .prog_prepare_load_fn = prepare_load);

	installed = f;
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		int id = libbpf_register_prog_handler(secs[i].sec, secs[i].type, 0, &o);

		if (id < 0) {
			retisc_filter__uninstall();
			return id;
		}
		handler_ids[n_handlers++] = id;
	}
	return 0;
}

void retisc_filter__uninstall(void)
{
	while (n_handlers > 0)
		libbpf_unregister_prog_handler(handler_ids[--n_handlers]);
	installed = NULL;
}
