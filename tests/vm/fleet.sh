#!/bin/bash
# Fleet mode on three kernels (doc/fleet.md §6): this machine's kernel and
# two guests of the VM lane (Debian's 6.1 under QEMU, tests/vm/run.sh),
# each guest's NIC a tap device on a bridge inside a network namespace of
# this machine, where a nats-server with JetStream runs. Each kernel runs
# `retisc collect --sink` to that server: this machine in tracepoint
# tracking mode (it has no kprobes), the guests in kprobe mode. Pings and a
# TCP connection from the namespace to the first guest, pings to the
# second, and pings from the first guest to the second (through this
# machine's bridge: three kernels on one journey) must come out of
# `retisc stitch` as one journey per packet across the hosts it crossed,
# in order; the checks are tests/vm/check_fleet.py's.
#
# Usage: tests/vm/fleet.sh [BUILD]   (make fleet-vm-test; make test runs it)
#
# The guests' half is init.sh's test_fleet. Not to be run beside
# tests/vm/run.sh: both use BUILD/vm. Exit status and last line as
# tests/vm/run.sh's: 0 passed, 77 skipped (with the reason), 1 failed.
set -uo pipefail

BUILD=$(realpath "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
RETISC=$BUILD/retisc
NS=rfleet
BR=rfleet-br
HOST=fleet-host
HOST_ADDR=10.250.0.1
GUESTS=(fleet-guest fleet-guest2)
declare -A ADDR=([fleet-guest]=10.250.0.2 [fleet-guest2]=10.250.0.3)
declare -A TAP=([fleet-guest]=rfleet-tap1 [fleet-guest2]=rfleet-tap2)
declare -A MAC=([fleet-guest]=52:54:00:12:34:02 [fleet-guest2]=52:54:00:12:34:03)
declare -A PEER=([fleet-guest]=10.250.0.3 [fleet-guest2]=10.250.0.2)
declare -A VMPID=()
PORT=4222
SUBJECT=fleet.vm
STREAM=fleet_vm
URL=nats://$HOST_ADDR:$PORT
# The traffic of the test and nothing else: the NATS connections (port
# 4222) would trace themselves (doc/fleet.md §1).
FILTER="icmp or tcp port 5001"
# Where a packet leaves a host and where it enters the next: the ends of
# each host's series that stitch joins; consume_skb ends the local ones.
PROBES="-p tp:net:net_dev_start_xmit -p tp:net:netif_receive_skb -p tp:skb:consume_skb"
W=$(mktemp -d /tmp/retisc-fleet-vm.XXXXXX)
PASS=0
FAIL=0
SERVER=
HOSTC=

log() { printf 'fleet-vm: %s\n' "$*" >&2; }
skip() {
	log "skipped: $*"
	echo "fleet vm: 0 passed, 0 failed, 1 skipped: $*"
	exit 77
}
result() { # result <name> <status> <evidence file>...
	local name=$1 st=$2 f
	shift 2
	if [ "$st" = 0 ]; then
		PASS=$((PASS + 1))
		echo "PASS $name"
		return 0
	fi
	FAIL=$((FAIL + 1))
	echo "FAIL $name"
	for f in "$@"; do
		[ -e "$f" ] || continue
		echo "---- $f"
		tail -40 "$f"
	done
}
finish() {
	echo "fleet vm: $PASS passed, $FAIL failed, 0 skipped"
	[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
	exit $?
}
cleanup() {
	local g
	[ -z "$HOSTC" ] || kill -INT "$HOSTC" 2>/dev/null
	for g in "${!VMPID[@]}"; do
		kill "${VMPID[$g]}" 2>/dev/null
	done
	[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null
	wait 2>/dev/null
	ip netns del $NS 2>/dev/null
	[ "${RETISC_VM_KEEP:-0}" = 1 ] && log "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, tap, BPF)"
[ -x "$RETISC" ] || { log "$RETISC is missing: run make first"; FAIL=1; finish; }
command -v nats-server >/dev/null || skip "nats-server is not installed (tools/install-deps.sh)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun for the guests' tap links"
"$RETISC" plugin list 2>/dev/null | grep -A3 "^nats " | grep -q "no libnats" &&
	{ log "retisc was built without libnats"; FAIL=1; finish; }

# --- the links and the server ----------------------------------------------------
ip netns del $NS 2>/dev/null
ip netns add $NS &&
	ip netns exec $NS sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip netns exec $NS sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
	ip -n $NS link set lo up &&
	ip -n $NS link add $BR type bridge &&
	ip -n $NS addr add $HOST_ADDR/24 dev $BR &&
	ip -n $NS link set $BR up || skip "cannot make a bridge in a namespace here"
for g in "${GUESTS[@]}"; do
	ip -n $NS tuntap add dev "${TAP[$g]}" mode tap &&
		ip -n $NS link set "${TAP[$g]}" master $BR &&
		ip -n $NS link set "${TAP[$g]}" up || skip "cannot make a tap device in a namespace here"
done
inum=$(stat -L -c %i /run/netns/$NS)

ip netns exec $NS nats-server -js -a $HOST_ADDR -p $PORT -sd "$W/store" >"$W/nats-server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
	ip netns exec $NS python3 -c "import socket; socket.create_connection(('$HOST_ADDR', $PORT), 0.2)" \
		2>/dev/null && break
	sleep 0.1
done

# --- this machine's collection -----------------------------------------------
# Only the namespace's devices: the rest of the machine is not part of the
# test.
RETISC_HOST_NAME=$HOST ip netns exec $NS "$RETISC" collect -c skb-tracking,skb $PROBES \
	-f "$FILTER" -m "sk_buff.dev.nd_net.net.ns.inum == $inum" -o "$W/$HOST.json" \
	--sink "$URL/$SUBJECT" \
	--cmd "touch $W/host.started; while [ ! -e $W/host.stop ]; do sleep 0.2; done" \
	>"$W/$HOST.log" 2>&1 &
HOSTC=$!
for _ in $(seq 300); do
	[ -e "$W/host.started" ] && break
	kill -0 $HOSTC 2>/dev/null || break
	sleep 0.1
done
[ -e "$W/host.started" ] || { result fleet-host-collect-start 1 "$W/$HOST.log"; finish; }

# --- the guests ------------------------------------------------------------------
console() { echo "$BUILD/vm/console-$1.log"; }
# wait_console <guest> <regex>: 0 once the guest's console has the line,
# 1 when its lane ended first (its status in $st).
wait_console() {
	local g=$1
	for _ in $(seq 6000); do
		grep -qE "$2" "$(console "$g")" 2>/dev/null && return 0
		if ! kill -0 "${VMPID[$g]}" 2>/dev/null; then
			wait "${VMPID[$g]}"
			st=$?
			unset "VMPID[$g]"
			return 1
		fi
		sleep 0.1
	done
	st=124
	return 1
}
for g in "${GUESTS[@]}"; do
	rm -f "$(console "$g")"
	RETISC_VM_TESTS=fleet RETISC_VM_NAME=$g RETISC_VM_NETNS=$NS RETISC_VM_TAP=${TAP[$g]} \
		RETISC_VM_MAC=${MAC[$g]} RETISC_VM_TIMEOUT=${RETISC_VM_TIMEOUT:-600} \
		RETISC_VM_FLEET="FLEET_NAME=$g
FLEET_ADDR=${ADDR[$g]}/24
FLEET_PEER=${PEER[$g]}
FLEET_URL=\"$URL/$SUBJECT\"
FLEET_PROBES=\"$PROBES\"
FLEET_FILTER=\"$FILTER\"" \
		"$HERE/run.sh" "$BUILD" >"$W/vm-$g.out" 2>&1 &
	VMPID[$g]=$!
	# The first lane downloads and extracts what both use: the second
	# starts once the first boots.
	wait_console "$g" "." && continue
	[ "$st" = 77 ] && skip "$(tail -1 "$W/vm-$g.out" | sed 's/.*skipped: //')"
	result "fleet-$g-boots" 1 "$W/vm-$g.out"
	finish
done
for g in "${GUESTS[@]}"; do
	wait_console "$g" "^fleet: ready" && continue
	result "fleet-$g-ready" 1 "$W/vm-$g.out" "$(console "$g")"
	finish
done
log "guests collecting; traffic"

# --- the traffic ---------------------------------------------------------------
G1=${ADDR[fleet-guest]}
G2=${ADDR[fleet-guest2]}
in_ns() { ip netns exec $NS "$@"; }
# To the first guest: 5 pings, then a TCP connection carrying 64 KiB
# (segments both ways, the handshake and the close); to the second: 3
# pings; then the first guest pings the second (port 5003), through the
# bridge.
in_ns ping -c 5 -i 0.3 -W 5 "$G1" >"$W/ping.log" 2>&1 &&
	in_ns ping -c 3 -i 0.3 -W 5 "$G2" >>"$W/ping.log" 2>&1
result fleet-pings-reach-guests $? "$W/ping.log"
in_ns python3 - "$G1" >"$W/tcp.log" 2>&1 <<-'EOF'
	import socket, sys
	s = socket.create_connection((sys.argv[1], 5001), 10)
	s.sendall(b"x" * 65536)
	s.shutdown(socket.SHUT_WR)
	s.settimeout(20)
	while s.recv(4096):
	    pass
	s.close()
	print("sent 65536 bytes")
EOF
result fleet-tcp-reaches-guest $? "$W/tcp.log"
in_ns python3 - "$G1" >"$W/peer-ping.log" 2>&1 <<-'EOF'
	import socket, sys
	s = socket.create_connection((sys.argv[1], 5003), 10)
	s.settimeout(30)
	out = b""
	while True:
	    b = s.recv(4096)
	    if not b:
	        break
	    out += b
	print(out.decode())
	sys.exit(0 if b"3 packets received" in out else 1)
EOF
result fleet-guest-pings-guest-through-host $? "$W/peer-ping.log"
sleep 1
for g in "${GUESTS[@]}"; do
	in_ns python3 -c "import socket; socket.create_connection(('${ADDR[$g]}', 5002), 10).close()" ||
		log "cannot reach $g's port 5002: its collection ends at the lane's timeout"
done

for g in "${GUESTS[@]}"; do
	wait "${VMPID[$g]}"
	st=$?
	unset "VMPID[$g]"
	grep -E "^(PASS|FAIL|fleet:)" "$(console "$g")" | sed "s/^/$g: /"
	sed -n 's/^fleet-json: //p' "$(console "$g")" >"$W/$g.json"
	[ $st = 0 ]
	result "fleet-$g-lane" $? "$W/vm-$g.out" "$(console "$g")"
done

touch "$W/host.stop"
wait $HOSTC
st=$?
HOSTC=
lines=$(wc -l <"$W/$HOST.json")
[ $st = 0 ] && grep -q "sink $URL/$SUBJECT: $lines event(s) delivered" "$W/$HOST.log" &&
	! grep -q "event(s) lost" "$W/$HOST.log"
result fleet-host-collect-sink $? "$W/$HOST.log"

# --- what the stream gives back ---------------------------------------------
# Each host's part of the stream is what that host wrote to its file.
: >"$W/read.err"
ok=0
for h in $HOST "${GUESTS[@]}"; do
	in_ns "$RETISC" print "$URL/$STREAM?host=$h" >"$W/$h-stream.txt" 2>>"$W/read.err" &&
		"$RETISC" print "$W/$h.json" >"$W/$h-file.txt" 2>>"$W/read.err" &&
		[ -s "$W/$h.json" ] && cmp "$W/$h-file.txt" "$W/$h-stream.txt" >>"$W/read.err" || ok=1
done
result fleet-stream-holds-each-hosts-file $ok "$W/read.err"
in_ns "$RETISC" stitch --cross "$URL/$STREAM?host=$HOST" "$URL/$STREAM?host=fleet-guest" \
	"$URL/$STREAM?host=fleet-guest2" >"$W/stitch.txt" 2>"$W/stitch.err"
st=$?
cat "$W/stitch.err"
[ $st = 0 ] && python3 "$HERE/check_fleet.py" "$W/stitch.txt" "$W/stitch.err" \
	"$HOST=$HOST_ADDR=$W/$HOST-file.txt" "fleet-guest=$G1=$W/fleet-guest-file.txt" \
	"fleet-guest2=$G2=$W/fleet-guest2-file.txt" >"$W/check.log" 2>&1
st=$?
cat "$W/check.log"
result fleet-stitch-one-journey-per-packet $st "$W/stitch.err" "$W/stitch.txt"
# The whole stream, split by the hosts' identities (no host= per input):
# the same journeys; as JSON (-o), one line per journey, every event with
# its host.
in_ns "$RETISC" stitch --cross "$URL/$STREAM" >"$W/stitch-one.txt" 2>"$W/stitch-one.err" &&
	cmp "$W/stitch.txt" "$W/stitch-one.txt" >>"$W/stitch-one.err" &&
	in_ns "$RETISC" stitch --cross -o "$W/stitch.json" "$URL/$STREAM" 2>>"$W/stitch-one.err" &&
	python3 - "$W/stitch.json" "$(grep -c '^\[' "$W/stitch.txt")" >>"$W/stitch-one.err" 2>&1 <<-'EOF'
		import json, sys
		lines = open(sys.argv[1]).read().splitlines()
		journeys = [json.loads(l) for l in lines[1:]]
		hosts = {e["stitch"]["host"] for j in journeys for e in j}
		print("%d journeys in JSON, hosts %s" % (len(journeys), sorted(hosts)))
		assert len(journeys) == int(sys.argv[2]), "not the text's journeys"
		assert hosts == {"fleet-host", "fleet-guest", "fleet-guest2"}, hosts
		assert all(len({e["stitch"]["host"] for e in j}) > 1 for j in journeys)
	EOF
result fleet-stitch-one-stream-and-json $? "$W/stitch-one.err"
finish
