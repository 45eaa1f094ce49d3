# Fleet mode live tests (sourced by tests/run-live.sh; doc/fleet.md): a real
# nats-server with JetStream on its own port and store directory, real
# `retisc collect --sink` runs, the stream read back with nats:// inputs
# and compared with the file the same collection wrote.
FLEET_TRAFFIC="ip netns exec $NS_A ping -c 40 -i 0.05 10.201.0.2"

# A free TCP port on 127.0.0.1.
fleet_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# fleet_server_start: nats-server -js on $FLEET_PORT (monitoring on
# $FLEET_MON), store in $TMP/nats-store; pid in $FLEET_PID.
fleet_server_start() {
	nats-server -js -a 127.0.0.1 -p "$FLEET_PORT" -m "$FLEET_MON" -sd "$TMP/nats-store" \
		>>"$TMP/nats-server.log" 2>&1 &
	FLEET_PID=$!
	for _ in $(seq 50); do
		python3 - "$FLEET_PORT" 2>/dev/null <<-'EOF' && return 0
			import socket, sys
			socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)
		EOF
		sleep 0.1
	done
	echo "nats-server did not start"; cat "$TMP/nats-server.log"
	return 1
}

fleet_server_stop() {
	[ -n "${FLEET_PID:-}" ] || return 0
	kill "$FLEET_PID" 2>/dev/null
	wait "$FLEET_PID" 2>/dev/null
	FLEET_PID=
}

# fleet_setup: a server, a namespace pair; SKIP when nats-server is absent.
fleet_setup() {
	command -v nats-server >/dev/null || { echo "nats-server not installed"; return $SKIP; }
	"$RETISC" plugin list 2>/dev/null | grep -q "sink nats://" ||
		{ echo "the nats sink plugin is not built"; return 1; }
	"$RETISC" plugin list 2>/dev/null | grep -A3 "^nats " | grep -q "no libnats" &&
		{ echo "retisc built without libnats"; return 1; }
	rm -rf "$TMP/nats-store" "$TMP/nats-server.log"
	FLEET_PORT=$(fleet_port)
	FLEET_MON=$(fleet_port)
	topo_pair || return 1
	fleet_server_start
}

# fleet_wait_file <path>: up to 30 s for it to appear.
fleet_wait_file() {
	for _ in $(seq 300); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "$1 never appeared"
	return 1
}

# Messages stored in stream $1 (the server's monitoring endpoint).
fleet_stream_msgs() {
	python3 - "$FLEET_MON" "$1" <<-'EOF'
		import json, sys, urllib.request
		d = json.load(urllib.request.urlopen(
		    "http://127.0.0.1:%s/jsz?streams=1" % sys.argv[1]))
		for acc in d.get("account_details", []):
		    for st in acc.get("stream_detail", []):
		        if st["name"] == sys.argv[2]:
		            print(st["state"]["messages"]); sys.exit(0)
		print(0)
	EOF
}

# fleet_same <file> <url>: print and sort give the same text for both.
fleet_same() {
	local p
	for p in print sort; do
		"$RETISC" $p "$1" >"$TMP/f-$p-file.txt" 2>&1 || { echo "$p $1 failed"; return 1; }
		"$RETISC" $p "$2" >"$TMP/f-$p-nats.txt" 2>"$TMP/f-$p-nats.err" ||
			{ echo "$p $2 failed"; cat "$TMP/f-$p-nats.err"; return 1; }
		diff -u "$TMP/f-$p-file.txt" "$TMP/f-$p-nats.txt" | head -20
		cmp -s "$TMP/f-$p-file.txt" "$TMP/f-$p-nats.txt" || { echo "$p differs"; return 1; }
	done
}

# collect -> stream -> sort/print gives what the file gives; the stream
# holds each event once; the startup event and every message carry the
# host identity (checked through the host= selection).
test_fleet_sink_roundtrip() {
	fleet_setup || return $?
	local url=nats://127.0.0.1:$FLEET_PORT
	RETISC_HOST_NAME=fleet-a "$RETISC" collect -c skb-tracking,skb $IFDUMP -o "$TMP/f1.json" \
		--sink "$url/fleet.one" --cmd "$FLEET_TRAFFIC" >"$TMP/f1.log" 2>&1 ||
		{ cat "$TMP/f1.log"; fleet_server_stop; return 1; }
	local lines stored
	lines=$(wc -l <"$TMP/f1.json")
	stored=$(fleet_stream_msgs fleet_one)
	echo "file $lines lines, stream $stored messages"
	grep -q "sink $url/fleet.one: $lines event(s) delivered" "$TMP/f1.log" ||
		{ cat "$TMP/f1.log"; fleet_server_stop; return 1; }
	[ "$lines" -gt 40 ] && [ "$stored" = "$lines" ] || { fleet_server_stop; return 1; }
	fleet_same "$TMP/f1.json" "$url/fleet_one" || { fleet_server_stop; return 1; }
	# Another host's selection is empty (no startup event: refused).
	"$RETISC" print "$url/fleet_one?host=fleet-a" | cmp -s - "$TMP/f-print-file.txt" ||
		{ echo "host=fleet-a differs"; fleet_server_stop; return 1; }
	if "$RETISC" print "$url/fleet_one?host=nobody" >/dev/null 2>&1; then
		echo "host=nobody gave events"; fleet_server_stop; return 1
	fi
	fleet_server_stop
}

# The server stopped and restarted in the middle of a collection: events
# spool meanwhile, are replayed in order once it is back, nothing is lost
# and nothing is stored twice.
test_fleet_server_restart() {
	fleet_setup || return $?
	local url=nats://127.0.0.1:$FLEET_PORT
	"$RETISC" collect -c skb-tracking,skb $IFDUMP -o "$TMP/f2.json" --sink "$url/fleet.two" \
		--cmd "touch $TMP/f2.started; ip netns exec $NS_A ping -c 80 -i 0.05 10.201.0.2" \
		>"$TMP/f2.log" 2>&1 &
	local cpid=$!
	fleet_wait_file "$TMP/f2.started" || { kill $cpid; fleet_server_stop; return 1; }
	sleep 1
	fleet_server_stop
	sleep 1.5
	fleet_server_start || { kill $cpid; return 1; }
	wait $cpid || { cat "$TMP/f2.log"; fleet_server_stop; return 1; }
	cat "$TMP/f2.log"
	local lines stored
	lines=$(wc -l <"$TMP/f2.json")
	stored=$(fleet_stream_msgs fleet_two)
	echo "file $lines lines, stream $stored messages"
	grep -q "server unreachable" "$TMP/f2.log" || { echo "no outage seen"; fleet_server_stop; return 1; }
	grep -q "sink $url/fleet.two: $lines event(s) delivered, [1-9]" "$TMP/f2.log" &&
		! grep -q "event(s) lost" "$TMP/f2.log" || { fleet_server_stop; return 1; }
	[ "$stored" = "$lines" ] || { fleet_server_stop; return 1; }
	fleet_same "$TMP/f2.json" "$url/fleet_two" || { fleet_server_stop; return 1; }
	fleet_server_stop
}

# The server down at start with a tiny spool: events spool, what does not
# fit is dropped and counted, the rest is replayed once the server comes;
# the count reported is exactly what the stream lacks.
test_fleet_spool_bound() {
	fleet_setup || return $?
	local url=nats://127.0.0.1:$FLEET_PORT
	fleet_server_stop
	"$RETISC" collect -c skb-tracking,skb $IFDUMP -o "$TMP/f3.json" \
		--sink "$url/fleet.three?spool=16k" \
		--cmd "ip netns exec $NS_A ping -c 40 -i 0.05 10.201.0.2; touch $TMP/f3.sent; sleep 3" \
		>"$TMP/f3.log" 2>&1 &
	local cpid=$!
	fleet_wait_file "$TMP/f3.sent" || { kill $cpid; return 1; }
	fleet_server_start || { kill $cpid; return 1; }
	wait $cpid || { cat "$TMP/f3.log"; fleet_server_stop; return 1; }
	cat "$TMP/f3.log"
	local lines stored lost
	lines=$(wc -l <"$TMP/f3.json")
	stored=$(fleet_stream_msgs fleet_three)
	lost=$(sed -n 's/.*sink .*: \([0-9]*\) event(s) lost: spool full.*/\1/p' "$TMP/f3.log")
	echo "file $lines lines, stream $stored messages, reported lost ${lost:-none}"
	[ -n "$lost" ] && [ "$lost" -gt 0 ] && [ $((stored + lost)) = "$lines" ] ||
		{ fleet_server_stop; return 1; }
	fleet_server_stop
}
