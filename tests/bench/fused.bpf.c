// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hand-fused reference of `make bench` (tests/bench/README.md): what a
 * kernel engineer would write by hand for the job of
 * `collect -c skb-tracking,skb,skb-drop` on one tracepoint, in one program
 * without the plugin machinery: a few CO-RE reads, an LRU lookup/insert
 * keyed by the data buffer's address, one 224-byte ring record (common,
 * kernel and tracking fields, 128 packet bytes, the drop reason), and the
 * entry deleted at the end of life (kfree_skb, consume_skb).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* 0: a path tracepoint, 1: kfree_skb (an event, then end of life), 2:
 * consume_skb (end of life only). */
const volatile int fused_kind = 0;
const volatile __u32 fused_probe_id = 0;

struct fused_id {
	__u64 timestamp;
	__u64 orig_head;
};

struct fused_rec {
	__u64 timestamp;
	__u32 cpu;
	__u32 probe_id;
	__u64 pid_tgid;
	char comm[16];
	__u64 orig_head;
	__u64 id_timestamp;
	__u64 skb;
	__s32 drop_reason;
	__u32 len;
	__u8 data[128];
	__u8 pad[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct fused_id);
} fused_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} fused_ring SEC(".maps");

SEC("raw_tp")
int retisc_bench_fused(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (void *)ctx->args[0];
	__u64 head = (__u64)BPF_CORE_READ(skb, head), now = bpf_ktime_get_ns();
	struct fused_id *id, fresh;
	struct fused_rec *r;
	__u16 mac;

	if (fused_kind == 2) {
		bpf_map_delete_elem(&fused_ids, &head);
		return 0;
	}
	id = bpf_map_lookup_elem(&fused_ids, &head);
	if (!id) {
		fresh.timestamp = now;
		fresh.orig_head = head;
		bpf_map_update_elem(&fused_ids, &head, &fresh, BPF_ANY);
		id = &fresh;
	}
	r = bpf_ringbuf_reserve(&fused_ring, sizeof(*r), 0);
	if (r) {
		r->timestamp = now;
		r->cpu = bpf_get_smp_processor_id();
		r->probe_id = fused_probe_id;
		r->pid_tgid = bpf_get_current_pid_tgid();
		bpf_get_current_comm(r->comm, sizeof(r->comm));
		r->orig_head = id->orig_head;
		r->id_timestamp = id->timestamp;
		r->skb = (__u64)skb;
		r->drop_reason = fused_kind == 1 ? (__s32)ctx->args[2] : 0;
		r->len = BPF_CORE_READ(skb, len);
		mac = BPF_CORE_READ(skb, mac_header);
		if (bpf_probe_read_kernel(r->data, sizeof(r->data), (void *)head + mac))
			r->len = 0;
		/* No wake-up per record: the reader drains every 10 ms, as retisc's bus does. */
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	if (fused_kind == 1)
		bpf_map_delete_elem(&fused_ids, &head);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
