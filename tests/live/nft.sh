# nft collector live tests, netlink path (sourced by tests/run-live.sh;
# doc/collectors.md §7.7): on this kernel kprobes do not attach, so nft
# verdicts come from nf_tables' trace messages. Namespaces A and B of
# topo_pair; B drops echo requests in an input chain. The kprobe path runs
# in the VM lane (tests/vm/init.sh).
NFT_CHECK="python3 $HERE/live/check_nft.py"
NFT_COLS="-c skb-tracking,skb,skb-drop,nft"
NFT_PROBES="-p tp:net:net_dev_start_xmit -p tp:net:netif_receive_skb"

# B's table: an input chain dropping echo requests (first argument: rules
# to put before the drop).
nft_drop_table() {
	ip netns exec $NS_B nft -f - <<-EOF
		table inet retisc_nft_t {
			chain in {
				type filter hook input priority 0;
				${1:-}
				icmp type echo-request counter drop
			}
		}
	EOF
}

# "TABLE CHAIN RULE" handles of B's drop rule, as `nft -a list` prints them.
nft_handles() {
	ip netns exec $NS_B nft -a list table inet retisc_nft_t | awk '
		/^table / { t = $NF } /chain in / { c = $NF } /drop # handle/ { r = $NF }
		END { if (t == "" || c == "" || r == "") exit 1; print t, c, r }'
}

# How many retisc_trace tables A and B hold.
nft_trace_tables() {
	for ns in $NS_A $NS_B; do ip netns exec $ns nft list tables; done |
		grep -c "^table inet retisc_trace$"
}

# The netlink path is what these tests check: skip where kprobes attach.
nft_netlink_used() { # <log>
	if grep -q "skb tracking uses kprobes" "$1"; then
		echo "kprobes attach here: the netlink path is not used (the VM lane tests the kprobe path)"
		return $SKIP
	fi
	grep -q "nft: kprobes unavailable, reading nf_tables trace messages" "$1" ||
		{ cat "$1"; return 1; }
}

# Every dropped echo request's series: xmit, receive, the nft drop with the
# table, chain and rule handles nft printed, then its NETFILTER_DROP, under
# one id; the trace tables added in both namespaces are gone after.
test_nft_netlink_drop() {
	local h st
	topo_pair && nft_drop_table || return 1
	h=$(nft_handles) || return 1
	"$RETISC" collect $NFT_COLS --allow-system-changes -f icmp $NFT_PROBES -o "$TMP/nft.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -W 1 10.201.0.2" >"$TMP/nft.log" 2>&1
	st=$?
	nft_netlink_used "$TMP/nft.log" || return $?
	[ $st = 0 ] && grep -q "Command returned (exit status: 1)" "$TMP/nft.log" ||
		{ cat "$TMP/nft.log"; return 1; }
	"$RETISC" sort -o "$TMP/nft.series" "$TMP/nft.json" || return 1
	$NFT_CHECK "$TMP/nft.series" --table retisc_nft_t --chain in --handles "$h" --requests 3 ||
		{ cat "$TMP/nft.log"; return 1; }
	grep "trace message(s) read" "$TMP/nft.log"
	[ "$(nft_trace_tables)" = 0 ]
}

# The text: the nft line in each request's series, with the trace id.
test_nft_netlink_text() {
	[ -s "$TMP/nft.json" ] || test_nft_netlink_drop >/dev/null || return $?
	"$RETISC" sort "$TMP/nft.json" >"$TMP/nft.txt" || return 1
	[ "$(grep -cE "^  ↳ [0-9]+ #[0-9a-f]+ \(skb [0-9a-f]+\) n 2\$" "$TMP/nft.txt")" = 3 ] &&
		[ "$(grep -cE "^      table retisc_nft_t \([0-9]+\) chain in \([0-9]+\) handle [0-9]+ drop \(trace 0x[0-9a-f]{8}, matched by content\)\$" \
			"$TMP/nft.txt")" = 3 ] || { cat "$TMP/nft.txt"; return 1; }
	"$RETISC" stats "$TMP/nft.json" 2>&1 | grep -q "^  netlink/nf_tables:trace: 3$"
}

# During a run both namespaces hold the trace table; after the end of
# --cmd neither does.
test_nft_netlink_tables_cmd() {
	local st
	topo_pair || return 1
	"$RETISC" collect $NFT_COLS --allow-system-changes $NFT_PROBES \
		--cmd "ip netns exec $NS_A nft list tables >$TMP/nft-during; ip netns exec $NS_B nft list tables >>$TMP/nft-during" \
		>"$TMP/nft-cmd.log" 2>&1
	st=$?
	nft_netlink_used "$TMP/nft-cmd.log" || return $?
	[ $st = 0 ] || { cat "$TMP/nft-cmd.log"; return 1; }
	[ "$(grep -c "^table inet retisc_trace$" "$TMP/nft-during")" = 2 ] ||
		{ cat "$TMP/nft-during"; return 1; }
	[ "$(nft_trace_tables)" = 0 ]
}

# SIGINT and SIGTERM: the tables are removed on the way out.
test_nft_netlink_tables_signals() {
	local sig pid i
	topo_pair || return 1
	for sig in INT TERM; do
		"$RETISC" collect $NFT_COLS --allow-system-changes $NFT_PROBES \
			-o "$TMP/nft-$sig.json" >"$TMP/nft-$sig.log" 2>&1 &
		pid=$!
		for i in $(seq 100); do
			[ "$(nft_trace_tables)" = 2 ] && grep -q "probe(s) loaded" "$TMP/nft-$sig.log" &&
				break
			sleep 0.2
		done
		[ "$(nft_trace_tables)" = 2 ] || { kill $pid; cat "$TMP/nft-$sig.log"; return 1; }
		kill -$sig $pid
		wait $pid || { cat "$TMP/nft-$sig.log"; return 1; }
		nft_netlink_used "$TMP/nft-$sig.log" || return $?
		[ "$(nft_trace_tables)" = 0 ] || { echo "left after SIG$sig"; return 1; }
		grep -q "trace message(s) read" "$TMP/nft-$sig.log" || { cat "$TMP/nft-$sig.log"; return 1; }
	done
}

# SIGKILL (doc/collectors.md §7.8): the cleanup guardian removes the trace
# tables retisc added, in its own namespace (M here, so that other runs'
# tables in the root namespace do not matter) and in A and B, within a few
# seconds; then it is gone itself.
test_nft_netlink_sigkill_guardian() {
	local pid gpid i n
	topo_pair && ip netns add $NS_M || return 1
	ip netns exec $NS_M "$RETISC" collect $NFT_COLS --allow-system-changes $NFT_PROBES \
		-o "$TMP/nft-kill.json" >"$TMP/nft-kill.log" 2>&1 &
	pid=$!
	for i in $(seq 100); do
		grep -q "probe(s) loaded" "$TMP/nft-kill.log" && break
		sleep 0.2
	done
	nft_netlink_used "$TMP/nft-kill.log" || { kill $pid; wait $pid; return 1; }
	n=$(ip netns exec $NS_M nft list tables | grep -c "^table inet retisc_trace$")
	gpid=$(pgrep -P $pid -x retisc-nftguard)
	[ "$(nft_trace_tables)" = 2 ] && [ "$n" = 1 ] && [ -n "$gpid" ] ||
		{ kill $pid; wait $pid; echo "tables or guardian missing"; cat "$TMP/nft-kill.log"; return 1; }
	kill -KILL $pid
	wait $pid 2>/dev/null
	for i in $(seq 50); do
		n=$(ip netns exec $NS_M nft list tables | grep -c "^table inet retisc_trace$")
		[ "$(nft_trace_tables)" = 0 ] && [ "$n" = 0 ] && break
		sleep 0.1
	done
	[ "$(nft_trace_tables)" = 0 ] && [ "$n" = 0 ] ||
		{ echo "trace tables left after SIGKILL: A+B $(nft_trace_tables), own $n"; return 1; }
	# The guardian exits once done.
	for i in $(seq 20); do
		kill -0 $gpid 2>/dev/null || return 0
		sleep 0.1
	done
	echo "the guardian $gpid still runs"
	return 1
}

# A start-up failure after the collector's init (an unknown probe): the
# tables it added are removed.
test_nft_netlink_tables_startup_failure() {
	local st
	topo_pair || return 1
	"$RETISC" collect $NFT_COLS --allow-system-changes $NFT_PROBES -p tp:nope:nope \
		--cmd true >"$TMP/nft-fail.log" 2>&1
	st=$?
	nft_netlink_used "$TMP/nft-fail.log" || return $?
	[ $st = 1 ] && grep -q "nope:nope" "$TMP/nft-fail.log" &&
		grep -q "trace table inet retisc_trace added" "$TMP/nft-fail.log" ||
		{ cat "$TMP/nft-fail.log"; return 1; }
	[ "$(nft_trace_tables)" = 0 ]
}

# A table a killed run left behind is replaced at the next start, and
# removed at its end.
test_nft_netlink_stale_table() {
	local st
	topo_pair || return 1
	ip netns exec $NS_B nft add table inet retisc_trace &&
		ip netns exec $NS_B nft add chain inet retisc_trace stale || return 1
	"$RETISC" collect $NFT_COLS --allow-system-changes $NFT_PROBES \
		--cmd "ip netns exec $NS_B nft list table inet retisc_trace >$TMP/nft-stale" \
		>"$TMP/nft-stale.log" 2>&1
	st=$?
	nft_netlink_used "$TMP/nft-stale.log" || return $?
	[ $st = 0 ] || { cat "$TMP/nft-stale.log"; return 1; }
	grep -q "chain pre" "$TMP/nft-stale" && grep -q "chain out" "$TMP/nft-stale" &&
		! grep -q "chain stale" "$TMP/nft-stale" || { cat "$TMP/nft-stale"; return 1; }
	[ "$(nft_trace_tables)" = 0 ]
}

# Without --allow-system-changes nothing is added and an info line says to
# mark the packets yourself; the collector still listens: with the user's
# own `meta nftrace set 1` the drops are reported.
test_nft_netlink_no_system_changes() {
	local h st
	topo_pair && nft_drop_table "meta nftrace set 1" || return 1
	h=$(nft_handles) || return 1
	"$RETISC" collect $NFT_COLS -f icmp $NFT_PROBES -o "$TMP/nft-own.json" \
		--cmd "ip netns exec $NS_A nft list tables >$TMP/nft-own-during; ip netns exec $NS_B nft list tables >>$TMP/nft-own-during; ip netns exec $NS_A ping -c 3 -W 1 10.201.0.2" \
		>"$TMP/nft-own.log" 2>&1
	st=$?
	nft_netlink_used "$TMP/nft-own.log" || return $?
	[ $st = 0 ] || { cat "$TMP/nft-own.log"; return 1; }
	grep -q "nft: no trace table added (see help for --allow-system-changes)" \
		"$TMP/nft-own.log" || { cat "$TMP/nft-own.log"; return 1; }
	! grep -q retisc_trace "$TMP/nft-own-during" || { cat "$TMP/nft-own-during"; return 1; }
	"$RETISC" sort -o "$TMP/nft-own.series" "$TMP/nft-own.json" || return 1
	$NFT_CHECK "$TMP/nft-own.series" --table retisc_nft_t --chain in --handles "$h" --requests 3 ||
		{ cat "$TMP/nft-own.log"; return 1; }
}

# -f applies to trace messages: with a filter the pings do not match, their
# drops are read but not reported.
test_nft_netlink_filter() {
	local st
	topo_pair && nft_drop_table || return 1
	"$RETISC" collect $NFT_COLS --allow-system-changes -f 'icmp and host 10.201.0.9' \
		$NFT_PROBES -o "$TMP/nft-f.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -W 1 10.201.0.2" >"$TMP/nft-f.log" 2>&1
	st=$?
	nft_netlink_used "$TMP/nft-f.log" || return $?
	[ $st = 0 ] || { cat "$TMP/nft-f.log"; return 1; }
	! grep -q '"nft"' "$TMP/nft-f.json" &&
		grep -qE "nft: [0-9]+ trace message\(s\) read, 0 event\(s\).*, ([3-9]|[1-9][0-9]+) by -f," \
			"$TMP/nft-f.log" || { cat "$TMP/nft-f.log"; return 1; }
}
