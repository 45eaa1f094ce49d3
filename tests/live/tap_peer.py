#!/usr/bin/env python3
"""A TCP receiver behind a tap device, as a VM is (tracking.sh).

  tap_peer.py TAP LOCAL_ADDR PEER_ADDR PEER_MAC PORT N

Run in the namespace that holds TAP (a persistent tap with LOCAL_ADDR and a
permanent neighbour entry PEER_ADDR -> PEER_MAC). A socket of the namespace
connects to PEER_ADDR:PORT and sends N small segments, one at a time; this
script plays the peer in userspace on the tap's file descriptor, as QEMU
does: it answers the SYN, and ACKs every data segment with a pure ACK
written into the tap (tun_get_user() -> netif_receive_skb(), each write a
new packet), then closes. The descriptor is non-blocking, as QEMU's is: the
kernel then builds each written frame in a page fragment of the writer
(tun_build_skb()), and TCP frees a pure ACK without any skb tracepoint.

Prints "acks N" (the pure ACKs written) and exits 0 when the socket side
received all it should.
"""
import fcntl
import os
import select
import socket
import struct
import sys
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ISN = 0x50000000
WINDOW = 64240
CHUNK = 100


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(dst_mac, src_mac, src, dst, sport, dport, seq, ack, flags, opts=b""):
    """Ethernet + IPv4 + TCP, both checksums valid."""
    doff = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, WINDOW, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def sender(local, peer, port, n, result):
    """The namespace's socket: N segments of CHUNK bytes, each waiting for
    its ACK (TCP_NODELAY, a pause), so that each gets a pure ACK of its own."""
    try:
        c = socket.create_connection((peer, port), timeout=10)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(n):
            c.sendall(bytes([65 + i % 26]) * CHUNK)
            time.sleep(0.02)
        c.shutdown(socket.SHUT_WR)
        c.settimeout(10)
        result.append(c.recv(1) == b"")
        c.close()
    except OSError as e:
        print(f"sender: {e}", file=sys.stderr)
        result.append(False)


def main(tap, local, peer, peer_mac, port, n):
    local, peer = socket.inet_aton(local), socket.inet_aton(peer)
    port, n = int(port), int(n)
    mac = bytes.fromhex(peer_mac.replace(":", ""))
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI))
    result = []
    t = threading.Thread(target=sender,
                         args=(socket.inet_ntoa(local), socket.inet_ntoa(peer), port, n, result))
    t.start()
    acks, rcv_nxt, fin_sent, done = 0, None, False, False
    end = time.time() + 20
    while not done and time.time() < end:
        if not select.select([fd], [], [], 0.2)[0]:
            continue
        try:
            f = os.read(fd, 65536)
        except BlockingIOError:
            continue
        if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6 or f[30:34] != peer:
            continue
        ihl = (f[14] & 0xF) * 4
        tot = struct.unpack_from("!H", f, 16)[0]
        l4 = 14 + ihl
        sport, dport, seq, ack = struct.unpack_from("!HHII", f, l4)
        if dport != port:
            continue
        flags = f[l4 + 13]
        plen = tot - ihl - (f[l4 + 12] >> 4) * 4

        def reply(fl, opts=b""):
            os.write(fd, frame(f[6:12], mac, peer, local, port, sport,
                               ISN if fl & 0x02 else (ISN + 1) % 2**32, rcv_nxt, fl, opts))

        if flags & 0x04:
            break
        if flags & 0x02:  # SYN: a SYN-ACK with an MSS and no other option
            rcv_nxt = (seq + 1) % 2**32
            reply(0x12, struct.pack("!BBH", 2, 4, 1460))
        elif rcv_nxt is None:
            continue
        elif flags & 0x01:  # FIN: ours, with the ACK of theirs
            rcv_nxt = (seq + plen + 1) % 2**32
            reply(0x11)
            fin_sent = True
        elif plen:
            rcv_nxt = (seq + plen) % 2**32
            reply(0x10)
            acks += 1
        elif fin_sent and ack == (ISN + 2) % 2**32:
            done = True
    t.join(15)
    os.close(fd)
    print(f"acks {acks}")
    return 0 if result == [True] and acks == n else 1


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
