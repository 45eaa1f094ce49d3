#!/bin/bash
# Fleet mode on two kernels (doc/fleet.md §6): this machine's kernel and
# the VM lane's guest (Debian's 6.1 under QEMU, tests/vm/run.sh), joined by
# a tap link inside a network namespace of this machine, where a
# nats-server with JetStream runs. Each kernel runs `retisc collect --sink`
# to that server: this machine in tracepoint tracking mode (it has no
# kprobes), the guest in kprobe mode. A ping and a TCP connection from the
# namespace to the guest must come out of `retisc stitch` as one journey
# per packet across both hosts, with both hosts' events in order; the
# checks are tests/vm/check_fleet.py's.
#
# Usage: tests/vm/fleet.sh [BUILD]   (make fleet-vm-test; make test runs it)
#
# The guest half is init.sh's test_fleet. Not to be run beside
# tests/vm/run.sh: both use BUILD/vm. Exit status and last line as
# tests/vm/run.sh's: 0 passed, 77 skipped (with the reason), 1 failed.
set -uo pipefail

BUILD=$(realpath "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
RETISC=$BUILD/retisc
NS=rfleet
TAP=rfleet-tap
HOST_ADDR=10.250.0.1
GUEST_ADDR=10.250.0.2
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
VMPID=

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
	[ -z "$HOSTC" ] || kill -INT "$HOSTC" 2>/dev/null
	[ -z "$VMPID" ] || kill "$VMPID" 2>/dev/null
	[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null
	wait 2>/dev/null
	ip netns del $NS 2>/dev/null
	[ "${RETISC_VM_KEEP:-0}" = 1 ] && log "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, tap, BPF)"
[ -x "$RETISC" ] || { log "$RETISC is missing: run make first"; FAIL=1; finish; }
command -v nats-server >/dev/null || skip "nats-server is not installed (tools/install-deps.sh)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun for the guest's tap link"
"$RETISC" plugin list 2>/dev/null | grep -A3 "^nats " | grep -q "no libnats" &&
	{ log "retisc was built without libnats"; FAIL=1; finish; }

# --- the link and the server ---------------------------------------------------
ip netns del $NS 2>/dev/null
ip netns add $NS &&
	ip netns exec $NS sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip netns exec $NS sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
	ip -n $NS link set lo up &&
	ip -n $NS tuntap add dev $TAP mode tap &&
	ip -n $NS addr add $HOST_ADDR/24 dev $TAP &&
	ip -n $NS link set $TAP up || skip "cannot make a tap device in a namespace here"
inum=$(stat -L -c %i /run/netns/$NS)

ip netns exec $NS nats-server -js -a $HOST_ADDR -p $PORT -sd "$W/store" >"$W/nats-server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
	ip netns exec $NS python3 -c "import socket; socket.create_connection(('$HOST_ADDR', $PORT), 0.2)" \
		2>/dev/null && break
	sleep 0.1
done

# --- this machine's collection -----------------------------------------------
# Only its side of the link (the namespace's devices): the rest of the
# machine is not part of the test.
RETISC_HOST_NAME=fleet-host ip netns exec $NS "$RETISC" collect -c skb-tracking,skb $PROBES \
	-f "$FILTER" -m "sk_buff.dev.nd_net.net.ns.inum == $inum" -o "$W/host.json" \
	--sink "$URL/$SUBJECT" \
	--cmd "touch $W/host.started; while [ ! -e $W/host.stop ]; do sleep 0.2; done" \
	>"$W/host.log" 2>&1 &
HOSTC=$!
for _ in $(seq 300); do
	[ -e "$W/host.started" ] && break
	kill -0 $HOSTC 2>/dev/null || break
	sleep 0.1
done
[ -e "$W/host.started" ] || { result fleet-host-collect-start 1 "$W/host.log"; finish; }

# --- the guest -------------------------------------------------------------------
CONSOLE=$BUILD/vm/console.log
rm -f "$CONSOLE"
RETISC_VM_TESTS=fleet RETISC_VM_NETNS=$NS RETISC_VM_TAP=$TAP \
	RETISC_VM_FLEET="$GUEST_ADDR/24 $URL/$SUBJECT $PROBES -f $FILTER" RETISC_VM_TIMEOUT=${RETISC_VM_TIMEOUT:-600} \
	"$HERE/run.sh" "$BUILD" >"$W/vm.out" 2>&1 &
VMPID=$!
ready=0
for _ in $(seq 6000); do
	grep -q "^fleet: ready" "$CONSOLE" 2>/dev/null && { ready=1; break; }
	kill -0 $VMPID 2>/dev/null || break
	sleep 0.1
done
if [ $ready = 0 ]; then
	wait $VMPID
	st=$?
	VMPID=
	# A lane that cannot run here skips this test the same way.
	if [ $st = 77 ]; then
		skip "$(tail -1 "$W/vm.out" | sed 's/.*skipped: //')"
	fi
	result fleet-guest-ready 1 "$W/vm.out" "$CONSOLE"
	finish
fi
log "guest collecting; traffic from the namespace"

# --- the traffic ---------------------------------------------------------------
# A ping, then a TCP connection carrying 64 KiB (segments in both
# directions, the handshake and the close), then the guest's "done".
ip netns exec $NS ping -c 5 -i 0.3 -W 5 $GUEST_ADDR >"$W/ping.log" 2>&1
result fleet-ping-reaches-guest $? "$W/ping.log"
ip netns exec $NS python3 - $GUEST_ADDR >"$W/tcp.log" 2>&1 <<-'EOF'
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
sleep 1
ip netns exec $NS python3 -c \
	"import socket; socket.create_connection(('$GUEST_ADDR', 5002), 10).close()" ||
	log "cannot reach the guest's port 5002: its collection ends at the lane's timeout"

wait $VMPID
st=$?
VMPID=
grep -E "^(PASS|FAIL|fleet:)" "$CONSOLE" | sed 's/^/guest: /'
sed -n 's/^fleet-json: //p' "$CONSOLE" >"$W/guest.json"
[ $st = 0 ]
result fleet-guest-lane $? "$W/vm.out" "$CONSOLE"

touch "$W/host.stop"
wait $HOSTC
st=$?
HOSTC=
lines=$(wc -l <"$W/host.json")
[ $st = 0 ] && grep -q "sink $URL/$SUBJECT: $lines event(s) delivered" "$W/host.log" &&
	! grep -q "event(s) lost" "$W/host.log"
result fleet-host-collect-sink $? "$W/host.log"

# --- what the stream gives back ---------------------------------------------
read_ns() { ip netns exec $NS "$RETISC" "$@"; }
# Each host's part of the stream is what that host wrote to its file.
read_ns print "$URL/$STREAM?host=fleet-guest" >"$W/guest.txt" 2>"$W/read.err" &&
	"$RETISC" print "$W/guest.json" >"$W/guest-file.txt" 2>>"$W/read.err" &&
	read_ns print "$URL/$STREAM?host=fleet-host" >"$W/host-stream.txt" 2>>"$W/read.err" &&
	"$RETISC" print "$W/host.json" >"$W/host-file.txt" 2>>"$W/read.err" &&
	[ -s "$W/guest.json" ] && cmp "$W/guest-file.txt" "$W/guest.txt" >>"$W/read.err" &&
	cmp "$W/host-file.txt" "$W/host-stream.txt" >>"$W/read.err"
result fleet-stream-holds-each-hosts-file $? "$W/read.err"
read_ns stitch --cross "$URL/$STREAM?host=fleet-host" "$URL/$STREAM?host=fleet-guest" \
	>"$W/stitch.txt" 2>"$W/stitch.err"
st=$?
cat "$W/stitch.err"
[ $st = 0 ] && python3 "$HERE/check_fleet.py" "$W/stitch.txt" "$W/stitch.err" fleet-host fleet-guest \
	"$W/host-file.txt" "$W/guest.txt" >"$W/check.log" 2>&1
st=$?
cat "$W/check.log"
result fleet-stitch-one-journey-per-packet $st "$W/stitch.err" "$W/stitch.txt"
finish
