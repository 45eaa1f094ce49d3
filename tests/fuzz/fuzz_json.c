// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON parser on arbitrary bytes, and its dump of what it accepted.
 * The same bytes behind a space go to the general parser only (the compact
 * fast path needs '{' or '[' first): both must agree on acceptance and on
 * the tree.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <retisc/json.h>
#include <retisc/strbuf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_strbuf sa = RETISC_STRBUF_INIT, sb = RETISC_STRBUF_INIT;
	struct retisc_json *v, *w;
	char err[256], *spaced;

	v = retisc_json__parse((const char *)data, size, err, sizeof(err));
	spaced = malloc(size + 1);
	if (!spaced)
		abort();
	spaced[0] = ' ';
	memcpy(spaced + 1, data, size);
	w = retisc_json__parse(spaced, size + 1, err, sizeof(err));
	if (!v != !w)
		abort();
	if (v) {
		if (retisc_json__dump(v, &sa) || retisc_json__dump(w, &sb))
			abort();
		if (sa.len != sb.len || memcmp(sa.buf, sb.buf, sa.len))
			abort();
	}
	retisc_json__free(v);
	retisc_json__free(w);
	free(spaced);
	retisc_strbuf__release(&sa);
	retisc_strbuf__release(&sb);
	return 0;
}
