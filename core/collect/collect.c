// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc collect`, in fixed stages: parse options, select collectors, pick
 * the tracking mode, resolve probes, load the core object, the hooks and one
 * probe instance per probe, fill the tail-call chains, open the output,
 * attach, enable, poll until told to stop, then detach, drain and report.
 */
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
#include "collect.h"
#include "filter.h"
#include "kallsyms.h"
#include "log.h"
#include "output.h"
#include "probe.h"
#include "render.h"
#include "ringbuf.h"
#include "util.h"

#define MAX_COLLECTORS 32
#define MAX_HOOKS_TOTAL 64

struct strv {
	char **v;
	size_t n;
};

static int strv_push(struct strv *s, const char *x)
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

/* Comma lists accumulate across repetitions (cli.md §3.1). */
static int strv_push_list(struct strv *s, const char *list)
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

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool strv_has(const struct strv *s, const char *x)
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
	int n_hooks;
	bool attached;
};

struct collect {
	struct collect_opts o;
	struct retisc_registry *reg;
	struct retisc_collector *colls[MAX_COLLECTORS];
	size_t n_colls;
	struct retisc_collect_env env;
	int mode;
	bool tracking_on;
	struct core *core;
	struct hook_inst hooks[MAX_HOOKS_TOTAL];
	size_t n_hooks;
	struct probe_inst *probes;
	size_t n_probes;
	struct bpf_link *kmem_links[2];
	struct retisc_filters filters;
	struct retisc_writer *writer;
	struct retisc_renderer renderer;
	struct retisc_strbuf text;
	struct retisc_decode_ctx dc;
	struct retisc_ringbuf *rb;
	pthread_t bus_thread, gc_thread;
	bool bus_started, gc_started;
	atomic_bool stop_bus;
	atomic_bool stop_gc;
	atomic_ullong n_events;
	atomic_ullong gc_removed;
	atomic_int write_err;
	uint64_t offset_sec, offset_nsec;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static void usage(FILE *f, const struct collect_opts *o)
{
	fprintf(f,
		"Usage: retisc collect [OPTIONS]\n"
		"\n"
		"  -c, --collectors LIST     collectors (auto, or those of `retisc plugin list`);\n"
		"                            default auto\n"
		"  -p, --probe PROBE         add a probe: [TYPE:]TARGET[/stack], TYPE one of\n"
		"                            kprobe|k, kretprobe|kr, raw_tracepoint|tp\n"
		"  -o, --out [FILE]          write JSON events to FILE (default retis.data)\n"
		"      --out-rotate LIMIT    split the output: <N>MB or <N>GB\n"
		"      --print               also print events when --out is given\n"
		"      --format FMT          single-line|multi-line (default multi-line)\n"
		"      --utc                 print times as UTC dates\n"
		"  -e                        print link-layer information\n"
		"      --stack               stack traces in every kernel event\n"
		"      --cmd CMD             run CMD (sh -c) and stop when it exits\n"
		"      --stop-after COUNT    stop after COUNT events\n"
		"      --tracking-mode MODE  auto|kprobe|tracepoint|off (default auto)\n"
		"      --ring-size BYTES     ring buffer size (power of 2, default 8M)\n"
		"      --tracking-report     log tracking counters and live entries at exit\n"
		"      --tracking-map-size N entries of the tracking maps (default 65536,\n"
		"                            8192 in kprobe mode)\n"
		"      --tracking-kmem on|off   tracepoint mode: end ids when kmem frees their\n"
		"                            buffer (default on)\n"
		"      --tracking-guard on|off  new id when a buffer shows another packet\n"
		"                            (default on)\n"
		"      --allow-system-changes  mount tracefs if needed\n"
		"  -f, --filter-packet EXPR  pcap-filter(7) expression, evaluated at first sight\n"
		"  -m, --filter-meta EXPR    sk_buff meta filter, e.g. 'sk_buff.mark == 0x10'\n"
		"      --kconf PATH          kernel config file for collectors that read it\n");
	/* Each collector's own options (plugin.h), under its name. */
	for (size_t i = 0; i < o->n_copts; i++) {
		const struct copt *c = &o->copts[i];
		char head[96];

		if (!i || c->coll != o->copts[i - 1].coll)
			fprintf(f, "\nCollector %s:\n", c->coll->name);
		snprintf(head, sizeof(head), "--%s%s%s", c->opt->name, c->opt->arg ? " " : "",
			 c->opt->arg ? c->opt->arg : "");
		fprintf(f, "      %-22s%s%s\n", head,
			strlen(head) > 21 ? "\n                            " : "", c->opt->help);
	}
}

enum {
	OPT_ROTATE = 256,
	OPT_PRINT,
	OPT_FORMAT,
	OPT_UTC,
	OPT_STACK,
	OPT_CMD,
	OPT_STOP_AFTER,
	OPT_ALLOW,
	OPT_KCONF,
	OPT_PROBE_STACK,
	OPT_TRACKING_MODE,
	OPT_RING_SIZE,
	OPT_TRACKING_REPORT,
	OPT_TRACKING_MAP_SIZE,
	OPT_TRACKING_KMEM,
	OPT_TRACKING_GUARD,
	/* Collector options: OPT_COLLECTOR + their index in collect_opts.copts. */
	OPT_COLLECTOR = 1024,
};

/* Single-value options and flags may be given once (cli.md §3.1). */
static int once(bool *seen, const char *name)
{
	if (*seen) {
		fprintf(stderr, "error: the argument '--%s' cannot be used multiple times\n", name);
		return -EINVAL;
	}
	*seen = true;
	return 0;
}

/*
 * Options of Retis's collectors that retisc may not have: a clearer error
 * than "unexpected argument" when one is given without its collector.
 */
static const char *retis_collector_of(const char *opt)
{
	if (!strncmp(opt, "ovs-", 4))
		return "ovs";
	if (!strncmp(opt, "nft-", 4))
		return "nft";
	return NULL;
}

/* The options every registered collector declares, in collector order. */
static int collect_copts(struct collect_opts *o, const struct retisc_registry *reg,
			 const struct option *core)
{
	for (size_t i = 0; i < retisc_registry__n_collectors(reg); i++) {
		const struct retisc_collector *col = retisc_registry__collector(reg, i);

		for (size_t j = 0; j < col->n_opts; j++) {
			struct copt *v = realloc(o->copts, (o->n_copts + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			o->copts = v;
			o->copts[o->n_copts++] = (struct copt){.coll = col, .opt = &col->opts[j]};
			for (const struct option *c = core; c->name; c++) {
				if (strcmp(c->name, col->opts[j].name))
					continue;
				fprintf(stderr,
					"error: collector %s declares --%s, an option of collect "
					"itself\n",
					col->name, c->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* A collector option on the command line (OPT_COLLECTOR + i). */
static int copt_parse(struct collect_opts *o, size_t i, const char *arg)
{
	struct copt *c = &o->copts[i];

	if (c->seen && !(c->opt->flags & RETISC_OPT_REPEAT)) {
		fprintf(stderr, "error: the argument '--%s' cannot be used multiple times\n",
			c->opt->name);
		return -EINVAL;
	}
	c->seen = true;
	if (arg && (c->opt->flags & RETISC_OPT_LIST))
		return strv_push_list(&c->values, arg);
	return strv_push(&c->values, arg ? arg : "");
}

static int parse_opts(struct collect_opts *o, const struct retisc_registry *reg, int argc,
		      char **argv)
{
	static const struct option core_opts[] = {
		{"collectors", required_argument, NULL, 'c'},
		{"probe", required_argument, NULL, 'p'},
		{"filter-packet", required_argument, NULL, 'f'},
		{"filter-meta", required_argument, NULL, 'm'},
		{"out", optional_argument, NULL, 'o'},
		{"out-rotate", required_argument, NULL, OPT_ROTATE},
		{"print", no_argument, NULL, OPT_PRINT},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"utc", no_argument, NULL, OPT_UTC},
		{"stack", no_argument, NULL, OPT_STACK},
		{"probe-stack", no_argument, NULL, OPT_PROBE_STACK},
		{"cmd", required_argument, NULL, OPT_CMD},
		{"stop-after", required_argument, NULL, OPT_STOP_AFTER},
		{"allow-system-changes", no_argument, NULL, OPT_ALLOW},
		{"kconf", required_argument, NULL, OPT_KCONF},
		{"tracking-mode", required_argument, NULL, OPT_TRACKING_MODE},
		{"ring-size", required_argument, NULL, OPT_RING_SIZE},
		{"tracking-report", no_argument, NULL, OPT_TRACKING_REPORT},
		{"tracking-map-size", required_argument, NULL, OPT_TRACKING_MAP_SIZE},
		{"tracking-kmem", required_argument, NULL, OPT_TRACKING_KMEM},
		{"tracking-guard", required_argument, NULL, OPT_TRACKING_GUARD},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	bool s_out = false, s_rot = false, s_print = false, s_fmt = false, s_utc = false,
	     s_stack = false, s_cmd = false, s_stop = false, s_allow = false, s_e = false,
	     s_tm = false, s_ring = false, s_kconf = false, s_ps = false, s_fp = false,
	     s_fm = false, s_tk = false, s_tg = false, s_tr = false, s_tms = false;
	size_t n_core = sizeof(core_opts) / sizeof(core_opts[0]) - 1;
	struct option *longopts;
	int c, err;

	o->multiline = true;
	o->ring_size = 8 * 1024 * 1024;
	err = collect_copts(o, reg, core_opts);
	if (err)
		return err;
	longopts = calloc(n_core + o->n_copts + 1, sizeof(*longopts));
	if (!longopts)
		return -ENOMEM;
	memcpy(longopts, core_opts, n_core * sizeof(*longopts));
	for (size_t i = 0; i < o->n_copts; i++)
		longopts[n_core + i] =
			(struct option){o->copts[i].opt->name,
					o->copts[i].opt->arg ? required_argument : no_argument,
					NULL, OPT_COLLECTOR + (int)i};
	optind = 1;
	/* ':' first: a missing value is told apart from an unknown option. */
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "+:c:p:f:m:o::eh", longopts, NULL)) != -1) {
		if (c >= OPT_COLLECTOR) {
			err = copt_parse(o, (size_t)(c - OPT_COLLECTOR), optarg);
			continue;
		}
		switch (c) {
		case 'c':
			err = strv_push_list(&o->collectors, optarg);
			break;
		case 'p':
			err = strv_push(&o->probes, optarg);
			break;
		case 'f':
			err = once(&s_fp, "filter-packet");
			o->filter_packet = optarg;
			break;
		case 'm':
			err = once(&s_fm, "filter-meta");
			o->filter_meta = optarg;
			break;
		case 'o':
			err = once(&s_out, "out");
			/* Bare -o takes the next word only if it is not an option. */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			o->out = optarg ? optarg : "retis.data";
			break;
		case OPT_ROTATE:
			err = once(&s_rot, "out-rotate");
			o->rotate = optarg;
			break;
		case OPT_PRINT:
			err = once(&s_print, "print");
			o->print = true;
			break;
		case OPT_FORMAT:
			err = once(&s_fmt, "format");
			if (!strcmp(optarg, "single-line")) {
				o->multiline = false;
			} else if (strcmp(optarg, "multi-line")) {
				fprintf(stderr, "error: invalid value '%s' for '--format'\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case OPT_UTC:
			err = once(&s_utc, "utc");
			o->utc = true;
			break;
		case 'e':
			err = once(&s_e, "e");
			o->link_layer = true;
			break;
		case OPT_STACK:
			err = once(&s_stack, "stack");
			o->stack = true;
			break;
		case OPT_PROBE_STACK:
			err = once(&s_ps, "probe-stack");
			if (!err)
				err = -ENOTSUP;
			fprintf(stderr, "error: --probe-stack is not available in this version of "
					"retisc\n");
			break;
		case OPT_CMD:
			err = once(&s_cmd, "cmd");
			o->cmd = optarg;
			break;
		case OPT_STOP_AFTER: {
			char *end;

			err = once(&s_stop, "stop-after");
			o->stop_after = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "error: invalid value '%s' for '--stop-after'\n",
					optarg);
				err = -EINVAL;
			}
			break;
		}
		case OPT_ALLOW:
			err = once(&s_allow, "allow-system-changes");
			o->allow_system_changes = true;
			break;
		case OPT_KCONF:
			err = once(&s_kconf, "kconf");
			if (!err && access(optarg, R_OK)) {
				fprintf(stderr, "error: invalid value '%s' for '--kconf': %s\n",
					optarg, strerror(errno));
				err = -EINVAL;
			}
			err = err ?: strv_push(&o->kconf, optarg);
			break;
		case OPT_TRACKING_MODE:
			err = once(&s_tm, "tracking-mode");
			o->tracking_mode = optarg;
			if (strcmp(optarg, "auto") && strcmp(optarg, "kprobe") &&
			    strcmp(optarg, "tracepoint") && strcmp(optarg, "off")) {
				fprintf(stderr,
					"error: invalid value '%s' for '--tracking-mode' "
					"(auto, kprobe, tracepoint, off)\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case OPT_RING_SIZE: {
			char *end;

			err = once(&s_ring, "ring-size");
			o->ring_size = strtoull(optarg, &end, 0);
			if (*end == 'k' || *end == 'K')
				o->ring_size <<= 10, end++;
			else if (*end == 'm' || *end == 'M')
				o->ring_size <<= 20, end++;
			if (*end || o->ring_size < 4096 || (o->ring_size & (o->ring_size - 1))) {
				fprintf(stderr,
					"error: invalid value '%s' for '--ring-size' (a power of "
					"two, at least 4096)\n",
					optarg);
				err = -EINVAL;
			}
			break;
		}
		case OPT_TRACKING_REPORT:
			err = once(&s_tr, "tracking-report");
			o->tracking_report = true;
			break;
		case OPT_TRACKING_KMEM:
		case OPT_TRACKING_GUARD: {
			bool kmem = c == OPT_TRACKING_KMEM;
			const char *name = kmem ? "tracking-kmem" : "tracking-guard";
			bool off = !strcmp(optarg, "off");

			err = once(kmem ? &s_tk : &s_tg, name);
			if (!off && strcmp(optarg, "on")) {
				fprintf(stderr, "error: invalid value '%s' for '--%s' (on, off)\n",
					optarg, name);
				err = -EINVAL;
			}
			if (kmem)
				o->no_tracking_kmem = off;
			else
				o->no_tracking_guard = off;
			break;
		}
		case OPT_TRACKING_MAP_SIZE: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			err = once(&s_tms, "tracking-map-size");
			if (*end || v < 64 || v > (1ul << 24)) {
				fprintf(stderr,
					"error: invalid value '%s' for '--tracking-map-size' (64 "
					"to "
					"16777216)\n",
					optarg);
				err = -EINVAL;
			}
			o->tracking_map_size = (uint32_t)v;
			break;
		}
		case 'h':
			usage(stdout, o);
			free(longopts);
			return 1;
		case ':':
			fprintf(stderr,
				"error: a value is required for '%s' but none was supplied\n",
				argv[optind - 1]);
			err = -EINVAL;
			break;
		default: {
			/* '?': an option nobody declares. */
			const char *bad = argv[optind - 1], *name = bad + 2;
			char opt[64];

			snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(name, "="), name);
			if (optopt)
				fprintf(stderr, "error: unexpected argument '-%c' found\n", optopt);
			else if (!strncmp(bad, "--", 2) && retis_collector_of(opt))
				fprintf(stderr,
					"error: '--%s' is an option of the %s collector, which is "
					"not available (see `retisc plugin list`)\n",
					opt, retis_collector_of(opt));
			else
				fprintf(stderr, "error: unexpected argument '%s' found\n", bad);
			err = -EINVAL;
		}
		}
	}
	free(longopts);
	if (!err && optind < argc) {
		fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind]);
		err = -EINVAL;
	}
	if (!err && o->rotate && !o->out) {
		fprintf(stderr, "error: --out-rotate requires --out\n");
		err = -EINVAL;
	}
	if (!err && !o->collectors.n)
		err = strv_push(&o->collectors, "auto");
	return err;
}

/* cli.md §3.8: CAP_SYS_ADMIN and CAP_BPF (root has both). */
static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (!(data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))) ||
	    !(data[CAP_BPF / 32].effective & (1u << (CAP_BPF % 32))))
		return -EPERM;
	return 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *buf;
	size_t n;

	if (level == LIBBPF_DEBUG && retisc_log__level() < RETISC_LOG_TRACE)
		return 0;
	/* Verifier logs are long: do not cut them. */
	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (n > 1500)
		fprintf(stderr, "%s\n", buf);
	else
		retisc_log(level == LIBBPF_WARN ? RETISC_LOG_DEBUG : RETISC_LOG_TRACE, "libbpf: %s",
			   buf);
	free(buf);
	return 0;
}

/* The user named collectors (anything but "auto"). */
static bool collectors_named(const struct collect_opts *o)
{
	for (size_t i = 0; i < o->collectors.n; i++)
		if (strcmp(o->collectors.v[i], "auto"))
			return true;
	return false;
}

/*
 * -c names checked before anything is set up: an unknown collector is a
 * usage error naming those that exist.
 */
static int check_collector_names(const struct collect *c)
{
	for (size_t i = 0; i < c->o.collectors.n; i++) {
		const char *n = c->o.collectors.v[i];

		if (!strcmp(n, "auto") || retisc_registry__collector_by_name(c->reg, n))
			continue;
		fprintf(stderr,
			"error: invalid value '%s' for '--collectors': unknown collector "
			"(available: auto",
			n);
		for (size_t j = 0; j < retisc_registry__n_collectors(c->reg); j++)
			fprintf(stderr, ", %s", retisc_registry__collector(c->reg, j)->name);
		fprintf(stderr, "; a third-party collector needs its plugin, see `retisc plugin "
				"list`)\n");
		return -ENOENT;
	}
	return 0;
}

static int select_collectors(struct collect *c)
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

static bool collectors_know(const struct collect *c, const char *type)
{
	for (size_t i = 0; i < c->n_colls; i++)
		for (char **t = c->colls[i]->known_types; t && *t; t++)
			if (!strcmp(*t, type))
				return true;
	return false;
}

static bool probe_useful(const struct collect *c, const struct retisc_probe *p)
{
	for (unsigned int i = 0; i < p->proto.nparams; i++)
		if (collectors_know(c, p->proto.types[i]))
			return true;
	return false;
}

/* tracking.md §9.1: try the first kprobe of the kprobe mode. */
static int pick_tracking_mode(struct collect *c)
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

static int add_spec(struct collect *c, const char *s, bool user, bool filter_useful)
{
	struct retisc_probe_spec spec;
	size_t before = c->n_probes;
	struct retisc_probe *v = NULL;
	size_t n = 0;
	char err[512] = "";
	int ret;

	ret = retisc_probe_spec__parse(s, &spec, err, sizeof(err));
	if (ret) {
		pr_err("Invalid probe '%s': %s", s, err);
		return ret;
	}
	if (c->mode == RETISC_TRACKING_TRACEPOINT && spec.type != RETISC_PROBE_RAW_TP) {
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
	for (size_t i = 0; i < c->n_probes; i++)
		(void)i;
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

			if (q->type == p->type && !strcmp(q->func, p->func)) {
				q->stack |= p->stack;
				if (user)
					q->core_only = false;
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
			c->n_probes++;
		}
	}
	free(v);
	(void)before;
	return ret < 0 ? ret : 0;
}

/* filters.md §2.1, §4: compiled before any probe object is opened. */
static int compile_filters(struct collect *c)
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

static int build_probes(struct collect *c)
{
	int err;

	/*
	 * Retis's rule (doc/cli.md §3.2): the default probes only when the
	 * command line names no collector, no probe and no profile, so that
	 * `-c skb-drop` traces drops only.
	 */
	if (!c->o.probes.n && !c->o.has_profile && !collectors_named(&c->o)) {
		pr_info("No probe(s) given: using tp:net:netif_receive_skb, "
			"tp:net:net_dev_start_xmit");
		err = add_spec(c, "tp:net:netif_receive_skb", true, false)
			      ?: add_spec(c, "tp:net:net_dev_start_xmit", true, false);
		if (err)
			return err;
	}
	for (size_t i = 0; i < c->o.probes.n; i++) {
		err = add_spec(c, c->o.probes.v[i], true, true);
		if (err)
			return err;
	}
	for (size_t i = 0; i < c->n_colls; i++) {
		for (char **p = c->colls[i]->probes; p && *p; p++) {
			err = add_spec(c, *p, true, false);
			if (err)
				return err;
		}
		for (size_t h = 0; h < c->colls[i]->n_hooks; h++) {
			const char *t = c->colls[i]->hooks[h].target;

			if (t && (err = add_spec(c, t, true, false)))
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
		err = add_spec(c, "tp:skb:kfree_skb", false, false)
			      ?: add_spec(c, "tp:skb:consume_skb", false, false);
	} else {
		err = add_spec(c, "kprobe:skb_free_head", false, false) ?:
		      add_spec(c, "kprobe:kfree_skb_partial", false, false) ?:
		      add_spec(c, "kprobe:pskb_expand_head", false, false);
	}
	if (err)
		return err;
	for (size_t i = 0; i < c->n_probes; i++) {
		struct retisc_probe *p = &c->probes[i].p;

		if (c->mode == RETISC_TRACKING_TRACEPOINT) {
			if (!strcmp(p->symbol, "skb:kfree_skb") ||
			    !strcmp(p->symbol, "skb:consume_skb"))
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
		} else if (p->type == RETISC_PROBE_RAW_TP &&
			   !strcmp(p->symbol, "net:net_dev_xmit")) {
			p->tracking = RETISC_TRK_NO_TRACKING;
		}
	}
	if (c->n_probes > RETISC_MAX_PROBES) {
		pr_err("Too many probes (%zu, at most %d)", c->n_probes, RETISC_MAX_PROBES);
		return -E2BIG;
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
		 * load_core() makes tracking_map a HASH in kprobe mode where
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

/* Argument registers a probe captures (kprobes: the first five). */
static __u8 probe_nargs(const struct retisc_probe *p)
{
	if (p->type == RETISC_PROBE_KRETPROBE)
		return 0;
	if (p->type == RETISC_PROBE_KPROBE && p->proto.nparams > 5)
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
 * Stack tracking (tracking.md §7) is read only by hits without an sk_buff:
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
static int attach_kmem(struct collect *c)
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

static int load_core(struct collect *c)
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
		/* tracking.md §2.1: Retis's bounded HASH in kprobe mode. */
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

static int load_hooks(struct collect *c)
{
	bool tp = need_type(c, 0), kp = need_type(c, 1);

	for (size_t i = 0; i < c->n_colls; i++) {
		const struct retisc_collector *col = c->colls[i];

		for (size_t h = 0; h < col->n_hooks; h++) {
			struct hook_inst *hi = &c->hooks[c->n_hooks];
			LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = col->hooks[h].name);
			struct bpf_program *ptp, *pkp;
			__u8 owner = (__u8)(col->owner > 0 ? col->owner : 0);
			int err;

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
			err = reuse_core_maps(c, hi->obj) ?: bpf_object__load(hi->obj);
			if (err) {
				pr_err("Collector %s: cannot load hook %s: %s", col->name,
				       col->hooks[h].name, strerror(-err));
				return err;
			}
			hi->fd_tp = tp ? bpf_program__fd(ptp) : -1;
			hi->fd_kp = kp ? bpf_program__fd(pkp) : -1;
		}
	}
	return 0;
}

static bool hook_applies(const struct hook_inst *hi, const struct retisc_probe *p)
{
	if (p->core_only)
		return false;
	if (!hi->desc->target)
		return true;
	/* Targeted hooks compare canonical names; "skb:kfree_skb" == tp:skb:kfree_skb. */
	return !strcmp(hi->desc->target, p->name) ||
	       (p->type == RETISC_PROBE_RAW_TP && !strcmp(hi->desc->target, p->symbol));
}

static int load_probes(struct collect *c)
{
	int progs_tp = bpf_map__fd(c->core->maps.retisc_progs_tp);
	int progs_kp = bpf_map__fd(c->core->maps.retisc_progs_kp);
	int submit_tp = bpf_program__fd(c->core->progs.retisc_submit_tp);
	int submit_kp = bpf_program__fd(c->core->progs.retisc_submit_kp);
	__u64 thread_size = 16384;
	uint64_t a, b;

	bool stack_tracking = need_stack_tracking(c);

	/* tracking.md §7: THREAD_SIZE from the init stack bounds. */
	a = retisc_kallsyms__addr("__start_init_stack");
	b = retisc_kallsyms__addr("__end_init_stack");
	if (a && b && b > a && retisc_kallsyms__count("__start_init_stack") == 1)
		thread_size = b - a;
	else
		pr_debug("Cannot retrieve init stack address: using THREAD_SIZE 16384");

	for (size_t i = 0; i < c->n_probes; i++) {
		struct probe_inst *pi = &c->probes[i];
		struct retisc_probe *p = &pi->p;
		struct retisc_probe_cfg cfg = {};
		struct bpf_program *prog;
		int fd_array = p->type == RETISC_PROBE_RAW_TP ? progs_tp : progs_kp;
		__u32 slot = (__u32)i * RETISC_CHAIN_SLOTS;
		int err, nh = 0;

		cfg.probe_id = (__u32)i;
		cfg.probe_type = (__u8)p->type;
		cfg.nargs = probe_nargs(p);
		cfg.stack = p->stack || c->o.stack;
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
			int fd = p->type == RETISC_PROBE_RAW_TP ? c->hooks[h].fd_tp
								: c->hooks[h].fd_kp;
			__u32 key = slot + (__u32)nh;

			if (!hook_applies(&c->hooks[h], p) || fd < 0)
				continue;
			err = bpf_map_update_elem(fd_array, &key, &fd, BPF_ANY);
			if (err)
				return -errno;
			nh++;
		}
		if (nh) {
			__u32 key = slot + (__u32)nh;
			int fd = p->type == RETISC_PROBE_RAW_TP ? submit_tp : submit_kp;

			if (bpf_map_update_elem(fd_array, &key, &fd, BPF_ANY))
				return -errno;
		}
		cfg.n_hooks = (__u8)nh;
		pi->n_hooks = nh;

		pi->skel = probe__open();
		if (!pi->skel)
			return -errno;
		pi->skel->rodata->retisc_cfg = cfg;
		pi->skel->rodata->retisc_thread_size = thread_size;
		pi->skel->rodata->retisc_tracking_mode = (__u8)c->mode;
		pi->skel->rodata->retisc_stack_tracking = stack_tracking;
		pi->skel->rodata->retisc_trk_kmem = kmem_on(c);
		pi->skel->rodata->retisc_trk_guard = guard_level(c);
		pi->skel->rodata->retisc_wakeup_bytes = wakeup_bytes(c);
		pi->skel->rodata->retisc_filter_packet = c->filters.packet;
		pi->skel->rodata->retisc_filter_meta_on = c->filters.meta.n > 0;
		bpf_program__set_autoload(pi->skel->progs.retisc_probe_tp,
					  p->type == RETISC_PROBE_RAW_TP);
		bpf_program__set_autoload(pi->skel->progs.retisc_probe_kp,
					  p->type == RETISC_PROBE_KPROBE);
		bpf_program__set_autoload(pi->skel->progs.retisc_probe_krp,
					  p->type == RETISC_PROBE_KRETPROBE);
		err = reuse_core_maps(c, pi->skel->obj) ?: probe__load(pi->skel);
		if (err) {
			pr_err("Cannot load the program of probe %s: %s", p->name, strerror(-err));
			return err;
		}
		prog = p->type == RETISC_PROBE_RAW_TP	? pi->skel->progs.retisc_probe_tp
		       : p->type == RETISC_PROBE_KPROBE ? pi->skel->progs.retisc_probe_kp
							: pi->skel->progs.retisc_probe_krp;
		(void)prog;
	}
	return 0;
}

static int attach_probes(struct collect *c)
{
	size_t attached = 0;

	for (size_t i = 0; i < c->n_probes; i++) {
		struct probe_inst *pi = &c->probes[i];
		struct retisc_probe *p = &pi->p;
		int err;

		if (p->type == RETISC_PROBE_RAW_TP)
			pi->link = bpf_program__attach_raw_tracepoint(
				pi->skel->progs.retisc_probe_tp, p->func);
		else
			pi->link = bpf_program__attach_kprobe(
				p->type == RETISC_PROBE_KPROBE ? pi->skel->progs.retisc_probe_kp
							       : pi->skel->progs.retisc_probe_krp,
				p->type == RETISC_PROBE_KRETPROBE, p->func);
		err = libbpf_get_error(pi->link);
		if (err) {
			pi->link = NULL;
			if (p->core_only) {
				pr_err("Cannot attach tracking probe %s: %s", p->name,
				       strerror(-err));
				return err;
			}
			pr_warn("Cannot attach probe %s: %s%s", p->name, strerror(-err),
				p->type != RETISC_PROBE_RAW_TP && err == -ENOENT
					? " (kprobes are not supported by this kernel)"
					: "");
			continue;
		}
		/* Start-up benchmark mark (tests/bench): debug logs carry a timestamp. */
		if (!attached)
			pr_debug("First probe attached: %s", p->name);
		pi->attached = true;
		attached++;
	}
	if (!attached) {
		pr_err("No probe could be attached");
		return -ENOENT;
	}
	pr_info("%zu probe(s) loaded", attached);
	return 0;
}

static const char *probe_symbol(void *priv, uint32_t id)
{
	struct collect *c = priv;

	return id < c->n_probes ? c->probes[id].p.symbol : NULL;
}

static int on_event(void *priv, void *data, size_t size)
{
	struct collect *c = priv;
	struct retisc_json *ev;
	unsigned long long n;
	int err;

	ev = retisc_event__decode(&c->dc, data, size);
	if (!ev) {
		pr_warn("Skipping an event that could not be decoded: %s", strerror(errno));
		return 0;
	}
	if (c->writer) {
		err = retisc_writer__write(c->writer, ev);
		if (err && !atomic_load(&c->write_err)) {
			atomic_store(&c->write_err, err);
			pr_err("Cannot write to %s: %s; stopping (events written so far are "
			       "kept)",
			       c->o.out, strerror(-err));
			atomic_store(&c->stop_bus, true);
		}
	}
	if (!c->writer || c->o.print) {
		retisc_strbuf__reset(&c->text);
		if (!retisc_renderer__event_framed(&c->renderer, ev, &c->text))
			fwrite(c->text.buf, 1, c->text.len, stdout);
	}
	retisc_json__free(ev);
	n = atomic_fetch_add(&c->n_events, 1) + 1;
	if (c->o.stop_after && n >= c->o.stop_after) {
		if (n == c->o.stop_after)
			pr_info("Reached stop count (%llu), terminating...",
				(unsigned long long)c->o.stop_after);
		atomic_store(&c->stop_bus, true);
		return -ECANCELED;
	}
	return 0;
}

static void *bus_main(void *arg)
{
	struct collect *c = arg;

	while (!atomic_load(&c->stop_bus)) {
		/*
		 * The kernel side wakes us only in batches, and epoll reports
		 * nothing without a wake-up: drain after every timeout too.
		 */
		int n = retisc_ringbuf__poll(c->rb, 10);

		if (n == 0 && !atomic_load(&c->stop_bus))
			n = retisc_ringbuf__consume(c->rb);

		if (n < 0 && n != -EINTR && n != -ECANCELED) {
			pr_err("Ring buffer polling failed: %s", strerror(-n));
			break;
		}
	}
	return NULL;
}

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

/* tracking.md §6: drop entries unseen for 60 s, every 5 s. */
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

static void *gc_main(void *arg)
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

static int set_enabled(struct collect *c, bool on)
{
	struct retisc_global g = {.enabled = on};
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(c->core->maps.retisc_global_map), &zero, &g, BPF_ANY)
		       ? -errno
		       : 0;
}

static void report_losses(struct collect *c)
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
static void report_tracking(struct collect *c)
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

static pid_t spawn_cmd(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		FILE *devnull = fopen("/dev/null", "w");

		if (devnull) {
			dup2(fileno(devnull), STDOUT_FILENO);
			dup2(fileno(devnull), STDERR_FILENO);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n_probes; i++) {
		bpf_link__destroy(c->probes[i].link);
		probe__destroy(c->probes[i].skel);
		retisc_probe__release(&c->probes[i].p);
	}
	free(c->probes);
	for (size_t i = 0; i < c->n_hooks; i++)
		bpf_object__close(c->hooks[i].obj);
	retisc_ringbuf__free(c->rb);
	for (size_t i = 0; i < ARRAY_SIZE(c->kmem_links); i++)
		bpf_link__destroy(c->kmem_links[i]);
	core__destroy(c->core);
	retisc_filter__uninstall();
	retisc_insns__release(&c->filters.l2);
	retisc_insns__release(&c->filters.l3);
	retisc_insns__release(&c->filters.meta);
	retisc_strbuf__release(&c->text);
	for (size_t i = 0; i < c->env.n_opts; i++) {
		free(c->env.opts[i].name);
	}
	free(c->env.opts);
	strv_free(&c->o.collectors);
	strv_free(&c->o.probes);
	for (size_t i = 0; i < c->o.n_copts; i++)
		strv_free(&c->o.copts[i].values);
	free(c->o.copts);
	strv_free(&c->o.kconf);
}

static int env_add(struct collect *c, const char *name, struct strv *values)
{
	void *v = realloc(c->env.opts, (c->env.n_opts + 1) * sizeof(*c->env.opts));

	if (!v)
		return -ENOMEM;
	c->env.opts = v;
	c->env.opts[c->env.n_opts].name = strdup(name);
	c->env.opts[c->env.n_opts].values = values->v;
	if (!c->env.opts[c->env.n_opts].name)
		return -ENOMEM;
	c->env.n_opts++;
	return 0;
}

int retisc_cmd_collect(struct retisc_registry *reg, int argc, char **argv, const char *cmdline,
		       bool has_profile)
{
	struct retisc_render_opts ropts = {};
	struct retisc_startup_info info;
	struct collect c = {};
	int64_t osec, onsec;
	pid_t child = -1;
	int err, status = 1;

	c.reg = reg;
	c.dc.stack_map_fd = -1;
	c.o.has_profile = has_profile;
	err = parse_opts(&c.o, reg, argc, argv);
	if (!err && check_collector_names(&c))
		err = -EINVAL;
	if (err) {
		if (err < 0)
			fprintf(stderr, "\nFor more information, try 'retisc collect --help'.\n");
		collect_free(&c);
		return err > 0 ? 0 : 2;
	}
	if (check_privileges()) {
		pr_err("retisc collect needs CAP_SYS_ADMIN and CAP_BPF (run it as root)");
		goto out;
	}
	libbpf_set_print(libbpf_log);
	if (c.o.kconf.n && env_add(&c, "kconf", &c.o.kconf))
		goto out;
	/* Collector options reach their collector through env_option(). */
	for (size_t i = 0; i < c.o.n_copts; i++)
		if (c.o.copts[i].seen && env_add(&c, c.o.copts[i].opt->name, &c.o.copts[i].values))
			goto out;

	/* Tracking mode first: can_run checks depend on it (collectors.md). */
	if (!retisc_tracefs_path() && c.o.allow_system_changes &&
	    system("mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null"))
		pr_warn("Could not mount tracefs");
	err = pick_tracking_mode(&c);
	if (err)
		goto out;
	c.env.tracking_mode = c.mode;
	err = select_collectors(&c);
	if (err)
		goto out;
	if (!c.n_colls) {
		pr_err("No collector to run");
		goto out;
	}
	c.tracking_on = collectors_know(&c, "struct sk_buff *") &&
			!(c.o.tracking_mode && !strcmp(c.o.tracking_mode, "off"));
	for (size_t i = 0; i < c.n_colls; i++) {
		if (c.colls[i]->init && (err = c.colls[i]->init(c.colls[i]->priv, &c.env))) {
			pr_err("Could not initialize the %s collector: %s", c.colls[i]->name,
			       strerror(-err));
			goto out;
		}
	}
	err = build_probes(&c);
	if (err)
		goto out;

	err = compile_filters(&c);
	if (err)
		goto out;
	err = load_core(&c) ?: load_hooks(&c) ?: load_probes(&c);
	if (err)
		goto out;

	c.dc.reg = reg;
	c.dc.symbol_of = probe_symbol;
	c.dc.priv = &c;
	c.dc.stack_map_fd = bpf_map__fd(c.core->maps.retisc_stack_map);
	ropts.multiline = c.o.multiline;
	ropts.link_layer = c.o.link_layer;
	ropts.utc = c.o.utc;
	retisc_renderer__init(&c.renderer, reg, &ropts);
	retisc_clock_offset(&osec, &onsec);
	retisc_renderer__set_offset(&c.renderer, osec, onsec);

	if (c.o.out) {
		uint64_t limit = 0;

		if (c.o.rotate) {
			const char *s = c.o.rotate;
			bool found = false;

			/* files.md §5: first [0-9]+(M|G)B substring, unanchored. */
			for (; *s && !found; s++) {
				char *end;
				unsigned long long v;

				if (*s < '0' || *s > '9')
					continue;
				v = strtoull(s, &end, 10);
				if ((end[0] == 'M' || end[0] == 'G') && end[1] == 'B') {
					limit = v * (end[0] == 'M' ? 1000000ull : 1000000000ull);
					found = true;
				}
				s = end - 1;
			}
			if (!found) {
				pr_err("Invalid limit format (%s)", c.o.rotate);
				goto out;
			}
			if (!limit) {
				pr_err("Invalid limit value (0)");
				goto out;
			}
		}
		info.cmdline = cmdline;
		info.offset_sec = osec;
		info.offset_nsec = onsec;
		c.writer = retisc_writer__open(c.o.out, &info, limit);
		if (!c.writer) {
			pr_err("Cannot create output file %s: %s", c.o.out, strerror(errno));
			goto out;
		}
	}

	c.rb = retisc_ringbuf__new(bpf_map__fd(c.core->maps.retisc_events), on_event, &c);
	if (!c.rb) {
		pr_err("Cannot set up the ring buffer: %s", strerror(errno));
		goto out;
	}

	err = attach_kmem(&c) ?: attach_probes(&c);
	if (err)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (pthread_create(&c.bus_thread, NULL, bus_main, &c))
		goto out;
	c.bus_started = true;
	if (c.tracking_on && !pthread_create(&c.gc_thread, NULL, gc_main, &c))
		c.gc_started = true;
	err = set_enabled(&c, true);
	if (err)
		goto out;
	for (size_t i = 0; i < c.n_colls; i++)
		if (c.colls[i]->start && (err = c.colls[i]->start(c.colls[i]->priv)))
			pr_warn("Collector %s failed to start: %s", c.colls[i]->name,
				strerror(-err));

	if (c.o.cmd) {
		child = spawn_cmd(c.o.cmd);
		if (child < 0) {
			pr_warn("Failed to execute command %s", strerror(errno));
			stop_signal = 1;
		}
	}
	while (!stop_signal && !atomic_load(&c.stop_bus)) {
		if (child > 0) {
			int wst;
			pid_t r = waitpid(child, &wst, WNOHANG);

			if (r == child) {
				pr_info("Command returned (exit status: %d), terminating ...",
					WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst));
				child = -1;
				break;
			}
		}
		usleep(20000);
	}
	status = 0;
out:
	if (c.core)
		set_enabled(&c, false);
	for (size_t i = 0; i < c.n_probes; i++) {
		bpf_link__destroy(c.probes[i].link);
		c.probes[i].link = NULL;
	}
	if (c.bus_started) {
		atomic_store(&c.stop_bus, true);
		pthread_join(c.bus_thread, NULL);
		/* Everything already in the ring buffer is written out. */
		if (!c.o.stop_after || atomic_load(&c.n_events) < c.o.stop_after) {
			atomic_store(&c.stop_bus, false);
			retisc_ringbuf__consume(c.rb);
		}
	}
	if (c.gc_started) {
		atomic_store(&c.stop_gc, true);
		pthread_join(c.gc_thread, NULL);
	}
	for (size_t i = 0; i < c.n_colls && c.core; i++)
		if (c.colls[i]->stop)
			c.colls[i]->stop(c.colls[i]->priv);
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	if (c.core && status == 0) {
		report_losses(&c);
		if (c.tracking_on && c.o.tracking_report)
			report_tracking(&c);
	}
	if (c.writer) {
		err = retisc_writer__close(c.writer);
		if (err) {
			pr_err("Cannot finish writing %s: %s", c.o.out, strerror(-err));
			status = 1;
		}
	}
	if (atomic_load(&c.write_err))
		status = 1;
	fflush(stdout);
	if (c.core && c.bus_started)
		pr_info("%llu event(s) processed", (unsigned long long)atomic_load(&c.n_events));
	collect_free(&c);
	return status;
}
