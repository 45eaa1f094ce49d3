// SPDX-License-Identifier: GPL-2.0-only
/* The NATS sink's server-free parts (sinks/nats/url.c): URLs, times,
 * sizes and per-run ordering of what a stream gives back. */
#include "testutil.h"

#include "nats_int.h"

static void test_sink_url(void **state)
{
	struct nats_url u;
	char err[256];

	(void)state;
	assert_int_equal(nats_url__parse("nats://10.0.0.1:4333/retisc.ev?spool=16k", false, &u, err,
					 sizeof(err)),
			 0);
	assert_str_eq(u.server, "nats://10.0.0.1:4333");
	assert_str_eq(u.name, "retisc.ev");
	assert_str_eq(u.stream, "retisc_ev");
	assert_int_equal(u.spool_max, 16384);
	assert_int_equal(
		nats_url__parse("nats://broker/a.b?stream=EV", false, &u, err, sizeof(err)), 0);
	assert_str_eq(u.server, "nats://broker:4222");
	assert_str_eq(u.stream, "EV");
}

static void test_sink_url_errors(void **state)
{
	static const struct {
		const char *url;
		bool input;
		const char *err;
	} bad[] = {
		{"kafka://h/x", false, "expected nats://HOST[:PORT]/SUBJECT"},
		{"nats://user:pw@h/x", false,
		 "no credentials in the URL: use RETISC_NATS_CREDS and friends (doc/fleet.md)"},
		{"nats:///x", false, "missing HOST"},
		{"nats://h", false, "missing /SUBJECT"},
		{"nats://h/x?spool=12q", false,
		 "bad spool size '12q' (bytes, e.g. 64M, at least 64)"},
		{"nats://h/x?since=1", false, "unknown parameter 'since' (stream, spool)"},
		{"nats://h/a.b", true, "bad stream name 'a.b'"},
		{"nats://h/S?since=yesterday", true,
		 "bad time 'yesterday' for since (UTC YYYY-MM-DDTHH:MM:SS[.frac][Z] or UNIX "
		 "seconds)"},
		{"nats://h/S?durable", true, "bad parameter 'durable' (KEY=VALUE)"},
		{"nats://h/S?by=arrival", true, "bad value 'arrival' for by (event or store)"},
		{"nats://h/S?annotate=yes", true, "bad value 'yes' for annotate (0 or 1)"},
		{"nats://h/S?stream=x", true,
		 "unknown parameter 'stream' (annotate, by, durable, host, since, until)"},
	};
	struct nats_url u;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(nats_url__parse(bad[i].url, bad[i].input, &u, err, sizeof(err)),
				 -EINVAL);
		assert_str_eq(err, bad[i].err);
	}
}

static void test_input_url_times(void **state)
{
	struct nats_url u;
	char err[256];
	int64_t ns;

	(void)state;
	assert_int_equal(nats_url__parse("nats://h:1/EV?since=2026-12-05T16:30:00Z&until="
					 "1764952260.25&durable=me&host=node-1",
					 true, &u, err, sizeof(err)),
			 0);
	assert_true(u.has_since && u.has_until);
	assert_int_equal(u.since_ns, 1796488200000000000LL);
	assert_int_equal(u.until_ns, 1764952260250000000LL);
	assert_str_eq(u.durable, "me");
	assert_str_eq(u.host, "node-1");
	assert_false(u.by_event);
	assert_false(u.annotate);
	assert_int_equal(nats_url__parse("nats://h/EV?since=1&by=event&annotate=1", true, &u, err,
					 sizeof(err)),
			 0);
	assert_true(u.by_event);
	assert_true(u.annotate);
	assert_int_equal(u.since_ns, 1000000000LL);
	assert_int_equal(nats_url__parse("nats://h/EV?by=store", true, &u, err, sizeof(err)), 0);
	assert_false(u.by_event);
	assert_int_equal(nats_time__parse("2026-12-05T16:30:00.5", &ns), 0);
	assert_int_equal(ns, 1796488200500000000LL);
	assert_int_equal(nats_time__parse("2026-12-05T16:30:00+01", &ns), -EINVAL);
}

struct sink_out {
	char buf[256];
	size_t len;
};

/* "RUN:DATA " per record: the run handed to emit() is checked too. */
static int collect_out(void *priv, const char *run, const char *data, size_t len)
{
	struct sink_out *o = priv;

	o->len += (size_t)sprintf(o->buf + o->len, "%s:", run);
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->buf[o->len++] = ' ';
	o->buf[o->len] = '\0';
	return 0;
}

/* Two runs interleaved, one replayed out of order with a duplicate, one
 * with a record that never arrives. */
static void test_order(void **state)
{
	struct nats_order *o = nats_order__new();
	struct sink_out out = {};
	uint64_t gaps;

	(void)state;
	assert_non_null(o);
	assert_int_equal(nats_order__push(o, "A", 1, "a1", 2, collect_out, &out), 0);
	assert_int_equal(nats_order__push(o, "B", 1, "b1", 2, collect_out, &out), 0);
	assert_int_equal(nats_order__push(o, "A", 3, "a3", 2, collect_out, &out), 0);
	assert_int_equal(nats_order__push(o, "A", 3, "a3", 2, collect_out, &out), 1);
	assert_int_equal(nats_order__push(o, "B", 3, "b3", 2, collect_out, &out), 0);
	assert_int_equal(nats_order__push(o, "A", 2, "a2", 2, collect_out, &out), 0);
	assert_int_equal(nats_order__push(o, "A", 1, "a1", 2, collect_out, &out), 1);
	assert_str_eq(out.buf, "A:a1 B:b1 A:a2 A:a3 ");
	assert_int_equal(nats_order__finish(o, collect_out, &out, &gaps), 0);
	assert_str_eq(out.buf, "A:a1 B:b1 A:a2 A:a3 B:b3 ");
	assert_int_equal(gaps, 1);
	nats_order__free(o);
}

/* A selection that starts later (since=): the run's earlier records are
 * not missing. */
static void test_order_skip(void **state)
{
	struct nats_order *o = nats_order__new();
	struct sink_out out = {};
	uint64_t gaps;

	(void)state;
	assert_int_equal(nats_order__push(o, "A", 1, "s", 1, collect_out, &out), 0);
	assert_int_equal(nats_order__skip_to(o, "A", 40), 0);
	assert_int_equal(nats_order__push(o, "A", 40, "a40", 3, collect_out, &out), 0);
	assert_int_equal(nats_order__push(o, "A", 41, "a41", 3, collect_out, &out), 0);
	assert_int_equal(nats_order__finish(o, collect_out, &out, &gaps), 0);
	assert_str_eq(out.buf, "A:s A:a40 A:a41 ");
	assert_int_equal(gaps, 0);
	nats_order__free(o);
}

static void test_host_id_override(void **state)
{
	struct nats_host_id id;

	(void)state;
	setenv("RETISC_HOST_NAME", "node-7", 1);
	setenv("RETISC_MACHINE_ID", "m7", 1);
	setenv("RETISC_BOOT_ID", "b7", 1);
	assert_int_equal(nats_host_id__read(&id), 0);
	assert_str_eq(id.host, "node-7");
	assert_str_eq(id.machine, "m7");
	assert_str_eq(id.boot, "b7");
	unsetenv("RETISC_HOST_NAME");
	unsetenv("RETISC_MACHINE_ID");
	unsetenv("RETISC_BOOT_ID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_url),	cmocka_unit_test(test_sink_url_errors),
		cmocka_unit_test(test_input_url_times), cmocka_unit_test(test_order),
		cmocka_unit_test(test_order_skip),	cmocka_unit_test(test_host_id_override),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
