// SPDX-License-Identifier: GPL-2.0-only
/*
 * The skb, dev and ns collector plugins as the core sees them: the built
 * build/plugins/{skb,dev,ns}.so (plus skb-tracking.so for whole events)
 * loaded into a real registry, their decoders fed hand-made raw sections
 * (plugins/skb/skb.h, plugins/dev/dev.h, plugins/ns/ns.h) and their
 * formatters JSON sections, checked against doc/events.md §4.7-§4.10 and the
 * §7 examples. Also the --skb-sections handling of the skb collector's
 * init() and the value it hands to the hook's rodata.
 *
 * JSON in this file is written with ' for " to stay readable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/types.h>

#include "plugtest.h"

#include <retisc/base64.h>
#include <retisc/event.h>
#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "btf_info.h"
#include "collect_env.h"
#include "collect.h"
#include "log.h"
#include "registry.h"
#include "render.h"

/* plugins/<name>/ are on the include path of the tests. */
#include "dev.h"
#include "ns.h"
#include "skb.h"

static struct retisc_registry *reg;

/* ' -> " */
static char *dq(const char *s)
{
	static char buf[8][4096];
	static int n;
	char *o = buf[n++ % 8];
	size_t i;

	assert_true(strlen(s) < sizeof(buf[0]));
	for (i = 0; s[i]; i++)
		o[i] = s[i] == '\'' ? '"' : s[i];
	o[i] = '\0';
	return o;
}

/* -------------------------------------------------------------------------
 * Fixtures.
 */

static int group_setup(void **state)
{
	static const char *const plugins[] = {"skb-tracking", "skb", "dev", "ns", NULL};

	(void)state;
	return plug_group_setup(&reg, plugins);
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	return 0;
}

/* -------------------------------------------------------------------------
 * Helpers.
 */

static const struct retisc_section *section(const char *key)
{
	const struct retisc_section *s = retisc_registry__section_by_key(reg, key);

	assert_non_null(s);
	return s;
}

/* Feed one raw section to the decoder of `owner` into ev; its return. */
static int feed(struct retisc_json *ev, int owner, uint8_t type, const void *data, size_t size)
{
	const struct retisc_section *s = retisc_registry__section_by_owner(reg, owner);

	int err;

	assert_non_null(s);
	assert_non_null(s->decode);
	err = s->decode(s->priv, ev, type, data, size);
	assert_section_encode_same(s, type, data, size, err, ev);
	return err;
}

static struct retisc_json *parse(const char *json)
{
	char err[128] = "";
	struct retisc_json *v = retisc_json__parse(json, strlen(json), err, sizeof(err));

	if (!v)
		fail_msg("bad test JSON (%s): %s", err, json);
	return v;
}

/* Text of section `key` rendered from JSON sec (' for "), or NULL on -EINVAL. */
static char *fmt_ex(const char *key, const char *sec, bool multiline, bool ll, int *ret)
{
	static struct retisc_strbuf out = RETISC_STRBUF_INIT;
	const struct retisc_section *s = section(key);
	struct retisc_json *v = parse(dq(sec));
	struct retisc_fmt f = {
		.sz = sizeof(f),
		.out = &out,
		.multiline = multiline,
		.link_layer = ll,
	};

	retisc_strbuf__reset(&out);
	*ret = s->format(s->priv, v, &f);
	retisc_json__free(v);
	return (char *)retisc_strbuf__str(&out);
}

/* Multi-line text of section `key` from sec, which must format. */
static char *fmt_ok(const char *key, const char *sec, bool ll)
{
	int ret;
	char *s = fmt_ex(key, sec, true, ll, &ret);

	if (ret)
		fail_msg("formatter of %s failed (%d) on %s", key, ret, sec);
	return s;
}

static char *fmt(const char *key, const char *sec)
{
	return fmt_ok(key, sec, false);
}

static char *fmt_ll(const char *key, const char *sec)
{
	return fmt_ok(key, sec, true);
}

static int fmt_err(const char *key, const char *sec)
{
	int ret;

	fmt_ex(key, sec, true, true, &ret);
	return ret;
}

/* doc/events.md §7 example 1 packet (ICMP echo request, 98 bytes). */
#define EX1_DATA                                                                                   \
	"+ly9jswBpsIRcVlFCABFAABUo/lAAEABG0nAqH0KwKh9CwgAQFpxTAAB7f3ZZwAAAACzHw0AAAAAABAREhMUFRYX" \
	"GBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc="
/* doc/events.md §7 example 3 packet (IPv6 TCP SYN, 94 bytes). */
#define EX3_DATA                                                                                   \
	"rrBKar+vnh09MZ47ht1gBvSKACgGQBERAAAAAAAAAAAAAAAAAAEREQAAAAAAAAAAAAAAAAAC22QAULIRwcAAAAAA" \
	"oAL9ICJTAAACBAWgBAIIClP9HoIAAAAAAQMDBw=="

static size_t unb64(const char *s, uint8_t *out, size_t cap)
{
	ssize_t n = retisc_base64__decode(s, strlen(s), out, cap);

	assert_true(n >= 0);
	return (size_t)n;
}

/* A raw packet section of `bytes` (trimmed to 8 + caplen like the hook). */
static size_t raw_packet(struct retisc_skb_packet *p, uint32_t len, const char *b64)
{
	memset(p, 0xaa, sizeof(*p));
	p->capture_len = (uint32_t)unb64(b64, p->packet, sizeof(p->packet));
	p->len = len;
	return offsetof(struct retisc_skb_packet, packet) + p->capture_len;
}

/* -------------------------------------------------------------------------
 * Registration.
 */

static void test_registered(void **state)
{
	struct retisc_collector *c;

	(void)state;
	assert_int_equal(section("packet")->rank, 70);
	assert_int_equal(section("packet")->owner, -1);
	assert_int_equal(section("skb")->rank, 80);
	assert_int_equal(section("skb")->owner, RETISC_OWNER_SKB);
	assert_int_equal(section("netns")->rank, 90);
	assert_int_equal(section("netns")->owner, RETISC_OWNER_NS);
	assert_int_equal(section("dev")->rank, 100);
	assert_int_equal(section("dev")->owner, RETISC_OWNER_DEV);
	assert_int_equal(section("dev")->place, RETISC_PLACE_BODY);

	c = retisc_registry__collector_by_name(reg, "skb");
	assert_non_null(c);
	assert_int_equal(c->order, 20);
	assert_int_equal(c->owner, RETISC_OWNER_SKB);
	assert_string_equal(c->known_types[0], "struct sk_buff *");
	assert_null(c->known_types[1]);
	assert_int_equal(c->n_hooks, 1);
	assert_null(c->hooks[0].target);
	assert_int_equal(c->hooks[0].n_rodata, 1);
	assert_string_equal(c->hooks[0].rodata[0].name, "skb_sections");
	assert_int_equal(c->hooks[0].rodata[0].size, sizeof(uint64_t));

	c = retisc_registry__collector_by_name(reg, "dev");
	assert_non_null(c);
	assert_int_equal(c->order, 70);
	assert_int_equal(c->owner, RETISC_OWNER_DEV);
	assert_string_equal(c->known_types[0], "struct net_device *");
	assert_string_equal(c->known_types[1], "struct sk_buff *");
	assert_null(c->known_types[2]);
	assert_null(c->hooks[0].target);

	c = retisc_registry__collector_by_name(reg, "ns");
	assert_non_null(c);
	assert_int_equal(c->order, 80);
	assert_int_equal(c->owner, RETISC_OWNER_NS);
	assert_string_equal(c->known_types[0], "struct net *");
	assert_string_equal(c->known_types[1], "struct sk_buff *");
	assert_string_equal(c->known_types[2], "struct net_device *");
	assert_null(c->known_types[3]);
}

/* -------------------------------------------------------------------------
 * --skb-sections (doc/cli.md §3.1, doc/collectors.md §3.1).
 */

/* Run the skb collector's init() with these values (NULL: option not
 * given); return its result and, on success, the hook's rodata value. */
static int skb_init(char **values, uint64_t *sections)
{
	struct retisc_collector *c = retisc_registry__collector_by_name(reg, "skb");
	struct {
		char *name;
		char **values;
	} opt = {(char *)"skb-sections", values};
	struct retisc_collect_env env = {};
	int err;

	env.n_opts = values ? 1 : 0;
	env.opts = (void *)&opt;
	assert_non_null(c->init);
	err = c->init(c->priv, &env);
	memcpy(sections, c->hooks[0].rodata[0].value, sizeof(*sections));
	return err;
}

#define B(t) (1ULL << (t))

static void test_skb_sections(void **state)
{
	char *none[] = {NULL};
	char *all[] = {"all", NULL};
	char *meta[] = {"meta", "eth", NULL};
	char *two[] = {"dataref", "gso", NULL};
	char *old[] = {"tcp", "packet", "dev", "meta", NULL};
	char *vlan[] = {"meta", "vlan", NULL};
	char *bogus[] = {"bogus", NULL};
	const uint64_t def = B(RETISC_SKB_PACKET) | B(RETISC_SKB_VLAN);
	uint64_t v;

	(void)state;
	assert_int_equal(skb_init(NULL, &v), 0);
	assert_int_equal(v, def);
	assert_int_equal(skb_init(none, &v), 0);
	assert_int_equal(v, def);
	assert_int_equal(skb_init(all, &v), 0);
	assert_int_equal(v, def | B(RETISC_SKB_META) | B(RETISC_SKB_DATA_REF) | B(RETISC_SKB_GSO));
	assert_int_equal(skb_init(meta, &v), 0);
	assert_int_equal(v, def | B(RETISC_SKB_META));
	assert_int_equal(skb_init(two, &v), 0);
	assert_int_equal(v, def | B(RETISC_SKB_DATA_REF) | B(RETISC_SKB_GSO));
	assert_string_equal(retisc_strbuf__str(&logs), "");

	/* Deprecated values: warned, ignored, the rest applies. */
	assert_int_equal(skb_init(old, &v), 0);
	assert_int_equal(v, def | B(RETISC_SKB_META));
	assert_non_null(strstr(retisc_strbuf__str(&logs),
			       "Use of 'tcp' in --skb-sections is depreacted\n"));
	assert_non_null(strstr(retisc_strbuf__str(&logs),
			       "Use of 'packet' in --skb-sections is depreacted\n"));
	assert_non_null(strstr(retisc_strbuf__str(&logs),
			       "Use of 'dev' in --skb-sections is depreacted: it is now a "
			       "collector\n"));

	/* vlan passes the parser but fails the collector (doc/cli.md §3.1). */
	retisc_strbuf__reset(&logs);
	assert_int_equal(skb_init(vlan, &v), -EINVAL);
	assert_non_null(strstr(retisc_strbuf__str(&logs), "Unknown skb_collect value (vlan)"));
	assert_int_equal(skb_init(bogus, &v), -EINVAL);
	assert_non_null(strstr(retisc_strbuf__str(&logs), "Unknown skb_collect value (bogus)"));

	/* Back to the default for the other tests. */
	assert_int_equal(skb_init(NULL, &v), 0);
}

/* -------------------------------------------------------------------------
 * packet (doc/events.md §4.7, doc/collectors.md §3.2).
 */

static void test_packet_decode(void **state)
{
	struct retisc_skb_packet p;
	struct retisc_json *ev = retisc_json__new_object();
	size_t sz = raw_packet(&p, 98, EX1_DATA);

	(void)state;
	assert_int_equal(sz, 8 + 98);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, sz), 0);
	assert_json(ev, dq("{'packet':{'len':98,'capture_len':98,'data':'" EX1_DATA "'}}"));
	retisc_json__free(ev);

	/* The untrimmed 264-byte form reads the same. */
	ev = retisc_json__new_object();
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, sizeof(p)), 0);
	assert_json(ev, dq("{'packet':{'len':98,'capture_len':98,'data':'" EX1_DATA "'}}"));
	retisc_json__free(ev);
}

static void test_packet_capture_limits(void **state)
{
	struct retisc_skb_packet p;
	struct retisc_json *ev = retisc_json__new_object();
	struct retisc_strbuf want = RETISC_STRBUF_INIT;

	(void)state;
	/* A 1500-byte packet: 255 bytes captured, len is the whole. */
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < 255; i++)
		p.packet[i] = (uint8_t)i;
	p.len = 1514;
	p.capture_len = 255;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, sizeof(p)), 0);
	retisc_strbuf__puts(&want, "{\"packet\":{\"len\":1514,\"capture_len\":255,\"data\":\"");
	retisc_base64__encode(&want, p.packet, 255);
	retisc_strbuf__puts(&want, "\"}}");
	assert_json(ev, retisc_strbuf__str(&want));
	retisc_json__free(ev);
	retisc_strbuf__release(&want);

	/* Nothing captured but the length is known. */
	ev = retisc_json__new_object();
	p.capture_len = 0;
	p.len = 0;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 8), 0);
	assert_json(ev, dq("{'packet':{'len':0,'capture_len':0,'data':''}}"));
	retisc_json__free(ev);

	/* Malformed: shorter than its header, capture past the section or
	 * past 255, capture longer than the packet. Nothing is added. */
	ev = retisc_json__new_object();
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 7), -EINVAL);
	p.capture_len = 20;
	p.len = 100;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 8 + 19), -EINVAL);
	p.capture_len = 256;
	p.len = 1000;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, sizeof(p)), -EINVAL);
	p.capture_len = 20;
	p.len = 19;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, sizeof(p)), -EINVAL);
	assert_json(ev, "{}");
	retisc_json__free(ev);
}

static void test_packet_format(void **state)
{
	(void)state;
	assert_string_equal(fmt("packet", "{'len':98,'capture_len':98,'data':'" EX1_DATA "'}"),
			    "192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
			    "len 84 proto ICMP (1) type 8 code 0");
	assert_string_equal(fmt_ll("packet", "{'len':98,'capture_len':98,'data':'" EX1_DATA "'}"),
			    "a6:c2:11:71:59:45 > fa:5c:bd:8e:cc:01 ethertype IPv4 (0x0800) "
			    "192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
			    "len 84 proto ICMP (1) type 8 code 0");
	assert_int_equal(fmt_err("packet", "{'len':98,'capture_len':98}"), -EINVAL);
	assert_int_equal(fmt_err("packet", "{'len':1,'capture_len':1,'data':'A'}"), -EINVAL);
}

/* -------------------------------------------------------------------------
 * skb (doc/events.md §4.8, doc/collectors.md §3.3).
 */

static const struct retisc_skb_meta ex1_meta = {
	.len = 98,
	.csum = 2770033380U,
	.priority = 0,
};
static const struct retisc_skb_data_ref ex1_dref = {.users = 1, .dataref = 1};

#define EX1_SKB                                                                                    \
	"{'meta':{'len':98,'data_len':0,'hash':0,'ip_summed':0,'csum':2770033380,"                 \
	"'csum_level':0,'priority':0},'data_ref':{'nohdr':false,'cloned':false,'fclone':0,"        \
	"'users':1,'dataref':1}}"
#define EX1_SKB_JSON "'skb':" EX1_SKB

static void test_skb_decode(void **state)
{
	struct retisc_skb_vlan vlan = {.proto = 0x8100, .pcp = 5, .dei = 1, .vid = 100};
	struct retisc_skb_gso gso = {
		.flags = 0x2,
		.nr_frags = 3,
		.gso_size = 1448,
		.gso_segs = 4,
		.gso_type = 0x11,
	};
	struct retisc_skb_data_ref dref = {
		.nohdr = 1, .cloned = 1, .fclone = 2, .users = 2, .dataref = 3};
	struct retisc_json *ev = retisc_json__new_object();

	(void)state;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_META, &ex1_meta, 28), 0);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &ex1_dref, 5), 0);
	assert_json(ev, dq("{" EX1_SKB_JSON "}"));
	retisc_json__free(ev);

	/* Whatever the arrival order, §4.8 order inside skb. */
	ev = retisc_json__new_object();
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_GSO, &gso, sizeof(gso)), 0);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &dref, sizeof(dref)), 0);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_VLAN, &vlan, sizeof(vlan)), 0);
	assert_json(ev, dq("{'skb':{'vlan_accel':{'proto':33024,'pcp':5,'dei':true,'vid':100},"
			   "'data_ref':{'nohdr':true,'cloned':true,'fclone':2,'users':2,"
			   "'dataref':3},'gso':{'flags':2,'frags':3,'size':1448,'segs':4,"
			   "'type':17}}}"));
	retisc_json__free(ev);

	/* Booleans are "== 1". */
	ev = retisc_json__new_object();
	vlan.dei = 2;
	dref.nohdr = 0;
	dref.cloned = 3;
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_VLAN, &vlan, sizeof(vlan)), 0);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &dref, sizeof(dref)), 0);
	assert_json(ev, dq("{'skb':{'vlan_accel':{'proto':33024,'pcp':5,'dei':false,'vid':100},"
			   "'data_ref':{'nohdr':false,'cloned':false,'fclone':2,'users':2,"
			   "'dataref':3}}}"));
	retisc_json__free(ev);

	/* Short sections and unknown data types are malformed; nothing added. */
	ev = retisc_json__new_object();
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_META, &ex1_meta, 27), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &dref, 4), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_VLAN, &vlan, 5), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, RETISC_SKB_GSO, &gso, 15), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, 0, &gso, sizeof(gso)), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_SKB, 6, &gso, sizeof(gso)), -EINVAL);
	assert_json(ev, "{}");
	retisc_json__free(ev);
}

#define META(ip_summed, csum, hash, data_len)                                                      \
	"{'meta':{'len':98,'data_len':" #data_len ",'hash':" #hash ",'ip_summed':" #ip_summed      \
	",'csum':" #csum ",'csum_level':1,'priority':7}}"
#define DREF "'data_ref':{'nohdr':false,'cloned':false,'fclone':0,'users':1,'dataref':1}"

static void test_skb_format(void **state)
{
	(void)state;
	/* doc/events.md §7 examples 1 and 2. */
	assert_string_equal(fmt("skb", EX1_SKB),
			    "skb [csum none len 98 priority 0 users 1 dataref 1]");
	assert_string_equal(fmt("skb",
				"{'meta':{'len':98,'data_len':0,'hash':2116835702,'ip_summed':0,"
				"'csum':2770033380,'csum_level':0,'priority':0}," DREF "}"),
			    "skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]");

	/* ip_summed variants. */
	assert_string_equal(fmt("skb", META(1, 0, 0, 0)),
			    "skb [csum unnecessary (level 1) len 98 priority 7]");
	assert_string_equal(fmt("skb", META(2, 2770033380, 0, 0)),
			    "skb [csum complete (0xa51b5ae4) len 98 priority 7]");
	assert_string_equal(fmt("skb", META(2, 0, 0, 0)),
			    "skb [csum complete (0x0) len 98 priority 7]");
	/* CHECKSUM_PARTIAL: csum_start 0x00ce = 206, csum_offset 0x10 = 16. */
	assert_string_equal(
		fmt("skb", META(3, 1048782, 0, 1400)),
		"skb [csum partial (start 206 off 16) len 98 data_len 1400 priority 7]");
	assert_string_equal(fmt("skb", META(4, 0, 1, 0)),
			    "skb [csum unknown (4) hash 0x1 len 98 priority 7]");

	/* data_ref only, with every flag. */
	assert_string_equal(fmt("skb", "{'data_ref':{'nohdr':true,'cloned':true,'fclone':2,"
				       "'users':3,'dataref':2}}"),
			    "skb [nohdr cloned fclone 2 users 3 dataref 2]");

	/* gso, alone and with skb. */
	assert_string_equal(fmt("skb", "{'gso':{'flags':0,'frags':0,'size':1448,'segs':0,"
				       "'type':1}}"),
			    "gso [type 0x1 size 1448]");
	assert_string_equal(fmt("skb", "{" DREF ",'gso':{'flags':2,'frags':3,'size':1448,"
				       "'segs':4,'type':17}}"),
			    "skb [users 1 dataref 1] gso [type 0x11 flags 0x2 frags 3 segs 4 "
			    "size 1448]");
}

static void test_skb_format_vlan(void **state)
{
	const char *v = "{'vlan_accel':{'proto':33024,'pcp':0,'dei':false,'vid':100}}";

	(void)state;
	/* Only with -e. */
	assert_string_equal(fmt("skb", v), "");
	assert_string_equal(fmt_ll("skb", v),
			    "vlan_accel (ethertype 802.1Q (0x8100) vlan 100 p 0)");
	assert_string_equal(
		fmt_ll("skb",
		       "{'vlan_accel':{'proto':34984,'pcp':6,'dei':true,'vid':4095}," DREF "}"),
		"vlan_accel (ethertype 802.1Q-QinQ (0x88a8) vlan 4095 p 6 DEI) skb [users 1 "
		"dataref 1]");
	/* An ethertype without a name (§6.7). */
	assert_string_equal(fmt_ll("skb", "{'vlan_accel':{'proto':4660,'pcp':1,'dei':false,"
					  "'vid':1}}"),
			    "vlan_accel (ethertype (0x1234) vlan 1 p 1)");
	assert_string_equal(
		fmt("skb", "{'vlan_accel':{'proto':33024,'pcp':0,'dei':false,'vid':1}," DREF "}"),
		"skb [users 1 dataref 1]");
}

static void test_skb_format_tolerance(void **state)
{
	(void)state;
	/* Retis writes an empty skb back; unknown keys are ignored. */
	assert_string_equal(fmt("skb", "{}"), "");
	assert_string_equal(fmt("skb", "{'future':{'x':1}," DREF "}"), "skb [users 1 dataref 1]");
	/* Mandatory keys. */
	assert_int_equal(fmt_err("skb", "{'meta':{'len':98}}"), -EINVAL);
	assert_int_equal(fmt_err("skb", "{'data_ref':{'nohdr':false,'cloned':false,'fclone':0,"
					"'users':1}}"),
			 -EINVAL);
	assert_int_equal(fmt_err("skb", "{'gso':{'flags':0,'frags':0,'size':1,'segs':0}}"),
			 -EINVAL);
	assert_int_equal(fmt_err("skb", "{'vlan_accel':{'proto':33024,'pcp':0,'vid':1}}"), -EINVAL);
	assert_int_equal(fmt_err("skb", "{'vlan_accel':{'proto':65536,'pcp':0,'dei':false,"
					"'vid':1}}"),
			 -EINVAL);
}

/* -------------------------------------------------------------------------
 * netns and dev (doc/events.md §4.9, §4.10, doc/collectors.md §5).
 */

static void test_netns(void **state)
{
	struct retisc_ns_raw n = {.cookie = 3, .inum = 4026532741U, .has_cookie = 1};
	struct retisc_json *ev = retisc_json__new_object();

	(void)state;
	assert_int_equal(feed(ev, RETISC_OWNER_NS, RETISC_NS_TYPE, &n, sizeof(n)), 0);
	assert_json(ev, dq("{'netns':{'cookie':3,'inum':4026532741}}"));
	retisc_json__free(ev);

	/* A kernel without net_cookie: no cookie key (example 3). */
	ev = retisc_json__new_object();
	n.has_cookie = 0;
	n.cookie = 0;
	n.inum = 4026532761U;
	assert_int_equal(feed(ev, RETISC_OWNER_NS, RETISC_NS_TYPE, &n, sizeof(n)), 0);
	assert_json(ev, dq("{'netns':{'inum':4026532761}}"));
	/* Cookie 0 of a kernel that has the field is written. */
	n.has_cookie = 1;
	assert_int_equal(feed(ev, RETISC_OWNER_NS, RETISC_NS_TYPE, &n, sizeof(n)), 0);
	assert_json(ev, dq("{'netns':{'cookie':0,'inum':4026532761}}"));
	retisc_json__free(ev);

	ev = retisc_json__new_object();
	assert_int_equal(feed(ev, RETISC_OWNER_NS, RETISC_NS_TYPE, &n, 15), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_NS, 1, &n, sizeof(n)), -EINVAL);
	assert_json(ev, "{}");
	retisc_json__free(ev);

	assert_string_equal(fmt("netns", "{'cookie':3,'inum':4026532741}"), "ns 0x3/4026532741");
	assert_string_equal(fmt("netns", "{'cookie':1,'inum':4026531840}"), "ns 0x1/4026531840");
	assert_string_equal(fmt("netns", "{'cookie':0,'inum':5}"), "ns 0x0/5");
	assert_string_equal(fmt("netns", "{'inum':4026532761}"), "ns 4026532761");
	assert_int_equal(fmt_err("netns", "{'cookie':3}"), -EINVAL);
}

static void dev_raw(struct retisc_dev_raw *d, const char *name, size_t n, uint32_t ifindex,
		    uint32_t iif)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->dev_name, name, n);
	d->ifindex = ifindex;
	d->iif = iif;
}

static void check_dev(const struct retisc_dev_raw *d, const char *want)
{
	struct retisc_json *ev = retisc_json__new_object();

	assert_int_equal(feed(ev, RETISC_OWNER_DEV, RETISC_DEV_TYPE, d, sizeof(*d)), 0);
	assert_json(ev, dq(want));
	retisc_json__free(ev);
}

static void test_dev_decode(void **state)
{
	struct retisc_dev_raw d;
	struct retisc_json *ev;

	(void)state;
	dev_raw(&d, "veth-ns01", 9, 11, 0);
	check_dev(&d, "{'dev':{'name':'veth-ns01','ifindex':11}}");
	dev_raw(&d, "veth10", 6, 3, 3);
	check_dev(&d, "{'dev':{'name':'veth10','ifindex':3,'rx_ifindex':3}}");
	/* skb_iif is an int: negative is no index. */
	dev_raw(&d, "veth10", 6, 3, 0xffffffffU);
	check_dev(&d, "{'dev':{'name':'veth10','ifindex':3}}");
	/* A full 16-byte name without NUL; then a rename's leftover after it. */
	dev_raw(&d, "abcdefghijklmnop", 16, 7, 0);
	check_dev(&d, "{'dev':{'name':'abcdefghijklmnop','ifindex':7}}");
	dev_raw(&d, "eth0\0ld-longname", 16, 2, 0);
	check_dev(&d, "{'dev':{'name':'eth0','ifindex':2}}");
	/* UTF-8 names are names; an empty one too. */
	dev_raw(&d, "v\xc3\xa9th", 5, 4, 0);
	check_dev(&d, "{'dev':{'name':'v\xc3\xa9th','ifindex':4}}");
	dev_raw(&d, "", 0, 4, 0);
	check_dev(&d, "{'dev':{'name':'','ifindex':4}}");

	/* Not UTF-8 (bad byte, truncated sequence, overlong, surrogate):
	 * no section, and not an error. */
	ev = retisc_json__new_object();
	dev_raw(&d, "eth\xff", 4, 2, 0);
	assert_int_equal(feed(ev, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &d, sizeof(d)), 0);
	dev_raw(&d, "eth\xc3", 4, 2, 0);
	assert_int_equal(feed(ev, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &d, sizeof(d)), 0);
	dev_raw(&d, "\xc0\xaf", 2, 2, 0);
	assert_int_equal(feed(ev, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &d, sizeof(d)), 0);
	dev_raw(&d, "\xed\xa0\x80", 3, 2, 0);
	assert_int_equal(feed(ev, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &d, sizeof(d)), 0);
	assert_json(ev, "{}");
	/* Malformed. */
	dev_raw(&d, "eth0", 4, 2, 0);
	assert_int_equal(feed(ev, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &d, sizeof(d) - 1), -EINVAL);
	assert_int_equal(feed(ev, RETISC_OWNER_DEV, 0, &d, sizeof(d)), -EINVAL);
	assert_json(ev, "{}");
	retisc_json__free(ev);
}

static void test_dev_format(void **state)
{
	(void)state;
	assert_string_equal(fmt("dev", "{'name':'veth-ns01','ifindex':11}"), "if 11 (veth-ns01)");
	assert_string_equal(fmt("dev", "{'name':'veth-ns01-ovs','ifindex':10,'rx_ifindex':10}"),
			    "if 10 (veth-ns01-ovs) rxif 10");
	assert_string_equal(fmt("dev", "{'name':'','ifindex':4,'rx_ifindex':2}"), "if 4 rxif 2");
	assert_int_equal(fmt_err("dev", "{'name':'x'}"), -EINVAL);
	assert_int_equal(fmt_err("dev", "{'ifindex':1}"), -EINVAL);
}

/* -------------------------------------------------------------------------
 * Whole events: raw record -> JSON -> text (doc/events.md §2, §5, §7).
 */

static const char *symbol_of(void *priv, uint32_t probe_id)
{
	static const char *const table[] = {"net:net_dev_start_xmit", "ovs_dp_upcall",
					    "skb:kfree_skb"};

	(void)priv;
	return probe_id < 3 ? table[probe_id] : NULL;
}

static char *render(const struct retisc_json *ev, bool multiline, bool ll, bool utc)
{
	static struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_render_opts o = {.multiline = multiline, .link_layer = ll, .utc = utc};
	struct retisc_renderer r;

	retisc_renderer__init(&r, reg, &o);
	retisc_renderer__set_offset(&r, 1742309146, 691042000);
	retisc_strbuf__reset(&out);
	assert_int_equal(retisc_renderer__event(&r, ev, 0, NULL, &out), 0);
	return (char *)retisc_strbuf__str(&out);
}

#define EX1_JSON                                                                                   \
	"{'common':{'timestamp':30419169061793,'smp_id':6,'task':{'pid':11330,'tgid':11330,"       \
	"'comm':'ping'}},'kernel':{'symbol':'net:net_dev_start_xmit','probe_type':"                \
	"'raw_tracepoint'},'skb-tracking':{'orig_head':18446619372617628672,'timestamp':"          \
	"30419169061793,'skb':18446619372874141952},'packet':{'len':98,'capture_len':98,"          \
	"'data':'" EX1_DATA "'}," EX1_SKB_JSON ",'netns':{'cookie':3,'inum':4026532741},"          \
	"'dev':{'name':'veth-ns01','ifindex':11}}"

/* Example 1 as the hooks write it (collector order: skb-tracking, skb, dev,
 * ns), without its ct section. */
static void test_example1(void **state)
{
	struct retisc_raw_skb_tracking trk = {
		.orig_head = 18446619372617628672ULL,
		.timestamp = 30419169061793ULL,
		.skb = 18446619372874141952ULL,
	};
	struct retisc_ns_raw ns = {.cookie = 3, .inum = 4026532741U, .has_cookie = 1};
	struct retisc_decode_ctx dc = {.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	struct retisc_skb_packet p;
	struct retisc_dev_raw dev;
	struct rawbuf r = {};
	struct retisc_json *ev;

	(void)state;
	raw_put_probe(&r, 30419169061793ULL, 6, (11330ULL << 32) | 11330, "ping", 0,
		      RETISC_PROBE_RAW_TP);
	raw_put(&r, RETISC_OWNER_SKB_TRACKING, 1, &trk, sizeof(trk));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, raw_packet(&p, 98, EX1_DATA));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_META, &ex1_meta, sizeof(ex1_meta));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &ex1_dref, sizeof(ex1_dref));
	dev_raw(&dev, "veth-ns01", 9, 11, 0);
	raw_put(&r, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &dev, sizeof(dev));
	raw_put(&r, RETISC_OWNER_NS, RETISC_NS_TYPE, &ns, sizeof(ns));

	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_non_null(ev);
	assert_int_equal(dc.malformed, 0);
	assert_json(ev, dq(EX1_JSON));
	assert_encode_same(&dc, r.b, r.len, ev);

	assert_string_equal(render(ev, true, false, false),
			    "30419169061793 (6) [ping] 11330 [tp] net:net_dev_start_xmit "
			    "#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)\n"
			    "  192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
			    "len 84 proto ICMP (1) type 8 code 0\n"
			    "  ns 0x3/4026532741 if 11 (veth-ns01)\n"
			    "  skb [csum none len 98 priority 0 users 1 dataref 1]");
	assert_string_equal(render(ev, false, true, true),
			    "2025-03-18 23:12:45.860103 (6) [ping] 11330 [tp] "
			    "net:net_dev_start_xmit #1baa83c42ba1ffff8e95c3b67c00 "
			    "(skb ffff8e95d3009100) a6:c2:11:71:59:45 > fa:5c:bd:8e:cc:01 "
			    "ethertype IPv4 (0x0800) 192.168.125.10 > 192.168.125.11 tos 0x0 ttl "
			    "64 id 41977 off 0 [DF] len 84 proto ICMP (1) type 8 code 0 "
			    "ns 0x3/4026532741 if 11 (veth-ns01) skb [csum none len 98 priority 0 "
			    "users 1 dataref 1]");
	retisc_json__free(ev);
}

/* Example 2 (read from JSON), without its ovs section: rx_ifindex. */
static void test_example2(void **state)
{
	struct retisc_json *ev = parse(dq(
		"{'common':{'timestamp':30419169125909,'smp_id':6,'task':{'pid':11330,'tgid':11330,"
		"'comm':'ping'}},'kernel':{'symbol':'ovs_dp_upcall','probe_type':'kretprobe'},"
		"'skb-tracking':{'orig_head':18446619372617628672,'timestamp':30419169061793,"
		"'skb':18446619372874141952},'packet':{'len':98,'capture_len':98,'data':'" EX1_DATA
		"'},'skb':{'meta':{'len':98,'data_len':0,'hash':2116835702,'ip_summed':0,"
		"'csum':2770033380,'csum_level':0,'priority':0},'data_ref':{'nohdr':false,"
		"'cloned':false,'fclone':0,'users':1,'dataref':1}},'netns':{'cookie':1,"
		"'inum':4026531840},'dev':{'name':'veth-ns01-ovs','ifindex':10,'rx_ifindex':10}}"));

	(void)state;
	assert_string_equal(
		render(ev, true, false, false),
		"30419169125909 (6) [ping] 11330 [kr] ovs_dp_upcall "
		"#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)\n"
		"  192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
		"len 84 proto ICMP (1) type 8 code 0\n"
		"  ns 0x1/4026531840 if 10 (veth-ns01-ovs) rxif 10\n"
		"  skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]");
	retisc_json__free(ev);
}

/* Example 3 (decoded from raw), without its skb-drop section: no cookie,
 * no skb key (packet only), the stack before the packet. */
static void test_example3(void **state)
{
	struct retisc_ns_raw ns = {.inum = 4026532761U};
	struct retisc_decode_ctx dc = {.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	struct retisc_skb_packet p;
	struct retisc_dev_raw dev;
	struct rawbuf r = {};
	struct retisc_json *ev, *stack;

	(void)state;
	raw_put_probe(&r, 4152973315243ULL, 2, (14839ULL << 32) | 14839, "nc", 2,
		      RETISC_PROBE_RAW_TP);
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, raw_packet(&p, 94, EX3_DATA));
	dev_raw(&dev, "veth10", 6, 3, 3);
	raw_put(&r, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &dev, sizeof(dev));
	raw_put(&r, RETISC_OWNER_NS, RETISC_NS_TYPE, &ns, sizeof(ns));
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_non_null(ev);
	assert_json(ev, dq("{'common':{'timestamp':4152973315243,'smp_id':2,'task':{'pid':14839,"
			   "'tgid':14839,'comm':'nc'}},'kernel':{'symbol':'skb:kfree_skb',"
			   "'probe_type':'raw_tracepoint'},'packet':{'len':94,'capture_len':94,"
			   "'data':'" EX3_DATA "'},'netns':{'inum':4026532761},'dev':{'name':"
			   "'veth10','ifindex':3,'rx_ifindex':3}}"));

	/* With the example's tracking id and stack (core sections). */
	assert_int_equal(retisc_json__obj_set(ev, "skb-tracking",
					      parse(dq("{'orig_head':18446620263873328896,"
						       "'timestamp':4152973315001,"
						       "'skb':18446620276943748352}"))),
			 0);
	stack = parse(dq("['kfree_skb_reason+0x8f','tcp_v6_rcv+0x77',"
			 "'ip6_protocol_deliver_rcu+0x6b']"));
	assert_int_equal(
		retisc_json__obj_set(retisc_json__obj_get(ev, "kernel"), "stack_trace", stack), 0);
	assert_int_equal(retisc_event__sort_sections(reg, ev), 0);
	assert_string_equal(
		render(ev, true, false, false),
		"4152973315243 (2) [nc] 14839 [tp] skb:kfree_skb "
		"#3c6f07fcbb9ffff8f6546b13700 (skb ffff8f6851bffd00)\n"
		"    kfree_skb_reason+0x8f\n"
		"    tcp_v6_rcv+0x77\n"
		"    ip6_protocol_deliver_rcu+0x6b\n"
		"  1111::1.56164 > 1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) "
		"flags [S] seq 2987508160 win 64800 [mss 1440,sackOK,TS val 1409097346 "
		"ecr 0,nop,wscale 7]\n"
		"  ns 4026532761 if 3 (veth10) rxif 3");
	assert_string_equal(
		render(ev, false, false, false),
		"4152973315243 (2) [nc] 14839 [tp] skb:kfree_skb "
		"#3c6f07fcbb9ffff8f6546b13700 (skb ffff8f6851bffd00) "
		"[kfree_skb_reason+0x8f, tcp_v6_rcv+0x77, ip6_protocol_deliver_rcu+0x6b] "
		"1111::1.56164 > 1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) "
		"flags [S] seq 2987508160 win 64800 [mss 1440,sackOK,TS val 1409097346 "
		"ecr 0,nop,wscale 7] ns 4026532761 if 3 (veth10) rxif 3");
	retisc_json__free(ev);
}

/* A synthetic Ethernet header (no MAC header, doc/collectors.md §3.2) and a dev
 * line without netns: dev gets its own line. */
static void test_synthetic_eth(void **state)
{
	static const uint8_t ip[] = {
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0xc9,
		0x00, 0x01, 0x0a, 0xc9, 0x00, 0x02, 0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
	};
	struct retisc_decode_ctx dc = {.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	struct retisc_skb_packet p = {.len = 14 + sizeof(ip), .capture_len = 14 + sizeof(ip)};
	struct retisc_dev_raw dev;
	struct rawbuf r = {};
	struct retisc_json *ev;

	(void)state;
	p.packet[12] = 0x08;
	memcpy(p.packet + 14, ip, sizeof(ip));
	raw_put_probe(&r, 1, 0, (1ULL << 32) | 1, "x", 0, RETISC_PROBE_RAW_TP);
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 8 + p.capture_len);
	dev_raw(&dev, "lo", 2, 1, 0);
	raw_put(&r, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &dev, sizeof(dev));
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_non_null(ev);
	assert_string_equal(render(ev, true, true, false),
			    "1 (0) [x] 1 [tp] net:net_dev_start_xmit\n"
			    "  00:00:00:00:00:00 > 00:00:00:00:00:00 ethertype IPv4 (0x0800) "
			    "10.201.0.1.12345 > 10.201.0.2.53 tos 0x0 ttl 64 id 1 off 0 len 28 "
			    "proto UDP (17) len 0\n"
			    "  if 1 (lo)");
	retisc_json__free(ev);
}

/*
 * The direct path (doc/architecture.md §4.3) writes skb-tracking, packet
 * and every sub-object of skb, in any arrival order, as the tree path
 * does; a repeated sub-object, a malformed packet and a dev section
 * without a name go to the tree path.
 */
static void test_direct_path(void **state)
{
	struct retisc_raw_skb_tracking trk = {.orig_head = 0xffff8e95c3b67c00ULL,
					      .timestamp = 30419169061793ULL,
					      .skb = 0xffff8e95d3009100ULL};
	struct retisc_skb_vlan vlan = {.proto = 0x8100, .pcp = 5, .dei = 2, .vid = 100};
	struct retisc_skb_gso gso = {.flags = 2, .nr_frags = 3, .gso_size = 1448, .gso_segs = 4};
	struct retisc_skb_data_ref dref = {.nohdr = 1, .cloned = 3, .users = 2, .dataref = 3};
	struct retisc_decode_ctx dc = {.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	struct retisc_skb_packet p;
	struct retisc_dev_raw dev;
	struct rawbuf r = {}, r0 = {};
	struct retisc_json *ev;
	size_t base;

	(void)state;
	raw_put_probe(&r, 30419169061793ULL, 6, (11330ULL << 32) | 11330, "ping", 0,
		      RETISC_PROBE_RAW_TP);
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_GSO, &gso, sizeof(gso));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_META, &ex1_meta, sizeof(ex1_meta));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, raw_packet(&p, 98, EX1_DATA));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &dref, sizeof(dref));
	raw_put(&r, RETISC_OWNER_SKB_TRACKING, 1, &trk, sizeof(trk));
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_VLAN, &vlan, sizeof(vlan));
	base = r.len;
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_non_null(ev);
	assert_int_equal(assert_encode_same(&dc, r.b, r.len, ev), 0);
	retisc_json__free(ev);

	/* A packet of 0 bytes captured. */
	raw_put_probe(&r0, 1, 0, 1, "x", 0, RETISC_PROBE_RAW_TP);
	raw_packet(&p, 98, EX1_DATA);
	p.capture_len = 0;
	raw_put(&r0, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 8);
	ev = retisc_event__decode(&dc, r0.b, r0.len);
	assert_non_null(ev);
	assert_int_equal(assert_encode_same(&dc, r0.b, r0.len, ev), 0);
	retisc_json__free(ev);

	/* A repeated sub-object; a malformed packet; a dev section. */
	r.len = base;
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_VLAN, &vlan, sizeof(vlan));
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_int_equal(assert_encode_same(&dc, r.b, r.len, ev), -EAGAIN);
	retisc_json__free(ev);
	r.len = base;
	raw_packet(&p, 10, EX1_DATA);
	raw_put(&r, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 8 + 98);
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_int_equal(assert_encode_same(&dc, r.b, r.len, ev), -EAGAIN);
	retisc_json__free(ev);
	/* dev: a name, and what is no name (no section). */
	r.len = base;
	dev_raw(&dev, "lo", 2, 1, 0);
	raw_put(&r, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &dev, sizeof(dev));
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_int_equal(assert_encode_same(&dc, r.b, r.len, ev), 0);
	retisc_json__free(ev);
	r.len = base;
	dev_raw(&dev, "eth\xff", 4, 1, 0);
	raw_put(&r, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &dev, sizeof(dev));
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_int_equal(assert_encode_same(&dc, r.b, r.len, ev), -EAGAIN);
	retisc_json__free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registered, plug_setup),
		cmocka_unit_test_setup(test_skb_sections, plug_setup),
		cmocka_unit_test_setup(test_packet_decode, plug_setup),
		cmocka_unit_test_setup(test_packet_capture_limits, plug_setup),
		cmocka_unit_test_setup(test_packet_format, plug_setup),
		cmocka_unit_test_setup(test_skb_decode, plug_setup),
		cmocka_unit_test_setup(test_skb_format, plug_setup),
		cmocka_unit_test_setup(test_skb_format_vlan, plug_setup),
		cmocka_unit_test_setup(test_skb_format_tolerance, plug_setup),
		cmocka_unit_test_setup(test_netns, plug_setup),
		cmocka_unit_test_setup(test_dev_decode, plug_setup),
		cmocka_unit_test_setup(test_dev_format, plug_setup),
		cmocka_unit_test_setup(test_example1, plug_setup),
		cmocka_unit_test_setup(test_example2, plug_setup),
		cmocka_unit_test_setup(test_example3, plug_setup),
		cmocka_unit_test_setup(test_synthetic_eth, plug_setup),
		cmocka_unit_test_setup(test_direct_path, plug_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
