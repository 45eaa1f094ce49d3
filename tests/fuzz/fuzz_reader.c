// SPDX-License-Identifier: GPL-2.0-only
/*
 * An events or series file (doc/files.md) through the reader (detection,
 * Retis fix-ups) and the text renderer with every plugin's formatters: what
 * `retisc print` does with a file.
 */
#include "fuzz.h"

#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "reader.h"
#include "render.h"

static struct retisc_registry *reg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	reg = fuzz_registry();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_render_opts o = {.multiline = size & 1, .link_layer = true};
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;
	struct retisc_reader *rd;
	struct retisc_json *ev;
	char path[64], err[512];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	rd = retisc_reader__open(path, err, sizeof(err));
	if (rd) {
		retisc_renderer__init(&r, reg, &o);
		for (int i = 0; i < 10000 && retisc_reader__next(rd, &ev, err, sizeof(err)) > 0;
		     i++) {
			retisc_strbuf__reset(&out);
			if (retisc_reader__kind(rd) == RETISC_FILE_SERIES)
				retisc_renderer__series_framed(&r, ev, &out);
			else
				retisc_renderer__event_framed(&r, ev, &out);
			retisc_json__free(ev);
		}
		retisc_reader__free(rd);
	}
	retisc_strbuf__release(&out);
	close(fd);
	return 0;
}
