// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb collector plugin (doc/collectors.md §3): the generic capture hook, the
 * `packet` (doc/events.md §4.7) and `skb` (§4.8) sections, their decoding and
 * their text.
 *
 * Both sections come from raw owner 6: data type 1 becomes `packet`, types
 * 2-5 the sub-objects of `skb`. The core hands a raw owner to a single
 * section, so `skb` owns the decoder and `packet` is registered without a
 * raw form; the decoder adds both keys and the core puts every key of the
 * event in rank order afterwards.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <linux/types.h>

#include <retisc/base64.h>
#include <retisc/event.h>
#include <retisc/json_text.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "packet_fmt.h"
#include "skb.h"

#include "plugins/skb/skb_hook.skel.h"

_Static_assert(sizeof(struct retisc_skb_packet) == 264, "doc/collectors.md §3.2 layout");
_Static_assert(sizeof(struct retisc_skb_vlan) == 6, "doc/collectors.md §3.3 layout");
_Static_assert(sizeof(struct retisc_skb_meta) == 28, "doc/collectors.md §3.3 layout");
_Static_assert(sizeof(struct retisc_skb_data_ref) == 5, "doc/collectors.md §3.3 layout");
_Static_assert(sizeof(struct retisc_skb_gso) == 16, "doc/collectors.md §3.3 layout");

static const struct retisc_api *api;

/*
 * Sections the hook collects (1 << data type). Set by the collector's init()
 * from --skb-sections and written into the hook's rodata when the core
 * loads it.
 */
static uint64_t skb_sections = RETISC_SKB_SECTIONS_DEFAULT;

/* -------------------------------------------------------------------------
 * Decoding.
 */

static int packet_decode(struct retisc_json *event, const void *data, size_t size)
{
	struct retisc_strbuf b64 = RETISC_STRBUF_INIT;
	struct retisc_skb_packet raw;
	const size_t hdr = offsetof(struct retisc_skb_packet, packet);
	struct retisc_json *p;
	int err;

	if (size < hdr)
		return -EINVAL;
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	if (raw.capture_len > RETISC_SKB_CAPTURE_MAX || raw.capture_len > size - hdr ||
	    raw.capture_len > raw.len)
		return -EINVAL;
	if (retisc_base64__encode(&b64, raw.packet, raw.capture_len))
		return -ENOMEM;
	p = api->json_new_object();
	if (!p) {
		retisc_strbuf__release(&b64);
		return -ENOMEM;
	}
	err = retisc_api__put_u64(api, p, "len", raw.len) ?:
	      retisc_api__put_u64(api, p, "capture_len", raw.capture_len) ?:
	      retisc_api__put(api, p, "data", api->json_new_strn(b64.buf ? b64.buf : "", b64.len));
	retisc_strbuf__release(&b64);
	return retisc_api__put_section(api, event, "packet", p, err);
}

/* packet_decode() as text. */
static int packet_encode(struct retisc_json_piece *p, const void *data, size_t size)
{
	struct retisc_skb_packet raw;
	const size_t hdr = offsetof(struct retisc_skb_packet, packet);
	struct retisc_strbuf *sb = p->text;

	if (size < hdr)
		return -EINVAL;
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	if (raw.capture_len > RETISC_SKB_CAPTURE_MAX || raw.capture_len > size - hdr ||
	    raw.capture_len > raw.len)
		return -EINVAL;
	p->key = "packet";
	/* Base64 needs no JSON escape. */
	return retisc_strbuf__putc(sb, '{') ?: retisc_json_text__key_u64(sb, "len", true, raw.len)
	       ?: retisc_json_text__key_u64(sb, "capture_len", false, raw.capture_len)
	       ?: retisc_json_text__key(sb, "data", false) ?: retisc_strbuf__putc(sb, '"')
	       ?: retisc_base64__encode(sb, raw.packet, raw.capture_len)
	       ?: retisc_strbuf__append(sb, "\"}", 2);
}

/* doc/events.md §4.8 order of the sub-objects of `skb`. */
static const char *const skb_keys[] = {"vlan_accel", "meta", "data_ref", "gso"};

static size_t skb_key_rank(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(skb_keys) / sizeof(skb_keys[0]); i++)
		if (!strcmp(key, skb_keys[i]))
			return i;
	return i;
}

/* Put sub-object v at its place in event.skb, creating `skb` if needed. */
static int skb_put(struct retisc_json *event, const char *key, struct retisc_json *v)
{
	struct retisc_json *skb = api->json_obj_get(event, "skb");
	size_t pos = 0, rank = skb_key_rank(key), n;
	int err;

	if (!skb) {
		err = retisc_api__put(api, event, "skb", api->json_new_object());
		if (err) {
			api->json_free(v);
			return err;
		}
		skb = api->json_obj_get(event, "skb");
	}
	if (api->json_obj_get(skb, key))
		return api->json_obj_set(skb, key, v);
	n = api->json_obj_len(skb);
	for (size_t i = 0; i < n; i++)
		if (skb_key_rank(api->json_obj_key(skb, i)) < rank)
			pos = i + 1;
	return api->json_obj_insert(skb, pos, key, v);
}

/*
 * The keys of each sub-object of `skb`, in order, listed once for both
 * ways of writing them: X(kind, key, value) with kind u64 or bool.
 */
#define VLAN_KEYS(X, r)                                                                            \
	X(u64, "proto", (r)->proto)                                                                \
	X(u64, "pcp", (r)->pcp)                                                                    \
	X(bool, "dei", (r)->dei == 1)                                                              \
	X(u64, "vid", (r)->vid)
#define META_KEYS(X, r)                                                                            \
	X(u64, "len", (r)->len)                                                                    \
	X(u64, "data_len", (r)->data_len)                                                          \
	X(u64, "hash", (r)->hash)                                                                  \
	X(u64, "ip_summed", (r)->ip_summed)                                                        \
	X(u64, "csum", (r)->csum)                                                                  \
	X(u64, "csum_level", (r)->csum_level)                                                      \
	X(u64, "priority", (r)->priority)
#define DATA_REF_KEYS(X, r)                                                                        \
	X(bool, "nohdr", (r)->nohdr == 1)                                                          \
	X(bool, "cloned", (r)->cloned == 1)                                                        \
	X(u64, "fclone", (r)->fclone)                                                              \
	X(u64, "users", (r)->users)                                                                \
	X(u64, "dataref", (r)->dataref)
#define GSO_KEYS(X, r)                                                                             \
	X(u64, "flags", (r)->flags)                                                                \
	X(u64, "frags", (r)->nr_frags)                                                             \
	X(u64, "size", (r)->gso_size)                                                              \
	X(u64, "segs", (r)->gso_segs)                                                              \
	X(u64, "type", (r)->gso_type)

/* Fill o, an empty object, with the keys of one sub-object of `skb`. */
#define PUT_NODE(kind, key, val) retisc_api__put_##kind(api, o, key, val) ?:

static int vlan_fill(struct retisc_json *o, const struct retisc_skb_vlan *r)
{
	return VLAN_KEYS(PUT_NODE, r) 0;
}

static int meta_fill(struct retisc_json *o, const struct retisc_skb_meta *r)
{
	return META_KEYS(PUT_NODE, r) 0;
}

static int data_ref_fill(struct retisc_json *o, const struct retisc_skb_data_ref *r)
{
	return DATA_REF_KEYS(PUT_NODE, r) 0;
}

static int gso_fill(struct retisc_json *o, const struct retisc_skb_gso *r)
{
	return GSO_KEYS(PUT_NODE, r) 0;
}

/* The same as text (plugin.h, encode): `,"key":value` after the first. */
static int text_u64(struct retisc_strbuf *sb, const char *key, bool *first, uint64_t v)
{
	int err = retisc_json_text__key(sb, key, *first) ?: retisc_json_text__u64(sb, v);

	*first = false;
	return err;
}

static int text_bool(struct retisc_strbuf *sb, const char *key, bool *first, bool v)
{
	int err = retisc_json_text__key(sb, key, *first) ?: retisc_json_text__bool(sb, v);

	*first = false;
	return err;
}

#define PUT_TEXT(kind, key, val) text_##kind(sb, key, &first, val) ?:

/* Size of the raw sub-section of type (skb.h), 0 when unknown. */
static size_t raw_size(uint8_t type)
{
	switch (type) {
	case RETISC_SKB_VLAN:
		return sizeof(struct retisc_skb_vlan);
	case RETISC_SKB_META:
		return sizeof(struct retisc_skb_meta);
	case RETISC_SKB_DATA_REF:
		return sizeof(struct retisc_skb_data_ref);
	case RETISC_SKB_GSO:
		return sizeof(struct retisc_skb_gso);
	default:
		return 0;
	}
}

static int skb_decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		      size_t size)
{
	union {
		struct retisc_skb_vlan vlan;
		struct retisc_skb_meta meta;
		struct retisc_skb_data_ref data_ref;
		struct retisc_skb_gso gso;
	} r;
	struct retisc_json *v;
	const char *key;
	size_t need;
	int err;

	(void)priv;
	if (type == RETISC_SKB_PACKET)
		return packet_decode(event, data, size);
	need = raw_size(type);
	if (!need || size < need)
		return -EINVAL;
	memcpy(&r, data, need);
	v = api->json_new_object();
	if (!v)
		return -ENOMEM;
	switch (type) {
	case RETISC_SKB_VLAN:
		key = "vlan_accel";
		err = vlan_fill(v, &r.vlan);
		break;
	case RETISC_SKB_META:
		key = "meta";
		err = meta_fill(v, &r.meta);
		break;
	case RETISC_SKB_DATA_REF:
		key = "data_ref";
		err = data_ref_fill(v, &r.data_ref);
		break;
	default:
		key = "gso";
		err = gso_fill(v, &r.gso);
		break;
	}
	if (err) {
		api->json_free(v);
		return err;
	}
	return skb_put(event, key, v);
}

static int skb_encode(void *priv, uint8_t type, const void *data, size_t size,
		      struct retisc_json_piece *p)
{
	union {
		struct retisc_skb_vlan vlan;
		struct retisc_skb_meta meta;
		struct retisc_skb_data_ref data_ref;
		struct retisc_skb_gso gso;
	} r;
	struct retisc_strbuf *sb = p->text;
	bool first = true;
	size_t need;
	int err;

	(void)priv;
	if (type == RETISC_SKB_PACKET)
		return packet_encode(p, data, size);
	need = raw_size(type);
	if (!need || size < need)
		return -EINVAL;
	memcpy(&r, data, need);
	p->key = "skb";
	err = retisc_strbuf__putc(sb, '{');
	switch (type) {
	case RETISC_SKB_VLAN:
		p->sub = "vlan_accel";
		err = err ?: VLAN_KEYS(PUT_TEXT, &r.vlan) 0;
		break;
	case RETISC_SKB_META:
		p->sub = "meta";
		err = err ?: META_KEYS(PUT_TEXT, &r.meta) 0;
		break;
	case RETISC_SKB_DATA_REF:
		p->sub = "data_ref";
		err = err ?: DATA_REF_KEYS(PUT_TEXT, &r.data_ref) 0;
		break;
	default:
		p->sub = "gso";
		err = err ?: GSO_KEYS(PUT_TEXT, &r.gso) 0;
		break;
	}
	p->sub_rank = (uint32_t)skb_key_rank(p->sub);
	return err ?: retisc_strbuf__putc(sb, '}');
}

/* -------------------------------------------------------------------------
 * Text.
 */

static int packet_format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint8_t buf[512];
	const char *data;
	size_t len;
	ssize_t n;

	(void)priv;
	data = retisc_api__get_str(api, sec, "data", &len);
	if (!data)
		return -EINVAL;
	/* capture_len <= 255 by construction; refuse what cannot be a capture. */
	n = retisc_base64__decode(data, len, buf, sizeof(buf));
	if (n < 0)
		return -EINVAL;
	return retisc_packet__format(f->out, buf, (size_t)n, f->link_layer);
}

/* Mandatory integer / boolean keys of a sub-object. */
static bool get_u(const struct retisc_json *o, const char *key, uint64_t *v)
{
	return retisc_api__get_u64(api, o, key, v);
}

static bool get_b(const struct retisc_json *o, const char *key, bool *v)
{
	return retisc_api__get_bool(api, o, key, v);
}

static int vlan_format(struct retisc_strbuf *out, const struct retisc_json *v)
{
	uint64_t proto, pcp, vid;
	const char *name;
	bool dei;

	if (!get_u(v, "proto", &proto) || !get_u(v, "pcp", &pcp) || !get_b(v, "dei", &dei) ||
	    !get_u(v, "vid", &vid) || proto > UINT16_MAX)
		return -EINVAL;
	name = retisc_packet__ethertype_name((uint16_t)proto);
	return retisc_strbuf__printf(out, "vlan_accel (ethertype %s%s(0x%04x) vlan %llu p %llu%s)",
				     name ? name : "", name ? " " : "", (unsigned int)proto,
				     (unsigned long long)vid, (unsigned long long)pcp,
				     dei ? " DEI" : "");
}

/* pre, v in decimal (or 0x-less hex), post: printf("%s%llu%s") without
 * printf, whose setup costs more than the formatting (print's hot path). */
/* Always inlined: the strlen() of the constant strings callers pass folds away. */
static inline __attribute__((always_inline)) int put_u64(struct retisc_strbuf *out, const char *pre,
							 uint64_t v, bool hex, const char *post)
{
	return retisc_strbuf__puts(out, pre) ?: retisc_strbuf__put_num(out, v, hex ? 16 : 10, 0) ?:
		       retisc_strbuf__puts(out, post);
}

static int meta_format(struct retisc_strbuf *out, const struct retisc_json *m)
{
	uint64_t len, data_len, hash, ip_summed, csum, level, prio;
	int err;

	if (!get_u(m, "len", &len) || !get_u(m, "data_len", &data_len) ||
	    !get_u(m, "hash", &hash) || !get_u(m, "ip_summed", &ip_summed) ||
	    !get_u(m, "csum", &csum) || !get_u(m, "csum_level", &level) ||
	    !get_u(m, "priority", &prio))
		return -EINVAL;
	err = retisc_strbuf__puts(out, "csum ");
	switch (ip_summed) {
	case 0:
		err = err ?: retisc_strbuf__puts(out, "none ");
		break;
	case 1:
		err = err ?: put_u64(out, "unnecessary (level ", level, false, ") ");
		break;
	case 2:
		err = err ?: put_u64(out, "complete (0x", csum, true, ") ");
		break;
	case 3:
		/* CHECKSUM_PARTIAL: csum_start low 16 bits, csum_offset high. */
		err = err ?: put_u64(out, "partial (start ", csum & 0xffff, false, "") ?:
			      put_u64(out, " off ", csum >> 16, false, ") ");
		break;
	default:
		err = err ?: put_u64(out, "unknown (", ip_summed, false, ") ");
		break;
	}
	if (hash)
		err = err ?: put_u64(out, "hash 0x", hash, true, " ");
	err = err ?: put_u64(out, "len ", len, false, " ");
	if (data_len)
		err = err ?: put_u64(out, "data_len ", data_len, false, " ");
	return err ?: put_u64(out, "priority ", prio, false, "");
}

static int data_ref_format(struct retisc_strbuf *out, const struct retisc_json *d)
{
	uint64_t fclone, users, dataref;
	bool nohdr, cloned;
	int err = 0;

	if (!get_b(d, "nohdr", &nohdr) || !get_b(d, "cloned", &cloned) ||
	    !get_u(d, "fclone", &fclone) || !get_u(d, "users", &users) ||
	    !get_u(d, "dataref", &dataref))
		return -EINVAL;
	if (nohdr)
		err = retisc_strbuf__puts(out, "nohdr ");
	if (cloned)
		err = err ?: retisc_strbuf__puts(out, "cloned ");
	if (fclone)
		err = err ?: retisc_strbuf__printf(out, "fclone %llu ", (unsigned long long)fclone);
	return err
		       ?: retisc_strbuf__printf(out, "users %llu dataref %llu",
						(unsigned long long)users,
						(unsigned long long)dataref);
}

static int gso_format(struct retisc_strbuf *out, const struct retisc_json *g)
{
	uint64_t flags, frags, size, segs, type;
	int err;

	if (!get_u(g, "flags", &flags) || !get_u(g, "frags", &frags) || !get_u(g, "size", &size) ||
	    !get_u(g, "segs", &segs) || !get_u(g, "type", &type))
		return -EINVAL;
	err = retisc_strbuf__printf(out, "gso [type 0x%llx ", (unsigned long long)type);
	if (flags)
		err = err ?: retisc_strbuf__printf(out, "flags 0x%llx ", (unsigned long long)flags);
	if (frags)
		err = err ?: retisc_strbuf__printf(out, "frags %llu ", (unsigned long long)frags);
	if (segs)
		err = err ?: retisc_strbuf__printf(out, "segs %llu ", (unsigned long long)segs);
	return err ?: retisc_strbuf__printf(out, "size %llu]", (unsigned long long)size);
}

/* doc/events.md §4.8: parts joined by one space, each only when applicable. */
static int skb_format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	const struct retisc_json *vlan = api->json_obj_get(sec, "vlan_accel");
	const struct retisc_json *meta = api->json_obj_get(sec, "meta");
	const struct retisc_json *dref = api->json_obj_get(sec, "data_ref");
	const struct retisc_json *gso = api->json_obj_get(sec, "gso");
	struct retisc_strbuf *out = f->out;
	size_t start = out->len;
	int err = 0;

	(void)priv;
	if (vlan && f->link_layer)
		err = vlan_format(out, vlan);
	if (!err && (meta || dref)) {
		if (out->len > start)
			err = retisc_strbuf__putc(out, ' ');
		err = err ?: retisc_strbuf__puts(out, "skb [");
		if (meta)
			err = err ?: meta_format(out, meta);
		if (meta && dref)
			err = err ?: retisc_strbuf__putc(out, ' ');
		if (dref)
			err = err ?: data_ref_format(out, dref);
		err = err ?: retisc_strbuf__putc(out, ']');
	}
	if (!err && gso) {
		if (out->len > start)
			err = retisc_strbuf__putc(out, ' ');
		err = err ?: gso_format(out, gso);
	}
	return err;
}

/* -------------------------------------------------------------------------
 * Collector.
 */

/*
 * --skb-sections (doc/cli.md §3.1): the sections to add to the default ones.
 * Deprecated values are warned about and ignored (Retis's wording, typo
 * included); `vlan` and unknown values fail the initialisation as Retis
 * does.
 */
static int collector_init(void *priv, const struct retisc_collect_env *env)
{
	static const char *const deprecated[] = {"arp", "ip", "tcp", "udp", "icmp", "packet"};
	const char *const *vals = api->env_option(env, "skb-sections");
	uint64_t sections = RETISC_SKB_SECTIONS_DEFAULT;

	(void)priv;
	for (size_t i = 0; vals && vals[i]; i++) {
		const char *v = vals[i];
		bool old = false;

		for (size_t d = 0; d < sizeof(deprecated) / sizeof(deprecated[0]); d++)
			old = old || !strcmp(v, deprecated[d]);
		if (!strcmp(v, "all")) {
			sections |= 1ULL << RETISC_SKB_META | 1ULL << RETISC_SKB_DATA_REF |
				    1ULL << RETISC_SKB_GSO;
		} else if (!strcmp(v, "meta")) {
			sections |= 1ULL << RETISC_SKB_META;
		} else if (!strcmp(v, "dataref")) {
			sections |= 1ULL << RETISC_SKB_DATA_REF;
		} else if (!strcmp(v, "gso")) {
			sections |= 1ULL << RETISC_SKB_GSO;
		} else if (!strcmp(v, "eth")) {
			/* Ethernet headers are part of the packet capture. */
		} else if (old) {
			api->log(RETISC_LOG_WARN, "Use of '%s' in --skb-sections is depreacted", v);
		} else if (!strcmp(v, "dev") || !strcmp(v, "ns")) {
			api->log(RETISC_LOG_WARN,
				 "Use of '%s' in --skb-sections is depreacted: it is now a "
				 "collector",
				 v);
		} else {
			api->log(RETISC_LOG_ERROR, "Unknown skb_collect value (%s)", v);
			return -EINVAL;
		}
	}
	skb_sections = sections;
	return 0;
}

static const char *const known_types[] = {"struct sk_buff *", NULL};

static const struct retisc_hook_rodata hook_rodata[] = {
	{.name = "skb_sections", .value = &skb_sections, .size = sizeof(skb_sections)},
};

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	/* `packet` has no raw form: skb_decode() adds it. */
	struct retisc_section_desc secs[] = {
		{
			.sz = sizeof(secs[0]),
			.key = "skb",
			.rank = 80,
			.owner = RETISC_OWNER_SKB,
			.place = RETISC_PLACE_BODY,
			.decode = skb_decode,
			.format = skb_format,
			.encode = skb_encode,
		},
		{
			.sz = sizeof(secs[1]),
			.key = "packet",
			.rank = 70,
			.owner = -1,
			.place = RETISC_PLACE_BODY,
			.format = packet_format,
		},
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "skb_hook",
		.rodata = hook_rodata,
		.n_rodata = sizeof(hook_rodata) / sizeof(hook_rodata[0]),
	};
	/* Retis's option; its values are checked in collector_init(). */
	static const struct retisc_collector_opt opts[] = {
		{.name = "skb-sections",
		 .arg = "LIST",
		 .help = "extra skb sections: meta, dataref, gso, all (comma-separated)",
		 .flags = RETISC_OPT_REPEAT | RETISC_OPT_LIST},
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "skb",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.order = 20,
		.init = collector_init,
		.opts = opts,
		.n_opts = sizeof(opts) / sizeof(opts[0]),
	};

	api = a;
	hook.obj = skb_hook__elf_bytes(&hook.obj_sz);
	return retisc_plugin__register_collector(plugin, a, secs, sizeof(secs) / sizeof(secs[0]),
						 &col);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "skb",
	.version = "0.2.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
