// SPDX-License-Identifier: GPL-2.0-only
/* A meta filter expression (doc/filters.md §4) compiled against this
 * kernel's BTF. */
#include "fuzz.h"

#include <bpf/btf.h>

#include "filter.h"
#include "filter_meta.h"

static struct btf *btf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	retisc_log__set_sink(fuzz_log_sink, NULL);
	btf = btf__load_vmlinux_btf();
	if (!btf)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retisc_insns out = {};
	char err[512], *expr = strndup((const char *)data, size);

	if (!expr)
		return 0;
	retisc_filter__compile_meta_btf(expr, btf, &out, err, sizeof(err));
	retisc_insns__release(&out);
	free(expr);
	return 0;
}
