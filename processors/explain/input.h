/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading an events or series file into the analysis (input.c). */
#ifndef __RETISC_EXPLAIN_INPUT_H
#define __RETISC_EXPLAIN_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <retisc/plugin.h>
#include <retisc/procio.h>

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

/*
 * SIGINT/SIGTERM end the read loop of retisc_xp__read() (what was read is
 * still explained) and SIGPIPE is ignored, until restored: callers install
 * these around their whole run, output included (doc/processing.md §0).
 */
void retisc_xp__signals_install(struct retisc_proc_signals *s);
void retisc_xp__signals_restore(struct retisc_proc_signals *s);

int retisc_report__run(void *priv, const struct retisc_api *api, int argc, char **argv);

#endif /* __RETISC_EXPLAIN_INPUT_H */
