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
/*
 * Read the file on a thread of its own now, so that the kernel's 40 ms of
 * formatting it overlap other start-up work; lookups wait for it.
 */
void retisc_kallsyms__prefetch(void);
/* Replace the cache with the symbols of a file in /proc/kallsyms format
 * (tests). 0, or -ENOENT if it cannot be read. */
int retisc_kallsyms__load_path(const char *path);

#endif
