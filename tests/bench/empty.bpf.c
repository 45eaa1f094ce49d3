// SPDX-License-Identifier: GPL-2.0-only
/* The floor of the per-hit benchmarks: a raw tracepoint program doing nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("raw_tp")
int retisc_bench_empty(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
