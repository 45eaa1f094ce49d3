# Live tests of -f and -m (sourced by tests/run-live.sh).

# Only matching packets produce events; with a filter nothing matches,
# without one everything does.
test_filter_packet_selects() {
	topo_pair || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -f 'host 10.201.0.99' -o "$TMP/f-none.json" \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" >"$TMP/f-none.log" 2>&1 ||
		{ cat "$TMP/f-none.log"; return 1; }
	grep -q "L2+L3 packet filter(s) loaded" "$TMP/f-none.log" || { cat "$TMP/f-none.log"; return 1; }
	[ "$(wc -l <"$TMP/f-none.json")" = 1 ] || { echo "events despite a filter matching nothing"; return 1; }
	"$RETISC" collect -c skb-tracking $IFDUMP -f 'icmp and host 10.201.0.2' -o "$TMP/f-icmp.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/f-icmp.log" 2>&1 ||
		{ cat "$TMP/f-icmp.log"; return 1; }
	$CHECK ping-tracking "$TMP/f-icmp.json"
}

# The filter decides at first sight: a request matched on its pre-DNAT
# destination is still followed after DNAT rewrote it; replies never match.
test_filter_follows_dnat() {
	topo_dnat || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -f 'dst host 10.210.9.100' -o "$TMP/f-dnat.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.210.9.100" >"$TMP/f-dnat.log" 2>&1 ||
		{ cat "$TMP/f-dnat.log"; return 1; }
	ip netns del $NS_M
	grep -q "Command returned (exit status: 0)" "$TMP/f-dnat.log" || { cat "$TMP/f-dnat.log"; return 1; }
	python3 "$HERE/live/check_filters.py" dnat-requests-only "$TMP/f-dnat.json"
}

test_filter_bad_input() {
	expect_fail 1 "Could not compile the filter: libpcap error: " \
		"$RETISC" collect -c skb-tracking $IFDUMP -f 'tcp port' --cmd true || return 1
	expect_fail 2 "cannot be used multiple times" \
		"$RETISC" collect -c skb-tracking $IFDUMP -f tcp -f udp --cmd true || return 1
	local big="ip[0] = 1"
	for i in $(seq 2 600); do big="$big or ip[$i] = $((i % 256))"; done
	expect_fail 1 "Filter exceeds the maximum allowed size" \
		"$RETISC" collect -c skb-tracking $IFDUMP -f "$big" --cmd true || return 1
}

# Permanent neighbour entries and no IPv6 (router solicitations, MLD): no
# other traffic to count next to the pings.
static_neigh() {
	local ma mb
	ip netns exec $NS_A sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.veth-ta.disable_ipv6=1 &&
		ip netns exec $NS_B sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.veth-tb.disable_ipv6=1 || return 1
	ma=$(ip -n $NS_A -j link show veth-ta | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
	mb=$(ip -n $NS_B -j link show veth-tb | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
	ip -n $NS_A neigh replace 10.201.0.2 lladdr "$mb" dev veth-ta nud permanent &&
		ip -n $NS_B neigh replace 10.201.0.1 lladdr "$ma" dev veth-tb nud permanent
}

# -m on the device name: matching and non-matching names.
test_filter_meta_dev_name() {
	topo_pair && static_neigh || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -m 'sk_buff.dev.name == "veth-nope"' -o "$TMP/m-none.json" \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" >"$TMP/m-none.log" 2>&1 ||
		{ cat "$TMP/m-none.log"; return 1; }
	[ "$(wc -l <"$TMP/m-none.json")" = 1 ] || { echo "events for a device that does not exist"; return 1; }
	"$RETISC" collect -c skb-tracking $IFDUMP -m 'sk_buff.dev.name == "veth-ta"' -o "$TMP/m-dev.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/m-dev.log" 2>&1 ||
		{ cat "$TMP/m-dev.log"; return 1; }
	# Requests are matched when sent on veth-ta (2 events each, followed
	# into the other namespace); replies only when received on veth-ta.
	python3 "$HERE/live/check_filters.py" series-shapes "$TMP/m-dev.json" \
		"net:net_dev_start_xmit,net:netif_receive_skb=3" "net:netif_receive_skb=3"
}

# -m on skb->mark set by an nft rule on the sender: only marked requests.
test_filter_meta_mark() {
	topo_pair && static_neigh || return 1
	ip netns exec $NS_A nft -f - <<-EOF2 || return 1
		table ip retisc_mark {
			chain out {
				type route hook output priority 0;
				icmp type echo-request meta mark set 0x10
			}
		}
	EOF2
	"$RETISC" collect -c skb-tracking $IFDUMP -m 'sk_buff.mark == 0x10' -o "$TMP/m-mark.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/m-mark.log" 2>&1 ||
		{ cat "$TMP/m-mark.log"; return 1; }
	python3 "$HERE/live/check_filters.py" series-shapes "$TMP/m-mark.json" \
		"net:net_dev_start_xmit,net:netif_receive_skb=3"
}

# -m on the network namespace inode of the device: only packets first seen
# on a device of the receiving namespace.
test_filter_meta_netns() {
	topo_pair && static_neigh || return 1
	local inum
	inum=$(stat -L -c %i /run/netns/$NS_B) || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -m "sk_buff.dev.nd_net.net.ns.inum == $inum" \
		-o "$TMP/m-ns.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/m-ns.log" 2>&1 ||
		{ cat "$TMP/m-ns.log"; return 1; }
	python3 "$HERE/live/check_filters.py" series-shapes "$TMP/m-ns.json" \
		"net:netif_receive_skb=3" "net:net_dev_start_xmit,net:netif_receive_skb=3"
}

test_filter_meta_bad_input() {
	expect_fail 1 "meta filter: field nope not found in type sk_buff" \
		"$RETISC" collect -c skb-tracking $IFDUMP -m 'sk_buff.nope == 1' --cmd true || return 1
	expect_fail 1 "meta filter: wrong comparison operator. Only '==' and '!=' are supported for strings." \
		"$RETISC" collect -c skb-tracking $IFDUMP -m 'sk_buff.dev.name < "eth0"' --cmd true || return 1
	expect_fail 1 "meta filter: " \
		"$RETISC" collect -c skb-tracking $IFDUMP -m 'sk_buff.mark ==' --cmd true || return 1
}
