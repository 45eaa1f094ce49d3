#!/bin/bash
# Live tests: real namespaces, veth pairs and traffic traced by a real
# `retisc collect`, then assertions on the resulting files. Needs root and
# BPF (CI runs as root). Each test_* function is one test; the last line is
# "N passed, N failed".
set -u
BUILD=${1:-build}
RETISC=$(realpath "$BUILD/retisc")
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/live/check.py"
TMP=$(mktemp -d /tmp/retisc-live.XXXXXX)
PASS=0
FAIL=0
FAILED=()
# The probes Retis uses when no collector, probe or profile is named; a
# command line that names collectors gives them itself.
IFDUMP="-p tp:net:netif_receive_skb -p tp:net:net_dev_start_xmit"
# Namespace names are per run, so concurrent runs do not tear each other's
# topologies down.
NS_A=rt$$-a
NS_B=rt$$-b
NS_M=rt$$-m

cleanup() {
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns del $NS_M 2>/dev/null
	umount "$TMP/full" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "live tests need root"
	echo "0 passed, 1 failed"
	exit 1
fi

# Tracefs lets probes be matched by group; retisc also works without it.
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

topo_pair() {
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns add $NS_A && ip netns add $NS_B &&
		ip link add veth-ta netns $NS_A type veth peer name veth-tb netns $NS_B &&
		ip -n $NS_A addr add 10.201.0.1/24 dev veth-ta &&
		ip -n $NS_B addr add 10.201.0.2/24 dev veth-tb &&
		ip -n $NS_A link set veth-ta up && ip -n $NS_B link set veth-tb up &&
		ip -n $NS_A link set lo up && ip -n $NS_B link set lo up
}

run_test() {
	local name=$1 out
	out=$("$name" 2>&1)
	if [ $? -eq 0 ]; then
		PASS=$((PASS + 1))
		echo "ok   $name"
	else
		FAIL=$((FAIL + 1))
		FAILED+=("$name")
		echo "FAIL $name"
		echo "$out" | sed 's/^/     /' | tail -40
	fi
}

expect_fail() { # expect_fail <status> <grep pattern> <cmd...>
	local want=$1 pat=$2 out st
	shift 2
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" != "$want" ]; then
		echo "expected exit $want, got $st: $*"
		echo "$out"
		return 1
	fi
	if ! grep -qE -- "$pat" <<<"$out"; then
		echo "output of '$*' lacks /$pat/:"
		echo "$out"
		return 1
	fi
}

# Foundation: ping through a veth pair, skb-tracking on the default probes.
test_collect_ping_tracking() {
	topo_pair || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/ping.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/ping.log" 2>&1 ||
		{ cat "$TMP/ping.log"; return 1; }
	grep -q "event(s) processed" "$TMP/ping.log" || return 1
	$CHECK ping-tracking "$TMP/ping.json"
}

# The file reads back with print; text lines carry the ids.
test_print_collected() {
	[ -s "$TMP/ping.json" ] || test_collect_ping_tracking || return 1
	"$RETISC" print "$TMP/ping.json" >"$TMP/ping.txt" || return 1
	# Whose file it is, and which Retis format (Retis's own files keep
	# "collected with Retis vX").
	grep -qx "  collected with retisc $("$RETISC" -V | cut -d' ' -f2) (Retis v1.7.0 event format)" \
		"$TMP/ping.txt" || { head -3 "$TMP/ping.txt"; return 1; }
	"$RETISC" stats "$TMP/ping.json" | grep -qx "retisc version: [0-9.]* (Retis v1.7.0 event format)" ||
		return 1
	grep -q '"retis_version":"v1.7.0","retisc_version":"[0-9.]*"' "$TMP/ping.json" || return 1
	grep -qE '^[0-9]+ \([0-9]+\) \[ping\] [0-9]+ \[tp\] net:net_dev_start_xmit #[0-9a-f]+ \(skb [0-9a-f]+\)$' \
		"$TMP/ping.txt" || { head -20 "$TMP/ping.txt"; return 1; }
	"$RETISC" print --format single-line "$TMP/ping.json" >"$TMP/ping1.txt" || return 1
	[ "$(grep -c . "$TMP/ping1.txt")" = "$(wc -l <"$TMP/ping.json")" ]
}

# Text output to stdout when there is no -o; --stop-after stops the run.
test_stdout_and_stop_after() {
	topo_pair || return 1
	ip netns exec $NS_A ping -c 50 -i 0.05 10.201.0.2 >/dev/null 2>&1 &
	local pid=$!
	timeout 30 "$RETISC" collect -c skb-tracking $IFDUMP --format single-line --stop-after 4 \
		>"$TMP/stdout.txt" 2>"$TMP/stdout.log"
	local st=$?
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $st = 0 ] || { cat "$TMP/stdout.log"; return 1; }
	grep -q "Reached stop count (4)" "$TMP/stdout.log" || { cat "$TMP/stdout.log"; return 1; }
	[ "$(grep -c '\[tp\] net:' "$TMP/stdout.txt")" = 4 ] || { cat "$TMP/stdout.txt"; return 1; }
}

# SIGINT mid-write: every event read is written and the file stays valid.
test_sigint_mid_write() {
	topo_pair || return 1
	ip netns exec $NS_A ping -f -w 20 10.201.0.2 >/dev/null 2>&1 &
	local ping=$!
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/int.json" >"$TMP/int.log" 2>&1 &
	local pid=$!
	sleep 2
	kill -INT $pid
	wait $pid
	local st=$?
	kill $ping 2>/dev/null
	wait $ping 2>/dev/null
	[ $st = 0 ] || { cat "$TMP/int.log"; return 1; }
	local n
	n=$(grep -o '[0-9]* event(s) processed' "$TMP/int.log" | cut -d' ' -f1)
	[ -n "$n" ] && [ "$n" -gt 0 ] || { cat "$TMP/int.log"; return 1; }
	$CHECK valid-file "$TMP/int.json" "$n"
}

# A full disk: the error names the file, what was written stays valid.
test_full_disk() {
	topo_pair || return 1
	mkdir -p "$TMP/full" && mount -t tmpfs -o size=64k tmpfs "$TMP/full" || return 1
	ip netns exec $NS_A ping -f -w 20 10.201.0.2 >/dev/null 2>&1 &
	local ping=$!
	timeout 30 "$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/full/ev.json" >"$TMP/full.log" 2>&1
	local st=$?
	kill $ping 2>/dev/null
	wait $ping 2>/dev/null
	umount "$TMP/full" 2>/dev/null
	mkdir -p "$TMP/full" && mount -t tmpfs -o size=64k tmpfs "$TMP/full"
	[ $st = 1 ] || { echo "exit $st"; cat "$TMP/full.log"; return 1; }
	grep -q "Cannot write to $TMP/full/ev.json: No space left on device" "$TMP/full.log" ||
		{ cat "$TMP/full.log"; return 1; }
}

test_bad_input() {
	expect_fail 2 "invalid value 'nope' for '--collectors': unknown collector \(available: auto, skb-tracking, skb, skb-drop" \
		"$RETISC" collect -c nope --cmd true || return 1
	expect_fail 1 "Could not find a tracepoint matching 'nope:nope'" \
		"$RETISC" collect -c skb-tracking -p tp:nope:nope --cmd true || return 1
	expect_fail 1 "Invalid TYPE foo. See the help." \
		"$RETISC" collect -c skb-tracking -p foo:bar:baz --cmd true || return 1
	expect_fail 1 "'bogus' is an invalid probe option." \
		"$RETISC" collect -c skb-tracking -p tp:skb:kfree_skb/bogus --cmd true || return 1
	expect_fail 1 "Empty options are not allowed" \
		"$RETISC" collect -c skb-tracking -p tp:skb:kfree_skb/ --cmd true || return 1
	expect_fail 1 "Cannot create output file /proc/nonexistent/x.json" \
		"$RETISC" collect -c skb-tracking $IFDUMP -o /proc/nonexistent/x.json --cmd true || return 1
	expect_fail 2 "cannot be used multiple times" \
		"$RETISC" collect --utc --utc --cmd true || return 1
	expect_fail 2 "unrecognized subcommand 'frobnicate'" "$RETISC" frobnicate || return 1
	expect_fail 1 "needs CAP_SYS_ADMIN and CAP_BPF" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$RETISC" collect -c skb-tracking $IFDUMP --cmd true || return 1
}

# kprobes cannot attach on this kernel: a clear error, never a crash. On a
# kernel where they attach (the VM lane) the probe must simply work.
test_kprobe_refused() {
	local out st
	out=$("$RETISC" collect -c skb-tracking -p k:ip_rcv --cmd true 2>&1)
	st=$?
	if grep -q "skb tracking uses kprobes" <<<"$out"; then
		[ $st = 0 ] || { echo "$out"; return 1; }
		return 0
	fi
	[ $st = 1 ] || { echo "exit $st"; echo "$out"; return 1; }
	grep -q "kprobes are not available on this kernel" <<<"$out" || { echo "$out"; return 1; }
}

test_print_malformed_line() {
	printf '%s\n' \
		'{"common":{"timestamp":1},"startup":{"retis_version":"v1.7.0","cmdline":"x","clock_monotonic_offset":{"sec":0,"nsec":0},"machine":{"kernel_release":"a","kernel_version":"b","hardware_name":"c"}}}' \
		'{"common":{"timestamp":2,"smp_id":0,"task":{"pid":1,"tgid":1,"comm":"a"}},"kernel":{"symbol":"net:x","probe_type":"raw_tracepoint"}}' \
		'{"common":{"timestamp":3,' >"$TMP/bad.json"
	expect_fail 1 "$TMP/bad.json:3: " "$RETISC" print "$TMP/bad.json" || return 1
	# What came before the bad line was printed.
	"$RETISC" print "$TMP/bad.json" 2>/dev/null | grep -q '^2 (0) \[a\] 1 \[tp\] net:x$'
}

test_plugin_list() {
	local out
	out=$("$RETISC" plugin list) || return 1
	grep -q "^skb-tracking " <<<"$out" &&
		grep -q "collector skb-tracking (1 hook), section skb-tracking (owner 4)" <<<"$out"
}

topo_dnat() {
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns del $NS_M 2>/dev/null
	ip netns add $NS_A && ip netns add $NS_M && ip netns add $NS_B &&
		ip link add veth-da netns $NS_A type veth peer name veth-dma netns $NS_M &&
		ip link add veth-db netns $NS_B type veth peer name veth-dmb netns $NS_M &&
		ip -n $NS_A addr add 10.210.1.1/24 dev veth-da &&
		ip -n $NS_M addr add 10.210.1.254/24 dev veth-dma &&
		ip -n $NS_M addr add 10.210.2.254/24 dev veth-dmb &&
		ip -n $NS_B addr add 10.210.2.2/24 dev veth-db &&
		for l in "$NS_A veth-da" "$NS_M veth-dma" "$NS_M veth-dmb" "$NS_B veth-db"; do
			set -- $l; ip -n "$1" link set "$2" up || return 1
		done &&
		ip -n $NS_A route add default via 10.210.1.254 &&
		ip -n $NS_B route add default via 10.210.2.254 &&
		ip netns exec $NS_M sysctl -qw net.ipv4.ip_forward=1 &&
		ip netns exec $NS_M nft -f - <<-EOF
			table ip retisc_test {
				chain pre {
					type nat hook prerouting priority dstnat;
					ip daddr 10.210.9.100 dnat to 10.210.2.2
				}
			}
		EOF
}

# Tracking across DNAT: a request keeps its id on both sides of the rewrite
# (4 events: xmit A, receive M, xmit M after DNAT, receive B); the reply
# has another id. The ping reaching 10.210.9.100 at all proves the DNAT.
test_tracking_dnat() {
	topo_dnat || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/dnat.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.210.9.100" >"$TMP/dnat.log" 2>&1 ||
		{ cat "$TMP/dnat.log"; return 1; }
	ip netns del $NS_M
	grep -q "Command returned (exit status: 0)" "$TMP/dnat.log" || { cat "$TMP/dnat.log"; return 1; }
	$CHECK dnat "$TMP/dnat.json"
}

# Clones: an AF_PACKET listener makes the kernel clone each packet; the
# clone is consumed by the socket. One id, two skb addresses.
test_tracking_clones() {
	topo_pair || return 1
	ip netns exec $NS_A tcpdump -i veth-ta -w /dev/null -U >/dev/null 2>&1 &
	local td=$!
	sleep 1
	"$RETISC" collect -c skb-tracking -p tp:net:net_dev_start_xmit -p tp:skb:consume_skb \
		-o "$TMP/clone.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/clone.log" 2>&1
	local st=$?
	kill $td; wait $td 2>/dev/null
	[ $st = 0 ] || { cat "$TMP/clone.log"; return 1; }
	$CHECK clones "$TMP/clone.json"
}

# Ends of life: once traffic stops, freed packets leave no entry behind
# (the map is inspected by --tracking-report at exit). Other traffic of the
# host is traced too, so a busy moment is retried.
test_tracking_end_of_life() {
	topo_pair || return 1
	for try in 1 2 3; do
		"$RETISC" collect -c skb-tracking $IFDUMP --tracking-report -o "$TMP/eol.json" \
			--cmd "ip netns exec $NS_A ping -c 5 -i 0.1 -W 1 10.201.0.2; sleep 0.3" \
			>"$TMP/eol.log" 2>&1 || { cat "$TMP/eol.log"; return 1; }
		grep -q "tracking: 0 live entries, 0 skb entries (map size [0-9]*); created [1-9]" "$TMP/eol.log" &&
			return 0
	done
	cat "$TMP/eol.log"
	return 1
}

# Flood: 100k+ packets; the tracking map stays within its (small) bound and
# the report gives creations, releases and evictions.
test_tracking_flood() {
	topo_pair || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP --tracking-report --tracking-map-size 1024 \
		-o "$TMP/flood.json" --cmd "ip netns exec $NS_A ping -f -c 60000 10.201.0.2" \
		>"$TMP/flood.log" 2>&1 || { cat "$TMP/flood.log"; return 1; }
	local line live created reused
	line=$(grep "tracking: " "$TMP/flood.log") || { cat "$TMP/flood.log"; return 1; }
	echo "$line"
	live=$(sed 's/.*tracking: \([0-9]*\) live.*/\1/' <<<"$line")
	created=$(sed 's/.*created \([0-9]*\),.*/\1/' <<<"$line")
	reused=$(sed 's/.*reused in place \([0-9]*\).*/\1/' <<<"$line")
	grep -q "(map size 1024)" <<<"$line" && grep -q "evicted [0-9]*" <<<"$line" || return 1
	# Buffers are recycled by the slab and page-fragment caches: most new
	# packets take over the dead entry of an ended one (TRK_IN_PLACE).
	[ "$live" -le 1024 ] && [ "$created" -ge 100000 ] && [ "$reused" -ge $((created / 2)) ]
}

# Per-packet loss marking: with a tiny ring buffer under a flood, the next
# event of a packet that lost events says how many ("lost" in skb-tracking).
test_tracking_loss_marking() {
	topo_pair || return 1
	ip netns exec $NS_A ping -f -w 4 10.201.0.2 >/dev/null 2>&1 &
	local ping=$!
	"$RETISC" collect -c skb-tracking $IFDUMP --ring-size 4096 -o "$TMP/loss.json" \
		--cmd "sleep 3" >"$TMP/loss.log" 2>&1 || { cat "$TMP/loss.log"; return 1; }
	kill $ping 2>/dev/null; wait $ping 2>/dev/null
	local total
	total=$(grep -o 'total events lost: [0-9]*' "$TMP/loss.log" | grep -o '[0-9]*$')
	[ -n "$total" ] || { cat "$TMP/loss.log"; return 1; }
	$CHECK lost "$TMP/loss.json" "$total"
}

# Head reallocation (tracepoint mode): a packet forwarded by the middle
# namespace into a VXLAN tunnel arrives with less headroom than the outer
# headers need, so vxlan_xmit's skb_cow_head() -> pskb_expand_head() gives it
# a new data buffer. The id must survive (skb-address continuity, V2): each
# request shows 6 events with one id (xmit A, receive M, xmit vx0, xmit under
# the new head, receive B, receive vx0 after decap).
test_tracking_head_realloc() {
	topo_dnat || return 1
	ip netns exec $NS_M nft delete table ip retisc_test
	ip -n $NS_M link add vx-t type vxlan id 42 local 10.210.2.254 remote 10.210.2.2 \
		dstport 4789 dev veth-dmb &&
		ip -n $NS_B link add vx-t type vxlan id 42 local 10.210.2.2 remote 10.210.2.254 \
			dstport 4789 dev veth-db &&
		ip -n $NS_M addr add 10.210.3.1/24 dev vx-t && ip -n $NS_B addr add 10.210.3.2/24 dev vx-t &&
		ip -n $NS_M link set vx-t up && ip -n $NS_B link set vx-t up &&
		ip -n $NS_B route add 10.210.1.0/24 via 10.210.3.1 dev vx-t || return 1
	# Resolve neighbours first: a packet parked in an ARP queue is not the
	# path under test.
	ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.210.3.2 >/dev/null
	"$RETISC" collect -c skb-tracking $IFDUMP --tracking-report -o "$TMP/realloc.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.210.3.2" >"$TMP/realloc.log" 2>&1 ||
		{ cat "$TMP/realloc.log"; return 1; }
	ip netns del $NS_M
	grep -q "Command returned (exit status: 0)" "$TMP/realloc.log" &&
		grep -qE "head changes followed [3-9]" "$TMP/realloc.log" ||
		{ cat "$TMP/realloc.log"; return 1; }
	$CHECK realloc "$TMP/realloc.json"
}

# Each feature adds its tests as tests/live/<feature>.sh (test_* functions,
# using the helpers above).
for f in "$HERE"/live/*.sh; do
	[ -e "$f" ] && . "$f"
done

# RETISC_LIVE_ONLY=REGEX runs only the tests whose name matches.
for t in $(declare -F | awk '{print $3}' | grep '^test_' | grep -E "${RETISC_LIVE_ONLY:-.}"); do
	run_test "$t"
done
echo
if [ $FAIL -gt 0 ]; then
	echo "failed: ${FAILED[*]}"
fi
echo "$PASS passed, $FAIL failed"
[ $FAIL = 0 ]
