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
#include <bpf/libbpf.h>

#include <retisc/ctx.h>
#include <retisc/event.h>
#include <retisc/tracking.h>

#include "bpf/core.skel.h"
#include "bpf/probe.skel.h"
#include "plugins/skb-tracking/skb_tracking_hook.skel.h"

#include "testutil.h"

static int reuse_maps(struct bpf_object *core, struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
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
		struct retisc_probe_cfg cfg = { .nargs = RETISC_MAX_ARGS, .arg_skb = -1 };

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

/*
 * The whole chain runs on a synthetic hit: BPF_PROG_TEST_RUN of the raw
 * tracepoint probe with collection enabled and the skb-tracking hook then
 * submit in its chain. No skb argument, so the hook adds nothing and no
 * event may be written; the nesting depth must be back to 0 afterwards.
 */
static void test_chain_test_run(void **state)
{
	struct retisc_probe_cfg cfg = { .probe_id = 0, .nargs = 1, .arg_skb = -1, .n_hooks = 1 };
	struct retisc_global g = { .enabled = 1 };
	__u64 args[1] = { 0 };
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
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_progs_tp), &key, &fd, 0), 0);
	key = 1;
	fd = bpf_program__fd(c->progs.retisc_submit_tp);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_progs_tp), &key, &fd, 0), 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->maps.retisc_global_map), &zero, &g, 0), 0);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(p->progs.retisc_probe_tp), &topts), 0);
	assert_true(ncpu > 0 && ncpu <= 256);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(c->maps.retisc_nest), &zero, nest), 0);
	for (int i = 0; i < ncpu; i++)
		assert_int_equal(nest[i], 0);

	probe__destroy(p);
	skb_tracking_hook__destroy(h);
	core__destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_object),
		cmocka_unit_test(test_probe_programs),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_chain_test_run),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
