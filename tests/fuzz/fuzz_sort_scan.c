// SPDX-License-Identifier: GPL-2.0-only
/*
 * sort's line scanner (processors/sort/sort_scan.c) on arbitrary bytes: a
 * line it accepts must be exactly what the JSON writer writes for the
 * parsed line, with the same timestamp and id, since sort copies it
 * through instead of writing the tree (doc/processing.md §2.7).
 */
#include "fuzz.h"

#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "sort_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	const struct retisc_json *st;
	struct retisc_sort_scan f;
	struct retisc_json *v;
	uint64_t u;
	char err[256];

	if (!retisc_sort_scan__line((const char *)data, size, &f))
		return 0;
	v = retisc_json__parse((const char *)data, size, err, sizeof(err));
	if (!v || retisc_json__dump(v, &sb) || sb.len != size || memcmp(sb.buf, data, size))
		abort();
	if (!retisc_json__obj_get_u64(retisc_json__obj_get(v, "common"), "timestamp", &u) ||
	    u != f.ts)
		abort();
	st = retisc_json__obj_get(v, "skb-tracking");
	if (!!st != f.has_id || f.insert_at >= size)
		abort();
	if (st && (!retisc_json__obj_get_u64(st, "timestamp", &u) || u != f.id_ts ||
		   !retisc_json__obj_get_u64(st, "orig_head", &u) || u != f.id_head ||
		   !retisc_json__obj_get_u64(st, "skb", &u) || u != f.id_skb))
		abort();
	retisc_json__free(v);
	retisc_strbuf__release(&sb);
	return 0;
}
