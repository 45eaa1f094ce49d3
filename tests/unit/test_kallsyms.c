// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/kallsyms lookups (core/kernel/kallsyms.c) on a file of that
 * format: addresses by name (the lowest for a name given twice), counts,
 * symbolisation by address, module suffixes, hidden (zero) addresses and
 * malformed lines left out, and an out-of-order file.
 */
#include "testutil.h"

#include "kallsyms.h"

static const char ksyms[] = "ffffffff81000000 T _stext\n"
			    "ffffffff81000100 t dup_name\n"
			    "ffffffff81000200 T skb_free_head\n"
			    "0000000000000000 A hidden_sym\n"
			    "garbage line\n"
			    "ffffffff81000300 t dup_name\n"
			    "ffffffff81000400 d __start_init_stack\n"
			    "ffffffffc0000000 t mod_func\t[veth]\n"
			    "ffffffffc0000100 t dup_name\t[veth]\n"
			    "ffffffff81000500 T after_modules"; /* no final newline */

static char path[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return write_tmp_file(path, sizeof(path), "kallsyms", ksyms, strlen(ksyms));
}

static int teardown(void **state)
{
	(void)state;
	retisc_kallsyms__release();
	return unlink(path);
}

static void test_by_name(void **state)
{
	(void)state;
	assert_int_equal(retisc_kallsyms__load_path(path), 0);
	assert_int_equal(retisc_kallsyms__addr("_stext"), 0xffffffff81000000ull);
	assert_int_equal(retisc_kallsyms__addr("skb_free_head"), 0xffffffff81000200ull);
	/* Module suffix is not part of the name. */
	assert_int_equal(retisc_kallsyms__addr("mod_func"), 0xffffffffc0000000ull);
	assert_int_equal(retisc_kallsyms__addr("after_modules"), 0xffffffff81000500ull);
	/* A name given three times: its lowest address, and the count. */
	assert_int_equal(retisc_kallsyms__addr("dup_name"), 0xffffffff81000100ull);
	assert_int_equal(retisc_kallsyms__count("dup_name"), 3);
	assert_int_equal(retisc_kallsyms__count("__start_init_stack"), 1);
	/* Zero addresses (kptr_restrict) and absent names. */
	assert_int_equal(retisc_kallsyms__addr("hidden_sym"), 0);
	assert_int_equal(retisc_kallsyms__count("hidden_sym"), 0);
	assert_int_equal(retisc_kallsyms__addr("garbage"), 0);
	assert_int_equal(retisc_kallsyms__addr("nope"), 0);
	assert_int_equal(retisc_kallsyms__addr(""), 0);
}

static void test_by_addr(void **state)
{
	uint64_t off = 0;

	(void)state;
	assert_int_equal(retisc_kallsyms__load_path(path), 0);
	assert_null(retisc_kallsyms__sym(0xffffffff80000000ull, &off));
	assert_str_eq(retisc_kallsyms__sym(0xffffffff81000000ull, &off), "_stext");
	assert_int_equal(off, 0);
	assert_str_eq(retisc_kallsyms__sym(0xffffffff81000234ull, &off), "skb_free_head");
	assert_int_equal(off, 0x34);
	/* Sorted by address although the file is not: after_modules sits
	 * between the kernel's and the modules' symbols. */
	assert_str_eq(retisc_kallsyms__sym(0xffffffff81000510ull, &off), "after_modules");
	assert_int_equal(off, 0x10);
	assert_str_eq(retisc_kallsyms__sym(0xffffffffc0000180ull, &off), "dup_name");
	assert_int_equal(off, 0x80);
}

static void test_missing_file(void **state)
{
	uint64_t off;

	(void)state;
	assert_int_equal(retisc_kallsyms__load_path("/nonexistent/kallsyms"), -ENOENT);
	assert_int_equal(retisc_kallsyms__addr("_stext"), 0);
	assert_null(retisc_kallsyms__sym(0xffffffff81000000ull, &off));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_by_addr),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
