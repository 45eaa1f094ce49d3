#!/usr/bin/env python3
"""Assertions on event files of the ct live tests (ct.sh).

The packet bytes (skb collector) are parsed here, independently of
retisc's one-liner, to tell which packet an event is about; the ct section
is then checked against what the kernel must have tracked for it. Other
traffic of the machine is traced too, so every check first selects the
events of its own addresses and ports. Python's json keeps 64-bit integers
exact.

  check_ct.py tcp FILE PORT
  check_ct.py dnat FILE
  check_ct.py mark FILE MARK
  check_ct.py zone FILE ZONE DIR
  check_ct.py labels FILE HI LO
  check_ct.py parent FILE CTRL_PORT DATA_PORT
  check_ct.py ipv6 FILE PORT

Every mode takes --ns INUM[,INUM...] last: only events of these network
namespaces count (concurrent test runs use the same addresses in their own
namespaces, and their packets are traced too).
"""
import base64
import ipaddress
import json
import struct
import sys

XMIT, RECV = "net:net_dev_start_xmit", "net:netif_receive_skb"

# include/uapi/linux/netfilter/nf_conntrack_common.h
IPS_EXPECTED, IPS_SEEN_REPLY, IPS_CONFIRMED = 0x1, 0x2, 0x8
IPS_DST_NAT, IPS_DST_NAT_DONE = 0x20, 0x100

CONN_KEYS = ["zone_id", "zone_dir", "orig", "reply", "proto_state", "mark", "labels",
             "ct_status"]


def fail(msg):
    print("check failed:", msg)
    sys.exit(1)


NAMESPACES = set()


def load(path):
    """The events of the selected namespaces."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines[-1] != b"":
        fail(f"{path}: last line is not terminated")
    events = [json.loads(line) for line in lines[:-1]]
    if not events or "startup" not in events[0]:
        fail(f"{path}: no startup event")
    return [e for e in events[1:] if e.get("netns", {}).get("inum") in NAMESPACES]


def sym(e):
    return e["kernel"]["symbol"]


def packet(e):
    """(src, dst, proto, sport, dport, tcp flags, icmp type) of an IPv4
    packet event, or None."""
    p = e.get("packet")
    if not p:
        return None
    raw = base64.b64decode(p["data"], validate=True)
    if len(raw) < 34 or struct.unpack_from("!H", raw, 12)[0] != 0x0800:
        return None
    ihl = (raw[14] & 0xF) * 4
    src = ".".join(str(b) for b in raw[26:30])
    dst = ".".join(str(b) for b in raw[30:34])
    proto, l4 = raw[23], raw[14 + ihl:]
    sport = dport = flags = itype = None
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack_from("!HH", l4, 0)
    if proto == 6 and len(l4) >= 14:
        flags = l4[13] & 0x3F
    if proto == 1 and len(l4) >= 1:
        itype = l4[0]
    return src, dst, proto, sport, dport, flags, itype


def packet6(e):
    """(src, dst, next header, sport, dport, tcp flags) of an IPv6 packet
    event without extension headers, or None."""
    p = e.get("packet")
    if not p:
        return None
    raw = base64.b64decode(p["data"], validate=True)
    if len(raw) < 54 or struct.unpack_from("!H", raw, 12)[0] != 0x86DD:
        return None
    # Python's text form follows the same rules as doc/events.md §6.8 here.
    src = str(ipaddress.IPv6Address(raw[22:38]))
    dst = str(ipaddress.IPv6Address(raw[38:54]))
    nh, l4 = raw[20], raw[54:]
    sport = dport = flags = None
    if nh == 6 and len(l4) >= 14:
        sport, dport = struct.unpack_from("!HH", l4, 0)
        flags = l4[13] & 0x3F
    return src, dst, nh, sport, dport, flags


def check_conn_shape(c, where, with_state=True):
    """Key order and types of a connection object (doc/events.md §4.14)."""
    keys = list(c)
    if with_state:
        if keys[0] != "state":
            fail(f"{where}: state is not the first key: {keys}")
        keys = keys[1:]
    if keys and keys[-1] == "parent":
        keys = keys[:-1]
    want = [k for k in CONN_KEYS if k in keys]
    if keys != want:
        fail(f"{where}: keys {keys}, want this order {want}")
    for k in ("zone_id", "zone_dir", "orig", "reply", "ct_status"):
        if k not in c:
            fail(f"{where}: no {k}: {c}")
    # This kernel has CONFIG_NF_CONNTRACK_MARK=y.
    if not isinstance(c.get("mark"), int):
        fail(f"{where}: no mark: {c}")
    for t in ("orig", "reply"):
        if list(c[t]) != ["ip", "proto"] or list(c[t]["ip"]) != ["src", "dst", "version"]:
            fail(f"{where}: tuple {c[t]}")
        if len(c[t]["proto"]) != 1:
            fail(f"{where}: tuple protocol {c[t]['proto']}")


def tuple_of(c, t, version="v4"):
    """(src, dst, proto name, sport or type, dport or code, id)."""
    ip, proto = c[t]["ip"], c[t]["proto"]
    if ip["version"] != version:
        fail(f"IP{version} expected: {ip}")
    name, p = next(iter(proto.items()))
    if name == "icmp":
        return ip["src"], ip["dst"], name, p["type"], p["code"], p["id"]
    return ip["src"], ip["dst"], name, p["sport"], p["dport"], None


def ct_of(e, where):
    c = e.get("ct")
    if c is None:
        fail(f"{where}: no ct section: {json.dumps(e)}")
    check_conn_shape(c, where)
    if "parent" in c:
        check_conn_shape(c["parent"], where + " parent", with_state=False)
    return c


def check_tcp(path, port):
    events = load(path)
    a, b = "10.201.0.1", "10.201.0.2"
    seen = {"syn": 0, "synack": 0, "ack": 0}
    for e in events:
        pk = packet(e)
        if not pk or pk[2] != 6 or port not in (pk[3], pk[4]) or {pk[0], pk[1]} != {a, b}:
            continue
        src, dst, _, sport, dport, flags, _ = pk
        client_port = sport if dport == port else dport
        if sym(e) == RECV:
            # veth cleared the entry; PREROUTING has not run yet.
            if "ct" in e:
                fail(f"receive event with a ct section: {e['ct']}")
            continue
        if sym(e) != XMIT:
            continue
        c = ct_of(e, f"xmit {src}.{sport} > {dst}.{dport} flags {flags:#x}")
        # The client opened it: orig is the client's view on both sides.
        if tuple_of(c, "orig") != (a, b, "tcp", client_port, port, None) or \
                tuple_of(c, "reply") != (b, a, "tcp", port, client_port, None):
            fail(f"tuples {c['orig']} {c['reply']}")
        if c["zone_id"] != 0 or c["zone_dir"] != "Default" or c["mark"] != 0 or "labels" in c:
            fail(f"zone/mark/labels {c}")
        if not c["ct_status"] & IPS_CONFIRMED:
            fail(f"unconfirmed entry after POSTROUTING: {c}")
        if flags == 0x02:  # SYN, leaving the client
            seen["syn"] += 1
            want = ("new", "SYN_SENT")
        elif flags == 0x12:  # SYN-ACK, leaving the server
            seen["synack"] += 1
            want = ("reply", "SYN_RECV")
            if not c["ct_status"] & IPS_SEEN_REPLY:
                fail(f"SYN-ACK without SEEN_REPLY: {c}")
        elif flags == 0x10 and src == a and not seen["ack"]:  # the handshake's ACK
            seen["ack"] += 1
            want = ("established", "ESTABLISHED")
        else:
            continue
        if (c["state"], c.get("proto_state")) != want:
            fail(f"flags {flags:#x}: state {c['state']}/{c.get('proto_state')}, want {want}")
    if seen != {"syn": 1, "synack": 1, "ack": 1}:
        fail(f"handshake events seen: {seen}")


def check_dnat(path):
    events = load(path)
    client, vip, server = "10.210.1.1", "10.210.9.100", "10.210.2.2"
    req = rep = 0
    states = []
    for e in events:
        pk = packet(e)
        if not pk or pk[2] != 1 or sym(e) != XMIT or pk[6] not in (0, 8):
            continue
        src, dst, itype = pk[0], pk[1], pk[6]
        dev = e.get("dev", {}).get("name")
        if itype == 8 and (src, dst) == (client, server) and dev == "veth-dmb":
            req += 1  # the request after DNAT, leaving the middle
            want_state = ("new", "established")
        elif itype == 0 and (src, dst) == (vip, client) and dev == "veth-dma":
            rep += 1  # the reply after the reverse translation
            want_state = ("reply",)
        else:
            # Client and server namespaces have no conntrack.
            if {src, dst} & {client, vip, server} and "ct" in e and dev in ("veth-da", "veth-db"):
                fail(f"ct in a namespace without conntrack: {e['ct']}")
            continue
        c = ct_of(e, f"{dev} {src} > {dst} type {itype}")
        if c["state"] not in want_state:
            fail(f"{dev} type {itype}: state {c['state']}")
        states.append(c["state"])
        o, r = tuple_of(c, "orig"), tuple_of(c, "reply")
        if o[:5] != (client, vip, "icmp", 8, 0) or r[:5] != (server, client, "icmp", 0, 0) or \
                o[5] != r[5]:
            fail(f"tuples {c['orig']} {c['reply']}")
        need = IPS_CONFIRMED | IPS_DST_NAT | IPS_DST_NAT_DONE
        if c["ct_status"] & need != need:
            fail(f"status {c['ct_status']:#x} lacks DST_NAT/DST_NAT_DONE/CONFIRMED")
        if "proto_state" in c:
            fail(f"proto_state for ICMP: {c}")
    if req != 3 or rep != 3:
        fail(f"{req} requests, {rep} replies with ct (want 3 each)")
    if states[0] != "new" or "established" not in states:
        fail(f"states {states}")


def icmp_requests(path, src, dst):
    """ct sections of the echo requests leaving src for dst."""
    out = []
    for e in load(path):
        pk = packet(e)
        if pk and pk[2] == 1 and pk[6] == 8 and pk[:2] == (src, dst) and sym(e) == XMIT:
            out.append(ct_of(e, f"request {src} > {dst}"))
    if len(out) != 2:
        fail(f"{len(out)} echo requests with ct, want 2")
    if [c["state"] for c in out] != ["new", "established"]:
        fail(f"states {[c['state'] for c in out]}")
    for c in out:
        o = tuple_of(c, "orig")
        if o[:5] != (src, dst, "icmp", 8, 0):
            fail(f"orig tuple {c['orig']}")
    return out


def check_mark(path, mark):
    for c in icmp_requests(path, "10.201.0.1", "10.201.0.2"):
        if c["mark"] != mark:
            fail(f"mark {c['mark']}, want {mark}")


def check_zone(path, zone, zdir):
    for c in icmp_requests(path, "10.201.0.1", "10.201.0.2"):
        if (c["zone_id"], c["zone_dir"]) != (zone, zdir):
            fail(f"zone {c['zone_id']}/{c['zone_dir']}, want {zone}/{zdir}")


def check_labels(path, hi, lo):
    for c in icmp_requests(path, "10.201.0.1", "10.201.0.2"):
        if c.get("labels") != {"hi": hi, "lo": lo}:
            fail(f"labels {c.get('labels')}, want hi {hi} lo {lo}")


def check_parent(path, ctrl_port, data_port):
    a, b = "10.201.0.1", "10.201.0.2"
    syn = None
    for e in load(path):
        pk = packet(e)
        if pk and pk[2] == 6 and pk[:2] == (a, b) and pk[4] == data_port and \
                pk[5] == 0x02 and sym(e) == XMIT:
            syn = e
    if not syn:
        fail("no SYN of the data connection")
    c = ct_of(syn, "data SYN")
    if (c["state"], c.get("proto_state")) != ("related", "SYN_SENT"):
        fail(f"data connection {c['state']}/{c.get('proto_state')}")
    if not c["ct_status"] & IPS_EXPECTED:
        fail(f"data connection not EXPECTED: {c['ct_status']:#x}")
    dport = packet(syn)[3]
    if tuple_of(c, "orig") != (a, b, "tcp", dport, data_port, None):
        fail(f"data tuple {c['orig']}")
    p = c.get("parent")
    if p is None:
        fail(f"no parent: {c}")
    if "state" in p:
        fail(f"parent with a state: {p}")
    po, pr = tuple_of(p, "orig"), tuple_of(p, "reply")
    if po[:2] != (a, b) or po[2:5:2] != ("tcp", ctrl_port) or pr[:4] != (b, a, "tcp", ctrl_port):
        fail(f"parent tuples {p['orig']} {p['reply']}")
    if p.get("proto_state") != "ESTABLISHED":
        fail(f"parent state {p.get('proto_state')}")


def check_ipv6(path, port):
    a, b = "fd20::1", "fd20::2"
    syn = echo = 0
    for e in load(path):
        pk = packet6(e)
        if not pk or {pk[0], pk[1]} != {a, b} or sym(e) != XMIT:
            continue
        if pk[2] == 58:
            # ICMPv6 entries exist but are not reported (doc/collectors.md §6.2).
            if "ct" in e:
                fail(f"ICMPv6 with a ct section: {e['ct']}")
            echo += 1
            continue
        if pk[2] != 6 or pk[5] != 0x02 or pk[4] != port:
            continue
        syn += 1
        c = ct_of(e, "IPv6 SYN")
        if (c["state"], c.get("proto_state")) != ("new", "SYN_SENT"):
            fail(f"IPv6 SYN: {c['state']}/{c.get('proto_state')}")
        if tuple_of(c, "orig", "v6") != (a, b, "tcp", pk[3], port, None) or \
                tuple_of(c, "reply", "v6") != (b, a, "tcp", port, pk[3], None):
            fail(f"IPv6 tuples {c['orig']} {c['reply']}")
    if syn != 1 or not echo:
        fail(f"{syn} IPv6 SYN, {echo} ICMPv6 events")


def main():
    argv = sys.argv[1:]
    if len(argv) < 4 or argv[-2] != "--ns":
        fail("usage: check_ct.py MODE FILE ARGS... --ns INUM[,INUM...]")
    NAMESPACES.update(int(i) for i in argv[-1].split(","))
    mode, path, args = argv[0], argv[1], argv[2:-2]
    if mode == "tcp":
        check_tcp(path, int(args[0]))
    elif mode == "dnat":
        check_dnat(path)
    elif mode == "mark":
        check_mark(path, int(args[0]))
    elif mode == "zone":
        check_zone(path, int(args[0]), args[1])
    elif mode == "labels":
        check_labels(path, int(args[0]), int(args[1]))
    elif mode == "parent":
        check_parent(path, int(args[0]), int(args[1]))
    elif mode == "ipv6":
        check_ipv6(path, int(args[0]))
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
