#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Assertions on event files of the USDT live tests (tests/live/usdt.sh).

check_usdt.py FILE PATH SYMBOL MIN MAX [--pid PID]

Between MIN and MAX events (the startup event aside), each with a common
section whose task is the traced process and a userspace section
(doc/events.md §4.3): probe_type "usdt", symbol SYMBOL, path PATH, an ip,
pid = the task's process and tid = its thread, and no kernel section.
Timestamps increase. --pid: every event comes from that process.
"""
import argparse
import json
import sys


def fail(msg):
    print("check_usdt: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("path")
    ap.add_argument("symbol")
    ap.add_argument("min", type=int)
    ap.add_argument("max", type=int)
    ap.add_argument("--pid", type=int)
    a = ap.parse_args()
    events = []
    with open(a.file) as f:
        for line in f:
            ev = json.loads(line)
            if "startup" not in ev:
                events.append(ev)
    if not a.min <= len(events) <= a.max:
        fail(f"{len(events)} events, expected {a.min}..{a.max}")
    last = 0
    for ev in events:
        us = ev.get("userspace")
        if us is None or "kernel" in ev:
            fail(f"not a USDT event: {ev}")
        want = {"probe_type": "usdt", "symbol": a.symbol, "path": a.path}
        for k, v in want.items():
            if us.get(k) != v:
                fail(f"userspace.{k} is {us.get(k)!r}, expected {v!r}: {ev}")
        if not isinstance(us.get("ip"), int) or us["ip"] <= 0:
            fail(f"bad ip: {ev}")
        task = ev["common"]["task"]
        # doc/events.md §3: task.pid is the process, task.tgid the thread.
        if us["pid"] != task["pid"] or us["tid"] != task["tgid"]:
            fail(f"pid/tid differ from the task: {ev}")
        if a.pid is not None and us["pid"] != a.pid:
            fail(f"event of process {us['pid']}, expected {a.pid}")
        if task["comm"] != "usdt_target":
            fail(f"comm {task['comm']!r}")
        ts = ev["common"]["timestamp"]
        if ts <= last:
            fail("timestamps do not increase")
        last = ts
    print(f"check_usdt: {len(events)} USDT event(s) ok")


main()
