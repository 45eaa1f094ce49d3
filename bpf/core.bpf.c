// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core object: owns every shared map (the other objects reuse them by
 * name) and the submit programs that end each tail-call chain, one per
 * program type because a PROG_ARRAY only chains programs of one type.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/maps.bpf.h>
#include "submit.bpf.h"

SEC("raw_tp")
int retisc_submit_tp(void *c)
{
	return retisc_submit();
}

SEC("kprobe")
int retisc_submit_kp(struct pt_regs *c)
{
	return retisc_submit();
}

char LICENSE[] SEC("license") = "GPL";
