// SPDX-License-Identifier: GPL-2.0-only
/*
 * YAML profiles (doc/cli.md §5): parsing with libyaml's document API (nodes keep
 * their line numbers for messages), the search path, lookup by name, kernel
 * conditions and argument generation.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <yaml.h>

#include "btf_info.h"
#include "kallsyms.h"
#include "log.h"
#include "probe.h"
#include "trust.h"
#include "profile.h"
#include "util.h"

#ifndef RETISC_PROFILEDIR
#define RETISC_PROFILEDIR "/usr/local/share/retisc/profiles"
#endif

/* doc/cli.md §5.3 directories that are not computed. */
#define SHARE_PROFILES "/usr/share/retisc/profiles"
#define ETC_PROFILES "/etc/retisc/profiles"
#define RETIS_SHARE_PROFILES "/usr/share/retis/profiles"
#define RETIS_ETC_PROFILES "/etc/retis/profiles"

static const char *const cmd_names[RETISC_PROFILE_CMDS] = {"collect", "pcap"};

/* Keys of Retis subcommands that do not take profiles: a profile section for
 * one of them is a mistake worth a precise message, not "unknown key". */
static const char *const no_profile_cmds[] = {
	"print",       "sort",	  "stats",  "schema", "inspect",   "profile",
	"sh-complete", "process", "plugin", "python", "benchmark",
};

const char *retisc_profile_cmd__name(enum retisc_profile_cmd cmd)
{
	return (unsigned int)cmd < RETISC_PROFILE_CMDS ? cmd_names[cmd] : "?";
}

/* -------------------------------------------------------------------------
 * Small containers.
 */

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void retisc_profile_args__release(struct retisc_profile_args *a)
{
	strv_free(a->v, a->n);
	strv_free(a->env, a->n_env);
	a->v = NULL;
	a->n = 0;
	a->env = NULL;
	a->n_env = 0;
}

int retisc_profile_args__setenv(const struct retisc_profile_args *a)
{
	for (size_t i = 0; i + 1 < a->n_env; i += 2) {
		const char *name = a->env[i], *val = a->env[i + 1];

		if (getenv(name)) {
			pr_debug("%s: already set (environment, or an earlier profile), not %s",
				 name, val);
			continue;
		}
		if (setenv(name, val, 0))
			return -errno;
		pr_info("Sink credentials: %s=%s (profile)", name, val);
	}
	return 0;
}

static void entry_release(struct retisc_profile_entry *e)
{
	free(e->name);
	for (size_t i = 0; i < e->n_when; i++)
		free(e->when[i].arg);
	free(e->when);
	strv_free(e->args, e->n_args);
	strv_free(e->env, e->n_env);
}

void retisc_profile__free(struct retisc_profile *p)
{
	if (!p)
		return;
	for (int c = 0; c < RETISC_PROFILE_CMDS; c++) {
		for (size_t i = 0; i < p->n_entries[c]; i++)
			entry_release(&p->entries[c][i]);
		free(p->entries[c]);
	}
	free(p->name);
	free(p->about);
	free(p->path);
	free(p);
}

void retisc_profile_file__free(struct retisc_profile_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		retisc_profile__free(f->profiles[i]);
	free(f->profiles);
	free(f->path);
	free(f);
}

struct retisc_profile *retisc_profile_file__take(struct retisc_profile_file *f, size_t i)
{
	struct retisc_profile *p;

	if (!f || i >= f->n)
		return NULL;
	p = f->profiles[i];
	f->profiles[i] = NULL;
	return p;
}

/* -------------------------------------------------------------------------
 * YAML walking. Every node keeps its start mark, so each message names the
 * file, the line and the key it is about.
 */

struct pctx {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errsz;
	size_t n_args; /* words produced so far, aliases expanded */
};

__attribute__((format(printf, 3, 4))) static int perr(struct pctx *c, const yaml_node_t *n,
						      const char *fmt, ...)
{
	size_t off;
	va_list ap;

	off = (size_t)snprintf(c->err, c->errsz, "%s:%lu: ", c->path,
			       n ? (unsigned long)n->start_mark.line + 1 : 1ul);
	if (off < c->errsz) {
		va_start(ap, fmt);
		vsnprintf(c->err + off, c->errsz - off, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static unsigned long node_line(const yaml_node_t *n)
{
	return (unsigned long)n->start_mark.line + 1;
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.2 core schema resolution of plain scalars, as serde_yaml (Retis)
 * does: it decides what counts as a string. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return false;
	s = sval(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* 1: true, 0: false, -1: not a boolean. */
static int bool_val(const yaml_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return -1;
	s = sval(n);
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

static bool all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static bool is_number(const yaml_node_t *n)
{
	const char *s, *p;
	bool digits = false;

	if (!is_plain(n))
		return false;
	s = sval(n);
	if (!strncmp(s, "0x", 2))
		return all_of(s + 2, "0123456789abcdefABCDEF");
	if (!strncmp(s, "0o", 2))
		return all_of(s + 2, "01234567");
	p = s + (*s == '+' || *s == '-');
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF"))
		return true;
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return true;
	while (isdigit((unsigned char)*p))
		p++, digits = true;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		p += (*p == '+' || *p == '-');
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return !*p;
}

/* A scalar that is text: quoted, or plain and not null/bool/number. */
static bool is_string(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       (!is_plain(n) || (!is_null(n) && bool_val(n) < 0 && !is_number(n)));
}

static const char *node_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "null";
	if (bool_val(n) >= 0)
		return "a boolean";
	if (is_number(n))
		return "a number";
	return "a string";
}

static yaml_node_t *node_at(struct pctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

/*
 * Walk the pairs of a mapping, refusing non-string and duplicate keys; fn
 * is called with each key and value. The duplicate check looks back over the
 * keys fn accepted so far: a handful, except for `args`, whose keys are
 * sorted and checked by its own caller (check_dups false).
 */
typedef int (*pair_fn)(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv);

static int for_each_pair(struct pctx *c, yaml_node_t *map, const char *what, bool check_dups,
			 pair_fn fn, void *priv)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;
	yaml_node_pair_t *top = map->data.mapping.pairs.top;
	int err;

	for (yaml_node_pair_t *p = start; p < top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);

		if (!k || !v)
			return perr(c, map, "malformed mapping in %s", what);
		if (k->type != YAML_SCALAR_NODE || is_null(k))
			return perr(c, k, "%s: keys must be strings, found %s", what, node_kind(k));
		for (yaml_node_pair_t *q = start; check_dups && q < p; q++) {
			yaml_node_t *qk = node_at(c, q->key);

			if (qk && qk->type == YAML_SCALAR_NODE && !strcmp(sval(qk), sval(k)))
				return perr(c, k, "duplicate key '%s' in %s (first on line %lu)",
					    sval(k), what, node_line(qk));
		}
		err = fn(c, sval(k), k, v, priv);
		if (err)
			return err;
	}
	return 0;
}

static int want_string(struct pctx *c, const char *key, yaml_node_t *v, char **out)
{
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return perr(c, v, "key '%s': expected a string, found %s", key, node_kind(v));
	free(*out);
	*out = strdup(sval(v));
	return *out ? 0 : -ENOMEM;
}

/* "X.Y": version keys are written unquoted (a YAML float) or quoted. */
static int parse_version(struct pctx *c, yaml_node_t *v, struct retisc_profile *p)
{
	unsigned long major, minor;
	const char *s;
	char *end;

	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return perr(c, v, "key 'version': expected \"X.Y\", found %s", node_kind(v));
	s = sval(v);
	if (!isdigit((unsigned char)*s))
		goto bad;
	major = strtoul(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		goto bad;
	minor = strtoul(end + 1, &end, 10);
	if (*end || major > 1000 || minor > 1000)
		goto bad;
	p->major = (unsigned int)major;
	p->minor = (unsigned int)minor;
	p->version_line = node_line(v);
	return 0;
bad:
	return perr(c, v, "key 'version': invalid profile version '%s' (expected \"X.Y\")", s);
}

/* --- conditions ---------------------------------------------------------- */

struct cond_ctx {
	struct retisc_profile_cond *cond;
	yaml_node_t *type, *version, *name, *exists;
};

static int cond_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv)
{
	struct cond_ctx *cc = priv;

	if (!strcmp(key, "type"))
		cc->type = v;
	else if (!strcmp(key, "version"))
		cc->version = v;
	else if (!strcmp(key, "name"))
		cc->name = v;
	else if (!strcmp(key, "exists"))
		cc->exists = v;
	else
		return perr(c, k,
			    "unknown key '%s' in condition (expected type, version, name, "
			    "exists)",
			    key);
	return 0;
}

static int parse_cond(struct pctx *c, yaml_node_t *n, struct retisc_profile_cond *cond)
{
	struct cond_ctx cc = {.cond = cond};
	struct retisc_kver k = {.has_minor = true, .has_patch = true};
	char msg[256];
	bool ok;
	int err;

	if (n->type != YAML_MAPPING_NODE)
		return perr(c, n, "key 'when': a condition must be a mapping, found %s",
			    node_kind(n));
	cond->line = node_line(n);
	err = for_each_pair(c, n, "condition", true, cond_pair, &cc);
	if (err)
		return err;
	if (!cc.type)
		return perr(c, n, "missing key 'type' in condition");
	if (!is_string(cc.type))
		return perr(c, cc.type, "key 'type': expected a string, found %s",
			    node_kind(cc.type));
	if (!strcmp(sval(cc.type), "version")) {
		cond->type = RETISC_COND_VERSION;
		if (cc.name || cc.exists)
			return perr(c, cc.name ?: cc.exists,
				    "key '%s' is not valid in a version condition",
				    cc.name ? "name" : "exists");
		if (!cc.version)
			return perr(c, n, "missing key 'version' in version condition");
		if (!is_string(cc.version))
			return perr(c, cc.version, "key 'version': expected a string, found %s",
				    node_kind(cc.version));
		/* Checked now so a typo is reported with its line, on any kernel. */
		if (retisc_kver__match(&k, sval(cc.version), &ok, msg, sizeof(msg)))
			return perr(c, cc.version, "key 'version': %s", msg);
		cond->arg = strdup(sval(cc.version));
	} else if (!strcmp(sval(cc.type), "symbol")) {
		cond->type = RETISC_COND_SYMBOL;
		if (cc.version)
			return perr(c, cc.version,
				    "key 'version' is not valid in a symbol condition");
		if (!cc.name)
			return perr(c, n, "missing key 'name' in symbol condition");
		if (!is_string(cc.name))
			return perr(c, cc.name, "key 'name': expected a string, found %s",
				    node_kind(cc.name));
		cond->exists = true;
		if (cc.exists) {
			int b = bool_val(cc.exists);

			if (b < 0)
				return perr(c, cc.exists,
					    "key 'exists': expected true or false, found '%s'",
					    cc.exists->type == YAML_SCALAR_NODE ? sval(cc.exists)
										: "?");
			cond->exists = b;
		}
		cond->arg = strdup(sval(cc.name));
	} else {
		return perr(c, cc.type,
			    "key 'type': unknown condition type '%s' (expected version or symbol)",
			    sval(cc.type));
	}
	return cond->arg ? 0 : -ENOMEM;
}

/* --- args ------------------------------------------------------------------ */

struct arg_pair {
	const char *key;
	yaml_node_t *k, *v;
};

static int arg_pair_cmp(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: byte order, as doc/cli.md §5.2 says. */
	return strcmp(((const struct arg_pair *)a)->key, ((const struct arg_pair *)b)->key);
}

struct args_ctx {
	struct arg_pair *pairs;
	size_t n;
};

static int args_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv)
{
	struct args_ctx *ac = priv;

	if (!*key)
		return perr(c, k, "key 'args': empty option name");
	if (key[0] == '-')
		return perr(c, k, "key '%s': write option names without leading dashes", key);
	ac->pairs[ac->n++] = (struct arg_pair){.key = key, .k = k, .v = v};
	return 0;
}

/* Count words against RETISC_PROFILE_MAX_ARGS before producing them. */
static int args_budget(struct pctx *c, const yaml_node_t *v, size_t words)
{
	c->n_args += words;
	if (c->n_args <= RETISC_PROFILE_MAX_ARGS)
		return 0;
	return perr(c, v,
		    "too many arguments once aliases are expanded (more than %d in this file)",
		    RETISC_PROFILE_MAX_ARGS);
}

static int push_arg_value(struct pctx *c, struct retisc_profile_entry *e, const char *opt,
			  const char *key, yaml_node_t *v)
{
	int err = args_budget(c, v, 2);

	if (err)
		return err;
	if (!is_string(v))
		return perr(c, v,
			    "key '%s': expected a string, found %s (quote numbers and booleans: "
			    "\"20\")",
			    key, node_kind(v));
	return strv_push(&e->args, &e->n_args, opt) ?: strv_push(&e->args, &e->n_args, sval(v));
}

static int parse_args(struct pctx *c, yaml_node_t *n, struct retisc_profile_entry *e)
{
	size_t npairs = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	struct args_ctx ac = {.pairs = calloc(npairs ? npairs : 1, sizeof(*ac.pairs))};
	char *opt = NULL;
	int err;

	if (!ac.pairs)
		return -ENOMEM;
	err = for_each_pair(c, n, "args", false, args_pair, &ac);
	if (err)
		goto out;
	qsort(ac.pairs, ac.n, sizeof(*ac.pairs), arg_pair_cmp);
	for (size_t i = 1; i < ac.n && !err; i++) {
		const struct arg_pair *a = &ac.pairs[i - 1], *b = &ac.pairs[i];

		if (strcmp(a->key, b->key))
			continue;
		if (node_line(a->k) > node_line(b->k))
			a = b, b = &ac.pairs[i - 1];
		err = perr(c, b->k, "duplicate key '%s' in args (first on line %lu)", b->key,
			   node_line(a->k));
	}
	if (err)
		goto out;
	/* An entry without arguments still selects (and so still suppresses
	 * the default probes): keep args non-NULL. */
	if (!e->args) {
		e->args = calloc(1, sizeof(*e->args));
		if (!e->args) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < ac.n && !err; i++) {
		const struct arg_pair *ap = &ac.pairs[i];
		yaml_node_t *v = ap->v;

		free(opt);
		if (asprintf(&opt, "--%s", ap->key) < 0) {
			opt = NULL;
			err = -ENOMEM;
			break;
		}
		for (char *s = opt + 2; *s; s++)
			if (*s == '_')
				*s = '-';
		if (is_null(v)) {
			err = args_budget(c, v, 1) ?: strv_push(&e->args, &e->n_args, opt);
		} else if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top && !err; it++) {
				yaml_node_t *item = node_at(c, *it);

				err = item ? push_arg_value(c, e, opt, ap->key, item)
					   : perr(c, v, "malformed list");
			}
		} else if (v->type == YAML_SCALAR_NODE) {
			err = push_arg_value(c, e, opt, ap->key, v);
		} else {
			err = perr(c, v,
				   "key '%s': expected a string, a list of strings or null, found "
				   "%s",
				   ap->key, node_kind(v));
		}
	}
out:
	free(opt);
	free(ac.pairs);
	return err;
}

/* --- entries ------------------------------------------------------------ */

struct entry_ctx {
	struct retisc_profile_entry *e;
	yaml_node_t *args;
	enum retisc_profile_cmd cmd;
};

/*
 * `credentials` (doc/cli.md §5.1): per sink scheme, the *files* holding
 * secrets, which become the sink's RETISC_<SCHEME>_<KEY> variables. A
 * secret itself is refused: a profile is a file many read, and its
 * arguments end up in startup.cmdline.
 */
static const char *const cred_keys[] = {"creds", "token_file", "user", "password_file",
					"ca",	 "cert",       "key"};
static const char *const cred_secrets[][2] = {
	{"password", "password_file"},
	{"token", "token_file"},
	{"seed", "creds"},
	{"nkey", "creds"},
	{"jwt", "creds"},
	{"secret", "a *_file key"},
};

struct cred_ctx {
	struct retisc_profile_entry *e;
	const char *scheme;
};

static int cred_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv)
{
	struct cred_ctx *cc = priv;
	char name[128];
	size_t i, n;

	for (i = 0; i < sizeof(cred_secrets) / sizeof(cred_secrets[0]); i++)
		if (!strcmp(key, cred_secrets[i][0]))
			return perr(c, k,
				    "key '%s' in credentials.%s: no secret in a profile, name the "
				    "file that holds it (%s)",
				    key, cc->scheme, cred_secrets[i][1]);
	for (i = 0; i < sizeof(cred_keys) / sizeof(cred_keys[0]); i++)
		if (!strcmp(key, cred_keys[i]))
			break;
	if (i == sizeof(cred_keys) / sizeof(cred_keys[0]))
		return perr(c, k,
			    "unknown key '%s' in credentials.%s (expected creds, token_file, user, "
			    "password_file, ca, cert, key)",
			    key, cc->scheme);
	if (v->type != YAML_SCALAR_NODE || is_null(v) || !*sval(v))
		return perr(c, v, "key '%s' in credentials.%s: expected a string, found %s", key,
			    cc->scheme, node_kind(v));
	if (strcmp(key, "user") && sval(v)[0] != '/')
		return perr(c, v,
			    "key '%s' in credentials.%s: expected an absolute file path, "
			    "found '%s'",
			    key, cc->scheme, sval(v));
	n = (size_t)snprintf(name, sizeof(name), "RETISC_%s_%s", cc->scheme, key);
	for (i = 0; i < n && i < sizeof(name); i++)
		name[i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	return strv_push(&cc->e->env, &cc->e->n_env, name)
		       ?: strv_push(&cc->e->env, &cc->e->n_env, sval(v));
}

static int cred_scheme(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv)
{
	struct cred_ctx cc = {.e = priv, .scheme = key};
	char what[80];

	if (strlen(key) > 32 ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(key) || key[0] == '-')
		return perr(c, k, "credentials: '%s' is not a sink scheme (lower case, e.g. nats)",
			    key);
	if (v->type != YAML_MAPPING_NODE)
		return perr(c, v, "key '%s' in credentials: expected a mapping, found %s", key,
			    node_kind(v));
	snprintf(what, sizeof(what), "credentials.%s", key);
	return for_each_pair(c, v, what, true, cred_pair, &cc);
}

static int entry_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv)
{
	struct entry_ctx *ec = priv;
	struct retisc_profile_entry *e = ec->e;
	int err;

	if (!strcmp(key, "name"))
		return want_string(c, key, v, &e->name);
	if (!strcmp(key, "credentials")) {
		if (ec->cmd != RETISC_PROFILE_COLLECT)
			return perr(c, k, "key 'credentials': only in collect entries (sinks)");
		if (v->type != YAML_MAPPING_NODE)
			return perr(c, v,
				    "key 'credentials': expected a mapping of sink schemes, "
				    "found %s",
				    node_kind(v));
		return for_each_pair(c, v, "credentials", true, cred_scheme, e);
	}
	if (!strcmp(key, "args")) {
		if (v->type != YAML_MAPPING_NODE)
			return perr(c, v, "key 'args': expected a mapping of options, found %s",
				    node_kind(v));
		ec->args = v;
		return 0;
	}
	if (strcmp(key, "when"))
		return perr(c, k, "unknown key '%s' in entry (expected name, when, args%s)", key,
			    ec->cmd == RETISC_PROFILE_COLLECT ? ", credentials" : "");
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, v, "key 'when': expected a list of conditions, found %s",
			    node_kind(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		struct retisc_profile_cond *w;
		yaml_node_t *cn = node_at(c, *it);

		if (!cn)
			return perr(c, v, "malformed list");
		w = realloc(e->when, (e->n_when + 1) * sizeof(*w));
		if (!w)
			return -ENOMEM;
		e->when = w;
		memset(&w[e->n_when], 0, sizeof(*w));
		err = parse_cond(c, cn, &w[e->n_when]);
		e->n_when++;
		if (err)
			return err;
	}
	return 0;
}

static int parse_entries(struct pctx *c, const char *key, yaml_node_t *v, struct retisc_profile *p,
			 enum retisc_profile_cmd cmd)
{
	int err;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, v, "key '%s': expected a list of entries, found %s", key,
			    node_kind(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		struct retisc_profile_entry *e;
		yaml_node_t *en = node_at(c, *it);
		struct entry_ctx ec = {};

		if (!en)
			return perr(c, v, "malformed list");
		if (en->type != YAML_MAPPING_NODE)
			return perr(c, en, "key '%s': an entry must be a mapping, found %s", key,
				    node_kind(en));
		e = realloc(p->entries[cmd], (p->n_entries[cmd] + 1) * sizeof(*e));
		if (!e)
			return -ENOMEM;
		p->entries[cmd] = e;
		e = &e[p->n_entries[cmd]++];
		memset(e, 0, sizeof(*e));
		e->line = node_line(en);
		ec.e = e;
		ec.cmd = cmd;
		err = for_each_pair(c, en, key, true, entry_pair, &ec);
		if (err)
			return err;
		if (!ec.args)
			return perr(c, en, "missing key 'args' in %s entry", key);
		err = parse_args(c, ec.args, e);
		if (err)
			return err;
		if (!e->name) {
			e->name = strdup("Default");
			if (!e->name)
				return -ENOMEM;
		}
	}
	return 0;
}

/* --- documents ----------------------------------------------------------- */

struct prof_ctx {
	struct retisc_profile *p;
	bool has_version;
};

static int profile_pair(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *priv)
{
	struct prof_ctx *pc = priv;

	if (!strcmp(key, "version")) {
		pc->has_version = true;
		return parse_version(c, v, pc->p);
	}
	if (!strcmp(key, "name"))
		return want_string(c, key, v, &pc->p->name);
	if (!strcmp(key, "about")) {
		if (is_null(v))
			return 0;
		return want_string(c, key, v, &pc->p->about);
	}
	for (int i = 0; i < RETISC_PROFILE_CMDS; i++)
		if (!strcmp(key, cmd_names[i]))
			return parse_entries(c, key, v, pc->p, (enum retisc_profile_cmd)i);
	for (size_t i = 0; i < ARRAY_SIZE(no_profile_cmds); i++)
		if (!strcmp(key, no_profile_cmds[i]))
			return perr(c, k,
				    "key '%s': subcommand %s does not support profiles (only "
				    "collect and pcap do)",
				    key, key);
	return perr(c, k, "unknown key '%s' (expected version, name, about, collect, pcap)", key);
}

static int parse_document(struct pctx *c, yaml_node_t *root, struct retisc_profile *p)
{
	struct prof_ctx pc = {.p = p};
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return perr(c, root, "a profile must be a mapping, found %s", node_kind(root));
	p->line = node_line(root);
	err = for_each_pair(c, root, "profile", true, profile_pair, &pc);
	if (err)
		return err;
	if (!pc.has_version)
		return perr(c, root, "missing key 'version'");
	if (!p->name)
		return perr(c, root, "missing key 'name'");
	if (!*p->name)
		return perr(c, root, "key 'name': empty profile name");
	if (!p->about) {
		p->about = strdup("");
		if (!p->about)
			return -ENOMEM;
	}
	return 0;
}

struct retisc_profile_file *retisc_profile_file__parse(const char *path, const char *buf,
						       size_t len, char *err, size_t errsz)
{
	struct retisc_profile_file *f = calloc(1, sizeof(*f));
	struct pctx c = {.path = path, .err = err, .errsz = errsz};
	struct retisc_profile *p = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	bool parser_ok = false;
	int ret = 0;

	if (errsz)
		err[0] = '\0';
	if (!f || !(f->path = strdup(path))) {
		ret = -ENOMEM;
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		ret = -ENOMEM;
		goto out;
	}
	parser_ok = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		struct retisc_profile **v;
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, errsz, "%s:%lu: invalid YAML: %s%s%s", path,
				 (unsigned long)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			ret = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		c.doc = &doc;
		root = yaml_document_get_root_node(&doc);
		if (!root) { /* end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		/* An empty document ("---" alone) holds no profile. */
		if (is_null(root)) {
			yaml_document_delete(&doc);
			continue;
		}
		p = calloc(1, sizeof(*p));
		if (!p || !(p->path = strdup(path))) {
			yaml_document_delete(&doc);
			ret = -ENOMEM;
			break;
		}
		ret = parse_document(&c, root, p);
		yaml_document_delete(&doc);
		if (ret)
			break;
		v = realloc(f->profiles, (f->n + 1) * sizeof(*v));
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		f->profiles = v;
		v[f->n++] = p;
		p = NULL;
	}
out:
	if (parser_ok)
		yaml_parser_delete(&parser);
	retisc_profile__free(p);
	if (ret) {
		if (ret == -ENOMEM && errsz && !err[0])
			snprintf(err, errsz, "%s: %s", path, strerror(ENOMEM));
		retisc_profile_file__free(f);
		errno = -ret;
		return NULL;
	}
	return f;
}

/* -------------------------------------------------------------------------
 * Permissions: as root, never read what another user could have written.
 */

static bool unsafe_allowed(void)
{
	const char *s = getenv("RETISC_ALLOW_UNSAFE_PROFILES");

	return s && !strcmp(s, "1");
}

/* The trust rule (trust.h) for a profile file or directory, with the override. */
static int check_node(const char *path, const struct stat *st, bool dir, const char *what,
		      char *err, size_t errsz)
{
	char why[160];

	if (!retisc_trust__check(st, dir, why, sizeof(why)))
		return 0;
	if (unsafe_allowed()) {
		pr_warn("Reading profile %s %s although it is %s: RETISC_ALLOW_UNSAFE_PROFILES=1 "
			"is "
			"set",
			what, path, why);
		return 0;
	}
	snprintf(err, errsz,
		 "Refusing profile %s %s: %s; set RETISC_ALLOW_UNSAFE_PROFILES=1 to override", what,
		 path, why);
	return -EPERM;
}

int retisc_profile__check_dir(const char *dir, char *err, size_t errsz)
{
	struct stat st;

	if (stat(dir, &st)) {
		snprintf(err, errsz, "Cannot read profile directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "Cannot read profile directory %s: not a directory", dir);
		return -ENOTDIR;
	}
	return check_node(dir, &st, true, "directory", err, errsz);
}

static int check_file(const char *path, int fd, char *err, size_t errsz)
{
	char dir[PATH_MAX];
	struct stat st;
	int ret;

	/* fstat: the checked file is the one read, not a swapped-in one. */
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size > RETISC_PROFILE_MAX_SIZE) {
		snprintf(err, errsz, "%s: larger than %d bytes", path, RETISC_PROFILE_MAX_SIZE);
		return -EFBIG;
	}
	ret = check_node(path, &st, false, "file", err, errsz);
	if (ret)
		return ret;
	retisc_trust__dirname(path, dir, sizeof(dir));
	if (stat(dir, &st))
		return 0;
	return check_node(dir, &st, true, "directory", err, errsz);
}

struct retisc_profile_file *retisc_profile_file__load(const char *path, char *err, size_t errsz)
{
	struct retisc_profile_file *f = NULL;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = check_file(path, fd, err, errsz);
	if (ret)
		goto out;
	buf = malloc(RETISC_PROFILE_MAX_SIZE + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (len <= RETISC_PROFILE_MAX_SIZE &&
	       (n = read(fd, buf + len, RETISC_PROFILE_MAX_SIZE + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (len > RETISC_PROFILE_MAX_SIZE) {
		snprintf(err, errsz, "%s: larger than %d bytes", path, RETISC_PROFILE_MAX_SIZE);
		ret = -EFBIG;
		goto out;
	}
	f = retisc_profile_file__parse(path, buf, len, err, errsz);
	ret = f ? 0 : -errno;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	return f;
}

/* -------------------------------------------------------------------------
 * Version rules.
 */

enum retisc_profile_support retisc_profile__support(const struct retisc_profile *p)
{
	if (p->major != RETISC_PROFILE_MAJOR)
		return RETISC_PROFILE_UNSUPPORTED;
	return p->minor > RETISC_PROFILE_MINOR ? RETISC_PROFILE_PARTIAL : RETISC_PROFILE_FULL;
}

bool retisc_profile__usable(const struct retisc_profile *p)
{
	switch (retisc_profile__support(p)) {
	case RETISC_PROFILE_FULL:
		return true;
	case RETISC_PROFILE_PARTIAL:
		pr_warn("%s:%lu: key 'version': profile %s has version %u.%u, newer than the "
			"supported %d.%d: features it relies on may be missing",
			p->path, p->version_line, p->name, p->major, p->minor, RETISC_PROFILE_MAJOR,
			RETISC_PROFILE_MINOR);
		return true;
	default:
		pr_warn("%s:%lu: key 'version': unsupported profile version %u.%u of profile %s "
			"(supported: %d.x), skipping it",
			p->path, p->version_line, p->major, p->minor, p->name,
			RETISC_PROFILE_MAJOR);
		return false;
	}
}

/* -------------------------------------------------------------------------
 * Search path and lookup.
 */

void retisc_profile__dirs_free(char **dirs)
{
	for (size_t i = 0; dirs && dirs[i]; i++)
		free(dirs[i]);
	free(dirs);
}

char **retisc_profile__search_path(const char *extra_dir, const char *build_dir)
{
	const char *home = getenv("HOME");
	char **v = NULL;
	size_t n = 0;
	char *s = NULL;
	int err = 0;

	if (extra_dir)
		err = strv_push(&v, &n, extra_dir);
	if (!err && home && *home) {
		err = asprintf(&s, "%s/.config/retisc/profiles", home) < 0 ? -ENOMEM
									   : strv_push(&v, &n, s);
		free(s);
		s = NULL;
	}
	err = err ?: strv_push(&v, &n, ETC_PROFILES);
	if (!err && strcmp(RETISC_PROFILEDIR, SHARE_PROFILES))
		err = strv_push(&v, &n, RETISC_PROFILEDIR);
	err = err ?: strv_push(&v, &n, SHARE_PROFILES);
	if (!err && home && *home) {
		err = asprintf(&s, "%s/.config/retis/profiles", home) < 0 ? -ENOMEM
									  : strv_push(&v, &n, s);
		free(s);
	}
	err = err ?: strv_push(&v, &n, RETIS_SHARE_PROFILES);
	err = err ?: strv_push(&v, &n, RETIS_ETC_PROFILES);
	if (!err && build_dir)
		err = strv_push(&v, &n, build_dir);
	if (err) {
		strv_free(v, n);
		errno = ENOMEM;
		return NULL;
	}
	return v;
}

static int yaml_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	if (d->d_name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(d->d_name + n - 4, ".yml"));
}

int retisc_profile__for_each_file(const char *dir, retisc_profile_file_fn fn, void *priv, char *err,
				  size_t errsz)
{
	struct dirent **list = NULL;
	char msg[1024], path[PATH_MAX];
	size_t dlen = strlen(dir);
	int n, ret;

	ret = retisc_profile__check_dir(dir, err, errsz);
	if (ret)
		return ret;
	n = scandir(dir, &list, yaml_filter, alphasort);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errsz, "Cannot read profile directory %s: %s", dir, strerror(errno));
		return ret;
	}
	/* "dir/" and "dir" name files the same way. */
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	for (int i = 0; i < n; i++) {
		struct retisc_profile_file *f;
		struct stat st;

		if (!ret) {
			snprintf(path, sizeof(path), "%.*s/%s", (int)dlen, dir, list[i]->d_name);
			/* Directories named *.yaml are not files to parse. */
			if (stat(path, &st) || !S_ISREG(st.st_mode))
				goto next;
			f = retisc_profile_file__load(path, msg, sizeof(msg));
			ret = fn(path, f, f ? 0 : -errno, f ? NULL : msg, priv);
			retisc_profile_file__free(f);
		}
	next:
		free(list[i]);
	}
	free(list);
	return ret;
}

struct find_ctx {
	const char *name;
	const char *dir;
	struct retisc_profile *found;
	char where[PATH_MAX + 32];
	char *err;
	size_t errsz;
};

static int find_in_file(const char *path, struct retisc_profile_file *f, int error, const char *msg,
			void *priv)
{
	struct find_ctx *fc = priv;

	if (!f) {
		if (error == -EPERM)
			pr_warn("Skipping profile file: %s", msg);
		else
			pr_debug("Skipping invalid profile file %s: %s", path, msg);
		return 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct retisc_profile *p = f->profiles[i];

		if (strcmp(p->name, fc->name))
			continue;
		if (fc->found) {
			snprintf(fc->err, fc->errsz,
				 "Found two profiles with name '%s' in %s (%s and %s:%lu)",
				 fc->name, fc->dir, fc->where, path, p->line);
			return -EEXIST;
		}
		fc->found = retisc_profile_file__take(f, i);
		if (!fc->found)
			return -ENOMEM;
		snprintf(fc->where, sizeof(fc->where), "%s:%lu", path, p->line);
	}
	return 0;
}

struct retisc_profile *retisc_profile__find(const char *const *dirs, const char *name, char *err,
					    size_t errsz)
{
	char msg[1024];
	int ret;

	for (size_t d = 0; dirs && dirs[d]; d++) {
		struct find_ctx fc = {.name = name, .dir = dirs[d], .err = err, .errsz = errsz};

		ret = retisc_profile__for_each_file(dirs[d], find_in_file, &fc, msg, sizeof(msg));
		if (ret == -EEXIST) {
			retisc_profile__free(fc.found);
			errno = EEXIST;
			return NULL;
		}
		if (ret == -EPERM) {
			pr_warn("Skipping profile directory: %s", msg);
			continue;
		}
		if (ret == -ENOMEM) {
			retisc_profile__free(fc.found);
			snprintf(err, errsz, "%s", strerror(ENOMEM));
			errno = ENOMEM;
			return NULL;
		}
		if (ret && ret != -ENOENT && ret != -ENOTDIR)
			pr_debug("%s", msg);
		if (!fc.found)
			continue;
		/* doc/cli.md §5.1: another major version is skipped, as if absent. */
		if (retisc_profile__usable(fc.found))
			return fc.found;
		retisc_profile__free(fc.found);
	}
	snprintf(err, errsz, "Profile with name %s not found", name);
	errno = ENOENT;
	return NULL;
}

struct retisc_profile *retisc_profile__open(const char *item, const char *const *dirs, char *err,
					    size_t errsz)
{
	struct retisc_profile_file *f;
	struct retisc_profile *p;
	char msg[1024];
	struct stat st;

	if (stat(item, &st) || !S_ISREG(st.st_mode) || access(item, R_OK))
		return retisc_profile__find(dirs, item, err, errsz);
	f = retisc_profile_file__load(item, msg, sizeof(msg));
	if (!f) {
		int e = errno;

		snprintf(err, errsz, "Could not import profile: %s", msg);
		errno = e;
		return NULL;
	}
	if (f->n != 1) {
		snprintf(err, errsz,
			 "Could not import profile: %s holds %zu profiles, expected one", item,
			 f->n);
		retisc_profile_file__free(f);
		errno = EINVAL;
		return NULL;
	}
	p = retisc_profile_file__take(f, 0);
	retisc_profile_file__free(f);
	return p;
}

/* -------------------------------------------------------------------------
 * Kernel versions (doc/cli.md §5.1).
 */

static bool parse_ulong(const char *s, size_t n, unsigned long *out)
{
	char buf[32];
	char *end;

	if (!n || n >= sizeof(buf) || strspn(s, "0123456789") < n)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtoul(buf, &end, 10);
	return !errno && !*end;
}

int retisc_kver__parse_release(const char *release, struct retisc_kver *out)
{
	const char *f1, *f2, *f3, *p, *end;
	size_t len, num;

	memset(out, 0, sizeof(*out));
	f1 = release;
	f2 = strchr(f1, '.');
	if (!f2)
		return -EINVAL;
	f2++;
	f3 = strchr(f2, '.');
	if (!f3)
		return -EINVAL;
	f3++;
	end = f3 + strcspn(f3, ".");
	if (end == f3)
		return -EINVAL;
	if (!parse_ulong(f1, (size_t)(f2 - 1 - f1), &out->major) ||
	    !parse_ulong(f2, (size_t)(f3 - 1 - f2), &out->minor))
		return -EINVAL;
	/* Field 3 split on '-': the patch (a "+" of a dirty tree ignored), then
	 * the first integer part is the build ("14-300", "0-20-generic",
	 * "12-arch1-1"). */
	for (p = f3; p < end; p += len + 1) {
		len = strcspn(p, "-");
		if (p + len > end)
			len = (size_t)(end - p);
		if (p == f3) {
			num = len && p[len - 1] == '+' ? len - 1 : len;
			if (!parse_ulong(p, num, &out->patch))
				return -EINVAL;
		} else if (parse_ulong(p, len, &out->build)) {
			out->has_build = true;
			break;
		}
	}
	out->has_minor = out->has_patch = true;
	return 0;
}

/* MAJOR[.MINOR[.PATCH]][-BUILD], the whole of s. */
static int parse_req_version(const char *s, struct retisc_kver *v)
{
	const char *p = s;
	size_t n;

	memset(v, 0, sizeof(*v));
	n = strspn(p, "0123456789");
	if (!parse_ulong(p, n, &v->major))
		return -EINVAL;
	p += n;
	if (*p == '.') {
		p++;
		n = strspn(p, "0123456789");
		if (!parse_ulong(p, n, &v->minor))
			return -EINVAL;
		v->has_minor = true;
		p += n;
		if (*p == '.') {
			p++;
			n = strspn(p, "0123456789");
			if (!parse_ulong(p, n, &v->patch))
				return -EINVAL;
			v->has_patch = true;
			p += n;
		}
	}
	if (*p == '-') {
		p++;
		n = strspn(p, "0123456789");
		if (!parse_ulong(p, n, &v->build))
			return -EINVAL;
		v->has_build = true;
		p += n;
	}
	return *p ? -EINVAL : 0;
}

static int cmp_ul(unsigned long a, unsigned long b)
{
	return a < b ? -1 : a > b;
}

/* Order of kernel k against a comparator's version r: only what r gives. */
static int kver_cmp(const struct retisc_kver *k, const struct retisc_kver *r)
{
	int c = cmp_ul(k->major, r->major);

	if (!c && r->has_minor)
		c = cmp_ul(k->minor, r->minor);
	if (!c && r->has_minor && r->has_patch)
		c = cmp_ul(k->patch, r->patch);
	if (c)
		return c;
	if (r->has_build && k->has_build)
		return cmp_ul(k->build, r->build);
	/* A kernel without a build is newer than any build of its version. */
	if (r->has_build)
		return 1;
	return 0;
}

static int match_one(const struct retisc_kver *k, const char *comp, size_t len, bool *out,
		     char *err, size_t errsz)
{
	static const char *const ops[] = {">=", "<=", "!=", "=", ">", "<"};
	char buf[64];
	const char *v;
	struct retisc_kver r;
	size_t i;
	int c;

	while (len && isspace((unsigned char)*comp))
		comp++, len--;
	while (len && isspace((unsigned char)comp[len - 1]))
		len--;
	if (!len || len >= sizeof(buf)) {
		snprintf(err, errsz, "empty or too long comparator");
		return -EINVAL;
	}
	memcpy(buf, comp, len);
	buf[len] = '\0';
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strncmp(buf, ops[i], strlen(ops[i])))
			break;
	if (i == ARRAY_SIZE(ops)) {
		snprintf(err, errsz, "comparator '%s' lacks an operator (=, !=, >, <, >=, <=)",
			 buf);
		return -EINVAL;
	}
	v = buf + strlen(ops[i]);
	while (*v == ' ')
		v++;
	if (parse_req_version(v, &r)) {
		snprintf(err, errsz,
			 "invalid version '%s' in comparator '%s' (expected "
			 "MAJOR[.MINOR[.PATCH]][-BUILD])",
			 v, buf);
		return -EINVAL;
	}
	c = kver_cmp(k, &r);
	switch (i) {
	case 0:
		*out = c >= 0;
		break;
	case 1:
		*out = c <= 0;
		break;
	case 2:
		*out = c != 0;
		break;
	case 3:
		*out = c == 0;
		break;
	case 4:
		*out = c > 0;
		break;
	default:
		*out = c < 0;
		break;
	}
	return 0;
}

int retisc_kver__match(const struct retisc_kver *k, const char *req, bool *out, char *err,
		       size_t errsz)
{
	const char *comma = strchr(req, ',');
	bool a, b = true;
	int ret;

	if (comma && strchr(comma + 1, ',')) {
		snprintf(err, errsz, "version requirement '%s' has more than two comparators", req);
		return -EINVAL;
	}
	ret = match_one(k, req, comma ? (size_t)(comma - req) : strlen(req), &a, err, errsz);
	if (!ret && comma)
		ret = match_one(k, comma + 1, strlen(comma + 1), &b, err, errsz);
	if (ret)
		return ret;
	*out = a && b;
	return 0;
}

/* -------------------------------------------------------------------------
 * Conditions and selection.
 */

static bool tracefs_has_event(const char *group_event)
{
	const char *tracefs = retisc_tracefs_path();
	char path[PATH_MAX], line[512];
	bool found = false;
	FILE *f;

	/* Without tracefs the group cannot be checked: BTF has event names only. */
	if (!tracefs)
		return true;
	snprintf(path, sizeof(path), "%s/available_events", tracefs);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strcmp(line, group_event);
	}
	fclose(f);
	return found;
}

bool retisc_profile__symbol_exists(const char *name, void *priv)
{
	struct retisc_btf_proto proto;
	const char *colon = strchr(name, ':');

	(void)priv;
	if (!*name || strchr(name, '*'))
		return false;
	if (colon) {
		if (colon == name || !colon[1] || strchr(colon + 1, ':'))
			return false;
		return !retisc_btf__tp_proto(colon + 1, &proto) && tracefs_has_event(name);
	}
	return retisc_kallsyms__addr(name) && !retisc_btf__func_proto(name, &proto);
}

int retisc_profile__select(const struct retisc_profile *p, enum retisc_profile_cmd cmd,
			   const struct retisc_profile_env *env,
			   const struct retisc_profile_entry **out, char *err, size_t errsz)
{
	bool (*sym)(const char *, void *) = retisc_profile__symbol_exists;
	const char *release = NULL;
	struct retisc_kver k;
	struct utsname u;
	bool have_k = false;
	void *priv = NULL;

	*out = NULL;
	if (env) {
		release = env->release;
		if (env->symbol_exists) {
			sym = env->symbol_exists;
			priv = env->priv;
		}
	}
	for (size_t i = 0; i < p->n_entries[cmd]; i++) {
		const struct retisc_profile_entry *e = &p->entries[cmd][i];
		bool holds = true;

		for (size_t j = 0; j < e->n_when && holds; j++) {
			const struct retisc_profile_cond *w = &e->when[j];
			char msg[256];

			if (w->type == RETISC_COND_SYMBOL) {
				holds = sym(w->arg, priv) == w->exists;
				continue;
			}
			if (!have_k) {
				if (!release) {
					if (uname(&u)) {
						snprintf(err, errsz, "uname: %s", strerror(errno));
						return -errno;
					}
					release = u.release;
				}
				if (retisc_kver__parse_release(release, &k)) {
					snprintf(err, errsz, "Cannot parse the kernel release '%s'",
						 release);
					return -EINVAL;
				}
				have_k = true;
			}
			if (retisc_kver__match(&k, w->arg, &holds, msg, sizeof(msg))) {
				snprintf(err, errsz, "%s:%lu: key 'version': %s", p->path, w->line,
					 msg);
				return -EINVAL;
			}
		}
		pr_debug("Profile %s: %s entry '%s' %s", p->name, cmd_names[cmd], e->name,
			 holds ? "selected" : "does not apply");
		if (holds) {
			*out = e;
			return 0;
		}
	}
	return 0;
}

int retisc_profile__expand(const char *const *values, const char *const *dirs,
			   enum retisc_profile_cmd cmd, const struct retisc_profile_env *env,
			   struct retisc_profile_args *out, char *err, size_t errsz)
{
	int ret = 0;

	for (size_t i = 0; values && values[i] && !ret; i++) {
		char *copy = strdup(values[i]), *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (char *item = strtok_r(copy, ",", &save); item && !ret;
		     item = strtok_r(NULL, ",", &save)) {
			const struct retisc_profile_entry *e;
			struct retisc_profile *p;

			p = retisc_profile__open(item, dirs, err, errsz);
			if (!p) {
				ret = -errno;
				break;
			}
			if (!retisc_profile__usable(p)) {
				retisc_profile__free(p);
				continue;
			}
			ret = retisc_profile__select(p, cmd, env, &e, err, errsz);
			if (!ret && !e) {
				pr_warn("None of the %s profiles defined in %s were selected",
					cmd_names[cmd], p->name);
			} else if (!ret) {
				if (cmd == RETISC_PROFILE_COLLECT && !strcmp(e->name, "Default"))
					pr_info("Applying profile %s", p->name);
				else
					pr_info("Applying profile %s: %s", p->name, e->name);
				for (size_t a = 0; a < e->n_args && !ret; a++)
					ret = strv_push(&out->v, &out->n, e->args[a]);
				for (size_t a = 0; a < e->n_env && !ret; a++)
					ret = strv_push(&out->env, &out->n_env, e->env[a]);
			}
			retisc_profile__free(p);
		}
		free(copy);
	}
	return ret;
}
