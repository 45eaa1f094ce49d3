/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the fuzz targets (tests/fuzz/README.md): libFuzzer entry points
 * and a registry with every plugin of the build loaded, for the targets
 * that decode or render sections.
 */
#ifndef __RETISC_FUZZ_H
#define __RETISC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Messages of rejected inputs are expected by the thousand: keep them quiet. */
static inline void fuzz_log_sink(enum retisc_log_level lvl, const char *line, void *priv)
{
	(void)lvl, (void)line, (void)priv;
}

/* The build's plugins ($RETISC_FUZZ_PLUGINS, default build/plugins). */
static inline struct retisc_registry *fuzz_registry(void)
{
	const char *dir = getenv("RETISC_FUZZ_PLUGINS") ?: "build/plugins";
	struct retisc_registry *reg;

	retisc_log__set_sink(fuzz_log_sink, NULL);
	reg = retisc_registry__new();
	if (!reg)
		abort();
	retisc_registry__set_strict_perms(reg, false);
	if (retisc_registry__load_dir(reg, dir) < 0)
		fprintf(stderr, "fuzz: no plugins loaded from %s\n", dir);
	return reg;
}

/* The input as a file (a memfd), for readers that take paths. -1 on error. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t sz)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, sz, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
