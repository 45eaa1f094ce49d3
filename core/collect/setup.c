// SPDX-License-Identifier: GPL-2.0-only
/* `retisc collect` set-up: collectors, tracking mode, probes, filters, loading and attaching
 * (collect_int.h). */
#include "collect_int.h"

int collect__select_collectors(struct collect *c)
{
	bool autom = strv_has(&c->o.collectors, "auto");
	struct retisc_strbuf started = RETISC_STRBUF_INIT;
	char reason[256];
	int err = 0;

	for (size_t i = 0; i < retisc_registry__n_collectors(c->reg); i++) {
		struct retisc_collector *col = retisc_registry__collector(c->reg, i);
		bool named = strv_has(&c->o.collectors, col->name);

		if (!named && !autom)
			continue;
		reason[0] = '\0';
		if (col->can_run) {
			err = col->can_run(col->priv, &c->env, reason, sizeof(reason));
			if (err) {
				if (named) {
					pr_err("Cannot run collector %s: %s", col->name,
					       reason[0] ? reason : strerror(-err));
					goto out;
				}
				pr_debug("Cannot run collector %s: %s", col->name,
					 reason[0] ? reason : strerror(-err));
				err = 0;
				continue;
			}
		}
		if (c->n_colls == MAX_COLLECTORS) {
			err = -E2BIG;
			goto out;
		}
		c->colls[c->n_colls++] = col;
		retisc_strbuf__printf(&started, "%s%s", started.len ? ", " : "", col->name);
	}
	if (autom)
		pr_info("Collector(s) started: %s", retisc_strbuf__str(&started));
out:
	retisc_strbuf__release(&started);
	return err;
}

bool collect__collectors_know(const struct collect *c, const char *type)
{
	for (size_t i = 0; i < c->n_colls; i++)
		for (char **t = c->colls[i]->known_types; t && *t; t++)
			if (!strcmp(*t, type))
				return true;
	return false;
}

static bool probe_useful(const struct collect *c, const struct retisc_probe *p)
{
	/* The core writes a USDT event's userspace section itself. */
	if (p->type == RETISC_PROBE_USDT)
		return true;
	for (unsigned int i = 0; i < p->proto.nparams; i++)
		if (collect__collectors_know(c, p->proto.types[i]))
			return true;
	/* The probe program finds the skb of an nft_pktinfo (collectors.md §1.3). */
	return p->proto.arg[RETISC_ARG_NFT_PKTINFO] >= 0 &&
	       collect__collectors_know(c, "struct sk_buff *");
}

/*
 * A targeted hook whose probe cannot attach in this tracking mode (a kprobe
 * in tracepoint mode) is left out with its probe (plugin.h, target): its
 * collector's can_run() accepted the mode, so it has another way (the nft
 * collector's netlink path, doc/collectors.md §7.7).
 */
static bool hook_usable(const struct collect *c, const struct retisc_collector *col,
			const struct retisc_hook_desc *h)
{
	struct retisc_probe_spec spec;
	char err[256];
	bool kprobe;

	/* An empty target: the collector's init() turned the hook off (plugin.h). */
	if (h->target && !*h->target) {
		pr_debug("Collector %s: hook %s off for this collection", col->name, h->name);
		return false;
	}
	if (!h->target || c->mode != RETISC_TRACKING_TRACEPOINT)
		return true;
	/* A target that does not parse is reported where it is added. */
	if (retisc_probe_spec__parse(h->target, &spec, err, sizeof(err)))
		return true;
	kprobe = spec.type != RETISC_PROBE_RAW_TP && spec.type != RETISC_PROBE_USDT;
	retisc_probe_spec__release(&spec);
	if (kprobe)
		pr_debug("Collector %s: hook %s left out (%s needs kprobes)", col->name, h->name,
			 h->target);
	return !kprobe;
}

/*
 * libbpf attaches a kprobe through the kprobe PMU or, without it, through
 * tracefs's kprobe_events. With neither, the attach test below cannot
 * succeed: saying so up front spares a probe object's BTF parse and load
 * (about 25 ms of start-up on such kernels).
 */
static void kprobe_interfaces(char *reason, size_t sz)
{
	static const char *const paths[] = {"/sys/bus/event_source/devices/kprobe/type",
					    "/sys/kernel/tracing/kprobe_events",
					    "/sys/kernel/debug/tracing/kprobe_events"};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (!access(paths[i], F_OK))
			return;
	snprintf(reason, sz, "no kprobe PMU and no kprobe_events in tracefs");
}

/* doc/tracking.md §9.1: try the first kprobe of the kprobe mode. */
int collect__pick_tracking_mode(struct collect *c)
{
	const char *want = c->o.tracking_mode ? c->o.tracking_mode : "auto";
	static const char *const core_syms[] = {"skb_free_head", "kfree_skb_partial",
						"pskb_expand_head"};
	char reason[256] = "";
	struct probe *skel = NULL;
	struct bpf_link *link;
	int err;

	if (!strcmp(want, "off")) {
		/* Measuring aid: the cost of tracking is the difference. */
		c->mode = RETISC_TRACKING_TRACEPOINT;
		pr_warn("skb tracking disabled (--tracking-mode off): no event carries an id");
		return 0;
	}
	if (!strcmp(want, "tracepoint")) {
		c->mode = RETISC_TRACKING_TRACEPOINT;
		pr_info("skb tracking uses tracepoints only (--tracking-mode tracepoint)");
		return 0;
	}
	kprobe_interfaces(reason, sizeof(reason));
	for (size_t i = 0; i < ARRAY_SIZE(core_syms) && !reason[0]; i++)
		if (!retisc_kallsyms__addr(core_syms[i]))
			snprintf(reason, sizeof(reason), "symbol %s not found", core_syms[i]);
	if (!reason[0]) {
		skel = probe__open();
		if (!skel) {
			snprintf(reason, sizeof(reason), "cannot open probe object");
		} else {
			bpf_program__set_autoload(skel->progs.retisc_probe_tp, false);
			bpf_program__set_autoload(skel->progs.retisc_probe_krp, false);
			bpf_program__set_autoload(skel->progs.retisc_probe_krp_entry, false);
			bpf_map__set_max_entries(skel->maps.retisc_krp_stash, 1);
			err = probe__load(skel);
			if (err) {
				snprintf(reason, sizeof(reason), "kprobe program load: %s",
					 strerror(-err));
			} else {
				link = bpf_program__attach_kprobe(skel->progs.retisc_probe_kp,
								  false, "skb_free_head");
				err = libbpf_get_error(link);
				if (err)
					snprintf(reason, sizeof(reason),
						 "attaching a kprobe to skb_free_head: %s",
						 strerror(-err));
				else
					bpf_link__destroy(link);
			}
			probe__destroy(skel);
		}
	}
	if (!reason[0]) {
		c->mode = RETISC_TRACKING_KPROBE;
		pr_info("skb tracking uses kprobes");
		return 0;
	}
	if (!strcmp(want, "kprobe")) {
		pr_err("kprobe tracking mode requested but kprobes are unavailable: %s", reason);
		return -ENOTSUP;
	}
	c->mode = RETISC_TRACKING_TRACEPOINT;
	pr_warn("kprobes unavailable (%s): skb tracking uses tracepoints only (best effort)",
		reason);
	return 0;
}

/*
 * Add the probes of s. user: not a tracking-only probe; filter_useful: keep
 * only the probes some collector reads (-p); named: the user asked for it
 * (-p or the default probes), so that a collector's exclusive hook does not
 * take the generic hooks from it (plugin.h, RETISC_HOOK_EXCLUSIVE).
 */
static int add_spec(struct collect *c, const char *s, bool user, bool filter_useful, bool named)
{
	struct retisc_probe_spec spec;
	struct retisc_probe *v = NULL;
	size_t n = 0;
	char err[512] = "";
	int ret;

	ret = retisc_probe_spec__parse(s, &spec, err, sizeof(err));
	if (ret) {
		pr_err("Invalid probe '%s': %s", s, err);
		return ret;
	}
	/* USDT probes are uprobes: they attach in every tracking mode. */
	if (c->mode == RETISC_TRACKING_TRACEPOINT && spec.type != RETISC_PROBE_RAW_TP &&
	    spec.type != RETISC_PROBE_USDT) {
		retisc_probe_spec__release(&spec);
		/* Profiles (e.g. generic) mix kprobes and tracepoints: keep
		 * what this kernel can attach rather than refuse the profile. */
		if (c->o.has_profile) {
			pr_warn("Skipping probe '%s': kprobes are not available on this kernel", s);
			return 0;
		}
		if (c->o.tracking_mode && !strcmp(c->o.tracking_mode, "tracepoint"))
			pr_err("Cannot use probe '%s' with --tracking-mode tracepoint (only raw "
			       "tracepoints are attached in that mode)",
			       s);
		else
			pr_err("Cannot use probe '%s': kprobes are not available on this kernel "
			       "(only raw tracepoints can be attached)",
			       s);
		return -ENOTSUP;
	}
	/* Resolve into a temporary list, then merge into c->probes. */
	ret = retisc_probe__resolve(&spec, &v, &n, err, sizeof(err));
	retisc_probe_spec__release(&spec);
	if (ret < 0) {
		pr_err("%s", err);
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		struct retisc_probe *p = &v[i];
		bool merged = false;

		if (filter_useful && !probe_useful(c, p)) {
			pr_info("No probe was attached to %s as no collector could retrieve data "
				"from it",
				p->symbol);
			retisc_probe__release(p);
			continue;
		}
		for (size_t j = 0; j < c->n_probes; j++) {
			struct retisc_probe *q = &c->probes[j].p;

			/* USDT: the same note of another binary or process is another probe. */
			if (q->type == p->type && !strcmp(q->func, p->func) &&
			    (p->type != RETISC_PROBE_USDT || !strcmp(q->name, p->name))) {
				q->stack |= p->stack;
				if (user)
					q->core_only = false;
				c->probes[j].named |= named;
				merged = true;
				break;
			}
		}
		if (merged) {
			retisc_probe__release(p);
			continue;
		}
		{
			struct probe_inst *pi = realloc(c->probes, (c->n_probes + 1) * sizeof(*pi));

			if (!pi) {
				retisc_probe__release(p);
				ret = -ENOMEM;
				continue;
			}
			c->probes = pi;
			memset(&pi[c->n_probes], 0, sizeof(*pi));
			pi[c->n_probes].p = *p;
			pi[c->n_probes].p.core_only = !user;
			pi[c->n_probes].named = named;
			c->n_probes++;
		}
	}
	free(v);
	return ret < 0 ? ret : 0;
}

/* doc/filters.md §2.1, §4: compiled before any probe object is opened. */
int collect__compile_filters(struct collect *c)
{
	struct retisc_filters *f = &c->filters;
	char err[1024];
	int ret;

	if (c->o.filter_packet) {
		ret = retisc_filter__compile_pcap(c->o.filter_packet, &f->l2, &f->l3, &f->has_l3,
						  err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		f->packet = true;
	}
	if (c->o.filter_meta) {
		ret = retisc_filter__compile_meta(c->o.filter_meta, &f->meta, err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
	}
	f->active = f->packet || f->meta.n;
	if (!f->active)
		return 0;
	ret = retisc_filter__install(f);
	if (ret)
		pr_err("Cannot install the filter loader: %s", strerror(-ret));
	return ret;
}

/* doc/tracking.md §2.3: what a probe does to tracking, from its target. */
static void probe_tracking_flags(const struct collect *c, struct retisc_probe *p)
{
	if (c->mode == RETISC_TRACKING_TRACEPOINT) {
		if (!strcmp(p->symbol, "skb:kfree_skb") || !strcmp(p->symbol, "skb:consume_skb"))
			p->tracking = RETISC_TRK_FREE | RETISC_TRK_RELEASE_CHECK;
		else if (!strcmp(p->symbol, "net:net_dev_xmit"))
			p->tracking = RETISC_TRK_NO_TRACKING;
	} else if (p->type == RETISC_PROBE_KPROBE) {
		if (!strcmp(p->func, "skb_free_head"))
			p->tracking = RETISC_TRK_FREE;
		else if (!strcmp(p->func, "kfree_skb_partial"))
			p->tracking = RETISC_TRK_FREE | RETISC_TRK_PARTIAL_FREE;
		else if (!strcmp(p->func, "pskb_expand_head"))
			p->tracking = RETISC_TRK_INV_HEAD;
		else if (!strcmp(p->func, "skb_release_head_state") ||
			 !strcmp(p->func, "kfree_skbmem"))
			p->tracking = RETISC_TRK_NO_TRACKING;
	} else if (p->type == RETISC_PROBE_RAW_TP && !strcmp(p->symbol, "net:net_dev_xmit")) {
		p->tracking = RETISC_TRK_NO_TRACKING;
	}
}

int collect__build_probes(struct collect *c)
{
	int err;

	/*
	 * Retis's rule (doc/cli.md §3.2): the default probes only when the
	 * command line names no collector, no probe and no profile, so that
	 * `-c skb-drop` traces drops only.
	 */
	if (c->o.probe_stack) {
		/* Retis's requirements: stacks name kernel functions to kprobe,
		 * and only the filter says which packets to follow up the stack. */
		if (!c->o.filter_packet && !c->o.filter_meta) {
			pr_err("Probe-stack mode requires filtering (--filter-packet and/or "
			       "--filter-meta)");
			return -EINVAL;
		}
		if (c->mode != RETISC_TRACKING_KPROBE) {
			pr_err("--probe-stack adds kprobes, which tracepoint tracking mode cannot "
			       "use (kprobes unavailable, or --tracking-mode tracepoint|off)");
			return -ENOTSUP;
		}
	}
	if (!c->o.probes.n && !c->o.has_profile && !collect__collectors_named(&c->o) &&
	    c->o.probe_stack) {
		/* Where most packets end: a start to walk up their stacks from. */
		pr_info("No probe(s) given: using tp:skb:consume_skb, tp:skb:kfree_skb");
		err = add_spec(c, "tp:skb:consume_skb", true, false, true)
			      ?: add_spec(c, "tp:skb:kfree_skb", true, false, true);
		if (err)
			return err;
	} else if (!c->o.probes.n && !c->o.has_profile && !collect__collectors_named(&c->o)) {
		pr_info("No probe(s) given: using tp:net:netif_receive_skb, "
			"tp:net:net_dev_start_xmit");
		err = add_spec(c, "tp:net:netif_receive_skb", true, false, true)
			      ?: add_spec(c, "tp:net:net_dev_start_xmit", true, false, true);
		if (err)
			return err;
	}
	for (size_t i = 0; i < c->o.probes.n; i++) {
		err = add_spec(c, c->o.probes.v[i], true, true, true);
		if (err)
			return err;
	}
	for (size_t i = 0; i < c->n_colls; i++) {
		for (char **p = c->colls[i]->probes; p && *p; p++) {
			err = add_spec(c, *p, true, false, false);
			if (err)
				return err;
		}
		for (size_t h = 0; h < c->colls[i]->n_hooks; h++) {
			const char *t = c->colls[i]->hooks[h].target;

			if (t && hook_usable(c, c->colls[i], &c->colls[i]->hooks[h]) &&
			    (err = add_spec(c, t, true, false, false)))
				return err;
		}
	}
	if (!c->n_probes) {
		pr_err("No probe to attach: the collectors given install none. Add probes with "
		       "-p (e.g. -p tp:net:netif_receive_skb -p tp:net:net_dev_start_xmit) or use "
		       "a profile (retisc -p ifdump collect ...)");
		return -ENOENT;
	}
	if (!c->tracking_on)
		return 0;
	/* Core tracking probes: they never emit unless a user probe merges. */
	if (c->mode == RETISC_TRACKING_TRACEPOINT) {
		err = add_spec(c, "tp:skb:kfree_skb", false, false, false)
			      ?: add_spec(c, "tp:skb:consume_skb", false, false, false);
	} else {
		err = add_spec(c, "kprobe:skb_free_head", false, false, false) ?:
		      add_spec(c, "kprobe:kfree_skb_partial", false, false, false) ?:
		      add_spec(c, "kprobe:pskb_expand_head", false, false, false);
	}
	if (err)
		return err;
	for (size_t i = 0; i < c->n_probes; i++)
		probe_tracking_flags(c, &c->probes[i].p);
	if (c->n_probes > RETISC_MAX_PROBES) {
		pr_err("Too many probes (%zu, at most %d)", c->n_probes, RETISC_MAX_PROBES);
		return -E2BIG;
	}
	return 0;
}

/*
 * A collector's hook objects share their own maps by name too (ovs's
 * in-flight maps, written by one hook and read by others): a map of obj
 * that the core does not have reuses the same-named map of the collector's
 * hook objects loaded before it. Internal maps (.rodata, .bss) are each
 * object's own.
 */
static int reuse_collector_maps(struct collect *c, const struct retisc_collector *col,
				struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
	{
		if (bpf_map__is_internal(m) ||
		    bpf_object__find_map_by_name(c->core->obj, bpf_map__name(m)))
			continue;
		for (size_t h = 0; h < c->n_hooks; h++) {
			struct bpf_map *other;
			int err;

			if (c->hooks[h].coll != col || c->hooks[h].obj == obj ||
			    !(other = bpf_object__find_map_by_name(c->hooks[h].obj,
								   bpf_map__name(m))) ||
			    bpf_map__fd(other) < 0)
				continue;
			if (bpf_map__type(other) != bpf_map__type(m) ||
			    bpf_map__key_size(other) != bpf_map__key_size(m) ||
			    bpf_map__value_size(other) != bpf_map__value_size(m)) {
				pr_err("Collector %s: map %s differs between its hook objects",
				       col->name, bpf_map__name(m));
				return -EINVAL;
			}
			err = bpf_map__reuse_fd(m, bpf_map__fd(other));
			if (err)
				return err;
			break;
		}
	}
	return 0;
}

/* Reuse the core's maps in another object: same names, same fds. */
static int reuse_core_maps(struct collect *c, struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
	{
		struct bpf_map *core_map =
			bpf_object__find_map_by_name(c->core->obj, bpf_map__name(m));
		int err;

		/*
		 * collect__load_core() makes tracking_map a HASH in kprobe mode where
		 * every object declares an LRU: it is still the one map, and
		 * private copies would split the tracking state per probe.
		 */
		if (!core_map || (bpf_map__type(m) != bpf_map__type(core_map) &&
				  core_map != c->core->maps.tracking_map))
			continue;
		err = bpf_map__reuse_fd(m, bpf_map__fd(core_map));
		if (err)
			return err;
	}
	return 0;
}

/*
 * Bytes a CPU writes to the ring buffer between two wake-ups of the bus
 * thread (bpf/submit.bpf.h): at most a quarter of the ring is written
 * unannounced by all CPUs together; the bus also wakes every 10 ms.
 */
static __u64 wakeup_bytes(const struct collect *c)
{
	int ncpu = libbpf_num_possible_cpus();

	return c->o.ring_size / 4 / (__u64)(ncpu > 0 ? ncpu : 1);
}

/*
 * Argument registers a probe captures (kprobes: the first five; kretprobes
 * the same, stashed at entry, bpf/probe.bpf.c).
 */
static __u8 probe_nargs(const struct retisc_probe *p)
{
	if (p->type != RETISC_PROBE_RAW_TP && p->proto.nparams > 5)
		return 5;
	return (__u8)p->proto.nparams;
}

/* Index of the probe's struct sk_buff * argument among those captured, or -1. */
static __s8 probe_arg_skb(const struct retisc_probe *p)
{
	__u8 nargs = probe_nargs(p);
	__s8 idx = (__s8)(nargs ? p->proto.arg[RETISC_ARG_SKB] : -1);

	return idx >= nargs ? -1 : idx;
}

/*
 * Stack tracking (doc/tracking.md §7) is read only by hits without an sk_buff:
 * when every probe has one, nobody reads stack_tracking_map and its upkeep
 * (a lookup and a store per hit) is skipped.
 */
static bool need_stack_tracking(const struct collect *c)
{
	for (size_t i = 0; i < c->n_probes; i++)
		if (probe_arg_skb(&c->probes[i].p) < 0)
			return true;
	return false;
}

/* doc/tracking.md §9.10: the kmem end of life runs in tracepoint mode. */
static bool kmem_on(const struct collect *c)
{
	return c->tracking_on && c->mode == RETISC_TRACKING_TRACEPOINT && !c->o.no_tracking_kmem;
}

/*
 * doc/tracking.md §9.11: with an exact end of life for kmalloc'd and slab
 * heads (kprobe mode, or the kmem programs), the guard checks page-fragment
 * heads only.
 */
static __u8 guard_level(const struct collect *c)
{
	if (c->o.no_tracking_guard)
		return RETISC_TRK_GUARD_OFF;
	if (c->mode == RETISC_TRACKING_TRACEPOINT && !kmem_on(c))
		return RETISC_TRK_GUARD_ALL;
	return RETISC_TRK_GUARD_FRAG;
}

/*
 * The kmem programs end entries whose buffer or sk_buff is freed by any
 * path. Attached before the probes, so that no entry is created that a free
 * could pass by. A kernel without these tracepoints loses the mechanism,
 * not the collection.
 */
int collect__attach_kmem(struct collect *c)
{
	static const char *const tps[] = {"kfree", "kmem_cache_free"};

	if (!kmem_on(c))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(tps); i++) {
		struct bpf_link *l =
			bpf_program__attach_raw_tracepoint(c->core->progs.retisc_kmem_free, tps[i]);
		int err = libbpf_get_error(l);

		if (err) {
			pr_warn("Cannot attach to kmem:%s (%s): buffers it frees are left to the "
				"identity guard",
				tps[i], strerror(-err));
			continue;
		}
		c->kmem_links[i] = l;
	}
	return 0;
}

int collect__load_core(struct collect *c)
{
	int err;

	c->core = core__open();
	if (!c->core)
		return -errno;
	c->core->rodata->retisc_tracking_mode = (__u8)c->mode;
	c->core->rodata->retisc_stack_tracking = need_stack_tracking(c);
	c->core->rodata->retisc_trk_kmem = kmem_on(c);
	c->core->rodata->retisc_trk_guard = guard_level(c);
	c->core->rodata->retisc_wakeup_bytes = wakeup_bytes(c);
	bpf_map__set_max_entries(c->core->maps.retisc_events, (__u32)c->o.ring_size);
	if (c->mode == RETISC_TRACKING_KPROBE) {
		/* doc/tracking.md §2.1: Retis's bounded HASH in kprobe mode. */
		bpf_map__set_type(c->core->maps.tracking_map, BPF_MAP_TYPE_HASH);
		bpf_map__set_max_entries(c->core->maps.tracking_map,
					 RETISC_TRACKING_MAP_SIZE_KPROBE);
	}
	if (c->o.tracking_map_size) {
		bpf_map__set_max_entries(c->core->maps.tracking_map, c->o.tracking_map_size);
		bpf_map__set_max_entries(c->core->maps.tracking_skb_map, c->o.tracking_map_size);
	}
	err = core__load(c->core);
	if (err)
		pr_err("Cannot load the core BPF object: %s", strerror(-err));
	return err;
}

static bool need_type(const struct collect *c, int kprobe_family)
{
	for (size_t i = 0; i < c->n_probes; i++) {
		bool kp = c->probes[i].p.type != RETISC_PROBE_RAW_TP;

		if (kp == (bool)kprobe_family && !c->probes[i].p.core_only)
			return true;
	}
	return false;
}

/* Write a rodata variable of an object opened from bytes, found via BTF. */
static int rodata_set(struct bpf_object *obj, const char *var, const void *val, size_t sz)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *sec;
	struct bpf_map *map;
	const void *init;
	size_t data_sz;
	char *data;
	__s32 id;
	int err;

	map = bpf_object__find_map_by_name(obj, ".rodata");
	if (!btf || !map)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	init = bpf_map__initial_value(map, &data_sz);
	if (!init)
		return -ENOENT;
	for (unsigned int i = 0; i < btf_vlen(sec); i++) {
		const struct btf_var_secinfo *vs = btf_var_secinfos(sec) + i;
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), var))
			continue;
		if (vs->size != sz || vs->offset + sz > data_sz)
			return -EINVAL;
		/* libbpf 1.1 hands out a const view: copy, patch, set. */
		data = malloc(data_sz);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, data_sz);
		memcpy(data + vs->offset, val, sz);
		err = bpf_map__set_initial_value(map, data, data_sz);
		free(data);
		return err;
	}
	return -ENOENT;
}

/*
 * Hook objects, then probe instances, load on up to LOAD_THREADS threads
 * (the caller's among them): each is a libbpf object of its own (libbpf
 * allows distinct objects on distinct threads) and its load is mostly the
 * kernel's BTF parse and the verifier, 10 ms a hook and 35 ms a probe
 * here, so start-up gains what a second CPU can take. Loading object i
 * touches only its own slot (and a probe its own chain slots); the rest of
 * c is read only meanwhile.
 */
#define LOAD_THREADS 4

struct loader {
	struct collect *c;
	size_t n;
	int (*load_one)(struct collect *c, size_t i);
	atomic_size_t next;
	atomic_bool failed;
	int *errs;
};

static void *loader_main(void *arg)
{
	struct loader *l = arg;
	size_t i;

	while (!atomic_load(&l->failed) && (i = atomic_fetch_add(&l->next, 1)) < l->n) {
		l->errs[i] = l->load_one(l->c, i);
		if (l->errs[i])
			atomic_store(&l->failed, true);
	}
	return NULL;
}

static int load_parallel(struct collect *c, size_t n, int (*load_one)(struct collect *c, size_t i))
{
	struct loader l = {.c = c, .n = n, .load_one = load_one};
	pthread_t t[LOAD_THREADS - 1];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t started = 0, want;
	int err = 0;

	if (!n)
		return 0;
	l.errs = calloc(n, sizeof(*l.errs));
	if (!l.errs)
		return -ENOMEM;
	want = cpus > 1 ? (size_t)cpus : 1;
	want = want < LOAD_THREADS ? want : LOAD_THREADS;
	want = want < n ? want : n;
	while (started + 1 < want && !pthread_create(&t[started], NULL, loader_main, &l))
		started++;
	loader_main(&l);
	while (started)
		pthread_join(t[--started], NULL);
	/* The first failure in order, as a serial load would report. */
	for (size_t i = 0; i < n && !err; i++)
		err = l.errs[i];
	free(l.errs);
	return err;
}

/*
 * The hooks of one collector share their maps (reuse_collector_maps(): a
 * later hook takes the fds of an earlier one, once loaded): the first hook
 * of each collector's run in c->hooks loads the whole run, in order; the
 * others have nothing to do. Collectors load in parallel.
 */
static int hook_load_one(struct collect *c, size_t i)
{
	const struct retisc_collector *col = c->hooks[i].coll;
	int err = 0;

	if (i && c->hooks[i - 1].coll == col)
		return 0;
	for (size_t h = i; !err && h < c->n_hooks && c->hooks[h].coll == col; h++) {
		struct hook_inst *hi = &c->hooks[h];

		err = reuse_collector_maps(c, col, hi->obj) ?: bpf_object__load(hi->obj);
		if (err)
			pr_err("Collector %s: cannot load hook %s: %s", col->name, hi->desc->name,
			       strerror(-err));
	}
	return err;
}

int collect__load_hooks(struct collect *c)
{
	bool tp = need_type(c, 0), kp = need_type(c, 1);
	int err;

	for (size_t i = 0; i < c->n_colls; i++) {
		const struct retisc_collector *col = c->colls[i];

		for (size_t h = 0; h < col->n_hooks; h++) {
			struct hook_inst *hi = &c->hooks[c->n_hooks];
			LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = col->hooks[h].name);
			struct bpf_program *ptp, *pkp;
			__u8 owner = (__u8)(col->owner > 0 ? col->owner : 0);

			if (!hook_usable(c, col, &col->hooks[h]))
				continue;
			if (c->n_hooks == MAX_HOOKS_TOTAL)
				return -E2BIG;
			hi->coll = col;
			hi->desc = &col->hooks[h];
			hi->fd_tp = hi->fd_kp = -1;
			hi->obj =
				bpf_object__open_mem(col->hooks[h].obj, col->hooks[h].obj_sz, &oo);
			err = libbpf_get_error(hi->obj);
			if (err) {
				hi->obj = NULL;
				pr_err("Collector %s: cannot open hook %s: %s", col->name,
				       col->hooks[h].name, strerror(-err));
				return err;
			}
			c->n_hooks++;
			ptp = bpf_object__find_program_by_name(hi->obj, "retisc_hook_tp");
			pkp = bpf_object__find_program_by_name(hi->obj, "retisc_hook_kp");
			if (!ptp || !pkp) {
				pr_err("Collector %s: hook %s lacks retisc_hook_tp/retisc_hook_kp "
				       "(use RETISC_HOOK())",
				       col->name, col->hooks[h].name);
				return -EINVAL;
			}
			bpf_program__set_autoload(ptp, tp);
			bpf_program__set_autoload(pkp, kp);
			err = rodata_set(hi->obj, "retisc_owner", &owner, sizeof(owner));
			if (err && err != -ENOENT)
				return err;
			/* The collector's own configuration (plugin.h), set by its init(). */
			for (size_t r = 0; r < hi->desc->n_rodata; r++) {
				const struct retisc_hook_rodata *v = &hi->desc->rodata[r];

				err = v->name && v->value
					      ? rodata_set(hi->obj, v->name, v->value, v->size)
					      : -EINVAL;
				if (err) {
					pr_err("Collector %s: hook %s: cannot set %s: %s",
					       col->name, col->hooks[h].name,
					       v->name ? v->name : "(null)", strerror(-err));
					return err;
				}
			}
			err = reuse_core_maps(c, hi->obj);
			if (err) {
				pr_err("Collector %s: cannot load hook %s: %s", col->name,
				       col->hooks[h].name, strerror(-err));
				return err;
			}
		}
	}
	/* The loads themselves in parallel (load_parallel()), then the fds. */
	err = load_parallel(c, c->n_hooks, hook_load_one);
	for (size_t i = 0; !err && i < c->n_hooks; i++) {
		struct hook_inst *hi = &c->hooks[i];

		hi->fd_tp = tp ? bpf_program__fd(bpf_object__find_program_by_name(hi->obj,
										  "retisc_hook_tp"))
			       : -1;
		hi->fd_kp = kp ? bpf_program__fd(bpf_object__find_program_by_name(hi->obj,
										  "retisc_hook_kp"))
			       : -1;
	}
	return err;
}

/* Does targeted hook hi target p? Canonical names: "skb:kfree_skb" == tp:skb:kfree_skb. */
static bool hook_targets(const struct hook_inst *hi, const struct retisc_probe *p)
{
	return hi->desc->target &&
	       (!strcmp(hi->desc->target, p->name) ||
		(p->type == RETISC_PROBE_RAW_TP && !strcmp(hi->desc->target, p->symbol)));
}

/* Some hook targeting probe pi has this RETISC_HOOK_* flag. */
static bool probe_hook_flag(const struct collect *c, const struct probe_inst *pi, uint32_t flag)
{
	for (size_t h = 0; h < c->n_hooks; h++)
		if ((c->hooks[h].desc->flags & flag) && hook_targets(&c->hooks[h], &pi->p))
			return true;
	return false;
}

static bool hook_applies(const struct collect *c, const struct hook_inst *hi,
			 const struct probe_inst *pi)
{
	const struct retisc_probe *p = &pi->p;

	if (p->core_only)
		return false;
	/* Generic hooks read kernel objects out of BTF-typed arguments: a USDT
	 * probe has none, only its targeted hooks know its arguments. */
	if (!hi->desc->target && p->type == RETISC_PROBE_USDT)
		return false;
	if (!hi->desc->target)
		/* plugin.h: an exclusive hook keeps its probe to itself, unless
		 * the user asked for that probe. */
		return pi->named || !probe_hook_flag(c, pi, RETISC_HOOK_EXCLUSIVE);
	return hook_targets(hi, p);
}

/* Load probe i's instance and fill its chain (doc/architecture.md §4.2). */
static int probe_load_one(struct collect *c, size_t i)
{
	struct probe_inst *pi = &c->probes[i];
	struct retisc_probe *p = &pi->p;
	struct retisc_probe_cfg cfg = {};
	bool tp = p->type == RETISC_PROBE_RAW_TP;
	int fd_array =
		bpf_map__fd(tp ? c->core->maps.retisc_progs_tp : c->core->maps.retisc_progs_kp);
	int submit = bpf_program__fd(tp ? c->core->progs.retisc_submit_tp
					: c->core->progs.retisc_submit_kp);
	__u32 slot = (__u32)i * RETISC_CHAIN_SLOTS;
	int err, nh = 0;

	cfg.probe_id = (__u32)i;
	cfg.probe_type = (__u8)p->type;
	cfg.nargs = probe_nargs(p);
	cfg.stack = p->stack || c->o.stack || c->o.probe_stack;
	cfg.arg_skb = probe_arg_skb(p);
	cfg.arg_drop_reason = (__s8)p->proto.arg[RETISC_ARG_DROP_REASON];
	cfg.arg_netdev = (__s8)p->proto.arg[RETISC_ARG_NETDEV];
	cfg.arg_net = (__s8)p->proto.arg[RETISC_ARG_NET];
	cfg.arg_nft_pktinfo = (__s8)p->proto.arg[RETISC_ARG_NFT_PKTINFO];
	cfg.arg_nft_traceinfo = (__s8)p->proto.arg[RETISC_ARG_NFT_TRACEINFO];
	cfg.tracking = (__u8)p->tracking;
	cfg.tracking_on = c->tracking_on;

	/* Chain: applicable hooks in collector order, then submit. */
	for (size_t h = 0; h < c->n_hooks && nh < RETISC_CHAIN_SLOTS - 1; h++) {
		int fd = tp ? c->hooks[h].fd_tp : c->hooks[h].fd_kp;
		__u32 key = slot + (__u32)nh;

		if (!hook_applies(c, &c->hooks[h], pi) || fd < 0)
			continue;
		if (bpf_map_update_elem(fd_array, &key, &fd, BPF_ANY))
			return -errno;
		nh++;
	}
	/* A USDT probe emits with the core's sections alone (doc/events.md §4.3). */
	if (nh || p->type == RETISC_PROBE_USDT) {
		__u32 key = slot + (__u32)nh;

		if (bpf_map_update_elem(fd_array, &key, &submit, BPF_ANY))
			return -errno;
	}
	cfg.n_hooks = (__u8)nh;
	pi->n_hooks = nh;

	pi->skel = probe__open();
	if (!pi->skel)
		return -errno;
	pi->skel->rodata->retisc_cfg = cfg;
	pi->skel->rodata->retisc_thread_size = c->thread_size;
	pi->skel->rodata->retisc_stack_skb_on =
		!p->core_only && probe_hook_flag(c, pi, RETISC_HOOK_STACK_SKB);
	pi->skel->rodata->retisc_tracking_mode = (__u8)c->mode;
	pi->skel->rodata->retisc_stack_tracking = c->stack_tracking;
	pi->skel->rodata->retisc_trk_kmem = kmem_on(c);
	pi->skel->rodata->retisc_trk_guard = guard_level(c);
	pi->skel->rodata->retisc_wakeup_bytes = wakeup_bytes(c);
	pi->skel->rodata->retisc_filter_packet = c->filters.packet;
	pi->skel->rodata->retisc_filter_meta_on = c->filters.meta.n > 0;
	bpf_program__set_autoload(pi->skel->progs.retisc_probe_tp, tp);
	bpf_program__set_autoload(pi->skel->progs.retisc_probe_kp, p->type == RETISC_PROBE_KPROBE);
	bpf_program__set_autoload(pi->skel->progs.retisc_probe_krp,
				  p->type == RETISC_PROBE_KRETPROBE);
	bpf_program__set_autoload(pi->skel->progs.retisc_probe_krp_entry,
				  p->type == RETISC_PROBE_KRETPROBE);
	/* Only kretprobes stash arguments: a one-entry map elsewhere. */
	if (p->type != RETISC_PROBE_KRETPROBE)
		bpf_map__set_max_entries(pi->skel->maps.retisc_krp_stash, 1);
	bpf_program__set_autoload(pi->skel->progs.retisc_probe_usdt, p->type == RETISC_PROBE_USDT);
	/* libbpf's USDT spec maps (usdt.bpf.h) matter only to USDT probes. */
	if (p->type != RETISC_PROBE_USDT) {
		bpf_map__set_max_entries(pi->skel->maps.__bpf_usdt_specs, 1);
		bpf_map__set_max_entries(pi->skel->maps.__bpf_usdt_ip_to_spec_id, 1);
	}
	err = reuse_core_maps(c, pi->skel->obj) ?: probe__load(pi->skel);
	if (err)
		pr_err("Cannot load the program of probe %s: %s", p->name, strerror(-err));
	return err;
}

int collect__load_probes(struct collect *c)
{
	uint64_t a, b;

	/* doc/tracking.md §7: THREAD_SIZE from the init stack bounds. */
	c->thread_size = 16384;
	a = retisc_kallsyms__addr("__start_init_stack");
	b = retisc_kallsyms__addr("__end_init_stack");
	if (a && b && b > a && retisc_kallsyms__count("__start_init_stack") == 1)
		c->thread_size = b - a;
	else
		pr_debug("Cannot retrieve init stack address: using THREAD_SIZE 16384");
	c->stack_tracking = need_stack_tracking(c);
	return load_parallel(c, c->n_probes, probe_load_one);
}

/* Attach one loaded probe (kretprobes: both halves). 0 or a negative errno. */
static int probe_attach_one(struct probe_inst *pi)
{
	struct retisc_probe *p = &pi->p;
	int err;

	if (p->type == RETISC_PROBE_RAW_TP) {
		pi->link = bpf_program__attach_raw_tracepoint(pi->skel->progs.retisc_probe_tp,
							      p->func);
	} else if (p->type == RETISC_PROBE_USDT) {
		const char *colon = strchr(p->func, ':');
		char provider[128];

		snprintf(provider, sizeof(provider), "%.*s", (int)(colon - p->func), p->func);
		/* The argument specs go to the object's own maps (probe.bpf.c). */
		pi->link = bpf_program__attach_usdt(pi->skel->progs.retisc_probe_usdt, p->pid,
						    p->path, provider, colon + 1, NULL);
	} else {
		pi->link = bpf_program__attach_kprobe(p->type == RETISC_PROBE_KPROBE
							      ? pi->skel->progs.retisc_probe_kp
							      : pi->skel->progs.retisc_probe_krp,
						      p->type == RETISC_PROBE_KRETPROBE, p->func);
	}
	err = libbpf_get_error(pi->link);
	if (!err && p->type == RETISC_PROBE_KRETPROBE) {
		/* The entry half first stops nothing: it only stashes. */
		pi->entry_link = bpf_program__attach_kprobe(pi->skel->progs.retisc_probe_krp_entry,
							    false, p->func);
		err = libbpf_get_error(pi->entry_link);
		if (err) {
			pi->entry_link = NULL;
			bpf_link__destroy(pi->link);
		}
	}
	if (err)
		pi->link = NULL;
	else
		pi->attached = true;
	return err;
}

int collect__attach_probes(struct collect *c)
{
	size_t attached = 0;

	for (size_t i = 0; i < c->n_probes; i++) {
		struct probe_inst *pi = &c->probes[i];
		struct retisc_probe *p = &pi->p;
		int err = probe_attach_one(pi);

		if (err) {
			if (p->core_only) {
				pr_err("Cannot attach tracking probe %s: %s", p->name,
				       strerror(-err));
				return err;
			}
			pr_warn("Cannot attach probe %s: %s%s", p->name, strerror(-err),
				(p->type == RETISC_PROBE_KPROBE ||
				 p->type == RETISC_PROBE_KRETPROBE) &&
						err == -ENOENT
					? " (kprobes are not supported by this kernel)"
					: "");
			continue;
		}
		/* Start-up benchmark mark (tests/bench): debug logs carry a timestamp. */
		if (!attached)
			pr_debug("First probe attached: %s", p->name);
		attached++;
	}
	if (!attached) {
		pr_err("No probe could be attached");
		return -ENOENT;
	}
	pr_info("%zu probe(s) loaded", attached);
	return 0;
}

/*
 * --probe-stack (doc/cli.md §3.3): a function of a reported stack trace
 * becomes a kprobe when BTF describes it and a collector reads one of its
 * parameters. Bus thread only, which is the only user of c->probes while
 * the collection runs. 1: a probe was added, 0: func is not probed (seen
 * before, unknown, useless, or the probe could not be loaded), or a
 * negative errno.
 */
int collect__probe_stack_add(struct collect *c, const char *func)
{
	struct retisc_probe_spec spec = {.type = RETISC_PROBE_KPROBE, .target = (char *)func};
	struct retisc_probe *v = NULL;
	struct probe_inst *pi;
	size_t n = 0, i = c->n_probes;
	char err_s[256];
	int err;

	if (strv_has(&c->ps_seen, func))
		return 0;
	err = strv_push(&c->ps_seen, func);
	if (err)
		return err;
	for (size_t j = 0; j < c->n_probes; j++)
		if (c->probes[j].p.type == RETISC_PROBE_KPROBE &&
		    !strcmp(c->probes[j].p.func, func))
			return 0;
	if (c->n_probes >= RETISC_MAX_PROBES || strchr(func, '*'))
		return 0;
	err = retisc_probe__resolve(&spec, &v, &n, err_s, sizeof(err_s));
	if (err <= 0 || !probe_useful(c, &v[0])) {
		for (size_t j = 0; j < n; j++)
			retisc_probe__release(&v[j]);
		free(v);
		return err == -ENOMEM ? err : 0;
	}
	for (size_t j = 1; j < n; j++)
		retisc_probe__release(&v[j]);
	pi = realloc(c->probes, (c->n_probes + 1) * sizeof(*pi));
	if (!pi) {
		retisc_probe__release(&v[0]);
		free(v);
		return -ENOMEM;
	}
	c->probes = pi;
	pi = &c->probes[i];
	memset(pi, 0, sizeof(*pi));
	pi->p = v[0];
	free(v);
	c->n_probes++;
	if (c->tracking_on)
		probe_tracking_flags(c, &pi->p);
	err = probe_load_one(c, i);
	if (!err)
		err = probe_attach_one(pi);
	if (err) {
		pr_warn("Could not attach additional probe %s: %s", pi->p.name, strerror(-err));
		return 0;
	}
	pr_info("Added probe %s (--probe-stack)", pi->p.name);
	return 1;
}
