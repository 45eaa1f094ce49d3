#!/usr/bin/env python3
"""TCP and UDP traffic for the tracking live tests (tracking.sh).

  tcp_peer.py server ADDR PORT SECONDS
      accept connections for SECONDS; read each until EOF, then answer with
      160 bytes and close (a short connection carries SYN, SYN-ACK, data
      both ways, FIN both ways)
  tcp_peer.py short ADDR PORT N
      N short connections: send a 40-byte request, read the answer, close
  tcp_peer.py bulk ADDR PORT BYTES
      one connection that sends BYTES, then reads the answer
  tcp_peer.py udp-sink ADDR PORT SECONDS
      receive datagrams for SECONDS
  tcp_peer.py udp ADDR PORT N
      N datagrams of one connected UDP socket, each carrying its number, so
      that a check can tell them apart even when their headers look alike
"""
import socket
import sys
import threading
import time


def server(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    s.settimeout(0.5)
    end = time.time() + seconds

    def serve(c):
        with c:
            c.settimeout(10)
            try:
                while c.recv(65536):
                    pass
                c.sendall(b"r" * 160)
            except OSError:
                pass

    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def connect(addr, port):
    for _ in range(50):
        try:
            return socket.create_connection((addr, port), timeout=10)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"cannot connect to {addr}:{port}")


def exchange(addr, port, payload):
    c = connect(addr, port)
    with c:
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = c.recv(4096)
            if not b:
                break
            got += b
    if len(got) != 160:
        raise SystemExit(f"answer of {len(got)} bytes")


def udp_sink(addr, port, seconds):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    u.settimeout(0.5)
    end = time.time() + seconds
    while time.time() < end:
        try:
            u.recv(2048)
        except socket.timeout:
            pass


def main():
    mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if mode == "server":
        server(addr, port, n)
    elif mode == "short":
        for i in range(n):
            exchange(addr, port, b"q%039d" % i)
    elif mode == "bulk":
        exchange(addr, port, bytes(i % 251 for i in range(n)))
    elif mode == "udp-sink":
        udp_sink(addr, port, n)
    elif mode == "udp":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect((addr, port))
        for i in range(n):
            u.send(b"u%09d" % i + b"x" * 50)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
