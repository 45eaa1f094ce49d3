// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb-tracking collector plugin: one generic hook, the `skb-tracking`
 * section (doc/events.md §4.4) and its text.
 */
#include <errno.h>
#include <string.h>

#include <retisc/event.h>
#include <retisc/json_text.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "plugins/skb-tracking/skb_tracking_hook.skel.h"

static const struct retisc_api *api;

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_raw_skb_tracking raw = {};
	struct retisc_json *s;
	int err;

	(void)priv;
	(void)type; /* doc/tracking.md §8: the data type is ignored */
	/* 24 bytes from Retis's layout; `lost` is retisc's addition. */
	if (size < 24)
		return -EINVAL;
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	s = api->json_new_object();
	if (!s)
		return -ENOMEM;
	err = retisc_api__put_u64(api, s, "orig_head", raw.orig_head) ?:
	      retisc_api__put_u64(api, s, "timestamp", raw.timestamp) ?:
	      retisc_api__put_u64(api, s, "skb", raw.skb);
	if (!err && raw.lost)
		err = retisc_api__put_u64(api, s, "lost", raw.lost);
	return retisc_api__put_section(api, event, "skb-tracking", s, err);
}

/* decode()'s section as text (plugin.h, encode). */
static int encode(void *priv, uint8_t type, const void *data, size_t size,
		  struct retisc_json_piece *p)
{
	struct retisc_raw_skb_tracking raw = {};
	struct retisc_strbuf *sb = p->text;

	(void)priv;
	(void)type;
	if (size < 24)
		return -EINVAL;
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	p->key = "skb-tracking";
	return retisc_strbuf__putc(sb, '{')
	       ?: retisc_json_text__key_u64(sb, "orig_head", true, raw.orig_head)
	       ?: retisc_json_text__key_u64(sb, "timestamp", false, raw.timestamp)
	       ?: retisc_json_text__key_u64(sb, "skb", false, raw.skb)
	       ?: (raw.lost ? retisc_json_text__key_u64(sb, "lost", false, raw.lost) : 0)
	       ?: retisc_strbuf__putc(sb, '}');
}

/*
 * pre, then v in base 10 or 16 (lower case) with at least width digits
 * (zero-padded), then post: the text of printf's %llu / %0*llx. Every
 * event of a tracked packet comes through here, and vsnprintf()'s setup
 * costs more than the formatting (print's hot path, doc/processing.md §1.1).
 */
/* Always inlined: the strlen() of the constant strings callers pass folds away. */
static inline __attribute__((always_inline)) int put_num(struct retisc_strbuf *out, const char *pre,
							 uint64_t v, unsigned int base,
							 unsigned int width, const char *post)
{
	return retisc_strbuf__puts(out, pre) ?: retisc_strbuf__put_num(out, v, base, width) ?:
		       retisc_strbuf__puts(out, post);
}

/* doc/events.md §4.4: #{id:x} (skb {skb:x}) */
static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint64_t head, ts, skb, lost = 0;
	int err;

	(void)priv;
	if (!retisc_api__get_u64(api, sec, "orig_head", &head) ||
	    !retisc_api__get_u64(api, sec, "timestamp", &ts) ||
	    !retisc_api__get_u64(api, sec, "skb", &skb))
		return -EINVAL;
	if (ts)
		err = put_num(f->out, "#", ts, 16, 0, "") ?: put_num(f->out, "", head, 16, 16, "");
	else
		err = put_num(f->out, "#", head, 16, 0, "");
	err = err ?: put_num(f->out, " (skb ", skb, 16, 0, ")");
	/* retisc: events of this packet lost just before this one. */
	if (!err && retisc_api__get_u64(api, sec, "lost", &lost) && lost)
		err = put_num(f->out, " [", lost, 10, 0, " lost]");
	return err;
}

static const char *const known_types[] = {"struct sk_buff *", NULL};

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "skb-tracking",
		.rank = 50,
		.owner = RETISC_OWNER_SKB_TRACKING,
		.place = RETISC_PLACE_FIRST_LINE,
		.decode = decode,
		.format = format,
		.encode = encode,
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "skb_tracking_hook",
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "skb-tracking",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.order = 10,
	};

	api = a;
	hook.obj = skb_tracking_hook__elf_bytes(&hook.obj_sz);
	return retisc_plugin__register_collector(plugin, a, &sec, 1, &col);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "skb-tracking",
	.version = "0.1.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
