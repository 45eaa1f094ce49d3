/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Probe specifications (doc/cli.md §3.2): parsing `[TYPE:]TARGET[/OPT...]`,
 * matching TARGET patterns against the running kernel (tracefs, else BTF),
 * and the probe table of a collection.
 */
#ifndef __RETISC_PROBE_H
#define __RETISC_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "btf_info.h"

struct retisc_probe_spec {
	int type;     /* enum retisc_probe_type */
	char *target; /* pattern: "fn", "group:event", with '*' wildcards;
		       * USDT: "PATH_OR_PID:provider:name" */
	bool stack;   /* /stack option */
};

/*
 * Parse one probe argument. 0, or -EINVAL with the doc/cli.md message in err
 * ("Invalid TYPE foo. See the help.", "'x' is an invalid probe option.",
 * "Empty options are not allowed. ...", "duplicate options detected in ...").
 */
int retisc_probe_spec__parse(const char *s, struct retisc_probe_spec *out, char *err, size_t errsz);
void retisc_probe_spec__release(struct retisc_probe_spec *spec);

/* One resolved probe. */
struct retisc_probe {
	int type;
	char *func;   /* kprobes: function; tracepoints: event name */
	char *group;  /* tracepoints: group ("unknow" when it cannot be found) */
	char *symbol; /* kernel.symbol: "group:event" or function */
	char *name;   /* canonical: "tp:group:event", "kprobe:fn", "kretprobe:fn",
		       * "usdt:PATH_OR_PID:provider:name" */
	char *path;   /* USDT: the binary holding the note */
	int pid;      /* USDT: the process to attach to, -1 for every process */
	bool stack;
	bool core_only;	       /* added by tracking, no hooks, never emits */
	unsigned int tracking; /* RETISC_TRK_* */
	struct retisc_btf_proto proto;
};

/*
 * Resolve spec into probes appended to *probes (count in *n). Tracepoint
 * patterns are matched against tracefs available_events when tracefs is
 * mounted, else against BTF btf_trace_* names (the group is then taken from
 * the pattern; a group with a wildcard cannot be matched without tracefs).
 * Function patterns are matched against BTF functions present in kallsyms.
 * Returns the number of probes added, or -ENOENT with the doc/cli.md message in
 * err ("Could not find a tracepoint matching '...'").
 */
int retisc_probe__resolve(const struct retisc_probe_spec *spec, struct retisc_probe **probes,
			  size_t *n, char *err, size_t errsz);
void retisc_probe__release(struct retisc_probe *p);

/* Shell-style match where only '*' is special, whole string. */
bool retisc_glob_match(const char *pattern, const char *s);

/* Path of the mounted tracefs, or NULL. */
const char *retisc_tracefs_path(void);

#endif
