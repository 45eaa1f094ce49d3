// SPDX-License-Identifier: GPL-2.0-only
/* `retisc collect` options: the core's and every collector's (collect_int.h). */
#include "collect_int.h"

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

/* Single-value options and flags may be given once (doc/cli.md §3.1). */
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

int collect__parse_opts(struct collect_opts *o, const struct retisc_registry *reg, int argc,
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
