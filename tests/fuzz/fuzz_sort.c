// SPDX-License-Identifier: GPL-2.0-only
/*
 * An events file through the reader and the sort engine, each series
 * rendered: what `retisc sort` does (doc/processing.md), with a small
 * buffer and a forget window so that POP and GC paths run too. Then the
 * series file written both ways (doc/processing.md §2.7): every line parsed,
 * or lines the scanner accepts copied through; they must be the same bytes.
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

static int append_json(void *ctx, const char *buf, size_t len)
{
	return retisc_strbuf__append(ctx, buf, len);
}

/* The series file of path, lines parsed (raw false) or copied through. */
static void series_file(const char *path, bool raw, struct retisc_strbuf *out)
{
	struct retisc_sort_opts so = {
		.max_buffer = 64, .forget_ns = 1000000, .emit_json = append_json};
	struct retisc_sort_scan f;
	struct retisc_sort *s;
	struct retisc_reader *rd;
	struct retisc_json *ev;
	char err[512];
	const char *line;
	size_t len;
	uint64_t i = 0;
	int ret;

	rd = retisc_reader__open(path, err, sizeof(err));
	s = retisc_sort__new(retisc_registry__api(reg), &so, NULL, out);
	while (rd && s && i < 10000) {
		if (!raw) {
			if (retisc_reader__next(rd, &ev, err, sizeof(err)) <= 0)
				break;
		} else {
			if (retisc_reader__next_line(rd, &line, &len, &ev, err, sizeof(err)) <= 0)
				break;
			if (!ev && retisc_sort_scan__line(line, len, &f)) {
				if (retisc_sort__add_raw(s, line, len, &f, i++, err, sizeof(err)) ==
				    -ENOMEM)
					break;
				continue;
			}
			if (!ev && retisc_reader__parse_line(rd, retisc_reader__path(rd),
							     retisc_reader__line(rd), line, len,
							     &ev, err, sizeof(err)) <= 0)
				break;
		}
		ret = retisc_sort__add(s, ev, i++, err, sizeof(err));
		if (ret == -ENOMEM)
			break;
	}
	if (s)
		retisc_sort__finish(s);
	retisc_sort__free(s);
	retisc_reader__free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_strbuf tree = RETISC_STRBUF_INIT, raw = RETISC_STRBUF_INIT;
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

	series_file(path, false, &tree);
	series_file(path, true, &raw);
	if (tree.len != raw.len || (tree.len && memcmp(tree.buf, raw.buf, tree.len)))
		abort();
	retisc_strbuf__release(&tree);
	retisc_strbuf__release(&raw);
	close(fd);
	return 0;
}
