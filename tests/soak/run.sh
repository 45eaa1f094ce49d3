#!/bin/bash
# `make soak` (not part of `make test`): SOAK_SECONDS (600) of mixed traffic
# between two namespaces (a 2 MB TCP transfer every 2 s, a UDP flood paced
# at 2000 packets/s, 20 pings/s, TCP SYNs to a port an nft rule drops) under
#   retisc collect -c skb-tracking,skb,skb-drop,ct --out-rotate 20MB
# sampling every 10 s: retisc's RSS, the tracking map's live entries (its
# keys, bpftool), the files written. Passes when, after a 2-minute warm-up,
# RSS and map occupancy stay flat (the last sample within 25% (+8 MiB for
# RSS, +1024 entries for the map) of the largest warm-up-end sample), every
# rotated file is valid (startup line first, complete JSON lines), and the
# events written equal the events processed (none lost without being counted:
# ring losses are counted and reported by retisc, not written).
#
# Usage: tests/soak/run.sh [BUILD]   (make soak SOAK_SECONDS=N)
set -u
BUILD=${1:-build}
SECS=${SOAK_SECONDS:-600}
WARM=${SOAK_WARMUP:-120}
RETISC=$(realpath "$BUILD/retisc")
FLOOD=$(realpath "$BUILD/tools/retisc-flood")
DIR=$(mktemp -d /tmp/retisc-soak.XXXXXX)
A=soak$$-a
B=soak$$-b
pids=()

# Every process of the traffic lives in a namespace: kill them by namespace.
stop_traffic() {
	local n
	for n in $A $B; do
		ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null
	done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait "${pids[@]}" 2>/dev/null
	pids=()
}

cleanup() {
	stop_traffic
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	[ "${SOAK_KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "soak: needs root"; exit 1; }
ip netns add $A && ip netns add $B &&
	ip link add veth-sa netns $A type veth peer name veth-sb netns $B &&
	ip -n $A addr add 10.203.0.1/24 dev veth-sa && ip -n $B addr add 10.203.0.2/24 dev veth-sb &&
	ip -n $A link set veth-sa up && ip -n $B link set veth-sb up &&
	ip -n $A link set lo up && ip -n $B link set lo up || exit 1
ip netns exec $B nft -f - <<-NFT || exit 1
	table inet soak {
		chain in {
			type filter hook input priority 0;
			tcp dport 7777 drop
		}
	}
NFT

"$RETISC" collect -c skb-tracking,skb,skb-drop,ct -p tp:net:netif_receive_skb \
	-p tp:net:net_dev_start_xmit -o "$DIR/ev.json" --out-rotate 20MB >"$DIR/retisc.log" 2>&1 &
rpid=$!
for i in $(seq 1 100); do grep -q "probe(s) loaded" "$DIR/retisc.log" && break; sleep 0.1; done

# Traffic, each in a loop until the end.
ip netns exec $B sh -c 'while :; do nc -l -p 5201; done' >/dev/null 2>&1 &
pids+=($!)
ip netns exec $B "$FLOOD" recv 5202 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
ip netns exec $A sh -c 'while :; do head -c 2000000 /dev/zero | nc -q0 10.203.0.2 5201; sleep 2; done' >/dev/null 2>&1 &
pids+=($!)
ip netns exec $A "$FLOOD" send 10.203.0.2 5202 "$SECS" 2000 >/dev/null 2>&1 &
pids+=($!)
ip netns exec $A ping -q -i 0.05 10.203.0.2 >/dev/null 2>&1 &
pids+=($!)
ip netns exec $A sh -c 'while :; do nc -w1 10.203.0.2 7777 </dev/null; done' >/dev/null 2>&1 &
pids+=($!)

printf '%6s %10s %10s %10s %8s\n' t rss_kib map_live files bytes_mb | tee "$DIR/samples"
start=$(date +%s)
while :; do
	sleep 10
	t=$(($(date +%s) - start))
	rss=$(awk '/VmRSS/ { print $2 }' /proc/$rpid/status 2>/dev/null)
	live=$(bpftool map dump name tracking_map 2>/dev/null | grep -c '"key"')
	files=$(ls "$DIR" | grep -c '^ev\.json')
	mb=$(du -sm "$DIR" | cut -f1)
	printf '%6s %10s %10s %10s %8s\n' "$t" "${rss:-0}" "$live" "$files" "$mb" | tee -a "$DIR/samples"
	[ "$t" -ge "$SECS" ] && break
done
stop_traffic
kill -INT $rpid
wait $rpid
st=$?
ip netns exec $B nft delete table inet soak 2>/dev/null

fail=0
[ $st = 0 ] || { echo "soak: retisc exited $st"; tail "$DIR/retisc.log"; fail=1; }
python3 - "$DIR" "$WARM" <<-'PY' || fail=1
	import glob, json, os, sys
	d, warm = sys.argv[1], int(sys.argv[2])
	rows = [l.split() for l in open(f"{d}/samples").read().splitlines()[1:]]
	rows = [[int(x) for x in r] for r in rows]
	bad = []
	after = [r for r in rows if r[0] >= warm]
	if len(after) >= 2:
	    base_rss = max(r[1] for r in rows if r[0] <= warm + 10)
	    base_map = max(r[2] for r in rows if r[0] <= warm + 10)
	    if after[-1][1] > base_rss * 1.25 + 8192:
	        bad.append(f"RSS grew: {base_rss} KiB at warm-up, {after[-1][1]} KiB at the end")
	    if after[-1][2] > base_map * 1.25 + 1024:
	        bad.append(f"tracking map grew: {base_map} live at warm-up, {after[-1][2]} at the end")
	files = sorted(glob.glob(f"{d}/ev.json.*"), key=lambda p: int(p.rsplit(".", 1)[1]))
	lines = 0
	for p in files:
	    with open(p, "rb") as f:
	        data = f.read()
	    if data and not data.endswith(b"\n"):
	        bad.append(f"{p}: incomplete last line")
	    ls = data.splitlines()
	    for i, l in enumerate(ls):
	        try:
	            v = json.loads(l)
	        except ValueError as e:
	            bad.append(f"{p}:{i + 1}: {e}")
	            continue
	        if i == 0 and "startup" not in v:
	            bad.append(f"{p}: no startup line first")
	    lines += len(ls) - 1
	log = open(f"{d}/retisc.log").read()
	processed = [int(l.split()[0]) for l in log.splitlines() if l.endswith("event(s) processed")]
	lost = sum(int(l.split()[1]) for l in log.splitlines() if l.startswith("WARN  total events lost:"))
	if not processed or processed[-1] != lines:
	    bad.append(f"{lines} events in the files, retisc processed {processed}")
	print(f"soak: {len(rows)} samples, {len(files)} files, {lines} events written, "
	      f"{lost} lost in the ring (counted), RSS {rows[0][1]}..{max(r[1] for r in rows)} KiB, "
	      f"map {min(r[2] for r in rows)}..{max(r[2] for r in rows)} live")
	for b in bad:
	    print("soak: FAIL " + b)
	sys.exit(1 if bad else 0)
PY
[ $fail = 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit $fail
