#!/usr/bin/env python3
"""Assertions on event files of the filter live tests."""
import sys

from checklib import fail, read_lines as load




def packets(path):
    """The probe symbols of each packet (events grouped by tracking id),
    packets in the order of their first event."""
    series = {}
    for e in load(path)[1:]:
        t = e["skb-tracking"]
        series.setdefault((t["timestamp"], t["orig_head"]), []).append(e["kernel"]["symbol"])
    return list(series.values())


def dnat_requests_only(path):
    got = packets(path)
    want = ["net:net_dev_start_xmit", "net:netif_receive_skb"] * 2
    if len(got) != 3 or any(p != want for p in got):
        fail(f"expected 3 requests of 4 events each, got {got}")
    print("ok: 3 requests followed through DNAT, no reply")


def series_shapes(path, *specs):
    """Each spec "sym1,sym2=N": exactly N packets whose events are that
    sequence of probes; no other packet."""
    got = {}
    for p in packets(path):
        k = ",".join(p)
        got[k] = got.get(k, 0) + 1
    want = {}
    for spec in specs:
        k, n = spec.rsplit("=", 1)
        want[k] = int(n)
    if got != want:
        fail(f"packet shapes {got}, expected {want}")
    print(f"ok: {got}")


if __name__ == "__main__":
    {"dnat-requests-only": dnat_requests_only,
     "series-shapes": series_shapes}[sys.argv[1]](*sys.argv[2:])
