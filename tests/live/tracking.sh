# Tracking ids on the traffic users trace (sourced by tests/run-live.sh):
# TCP connections, a bulk transfer, retransmissions, UDP and ICMP floods.
# Every id must hold exactly one packet (check_tracking.py parses the
# packets itself). The report line says which end of life acted.
TRK_CHECK="python3 $HERE/live/check_tracking.py"
TCP_PEER="python3 $HERE/live/tcp_peer.py"

# tcp_server <port> <seconds>: tcp_peer.py server in $NS_B, pid in $SERVER.
tcp_server() {
	ip netns exec $NS_B $TCP_PEER server 10.201.0.2 "$1" "$2" &
	SERVER=$!
	ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2 >/dev/null || return 1
	sleep 0.3
}

stop_server() {
	kill $SERVER 2>/dev/null
	wait $SERVER 2>/dev/null
}

# tcp_ids <name> <collect options...>: 30 short connections and one 400 kB
# transfer through the veth pair of topo_pair, filtered on the port as a
# user would; the log is $TMP/<name>.log, the events $TMP/<name>.json.
tcp_ids() {
	local name=$1 st
	shift
	tcp_server 8080 30 || return 1
	"$RETISC" collect -c skb-tracking,skb $IFDUMP --tracking-report -f 'tcp port 8080' "$@" \
		-o "$TMP/$name.json" \
		--cmd "ip netns exec $NS_A $TCP_PEER short 10.201.0.2 8080 30 &&
		       ip netns exec $NS_A $TCP_PEER bulk 10.201.0.2 8080 400000" \
		>"$TMP/$name.log" 2>&1
	st=$?
	stop_server
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" "$TMP/$name.log" ||
		{ cat "$TMP/$name.log"; return 1; }
	grep "tracking" "$TMP/$name.log"
}

# 0 ids holding two segments (103 of 146 before the kmem end of life and
# the identity guard). The kmem programs end the acknowledged segments that
# TCP frees without an skb tracepoint, so the guard has nothing left to do.
test_tracking_tcp() {
	topo_pair || return 1
	tcp_ids tcp-trk || return 1
	grep -qE "kmem [1-9][0-9]*, identity guard 0," "$TMP/tcp-trk.log" || return 1
	$TRK_CHECK tcp "$TMP/tcp-trk.json" 200
}

# Each mechanism alone is enough: kmem without the guard, the guard without
# kmem (it then replaces what V1 caught and more).
test_tracking_tcp_kmem_only() {
	topo_pair || return 1
	tcp_ids tcp-kmem --tracking-guard off || return 1
	grep -qE "kmem [1-9][0-9]*, identity guard 0," "$TMP/tcp-kmem.log" || return 1
	$TRK_CHECK tcp "$TMP/tcp-kmem.json" 200
}

test_tracking_tcp_guard_only() {
	topo_pair || return 1
	tcp_ids tcp-guard --tracking-kmem off || return 1
	grep -qE "kmem 0, identity guard [1-9]" "$TMP/tcp-guard.log" || return 1
	$TRK_CHECK tcp "$TMP/tcp-guard.json" 200
}

# Page-fragment heads, the identity guard's own ground: with an XDP program
# on both veths, veth copies every received skb into a page-backed one
# (head_frag), and TCP receive coalescing steals such heads. Their pages
# are freed without kmem:kfree/kmem_cache_free, so only the guard can tell
# when a new packet lands on a fragment address an entry still holds.
test_tracking_tcp_frag_heads() {
	clang -O2 -g -target bpf -I"$BUILD" -c "$HERE/vm/xdp_pass.bpf.c" \
		-o "$TMP/xdp_pass.bpf.o" || return 1
	topo_pair || return 1
	ip -n $NS_A link set dev veth-ta xdp obj "$TMP/xdp_pass.bpf.o" sec xdp &&
		ip -n $NS_B link set dev veth-tb xdp obj "$TMP/xdp_pass.bpf.o" sec xdp || return 1
	tcp_ids tcp-frag || return 1
	$TRK_CHECK tcp "$TMP/tcp-frag.json" 200
}

# The control: with both off the check must see the old defect, or it
# proves nothing.
test_tracking_tcp_control() {
	topo_pair || return 1
	tcp_ids tcp-ctl --tracking-kmem off --tracking-guard off || return 1
	local out
	out=$($TRK_CHECK tcp "$TMP/tcp-ctl.json" 200) && { echo "no merged id: $out"; return 1; }
	echo "$out"
	grep -q "ids hold more than one TCP segment" <<<"$out"
}

# A TCP receiver behind a tap device, as a VM is: tap_peer.py ACKs each of
# 20 segments of a namespace socket with a pure ACK written into the tap.
# The kernel builds each one in the writer's page fragment (the same head
# once the previous ACK is gone) and TCP frees it without an skb or kmem
# tracepoint; the ACKs share their sequence number, so only the identity's
# ack number tells them apart (guard on: 20 ids; off: they merge, as all
# did in one id before the ack number was part of a pure ACK's identity).
# tap_acks <name> <collect options...>
tap_acks() {
	local name=$1 st
	shift
	ip netns del $NS_A 2>/dev/null
	ip netns add $NS_A && ip -n $NS_A tuntap add dev tap-ack mode tap &&
		ip -n $NS_A addr add 10.202.0.1/24 dev tap-ack && ip -n $NS_A link set tap-ack up &&
		ip -n $NS_A link set lo up &&
		ip -n $NS_A neigh add 10.202.0.2 lladdr 02:00:00:00:02:02 dev tap-ack nud permanent ||
		return 1
	"$RETISC" collect -c skb-tracking,skb $IFDUMP --tracking-mode tracepoint --tracking-report \
		-f 'tcp port 8090' -o "$TMP/$name.json" "$@" \
		--cmd "ip netns exec $NS_A python3 $HERE/live/tap_peer.py tap-ack 10.202.0.1 10.202.0.2 \
		       02:00:00:00:02:02 8090 20" >"$TMP/$name.log" 2>&1
	st=$?
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" "$TMP/$name.log" ||
		{ cat "$TMP/$name.log"; return 1; }
	grep "tracking" "$TMP/$name.log"
}

test_tracking_tap_acks() {
	[ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return $SKIP; }
	tap_acks tap-acks || return 1
	grep -qE "identity guard [1-9][0-9]," "$TMP/tap-acks.log" || return 1
	$TRK_CHECK acks "$TMP/tap-acks.json" 20 8090 || return 1
	# The control: the same ACKs merge without the guard.
	tap_acks tap-acks-ctl --tracking-guard off || return 1
	local out
	out=$($TRK_CHECK acks "$TMP/tap-acks-ctl.json" 20 8090) &&
		{ echo "no merged id without the guard: $out"; return 1; }
	echo "control: $out"
	grep -q "20 pure ACKs received (want 20) under" <<<"$out"
}

# Retransmissions: the receiver drops every 4th segment of port 8081 (nft
# numgen); the sender retransmits each from the buffer it kept (a new clone,
# which must keep the id) or from a copy (a new buffer, a new id). Drops are
# seen too (skb-drop), with the segment's id.
test_tracking_tcp_retrans() {
	topo_pair || return 1
	ip netns exec $NS_B nft -f - <<-EOF || return 1
		table inet retisc_loss {
			chain input {
				type filter hook input priority 0;
				tcp dport 8081 tcp flags & (syn | fin) == 0 numgen inc mod 4 == 0 drop
			}
		}
	EOF
	# MSS-sized segments (no TSO/GSO): many to drop, many retransmitted.
	ip netns exec $NS_A ethtool -K veth-ta tso off gso off >/dev/null || return 1
	tcp_server 8081 30 || return 1
	"$RETISC" collect -c skb-tracking,skb,skb-drop $IFDUMP --tracking-report -f 'tcp port 8081' \
		-o "$TMP/retrans.json" \
		--cmd "ip netns exec $NS_A $TCP_PEER bulk 10.201.0.2 8081 400000" \
		>"$TMP/retrans.log" 2>&1
	local st=$?
	stop_server
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" "$TMP/retrans.log" ||
		{ cat "$TMP/retrans.log"; return 1; }
	grep "tracking: " "$TMP/retrans.log"
	grep -q '"drop_reason":"NETFILTER_DROP"' "$TMP/retrans.json" ||
		{ echo "no NETFILTER_DROP event"; return 1; }
	$TRK_CHECK tcp "$TMP/retrans.json" 20 8081
}

# Floods through the veth pair: buffers are recycled at once, so each new
# packet lands on an address a previous one just left.
test_tracking_floods() {
	topo_pair || return 1
	ip netns exec $NS_B $TCP_PEER udp-sink 10.201.0.2 9999 30 &
	local sink=$!
	ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2 >/dev/null || return 1
	"$RETISC" collect -c skb-tracking,skb $IFDUMP --tracking-report -f 'icmp or udp port 9999' \
		-o "$TMP/floods.json" \
		--cmd "ip netns exec $NS_A ping -f -c 3000 -s 64 10.201.0.2 >/dev/null &
		       ip netns exec $NS_A $TCP_PEER udp 10.201.0.2 9999 3000; wait" \
		>"$TMP/floods.log" 2>&1
	local st=$?
	kill $sink 2>/dev/null
	wait $sink 2>/dev/null
	[ $st = 0 ] || { cat "$TMP/floods.log"; return 1; }
	grep "tracking: " "$TMP/floods.log"
	$TRK_CHECK flood "$TMP/floods.json" 1000
}

# Bad values of the tracking switches: a clear error naming option and value.
test_tracking_options_bad() {
	expect_fail 2 "invalid value 'maybe' for '--tracking-guard' \(on, off\)" \
		"$RETISC" collect --tracking-guard maybe --cmd true || return 1
	expect_fail 2 "invalid value '' for '--tracking-kmem' \(on, off\)" \
		"$RETISC" collect --tracking-kmem '' --cmd true || return 1
	expect_fail 2 "'--tracking-kmem' cannot be used multiple times" \
		"$RETISC" collect --tracking-kmem on --tracking-kmem off --cmd true
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
