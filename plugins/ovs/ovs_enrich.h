/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --ovs-enrich-flows (doc/collectors.md §8.9): ovs-vswitchd's datapath and
 * OpenFlow flows of each flow hit, asked over its unixctl socket and
 * emitted as ovs-detrace events. ovs.c calls the lifecycle functions; the
 * reply helpers are exposed for the unit tests (recorded replies).
 */
#ifndef __RETISC_OVS_ENRICH_H
#define __RETISC_OVS_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <retisc/plugin.h>

/* Collector lifecycle: init() reads the options and connects (-errno,
 * logged), start() starts the thread, stop() ends it, on_event() queues
 * the flow hits of the collection's events. Without the option they do
 * nothing. */
int ovs_enrich__init(const struct retisc_api *api, const struct retisc_collect_env *env);
int ovs_enrich__start(void);
void ovs_enrich__stop(void);
void ovs_enrich__on_event(const struct retisc_json *event);

/* Length of the first complete JSON value of buf (a unixctl reply: OVS
 * sends them back to back, unframed), 0 while incomplete. */
size_t ovs_enrich__frame_len(const char *buf, size_t len);

/*
 * A JSON-RPC reply: 0 with *result (borrowed from reply, "" when null),
 * or -EPROTO with *error (the reply's error string, or NULL when the reply
 * is malformed).
 */
int ovs_enrich__reply(const struct retisc_api *api, const struct retisc_json *reply,
		      const char **result, const char **error);

/* Does list-commands' result name command? */
bool ovs_enrich__has_command(const char *list, const char *command);

/* "ufid:..." as OVS writes it, into buf (at least 46 bytes). */
void ovs_enrich__ufid_str(const __u32 ufid[4], char *buf, size_t sz);

/* The ovs-detrace section (doc/events.md §4.12) from the replies of
 * dpctl/get-flow and ofproto/detrace (NULL: not asked). NULL + errno. */
struct retisc_json *ovs_enrich__section(const struct retisc_api *api, const __u32 ufid[4],
					__u64 flow, __u64 sf_acts, const char *dpflow,
					const char *detrace);

#endif
