// SPDX-License-Identifier: GPL-2.0-only
/* Growable eBPF instruction arrays shared by the filter compilers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "filter.h"

int retisc_insns__push(struct retisc_insns *v, struct bpf_insn insn)
{
	if (v->n == v->cap) {
		/* Stages are small (≤ 4096 instructions) but splicing builds
		 * whole programs, so grow geometrically. */
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct bpf_insn *p;

		if (cap < v->cap || cap > SIZE_MAX / sizeof(*p))
			return -ENOMEM;
		p = realloc(v->insns, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->insns = p;
		v->cap = cap;
	}
	v->insns[v->n++] = insn;
	return 0;
}

void retisc_insns__release(struct retisc_insns *v)
{
	free(v->insns);
	v->insns = NULL;
	v->n = 0;
	v->cap = 0;
}
