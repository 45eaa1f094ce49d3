// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ovs queue id as the ovs hooks compute it (ovs_queue_id(), plugins/ovs/
 * ovs_hook.bpf.h), on a real sk_buff: test_verifier.c runs this program
 * with BPF_PROG_TEST_RUN on packets and compares its return value with
 * userspace's retisc_ovs_queue_id() (doc/collectors.md §8.4: both sides
 * must agree byte for byte).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "../../plugins/ovs/ovs_hook.bpf.h"

/* The kernel's struct sk_buff of a program context (6.2, "bpf: Add kfunc
 * bpf_cast_to_kern_ctx"): test only, the hooks get theirs as an argument. */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

SEC("tc")
int ovs_hash_test(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);

	return (int)ovs_queue_id(BPF_CORE_READ(skb, data), BPF_CORE_READ(skb, len),
				 BPF_CORE_READ(skb, data_len));
}

char LICENSE[] SEC("license") = "GPL";
