// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb-drop plugin (build/plugins/skb-drop.so): decoding of hand-built raw
 * sections (doc/collectors.md §4.3, doc/events.md §4.6) against this kernel's BTF,
 * malformed sections, the text forms, and rendering of an event read from
 * a file.
 *
 * Expected names and values are read from the kernel's BTF here too, never
 * hard-coded: the core enum is reordered between kernel releases.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "plugtest.h"

#include <retisc/event.h>
#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "btf_info.h"
#include "collect_env.h"
#include "collect.h"
#include "log.h"
#include "reader.h"
#include "registry.h"
#include "render.h"

#include "skb_drop.h"

static struct retisc_registry *reg;
static const struct retisc_section *sec;
static struct btf *kbtf;

/* -------------------------------------------------------------------------
 * Kernel BTF, read independently of the plugin.
 */

/* Value of member `name` of enum `enum_name`; false if either is missing. */
static bool enum_val(const char *enum_name, const char *name, int64_t *out)
{
	__s32 id = btf__find_by_name_kind(kbtf, enum_name, BTF_KIND_ENUM);
	const struct btf_type *t;

	if (id < 0)
		return false;
	t = btf__type_by_id(kbtf, id);
	for (unsigned int i = 0; i < btf_vlen(t); i++) {
		if (!strcmp(btf__name_by_offset(kbtf, btf_enum(t)[i].name_off), name)) {
			*out = btf_kflag(t) ? (int64_t)(int32_t)btf_enum(t)[i].val
					    : (int64_t)btf_enum(t)[i].val;
			return true;
		}
	}
	return false;
}

static bool enum_has_value(const char *enum_name, int64_t v)
{
	__s32 id = btf__find_by_name_kind(kbtf, enum_name, BTF_KIND_ENUM);
	const struct btf_type *t;

	if (id < 0)
		return false;
	t = btf__type_by_id(kbtf, id);
	for (unsigned int i = 0; i < btf_vlen(t); i++)
		if ((int64_t)btf_enum(t)[i].val == v)
			return true;
	return false;
}

/* -------------------------------------------------------------------------
 * Helpers.
 */

/* Decode one raw section into an empty event; returns the decoder's result. */
static int decode_raw(uint8_t type, const void *data, size_t size, struct retisc_json **out)
{
	struct retisc_json *ev = retisc_json__new_object();
	int err;

	assert_non_null(ev);
	err = sec->decode(sec->priv, ev, type, data, size);
	assert_section_encode_same(sec, type, data, size, err, ev);
	*out = ev;
	return err;
}

/* Decode reason r and compare the skb-drop section with want. */
static void check_reason(int32_t r, const char *want)
{
	struct retisc_raw_skb_drop raw = {.drop_reason = r};
	struct retisc_json *ev;

	assert_int_equal(decode_raw(RETISC_SKB_DROP_TYPE_REASON, &raw, sizeof(raw), &ev), 0);
	assert_json(retisc_json__obj_get(ev, "skb-drop"), want);
	retisc_json__free(ev);
}

static void check_format(const char *section_json, bool multiline, int want_err, const char *want)
{
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_json *s;
	struct retisc_fmt f = {.sz = sizeof(f), .out = &out, .multiline = multiline};
	char err[256];

	s = retisc_json__parse(section_json, strlen(section_json), err, sizeof(err));
	if (!s)
		fail_msg("bad test JSON %s: %s", section_json, err);
	assert_int_equal(sec->format(sec->priv, s, &f), want_err);
	if (!want_err)
		assert_str_eq(retisc_strbuf__str(&out), want);
	retisc_strbuf__release(&out);
	retisc_json__free(s);
}

static void assert_log_count(const char *needle, int want)
{
	const char *p = retisc_strbuf__str(&logs);
	int n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	if (n != want)
		fail_msg("log has '%s' %d times, want %d; log:\n%s", needle, n, want,
			 retisc_strbuf__str(&logs));
}

/* -------------------------------------------------------------------------
 * Fixtures.
 */

static int group_setup(void **state)
{
	static const char *const plugins[] = {"skb-tracking", "skb-drop", NULL};

	(void)state;
	kbtf = btf__load_vmlinux_btf();
	if (!kbtf || plug_group_setup(&reg, plugins))
		return -1;
	sec = retisc_registry__section_by_owner(reg, RETISC_OWNER_SKB_DROP);
	return sec && sec->decode && sec->format ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	btf__free(kbtf);
	return 0;
}

/* -------------------------------------------------------------------------
 * Registration and collector.
 */

static void test_registration(void **state)
{
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "skb-drop");
	size_t targeted = 0, generic = 0;

	(void)state;
	assert_non_null(col);
	assert_str_eq(sec->key, "skb-drop");
	assert_int_equal(sec->rank, 60);
	assert_int_equal(sec->place, RETISC_PLACE_FIRST_LINE);
	assert_int_equal(col->order, 30);
	assert_int_equal(col->owner, RETISC_OWNER_SKB_DROP);
	assert_str_eq(col->probes[0], "tp:skb:kfree_skb");
	assert_null(col->probes[1]);
	assert_str_eq(col->known_types[0], "enum skb_drop_reason");
	assert_str_eq(col->known_types[3], "enum qdisc_drop_reason");
	assert_null(col->known_types[4]);
	/* Generic where reasons exist, targeted on kfree_skb where not. */
	assert_int_equal(col->n_hooks, 2);
	for (size_t i = 0; i < col->n_hooks; i++) {
		if (!col->hooks[i].target)
			generic++;
		else if (!strcmp(col->hooks[i].target, "tp:skb:kfree_skb"))
			targeted++;
	}
	assert_int_equal(generic, 1);
	assert_int_equal(targeted, 1);
}

/* This kernel passes a reason to skb:kfree_skb: can run, no warning. */
static void test_can_run_and_init(void **state)
{
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "skb-drop");
	struct retisc_collect_env env = {};
	char reason[256] = "";

	(void)state;
	assert_non_null(col->can_run);
	assert_int_equal(col->can_run(col->priv, &env, reason, sizeof(reason)), 0);
	assert_str_eq(reason, "");
	assert_int_equal(col->init(col->priv, &env), 0);
	/* Twice: tables are built once, the second call only reports. */
	assert_int_equal(col->init(col->priv, &env), 0);
	assert_int_equal(col->can_run(col->priv, &env, reason, sizeof(reason)), 0);
	assert_log_count("drop reason", 0);
}

/* -------------------------------------------------------------------------
 * Decoding.
 */

static void test_core_reasons(void **state)
{
	int64_t no_socket, nf_drop, consumed, not_dropped;

	(void)state;
	assert_true(enum_val("skb_drop_reason", "SKB_DROP_REASON_NO_SOCKET", &no_socket));
	assert_true(enum_val("skb_drop_reason", "SKB_DROP_REASON_NETFILTER_DROP", &nf_drop));
	assert_true(enum_val("skb_drop_reason", "SKB_CONSUMED", &consumed));
	assert_true(enum_val("skb_drop_reason", "SKB_NOT_DROPPED_YET", &not_dropped));
	check_reason((int32_t)no_socket, "{\"drop_reason\":\"NO_SOCKET\"}");
	check_reason((int32_t)nf_drop, "{\"drop_reason\":\"NETFILTER_DROP\"}");
	/* SKB_ alone is stripped too. */
	check_reason((int32_t)consumed, "{\"drop_reason\":\"CONSUMED\"}");
	check_reason((int32_t)not_dropped, "{\"drop_reason\":\"NOT_DROPPED_YET\"}");
	assert_string_equal(retisc_strbuf__str(&logs), "");
}

/* A core value that no member has: its decimal string, no subsys. */
static void test_unknown_core_value(void **state)
{
	char want[64];
	int32_t r = 0xfff0;

	(void)state;
	while (enum_has_value("skb_drop_reason", r))
		r--;
	snprintf(want, sizeof(want), "{\"drop_reason\":\"%d\"}", r);
	check_reason(r, want);
	assert_string_equal(retisc_strbuf__str(&logs), "");
}

/*
 * A subsystem of this kernel: openvswitch when skb_drop_reason_subsys has
 * it (its reasons come from ovs_drop_reason, only present with the module),
 * else the unknown-subsystem rule for its usual id.
 */
static void test_subsystem_value(void **state)
{
	int64_t id, last;
	int32_t r;
	char want[128];

	(void)state;
	if (!enum_val("skb_drop_reason_subsys", "SKB_DROP_REASON_SUBSYS_OPENVSWITCH", &id)) {
		r = (2 << 16) | 1;
		check_reason(r, "{\"subsys\":\"2\",\"drop_reason\":\"131073\"}");
		assert_log_count("Unknown drop reason subsystem id (2)", 1);
		return;
	}
	r = (int32_t)((id << 16) | 1);
	if (enum_val("ovs_drop_reason", "OVS_DROP_LAST_ACTION", &last)) {
		r = (int32_t)last;
		check_reason(r, "{\"subsys\":\"openvswitch\","
				"\"drop_reason\":\"OVS_DROP_LAST_ACTION\"}");
	} else {
		/* Module not loaded (or not built): the value, named by number. */
		snprintf(want, sizeof(want), "{\"subsys\":\"openvswitch\",\"drop_reason\":\"%d\"}",
			 r);
		check_reason(r, want);
	}
	assert_log_count("Unknown drop reason subsystem", 0);
}

/* An id no subsystem has: both numbers, and one warning per id. */
static void test_unknown_subsystem(void **state)
{
	int32_t r = (0x7000 << 16) | 5;
	char want[128];

	(void)state;
	snprintf(want, sizeof(want), "{\"subsys\":\"28672\",\"drop_reason\":\"%d\"}", r);
	check_reason(r, want);
	check_reason(r + 1, "{\"subsys\":\"28672\",\"drop_reason\":\"1879048198\"}");
	assert_log_count("Unknown drop reason subsystem id (28672)", 1);
	/* The largest id. */
	check_reason(INT32_MAX, "{\"subsys\":\"32767\",\"drop_reason\":\"2147483647\"}");
	assert_log_count("Unknown drop reason subsystem id (32767)", 1);
}

/* Kernels without drop reasons: the hook writes -1. */
static void test_negative_value(void **state)
{
	(void)state;
	check_reason(-1, "{\"drop_reason\":\"NOT_SPECIFIED\"}");
	check_reason(INT32_MIN, "{\"drop_reason\":\"NOT_SPECIFIED\"}");
	assert_string_equal(retisc_strbuf__str(&logs), "");
}

static void test_malformed(void **state)
{
	uint8_t buf[8] = {3, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd};
	struct retisc_json *ev;
	int64_t no_socket;

	(void)state;
	/* Too short. */
	for (size_t n = 0; n < 4; n++) {
		assert_int_equal(decode_raw(1, buf, n, &ev), -EINVAL);
		assert_null(retisc_json__obj_get(ev, "skb-drop"));
		retisc_json__free(ev);
	}
	/* Unknown data types. */
	assert_int_equal(decode_raw(0, buf, 4, &ev), -EINVAL);
	retisc_json__free(ev);
	assert_int_equal(decode_raw(2, buf, 4, &ev), -EINVAL);
	assert_null(retisc_json__obj_get(ev, "skb-drop"));
	retisc_json__free(ev);
	/* Longer than today's layout: the first 4 bytes are the reason. */
	assert_true(enum_val("skb_drop_reason", "SKB_DROP_REASON_NO_SOCKET", &no_socket));
	buf[0] = (uint8_t)no_socket;
	assert_int_equal(decode_raw(1, buf, sizeof(buf), &ev), 0);
	assert_json(retisc_json__obj_get(ev, "skb-drop"), "{\"drop_reason\":\"NO_SOCKET\"}");
	retisc_json__free(ev);
}

/* The whole raw record: the section lands after skb-tracking (rank order). */
static void test_raw_event(void **state)
{
	struct retisc_raw_skb_tracking trk = {.orig_head = 18446620263873328896ULL,
					      .timestamp = 4152973315001ULL,
					      .skb = 18446620276943748352ULL};
	struct retisc_raw_skb_drop d;
	struct retisc_decode_ctx dc = {.reg = reg, .stack_map_fd = -1};
	struct rawbuf r = {};
	struct retisc_json *ev;
	int64_t no_socket;

	(void)state;
	assert_true(enum_val("skb_drop_reason", "SKB_DROP_REASON_NO_SOCKET", &no_socket));
	d.drop_reason = (int32_t)no_socket;
	raw_put_probe(&r, 4152973315243ULL, 2, (14839ULL << 32) | 14839, "nc", 0,
		      RETISC_PROBE_RAW_TP);
	/* Hooks run in collector order, but a file must not depend on it. */
	raw_put(&r, RETISC_OWNER_SKB_DROP, RETISC_SKB_DROP_TYPE_REASON, &d, sizeof(d));
	raw_put(&r, RETISC_OWNER_SKB_TRACKING, 1, &trk, sizeof(trk));
	ev = retisc_event__decode(&dc, r.b, r.len);
	assert_non_null(ev);
	assert_json(ev,
		    "{\"common\":{\"timestamp\":4152973315243,\"smp_id\":2,\"task\":{\"pid\":14839,"
		    "\"tgid\":14839,\"comm\":\"nc\"}},\"kernel\":{\"symbol\":\"unknown-probe:0\","
		    "\"probe_type\":\"raw_tracepoint\"},\"skb-tracking\":{\"orig_head\":"
		    "18446620263873328896,\"timestamp\":4152973315001,\"skb\":"
		    "18446620276943748352},\"skb-drop\":{\"drop_reason\":\"NO_SOCKET\"}}");
	assert_int_equal(dc.malformed, 0);
	assert_int_equal(assert_encode_same(&dc, r.b, r.len, ev), 0);
	retisc_json__free(ev);
}

/* -------------------------------------------------------------------------
 * Text.
 */

static void test_format(void **state)
{
	(void)state;
	for (int multi = 0; multi < 2; multi++) {
		check_format("{\"drop_reason\":\"NO_SOCKET\"}", multi, 0,
			     "drop (reason NO_SOCKET)");
		check_format("{\"subsys\":\"openvswitch\","
			     "\"drop_reason\":\"OVS_DROP_LAST_ACTION\"}",
			     multi, 0, "drop (reason openvswitch/OVS_DROP_LAST_ACTION)");
		check_format("{\"subsys\":\"28672\",\"drop_reason\":\"1879048197\"}", multi, 0,
			     "drop (reason 28672/1879048197)");
	}
	/* Unknown keys are ignored; drop_reason is mandatory. */
	check_format("{\"drop_reason\":\"NO_SOCKET\",\"future\":{\"x\":1}}", false, 0,
		     "drop (reason NO_SOCKET)");
	check_format("{\"subsys\":\"qdisc\"}", false, -EINVAL, NULL);
	check_format("{}", false, -EINVAL, NULL);
	check_format("{\"drop_reason\":12}", false, -EINVAL, NULL);
}

/* Render an event from a file: the text sits on the first line, after the id. */
static void test_render_from_file(void **state)
{
	static const char *const want_first =
		"4152973315243 (2) [nc] 14839 [tp] skb:kfree_skb #3c6f07fcbb9ffff8f6546b13700 "
		"(skb ffff8f6851bffd00) drop (reason NO_SOCKET)";
	static const char ovs[] =
		"{\"subsys\":\"openvswitch\",\"drop_reason\":\"OVS_DROP_LAST_ACTION\"}";
	struct retisc_render_opts o = {.multiline = true};
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;
	struct retisc_reader *rd;
	struct retisc_json *ev = NULL, *found = NULL, *s;
	char path[PATH_MAX], err[512], *src, *slash;
	const char *text, *nl;

	(void)state;
	/* Fixtures sit next to this file's directory. */
	src = strdup(__FILE__);
	assert_non_null(src);
	slash = strrchr(src, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../fixtures/retisc-1.7.json", slash ? src : ".");
	free(src);
	if (access(path, R_OK))
		snprintf(path, sizeof(path), "tests/fixtures/retisc-1.7.json");
	rd = retisc_reader__open(path, err, sizeof(err));
	if (!rd)
		fail_msg("open %s: %s", path, err);
	while (!found && retisc_reader__next(rd, &ev, err, sizeof(err)) == 1) {
		if (retisc_json__obj_get(ev, "skb-drop"))
			found = ev;
		else
			retisc_json__free(ev);
	}
	retisc_reader__free(rd);
	assert_non_null(found);

	retisc_renderer__init(&r, reg, &o);
	assert_int_equal(retisc_renderer__event(&r, found, 0, NULL, &out), 0);
	text = retisc_strbuf__str(&out);
	nl = strchr(text, '\n');
	if (strncmp(text, want_first, strlen(want_first)) ||
	    (nl && (size_t)(nl - text) != strlen(want_first)))
		fail_msg("first line\n got: %s\nwant: %s", text, want_first);

	/* Single-line, with a subsystem. */
	s = retisc_json__parse(ovs, strlen(ovs), err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(retisc_json__obj_set(found, "skb-drop", s), 0);
	o.multiline = false;
	retisc_renderer__init(&r, reg, &o);
	retisc_strbuf__reset(&out);
	assert_int_equal(retisc_renderer__event(&r, found, 0, NULL, &out), 0);
	if (!strstr(retisc_strbuf__str(&out),
		    "(skb ffff8f6851bffd00) drop (reason openvswitch/OVS_DROP_LAST_ACTION) ["))
		fail_msg("single line: %s", retisc_strbuf__str(&out));
	retisc_strbuf__release(&out);
	retisc_json__free(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registration, plug_setup),
		cmocka_unit_test_setup(test_can_run_and_init, plug_setup),
		cmocka_unit_test_setup(test_core_reasons, plug_setup),
		cmocka_unit_test_setup(test_unknown_core_value, plug_setup),
		cmocka_unit_test_setup(test_subsystem_value, plug_setup),
		cmocka_unit_test_setup(test_unknown_subsystem, plug_setup),
		cmocka_unit_test_setup(test_negative_value, plug_setup),
		cmocka_unit_test_setup(test_malformed, plug_setup),
		cmocka_unit_test_setup(test_raw_event, plug_setup),
		cmocka_unit_test_setup(test_format, plug_setup),
		cmocka_unit_test_setup(test_render_from_file, plug_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
