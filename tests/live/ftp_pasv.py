#!/usr/bin/env python3
"""The smallest passive-mode FTP exchange that makes the kernel's FTP
conntrack helper expect a data connection (ct.sh, parent connection).

  ftp_pasv.py server ADDR PORT DATA_PORT   serve one client, then exit
  ftp_pasv.py client ADDR PORT             PASV, then connect to the data port

The helper only parses a server line that starts right after a newline it
has seen, so the banner and the 227 reply go out as separate segments (the
server waits for the client's command in between).
"""
import socket
import sys


def server(addr, port, data_port):
    ctrl = socket.create_server((addr, port))
    data = socket.create_server((addr, data_port))
    ctrl.settimeout(20)
    data.settimeout(20)
    conn, _ = ctrl.accept()
    conn.sendall(b"220 retisc test\r\n")
    conn.recv(64)
    a = addr.replace(".", ",")
    conn.sendall(b"227 Entering Passive Mode (%s,%d,%d).\r\n"
                 % (a.encode(), data_port >> 8, data_port & 0xFF))
    d, _ = data.accept()
    d.sendall(b"data\n")
    d.close()
    conn.close()


def client(addr, port):
    c = socket.create_connection((addr, port), timeout=5)
    c.recv(64)
    c.sendall(b"PASV\r\n")
    line = c.recv(128).decode()
    nums = line[line.index("(") + 1:line.index(")")].split(",")
    data_port = int(nums[4]) << 8 | int(nums[5])
    d = socket.create_connection((addr, data_port), timeout=5)
    d.recv(64)
    d.close()
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        client(sys.argv[2], int(sys.argv[3]))
