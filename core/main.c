// SPDX-License-Identifier: GPL-2.0-only
/*
 * retisc entry point: global options, plugin loading, subcommand dispatch
 * (bpftool-style command tables; unambiguous prefixes are accepted).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect.h"
#include "inspect.h"
#include "log.h"
#include "profile.h"
#include "reader.h"
#include "registry.h"
#include "render.h"
#include "version.h"

struct global {
	struct retisc_registry *reg;
	const char *plugin_dirs[16];
	size_t n_plugin_dirs;
	char *cmdline;
	/* -p values (comma lists), in order; -P. */
	const char **profiles;
	size_t n_profiles;
	const char *profiles_dir;
	/* The subcommand's argv after profile expansion (pointers only) and
	 * the arguments profiles added (owned). */
	char **exp_argv;
	struct retisc_profile_args extra;
};

static struct global g;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* The bash completion script (contrib/retisc.bash), generated into the build. */
extern const char retisc_bash_completion[];

/*
 * Every subcommand: the built-in ones, then the processors of the loaded
 * plugins (sort, pcap, stats, schema, print and third-party ones), which
 * run as `retisc NAME` or `retisc process NAME`.
 */
static void usage(FILE *f)
{
	fprintf(f, "Usage: retisc [OPTIONS] <COMMAND>\n\n"
		   "Commands:\n"
		   "  collect      attach probes and collect events\n"
		   "  inspect      list the probes of this kernel a collector can read\n"
		   "  process      run a post-processor plugin: retisc process <name> [ARGS]\n"
		   "  plugin       plugin list: show loaded plugins\n"
		   "  profile      profile list: show available profiles\n"
		   "  sh-complete  print a shell completion script (--shell bash)\n");
	if (g.reg && retisc_registry__n_processors(g.reg)) {
		fprintf(f, "\nProcessors (retisc <name> or retisc process <name>):\n");
		for (size_t i = 0; i < retisc_registry__n_processors(g.reg); i++) {
			const struct retisc_processor *p = retisc_registry__processor(g.reg, i);

			fprintf(f, "  %-12s %s\n", p->name, p->summary);
		}
	}
	fprintf(f, "\n"
		   "Options:\n"
		   "      --log-level LEVEL   error|warn|info|debug|trace (default info)\n"
		   "      --plugin-dir DIR    load plugins from DIR first (repeatable)\n"
		   "  -p, --profile NAME|PATH[,...]\n"
		   "                          apply profiles to collect or pcap (repeatable)\n"
		   "  -P, --extra-profiles-dir DIR\n"
		   "                          search DIR for profiles first\n"
		   "  -h, --help              print help\n"
		   "  -V, --version           print version\n");
}

static int load_plugins(void)
{
	int n;

	g.plugin_dirs[g.n_plugin_dirs] = NULL;
	n = retisc_registry__load_default(g.reg, g.plugin_dirs);
	return n < 0 ? n : 0;
}

static int cmd_collect(int argc, char **argv)
{
	if (load_plugins())
		return 1;
	return retisc_cmd_collect(g.reg, argc, argv, g.cmdline, g.n_profiles > 0);
}

static int cmd_plugin(int argc, char **argv)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	if (argc > 1 && strcmp(argv[1], "list")) {
		fprintf(stderr, "error: unknown plugin command '%s' (expected 'list')\n", argv[1]);
		return 2;
	}
	if (load_plugins())
		return 1;
	for (size_t i = 0; i < retisc_registry__n_plugins(g.reg); i++) {
		retisc_strbuf__reset(&sb);
		retisc_registry__plugin_describe(g.reg, i, &sb);
		printf("%s %s\n  file: %s\n  registers: %s\n",
		       retisc_registry__plugin_name(g.reg, i),
		       retisc_registry__plugin_version(g.reg, i),
		       retisc_registry__plugin_path(g.reg, i), retisc_strbuf__str(&sb));
	}
	retisc_strbuf__release(&sb);
	return 0;
}

static int cmd_process(int argc, char **argv)
{
	const struct retisc_processor *p;

	if (load_plugins())
		return 1;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("Usage: retisc process <PROCESSOR> [ARGS]\n\nProcessors:\n");
		for (size_t i = 0; i < retisc_registry__n_processors(g.reg); i++) {
			p = retisc_registry__processor(g.reg, i);
			printf("  %-10s %s\n", p->name, p->summary);
		}
		return argc < 2 ? 2 : 0;
	}
	p = retisc_registry__processor_by_name(g.reg, argv[1]);
	if (!p) {
		pr_err("Unknown processor '%s' (see `retisc process --help`)", argv[1]);
		return 2;
	}
	return p->run(p->priv, retisc_registry__api(g.reg), argc - 1, argv + 1);
}

/* Profiles of a binary run from the build tree: <dir of the binary>/profiles. */
static char *build_profile_dir(void)
{
	char exe[PATH_MAX], *slash, *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return asprintf(&dir, "%s/profiles", exe) < 0 ? NULL : dir;
}

static char **profile_dirs(void)
{
	char *build = build_profile_dir();
	char **dirs = retisc_profile__search_path(g.profiles_dir, build);

	free(build);
	if (!dirs)
		pr_err("Cannot build the profile search path: %s", strerror(errno));
	return dirs;
}

static int list_file(const char *path, struct retisc_profile_file *f, int error, const char *msg,
		     void *priv)
{
	bool header = false;

	(void)error;
	(void)priv;
	if (!f) {
		pr_warn("Skipping invalid file %s: %s", path, msg);
		return 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct retisc_profile *p = f->profiles[i];

		if (!retisc_profile__usable(p))
			continue;
		if (!header)
			printf("%s:\n", path);
		header = true;
		printf("  %-20s %s\n", p->name, p->about);
	}
	return 0;
}

/* doc/cli.md §4.2: every profile of every existing directory, in search order. */
static int cmd_profile(int argc, char **argv)
{
	char err[1024], **dirs;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: retisc [-P DIR] profile [list]\n\n"
		       "List the profiles found in the profile search path.\n");
		return 0;
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "list"))) {
		fprintf(stderr, "error: unknown profile command '%s' (expected 'list')\n",
			argv[argc - 1]);
		return 2;
	}
	dirs = profile_dirs();
	if (!dirs)
		return 1;
	for (size_t i = 0; dirs[i]; i++) {
		ret = retisc_profile__for_each_file(dirs[i], list_file, NULL, err, sizeof(err));
		if (ret == -EPERM)
			pr_warn("Skipping profile directory: %s", err);
		else if (ret && ret != -ENOENT)
			pr_debug("%s", err);
	}
	fflush(stdout);
	retisc_profile__dirs_free(dirs);
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	if (load_plugins())
		return 1;
	return retisc_cmd_inspect(g.reg, argc, argv);
}

/* `retisc sh-complete --shell bash`, as Retis has. */
static int cmd_sh_complete(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"shell", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	const char *shell = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			shell = optarg;
			break;
		case 'h':
			printf("Usage: retisc sh-complete --shell bash\n\n"
			       "Print the completion script of a shell; e.g. add\n"
			       "  eval \"$(retisc sh-complete --shell bash)\"\n"
			       "to ~/.bashrc.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!shell || strcmp(shell, "bash")) {
		fprintf(stderr, "error: %s (supported: bash)\n",
			shell ? "unsupported shell" : "--shell is required");
		return 2;
	}
	fputs(retisc_bash_completion, stdout);
	return 0;
}

static const struct cmd cmds[] = {
	{"collect", cmd_collect, NULL}, {"inspect", cmd_inspect, NULL},
	{"process", cmd_process, NULL}, {"plugin", cmd_plugin, NULL},
	{"profile", cmd_profile, NULL}, {"sh-complete", cmd_sh_complete, NULL},
};

static char *join_argv(int argc, char **argv)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	for (int i = 0; i < argc; i++)
		if (retisc_strbuf__printf(&sb, "%s%s", i ? " " : "", argv[i]))
			break;
	return sb.buf ? sb.buf : strdup("");
}

/*
 * doc/cli.md §5.4: append the selected profile arguments to the subcommand's
 * arguments (before a `--`, which ends options), so that the subcommand's
 * own option table parses user and profile arguments alike. The expanded
 * line replaces g.cmdline (startup.cmdline). gargc/gargv: the global part
 * of the command line, for cmdline.
 */
static int expand_profiles(enum retisc_profile_cmd target, int gargc, char **gargv, int *argc,
			   char ***argv)
{
	struct retisc_profile_args *extra = &g.extra;
	char err[2048], **dirs, **v;
	int n = *argc, at = *argc, ret;
	char *line, *rest;

	dirs = profile_dirs();
	if (!dirs)
		return 1;
	err[0] = '\0';
	ret = retisc_profile__expand(g.profiles, (const char *const *)dirs, target, NULL, extra,
				     err, sizeof(err));
	retisc_profile__dirs_free(dirs);
	if (!ret)
		ret = retisc_profile_args__setenv(extra);
	if (ret) {
		pr_err("%s", err[0] ? err : strerror(-ret));
		return 1;
	}
	v = calloc((size_t)n + extra->n + 1, sizeof(*v));
	if (!v) {
		pr_err("%s", strerror(ENOMEM));
		return 1;
	}
	for (int i = 1; i < n; i++) {
		if (!strcmp((*argv)[i], "--")) {
			at = i;
			break;
		}
	}
	memcpy(v, *argv, (size_t)at * sizeof(*v));
	memcpy(v + at, extra->v, extra->n * sizeof(*v));
	memcpy(v + at + extra->n, *argv + at, (size_t)(n - at) * sizeof(*v));
	g.exp_argv = v;
	*argc = n + (int)extra->n;
	*argv = v;

	line = join_argv(gargc, gargv);
	rest = join_argv(*argc, *argv);
	free(g.cmdline);
	if (!line || !rest || asprintf(&g.cmdline, "%s %s", line, rest) < 0)
		g.cmdline = NULL;
	free(line);
	free(rest);
	if (!g.cmdline) {
		pr_err("%s", strerror(ENOMEM));
		return 1;
	}
	return 0;
}

static int cmd_select(int gargc, char **gargv, int argc, char **argv)
{
	const struct retisc_processor *p = NULL;
	const struct cmd *found = NULL;
	size_t len = strlen(argv[0]);
	int target = -1, ret;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i].name, argv[0])) {
			found = &cmds[i];
			break;
		}
		if (!strncmp(cmds[i].name, argv[0], len)) {
			if (found) {
				fprintf(stderr, "error: ambiguous subcommand '%s'\n\n", argv[0]);
				usage(stderr);
				return 2;
			}
			found = &cmds[i];
		}
	}
	if (!found) {
		/* `retisc sort` etc.: processors are reachable by name too. */
		if (load_plugins())
			return 1;
		p = retisc_registry__processor_by_name(g.reg, argv[0]);
		if (!p) {
			fprintf(stderr, "error: unrecognized subcommand '%s'\n\n", argv[0]);
			usage(stderr);
			return 2;
		}
	}
	if (found && found->fn == cmd_collect)
		target = RETISC_PROFILE_COLLECT;
	else if ((p && !strcmp(p->name, "pcap")) ||
		 (found && found->fn == cmd_process && argc > 1 && !strcmp(argv[1], "pcap")))
		target = RETISC_PROFILE_PCAP;
	if (g.n_profiles) {
		if (target < 0) {
			pr_err("Subcommand %s does not support profile enhancement",
			       found ? found->name : p->name);
			return 1;
		}
		ret = expand_profiles(target, gargc, gargv, &argc, &argv);
		if (ret)
			return ret;
	}
	if (found)
		return found->fn(argc, argv);
	return p->run(p->priv, retisc_registry__api(g.reg), argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"log-level", required_argument, NULL, 'L'},
		{"plugin-dir", required_argument, NULL, 'D'},
		{"profile", required_argument, NULL, 'p'},
		{"extra-profiles-dir", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{},
	};
	enum retisc_log_level lvl;
	char err[1024];
	int c, status;

	g.cmdline = join_argv(argc, argv);
	while ((c = getopt_long(argc, argv, "+p:P:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'L':
			if (retisc_log__parse_level(optarg, &lvl)) {
				fprintf(stderr, "error: invalid value '%s' for '--log-level'\n",
					optarg);
				return 2;
			}
			retisc_log__set_level(lvl);
			break;
		case 'D':
			if (g.n_plugin_dirs + 1 >=
			    sizeof(g.plugin_dirs) / sizeof(g.plugin_dirs[0])) {
				fprintf(stderr, "error: too many --plugin-dir\n");
				return 2;
			}
			g.plugin_dirs[g.n_plugin_dirs++] = optarg;
			break;
		case 'p': {
			const char **v = realloc(g.profiles, (g.n_profiles + 2) * sizeof(*v));

			if (!v) {
				fprintf(stderr, "Error: %s\n", strerror(ENOMEM));
				return 1;
			}
			g.profiles = v;
			v[g.n_profiles++] = optarg;
			v[g.n_profiles] = NULL;
			break;
		}
		case 'P':
			if (g.profiles_dir) {
				fprintf(stderr, "error: the argument '--extra-profiles-dir' cannot "
						"be used multiple times\n");
				return 2;
			}
			g.profiles_dir = optarg;
			break;
		case 'h':
			/* The processors' list needs the plugins. */
			g.reg = retisc_registry__new();
			if (g.reg)
				load_plugins();
			usage(stdout);
			retisc_registry__free(g.reg);
			return 0;
		case 'V':
			printf("retisc %s (Retis %s event format)\n", RETISC_VERSION,
			       RETISC_EVENT_FORMAT);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "error: a subcommand is required\n\n");
		usage(stderr);
		return 2;
	}
	/* An explicit -P directory that root must not trust is an error, not
	 * a directory silently skipped. */
	if (g.profiles_dir &&
	    retisc_profile__check_dir(g.profiles_dir, err, sizeof(err)) == -EPERM) {
		pr_err("%s", err);
		return 1;
	}
	g.reg = retisc_registry__new();
	if (!g.reg) {
		fprintf(stderr, "Error: %s\n", strerror(errno));
		return 1;
	}
	status = cmd_select(optind, argv, argc - optind, argv + optind);
	retisc_registry__free(g.reg);
	free(g.exp_argv);
	retisc_profile_args__release(&g.extra);
	free(g.profiles);
	free(g.cmdline);
	return status;
}
