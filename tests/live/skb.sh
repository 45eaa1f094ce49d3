# skb, dev and ns collector live tests (sourced by tests/run-live.sh): real
# traffic in the veth pair of topo_pair (retisc-t-a 10.201.0.1 veth-ta,
# retisc-t-b 10.201.0.2 veth-tb), JSON checked by check_skb.py, text by grep.
SKB_CHECK="python3 $HERE/live/check_skb.py"

ns_inum() { # ns_inum <netns name>: the namespace's inode (= net->ns.inum)
	stat -L -c %i "/run/netns/$1"
}

mac_of() { # mac_of <netns> <dev>
	ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'
}

# collect_to <name> <collect args...>: collect into $TMP/<name>.json, log in
# $TMP/<name>.log, shown on failure.
collect_to() {
	local name=$1
	shift
	"$RETISC" collect -o "$TMP/$name.json" "$@" >"$TMP/$name.log" 2>&1 ||
		{ cat "$TMP/$name.log"; return 1; }
}

# listen_b <port>: a TCP listener in $NS_B (pid in $LISTENER, 20 s at most),
# the neighbours resolved first so that the traffic that follows is the
# whole story. stop_listener ends it.
listen_b() {
	ip netns exec $NS_B timeout 20 nc -l "$1" >/dev/null 2>&1 &
	LISTENER=$!
	ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2 >/dev/null || return 1
	sleep 0.2
}

stop_listener() {
	kill $LISTENER 2>/dev/null
	wait $LISTENER 2>/dev/null
}

# A TCP handshake to a listening socket: SYN, SYN-ACK and ACK, each leaving
# one namespace and entering the other under one id, with the device and
# namespace (inode of /run/netns/<ns> and of /proc/<listener>/ns/net) of
# each side; then the text of the same file.
test_skb_tcp_handshake() {
	topo_pair || return 1
	listen_b 9000 || return 1
	local proc
	proc=$(stat -L -c %i /proc/$LISTENER/ns/net)
	collect_to tcp -c skb-tracking,skb,dev,ns $IFDUMP \
		--cmd "ip netns exec $NS_A nc -z -w 2 10.201.0.2 9000" || return 1
	stop_listener
	grep -q "Command returned (exit status: 0)" "$TMP/tcp.log" || { cat "$TMP/tcp.log"; return 1; }
	$SKB_CHECK tcp "$TMP/tcp.json" 9000 "$(ns_inum $NS_A)" "$(ns_inum $NS_B)" "$proc" || return 1

	"$RETISC" print "$TMP/tcp.json" >"$TMP/tcp.txt" || return 1
	local syn='^  10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.9000 tos 0x0 ttl 64 id [0-9]+ off 0 \[DF\] len 60 proto TCP \(6\) flags \[S\] seq [0-9]+ win [0-9]+ \[mss 1460,'
	local synack='^  10\.201\.0\.2\.9000 > 10\.201\.0\.1\.[0-9]+ .* flags \[S\.\] seq [0-9]+ ack [0-9]+ win'
	local nsdev="^  ns 0x[0-9a-f]+/$(ns_inum $NS_A) if [0-9]+ \(veth-ta\)$"
	grep -qE "$syn" "$TMP/tcp.txt" && grep -qE "$synack" "$TMP/tcp.txt" &&
		grep -qE "$nsdev" "$TMP/tcp.txt" ||
		{ grep -A3 '9000' "$TMP/tcp.txt" | head -40; return 1; }
	# Single line: the packet, then netns and dev on the same line.
	"$RETISC" print --format single-line "$TMP/tcp.json" |
		grep -qE "\[tp\] net:net_dev_start_xmit #[0-9a-f]+ \(skb [0-9a-f]+\) 10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.9000 .* flags \[S\] .* ns 0x[0-9a-f]+/$(ns_inum $NS_A) if [0-9]+ \(veth-ta\)$"
}

# ARP who-has and is-at after the neighbour tables are flushed.
test_skb_arp() {
	topo_pair || return 1
	ip -n $NS_A neigh flush all && ip -n $NS_B neigh flush all || return 1
	collect_to arp -c skb-tracking,skb,dev,ns $IFDUMP \
		--cmd "ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2" || return 1
	local mac
	mac=$(mac_of $NS_B veth-tb)
	$SKB_CHECK arp "$TMP/arp.json" "$(ns_inum $NS_A)" "$(ns_inum $NS_B)" "$mac" || return 1
	"$RETISC" print "$TMP/arp.json" >"$TMP/arp.txt" || return 1
	grep -q "^  request who-has 10.201.0.2 tell 10.201.0.1$" "$TMP/arp.txt" &&
		grep -q "^  reply 10.201.0.2 is-at $mac$" "$TMP/arp.txt" ||
		{ grep -i -A2 'arp\|who-has\|is-at' "$TMP/arp.txt" | head -30; return 1; }
}

# VLAN: this kernel has no 802.1Q module (`ip link add ... type vlan` says
# "Unknown device type") and no act_vlan, so a tc BPF program on veth-ta's
# egress tags packets the way a VLAN device does (tests/live/vlan_push.bpf.c,
# VLAN 100, PCP 5, DEI). With tx-vlan offload on (the veth default) the tag
# stays in skb->vlan_tci: vlan_accel. With `ethtool -K veth-ta txvlan off`
# the stack writes it into the packet before the driver: an 802.1Q header.
# B drops the tagged packets (no VLAN 100 there): the ping fails, on purpose.
vlan_topo() {
	topo_pair || return 1
	command -v ethtool >/dev/null || { echo "ethtool is missing"; return 1; }
	clang -O2 -g -target bpf -I"$BUILD" -c "$HERE/live/vlan_push.bpf.c" \
		-o "$TMP/vlan_push.bpf.o" || return 1
	ip -n $NS_A neigh replace 10.201.0.2 lladdr "$(mac_of $NS_B veth-tb)" dev veth-ta &&
		ip netns exec $NS_A tc qdisc add dev veth-ta clsact &&
		ip netns exec $NS_A tc filter add dev veth-ta egress bpf da \
			obj "$TMP/vlan_push.bpf.o" sec tc
}

test_skb_vlan_accel() {
	vlan_topo || return 1
	ip netns exec $NS_A ethtool -k veth-ta | grep -q '^tx-vlan-offload: on' || return 1
	collect_to vlan-accel -c skb-tracking,skb,dev,ns $IFDUMP \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2; true" || return 1
	$SKB_CHECK vlan "$TMP/vlan-accel.json" accel "$(ns_inum $NS_A)" "$(ns_inum $NS_B)" ||
		return 1
	# Text: only with -e, on its own line (no meta/data_ref asked).
	"$RETISC" print -e "$TMP/vlan-accel.json" >"$TMP/vlan-accel.txt" || return 1
	grep -q "^  vlan_accel (ethertype 802.1Q (0x8100) vlan 100 p 5 DEI)$" "$TMP/vlan-accel.txt" ||
		{ grep -A4 '10.201.0.1 >' "$TMP/vlan-accel.txt" | head -20; return 1; }
	! "$RETISC" print "$TMP/vlan-accel.json" | grep -q vlan_accel
}

test_skb_vlan_inline() {
	vlan_topo || return 1
	ip netns exec $NS_A ethtool -K veth-ta txvlan off || return 1
	collect_to vlan-inline -c skb-tracking,skb,dev,ns $IFDUMP \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2; true" || return 1
	$SKB_CHECK vlan "$TMP/vlan-inline.json" inline "$(ns_inum $NS_A)" "$(ns_inum $NS_B)" ||
		return 1
	"$RETISC" print -e "$TMP/vlan-inline.json" >"$TMP/vlan-inline.txt" || return 1
	grep -qE "^  [0-9a-f:]{17} > [0-9a-f:]{17} ethertype 802\.1Q \(0x8100\) vlan 100 p 5 DEI ethertype IPv4 \(0x0800\) 10\.201\.0\.1 > 10\.201\.0\.2 " \
		"$TMP/vlan-inline.txt" || { grep -A4 '10.201.0.1 >' "$TMP/vlan-inline.txt" | head -20; return 1; }
}

# The README flow with the packet collector: collect to a file, print it.
# A large ping checks the 255-byte capture limit.
test_skb_collect_print() {
	topo_pair || return 1
	collect_to skb-print -c skb-tracking,skb $IFDUMP \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2 &&
		       ip netns exec $NS_A ping -c 1 -s 1200 -W 1 10.201.0.2" || return 1
	$SKB_CHECK packets-only "$TMP/skb-print.json" || return 1
	"$RETISC" print "$TMP/skb-print.json" >"$TMP/skb-print.txt" || return 1
	grep -qE '^  10\.201\.0\.1 > 10\.201\.0\.2 tos 0x0 ttl 64 id [0-9]+ off 0 \[DF\] len 84 proto ICMP \(1\) type 8 code 0$' \
		"$TMP/skb-print.txt" &&
		grep -qE '^  10\.201\.0\.2 > 10\.201\.0\.1 tos 0x0 ttl 64 id [0-9]+ off 0 len 84 proto ICMP \(1\) type 0 code 0$' \
			"$TMP/skb-print.txt" &&
		grep -qE '^  10\.201\.0\.1 > 10\.201\.0\.2 tos 0x0 ttl 64 id [0-9]+ off 0 \[DF\] len 1228 proto ICMP \(1\) type 8 code 0$' \
			"$TMP/skb-print.txt" || { head -30 "$TMP/skb-print.txt"; return 1; }
}

# --skb-sections all: meta and data_ref (and their text); consume_skb after
# the receive path shows rx_ifindex.
test_skb_sections_all() {
	topo_pair || return 1
	collect_to skb-all -c skb-tracking,skb,dev,ns $IFDUMP --skb-sections all \
		-p tp:net:net_dev_start_xmit -p tp:net:netif_receive_skb -p tp:skb:consume_skb \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" || return 1
	$SKB_CHECK sections-all "$TMP/skb-all.json" "$(ns_inum $NS_A)" "$(ns_inum $NS_B)" || return 1
	"$RETISC" print "$TMP/skb-all.json" >"$TMP/skb-all.txt" || return 1
	grep -qE '^  skb \[csum [a-z]+ .*len 98 priority 0 (cloned )?users 1 dataref [0-9]+\]$' \
		"$TMP/skb-all.txt" &&
		grep -qE "^  ns 0x[0-9a-f]+/$(ns_inum $NS_B) if [0-9]+ \(veth-tb\) rxif [0-9]+$" \
			"$TMP/skb-all.txt" || { grep -A4 '10.201.0.1 >' "$TMP/skb-all.txt" | head -30; return 1; }
}

# GSO: a bulk TCP transfer leaves veth-ta in super-packets (gso section,
# capture capped at 255 bytes).
test_skb_gso() {
	topo_pair || return 1
	listen_b 9001 || return 1
	collect_to gso -c skb-tracking,skb --skb-sections gso -p tp:net:net_dev_start_xmit \
		--cmd "head -c 300000 /dev/zero | ip netns exec $NS_A nc -N -w 2 10.201.0.2 9001" ||
		return 1
	stop_listener
	$SKB_CHECK gso "$TMP/gso.json" || return 1
	"$RETISC" print "$TMP/gso.json" | grep -qE '^  gso \[type 0x[0-9a-f]*[13579bdf] .*size [0-9]+\]$'
}

# A packet dropped by an nft output rule before it gets a MAC header: the
# capture starts with a synthetic Ethernet header.
test_skb_synthetic_eth() {
	topo_pair || return 1
	ip netns exec $NS_A nft -f - <<-EOF || return 1
		table ip retisc_skb {
			chain out {
				type filter hook output priority 0;
				icmp type echo-request drop
			}
		}
	EOF
	collect_to synth -c skb-tracking,skb,ns -p tp:skb:kfree_skb \
		--cmd "ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2; true" || return 1
	$SKB_CHECK synthetic "$TMP/synth.json" "$(ns_inum $NS_A)" || return 1
	"$RETISC" print -e "$TMP/synth.json" |
		grep -qE '^  00:00:00:00:00:00 > 00:00:00:00:00:00 ethertype IPv4 \(0x0800\) 10\.201\.0\.1 > 10\.201\.0\.2 '
}

# dev with a net_device argument and no skb (neigh:neigh_create), reported
# without filtering; ns gives nothing without an skb.
test_dev_netdev_argument() {
	topo_pair || return 1
	collect_to netdev -c dev,ns -p tp:neigh:neigh_create \
		--cmd "ip -n $NS_A neigh add 10.201.0.77 lladdr 02:00:00:00:00:77 dev veth-ta" ||
		return 1
	local ifindex
	ifindex=$(ip -n $NS_A -j link show veth-ta | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
	$SKB_CHECK netdev-arg "$TMP/netdev.json" "$ifindex" || return 1
	"$RETISC" print "$TMP/netdev.json" | grep -qx "  if $ifindex (veth-ta)"
}

# --skb-sections values (doc/cli.md §3.1).
test_skb_sections_option() {
	expect_fail 1 "Unknown skb_collect value \(vlan\)" \
		"$RETISC" collect -c skb $IFDUMP --skb-sections meta,vlan --cmd true || return 1
	expect_fail 1 "Could not initialize the skb collector" \
		"$RETISC" collect -c skb $IFDUMP --skb-sections bogus --cmd true || return 1
	local out
	out=$("$RETISC" collect -c skb $IFDUMP --skb-sections tcp,eth --skb-sections ns --cmd true 2>&1) ||
		{ echo "$out"; return 1; }
	grep -q "Use of 'tcp' in --skb-sections is depreacted$" <<<"$out" &&
		grep -q "Use of 'ns' in --skb-sections is depreacted: it is now a collector" <<<"$out" &&
		! grep -q "'eth'" <<<"$out" || { echo "$out"; return 1; }
	# Not loaded, not checked: the option is ignored without the collector.
	"$RETISC" collect -c skb-tracking $IFDUMP --skb-sections vlan --cmd true >/dev/null 2>&1 ||
		{ echo "--skb-sections vlan refused without the skb collector"; return 1; }
}
