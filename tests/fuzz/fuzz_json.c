// SPDX-License-Identifier: GPL-2.0-only
/* The JSON parser on arbitrary bytes, and its dump of what it accepted. */
#include "fuzz.h"

#include <retisc/json.h>
#include <retisc/strbuf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *v;
	char err[256];

	v = retisc_json__parse((const char *)data, size, err, sizeof(err));
	if (v) {
		retisc_json__dump(v, &sb);
		retisc_json__free(v);
	}
	retisc_strbuf__release(&sb);
	return 0;
}
