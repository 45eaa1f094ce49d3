#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Assertions on the sorted files of the nft live tests (tests/live/nft.sh):
the netlink path's nft events in their packets' series
(doc/collectors.md §7.7).

check_nft.py SERIES_FILE --table T --chain C --handles "TH CH RH" --requests N

SERIES_FILE is `retisc sort -o` output. There must be exactly N nft events,
each:
  - from a trace message (trace_id, "match":"content"), with no kernel
    section, verdict drop, not a policy, and the table, chain and handles
    that `nft -a list` printed;
  - in the series of an IPv4 ICMP echo request from 10.201.0.1 to
    10.201.0.2, each a different request (ICMP sequence), after its
    net_dev_start_xmit and netif_receive_skb events;
  - followed at once by that packet's skb:kfree_skb event with reason
    NETFILTER_DROP, its own timestamp one less than that event's;
  - with every event of its series under one tracking id.
Every echo request of the file gets one.
"""
import argparse
import struct

from checklib import fail, ipv4, packet_bytes, read_lines, tid


def echo_seq(e):
    """ICMP sequence of an echo request 10.201.0.1 > 10.201.0.2, or None."""
    if "packet" not in e:
        return None
    ip = ipv4(packet_bytes(e))
    if not ip or ip[:3] != ("10.201.0.1", "10.201.0.2", 1) or len(ip[3]) < 8:
        return None
    l4 = ip[3]
    if l4[0] != 8:
        return None
    return struct.unpack_from("!H", l4, 6)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--table", required=True)
    ap.add_argument("--chain", required=True)
    ap.add_argument("--handles", required=True)
    ap.add_argument("--requests", type=int, required=True)
    a = ap.parse_args()
    th, ch, rh = (int(x) for x in a.handles.split())

    series = read_lines(a.path)
    if not series or "startup" not in series[0][0]:
        fail(f"{a.path}: not a series file")
    seen = {}
    requests = set()
    for s in series[1:]:
        seqs = {echo_seq(e) for e in s} - {None}
        requests |= seqs
        for i, e in enumerate(s):
            if "nft" not in e:
                continue
            n = e["nft"]
            where = f"series of {[x.get('kernel', {}).get('symbol', 'nft') for x in s]}"
            if "kernel" in e or "trace_id" not in n or n.get("match") != "content":
                fail(f"not a matched netlink nft event: {e}")
            want = {"table_name": a.table, "chain_name": a.chain, "verdict": "drop",
                    "table_handle": th, "chain_handle": ch, "rule_handle": rh,
                    "policy": False}
            got = {k: n.get(k) for k in want}
            if got != want:
                fail(f"nft section {got}, want {want}")
            if len(seqs) != 1:
                fail(f"nft event in a series of {len(seqs)} echo requests: {where}")
            ids = {tid(x) for x in s if "skb-tracking" in x}
            if len(ids) != 1 or any("skb-tracking" not in x for x in s):
                fail(f"series under {len(ids)} tracking ids: {where}")
            before = [x["kernel"]["symbol"] for x in s[:i] if "kernel" in x]
            if "net:net_dev_start_xmit" not in before or \
                    "net:netif_receive_skb" not in before:
                fail(f"nft event before the packet's xmit and receive: {where}")
            if i + 1 >= len(s):
                fail(f"nft drop is the last event of its series: {where}")
            d = s[i + 1]
            if d.get("kernel", {}).get("symbol") != "skb:kfree_skb" or \
                    d.get("skb-drop") != {"drop_reason": "NETFILTER_DROP"}:
                fail(f"nft drop not followed by its NETFILTER_DROP: {where}")
            if e["common"]["timestamp"] != d["common"]["timestamp"] - 1:
                fail(f"nft drop at {e['common']['timestamp']}, its skb-drop at "
                     f"{d['common']['timestamp']}")
            seq = seqs.pop()
            if seq in seen:
                fail(f"two nft events for echo request {seq}")
            seen[seq] = n["trace_id"]
    if len(seen) != a.requests:
        fail(f"{len(seen)} nft drop event(s), want {a.requests}")
    if requests != set(seen):
        fail(f"echo requests {sorted(requests)}, with an nft event {sorted(seen)}")
    print(f"{len(seen)} dropped echo request(s), each: xmit, receive, nft drop "
          f"(table {a.table} {th}, chain {a.chain} {ch}, handle {rh}), NETFILTER_DROP")


if __name__ == "__main__":
    main()
