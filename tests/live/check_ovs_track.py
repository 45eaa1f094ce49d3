#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Assertions on the event file of the --ovs-track live test (tests/live/ovs.sh).

check_ovs_track.py FILE QUEUE_IDS

QUEUE_IDS: the replay program's stdout ("q <thread> <id>" per upcall, in
the order it fired recv_upcall). Without the kernel side every upcall is
reported (doc/collectors.md §8.5): per handler batch, one recv_upcall per
upcall (the queue id computed by the USDT hook equal to the program's
userspace jhash, the batch's leader timestamp, batch_idx 0), then the
flow operations matched to the upcalls in order (handler1: put/exec of
the first upcalls, an execute only for the last; handler2: put, exec),
with the batch's timestamp and the upcall's index. The revalidator's flow
put has no batch: no event. Every event is a USDT one of ovs-vswitchd.
"""
import json
import sys


def fail(msg):
    print("check_ovs_track: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    path, qpath = sys.argv[1], sys.argv[2]
    qids = {}
    for line in open(qpath):
        f = line.split()
        if len(f) == 3 and f[0] == "q":
            qids.setdefault(f[1], []).append(int(f[2]))
    if len(qids.get("handler1", [])) != 3 or len(qids.get("handler2", [])) != 1:
        fail("replay output: %r" % qids)
    events = [json.loads(l) for l in open(path)][1:]
    by_thread = {}
    for e in events:
        us = e.get("userspace")
        if not us or us.get("probe_type") != "usdt" or "kernel" in e:
            fail("not a USDT event: %s" % e)
        if not us["path"].endswith("/ovs-vswitchd"):
            fail("event of %s" % us["path"])
        comm = e["common"]["task"]["comm"]
        by_thread.setdefault(comm, []).append(e)
    if set(by_thread) != {"handler1", "handler2"}:
        fail("events from threads %s (revalidator3's put must not show)" % sorted(by_thread))

    def expect(thread, want):
        evs = by_thread[thread]
        got = []
        leader = evs[0]["common"]["timestamp"]
        for e in evs:
            o = e["ovs"]
            if o["batch_ts"] != leader:
                fail("%s: batch_ts %d, leader %d" % (thread, o["batch_ts"], leader))
            if o["event_type"] == "recv_upcall":
                if (o["type"], o["pkt_size"], o["key_size"]) != (0, 72, 40):
                    fail("recv_upcall arguments: %s" % o)
                got.append(("recv", o["queue_id"], o["batch_idx"]))
            else:
                got.append((o["op_type"], o["queue_id"], o["batch_idx"]))
        if got != want:
            fail("%s:\n got  %s\n want %s" % (thread, got, want))

    q = qids["handler1"]
    expect("handler1", [("recv", q[0], 0), ("recv", q[1], 0), ("recv", q[2], 0),
                        ("put", q[0], 0), ("exec", q[0], 0), ("put", q[1], 1),
                        ("exec", q[1], 1), ("exec", q[2], 2)])
    q = qids["handler2"]
    expect("handler2", [("recv", q[0], 0), ("put", q[0], 0), ("exec", q[0], 0)])
    print("check_ovs_track: %d events OK" % len(events))


if __name__ == "__main__":
    main()
