/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sort algorithm of doc/processing.md §2.2-§2.5, apart from its command
 * line: tracking assignment (with the OVS upcall stitching rules), the
 * bounded buffer and the POP order. Events go in one by one; series come out
 * through a callback, oldest first.
 *
 * Unlike Retis, the id maps do not grow with the input: an entry unused for
 * forget_ns of event time is dropped (see retisc_sort_opts), so memory is
 * bounded by max_buffer events plus the ids still open.
 */
#ifndef __RETISC_SORT_ENGINE_H
#define __RETISC_SORT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>

#include "sort_scan.h"

struct retisc_sort;

struct retisc_sort_opts {
	/* --max-buffer: POP while this many events are buffered; 0 = never
	 * before the end of the input. */
	size_t max_buffer;
	/*
	 * Forget an id (skb id, OVS queue id, upcall, flow enrichment) that no
	 * event used for this long, in ns of event time (the largest
	 * common.timestamp read so far). 0 keeps everything, as Retis does.
	 */
	uint64_t forget_ns;
	/*
	 * --max-ids: at most this many entries per map (ids, queues, upcalls,
	 * flows); beyond, the least recently used go first, whatever their
	 * age (doc/processing.md §2.5). A file of distinct ids all within
	 * forget_ns of each other cannot grow the maps without bound. 0 = no
	 * limit.
	 */
	size_t max_ids;
	/*
	 * When set, series go to this callback instead of the emit one given
	 * to __new(), as JSON text (doc/processing.md §2.6): each series is
	 * one line ("[...]\n") handed over in several pieces, in order, buf
	 * valid during the call; the events of __add() written by the JSON
	 * writer, those of __add_raw() as they were read with their `tracking`
	 * spliced in. A negative return stops the sort as for emit.
	 * __add_raw() needs it.
	 */
	int (*emit_json)(void *ctx, const char *buf, size_t len);
	/* Compute the text annotations of struct retisc_sort_note. */
	bool deltas;
	bool diff;
	bool lost;
};

/* retisc text annotations of one event of an emitted series. */
struct retisc_sort_note {
	/* Caller's tag given to __add() (where the event was read). */
	uint64_t origin;
	/* --deltas: ns since the previous event of the same packet. */
	bool has_delta;
	int64_t delta_ns;
	/* "lost" of the event's skb-tracking section (0 if none). */
	uint64_t lost;
	/* --diff: "dst 10.0.0.1 -> 10.0.0.2, if 2 (a) -> 3 (b)" or NULL. */
	char *diff;
};

/*
 * Receives every series, oldest first: an array of events (borrowed, valid
 * during the call) and one note per event. A negative return stops the
 * sort and is returned by __add()/__finish() (e.g. -EPIPE).
 */
typedef int (*retisc_sort_emit_fn)(void *ctx, const struct retisc_json *series,
				   const struct retisc_sort_note *notes, size_t n);

/* Sizes of the state, for the bounded-memory checks and debug logs. */
struct retisc_sort_counts {
	size_t ids, queues, upcalls, flows; /* entries now */
	size_t buffered, series;	    /* events and series now buffered */
	size_t peak_ids, peak_queues, peak_upcalls, peak_flows, peak_buffered;
	/* Peak bytes of the maps and tracking infos (doc/processing.md §2.7). */
	size_t peak_state_bytes;
	uint64_t events;    /* events added */
	uint64_t emitted;   /* series emitted */
	uint64_t forgotten; /* map entries dropped by forget_ns */
};

/* NULL + errno (ENOMEM, EINVAL). api and opts are copied/borrowed: api must
 * outlive the sorter. */
struct retisc_sort *retisc_sort__new(const struct retisc_api *api,
				     const struct retisc_sort_opts *opts, retisc_sort_emit_fn emit,
				     void *ctx);
/* Frees what is still buffered without emitting it. Accepts NULL. */
void retisc_sort__free(struct retisc_sort *s);

/*
 * Add one event (ownership is taken, also on error), in input order; may
 * emit series. origin is handed back in the event's note. Returns 0, the
 * emit callback's error, -ENOMEM, or -EINVAL with a message in err (an
 * event the algorithm rejects: "Enqueue without an associated upcall
 * event.", "malformed event: no common section", ...); the sorter stays
 * usable after -EINVAL (the event is dropped).
 */
int retisc_sort__add(struct retisc_sort *s, struct retisc_json *event, uint64_t origin, char *err,
		     size_t errsz);

/*
 * Add one event given as a line that retisc_sort_scan__line() accepted (f,
 * its result), in input order with the __add() ones; only with emit_json.
 * The line is copied. Same returns as __add() (-EINVAL without emit_json).
 */
int retisc_sort__add_raw(struct retisc_sort *s, const char *line, size_t len,
			 const struct retisc_sort_scan *f, uint64_t origin, char *err,
			 size_t errsz);

/*
 * A hint, for a caller that knows the ids of the events it will add next:
 * stage 0 fetches the hash bucket of id (ts, head) into the cache, stage 1
 * (some events later) the entry it leads to. The id map is far bigger than
 * the caches: each add otherwise waits for both, one after the other.
 */
void retisc_sort__prefetch(const struct retisc_sort *s, uint64_t ts, uint64_t head, int stage);

/* End of input: emit everything still buffered (POP until empty). */
int retisc_sort__finish(struct retisc_sort *s);

void retisc_sort__counts(const struct retisc_sort *s, struct retisc_sort_counts *out);

#endif /* __RETISC_SORT_ENGINE_H */
