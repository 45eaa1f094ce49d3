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
