// SPDX-License-Identifier: GPL-2.0-only
/*
 * ct collector plugin (doc/collectors.md §6): the generic conntrack hook, the
 * `ct` section (doc/events.md §4.14) and its text.
 *
 * The raw sections of one event come in the hook's order: base connection,
 * parent connection (optional), meta. The decoder adds each to the `ct`
 * object as it comes, so that the object holds state, the flattened base
 * and parent in doc/events.md order whatever the order; the meta section,
 * written last, checks that the base came.
 *
 * What the kernel configuration decides (mark and labels present, can run)
 * is read once per collection; the names of the TCP and SCTP conntrack
 * states come from the running kernel's BTF, since the enums are not ABI.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <linux/types.h>

#include <retisc/event.h>
#include <retisc/inet_fmt.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "ct.h"

#include "plugins/ct/ct_hook.skel.h"

_Static_assert(sizeof(struct retisc_ct_addr) == 20, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, reply) == 40, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, status) == 80, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, flags) == 88, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, mark) == 92, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, labels) == 96, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, zone_id) == 112, "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, proto_state) == 114,
	       "doc/collectors.md §6.2 layout");
_Static_assert(offsetof(struct retisc_ct_conn, proto) == 116, "doc/collectors.md §6.2 layout");
_Static_assert(sizeof(struct retisc_ct_conn) == 128, "doc/collectors.md §6.2 layout");
_Static_assert(sizeof(struct retisc_ct_meta) == 1, "doc/collectors.md §6.2 layout");

#define CT_PROTOS (RETISC_CT_TCP | RETISC_CT_UDP | RETISC_CT_ICMP | RETISC_CT_SCTP)

static const struct retisc_api *api;

/* What the kernel configuration says (doc/collectors.md §6.1, §6.3). */
struct kconf {
	bool readable;
	char conntrack; /* CONFIG_NF_CONNTRACK: 'y', 'm', or 0 when not set */
	bool mark;	/* CONFIG_NF_CONNTRACK_MARK=y */
	bool labels;	/* CONFIG_NF_CONNTRACK_LABELS=y */
};

static struct {
	pthread_mutex_t lock;
	/*
	 * Emit mark / labels. Until a collection reads the configuration the
	 * decoder acts as if it were unreadable: both on.
	 */
	bool mark;
	bool labels;
	/* State names by value, NULL for a value the enum lacks. */
	bool names_tried;
	char *tcp_names[256];
	char *sctp_names[256];
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.mark = true,
	.labels = true,
};

/* -------------------------------------------------------------------------
 * Kernel configuration.
 */

/* One "NAME=value" line; a "# NAME is not set" line leaves the default. */
static void kconf_line(struct kconf *k, const char *line)
{
	static const char pfx[] = "CONFIG_NF_CONNTRACK";
	const char *rest;

	if (strncmp(line, pfx, sizeof(pfx) - 1))
		return;
	rest = line + sizeof(pfx) - 1;
	if (rest[0] == '=')
		k->conntrack = rest[1] == 'y' || rest[1] == 'm' ? rest[1] : 0;
	else if (!strncmp(rest, "_MARK=", 6))
		k->mark = rest[6] == 'y';
	else if (!strncmp(rest, "_LABELS=", 8))
		k->labels = rest[8] == 'y';
}

/* Plain or gzip-compressed (/proc/config.gz): zlib reads both. */
static int kconf_read(const char *path, struct kconf *k)
{
	char line[1024];
	bool at_start = true;
	gzFile f;

	/*
	 * zlib is no link dependency of plugins: its symbols resolve against
	 * the libz that libbpf (the one library plugins link) already loads.
	 */
	f = gzopen(path, "rb");
	if (!f)
		return errno ? -errno : -ENOMEM;
	memset(k, 0, sizeof(*k));
	while (gzgets(f, line, sizeof(line))) {
		size_t len = strlen(line);

		/* The tail of a line longer than the buffer is no line. */
		if (at_start)
			kconf_line(k, line);
		at_start = len && line[len - 1] == '\n';
	}
	gzclose(f);
	k->readable = true;
	return 0;
}

/* --kconf PATH when the core hands it over, else the usual places. */
static void kconf_load(const struct retisc_collect_env *env, struct kconf *k)
{
	const char *const *opt = env ? api->env_option(env, "kconf") : NULL;
	char paths[4][300];
	struct utsname u;
	int n = 0;

	memset(k, 0, sizeof(*k));
	if (opt && opt[0]) {
		if (kconf_read(opt[0], k))
			api->log(RETISC_LOG_WARN, "Cannot read kernel configuration %s", opt[0]);
		return;
	}
	snprintf(paths[n++], sizeof(paths[0]), "/proc/config.gz");
	if (!uname(&u)) {
		snprintf(paths[n++], sizeof(paths[0]), "/boot/config-%s", u.release);
		snprintf(paths[n++], sizeof(paths[0]), "/lib/modules/%s/config", u.release);
		snprintf(paths[n++], sizeof(paths[0]), "/run/host/usr/lib/modules/%s/config",
			 u.release);
	}
	for (int i = 0; i < n; i++)
		if (!kconf_read(paths[i], k))
			return;
}

/* -------------------------------------------------------------------------
 * State names from BTF.
 */

struct names_fill {
	const char *prefix;
	char **names;
};

static int name_one(const char *name, int64_t value, void *priv)
{
	struct names_fill *f = priv;
	size_t plen = strlen(f->prefix);

	/* proto_state is a u8; the first member of a value wins. */
	if (value < 0 || value > 255 || f->names[value])
		return 0;
	if (!strncmp(name, f->prefix, plen))
		name += plen;
	f->names[value] = strdup(name);
	return f->names[value] ? 0 : -ENOMEM;
}

/* names[v] = member name of enum_name with value v, without prefix. */
static int enum_names(const char *enum_name, const char *prefix, char **names)
{
	struct names_fill f = {prefix, names};

	return api->btf_enum_for_each(enum_name, NULL, name_one, &f);
}

static void names_free(void)
{
	for (int i = 0; i < 256; i++) {
		free(st.tcp_names[i]);
		free(st.sctp_names[i]);
		st.tcp_names[i] = NULL;
		st.sctp_names[i] = NULL;
	}
	st.names_tried = false;
}

/*
 * Once per plugin load. With conntrack built as a module its enums are in
 * the module's BTF, which the core's lookups include. A kernel without BTF
 * for them leaves the tables empty: states print as numbers.
 */
static void names_load(void)
{
	int err;

	pthread_mutex_lock(&st.lock);
	if (st.names_tried)
		goto out;
	st.names_tried = true;
	err = enum_names("tcp_conntrack", "TCP_CONNTRACK_", st.tcp_names);
	/* -ENOENT (no such enum) leaves numbers, as documented. */
	if (err != -ENODATA && err != -ENOMEM)
		err = enum_names("sctp_conntrack", "SCTP_CONNTRACK_", st.sctp_names);
	if (err == -ENODATA)
		api->log(RETISC_LOG_WARN, "ct: cannot read the kernel's BTF: conntrack states "
					  "are shown as numbers");
	else if (err == -ENOMEM)
		api->log(RETISC_LOG_WARN, "ct: out of memory reading conntrack state names");
out:
	pthread_mutex_unlock(&st.lock);
}

/* -------------------------------------------------------------------------
 * Decoding (doc/collectors.md §6.3).
 */

/* enum ip_conntrack_info values (IP_CT_ESTABLISHED_REPLY is 3 too). */
static const char *const states[8] = {
	[0] = "established", [1] = "related",	    [2] = "new",
	[3] = "reply",	     [4] = "related_reply", [7] = "untracked",
};

static struct retisc_json *port_pair(const struct retisc_ct_tuple *t)
{
	struct retisc_json *p = api->json_new_object();
	int err;

	if (!p)
		return NULL;
	err = retisc_api__put_u64(api, p, "sport", ntohs(t->src.data))
		      ?: retisc_api__put_u64(api, p, "dport", ntohs(t->dst.data));
	if (err) {
		api->json_free(p);
		return NULL;
	}
	return p;
}

/* {"tcp":{...}} and friends; dir 0 orig, 1 reply (SCTP vtag). */
static struct retisc_json *tuple_proto(const struct retisc_ct_conn *c,
				       const struct retisc_ct_tuple *t, int dir)
{
	struct retisc_json *proto = api->json_new_object(), *p = NULL;
	const char *key;
	int err = 0;

	if (!proto)
		return NULL;
	if (c->flags & RETISC_CT_TCP) {
		key = "tcp";
		p = port_pair(t);
	} else if (c->flags & RETISC_CT_UDP) {
		key = "udp";
		p = port_pair(t);
	} else if (c->flags & RETISC_CT_ICMP) {
		key = "icmp";
		p = api->json_new_object();
		if (p)
			err = retisc_api__put_u64(api, p, "code", t->dst.data & 0xff) ?:
			      retisc_api__put_u64(api, p, "type", t->dst.data >> 8) ?:
			      retisc_api__put_u64(api, p, "id", ntohs(t->src.data));
	} else {
		key = "sctp";
		p = port_pair(t);
		if (p)
			err = retisc_api__put_u64(api, p, "vtag", ntohl(c->proto.vtag[dir]));
	}
	if (err) {
		api->json_free(p);
		p = NULL;
	}
	if (retisc_api__put(api, proto, key, p)) {
		api->json_free(proto);
		return NULL;
	}
	return proto;
}

static struct retisc_json *tuple_json(const struct retisc_ct_conn *c,
				      const struct retisc_ct_tuple *t, int dir)
{
	struct retisc_json *tu = api->json_new_object(), *ip = api->json_new_object();
	char src[RETISC_INET6_STRLEN], dst[RETISC_INET6_STRLEN];
	const char *version;
	int err;

	if (c->flags & RETISC_CT_IPV4) {
		retisc_inet__ntop4(src, (const uint8_t *)&t->src.addr.ipv4);
		retisc_inet__ntop4(dst, (const uint8_t *)&t->dst.addr.ipv4);
		version = "v4";
	} else {
		retisc_inet__ntop6(src, t->src.addr.ipv6);
		retisc_inet__ntop6(dst, t->dst.addr.ipv6);
		version = "v6";
	}
	if (!tu || !ip) {
		api->json_free(tu);
		api->json_free(ip);
		return NULL;
	}
	err = retisc_api__put(api, ip, "src", api->json_new_str(src)) ?:
	      retisc_api__put(api, ip, "dst", api->json_new_str(dst)) ?:
	      retisc_api__put(api, ip, "version", api->json_new_str(version));
	if (err) {
		api->json_free(ip);
		api->json_free(tu);
		return NULL;
	}
	err = retisc_api__put(api, tu, "ip", ip)
		      ?: retisc_api__put(api, tu, "proto", tuple_proto(c, t, dir));
	if (err) {
		api->json_free(tu);
		return NULL;
	}
	return tu;
}

static struct retisc_json *proto_state(const struct retisc_ct_conn *c)
{
	char *const *names = c->flags & RETISC_CT_TCP ? st.tcp_names : st.sctp_names;
	char num[4];

	if (names[c->proto_state])
		return api->json_new_str(names[c->proto_state]);
	snprintf(num, sizeof(num), "%u", c->proto_state);
	return api->json_new_str(num);
}

/* doc/events.md §4.14: the 16 bytes are one native-endian u128. */
static void labels_split(const uint8_t *labels, uint64_t *hi, uint64_t *lo)
{
	const bool le = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

	memcpy(le ? lo : hi, labels, 8);
	memcpy(le ? hi : lo, labels + 8, 8);
}

static struct retisc_json *labels_json(uint64_t hi, uint64_t lo)
{
	struct retisc_json *l = api->json_new_object();

	if (l && (retisc_api__put_u64(api, l, "hi", hi) || retisc_api__put_u64(api, l, "lo", lo))) {
		api->json_free(l);
		return NULL;
	}
	return l;
}

/*
 * The keys of one connection (zone_id ... ct_status) into a new object;
 * NULL with *err set.
 */
static struct retisc_json *conn_json(const struct retisc_ct_conn *c, int *err)
{
	uint32_t dirs = c->flags & (RETISC_CT_DIR_ORIG | RETISC_CT_DIR_REPLY);
	struct retisc_json *o;
	const char *zone_dir;
	uint64_t lo, hi;

	if (!(c->flags & (RETISC_CT_IPV4 | RETISC_CT_IPV6))) {
		api->log(RETISC_LOG_WARN, "ct: invalid ip tuple information");
		*err = -EINVAL;
		return NULL;
	}
	if (!(c->flags & CT_PROTOS)) {
		api->log(RETISC_LOG_WARN, "ct: invalid protocol tuple information");
		*err = -EINVAL;
		return NULL;
	}
	if (dirs == (RETISC_CT_DIR_ORIG | RETISC_CT_DIR_REPLY))
		zone_dir = "Default";
	else if (dirs == RETISC_CT_DIR_ORIG)
		zone_dir = "Original";
	else if (dirs == RETISC_CT_DIR_REPLY)
		zone_dir = "Reply";
	else
		zone_dir = "None";

	o = api->json_new_object();
	if (!o) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = retisc_api__put_u64(api, o, "zone_id", c->zone_id) ?:
	       retisc_api__put(api, o, "zone_dir", api->json_new_str(zone_dir)) ?:
	       retisc_api__put(api, o, "orig", tuple_json(c, &c->orig, 0)) ?:
	       retisc_api__put(api, o, "reply", tuple_json(c, &c->reply, 1));
	if (!*err && c->flags & (RETISC_CT_TCP | RETISC_CT_SCTP))
		*err = retisc_api__put(api, o, "proto_state", proto_state(c));
	if (!*err && st.mark)
		*err = retisc_api__put_u64(api, o, "mark", c->mark);
	labels_split(c->labels, &hi, &lo);
	if (!*err && st.labels && (lo || hi))
		*err = retisc_api__put(api, o, "labels", labels_json(hi, lo));
	if (!*err)
		*err = retisc_api__put_u64(api, o, "ct_status", c->status);
	if (*err) {
		api->json_free(o);
		return NULL;
	}
	return o;
}

/* Move every key of from (freed) into to, from position pos on. */
static int move_keys(struct retisc_json *to, size_t pos, struct retisc_json *from)
{
	char key[32];
	int err = 0;

	while (!err && api->json_obj_len(from)) {
		snprintf(key, sizeof(key), "%s", api->json_obj_key(from, 0));
		err = api->json_obj_insert(to, pos++, key, api->json_obj_take(from, key));
	}
	api->json_free(from);
	return err;
}

static int decode_conn(struct retisc_json *event, uint8_t type, const void *data, size_t size)
{
	struct retisc_json *ct = api->json_obj_get(event, "ct"), *conn;
	struct retisc_ct_conn c;
	int err;

	if (size < sizeof(c))
		return -EINVAL;
	memcpy(&c, data, sizeof(c));
	if (ct && api->json_obj_get(ct, type == RETISC_CT_BASE ? "ct_status" : "parent"))
		return -EINVAL; /* one of each per event */
	if (c.flags & (RETISC_CT_TCP | RETISC_CT_SCTP))
		names_load();
	conn = conn_json(&c, &err);
	if (!conn)
		return err;
	if (type == RETISC_CT_PARENT) {
		if (ct)
			return api->json_obj_set(ct, "parent", conn);
		ct = api->json_new_object();
		err = retisc_api__put(api, ct, "parent", conn);
		return retisc_api__put_section(api, event, "ct", ct, err);
	}
	if (!ct)
		return api->json_obj_set(event, "ct", conn);
	/* The base goes after state and before parent. */
	return move_keys(ct, api->json_obj_get(ct, "state") ? 1 : 0, conn);
}

static int decode_meta(struct retisc_json *event, const void *data, size_t size)
{
	struct retisc_json *ct = api->json_obj_get(event, "ct");
	struct retisc_ct_meta m;

	if (size < sizeof(m))
		return -EINVAL;
	memcpy(&m, data, sizeof(m));
	if (m.state >= sizeof(states) / sizeof(states[0]) || !states[m.state]) {
		api->log(RETISC_LOG_WARN, "ct: unsupported ct state %u", m.state);
		/* No half section: a parent alone would pass for a connection. */
		api->json_free(api->json_obj_take(event, "ct"));
		return -EINVAL;
	}
	if (!ct || !api->json_obj_get(ct, "ct_status")) {
		api->log(RETISC_LOG_WARN, "CT BPF event does not have a base section");
		api->json_free(api->json_obj_take(event, "ct"));
		return -EINVAL;
	}
	if (api->json_obj_get(ct, "state"))
		return -EINVAL;
	return api->json_obj_insert(ct, 0, "state", api->json_new_str(states[m.state]));
}

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	(void)priv;
	switch (type) {
	case RETISC_CT_META:
		return decode_meta(event, data, size);
	case RETISC_CT_BASE:
	case RETISC_CT_PARENT:
		return decode_conn(event, type, data, size);
	}
	return -EINVAL;
}

/* -------------------------------------------------------------------------
 * Text (doc/events.md §4.14).
 */

struct tuple_txt {
	const char *src, *dst;
	const struct retisc_json *tcp, *udp, *icmp, *sctp;
};

static int tuple_txt(const struct retisc_json *t, struct tuple_txt *out)
{
	const struct retisc_json *ip = api->json_obj_get(t, "ip");
	const struct retisc_json *proto = api->json_obj_get(t, "proto");

	memset(out, 0, sizeof(*out));
	out->src = retisc_api__get_str(api, ip, "src", NULL);
	out->dst = retisc_api__get_str(api, ip, "dst", NULL);
	if (!out->src || !out->dst || !proto)
		return -EINVAL;
	out->tcp = api->json_obj_get(proto, "tcp");
	out->udp = api->json_obj_get(proto, "udp");
	out->icmp = api->json_obj_get(proto, "icmp");
	out->sctp = api->json_obj_get(proto, "sctp");
	return 0;
}

/* "{src}.{sport} > {dst}.{dport}" */
static int fmt_ports(struct retisc_strbuf *sb, const struct tuple_txt *t,
		     const struct retisc_json *p)
{
	uint64_t sport, dport;

	if (!retisc_api__get_u64(api, p, "sport", &sport) ||
	    !retisc_api__get_u64(api, p, "dport", &dport))
		return -EINVAL;
	return retisc_strbuf__printf(sb, "%s.%llu > %s.%llu", t->src, (unsigned long long)sport,
				     t->dst, (unsigned long long)dport);
}

static int fmt_icmp(struct retisc_strbuf *sb, const struct tuple_txt *t)
{
	uint64_t type, code, id;

	if (!retisc_api__get_u64(api, t->icmp, "type", &type) ||
	    !retisc_api__get_u64(api, t->icmp, "code", &code) ||
	    !retisc_api__get_u64(api, t->icmp, "id", &id))
		return -EINVAL;
	return retisc_strbuf__printf(sb, "%s > %s type %llu code %llu id %llu", t->src, t->dst,
				     (unsigned long long)type, (unsigned long long)code,
				     (unsigned long long)id);
}

static int fmt_sctp(struct retisc_strbuf *sb, const struct tuple_txt *t)
{
	uint64_t vtag;

	if (!retisc_api__get_u64(api, t->sctp, "vtag", &vtag))
		return -EINVAL;
	return fmt_ports(sb, t, t->sctp)
		       ?: retisc_strbuf__printf(sb, " vtag 0x%llx", (unsigned long long)vtag);
}

/* The protocol part, when both tuples are of one kind (else nothing). */
static int fmt_proto(struct retisc_strbuf *sb, const struct retisc_json *conn)
{
	const char *pstate = retisc_api__get_str(api, conn, "proto_state", NULL);
	struct tuple_txt o, r;
	int err;

	if (tuple_txt(api->json_obj_get(conn, "orig"), &o) ||
	    tuple_txt(api->json_obj_get(conn, "reply"), &r))
		return -EINVAL;
	if (!pstate)
		pstate = "UNKNOWN";
	if (o.tcp && r.tcp)
		return retisc_strbuf__printf(sb, "tcp (%s) orig [", pstate) ?:
		       fmt_ports(sb, &o, o.tcp) ?: retisc_strbuf__puts(sb, "] reply [") ?:
		       fmt_ports(sb, &r, r.tcp) ?: retisc_strbuf__puts(sb, "] ");
	if (o.udp && r.udp)
		return retisc_strbuf__puts(sb, "udp orig [") ?: fmt_ports(sb, &o, o.udp) ?:
		       retisc_strbuf__puts(sb, "] reply [") ?: fmt_ports(sb, &r, r.udp) ?:
		       retisc_strbuf__puts(sb, "] ");
	if (o.icmp && r.icmp)
		return retisc_strbuf__puts(sb, "icmp orig [") ?: fmt_icmp(sb, &o) ?:
		       retisc_strbuf__puts(sb, "] reply [") ?: fmt_icmp(sb, &r) ?:
		       retisc_strbuf__puts(sb, "] ");
	if (o.sctp && r.sctp) {
		err = retisc_strbuf__printf(sb, "sctp (%s) orig [", pstate) ?: fmt_sctp(sb, &o) ?:
		      retisc_strbuf__puts(sb, "] reply [") ?: fmt_sctp(sb, &r) ?:
		      retisc_strbuf__puts(sb, "] ");
		return err;
	}
	return 0;
}

/* CONN: status, protocol, zone, mark, labels. */
static int fmt_conn(struct retisc_strbuf *sb, const struct retisc_json *conn)
{
	const struct retisc_json *labels = api->json_obj_get(conn, "labels");
	const char *dir = retisc_api__get_str(api, conn, "zone_dir", NULL);
	uint64_t status, zone, mark, hi, lo;
	int err;

	if (!retisc_api__get_u64(api, conn, "ct_status", &status) ||
	    !retisc_api__get_u64(api, conn, "zone_id", &zone) || !dir)
		return -EINVAL;
	/* "0x%llx" rather than "%#llx", which prints 0 bare. */
	err = retisc_strbuf__printf(sb, "status 0x%llx ", (unsigned long long)status)
		      ?: fmt_proto(sb, conn);
	if (err)
		return err;
	/* "None" prints no zone and leaves the trailing space of the above. */
	if (!strcmp(dir, "Original"))
		err = retisc_strbuf__printf(sb, "orig-zone %llu", (unsigned long long)zone);
	else if (!strcmp(dir, "Reply"))
		err = retisc_strbuf__printf(sb, "reply-zone %llu", (unsigned long long)zone);
	else if (!strcmp(dir, "Default"))
		err = retisc_strbuf__printf(sb, "zone %llu", (unsigned long long)zone);
	if (!err && retisc_api__get_u64(api, conn, "mark", &mark))
		err = retisc_strbuf__printf(sb, " mark %llu", (unsigned long long)mark);
	if (!err && labels) {
		if (!retisc_api__get_u64(api, labels, "hi", &hi) ||
		    !retisc_api__get_u64(api, labels, "lo", &lo))
			return -EINVAL;
		if (hi)
			err = retisc_strbuf__printf(sb, " labels 0x%llx%016llx",
						    (unsigned long long)hi, (unsigned long long)lo);
		else
			err = retisc_strbuf__printf(sb, " labels 0x%llx", (unsigned long long)lo);
	}
	return err;
}

static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	const struct retisc_json *parent = api->json_obj_get(sec, "parent");
	const char *state = retisc_api__get_str(api, sec, "state", NULL);
	size_t start = f->out->len, i;
	char up[16];
	int err;

	(void)priv;
	if (!state || strlen(state) >= sizeof(up))
		return -EINVAL;
	for (i = 0; state[i]; i++)
		up[i] = (char)toupper((unsigned char)state[i]);
	up[i] = '\0';
	err = retisc_strbuf__printf(f->out, "ct_state %s ", up) ?: fmt_conn(f->out, sec);
	/* The core indents the line after "\n" (doc/events.md §5). */
	if (!err && parent)
		err = retisc_strbuf__puts(f->out, f->multiline ? "\n\\ parent [" : " parent [") ?:
		      fmt_conn(f->out, parent) ?: retisc_strbuf__puts(f->out, "]");
	/* No half-written text on error. */
	if (err)
		retisc_strbuf__truncate(f->out, start);
	return err;
}

/* -------------------------------------------------------------------------
 * Collector.
 */

static void kconf_apply(const struct kconf *k)
{
	/* Unreadable: Retis emits both (doc/collectors.md §6.3). */
	st.mark = !k->readable || k->mark;
	st.labels = !k->readable || k->labels;
}

/* doc/collectors.md §6.1. */
static int can_run(void *priv, const struct retisc_collect_env *env, char *reason, size_t reason_sz)
{
	struct kconf k;

	(void)priv;
	kconf_load(env, &k);
	kconf_apply(&k);
	if (!k.readable || k.conntrack == 'y')
		return 0;
	if (k.conntrack == 'm') {
		if (retisc_kernel__module_loaded("nf_conntrack"))
			return 0;
		snprintf(reason, reason_sz, "'nf_conntrack' is not loaded");
		return -ENOENT;
	}
	snprintf(reason, reason_sz, "This kernel does not support connection tracking");
	return -EOPNOTSUPP;
}

static int init(void *priv, const struct retisc_collect_env *env)
{
	struct kconf k;

	(void)priv;
	kconf_load(env, &k);
	kconf_apply(&k);
	names_load();
	return 0;
}

static const char *const known_types[] = {"struct sk_buff *", NULL};

static int plugin_init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "ct",
		.rank = 140,
		.owner = RETISC_OWNER_CT,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
		.format = format,
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "ct_hook",
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "ct",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.order = 60,
		.can_run = can_run,
		.init = init,
	};

	api = a;
	hook.obj = ct_hook__elf_bytes(&hook.obj_sz);
	return retisc_plugin__register_collector(plugin, a, &sec, 1, &col);
}

static void plugin_fini(struct retisc_plugin *plugin)
{
	(void)plugin;
	pthread_mutex_lock(&st.lock);
	names_free();
	st.mark = true;
	st.labels = true;
	pthread_mutex_unlock(&st.lock);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "ct",
	.version = "0.1.0",
	.init = plugin_init,
	.fini = plugin_fini,
};

RETISC_PLUGIN_DEFINE(desc)
