/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `retisc collect` inside: the state its stages share and the stages
 * themselves, one file each (collect.c runs them in order):
 *
 *	options.c	command line: core and collector options, checks
 *	setup.c		collectors, tracking mode, probes, filters, loading,
 *			attaching (doc/architecture.md)
 *	bus.c		ring buffer -> decode -> file / text
 *	upkeep.c	tracking GC, loss and tracking reports (doc/tracking.md)
 *	sinks.c		--sink instances (plugin.h, sinks)
 *	collect.c	the run: stages in order, the one teardown
 */
#ifndef __RETISC_COLLECT_INT_H
#define __RETISC_COLLECT_INT_H

#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <retisc/ctx.h>
#include <retisc/event.h>
#include <retisc/tracking.h>

#include "bpf/core.skel.h"
#include "bpf/probe.skel.h"
#include "btf_info.h"
#include "collect_env.h"
#include "collect.h"
#include "filter.h"
#include "kallsyms.h"
#include "log.h"
#include "output.h"
#include "probe.h"
#include "render.h"
#include "registry.h"
#include "ringbuf.h"
#include "util.h"

#define MAX_COLLECTORS 32
#define MAX_HOOKS_TOTAL 64

struct strv {
	char **v;
	size_t n;
};

static inline int strv_push(struct strv *s, const char *x)
{
	char **v = realloc(s->v, (s->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	v[s->n] = strdup(x);
	if (!v[s->n])
		return -ENOMEM;
	v[++s->n] = NULL;
	return 0;
}

/* Comma lists accumulate across repetitions (doc/cli.md §3.1). */
static inline int strv_push_list(struct strv *s, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t && !err; t = strtok_r(NULL, ",", &save))
		err = strv_push(s, t);
	free(copy);
	return err;
}

static inline void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static inline bool strv_has(const struct strv *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return true;
	return false;
}

/*
 * An option a collector declares (plugin.h, struct retisc_collector_opt)
 * and the values the command line gave it.
 */
struct copt {
	const struct retisc_collector *coll;
	const struct retisc_collector_opt *opt;
	struct strv values;
	bool seen;
};

struct collect_opts {
	struct strv collectors;
	struct strv probes;
	struct strv kconf; /* one value: collectors read it as an option */
	struct strv sinks; /* --sink URLs (sinks.c) */
	/* Every registered collector's options, enabled or not. */
	struct copt *copts;
	size_t n_copts;
	const char *out;
	const char *rotate;
	const char *cmd;
	const char *tracking_mode;
	const char *filter_packet;
	const char *filter_meta;
	bool print, utc, link_layer, stack, allow_system_changes;
	bool multiline;
	bool has_profile;
	bool tracking_report;
	bool probe_stack;
	bool no_tracking_kmem, no_tracking_guard;
	uint32_t tracking_map_size;
	uint64_t stop_after;
	uint64_t ring_size;
};

struct hook_inst {
	struct bpf_object *obj;
	int fd_tp, fd_kp;
	const struct retisc_collector *coll;
	const struct retisc_hook_desc *desc;
};

struct probe_inst {
	struct retisc_probe p;
	struct probe *skel;
	struct bpf_link *link;
	struct bpf_link *entry_link; /* kretprobes: the kprobe stashing the arguments */
	int n_hooks;
	bool attached;
	bool named; /* the user asked for it (-p, default probes) */
};

struct collect {
	struct collect_opts o;
	struct retisc_registry *reg;
	const char *cmdline; /* for the startup event */
	pid_t child;	     /* --cmd, -1 when none runs */
	struct retisc_collector *colls[MAX_COLLECTORS];
	size_t n_colls;
	size_t n_inited; /* colls[0..n_inited) ran init(): each gets stop() */
	struct retisc_collect_env env;
	struct strv env_filter; /* -f as the "filter-packet" env option */
	int mode;
	bool tracking_on;
	__u64 thread_size;   /* probes' rodata, kept for --probe-stack's */
	bool stack_tracking; /* idem */
	struct strv ps_seen; /* --probe-stack: functions already considered */
	struct core *core;
	struct hook_inst hooks[MAX_HOOKS_TOTAL];
	size_t n_hooks;
	struct probe_inst *probes;
	size_t n_probes;
	struct bpf_link *kmem_links[2];
	struct retisc_filters filters;
	struct retisc_writer *writer;
	struct collect_sink *sinks; /* --sink instances (sinks.c) */
	size_t n_sinks;
	struct retisc_strbuf sink_line;
	struct retisc_renderer renderer;
	struct retisc_strbuf text;
	struct retisc_decode_ctx dc;
	/*
	 * Events go from raw bytes to a JSON line without a tree when only
	 * the file needs them (no --print, no --probe-stack, no collector's
	 * on_event): doc/architecture.md §4.3. line is that event's text.
	 */
	bool direct;
	struct retisc_strbuf line;
	struct retisc_ringbuf *rb;
	pthread_t bus_thread, gc_thread;
	bool bus_started, gc_started;
	bool emit_open; /* the emitted-event queue accepts events (emit.c) */
	atomic_bool stop_bus;
	atomic_bool stop_gc;
	atomic_ullong n_events;
	atomic_ullong gc_removed;
	atomic_int write_err;
	uint64_t offset_sec, offset_nsec;
};

/* Stages (collect__<verb>, on struct collect). */
int collect__parse_opts(struct collect_opts *o, const struct retisc_registry *reg, int argc,
			char **argv);
int collect__check_collector_names(const struct collect *c);
bool collect__collectors_named(const struct collect_opts *o);
int collect__select_collectors(struct collect *c);
bool collect__collectors_know(const struct collect *c, const char *type);
int collect__pick_tracking_mode(struct collect *c);
int collect__compile_filters(struct collect *c);
int collect__build_probes(struct collect *c);
int collect__load_core(struct collect *c);
int collect__load_hooks(struct collect *c);
int collect__load_probes(struct collect *c);
int collect__attach_kmem(struct collect *c);
int collect__attach_probes(struct collect *c);
const char *collect__probe_symbol(void *priv, uint32_t id);
const char *collect__probe_path(void *priv, uint32_t id);
int collect__on_event(void *priv, void *data, size_t size);
int collect__emit_drain(struct collect *c);
void *collect__bus_main(void *arg);
void *collect__gc_main(void *arg);
int collect__set_enabled(struct collect *c, bool on);
void collect__report_losses(struct collect *c);
void collect__report_missed(struct collect *c);
int collect__probe_stack_add(struct collect *c, const char *func);
void collect__report_tracking(struct collect *c);
int collect__sinks_open(struct collect *c, struct retisc_startup_info *info);
int collect__sinks_write(struct collect *c, const struct retisc_json *ev);
int collect__sinks_flush(struct collect *c);
int collect__sinks_close(struct collect *c);

#endif
