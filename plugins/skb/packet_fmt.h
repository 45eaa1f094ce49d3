/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet one-liner: the tcpdump-like text of a `packet` section
 * (doc/events.md §6).
 */
#ifndef __RETISC_PACKET_FMT_H
#define __RETISC_PACKET_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/strbuf.h>

/*
 * Append to sb the one-liner of the caplen captured bytes at data, which start
 * at the Ethernet header. link_layer is the `-e` option (Ethernet, VLAN,
 * MACsec details and the Geneve protocol).
 *
 * Never reads past data[caplen - 1]; data may be NULL when caplen is 0.
 * Undecodable input is not an error: it ends the text with the truncated or
 * not-supported suffix of §6.
 *
 * Returns 0, or -ENOMEM (or -EINVAL on a libc output error), in which case sb
 * is left as it was on entry.
 */
int retisc_packet__format(struct retisc_strbuf *sb, const uint8_t *data, size_t caplen,
			  bool link_layer);

/* Name of an ethertype in the §6.7 table, or NULL when it has none. */
const char *retisc_packet__ethertype_name(uint16_t et);

#endif /* __RETISC_PACKET_FMT_H */
