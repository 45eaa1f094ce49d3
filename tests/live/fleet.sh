# Fleet mode live tests (sourced by tests/run-live.sh; doc/fleet.md): a real
# nats-server with JetStream on its own port and store directory, real
# `retisc collect --sink` runs, the stream read back with nats:// inputs
# and compared with the file the same collection wrote.
FLEET_TRAFFIC="ip netns exec $NS_A ping -c 40 -i 0.05 10.201.0.2"

# A free TCP port on 127.0.0.1.
fleet_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# fleet_server_start: nats-server -js on $FLEET_ADDR:$FLEET_PORT (monitoring
# on $FLEET_MON), in namespace $FLEET_NS when set, store in
# $TMP/nats-store; pid in $FLEET_PID.
fleet_server_start() {
	local in=()
	[ -n "${FLEET_NS:-}" ] && in=(ip netns exec "$FLEET_NS")
	"${in[@]}" nats-server -js -a "${FLEET_ADDR:-127.0.0.1}" -p "$FLEET_PORT" -m "$FLEET_MON" \
		-sd "$TMP/nats-store" ${FLEET_SERVER_ARGS:-} >>"$TMP/nats-server.log" 2>&1 &
	FLEET_PID=$!
	for _ in $(seq 50); do
		"${in[@]}" python3 - "${FLEET_ADDR:-127.0.0.1}" "$FLEET_PORT" 2>/dev/null <<-'EOF' &&
			import socket, sys
			socket.create_connection((sys.argv[1], int(sys.argv[2])), 0.2)
		EOF
			return 0
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
	FLEET_NS=
	FLEET_ADDR=
	FLEET_READ=
	FLEET_SERVER_ARGS=
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
	local in=()
	[ -n "${FLEET_NS:-}" ] && in=(ip netns exec "$FLEET_NS")
	"${in[@]}" python3 - "${FLEET_ADDR:-127.0.0.1}:$FLEET_MON" "$1" <<-'EOF'
		import json, sys, urllib.request
		d = json.load(urllib.request.urlopen(
		    "http://%s/jsz?streams=1" % sys.argv[1]))
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
		${FLEET_READ:-$RETISC} $p "$2" >"$TMP/f-$p-nats.txt" 2>"$TMP/f-$p-nats.err" ||
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

# Two hosts (RETISC_HOST_NAME), each collecting in its own namespace of a
# veth pair, publish to one server in the first namespace over the link;
# the ICMP they both see is read back per host (host=), whole (both runs,
# both startup events), by time (since=/until=) and through a durable
# consumer (a second read has nothing new). -f icmp keeps the NATS traffic
# itself out of the collections (doc/fleet.md §2).
test_fleet_two_hosts() {
	fleet_setup || return $?
	fleet_server_stop
	FLEET_NS=$NS_A FLEET_ADDR=10.201.0.1
	# Readers run where the server is reachable.
	FLEET_READ="ip netns exec $NS_A $RETISC"
	fleet_server_start || return 1
	local url=nats://10.201.0.1:$FLEET_PORT t0
	t0=$(date +%s)
	RETISC_HOST_NAME=beta ip netns exec $NS_B "$RETISC" collect -c skb-tracking,skb $IFDUMP \
		-f icmp -o "$TMP/f4b.json" --sink "$url/fleet.multi" \
		--cmd "touch $TMP/f4b.started; sleep 6" >"$TMP/f4b.log" 2>&1 &
	local bpid=$!
	fleet_wait_file "$TMP/f4b.started" || { kill $bpid; fleet_server_stop; return 1; }
	RETISC_HOST_NAME=alpha ip netns exec $NS_A "$RETISC" collect -c skb-tracking,skb $IFDUMP \
		-f icmp -o "$TMP/f4a.json" --sink "$url/fleet.multi" \
		--cmd "ping -c 20 -i 0.05 10.201.0.2" >"$TMP/f4a.log" 2>&1 ||
		{ cat "$TMP/f4a.log"; kill $bpid; fleet_server_stop; return 1; }
	wait $bpid || { cat "$TMP/f4b.log"; fleet_server_stop; return 1; }
	local la lb stored
	la=$(wc -l <"$TMP/f4a.json")
	lb=$(wc -l <"$TMP/f4b.json")
	stored=$(fleet_stream_msgs fleet_multi)
	echo "alpha $la lines, beta $lb lines, stream $stored messages"
	[ "$la" -gt 40 ] && [ "$lb" -gt 40 ] && [ "$stored" = $((la + lb)) ] ||
		{ fleet_server_stop; return 1; }
	fleet_same "$TMP/f4a.json" "$url/fleet_multi?host=alpha" &&
		fleet_same "$TMP/f4b.json" "$url/fleet_multi?host=beta" ||
		{ fleet_server_stop; return 1; }
	# The whole stream: both runs, in per-run order, every event once.
	$FLEET_READ stats "$url/fleet_multi" >"$TMP/f4.stats" 2>&1 || { fleet_server_stop; return 1; }
	[ "$(grep -c '^Number of events' "$TMP/f4.stats")" = 2 ] ||
		{ cat "$TMP/f4.stats"; fleet_server_stop; return 1; }
	$FLEET_READ sort "$url/fleet_multi" >/dev/null || { fleet_server_stop; return 1; }
	# Time selections (the server's store times).
	$FLEET_READ stats "$url/fleet_multi?since=$((t0 - 60))&until=$((t0 + 600))" |
		cmp -s - "$TMP/f4.stats" || { echo "since/until around the run differ"; fleet_server_stop; return 1; }
	expect_fail 1 "nothing to read" $FLEET_READ stats "$url/fleet_multi?since=$((t0 + 3600))" ||
		{ fleet_server_stop; return 1; }
	expect_fail 1 "nothing to read" $FLEET_READ stats "$url/fleet_multi?until=$((t0 - 3600))" ||
		{ fleet_server_stop; return 1; }
	# By the events' own times (by=event): split alpha's events at their
	# median wall time (timestamp + startup offset), both halves exactly;
	# a window before every event shows no run at all (no startup alone).
	local split
	split=$(python3 - "$TMP/f4a.json" <<-'EOF'
		import json, sys
		lines = [json.loads(l) for l in open(sys.argv[1])]
		o = lines[0]["startup"]["clock_monotonic_offset"]
		off = o["sec"] * 10**9 + o["nsec"]
		walls = sorted(e["common"]["timestamp"] + off for e in lines[1:])
		m = walls[len(walls) // 2]
		print("%d.%09d %d %d" % (m // 10**9, m % 10**9, sum(w >= m for w in walls),
		                         sum(w <= m for w in walls)))
	EOF
	) || { fleet_server_stop; return 1; }
	set -- $split
	echo "alpha split at $1: $2 event(s) from it, $3 up to it"
	$FLEET_READ stats "$url/fleet_multi?host=alpha&by=event&since=$1" | grep -qx "Number of events: $2" &&
		$FLEET_READ stats "$url/fleet_multi?host=alpha&by=event&until=$1" |
		grep -qx "Number of events: $3" || { echo "by=event selection differs"; fleet_server_stop; return 1; }
	expect_fail 1 "nothing to read" $FLEET_READ stats "$url/fleet_multi?by=event&until=$((t0 - 3600))" ||
		{ fleet_server_stop; return 1; }
	# A durable consumer reads everything once.
	$FLEET_READ stats "$url/fleet_multi?durable=nightly" | cmp -s - "$TMP/f4.stats" ||
		{ echo "durable read differs"; fleet_server_stop; return 1; }
	expect_fail 1 "nothing to read" $FLEET_READ stats "$url/fleet_multi?durable=nightly" ||
		{ fleet_server_stop; return 1; }
	expect_fail 1 "no stream nope" $FLEET_READ print "$url/nope" || { fleet_server_stop; return 1; }
	fleet_server_stop
}

# Cross-host stitching (doc/fleet.md §4): each host's collection keeps to
# its own namespace (meta filter on the device's netns at first sight),
# publishes to the server, and `stitch` reads both hosts back from the
# stream: every ping request and reply is one journey across both hosts,
# and the clock offset is estimated both ways. Then the same from the
# files with beta's startup clock offset moved by 5 s: the journeys are
# the same and the estimate finds the 5 s. (One kernel here: the tracking
# ids of the two "hosts" may coincide; stitch never uses them.)
test_fleet_stitch() {
	fleet_setup || return $?
	fleet_server_stop
	FLEET_NS=$NS_A FLEET_ADDR=10.201.0.1
	FLEET_READ="ip netns exec $NS_A $RETISC"
	fleet_server_start || return 1
	local url=nats://10.201.0.1:$FLEET_PORT ia ib
	ia=$(ns_inum $NS_A)
	ib=$(ns_inum $NS_B)
	ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2 >/dev/null || { fleet_server_stop; return 1; }
	RETISC_HOST_NAME=beta ip netns exec $NS_B "$RETISC" collect -c skb-tracking,skb $IFDUMP \
		-f icmp -m "sk_buff.dev.nd_net.net.ns.inum == $ib" -o "$TMP/f5b.json" \
		--sink "$url/fleet.stitch" --cmd "touch $TMP/f5b.started; sleep 5" >"$TMP/f5b.log" 2>&1 &
	local bpid=$!
	fleet_wait_file "$TMP/f5b.started" || { kill $bpid; fleet_server_stop; return 1; }
	RETISC_HOST_NAME=alpha ip netns exec $NS_A "$RETISC" collect -c skb-tracking,skb $IFDUMP \
		-f icmp -m "sk_buff.dev.nd_net.net.ns.inum == $ia" -o "$TMP/f5a.json" \
		--sink "$url/fleet.stitch" --cmd "ping -c 5 -i 0.1 10.201.0.2" >"$TMP/f5a.log" 2>&1 ||
		{ cat "$TMP/f5a.log"; kill $bpid; fleet_server_stop; return 1; }
	wait $bpid || { cat "$TMP/f5b.log"; fleet_server_stop; return 1; }
	$FLEET_READ stitch --cross "$url/fleet_stitch?host=alpha" "$url/fleet_stitch?host=beta" \
		>"$TMP/f5.txt" 2>"$TMP/f5.err" || { cat "$TMP/f5.err"; fleet_server_stop; return 1; }
	# The whole stream, split by the publishers' identity, as JSON
	# (doc/files.md §9): 10 journeys over both hosts.
	$FLEET_READ stitch --cross -o "$TMP/f5s.jsonl" "$url/fleet_stitch" 2>"$TMP/f5s.err" ||
		{ cat "$TMP/f5s.err"; fleet_server_stop; return 1; }
	fleet_server_stop
	cat "$TMP/f5s.err"
	grep -qE "clock of (beta|alpha): .* ms to align with (alpha|beta) \(10 matched packet\(s\)" \
		"$TMP/f5s.err" || return 1
	python3 - "$TMP/f5s.jsonl" "$TMP/f5a.json" "$TMP/f5b.json" <<-'EOF' || return 1
		import json, sys
		lines = [json.loads(l) for l in open(sys.argv[1])]
		starts = {s["stitch"]["host"]: s for s in lines[0]}
		assert sorted(starts) == ["alpha", "beta"], starts.keys()
		for h in starts:
		    assert starts[h]["fleet"]["host"] == h and starts[h]["stitch"]["matched"] in (0, 10)
		jr = lines[1:]
		assert len(jr) == 10, len(jr)
		n = 0
		for j in jr:
		    hosts = [e["stitch"]["host"] for e in j]
		    assert set(hosts) == {"alpha", "beta"}, hosts
		    times = [e["stitch"]["time"] for e in j]
		    assert times == sorted(times), times
		    for i, e in enumerate(j):
		        assert "fleet" not in e and e["tracking"]["idx"] == i
		        o = starts[e["stitch"]["host"]]["startup"]["clock_monotonic_offset"]
		        assert e["stitch"]["time"] == e["common"]["timestamp"] + o["sec"] * 10**9 + \
		            o["nsec"] + e["stitch"]["clock_offset"]
		    n += len(j)
		# Every event of the journeys is one of the files' (by content).
		files = set()
		for f in sys.argv[2:]:
		    files.update(l.strip() for l in open(f))
		for j in jr:
		    for e in j:
		        del e["stitch"], e["tracking"]
		        assert json.dumps(e, separators=(",", ":")) in files
		print("stream split: %d journeys, %d events" % (len(jr), n))
	EOF
	# The same journeys as from the two files, given in the order the
	# stream met the hosts (the first is the reference clock).
	local first order
	first=$(head -1 "$TMP/f5s.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stitch"]["host"])')
	order="beta=$TMP/f5b.json alpha=$TMP/f5a.json"
	[ "$first" = alpha ] && order="alpha=$TMP/f5a.json beta=$TMP/f5b.json"
	"$RETISC" stitch --cross -o "$TMP/f5f.jsonl" $order 2>/dev/null || return 1
	cmp <(tail -n +2 "$TMP/f5s.jsonl") <(tail -n +2 "$TMP/f5f.jsonl") ||
		{ echo "journeys from the stream and from the files differ"; return 1; }
	cat "$TMP/f5.err"
	# One kernel: a packet's later events follow it into the other
	# namespace's file (the filter tracks what it matched), so the series
	# of the two "hosts" overlap in time and the directions cannot be told
	# apart: either estimate is right here (two hosts: test_stitch.c).
	grep -qE "clock of beta: .* ms to align with alpha \(10 matched packet\(s\), (both ways|one way: includes the link delay)\)" \
		"$TMP/f5.err" || return 1
	# 5 requests from alpha, 5 replies from beta, each crossing over.
	[ "$(grep -c '^\[alpha\] .*' "$TMP/f5.txt")" = 5 ] &&
		[ "$(grep -c '^\[beta\] .*' "$TMP/f5.txt")" = 5 ] || { cat "$TMP/f5.txt"; return 1; }
	[ "$(grep -c '↳ \[alpha → beta\]' "$TMP/f5.txt")" -ge 5 ] &&
		[ "$(grep -c '↳ \[beta → alpha\]' "$TMP/f5.txt")" -ge 5 ] || { cat "$TMP/f5.txt"; return 1; }
	grep -A1 '^\[alpha\]' "$TMP/f5.txt" | grep -q 'type 8' &&
		! grep -A1 '^\[alpha\]' "$TMP/f5.txt" | grep -q 'type 0' || { cat "$TMP/f5.txt"; return 1; }
	# The offset is small on one kernel: well under a millisecond.
	grep -qE "clock of beta: [+-]0\.[0-9]{3} ms" "$TMP/f5.err" || return 1
	# From the files, beta's clock moved 5 s ahead.
	python3 - "$TMP/f5b.json" "$TMP/f5b5.json" <<-'EOF' || return 1
		import json, sys
		lines = open(sys.argv[1]).read().splitlines()
		st = json.loads(lines[0])
		st["startup"]["clock_monotonic_offset"]["sec"] += 5
		lines[0] = json.dumps(st, separators=(",", ":"))
		open(sys.argv[2], "w").write("\n".join(lines) + "\n")
	EOF
	"$RETISC" stitch --cross alpha="$TMP/f5a.json" beta="$TMP/f5b5.json" >"$TMP/f5f.txt" \
		2>"$TMP/f5f.err" || { cat "$TMP/f5f.err"; return 1; }
	cat "$TMP/f5f.err"
	grep -qE "clock of beta: -(4999\.[5-9]|5000\.[0-4])[0-9]* ms to align with alpha \(10 matched packet\(s\), " \
		"$TMP/f5f.err" || return 1
	diff -u "$TMP/f5.txt" "$TMP/f5f.txt" | head -20
	cmp -s "$TMP/f5.txt" "$TMP/f5f.txt"
}

# A frozen server (SIGSTOP): acknowledgements time out while it holds
# messages it will store once thawed; the sink sends them again, the
# server's de-duplication drops the copies: every event stored once, in
# order.
test_fleet_server_frozen() {
	fleet_setup || return $?
	local url=nats://127.0.0.1:$FLEET_PORT
	"$RETISC" collect -c skb-tracking,skb $IFDUMP -o "$TMP/f6.json" --sink "$url/fleet.six" \
		--cmd "touch $TMP/f6.started; ip netns exec $NS_A ping -c 200 -i 0.05 10.201.0.2" \
		>"$TMP/f6.log" 2>&1 &
	local cpid=$!
	fleet_wait_file "$TMP/f6.started" || { kill $cpid; fleet_server_stop; return 1; }
	sleep 1
	kill -STOP "$FLEET_PID"
	sleep 7
	kill -CONT "$FLEET_PID"
	wait $cpid || { cat "$TMP/f6.log"; fleet_server_stop; return 1; }
	cat "$TMP/f6.log"
	local lines stored
	lines=$(wc -l <"$TMP/f6.json")
	stored=$(fleet_stream_msgs fleet_six)
	echo "file $lines lines, stream $stored messages"
	grep -q "sink $url/fleet.six: $lines event(s) delivered, [1-9]" "$TMP/f6.log" &&
		! grep -q "event(s) lost" "$TMP/f6.log" || { fleet_server_stop; return 1; }
	[ "$stored" = "$lines" ] || { fleet_server_stop; return 1; }
	fleet_same "$TMP/f6.json" "$url/fleet_six" || { fleet_server_stop; return 1; }
	fleet_server_stop
}

# Credentials from a file named in the environment (doc/fleet.md §2): a
# token server takes the events with RETISC_NATS_TOKEN_FILE; without it,
# every event is counted as lost, with the client's reason; a URL with
# credentials is refused outright.
test_fleet_token() {
	fleet_setup || return $?
	fleet_server_stop
	FLEET_SERVER_ARGS="--auth fleet-s3cret"
	fleet_server_start || return 1
	local url=nats://127.0.0.1:$FLEET_PORT
	printf 'fleet-s3cret\n' >"$TMP/token" && chmod 600 "$TMP/token"
	RETISC_NATS_TOKEN_FILE=$TMP/token "$RETISC" collect -c skb-tracking,skb $IFDUMP -f icmp \
		-o "$TMP/f7.json" --sink "$url/fleet.tok" --cmd "$FLEET_TRAFFIC" >"$TMP/f7.log" 2>&1 ||
		{ cat "$TMP/f7.log"; fleet_server_stop; return 1; }
	grep -q "sink $url/fleet.tok: $(wc -l <"$TMP/f7.json") event(s) delivered" "$TMP/f7.log" ||
		{ cat "$TMP/f7.log"; fleet_server_stop; return 1; }
	RETISC_NATS_TOKEN_FILE=$TMP/token fleet_same "$TMP/f7.json" "$url/fleet_tok" ||
		{ fleet_server_stop; return 1; }
	expect_fail 1 "nats://127.0.0.1:$FLEET_PORT/fleet_tok: cannot connect: Authentication Violation" \
		"$RETISC" print "$url/fleet_tok" || { fleet_server_stop; return 1; }
	# The token file named by a profile (doc/cli.md §5.1), the sink too.
	cat >"$TMP/fleet-cred.yaml" <<-EOF
		version: 1.0
		name: fleet-cred
		collect:
		  - args:
		      sink: $url/fleet.tok
		    credentials:
		      nats:
		        token_file: $TMP/token
	EOF
	chmod 600 "$TMP/fleet-cred.yaml"
	"$RETISC" -p "$TMP/fleet-cred.yaml" collect -c skb-tracking,skb $IFDUMP -f icmp \
		-o "$TMP/f9.json" --cmd "$FLEET_TRAFFIC" >"$TMP/f9.log" 2>&1 ||
		{ cat "$TMP/f9.log"; fleet_server_stop; return 1; }
	grep -q "Sink credentials: RETISC_NATS_TOKEN_FILE=$TMP/token (profile)" "$TMP/f9.log" &&
		grep -q "sink $url/fleet.tok: $(wc -l <"$TMP/f9.json") event(s) delivered" "$TMP/f9.log" ||
		{ cat "$TMP/f9.log"; fleet_server_stop; return 1; }
	# The environment wins over the profile: a wrong token, refused.
	printf 'wrong\n' >"$TMP/token-bad"
	RETISC_NATS_TOKEN_FILE=$TMP/token-bad RETISC_NATS_DRAIN_MS=500 "$RETISC" -p "$TMP/fleet-cred.yaml" \
		collect -c skb-tracking,skb $IFDUMP -f icmp -o "$TMP/f10.json" \
		--cmd "$FLEET_TRAFFIC; sleep 1.5" >"$TMP/f10.log" 2>&1 ||
		{ cat "$TMP/f10.log"; fleet_server_stop; return 1; }
	grep -q "sink $url/fleet.tok: $(wc -l <"$TMP/f10.json") event(s) lost" "$TMP/f10.log" &&
		! grep -q "Sink credentials" "$TMP/f10.log" || { cat "$TMP/f10.log"; fleet_server_stop; return 1; }
	RETISC_NATS_DRAIN_MS=500 "$RETISC" collect -c skb-tracking,skb $IFDUMP -f icmp \
		-o "$TMP/f8.json" --sink "$url/fleet.tok" --cmd "$FLEET_TRAFFIC; sleep 1.5" \
		>"$TMP/f8.log" 2>&1 || { cat "$TMP/f8.log"; fleet_server_stop; return 1; }
	fleet_server_stop
	# The client reports the refusal, or only that no server took the
	# connection, depending on when the server's -ERR arrives.
	grep -qE "sink $url/fleet.tok: $(wc -l <"$TMP/f8.json") event\(s\) lost: not acknowledged at exit \((Authorization Violation|No server available for connection)\)" \
		"$TMP/f8.log" || { cat "$TMP/f8.log"; return 1; }
	expect_fail 1 "no credentials in the URL" "$RETISC" collect -c skb-tracking $IFDUMP \
		--sink "nats://me:pw@127.0.0.1:1/x" --cmd true
}
