/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc plugin SDK: what a collector, processor or sink plugin (.so) sees.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * retisc_plugin_entry (use RETISC_PLUGIN_DEFINE()). The core dlopen()s it,
 * calls the entry function to get a struct retisc_plugin_desc, checks the ABI
 * version and the descriptor size, then calls desc->init() once with the
 * core's API table. init() registers collectors, event sections,
 * processors and sinks through that table and returns. Plugins never link against the
 * retisc binary: everything they use from the core comes through
 * struct retisc_api, so a plugin built against an older SDK keeps working
 * with a newer core as long as RETISC_ABI_VERSION did not change.
 *
 * Extensible structs follow libbpf's pattern: they start with `size_t sz`
 * (set it to sizeof(struct ...)), end with `size_t :0;`, and have a
 * `<type>__last_field` define. The core reads only the fields that the
 * plugin's sz covers (older plugins get defaults for newer fields), and
 * refuses a descriptor whose sz is smaller than the first version of the
 * struct or whose bytes past the core's own struct are not zero. Fields are
 * never moved or removed; a removed field leaves a hole.
 *
 * Ownership: descriptors, strings and tables handed to a register function
 * are copied by the core when it needs them beyond the call, except the BPF
 * object bytes (retisc_hook_desc.obj), the option/type tables and the hook
 * rodata tables with their values (retisc_hook_desc.rodata), which must
 * stay valid while the plugin is loaded (static storage in the .so is the
 * normal case). JSON values follow retisc/json.h rules.
 *
 * Threads: init() and fini() run on the main thread. Collector callbacks
 * (can_run, init, start, stop, free) run on the main thread, except
 * on_event, which runs where decoders do. Section decoders run on the event
 * bus thread (one thread, so a decoder is never called concurrently with
 * itself; at the end of a collection, after that thread has ended, the main
 * thread decodes what is left in the ring buffer); formatters run on
 * whichever thread renders text (the bus thread during `collect`, the main
 * thread for `print`/`sort`). Processor callbacks run on the main thread.
 * Sink callbacks: see struct retisc_sink_desc (write/flush on the bus
 * thread, the others on the main thread).
 * api->event_emit() may be called from any thread (plugin threads
 * included) while a collection runs.
 *
 * Errors: every int callback returns 0 or a negative errno.
 */
#ifndef __RETISC_PLUGIN_H
#define __RETISC_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "strbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Bumped on every incompatible change of this header: a plugin built with a
 * different value is refused ("ABI version N, core supports M").
 */
#define RETISC_ABI_VERSION 1

/* Name of the one symbol a plugin exports. */
#define RETISC_PLUGIN_ENTRY_SYMBOL "retisc_plugin_entry"

struct retisc_plugin; /* opaque handle of a loaded plugin, owned by the core */
struct retisc_api;
struct retisc_reader; /* event file reader (processors) */
struct retisc_text;   /* text renderer (processors) */

enum retisc_log_level {
	RETISC_LOG_ERROR = 0,
	RETISC_LOG_WARN,
	RETISC_LOG_INFO,
	RETISC_LOG_DEBUG,
	RETISC_LOG_TRACE,
};

/* -------------------------------------------------------------------------
 * Plugin descriptor: returned by the entry function.
 */
struct retisc_plugin_desc {
	size_t sz;
	/* RETISC_ABI_VERSION the plugin was compiled with. */
	uint32_t abi_version;
	/* Kebab-case plugin name, unique among loaded plugins. Required. */
	const char *name;
	/* Free-form plugin version, shown by `retisc plugin list`. Optional. */
	const char *version;
	/*
	 * Register everything. Called once, main thread. On error the plugin
	 * is unloaded; whatever it registered before failing is dropped by the
	 * core. Required.
	 */
	int (*init)(struct retisc_plugin *plugin, const struct retisc_api *api);
	/* Called before dlclose(). Optional. */
	void (*fini)(struct retisc_plugin *plugin);
	size_t : 0;
};
#define retisc_plugin_desc__last_field fini

typedef const struct retisc_plugin_desc *(*retisc_plugin_entry_fn)(void);

/* Define the entry point of a plugin from a static descriptor variable. */
#define RETISC_PLUGIN_DEFINE(desc)                                                                 \
	__attribute__((visibility("default"))) const struct retisc_plugin_desc *                   \
	retisc_plugin_entry(void)                                                                  \
	{                                                                                          \
		return &(desc);                                                                    \
	}

/*
 * The whole plugin boilerplate in one line: a descriptor with this name
 * (a string), version (a string) and init function, and its entry point.
 *
 *	static int init(struct retisc_plugin *pl, const struct retisc_api *api)
 *	{ ... api->register_collector(pl, &desc); ... }
 *	RETISC_PLUGIN("mark", "1.0.0", init)
 */
#define RETISC_PLUGIN(name_, version_, init_)                                                      \
	static const struct retisc_plugin_desc retisc_plugin__desc = {                             \
		.sz = sizeof(struct retisc_plugin_desc),                                           \
		.abi_version = RETISC_ABI_VERSION,                                                 \
		.name = (name_),                                                                   \
		.version = (version_),                                                             \
		.init = (init_),                                                                   \
	};                                                                                         \
	RETISC_PLUGIN_DEFINE(retisc_plugin__desc)

/* -------------------------------------------------------------------------
 * Event sections: how raw bytes written by a BPF hook become a JSON section,
 * and how a JSON section (from a live event or a file) becomes text.
 */

/* Text rendering options and output, passed to formatters. */
struct retisc_fmt {
	size_t sz;
	/* Output: formatters append here. */
	struct retisc_strbuf *out;
	/* --format multi-line (true) or single-line (false). */
	bool multiline;
	/* -e: link-layer details. */
	bool link_layer;
	/* --utc: print times as UTC dates when an offset is known. */
	bool utc;
	/* The whole event, for formatters that need other sections. Borrowed. */
	const struct retisc_json *event;
	size_t : 0;
};
#define retisc_fmt__last_field event

/*
 * Separator between the parts of a section: "\n" in multi-line mode, " " in
 * single-line mode. The core indents continuation lines itself: formatters
 * write a bare "\n" and never indentation.
 */
#define RETISC_FMT_SEP(f) ((f)->multiline ? "\n" : " ")

/* Where a section's text goes in an event's rendering (doc/events.md §5). */
enum retisc_section_place {
	RETISC_PLACE_BODY = 0,	 /* own item in the body, after the packet line */
	RETISC_PLACE_FIRST_LINE, /* appended to the first line (tracking, drop) */
};

/* What a section encoder writes (retisc_section_desc.encode). */
struct retisc_json_piece {
	/* Output: the event key (e.g. "packet"), a literal of the plugin. */
	const char *key;
	/* Output: NULL when text is the key's whole value, else the member
	 * of the key's object it is the value of (e.g. "meta" of "skb"). */
	const char *sub;
	/* Output: order of the members of one key's object. */
	uint32_t sub_rank;
	/* Append the value's JSON here (it may hold other pieces before). */
	struct retisc_strbuf *text;
};

struct retisc_section_desc {
	size_t sz;
	/* JSON key of the section, e.g. "skb-tracking". Unique. Required. */
	const char *key;
	/*
	 * Position of the key in an event (doc/events.md §2 order: common 10,
	 * kernel 20, userspace 30, tracking 40, skb-tracking 50, skb-drop 60,
	 * packet 70, skb 80, netns 90, dev 100, ovs 110, ovs-detrace 120,
	 * nft 130, ct 140, startup 150). Third-party sections should use
	 * values between the built-in ones or above 1000 (after all of them).
	 */
	uint32_t rank;
	/*
	 * Raw owner id the section's BPF hook writes (retisc/event.h). 1..31
	 * are reserved for built-in sections (Retis numbering); 0 asks the
	 * core to assign a free id >= RETISC_OWNER_DYNAMIC, which the core
	 * writes into the hook objects of the same collector (retisc_owner
	 * in retisc/hook.bpf.h) and returns from register_section().
	 * -1: the section has no raw form (text/JSON only).
	 */
	int32_t owner;
	enum retisc_section_place place;
	/*
	 * Decode one raw section into the event: add the key (or fill it if a
	 * previous raw section of the same owner already created it). data is
	 * size bytes, native endian, as the hook wrote them; never trust size:
	 * return -EINVAL when it is too small. Bus thread. Optional when owner
	 * is -1.
	 *
	 * Errors: -ENOMEM drops the whole event; any other negative errno
	 * skips this section only (the event is written without it, a warning
	 * names owner, type and size, and the malformed count grows), so a
	 * decoder must not leave a half-built key behind on error.
	 */
	int (*decode)(void *priv, struct retisc_json *event, uint8_t data_type, const void *data,
		      size_t size);
	/*
	 * Render the JSON section (which may come from a file written by
	 * Retis: unknown keys must be ignored, missing optional keys tolerated)
	 * into f->out, without a trailing separator. Return -EINVAL when a
	 * mandatory key is missing. Optional: a section without a formatter is
	 * not printed.
	 */
	int (*format)(void *priv, const struct retisc_json *section, const struct retisc_fmt *f);
	/*
	 * Passed back to decode/format. Owned by the plugin: the core never
	 * frees it; release it in the plugin's fini().
	 */
	void *priv;
	/*
	 * Optional, bus thread: the JSON text decode() would add for this
	 * raw section, appended to p->text (retisc/json_text.h), with the key
	 * it goes under in p->key (and in p->sub when it is one member of an
	 * object that several raw sections fill, p->sub_rank ordering those
	 * members). The core writes events as text this way when nothing
	 * needs them as trees (doc/architecture.md §4.3); the bytes must be
	 * those of decode() then retisc_json__dump(). Any error, malformed
	 * data included, sends the whole event through decode() instead, so
	 * an encoder need not log or count anything.
	 */
	int (*encode)(void *priv, uint8_t data_type, const void *data, size_t size,
		      struct retisc_json_piece *p);
	size_t : 0;
};
#define retisc_section_desc__last_field encode

/* -------------------------------------------------------------------------
 * Collectors.
 */

/*
 * A read-only variable of a hook object (a `const volatile` global of its
 * .rodata) that the core sets before loading the object, the way a skeleton
 * user would. Read-only data lets the verifier drop the code that a
 * configuration does not use, and needs no map update after loading.
 *
 * The value is read when the hook is loaded, which is after every enabled
 * collector's init(): a collector computes its configuration in init() into
 * storage that value points to. This struct is a plain table entry: it is
 * never extended (a new need gets a new table in retisc_hook_desc).
 */
struct retisc_hook_rodata {
	/* Name of the variable in the object's BTF. */
	const char *name;
	/* size bytes, native endian; must match the variable's size. */
	const void *value;
	size_t size;
};

/*
 * A BPF hook: an ELF object built with retisc/hook.bpf.h (RETISC_HOOK()),
 * usually taken from its skeleton's <name>__elf_bytes(). The core loads it
 * once per probe program type in use, shares its core maps with it and puts
 * it in the tail-call chain of the probes it applies to.
 */
struct retisc_hook_desc {
	size_t sz;
	/* Name in logs. Required. */
	const char *name;
	/* ELF bytes; must outlive the plugin's registration. Required. */
	const void *obj;
	size_t obj_sz;
	/*
	 * NULL: generic hook, chained on every probe. Otherwise a probe in
	 * canonical form ("tp:skb:kfree_skb", "kprobe:__nft_trace_packet"):
	 * targeted hook, chained on that probe only (the probe is added).
	 * In tracepoint tracking mode (no kprobes, RETISC_ENV_KPROBES false)
	 * a hook targeted at a kprobe or kretprobe is left out, with its
	 * probe: a collector whose can_run() accepts that mode runs without
	 * it (the nft collector's netlink path, doc/collectors.md §7.7).
	 *
	 * The core reads the string when the collection builds its probes,
	 * after every collector's init(): a target that depends on the
	 * machine (a process id in "usdt:PID:provider:name") may point to
	 * the plugin's own storage, written by init(). The empty string ""
	 * turns the hook off for the collection (not loaded, no probe added):
	 * how a collector leaves out hooks that an option did not ask for.
	 */
	const char *target;
	/*
	 * Optional (NULL/0 when absent; descriptors older than these fields
	 * get none): n_rodata variables written into the object before it is
	 * loaded. A variable the object lacks, or of another size, fails the
	 * collection ("cannot set <name>"). The table and the values must stay
	 * valid while the plugin is loaded.
	 */
	const struct retisc_hook_rodata *rodata;
	size_t n_rodata;
	/*
	 * Optional (0 when absent): RETISC_HOOK_* for a targeted hook, about
	 * the probe it targets. Ignored for generic hooks.
	 */
	uint32_t flags;
	size_t : 0;
};
#define retisc_hook_desc__last_field flags

/*
 * The target probe runs no generic hook, only the targeted ones, unless
 * the user names that probe too (-p): a probe that only keeps a
 * collector's state up to date (ovs's ovs_dp_process_packet) would else
 * write an event for every packet.
 */
#define RETISC_HOOK_EXCLUSIVE 0x1
/*
 * The target probe, when it has no struct sk_buff * argument, takes the
 * sk_buff a hook stored for its kernel stack in the retisc_stack_skb map
 * (retisc_stack_skb_set(), retisc/hook.bpf.h), before filtering and
 * tracking, so that generic hooks see the packet (ovs's flow lookup,
 * doc/collectors.md §1.3).
 */
#define RETISC_HOOK_STACK_SKB 0x2

/* What a collector's can_run()/init() may query. Opaque, owned by the core. */
struct retisc_collect_env;

/*
 * A command-line option of a collector: `retisc collect --<name> [ARG]`, and
 * the profile argument `<name>` (`-` or `_`). The core parses the options of
 * every registered collector, enabled or not (as Retis does: profiles and
 * scripts pass them unconditionally), lists them in `retisc collect
 * --help` and the shell completion, and hands the values to the collector
 * through env_option(env, name) in can_run() and init(): NULL when the
 * option was not given, else the values in command-line order (a flag
 * gives one "" per occurrence). The collector validates the values itself
 * (init() returning -EINVAL with a logged reason fails the collection).
 *
 * A plain table entry: never extended (a new need gets a new table in
 * retisc_collector_desc). The table and its strings must stay valid while
 * the plugin is loaded (the core copies them at registration anyway).
 */
struct retisc_collector_opt {
	/*
	 * Long option without "--": lowercase kebab-case, unique among every
	 * collector's options and the core's own (a clash refuses the
	 * registration, or the collection for a core option). Required.
	 */
	const char *name;
	/* Argument name shown by --help ("LIST", "N"); NULL for a flag. */
	const char *arg;
	/* One line of --help. */
	const char *help;
	/* RETISC_OPT_*. */
	unsigned int flags;
};

/* May be given several times: values accumulate (else a second one is a
 * usage error, as for the core's single-value options). */
#define RETISC_OPT_REPEAT 0x1
/* Comma-separated lists are split into values ("a,b" -> "a", "b"). */
#define RETISC_OPT_LIST 0x2

struct retisc_collector_desc {
	size_t sz;
	/* Kebab-case name used with -c. Unique. Required. */
	const char *name;
	/*
	 * NULL-terminated list of kernel types (as C writes them:
	 * "struct sk_buff *", "enum skb_drop_reason") whose probe arguments
	 * the collector can read. Decides which user probes are useful.
	 */
	const char *const *known_types;
	/* Hooks, n_hooks entries. Copied. */
	const struct retisc_hook_desc *hooks;
	size_t n_hooks;
	/* NULL-terminated extra probes (probe syntax, doc/cli.md §3.2). */
	const char *const *probes;
	/* Initialisation order among collectors (skb-tracking 10, skb 20,
	 * skb-drop 30, ovs 40, nft 50, ct 60, dev 70, ns 80). */
	uint32_t order;
	/*
	 * Can the collector run on this machine? Return 0, or a negative
	 * errno with a human reason written into reason (reason_sz bytes). An
	 * explicitly requested collector that cannot run aborts `collect`
	 * ("Cannot run collector <name>: <reason>"). Optional (always runs).
	 */
	int (*can_run)(void *priv, const struct retisc_collect_env *env, char *reason,
		       size_t reason_sz);
	/* Before the hooks are loaded. Optional. */
	int (*init)(void *priv, const struct retisc_collect_env *env);
	/* After every probe is attached and events flow. Optional. */
	int (*start)(void *priv);
	/*
	 * After probes are detached, before the output is closed: on every
	 * exit path (normal end, --cmd, SIGINT/SIGTERM, a failure at any later
	 * start-up stage) for each collector whose init() succeeded, whether
	 * or not start() ran. Undo system changes here. Every BPF event has
	 * been through on_event() by then; what stop() emits is still written
	 * (api->event_emit()). Optional.
	 */
	void (*stop)(void *priv);
	/* Passed back to the callbacks; owned by the plugin (free it in fini()). */
	void *priv;
	/*
	 * Optional (NULL/0; descriptors older than these fields have none):
	 * the collector's command-line options, n_opts entries.
	 */
	const struct retisc_collector_opt *opts;
	size_t n_opts;
	/*
	 * Optional (NULL; descriptors older than this field have none):
	 * called with every event decoded from the BPF ring buffer, before
	 * it is written or printed, for collectors that relate what they
	 * learn elsewhere to the packets' events (the nft collector's netlink
	 * path matches trace messages to packets, doc/collectors.md §7.7).
	 *
	 * event is read-only and borrowed for the call: copy what you keep.
	 * Threads: the bus thread, and at the end of a collection the main
	 * thread once the bus thread has ended (never both at once, so calls
	 * never overlap); only after the collector's init() succeeded and
	 * before its stop() is called (events flow as soon as the probes are
	 * enabled, which can be before start()), in collector order.
	 * The call delays every event behind it: keep it short. An event
	 * emitted from here (api->event_emit()) is written before this one.
	 */
	void (*on_event)(void *priv, const struct retisc_json *event);
	/*
	 * Optional, asked after init(): does on_event() have work in this
	 * collection? false lets the core write the events it can as text
	 * without building them as trees, and without calling on_event() for
	 * them (doc/architecture.md §4.3). Absent: every event goes to
	 * on_event().
	 */
	bool (*on_event_needed)(void *priv);
	size_t : 0;
};
#define retisc_collector_desc__last_field on_event_needed

/* -------------------------------------------------------------------------
 * Processors: `retisc process <name> [ARGS]` (and aliases).
 */
struct retisc_processor_desc {
	size_t sz;
	/* Kebab-case name. Unique. Required. */
	const char *name;
	/* One line shown by `retisc process --help`. */
	const char *summary;
	/*
	 * Run with the arguments after the processor name (argv[0] is the
	 * processor name). Return the process exit status (0 success, 1
	 * runtime error, 2 usage error). Main thread.
	 */
	int (*run)(void *priv, const struct retisc_api *api, int argc, char **argv);
	/* Passed back to run(); owned by the plugin (free it in fini()). */
	void *priv;
	size_t : 0;
};
#define retisc_processor_desc__last_field priv

/* -------------------------------------------------------------------------
 * Sinks: where `retisc collect` sends its events besides (or instead of) the
 * built-in file writer of -o (doc/architecture.md §3.2).
 *
 * A sink plugin handles one URL scheme: `retisc collect --sink
 * SCHEME://...` (repeatable, combinable with -o) opens one instance per
 * --sink, which then receives the startup event and every event, already
 * serialised as the JSON line the file writer would write, in the order the
 * file gets them. A sink may also read back what it stored
 * (open_input): processors then take SCHEME://... as their INPUT.
 *
 * Threads: open() and close() run on the main thread; write() and flush()
 * on the event bus thread, and at the end of a collection on the main
 * thread once the bus thread has ended, so calls on one instance never
 * overlap. write() delays every event behind it: it must not wait for the
 * network (queue, spool, publish from a thread of the sink's own).
 *
 * Loss: a sink never blocks the collection and never loses an event
 * silently. What it could not deliver it counts, and close() reports the
 * counts (struct retisc_sink_report); the core logs them at the end of the
 * run with the ring buffer's losses and fails nothing for them.
 */

/* What one record handed to write() is. */
enum retisc_sink_record_kind {
	RETISC_SINK_STARTUP = 1, /* the startup event: first record, once */
	RETISC_SINK_EVENT = 2,	 /* a collected (or emitted) event */
};

/*
 * One record. Borrowed for the call: copy what you keep. The core fills
 * it; fields past the plugin's idea of sz are never read by the plugin
 * (the core always sets sz = sizeof(struct retisc_sink_record) of its own
 * version: check sz before reading a field added later).
 */
struct retisc_sink_record {
	size_t sz;
	enum retisc_sink_record_kind kind;
	/* The JSON line, without newline, exactly what -o writes. */
	const char *line;
	size_t len;
	/* The same event, parsed. Read-only. */
	const struct retisc_json *event;
	/* common.timestamp (CLOCK_MONOTONIC ns); 0 for the startup event. */
	uint64_t timestamp;
	size_t : 0;
};
#define retisc_sink_record__last_field timestamp

/*
 * What close() reports. The core zeroes it and sets sz before the call;
 * the sink fills what applies. Everything counts records (startup
 * included).
 */
struct retisc_sink_report {
	size_t sz;
	/* Records the destination acknowledged. */
	uint64_t delivered;
	/* Records sent again after the destination came back (spool
	 * replay, retries); each one is also counted in delivered. */
	uint64_t replayed;
	/* Records lost: never delivered and never will be. */
	uint64_t dropped;
	/* Why they were lost, one line, or "" (e.g. "spool full (1048576
	 * bytes)"). */
	char reason[128];
	size_t : 0;
};
#define retisc_sink_report__last_field reason

/*
 * Reading back (optional): a reader thread of the sink writes the records
 * it reads from the destination into fd, the write end of a pipe, as the
 * lines of an events file (doc/files.md §1: a startup event first), then
 * closes fd. The core reads the other end as it reads a file, so every
 * processor takes SCHEME://... as INPUT.
 */
struct retisc_sink_desc {
	size_t sz;
	/* URL scheme without "://", lowercase ("nats"). Unique. Required. */
	const char *scheme;
	/* One line for `retisc plugin list` and errors. */
	const char *summary;
	/*
	 * Open an instance for url (the whole --sink value). Main thread,
	 * before any event. On success *out is the instance, passed back to
	 * the other callbacks. Errors: -EINVAL (bad URL or settings: log
	 * which part and why), -ENOTSUP (the plugin was built without what
	 * the scheme needs: log what to install), -ENOMEM, or any errno of
	 * the set-up; a failing sink fails the collection before probes are
	 * attached. A destination that is merely unreachable is no error
	 * when the sink can spool until it is back. Required.
	 */
	int (*open)(void *priv, const char *url, void **out);
	/*
	 * Take one record (kind RETISC_SINK_STARTUP first, then events).
	 * Bus thread. Returns 0, also when the record is counted as dropped;
	 * a negative errno stops the collection as a write error of the file
	 * does (doc/files.md §8), so keep it for errors that make going on
	 * pointless. Required.
	 */
	int (*write)(void *sink, const struct retisc_sink_record *rec);
	/*
	 * The bus went idle: hand over what is buffered now. Bus thread.
	 * 0 or a negative errno as write(). Optional.
	 */
	int (*flush)(void *sink);
	/*
	 * End of the collection: deliver what is pending (waiting a bounded
	 * time), fill *report, free the instance. Main thread, once per
	 * successful open(), after the last write(). Returns 0 or a negative
	 * errno (logged; the exit status becomes 1). Required.
	 */
	int (*close)(void *sink, struct retisc_sink_report *report);
	/*
	 * Reading back, see above: start reading what url names into fd,
	 * which the sink owns from the call on, also on error (close it).
	 * Main thread; the reading goes on in a thread of the sink, which
	 * stops at the end of the data or when a write to fd fails (EPIPE:
	 * the reader went away). Errors (-EINVAL bad URL, -ENOTSUP, -ENOENT
	 * no such stream, ...) are explained in err (errsz bytes,
	 * "url: what"). Optional.
	 */
	int (*open_input)(void *priv, const char *url, int fd, char *err, size_t errsz);
	/* Passed back to open() and open_input(); owned by the plugin. */
	void *priv;
	size_t : 0;
};
#define retisc_sink_desc__last_field priv

/* -------------------------------------------------------------------------
 * The core API table. Filled by the core, read-only for plugins, valid
 * until the plugin's fini() returns. New members are only ever appended;
 * check `sz` before using a member added after ABI version 1 (use
 * RETISC_API_HAS()).
 */
struct retisc_api {
	size_t sz;
	uint32_t abi_version;

	/* Log through the core's logger (never print from a plugin). */
	void (*log)(enum retisc_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

	/*
	 * Registration, only valid during init(). Return 0 or:
	 * -EINVAL (missing required field, sz too small, non-zero bytes past
	 * the fields the core knows), -EEXIST (name or key taken), -ENOSPC
	 * (no owner id left), -ENOMEM. register_section returns the owner id
	 * in *owner_out when not NULL.
	 */
	int (*register_collector)(struct retisc_plugin *plugin,
				  const struct retisc_collector_desc *desc);
	int (*register_section)(struct retisc_plugin *plugin,
				const struct retisc_section_desc *desc, int *owner_out);
	int (*register_processor)(struct retisc_plugin *plugin,
				  const struct retisc_processor_desc *desc);

	/* Collect environment queries (can_run/init). */
	/* Does BTF of the running kernel have a type named name of kind
	 * ("struct", "enum", "typedef", "func")? */
	bool (*env_has_btf_type)(const struct retisc_collect_env *env, const char *kind,
				 const char *name);
	/* Values given to a collector option (e.g. "skb-sections"): NULL
	 * terminated, borrowed, NULL if never given. Two core options are
	 * answered too, for collectors that need them: "kconf" (--kconf
	 * PATH) and "filter-packet" (-f EXPR, the pcap-filter expression,
	 * one value; a collector applying it in userspace compiles it
	 * itself, doc/filters.md). */
	const char *const *(*env_option)(const struct retisc_collect_env *env, const char *name);
	/* Look up an enum value name in kernel BTF: returns 0 and copies the
	 * name, -ENOENT if enum or value is unknown. */
	int (*btf_enum_name)(const char *enum_name, int64_t value, char *buf, size_t buf_sz);

	/* JSON (retisc/json.h), same contracts as the retisc_json__* functions. */
	struct retisc_json *(*json_new_object)(void);
	struct retisc_json *(*json_new_array)(void);
	struct retisc_json *(*json_new_u64)(uint64_t v);
	struct retisc_json *(*json_new_i64)(int64_t v);
	struct retisc_json *(*json_new_bool)(bool v);
	struct retisc_json *(*json_new_str)(const char *s);
	struct retisc_json *(*json_new_str_lossy)(const char *s, size_t n);
	void (*json_free)(struct retisc_json *v);
	int (*json_obj_set)(struct retisc_json *obj, const char *key, struct retisc_json *v);
	struct retisc_json *(*json_obj_get)(const struct retisc_json *obj, const char *key);
	int (*json_arr_append)(struct retisc_json *arr, struct retisc_json *v);
	size_t (*json_arr_len)(const struct retisc_json *arr);
	struct retisc_json *(*json_arr_get)(const struct retisc_json *arr, size_t i);
	bool (*json_get_u64)(const struct retisc_json *v, uint64_t *out);
	bool (*json_get_i64)(const struct retisc_json *v, int64_t *out);
	bool (*json_get_bool)(const struct retisc_json *v, bool *out);
	const char *(*json_get_str)(const struct retisc_json *v, size_t *len);
	int (*json_dump)(const struct retisc_json *v, struct retisc_strbuf *sb);
	struct retisc_json *(*json_parse)(const char *s, size_t len, char *err, size_t errsz);

	/* More JSON (retisc/json.h contracts). */
	size_t (*json_obj_len)(const struct retisc_json *obj);
	const char *(*json_obj_key)(const struct retisc_json *obj, size_t i);
	struct retisc_json *(*json_obj_val)(const struct retisc_json *obj, size_t i);
	struct retisc_json *(*json_obj_take)(struct retisc_json *obj, const char *key);
	int (*json_obj_insert)(struct retisc_json *obj, size_t pos, const char *key,
			       struct retisc_json *v);
	struct retisc_json *(*json_copy)(const struct retisc_json *v);
	struct retisc_json *(*json_new_double)(double v);
	struct retisc_json *(*json_new_null)(void);
	struct retisc_json *(*json_new_strn)(const char *s, size_t n);
	bool (*json_get_double)(const struct retisc_json *v, double *out);
	/* enum retisc_json_type of v. */
	int (*json_type)(const struct retisc_json *v);

	/*
	 * Event files, for processors (doc/files.md; same contracts as the core's
	 * reader): open an INPUT argument (NULL = default input, "PATH",
	 * "PATH..", "-"), then next() returns 1 with an event (events files) or
	 * a series array (series files) owned by the caller, 0 at the end, or a
	 * negative errno with "path:line: what" in err. Main thread.
	 */
	struct retisc_reader *(*reader_open)(const char *input, char *err, size_t errsz);
	/* enum retisc_read_status, or a negative errno. */
	int (*reader_next)(struct retisc_reader *r, struct retisc_json **out, char *err,
			   size_t errsz);
	void (*reader_free)(struct retisc_reader *r);
	/* enum retisc_reader_kind. */
	int (*reader_kind)(const struct retisc_reader *r);
	/* 0: Retis 1.5, 1: Retis 1.6, 2: current format (no fix-up). */
	int (*reader_compat)(const struct retisc_reader *r);
	const char *(*reader_path)(const struct retisc_reader *r);
	unsigned long (*reader_line)(const struct retisc_reader *r);

	/*
	 * Text rendering with every registered formatter (doc/events.md §5,
	 * doc/processing.md §2.6). text_new() returns NULL + errno. Startup events
	 * rendered through a text object update its --utc offset.
	 */
	struct retisc_text *(*text_new)(const struct retisc_api *api, bool multiline,
					bool link_layer, bool utc);
	void (*text_free)(struct retisc_text *t);
	/* One event without framing; base_indent/first_prefix as for series. */
	int (*text_event)(struct retisc_text *t, const struct retisc_json *event,
			  unsigned int base_indent, const char *first_prefix,
			  struct retisc_strbuf *out);
	/* One event + "\n" (+ "\n" in multi-line mode). */
	int (*text_event_framed)(struct retisc_text *t, const struct retisc_json *event,
				 struct retisc_strbuf *out);
	/* One series (array of events), framed. */
	int (*text_series_framed)(struct retisc_text *t, const struct retisc_json *series,
				  struct retisc_strbuf *out);
	void (*text_set_offset)(struct retisc_text *t, int64_t sec, int64_t nsec);

	/*
	 * The running kernel's types (doc/architecture.md §11): vmlinux's BTF,
	 * then each loaded module's split BTF, loaded once by the core and
	 * shared, so that a plugin never parses BTF itself. Any thread.
	 * -ENODATA: the kernel has no BTF. Check with RETISC_API_HAS().
	 */
	/*
	 * Calls fn for every member of enum enum_name (32 or 64 bits; values
	 * signed as BTF says), in declaration order, from the first BTF that
	 * has it; module: NULL (anywhere), "vmlinux", or a module's name.
	 * name is borrowed for the call. Returns fn's first non-zero return,
	 * else 0, -ENOENT (no such enum) or -ENODATA.
	 */
	int (*btf_enum_for_each)(const char *enum_name, const char *module,
				 int (*fn)(const char *name, int64_t value, void *priv),
				 void *priv);
	/*
	 * Position (0-based, a tracepoint's leading `void *__data` not
	 * counted) of the first parameter of type `type` of target, a function
	 * name or "tp:EVENT". type is spelled as C would without qualifiers:
	 * "struct sk_buff *", "enum skb_drop_reason". Returns it, -ENOENT (no
	 * such function or tracepoint), -ESRCH (no such parameter), -ENODATA.
	 */
	int (*btf_param_index)(const char *target, const char *type);

	/*
	 * A fact of this collection (enum retisc_env_fact), for can_run() and
	 * init(): 1 true, 0 false, -EINVAL for a fact this core does not know.
	 */
	int (*env_fact)(const struct retisc_collect_env *env, int fact);

	/*
	 * Hand the core an event that no BPF probe produced (a collector's
	 * userspace source: the nft collector's trace messages,
	 * doc/collectors.md §7.7). Check with RETISC_API_HAS().
	 *
	 * event: a complete event object (doc/events.md §2): "common" with
	 * at least "timestamp" (CLOCK_MONOTONIC ns, the clock of BPF events),
	 * no "kernel" section (no probe fired), then collector sections;
	 * an "skb-tracking" section puts it in that packet's series for
	 * `retisc sort`. The core puts the keys in rank order.
	 *
	 * Ownership: the core takes event in every case, also on error (it
	 * is freed then); never touch it after the call.
	 *
	 * Order: events are queued and written (and/or printed) by the bus
	 * thread in arrival order among the BPF events: the queue is drained
	 * at each turn of the bus loop, before each BPF event is written
	 * (so an event emitted from on_event() precedes the event that
	 * caused it), and once more after every collector's stop(), before
	 * the output file is closed. Emitted events count toward
	 * --stop-after; once it is reached they are dropped.
	 *
	 * Threads: any thread, from just before the first collector's
	 * start() until the last stop() returns (emitting from stop() is
	 * fine). Never blocks beyond a mutex.
	 *
	 * Returns 0 (queued), -EAGAIN (no collection is running: before
	 * start(), after stop(), or in a command other than collect),
	 * -ENOBUFS (the queue holds 65536 events the bus has not written
	 * yet; the event is dropped and counted in the end-of-run report),
	 * -EINVAL (event is NULL or not an object) or -ENOMEM.
	 */
	int (*event_emit)(struct retisc_json *event);

	/*
	 * Register a sink (struct retisc_sink_desc), during init() like the
	 * other register functions, with their errors; -EEXIST when the
	 * scheme is taken. Check with RETISC_API_HAS().
	 */
	int (*register_sink)(struct retisc_plugin *plugin, const struct retisc_sink_desc *desc);

	/*
	 * Raw lines, for a processor that scans events itself or parses them
	 * on other threads (sort -o, print; doc/processing.md §2.7, §1.1);
	 * same contracts as the core's retisc_reader__next_line() and
	 * retisc_reader__parse_line(). next_line() (main thread) returns like
	 * reader_next(), with either *out (a value parsed and checked, owned
	 * by the caller) or *line and *len (a line of a current-format file,
	 * unparsed, valid until the next call). parse_line() (any thread)
	 * parses and checks such a line, given its file and line number, as
	 * reader_next() would have. Check with RETISC_API_HAS().
	 */
	int (*reader_next_line)(struct retisc_reader *r, const char **line, size_t *len,
				struct retisc_json **out, char *err, size_t errsz);
	int (*reader_parse_line)(const struct retisc_reader *r, const char *path,
				 unsigned long line, const char *text, size_t len,
				 struct retisc_json **out, char *err, size_t errsz);

	/*
	 * For section encoders (retisc_section_desc.encode): append s, n
	 * bytes, as the quoted JSON string a retisc_json__new_strn(s, n)
	 * (__lossy: a new_str_lossy(s, n)) node dumps to. 0 or -ENOMEM.
	 * Check with RETISC_API_HAS().
	 */
	int (*json_dump_str)(struct retisc_strbuf *sb, const char *s, size_t n);
	int (*json_dump_str_lossy)(struct retisc_strbuf *sb, const char *s, size_t n);

	/*
	 * The calling thread's parse arena (retisc_json__arena_begin() and
	 * __arena_end() in retisc/json.h, same contracts): for a worker that
	 * parses, renders and frees one line after another (print,
	 * doc/processing.md §1.1). Check with RETISC_API_HAS().
	 */
	int (*json_arena_begin)(void);
	void (*json_arena_end)(void);
	size_t : 0;
};

/* What env_fact() answers. */
enum retisc_env_fact {
	/* Probes of type kprobe/kretprobe attach in this collection (kprobe
	 * tracking mode: the kernel has kprobes and the user did not ask for
	 * tracepoints only). */
	RETISC_ENV_KPROBES = 1,
	/* --allow-system-changes was given: the collector may change the
	 * system (e.g. add an nftables table), and must undo it in stop(). */
	RETISC_ENV_SYSTEM_CHANGES = 2,
};

/* What reader_next() returns, besides a negative errno. */
enum retisc_read_status {
	RETISC_READ_END = 0, /* no more events or series */
	RETISC_READ_OK = 1,  /* *out holds one, owned by the caller */
};

/* What reader_kind() returns. */
enum retisc_reader_kind {
	RETISC_READER_EVENTS = 1, /* written by collect: one event per line */
	RETISC_READER_SERIES = 2, /* written by sort -o: one series (array) per line */
};

/* True when the core's API table has member m. */
#define RETISC_API_HAS(api, m)                                                                     \
	((api)->sz >= __builtin_offsetof(struct retisc_api, m) + sizeof((api)->m))

#ifdef __cplusplus
}
#endif

#endif /* __RETISC_PLUGIN_H */
