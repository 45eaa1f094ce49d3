#!/usr/bin/env python3
"""Assertions on event files of the filter live tests."""
import json
import sys


def fail(msg):
    print("check failed:", msg)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def dnat_requests_only(path):
    events = load(path)[1:]
    series, order = {}, []
    for e in events:
        t = e["skb-tracking"]
        i = (t["timestamp"], t["orig_head"])
        if i not in series:
            series[i] = []
            order.append(i)
        series[i].append(e["kernel"]["symbol"])
    want = ["net:net_dev_start_xmit", "net:netif_receive_skb"] * 2
    if len(order) != 3 or any(series[i] != want for i in order):
        fail(f"expected 3 requests of 4 events each, got {[series[i] for i in order]}")
    print("ok: 3 requests followed through DNAT, no reply")


def series_shapes(path, *specs):
    """Each spec "sym1,sym2=N": exactly N packets whose events are that
    sequence of probes; no other packet."""
    events = load(path)[1:]
    series, order = {}, []
    for e in events:
        t = e["skb-tracking"]
        i = (t["timestamp"], t["orig_head"])
        if i not in series:
            series[i] = []
            order.append(i)
        series[i].append(e["kernel"]["symbol"])
    got = {}
    for i in order:
        k = ",".join(series[i])
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
