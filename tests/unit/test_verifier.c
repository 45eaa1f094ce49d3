// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every BPF program retisc ships goes through this kernel's verifier,
 * including the kprobe and kretprobe variants that this machine cannot
 * attach, in each configuration that changes the code the verifier sees
 * (tracking mode, argument count, skb argument, tracking flags, stack).
 * Needs root (BPF); skipped otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <linux/types.h>

#include <retisc/ctx.h>
#include <retisc/event.h>
#include <retisc/tracking.h>

#include "bpf/core.skel.h"
#include "bpf/probe.skel.h"
#include "plugins/ct/ct_hook.skel.h"
#include "plugins/dev/dev_hook.skel.h"
#include "plugins/ns/ns_hook.skel.h"
#include "plugins/skb-drop/skb_drop_hook.skel.h"
#include "plugins/skb-drop/skb_drop_noreason_hook.skel.h"
#include "plugins/skb-tracking/skb_tracking_hook.skel.h"
#include "skb.h" /* plugins/skb/, on the tests' include path */
#include "nft.h" /* plugins/nft/ */
#include "plugins/nft/nft_hook.skel.h"
#include "ovs.h"       /* plugins/ovs/ */
#include "ovs_jhash.h" /* plugins/ovs/ */
#include "plugins/ovs/ovs_action_hook.skel.h"
#include "plugins/ovs/ovs_enqueue_hook.skel.h"
#include "plugins/ovs/ovs_exec_hook.skel.h"
#include "plugins/ovs/ovs_exec_ret_hook.skel.h"
#include "plugins/ovs/ovs_lookup_hook.skel.h"
#include "plugins/ovs/ovs_op_exec_hook.skel.h"
#include "plugins/ovs/ovs_op_put_hook.skel.h"
#include "plugins/ovs/ovs_process_hook.skel.h"
#include "plugins/ovs/ovs_recv_hook.skel.h"
#include "plugins/ovs/ovs_upcall_hook.skel.h"
#include "plugins/ovs/ovs_upcall_ret_hook.skel.h"
#include "plugins/skb/skb_hook.skel.h"
#include "tests/unit/ovs_hash_test.skel.h"

#include "testutil.h"

#include "skb_drop.h" /* plugins/skb-drop/ */

static int reuse_maps(struct bpf_object *core, struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
	{
		struct bpf_map *cm = bpf_object__find_map_by_name(core, bpf_map__name(m));

		if (cm && bpf_map__type(cm) == bpf_map__type(m) &&
		    bpf_map__reuse_fd(m, bpf_map__fd(cm)))
			return -1;
	}
	return 0;
}

static struct core *load_core(int mode)
{
	struct core *c = core__open();

	assert_non_null(c);
	c->rodata->retisc_tracking_mode = (__u8)mode;
	bpf_map__set_max_entries(c->maps.retisc_events, 1 << 16);
	if (mode == RETISC_TRACKING_KPROBE) {
		bpf_map__set_type(c->maps.tracking_map, BPF_MAP_TYPE_HASH);
		bpf_map__set_max_entries(c->maps.tracking_map, RETISC_TRACKING_MAP_SIZE_KPROBE);
	}
	assert_int_equal(core__load(c), 0);
	return c;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "skipping verifier tests: need root\n");
		return 0;
	}
	return 0;
}

/* Load every probe program (all three types) with one configuration. */
static void load_probe_variant(int mode, const struct retisc_probe_cfg *cfg)
{
	struct core *c = load_core(mode);
	struct probe *p = probe__open();
	int err;

	assert_non_null(p);
	p->rodata->retisc_cfg = *cfg;
	p->rodata->retisc_tracking_mode = (__u8)mode;
	assert_int_equal(reuse_maps(c->obj, p->obj), 0);
	err = probe__load(p);
	if (err)
		fprintf(stderr, "probe load failed (mode %d nargs %u skb %d trk %#x): %s\n", mode,
			cfg->nargs, cfg->arg_skb, cfg->tracking, strerror(-err));
	assert_int_equal(err, 0);
	assert_true(bpf_program__fd(p->progs.retisc_probe_tp) >= 0);
	assert_true(bpf_program__fd(p->progs.retisc_probe_kp) >= 0);
	assert_true(bpf_program__fd(p->progs.retisc_probe_krp) >= 0);
	assert_true(bpf_program__fd(p->progs.retisc_probe_krp_entry) >= 0);
	probe__destroy(p);
	core__destroy(c);
}

static void test_core_object(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	for (int mode = RETISC_TRACKING_KPROBE; mode <= RETISC_TRACKING_TRACEPOINT; mode++) {
		struct core *c = load_core(mode);

		assert_true(bpf_program__fd(c->progs.retisc_submit_tp) >= 0);
		assert_true(bpf_program__fd(c->progs.retisc_submit_kp) >= 0);
		core__destroy(c);
	}
}

/*
 * The USDT probe program (doc/collectors.md §8.5): arguments through
 * libbpf's bpf_usdt_arg(), the userspace section instead of the kernel one,
 * with and without hooks, in every tracking mode; only it is loaded, as
 * setup.c does for a USDT probe.
 */
static void test_probe_usdt(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	for (int mode = RETISC_TRACKING_KPROBE; mode <= RETISC_TRACKING_TRACEPOINT; mode++) {
		for (__u8 hooks = 0; hooks < 2; hooks++) {
			struct retisc_probe_cfg cfg = {
				.probe_id = 5,
				.probe_type = RETISC_PROBE_USDT,
				.n_hooks = hooks,
				.stack = hooks,
				.arg_skb = -1,
				.arg_drop_reason = -1,
				.arg_netdev = -1,
				.arg_net = -1,
				.arg_nft_pktinfo = -1,
				.arg_nft_traceinfo = -1,
				.tracking_on = 1,
			};
			struct core *c = load_core(mode);
			struct probe *p = probe__open();

			assert_non_null(p);
			p->rodata->retisc_cfg = cfg;
			p->rodata->retisc_tracking_mode = (__u8)mode;
			bpf_program__set_autoload(p->progs.retisc_probe_tp, false);
			bpf_program__set_autoload(p->progs.retisc_probe_kp, false);
			bpf_program__set_autoload(p->progs.retisc_probe_krp, false);
			bpf_program__set_autoload(p->progs.retisc_probe_krp_entry, false);
			bpf_map__set_max_entries(p->maps.retisc_krp_stash, 1);
			assert_int_equal(reuse_maps(c->obj, p->obj), 0);
			assert_int_equal(probe__load(p), 0);
			assert_true(bpf_program__fd(p->progs.retisc_probe_usdt) >= 0);
			probe__destroy(p);
			core__destroy(c);
		}
	}
}

static void test_probe_programs(void **state)
{
	static const __u8 trk[] = {
		0,
		RETISC_TRK_FREE | RETISC_TRK_RELEASE_CHECK,
		RETISC_TRK_FREE | RETISC_TRK_PARTIAL_FREE,
		RETISC_TRK_INV_HEAD,
		RETISC_TRK_NO_TRACKING,
	};

	(void)state;
	if (geteuid())
		skip();
	for (int mode = RETISC_TRACKING_KPROBE; mode <= RETISC_TRACKING_TRACEPOINT; mode++) {
		for (size_t t = 0; t < sizeof(trk); t++) {
			struct retisc_probe_cfg cfg = {
				.probe_id = 3,
				.nargs = 5,
				.n_hooks = (__u8)(t % 2),
				.stack = (__u8)(t == 2),
				.arg_skb = 0,
				.arg_drop_reason = 2,
				.arg_netdev = -1,
				.arg_net = -1,
				.arg_nft_pktinfo = -1,
				.arg_nft_traceinfo = -1,
				.tracking = trk[t],
				.tracking_on = 1,
			};

			load_probe_variant(mode, &cfg);
		}
	}
	/* No skb argument, no tracking, maximum argument count. */
	{
		struct retisc_probe_cfg cfg = {.nargs = RETISC_MAX_ARGS, .arg_skb = -1};

		load_probe_variant(RETISC_TRACKING_TRACEPOINT, &cfg);
	}
}

static void test_hooks(void **state)
{
	struct core *c;
	struct skb_tracking_hook *h;

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_TRACEPOINT);
	h = skb_tracking_hook__open();
	assert_non_null(h);
	assert_int_equal(reuse_maps(c->obj, h->obj), 0);
	assert_int_equal(skb_tracking_hook__load(h), 0);
	assert_true(bpf_program__fd(h->progs.retisc_hook_tp) >= 0);
	assert_true(bpf_program__fd(h->progs.retisc_hook_kp) >= 0);
	skb_tracking_hook__destroy(h);
	core__destroy(c);
}

/* Both program types of a collector hook object, through the verifier. */
#define LOAD_HOOK(skel_name, core, configure)                                                      \
	do {                                                                                       \
		struct skel_name *h_ = skel_name##__open();                                        \
		int err_;                                                                          \
                                                                                                   \
		assert_non_null(h_);                                                               \
		configure;                                                                         \
		assert_int_equal(reuse_maps((core)->obj, h_->obj), 0);                             \
		err_ = skel_name##__load(h_);                                                      \
		if (err_)                                                                          \
			fprintf(stderr, #skel_name " load failed: %s\n", strerror(-err_));         \
		assert_int_equal(err_, 0);                                                         \
		assert_true(bpf_program__fd(h_->progs.retisc_hook_tp) >= 0);                       \
		assert_true(bpf_program__fd(h_->progs.retisc_hook_kp) >= 0);                       \
		skel_name##__destroy(h_);                                                          \
	} while (0)

/*
 * The skb, dev and ns hooks. skb_sections is rodata, so the verifier only
 * sees the sections a configuration enables: the default (packet + VLAN),
 * each optional section alone, and all of them.
 */
static void test_collector_hooks(void **state)
{
	static const __u64 sections[] = {
		RETISC_SKB_SECTIONS_DEFAULT,
		RETISC_SKB_SECTIONS_DEFAULT | 1ULL << RETISC_SKB_META,
		RETISC_SKB_SECTIONS_DEFAULT | 1ULL << RETISC_SKB_DATA_REF,
		RETISC_SKB_SECTIONS_DEFAULT | 1ULL << RETISC_SKB_GSO,
		~0ULL,
		0,
	};
	struct core *c;

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_TRACEPOINT);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		LOAD_HOOK(skb_hook, c, h_->rodata->skb_sections = sections[i]);
	LOAD_HOOK(dev_hook, c, (void)0);
	LOAD_HOOK(ns_hook, c, (void)0);
	core__destroy(c);
}

/*
 * The nft hook with __nft_trace_packet's parameters of this kernel (6.4+
 * layout: pkt, verdict, rule, info, type) and of 6.1 (info, chain, type),
 * every verdict mask; its CO-RE flavours resolve against this kernel's
 * BTF, where nf_tables is built in (the VM lane loads it against 6.1's
 * module BTF). The nft probe's skb extension, both layouts.
 */
static void test_nft(void **state)
{
	static const struct retisc_nft_args layouts[] = {
		{.chain = -1, .rule = 2, .verdict = 1, .type = 4, .info = 3},
		{.chain = 1, .rule = -1, .verdict = -1, .type = 2, .info = 0},
	};
	static const __u64 masks[] = {RETISC_NFT_VERDICTS_DEFAULT, RETISC_NFT_VERDICTS_ALL, 0};
	struct core *c;

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_KPROBE);
	for (size_t l = 0; l < 2; l++)
		for (size_t m = 0; m < 3; m++)
			LOAD_HOOK(
				nft_hook, c, do {
					h_->rodata->retisc_owner = RETISC_OWNER_NFT;
					h_->rodata->retisc_nft_args = layouts[l];
					h_->rodata->retisc_nft_verdicts = masks[m];
				} while (0));
	core__destroy(c);
	for (int mode = RETISC_TRACKING_KPROBE; mode <= RETISC_TRACKING_TRACEPOINT; mode++) {
		struct retisc_probe_cfg cfg = {
			.nargs = 5,
			.n_hooks = 1,
			.arg_skb = -1,
			.arg_drop_reason = -1,
			.arg_netdev = -1,
			.arg_net = -1,
			.arg_nft_pktinfo = 0,
			.arg_nft_traceinfo = 3,
			.tracking_on = 1,
		};

		load_probe_variant(mode, &cfg);
		cfg.arg_nft_pktinfo = -1;
		cfg.arg_nft_traceinfo = 0;
		load_probe_variant(mode, &cfg);
	}
}

/* Both skb-drop hooks, both program types. */
static void test_skb_drop_hooks(void **state)
{
	struct skb_drop_noreason_hook *n;
	struct skb_drop_hook *h;
	struct core *c;

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_TRACEPOINT);
	h = skb_drop_hook__open();
	n = skb_drop_noreason_hook__open();
	assert_non_null(h);
	assert_non_null(n);
	assert_int_equal(reuse_maps(c->obj, h->obj), 0);
	assert_int_equal(reuse_maps(c->obj, n->obj), 0);
	assert_int_equal(skb_drop_hook__load(h), 0);
	assert_int_equal(skb_drop_noreason_hook__load(n), 0);
	assert_true(bpf_program__fd(h->progs.retisc_hook_tp) >= 0);
	assert_true(bpf_program__fd(h->progs.retisc_hook_kp) >= 0);
	assert_true(bpf_program__fd(n->progs.retisc_hook_tp) >= 0);
	assert_true(bpf_program__fd(n->progs.retisc_hook_kp) >= 0);
	skb_drop_noreason_hook__destroy(n);
	skb_drop_hook__destroy(h);
	core__destroy(c);
}

struct drop_seen {
	int events;
	int sections; /* skb-drop sections */
	__s32 reason; /* of the last one */
};

static int on_drop_event(void *priv, void *data, size_t size)
{
	struct drop_seen *seen = priv;
	size_t off = 0;

	seen->events++;
	while (off + sizeof(struct retisc_section_hdr) <= size) {
		struct retisc_section_hdr hdr;

		memcpy(&hdr, (char *)data + off, sizeof(hdr));
		off += sizeof(hdr);
		if (off + hdr.size > size)
			break;
		if (hdr.owner == RETISC_OWNER_SKB_DROP && hdr.size >= sizeof(__s32)) {
			seen->sections++;
			memcpy(&seen->reason, (char *)data + off, sizeof(__s32));
		}
		off += hdr.size;
	}
	return 0;
}

/*
 * The skb-drop hooks on synthetic skb:kfree_skb hits (skb, location,
 * reason, rx_sk): the reason argument must come out as it went in, once
 * (the kernel has drop reasons, so the targeted hook stays silent), and
 * nothing may be written when the probe has no reason argument or did not
 * capture it.
 */
static void run_drop_chain(__s8 arg_reason, __u8 nargs, const char *btf_path,
			   struct drop_seen *seen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);
	struct retisc_probe_cfg cfg = {
		.nargs = nargs,
		.arg_skb = 0,
		.arg_drop_reason = arg_reason,
		.n_hooks = 2,
		.arg_netdev = -1,
		.arg_net = -1,
		.arg_nft_pktinfo = -1,
		.arg_nft_traceinfo = -1,
	};
	struct retisc_global g = {.enabled = 1};
	/* Any non-zero skb: without filter and tracking it is never read. */
	__u64 args[RETISC_MAX_ARGS] = {0xffff888000001000ULL, 0xffffffff81000000ULL, 12, 0};
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = args, .ctx_size_in = sizeof(args));
	struct skb_drop_noreason_hook *n;
	struct skb_drop_hook *h;
	struct ring_buffer *rb;
	struct probe *p;
	struct core *c;
	int progs, fds[3];
	__u32 zero = 0;

	c = load_core(RETISC_TRACKING_TRACEPOINT);
	h = skb_drop_hook__open_opts(&oo);
	n = skb_drop_noreason_hook__open_opts(&oo);
	p = probe__open();
	assert_true(h && n && p);
	p->rodata->retisc_cfg = cfg;
	/* What the core does for a section owner id. */
	h->rodata->retisc_owner = RETISC_OWNER_SKB_DROP;
	n->rodata->retisc_owner = RETISC_OWNER_SKB_DROP;
	assert_int_equal(reuse_maps(c->obj, h->obj), 0);
	assert_int_equal(reuse_maps(c->obj, n->obj), 0);
	assert_int_equal(reuse_maps(c->obj, p->obj), 0);
	bpf_program__set_autoload(h->progs.retisc_hook_kp, false);
	bpf_program__set_autoload(n->progs.retisc_hook_kp, false);
	bpf_program__set_autoload(p->progs.retisc_probe_kp, false);
	bpf_program__set_autoload(p->progs.retisc_probe_krp, false);
	assert_int_equal(skb_drop_hook__load(h), 0);
	assert_int_equal(skb_drop_noreason_hook__load(n), 0);
	assert_int_equal(probe__load(p), 0);

	progs = bpf_map__fd(c->maps.retisc_progs_tp);
	fds[0] = bpf_program__fd(h->progs.retisc_hook_tp);
	fds[1] = bpf_program__fd(n->progs.retisc_hook_tp);
	fds[2] = bpf_program__fd(c->progs.retisc_submit_tp);
	for (__u32 key = 0; key < 3; key++)
		assert_int_equal(bpf_map_update_elem(progs, &key, &fds[key], 0), 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_global_map), &zero, &g, 0),
			 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(p->progs.retisc_probe_tp), &topts),
			 0);

	memset(seen, 0, sizeof(*seen));
	rb = ring_buffer__new(bpf_map__fd(c->maps.retisc_events), on_drop_event, seen, NULL);
	assert_non_null(rb);
	assert_true(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);
	probe__destroy(p);
	skb_drop_noreason_hook__destroy(n);
	skb_drop_hook__destroy(h);
	core__destroy(c);
}

/*
 * The hooks' CO-RE relocations resolved against a BTF without
 * enum skb_drop_reason, as on a kernel older than 5.17 (the probe object
 * keeps the real one: it does not care).
 */
static void write_old_kernel_btf(char *path, size_t sz)
{
	struct btf *btf = btf__new_empty();
	const void *raw;
	__u32 raw_sz;

	assert_non_null(btf);
	assert_true(btf__add_int(btf, "int", 4, BTF_INT_SIGNED) > 0);
	raw = btf__raw_data(btf, &raw_sz);
	assert_non_null(raw);
	assert_int_equal(write_tmp_file(path, sz, "btf", raw, raw_sz), 0);
	btf__free(btf);
}

static void test_skb_drop_chain(void **state)
{
	struct drop_seen seen;
	char old_btf[64];

	(void)state;
	if (geteuid())
		skip();
	run_drop_chain(2, 4, NULL, &seen);
	assert_int_equal(seen.events, 1);
	assert_int_equal(seen.sections, 1);
	assert_int_equal(seen.reason, 12);
	/* No reason argument (e.g. net:net_dev_start_xmit): nothing to write. */
	run_drop_chain(-1, 4, NULL, &seen);
	assert_int_equal(seen.events, 0);
	/* A kprobe captures 5 registers: a 7th argument is out of reach. */
	run_drop_chain(6, 5, NULL, &seen);
	assert_int_equal(seen.events, 0);

	/* No drop reasons: the targeted hook alone reports, with -1. */
	write_old_kernel_btf(old_btf, sizeof(old_btf));
	run_drop_chain(-1, 2, old_btf, &seen);
	assert_int_equal(seen.events, 1);
	assert_int_equal(seen.sections, 1);
	assert_int_equal(seen.reason, -1);
	/* Even given a reason slot, the generic hook stays silent there. */
	run_drop_chain(2, 4, old_btf, &seen);
	unlink(old_btf);
	assert_int_equal(seen.sections, 1);
	assert_int_equal(seen.reason, -1);
}

/*
 * The whole chain runs on a synthetic hit: BPF_PROG_TEST_RUN of the raw
 * tracepoint probe with collection enabled and the skb-tracking hook then
 * submit in its chain. No skb argument, so the hook adds nothing and no
 * event may be written; the nesting depth must be back to 0 afterwards.
 */
static void test_chain_test_run(void **state)
{
	struct retisc_probe_cfg cfg = {.probe_id = 0, .nargs = 1, .arg_skb = -1, .n_hooks = 1};
	struct retisc_global g = {.enabled = 1};
	__u64 args[1] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = args, .ctx_size_in = sizeof(args));
	struct skb_tracking_hook *h;
	struct probe *p;
	struct core *c;
	__u32 zero = 0, key, nest[256] = {};
	int fd, ncpu = libbpf_num_possible_cpus();

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_TRACEPOINT);
	h = skb_tracking_hook__open();
	assert_int_equal(reuse_maps(c->obj, h->obj), 0);
	bpf_program__set_autoload(h->progs.retisc_hook_kp, false);
	assert_int_equal(skb_tracking_hook__load(h), 0);
	p = probe__open();
	p->rodata->retisc_cfg = cfg;
	assert_int_equal(reuse_maps(c->obj, p->obj), 0);
	bpf_program__set_autoload(p->progs.retisc_probe_kp, false);
	bpf_program__set_autoload(p->progs.retisc_probe_krp, false);
	assert_int_equal(probe__load(p), 0);

	key = 0;
	fd = bpf_program__fd(h->progs.retisc_hook_tp);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_progs_tp), &key, &fd, 0),
			 0);
	key = 1;
	fd = bpf_program__fd(c->progs.retisc_submit_tp);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_progs_tp), &key, &fd, 0),
			 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_global_map), &zero, &g, 0),
			 0);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(p->progs.retisc_probe_tp), &topts),
			 0);
	assert_true(ncpu > 0 && ncpu <= 256);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(c->maps.retisc_nest), &zero, nest), 0);
	for (int i = 0; i < ncpu; i++)
		assert_int_equal(nest[i], 0);

	probe__destroy(p);
	skb_tracking_hook__destroy(h);
	core__destroy(c);
}

/*
 * The ct hook, on this kernel and against kernel BTFs lacking what its
 * CO-RE checks guard: struct nf_conn without zone and mark and
 * enum nf_ct_ext_id without NF_CT_EXT_LABELS (a kernel built without
 * CONFIG_NF_CONNTRACK_ZONES/MARK/LABELS), and struct sk_buff without _nfct
 * (before 4.11). Every variant must pass the verifier, and each one must
 * really drop the guarded code: fewer instructions than the full one.
 */
struct btf_rename {
	int kind; /* BTF_KIND_STRUCT: a member; BTF_KIND_ENUM: a value */
	const char *type;
	const char *member;
};

/* This kernel's BTF with the given members renamed away, into path. */
static void write_renamed_btf(char *path, size_t sz, const struct btf_rename *r, size_t n)
{
	struct btf *btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	const void *raw;
	__u32 raw_sz;

	assert_non_null(btf);
	for (size_t i = 0; i < n; i++) {
		__s32 id = btf__find_by_name_kind(btf, r[i].type, r[i].kind);
		/* Adding the string makes the BTF writable: fetch the type after. */
		int off = btf__add_str(btf, "retisc_test_gone");
		struct btf_type *t;
		bool done = false;

		assert_true(id > 0 && off > 0);
		t = (struct btf_type *)btf__type_by_id(btf, id);
		for (unsigned int j = 0; j < btf_vlen(t); j++) {
			__u32 *name_off = r[i].kind == BTF_KIND_ENUM ? &btf_enum(t)[j].name_off
								     : &btf_members(t)[j].name_off;

			if (!strcmp(btf__name_by_offset(btf, *name_off), r[i].member)) {
				*name_off = (__u32)off;
				done = true;
			}
		}
		assert_true(done);
	}
	raw = btf__raw_data(btf, &raw_sz);
	assert_non_null(raw);
	assert_int_equal(write_tmp_file(path, sz, "btf", raw, raw_sz), 0);
	btf__free(btf);
}

/* Load both programs of the ct hook; the raw tracepoint one's length. */
static __u32 load_ct_hook(struct core *c, const char *btf_path)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct ct_hook *h = ct_hook__open_opts(&oo);
	int err;

	assert_non_null(h);
	h->rodata->retisc_owner = RETISC_OWNER_CT;
	assert_int_equal(reuse_maps(c->obj, h->obj), 0);
	err = ct_hook__load(h);
	if (err)
		fprintf(stderr, "ct_hook load failed (BTF %s): %s\n", btf_path ?: "kernel",
			strerror(-err));
	assert_int_equal(err, 0);
	assert_true(bpf_program__fd(h->progs.retisc_hook_kp) >= 0);
	assert_int_equal(
		bpf_obj_get_info_by_fd(bpf_program__fd(h->progs.retisc_hook_tp), &info, &len), 0);
	ct_hook__destroy(h);
	return info.xlated_prog_len;
}

static void test_ct_hook(void **state)
{
	static const struct btf_rename no_options[] = {
		{BTF_KIND_STRUCT, "nf_conn", "zone"},
		{BTF_KIND_STRUCT, "nf_conn", "mark"},
		{BTF_KIND_ENUM, "nf_ct_ext_id", "NF_CT_EXT_LABELS"},
	};
	static const struct btf_rename no_nfct[] = {
		{BTF_KIND_STRUCT, "sk_buff", "_nfct"},
	};
	__u32 full, minimal, none;
	char path[64];
	struct core *c;

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_TRACEPOINT);
	full = load_ct_hook(c, NULL);

	write_renamed_btf(path, sizeof(path), no_options, 3);
	minimal = load_ct_hook(c, path);
	unlink(path);
	write_renamed_btf(path, sizeof(path), no_nfct, 1);
	none = load_ct_hook(c, path);
	unlink(path);
	core__destroy(c);
	assert_true(minimal < full);
	assert_true(none < minimal);
}

/*
 * The ovs hooks (doc/collectors.md §8.3). This kernel has no openvswitch,
 * so their CO-RE flavours are relocated against this kernel's BTF plus the
 * openvswitch types they read, added here with Debian 6.1's layouts (the
 * module's BTF there): struct sw_flow_key, sw_flow (with sw_flow_id's UFID
 * in its anonymous union), sw_flow_actions, dp_upcall_info,
 * ovs_conntrack_info and enum ovs_action_attr. Variants: with and without
 * OVS_ACTION_ATTR_DROP (6.6+), ovs_conntrack_info without range (no
 * CONFIG_NF_NAT: less code), --ovs-track's queue id lookup on and off. The
 * VM lane loads and runs them against the real module BTF.
 */
struct ovs_btf {
	bool drop;  /* OVS_ACTION_ATTR_DROP exists */
	bool range; /* ovs_conntrack_info.range exists */
};

static __s32 btf_id(const struct btf *btf, const char *name, int kind)
{
	__s32 id = btf__find_by_name_kind(btf, name, kind);

	assert_true(id > 0);
	return id;
}

static void write_ovs_btf(char *path, size_t sz, const struct ovs_btf *v)
{
	static const char *const acts[] = {
		"UNSPEC",  "OUTPUT", "USERSPACE", "SET",	   "PUSH_VLAN", "POP_VLAN",
		"SAMPLE",  "RECIRC", "HASH",	  "PUSH_MPLS",	   "POP_MPLS",	"SET_MASKED",
		"CT",	   "TRUNC",  "PUSH_ETH",  "POP_ETH",	   "CT_CLEAR",	"PUSH_NSH",
		"POP_NSH", "METER",  "CLONE",	  "CHECK_PKT_LEN", "ADD_MPLS",	"DEC_TTL",
	};
	struct btf *btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	__s32 u8, u16, u32, zone, range, key, keyp, arr, un, id, actsp, t;
	char name[64];
	const void *raw;
	__u32 raw_sz;
	int n;

	assert_non_null(btf);
	u8 = btf_id(btf, "unsigned char", BTF_KIND_INT);
	u16 = btf_id(btf, "short unsigned int", BTF_KIND_INT);
	u32 = btf_id(btf, "unsigned int", BTF_KIND_INT);
	zone = btf_id(btf, "nf_conntrack_zone", BTF_KIND_STRUCT);
	range = btf_id(btf, "nf_nat_range2", BTF_KIND_STRUCT);
	/* Members follow their struct: types they use come first. */
	key = btf__add_struct(btf, "sw_flow_key", 464);
	assert_int_equal(btf__add_field(btf, "recirc_id", u32, 2624, 0), 0);
	keyp = btf__add_ptr(btf, key);
	arr = btf__add_array(btf, u32, u32, 4);
	un = btf__add_union(btf, NULL, 16);
	assert_int_equal(btf__add_field(btf, "ufid", arr, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "unmasked_key", keyp, 0, 0), 0);
	id = btf__add_struct(btf, "sw_flow_id", 24);
	assert_int_equal(btf__add_field(btf, "ufid_len", u32, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, NULL, un, 64, 0), 0);
	actsp = btf__add_ptr(btf, btf__add_struct(btf, "sw_flow_actions", 32));
	assert_true(key > 0 && keyp > 0 && arr > 0 && un > 0 && id > 0 && actsp > 0);
	assert_true(btf__add_struct(btf, "sw_flow", 1632) > 0);
	assert_int_equal(btf__add_field(btf, "id", id, 4544, 0), 0);
	assert_int_equal(btf__add_field(btf, "sf_acts", actsp, 12992, 0), 0);
	assert_true(btf__add_struct(btf, "dp_upcall_info", 40) > 0);
	assert_int_equal(btf__add_field(btf, "portid", u32, 224, 0), 0);
	assert_int_equal(btf__add_field(btf, "cmd", u8, 256, 0), 0);
	assert_true(btf__add_struct(btf, "ovs_conntrack_info", 160) > 0);
	assert_int_equal(btf__add_field(btf, "zone", zone, 64, 0), 0);
	assert_int_equal(btf__add_field(btf, "commit", u8, 192, 1), 0);
	assert_int_equal(btf__add_field(btf, "nat", u8, 193, 3), 0);
	assert_int_equal(btf__add_field(btf, "force", u8, 196, 1), 0);
	assert_int_equal(btf__add_field(btf, "family", u16, 208, 0), 0);
	if (v->range)
		assert_int_equal(btf__add_field(btf, "range", range, 896, 0), 0);
	t = btf__add_enum(btf, "ovs_action_attr", 4);
	assert_true(t > 0);
	for (n = 0; n < (int)(sizeof(acts) / sizeof(acts[0])); n++) {
		snprintf(name, sizeof(name), "OVS_ACTION_ATTR_%s", acts[n]);
		assert_int_equal(btf__add_enum_value(btf, name, n), 0);
	}
	if (v->drop)
		assert_int_equal(btf__add_enum_value(btf, "OVS_ACTION_ATTR_DROP", n++), 0);
	assert_int_equal(btf__add_enum_value(btf, "__OVS_ACTION_ATTR_MAX", n), 0);
	assert_int_equal(btf__add_enum_value(btf, "OVS_ACTION_ATTR_SET_TO_MASKED", n + 1), 0);

	raw = btf__raw_data(btf, &raw_sz);
	assert_non_null(raw);
	assert_int_equal(write_tmp_file(path, sz, "btf", raw, raw_sz), 0);
	btf__free(btf);
}

/* What ovs.c's init() finds on 6.1: tp args (dp, skb, key, upcall_info)
 * and (dp, skb, key, attr, rem), lookup (tbl, key, hash, n_mask_hit, ...). */
static const struct retisc_ovs_args ovs_args = {
	.upcall_info = 3, .key = 2, .attr = 3, .n_mask_hit = 3};

/* Load one ovs hook against btf_path; its raw tracepoint program's length. */
#define LOAD_OVS_HOOK(skel_name, core, btf_path, track, len_out)                                   \
	LOAD_OVS_HOOK_X(skel_name, core, btf_path, track, len_out, (void)0)
/* extra: a statement run on the open skeleton h_ before loading. */
#define LOAD_OVS_HOOK_X(skel_name, core, btf_path, track, len_out, extra)                          \
	do {                                                                                       \
		LIBBPF_OPTS(bpf_object_open_opts, oo_, .btf_custom_path = (btf_path));             \
		struct skel_name *h_ = skel_name##__open_opts(&oo_);                               \
		struct bpf_prog_info info_ = {};                                                   \
		__u32 ilen_ = sizeof(info_);                                                       \
		int err_;                                                                          \
		assert_non_null(h_);                                                               \
		h_->rodata->retisc_owner = RETISC_OWNER_OVS;                                       \
		h_->rodata->retisc_ovs_args = ovs_args;                                            \
		h_->rodata->retisc_ovs_track = (track);                                            \
		extra;                                                                             \
		assert_int_equal(reuse_maps((core)->obj, h_->obj), 0);                             \
		err_ = skel_name##__load(h_);                                                      \
		if (err_)                                                                          \
			fprintf(stderr, #skel_name " load failed: %s\n", strerror(-err_));         \
		assert_int_equal(err_, 0);                                                         \
		assert_true(bpf_program__fd(h_->progs.retisc_hook_kp) >= 0);                       \
		assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(h_->progs.retisc_hook_tp), \
							&info_, &ilen_),                           \
				 0);                                                               \
		*(len_out) = info_.xlated_prog_len;                                                \
		skel_name##__destroy(h_);                                                          \
	} while (0)

static void test_ovs_hooks(void **state)
{
	static const struct ovs_btf variants[] = {
		{.drop = false, .range = true},
		{.drop = true, .range = true},
		{.drop = true, .range = false},
	};
	__u32 action_len[3], exec_len[2], recv_len[2], len;
	char path[64];
	struct core *c;

	(void)state;
	if (geteuid())
		skip();
	c = load_core(RETISC_TRACKING_KPROBE);
	for (size_t i = 0; i < 3; i++) {
		write_ovs_btf(path, sizeof(path), &variants[i]);
		LOAD_OVS_HOOK(ovs_process_hook, c, path, 0, &len);
		LOAD_OVS_HOOK(ovs_lookup_hook, c, path, 0, &len);
		LOAD_OVS_HOOK(ovs_upcall_hook, c, path, 0, &len);
		LOAD_OVS_HOOK(ovs_upcall_ret_hook, c, path, 0, &len);
		LOAD_OVS_HOOK(ovs_exec_hook, c, path, 0, &exec_len[0]);
		LOAD_OVS_HOOK(ovs_exec_hook, c, path, 1, &exec_len[1]);
		LOAD_OVS_HOOK(ovs_exec_ret_hook, c, path, 0, &len);
		LOAD_OVS_HOOK(ovs_action_hook, c, path, 0, &action_len[i]);
		/* --ovs-track's hooks; the USDT ones with every handler slot. */
		LOAD_OVS_HOOK(ovs_enqueue_hook, c, path, RETISC_OVS_TRACK_ON, &len);
		LOAD_OVS_HOOK_X(ovs_recv_hook, c, path, RETISC_OVS_TRACK_ON, &recv_len[0],
				h_->rodata->retisc_ovs_handlers.n = RETISC_OVS_MAX_HANDLERS);
		LOAD_OVS_HOOK_X(ovs_recv_hook, c, path, RETISC_OVS_TRACK_USDT, &recv_len[1],
				h_->rodata->retisc_ovs_handlers.n = RETISC_OVS_MAX_HANDLERS);
		LOAD_OVS_HOOK_X(ovs_op_put_hook, c, path, RETISC_OVS_TRACK_ON, &len,
				h_->rodata->retisc_ovs_handlers.n = RETISC_OVS_MAX_HANDLERS);
		LOAD_OVS_HOOK_X(ovs_op_exec_hook, c, path, RETISC_OVS_TRACK_ON, &len,
				h_->rodata->retisc_ovs_handlers.n = RETISC_OVS_MAX_HANDLERS);
		unlink(path);
		/* The queue id lookup is only there with --ovs-track. */
		assert_true(exec_len[0] < exec_len[1]);
		/* Without the kernel side no upcall_tracking lookup. */
		assert_true(recv_len[1] < recv_len[0]);
	}
	core__destroy(c);
	/* The drop action's code exists only where the kernel has it, NAT's
	 * only with CONFIG_NF_NAT. */
	assert_true(action_len[0] < action_len[1]);
	assert_true(action_len[2] < action_len[1]);

	/* The probe program taking the stack's sk_buff (RETISC_HOOK_STACK_SKB). */
	for (int mode = RETISC_TRACKING_KPROBE; mode <= RETISC_TRACKING_TRACEPOINT; mode++) {
		struct retisc_probe_cfg cfg = {
			.nargs = 5,
			.n_hooks = 1,
			.arg_skb = -1,
			.arg_drop_reason = -1,
			.arg_netdev = -1,
			.arg_net = -1,
			.arg_nft_pktinfo = -1,
			.arg_nft_traceinfo = -1,
			.tracking_on = 1,
		};
		struct core *cm = load_core(mode);
		struct probe *p = probe__open();

		assert_non_null(p);
		p->rodata->retisc_cfg = cfg;
		p->rodata->retisc_tracking_mode = (__u8)mode;
		p->rodata->retisc_stack_skb_on = 1;
		assert_int_equal(reuse_maps(cm->obj, p->obj), 0);
		assert_int_equal(probe__load(p), 0);
		probe__destroy(p);
		core__destroy(cm);
	}
}

/*
 * The ovs queue id computed by BPF (the hooks' ovs_queue_id() on a real
 * sk_buff, BPF_PROG_TEST_RUN of a tc program) and by userspace
 * (retisc_ovs_queue_id(), what the USDT side and the tests use) must be
 * the same for packets shorter than, as long as and longer than the 64
 * hashed bytes.
 */
static void test_ovs_queue_id(void **state)
{
	/* Packet sizes, and the queue id of bytes i * 7 + 3 (computed from
	 * the kernel's jhash() definition on its own, as test_ovs.c's). */
	static const struct {
		__u32 size, qid;
	} pkts[] = {
		{14, 0xbf24bda8}, {42, 0x13161758}, {60, 0x1d140dad},	{64, 0xae926af4},
		{65, 0xae926af4}, {98, 0xae926af4}, {1514, 0xae926af4},
	};
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct ovs_hash_test *t;
	__u8 pkt[1514];

	(void)state;
	if (geteuid())
		skip();
	assert_non_null(vmlinux);
	if (btf__find_by_name_kind(vmlinux, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) < 0) {
		btf__free(vmlinux);
		fprintf(stderr, "skipping the BPF queue id: no bpf_cast_to_kern_ctx (6.2+)\n");
		skip();
	}
	btf__free(vmlinux);
	t = ovs_hash_test__open_and_load();
	assert_non_null(t);
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (__u8)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = pkts[i].size);
		__u32 user = retisc_ovs_queue_id(pkt, pkts[i].size);

		assert_int_equal(
			bpf_prog_test_run_opts(bpf_program__fd(t->progs.ovs_hash_test), &o), 0);
		if (o.retval != user || user != pkts[i].qid)
			fail_msg("queue id of %u bytes: BPF %#x, userspace %#x, want %#x",
				 pkts[i].size, o.retval, user, pkts[i].qid);
	}
	ovs_hash_test__destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_object),	cmocka_unit_test(test_probe_programs),
		cmocka_unit_test(test_probe_usdt),	cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_collector_hooks), cmocka_unit_test(test_skb_drop_hooks),
		cmocka_unit_test(test_ct_hook),		cmocka_unit_test(test_skb_drop_chain),
		cmocka_unit_test(test_chain_test_run),	cmocka_unit_test(test_nft),
		cmocka_unit_test(test_ovs_hooks),	cmocka_unit_test(test_ovs_queue_id),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
