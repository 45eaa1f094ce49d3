// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc inspect -p PATTERN` (doc/cli.md §4.1): the probes of this kernel that
 * some collector could read, i.e. whose parameters include a type known by
 * any registered collector, enabled or not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/event.h>

#include "inspect.h"
#include "kallsyms.h"
#include "log.h"
#include "probe.h"

static bool known_type(const struct retisc_registry *reg, const char *type)
{
	for (size_t i = 0; i < retisc_registry__n_collectors(reg); i++) {
		const struct retisc_collector *c = retisc_registry__collector(reg, i);

		for (char **t = c->known_types; t && *t; t++)
			if (!strcmp(*t, type))
				return true;
	}
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print the usable probes of one probe pattern, sorted. */
static int list_pattern(const struct retisc_registry *reg, const char *pattern, bool quiet)
{
	struct retisc_probe_spec spec;
	struct retisc_probe *probes = NULL;
	char err[512] = "", **names;
	size_t n = 0, nn = 0;
	int ret;

	ret = retisc_probe_spec__parse(pattern, &spec, err, sizeof(err));
	if (ret) {
		pr_err("Invalid probe '%s': %s", pattern, err);
		return ret;
	}
	ret = retisc_probe__resolve(&spec, &probes, &n, err, sizeof(err));
	retisc_probe_spec__release(&spec);
	if (ret < 0) {
		if (!quiet || ret != -ENOENT)
			pr_err("%s", err);
		return ret;
	}
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool known = probes[i].proto.arg[RETISC_ARG_NFT_PKTINFO] >= 0 &&
			     known_type(reg, "struct sk_buff *");

		for (unsigned int k = 0; !known && k < probes[i].proto.nparams; k++)
			known = known_type(reg, probes[i].proto.types[k]);
		if (known)
			names[nn++] = probes[i].name;
	}
	qsort(names, nn, sizeof(*names), name_cmp);
	for (size_t i = 0; i < nn; i++)
		printf("%s\n", names[i]);
	ret = 0;
out:
	free(names);
	for (size_t i = 0; i < n; i++)
		retisc_probe__release(&probes[i]);
	free(probes);
	return ret;
}

int retisc_cmd_inspect(const struct retisc_registry *reg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"probe", optional_argument, NULL, 'p'},
		{"kconf", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	const char *pattern = NULL;
	bool probe = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p::h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			probe = true;
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			pattern = optarg ? optarg : "*";
			break;
		case 'k':
			break;
		case 'h':
			probe = false;
			optind = argc;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!probe) {
		printf("Usage: retisc inspect -p [PATTERN]\n\n"
		       "List the probes of this kernel that a collector can read, e.g.\n"
		       "'retisc inspect -p tp:skb:*'. A PATTERN without ':' is listed as "
		       "kprobe:PATTERN\n"
		       "then tp:PATTERN.\n");
		return 0;
	}
	/*
	 * Without privileges /proc/kallsyms shows no addresses and the tracing
	 * directory is closed: the lists would be wrong, not empty.
	 */
	if (!retisc_kallsyms__addr("__alloc_skb") && !retisc_kallsyms__addr("consume_skb")) {
		pr_err("retisc inspect needs root (or CAP_SYSLOG and CAP_SYS_ADMIN): kernel symbol "
		       "addresses are hidden from this user, so the probe lists would be wrong");
		return 1;
	}
	if (strchr(pattern, ':')) {
		if (list_pattern(reg, pattern, false))
			return 1;
	} else {
		char *k = NULL, *t = NULL;
		int err = 0;

		if (asprintf(&k, "kprobe:%s", pattern) < 0 || asprintf(&t, "tp:%s", pattern) < 0)
			err = -ENOMEM;
		/* No match in one of the two lists is not an error here. */
		if (!err)
			err = list_pattern(reg, k, true);
		if (!err || err == -ENOENT)
			err = list_pattern(reg, t, true);
		free(k);
		free(t);
		if (err && err != -ENOENT)
			return 1;
	}
	return 0;
}
