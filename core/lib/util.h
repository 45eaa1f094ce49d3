/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by core files. */
#ifndef __RETISC_UTIL_H
#define __RETISC_UTIL_H

#include <stddef.h>
#include <stdlib.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef offsetofend
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#endif

static inline void retisc_freep(void *p)
{
	free(*(void **)p);
}

/* char *s __free_ptr = malloc(...): freed when s goes out of scope. */
#define __free_ptr __attribute__((cleanup(retisc_freep)))

#endif
