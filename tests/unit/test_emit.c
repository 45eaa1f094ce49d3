// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events collectors emit (api->event_emit(), plugin.h; core/collect/emit.c)
 * and how the bus writes them among the BPF events (core/collect/bus.c):
 * the queue's states and ownership, arrival order across threads, an event
 * emitted from a collector's on_event() written before the BPF event that
 * caused it, keys put in rank order, and --stop-after counting both.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "plugtest.h"

#include "collect_int.h"
#include "reader.h"

static struct retisc_registry *reg;

static int group_setup(void **state)
{
	static const char *const plugins[] = {"skb-tracking", NULL};

	(void)state;
	return plug_group_setup(&reg, plugins);
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	return 0;
}

/* An event {"common":{"timestamp":ts}}. */
static struct retisc_json *ev_ts(uint64_t ts)
{
	struct retisc_json *ev = retisc_json__new_object();
	struct retisc_json *common = retisc_json__new_object();

	assert_non_null(ev);
	assert_non_null(common);
	assert_int_equal(retisc_json__obj_set(common, "timestamp", retisc_json__new_u64(ts)), 0);
	assert_int_equal(retisc_json__obj_set(ev, "common", common), 0);
	return ev;
}

static uint64_t ts_of(const struct retisc_json *ev)
{
	uint64_t ts = 0;

	assert_true(retisc_json__get_u64(
		retisc_json__obj_get(retisc_json__obj_get(ev, "common"), "timestamp"), &ts));
	return ts;
}

/* Closed: -EAGAIN; open: FIFO; bad events refused; close frees the rest. */
static void test_queue(void **state)
{
	struct retisc_json *ev;

	(void)state;
	assert_int_equal(retisc_collect__emit(ev_ts(1)), -EAGAIN);
	assert_null(retisc_emitq__pop());
	retisc_emitq__open();
	assert_int_equal(retisc_collect__emit(NULL), -EINVAL);
	assert_int_equal(retisc_collect__emit(retisc_json__new_array()), -EINVAL);
	for (uint64_t i = 1; i <= 3; i++)
		assert_int_equal(retisc_collect__emit(ev_ts(i)), 0);
	for (uint64_t i = 1; i <= 2; i++) {
		ev = retisc_emitq__pop();
		assert_non_null(ev);
		assert_int_equal(ts_of(ev), i);
		retisc_json__free(ev);
	}
	assert_int_equal(retisc_emitq__close(), 1);
	assert_null(retisc_emitq__pop());
	assert_int_equal(retisc_collect__emit(ev_ts(4)), -EAGAIN);
}

/* A bounded queue: past 65536 waiting events, -ENOBUFS and a count. */
static void test_queue_full(void **state)
{
	size_t n = 0;
	int err;

	(void)state;
	retisc_emitq__open();
	while ((err = retisc_collect__emit(ev_ts(n))) == 0)
		n++;
	assert_int_equal(err, -ENOBUFS);
	assert_int_equal(n, 65536);
	assert_int_equal(retisc_collect__emit(ev_ts(0)), -ENOBUFS);
	assert_int_equal(retisc_emitq__dropped(), 2);
	assert_int_equal(retisc_emitq__close(), 65536);
	retisc_emitq__open();
	assert_int_equal(retisc_emitq__dropped(), 0);
	retisc_emitq__close();
}

/* Each thread's events stay in its order. */
static void *emitter(void *arg)
{
	uint64_t base = (uintptr_t)arg;

	for (uint64_t i = 0; i < 1000; i++)
		if (retisc_collect__emit(ev_ts(base + i)))
			return (void *)1;
	return NULL;
}

static void test_queue_threads(void **state)
{
	uint64_t next[2] = {0, 1000000};
	pthread_t t[2];
	struct retisc_json *ev;
	void *ret;

	(void)state;
	retisc_emitq__open();
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, emitter, (void *)(uintptr_t)next[i]),
				 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	while ((ev = retisc_emitq__pop())) {
		uint64_t ts = ts_of(ev);
		int i = ts >= 1000000;

		assert_int_equal(ts, next[i]);
		next[i]++;
		retisc_json__free(ev);
	}
	assert_int_equal(next[0], 1000);
	assert_int_equal(next[1], 1001000);
	retisc_emitq__close();
}

/* -------------------------------------------------------------------------
 * The bus: collect__on_event() with a collector that emits from on_event().
 */

static unsigned int seen_events;

/* Emits an event 1 ns older than each BPF event it sees, with its
 * sections in the wrong order (the core sorts them). */
static void emit_before(void *priv, const struct retisc_json *ev)
{
	struct retisc_json *e = retisc_json__new_object();
	struct retisc_json *trk = retisc_json__new_object();
	struct retisc_json *common = retisc_json__new_object();

	(void)priv;
	seen_events++;
	assert_int_equal(
		retisc_json__obj_set(common, "timestamp", retisc_json__new_u64(ts_of(ev) - 1)), 0);
	assert_null(retisc_json__obj_get(ev, "emitted"));
	assert_int_equal(retisc_json__obj_set(trk, "orig_head", retisc_json__new_u64(1)), 0);
	assert_int_equal(retisc_json__obj_set(trk, "timestamp", retisc_json__new_u64(2)), 0);
	assert_int_equal(retisc_json__obj_set(trk, "skb", retisc_json__new_u64(3)), 0);
	assert_int_equal(retisc_json__obj_set(e, "skb-tracking", trk), 0);
	assert_int_equal(retisc_json__obj_set(e, "common", common), 0);
	assert_int_equal(retisc_collect__emit(e), 0);
}

static const char *symbol_of(void *priv, uint32_t id)
{
	(void)priv;
	(void)id;
	return "net:netif_receive_skb";
}

struct bus {
	struct collect c;
	struct retisc_collector coll;
	const char *path;
};

static void bus_open(struct bus *b, uint64_t stop_after)
{
	struct retisc_startup_info info = {.cmdline = "test"};

	memset(b, 0, sizeof(*b));
	b->path = ring_path("%s/retisc-test-emit.%d.json", P_tmpdir, (int)getpid());
	b->coll = (struct retisc_collector){.name = "emitter", .on_event = emit_before};
	b->c.reg = reg;
	b->c.colls[0] = &b->coll;
	b->c.n_colls = b->c.n_inited = 1;
	b->c.dc =
		(struct retisc_decode_ctx){.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	b->c.o.stop_after = stop_after;
	b->c.o.out = b->path;
	b->c.writer = retisc_writer__open(b->path, &info, 0);
	assert_non_null(b->c.writer);
	seen_events = 0;
	retisc_emitq__open();
}

/* A BPF event (common and kernel sections) at ts through the bus. */
static int bus_event(struct bus *b, uint64_t ts)
{
	struct rawbuf r = {0};

	raw_put_probe(&r, ts, 0, 1, "ping", 0, RETISC_PROBE_RAW_TP);
	return collect__on_event(&b->c, r.b, r.len);
}

/* The timestamps of the file's events, startup left out; "e" marks the
 * emitted ones (no kernel section). */
static const char *bus_close(struct bus *b)
{
	static char got[256];
	struct retisc_reader *rd;
	struct retisc_json *ev;
	char err[256];
	size_t n = 0;

	retisc_emitq__close();
	assert_int_equal(retisc_writer__close(b->c.writer), 0);
	retisc_strbuf__release(&b->c.text);
	rd = retisc_reader__open(b->path, err, sizeof(err));
	assert_non_null(rd);
	got[0] = '\0';
	while (retisc_reader__next(rd, &ev, err, sizeof(err)) == RETISC_READ_OK) {
		if (!retisc_json__obj_get(ev, "startup")) {
			bool emitted = !retisc_json__obj_get(ev, "kernel");

			/* Keys in rank order: common first. */
			assert_str_eq(retisc_json__obj_key(ev, 0), "common");
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%llu%s", n ? " " : "",
					      (unsigned long long)ts_of(ev), emitted ? "e" : "");
		}
		retisc_json__free(ev);
	}
	retisc_reader__free(rd);
	unlink(b->path);
	return got;
}

/* on_event's emission precedes its event; another thread's emission is
 * written at the next event (or drain) in arrival order. */
static void test_bus_order(void **state)
{
	struct bus b;

	(void)state;
	bus_open(&b, 0);
	assert_int_equal(bus_event(&b, 100), 0);
	assert_int_equal(retisc_collect__emit(ev_ts(150)), 0);
	assert_int_equal(bus_event(&b, 200), 0);
	assert_int_equal(retisc_collect__emit(ev_ts(250)), 0);
	assert_int_equal(collect__emit_drain(&b.c), 0);
	assert_int_equal(seen_events, 2);
	assert_int_equal(atomic_load(&b.c.n_events), 6);
	assert_str_eq(bus_close(&b), "99e 100 150e 199e 200 250e");
}

/* --stop-after counts emitted events; past it nothing more is written. */
static void test_bus_stop_after(void **state)
{
	struct bus b;

	(void)state;
	bus_open(&b, 3);
	assert_int_equal(bus_event(&b, 100), 0);
	assert_int_equal(bus_event(&b, 200), -ECANCELED);
	assert_true(atomic_load(&b.c.stop_bus));
	assert_int_equal(retisc_collect__emit(ev_ts(300)), 0);
	assert_int_equal(collect__emit_drain(&b.c), -ECANCELED);
	assert_str_eq(bus_close(&b), "99e 100 199e");
}

/*
 * The direct path (doc/architecture.md §4.3, no collector watching events):
 * the same order and --stop-after count, events written as text; the
 * collector's on_event() is not called for them.
 */
static void test_bus_direct(void **state)
{
	struct bus b;

	(void)state;
	bus_open(&b, 4);
	b.c.direct = true;
	assert_int_equal(bus_event(&b, 100), 0);
	assert_int_equal(retisc_collect__emit(ev_ts(150)), 0);
	assert_int_equal(bus_event(&b, 200), 0);
	assert_int_equal(retisc_collect__emit(ev_ts(250)), 0);
	assert_int_equal(retisc_collect__emit(ev_ts(260)), 0);
	assert_int_equal(bus_event(&b, 300), -ECANCELED);
	assert_int_equal(seen_events, 0);
	assert_int_equal(atomic_load(&b.c.n_events), 4);
	assert_str_eq(bus_close(&b), "100 150e 200 250e");
	retisc_strbuf__release(&b.c.line);
	retisc_decode_ctx__release(&b.c.dc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue),	       cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_queue_threads),  cmocka_unit_test(test_bus_order),
		cmocka_unit_test(test_bus_stop_after), cmocka_unit_test(test_bus_direct),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
