// SPDX-License-Identifier: GPL-2.0-only
/* Packet bytes through the dissector and its text (doc/events.md §6), with
 * and without link-layer details, and the tracking identity reader. */
#include "fuzz.h"

#include <retisc/strbuf.h>

#include "packet_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	retisc_packet__format(&sb, size ? data : NULL, size, false);
	retisc_strbuf__reset(&sb);
	retisc_packet__format(&sb, size ? data : NULL, size, true);
	retisc_strbuf__release(&sb);
	return 0;
}
