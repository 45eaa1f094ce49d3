# ct collector live tests (sourced by tests/run-live.sh): conntrack entries
# of real traffic in the topo_pair and topo_dnat namespaces, JSON checked by
# check_ct.py, text by grep.
#
# A namespace tracks connections only once a rule needs conntrack (the
# hooks are registered per namespace on demand), so each test loads an nft
# table using ct in the namespaces it looks at. veth clears the entry when a
# packet changes namespace, and receive events come before PREROUTING:
# entries show up on transmit events (after OUTPUT / POSTROUTING).
CT_CHECK="python3 $HERE/live/check_ct.py"

# ct_ns <netns>...: "--ns INUM,INUM" for check_ct.py. Concurrent runs use
# the same addresses in namespaces of their own: events are told apart by
# namespace (the ns collector is in every collection here).
ct_ns() {
	local n inums=
	for n in "$@"; do
		inums=$inums${inums:+,}$(stat -L -c %i "/run/netns/$n") || return 1
	done
	echo "--ns $inums"
}

# ct_collect <name> <collect args...>: collect (skb, ns, dev and ct) into
# $TMP/<name>.json, log in $TMP/<name>.log, shown on failure.
ct_collect() {
	local name=$1
	shift
	"$RETISC" collect -o "$TMP/$name.json" -c skb-tracking,skb,ns,dev,ct $IFDUMP "$@" \
		>"$TMP/$name.log" 2>&1 ||
		{ cat "$TMP/$name.log"; return 1; }
	grep -q "Command returned (exit status: 0)" "$TMP/$name.log" ||
		{ cat "$TMP/$name.log"; return 1; }
}

# ct_nft <netns> <chain body...>: table inet retisc_ct with one chain (hook
# and priority in the body).
ct_nft() {
	local ns=$1
	shift
	ip netns exec "$ns" nft -f - <<-EOF
		table inet retisc_ct {
			chain c {
				$*
			}
		}
	EOF
}

ct_state_rule() {
	ct_nft "$1" "type filter hook output priority 0; ct state new,established,related accept"
}

# A TCP connection: NEW (SYN) and ESTABLISHED (ACK) from the client's side,
# REPLY (SYN-ACK) from the server's, with the TCP conntrack states.
test_ct_tcp_states() {
	topo_pair || return 1
	ct_state_rule $NS_A && ct_state_rule $NS_B || return 1
	ip netns exec $NS_B timeout 20 nc -l 9000 >/dev/null 2>&1 &
	local nc=$!
	# Neighbours resolved first: the handshake is the whole story.
	ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2 >/dev/null || return 1
	sleep 0.2
	ct_collect ct-tcp \
		--cmd "ip netns exec $NS_A nc -z -w 2 10.201.0.2 9000"
	local st=$?
	kill $nc 2>/dev/null
	wait $nc 2>/dev/null
	[ $st = 0 ] || return 1
	$CT_CHECK tcp "$TMP/ct-tcp.json" 9000 $(ct_ns $NS_A $NS_B)
}

# The same file as text: the ct line after the packet, in both formats.
test_ct_print() {
	[ -s "$TMP/ct-tcp.json" ] || test_ct_tcp_states || return 1
	"$RETISC" print "$TMP/ct-tcp.json" >"$TMP/ct-tcp.txt" || return 1
	local syn='^  10\.201\.0\.1\.([0-9]+) > 10\.201\.0\.2\.9000 .* flags \[S\] '
	local ct='^  ct_state NEW status 0x[0-9a-f]+ tcp \(SYN_SENT\) orig \[10\.201\.0\.1\.([0-9]+) > 10\.201\.0\.2\.9000\] reply \[10\.201\.0\.2\.9000 > 10\.201\.0\.1\.([0-9]+)\] zone 0 mark 0$'
	# The packet, then netns and dev (of this run's client namespace), then ct.
	local nsdev="^  ns 0x[0-9a-f]+/$(stat -L -c %i /run/netns/$NS_A) if [0-9]+ \(veth-ta\)$"
	grep -A2 -E "$syn" "$TMP/ct-tcp.txt" | grep -A1 -E "$nsdev" | grep -qE "$ct" ||
		{ grep -A2 -E "$syn" "$TMP/ct-tcp.txt" | head -10; return 1; }
	grep -qE '^  ct_state REPLY status 0x[0-9a-f]+ tcp \(SYN_RECV\) orig \[10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.9000\] ' \
		"$TMP/ct-tcp.txt" &&
		grep -qE '^  ct_state ESTABLISHED status 0x[0-9a-f]+ tcp \(ESTABLISHED\) orig \[10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.9000\] ' \
			"$TMP/ct-tcp.txt" || { grep ct_state "$TMP/ct-tcp.txt" | head -20; return 1; }
	"$RETISC" print --format single-line "$TMP/ct-tcp.json" |
		grep -qE "flags \[S\] .* ct_state NEW status 0x[0-9a-f]+ tcp \(SYN_SENT\) orig \[10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.9000\] reply \[[^]]*\] zone 0 mark 0$"
}

# DNAT in the middle namespace: the original tuple has the address the
# client used, the reply tuple the translated one, on both directions.
test_ct_dnat() {
	topo_dnat || return 1
	local ns
	ns=$(ct_ns $NS_A $NS_M $NS_B) || return 1
	ct_collect ct-dnat \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.210.9.100"
	local st=$?
	ip netns del $NS_M
	[ $st = 0 ] || return 1
	$CT_CHECK dnat "$TMP/ct-dnat.json" $ns || return 1
	"$RETISC" print "$TMP/ct-dnat.json" |
		grep -qE '^  ct_state (NEW|ESTABLISHED) status 0x[0-9a-f]+ icmp orig \[10\.210\.1\.1 > 10\.210\.9\.100 type 8 code 0 id [0-9]+\] reply \[10\.210\.2\.2 > 10\.210\.1\.1 type 0 code 0 id [0-9]+\] zone 0 mark 0$'
}

# A mark set by a rule is the entry's mark.
test_ct_mark() {
	topo_pair || return 1
	ct_nft $NS_A "type filter hook output priority 0; ct mark set 0x2a" || return 1
	ct_collect ct-mark \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" || return 1
	$CT_CHECK mark "$TMP/ct-mark.json" 42 $(ct_ns $NS_A) || return 1
	"$RETISC" print "$TMP/ct-mark.json" |
		grep -qE '^  ct_state (NEW|ESTABLISHED) status 0x[0-9a-f]+ icmp orig \[10\.201\.0\.1 > 10\.201\.0\.2 .* zone 0 mark 42$'
}

# Zones set before conntrack (raw priority): both directions (Default),
# then the original direction only. A Default zone must be set on the
# replies too, or they would not find the entry (zone 0); an Original one
# only keys the original direction.
test_ct_zone() {
	topo_pair || return 1
	ip netns exec $NS_A nft -f - <<-EOF || return 1
		table inet retisc_ct {
			chain out {
				type filter hook output priority raw; ct zone set 5
			}
			chain pre {
				type filter hook prerouting priority raw; ct zone set 5
			}
		}
	EOF
	ct_collect ct-zone \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" || return 1
	$CT_CHECK zone "$TMP/ct-zone.json" 5 Default $(ct_ns $NS_A) || return 1
	"$RETISC" print "$TMP/ct-zone.json" |
		grep -qE '^  ct_state (NEW|ESTABLISHED) status 0x[0-9a-f]+ icmp orig \[10\.201\.0\.1 > 10\.201\.0\.2 .* zone 5 mark 0$' ||
		return 1

	ip netns exec $NS_A nft delete table inet retisc_ct &&
		ct_nft $NS_A "type filter hook output priority raw; ct original zone set 7" || return 1
	ct_collect ct-ozone \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" || return 1
	$CT_CHECK zone "$TMP/ct-ozone.json" 7 Original $(ct_ns $NS_A) || return 1
	"$RETISC" print --format single-line "$TMP/ct-ozone.json" |
		grep -qE 'ct_state (NEW|ESTABLISHED) status 0x[0-9a-f]+ icmp orig \[10\.201\.0\.1 > 10\.201\.0\.2 .* orig-zone 7 mark 0$'
}

# A label (bit 5) set by a rule.
test_ct_labels() {
	topo_pair || return 1
	ct_nft $NS_A "type filter hook output priority 0; ct label set 5" || return 1
	ct_collect ct-labels \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" || return 1
	$CT_CHECK labels "$TMP/ct-labels.json" 0 32 $(ct_ns $NS_A) || return 1
	"$RETISC" print "$TMP/ct-labels.json" |
		grep -qE '^  ct_state (NEW|ESTABLISHED) status .* zone 0 mark 0 labels 0x20$'
}

# The parent connection: the FTP helper (assigned by nft on the control
# connection) expects the data connection announced by a PASV reply; that
# connection is RELATED, its master the control connection.
test_ct_parent() {
	topo_pair || return 1
	ip netns exec $NS_A nft -f - <<-EOF || return 1
		table inet retisc_ct {
			ct helper ftp-std {
				type "ftp" protocol tcp;
			}
			chain c {
				type filter hook output priority 0;
				tcp dport 21 ct helper set "ftp-std"
			}
		}
	EOF
	ip netns exec $NS_B timeout 20 python3 "$HERE/live/ftp_pasv.py" server 10.201.0.2 21 20000 &
	local srv=$!
	ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2 >/dev/null || return 1
	ct_collect ct-parent \
		--cmd "ip netns exec $NS_A python3 $HERE/live/ftp_pasv.py client 10.201.0.2 21"
	local st=$?
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
	[ $st = 0 ] || return 1
	$CT_CHECK parent "$TMP/ct-parent.json" 21 20000 $(ct_ns $NS_A) || return 1
	"$RETISC" print "$TMP/ct-parent.json" >"$TMP/ct-parent.txt" || return 1
	grep -A1 -E '^  ct_state RELATED status 0x[0-9a-f]+ tcp \(SYN_SENT\) orig \[10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.20000\] ' \
		"$TMP/ct-parent.txt" |
		grep -qE '^  \\ parent \[status 0x[0-9a-f]+ tcp \(ESTABLISHED\) orig \[10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.21\] reply \[10\.201\.0\.2\.21 > 10\.201\.0\.1\.[0-9]+\] zone 0 mark 0\]$' ||
		{ grep -A1 ct_state "$TMP/ct-parent.txt" | head -20; return 1; }
}

# IPv6: a TCP connection is reported with IPv6 tuples; ICMPv6 (ping6,
# neighbour discovery) is tracked by the kernel but not reported.
test_ct_ipv6() {
	topo_pair || return 1
	ip -n $NS_A addr add fd20::1/64 dev veth-ta nodad &&
		ip -n $NS_B addr add fd20::2/64 dev veth-tb nodad || return 1
	ct_state_rule $NS_A || return 1
	ip netns exec $NS_B timeout 20 nc -6 -l 9002 >/dev/null 2>&1 &
	local nc=$!
	sleep 0.2
	ct_collect ct-ipv6 \
		--cmd "ip netns exec $NS_A ping -6 -c 1 -W 1 fd20::2 >/dev/null &&
		       ip netns exec $NS_A nc -6 -z -w 2 fd20::2 9002"
	local st=$?
	kill $nc 2>/dev/null
	wait $nc 2>/dev/null
	[ $st = 0 ] || return 1
	$CT_CHECK ipv6 "$TMP/ct-ipv6.json" 9002 $(ct_ns $NS_A) || return 1
	"$RETISC" print "$TMP/ct-ipv6.json" |
		grep -qE '^  ct_state NEW status 0x[0-9a-f]+ tcp \(SYN_SENT\) orig \[fd20::1\.[0-9]+ > fd20::2\.9002\] reply \[fd20::2\.9002 > fd20::1\.[0-9]+\] zone 0 mark 0$'
}

# The collector is listed, runs here (conntrack is built in), and is part
# of `auto`.
test_ct_can_run() {
	"$RETISC" plugin list | grep -q "collector ct (1 hook), section ct (owner 9)" || return 1
	"$RETISC" --log-level info collect --cmd true >"$TMP/ct-auto.log" 2>&1 ||
		{ cat "$TMP/ct-auto.log"; return 1; }
	grep -qE "Collector\(s\) started: .*\bct\b" "$TMP/ct-auto.log" || { cat "$TMP/ct-auto.log"; return 1; }
}
