// SPDX-License-Identifier: GPL-2.0-only
/* A pcap-filter expression through libpcap and the cBPF -> eBPF translation
 * of both stages (doc/filters.md §2). */
#include "fuzz.h"

#include "filter.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	retisc_log__set_sink(fuzz_log_sink, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_insns l2 = {}, l3 = {};
	char err[512], *expr = strndup((const char *)data, size);
	bool has_l3;

	if (!expr)
		return 0;
	retisc_filter__compile_pcap(expr, &l2, &l3, &has_l3, err, sizeof(err));
	retisc_insns__release(&l2);
	retisc_insns__release(&l3);
	free(expr);
	return 0;
}
