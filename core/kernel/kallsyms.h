/* SPDX-License-Identifier: GPL-2.0-only */
/* /proc/kallsyms lookups: symbol addresses (probe targets, THREAD_SIZE) and
 * address symbolisation (stack traces). Loaded once, sorted, cached. */
#ifndef __RETISC_KALLSYMS_H
#define __RETISC_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>

/* Address of a text or data symbol, 0 if absent (or hidden by kptr_restrict). */
uint64_t retisc_kallsyms__addr(const char *name);
/* Number of symbols named name (for the THREAD_SIZE uniqueness rule). */
size_t retisc_kallsyms__count(const char *name);
/* Symbol containing addr: its name (borrowed) and *off, or NULL. */
const char *retisc_kallsyms__sym(uint64_t addr, uint64_t *off);
void retisc_kallsyms__release(void);

#endif
