/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Meta filter compiler internals exposed for unit tests: compiling against a
 * caller-supplied BTF makes layouts the running kernel lacks testable
 * (3-byte bitfields, enum64, pointers to pointers, ...).
 */
#ifndef __RETISC_FILTER_META_H
#define __RETISC_FILTER_META_H

#include <stddef.h>

#include "filter.h"

struct btf;

/*
 * retisc_filter__compile_meta() with `btf` standing for vmlinux BTF (it must
 * hold struct sk_buff); casts are resolved in `btf` only, never in module
 * BTF. Same results and messages.
 */
int retisc_filter__compile_meta_btf(const char *expr, struct btf *btf, struct retisc_insns *out,
				    char *err, size_t errsz);

#endif
