/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __RETISC_INSPECT_H
#define __RETISC_INSPECT_H

#include "registry.h"

/* `retisc inspect` (doc/cli.md §4.1); argv[0] is "inspect". Exit status. */
int retisc_cmd_inspect(const struct retisc_registry *reg, int argc, char **argv);

#endif
