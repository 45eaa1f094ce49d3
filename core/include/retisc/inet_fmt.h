/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc address text: IPv4 and IPv6 addresses as doc/events.md §6.8 writes
 * them, for every plugin that prints one (the packet one-liner, conntrack
 * tuples).
 *
 * Header-only for the reason strbuf.h is: plugins never link against the
 * retisc binary.
 */
#ifndef __RETISC_INET_FMT_H
#define __RETISC_INET_FMT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Room for the longest form of each, NUL included. */
#define RETISC_INET4_STRLEN 16
#define RETISC_INET6_STRLEN 46

/* a: 4 bytes, network order. */
static inline void retisc_inet__ntop4(char buf[RETISC_INET4_STRLEN], const uint8_t *a)
{
	snprintf(buf, RETISC_INET4_STRLEN, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/*
 * a: 16 bytes, network order. Own formatter rather than inet_ntop(): glibc
 * prints any address with 96 leading zero bits as ::a.b.c.d, while §6.8
 * keeps the dotted tail for IPv4-mapped addresses only (as Retis's Rust
 * std::net::Ipv6Addr does).
 */
static inline void retisc_inet__ntop6(char buf[RETISC_INET6_STRLEN], const uint8_t *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	int best = -1, best_len = 0, run = -1, i;
	size_t n = 0;
	uint16_t g[8];

	if (!memcmp(a, mapped, sizeof(mapped))) {
		snprintf(buf, RETISC_INET6_STRLEN, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14],
			 a[15]);
		return;
	}
	for (i = 0; i < 8; i++) {
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
		if (g[i]) {
			run = -1;
			continue;
		}
		if (run < 0)
			run = i;
		/* Strictly longer: the first of equal runs wins. */
		if (i - run + 1 > best_len) {
			best = run;
			best_len = i - run + 1;
		}
	}
	/* A single zero group stays "0": "::" replaces runs of two or more. */
	if (best_len < 2) {
		best = -1;
		best_len = 0;
	}
	buf[0] = '\0';
	for (i = 0; i < 8; i++) {
		if (i == best) {
			n += (size_t)snprintf(buf + n, RETISC_INET6_STRLEN - n, "::");
			i += best_len - 1;
			continue;
		}
		n += (size_t)snprintf(buf + n, RETISC_INET6_STRLEN - n, "%s%x",
				      i && i != best + best_len ? ":" : "", g[i]);
	}
}

#endif /* __RETISC_INET_FMT_H */
