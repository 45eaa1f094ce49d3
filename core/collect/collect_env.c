// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include <retisc/tracking.h>

#include "btf_info.h"
#include "collect_env.h"

bool retisc_collect_env__has_btf_type(const struct retisc_collect_env *env, const char *kind,
				      const char *name)
{
	(void)env;
	return retisc_btf__has_type(kind, name);
}

const char *const *retisc_collect_env__option(const struct retisc_collect_env *env,
					      const char *name)
{
	if (!env)
		return NULL;
	for (size_t i = 0; i < env->n_opts; i++)
		if (!strcmp(env->opts[i].name, name))
			return (const char *const *)env->opts[i].values;
	return NULL;
}

int retisc_collect_env__fact(const struct retisc_collect_env *env, int fact)
{
	switch (fact) {
	case RETISC_ENV_KPROBES:
		return env && env->tracking_mode == RETISC_TRACKING_KPROBE;
	case RETISC_ENV_SYSTEM_CHANGES:
		return env && env->allow_system_changes;
	}
	return -EINVAL;
}
