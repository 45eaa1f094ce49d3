#!/usr/bin/env python3
"""Checks of the fleet test on several kernels (tests/vm/fleet.sh, doc/fleet.md §6).

Usage: check_fleet.py STITCH_TEXT STITCH_LOG NAME=ADDRESS=TEXT...

STITCH_TEXT is `retisc stitch --cross` over the hosts' streams, the first
host the reference; STITCH_LOG its standard error; each NAME=ADDRESS=TEXT
a host, its IPv4 address and `retisc print` of its own events. The first
host bridges the others: a packet from one host to another crosses the
hosts on its path, [source, destination], or [source, first host,
destination] between two others.

Every packet a host sent from its own address (a device transmit event)
must be exactly one journey, holding that packet only, visiting the hosts
of its path in that order (by each host's first event), each host entered
after the previous one transmitted it, each host's events in that host's
own time order, and received by its destination; every other host's clock
is estimated both ways; no tracking id of any host is in two journeys,
unless they are transmissions of one TCP segment (a retransmission keeps
its sender's tracking id).
"""
import re
import sys

EVENT = re.compile(r"^(?P<cont>\s+↳ )?\[(?P<hosts>[^\]]+)\] (?P<ts>\d+) .*? (?P<sym>\S+) "
                   r"#(?P<id>[0-9a-f]+)")
PLAIN = re.compile(r"^(?P<ts>\d+) .*? (?P<sym>\S+) #")
PKT = re.compile(r"^\s+(\d+\.\d+\.\d+\.\d+)(?:\.\d+)? > (\d+\.\d+\.\d+\.\d+)")
XMIT = "net:net_dev_start_xmit"
RECV = "net:netif_receive_skb"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def events_of(lines, pattern):
    """Events as dicts (the pattern's groups), with their first packet line."""
    evs = []
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if not m:
            continue
        pkt = ""
        if i + 1 < len(lines) and PKT.match(lines[i + 1]):
            pkt = lines[i + 1].strip()
        evs.append(dict(m.groupdict(), pkt=pkt))
    return evs


def journeys(text):
    out = []
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        if not lines or not lines[0].startswith("["):
            continue
        evs = events_of(lines, EVENT)
        for e in evs:
            # "[A → B]": the event is B's.
            e["host"] = e["hosts"].split(" → ")[-1]
            e["ts"] = int(e["ts"])
        out.append(evs)
    return out


def addresses(pkt):
    m = PKT.match("  " + pkt)
    return (m.group(1), m.group(2)) if m else (None, None)


def main():
    stitch, log = sys.argv[1:3]
    hosts = []  # (name, address, text)
    for arg in sys.argv[3:]:
        name, addr, path = arg.split("=", 2)
        hosts.append((name, addr, open(path).read()))
    ref = hosts[0][0]
    name_of = {addr: name for name, addr, _ in hosts}

    err = open(log).read()
    for name, _, _ in hosts[1:]:
        m = re.search(r"clock of %s: ([+-][0-9.]+) ms to align with %s \((\d+) matched "
                      r"packet\(s\), both ways\)" % (re.escape(name), re.escape(ref)), err)
        if not m:
            fail("no two-way clock estimate of %s in the log: %r" % (name, err.strip()))
        else:
            print("clock of %s: %s ms, %s matched packets" % (name, m.group(1), m.group(2)))

    # What each host sent from its own address, and received.
    sent, recv = {}, {}
    for name, addr, text in hosts:
        evs = events_of(text.split("\n"), PLAIN)
        sent[name] = []
        for e in evs:
            if e["sym"] == XMIT and addresses(e["pkt"])[0] == addr and e["pkt"] not in sent[name]:
                sent[name].append(e["pkt"])
        recv[name] = {e["pkt"] for e in evs if e["sym"] == RECV and e["pkt"]}

    js = journeys(open(stitch).read())
    print("%d journeys; sent: %s" % (len(js), ", ".join(
        "%s %d" % (n, len(sent[n])) for n, _, _ in hosts)))

    by_pkt = {}
    paths = {}
    for n, evs in enumerate(js):
        pkts = {e["pkt"] for e in evs if e["pkt"]}
        if len(pkts) != 1:
            fail("journey %d holds %d packets: %s" % (n, len(pkts), sorted(pkts)))
            continue
        pkt = pkts.pop()
        by_pkt.setdefault(pkt, []).append(n)
        src, dst = addresses(pkt)
        if src not in name_of or dst not in name_of:
            fail("journey %d: a packet between unknown hosts: %s" % (n, pkt))
            continue
        want = [name_of[src]] + ([ref] if ref not in (name_of[src], name_of[dst]) else []) + \
            [name_of[dst]]
        visited = []
        for e in evs:
            if e["host"] not in visited:
                visited.append(e["host"])
        paths[pkt] = visited
        if visited != want:
            fail("journey %d visits %s, its path is %s: %s" % (n, visited, want, pkt))
            continue
        for h in visited:
            ts = [e["ts"] for e in evs if e["host"] == h]
            if ts != sorted(ts):
                fail("journey %d: %s's events out of order: %s" % (n, h, ts))
        for a, b in zip(visited, visited[1:]):
            enter = next(i for i, e in enumerate(evs) if e["host"] == b)
            if not any(e["host"] == a and e["sym"] == XMIT for e in evs[:enter]):
                fail("journey %d: on %s before %s transmitted it" % (n, b, a))
            # The arrow names the host of the event printed before (a
            # sender's late buffer free may come between).
            if not evs[enter]["hosts"].endswith(" → %s" % b):
                fail("journey %d: the change to %s is not shown as [… → %s]" % (n, b, b))

    # A tracking id follows one data buffer: a TCP retransmission sent
    # from it keeps its sender's id, and is another journey on the wire
    # (new IPv4 id and timestamp). Any other id in two journeys merged
    # two packets.
    def transmission_free(pkt):
        return re.sub(r" id \d+ |TS val \d+ ecr \d+", " ", pkt)

    ids = {}
    for n, evs in enumerate(js):
        for e in evs:
            ids.setdefault((e["host"], e["id"]), set()).add(n)
    for (h, tid), ns in sorted(ids.items()):
        if len(ns) == 1:
            continue
        segs = {transmission_free(e["pkt"]) for n in ns for e in js[n] if e["pkt"]}
        if len(segs) == 1 and "proto TCP" in next(iter(segs)):
            print("note: %s's tracking id %s sent %d transmissions of one segment"
                  % (h, tid, len(ns)))
        else:
            fail("%s's tracking id %s holds the packets of %d journeys" % (h, tid, len(ns)))
    for pkt, ns in by_pkt.items():
        if len(ns) > 1:
            fail("packet in %d journeys (%s): %s" % (len(ns), ns, pkt))

    total = 0
    for name, _, _ in hosts:
        for pkt in sent[name]:
            total += 1
            if pkt not in by_pkt:
                fail("%s sent a packet that is no cross-host journey: %s" % (name, pkt))
            dst = name_of.get(addresses(pkt)[1])
            if dst and pkt not in recv[dst]:
                fail("%s sent a packet %s did not receive: %s" % (name, dst, pkt))
    if len(by_pkt) != total:
        fail("%d journeys for %d packets sent" % (len(by_pkt), total))

    # What fleet.sh sent: 5 pings and a TCP connection to the first guest,
    # 3 pings to the second, 3 pings from the first guest to the second.
    def count(src, dst, what):
        return sum(1 for pkt, p in paths.items()
                   if p[0] == src and p[-1] == dst and what in pkt)

    g1, g2 = hosts[1][0], hosts[2][0] if len(hosts) > 2 else None
    want = [(ref, g1, "proto ICMP (1) type 8 ", 5), (g1, ref, "proto ICMP (1) type 0 ", 5),
            (ref, g1, "flags [S] ", 1), (g1, ref, "flags [S.] ", 1),
            (ref, g1, "proto TCP (6) flags [P.] ", 2)]
    if g2:
        want += [(ref, g2, "proto ICMP (1) type 8 ", 3), (g2, ref, "proto ICMP (1) type 0 ", 3),
                 (g1, g2, "proto ICMP (1) type 8 ", 3), (g2, g1, "proto ICMP (1) type 0 ", 3)]
    for src, dst, what, n in want:
        got = count(src, dst, what)
        print("%s -> %s %s: %d journey(s)" % (src, dst, what.strip(), got))
        if got < n or ("ICMP" in what and got != n):
            fail("expected %s%d '%s' journeys %s -> %s, got %d"
                 % ("" if "ICMP" in what else ">= ", n, what.strip(), src, dst, got))
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
