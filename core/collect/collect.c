// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc collect`, in fixed stages: parse options, select collectors, pick
 * the tracking mode, resolve probes, load the core object, the hooks and one
 * probe instance per probe, fill the tail-call chains, open the output,
 * attach, enable, poll until told to stop, then detach, drain and report.
 */
#include <malloc.h>
#include <sys/resource.h>

#include "collect_int.h"

static volatile sig_atomic_t stop_signal;
/* The descriptor limit retisc was started with, for --cmd's command. */
static struct rlimit nofile_orig;
static bool nofile_raised;

/*
 * Every probe instance and hook object holds its own descriptors of the
 * maps it shares with the core (libbpf duplicates them) besides its
 * programs and links: the generic profile with every collector (ovs's
 * seven hooks and five probes included) needs more than the usual soft
 * limit of 1024. Raised to the hard limit; --cmd's command gets the
 * original one back.
 */
static void nofile_raise(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= r.rlim_max)
		return;
	nofile_orig = r;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		pr_debug("Cannot raise the open file limit: %s", strerror(errno));
	else
		nofile_raised = true;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

/* doc/cli.md §3.8: CAP_SYS_ADMIN and CAP_BPF (root has both). */
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

static pid_t spawn_cmd(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		FILE *devnull = fopen("/dev/null", "w");

		if (nofile_raised)
			setrlimit(RLIMIT_NOFILE, &nofile_orig);

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
		bpf_link__destroy(c->probes[i].entry_link);
		probe__destroy(c->probes[i].skel);
		retisc_probe__release(&c->probes[i].p);
	}
	free(c->probes);
	strv_free(&c->ps_seen);
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
	retisc_strbuf__release(&c->line);
	retisc_decode_ctx__release(&c->dc);
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
	strv_free(&c->o.sinks);
	strv_free(&c->env_filter);
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

/* Environment: privileges, libbpf's log, the options collectors read. */
static int collect_environment(struct collect *c)
{
	if (check_privileges()) {
		pr_err("retisc collect needs CAP_SYS_ADMIN and CAP_BPF (run it as root)");
		return -EPERM;
	}
	libbpf_set_print(libbpf_log);
	/* Needed for THREAD_SIZE after the core and hooks are loaded. */
	retisc_kallsyms__prefetch();
	nofile_raise();
	if (c->o.kconf.n && env_add(c, "kconf", &c->o.kconf))
		return -ENOMEM;
	/* -f for collectors that filter in userspace (plugin.h, env_option). */
	if (c->o.filter_packet && (strv_push(&c->env_filter, c->o.filter_packet) ||
				   env_add(c, "filter-packet", &c->env_filter)))
		return -ENOMEM;
	/* Collector options reach their collector through env_option(). */
	for (size_t i = 0; i < c->o.n_copts; i++)
		if (c->o.copts[i].seen &&
		    env_add(c, c->o.copts[i].opt->name, &c->o.copts[i].values))
			return -ENOMEM;
	return 0;
}

/*
 * --allow-system-changes without tracefs (doc/cli.md §3.7): mounted in a
 * mount namespace of retisc's own, a slave of the system's, so that the
 * mount goes away with the process however it ends (SIGKILL included) and
 * nobody else sees it. --cmd's command inherits it.
 */
static int mount_tracefs_private(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) ||
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	return 0;
}

/* Tracking mode, then the collectors (their can_run checks depend on it). */
static int collect_collectors(struct collect *c)
{
	int err;

	if (!retisc_tracefs_path() && c->o.allow_system_changes) {
		err = mount_tracefs_private();
		if (err)
			pr_warn("Could not mount tracefs: %s", strerror(-err));
	}
	err = collect__pick_tracking_mode(c);
	if (err)
		return err;
	c->env.tracking_mode = c->mode;
	c->env.allow_system_changes = c->o.allow_system_changes;
	err = collect__select_collectors(c);
	if (err)
		return err;
	if (!c->n_colls) {
		pr_err("No collector to run");
		return -ENOENT;
	}
	c->tracking_on = collect__collectors_know(c, "struct sk_buff *") &&
			 !(c->o.tracking_mode && !strcmp(c->o.tracking_mode, "off"));
	/*
	 * From here a collector may change the system (nft's trace table):
	 * SIGINT and SIGTERM stop the collection through the teardown, which
	 * calls stop() of every collector initialised so far.
	 */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (size_t i = 0; i < c->n_colls; i++) {
		if (c->colls[i]->init && (err = c->colls[i]->init(c->colls[i]->priv, &c->env))) {
			pr_err("Could not initialize the %s collector: %s", c->colls[i]->name,
			       strerror(-err));
			return err;
		}
		c->n_inited = i + 1;
	}
	return 0;
}

/*
 * Probes, filters, then every BPF object. libbpf parses the kernel's BTF
 * (5 MB, and as much again of index) for each object it loads, a dozen of
 * them, and frees it after: above malloc's mmap threshold every parse
 * maps, faults in and unmaps that memory again, about 80 ms of start-up.
 * Kept in the heap meanwhile, then trimmed once it is all loaded.
 */
static int collect_load(struct collect *c)
{
	int err;

	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	err = collect__build_probes(c) ?: collect__compile_filters(c) ?: collect__load_core(c)
								    ?: collect__load_hooks(c)
								    ?: collect__load_probes(c);
	/* glibc's defaults (the dynamic threshold is off once set). */
	mallopt(M_TRIM_THRESHOLD, 128 << 10);
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	malloc_trim(0);
	return err;
}

/* doc/files.md §5: the first [0-9]+(M|G)B substring of --out-rotate, unanchored. */
static int rotate_limit(const char *spec, uint64_t *limit)
{
	for (const char *s = spec; *s; s++) {
		char *end;
		unsigned long long v;

		if (*s < '0' || *s > '9')
			continue;
		v = strtoull(s, &end, 10);
		if ((end[0] == 'M' || end[0] == 'G') && end[1] == 'B') {
			*limit = v * (end[0] == 'M' ? 1000000ull : 1000000000ull);
			if (!*limit) {
				pr_err("Invalid limit value (0)");
				return -EINVAL;
			}
			return 0;
		}
		s = end - 1;
	}
	pr_err("Invalid limit format (%s)", spec);
	return -EINVAL;
}

/* Decoder, text renderer and the output file. */
static int collect_output(struct collect *c)
{
	struct retisc_render_opts ropts = {
		.multiline = c->o.multiline, .link_layer = c->o.link_layer, .utc = c->o.utc};
	struct retisc_startup_info info = {.cmdline = c->cmdline};
	uint64_t limit = 0;
	int64_t osec, onsec;

	c->dc.reg = c->reg;
	c->dc.symbol_of = collect__probe_symbol;
	c->dc.path_of = collect__probe_path;
	c->dc.priv = c;
	c->dc.stack_map_fd = bpf_map__fd(c->core->maps.retisc_stack_map);
	retisc_renderer__init(&c->renderer, c->reg, &ropts);
	retisc_clock_offset(&osec, &onsec);
	retisc_renderer__set_offset(&c->renderer, osec, onsec);
	info.offset_sec = osec;
	info.offset_nsec = onsec;
	if (collect__sinks_open(c, &info))
		return -EINVAL;
	if (!c->o.out)
		return 0;
	if (c->o.rotate && rotate_limit(c->o.rotate, &limit))
		return -EINVAL;
	c->writer = retisc_writer__open(c->o.out, &info, limit);
	if (!c->writer) {
		pr_err("Cannot create output file %s: %s", c->o.out, strerror(errno));
		return -errno;
	}
	/* Sinks get the parsed event too (plugin.h, retisc_sink_record). */
	c->direct = !c->o.print && !c->o.probe_stack && !c->n_sinks;
	for (size_t i = 0; i < c->n_inited; i++) {
		const struct retisc_collector *col = c->colls[i];

		if (col->on_event && (!col->on_event_needed || col->on_event_needed(col->priv)))
			c->direct = false;
	}
	return 0;
}

/* A signal during start-up ends it before anything is attached. */
static int collect_interrupted(void)
{
	if (!stop_signal)
		return 0;
	pr_info("Interrupted during start-up");
	return -EINTR;
}

/* Ring buffer, probes attached, bus and GC threads, events enabled, --cmd. */
static int collect_start(struct collect *c)
{
	int err;

	c->rb = retisc_ringbuf__new(bpf_map__fd(c->core->maps.retisc_events), collect__on_event, c);
	if (!c->rb) {
		pr_err("Cannot set up the ring buffer: %s", strerror(errno));
		return -errno;
	}
	err = collect__attach_kmem(c) ?: collect__attach_probes(c);
	if (err)
		return err;
	if (pthread_create(&c->bus_thread, NULL, collect__bus_main, c))
		return -EAGAIN;
	c->bus_started = true;
	if (c->tracking_on && !pthread_create(&c->gc_thread, NULL, collect__gc_main, c))
		c->gc_started = true;
	err = collect__set_enabled(c, true);
	if (err)
		return err;
	/* Collectors may emit events from here to their stop() (plugin.h). */
	retisc_emitq__open();
	c->emit_open = true;
	for (size_t i = 0; i < c->n_colls; i++)
		if (c->colls[i]->start && (err = c->colls[i]->start(c->colls[i]->priv)))
			pr_warn("Collector %s failed to start: %s", c->colls[i]->name,
				strerror(-err));
	if (c->o.cmd) {
		c->child = spawn_cmd(c->o.cmd);
		if (c->child < 0) {
			pr_warn("Failed to execute command %s", strerror(errno));
			stop_signal = 1;
		}
	}
	return 0;
}

/* Until a signal, the end of --cmd, --stop-after or a write error. */
static void collect_run(struct collect *c)
{
	while (!stop_signal && !atomic_load(&c->stop_bus)) {
		if (c->child > 0) {
			int wst;
			pid_t r = waitpid(c->child, &wst, WNOHANG);

			if (r == c->child) {
				pr_info("Command returned (exit status: %d), terminating ...",
					WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst));
				c->child = -1;
				break;
			}
		}
		usleep(20000);
	}
}

/*
 * The one teardown, whatever stage stopped: detach, drain what is in the
 * ring buffer, stop the threads and collectors, report, close the file.
 * Returns the exit status.
 */
static int collect_teardown(struct collect *c, int status)
{
	int err;

	if (c->core)
		collect__set_enabled(c, false);
	/* Missed hits are read from the links before they go. */
	if (c->core)
		collect__report_missed(c);
	for (size_t i = 0; i < c->n_probes; i++) {
		bpf_link__destroy(c->probes[i].link);
		bpf_link__destroy(c->probes[i].entry_link);
		c->probes[i].link = NULL;
		c->probes[i].entry_link = NULL;
	}
	if (c->bus_started) {
		atomic_store(&c->stop_bus, true);
		pthread_join(c->bus_thread, NULL);
		/* Everything already in the ring buffer is written out. */
		if (!c->o.stop_after || atomic_load(&c->n_events) < c->o.stop_after) {
			atomic_store(&c->stop_bus, false);
			retisc_ringbuf__consume(c->rb);
		}
	}
	if (c->gc_started) {
		atomic_store(&c->stop_gc, true);
		pthread_join(c->gc_thread, NULL);
	}
	for (size_t i = 0; i < c->n_inited; i++)
		if (c->colls[i]->stop)
			c->colls[i]->stop(c->colls[i]->priv);
	/* What collectors emitted up to their stop() is written, then the
	 * queue refuses more (-EAGAIN). */
	if (c->emit_open) {
		uint64_t dropped = retisc_emitq__dropped();

		collect__emit_drain(c);
		retisc_emitq__close();
		c->emit_open = false;
		if (dropped)
			pr_warn("%llu event(s) emitted by collectors were dropped (queue full)",
				(unsigned long long)dropped);
	}
	if (c->child > 0) {
		kill(c->child, SIGTERM);
		waitpid(c->child, NULL, 0);
	}
	if (c->core && status == 0) {
		collect__report_losses(c);
		if (c->tracking_on && c->o.tracking_report)
			collect__report_tracking(c);
	}
	if (c->sinks && collect__sinks_close(c))
		status = 1;
	if (c->writer) {
		err = retisc_writer__close(c->writer);
		if (err) {
			pr_err("Cannot finish writing %s: %s", c->o.out, strerror(-err));
			status = 1;
		}
	}
	if (atomic_load(&c->write_err))
		status = 1;
	fflush(stdout);
	if (c->core && c->bus_started)
		pr_info("%llu event(s) processed", (unsigned long long)atomic_load(&c->n_events));
	collect_free(c);
	return status;
}

int retisc_cmd_collect(struct retisc_registry *reg, int argc, char **argv, const char *cmdline,
		       bool has_profile)
{
	struct collect c = {.reg = reg, .cmdline = cmdline, .child = -1};
	int err;

	c.dc.stack_map_fd = -1;
	c.o.has_profile = has_profile;
	err = collect__parse_opts(&c.o, reg, argc, argv);
	if (!err && collect__check_collector_names(&c))
		err = -EINVAL;
	if (err) {
		/* 1: --help was printed. */
		if (err < 0)
			fprintf(stderr, "\nFor more information, try 'retisc collect --help'.\n");
		collect_free(&c);
		return err > 0 ? 0 : 2;
	}
	err = collect_environment(&c) ?: collect_collectors(&c) ?: collect_load(&c)
			?: collect_interrupted() ?: collect_output(&c) ?: collect_start(&c);
	if (!err)
		collect_run(&c);
	return collect_teardown(&c, err ? 1 : 0);
}
