// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc collect` options (collect_int.h): one table of the core's options
 * from which the getopt tables, --help and the "given twice" checks are
 * made, then each collector's own options (plugin.h), appended after it.
 */
#include <stddef.h>

#include "collect_int.h"

struct core_opt;
typedef int (*core_opt_set_fn)(struct collect_opts *o, const struct core_opt *d, const char *arg);

struct core_opt {
	const char *name; /* long name; "e" for the short-only -e */
	char short_name;  /* 0: long only */
	int has_arg;	  /* getopt's no_argument, required_argument, ... */
	const char *arg;  /* value name in --help */
	/* --help text; lines after the first are indented by usage(). */
	const char *help;
	bool repeat; /* may be given more than once */
	core_opt_set_fn set;
	size_t off; /* the collect_opts field set_* helpers write */
};

static int invalid(const struct core_opt *d, const char *arg, const char *why)
{
	fprintf(stderr, "error: invalid value '%s' for '--%s'%s%s%s\n", arg, d->name,
		why ? " (" : "", why ?: "", why ? ")" : "");
	return -EINVAL;
}

#define FIELD(o, d, type) ((type *)((char *)(o) + (d)->off))

static int set_flag(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	(void)arg;
	*FIELD(o, d, bool) = true;
	return 0;
}

static int set_str(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	*FIELD(o, d, const char *) = arg;
	return 0;
}

static int set_strv(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	return strv_push(FIELD(o, d, struct strv), arg);
}

static int set_strv_list(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	return strv_push_list(FIELD(o, d, struct strv), arg);
}

/* on|off into a "no_*" flag. */
static int set_off(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	bool off = !strcmp(arg, "off");

	if (!off && strcmp(arg, "on"))
		return invalid(d, arg, "on, off");
	*FIELD(o, d, bool) = off;
	return 0;
}

static int set_out(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	(void)d;
	o->out = arg ? arg : "retis.data";
	return 0;
}

static int set_format(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	if (!strcmp(arg, "single-line"))
		o->multiline = false;
	else if (strcmp(arg, "multi-line"))
		return invalid(d, arg, NULL);
	return 0;
}

static int set_stop_after(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	char *end;

	o->stop_after = strtoull(arg, &end, 10);
	return *end || !*arg ? invalid(d, arg, NULL) : 0;
}

static int set_kconf(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	if (access(arg, R_OK)) {
		fprintf(stderr, "error: invalid value '%s' for '--%s': %s\n", arg, d->name,
			strerror(errno));
		return -EINVAL;
	}
	return strv_push(&o->kconf, arg);
}

static int set_tracking_mode(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	static const char *const modes[] = {"auto", "kprobe", "tracepoint", "off"};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(arg, modes[i])) {
			o->tracking_mode = arg;
			return 0;
		}
	}
	return invalid(d, arg, "auto, kprobe, tracepoint, off");
}

static int set_ring_size(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	char *end;

	o->ring_size = strtoull(arg, &end, 0);
	if (*end == 'k' || *end == 'K')
		o->ring_size <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		o->ring_size <<= 20, end++;
	if (*end || o->ring_size < 4096 || (o->ring_size & (o->ring_size - 1)))
		return invalid(d, arg, "a power of two, at least 4096");
	return 0;
}

static int set_map_size(struct collect_opts *o, const struct core_opt *d, const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || v < 64 || v > (1ul << 24))
		return invalid(d, arg, "64 to 16777216");
	o->tracking_map_size = (uint32_t)v;
	return 0;
}

#define OFF(f) offsetof(struct collect_opts, f)

/* In --help order (doc/cli.md §3). */
static const struct core_opt core_opts[] = {
	{"collectors", 'c', required_argument, "LIST",
	 "collectors (auto, or those of `retisc plugin list`);\ndefault auto", true, set_strv_list,
	 OFF(collectors)},
	{"probe", 'p', required_argument, "PROBE",
	 "add a probe: [TYPE:]TARGET[/stack], TYPE one of\nkprobe|k, kretprobe|kr, "
	 "raw_tracepoint|tp",
	 true, set_strv, OFF(probes)},
	{"out", 'o', optional_argument, "[FILE]", "write JSON events to FILE (default retis.data)",
	 false, set_out, 0},
	{"sink", 0, required_argument, "URL",
	 "also send events to URL (e.g. nats://HOST:PORT/SUBJECT);\nrepeatable", true, set_strv,
	 OFF(sinks)},
	{"out-rotate", 0, required_argument, "LIMIT", "split the output: <N>MB or <N>GB", false,
	 set_str, OFF(rotate)},
	{"print", 0, no_argument, NULL, "also print events when --out is given", false, set_flag,
	 OFF(print)},
	{"format", 0, required_argument, "FMT", "single-line|multi-line (default multi-line)",
	 false, set_format, 0},
	{"utc", 0, no_argument, NULL, "print times as UTC dates", false, set_flag, OFF(utc)},
	{"e", 'e', no_argument, NULL, "print link-layer information", false, set_flag,
	 OFF(link_layer)},
	{"stack", 0, no_argument, NULL, "stack traces in every kernel event", false, set_flag,
	 OFF(stack)},
	{"probe-stack", 0, no_argument, NULL,
	 "add kprobes on the functions of the stack traces\nthe probes report (needs -f or -m, "
	 "kprobes)",
	 false, set_flag, OFF(probe_stack)},
	{"cmd", 0, required_argument, "CMD", "run CMD (sh -c) and stop when it exits", false,
	 set_str, OFF(cmd)},
	{"stop-after", 0, required_argument, "COUNT", "stop after COUNT events", false,
	 set_stop_after, 0},
	{"tracking-mode", 0, required_argument, "MODE", "auto|kprobe|tracepoint|off (default auto)",
	 false, set_tracking_mode, 0},
	{"ring-size", 0, required_argument, "BYTES", "ring buffer size (power of 2, default 8M)",
	 false, set_ring_size, 0},
	{"tracking-report", 0, no_argument, NULL, "log tracking counters and live entries at exit",
	 false, set_flag, OFF(tracking_report)},
	{"tracking-map-size", 0, required_argument, "N",
	 "entries of the tracking maps (default 65536,\n8192 in kprobe mode)", false, set_map_size,
	 0},
	{"tracking-kmem", 0, required_argument, "on|off",
	 "tracepoint mode: end ids when kmem frees their\nbuffer (default on)", false, set_off,
	 OFF(no_tracking_kmem)},
	{"tracking-guard", 0, required_argument, "on|off",
	 "new id when a buffer shows another packet\n(default on)", false, set_off,
	 OFF(no_tracking_guard)},
	{"allow-system-changes", 0, no_argument, NULL, "mount tracefs if needed", false, set_flag,
	 OFF(allow_system_changes)},
	{"filter-packet", 'f', required_argument, "EXPR",
	 "pcap-filter(7) expression, evaluated at first sight", false, set_str, OFF(filter_packet)},
	{"filter-meta", 'm', required_argument, "EXPR",
	 "sk_buff meta filter, e.g. 'sk_buff.mark == 0x10'", false, set_str, OFF(filter_meta)},
	{"kconf", 0, required_argument, "PATH", "kernel config file for collectors that read it",
	 false, set_kconf, 0},
};

#define N_CORE_OPTS (sizeof(core_opts) / sizeof(core_opts[0]))
/* getopt values: short options are themselves; long-only ones and the
 * collectors' options are numbered past any character. */
#define OPT_CORE_BASE 256
#define OPT_COLLECTOR 1024

/* One --help entry: left part padded to column 28, help lines after it. */
static void usage_entry(FILE *f, const char *left, const char *help)
{
	int n = fprintf(f, "%s", left);

	fprintf(f, "%*s", n < 27 ? 28 - n : 2, "");
	for (const char *l = help; *l;) {
		size_t len = strcspn(l, "\n");

		fprintf(f, "%.*s\n", (int)len, l);
		l += len;
		if (*l) {
			l++;
			fprintf(f, "%28s", "");
		}
	}
}

static void usage(FILE *f, const struct collect_opts *o)
{
	char left[96];

	fprintf(f, "Usage: retisc collect [OPTIONS]\n\n");
	for (size_t i = 0; i < N_CORE_OPTS; i++) {
		const struct core_opt *d = &core_opts[i];

		if (d->short_name && !d->name[1])
			snprintf(left, sizeof(left), "  -%c", d->short_name);
		else
			snprintf(left, sizeof(left), "  %c%c%c --%s%s%s", d->short_name ? '-' : ' ',
				 d->short_name ?: ' ', d->short_name ? ',' : ' ', d->name,
				 d->arg ? " " : "", d->arg ?: "");
		usage_entry(f, left, d->help);
	}
	/* Each collector's own options (plugin.h), under its name. */
	for (size_t i = 0; i < o->n_copts; i++) {
		const struct copt *c = &o->copts[i];

		if (!i || c->coll != o->copts[i - 1].coll)
			fprintf(f, "\nCollector %s:\n", c->coll->name);
		snprintf(left, sizeof(left), "      --%s%s%s", c->opt->name, c->opt->arg ? " " : "",
			 c->opt->arg ?: "");
		usage_entry(f, left, c->opt->help);
	}
}

/* Single-value options and flags may be given once (doc/cli.md §3.1). */
static int once(bool *seen, bool repeat, const char *name)
{
	if (*seen && !repeat) {
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
	return NULL;
}

/* The options every registered collector declares, in collector order. */
static int collect_copts(struct collect_opts *o, const struct retisc_registry *reg)
{
	for (size_t i = 0; i < retisc_registry__n_collectors(reg); i++) {
		const struct retisc_collector *col = retisc_registry__collector(reg, i);

		for (size_t j = 0; j < col->n_opts; j++) {
			struct copt *v = realloc(o->copts, (o->n_copts + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			o->copts = v;
			o->copts[o->n_copts++] = (struct copt){.coll = col, .opt = &col->opts[j]};
			for (size_t k = 0; k < N_CORE_OPTS; k++) {
				if (strcmp(core_opts[k].name, col->opts[j].name))
					continue;
				fprintf(stderr,
					"error: collector %s declares --%s, an option of collect "
					"itself\n",
					col->name, core_opts[k].name);
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
	int err = once(&c->seen, c->opt->flags & RETISC_OPT_REPEAT, c->opt->name);

	if (err)
		return err;
	if (arg && (c->opt->flags & RETISC_OPT_LIST))
		return strv_push_list(&c->values, arg);
	return strv_push(&c->values, arg ? arg : "");
}

/* getopt_long()'s tables: every core option, then the collectors'. */
static struct option *longopts_build(const struct collect_opts *o, char *shorts, size_t sz)
{
	struct option *lo = calloc(N_CORE_OPTS + o->n_copts + 2, sizeof(*lo));
	size_t n = 0, s = 0;

	if (!lo)
		return NULL;
	/* '+': stop at the first operand; ':' first: a missing value is told
	 * apart from an unknown option. */
	s += (size_t)snprintf(shorts + s, sz - s, "+:h");
	for (size_t i = 0; i < N_CORE_OPTS; i++) {
		const struct core_opt *d = &core_opts[i];

		if (d->short_name)
			s += (size_t)snprintf(shorts + s, sz - s, "%c%s", d->short_name,
					      d->has_arg == required_argument	? ":"
					      : d->has_arg == optional_argument ? "::"
										: "");
		if (d->name[1])
			lo[n++] =
				(struct option){d->name, d->has_arg, NULL, OPT_CORE_BASE + (int)i};
	}
	lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
	for (size_t i = 0; i < o->n_copts; i++)
		lo[n++] = (struct option){o->copts[i].opt->name,
					  o->copts[i].opt->arg ? required_argument : no_argument,
					  NULL, OPT_COLLECTOR + (int)i};
	return lo;
}

/* The core option of a getopt value, short or long. */
static const struct core_opt *core_opt_of(int c)
{
	if (c >= OPT_CORE_BASE && c < OPT_CORE_BASE + (int)N_CORE_OPTS)
		return &core_opts[c - OPT_CORE_BASE];
	for (size_t i = 0; i < N_CORE_OPTS; i++)
		if (core_opts[i].short_name && core_opts[i].short_name == c)
			return &core_opts[i];
	return NULL;
}

/* An option nobody declares ('?'), or a value missing (':'). */
static void report_bad(int c, char **argv, const struct retisc_registry *reg)
{
	const char *bad = argv[optind - 1], *name = bad + 2;
	char opt[64];

	if (c == ':') {
		fprintf(stderr, "error: a value is required for '%s' but none was supplied\n", bad);
		return;
	}
	snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(name, "="), name);
	if (optopt)
		fprintf(stderr, "error: unexpected argument '-%c' found\n", optopt);
	else if (!strncmp(bad, "--", 2) && retis_collector_of(opt) &&
		 retisc_registry__collector_by_name(reg, retis_collector_of(opt)))
		/* The collector is there without that part of Retis's. */
		fprintf(stderr,
			"error: '--%s' is not available in this version of the %s collector\n", opt,
			retis_collector_of(opt));
	else if (!strncmp(bad, "--", 2) && retis_collector_of(opt))
		fprintf(stderr,
			"error: '--%s' is an option of the %s collector, which is not available "
			"(see `retisc plugin list`)\n",
			opt, retis_collector_of(opt));
	else
		fprintf(stderr, "error: unexpected argument '%s' found\n", bad);
}

int collect__parse_opts(struct collect_opts *o, const struct retisc_registry *reg, int argc,
			char **argv)
{
	bool seen[N_CORE_OPTS] = {};
	struct option *longopts;
	char shorts[64];
	int c, err;

	o->multiline = true;
	o->ring_size = 8 * 1024 * 1024;
	err = collect_copts(o, reg);
	if (err)
		return err;
	longopts = longopts_build(o, shorts, sizeof(shorts));
	if (!longopts)
		return -ENOMEM;
	optind = 1;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		const struct core_opt *d;

		if (c >= OPT_COLLECTOR) {
			err = copt_parse(o, (size_t)(c - OPT_COLLECTOR), optarg);
		} else if (c == 'h') {
			usage(stdout, o);
			free(longopts);
			return 1;
		} else if ((d = core_opt_of(c))) {
			err = once(&seen[d - core_opts], d->repeat, d->name);
			/* Bare -o takes the next word only if it is not an option. */
			if (d->has_arg == optional_argument && !optarg && optind < argc &&
			    argv[optind][0] != '-')
				optarg = argv[optind++];
			err = err ?: d->set(o, d, optarg);
		} else {
			report_bad(c, argv, reg);
			err = -EINVAL;
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

/* The user named collectors (anything but "auto"). */
bool collect__collectors_named(const struct collect_opts *o)
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
int collect__check_collector_names(const struct collect *c)
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
