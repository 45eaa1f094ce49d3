/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collect environment a collector's can_run() and init() see
 * (plugin.h): its options' values and the tracking mode.
 */
#ifndef __RETISC_COLLECT_ENV_H
#define __RETISC_COLLECT_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include <retisc/plugin.h>

struct retisc_collect_env {
	/* Collector options: name -> NULL-terminated values. */
	size_t n_opts;
	struct {
		char *name;
		char **values;
	} * opts;
	int tracking_mode;
	bool allow_system_changes;
};

bool retisc_collect_env__has_btf_type(const struct retisc_collect_env *env, const char *kind,
				      const char *name);
int retisc_collect_env__fact(const struct retisc_collect_env *env, int fact);
const char *const *retisc_collect_env__option(const struct retisc_collect_env *env,
					      const char *name);

#endif
