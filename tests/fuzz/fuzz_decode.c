// SPDX-License-Identifier: GPL-2.0-only
/*
 * A raw event as the ring buffer delivers it (doc/events.md §7: section
 * headers and payloads) through the core's decoder and every plugin's
 * section decoders, then rendered; and through the direct path, whose line
 * must be the tree's JSON.
 */
#include "fuzz.h"

#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "collect.h"
#include "render.h"

static struct retisc_registry *reg;
static struct retisc_renderer rend;

static const char *symbol_of(void *priv, uint32_t id)
{
	(void)priv;
	return id < 4 ? "net:netif_receive_skb" : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct retisc_render_opts o = {.multiline = true, .link_layer = true};

	(void)argc, (void)argv;
	reg = fuzz_registry();
	retisc_renderer__init(&rend, reg, &o);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_decode_ctx dc = {.reg = reg, .symbol_of = symbol_of, .stack_map_fd = -1};
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_json *ev = retisc_event__decode(&dc, data, size);

	struct retisc_strbuf line = RETISC_STRBUF_INIT;

	/* The direct path (doc/architecture.md §4.3) writes what the tree
	 * path writes, or leaves the record to it. */
	if (!retisc_event__encode(&dc, data, size, &line)) {
		if (!ev || retisc_json__dump(ev, &out) || strcmp(out.buf, line.buf))
			abort();
		retisc_strbuf__reset(&out);
	}
	if (ev) {
		retisc_renderer__event_framed(&rend, ev, &out);
		retisc_json__dump(ev, &out);
		retisc_json__free(ev);
	}
	retisc_strbuf__release(&out);
	retisc_strbuf__release(&line);
	retisc_decode_ctx__release(&dc);
	return 0;
}
