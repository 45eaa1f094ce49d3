/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __RETISC_COLLECT_H
#define __RETISC_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"

/* `retisc collect`: argv[0] is "collect". cmdline is the whole command line
 * for the startup event (after profile expansion). has_profile: a global -p
 * was given, which suppresses the default probes (doc/cli.md §3.3). Returns the
 * exit status. */
int retisc_cmd_collect(struct retisc_registry *reg, int argc, char **argv, const char *cmdline,
		       bool has_profile);

/*
 * Decode one raw event (ring buffer record) into a JSON event, with the
 * sections in doc/events.md §2 order. probe names are looked up through
 * symbol_of(probe_id) (NULL: "unknown-probe:<id>"). Exposed for unit tests and the
 * decode benchmark. NULL + errno (EINVAL for malformed data).
 */
struct retisc_decode_ctx {
	const struct retisc_registry *reg;
	/* Probe table: symbol and type of probe i. */
	const char *(*symbol_of)(void *priv, uint32_t probe_id);
	/* USDT probes: the traced binary (NULL callback or result: no "path"). */
	const char *(*path_of)(void *priv, uint32_t probe_id);
	void *priv;
	int stack_map_fd;   /* -1: stacks not resolved */
	uint64_t malformed; /* sections skipped because they were malformed */
	/* retisc_event__encode()'s scratch and its key -> rank cache. */
	struct retisc_strbuf text;
	struct {
		const char *key;
		uint32_t rank;
	} ranks[16];
	size_t n_ranks;
};
struct retisc_json *retisc_event__decode(struct retisc_decode_ctx *dc, const void *data,
					 size_t size);

/*
 * The event as one compact JSON line (no newline) appended to out, the
 * bytes retisc_json__dump() of retisc_event__decode() would write, without
 * building a tree (doc/architecture.md §4.3). 0; -EAGAIN when the event
 * needs the tree path (a section without an encoder, a stack, a malformed
 * or repeated section: decode() handles, logs and counts those); -ENOMEM.
 */
int retisc_event__encode(struct retisc_decode_ctx *dc, const void *data, size_t size,
			 struct retisc_strbuf *out);
/* Free what decoding allocated in dc (not dc itself). */
void retisc_decode_ctx__release(struct retisc_decode_ctx *dc);

/* Reorder an event's top-level keys by section rank (doc/events.md §2). */
int retisc_event__sort_sections(const struct retisc_registry *reg, struct retisc_json *event);

/*
 * api->event_emit() (plugin.h has the contract): queue event, taking it in
 * every case. 0, -EAGAIN (queue closed), -ENOBUFS (queue full), -EINVAL
 * (not an object), -ENOMEM. Any thread.
 */
int retisc_collect__emit(struct retisc_json *event);
/*
 * The queue behind it (core/collect/emit.c), process-wide: collect opens
 * it before the collectors' start() and closes it after their stop() and
 * the last drain. pop() returns the oldest event (the caller owns it) or
 * NULL; close() frees what is left and returns how many; dropped() counts
 * the events refused with -ENOBUFS since open().
 */
void retisc_emitq__open(void);
struct retisc_json *retisc_emitq__pop(void);
size_t retisc_emitq__close(void);
uint64_t retisc_emitq__dropped(void);

#endif
