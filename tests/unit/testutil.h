/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared includes and helpers for the cmocka unit tests. */
#ifndef __RETISC_TESTUTIL_H
#define __RETISC_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

/* Compare two strings and print both in full when they differ. */
#define assert_str_eq(got, want) assert_string_equal(got, want)

#endif
