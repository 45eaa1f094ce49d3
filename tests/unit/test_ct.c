// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ct collector plugin as the core sees it: the built build/plugins/ct.so
 * (plus skb-tracking, skb, dev and ns for whole events) loaded into a real
 * registry, its decoder fed hand-made raw sections (plugins/ct/ct.h) and
 * its formatter JSON sections, checked against doc/collectors.md §6,
 * doc/events.md §4.14 and the §7 example 1. Also its can-run rules on kernel
 * configurations written here, and the shared IPv6 text form (§6.8).
 *
 * JSON in this file is written with ' for " to stay readable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>

#include "testutil.h"

#include <retisc/base64.h>
#include <retisc/event.h>
#include <retisc/inet_fmt.h>
#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "btf_info.h"
#include "collect_env.h"
#include "collect.h"
#include "log.h"
#include "registry.h"
#include "render.h"
#include "trust.h"

/* plugins/<name>/ are on the include path of the tests. */
#include "ct.h"
#include "dev.h"
#include "ns.h"
#include "skb.h"

static struct retisc_registry *reg;
static struct retisc_strbuf logs = RETISC_STRBUF_INIT;

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

/* Root refuses plugins writable by others (core/host/trust.h): relax the check
 * only when the build tree would fail it (CI trees are root-owned 0755). */
static bool perms_safe(const char *path)
{
	char dir[PATH_MAX], why[160];
	struct stat st;

	retisc_trust__dirname(path, dir, sizeof(dir));
	return !stat(path, &st) && !retisc_trust__check(&st, false, why, sizeof(why)) &&
	       !stat(dir, &st) && !retisc_trust__check(&st, true, why, sizeof(why));
}

static int load(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/plugins/%s.so", build_dir(), name);
	if (!perms_safe(path))
		retisc_registry__set_strict_perms(reg, false);
	return retisc_registry__load_file(reg, path);
}

static int group_setup(void **state)
{
	(void)state;
	retisc_log__set_sink(log_capture, &logs);
	reg = retisc_registry__new();
	if (!reg)
		return -1;
	if (load("skb-tracking") || load("skb") || load("dev") || load("ns") || load("ct")) {
		fprintf(stderr, "%s", retisc_strbuf__str(&logs));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	retisc_registry__free(reg);
	retisc_log__set_sink(NULL, NULL);
	retisc_strbuf__release(&logs);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	retisc_strbuf__reset(&logs);
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

static void assert_json(const struct retisc_json *v, const char *want)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	assert_int_equal(retisc_json__dump(v, &sb), 0);
	if (strcmp(retisc_strbuf__str(&sb), want))
		fail_msg("JSON\n got: %s\nwant: %s", retisc_strbuf__str(&sb), want);
	retisc_strbuf__release(&sb);
}

static struct retisc_json *parse(const char *json)
{
	char err[128] = "";
	struct retisc_json *v = retisc_json__parse(json, strlen(json), err, sizeof(err));

	if (!v)
		fail_msg("bad test JSON (%s): %s", err, json);
	return v;
}

/* Feed one raw ct section into ev; the decoder's return. */
static int feed(struct retisc_json *ev, uint8_t type, const void *data, size_t size)
{
	const struct retisc_section *s = retisc_registry__section_by_owner(reg, RETISC_OWNER_CT);

	assert_non_null(s);
	assert_non_null(s->decode);
	return s->decode(s->priv, ev, type, data, size);
}

static int feed_meta(struct retisc_json *ev, uint8_t state)
{
	struct retisc_ct_meta m = {.state = state};

	return feed(ev, RETISC_CT_META, &m, sizeof(m));
}

/* The hook's order: base, parent (when given), meta; all must succeed. */
static struct retisc_json *decode_ct(const struct retisc_ct_conn *base,
				     const struct retisc_ct_conn *parent, uint8_t state)
{
	struct retisc_json *ev = retisc_json__new_object();

	assert_int_equal(feed(ev, RETISC_CT_BASE, base, sizeof(*base)), 0);
	if (parent)
		assert_int_equal(feed(ev, RETISC_CT_PARENT, parent, sizeof(*parent)), 0);
	assert_int_equal(feed_meta(ev, state), 0);
	return ev;
}

/* Text of a ct JSON section (' for "), or the formatter's error in *ret. */
static char *fmt_ex(const char *sec, bool multiline, int *ret)
{
	static struct retisc_strbuf out = RETISC_STRBUF_INIT;
	const struct retisc_section *s = section("ct");
	struct retisc_json *v = parse(dq(sec));
	struct retisc_fmt f = {.sz = sizeof(f), .out = &out, .multiline = multiline};

	retisc_strbuf__reset(&out);
	*ret = s->format(s->priv, v, &f);
	retisc_json__free(v);
	return (char *)retisc_strbuf__str(&out);
}

static char *fmt_ml(const char *sec, bool multiline)
{
	int ret;
	char *s = fmt_ex(sec, multiline, &ret);

	if (ret)
		fail_msg("ct formatter failed (%d) on %s", ret, sec);
	return s;
}

static char *fmt(const char *sec)
{
	return fmt_ml(sec, true);
}

static int fmt_err(const char *sec)
{
	int ret;
	char *s = fmt_ex(sec, true, &ret);

	/* A failing formatter writes nothing. */
	assert_string_equal(s, "");
	return ret;
}

/* Text of the decoded ct section of ev. */
static char *fmt_of(const struct retisc_json *ev, bool multiline)
{
	static struct retisc_strbuf out = RETISC_STRBUF_INIT;
	const struct retisc_section *s = section("ct");
	struct retisc_fmt f = {.sz = sizeof(f), .out = &out, .multiline = multiline};

	retisc_strbuf__reset(&out);
	assert_int_equal(s->format(s->priv, retisc_json__obj_get(ev, "ct"), &f), 0);
	return (char *)retisc_strbuf__str(&out);
}

/* A connection as the hook writes it: zeroed, then the fields read. */
static void conn(struct retisc_ct_conn *c, uint32_t flags, const char *osrc, const char *odst,
		 const char *rsrc, const char *rdst)
{
	int af = flags & RETISC_CT_IPV6 ? AF_INET6 : AF_INET;

	memset(c, 0, sizeof(*c));
	c->flags = flags;
	assert_int_equal(inet_pton(af, osrc, &c->orig.src.addr), 1);
	assert_int_equal(inet_pton(af, odst, &c->orig.dst.addr), 1);
	assert_int_equal(inet_pton(af, rsrc, &c->reply.src.addr), 1);
	assert_int_equal(inet_pton(af, rdst, &c->reply.dst.addr), 1);
}

/* Ports as the kernel stores them (network order). */
static void ports(struct retisc_ct_conn *c, uint16_t osport, uint16_t odport, uint16_t rsport,
		  uint16_t rdport)
{
	c->orig.src.data = htons(osport);
	c->orig.dst.data = htons(odport);
	c->reply.src.data = htons(rsport);
	c->reply.dst.data = htons(rdport);
}

/* ICMP: the id in network order, type << 8 | code in host order. */
static void icmp(struct retisc_ct_tuple *t, uint8_t type, uint8_t code, uint16_t id)
{
	t->src.data = htons(id);
	t->dst.data = (uint16_t)(type << 8 | code);
}

#define DEFAULT_ZONE (RETISC_CT_DIR_ORIG | RETISC_CT_DIR_REPLY)

/* doc/events.md §7 example 1: the echo request's connection. */
static void ex1_conn(struct retisc_ct_conn *c)
{
	conn(c, DEFAULT_ZONE | RETISC_CT_IPV4 | RETISC_CT_ICMP, "192.168.125.10", "192.168.125.11",
	     "192.168.125.11", "192.168.125.10");
	icmp(&c->orig, 8, 0, 29004);
	icmp(&c->reply, 0, 0, 29004);
	c->status = 8;
}

#define EX1_CT                                                                                     \
	"{'state':'new','zone_id':0,'zone_dir':'Default','orig':{'ip':{'src':'192.168.125.10',"    \
	"'dst':'192.168.125.11','version':'v4'},'proto':{'icmp':{'code':0,'type':8,'id':29004}}}," \
	"'reply':{'ip':{'src':'192.168.125.11','dst':'192.168.125.10','version':'v4'},'proto':"    \
	"{'icmp':{'code':0,'type':0,'id':29004}}},'mark':0,'ct_status':8}"
#define EX1_CT_TEXT                                                                                \
	"ct_state NEW status 0x8 icmp orig [192.168.125.10 > 192.168.125.11 type 8 code 0 id "     \
	"29004] reply [192.168.125.11 > 192.168.125.10 type 0 code 0 id 29004] zone 0 mark 0"

/* A TCP connection 10.0.0.1:40000 -> 10.0.0.2:80 in state `state`. */
static void tcp_conn(struct retisc_ct_conn *c, uint8_t state)
{
	conn(c, DEFAULT_ZONE | RETISC_CT_IPV4 | RETISC_CT_TCP, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	     "10.0.0.1");
	ports(c, 40000, 80, 80, 40000);
	c->proto_state = state;
	c->status = 0x18e;
}

#define TCP_TUPLES                                                                                 \
	"'orig':{'ip':{'src':'10.0.0.1','dst':'10.0.0.2','version':'v4'},'proto':{'tcp':"          \
	"{'sport':40000,'dport':80}}},'reply':{'ip':{'src':'10.0.0.2','dst':'10.0.0.1',"           \
	"'version':'v4'},'proto':{'tcp':{'sport':80,'dport':40000}}}"
#define TCP_TEXT                                                                                   \
	"tcp (ESTABLISHED) orig [10.0.0.1.40000 > 10.0.0.2.80] reply [10.0.0.2.80 > "              \
	"10.0.0.1.40000] "

/* -------------------------------------------------------------------------
 * Kernel configurations (doc/collectors.md §6.1), through the collector's
 * can_run() and init() with a --kconf file.
 */

static char kconf_path[64];

static void write_kconf(const char *text)
{
	FILE *f;

	if (!kconf_path[0]) {
		assert_int_equal(write_tmp_file(kconf_path, sizeof(kconf_path), "kconf", "", 0), 0);
	}
	f = fopen(kconf_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* can_run() then init() with --kconf path (NULL: no option); can_run's
 * result, its reason in reason. */
static int ct_env(const char *path, char *reason, size_t reason_sz)
{
	struct retisc_collector *c = retisc_registry__collector_by_name(reg, "ct");
	char *values[] = {(char *)path, NULL};
	struct {
		char *name;
		char **values;
	} opt = {(char *)"kconf", values};
	struct retisc_collect_env env = {};
	int err;

	env.n_opts = path ? 1 : 0;
	env.opts = (void *)&opt;
	reason[0] = '\0';
	err = c->can_run(c->priv, &env, reason, reason_sz);
	if (!err)
		assert_int_equal(c->init(c->priv, &env), 0);
	return err;
}

#define FULL_KCONF                                                                                 \
	"# comment\nCONFIG_NF_CONNTRACK=y\nCONFIG_NF_CONNTRACK_MARK=y\n"                           \
	"CONFIG_NF_CONNTRACK_ZONES=y\nCONFIG_NF_CONNTRACK_LABELS=y\n"

/* Back to a kernel with everything (what the other tests expect). */
static void kconf_full(void)
{
	char reason[256];

	write_kconf(FULL_KCONF);
	assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), 0);
}

static bool nf_conntrack_module_loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		found = found || !strncmp(line, "nf_conntrack ", 13);
	fclose(f);
	return found;
}

/* -------------------------------------------------------------------------
 * Tests.
 */

static void test_registered(void **state)
{
	struct retisc_collector *c;

	(void)state;
	assert_int_equal(section("ct")->rank, 140);
	assert_int_equal(section("ct")->owner, RETISC_OWNER_CT);
	assert_int_equal(section("ct")->place, RETISC_PLACE_BODY);
	c = retisc_registry__collector_by_name(reg, "ct");
	assert_non_null(c);
	assert_int_equal(c->order, 60);
	assert_int_equal(c->owner, RETISC_OWNER_CT);
	assert_string_equal(c->known_types[0], "struct sk_buff *");
	assert_null(c->known_types[1]);
	assert_int_equal(c->n_hooks, 1);
	assert_null(c->hooks[0].target);
	assert_non_null(c->hooks[0].obj);
	assert_null(c->probes[0]); /* no probe of its own */
	assert_non_null(c->can_run);
	assert_non_null(c->init);
}

static void test_layout(void **state)
{
	(void)state;
	/* doc/collectors.md §6.2 (also asserted at build time in ct.c). */
	assert_int_equal(sizeof(struct retisc_ct_conn), 128);
	assert_int_equal(offsetof(struct retisc_ct_conn, orig.dst), 20);
	assert_int_equal(offsetof(struct retisc_ct_conn, reply), 40);
	assert_int_equal(offsetof(struct retisc_ct_conn, status), 80);
	assert_int_equal(offsetof(struct retisc_ct_conn, flags), 88);
	assert_int_equal(offsetof(struct retisc_ct_conn, mark), 92);
	assert_int_equal(offsetof(struct retisc_ct_conn, labels), 96);
	assert_int_equal(offsetof(struct retisc_ct_conn, zone_id), 112);
	assert_int_equal(offsetof(struct retisc_ct_conn, proto_state), 114);
	assert_int_equal(offsetof(struct retisc_ct_conn, proto.vtag), 116);
	assert_int_equal(sizeof(struct retisc_ct_meta), 1);
}

static void test_decode_example1(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;

	(void)state;
	ex1_conn(&c);
	ev = decode_ct(&c, NULL, 2);
	assert_json(ev, dq("{'ct':" EX1_CT "}"));
	assert_string_equal(fmt_of(ev, true), EX1_CT_TEXT);
	assert_string_equal(fmt_of(ev, false), EX1_CT_TEXT);
	retisc_json__free(ev);
}

static void test_decode_states(void **state)
{
	static const char *const names[] = {"established", "related", "new", "reply",
					    "related_reply"};
	struct retisc_ct_conn c;
	struct retisc_json *ev;

	(void)state;
	ex1_conn(&c);
	for (uint8_t s = 0; s < 5; s++) {
		ev = decode_ct(&c, NULL, s);
		assert_string_equal(
			retisc_json__obj_get_str(retisc_json__obj_get(ev, "ct"), "state"),
			names[s]);
		retisc_json__free(ev);
	}
	ev = decode_ct(&c, NULL, 7);
	assert_string_equal(retisc_json__obj_get_str(retisc_json__obj_get(ev, "ct"), "state"),
			    "untracked");
	assert_true(!strncmp(fmt_of(ev, true), "ct_state UNTRACKED status 0x8 icmp", 34));
	retisc_json__free(ev);
	ev = decode_ct(&c, NULL, 4);
	assert_true(!strncmp(fmt_of(ev, true), "ct_state RELATED_REPLY status", 29));
	retisc_json__free(ev);
}

static void test_decode_tcp(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;

	(void)state;
	/* State names from this kernel's enum tcp_conntrack. */
	tcp_conn(&c, 3);
	ev = decode_ct(&c, NULL, 0);
	assert_json(ev,
		    dq("{'ct':{'state':'established','zone_id':0,'zone_dir':'Default'," TCP_TUPLES
		       ",'proto_state':'ESTABLISHED','mark':0,'ct_status':398}}"));
	assert_string_equal(fmt_of(ev, true),
			    "ct_state ESTABLISHED status 0x18e " TCP_TEXT "zone 0 mark 0");
	retisc_json__free(ev);

	tcp_conn(&c, 1);
	ev = decode_ct(&c, NULL, 2);
	assert_string_equal(retisc_json__obj_get_str(retisc_json__obj_get(ev, "ct"), "proto_state"),
			    "SYN_SENT");
	retisc_json__free(ev);
	tcp_conn(&c, 7);
	ev = decode_ct(&c, NULL, 3);
	assert_string_equal(retisc_json__obj_get_str(retisc_json__obj_get(ev, "ct"), "proto_state"),
			    "TIME_WAIT");
	retisc_json__free(ev);
	/* Not in the enum: the number. */
	tcp_conn(&c, 200);
	ev = decode_ct(&c, NULL, 0);
	assert_string_equal(retisc_json__obj_get_str(retisc_json__obj_get(ev, "ct"), "proto_state"),
			    "200");
	assert_non_null(strstr(fmt_of(ev, true), " tcp (200) orig ["));
	retisc_json__free(ev);
	assert_string_equal(retisc_strbuf__str(&logs), "");
}

static void test_decode_udp(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;

	(void)state;
	conn(&c, DEFAULT_ZONE | RETISC_CT_IPV4 | RETISC_CT_UDP, "10.201.0.1", "10.201.0.2",
	     "10.201.0.2", "10.201.0.1");
	ports(&c, 12345, 53, 53, 12345);
	c.status = 0xa;
	c.mark = 42;
	ev = decode_ct(&c, NULL, 3);
	/* No proto_state for UDP. */
	assert_json(ev, dq("{'ct':{'state':'reply','zone_id':0,'zone_dir':'Default','orig':{'ip':"
			   "{'src':'10.201.0.1','dst':'10.201.0.2','version':'v4'},'proto':{'udp':"
			   "{'sport':12345,'dport':53}}},'reply':{'ip':{'src':'10.201.0.2','dst':"
			   "'10.201.0.1','version':'v4'},'proto':{'udp':{'sport':53,'dport':"
			   "12345}}},'mark':42,'ct_status':10}}"));
	assert_string_equal(fmt_of(ev, true),
			    "ct_state REPLY status 0xa udp orig [10.201.0.1.12345 > 10.201.0.2.53] "
			    "reply [10.201.0.2.53 > 10.201.0.1.12345] zone 0 mark 42");
	retisc_json__free(ev);
}

static void test_decode_sctp(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;

	(void)state;
	conn(&c, DEFAULT_ZONE | RETISC_CT_IPV4 | RETISC_CT_SCTP, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	     "10.0.0.1");
	ports(&c, 5000, 38412, 38412, 5000);
	c.proto.vtag[0] = htonl(0xdeadbeef);
	c.proto.vtag[1] = htonl(0x1234);
	c.proto_state = 4; /* SCTP_CONNTRACK_ESTABLISHED */
	c.status = 0xe;
	ev = decode_ct(&c, NULL, 0);
	assert_json(ev, dq("{'ct':{'state':'established','zone_id':0,'zone_dir':'Default','orig':"
			   "{'ip':{'src':'10.0.0.1','dst':'10.0.0.2','version':'v4'},'proto':"
			   "{'sctp':{'sport':5000,'dport':38412,'vtag':3735928559}}},'reply':{'ip':"
			   "{'src':'10.0.0.2','dst':'10.0.0.1','version':'v4'},'proto':{'sctp':"
			   "{'sport':38412,'dport':5000,'vtag':4660}}},'proto_state':'ESTABLISHED',"
			   "'mark':0,'ct_status':14}}"));
	assert_string_equal(fmt_of(ev, true),
			    "ct_state ESTABLISHED status 0xe sctp (ESTABLISHED) orig "
			    "[10.0.0.1.5000 > 10.0.0.2.38412 vtag 0xdeadbeef] reply "
			    "[10.0.0.2.38412 > 10.0.0.1.5000 vtag 0x1234] zone 0 mark 0");
	retisc_json__free(ev);
	/* Names from enum sctp_conntrack, which differ from TCP's. */
	c.proto_state = 2;
	ev = decode_ct(&c, NULL, 2);
	assert_string_equal(retisc_json__obj_get_str(retisc_json__obj_get(ev, "ct"), "proto_state"),
			    "COOKIE_WAIT");
	retisc_json__free(ev);
}

static void test_decode_ipv6(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;

	(void)state;
	conn(&c, DEFAULT_ZONE | RETISC_CT_IPV6 | RETISC_CT_TCP, "1111::1", "1111::2", "1111::2",
	     "1111::1");
	ports(&c, 56164, 80, 80, 56164);
	c.proto_state = 1;
	c.status = 0x8;
	ev = decode_ct(&c, NULL, 2);
	assert_json(ev, dq("{'ct':{'state':'new','zone_id':0,'zone_dir':'Default','orig':{'ip':"
			   "{'src':'1111::1','dst':'1111::2','version':'v6'},'proto':{'tcp':"
			   "{'sport':56164,'dport':80}}},'reply':{'ip':{'src':'1111::2','dst':"
			   "'1111::1','version':'v6'},'proto':{'tcp':{'sport':80,'dport':56164}}},"
			   "'proto_state':'SYN_SENT','mark':0,'ct_status':8}}"));
	assert_string_equal(fmt_of(ev, true),
			    "ct_state NEW status 0x8 tcp (SYN_SENT) orig [1111::1.56164 > "
			    "1111::2.80] "
			    "reply [1111::2.80 > 1111::1.56164] zone 0 mark 0");
	retisc_json__free(ev);

	/* doc/events.md §6.8 forms: mapped dotted, 96 zero bits in hex, ::. */
	conn(&c, DEFAULT_ZONE | RETISC_CT_IPV6 | RETISC_CT_UDP, "::ffff:10.0.0.1", "::a00:1",
	     "::", "2001:db8:0:0:1:0:0:1");
	ev = decode_ct(&c, NULL, 2);
	assert_non_null(strstr(fmt_of(ev, true),
			       "orig [::ffff:10.0.0.1.0 > ::a00:1.0] reply [::.0 > "
			       "2001:db8::1:0:0:1.0]"));
	retisc_json__free(ev);
}

static void test_inet_fmt(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"::", "::"},
		{"::1", "::1"},
		{"1::", "1::"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
		{"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
		{"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},
		{"fe80::abcd:ef01:2345:6789", "fe80::abcd:ef01:2345:6789"},
		{"::ffff:192.168.1.1", "::ffff:192.168.1.1"},
		{"::10.0.0.1", "::a00:1"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	};
	char buf[RETISC_INET6_STRLEN];
	uint8_t a[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, cases[i].in, a), 1);
		retisc_inet__ntop6(buf, a);
		assert_string_equal(buf, cases[i].out);
	}
	assert_int_equal(inet_pton(AF_INET, "255.255.255.255", a), 1);
	retisc_inet__ntop4(buf, a);
	assert_string_equal(buf, "255.255.255.255");
}

static void test_decode_zones(void **state)
{
	static const struct {
		uint32_t dirs;
		const char *json, *text;
	} cases[] = {
		{DEFAULT_ZONE, "'zone_dir':'Default'", "] zone 5 mark 0"},
		{RETISC_CT_DIR_ORIG, "'zone_dir':'Original'", "] orig-zone 5 mark 0"},
		{RETISC_CT_DIR_REPLY, "'zone_dir':'Reply'", "] reply-zone 5 mark 0"},
		/* None: no zone, the space before it stays. */
		{0, "'zone_dir':'None'", "]  mark 0"},
	};
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_ct_conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct retisc_json *ev;
		const char *text;

		ex1_conn(&c);
		c.flags = (c.flags & ~DEFAULT_ZONE) | cases[i].dirs;
		c.zone_id = 5;
		ev = decode_ct(&c, NULL, 2);
		retisc_strbuf__reset(&sb);
		assert_int_equal(retisc_json__dump(ev, &sb), 0);
		assert_non_null(strstr(sb.buf, dq(cases[i].json)));
		assert_non_null(strstr(sb.buf, "\"zone_id\":5,"));
		text = fmt_of(ev, true);
		assert_string_equal(text + strlen(text) - strlen(cases[i].text), cases[i].text);
		retisc_json__free(ev);
	}
	retisc_strbuf__release(&sb);
}

static void test_decode_labels(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;
	uint64_t lo = 0x8000000000000001ULL, hi = 0x2a;

	(void)state;
	ex1_conn(&c);
	/* The kernel's two unsigned longs, native order: bit 0 first. */
	memcpy(c.labels, &lo, 8);
	memcpy(c.labels + 8, &hi, 8);
	ev = decode_ct(&c, NULL, 2);
	assert_non_null(strstr(fmt_of(ev, true), " zone 0 mark 0 labels 0x2a8000000000000001"));
	assert_int_equal(retisc_json__obj_get(retisc_json__obj_get(ev, "ct"), "labels") != NULL, 1);
	{
		struct retisc_strbuf sb = RETISC_STRBUF_INIT;

		assert_int_equal(retisc_json__dump(ev, &sb), 0);
		assert_non_null(strstr(sb.buf, "\"mark\":0,\"labels\":{\"hi\":42,\"lo\":"
					       "9223372036854775809},\"ct_status\":8}"));
		retisc_strbuf__release(&sb);
	}
	retisc_json__free(ev);
	/* Only bit 1: no high half in the text. */
	memset(c.labels, 0, sizeof(c.labels));
	c.labels[0] = 2;
	ev = decode_ct(&c, NULL, 2);
	assert_non_null(strstr(fmt_of(ev, true), " mark 0 labels 0x2"));
	retisc_json__free(ev);
	/* No label set: no key. */
	memset(c.labels, 0, sizeof(c.labels));
	ev = decode_ct(&c, NULL, 2);
	assert_null(retisc_json__obj_get(retisc_json__obj_get(ev, "ct"), "labels"));
	retisc_json__free(ev);
}

#define PARENT_TUPLES                                                                              \
	"'orig':{'ip':{'src':'10.0.0.1','dst':'10.0.0.2','version':'v4'},'proto':{'tcp':"          \
	"{'sport':40000,'dport':21}}},'reply':{'ip':{'src':'10.0.0.2','dst':'10.0.0.1',"           \
	"'version':'v4'},'proto':{'tcp':{'sport':21,'dport':40000}}}"

/* An FTP data connection (related) and its control connection. */
static void ftp_conns(struct retisc_ct_conn *data, struct retisc_ct_conn *ctrl)
{
	tcp_conn(ctrl, 3);
	ports(ctrl, 40000, 21, 21, 40000);
	ctrl->status = 0x18a;
	ctrl->mark = 7;
	conn(data, DEFAULT_ZONE | RETISC_CT_IPV4 | RETISC_CT_TCP, "10.0.0.2", "10.0.0.1",
	     "10.0.0.1", "10.0.0.2");
	ports(data, 20, 50000, 50000, 20);
	data->proto_state = 1;
	data->status = 0x9;
}

#define FTP_CT                                                                                     \
	"{'state':'related','zone_id':0,'zone_dir':'Default','orig':{'ip':{'src':"                 \
	"'10.0.0.2','dst':'10.0.0.1','version':'v4'},'proto':{'tcp':{'sport':20,'dport':50000}}}," \
	"'reply':{'ip':{'src':'10.0.0.1','dst':'10.0.0.2','version':'v4'},'proto':{'tcp':"         \
	"{'sport':50000,'dport':20}}},'proto_state':'SYN_SENT','mark':0,'ct_status':9,"            \
	"'parent':{'zone_id':0,'zone_dir':'Default'," PARENT_TUPLES ",'proto_state':"              \
	"'ESTABLISHED','mark':7,'ct_status':394}}"
#define FTP_JSON "{'ct':" FTP_CT "}"
#define FTP_BASE_TEXT                                                                              \
	"ct_state RELATED status 0x9 tcp (SYN_SENT) orig [10.0.0.2.20 > 10.0.0.1.50000] reply "    \
	"[10.0.0.1.50000 > 10.0.0.2.20] zone 0 mark 0"
#define FTP_PARENT_TEXT                                                                            \
	"parent [status 0x18a tcp (ESTABLISHED) orig [10.0.0.1.40000 > 10.0.0.2.21] reply "        \
	"[10.0.0.2.21 > 10.0.0.1.40000] zone 0 mark 7]"

static void test_decode_parent(void **state)
{
	struct retisc_ct_conn data, ctrl;
	struct retisc_json *ev;

	(void)state;
	ftp_conns(&data, &ctrl);
	ev = decode_ct(&data, &ctrl, 1);
	assert_json(ev, dq(FTP_JSON));
	assert_string_equal(fmt_of(ev, true), FTP_BASE_TEXT "\n\\ " FTP_PARENT_TEXT);
	assert_string_equal(fmt_of(ev, false), FTP_BASE_TEXT " " FTP_PARENT_TEXT);
	retisc_json__free(ev);

	/* Another order of the same sections: the same section. */
	ev = retisc_json__new_object();
	assert_int_equal(feed_meta(ev, 1), -EINVAL); /* no base yet */
	assert_json(ev, "{}");
	assert_int_equal(feed(ev, RETISC_CT_PARENT, &ctrl, sizeof(ctrl)), 0);
	assert_int_equal(feed(ev, RETISC_CT_BASE, &data, sizeof(data)), 0);
	assert_int_equal(feed_meta(ev, 1), 0);
	assert_json(ev, dq(FTP_JSON));
	retisc_json__free(ev);
}

static void test_decode_errors(void **state)
{
	struct retisc_ct_conn c, p;
	struct retisc_json *ev = retisc_json__new_object();

	(void)state;
	ex1_conn(&c);
	/* Sizes, unknown type. */
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c) - 1), -EINVAL);
	assert_int_equal(feed(ev, RETISC_CT_PARENT, &c, 4), -EINVAL);
	assert_int_equal(feed(ev, RETISC_CT_META, &c, 0), -EINVAL);
	assert_int_equal(feed(ev, 3, &c, sizeof(c)), -EINVAL);
	assert_json(ev, "{}");

	/* A meta section alone: no base. */
	assert_int_equal(feed_meta(ev, 2), -EINVAL);
	assert_non_null(strstr(logs.buf, "CT BPF event does not have a base section"));
	/* A parent then meta: still no base, and the parent goes too. */
	ex1_conn(&p);
	assert_int_equal(feed(ev, RETISC_CT_PARENT, &p, sizeof(p)), 0);
	assert_int_equal(feed_meta(ev, 2), -EINVAL);
	assert_json(ev, "{}");

	/* Unsupported states (5, 6: no such ip_conntrack_info). */
	retisc_strbuf__reset(&logs);
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c)), 0);
	assert_int_equal(feed_meta(ev, 5), -EINVAL);
	assert_non_null(strstr(logs.buf, "ct: unsupported ct state 5"));
	assert_json(ev, "{}");
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c)), 0);
	assert_int_equal(feed_meta(ev, 200), -EINVAL);
	assert_json(ev, "{}");

	/* No address family, no protocol. */
	retisc_strbuf__reset(&logs);
	c.flags &= ~RETISC_CT_IPV4;
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c)), -EINVAL);
	assert_non_null(strstr(logs.buf, "ct: invalid ip tuple information"));
	ex1_conn(&c);
	c.flags &= ~RETISC_CT_ICMP;
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c)), -EINVAL);
	assert_non_null(strstr(logs.buf, "ct: invalid protocol tuple information"));
	assert_json(ev, "{}");

	/* One base, one parent, one meta per event. */
	ex1_conn(&c);
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c)), 0);
	assert_int_equal(feed(ev, RETISC_CT_BASE, &c, sizeof(c)), -EINVAL);
	assert_int_equal(feed(ev, RETISC_CT_PARENT, &c, sizeof(c)), 0);
	assert_int_equal(feed(ev, RETISC_CT_PARENT, &c, sizeof(c)), -EINVAL);
	assert_int_equal(feed_meta(ev, 2), 0);
	assert_int_equal(feed_meta(ev, 2), -EINVAL);
	retisc_json__free(ev);

	/* A longer section (a newer hook) reads the same. */
	{
		uint8_t big[sizeof(c) + 16] = {0};

		ex1_conn(&c);
		memcpy(big, &c, sizeof(c));
		ev = retisc_json__new_object();
		assert_int_equal(feed(ev, RETISC_CT_BASE, big, sizeof(big)), 0);
		assert_int_equal(feed_meta(ev, 2), 0);
		assert_json(ev, dq("{'ct':" EX1_CT "}"));
		retisc_json__free(ev);
	}
}

static void test_format(void **state)
{
	(void)state;
	assert_string_equal(fmt(EX1_CT), EX1_CT_TEXT);
	/* Retis 1.6 files: keys sorted, unknown keys ignored. */
	assert_string_equal(
		fmt("{'ct_status':8,'future':1,'mark':0,'orig':{'ip':{'dst':'192.168.125.11',"
		    "'src':'192.168.125.10','version':'v4'},'proto':{'icmp':{'code':0,'id':29004,"
		    "'type':8}}},'reply':{'ip':{'dst':'192.168.125.10','src':'192.168.125.11',"
		    "'version':'v4'},'proto':{'icmp':{'code':0,'id':29004,'type':0}}},"
		    "'state':'new',"
		    "'zone_dir':'Default','zone_id':0}"),
		EX1_CT_TEXT);
	/* TCP without proto_state; no mark (kernel without CONFIG_NF_CONNTRACK_MARK). */
	assert_string_equal(
		fmt("{'state':'established','zone_id':3,'zone_dir':'Original'," TCP_TUPLES
		    ",'ct_status':0}"),
		"ct_state ESTABLISHED status 0x0 tcp (UNKNOWN) orig [10.0.0.1.40000 > "
		"10.0.0.2.80] reply [10.0.0.2.80 > 10.0.0.1.40000] orig-zone 3");
	/* zone_dir None, no mark: the text ends with the space. */
	assert_string_equal(fmt("{'state':'established','zone_id':0,'zone_dir':'None'," TCP_TUPLES
				",'proto_state':'ESTABLISHED','ct_status':2}"),
			    "ct_state ESTABLISHED status 0x2 " TCP_TEXT);
	/* Labels: hi:lo as one 128-bit number. */
	assert_string_equal(fmt("{'state':'new','zone_id':0,'zone_dir':'Reply'," TCP_TUPLES
				",'proto_state':'SYN_SENT','mark':4294967295,'labels':{'hi':1,"
				"'lo':255},'ct_status':8}"),
			    "ct_state NEW status 0x8 tcp (SYN_SENT) orig [10.0.0.1.40000 > "
			    "10.0.0.2.80] reply [10.0.0.2.80 > 10.0.0.1.40000] reply-zone 0 mark "
			    "4294967295 labels 0x100000000000000ff");
	/* Tuples of different kinds: no protocol part. */
	assert_string_equal(
		fmt("{'state':'new','zone_id':0,'zone_dir':'Default','orig':{'ip':{'src':'a',"
		    "'dst':'b','version':'v4'},'proto':{'udp':{'sport':1,'dport':2}}},'reply':"
		    "{'ip':{'src':'b','dst':'a','version':'v4'},'proto':{'tcp':{'sport':2,"
		    "'dport':1}}},'ct_status':8}"),
		"ct_state NEW status 0x8 zone 0");
	/* A parent, multi-line and single-line. */
	assert_string_equal(fmt_ml(FTP_CT, true), FTP_BASE_TEXT "\n\\ " FTP_PARENT_TEXT);
	assert_string_equal(fmt_ml(FTP_CT, false), FTP_BASE_TEXT " " FTP_PARENT_TEXT);
}

static void test_format_errors(void **state)
{
	(void)state;
	/* Mandatory keys. */
	assert_int_equal(fmt_err("{'zone_id':0,'zone_dir':'Default'," TCP_TUPLES ",'ct_status':8}"),
			 -EINVAL);
	assert_int_equal(fmt_err("{'state':'new','zone_id':0,'zone_dir':'Default'," TCP_TUPLES "}"),
			 -EINVAL);
	assert_int_equal(
		fmt_err("{'state':'new','zone_dir':'Default'," TCP_TUPLES ",'ct_status':8}"),
		-EINVAL);
	assert_int_equal(fmt_err("{'state':'new','zone_id':0," TCP_TUPLES ",'ct_status':8}"),
			 -EINVAL);
	assert_int_equal(fmt_err("{'state':'new','zone_id':0,'zone_dir':'Default','ct_status':8}"),
			 -EINVAL);
	assert_int_equal(fmt_err("{'state':'new','zone_id':0,'zone_dir':'Default','orig':{'ip':"
				 "{'src':'a','dst':'b'},'proto':{'tcp':{'sport':1}}},'reply':{'ip':"
				 "{'src':'a','dst':'b'},'proto':{'tcp':{'sport':1,'dport':2}}},"
				 "'ct_status':8}"),
			 -EINVAL);
	assert_int_equal(fmt_err("{'state':'new','zone_id':0,'zone_dir':'Default'," TCP_TUPLES
				 ",'labels':{'hi':1},'ct_status':8}"),
			 -EINVAL);
	/* A broken parent fails the whole section, leaving no text behind. */
	assert_int_equal(fmt_err("{'state':'new','zone_id':0,'zone_dir':'Default'," TCP_TUPLES
				 ",'ct_status':8,'parent':{'zone_id':0}}"),
			 -EINVAL);
}

/* The mark and labels keys follow the kernel configuration (§6.3). */
static void test_kconf_keys(void **state)
{
	struct retisc_ct_conn c;
	struct retisc_json *ev;
	char reason[256];

	(void)state;
	ex1_conn(&c);
	c.labels[0] = 1;
	c.mark = 9;

	write_kconf("CONFIG_NF_CONNTRACK=y\n# CONFIG_NF_CONNTRACK_MARK is not set\n"
		    "# CONFIG_NF_CONNTRACK_LABELS is not set\n");
	assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), 0);
	ev = decode_ct(&c, NULL, 2);
	assert_null(retisc_json__obj_get(retisc_json__obj_get(ev, "ct"), "mark"));
	assert_null(retisc_json__obj_get(retisc_json__obj_get(ev, "ct"), "labels"));
	{
		const char *text = fmt_of(ev, true);

		assert_string_equal(text + strlen(text) - 8, "] zone 0");
	}
	retisc_json__free(ev);

	kconf_full();
	ev = decode_ct(&c, NULL, 2);
	assert_non_null(strstr(fmt_of(ev, true), "] zone 0 mark 9 labels 0x1"));
	retisc_json__free(ev);

	/* Unreadable configuration: both, as Retis does. */
	assert_int_equal(ct_env("/nonexistent/config", reason, sizeof(reason)), 0);
	assert_non_null(strstr(logs.buf, "Cannot read kernel configuration /nonexistent/config"));
	ev = decode_ct(&c, NULL, 2);
	assert_non_null(strstr(fmt_of(ev, true), "] zone 0 mark 9 labels 0x1"));
	retisc_json__free(ev);
	kconf_full();
}

static void test_can_run(void **state)
{
	char reason[256];

	(void)state;
	kconf_full();
	/* A built-in conntrack; a long line split by the reader is no line. */
	write_kconf("CONFIG_CMDLINE=\"");
	{
		FILE *f = fopen(kconf_path, "a");

		for (int i = 0; i < 200; i++)
			fputs("xxxxxxxxxx", f);
		fputs("CONFIG_NF_CONNTRACK=n\"\nCONFIG_NF_CONNTRACK=y\n", f);
		fclose(f);
	}
	assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "");

	/* Not configured. */
	write_kconf("# CONFIG_NF_CONNTRACK is not set\nCONFIG_NF_CONNTRACK_MARK=y\n");
	assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), -EOPNOTSUPP);
	assert_string_equal(reason, "This kernel does not support connection tracking");
	write_kconf("CONFIG_NETFILTER=y\n");
	assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), -EOPNOTSUPP);

	/* A module: loaded or not, as /proc/modules says. */
	write_kconf("CONFIG_NF_CONNTRACK=m\n");
	if (nf_conntrack_module_loaded()) {
		assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), 0);
	} else {
		assert_int_equal(ct_env(kconf_path, reason, sizeof(reason)), -ENOENT);
		assert_string_equal(reason, "'nf_conntrack' is not loaded");
	}

	/* gzip-compressed, like /proc/config.gz. */
	{
		char cmd[256];

		write_kconf("# CONFIG_NF_CONNTRACK is not set\n");
		snprintf(cmd, sizeof(cmd), "gzip -c %s > %s.gz", kconf_path, kconf_path);
		if (system(cmd) == 0) {
			char gz[80];

			snprintf(gz, sizeof(gz), "%s.gz", kconf_path);
			assert_int_equal(ct_env(gz, reason, sizeof(reason)), -EOPNOTSUPP);
			unlink(gz);
		}
	}

	/* This machine's own configuration (no --kconf): it has conntrack. */
	assert_int_equal(ct_env(NULL, reason, sizeof(reason)), 0);
	kconf_full();
	unlink(kconf_path);
	kconf_path[0] = '\0';
}

/* -------------------------------------------------------------------------
 * doc/events.md §7 example 1, whole: raw record -> JSON -> text.
 */

#define EX1_DATA                                                                                   \
	"+ly9jswBpsIRcVlFCABFAABUo/lAAEABG0nAqH0KwKh9CwgAQFpxTAAB7f3ZZwAAAACzHw0AAAAAABAREhMUFRYX" \
	"GBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc="

#define EX1_JSON                                                                                   \
	"{'common':{'timestamp':30419169061793,'smp_id':6,'task':{'pid':11330,'tgid':11330,"       \
	"'comm':'ping'}},'kernel':{'symbol':'net:net_dev_start_xmit','probe_type':"                \
	"'raw_tracepoint'},'skb-tracking':{'orig_head':18446619372617628672,'timestamp':"          \
	"30419169061793,'skb':18446619372874141952},'packet':{'len':98,'capture_len':98,"          \
	"'data':'" EX1_DATA "'},'skb':{'meta':{'len':98,'data_len':0,'hash':0,'ip_summed':0,"      \
	"'csum':2770033380,'csum_level':0,'priority':0},'data_ref':{'nohdr':false,'cloned':"       \
	"false,'fclone':0,'users':1,'dataref':1}},'netns':{'cookie':3,'inum':4026532741},"         \
	"'dev':{'name':'veth-ns01','ifindex':11},'ct':" EX1_CT "}"

struct rawbuf {
	uint8_t b[2048];
	size_t len;
};

static void put(struct rawbuf *r, uint8_t owner, uint8_t type, const void *data, size_t size)
{
	struct retisc_section_hdr h = {.owner = owner, .data_type = type, .size = (uint16_t)size};

	assert_true(r->len + sizeof(h) + size <= sizeof(r->b));
	memcpy(r->b + r->len, &h, sizeof(h));
	memcpy(r->b + r->len + sizeof(h), data, size);
	r->len += sizeof(h) + size;
}

static const char *symbol_of(void *priv, uint32_t probe_id)
{
	(void)priv;
	return probe_id == 0 ? "net:net_dev_start_xmit" : NULL;
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

static void test_example1(void **state)
{
	struct retisc_raw_common common = {.timestamp = 30419169061793ULL, .smp_id = 6};
	struct retisc_raw_task task = {.pid_tgid = (11330ULL << 32) | 11330};
	struct retisc_raw_kernel k = {
		.probe_id = 0, .stack_id = -1, .probe_type = RETISC_PROBE_RAW_TP};
	struct retisc_raw_skb_tracking trk = {
		.orig_head = 18446619372617628672ULL,
		.timestamp = 30419169061793ULL,
		.skb = 18446619372874141952ULL,
	};
	struct retisc_skb_meta meta = {.len = 98, .csum = 2770033380U};
	struct retisc_skb_data_ref dref = {.users = 1, .dataref = 1};
	struct retisc_ns_raw ns = {.cookie = 3, .inum = 4026532741U, .has_cookie = 1};
	struct retisc_decode_ctx dc = {.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	struct retisc_ct_meta ctm = {.state = 2};
	struct retisc_skb_packet p;
	struct retisc_dev_raw dev = {.ifindex = 11};
	struct retisc_ct_conn ct;
	struct rawbuf r = {};
	struct retisc_json *ev;
	ssize_t n;

	(void)state;
	memcpy(task.comm, "ping", 4);
	n = retisc_base64__decode(EX1_DATA, strlen(EX1_DATA), p.packet, sizeof(p.packet));
	assert_int_equal(n, 98);
	p.len = 98;
	p.capture_len = 98;
	memcpy(dev.dev_name, "veth-ns01", 9);
	ex1_conn(&ct);

	/* The hooks' order: collectors by initialisation order. */
	put(&r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, &common, sizeof(common));
	put(&r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &task, sizeof(task));
	put(&r, RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, &k, sizeof(k));
	put(&r, RETISC_OWNER_SKB_TRACKING, 1, &trk, sizeof(trk));
	put(&r, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &p, 8 + 98);
	put(&r, RETISC_OWNER_SKB, RETISC_SKB_META, &meta, sizeof(meta));
	put(&r, RETISC_OWNER_SKB, RETISC_SKB_DATA_REF, &dref, sizeof(dref));
	put(&r, RETISC_OWNER_CT, RETISC_CT_BASE, &ct, sizeof(ct));
	put(&r, RETISC_OWNER_CT, RETISC_CT_META, &ctm, sizeof(ctm));
	put(&r, RETISC_OWNER_DEV, RETISC_DEV_TYPE, &dev, sizeof(dev));
	put(&r, RETISC_OWNER_NS, RETISC_NS_TYPE, &ns, sizeof(ns));

	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_non_null(ev);
	assert_int_equal(dc.malformed, 0);
	assert_json(ev, dq(EX1_JSON));

	assert_string_equal(render(ev, true, false, false),
			    "30419169061793 (6) [ping] 11330 [tp] net:net_dev_start_xmit "
			    "#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)\n"
			    "  192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
			    "len 84 proto ICMP (1) type 8 code 0\n"
			    "  ns 0x3/4026532741 if 11 (veth-ns01)\n"
			    "  skb [csum none len 98 priority 0 users 1 dataref 1]\n"
			    "  " EX1_CT_TEXT);
	assert_string_equal(render(ev, false, true, true),
			    "2025-03-18 23:12:45.860103 (6) [ping] 11330 [tp] "
			    "net:net_dev_start_xmit #1baa83c42ba1ffff8e95c3b67c00 "
			    "(skb ffff8e95d3009100) a6:c2:11:71:59:45 > fa:5c:bd:8e:cc:01 "
			    "ethertype IPv4 (0x0800) 192.168.125.10 > 192.168.125.11 tos 0x0 ttl "
			    "64 id 41977 off 0 [DF] len 84 proto ICMP (1) type 8 code 0 "
			    "ns 0x3/4026532741 if 11 (veth-ns01) skb [csum none len 98 priority 0 "
			    "users 1 dataref 1] " EX1_CT_TEXT);
	retisc_json__free(ev);
}

/* A parent in a whole event: the `\ parent` line at the body indentation. */
static void test_parent_layout(void **state)
{
	struct retisc_json *ev = parse(
		dq("{'common':{'timestamp':1,'smp_id':0,'task':{'pid':1,'tgid':1,'comm':'x'}},"
		   "'kernel':{'symbol':'net:netif_receive_skb','probe_type':'raw_tracepoint'},"
		   "'dev':{'name':'eth0','ifindex':2},'ct':" FTP_CT "}"));

	(void)state;
	assert_string_equal(render(ev, true, false, false),
			    "1 (0) [x] 1 [tp] net:netif_receive_skb\n"
			    "  if 2 (eth0)\n"
			    "  " FTP_BASE_TEXT "\n"
			    "  \\ " FTP_PARENT_TEXT);
	assert_string_equal(render(ev, false, false, false),
			    "1 (0) [x] 1 [tp] net:netif_receive_skb if 2 (eth0) " FTP_BASE_TEXT
			    " " FTP_PARENT_TEXT);
	retisc_json__free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registered, setup),
		cmocka_unit_test_setup(test_layout, setup),
		cmocka_unit_test_setup(test_decode_example1, setup),
		cmocka_unit_test_setup(test_decode_states, setup),
		cmocka_unit_test_setup(test_decode_tcp, setup),
		cmocka_unit_test_setup(test_decode_udp, setup),
		cmocka_unit_test_setup(test_decode_sctp, setup),
		cmocka_unit_test_setup(test_decode_ipv6, setup),
		cmocka_unit_test_setup(test_inet_fmt, setup),
		cmocka_unit_test_setup(test_decode_zones, setup),
		cmocka_unit_test_setup(test_decode_labels, setup),
		cmocka_unit_test_setup(test_decode_parent, setup),
		cmocka_unit_test_setup(test_decode_errors, setup),
		cmocka_unit_test_setup(test_format, setup),
		cmocka_unit_test_setup(test_format_errors, setup),
		cmocka_unit_test_setup(test_kconf_keys, setup),
		cmocka_unit_test_setup(test_can_run, setup),
		cmocka_unit_test_setup(test_example1, setup),
		cmocka_unit_test_setup(test_parent_layout, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
