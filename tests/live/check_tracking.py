#!/usr/bin/env python3
"""Assertions on tracking ids of real traffic (tracking.sh): an id must
never hold two packets.

The packet bytes are parsed here, independently of retisc: a TCP segment is
(addresses, ports, sequence number, SYN/FIN/RST, payload length), plus the
ack number and window for a pure ACK (a receiver's ACKs all have one
sequence number; TCP never retransmits one); an ICMP
echo is (addresses, type, id, sequence); a UDP datagram of tcp_peer.py is
(addresses, ports, the number in its payload).

An id is one data buffer's life. TCP trims a queued segment in place before
it retransmits it (tcp_fragment() keeps the first part in the buffer,
tcp_trim_head() drops what was acknowledged): such a retransmission is the
same buffer holding part of the same bytes, so a TCP id may hold its first
segment and sub-ranges of it, never bytes outside it.

  check_tracking.py tcp FILE MIN_IDS [RETRANS]
      every id holds one segment; at least MIN_IDS ids; with RETRANS, at
      least one segment was transmitted twice and kept one id over both
  check_tracking.py flood FILE MIN_IDS
      every id holds one ICMP echo or one UDP datagram
  check_tracking.py acks FILE N PORT
      the N pure ACKs sent from PORT were received (netif_receive_skb) under
      N ids, and no id holds two segments
"""
import base64
import struct
import sys

from checklib import fail, load, tid

XMIT = "net:net_dev_start_xmit"
RECV = "net:netif_receive_skb"


def ipv4(e):
    """(src, dst, proto, total length, IP header bytes, L4 bytes) or None."""
    if "packet" not in e:
        return None
    raw = base64.b64decode(e["packet"]["data"])
    et, off = struct.unpack_from("!H", raw, 12)[0], 14
    while et in (0x8100, 0x88A8) and len(raw) >= off + 4:
        et, off = struct.unpack_from("!H", raw, off + 2)[0], off + 4
    if et != 0x0800 or len(raw) < off + 20:
        return None
    ihl = (raw[off] & 0xF) * 4
    tot = struct.unpack_from("!H", raw, off + 2)[0]
    return raw[off + 12:off + 16], raw[off + 16:off + 20], raw[off + 9], tot, ihl, raw[off + ihl:]


def tcp_segment(e, ports):
    ip = ipv4(e)
    if not ip or ip[2] != 6 or len(ip[5]) < 20:
        return None
    src, dst, _, tot, ihl, l4 = ip
    sport, dport, seq = struct.unpack_from("!HHI", l4)
    if sport not in ports and dport not in ports:
        return None
    doff = (l4[12] >> 4) * 4
    flags = l4[13] & 0x07  # FIN, SYN, RST
    plen = tot - ihl - doff
    # A pure ACK: (ack number, window).
    acked = struct.unpack_from("!IxxH", l4, 8) if not plen and not flags else None
    return (src, dst, sport, dport, seq, flags, plen, acked)


def show(seg):
    src, dst, sport, dport, seq, flags, plen, acked = seg
    f = "".join(c for c, b in (("F", 1), ("S", 2), ("R", 4)) if flags & b) or "."
    a = f" ack {acked[0]} win {acked[1]}" if acked else ""
    return f"{'.'.join(map(str, src))}:{sport}>{'.'.join(map(str, dst))}:{dport} [{f}] seq {seq} len {plen}{a}"


def merged_ids(events, key):
    """ids holding more than one packet, as {id: [packets in order]}."""
    by_id = {}
    for e in events:
        if "skb-tracking" not in e:
            continue
        k = key(e)
        if k is None:
            continue
        seen = by_id.setdefault(tid(e), [])
        if k not in seen:
            seen.append(k)
    return by_id, {i: s for i, s in by_id.items() if len(s) > 1}


def within(first, seg):
    """seg is first, or the part of its bytes a trim kept: same addresses,
    ports, SYN and RST, sequence range inside first's. Pure ACKs are never
    trimmed."""
    if seg[7] or first[7]:
        return seg == first
    if seg[:4] != first[:4] or (seg[5] & ~first[5]) or (seg[5] & 6) != (first[5] & 6):
        return False
    d = (seg[4] - first[4]) % 2**32
    return d + seg[6] <= first[6]


def tcp_merged(events, ports):
    """{id: segments} of the events, failing if an id holds two segments."""
    by_id, _ = merged_ids(events, lambda e: tcp_segment(e, ports))
    merged = {i: segs for i, segs in by_id.items()
              if any(not within(segs[0], s) for s in segs[1:])}
    if merged:
        first = list(merged.values())[:5]
        fail(f"{len(merged)} of {len(by_id)} ids hold more than one TCP segment, e.g. "
             + "; ".join(" | ".join(show(s) for s in segs) for segs in first))
    return by_id


def tcp(path, min_ids, retrans=None):
    ports = {8080, 8081}
    events = load(path)
    by_id = tcp_merged(events, ports)
    if len(by_id) < int(min_ids):
        fail(f"only {len(by_id)} tracked TCP segments (want {min_ids})")
    msg = f"ok: {len(by_id)} ids, each holding one TCP segment"
    if retrans:
        # Transmissions of one segment by the sender (each a new clone).
        tx = {}
        for e in events:
            if e["kernel"]["symbol"] != XMIT or "skb-tracking" not in e:
                continue
            s = tcp_segment(e, ports)
            if s and s[3] == int(retrans) and s[6] > 0:
                tx.setdefault(s, []).append(tid(e))
        again = {s: ids for s, ids in tx.items() if len(ids) > 1}
        # TCP retransmits from the buffer it kept (a new clone of it: the
        # id must stay) or from a copy while an earlier clone is in flight
        # (a new buffer, a new id). A buffer address alone does not tell
        # which: TCP also rebuilds segments (MTU probes, collapses) into new
        # buffers that may reuse a freed address. So: some retransmissions
        # must have kept their id.
        kept = [s for s, ids in again.items() if len(set(ids)) == 1]
        if not kept:
            fail(f"no retransmitted segment kept its id ({len(again)} retransmitted)")
        msg += f"; {len(again)} segments retransmitted, {len(kept)} kept one id"
    print(msg)


def acks(path, n, port):
    port, n = int(port), int(n)
    events = load(path)
    ids = {}
    for e in events:
        if e["kernel"]["symbol"] != RECV or "skb-tracking" not in e:
            continue
        s = tcp_segment(e, {port})
        if s and s[2] == port and s[7]:
            ids.setdefault(s[7], set()).add(tid(e))
    # Each ACK is seen once on receive; an id per ACK, none shared.
    all_ids = set().union(*ids.values()) if ids else set()
    if len(ids) != n or len(all_ids) != n:
        fail(f"{len(ids)} pure ACKs received (want {n}) under {len(all_ids)} ids")
    by_id = tcp_merged(events, {port})
    print(f"ok: {n} pure ACKs under {n} ids; {len(by_id)} ids, each holding one TCP segment")


def flood_key(e):
    ip = ipv4(e)
    if not ip:
        return None
    src, dst, proto, _, _, l4 = ip
    if proto == 1 and len(l4) >= 8 and l4[0] in (0, 8):
        return ("icmp", src, dst, l4[0]) + struct.unpack_from("!HH", l4, 4)
    if proto == 17 and len(l4) >= 18 and l4[8:9] == b"u":
        return ("udp", src, dst, l4[:4], l4[9:18])
    return None


def flood(path, min_ids):
    events = load(path)
    by_id, merged = merged_ids(events, flood_key)
    if merged:
        first = list(merged.values())[:3]
        fail(f"{len(merged)} of {len(by_id)} ids hold more than one packet, e.g. {first}")
    n = {"icmp": 0, "udp": 0}
    for segs in by_id.values():
        n[segs[0][0]] += 1
    if min(n.values()) < int(min_ids):
        fail(f"too few tracked packets: {n} (want {min_ids} of each)")
    print(f"ok: {len(by_id)} ids ({n['icmp']} ICMP, {n['udp']} UDP), each holding one packet")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "tcp":
        tcp(*sys.argv[2:])
    elif cmd == "flood":
        flood(*sys.argv[2:])
    elif cmd == "acks":
        acks(*sys.argv[2:])
    else:
        fail(f"unknown check {cmd}")
