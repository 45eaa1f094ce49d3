/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw event ABI, shared by BPF and userspace (fixed-width types only).
 *
 * An event in the ring buffer is a sequence of sections, each a
 * struct retisc_section_hdr followed by `size` payload bytes, native endian.
 * The record length given by the ring buffer delimits the event: there is no
 * event header. Payload structs use natural C alignment on 64-bit and sizes
 * include their tail padding (doc/collectors.md §1.4); a section header is
 * 4 bytes, so payloads are read with memcpy by userspace.
 *
 * Owner ids 1..31 are fixed (Retis numbering, doc/collectors.md §1.4); ids from
 * RETISC_OWNER_DYNAMIC on are handed to third-party plugins at load time.
 */
#ifndef __RETISC_EVENT_H
#define __RETISC_EVENT_H

#ifdef __BPF__
/* vmlinux.h provides the __u* types. */
#else
#include <linux/types.h>
#endif

/* Largest event; a power of two so BPF code can mask offsets with it. */
#define RETISC_EVENT_MAX 4096

struct retisc_section_hdr {
	__u8 owner;
	__u8 data_type;
	__u16 size; /* payload bytes after this header */
};

enum retisc_owner {
	RETISC_OWNER_COMMON = 1,
	RETISC_OWNER_KERNEL = 2,
	RETISC_OWNER_USERSPACE = 3,
	RETISC_OWNER_SKB_TRACKING = 4,
	RETISC_OWNER_SKB_DROP = 5,
	RETISC_OWNER_SKB = 6,
	RETISC_OWNER_OVS = 7,
	RETISC_OWNER_NFT = 8,
	RETISC_OWNER_CT = 9,
	RETISC_OWNER_DEV = 10,
	RETISC_OWNER_NS = 11,
	RETISC_OWNER_DYNAMIC = 32,
	RETISC_OWNER_MAX = 255,
};

/* owner COMMON, data type 1 */
#define RETISC_COMMON_TYPE_EVENT 1
struct retisc_raw_common {
	__u64 timestamp; /* bpf_ktime_get_ns() at probe entry */
	__u32 smp_id;
	__u32 pad;
};

/* owner COMMON, data type 2 */
#define RETISC_COMMON_TYPE_TASK 2
struct retisc_raw_task {
	__u64 pid_tgid; /* bpf_get_current_pid_tgid() */
	char comm[16];
};

/* owner KERNEL, data type 1 */
#define RETISC_KERNEL_TYPE_PROBE 1
struct retisc_raw_kernel {
	__u32 probe_id;	 /* index in the core's probe table */
	__s32 stack_id;	 /* stack map id, < 0 when no stack was requested/read */
	__u8 probe_type; /* enum retisc_probe_type */
	__u8 pad[7];
};

/*
 * owner USERSPACE, data type 1: the probe of a USDT event, written instead
 * of the kernel section (doc/events.md §4.3). The decoder takes the
 * provider:name and the binary's path from the probe table.
 */
#define RETISC_USERSPACE_TYPE_PROBE 1
struct retisc_raw_userspace {
	__u64 ip;	 /* user address of the probe */
	__u64 pid_tgid;	 /* bpf_get_current_pid_tgid() */
	__u32 probe_id;	 /* index in the core's probe table */
	__u8 probe_type; /* RETISC_PROBE_USDT */
	__u8 pad[3];
};

/* owner SKB_TRACKING, data type 1 (doc/tracking.md §8; `lost` is retisc's) */
struct retisc_raw_skb_tracking {
	__u64 orig_head;
	__u64 timestamp;
	__u64 skb;
	/*
	 * retisc: events of this packet that could not be written to the ring
	 * buffer since the previous event of the packet that got through.
	 * Written to JSON as "lost" only when non-zero (Retis ignores it).
	 */
	__u32 lost;
	__u32 pad;
};

enum retisc_probe_type {
	RETISC_PROBE_RAW_TP = 1,
	RETISC_PROBE_KPROBE = 2,
	RETISC_PROBE_KRETPROBE = 3,
	RETISC_PROBE_USDT = 4,
};

#endif /* __RETISC_EVENT_H */
