// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retisc/event.h>
#include <retisc/usdt_note.h>

#include "kallsyms.h"
#include "log.h"
#include "probe.h"

bool retisc_glob_match(const char *p, const char *s)
{
	const char *star = NULL, *back = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			back = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++back;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

const char *retisc_tracefs_path(void)
{
	static const char *const paths[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char f[128];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(f, sizeof(f), "%s/available_events", paths[i]);
		if (!access(f, R_OK))
			return paths[i];
	}
	return NULL;
}

int retisc_probe_spec__parse(const char *s, struct retisc_probe_spec *out, char *err, size_t errsz)
{
	char *copy = strdup(s), *opts, *colon, *target;
	int ret = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return -ENOMEM;
	/* A USDT target holds a path: its options follow the probe name. */
	if (!strncmp(copy, "usdt:", 5) || !strncmp(copy, "u:", 2))
		opts = strchr(strrchr(copy, ':'), '/');
	else
		opts = strchr(copy, '/');
	if (opts) {
		bool seen_stack = false;
		char *save = NULL, *tok;

		*opts++ = '\0';
		if (!*opts || opts[strlen(opts) - 1] == '/' || strstr(opts, "//")) {
			snprintf(err, errsz,
				 "Empty options are not allowed. Check your option list "
				 "doesn't terminate with '/'.");
			goto out;
		}
		for (tok = strtok_r(opts, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
			if (strcmp(tok, "stack")) {
				snprintf(err, errsz, "'%s' is an invalid probe option.", tok);
				goto out;
			}
			if (seen_stack) {
				snprintf(err, errsz, "duplicate options detected in %s.",
					 s + (opts - copy));
				goto out;
			}
			seen_stack = true;
		}
		out->stack = seen_stack;
	}
	colon = strchr(copy, ':');
	if (!colon) {
		out->type = RETISC_PROBE_KPROBE;
		target = copy;
	} else {
		*colon = '\0';
		if (!strcmp(copy, "kprobe") || !strcmp(copy, "k")) {
			out->type = RETISC_PROBE_KPROBE;
			target = colon + 1;
		} else if (!strcmp(copy, "kretprobe") || !strcmp(copy, "kr")) {
			out->type = RETISC_PROBE_KRETPROBE;
			target = colon + 1;
		} else if (!strcmp(copy, "usdt") || !strcmp(copy, "u")) {
			out->type = RETISC_PROBE_USDT;
			target = colon + 1;
		} else if (!strcmp(copy, "raw_tracepoint") || !strcmp(copy, "tp")) {
			out->type = RETISC_PROBE_RAW_TP;
			target = colon + 1;
		} else if (!strchr(colon + 1, ':')) {
			*colon = ':';
			out->type = RETISC_PROBE_RAW_TP;
			target = copy;
		} else {
			snprintf(err, errsz, "Invalid TYPE %s. See the help.", copy);
			goto out;
		}
	}
	if (!*target) {
		snprintf(err, errsz, "Invalid probe '%s': empty target", s);
		goto out;
	}
	out->target = strdup(target);
	ret = out->target ? 0 : -ENOMEM;
out:
	free(copy);
	return ret;
}

void retisc_probe_spec__release(struct retisc_probe_spec *spec)
{
	free(spec->target);
	spec->target = NULL;
}

void retisc_probe__release(struct retisc_probe *p)
{
	free(p->func);
	free(p->group);
	free(p->symbol);
	free(p->name);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

static int probe_add(struct retisc_probe **probes, size_t *n, int type, const char *group,
		     const char *func, bool stack, const struct retisc_btf_proto *proto)
{
	struct retisc_probe *v, *p;

	for (size_t i = 0; i < *n; i++) {
		p = &(*probes)[i];
		if (p->type == type && !strcmp(p->func, func)) {
			p->stack |= stack; /* same probe twice: merge options */
			return 1;
		}
	}
	v = realloc(*probes, (*n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*probes = v;
	p = &v[*n];
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->func = strdup(func);
	p->stack = stack;
	p->proto = *proto;
	if (type == RETISC_PROBE_RAW_TP) {
		p->group = strdup(group ? group : "unknow");
		if (asprintf(&p->symbol, "%s:%s", p->group, func) < 0)
			p->symbol = NULL;
		if (asprintf(&p->name, "tp:%s:%s", p->group, func) < 0)
			p->name = NULL;
	} else {
		p->symbol = strdup(func);
		if (asprintf(&p->name, "%s:%s",
			     type == RETISC_PROBE_KPROBE ? "kprobe" : "kretprobe", func) < 0)
			p->name = NULL;
	}
	if (!p->func || !p->symbol || !p->name || (type == RETISC_PROBE_RAW_TP && !p->group)) {
		retisc_probe__release(p);
		return -ENOMEM;
	}
	(*n)++;
	return 1;
}

struct match_ctx {
	const struct retisc_probe_spec *spec;
	const char *group; /* tracepoint group pattern */
	const char *event; /* event / function pattern */
	struct retisc_probe **probes;
	size_t *n;
	int added;
	int err;
};

static int tp_btf_match(const char *event, void *priv)
{
	struct match_ctx *m = priv;
	struct retisc_btf_proto proto;
	int ret;

	if (!retisc_glob_match(m->event, event) || retisc_btf__tp_proto(event, &proto))
		return 0;
	ret = probe_add(m->probes, m->n, RETISC_PROBE_RAW_TP, m->group, event, m->spec->stack,
			&proto);
	if (ret < 0) {
		m->err = ret;
		return 1;
	}
	m->added += ret;
	return 0;
}

static int func_match(const char *func, void *priv)
{
	struct match_ctx *m = priv;
	struct retisc_btf_proto proto;
	int ret;

	if (!retisc_glob_match(m->event, func) || !retisc_kallsyms__addr(func) ||
	    retisc_btf__func_proto(func, &proto))
		return 0;
	ret = probe_add(m->probes, m->n, m->spec->type, NULL, func, m->spec->stack, &proto);
	if (ret < 0) {
		m->err = ret;
		return 1;
	}
	m->added += ret;
	return 0;
}

static int tp_tracefs(struct match_ctx *m, const char *tracefs)
{
	char path[256], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/available_events", tracefs);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':'), *nl = strchr(line, '\n');
		struct retisc_btf_proto proto;
		int ret;

		if (nl)
			*nl = '\0';
		if (!colon)
			continue;
		*colon = '\0';
		if (!retisc_glob_match(m->group, line) || !retisc_glob_match(m->event, colon + 1))
			continue;
		if (retisc_btf__tp_proto(colon + 1, &proto))
			continue;
		ret = probe_add(m->probes, m->n, RETISC_PROBE_RAW_TP, line, colon + 1,
				m->spec->stack, &proto);
		if (ret < 0) {
			m->err = ret;
			break;
		}
		m->added += ret;
	}
	free(line);
	fclose(f);
	return m->err;
}

/*
 * usdt:PATH_OR_PID:provider:name (doc/cli.md §3.2). A number is a process:
 * its executable holds the note and only that process is traced; a path is
 * a binary traced in every process running it. No wildcards: the note is
 * looked up here so that a typo fails before anything is loaded.
 */
static int usdt_resolve(const struct retisc_probe_spec *spec, struct retisc_probe **probes,
			size_t *n, char *err, size_t errsz)
{
	char *copy = strdup(spec->target), *provider, *name, *end;
	struct retisc_probe *v, *p;
	char path[4096];
	long pid = -1;
	int ret;

	if (!copy)
		return -ENOMEM;
	provider = strchr(copy, ':');
	name = provider ? strchr(provider + 1, ':') : NULL;
	if (!name || !name[1] || provider == copy || name == provider + 1 ||
	    strchr(name + 1, ':')) {
		snprintf(err, errsz,
			 "Invalid USDT probe '%s': expected usdt:PATH_OR_PID:provider:name",
			 spec->target);
		free(copy);
		return -EINVAL;
	}
	*provider++ = '\0';
	*name++ = '\0';
	errno = 0;
	pid = strtol(copy, &end, 10);
	if (!*end && !errno && pid > 0 && pid <= INT32_MAX) {
		ssize_t l;
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
		l = readlink(exe, path, sizeof(path) - 1);
		if (l < 0) {
			snprintf(err, errsz, "Cannot find process %ld for USDT probe '%s'", pid,
				 spec->target);
			free(copy);
			return -ESRCH;
		}
		path[l] = '\0';
		/* A binary replaced on disk: /proc still reaches the mapped one. */
		ret = retisc_usdt_has_note(exe, provider, name);
	} else {
		pid = -1;
		snprintf(path, sizeof(path), "%s", copy);
		ret = retisc_usdt_has_note(path, provider, name);
	}
	if (ret <= 0) {
		snprintf(err, errsz, "Could not find USDT probe %s:%s in %s%s%s", provider, name,
			 path, ret < 0 ? ": " : "", ret < 0 ? strerror(-ret) : "");
		free(copy);
		return ret < 0 ? ret : -ENOENT;
	}
	for (size_t i = 0; i < *n; i++)
		if ((*probes)[i].type == RETISC_PROBE_USDT &&
		    !strcmp((*probes)[i].name + 5, spec->target)) {
			(*probes)[i].stack |= spec->stack;
			free(copy);
			return 0;
		}
	v = realloc(*probes, (*n + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	*probes = v;
	p = &v[*n];
	memset(p, 0, sizeof(*p));
	p->type = RETISC_PROBE_USDT;
	p->pid = (int)pid;
	p->path = strdup(path);
	if (asprintf(&p->func, "%s:%s", provider, name) < 0)
		p->func = NULL;
	p->symbol = p->func ? strdup(p->func) : NULL;
	if (asprintf(&p->name, "usdt:%s", spec->target) < 0)
		p->name = NULL;
	/* No BTF prototype: no argument is of a kernel type. */
	for (int k = 0; k < RETISC_ARG_KINDS; k++)
		p->proto.arg[k] = -1;
	free(copy);
	if (!p->path || !p->func || !p->symbol || !p->name) {
		retisc_probe__release(p);
		return -ENOMEM;
	}
	(*n)++;
	return 1;
}

int retisc_probe__resolve(const struct retisc_probe_spec *spec, struct retisc_probe **probes,
			  size_t *n, char *err, size_t errsz)
{
	struct match_ctx m = {.spec = spec, .probes = probes, .n = n};
	char *copy = strdup(spec->target);
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	if (spec->type == RETISC_PROBE_USDT) {
		free(copy);
		return usdt_resolve(spec, probes, n, err, errsz);
	}
	if (spec->type == RETISC_PROBE_RAW_TP) {
		const char *tracefs = retisc_tracefs_path();
		char *colon = strchr(copy, ':');

		if (!colon) {
			/* tp:event without a group. */
			m.group = "*";
			m.event = copy;
		} else {
			*colon = '\0';
			m.group = copy;
			m.event = colon + 1;
		}
		if (tracefs) {
			ret = tp_tracefs(&m, tracefs);
		} else if (strchr(m.group, '*')) {
			snprintf(err, errsz,
				 "Could not find a tracepoint matching '%s' (tracefs is not "
				 "mounted: "
				 "mount it or use --allow-system-changes to match groups)",
				 spec->target);
			free(copy);
			return -ENOENT;
		} else {
			ret = retisc_btf__for_each_tp(tp_btf_match, &m);
		}
		if (m.err)
			ret = m.err;
		if (!ret && m.added == 0) {
			snprintf(err, errsz, "Could not find a tracepoint matching '%s'",
				 spec->target);
			ret = -ENOENT;
		}
	} else {
		m.event = copy;
		if (strchr(copy, '*')) {
			ret = retisc_btf__for_each_func(func_match, &m);
		} else {
			func_match(copy, &m);
		}
		if (m.err)
			ret = m.err;
		if (!ret && m.added == 0) {
			snprintf(err, errsz, "Could not find a traceable function matching '%s'",
				 spec->target);
			ret = -ENOENT;
		}
	}
	free(copy);
	return ret < 0 ? ret : m.added;
}
