#!/usr/bin/env python3
"""Assertions on event files written by `retisc collect` (live tests).

Python's json keeps integers exact, so 64-bit kernel addresses compare
correctly (jq would turn them into doubles).
"""
import base64
import json
import sys

from checklib import fail, read_lines as load, tid




def check_startup(events, ordered=True):
    if not events or "startup" not in events[0]:
        fail("line 1 is not a startup event")
    st = events[0]["startup"]
    if st.get("retis_version") != "v1.7.0":
        fail(f"retis_version {st.get('retis_version')}")
    for k in ("cmdline", "clock_monotonic_offset", "machine"):
        if k not in st:
            fail(f"startup lacks {k}")
    if list(events[0].keys()) != ["common", "startup"]:
        fail(f"startup keys {list(events[0].keys())}")
    t0 = events[0]["common"]["timestamp"]
    for e in events[1:] if ordered else []:
        if e["common"]["timestamp"] <= t0:
            fail("an event is older than the startup event")



def ping_tracking(path):
    events = load(path)
    check_startup(events)
    probes = {}
    for e in events[1:]:
        if list(e.keys()) != ["common", "kernel", "skb-tracking"]:
            fail(f"unexpected sections/order {list(e.keys())}")
        k = e["kernel"]
        if k["probe_type"] != "raw_tracepoint":
            fail(f"probe_type {k['probe_type']}")
        probes[k["symbol"]] = probes.get(k["symbol"], 0) + 1
        if e["skb-tracking"]["orig_head"] < 2**63:
            fail("orig_head is not a kernel address")
    for p in ("net:net_dev_start_xmit", "net:netif_receive_skb"):
        if probes.get(p, 0) < 6:
            fail(f"too few events on {p}: {probes}")
    # The sender's transmits run in ping's context: its task section says
    # so (comm read from the BTF task, pid/tgid from the helper).
    sent = [e["common"]["task"] for e in events[1:]
            if e["kernel"]["symbol"] == "net:net_dev_start_xmit"
            and e["common"]["task"]["comm"] == "ping"]
    if len(sent) < 3 or any(t["pid"] <= 0 or t["tgid"] <= 0 for t in sent):
        fail(f"fewer than 3 transmits attributed to ping: {sent}")
    # Group by id, in file order.
    series = {}
    order = []
    for e in events[1:]:
        i = tid(e)
        if i not in series:
            series[i] = []
            order.append(i)
        series[i].append(e["kernel"]["symbol"])
    # Each ICMP packet: sent on one side, received on the other, same id.
    pairs = [i for i in order
             if series[i] == ["net:net_dev_start_xmit", "net:netif_receive_skb"]]
    if len(pairs) < 6:
        fail(f"fewer than 6 packets seen at both probes with one id: "
             f"{[series[i] for i in order]}")
    # Requests and replies alternate and never share an id: the receive of
    # a request is followed by the transmit of its reply under a new id.
    evs = [e for e in events[1:] if tid(e) in pairs]
    for a, b in zip(evs, evs[1:]):
        if (a["kernel"]["symbol"] == "net:netif_receive_skb"
                and b["kernel"]["symbol"] == "net:net_dev_start_xmit"
                and tid(a) == tid(b)):
            fail("a reply has its request's id")
    print(f"ok: {len(events) - 1} events, {len(pairs)} tracked packets")


def valid_file(path, n=None):
    events = load(path)
    check_startup(events)
    for e in events[1:]:
        if "common" not in e or "kernel" not in e:
            fail(f"event without common/kernel: {e}")
    if n is not None and len(events) - 1 != int(n):
        fail(f"{len(events) - 1} events in the file, {n} processed")
    print(f"ok: {len(events) - 1} events")


def killed_file(path, t0):
    """A SIGKILLed collection's file: complete lines that all parse, events
    of the flood's first second (CLOCK_MONOTONIC, t0 = its start) and the
    three pings sent 0.5 s before the kill."""
    t0 = int(t0)
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        fail("the last line is incomplete")
    events = [json.loads(line) for line in data.splitlines()]
    check_startup(events)
    first = [e for e in events[1:] if t0 <= e["common"]["timestamp"] < t0 + 1000000000]
    if len(first) < 100:
        fail(f"only {len(first)} events of the flood's first second survived SIGKILL "
             f"({len(events) - 1} in the file)")
    # The three pings after the flood: echo requests and replies (ICMP type
    # 8 and 0) with sequence numbers 1-3, each seen at least once.
    seqs = set()
    for e in events[1:]:
        pkt = e.get("packet")
        if not pkt or e["common"]["timestamp"] < t0 + 2000000000:
            continue
        raw = base64.b64decode(pkt["data"])
        if len(raw) >= 42 and raw[12:14] == b"\x08\x00" and raw[23] == 1:
            icmp = 14 + (raw[14] & 0xf) * 4
            seqs.add((raw[icmp], int.from_bytes(raw[icmp + 6:icmp + 8], "big")))
    want = {(t, q) for t in (0, 8) for q in (1, 2, 3)}
    if not want <= seqs:
        fail(f"the last pings before SIGKILL are missing: {sorted(want - seqs)}")
    print(f"{len(events) - 1} events kept, {len(first)} of the first second, "
          f"the last pings all there")


def groups(events):
    series, order = {}, []
    for e in events[1:]:
        if "skb-tracking" not in e:
            continue
        i = tid(e)
        if i not in series:
            series[i] = []
            order.append(i)
        series[i].append(e)
    return series, order


def dnat(path):
    events = load(path)
    check_startup(events)
    series, order = groups(events)
    want = ["net:net_dev_start_xmit", "net:netif_receive_skb"] * 2
    full = [i for i in order if [e["kernel"]["symbol"] for e in series[i]] == want]
    if len(full) < 6:
        fail(f"fewer than 6 packets followed across the router with one id: "
             f"{[[e['kernel']['symbol'] for e in series[i]] for i in order]}")
    # A request and its reply never share an id.
    evs = [e for e in events[1:] if "skb-tracking" in e and tid(e) in full]
    ids = []
    for e in evs:
        if not ids or ids[-1] != tid(e):
            ids.append(tid(e))
    if len(ids) != len(set(ids)):
        fail("an id was reused by another packet")
    print(f"ok: {len(full)} packets with one id over 4 hops")


def clones(path):
    events = load(path)
    check_startup(events)
    series, order = groups(events)
    multi = [i for i in order if len({e["skb-tracking"]["skb"] for e in series[i]}) >= 2]
    if len(multi) < 3:
        fail(f"fewer than 3 packets with clones: "
             f"{[[(e['kernel']['symbol'], e['skb-tracking']['skb']) for e in series[i]] for i in order]}")
    print(f"ok: {len(multi)} packets seen with several skb addresses")


def realloc(path):
    events = load(path)
    check_startup(events)
    series, order = groups(events)
    x, r = "net:net_dev_start_xmit", "net:netif_receive_skb"
    want = [x, r, x, x, r, r]
    full = [i for i in order if [e["kernel"]["symbol"] for e in series[i]] == want]
    if len(full) < 3:
        fail(f"fewer than 3 requests kept their id through the reallocation: "
             f"{[[e['kernel']['symbol'] for e in series[i]] for i in order]}")
    print(f"ok: {len(full)} packets kept their id through head reallocation")


def lost(path, total):
    events = load(path)
    check_startup(events)
    marked = [e["skb-tracking"]["lost"] for e in events[1:]
              if "lost" in e.get("skb-tracking", {})]
    if not marked:
        fail("no event carries a loss count")
    if any(n < 1 for n in marked) or sum(marked) > int(total):
        fail(f"loss counts {marked[:20]} inconsistent with {total} lost in total")
    print(f"ok: {len(marked)} events carry {sum(marked)} of {total} lost events")


def rotated_set(path, min_files):
    """A rotated set that an error ended (doc/files.md §5, §8): PATH.0 ..
    PATH.N without a gap and no bare PATH; each file complete lines that
    all parse, its startup line first with split_file.id = its index."""
    import os
    d, base = os.path.split(path)
    names = [n for n in os.listdir(d) if n == base or n.startswith(base + ".")]
    if base in names:
        fail(f"{path} was left unrenamed ({sorted(names)})")
    idx = sorted(int(n[len(base) + 1:]) for n in names)
    if idx != list(range(len(idx))) or len(idx) < int(min_files):
        fail(f"files of the set: {sorted(names)}")
    total = 0
    for i in idx:
        with open(f"{path}.{i}", "rb") as f:
            data = f.read()
        if not data.endswith(b"\n"):
            fail(f"{path}.{i}: the last line is incomplete ({len(data)} bytes)")
        try:
            events = [json.loads(line) for line in data.splitlines()]
        except ValueError as e:
            fail(f"{path}.{i}: a line does not parse: {e}")
        # A later file's startup line is stamped at the rotation, after
        # the kernel stamped the events still in flight (doc/files.md §5).
        check_startup(events, ordered=i == 0)
        sid = events[0]["startup"].get("split_file", {}).get("id")
        if sid != i:
            fail(f"{path}.{i}: split_file.id {sid}")
        total += len(events) - 1
    print(f"ok: {len(idx)} files, {total} events")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "ping-tracking":
        ping_tracking(sys.argv[2])
    elif cmd == "dnat":
        dnat(sys.argv[2])
    elif cmd == "clones":
        clones(sys.argv[2])
    elif cmd == "realloc":
        realloc(sys.argv[2])
    elif cmd == "lost":
        lost(sys.argv[2], sys.argv[3])
    elif cmd == "valid-file":
        valid_file(*sys.argv[2:])
    elif cmd == "rotated-set":
        rotated_set(sys.argv[2], sys.argv[3])
    elif cmd == "killed-file":
        killed_file(sys.argv[2], sys.argv[3])
    else:
        fail(f"unknown check {cmd}")
