#!/usr/bin/env python3
"""Assertions on event files of the skb, dev and ns live tests (skb.sh).

The packet bytes are parsed here, independently of retisc's one-liner.
Other traffic of the machine is traced too (other namespaces, other tests),
so every check first selects the events of its own namespaces or addresses.
Python's json keeps 64-bit integers exact.
"""
import struct
import sys

from checklib import fail, ipv4, l3, load, packet_bytes as data, sym, tid

XMIT, RECV = "net:net_dev_start_xmit", "net:netif_receive_skb"









def tcp_flags(l4):
    return l4[13] & 0x3F


def netns_ok(e, inum):
    ns = e.get("netns")
    if not ns or ns["inum"] != inum:
        return False
    # This kernel's struct net has net_cookie.
    if not isinstance(ns.get("cookie"), int) or ns["cookie"] <= 0:
        fail(f"netns without a cookie: {ns}")
    return True


def find(events, what, pred):
    found = [e for e in events if pred(e)]
    if not found:
        fail(f"no event for {what}")
    return found


def tcp(path, port, inum_a, inum_b, inum_proc):
    """SYN, SYN-ACK, ACK of a connection from A to B, each seen leaving on
    veth-ta/veth-tb and arriving on the other side with the same id, in
    the right namespaces."""
    port, inum_a, inum_b = int(port), int(inum_a), int(inum_b)
    if int(inum_proc) != inum_b:
        fail(f"/proc/<listener>/ns/net {inum_proc} != /run/netns inode {inum_b}")
    evs = []
    for e in load(path):
        if "packet" not in e:
            continue
        ip = ipv4(data(e))
        if ip and ip[2] == 6 and port in struct.unpack_from("!HH", ip[3]):
            evs.append((e, ip))
    steps = [("SYN", 0x02, "10.201.0.1", inum_a, "veth-ta", inum_b, "veth-tb"),
             ("SYN-ACK", 0x12, "10.201.0.2", inum_b, "veth-tb", inum_a, "veth-ta"),
             ("ACK", 0x10, "10.201.0.1", inum_a, "veth-ta", inum_b, "veth-tb")]
    for name, flags, src, ns_tx, dev_tx, ns_rx, dev_rx in steps:
        def match(x, s, ns, dev):
            e, ip = x
            return (sym(e) == s and ip[0] == src and tcp_flags(ip[3]) == flags
                    and netns_ok(e, ns) and e.get("dev", {}).get("name") == dev)
        tx = [x[0] for x in evs if match(x, XMIT, ns_tx, dev_tx)]
        rx = [x[0] for x in evs if match(x, RECV, ns_rx, dev_rx)]
        if not tx or not rx:
            fail(f"{name}: {len(tx)} transmit, {len(rx)} receive events: "
                 f"{[(sym(e), tcp_flags(ip[3]), e.get('dev')) for e, ip in evs]}")
        if tid(tx[0]) != tid(rx[0]):
            fail(f"{name}: transmit and receive have different ids")
        for e in (tx[0], rx[0]):
            p = e["packet"]
            # Ethernet + IPv4 + TCP with options: all of it captured.
            if p["len"] != p["capture_len"] or p["len"] < 54:
                fail(f"{name}: packet {p['len']}/{p['capture_len']}")
            if e["dev"]["ifindex"] <= 0:
                fail(f"{name}: dev {e['dev']}")
        # skb_iif is set after the receive tracepoint.
        if "rx_ifindex" in rx[0]["dev"]:
            fail(f"{name}: rx_ifindex at {RECV}: {rx[0]['dev']}")
        if list(tx[0].keys()) != ["common", "kernel", "skb-tracking", "packet", "netns",
                                  "dev"]:
            fail(f"{name}: sections {list(tx[0].keys())}")
    print(f"ok: {len(evs)} events of the TCP connection")


def arp(path, inum_a, inum_b, mac_b):
    """Who-has from A and is-at from B, as ARP packets on the right devices."""
    inum_a, inum_b = int(inum_a), int(inum_b)
    mac_b = bytes.fromhex(mac_b.replace(":", ""))
    evs = load(path)

    def is_arp(e, op, spa, tpa):
        if "packet" not in e:
            return False
        raw = data(e)
        et, off = l3(raw)
        if et != 0x0806 or len(raw) < off + 28:
            return False
        a = raw[off:off + 28]
        return (struct.unpack_from("!H", a, 6)[0] == op
                and a[14:18] == bytes(map(int, spa.split(".")))
                and a[24:28] == bytes(map(int, tpa.split("."))) and (op == 1 or a[8:14] == mac_b))

    req = "10.201.0.1", "10.201.0.2"
    rep = "10.201.0.2", "10.201.0.1"
    find(evs, "who-has sent on veth-ta", lambda e: sym(e) == XMIT and is_arp(e, 1, *req)
         and netns_ok(e, inum_a) and e["dev"]["name"] == "veth-ta")
    find(evs, "who-has received on veth-tb", lambda e: sym(e) == RECV and is_arp(e, 1, *req)
         and netns_ok(e, inum_b) and e["dev"]["name"] == "veth-tb")
    find(evs, "is-at sent on veth-tb", lambda e: sym(e) == XMIT and is_arp(e, 2, *rep)
         and netns_ok(e, inum_b) and e["dev"]["name"] == "veth-tb")
    find(evs, "is-at received on veth-ta", lambda e: sym(e) == RECV and is_arp(e, 2, *rep)
         and netns_ok(e, inum_a) and e["dev"]["name"] == "veth-ta")
    print("ok: ARP request and reply")


def icmp_from_a(e):
    if "packet" not in e:
        return None
    ip = ipv4(data(e))
    return ip if ip and ip[0] == "10.201.0.1" and ip[2] == 1 else None


VLAN_ACCEL = {"proto": 0x8100, "pcp": 5, "dei": True, "vid": 100}


def vlan(path, mode, inum_a, inum_b):
    """mode accel: the tag is offloaded (vlan_accel, no tag in the packet);
    inline: the tag is in the packet (802.1Q, TCI 0xb064) and no
    vlan_accel. Both on transmit by veth-ta and receive by veth-tb."""
    inum_a, inum_b = int(inum_a), int(inum_b)
    evs = load(path)
    for s, inum, dev in ((XMIT, inum_a, "veth-ta"), (RECV, inum_b, "veth-tb")):
        mine = find(evs, f"ICMP on {s} {dev}",
                    lambda e: sym(e) == s and icmp_from_a(e) and netns_ok(e, inum)
                    and e["dev"]["name"] == dev)
        for e in mine:
            raw = data(e)
            tagged = struct.unpack_from("!H", raw, 12)[0] == 0x8100
            accel = e.get("skb", {}).get("vlan_accel")
            if mode == "accel":
                if tagged or accel != VLAN_ACCEL:
                    fail(f"{s}: tag in packet {tagged}, vlan_accel {accel}")
                if e["packet"]["len"] != 98:
                    fail(f"{s}: len {e['packet']['len']}")
            else:
                if not tagged or struct.unpack_from("!H", raw, 14)[0] != 0xB064 or accel:
                    fail(f"{s}: tag in packet {raw[12:18].hex()}, vlan_accel {accel}")
                if e["packet"]["len"] != 102:
                    fail(f"{s}: len {e['packet']['len']}")
    print(f"ok: VLAN {mode}")


def packets_only(path):
    """-c skb-tracking,skb: packets and no netns/dev/skb sections; a
    1242-byte echo request is captured up to 255 bytes."""
    evs = [e for e in load(path) if icmp_from_a(e)]
    if len(evs) < 6:
        fail(f"{len(evs)} ICMP events from 10.201.0.1")
    for e in evs:
        if list(e.keys()) != ["common", "kernel", "skb-tracking", "packet"]:
            fail(f"sections {list(e.keys())}")
    big = [e["packet"] for e in evs if e["packet"]["len"] == 14 + 20 + 8 + 1200]
    if not big or any(p["capture_len"] != 255 for p in big):
        fail(f"large packets {big}")
    print(f"ok: {len(evs)} packet events")


def sections_all(path, inum_a, inum_b):
    """--skb-sections all on ping: meta and data_ref everywhere, matching
    the packet; rx_ifindex once the stack saw the packet (consume_skb)."""
    inum_a, inum_b = int(inum_a), int(inum_b)
    evs = [e for e in load(path)
           if icmp_from_a(e) and (netns_ok(e, inum_a) or netns_ok(e, inum_b))]
    if len(evs) < 3:
        fail(f"{len(evs)} ICMP events")
    for e in evs:
        skb = e.get("skb", {})
        if list(skb.keys()) != ["meta", "data_ref"]:
            fail(f"skb keys {list(skb.keys())}")
        m, d = skb["meta"], skb["data_ref"]
        if list(m.keys()) != ["len", "data_len", "hash", "ip_summed", "csum", "csum_level",
                              "priority"]:
            fail(f"meta keys {list(m.keys())}")
        if list(d.keys()) != ["nohdr", "cloned", "fclone", "users", "dataref"]:
            fail(f"data_ref keys {list(d.keys())}")
        # skb->len counts from skb->data: 98 on transmit, less once the
        # receive path pulled headers.
        if not 0 < m["len"] <= 98 or m["data_len"] != 0 or e["packet"]["len"] != 98:
            fail(f"meta {m}, packet len {e['packet']['len']}")
        if d["users"] < 1 or d["dataref"] < 1 or m["ip_summed"] > 3:
            fail(f"data_ref {d}, meta {m}")
    xmit = [e for e in evs if sym(e) == XMIT]
    if not xmit or xmit[0]["skb"]["meta"]["len"] != 98:
        fail("no transmit event with len 98")
    consumed = find(evs, "consume_skb of a request in B",
                    lambda e: sym(e) == "skb:consume_skb" and netns_ok(e, inum_b))
    if consumed[0]["dev"].get("rx_ifindex") != consumed[0]["dev"]["ifindex"]:
        fail(f"consume_skb dev {consumed[0]['dev']}")
    print(f"ok: {len(evs)} events with meta and data_ref")


def gso(path):
    """A bulk TCP transfer leaves veth-ta in GSO packets: gso section with
    size and TCPv4 type; the payload sits in page fragments, so only the
    linear headers are captured."""
    evs = []
    for e in load(path):
        if sym(e) != XMIT or "packet" not in e:
            continue
        ip = ipv4(data(e))
        if ip and ip[0] == "10.201.0.1" and ip[2] == 6:
            evs.append(e)
    big = [e for e in evs if "gso" in e.get("skb", {})]
    if not big:
        fail(f"no GSO packet among {len(evs)}: {[e.get('skb') for e in evs][:5]}")
    for e in big:
        g = e["skb"]["gso"]
        if list(g.keys()) != ["flags", "frags", "size", "segs", "type"]:
            fail(f"gso keys {list(g.keys())}")
        if not g["size"] or not g["type"] & 1:  # SKB_GSO_TCPV4
            fail(f"gso {g}")
    if not any(e["packet"]["len"] > 1500 > e["packet"]["capture_len"] >= 54 and
               e["skb"]["gso"]["frags"] > 0 for e in big):
        fail("no GSO packet with its payload in fragments")
    print(f"ok: {len(big)} GSO packets")


def synthetic(path, inum_a):
    """A locally generated packet dropped before it has a MAC header: a
    synthetic Ethernet header (zero MACs, IPv4 ethertype), lengths + 14.
    No device yet: the namespace comes from the socket."""
    evs = [e for e in load(path)
           if sym(e) == "skb:kfree_skb" and icmp_from_a(e) and netns_ok(e, int(inum_a))]
    if not evs:
        fail("no kfree_skb of the dropped request")
    for e in evs:
        raw = data(e)
        if raw[:12] != bytes(12) or raw[12:14] != b"\x08\x00":
            fail(f"Ethernet header {raw[:14].hex()}")
        if e["packet"]["len"] != 14 + 84 or e["packet"]["capture_len"] != 98:
            fail(f"packet {e['packet']['len']}/{e['packet']['capture_len']}")
    print("ok: synthetic Ethernet header")


def netdev_arg(path, ifindex):
    """A probe with a net_device argument and no skb: dev section, no netns
    (the ns collector needs a tracked skb)."""
    evs = [e for e in load(path) if sym(e) == "neigh:neigh_create"]
    mine = [e for e in evs if e.get("dev", {}).get("name") == "veth-ta"]
    if not mine:
        fail(f"no neigh_create event on veth-ta: {evs}")
    for e in mine:
        if list(e.keys()) != ["common", "kernel", "dev"]:
            fail(f"sections {list(e.keys())}")
        if e["dev"] != {"name": "veth-ta", "ifindex": int(ifindex)}:
            fail(f"dev {e['dev']}")
    print("ok: dev from a net_device argument")


if __name__ == "__main__":
    checks = {
        "tcp": tcp, "arp": arp, "vlan": vlan, "packets-only": packets_only,
        "sections-all": sections_all, "gso": gso, "synthetic": synthetic,
        "netdev-arg": netdev_arg,
    }
    if len(sys.argv) < 3 or sys.argv[1] not in checks:
        fail(f"usage: {sys.argv[0]} {'|'.join(checks)} FILE ARGS...")
    checks[sys.argv[1]](*sys.argv[2:])
