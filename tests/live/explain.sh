# explain and report live tests (sourced by tests/run-live.sh): scenarios
# whose answer is known, collected for real, then `retisc explain --format
# json` checked by check_explain.py (doc/processing.md §7, §8).
XP_CHECK="python3 $HERE/live/check_explain.py"
# The collection doc/processing.md §7 recommends on this kernel.
XP_COLS=skb-tracking,skb,skb-drop,dev,ns,ct,nft
XP_PROBES="$IFDUMP -p tp:skb:consume_skb -p tp:skb:skb_copy_datagram_iovec"

xp_inum() { stat -L -c %i "/run/netns/$1"; }

# A -- B on one veth pair (veth-ta/veth-tb as topo_pair, addresses of their
# own: collect sees every namespace, and other tests may run topo_pair's
# addresses at the same time).
xp_pair() {
	topo_pair &&
		ip -n $NS_A addr flush dev veth-ta && ip -n $NS_B addr flush dev veth-tb &&
		ip -n $NS_A addr add 10.215.0.1/24 dev veth-ta &&
		ip -n $NS_B addr add 10.215.0.2/24 dev veth-tb
}

# A -- M -- B, forwarding in M as $1 (0 or 1).
xp_topo() {
	local fwd=$1
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns del $NS_M 2>/dev/null
	ip netns add $NS_A && ip netns add $NS_M && ip netns add $NS_B &&
		ip link add veth-xa netns $NS_A type veth peer name veth-xma netns $NS_M &&
		ip link add veth-xb netns $NS_B type veth peer name veth-xmb netns $NS_M &&
		ip -n $NS_A addr add 10.214.1.1/24 dev veth-xa &&
		ip -n $NS_M addr add 10.214.1.254/24 dev veth-xma &&
		ip -n $NS_M addr add 10.214.2.254/24 dev veth-xmb &&
		ip -n $NS_B addr add 10.214.2.2/24 dev veth-xb &&
		for l in "$NS_A veth-xa" "$NS_M veth-xma" "$NS_M veth-xmb" "$NS_B veth-xb" \
			"$NS_A lo" "$NS_M lo" "$NS_B lo"; do
			set -- $l
			ip -n "$1" link set "$2" up || return 1
		done &&
		ip -n $NS_A route add default via 10.214.1.254 &&
		ip -n $NS_B route add default via 10.214.2.254 &&
		ip netns exec $NS_M sysctl -qw net.ipv4.ip_forward="$fwd"
}

# xp_send NS DST PORT N: the command that sends N UDP datagrams from port
# 40001, 50 ms apart.
xp_send() {
	cat >"$TMP/xp_send.py" <<-'EOF'
		import socket, sys, time
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind(("0.0.0.0", 40001))
		for i in range(int(sys.argv[3])):
		    s.sendto(b"retisc-explain %d" % i, (sys.argv[1], int(sys.argv[2])))
		    time.sleep(0.05)
	EOF
	echo "ip netns exec $1 python3 $TMP/xp_send.py $2 $3 $4"
}

# xp_collect NAME COLLECTORS CMD: collect into $TMP/NAME.json, explain it
# into $TMP/NAME.jsonl. The file has no end-of-collection mark: a packet is
# in flight when it was last seen within --in-flight of the file's last
# event, so a pause and a last ping on lo make the scenario's packets old.
xp_collect() {
	"$RETISC" collect -c "$2" $XP_PROBES -o "$TMP/$1.json" \
		--cmd "$3; sleep 0.5; ip netns exec $NS_A ping -c 1 -W 1 127.0.0.1 >/dev/null" \
		>"$TMP/$1.log" 2>&1 || { cat "$TMP/$1.log"; return 1; }
	"$RETISC" explain --format json "$TMP/$1.json" >"$TMP/$1.jsonl" ||
		{ echo "explain failed"; return 1; }
}

# UDP to a closed port: dropped with NO_SOCKET in B, one series per datagram.
test_explain_no_socket() {
	xp_pair || return 1
	xp_collect xp-nosock $XP_COLS "$(xp_send $NS_A 10.215.0.2 9999 3)" ||
		return 1
	$XP_CHECK "$TMP/xp-nosock.jsonl" --match '^udp 10\.215\.0\.1:40001 > 10\.215\.0\.2:9999$' \
		--count 3 --fate dropped --reason NO_SOCKET --netns "$(xp_inum $NS_B)" \
		--dev veth-tb --last-probe skb:kfree_skb \
		--flow '^udp 10\.215\.0\.1:40001 <> 10\.215\.0\.2:9999$' --flow-fate dropped=3
}

# An nft rule in B drops the datagrams; a nftrace rule lets the nft collector
# name it (trace messages, no kprobes here).
test_explain_nft_rule() {
	local handle
	xp_pair || return 1
	ip netns exec $NS_B nft -f - <<-EOF || return 1
		table inet xpt {
			chain pre { type filter hook prerouting priority -300; udp dport 7777 meta nftrace set 1; }
			chain in { type filter hook input priority 0; udp dport 7777 counter drop; }
		}
	EOF
	handle=$(ip netns exec $NS_B nft -a list chain inet xpt in | sed -n 's/.*drop # handle \([0-9]*\)/\1/p')
	[ -n "$handle" ] || return 1
	xp_collect xp-nft $XP_COLS "$(xp_send $NS_A 10.215.0.2 7777 4)" ||
		return 1
	$XP_CHECK "$TMP/xp-nft.jsonl" --match '^udp 10\.215\.0\.1:40001 > 10\.215\.0\.2:7777$' \
		--count 4 --fate dropped --reason NETFILTER_DROP --netns "$(xp_inum $NS_B)" \
		--nft-re "^table xpt chain in handle $handle drop\$" \
		--flow '^udp 10\.215\.0\.1:40001 <> 10\.215\.0\.2:7777$' --flow-packets 4
}

# DNAT in M (10.214.9.100 -> B) for echo requests: each request is delivered
# in B with its destination rewritten, each reply delivered in A with its
# source rewritten back; one flow (conntrack's tuple) for both directions.
# (ICMP: a UDP datagram read by an application is not always seen freed on
# this kernel, doc/processing.md §7.3.)
test_explain_dnat() {
	xp_topo 1 || return 1
	ip netns exec $NS_M nft -f - <<-EOF || return 1
		table ip xpnat {
			chain pre {
				type nat hook prerouting priority dstnat;
				ip daddr 10.214.9.100 icmp type echo-request dnat to 10.214.2.2
			}
		}
	EOF
	xp_collect xp-dnat $XP_COLS "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.214.9.100" ||
		return 1
	$XP_CHECK "$TMP/xp-dnat.jsonl" --match '^icmp 10\.214\.1\.1 > 10\.214\.9\.100 id ' \
		--count 3 --fate delivered --netns "$(xp_inum $NS_B)" --dev veth-xb \
		--nat 'dst 10.214.9.100 -> 10.214.2.2' &&
		$XP_CHECK "$TMP/xp-dnat.jsonl" --match '^icmp 10\.214\.2\.2 > 10\.214\.1\.1 id ' \
			--count 3 --fate delivered --netns "$(xp_inum $NS_A)" --dev veth-xa \
			--nat 'src 10.214.2.2 -> 10.214.9.100' &&
		$XP_CHECK "$TMP/xp-dnat.jsonl" --flow '^icmp 10\.214\.1\.1 <> 10\.214\.9\.100 id ' \
			--flow-packets 6 --flow-fate delivered=6
}

# Forwarding disabled in M. With the drop collector the kernel says why
# (IP_INADDRERRORS in M); without it the packets vanish where they were last
# seen, the receive in M, and the first likely reason is forwarding.
test_explain_forward_disabled() {
	xp_topo 0 || return 1
	xp_collect xp-fwd $XP_COLS "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.214.2.2" ||
		return 1
	$XP_CHECK "$TMP/xp-fwd.jsonl" --match '^icmp 10\.214\.1\.1 > 10\.214\.2\.2 id ' \
		--count 3 --fate dropped --reason IP_INADDRERRORS --netns "$(xp_inum $NS_M)" \
		--dev veth-xma
}

test_explain_forward_vanished() {
	xp_topo 0 || return 1
	xp_collect xp-fwdv skb-tracking,skb,dev,ns \
		"ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.214.2.2" || return 1
	$XP_CHECK "$TMP/xp-fwdv.jsonl" --match '^icmp 10\.214\.1\.1 > 10\.214\.2\.2 id ' \
		--count 3 --fate vanished --last-probe net:netif_receive_skb \
		--netns "$(xp_inum $NS_M)" --dev veth-xma --vanished-at rx \
		--likely 'forwarding disabled'
}

# A filter in B drops its own echo replies: requests delivered, replies
# dropped by the rule, one flow for both.
test_explain_reply_filter() {
	xp_pair || return 1
	ip netns exec $NS_B nft add table inet xpr &&
		ip netns exec $NS_B nft add chain inet xpr out '{ type filter hook output priority 0; }' &&
		ip netns exec $NS_B nft add rule inet xpr out icmp type echo-reply drop || return 1
	xp_collect xp-reply $XP_COLS "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.215.0.2" ||
		return 1
	$XP_CHECK "$TMP/xp-reply.jsonl" --match '^icmp 10\.215\.0\.1 > 10\.215\.0\.2 id ' \
		--count 3 --fate delivered --netns "$(xp_inum $NS_B)" --dev veth-tb &&
		$XP_CHECK "$TMP/xp-reply.jsonl" --match '^icmp 10\.215\.0\.2 > 10\.215\.0\.1 id ' \
			--count 3 --fate dropped --reason NETFILTER_DROP --netns "$(xp_inum $NS_B)" &&
		$XP_CHECK "$TMP/xp-reply.jsonl" --flow '^icmp 10\.215\.0\.1 <> 10\.215\.0\.2 id ' \
			--flow-packets 6 --flow-fate delivered=3 --flow-fate dropped=3
}

# A 4 KiB ring under a ping flood: events are lost, and every series that
# carries a lost mark is incomplete; series and ids match the file.
test_explain_incomplete() {
	local sent
	xp_pair || return 1
	"$RETISC" collect -c $XP_COLS $XP_PROBES --ring-size 4096 -o "$TMP/xp-flood.json" \
		--cmd "ip netns exec $NS_A ping -f -c 2000 -s 600 -W 1 10.215.0.2 >$TMP/xp-flood.ping; sleep 0.5" \
		>"$TMP/xp-flood.log" 2>&1 || { cat "$TMP/xp-flood.log"; return 1; }
	grep -q "total events lost" "$TMP/xp-flood.log" || { cat "$TMP/xp-flood.log"; return 1; }
	"$RETISC" explain --format json "$TMP/xp-flood.json" >"$TMP/xp-flood.jsonl" || return 1
	$XP_CHECK "$TMP/xp-flood.jsonl" --raw "$TMP/xp-flood.json" --min-incomplete 1 \
		--flow '^icmp 10\.215\.0\.1 <> 10\.215\.0\.2 id ' --flow-icmp || return 1
	# Never more echo requests than ping sent.
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TMP/xp-flood.ping")
	$XP_CHECK "$TMP/xp-flood.jsonl" --match '^icmp 10\.215\.0\.1 > 10\.215\.0\.2 id ' \
		--max-count "$sent"
}

# The report of the DNAT and NO_SOCKET files, rendered by headless Chromium:
# DOM, SVG charts, no console error, nothing fetched (check_report.py).
test_explain_report() {
	[ -s "$TMP/xp-nosock.json" ] || test_explain_no_socket || return 1
	command -v chromium >/dev/null || { echo "chromium not installed"; return $SKIP; }
	"$RETISC" report "$TMP/xp-nosock.json" -o "$TMP/xp-report.html" || return 1
	python3 "$HERE/live/check_report.py" "$TMP/xp-report.html" "$TMP/xp-nosock.jsonl" \
		"$TMP/xp-report.png"
}

# A progress line on a terminal (script(1) gives explain one), nothing on
# stderr otherwise; the output is the same either way.
test_explain_progress() {
	[ -s "$TMP/xp-flood.json" ] || test_explain_incomplete || return 1
	command -v script >/dev/null || { echo "no script(1)"; return $SKIP; }
	script -qec "$RETISC explain $TMP/xp-flood.json >$TMP/xp-tty.txt" /dev/null \
		>"$TMP/xp-tty.err" || return 1
	grep -qaE 'explain: [0-9]+ line\(s\) read, [0-9]+ series explained' "$TMP/xp-tty.err" ||
		{ od -c "$TMP/xp-tty.err" | head; return 1; }
	"$RETISC" explain "$TMP/xp-flood.json" >"$TMP/xp-notty.txt" 2>"$TMP/xp-notty.err" || return 1
	[ ! -s "$TMP/xp-notty.err" ] || { cat "$TMP/xp-notty.err"; return 1; }
	cmp "$TMP/xp-tty.txt" "$TMP/xp-notty.txt"
}

# SIGINT while the input stalls: what was read is explained, the summary is
# written, exit 0 (doc/processing.md §0).
test_explain_sigint() {
	local pid wpid st
	[ -s "$TMP/xp-flood.json" ] || test_explain_incomplete || return 1
	rm -f "$TMP/xp-fifo" && mkfifo "$TMP/xp-fifo" || return 1
	# exec: $wpid becomes the sleep itself, which the end kills.
	{ head -300 "$TMP/xp-flood.json"; exec sleep 10; } >"$TMP/xp-fifo" 2>/dev/null &
	wpid=$!
	"$RETISC" explain "$TMP/xp-fifo" >"$TMP/xp-int.txt" 2>"$TMP/xp-int.err" &
	pid=$!
	sleep 1
	kill -INT $pid
	# It must stop now, not when the input ends 9 s later.
	for _ in 1 2 3 4 5 6; do
		kill -0 $pid 2>/dev/null || break
		sleep 0.5
	done
	kill -0 $pid 2>/dev/null && { echo "explain still runs after SIGINT"; kill $pid $wpid; return 1; }
	wait $pid
	st=$?
	kill $wpid 2>/dev/null
	[ $st = 0 ] || { echo "exit $st"; cat "$TMP/xp-int.err"; return 1; }
	grep -qE '^Series: [1-9][0-9]* \(' "$TMP/xp-int.txt" || { tail "$TMP/xp-int.txt"; return 1; }
}
