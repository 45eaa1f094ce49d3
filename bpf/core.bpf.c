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

/*
 * kmem end of life (doc/tracking.md §9.10), tracepoint mode: raw
 * tracepoints kmem:kfree and kmem:kmem_cache_free, whose argument 1 is the
 * freed block on every kernel since 4.x. A freed block whose address is a
 * key is no longer that key's buffer or sk_buff, whatever path freed it:
 * TCP's __kfree_skb() of acknowledged segments, deferred receive frees,
 * pskb_expand_head()'s old head. These run for every free on the machine,
 * so a miss costs one array load and four compares: the filter holds the
 * addresses of live entries only.
 */
SEC("raw_tp")
int retisc_kmem_free(struct bpf_raw_tracepoint_args *c)
{
	__u64 ptr = c->args[1];
	struct retisc_kmem_bucket *b;
	struct retisc_tracking_info *ti;
	struct retisc_tracking_skb *s;
	__u32 idx = trk_kmem_slot(ptr);

	b = bpf_map_lookup_elem(&tracking_kmem_filter, &idx);
	if (!b || !ptr)
		return 0;
	if (b->addr[0] == ptr)
		b->addr[0] = 0;
	else if (b->addr[1] == ptr)
		b->addr[1] = 0;
	else if (b->addr[2] == ptr)
		b->addr[2] = 0;
	else if (b->addr[3] == ptr)
		b->addr[3] = 0;
	else
		return 0;
	ti = bpf_map_lookup_elem(&tracking_map, &ptr);
	if (ti && ti->timestamp) {
		/* A head change frees the old buffer before the packet is seen
		 * on its new one: V2 may still relink the id (§9.5). */
		ti->freed_timestamp = ti->timestamp;
		ti->timestamp = 0;
		trk_stat(TRK_KMEM);
	}
	s = bpf_map_lookup_elem(&tracking_skb_map, &ptr);
	if (s)
		s->head = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
