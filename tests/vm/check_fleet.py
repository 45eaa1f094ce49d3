#!/usr/bin/env python3
"""Checks of the two-kernel fleet test (tests/vm/fleet.sh, doc/fleet.md §6).

Usage: check_fleet.py STITCH_TEXT STITCH_LOG HOST GUEST HOST_TEXT GUEST_TEXT

STITCH_TEXT is `retisc stitch --cross` over both hosts' streams, STITCH_LOG
its standard error; HOST_TEXT and GUEST_TEXT are `retisc print` of each
host's own events. HOST sent a ping and a TCP connection to GUEST over one
link: every packet either of them put on that link (a device transmit
event) must be exactly one journey, starting on its sender, crossing to
the other host once its sender handed it to the device, with each host's
events in that host's own time order, and holding that one packet only;
and no tracking id of either host may be in two journeys.
"""
import re
import sys

EVENT = re.compile(r"^(?P<cont>\s+↳ )?\[(?P<hosts>[^\]]+)\] (?P<ts>\d+) .*? (?P<sym>\S+) "
                   r"#(?P<id>[0-9a-f]+)")
PLAIN = re.compile(r"^(?P<ts>\d+) .*? (?P<sym>\S+) #")
XMIT = "net:net_dev_start_xmit"
RECV = "net:netif_receive_skb"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def events_of(lines, pattern):
    """Events as dicts: host label, ts, symbol, first packet line."""
    evs = []
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if not m:
            continue
        pkt = ""
        if i + 1 < len(lines) and re.match(r"^\s+\d+\.\d+\.\d+\.\d+", lines[i + 1]):
            pkt = lines[i + 1].strip()
        evs.append(dict(m.groupdict(), pkt=pkt, line=line))
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


def sent(text):
    """Packet lines of a host's own device transmits, and of its receives."""
    evs = events_of(text.split("\n"), PLAIN)
    return ([e["pkt"] for e in evs if e["sym"] == XMIT and e["pkt"]],
            [e["pkt"] for e in evs if e["sym"] == RECV and e["pkt"]])


def main():
    stitch, log, host, guest, host_text, guest_text = sys.argv[1:7]
    err = open(log).read()
    m = re.search(r"clock of %s: ([+-][0-9.]+) ms to align with %s \((\d+) matched packet\(s\), "
                  r"both ways\)" % (re.escape(guest), re.escape(host)), err)
    if not m:
        fail("no two-way clock estimate in the log: %r" % err.strip())
    else:
        print("clock offset %s ms, %s matched packets" % (m.group(1), m.group(2)))

    js = journeys(open(stitch).read())
    h_sent, h_recv = sent(open(host_text).read())
    g_sent, g_recv = sent(open(guest_text).read())
    src_of = {host: "10.250.0.1", guest: "10.250.0.2"}
    print("%d journeys; host sent %d and received %d packets, guest sent %d and received %d"
          % (len(js), len(h_sent), len(h_recv), len(g_sent), len(g_recv)))

    by_pkt = {}
    for n, evs in enumerate(js):
        if not evs:
            fail("journey %d has no event" % n)
            continue
        start = evs[0]["host"]
        other = guest if start == host else host
        pkts = {e["pkt"] for e in evs if e["pkt"]}
        if len(pkts) != 1:
            fail("journey %d holds %d packets: %s" % (n, len(pkts), sorted(pkts)))
            continue
        pkt = pkts.pop()
        by_pkt.setdefault(pkt, []).append(n)
        if not pkt.startswith(src_of.get(start, "?") + " ") and \
                not pkt.startswith(src_of.get(start, "?") + "."):
            fail("journey %d starts on %s but its packet is %s" % (n, start, pkt))
        # Each host's events in its own time order.
        for h in (host, guest):
            ts = [e["ts"] for e in evs if e["host"] == h]
            if ts != sorted(ts):
                fail("journey %d: %s's events out of order: %s" % (n, h, ts))
        # The packet reaches the other host after its sender transmitted it.
        xmit = [i for i, e in enumerate(evs) if e["host"] == start and e["sym"] == XMIT]
        arrive = [i for i, e in enumerate(evs) if e["host"] == other]
        if not xmit or not arrive:
            fail("journey %d: no transmit on %s or no event on %s" % (n, start, other))
        elif arrive[0] < xmit[0]:
            fail("journey %d: on %s before %s transmitted it" % (n, other, start))
        if not evs[arrive[0] if arrive else 0]["cont"] or \
                "%s → %s" % (start, other) not in evs[arrive[0] if arrive else 0]["hosts"]:
            fail("journey %d: the host change is not shown as [%s → %s]" % (n, start, other))

    # Tracking never merged two packets on either kernel (tracepoint mode
    # here, kprobe mode in the guest): an id is in one journey only.
    ids = {}
    for n, evs in enumerate(js):
        for e in evs:
            ids.setdefault((e["host"], e["id"]), set()).add(n)
    for (h, tid), ns in sorted(ids.items()):
        if len(ns) > 1:
            fail("%s's tracking id %s holds the packets of %d journeys" % (h, tid, len(ns)))

    for pkt, ns in by_pkt.items():
        if len(ns) > 1:
            fail("packet in %d journeys (%s): %s" % (len(ns), ns, pkt))
    # Every packet put on the link is a journey across both hosts, and it
    # was received on the other side.
    for who, out, peer_recv in ((host, h_sent, g_recv), (guest, g_sent, h_recv)):
        for pkt in out:
            if pkt not in by_pkt:
                fail("%s sent a packet that is no cross-host journey: %s" % (who, pkt))
            if pkt not in peer_recv:
                fail("%s sent a packet the other host did not receive: %s" % (who, pkt))
    if len(by_pkt) != len(h_sent) + len(g_sent):
        fail("%d journeys for %d packets sent" % (len(by_pkt), len(h_sent) + len(g_sent)))

    def count(who, what):
        return sum(1 for evs in js if evs and evs[0]["host"] == who and what in evs[0]["pkt"])

    pings = (count(host, "proto ICMP (1) type 8 "), count(guest, "proto ICMP (1) type 0 "))
    tcp = (count(host, "proto TCP (6)"), count(guest, "proto TCP (6)"))
    print("ping: %d requests %s -> %s, %d replies back; TCP: %d segments %s -> %s, %d back"
          % (pings[0], host, guest, pings[1], tcp[0], host, guest, tcp[1]))
    if pings != (5, 5):
        fail("expected 5 echo requests and 5 replies as journeys, got %s" % (pings,))
    # The handshake, the 64 KiB and the close: SYN, data segments and FIN
    # from the host; SYN-ACK and FIN at least from the guest.
    if tcp[0] < 4 or tcp[1] < 2:
        fail("too few TCP journeys: %s" % (tcp,))
    for flag, who in (("[S]", host), ("[S.]", guest)):
        if not any(evs and evs[0]["host"] == who and "flags %s" % flag in evs[0]["pkt"]
                   for evs in js):
            fail("no %s journey from %s" % (flag, who))
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
