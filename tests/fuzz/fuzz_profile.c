// SPDX-License-Identifier: GPL-2.0-only
/* A profile file (doc/cli.md §5) through the YAML profile parser. */
#include "fuzz.h"

#include "profile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	retisc_log__set_sink(fuzz_log_sink, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct retisc_profile_file *f =
		retisc_profile_file__parse("fuzz.yaml", (const char *)data, size, err, sizeof(err));

	retisc_profile_file__free(f);
	return 0;
}
