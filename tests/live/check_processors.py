#!/usr/bin/env python3
"""Assertions on the output of the processors (live tests of processors.sh).

sorted EVENTS SORTED: SORTED is a series file of EVENTS (doc/files.md §7,
doc/processing.md §2): line 1 is [startup of EVENTS], every event of EVENTS is
in exactly one series, a series holds one packet (one tracking id) in input
order, idx counts a packet's events from 0 across series, tracking.skb is
the skb-tracking of the packet's first event, untracked events are alone.

packets EVENTS: print the number of events that have a packet section.
"""
import json
import sys

from checklib import fail, read_lines as load




def tid(t):
    return (t["timestamp"], t["orig_head"])


def strip(e):
    return json.dumps({k: v for k, v in e.items() if k != "tracking"}, sort_keys=True)


def sorted_check(events_path, sorted_path):
    events = load(events_path)
    series = load(sorted_path)
    if series[0] != [events[0]]:
        fail("line 1 is not [startup of the input]")
    seen = {}
    first = {}
    for n, s in enumerate(series[1:], 2):
        if not isinstance(s, list) or not s:
            fail(f"line {n}: not a non-empty array")
        ids = set()
        for e in s:
            if "tracking" not in e:
                if len(s) != 1:
                    fail(f"line {n}: untracked event in a series of {len(s)}")
                continue
            t = e["tracking"]
            key = tid(t["skb"])
            ids.add(key)
            if key not in first:
                first[key] = t["skb"]
                if "skb-tracking" in e and {k: e["skb-tracking"][k] for k in
                                            ("orig_head", "timestamp", "skb")} != t["skb"]:
                    fail(f"line {n}: tracking.skb is not the first event's skb-tracking")
            if t["skb"] != first[key]:
                fail(f"line {n}: tracking.skb changed within a packet")
            want = seen.get(key, -1) + 1
            if t["idx"] != want:
                fail(f"line {n}: idx {t['idx']}, expected {want}")
            seen[key] = t["idx"]
        if len(ids) > 1:
            fail(f"line {n}: several packets in one series")
    out = sorted(strip(e) for s in series for e in s)
    inp = sorted(strip(e) for e in events)
    if out != inp:
        fail(f"events differ: {len(inp)} in, {len(out)} out")
    multi = sum(1 for s in series if len(s) > 1)
    print(f"{len(series)} series ({multi} with several events), {len(seen)} packets")


def main():
    if sys.argv[1] == "sorted":
        sorted_check(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "packets":
        print(sum(1 for e in load(sys.argv[2]) if "packet" in e))
    else:
        fail(f"unknown check {sys.argv[1]}")


if __name__ == "__main__":
    main()
