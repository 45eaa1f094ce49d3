#!/usr/bin/env python3
"""retisc benchmark suite (`make bench`). Prints figures and a closing table;
asserts nothing. Method, targets and how to read the figures:
tests/bench/README.md.

Sections (in run order):
  userspace  decode+write rates, sort/print rates and peak RSS on a
             generated 1M-event file (no kernel)
  startup    time to the first probe attached and to all attached
  per-hit    BPF run time per hit (bpf_stats): retisc, the empty program,
             bpftrace, under the same UDP flood to a closed port
  rate       UDP packets/s received under a flood: untraced, empty program,
             retisc writing a file, bpftrace writing a file
  no-loss    highest paced event rate retisc writes without loss, and the
             loss at twice that rate

The machine is noisy: every figure is the median of several runs, and the
configurations compared are run side by side, interleaved, in each round;
ratios are taken per round, then their median is reported.

Usage: bench.py [BUILD] [--quick] [--only SECTION[,SECTION...]]
"""
import ctypes
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
args = [a for a in sys.argv[1:]]
QUICK = "--quick" in args
ONLY = None
if "--only" in args:
    ONLY = set(args[args.index("--only") + 1].split(","))
    del args[args.index("--only"):args.index("--only") + 2]
args = [a for a in args if not a.startswith("--")]
BUILD = os.path.abspath(args[0] if args else "build")
RETISC = os.path.join(BUILD, "retisc")
BENCH = os.path.join(BUILD, "tools", "retisc-bench")
FLOOD = os.path.join(BUILD, "tools", "retisc-flood")
PEER = os.path.join(HERE, "peer.bt")
# Per-run names, so that a concurrent run (or the live tests) keeps its own.
NS_A, NS_B = f"rb{os.getpid()}-a", f"rb{os.getpid()}-b"
ADDR_B = "10.204.0.2"
PORT_OPEN, PORT_CLOSED = 9000, 9
# The traffic (sender, and the softirq work it triggers) has CPU 0; the
# receiver and the tracers' userspace share CPU 1.
CPU_TRAFFIC, CPU_TOOLS = "0", "1"
TPS = ("netif_receive_skb", "net_dev_start_xmit", "kfree_skb")
# Naming collectors means naming probes too (as in Retis): the two
# default ones.
RETISC_ARGS = ["collect", "-c",
               os.environ.get("RETISC_BENCH_COLLECTORS", "skb-tracking,skb,skb-drop"),
               "-p", "tp:net:netif_receive_skb", "-p", "tp:net:net_dev_start_xmit"]
# Extra collect options for experiments (RETISC_BENCH_ARGS="--ring-size 1M",
# RETISC_BENCH_COLLECTORS=skb-tracking); the figures of the README are taken
# without.
RETISC_ARGS += os.environ.get("RETISC_BENCH_ARGS", "").split()

ROUNDS = 2 if QUICK else 5
FLOOD_S = 1.5 if QUICK else 2.5
# Per-hit costs are compared under the same traffic: a rate every tracer
# sustains, so that each sees the same hits per second.
HIT_PPS = 50000

TMP = tempfile.mkdtemp(prefix="retisc-bench.")
started = []  # processes this script started and has not reaped yet
table = []  # closing table rows
notes = []


def log(*a):
    print(*a, flush=True)


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def med_ratio(pairs):
    """Median of per-round ratios (a, b): side-by-side runs share their noise."""
    return median([ratio(a, b) for a, b in pairs])


def fmt(v, spec=".0f", unit=""):
    if v is None:
        return "n/a"
    return f"{v:{spec}}{unit}"


def row(figure, value, ref="", ratio_s="", target="", met=None):
    status = "" if met is None else ("met" if met else "MISSED")
    table.append((figure, value, ref, ratio_s, target, status))


# --- processes ------------------------------------------------------------

def spawn(cmd, stdout=None, stderr=None, cpu=None, netns=None):
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    if cpu is not None:
        cmd = ["taskset", "-c", cpu] + cmd
    p = subprocess.Popen(cmd, stdout=stdout or subprocess.DEVNULL,
                         stderr=stderr or subprocess.DEVNULL)
    started.append(p)
    return p


def stop(p, timeout=60):
    """SIGINT, then wait; SIGKILL if it does not end."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if p in started:
        started.remove(p)
    return p.returncode


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


# --- bpf_stats ----------------------------------------------------------------

def enable_bpf_stats():
    """BPF_ENABLE_STATS holds run-time stats on while the fd is open, and
    counts with other users (a concurrent run turning the sysctl off does
    not stop ours)."""
    nr = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
    if nr is not None:
        libc = ctypes.CDLL(None, use_errno=True)
        attr = ctypes.create_string_buffer(16)  # type = BPF_STATS_RUN_TIME (0)
        fd = libc.syscall(nr, 32, attr, 4)  # BPF_ENABLE_STATS
        if fd >= 0:
            return lambda: os.close(fd)
    sh("sysctl -q kernel.bpf_stats_enabled=1")
    return lambda: sh("sysctl -q kernel.bpf_stats_enabled=0", check=False)


def bpftool(what):
    return json.loads(sh(f"bpftool -j {what}").stdout or "[]")


def prog_ids():
    return {p["id"] for p in bpftool("prog show")}


def owned_prog_ids(pid):
    """Ids of the BPF programs a process holds (its program and link fds):
    another retisc running on the machine loads programs of the same names."""
    ids = set()
    fds = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fds) if os.path.isdir(fds) else ():
        m = re.search(r"^prog_id:\s*(\d+)", read(os.path.join(fds, fd)), re.M)
        if m:
            ids.add(int(m.group(1)))
    return ids


def per_hit(kind, pid, before):
    """ns per hit of the tracer's programs, per tracepoint: {tp: (ns, hits)}.
    Only programs loaded after `before` (a set of ids) and held by the
    tracer count."""
    mine = owned_prog_ids(pid)
    progs = {p["id"]: p for p in bpftool("prog show")
             if p["id"] not in before and (kind == "bpftrace" or p["id"] in mine)}
    tp_of = {}
    if kind == "bpftrace":
        for e in bpftool("perf list"):
            if e.get("pid") == pid and e.get("fd_type") == "tracepoint":
                tp_of[e["prog_id"]] = e["tracepoint"]
    else:
        # One program on several tracepoints (retisc's kmem program) has
        # one run count: its figure is labelled with all of them.
        for link in bpftool("link show"):
            if "tp_name" in link:
                tp_of.setdefault(link["prog_id"], set()).add(link["tp_name"])
        tp_of = {k: "+".join(sorted(v)) for k, v in tp_of.items()}
    # retisc_kmem_free is the tracking's kmem end of life (kfree,
    # kmem_cache_free); bpftool shows the BTF name, the kernel's is cut at
    # 15 characters.
    want = {"retisc": ("retisc_probe_tp", "retisc_kmem_free", "retisc_kmem_fre"),
            "empty": ("retisc_bench_empty",)}.get(kind)
    out = {}
    for pid_, p in progs.items():
        tp = tp_of.get(pid_)
        if not tp or (want and p.get("name") not in want):
            continue
        rt, rc = p.get("run_time_ns", 0), p.get("run_cnt", 0)
        a, b = out.get(tp, (0, 0))
        out[tp] = (a + rt, b + rc)
    return {tp: (rt / rc if rc else None, rc) for tp, (rt, rc) in out.items()}


# --- topology and traffic ---------------------------------------------------

def topo():
    sh(f"ip netns del {NS_A}; ip netns del {NS_B}", check=False)
    sh(f"ip netns add {NS_A} && ip netns add {NS_B} && "
       f"ip link add vb-a netns {NS_A} type veth peer name vb-b netns {NS_B} && "
       f"ip -n {NS_A} addr add 10.204.0.1/24 dev vb-a && "
       f"ip -n {NS_B} addr add {ADDR_B}/24 dev vb-b && "
       f"ip -n {NS_A} link set vb-a up && ip -n {NS_B} link set vb-b up && "
       f"ip -n {NS_A} link set lo up && ip -n {NS_B} link set lo up")
    # Resolve the neighbour first: the flood is then the whole traffic.
    sh(f"ip netns exec {NS_A} ping -c 1 -W 2 {ADDR_B}", check=False)


def send(seconds, port, pps=0, cpus=(CPU_TRAFFIC,)):
    """Flood from NS_A, one sender per CPU in cpus; returns (packets sent,
    seconds)."""
    procs = []
    for cpu in cpus:
        cmd = ["ip", "netns", "exec", NS_A, "taskset", "-c", cpu, FLOOD, "send", ADDR_B,
               str(port), str(seconds)]
        if pps:
            cmd.append(str(int(pps / len(cpus))))
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    sent = secs = 0
    for p in procs:
        out = p.communicate()[0]
        if p.returncode:
            raise RuntimeError(f"retisc-flood send failed ({p.returncode})")
        m = re.search(r"sent (\d+) seconds ([\d.]+)", out)
        sent += int(m.group(1))
        secs = max(secs, float(m.group(2)))
    return sent, secs


def flood_received(seconds, pps=0, cpus=(CPU_TRAFFIC,), recv_cpu=CPU_TOOLS):
    """Flood to a receiver in NS_B; returns (received/s, sent/s)."""
    out = os.path.join(TMP, "recv.txt")
    with open(out, "w") as f:
        r = spawn([FLOOD, "recv", str(PORT_OPEN)], stdout=f, cpu=recv_cpu, netns=NS_B)
    wait_for(lambda: "ready" in read(out), 10, "the receiver")
    sent, secs = send(seconds, PORT_OPEN, pps, cpus)
    time.sleep(0.2)
    stop(r)
    m = re.search(r"received (\d+)", read(out))
    return int(m.group(1)) / secs, sent / secs


# --- tracers ------------------------------------------------------------------

class Tracer:
    """One traced configuration: start() returns once its probes are
    attached, finish() stops it and returns what it reported."""

    def __init__(self, kind, extra=(), cpu=CPU_TOOLS):
        self.kind, self.extra, self.cpu, self.p = kind, list(extra), cpu, None
        self.log = os.path.join(TMP, f"{kind}.log")
        self.out = os.path.join(TMP, f"{kind}.out")

    def start(self):
        self.before = prog_ids()
        self.t0 = time.time()
        if self.kind == "none":
            return self
        if self.kind == "empty":
            with open(self.log, "w") as f:
                self.p = spawn([BENCH, "empty-tp", ",".join(TPS), "0"], stdout=f, cpu=self.cpu)
            wait_for(lambda: "attached" in read(self.log), 20, "the empty programs")
        elif self.kind == "fused":
            # The hand-fused reference (tests/bench/fused.bpf.c): the same
            # tracepoints, plus consume_skb for the end of life.
            with open(self.log, "w") as f:
                self.p = spawn([BENCH, "fused-tp", ",".join(TPS + ("consume_skb",)), "0"],
                               stdout=f, cpu=self.cpu)
            wait_for(lambda: "attached" in read(self.log), 20, "the hand-fused programs")
        elif self.kind == "retisc":
            with open(self.log, "w") as f:
                self.p = spawn([RETISC] + RETISC_ARGS + self.extra + ["-o", self.out],
                               stderr=f, cpu=self.cpu)
            wait_for(lambda: "probe(s) loaded" in read(self.log) or self.p.poll() is not None,
                     60, "retisc")
            if self.p.poll() is not None:
                raise RuntimeError("retisc collect failed:\n" + read(self.log))
        elif self.kind == "bpftrace":
            with open(self.log, "w") as f:
                self.p = spawn(["bpftrace", "-o", self.out, PEER], stderr=f, cpu=self.cpu)
            wait_for(lambda: len([e for e in bpftool("perf list")
                                  if e.get("pid") == self.p.pid]) == len(TPS)
                     or self.p.poll() is not None, 60, "bpftrace")
            if self.p.poll() is not None:
                raise RuntimeError("bpftrace failed:\n" + read(self.log))
        return self

    def cpu_time(self):
        """CPU seconds (user + system) the tracer used so far."""
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, AttributeError):
            return None

    def stats(self):
        if self.kind == "none":
            return {}
        return per_hit(self.kind, self.p.pid, self.before)

    def finish(self):
        """{'lost': N or None, 'events': N or None}"""
        res = {"lost": None, "events": None}
        if self.p:
            stop(self.p)
        if self.kind == "retisc":
            text = read(self.log)
            m = re.search(r"total events lost: (\d+)", text)
            res["lost"] = int(m.group(1)) if m else sum(
                int(x) for x in re.findall(r"lost (\d+) event\(s\)", text))
            m = re.search(r"(\d+) event\(s\) processed", text)
            res["events"] = int(m.group(1)) if m else None
        elif self.kind == "bpftrace":
            text = read(self.out)
            res["lost"] = sum(int(x) for x in re.findall(r"^Lost (\d+) events", text, re.M))
            res["events"] = len(re.findall(r"^\d+ tracepoint:", text, re.M))
        for f in (self.out,):
            if os.path.exists(f):
                os.unlink(f)
        return res


# --- 4. userspace ----------------------------------------------------------------

def run_measured(cmd, stdout_path=None, want_log=False):
    """(seconds, peak RSS in MiB) of a child, and its log if want_log."""
    out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE,
                         env=dict(os.environ, NOPAGER="1"))
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.time() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if stdout_path:
        out.close()
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    if want_log:
        return dt, ru.ru_maxrss / 1024, err
    return dt, ru.ru_maxrss / 1024


def sort_measured(gen, out):
    """sort -o of gen: (seconds, peak RSS MiB, peak ids, state bytes per id
    as sort counts it or None). The output of the previous run is removed
    first: truncating 700 MB of page cache in open() is not sort's work."""
    if os.path.exists(out):
        os.unlink(out)
    dt, rss, err = run_measured([RETISC, "--log-level", "debug", "sort", gen, "-o", out],
                                want_log=True)
    m = re.search(r"peak state: \d+ event\(s\) buffered, (\d+) id\(s\)", err)
    ids = int(m.group(1)) if m else None
    m = re.search(r"([0-9.]+) bytes per id", err)
    return dt, rss, ids, float(m.group(1)) if m else None


def userspace():
    log("== 4. userspace (no kernel)")
    res = {}
    for mode, key in (("decode", "simple"), ("decode-real", "real")):
        out = sh(f"{BENCH} {mode} {BUILD}/plugins {100000 if QUICK else 200000}").stdout.strip()
        log("  " + out)
        res[key] = float(re.search(r"median (\d+)", out).group(1))
        # The decoding thread's own CPU (builds before round 4 do not say).
        m = re.search(r"decoding thread: median (\d+)", out)
        res[key + "-cpu"] = float(m.group(1)) if m else None
    n = 200000 if QUICK else 1000000
    gen = os.path.join(TMP, "gen.json")
    t0 = time.time()
    sh(f"{BENCH} gen {BUILD}/plugins {gen} {n}")
    log(f"  generated {n} events ({os.path.getsize(gen) / 1e6:.0f} MB) in "
        f"{time.time() - t0:.1f} s")
    # Baseline for the state per id: the same command on the first 2000
    # lines (a few hundred ids; code, plugins, buffers, output chunks).
    small = os.path.join(TMP, "small.json")
    with open(gen) as src, open(small, "w") as dst:
        for _ in range(2000):
            dst.write(src.readline())
    sorted_out = os.path.join(TMP, "sorted.json")
    base_rss = median([sort_measured(small, sorted_out)[1] for _ in range(3)])
    sorts, prints = [], []
    for _ in range(2 if QUICK else 3):
        sorts.append(sort_measured(gen, sorted_out))
        prints.append(run_measured([RETISC, "print", gen], "/dev/null"))
    for name, runs in (("sort", sorts), ("print", prints)):
        rate = median([n / r[0] for r in runs])
        rss = median([r[1] for r in runs])
        log(f"  {name}: median {rate:.0f} events/s, peak RSS {rss:.1f} MiB ({len(runs)} runs)")
        res[name] = (rate, rss)
    ids = sorts[0][2]
    if ids:
        per_id = (res["sort"][1] - base_rss) * 1024 * 1024 / ids
        counted = median([r[3] for r in sorts]) if sorts[0][3] else None
        log(f"  sort: {ids} ids at the peak; (peak RSS - {base_rss:.1f} MiB of a 2000-line "
            f"run) / ids = {per_id:.0f} bytes per id"
            + (f"; sort's own count: {counted:.1f} bytes per id" if counted else ""))
        res["per_id"] = (per_id, counted)
    os.unlink(gen)
    for f in ("sorted.json", "small.json"):
        if os.path.exists(os.path.join(TMP, f)):
            os.unlink(os.path.join(TMP, f))
    row("4. decode+write, skb-tracking only", fmt(res["simple"], ",.0f", " ev/s"))
    row("4. decode+write, realistic events", fmt(res["real"], ",.0f", " ev/s"),
        "1,000,000 ev/s", fmt(ratio(res["real"], 1e6), ".2f", "x"))
    row("4. realistic, per CPU second of the decoding thread",
        fmt(res["real-cpu"], ",.0f", " ev/s"), "1,000,000 ev/s",
        fmt(ratio(res["real-cpu"], 1e6), ".2f", "x"))
    row(f"4. sort ({n // 1000}k events)", fmt(res["sort"][0], ",.0f", " ev/s"),
        f"RSS {res['sort'][1]:.0f} MiB", "", ">= 1,000,000 ev/s", res["sort"][0] >= 1e6)
    if "per_id" in res:
        per_id, counted = res["per_id"]
        row("4. sort, state per live id", fmt(per_id, ",.0f", " B (RSS)"),
            fmt(counted, ".1f", " B counted by sort") if counted else "", "",
            "<= 100 B", per_id <= 100)
    row(f"4. print ({n // 1000}k events)", fmt(res["print"][0], ",.0f", " ev/s"),
        f"RSS {res['print'][1]:.0f} MiB", "", ">= 1,000,000 ev/s", res["print"][0] >= 1e6)


# --- 5. start-up ------------------------------------------------------------------

LOG_TS = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) ")


def log_time(line):
    m = LOG_TS.match(line)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None


def startup_once(pre, post):
    logf = os.path.join(TMP, "startup.log")
    out = os.path.join(TMP, "startup.json")
    cmd = [RETISC, "--log-level", "debug"] + pre + ["collect", "-o", out] + post + [
        "--cmd", "true"]
    t0 = time.time()
    with open(logf, "w") as f:
        rc = subprocess.run(cmd, stderr=f, stdout=subprocess.DEVNULL).returncode
    day0 = t0 % 86400
    first = loaded = err = None
    n = skipped = 0
    for line in read(logf).splitlines():
        t = log_time(line)
        if t is None:
            continue
        # Probes a profile names but this kernel cannot attach (kprobes).
        if "Skipping probe" in line:
            skipped += 1
        if first is None and "First probe attached" in line:
            first = (t - day0) % 86400
        m = re.search(r"(\d+) probe\(s\) loaded", line)
        if m:
            loaded, n = (t - day0) % 86400, int(m.group(1))
        if err is None and "ERROR" in line:
            err = (line.split("ERROR", 1)[1].strip(), (t - day0) % 86400)
    if os.path.exists(out):
        os.unlink(out)
    return rc, first, loaded, n, err, skipped


def generic_tracepoints():
    probes = re.findall(r"^\s*-\s*(tp:\S+)", read(os.path.join(ROOT, "profiles",
                                                                 "generic.yaml")), re.M)
    return [x for p in probes for x in ("-p", p)]


def startup():
    log("== 5. start-up (retisc --log-level debug ... collect -o FILE --cmd true)")
    confs = (("default probes", [], []),
             ("-p generic (profile)", ["-p", "generic"], []),
             ("generic's raw tracepoints", [], generic_tracepoints()))
    runs = {c[0]: [] for c in confs}
    for _ in range(5 if not QUICK else 3):
        for name, pre, post in confs:
            runs[name].append(startup_once(pre, post))
    for name, _, _ in confs:
        rs = runs[name]
        first = median([r[1] for r in rs])
        loaded = median([r[2] for r in rs])
        n = rs[-1][3]
        err = next((r[4] for r in rs if r[4]), None)
        if loaded is None:
            when = median([r[4][1] for r in rs if r[4]])
            log(f"  {name}: nothing attached, exit {rs[-1][0]} after "
                f"{fmt(when and when * 1e3)} ms: {err[0] if err else '?'}")
            m = re.search(r"'([^']+)'", err[0]) if err else None
            row(f"5. start-up, {name}", "nothing attached",
                f"refused at {m.group(1)}" if m else "refused", f"{fmt(when and when * 1e3)} ms")
            notes.append(f"5: {name}: {err[0] if err else '?'}")
            continue
        skipped = rs[-1][5]
        what = f"{n} probes" + (f", {skipped} skipped (kprobes)" if skipped else "")
        log(f"  {name}: first probe attached {fmt(first and first * 1e3)} ms, all {n} attached "
            f"{loaded * 1e3:.0f} ms (median of {len(rs)})"
            + (f"; {skipped} probes skipped, this kernel cannot attach them" if skipped else ""))
        row(f"5. start-up, {name}", f"{fmt(first and first * 1e3)} ms first, "
            f"{loaded * 1e3:.0f} ms all", what)


# --- 1. per-hit ---------------------------------------------------------------------

def total(st, tps=TPS):
    """Mean ns per hit over the tracepoints tps of one run's stats."""
    hits = sum(st.get(tp, (0, 0))[1] for tp in tps)
    ns = sum((st.get(tp, (0, 0))[0] or 0) * st.get(tp, (0, 0))[1] for tp in tps)
    return ns / hits if hits else None


def per_hit_section():
    log(f"== 1. per-hit kernel cost (bpf_stats; UDP to a closed port paced at "
        f"{HIT_PPS} pkt/s, {FLOOD_S} s, {ROUNDS} rounds)")
    kinds = ("empty", "fused", "retisc", "bpftrace")
    runs = {k: [] for k in kinds}
    extra = {k: [] for k in kinds}
    for _ in range(ROUNDS):
        for kind in kinds:
            t = Tracer(kind).start()
            sent, secs = send(FLOOD_S, PORT_CLOSED, HIT_PPS)
            st = t.stats()
            res = t.finish()
            runs[kind].append(st)
            extra[kind].append((sent / secs, res))
    for kind in kinds:
        rates = [e[0] for e in extra[kind]]
        lost = [e[1]["lost"] for e in extra[kind]]
        parts = []
        for tp in TPS:
            ns = median([st.get(tp, (None, 0))[0] for st in runs[kind]])
            hits = median([st.get(tp, (None, 0))[1] for st in runs[kind]])
            parts.append(f"{tp} {fmt(ns)} ns ({fmt(hits, '.0f')} hits)")
        log(f"  {kind:8s} mean {fmt(median([total(s) for s in runs[kind]]))} ns/hit: "
            + ", ".join(parts) + f"; flood {fmt(median(rates))} pkt/s"
            + (f", lost {lost}" if kind not in ("empty", "fused") else ""))
    extra_tps = sorted({tp for st in runs["retisc"] for tp in st} - set(TPS) - set(KMEM_TPS))
    for tp in extra_tps:
        ns = median([st.get(tp, (None, 0))[0] for st in runs["retisc"]])
        hits = median([st.get(tp, (None, 0))[1] for st in runs["retisc"]])
        log(f"  retisc's tracking-only probe {tp}: {fmt(ns)} ns/hit ({fmt(hits)} hits)")
    kmem_section(runs["retisc"], [e[0] * FLOOD_S for e in extra["retisc"]])
    e = [total(s) for s in runs["empty"]]
    r = [total(s) for s in runs["retisc"]]
    b = [total(s) for s in runs["bpftrace"]]
    r_e = med_ratio(zip(r, e))
    r_b = med_ratio(zip(r, b))
    row("1. per hit, empty program (floor)", fmt(median(e), ".0f", " ns"))
    row("1. per hit, retisc", fmt(median(r), ".0f", " ns"), "floor",
        fmt(r_e, ".1f", "x"), "<= 5x", r_e is not None and r_e <= 5)
    row("1. per hit, bpftrace", fmt(median(b), ".0f", " ns"), "floor",
        fmt(med_ratio(zip(b, e)), ".1f", "x"))
    row("1. per hit, retisc vs bpftrace", "", "bpftrace", fmt(r_b, ".2f", "x"), "<= 0.25x",
        r_b is not None and r_b <= 0.25)
    f = [total(s) for s in runs["fused"]]
    r_f = med_ratio(zip(r, f))
    rate_f = med_ratio(zip([e[0] for e in extra["retisc"]], [e[0] for e in extra["fused"]]))
    row("1. per hit, hand-fused program", fmt(median(f), ".0f", " ns"), "floor",
        fmt(med_ratio(zip(f, e)), ".1f", "x"))
    row("1. per hit, retisc vs hand-fused", "", "hand-fused", fmt(r_f, ".2f", "x"), "<= 1.5x",
        r_f is not None and r_f <= 1.5)
    row("1. packet rate, retisc vs hand-fused", "", "hand-fused", fmt(rate_f, ".2f", "x"),
        ">= 0.9x", rate_f is not None and rate_f >= 0.9)


KMEM_TPS = ("kfree+kmem_cache_free", "kfree", "kmem_cache_free")


def kmem_section(runs, packets):
    """The kmem end of life (doc/tracking.md §9.10): ns per run of its program,
    runs per packet sent (every free on the machine runs it, not only the
    packets'), and so its cost per packet. runs: per-round stats, packets:
    packets sent in each round."""
    if not any(tp in st for st in runs for tp in KMEM_TPS):
        log("  no kmem program (not tracepoint mode, or --tracking-kmem off)")
        return
    ns = [total(st, KMEM_TPS) for st in runs]
    per_pkt = [sum(st.get(tp, (0, 0))[1] for tp in KMEM_TPS) / n if n else None
               for st, n in zip(runs, packets)]
    cost = [a * b if a is not None and b is not None else None for a, b in zip(ns, per_pkt)]
    for tp in [tp for tp in KMEM_TPS if any(tp in st for st in runs)]:
        log(f"  retisc's kmem program on {tp}: "
            f"{fmt(median([st.get(tp, (None, 0))[0] for st in runs]))} ns/run "
            f"({fmt(median([st.get(tp, (None, 0))[1] for st in runs]))} runs)")
    row("1. kmem end of life, per run", fmt(median(ns), ".0f", " ns"))
    row("1. kmem end of life, runs per packet", fmt(median(per_pkt), ".1f"))
    row("1. kmem end of life, per packet", fmt(median(cost), ".0f", " ns"))


# --- 2. packet rate -------------------------------------------------------------------

def rate_section():
    log(f"== 2. packet rate under tracing (UDP flood to a receiver, {FLOOD_S} s, "
        f"{ROUNDS} rounds)")
    kinds = ("none", "empty", "retisc", "bpftrace")
    rx = {k: [] for k in kinds}
    info = {k: [] for k in kinds}
    hits = {k: [] for k in kinds}
    for _ in range(ROUNDS):
        for kind in kinds:
            t = Tracer(kind).start()
            got, _ = flood_received(FLOOD_S)
            hits[kind].append(t.stats())
            res = t.finish()
            rx[kind].append(got)
            info[kind].append(res)
    for kind in kinds:
        extra = ""
        if kind in ("retisc", "bpftrace"):
            extra = (f"; events {[i['events'] for i in info[kind]]}, "
                     f"lost {[i['lost'] for i in info[kind]]}")
        log(f"  {kind:8s} received {fmt(median(rx[kind]), ',.0f')} pkt/s "
            f"(runs {', '.join(fmt(x, ',.0f') for x in rx[kind])})" + extra)
    # The per-hit cost under this load (the consumer busy, the tracking
    # maps turning over), for the record: every hit costs packet rate.
    for kind in ("retisc", "bpftrace"):
        tps = sorted({tp for st in hits[kind] for tp in st})
        log(f"  {kind:8s} per hit: " + ", ".join(
            f"{tp} {fmt(median([st.get(tp, (None, 0))[0] for st in hits[kind]]))} ns "
            f"({fmt(median([st.get(tp, (None, 0))[1] for st in hits[kind]]))} hits)"
            for tp in tps))
    ratios = {k: med_ratio(zip(rx[k], rx["none"])) for k in kinds}
    r_b = med_ratio(zip(rx["retisc"], rx["bpftrace"]))
    lost = sum(i["lost"] or 0 for i in info["retisc"])
    row("2. pkt/s untraced", fmt(median(rx["none"]), ",.0f"))
    row("2. pkt/s, empty program", fmt(median(rx["empty"]), ",.0f"), "untraced",
        fmt(ratios["empty"], ".2f", "x"))
    row("2. pkt/s, retisc -o FILE", fmt(median(rx["retisc"]), ",.0f"), "untraced",
        fmt(ratios["retisc"], ".2f", "x"))
    row("2. pkt/s, bpftrace -o FILE", fmt(median(rx["bpftrace"]), ",.0f"), "untraced",
        fmt(ratios["bpftrace"], ".2f", "x"))
    row("2. pkt/s, retisc vs bpftrace", "", "bpftrace", fmt(r_b, ".2f", "x"), ">= 2x",
        r_b is not None and r_b >= 2)
    row("2. events lost by retisc (all rounds)", str(lost), "", "", "0", lost == 0)
    blost = [i["lost"] for i in info["bpftrace"]]
    bev = [i["events"] for i in info["bpftrace"]]
    row("2. events lost by bpftrace (median)", fmt(median(blost), ",.0f"),
        f"{fmt(median(bev), ',.0f')} printed")


# --- 3. events without loss ----------------------------------------------------------

# Every tracepoint a packet crosses between the namespaces: five events per
# packet, so that the traced kernel path (one CPU) yields as many events as
# it can.
PATH_PROBES = [x for tp in ("net:net_dev_queue", "net:net_dev_start_xmit", "net:net_dev_xmit",
                            "net:netif_rx", "net:netif_receive_skb") for x in ("-p", "tp:" + tp)]


def paced_trial(pps, seconds, cpus=(CPU_TRAFFIC,), tracer_cpu=CPU_TOOLS, recv_cpu=CPU_TOOLS):
    """retisc under a paced flood: (events/s, lost, packets/s sent, CPU
    seconds of retisc per event during the flood)."""
    t = Tracer("retisc", PATH_PROBES, cpu=tracer_cpu).start()
    c0 = t.cpu_time()
    got, sent = flood_received(seconds, pps, cpus, recv_cpu)
    c1 = t.cpu_time()
    res = t.finish()
    ev = res["events"] or 0
    return (ev / seconds, res["lost"] or 0, sent,
            (c1 - c0) / ev if ev and c0 is not None and c1 is not None else None)


def no_loss_section():
    secs = 2 if QUICK else 3
    log(f"== 3. events without loss (paced UDP flood to a receiver, {secs} s per step; "
        f"{' '.join(RETISC_ARGS[1:] + PATH_PROBES)})")
    good = bad = None
    cpu_ev = []

    def trial(pps):
        ev, lost, sent, cpu = paced_trial(pps, secs)
        log(f"  paced {pps:,.0f} pkt/s: sent {sent:,.0f} pkt/s, {ev:,.0f} events/s, lost {lost}"
            + (f", retisc CPU {cpu * 1e6:.2f} us/event" if cpu else ""))
        if cpu and not lost:
            cpu_ev.append(cpu)
        return ev, lost, sent

    # Double the pace until retisc loses events or the sender saturates
    # (then the traced kernel path, not retisc, is the bound), then bisect.
    pps = 25000
    while True:
        ev, lost, sent = trial(pps)
        if lost:
            bad = pps
            break
        good = (pps, ev)
        if sent < 0.9 * pps:
            break
        pps *= 2
    if bad and good:
        lo, hi = good[0], bad
        for _ in range(2 if QUICK else 3):
            mid = (lo + hi) / 2
            ev, lost, sent = trial(mid)
            if lost:
                hi = mid
            else:
                lo, good = mid, (mid, ev)
    best = good[1] if good else 0
    saturated = not bad
    label = "3. max events/s without loss" + (", flood-bound" if saturated else "")
    row(label, fmt(best, ",.0f"), "1,000,000", fmt(ratio(best, 1e6), ".2f", "x"), ">= 1x",
        best >= 1e6)
    if good and not saturated:
        ev, lost, sent, _ = paced_trial(good[0] * 2, secs)
        frac = lost / (ev * secs + lost) if ev or lost else 0
        log(f"  at 2x ({good[0] * 2:,.0f} pkt/s): {ev:,.0f} events/s written, lost {lost} "
            f"({frac * 100:.1f}% of the events)")
        row("3. loss at 2x that rate", f"{frac * 100:.1f}%", f"{ev:,.0f} ev/s written")
    elif saturated:
        notes.append("3: the sender's CPU (the traced kernel path) saturated before retisc "
                     "lost an event, so there is no 2x point; see the overload row.")
    cpu = median(cpu_ev)
    if cpu:
        row("3. retisc CPU per event", f"{cpu * 1e6:.2f} us", f"{1 / cpu:,.0f} ev/s/core",
            fmt(ratio(1 / cpu, 1e6), ".2f", "x"), ">= 1x", 1 / cpu >= 1e6)
    # Both CPUs flood and nothing is pinned: retisc competes with the
    # traffic for CPU time, the case where it must degrade by losing events.
    ev, lost, sent, _ = paced_trial(0, secs, cpus=(CPU_TRAFFIC, CPU_TOOLS), tracer_cpu=None,
                                    recv_cpu=None)
    frac = lost / (ev * secs + lost) if ev or lost else 0
    log(f"  overload (a sender on each CPU, nothing pinned): sent {sent:,.0f} pkt/s, "
        f"{ev:,.0f} events/s written, lost {lost} ({frac * 100:.1f}%)")
    row("3. overload: flood on both CPUs", f"{ev:,.0f} ev/s", f"{frac * 100:.1f}% lost")


# --- main ------------------------------------------------------------------------------------

def print_table():
    log("")
    log("== summary (medians; ratios are medians of per-round ratios)")
    head = ("figure", "value", "reference", "ratio", "target", "")
    widths = [max(len(str(r[i])) for r in table + [head]) for i in range(6)]
    for r in [head] + table:
        log("  " + "  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    for n in notes:
        log("  note " + n)


def ensure_bpftrace():
    if shutil.which("bpftrace"):
        return True
    log("bpftrace missing: apt-get install -y bpftrace")
    r = sh("apt-get install -y bpftrace || (apt-get update && apt-get install -y bpftrace)",
           check=False)
    if shutil.which("bpftrace"):
        return True
    log(r.stdout[-1000:] + r.stderr[-2000:])
    return False


def main():
    if os.geteuid() != 0:
        print("make bench needs root")
        return 1
    def want(section):
        return ONLY is None or section in ONLY

    if not ensure_bpftrace():
        return 1
    # Tracefs lets retisc match probes by group; mount it like the live tests.
    sh("mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing",
       check=False)
    disable_stats = enable_bpf_stats()
    t0 = time.time()
    try:
        if want("userspace"):
            userspace()
        if want("startup"):
            startup()
        topo()
        if want("per-hit"):
            per_hit_section()
        if want("rate"):
            rate_section()
        if want("no-loss"):
            no_loss_section()
    finally:
        for p in list(started):
            stop(p, timeout=10)
        disable_stats()
        sh(f"ip netns del {NS_A}; ip netns del {NS_B}", check=False)
        shutil.rmtree(TMP, ignore_errors=True)
    print_table()
    log(f"  ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
