# skb-drop collector live tests (sourced by tests/run-live.sh): real drops
# in the veth pair of topo_pair, with the reason the kernel gives.
DROP_CHECK="python3 $HERE/live/check_skb_drop.py"

# The skb collector is written separately: use it when it is installed.
drop_collectors() {
	if "$RETISC" plugin list 2>/dev/null | grep -q "collector skb "; then
		echo skb-tracking,skb,skb-drop
	else
		echo "note: no skb collector yet, testing with skb-tracking,skb-drop" >&2
		echo skb-tracking,skb-drop
	fi
}

# A TCP SYN to a closed port is freed with NO_SOCKET, under the id it had
# on its way in (net_dev_start_xmit on veth-ta, netif_receive_skb on veth-tb).
test_skb_drop_no_socket() {
	topo_pair || return 1
	"$RETISC" collect -c skb-tracking,skb-drop $IFDUMP -o "$TMP/drop-nosock.json" \
		--cmd "ip netns exec $NS_A nc -z -w1 10.201.0.2 81" >"$TMP/drop-nosock.log" 2>&1 ||
		{ cat "$TMP/drop-nosock.log"; return 1; }
	grep -q "Command returned (exit status: 1)" "$TMP/drop-nosock.log" ||
		{ cat "$TMP/drop-nosock.log"; return 1; }
	$DROP_CHECK "$TMP/drop-nosock.json" NO_SOCKET --tracked
}

# The text puts the reason on the first line, after the tracking id.
test_skb_drop_print() {
	[ -s "$TMP/drop-nosock.json" ] || test_skb_drop_no_socket || return 1
	"$RETISC" print "$TMP/drop-nosock.json" >"$TMP/drop-nosock.txt" || return 1
	local id='#[0-9a-f]+ \(skb [0-9a-f]+\)'
	grep -qE "^[0-9]+ \([0-9]+\) \[nc\] [0-9]+ \[tp\] skb:kfree_skb $id drop \(reason NO_SOCKET\)\$" \
		"$TMP/drop-nosock.txt" || { cat "$TMP/drop-nosock.txt"; return 1; }
	"$RETISC" print --format single-line "$TMP/drop-nosock.json" |
		grep -qE "\[tp\] skb:kfree_skb $id drop \(reason NO_SOCKET\)"
}

# An nft rule dropping echo requests in the receiving namespace.
test_skb_drop_netfilter() {
	local cols
	topo_pair || return 1
	cols=$(drop_collectors)
	ip netns exec $NS_B nft add table inet t &&
		ip netns exec $NS_B nft add chain inet t in '{ type filter hook input priority 0; }' &&
		ip netns exec $NS_B nft add rule inet t in icmp type echo-request drop || return 1
	"$RETISC" collect -c "$cols" $IFDUMP -o "$TMP/drop-nft.json" \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" >"$TMP/drop-nft.log" 2>&1 ||
		{ cat "$TMP/drop-nft.log"; return 1; }
	# No reply may get through the rule.
	grep -q "Command returned (exit status: 1)" "$TMP/drop-nft.log" ||
		{ cat "$TMP/drop-nft.log"; return 1; }
	# With the skb collector the dropped packet must be an echo request.
	$DROP_CHECK "$TMP/drop-nft.json" NETFILTER_DROP --tracked --icmp-echo
}

# The documented command line, with the packet collector: the dropped
# packet is the SYN to port 81.
test_skb_drop_with_skb() {
	local cols
	topo_pair || return 1
	cols=$(drop_collectors)
	"$RETISC" collect -c "$cols" $IFDUMP -o "$TMP/drop-skb.json" \
		--cmd "ip netns exec $NS_A nc -z -w1 10.201.0.2 81" >"$TMP/drop-skb.log" 2>&1 ||
		{ cat "$TMP/drop-skb.log"; return 1; }
	if [ "$cols" = skb-tracking,skb,skb-drop ]; then
		$DROP_CHECK "$TMP/drop-skb.json" NO_SOCKET --tracked --packet --tcp-dport 81
	else
		$DROP_CHECK "$TMP/drop-skb.json" NO_SOCKET --tracked
	fi
}

# Drop-monitor style: skb-drop alone (no tracking: it knows no sk_buff) and
# a stack on kfree_skb, merged with the collector's own probe.
test_skb_drop_alone_with_stack() {
	topo_pair || return 1
	"$RETISC" collect -c skb-drop -p tp:skb:kfree_skb/stack -o "$TMP/drop-stack.json" \
		--cmd "ip netns exec $NS_A nc -z -w1 10.201.0.2 81" >"$TMP/drop-stack.log" 2>&1 ||
		{ cat "$TMP/drop-stack.log"; return 1; }
	grep -q "^1 probe(s) loaded" "$TMP/drop-stack.log" || { cat "$TMP/drop-stack.log"; return 1; }
	$DROP_CHECK "$TMP/drop-stack.json" NO_SOCKET --untracked --stack tcp_v4_rcv
}

# Registration as `plugin list` shows it, and an explicit -c skb-drop runs
# on this kernel (it has drop reasons).
test_skb_drop_plugin() {
	"$RETISC" plugin list | grep -q "collector skb-drop (2 hooks), section skb-drop (owner 5)" ||
		{ "$RETISC" plugin list; return 1; }
	"$RETISC" collect -c skb-drop --cmd true >"$TMP/drop-run.log" 2>&1 ||
		{ cat "$TMP/drop-run.log"; return 1; }
	! grep -q "Cannot run collector skb-drop" "$TMP/drop-run.log"
}
