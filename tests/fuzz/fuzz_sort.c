// SPDX-License-Identifier: GPL-2.0-only
/*
 * An events file through the reader and the sort engine, each series
 * rendered: what `retisc sort` does (doc/processing.md), with a small
 * buffer and a forget window so that POP and GC paths run too.
 */
#include "fuzz.h"

#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "reader.h"
#include "render.h"
#include "sort_engine.h"

static struct retisc_registry *reg;
static struct retisc_renderer rend;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct retisc_render_opts o = {.multiline = true};

	(void)argc, (void)argv;
	reg = fuzz_registry();
	retisc_renderer__init(&rend, reg, &o);
	return 0;
}

static int emit(void *ctx, const struct retisc_json *series, const struct retisc_sort_note *notes,
		size_t n)
{
	struct retisc_strbuf *out = ctx;

	(void)notes, (void)n;
	retisc_strbuf__reset(out);
	return retisc_renderer__series_framed(&rend, series, out) == -ENOMEM ? -ENOMEM : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_sort_opts so = {
		.max_buffer = 64, .forget_ns = 1000000, .deltas = true, .diff = true, .lost = true};
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_sort *s;
	struct retisc_reader *rd;
	struct retisc_json *ev;
	char path[64], err[512];
	int fd = fuzz_file(data, size, path, sizeof(path));
	uint64_t i = 0;

	if (fd < 0)
		return 0;
	rd = retisc_reader__open(path, err, sizeof(err));
	s = retisc_sort__new(retisc_registry__api(reg), &so, emit, &out);
	if (rd && s) {
		while (i < 10000 && retisc_reader__next(rd, &ev, err, sizeof(err)) > 0)
			if (retisc_sort__add(s, ev, i++, err, sizeof(err)) == -ENOMEM)
				break;
		retisc_sort__finish(s);
	}
	retisc_sort__free(s);
	retisc_reader__free(rd);
	retisc_strbuf__release(&out);
	close(fd);
	return 0;
}
