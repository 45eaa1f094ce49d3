#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Assertions on `retisc explain --format json` output (tests/live/explain.sh).

check_explain.py EXPLAIN.jsonl [conditions]

Series conditions apply to the series whose "packet" matches --match (a
regular expression, searched):
  --count N            exactly N such series (--max-count N: at most N)
  --fate F             every one has fate F
  --reason R           every one has drop_reason R
  --netns INUM         every one's "where" names netns INUM
  --dev NAME           every one's "where" names device NAME
  --last-probe P       every one's last_probe is P
  --nft-re RE          every one's nft section matches RE
  --nat TEXT           every one's NAT rewrite is TEXT
  --vanished-at KEY    every one's vanished_at is KEY, and...
  --likely RE          ...one of its likely_reasons matches RE
Flow conditions, on the one flow whose name matches --flow:
  --flow-packets N, --flow-fate FATE=N (repeatable), --flow-nat "TEXT=N"
Against the events file the explanation was made from:
  --raw FILE           series and incomplete counts equal the file's tracking
                       ids and ids with a "lost" mark; with --flow-icmp, the flow
                       of --flow (an ICMP echo flow) has as many packets as the
                       file has ids whose packet is an echo of that id between
                       those addresses
  --min-incomplete N   at least N incomplete series
"""
import argparse
import re
import sys

from checklib import fail, ipv4, load, packet_bytes, read_lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--match")
    ap.add_argument("--count", type=int)
    ap.add_argument("--max-count", type=int)
    ap.add_argument("--fate")
    ap.add_argument("--reason")
    ap.add_argument("--netns")
    ap.add_argument("--dev")
    ap.add_argument("--last-probe")
    ap.add_argument("--nft-re")
    ap.add_argument("--nat")
    ap.add_argument("--vanished-at")
    ap.add_argument("--likely")
    ap.add_argument("--flow")
    ap.add_argument("--flow-packets", type=int)
    ap.add_argument("--flow-fate", action="append", default=[])
    ap.add_argument("--flow-nat")
    ap.add_argument("--raw")
    ap.add_argument("--flow-icmp", action="store_true")
    ap.add_argument("--min-incomplete", type=int)
    a = ap.parse_args()

    lines = read_lines(a.path)
    series = [v for v in lines if "series" in v]
    flows = [v for v in lines if "flow" in v]
    summary = [v["summary"] for v in lines if "summary" in v]
    if len(summary) != 1:
        fail(f"{a.path}: {len(summary)} summary line(s)")
    summary = summary[0]
    if summary["series"] != len(series):
        fail(f"summary says {summary['series']} series, {len(series)} listed")
    if sum(summary["fates"].values()) != len(series):
        fail(f"fates {summary['fates']} do not add up to {len(series)} series")

    if a.match:
        sel = [s for s in series if re.search(a.match, s["packet"])]
        if a.count is not None and len(sel) != a.count:
            fail(f"{len(sel)} series match /{a.match}/, want {a.count}:\n" +
                 "\n".join(f"  {s['packet']}: {s['fate']}: {s['detail']}" for s in sel))
        if not sel:
            fail(f"no series matches /{a.match}/")
        if a.max_count is not None and len(sel) > a.max_count:
            fail(f"{len(sel)} series match /{a.match}/, more than {a.max_count}")
        for s in sel:
            what = f"series {s['series']} ({s['packet']}, {s['fate']}: {s['detail']})"
            if a.fate and s["fate"] != a.fate:
                fail(f"{what}: fate is not {a.fate}")
            if a.reason and s.get("drop_reason") != a.reason:
                fail(f"{what}: drop reason is not {a.reason}")
            if a.netns and f"netns {a.netns}" not in s["where"]:
                fail(f"{what}: where '{s['where']}' is not netns {a.netns}")
            if a.dev and not s["where"].startswith(a.dev + " "):
                fail(f"{what}: where '{s['where']}' is not device {a.dev}")
            if a.last_probe and s["last_probe"] != a.last_probe:
                fail(f"{what}: last probe {s['last_probe']} is not {a.last_probe}")
            if a.nft_re and not re.search(a.nft_re, s.get("nft", "")):
                fail(f"{what}: nft '{s.get('nft')}' does not match /{a.nft_re}/")
            if a.nat and s.get("nat") != a.nat:
                fail(f"{what}: nat '{s.get('nat')}' is not '{a.nat}'")
            if a.vanished_at and s.get("vanished_at") != a.vanished_at:
                fail(f"{what}: vanished_at {s.get('vanished_at')} is not {a.vanished_at}")
            if a.likely and not any(re.search(a.likely, r) for r in s.get("likely_reasons", [])):
                fail(f"{what}: no likely reason matches /{a.likely}/")

    flow = None
    if a.flow:
        match = [f for f in flows if re.search(a.flow, f["flow"])]
        if len(match) != 1:
            fail(f"{len(match)} flow(s) match /{a.flow}/: {[f['flow'] for f in flows]}")
        flow = match[0]
        if a.flow_packets is not None and flow["packets"] != a.flow_packets:
            fail(f"flow {flow['flow']}: {flow['packets']} packets, want {a.flow_packets}")
        if sum(flow["fates"].values()) != flow["packets"]:
            fail(f"flow {flow['flow']}: fates {flow['fates']} != {flow['packets']} packets")
        for ff in a.flow_fate:
            name, n = ff.split("=")
            if flow["fates"].get(name, 0) != int(n):
                fail(f"flow {flow['flow']}: fates {flow['fates']}, want {name}={n}")
        if a.flow_nat:
            text, n = a.flow_nat.rsplit("=", 1)
            got = {r["rewrite"]: r["count"] for r in flow["nat"]}
            if got != {text: int(n)}:
                fail(f"flow {flow['flow']}: nat {got}, want {{{text}: {n}}}")
        for h in flow["hops"]:
            if not h["min_ns"] <= h["p50_ns"] <= h["p90_ns"] <= h["p99_ns"] <= h["max_ns"]:
                fail(f"flow {flow['flow']}: hop {h} percentiles out of order")

    if a.raw:
        events = load(a.raw)
        ids, lost_ids, icmp_ids = set(), set(), set()
        want = None
        if a.flow_icmp:
            m = re.match(r"icmp (\S+) <> (\S+) id (\d+)$", flow["flow"])
            if not m:
                fail(f"flow {flow['flow']} is not an ICMP echo flow")
            want = ({m.group(1), m.group(2)}, int(m.group(3)))
        for e in events:
            t = e.get("skb-tracking")
            if not t:
                continue
            key = (t["timestamp"], t["orig_head"])
            ids.add(key)
            if t.get("lost"):
                lost_ids.add(key)
            ip = ipv4(packet_bytes(e)) if want and "packet" in e else None
            if ip and ip[2] == 1 and len(ip[3]) >= 8 and ip[3][0] in (0, 8):
                if {ip[0], ip[1]} == want[0] and int.from_bytes(ip[3][4:6], "big") == want[1]:
                    icmp_ids.add(key)
        inc = summary["fates"].get("incomplete", 0)
        if len(ids) != len(series):
            fail(f"{a.raw} has {len(ids)} tracking ids, explain lists {len(series)} series")
        if inc != len(lost_ids):
            fail(f"{inc} incomplete series, {len(lost_ids)} ids carry a lost mark")
        if want and flow["packets"] != len(icmp_ids):
            fail(f"flow {flow['flow']}: {flow['packets']} packets, the file has "
                 f"{len(icmp_ids)} ids of its echoes")
        print(f"check_explain: {len(ids)} ids, {len(lost_ids)} with lost events, "
              f"{inc} incomplete series, {len(icmp_ids)} echo ids")
    if a.min_incomplete is not None and summary["fates"].get("incomplete", 0) < a.min_incomplete:
        fail(f"{summary['fates'].get('incomplete', 0)} incomplete series, "
             f"want at least {a.min_incomplete}")


if __name__ == "__main__":
    sys.exit(main())
