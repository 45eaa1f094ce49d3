/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading an events or series file into the analysis (input.c). */
#ifndef __RETISC_EXPLAIN_INPUT_H
#define __RETISC_EXPLAIN_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <retisc/plugin.h>

#include "explain.h"

struct retisc_xp_read_opts {
	const char *name; /* for the progress line */
	size_t max_buffer;
	bool keep_going;
	bool quiet; /* no progress line even on a terminal */
};

/*
 * Read rd to its end into x, then retisc_xp__finish(x). Errors are logged
 * (doc/processing.md §0). Returns the exit status: 0, or 1 after an error.
 */
int retisc_xp__read(const struct retisc_api *api, struct retisc_reader *rd, struct retisc_xp *x,
		    const struct retisc_xp_read_opts *o);

int retisc_report__run(void *priv, const struct retisc_api *api, int argc, char **argv);

#endif /* __RETISC_EXPLAIN_INPUT_H */
