// SPDX-License-Identifier: GPL-2.0-only
/*
 * --ovs-enrich-flows (doc/collectors.md §8.9): the unixctl replies of a
 * real ovs-vswitchd (Debian 12's 3.1, recorded with its userspace
 * datapath) decoded, reply framing, the ovs-detrace section built from
 * them, and the whole path (connect, list-commands, a flow hit asked once,
 * the event emitted) against a fake unixctl server replaying those
 * replies. Real ovs-vswitchd: tests/live/ovs.sh.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugtest.h"

#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "registry.h"

#include "ovs_enrich.h"

/* Recorded from ovs-vswitchd 3.1.0 (JSON-RPC replies, as sent). */
#define LIST_31                                                                                    \
	"The available commands are:\n"                                                            \
	"  autoattach/show-isid    [bridge]\n"                                                     \
	"  dpctl/get-flow          [dp] ufid:ufid [-m] [--pmd pmd]\n"                              \
	"  ofproto/trace           {[dp_name] odp_flow | bridge br_flow} [OPTIONS...] "            \
	"[-generate|packet]\n"                                                                     \
	"  ofproto/trace-packet-out [-consistent] {[dp_name] odp_flow | bridge br_flow} "          \
	"[OPTIONS...] [-generate|packet] actions\n"                                                \
	"  version\n"
#define GET_FLOW_REPLY                                                                             \
	"{\"id\": 1, \"result\": \"recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src="        \
	"7a:57:65:86:ff:ff,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.77.0.1,tip=10.77.0." \
	"2,"                                                                                       \
	"op=1), packets:2, bytes:84, used:0.215s, actions:1\\n\", \"error\": null}"
#define GET_FLOW_TEXT                                                                              \
	"recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=7a:57:65:86:ff:ff,dst=ff:ff:ff:"   \
	"ff:ff:ff),eth_type(0x0806),arp(sip=10.77.0.1,tip=10.77.0.2,op=1), packets:2, bytes:84, "  \
	"used:0.215s, actions:1"
#define NO_DETRACE_REPLY                                                                           \
	"{\"id\": 1, \"error\": \"\\\"ofproto/detrace\\\" is not a valid command (use "            \
	"\\\"list-commands\\\" to see a list of valid commands)\\n\"}"
#define NO_FLOW_REPLY                                                                              \
	"{\"id\": 1, \"error\": \"ovs-vswitchd: getting flow (No such file or directory)\\n\"}"
/* Made up in ofproto/detrace's form (one OpenFlow flow per line): the 3.1
 * above has no detrace. */
#define DETRACE_TEXT                                                                               \
	"cookie=0x0, table=0, priority=10,arp actions=NORMAL\n"                                    \
	"  \n"                                                                                     \
	"cookie=0x2, table=1, priority=0 actions=drop\n"

/* The ufid of the recorded flow: ufid:2c856bc5-79e6-4848-a25d-7c0b573ce244. */
static const __u32 UFID[4] = {0x2c856bc5, 0x79e64848, 0xa25d7c0b, 0x573ce244};

static struct retisc_registry *reg;
static const struct retisc_api *core_api;

static int group_setup(void **state)
{
	static const char *const none[] = {NULL};

	(void)state;
	if (plug_group_setup(&reg, none))
		return -1;
	core_api = retisc_registry__api(reg);
	return core_api ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	return 0;
}

static struct retisc_json *parse(const char *s)
{
	char err[128];
	struct retisc_json *v = core_api->json_parse(s, strlen(s), err, sizeof(err));

	if (!v)
		fail_msg("%s: %s", s, err);
	return v;
}

static char *dump(const struct retisc_json *v)
{
	static struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	retisc_strbuf__reset(&sb);
	assert_int_equal(core_api->json_dump(v, &sb), 0);
	return sb.buf;
}

static void test_frame_len(void **state)
{
	const char two[] = GET_FLOW_REPLY NO_FLOW_REPLY;
	const char tricky[] = "{\"result\": \"a } and \\\" { [\", \"id\": 2}{";

	(void)state;
	assert_int_equal(ovs_enrich__frame_len(two, strlen(two)), strlen(GET_FLOW_REPLY));
	/* Incomplete: every prefix of a reply. */
	for (size_t n = 0; n < strlen(GET_FLOW_REPLY); n++)
		assert_int_equal(ovs_enrich__frame_len(GET_FLOW_REPLY, n), 0);
	assert_int_equal(ovs_enrich__frame_len(tricky, strlen(tricky)), strlen(tricky) - 1);
	assert_int_equal(ovs_enrich__frame_len("  \n", 3), 0);
}

static void test_replies(void **state)
{
	struct retisc_json *r;
	const char *res, *error;

	(void)state;
	r = parse(GET_FLOW_REPLY);
	assert_int_equal(ovs_enrich__reply(core_api, r, &res, &error), 0);
	assert_string_equal(res, GET_FLOW_TEXT "\n");
	assert_null(error);
	core_api->json_free(r);

	r = parse(NO_DETRACE_REPLY);
	assert_int_equal(ovs_enrich__reply(core_api, r, &res, &error), -EPROTO);
	assert_null(res);
	assert_string_equal(error, "\"ofproto/detrace\" is not a valid command (use "
				   "\"list-commands\" to see a list of valid commands)\n");
	core_api->json_free(r);

	r = parse("{\"id\": 3, \"result\": null, \"error\": null}");
	assert_int_equal(ovs_enrich__reply(core_api, r, &res, &error), 0);
	assert_string_equal(res, "");
	core_api->json_free(r);

	r = parse("{\"id\": 3, \"error\": null}");
	assert_int_equal(ovs_enrich__reply(core_api, r, &res, &error), -EPROTO);
	assert_null(error);
	core_api->json_free(r);
}

static void test_commands(void **state)
{
	(void)state;
	assert_true(ovs_enrich__has_command(LIST_31, "dpctl/get-flow"));
	assert_true(ovs_enrich__has_command(LIST_31, "version"));
	/* 3.1 has ofproto/trace and trace-packet-out, not detrace. */
	assert_false(ovs_enrich__has_command(LIST_31, "ofproto/detrace"));
	assert_false(ovs_enrich__has_command(LIST_31, "ofproto/trace-packet"));
	assert_true(ovs_enrich__has_command(LIST_31 "  ofproto/detrace         UFID [pmd=PMD-ID]\n",
					    "ofproto/detrace"));
}

static void test_section(void **state)
{
	char ufid[64];
	struct retisc_json *s;

	(void)state;
	ovs_enrich__ufid_str(UFID, ufid, sizeof(ufid));
	assert_string_equal(ufid, "ufid:2c856bc5-79e6-4848-a25d-7c0b573ce244");
	s = ovs_enrich__section(core_api, UFID, 0xffff88800a1b2c00ULL, 0xffff88800a1b3d00ULL,
				GET_FLOW_TEXT "\n", DETRACE_TEXT);
	assert_non_null(s);
	assert_string_equal(dump(s), "{\"ufid\":[746941381,2045134920,2724035595,1463607876],"
				     "\"flow\":18446612682239585280,\"sf_acts\":"
				     "18446612682239589632,\"dpflow\":\"" GET_FLOW_TEXT "\","
				     "\"ofpflows\":[\"cookie=0x0, table=0, priority=10,arp "
				     "actions=NORMAL\",\"cookie=0x2, table=1, priority=0 "
				     "actions=drop\"]}");
	core_api->json_free(s);
	/* Without detrace (OVS < 3.4): no OpenFlow flows. */
	s = ovs_enrich__section(core_api, UFID, 1, 2, GET_FLOW_TEXT, NULL);
	assert_non_null(s);
	assert_string_equal(dump(s), "{\"ufid\":[746941381,2045134920,2724035595,1463607876],"
				     "\"flow\":1,\"sf_acts\":2,\"dpflow\":\"" GET_FLOW_TEXT "\","
				     "\"ofpflows\":[]}");
	core_api->json_free(s);
}

/* -------------------------------------------------------------------------
 * The whole path against a fake ovs-vswitchd.
 */

static struct {
	int lfd;
	bool detrace;
	int cache_misses; /* get-flow replies "" this many times first */
	struct retisc_strbuf requests;
	pthread_mutex_t lock;
	struct retisc_json *emitted[8];
	size_t n_emitted;
	const char *rate;
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void reply(int fd, unsigned long id, const char *result, const char *error)
{
	struct retisc_json *o = core_api->json_new_object();
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	core_api->json_obj_set(o, "id", core_api->json_new_u64(id));
	core_api->json_obj_set(o, "result",
			       result ? core_api->json_new_str(result) : core_api->json_new_null());
	core_api->json_obj_set(o, "error",
			       error ? core_api->json_new_str(error) : core_api->json_new_null());
	core_api->json_dump(o, &sb);
	/* In two writes: the client must wait for the whole reply. */
	assert_int_equal(write(fd, sb.buf, sb.len / 2), (ssize_t)(sb.len / 2));
	usleep(2000);
	assert_int_equal(write(fd, sb.buf + sb.len / 2, sb.len - sb.len / 2),
			 (ssize_t)(sb.len - sb.len / 2));
	retisc_strbuf__release(&sb);
	core_api->json_free(o);
}

static void *server(void *arg)
{
	char buf[4096];
	size_t len = 0;
	int fd = accept(fake.lfd, NULL, NULL);

	(void)arg;
	while (fd >= 0) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);
		size_t n;

		if (r <= 0)
			break;
		len += (size_t)r;
		while ((n = ovs_enrich__frame_len(buf, len))) {
			char err[64];
			struct retisc_json *req = core_api->json_parse(buf, n, err, sizeof(err));
			const char *m =
				core_api->json_get_str(core_api->json_obj_get(req, "method"), NULL);
			const struct retisc_json *p = core_api->json_obj_get(req, "params");
			uint64_t id = 0;

			core_api->json_get_u64(core_api->json_obj_get(req, "id"), &id);
			pthread_mutex_lock(&fake.lock);
			retisc_strbuf__printf(&fake.requests, "%s", m);
			for (size_t i = 0; i < core_api->json_arr_len(p); i++)
				retisc_strbuf__printf(
					&fake.requests, " %s",
					core_api->json_get_str(core_api->json_arr_get(p, i), NULL));
			retisc_strbuf__putc(&fake.requests, '\n');
			pthread_mutex_unlock(&fake.lock);
			if (!strcmp(m, "list-commands"))
				reply(fd, id,
				      fake.detrace ? LIST_31
					      "  ofproto/detrace  UFID [pmd=PMD-ID]\n"
						   : LIST_31,
				      NULL);
			else if (!strcmp(m, "dpctl/get-flow"))
				reply(fd, id, fake.cache_misses-- > 0 ? "" : GET_FLOW_TEXT "\n",
				      NULL);
			else if (!strcmp(m, "ofproto/detrace"))
				reply(fd, id, DETRACE_TEXT, NULL);
			else
				reply(fd, id, NULL, "unknown command");
			core_api->json_free(req);
			memmove(buf, buf + n, len - n);
			len -= n;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static const char *const flag[] = {"", NULL};

static const char *const *fake_option(const struct retisc_collect_env *env, const char *name)
{
	static const char *rate[2];

	(void)env;
	if (!strcmp(name, "ovs-enrich-flows"))
		return flag;
	if (!strcmp(name, "ovs-enrich-rate") && fake.rate) {
		rate[0] = fake.rate;
		return rate;
	}
	return NULL;
}

static int fake_emit(struct retisc_json *event)
{
	pthread_mutex_lock(&fake.lock);
	if (fake.n_emitted < 8)
		fake.emitted[fake.n_emitted++] = event;
	else
		core_api->json_free(event);
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

/* Run a collection: init, start, the events, wait for n emitted, stop. */
static void run(struct retisc_api *api, const char *const *events, size_t n_events, size_t want)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pthread_t t;

	assert_int_equal(make_tmp_dir(dir, "ovs-enrich"), 0);
	snprintf(path, sizeof(path), "%s/ovs-vswitchd.pid", dir);
	write_text_file(path, "4242\n");
	assert_true(strlen(dir) + 24 < sizeof(sa.sun_path));
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/ovs-vswitchd.4242.ctl", 23);
	fake.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fake.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fake.lfd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, server, NULL), 0);
	setenv("OVS_RUNDIR", dir, 1);

	assert_int_equal(ovs_enrich__init(api, NULL), 0);
	assert_int_equal(ovs_enrich__start(), 0);
	for (size_t i = 0; i < n_events; i++) {
		struct retisc_json *ev = parse(events[i]);

		ovs_enrich__on_event(ev);
		core_api->json_free(ev);
	}
	for (int i = 0; i < 300; i++) {
		size_t n;

		pthread_mutex_lock(&fake.lock);
		n = fake.n_emitted;
		pthread_mutex_unlock(&fake.lock);
		if (n >= want)
			break;
		usleep(10000);
	}
	ovs_enrich__stop();
	pthread_join(t, NULL);
	close(fake.lfd);
	unsetenv("OVS_RUNDIR");
	rm_tree(dir);
}

#define LOOKUP(flow)                                                                               \
	"{\"common\":{\"timestamp\":1},\"ovs\":{\"event_type\":\"flow_lookup\",\"flow\":" flow     \
	",\"sf_acts\":7,\"ufid\":[746941381,2045134920,2724035595,1463607876],\"n_mask_hit\":1,"   \
	"\"n_cache_hit\":0,\"dpflow\":\"\",\"ofpflows\":[]}}"

static void reset_fake(void)
{
	for (size_t i = 0; i < fake.n_emitted; i++)
		core_api->json_free(fake.emitted[i]);
	fake.n_emitted = 0;
	retisc_strbuf__reset(&fake.requests);
}

static void test_enrich_path(void **state)
{
	static const char *const events[] = {
		LOOKUP("5"),
		LOOKUP("5"), /* the same flow: asked once */
		LOOKUP("0"), /* a miss: nothing to ask */
		"{\"common\":{\"timestamp\":2},\"ovs\":{\"event_type\":\"upcall\",\"cmd\":1,"
		"\"port\":0,\"cpu\":0}}",
	};
	struct retisc_api api = *core_api;
	struct retisc_json *det;

	(void)state;
	api.env_option = fake_option;
	api.event_emit = fake_emit;
	fake.rate = "1000";

	/* 3.1: no detrace (the warning), the flow is being installed once. */
	fake.detrace = false;
	fake.cache_misses = 1;
	plug_setup(NULL);
	run(&api, events, 4, 1);
	assert_log_has("ovs: Running OpenvSwitch does not support 'ofproto/detrace', only "
		       "datapath flows will be enriched");
	assert_string_equal(fake.requests.buf,
			    "list-commands\n"
			    "dpctl/get-flow ufid:2c856bc5-79e6-4848-a25d-7c0b573ce244\n"
			    "dpctl/get-flow ufid:2c856bc5-79e6-4848-a25d-7c0b573ce244\n");
	assert_int_equal(fake.n_emitted, 1);
	det = core_api->json_obj_get(fake.emitted[0], "ovs-detrace");
	assert_non_null(det);
	assert_string_equal(dump(det), "{\"ufid\":[746941381,2045134920,2724035595,1463607876],"
				       "\"flow\":5,\"sf_acts\":7,\"dpflow\":\"" GET_FLOW_TEXT "\","
				       "\"ofpflows\":[]}");
	assert_non_null(core_api->json_obj_get(core_api->json_obj_get(fake.emitted[0], "common"),
					       "timestamp"));
	reset_fake();

	/* 3.4+: detrace asked too, with the "not a PMD thread" id. */
	fake.detrace = true;
	fake.cache_misses = 0;
	run(&api, events, 4, 1);
	assert_string_equal(fake.requests.buf,
			    "list-commands\n"
			    "dpctl/get-flow ufid:2c856bc5-79e6-4848-a25d-7c0b573ce244\n"
			    "ofproto/detrace ufid:2c856bc5-79e6-4848-a25d-7c0b573ce244 "
			    "pmd=2147483647\n");
	assert_int_equal(fake.n_emitted, 1);
	det = core_api->json_obj_get(fake.emitted[0], "ovs-detrace");
	assert_int_equal(core_api->json_arr_len(core_api->json_obj_get(det, "ofpflows")), 2);
	reset_fake();
	fake.rate = NULL;
}

/* More distinct flows than the queue holds at 1 request a second: one
 * warning, then the count at the end. */
static void test_enrich_queue_full(void **state)
{
	static char bufs[110][400];
	const char *events[110];
	struct retisc_api api = *core_api;

	(void)state;
	api.env_option = fake_option;
	api.event_emit = fake_emit;
	fake.rate = "1";
	fake.detrace = false;
	fake.cache_misses = 0;
	for (int i = 0; i < 110; i++) {
		snprintf(bufs[i], sizeof(bufs[i]),
			 "{\"common\":{\"timestamp\":1},\"ovs\":{\"event_type\":\"flow_lookup\","
			 "\"flow\":5,\"sf_acts\":7,\"ufid\":[1,2,3,%d],\"n_mask_hit\":1,"
			 "\"n_cache_hit\":0,\"dpflow\":\"\",\"ofpflows\":[]}}",
			 i);
		events[i] = bufs[i];
	}
	plug_setup(NULL);
	run(&api, events, 110, 0);
	assert_log_has("ovs: Flow enrichment channel full, dropping enrichment request");
	assert_log_has(" flow enrichment request(s) dropped (channel full)");
	/* Once, not per dropped request. */
	assert_null(strstr(strstr(retisc_strbuf__str(&logs), "channel full, dropping") + 1,
			   "channel full, dropping"));
	reset_fake();
	fake.rate = NULL;
}

static void test_enrich_errors(void **state)
{
	struct retisc_api api = *core_api;
	char dir[PATH_MAX], path[PATH_MAX + 32];

	(void)state;
	api.env_option = fake_option;
	api.event_emit = fake_emit;
	plug_setup(NULL);
	fake.rate = "0";
	assert_int_equal(ovs_enrich__init(&api, NULL), -EINVAL);
	assert_log_has("ovs: --ovs-enrich-rate: '0' is not a number of requests per second (1 "
		       "to 1000000)");
	fake.rate = NULL;
	/* A pid file, no socket. */
	assert_int_equal(make_tmp_dir(dir, "ovs-enrich"), 0);
	snprintf(path, sizeof(path), "%s/ovs-vswitchd.pid", dir);
	write_text_file(path, "4243\n");
	setenv("OVS_RUNDIR", dir, 1);
	assert_int_equal(ovs_enrich__init(&api, NULL), -ENOENT);
	ovs_enrich__stop();
	assert_log_has("ovs: Failed to connect to OVS via unixctl (");
	assert_log_has("/ovs-vswitchd.4243.ctl: No such file or directory)");
	unsetenv("OVS_RUNDIR");
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_len),     cmocka_unit_test(test_replies),
		cmocka_unit_test(test_commands),      cmocka_unit_test(test_section),
		cmocka_unit_test(test_enrich_path),   cmocka_unit_test(test_enrich_queue_full),
		cmocka_unit_test(test_enrich_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
