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

# 30 short connections and one 400 kB transfer, filtered as a user would:
# 0 ids holding two segments (it was 103 of 146 before the kmem end of life
# and the identity guard).
test_tracking_tcp() {
	topo_pair || return 1
	tcp_server 8080 30 || return 1
	"$RETISC" collect -c skb-tracking,skb --tracking-report ${TRK_EXTRA:-} -f 'tcp port 8080' \
		-o "$TMP/tcp-trk.json" \
		--cmd "ip netns exec $NS_A $TCP_PEER short 10.201.0.2 8080 30 &&
		       ip netns exec $NS_A $TCP_PEER bulk 10.201.0.2 8080 400000" \
		>"$TMP/tcp-trk.log" 2>&1
	local st=$?
	stop_server
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" "$TMP/tcp-trk.log" ||
		{ cat "$TMP/tcp-trk.log"; return 1; }
	grep "tracking: " "$TMP/tcp-trk.log"
	$TRK_CHECK tcp "$TMP/tcp-trk.json" 200
}

# Retransmissions: the receiver drops every 4th segment of port 8081 (nft
# numgen), the sender retransmits from the buffer it kept. Drops are seen
# too (skb-drop), with the segment's id.
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
	tcp_server 8081 30 || return 1
	"$RETISC" collect -c skb-tracking,skb,skb-drop --tracking-report -f 'tcp port 8081' \
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
	"$RETISC" collect -c skb-tracking,skb --tracking-report -f 'icmp or udp port 9999' \
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
