/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sort's line scanner (doc/processing.md §2.7): one pass over an event line
 * that finds what the algorithm needs (common.timestamp, the skb-tracking
 * id, where `tracking` goes) without building a JSON tree, so that the rest
 * of the line can be copied to the output as it is.
 *
 * That copy is only right when the line is exactly what the core's JSON
 * writer would write for it: compact, integers in shortest form, strings
 * without escapes, no repeated key. The scanner checks all of that and
 * declines any other line, and every line holding a section the algorithm
 * reads more of (startup, tracking, ovs, ovs-detrace); the caller then
 * parses the line into a tree as before. So it never decides anything the
 * tree path would decide differently, errors included.
 */
#ifndef __RETISC_SORT_SCAN_H
#define __RETISC_SORT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct retisc_sort_scan {
	uint64_t ts; /* common.timestamp */
	/* skb-tracking: has_id, then its id and fields. */
	bool has_id;
	uint64_t id_ts, id_head, id_skb;
	uint64_t lost; /* skb-tracking.lost, 0 when absent */
	/*
	 * Where `tracking` goes (doc/events.md §2 ranks): the offset of the
	 * first top-level key ranked after it, or of the closing brace when
	 * there is none (at_end).
	 */
	size_t insert_at;
	bool at_end;
};

/*
 * Scan line (len bytes, no newline). true with *out filled when the line
 * can be copied through; false when it must be parsed (see above).
 */
bool retisc_sort_scan__line(const char *line, size_t len, struct retisc_sort_scan *out);

#endif /* __RETISC_SORT_SCAN_H */
