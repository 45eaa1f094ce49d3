#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Assertions on event files of the skb-drop live tests (tests/live/skb-drop.sh).

check_skb_drop.py FILE REASON [options]

There must be an skb:kfree_skb event whose skb-drop section is
{"drop_reason": REASON} (no subsys). Options add conditions on that event:
  --tracked         it has a tracking id that an earlier event on another
                    probe (the packet's way in) carries too
  --untracked       it has no skb-tracking section
  --stack FUNC      its stack trace has a FUNC+0x... frame
  --tcp-dport N     when it has a packet section: an IPv4 TCP SYN to port N
  --icmp-echo       when it has a packet section: an IPv4 ICMP echo request
  --packet          the packet section is mandatory
Always: only events on skb:kfree_skb carry skb-drop (the only tracepoint
with a drop-reason argument here), and every skb-drop section is well formed.
json keeps the u64 addresses exact.
"""
import argparse
import base64
import json
import sys


def fail(msg):
    print("check_skb_drop: " + msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    events = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                events.append(json.loads(line))
            except ValueError as e:
                fail(f"{path}:{n}: {e}")
    return [e for e in events if "startup" not in e]


def symbol(ev):
    return ev.get("kernel", {}).get("symbol")


def track_id(ev):
    t = ev.get("skb-tracking")
    return (t["orig_head"], t["timestamp"]) if t else None


def ipv4(data):
    """IPv4 header offset in an Ethernet frame, skipping VLAN tags; or None."""
    off, etype = 14, int.from_bytes(data[12:14], "big")
    while etype in (0x8100, 0x88A8) and len(data) >= off + 4:
        etype = int.from_bytes(data[off + 2:off + 4], "big")
        off += 4
    return off if etype == 0x0800 and len(data) >= off + 20 else None


def packet_mismatch(ev, args):
    """Why the event's packet is not the expected one, or None."""
    pkt = ev.get("packet")
    if not pkt:
        return "has no packet section" if args.packet else None
    what = "has a packet that "
    data = base64.b64decode(pkt["data"])
    ip = ipv4(data)
    if ip is None:
        return what + "is not IPv4: " + pkt["data"]
    proto, l4 = data[ip + 9], ip + (data[ip] & 0xF) * 4
    if args.tcp_dport is not None:
        if proto != 6 or len(data) < l4 + 14:
            return what + "is not TCP: " + pkt["data"]
        dport = int.from_bytes(data[l4 + 2:l4 + 4], "big")
        flags = data[l4 + 13]
        if dport != args.tcp_dport or not flags & 0x02:
            return (what + f"is not a SYN to port {args.tcp_dport} "
                    f"(port {dport}, flags {flags:#x})")
    if args.icmp_echo and (proto != 1 or len(data) <= l4 or data[l4] != 8):
        return what + "is not an ICMP echo request: " + pkt["data"]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("reason")
    ap.add_argument("--tracked", action="store_true")
    ap.add_argument("--untracked", action="store_true")
    ap.add_argument("--stack")
    ap.add_argument("--tcp-dport", type=int)
    ap.add_argument("--icmp-echo", action="store_true")
    ap.add_argument("--packet", action="store_true")
    args = ap.parse_args()

    events = load(args.file)
    for ev in events:
        drop = ev.get("skb-drop")
        if drop is None:
            continue
        if symbol(ev) != "skb:kfree_skb":
            fail("skb-drop on a probe without drop reason: %s" % json.dumps(ev))
        if not isinstance(drop.get("drop_reason"), str) or \
                not isinstance(drop.get("subsys", ""), str) or \
                set(drop) - {"subsys", "drop_reason"}:
            fail("malformed skb-drop section: %s" % json.dumps(drop))

    drops = [e for e in events if symbol(e) == "skb:kfree_skb" and
             e.get("skb-drop") == {"drop_reason": args.reason}]
    if not drops:
        seen = sorted({json.dumps(e["skb-drop"]) for e in events if "skb-drop" in e})
        fail(f"no skb:kfree_skb event with reason {args.reason} among "
             f"{len(events)} events; skb-drop sections seen: {seen}")

    def matches(ev):
        if args.untracked and "skb-tracking" in ev:
            return "has an skb-tracking section"
        if args.tracked:
            tid = track_id(ev)
            if tid is None:
                return "has no tracking id"
            ts = ev["common"]["timestamp"]
            if not any(track_id(e) == tid and symbol(e) != "skb:kfree_skb" and
                       e["common"]["timestamp"] < ts for e in events):
                return "has a tracking id no earlier event carries"
        if args.stack:
            frames = ev.get("kernel", {}).get("stack_trace", [])
            if not any(f.startswith(args.stack + "+") for f in frames):
                return f"has no {args.stack} frame in its stack {frames}"
        return packet_mismatch(ev, args)

    # Other traffic of the host may drop packets for the same reason: one
    # matching event is enough, the first mismatch explains a failure.
    why = [matches(e) for e in drops]
    good = [e for e, w in zip(drops, why) if w is None]
    if not good:
        fail(f"{len(drops)} {args.reason} drop(s), none fits: the first "
             f"{why[0]}: {json.dumps(drops[0])}")
    print(f"{len(good)} {args.reason} drop(s) checked, {len(events)} events")


if __name__ == "__main__":
    main()
