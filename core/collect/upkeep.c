// SPDX-License-Identifier: GPL-2.0-only
/* `retisc collect` tracking upkeep: GC thread, loss and tracking reports (collect_int.h). */
#include "collect_int.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Whether a tracking map entry is alive: in tracepoint mode ended entries
 * stay in the map, dead, for the next packet on the same address to take
 * over (bpf/tracking.bpf.h, TRK_IN_PLACE). *last gets its last sighting.
 */
static bool trk_entry_live(int fd, uint64_t key, bool skb_map, uint64_t *last)
{
	if (skb_map) {
		struct retisc_tracking_skb s;

		if (bpf_map_lookup_elem(fd, &key, &s))
			return false;
		*last = s.last_seen;
		return s.head != 0;
	} else {
		struct retisc_tracking_info ti;

		if (bpf_map_lookup_elem(fd, &key, &ti))
			return false;
		*last = ti.last_seen;
		return ti.timestamp != 0;
	}
}

/* doc/tracking.md §6: drop entries unseen for 60 s, every 5 s. */
static void gc_map(struct collect *c, int fd, bool skb_map)
{
	uint64_t key, next, now = mono_ns();
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		uint64_t last = 0;
		bool live;

		first = false;
		key = next;
		live = trk_entry_live(fd, key, skb_map, &last);
		if (now > last && now - last > 60ull * 1000000000ull) {
			bpf_map_delete_elem(fd, &key);
			/* A dead entry ended long ago: nothing to report. */
			if (!live)
				continue;
			if (!skb_map)
				atomic_fetch_add(&c->gc_removed, 1);
			pr_warn("Removed old entry from %s tracking map: %llu",
				skb_map ? "skb_addr" : "skb_tracking", (unsigned long long)key);
		}
	}
}

void *collect__gc_main(void *arg)
{
	struct collect *c = arg;
	int tick = 0;

	/* Short ticks: collect waits for this thread before it exits. */
	while (!atomic_load(&c->stop_gc)) {
		usleep(100000);
		if (++tick % 50)
			continue;
		gc_map(c, bpf_map__fd(c->core->maps.tracking_map), false);
		if (c->mode == RETISC_TRACKING_TRACEPOINT)
			gc_map(c, bpf_map__fd(c->core->maps.tracking_skb_map), true);
	}
	return NULL;
}

int collect__set_enabled(struct collect *c, bool on)
{
	struct retisc_global g = {.enabled = on};
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(c->core->maps.retisc_global_map), &zero, &g, BPF_ANY)
		       ? -errno
		       : 0;
}

void collect__report_losses(struct collect *c)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(c->core->maps.retisc_stats);
	struct retisc_probe_stats *st;
	uint64_t total = 0;

	if (ncpu <= 0)
		return;
	st = calloc((size_t)ncpu, sizeof(*st));
	if (!st)
		return;
	for (size_t i = 0; i < c->n_probes; i++) {
		__u32 key = (__u32)i;
		uint64_t lost = 0, other = 0;

		if (bpf_map_lookup_elem(fd, &key, st))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			lost += st[cpu].lost;
			other += st[cpu].nested_drop + st[cpu].chain_break + st[cpu].too_big;
		}
		if (lost)
			pr_warn("lost %llu event(s) from %s", (unsigned long long)lost,
				c->probes[i].p.name);
		if (other)
			pr_warn("%llu event(s) of %s dropped in the kernel (nesting, chain or size "
				"limits)",
				(unsigned long long)other, c->probes[i].p.name);
		total += lost + other;
	}
	if (total)
		pr_warn("total events lost: %llu", (unsigned long long)total);
	free(st);
}

/*
 * The link information of a kprobe perf link, as the kernel's UAPI lays it
 * out (struct bpf_link_info, perf_event.kprobe). The missed count came with
 * kernel commit 3acf8ace6823 ("bpf: Add missed value to kprobe perf link
 * info", v6.7); the build's headers may predate it. An older kernel leaves
 * perf_type 0.
 */
struct kprobe_link_info {
	__u32 type, id, prog_id, pad;
	__u32 perf_type, pad2;
	__u64 func_name;
	__u32 name_len, offset;
	__u64 addr;
	__u64 missed;
	__u64 cookie;
	__u8 rest[64]; /* the union's other members are larger */
};

/* A kprobe link's missed hits, -ENOTSUP when the kernel does not say. */
static long long link_missed(const struct bpf_link *link)
{
	struct kprobe_link_info info = {};
	__u32 len = sizeof(info);

	if (!link || bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) || !info.perf_type)
		return -ENOTSUP;
	return (long long)info.missed;
}

/* Runs of a program the kernel skipped because another BPF program was
 * running on that CPU (bpf_prog_info.recursion_misses, v5.12). */
static unsigned long long prog_recursion_misses(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.recursion_misses;
}

/*
 * Hits of kprobes and kretprobes that ran no program, beside the loss
 * counters: the kprobe was busy (another kprobe on that CPU), a kretprobe
 * ran out of instances (maxactive), or a BPF program was already running.
 * Each counts as an event that was never made.
 */
void collect__report_missed(struct collect *c)
{
	unsigned long long total = 0, recursion = 0;
	bool unknown = false, any = false;

	for (size_t i = 0; i < c->n_probes; i++) {
		struct probe_inst *pi = &c->probes[i];
		const struct bpf_program *prog;
		unsigned long long rec;
		long long m;

		/* A USDT link is libbpf's composite of uprobe links: no miss count. */
		if (!pi->attached || pi->p.type == RETISC_PROBE_RAW_TP ||
		    pi->p.type == RETISC_PROBE_USDT)
			continue;
		any = true;
		prog = pi->p.type == RETISC_PROBE_KPROBE ? pi->skel->progs.retisc_probe_kp
							 : pi->skel->progs.retisc_probe_krp;
		rec = prog_recursion_misses(prog);
		m = link_missed(pi->link);
		if (m < 0)
			unknown = true;
		else
			total += (unsigned long long)m;
		recursion += rec;
		if (m > 0 || rec)
			pr_warn("%s: %lld hit(s) missed by the kprobe, %llu skipped (BPF program "
				"already running)",
				pi->p.name, m > 0 ? m : 0, rec);
	}
	if (!any)
		return;
	if (unknown)
		pr_info("kprobe missed hits: kernel does not report them (before 6.7); BPF "
			"recursion skips: %llu",
			recursion);
	else
		pr_info("kprobe missed hits: %llu; BPF recursion skips: %llu", total, recursion);
}

/* Live entries of a tracking map (dead ones wait for reuse). */
static size_t map_count_live(int fd, bool skb_map)
{
	uint64_t key, next, last;
	size_t n = 0;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		n += trk_entry_live(fd, key, skb_map, &last);
	}
	return n;
}

/*
 * What tracking did during the run; with --tracking-report also the entries
 * still alive at the end (packets whose end of life was not seen), which the
 * live tests use to check that freed packets leave nothing behind.
 */
void collect__report_tracking(struct collect *c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct retisc_tracking_stats *st, sum = {};
	unsigned long long gone, evicted;
	__u32 zero = 0;
	size_t live;

	if (ncpu <= 0 || !(st = calloc((size_t)ncpu, sizeof(*st))))
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(c->core->maps.retisc_trk_stats), &zero, st)) {
		for (int i = 0; i < ncpu; i++) {
			sum.created += st[i].created;
			sum.released += st[i].released;
			sum.v1_stale += st[i].v1_stale;
			sum.v2_relinked += st[i].v2_relinked;
			sum.insert_failed += st[i].insert_failed;
			sum.reused += st[i].reused;
			sum.kmem_ended += st[i].kmem_ended;
			sum.guard_split += st[i].guard_split;
		}
	}
	free(st);
	live = map_count_live(bpf_map__fd(c->core->maps.tracking_map), false);
	/*
	 * LRU evictions are silent: an entry that was created and neither
	 * released, replaced as stale, collected by the GC nor still alive was
	 * evicted (V2 relinks move an entry without creating one).
	 */
	gone = sum.released + sum.v1_stale + sum.kmem_ended + sum.guard_split +
	       atomic_load(&c->gc_removed) + live;
	evicted = sum.created > gone ? sum.created - gone : 0;
	pr_info("tracking: %zu live entries, %zu skb entries (map size %u); created %llu, released "
		"%llu, stale replaced %llu, head changes followed %llu, evicted %llu, insert "
		"failures %llu, reused in place %llu",
		live,
		c->mode == RETISC_TRACKING_TRACEPOINT
			? map_count_live(bpf_map__fd(c->core->maps.tracking_skb_map), true)
			: 0,
		bpf_map__max_entries(c->core->maps.tracking_map), (unsigned long long)sum.created,
		(unsigned long long)sum.released, (unsigned long long)sum.v1_stale,
		(unsigned long long)sum.v2_relinked, (unsigned long long)evicted,
		(unsigned long long)sum.insert_failed, (unsigned long long)sum.reused);
	/* Which end of life acted (doc/tracking.md §9.12). */
	pr_info("tracking end of life: %s %llu, kmem %llu, identity guard %llu, exclusive owner "
		"%llu, GC %llu, LRU %llu",
		c->mode == RETISC_TRACKING_TRACEPOINT ? "skb tracepoints" : "free probes",
		(unsigned long long)sum.released, (unsigned long long)sum.kmem_ended,
		(unsigned long long)sum.guard_split, (unsigned long long)sum.v1_stale,
		(unsigned long long)atomic_load(&c->gc_removed), evicted);
}
