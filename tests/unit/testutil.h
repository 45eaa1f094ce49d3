/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared includes and helpers for the cmocka unit tests. */
#ifndef __RETISC_TESTUTIL_H
#define __RETISC_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Compare two strings and print both in full when they differ. */
#define assert_str_eq(got, want) assert_string_equal(got, want)

#include <retisc/strbuf.h>

#include "log.h"

/* retisc_log__set_sink() callback appending each line to a retisc_strbuf. */
static inline void log_capture(enum retisc_log_level level, const char *line, void *priv)
{
	(void)level;
	retisc_strbuf__printf((struct retisc_strbuf *)priv, "%s\n", line);
}

/* Build directory of the binaries under test (RETISC_TEST_BUILD). */
static inline const char *build_dir(void)
{
	const char *b = getenv("RETISC_TEST_BUILD");

	return b && *b ? b : "build";
}

#endif
