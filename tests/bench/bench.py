#!/usr/bin/env python3
"""retisc benchmarks (`make bench`). Prints figures; asserts nothing.

1. Userspace: decode+write of synthetic skb-tracking events (no kernel),
   median of 5 runs (tools/retisc-bench decode).
2. Per-hit kernel cost with kernel.bpf_stats_enabled=1: run_time_ns/run_cnt
   of retisc's probe program on tp:net:netif_receive_skb and
   tp:net:net_dev_start_xmit. Tail-called programs are not accounted
   separately by the kernel: the probe program's run time includes its hook
   chain and the submit program. Measured while a ping flood runs between two
   namespaces,
   against an empty raw tracepoint program on the same tracepoints under the
   same flood. Each side is measured 3 times, interleaved; medians and their
   ratio are printed (the machine is noisy: read ratios, not absolutes).
   The same run with --tracking-mode off isolates the cost of tracking.
"""
import json
import os
import statistics
import subprocess
import sys
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
RETISC = os.path.join(BUILD, "retisc")
BENCH = os.path.join(BUILD, "tools", "retisc-bench")
NS_A, NS_B = "retisc-bench-a", "retisc-bench-b"


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def topo():
    sh(f"ip netns del {NS_A}; ip netns del {NS_B}", check=False)
    sh(f"ip netns add {NS_A} && ip netns add {NS_B} && "
       f"ip link add vb-a netns {NS_A} type veth peer name vb-b netns {NS_B} && "
       f"ip -n {NS_A} addr add 10.202.0.1/24 dev vb-a && "
       f"ip -n {NS_B} addr add 10.202.0.2/24 dev vb-b && "
       f"ip -n {NS_A} link set vb-a up && ip -n {NS_B} link set vb-b up")


def prog_stats():
    progs = json.loads(sh("bpftool -j prog show").stdout)
    links = json.loads(sh("bpftool -j link show").stdout)
    tp_of = {l["prog_id"]: l.get("tp_name") for l in links if "tp_name" in l}
    return progs, tp_of


def flood(seconds):
    sh(f"ip netns exec {NS_A} ping -f -w {seconds} 10.202.0.2", check=False)


def measure_retisc(extra=()):
    p = subprocess.Popen([RETISC, "collect", "-c", "skb-tracking", "-o", "/tmp/retisc-bench.json",
                          *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    flood(3)
    progs, tp_of = prog_stats()
    p.send_signal(2)
    p.wait()
    os.unlink("/tmp/retisc-bench.json")
    per, probe_only = {}, {}
    chain = {"hook": [0, 0], "submit": [0, 0]}
    for pr in progs:
        name, rt, rc = pr.get("name", ""), pr.get("run_time_ns", 0), pr.get("run_cnt", 0)
        if name == "retisc_probe_tp" and tp_of.get(pr["id"]) in ("netif_receive_skb",
                                                                "net_dev_start_xmit"):
            per[tp_of[pr["id"]]] = rt / rc if rc else 0
            probe_only[tp_of[pr["id"]]] = rt / rc if rc else 0
        # bpftool shows names cut to 15 characters.
        elif name == "retisc_hook_tp":
            chain["hook"][0] += rt
            chain["hook"][1] += rc
        elif name == "retisc_submit_t":
            chain["submit"][0] += rt
            chain["submit"][1] += rc
    extra = sum(v[0] / v[1] for v in chain.values() if v[1])
    return {tp: c + extra for tp, c in per.items()}, probe_only


def measure_empty():
    out = {}
    for tp in ("netif_receive_skb", "net_dev_start_xmit"):
        p = subprocess.Popen([BENCH, "empty-tp", tp, "6"])
        time.sleep(1)
        flood(3)
        progs, _ = prog_stats()
        for pr in progs:
            if pr.get("name") == "retisc_bench_e" or pr.get("name", "").startswith("retisc_bench_em"):
                if pr.get("run_cnt"):
                    out[tp] = pr["run_time_ns"] / pr["run_cnt"]
        p.kill()
        p.wait()
    return out


def main():
    if os.geteuid() != 0:
        print("make bench needs root")
        return 1
    r = sh(f"{BENCH} decode {BUILD}/plugins 200000")
    print(r.stdout.strip())
    topo()
    sh("sysctl -q kernel.bpf_stats_enabled=1")
    try:
        rs, es, on, off = [], [], [], []
        for _ in range(3):
            chain, probe = measure_retisc()
            rs.append(chain)
            on.append(probe)
            off.append(measure_retisc(["--tracking-mode", "off"])[1])
            es.append(measure_empty())
        print("per-hit kernel cost (ns, median of 3; retisc = probe program incl. its "
              "tail-called skb-tracking hook and submit):")
        for tp in ("netif_receive_skb", "net_dev_start_xmit"):
            rv = statistics.median(x.get(tp, 0) for x in rs)
            ev = statistics.median(x.get(tp, 0) for x in es)
            ratio = rv / ev if ev else float("nan")
            print(f"  tp:net:{tp:20s} retisc {rv:8.0f}  empty {ev:6.0f}  ratio {ratio:5.1f}x")
        print("tracking on vs off (same chain; off emits no event) vs empty program:")
        for tp in ("netif_receive_skb", "net_dev_start_xmit"):
            a = statistics.median(x.get(tp, 0) for x in on)
            b = statistics.median(x.get(tp, 0) for x in off)
            ev = statistics.median(x.get(tp, 0) for x in es)
            print(f"  tp:net:{tp:20s} on {a:8.0f}  off {b:8.0f}  empty {ev:6.0f}  "
                  f"on/off {a / b if b else float('nan'):4.1f}x  "
                  f"off/empty {b / ev if ev else float('nan'):4.1f}x")
    finally:
        sh("sysctl -q kernel.bpf_stats_enabled=0", check=False)
        sh(f"ip netns del {NS_A}; ip netns del {NS_B}", check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
