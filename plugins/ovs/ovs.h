/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw sections of the ovs collector (owner 7, doc/collectors.md §8.6),
 * shared by the ovs hooks and ovs.c. Fixed-width types and fixed arrays
 * only; the layouts are Retis's, so that raw sections are the same on both
 * sides (ovs.c checks sizes and offsets).
 */
#ifndef __RETISC_OVS_H
#define __RETISC_OVS_H

/* Data types, one per raw section. */
#define RETISC_OVS_TYPE_UPCALL 0
#define RETISC_OVS_TYPE_UPCALL_ENQUEUE 1
#define RETISC_OVS_TYPE_UPCALL_RETURN 2
#define RETISC_OVS_TYPE_RECV_UPCALL 3
#define RETISC_OVS_TYPE_OPERATION 4
#define RETISC_OVS_TYPE_ACTION 5
#define RETISC_OVS_TYPE_ACTION_TRACK 6
#define RETISC_OVS_TYPE_OUTPUT 7
#define RETISC_OVS_TYPE_RECIRC 8
#define RETISC_OVS_TYPE_CT 9
#define RETISC_OVS_TYPE_DROP 10
#define RETISC_OVS_TYPE_FLOW_LOOKUP 11

/* 0: openvswitch:ovs_dp_upcall. */
struct retisc_ovs_upcall {
	__u32 port; /* upcall_info->portid: the netlink port the packet goes to */
	__u32 cpu;
	__u8 cmd; /* OVS_PACKET_CMD_* */
	__u8 pad[3];
};

/* 1: kretprobe queue_userspace_packet (--ovs-track). */
struct retisc_ovs_upcall_enqueue {
	__u64 upcall_ts;
	__u32 upcall_cpu;
	__u32 queue_id;
	__u32 port;
	__s32 ret;
	__u8 cmd;
	__u8 pad[7];
};

/* 2: kretprobe ovs_dp_upcall. */
struct retisc_ovs_upcall_return {
	__u64 upcall_ts; /* the upcall event's common timestamp */
	__u32 upcall_cpu;
	__s32 ret;
};

/* 3: USDT dpif_recv:recv_upcall (--ovs-track). */
struct retisc_ovs_recv_upcall {
	__u64 key_size;
	__u64 batch_ts;
	__u32 pkt_size;
	__u32 queue_id;
	__u32 type;
	__u8 batch_idx;
	__u8 pad[3];
};

/* 4: USDT op_flow_put / op_flow_execute (--ovs-track). */
#define RETISC_OVS_OP_EXEC 0
#define RETISC_OVS_OP_PUT 1
struct retisc_ovs_operation {
	__u64 batch_ts;
	__u32 queue_id;
	__u8 batch_idx;
	__u8 type; /* RETISC_OVS_OP_* */
	__u8 pad[2];
};

/* 5: openvswitch:ovs_do_execute_action, followed by 6 and one of 7-10. */
struct retisc_ovs_action {
	__u32 recirc_id;
	__u8 action; /* enum ovs_action_attr of the running kernel */
	__u8 pad[3];
};

/* 6: the packet is an upcalled one sent back by ovs-vswitchd. */
struct retisc_ovs_action_track {
	__u32 queue_id;
};

/* 7: OVS_ACTION_ATTR_OUTPUT. */
struct retisc_ovs_output {
	__u32 port;
};

/* 8: OVS_ACTION_ATTR_RECIRC. */
struct retisc_ovs_recirc {
	__u32 id;
};

/* 9: OVS_ACTION_ATTR_CT; flags below. */
#define RETISC_OVS_CT_COMMIT 0x1
#define RETISC_OVS_CT_FORCE 0x2
#define RETISC_OVS_CT_IP4 0x4
#define RETISC_OVS_CT_IP6 0x8
#define RETISC_OVS_CT_NAT 0x10
#define RETISC_OVS_CT_NAT_SRC 0x20
#define RETISC_OVS_CT_NAT_DST 0x40
#define RETISC_OVS_CT_RANGE_MAP_IPS 0x80
#define RETISC_OVS_CT_RANGE_PROTO_SPECIFIED 0x100
#define RETISC_OVS_CT_RANGE_PROTO_RANDOM 0x200
#define RETISC_OVS_CT_RANGE_PERSISTENT 0x400
#define RETISC_OVS_CT_RANGE_PROTO_RANDOM_FULLY 0x800
struct retisc_ovs_ct {
	__u8 min[16]; /* NAT range: IPv4 in the first 4 bytes, or IPv6 */
	__u8 max[16];
	__u32 flags; /* RETISC_OVS_CT_* */
	__u16 zone_id;
	__u16 min_port; /* network order */
	__u16 max_port; /* network order */
	__u8 pad[2];
};

/* 10: OVS_ACTION_ATTR_DROP (kernels that have it). */
struct retisc_ovs_drop {
	__u32 reason;
};

/* 11: kretprobe ovs_flow_tbl_lookup_stats. */
struct retisc_ovs_flow_lookup {
	__u64 flow; /* struct sw_flow *, 0: miss */
	__u64 sf_acts;
	__u32 ufid[4];
	__u32 n_mask_hit;
	__u32 n_cache_hit;
};

/* retisc_ovs_track, the hooks' --ovs-track switch. */
#define RETISC_OVS_TRACK_OFF 0
#define RETISC_OVS_TRACK_ON 1	/* with the kernel side: recv_upcall gates on upcall_tracking */
#define RETISC_OVS_TRACK_USDT 2 /* USDT side alone (no kprobes): every upcall received */

/*
 * ovs-vswitchd's handler threads (--ovs-track), in the USDT hooks' rodata:
 * slot i of upcall_batches belongs to thread tid[i] (doc/collectors.md
 * §8.5).
 */
#define RETISC_OVS_MAX_HANDLERS 128
struct retisc_ovs_handlers {
	__u32 n;
	__u32 tid[RETISC_OVS_MAX_HANDLERS];
};

/*
 * Positions of the parameters the hooks read (doc/collectors.md §8.3),
 * from BTF by type (-1: absent), set in the hooks' rodata.
 */
struct retisc_ovs_args {
	__s8 upcall_info;	  /* tp ovs_dp_upcall: const struct dp_upcall_info * */
	__s8 key;		  /* tp ovs_do_execute_action: struct sw_flow_key * */
	__s8 attr;		  /* tp ovs_do_execute_action: const struct nlattr * */
	__s8 n_mask_hit;	  /* ovs_flow_tbl_lookup_stats: the first u32 *, then n_cache_hit */
	__s8 enqueue_upcall_info; /* queue_userspace_packet: const struct dp_upcall_info * */
	__u8 pad[3];
};

#endif
