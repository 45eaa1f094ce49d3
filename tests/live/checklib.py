"""Shared helpers of the live tests' checkers (tests/live/check*.py): reading
event files strictly, failing with a message, tracking ids, packet bytes.

Python's json keeps integers exact, so 64-bit kernel addresses compare
correctly (jq would turn them into doubles).
"""
import base64
import json
import struct
import sys


def fail(msg):
    print("check failed:", msg)
    sys.exit(1)


def read_lines(path):
    """Every JSON value of a JSON-lines file (startup event included): the
    last line terminated, no blank line, each line valid JSON."""
    values = []
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        fail(f"{path}: last line is not terminated by a newline")
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        if not line:
            fail(f"{path}:{n}: blank line")
        try:
            values.append(json.loads(line))
        except ValueError as e:
            fail(f"{path}:{n}: invalid JSON: {e}")
    return values


def load(path):
    """The events of an events file, after its startup event."""
    events = read_lines(path)
    if not events or "startup" not in events[0]:
        fail(f"{path}: no startup event")
    return events[1:]


def sym(e):
    return e["kernel"]["symbol"]


def tid(e):
    """The tracking id of an event: (timestamp, orig_head)."""
    t = e["skb-tracking"]
    return (t["timestamp"], t["orig_head"])


def packet_bytes(e):
    """The captured bytes of an event's packet section, lengths checked."""
    p = e["packet"]
    raw = base64.b64decode(p["data"], validate=True)
    if len(raw) != p["capture_len"] or p["capture_len"] > min(p["len"], 255):
        fail(f"packet lengths {p['len']}/{p['capture_len']}/{len(raw)}")
    return raw


def l3(raw):
    """(ethertype, offset of L3) after the VLAN tags of an Ethernet frame."""
    et, off = struct.unpack_from("!H", raw, 12)[0], 14
    while et in (0x8100, 0x88A8) and len(raw) >= off + 4:
        et, off = struct.unpack_from("!H", raw, off + 2)[0], off + 4
    return et, off


def ipv4(raw):
    """(src, dst, proto, L4 bytes) of an IPv4 frame, or None."""
    et, off = l3(raw)
    if et != 0x0800 or len(raw) < off + 20:
        return None
    ihl = (raw[off] & 0xF) * 4
    src = ".".join(str(b) for b in raw[off + 12:off + 16])
    dst = ".".join(str(b) for b in raw[off + 16:off + 20])
    return src, dst, raw[off + 9], raw[off + ihl:]
