#!/bin/sh
# /init of the VM lane's initramfs (tests/vm/run.sh): busybox ash in
# Debian's 6.1 kernel, where kprobes attach, so retisc runs its kprobe
# tracking mode. Every test prints "PASS name" or "FAIL name" (with the
# evidence), then the last line is "N passed, N failed". The guest powers
# off at the end whatever happens, so the host never waits for a timeout.
export PATH=/usr/sbin:/bin:/opt/retisc
RETISC=/opt/retisc/retisc
# busybox's shell runs its own applets before PATH: iproute2 by full path.
IP=/usr/sbin/ip
T=/tmp
PASS=0
FAIL=0
NS_A=vm-a
NS_M=vm-m
NS_B=vm-b

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /var && ln -s /run /var/run
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
# iproute2 bind-mounts namespaces under /run/netns: the mounts must
# propagate, which the initramfs root does not do by default.
mount --make-rshared /

echo "vm: kernel $(uname -r), $(nproc) CPUs"
# Dependencies first (tests/vm/run.sh wrote the order). A soft dependency
# may not apply here (crc32c_intel on QEMU's CPU): not an error.
while read -r m kind; do
	if [ "$kind" = soft ]; then
		insmod "$m" 2>/dev/null || echo "vm: soft dependency $m not loaded"
	else
		insmod "$m" || echo "vm: insmod $m failed"
	fi
done </etc/modules.order

# Each namespace without IPv6: its autoconfiguration traffic (DAD, router
# solicitations) would be in flight when a run ends and show as live
# tracking entries.
mkns() {
	$IP netns add "$1" &&
		$IP netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		$IP netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
		$IP -n "$1" link set lo up
}

cleanup_ns() {
	for n in $NS_A $NS_M $NS_B; do
		$IP netns del $n 2>/dev/null
	done
}

topo_pair() {
	cleanup_ns
	mkns $NS_A && mkns $NS_B &&
		$IP link add veth-ta netns $NS_A type veth peer name veth-tb netns $NS_B &&
		$IP -n $NS_A addr add 10.201.0.1/24 dev veth-ta &&
		$IP -n $NS_B addr add 10.201.0.2/24 dev veth-tb &&
		$IP -n $NS_A link set veth-ta up && $IP -n $NS_B link set veth-tb up
}

# A -- M -- B with a VXLAN tunnel between M and B (tests/run-live.sh's
# head reallocation trigger, without the DNAT rule).
topo_vxlan() {
	cleanup_ns
	mkns $NS_A && mkns $NS_M && mkns $NS_B &&
		$IP link add veth-da netns $NS_A type veth peer name veth-dma netns $NS_M &&
		$IP link add veth-db netns $NS_B type veth peer name veth-dmb netns $NS_M &&
		$IP -n $NS_A addr add 10.210.1.1/24 dev veth-da &&
		$IP -n $NS_M addr add 10.210.1.254/24 dev veth-dma &&
		$IP -n $NS_M addr add 10.210.2.254/24 dev veth-dmb &&
		$IP -n $NS_B addr add 10.210.2.2/24 dev veth-db &&
		$IP -n $NS_A link set veth-da up && $IP -n $NS_M link set veth-dma up &&
		$IP -n $NS_M link set veth-dmb up && $IP -n $NS_B link set veth-db up &&
		$IP -n $NS_A route add default via 10.210.1.254 &&
		$IP -n $NS_B route add default via 10.210.2.254 &&
		$IP netns exec $NS_M sysctl -qw net.ipv4.ip_forward=1 &&
		$IP -n $NS_M link add vx-t type vxlan id 42 local 10.210.2.254 remote 10.210.2.2 \
			dstport 4789 dev veth-dmb &&
		$IP -n $NS_B link add vx-t type vxlan id 42 local 10.210.2.2 remote 10.210.2.254 \
			dstport 4789 dev veth-db &&
		$IP -n $NS_M addr add 10.210.3.1/24 dev vx-t &&
		$IP -n $NS_B addr add 10.210.3.2/24 dev vx-t &&
		$IP -n $NS_M link set vx-t up && $IP -n $NS_B link set vx-t up &&
		$IP -n $NS_B route add 10.210.1.0/24 via 10.210.3.1 dev vx-t
}

# series FILE: one line per tracking id, in the order of first appearance,
# with the probes of its events, comma-separated. Ids are compared as
# strings: awk's numbers are doubles and would merge 64-bit addresses.
series() {
	awk '{
		if (!match($0, /"symbol":"[^"]*"/))
			next
		sym = substr($0, RSTART + 10, RLENGTH - 11)
		if (!match($0, /"skb-tracking":[{]"orig_head":[0-9]+,"timestamp":[0-9]+/))
			next
		id = substr($0, RSTART, RLENGTH)
		if (!(id in s)) {
			order[n++] = id
			s[id] = sym
		} else {
			s[id] = s[id] "," sym
		}
	}
	END {
		for (i = 0; i < n; i++)
			print s[order[i]]
	}' "$1"
}

# The evidence of a failed test is shown; of every test with
# RETISC_VM_VERBOSE=1 (tests/vm/run.sh writes /etc/verbose).
VERBOSE=$(cat /etc/verbose 2>/dev/null)
result() { # result <name> <status> <evidence file>...
	local name=$1 st=$2
	shift 2
	if [ "$st" = 0 ]; then
		PASS=$((PASS + 1))
		echo "PASS $name"
		[ "$VERBOSE" = 1 ] || return 0
	else
		FAIL=$((FAIL + 1))
		echo "FAIL $name"
	fi
	for f in "$@"; do
		[ -e "$f" ] || continue
		echo "---- $f"
		tail -40 "$f"
	done
}

# A run that hangs is stopped like a user would (SIGINT: retisc still
# writes its report) so that the other tests still run.
run_retisc() { # run_retisc <name> <retisc args>...: output in $T/<name>.log
	local name=$1
	shift
	timeout -s INT 120 $RETISC "$@" >$T/$name.log 2>&1
	local st=$?
	echo "exit status $st" >>$T/$name.log
	return $st
}

collect() { # collect <name> <retisc collect args>...
	local name=$1
	shift
	run_retisc $name collect "$@"
}

# single_line <events file>: one text line per event (packet, netns, dev,
# ct... on the line of their event), in <file>.txt; the guest has no
# python to read the packets' bytes, retisc's text does.
single_line() {
	$RETISC print --format single-line "$1" >"${1%.json}.txt" 2>&1
}

ns_inum() { # ns_inum <netns>: the namespace's inode (= net->ns.inum)
	stat -L -c %i /run/netns/$1
}

ifindex() { # ifindex <netns> <dev>
	$IP -n $1 link show $2 | awk -F: 'NR == 1 { print $1 }'
}

# listen_b <port>: a TCP server in $NS_B taking any number of connections
# and reading them to their end (pid in $SRV), ready when it returns.
listen_b() {
	printf '#!/bin/sh\ncat >/dev/null\n' >$T/sink.sh && chmod +x $T/sink.sh
	$IP netns exec $NS_B nc -ll -p $1 -e $T/sink.sh &
	SRV=$!
	local i
	for i in $(seq 50); do
		$IP netns exec $NS_B netstat -ltn | grep -q ":$1 " && return 0
		sleep 0.1
	done
	return 1
}

stop_listener() {
	kill $SRV 2>/dev/null
	wait $SRV 2>/dev/null
}

# The reader frees a received skb on the CPU that allocated it
# (skb_attempt_defer_free()): the skb waits in that CPU's list until its
# next NET_RX softirq, which an idle guest may not run before retisc exits,
# leaving a live tracking entry. A ping from each CPU runs one there.
# Prints the command, for --cmd's shell.
flush_defer() { # flush_defer <address reached from $NS_A>
	echo "for c in \$(seq 0 \$((\$(nproc) - 1))); do" \
		"taskset -c \$c $IP netns exec $NS_A ping -c 1 -W 2 $1 >/dev/null; done; sleep 0.5"
}

# Kprobe ends of life are exact: the identity guard, a safety net there,
# must never have fired (doc/tracking.md §9.11).
no_guard() { # no_guard <log>
	grep -q "skb tracking uses kprobes" "$1" && grep -q "identity guard 0," "$1"
}

XMIT=net:net_dev_start_xmit
RECV=net:netif_receive_skb
# Named collectors need named probes (Retis's rule): the default two.
IFDUMP="-p tp:$RECV -p tp:$XMIT"

test_ping() {
	topo_pair || { result ping-topology 1; return; }
	local try st
	# Ends of life are checked on a quiet guest; a packet still in flight
	# when the run stops (a late ARP) is retried.
	for try in 1 2 3; do
		collect ping -c skb-tracking $IFDUMP --tracking-report -o $T/ping.json \
			--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2; $(flush_defer 10.201.0.2)"
		st=$?
		grep -q "tracking: 0 live entries" $T/ping.log && break
	done
	grep -q "skb tracking uses kprobes" $T/ping.log
	result kprobe-mode-selected $? $T/ping.log
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/ping.log
	result collect-ping $? $T/ping.log
	# Requests and replies: each seen leaving one side and arriving on the
	# other under one id, and never sharing an id.
	series $T/ping.json >$T/ping.series
	[ "$(grep -cxE "$XMIT,$RECV" $T/ping.series)" -ge 6 ] &&
		! grep -q '"probe_type":"kprobe"' $T/ping.json
	result default-probes-one-id-per-packet $? $T/ping.series $T/ping.json
	grep -q "tracking: 0 live entries, 0 skb entries (map size 8192)" $T/ping.log &&
		grep -qE "created [1-9][0-9]*, released [1-9]" $T/ping.log
	result end-of-life-no-live-entries $? $T/ping.log
	no_guard $T/ping.log
	result ping-identity-guard-silent $? $T/ping.log
}

# A user kprobe next to a tracepoint: events say "kprobe", carry the id the
# packet got at the tracepoint, and their stack starts at the probed
# function.
test_user_kprobe() {
	topo_pair || { result user-kprobe-topology 1; return; }
	collect kp -c skb-tracking --tracking-mode kprobe -p kprobe:ip_rcv/stack -p tp:$XMIT \
		-o $T/kp.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2"
	local st=$?
	series $T/kp.json >$T/kp.series
	[ $st = 0 ] &&
		grep -q '"kernel":{"symbol":"ip_rcv","probe_type":"kprobe",' $T/kp.json &&
		[ "$(grep -cxE "$XMIT,ip_rcv" $T/kp.series)" -ge 6 ]
	result user-kprobe-ip_rcv $? $T/kp.log $T/kp.series
	# Every ip_rcv event has a stack whose first frame is ip_rcv itself.
	[ "$(grep -c '"symbol":"ip_rcv"' $T/kp.json)" -ge 6 ] &&
		! grep '"symbol":"ip_rcv"' $T/kp.json | grep -qv '"stack_trace":\["ip_rcv+0x'
	result user-kprobe-stack $? $T/kp.json
}

# The user probes a core tracking function: the two merge into one probe
# that emits events and still ends the packets' lives.
test_free_probe_merge() {
	topo_pair || { result free-merge-topology 1; return; }
	collect free -c skb-tracking --tracking-report -p tp:$XMIT -p kprobe:skb_free_head \
		-o $T/free.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2; $(flush_defer 10.201.0.2)"
	local st=$?
	series $T/free.json >$T/free.series
	[ $st = 0 ] &&
		[ "$(grep -cxE "$XMIT(,$XMIT)*,skb_free_head" $T/free.series)" -ge 6 ] &&
		grep -q "tracking: 0 live entries" $T/free.log && no_guard $T/free.log
	result free-probe-merged-emits-and-frees $? $T/free.log $T/free.series
}

# Head reallocation: M forwards each request to vx-t, whose headroom needs
# are larger than what A's veth reserved, so ip_forward()'s skb_cow() ->
# pskb_expand_head() gives it a new data buffer (on the 6.1 kernel this
# happens before vx-t's xmit, not in vxlan_xmit()). The id must follow it
# (temporary skb-address key, relinked at the next sighting): xmit A,
# receive M, pskb_expand_head, xmit vx-t, xmit veth-dmb, receive B, receive
# vx-t after decapsulation.
test_head_realloc() {
	topo_vxlan || { result realloc-topology 1; return; }
	# Neighbours first: a packet parked in an ARP queue is another path.
	$IP netns exec $NS_A ping -c 2 -i 0.2 -W 2 10.210.3.2 >/dev/null 2>&1
	collect realloc -c skb-tracking --tracking-report -p tp:$XMIT -p tp:$RECV \
		-p kprobe:pskb_expand_head -o $T/realloc.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.210.3.2; $(flush_defer 10.210.3.2)"
	local st=$?
	series $T/realloc.json >$T/realloc.series
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/realloc.log &&
		[ "$(grep -cxE "$XMIT,$RECV,pskb_expand_head,$XMIT,$XMIT,$RECV,$RECV" \
			$T/realloc.series)" -ge 3 ] &&
		grep -qE "head changes followed ([3-9]|[1-9][0-9])" $T/realloc.log
	result head-realloc-id-survives $? $T/realloc.log $T/realloc.series
	grep -q "tracking: 0 live entries" $T/realloc.log && no_guard $T/realloc.log
	result head-realloc-no-live-entries $? $T/realloc.log
}

# TCP bulk transfer into a veth with an XDP program: veth copies each
# received (cloned) skb into a page-backed one, whose head TCP receive
# coalescing steals (kfree_skb_partial(skb, true)); skb_free_head() never
# runs for a stolen head, so only the partial-free rule ends those ids.
# Nothing may stay behind once the connection is closed.
test_tcp() {
	topo_pair || { result tcp-topology 1; return; }
	$IP -n $NS_B link set dev veth-tb xdp obj /opt/xdp_pass.bpf.o sec xdp ||
		{ result tcp-xdp-attach 1; return; }
	dd if=/dev/zero of=$T/blob bs=1k count=256 2>/dev/null
	# The server's stdin stays open (fd 3 holds the fifo): at its EOF
	# busybox nc would close the connection from its side while data still
	# flows.
	rm -f $T/srv.in && mkfifo $T/srv.in
	$IP netns exec $NS_B nc -l -p 5001 <$T/srv.in >/dev/null &
	local srv=$! i st
	exec 3>$T/srv.in
	for i in $(seq 50); do
		$IP netns exec $NS_B netstat -ltn | grep -q ':5001 ' && break
		sleep 0.1
	done
	collect tcp -c skb-tracking --tracking-report -p kprobe:kfree_skb_partial \
		-p kprobe:skb_free_head -p tp:$RECV -o $T/tcp.json \
		--cmd "$IP netns exec $NS_A nc 10.201.0.2 5001 <$T/blob; sleep 0.5;
			$(flush_defer 10.201.0.2)"
	st=$?
	series $T/tcp.json >$T/tcp.series
	# A stolen head's id ends at kfree_skb_partial; the others at
	# skb_free_head.
	[ $st = 0 ] && grep -q "tracking: 0 live entries" $T/tcp.log &&
		grep -qx "$RECV,kfree_skb_partial" $T/tcp.series && no_guard $T/tcp.log
	result tcp-stolen-heads-no-live-entries $? $T/tcp.log $T/tcp.series
	echo "vm: tcp: $(grep -cx "$RECV,kfree_skb_partial" $T/tcp.series) stolen heads," \
		"$(grep -c '"symbol":"kfree_skb_partial"' $T/tcp.json) kfree_skb_partial events"
	exec 3>&-
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
}

# TCP as users trace it, in both modes: a 256 kB transfer and 10 short
# connections, filtered on the port, every id holding one segment
# (tcp_segments.awk over the text). Kprobe mode: the guard stays silent.
# Tracepoint mode on 6.1: the kmem end of life ends the acknowledged
# segments that no skb tracepoint sees.
test_tcp_ids() {
	local mode st out
	dd if=/dev/zero of=$T/blob bs=1k count=256 2>/dev/null
	for mode in kprobe tracepoint; do
		topo_pair || { result tcp-ids-topology 1; return; }
		listen_b 5003 || { result tcp-ids-listener 1; return; }
		collect tcpids-$mode -c skb-tracking,skb $IFDUMP --tracking-mode $mode --tracking-report \
			-f 'tcp port 5003' -o $T/tcpids-$mode.json \
			--cmd "$IP netns exec $NS_A nc 10.201.0.2 5003 <$T/blob;
				for i in 1 2 3 4 5 6 7 8 9 10; do
					echo hello | $IP netns exec $NS_A nc 10.201.0.2 5003; done;
				sleep 0.5; $(flush_defer 10.201.0.2)"
		st=$?
		stop_listener
		out=$($RETISC print --format single-line $T/tcpids-$mode.json 2>/dev/null |
			awk -f /opt/tcp_segments.awk)
		echo "vm: tcp ids ($mode): $out (merged, total);" \
			"$(grep "end of life" $T/tcpids-$mode.log)"
		[ $st = 0 ] && [ "${out% *}" = 0 ] && [ "${out#* }" -ge 50 ] &&
			if [ $mode = kprobe ]; then
				no_guard $T/tcpids-$mode.log
			else
				grep -qE "kmem [1-9]" $T/tcpids-$mode.log
			fi
		result tcp-one-segment-per-id-$mode $? $T/tcpids-$mode.log
	done
}

# Tracepoint-only mode on this older kernel too (the project's machines run
# it on 6.18): skb:kfree_skb and skb:consume_skb have fewer arguments in 6.1.
test_tracepoint_mode() {
	topo_pair || { result tracepoint-mode-topology 1; return; }
	collect tpm -c skb-tracking $IFDUMP --tracking-mode tracepoint --tracking-report \
		-o $T/tpm.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2; $(flush_defer 10.201.0.2)"
	local st=$?
	series $T/tpm.json >$T/tpm.series
	[ $st = 0 ] && grep -q "skb tracking uses tracepoints only" $T/tpm.log &&
		[ "$(grep -cxE "$XMIT,$RECV" $T/tpm.series)" -ge 6 ] &&
		grep -q "tracking: 0 live entries, 0 skb entries" $T/tpm.log
	result tracepoint-mode-on-6.1 $? $T/tpm.log $T/tpm.series
}

# The same reallocation in tracepoint-only mode: followed by skb-address
# continuity, without the pskb_expand_head probe.
test_head_realloc_tp() {
	topo_vxlan || { result realloc-tp-topology 1; return; }
	$IP netns exec $NS_A ping -c 2 -i 0.2 -W 2 10.210.3.2 >/dev/null 2>&1
	collect realloc-tp -c skb-tracking $IFDUMP --tracking-mode tracepoint --tracking-report \
		-o $T/realloc-tp.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.210.3.2; $(flush_defer 10.210.3.2)"
	local st=$?
	series $T/realloc-tp.json >$T/realloc-tp.series
	[ $st = 0 ] &&
		[ "$(grep -cxE "$XMIT,$RECV,$XMIT,$XMIT,$RECV,$RECV" $T/realloc-tp.series)" -ge 3 ] &&
		grep -qE "head changes followed ([3-9]|[1-9][0-9])" $T/realloc-tp.log &&
		grep -q "tracking: 0 live entries, 0 skb entries" $T/realloc-tp.log
	result head-realloc-tracepoint-mode $? $T/realloc-tp.log $T/realloc-tp.series
}

# The modules of tests/vm/run.sh's MODULES and their dependencies are all
# loaded (soft dependencies aside), openvswitch and nf_tables by name; nft
# adds rules in a namespace (the later tests' rules and the probes on
# module functions rely on both).
test_modules() {
	local m kind n missing=
	while read -r m kind; do
		[ "$kind" = soft ] && continue
		n=${m##*/}
		n=$(echo ${n%%.ko*} | tr - _)
		grep -q "^$n " /proc/modules || missing="$missing $n"
	done </etc/modules.order
	{
		echo "missing:$missing"
		cat /proc/modules
	} >$T/modules.txt
	[ -z "$missing" ] && grep -q "^openvswitch " /proc/modules &&
		grep -q "^nf_tables " /proc/modules
	result modules-loaded $? $T/modules.txt
	topo_pair || { result nft-topology 1; return; }
	$IP netns exec $NS_A nft -f - <<-EOF >$T/nft.txt 2>&1 &&
		table inet vm_nft {
			chain out {
				type filter hook output priority 0; ct state new counter accept
			}
		}
	EOF
		$IP netns exec $NS_A ping -c 1 -W 2 10.201.0.2 >/dev/null &&
		$IP netns exec $NS_A nft list table inet vm_nft >>$T/nft.txt 2>&1 &&
		grep -qE "ct state new counter packets [1-9]" $T/nft.txt
	result nft-rule-counts $? $T/nft.txt
}

REQ='10\.201\.0\.1 > 10\.201\.0\.2 tos 0x0 ttl 64 id [0-9]+ off 0 \[DF\] len 84 proto ICMP \(1\) type 8 code 0'
REP='10\.201\.0\.2 > 10\.201\.0\.1 tos 0x0 ttl 64 id [0-9]+ off 0 len 84 proto ICMP \(1\) type 0 code 0'

# The skb, dev and ns collectors on pings over the veth pair (the host's
# tests/live/skb.sh asserts more of each): every event has its packet, the
# device it is on and that device's namespace.
test_skb_dev_ns() {
	topo_pair || { result skb-topology 1; return; }
	collect skb -c skb-tracking,skb,dev,ns $IFDUMP -o $T/skb.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2"
	local st=$? ina inb ifa ifb
	ina=$(ns_inum $NS_A)
	inb=$(ns_inum $NS_B)
	ifa=$(ifindex $NS_A veth-ta)
	ifb=$(ifindex $NS_B veth-tb)
	single_line $T/skb.json
	echo "vm: skb: $NS_A $ina veth-ta $ifa, $NS_B $inb veth-tb $ifb" >>$T/skb.log
	# skb: the packets' bytes, requests and replies, both ways.
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/skb.log &&
		[ "$(grep -cE "\[tp\] $XMIT .* $REQ( |$)" $T/skb.txt)" -ge 3 ] &&
		[ "$(grep -cE "\[tp\] $RECV .* $REQ( |$)" $T/skb.txt)" -ge 3 ] &&
		[ "$(grep -cE "\[tp\] $XMIT .* $REP( |$)" $T/skb.txt)" -ge 3 ] &&
		[ "$(grep -cE "\[tp\] $RECV .* $REP( |$)" $T/skb.txt)" -ge 3 ] &&
		[ "$(grep -c '"packet":{"len":98,"capture_len":98,"data":"' $T/skb.json)" -ge 12 ]
	result skb-collector-packets $? $T/skb.log $T/skb.txt
	# dev (from the JSON: without the packet): requests and ARP requests
	# leave on veth-ta and arrive on veth-tb, the replies the other way,
	# with the devices' names and indexes; every event has its device.
	awk -v a="\"dev\":[{]\"name\":\"veth-ta\",\"ifindex\":$ifa[,}]" \
		-v b="\"dev\":[{]\"name\":\"veth-tb\",\"ifindex\":$ifb[,}]" '/"kernel":/ {
		n++
		x = index($0, "\"symbol\":\"net:net_dev_start_xmit\"") > 0
		if ($0 ~ a)
			ta[x]++
		else if ($0 ~ b)
			tb[x]++
	}
	END { exit !(n >= 12 && ta[0] + ta[1] + tb[0] + tb[1] == n &&
		ta[1] >= 3 && tb[0] >= 3 && tb[1] >= 3 && ta[0] >= 3) }' $T/skb.json
	result dev-collector-devices $? $T/skb.json
	# ns: every event is in A's or B's namespace, each side with its
	# requests and replies.
	awk -v a="\"netns\":[{][^}]*\"inum\":$ina[,}]" \
		-v b="\"netns\":[{][^}]*\"inum\":$inb[,}]" '/"kernel":/ {
		n++
		if ($0 ~ a)
			na++
		else if ($0 ~ b)
			nb++
	}
	END { exit !(n >= 12 && na + nb == n && na >= 6 && nb >= 6) }' $T/skb.json
	result ns-collector-namespaces $? $T/skb.json
}

# skb-drop: a SYN to a closed port is freed with NO_SOCKET under the id it
# had on its way in; echo requests dropped by an nft rule with
# NETFILTER_DROP, and no reply gets through.
test_skb_drop() {
	topo_pair || { result skb-drop-topology 1; return; }
	$IP netns exec $NS_A ping -c 1 -W 2 10.201.0.2 >/dev/null
	collect drop -c skb-tracking,skb,skb-drop $IFDUMP -o $T/drop.json \
		--cmd "$IP netns exec $NS_A nc -w 2 10.201.0.2 81 </dev/null 2>$T/drop.nc"
	local st=$?
	single_line $T/drop.json
	series $T/drop.json >$T/drop.series
	[ $st = 0 ] && grep -q "Connection refused" $T/drop.nc &&
		grep -qE "\[tp\] skb:kfree_skb #[0-9a-f]+ \(skb [0-9a-f]+\) drop \(reason NO_SOCKET\) 10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.81 .* flags \[S\]" \
			$T/drop.txt &&
		grep -qx "$XMIT,$RECV,skb:kfree_skb" $T/drop.series
	result skb-drop-no-socket $? $T/drop.log $T/drop.nc $T/drop.txt $T/drop.series
	$IP netns exec $NS_B nft -f - <<-EOF >$T/drop-nft.log 2>&1 || {
		table inet vm_drop {
			chain in {
				type filter hook input priority 0; icmp type echo-request drop
			}
		}
	EOF
		result skb-drop-nft-rule 1 $T/drop-nft.log
		return
	}
	collect drop-nft -c skb-tracking,skb,skb-drop $IFDUMP -o $T/drop-nft.json \
		--cmd "$IP netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2"
	st=$?
	single_line $T/drop-nft.json
	[ $st = 0 ] && grep -q "Command returned (exit status: 1)" $T/drop-nft.log &&
		[ "$(grep -cE "\[tp\] skb:kfree_skb .* drop \(reason NETFILTER_DROP\) $REQ( |$)" \
			$T/drop-nft.txt)" = 2 ] &&
		! grep -qE "type 0 code 0" $T/drop-nft.txt
	result skb-drop-netfilter $? $T/drop-nft.log $T/drop-nft.txt
}

# ct: a TCP handshake through namespaces whose nft rules need conntrack
# (nf_conntrack is a module here): the SYN's entry is NEW (SYN_SENT), the
# SYN-ACK's REPLY (SYN_RECV), the client's ACK ESTABLISHED, with the tuples
# of both directions.
test_ct() {
	topo_pair || { result ct-topology 1; return; }
	local n
	for n in $NS_A $NS_B; do
		$IP netns exec $n nft -f - <<-EOF || { result ct-nft-rule 1; return; }
			table inet vm_ct {
				chain c {
					type filter hook output priority 0; ct state new,established,related accept
				}
			}
		EOF
	done
	listen_b 9000 || { result ct-listener 1; return; }
	$IP netns exec $NS_A ping -c 1 -W 2 10.201.0.2 >/dev/null
	collect ct -c skb-tracking,skb,ns,dev,ct $IFDUMP -o $T/ct.json \
		--cmd "echo hello | $IP netns exec $NS_A nc 10.201.0.2 9000"
	local st=$?
	stop_listener
	single_line $T/ct.json
	local tuple='orig \[10\.201\.0\.1\.[0-9]+ > 10\.201\.0\.2\.9000\] reply \[10\.201\.0\.2\.9000 > 10\.201\.0\.1\.[0-9]+\] zone 0 mark 0$'
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/ct.log &&
		grep -qE "flags \[S\] .* ct_state NEW status 0x[0-9a-f]+ tcp \(SYN_SENT\) $tuple" $T/ct.txt &&
		grep -qE "flags \[S\.\] .* ct_state REPLY status 0x[0-9a-f]+ tcp \(SYN_RECV\) $tuple" $T/ct.txt &&
		grep -qE "ct_state ESTABLISHED status 0x[0-9a-f]+ tcp \(ESTABLISHED\) $tuple" $T/ct.txt
	result ct-tcp-states $? $T/ct.log $T/ct.txt
}

# -f: only the packets the pcap filter matches have events. Pings match;
# the ARP before them and a TCP SYN (refused: it was sent) do not. Event
# lines are the " [tp] " ones: the startup line's command line spans two.
test_filter_pcap() {
	topo_pair || { result filter-pcap-topology 1; return; }
	collect fpcap -c skb-tracking,skb $IFDUMP -f 'icmp and host 10.201.0.2' -o $T/fpcap.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2;
			$IP netns exec $NS_A nc -w 2 10.201.0.2 81 </dev/null 2>$T/fpcap.nc; true"
	local st=$?
	single_line $T/fpcap.json
	[ $st = 0 ] && grep -q "L2+L3 packet filter(s) loaded" $T/fpcap.log &&
		grep -q "Connection refused" $T/fpcap.nc &&
		[ "$(grep -cE "\[tp\] $XMIT .* $REQ( |$)" $T/fpcap.txt)" -ge 3 ] &&
		[ "$(grep -cE "\[tp\] $XMIT .* $REP( |$)" $T/fpcap.txt)" -ge 3 ] &&
		awk '/ \[tp\] / { n++ } / \[tp\] / && !/ proto ICMP \(1\) type [08] code 0( |$)/ { bad++ }
			END { exit !(n >= 12 && bad == 0) }' $T/fpcap.txt
	result filter-pcap-matching-only $? $T/fpcap.log $T/fpcap.nc $T/fpcap.txt
}

# -m: an nft rule marks the echo requests (0x10) in A; only they have
# events, followed into B by their id although veth clears the mark. The
# replies and a TCP SYN, unmarked, have none.
test_filter_meta() {
	topo_pair || { result filter-meta-topology 1; return; }
	$IP netns exec $NS_A nft -f - <<-EOF || { result filter-meta-nft-rule 1; return; }
		table ip vm_mark {
			chain out {
				type route hook output priority 0; icmp type echo-request meta mark set 0x10
			}
		}
	EOF
	collect fmeta -c skb-tracking,skb $IFDUMP -m 'sk_buff.mark == 0x10' -o $T/fmeta.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2 >$T/fmeta.ping;
			$IP netns exec $NS_A nc -w 2 10.201.0.2 81 </dev/null 2>$T/fmeta.nc; true"
	local st=$?
	single_line $T/fmeta.json
	series $T/fmeta.json >$T/fmeta.series
	[ $st = 0 ] && grep -q "Connection refused" $T/fmeta.nc &&
		grep -q "3 packets received" $T/fmeta.ping &&
		[ "$(grep -cE "\[tp\] $XMIT .* $REQ( |$)" $T/fmeta.txt)" = 3 ] &&
		[ "$(grep -cx "$XMIT,$RECV" $T/fmeta.series)" = 3 ] &&
		awk '/ \[tp\] / { n++ } / \[tp\] / && !/ proto ICMP \(1\) type 8 code 0( |$)/ { bad++ }
			END { exit !(n == 6 && bad == 0) }' $T/fmeta.txt
	result filter-meta-marked-only $? $T/fmeta.log $T/fmeta.ping $T/fmeta.nc $T/fmeta.txt $T/fmeta.series
}

# The generic profile: every one of its probes attaches here, kprobes
# included (on the project's machines only its tracepoints do), and the
# kprobes report ARP, ICMP and TCP packets, under the ids the packets have
# at the tracepoints.
test_profile_generic() {
	topo_pair || { result generic-topology 1; return; }
	listen_b 9001 || { result generic-listener 1; return; }
	run_retisc generic -p generic collect -o $T/generic.json \
		--cmd "$IP netns exec $NS_A ping -c 2 -i 0.2 -W 2 10.201.0.2;
			echo hello | $IP netns exec $NS_A nc 10.201.0.2 9001; sleep 0.2"
	local st=$? k ok=0
	stop_listener
	series $T/generic.json >$T/generic.series
	[ $st = 0 ] && grep -qx "Applying profile generic" $T/generic.log &&
		! grep -qE "Skipping probe|Cannot attach probe" $T/generic.log && ok=1
	for k in arp_process ip_rcv icmp_rcv ip_output tcp_v4_rcv tcp_rcv_state_process \
		tcp_rcv_established; do
		grep -q "\"symbol\":\"$k\",\"probe_type\":\"kprobe\"" $T/generic.json ||
			{ echo "vm: generic: no $k event" >>$T/generic.log; ok=0; }
	done
	[ $ok = 1 ] && grep -qE "ip_output,.*$XMIT,.*ip_rcv,icmp_rcv" $T/generic.series
	result profile-generic-kprobes $? $T/generic.log $T/generic.series
}

# kretprobes see the arguments of their call (entry stash): the event of
# ip_route_input_noref's return has the packet's sk_buff, so it carries the
# packet's id and joins its series after the sender's xmit. Missed hits are
# reported at exit.
test_kretprobe_args() {
	topo_pair || { result kretprobe-topology 1; return; }
	collect krp -c skb-tracking,skb --tracking-mode kprobe -p tp:$XMIT \
		-p kretprobe:ip_route_input_noref -o $T/krp.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2"
	local st=$?
	series $T/krp.json >$T/krp.series
	[ $st = 0 ] &&
		grep -q '"symbol":"ip_route_input_noref","probe_type":"kretprobe"' $T/krp.json &&
		[ "$(grep -cxE "$XMIT,ip_route_input_noref" $T/krp.series)" -ge 6 ]
	result kretprobe-joins-series $? $T/krp.log $T/krp.series
	# Its events have the packet (the skb collector's packet section).
	[ "$(grep '"probe_type":"kretprobe"' $T/krp.json | grep -c '"packet":{"len":98,')" -ge 6 ]
	result kretprobe-has-skb $? $T/krp.json
	grep -qE "kprobe missed hits: (kernel does not report them \(before 6.7\); BPF recursion skips: [0-9]+|[0-9]+; BPF recursion skips: [0-9]+)" $T/krp.log
	result kprobe-missed-reported $? $T/krp.log
}

# Probes on module functions resolve through the module's BTF (split from
# vmlinux's): inspect lists them, kprobes attach, and nft_do_chain fires for
# packets that go through an nftables chain.
test_module_probes() {
	local st
	topo_pair || { result module-probes-topology 1; return; }
	$RETISC inspect -p 'kprobe:ovs_execute_*' >$T/inspect-ovs.txt 2>&1
	grep -qx "kprobe:ovs_execute_actions" $T/inspect-ovs.txt
	result inspect-lists-module-function $? $T/inspect-ovs.txt
	collect ovsk -c skb-tracking,skb -p kprobe:ovs_execute_actions -p tp:$XMIT \
		-o $T/ovsk.json --cmd "sleep 0.2"
	[ $? = 0 ] && grep -q "probe(s) loaded" $T/ovsk.log &&
		! grep -qE "Cannot attach probe|No probe was attached" $T/ovsk.log
	result kprobe-on-openvswitch-attaches $? $T/ovsk.log
	$IP netns exec $NS_B nft add table inet t >>$T/nft.log 2>&1 &&
		$IP netns exec $NS_B nft add chain inet t in \
			'{ type filter hook input priority 0; policy accept; }' >>$T/nft.log 2>&1 &&
		$IP netns exec $NS_B nft add rule inet t in counter >>$T/nft.log 2>&1
	result nft-rules-in-guest $? $T/nft.log
	collect nftk -c skb-tracking,skb -p kprobe:nft_do_chain -p tp:$XMIT -o $T/nftk.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2"
	st=$?
	series $T/nftk.json >$T/nftk.series
	# nft_do_chain has no sk_buff argument: the probe takes the packet's
	# from its struct nft_pktinfo, so its events join the packets' series.
	[ $st = 0 ] && [ "$(grep -c '"symbol":"nft_do_chain","probe_type":"kprobe"' $T/nftk.json)" -ge 3 ] &&
		[ "$(grep -cE "^$XMIT,nft_do_chain" $T/nftk.series)" -ge 3 ]
	result kprobe-on-nf_tables-fires $? $T/nftk.log $T/nftk.series
}

# A meta filter cast to a module type (nf_conn, of nf_conntrack): B's
# output chain sets a conntrack mark, so only B's replies leave with an
# entry whose mark matches; A's requests have entries (this kernel tracks
# every namespace's connections once nf_conntrack is loaded) with mark 0.
test_meta_module_cast() {
	topo_pair || { result meta-cast-topology 1; return; }
	$IP netns exec $NS_B nft add table inet vm_cm >$T/ctnft.log 2>&1 &&
		$IP netns exec $NS_B nft add chain inet vm_cm out \
			'{ type filter hook output priority 0; policy accept; }' >>$T/ctnft.log 2>&1 &&
		$IP netns exec $NS_B nft add rule inet vm_cm out ct mark set 0x42 >>$T/ctnft.log 2>&1
	result meta-cast-ct-rule $? $T/ctnft.log
	collect mcast -c skb-tracking,skb,dev -p tp:$XMIT \
		-m 'sk_buff._nfct:~0x7:nf_conn.mark == 0x42' \
		-o $T/mcast.json --cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.201.0.2"
	local st=$?
	[ $st = 0 ] &&
		[ "$(grep -c '"dev":{"name":"veth-tb"' $T/mcast.json)" -ge 3 ] &&
		! grep -q '"dev":{"name":"veth-ta"' $T/mcast.json
	result meta-filter-module-cast $? $T/mcast.log $T/mcast.json
}

# --probe-stack: the stacks of the initial probes (consume_skb and
# kfree_skb when none is given) name functions with an sk_buff parameter,
# which become kprobes at run time and report the filtered packets.
test_probe_stack() {
	topo_pair || { result probe-stack-topology 1; return; }
	collect pstack --probe-stack -f icmp -o $T/pstack.json \
		--cmd "$IP netns exec $NS_A ping -c 6 -i 0.3 -W 2 10.201.0.2"
	local st=$?
	[ $st = 0 ] && grep -q "No probe(s) given: using tp:skb:consume_skb, tp:skb:kfree_skb" \
		$T/pstack.log && grep -qE "Added probe kprobe:[a-z_0-9.]+ \(--probe-stack\)" $T/pstack.log &&
		[ "$(grep -c '"probe_type":"kprobe"' $T/pstack.json)" -ge 3 ]
	result probe-stack-adds-kprobes $? $T/pstack.log
	# Stacks were collected to find functions, not asked for: not shown.
	! grep -q '"stack_trace"' $T/pstack.json
	result probe-stack-hides-stacks $? $T/pstack.json
}

# No retisc trace table may outlive a run (doc/collectors.md §7.2).
nft_no_table() { # nft_no_table <log file to append to>
	nft list tables >>"$1" 2>&1
	! nft list tables 2>/dev/null | grep -q retisc_table
}

# nft, kprobe mode: an echo request dropped by a rule with a handle. Its
# series: sent by A, the nft drop (table, chain, handle as nft says them),
# then skb-drop's NETFILTER_DROP, under one id. A stale trace table (a
# killed run) is replaced, and the table is gone at the end.
test_nft_drop() {
	topo_pair || { result nft-drop-topology 1; return; }
	$IP netns exec $NS_B nft -f - <<-NFT >$T/nftd.rules 2>&1 || { result nft-drop-rule 1; return; }
		table inet vm_t {
			chain in {
				type filter hook input priority 0; policy accept;
				icmp type echo-request counter drop
			}
		}
	NFT
	$IP netns exec $NS_B nft -a list table inet vm_t >>$T/nftd.rules 2>&1
	local th ch rh st
	th=$(sed -n 's/^table inet vm_t { # handle \([0-9]*\)$/\1/p' $T/nftd.rules)
	ch=$(sed -n 's/^[[:space:]]*chain in { # handle \([0-9]*\)$/\1/p' $T/nftd.rules)
	rh=$(sed -n 's/.*counter packets [0-9]* bytes [0-9]* drop # handle \([0-9]*\)$/\1/p' $T/nftd.rules)
	nft add table inet retisc_table 2>>$T/nftd.rules
	collect nftd -c skb-tracking,skb,skb-drop,nft --allow-system-changes -p tp:$XMIT \
		-o $T/nftd.json --cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2"
	st=$?
	series $T/nftd.json >$T/nftd.series
	[ $st = 0 ] && [ -n "$rh" ] &&
		[ "$(grep -c "\"nft\":{\"table_name\":\"vm_t\",\"chain_name\":\"in\",\"verdict\":\"drop\",\"table_handle\":$th,\"chain_handle\":$ch,\"rule_handle\":$rh,\"policy\":false}" $T/nftd.json)" -ge 3 ]
	result nft-drop-rule-handle $? $T/nftd.log $T/nftd.rules $T/nftd.json
	[ "$(grep -cxE "$XMIT,__nft_trace_packet,skb:kfree_skb" $T/nftd.series)" -ge 3 ] &&
		grep -q '"skb-drop":{"drop_reason":"NETFILTER_DROP"}' $T/nftd.json
	result nft-drop-then-skb-drop-one-id $? $T/nftd.series
	nft_no_table $T/nftd.log
	result nft-table-removed-after-cmd $? $T/nftd.log
	$RETISC print $T/nftd.json >$T/nftd.txt 2>&1 &&
		grep -qE "^  table vm_t \($th\) chain in \($ch\) handle $rh drop$" $T/nftd.txt
	result nft-print $? $T/nftd.txt
}

# --nft-verdicts all: a jump to a user chain, its implicit return (no
# rule handle), then the input policy drop.
test_nft_jump_policy() {
	topo_pair || { result nft-jump-topology 1; return; }
	$IP netns exec $NS_B nft -f - <<-NFT >$T/nftj.rules 2>&1 || { result nft-jump-rule 1; return; }
		table inet vm_j {
			chain sub {
				counter
			}
			chain in {
				type filter hook input priority 0; policy drop;
				ip protocol icmp jump sub
			}
		}
	NFT
	collect nftj -c skb-tracking,nft --allow-system-changes --nft-verdicts all -p tp:$XMIT \
		-o $T/nftj.json --cmd "$IP netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2"
	grep -q '"chain_name":"in","verdict":"jump","verdict_chain_name":"sub",' $T/nftj.json &&
		grep '"chain_name":"sub","verdict":"continue"' $T/nftj.json | grep -qv rule_handle &&
		grep -q '"chain_name":"in","verdict":"drop","table_handle":[0-9]*,"chain_handle":[0-9]*,"policy":true' $T/nftj.json
	result nft-jump-return-policy $? $T/nftj.log $T/nftj.json
	nft_no_table $T/nftj.log
	result nft-table-removed-jump $? $T/nftj.log
}

# DNAT in a nat chain: the nat rule's accept (only a connection's first
# packet goes through nat chains), and that packet followed under its id
# to the address it was rewritten to.
test_nft_dnat() {
	topo_pair || { result nft-dnat-topology 1; return; }
	$IP netns exec $NS_A nft -f - <<-NFT >$T/nftn.rules 2>&1 || { result nft-dnat-rule 1; return; }
		table ip vm_nat {
			chain out {
				type nat hook output priority -100;
				ip daddr 10.201.0.99 dnat to 10.201.0.2
			}
		}
	NFT
	collect nftn -c skb-tracking,skb,ct,nft --allow-system-changes -p tp:$XMIT -p tp:$RECV \
		-o $T/nftn.json --cmd "$IP netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.99"
	series $T/nftn.json >$T/nftn.series
	grep -q '"nft":{"table_name":"vm_nat","chain_name":"out","verdict":"accept","table_handle":[0-9]*,"chain_handle":[0-9]*,"rule_handle":[0-9]*' $T/nftn.json &&
		grep -qE "^__nft_trace_packet,$XMIT,$RECV" $T/nftn.series &&
		grep -q '"ct":{"state":"new"' $T/nftn.json
	result nft-dnat-followed $? $T/nftn.log $T/nftn.series
	nft_no_table $T/nftn.log
	result nft-table-removed-dnat $? $T/nftn.log
}

# Every other exit path removes the table: SIGINT, SIGTERM, and a start-up
# failure after the collector's init (an unknown probe).
test_nft_exit_paths() {
	local sig pid i
	for sig in INT TERM; do
		$RETISC collect -c skb-tracking,nft --allow-system-changes -p tp:$XMIT \
			-o $T/nfts.json >$T/nfts-$sig.log 2>&1 &
		pid=$!
		for i in $(seq 1 100); do
			grep -q "probe(s) loaded" $T/nfts-$sig.log && break
			sleep 0.2
		done
		nft list tables >$T/nfts-$sig.tables 2>&1
		kill -$sig $pid
		wait $pid
		grep -q "retisc_table" $T/nfts-$sig.tables && nft_no_table $T/nfts-$sig.tables
		result nft-table-removed-sig$sig $? $T/nfts-$sig.log $T/nfts-$sig.tables
	done
	collect nftf -c skb-tracking,nft --allow-system-changes -p kprobe:no_such_function_here \
		-o $T/nftf.json
	grep -q "Could not find a traceable function matching" $T/nftf.log &&
		nft_no_table $T/nftf.log
	result nft-table-removed-startup-error $? $T/nftf.log
	# Without the flag nothing changes, and retisc says what to do.
	collect nftq -c skb-tracking,nft -p tp:$XMIT -o $T/nftq.json --cmd "sleep 0.2"
	grep -q "If an nft trace rule wasn't manually added nft events won't be reported" \
		$T/nftq.log && nft_no_table $T/nftq.log
	result nft-no-flag-no-change $? $T/nftq.log
	# The shipped profile runs.
	run_retisc nftp -p nft-dropmon collect --allow-system-changes -o $T/nftp.json \
		--cmd "sleep 0.2"
	grep -q "probe(s) loaded" $T/nftp.log && nft_no_table $T/nftp.log
	result nft-dropmon-profile $? $T/nftp.log
}

# --- ovs: a kernel datapath driven by ovs-dpctl alone (no ovs-vswitchd) ---
OVS_DP=vm-dp
# The flows' UFIDs, as OVS writes them (and retisc's flow_lookup text).
UFID_ARP_AB=11111111-2222-3333-4444-000000000001
UFID_ARP_BA=11111111-2222-3333-4444-000000000002
UFID_IP_AB=11111111-2222-3333-4444-000000000003
UFID_IP_BA=11111111-2222-3333-4444-000000000004

ovs_cleanup() {
	ovs-dpctl del-dp $OVS_DP 2>/dev/null
	# The root ends of the veths now: deleting the namespaces removes them
	# asynchronously, and the next topo_ovs would find them ("File exists").
	$IP link del veth-ao 2>/dev/null
	$IP link del veth-bo 2>/dev/null
	cleanup_ns
}

# A and B, each on a veth whose other end is a port of datapath vm-dp:
# veth-ao port 1, veth-bo port 2. No flow yet.
topo_ovs() {
	ovs_cleanup
	mkns $NS_A && mkns $NS_B &&
		$IP link add veth-oa netns $NS_A type veth peer name veth-ao &&
		$IP link add veth-ob netns $NS_B type veth peer name veth-bo &&
		$IP -n $NS_A addr add 10.202.0.1/24 dev veth-oa &&
		$IP -n $NS_B addr add 10.202.0.2/24 dev veth-ob &&
		$IP -n $NS_A link set veth-oa up && $IP -n $NS_B link set veth-ob up &&
		$IP link set veth-ao up && $IP link set veth-bo up &&
		ovs-dpctl add-dp $OVS_DP && ovs-dpctl add-if $OVS_DP veth-ao &&
		ovs-dpctl add-if $OVS_DP veth-bo
}

# ARP and IPv4 both ways, each flow with its UFID.
ovs_flows() {
	ovs-dpctl add-flow $OVS_DP "ufid:$UFID_ARP_AB,in_port(1),eth(),eth_type(0x0806),arp()" 2 &&
		ovs-dpctl add-flow $OVS_DP "ufid:$UFID_ARP_BA,in_port(2),eth(),eth_type(0x0806),arp()" 1 &&
		ovs-dpctl add-flow $OVS_DP "ufid:$UFID_IP_AB,in_port(1),eth(),eth_type(0x0800),ipv4()" 2 &&
		ovs-dpctl add-flow $OVS_DP "ufid:$UFID_IP_BA,in_port(2),eth(),eth_type(0x0800),ipv4()" 1
}

# ufid_of <in_port name> <eth_type>: the UFID ovs-dpctl shows for that flow.
ufid_of() {
	ovs-dpctl dump-flows -m $OVS_DP |
		sed -n "s/^ufid:\([0-9a-f-]*\), .*in_port($1).*eth_type($2).*/\1/p"
}

# (a) With flows: every echo request and reply keeps one id from A's (or
# B's) xmit through the flow lookup (the flow's UFID, as ovs-dpctl shows
# it) and the output action (to B's port 2, A's port 1) to the xmit on the
# other side. The lookup's kretprobe has no sk_buff argument: its packet
# comes from ovs_dp_process_packet's (RETISC_HOOK_STACK_SKB). The probes
# that only keep the collector's state emit nothing.
test_ovs_flows() {
	topo_ovs >$T/ovsf.setup 2>&1 && ovs_flows >>$T/ovsf.setup 2>&1 ||
		{ result ovs-flows-setup 1 $T/ovsf.setup; return; }
	local uab uba st
	ovs-dpctl dump-flows -m $OVS_DP >>$T/ovsf.setup 2>&1
	uab=$(ufid_of veth-ao 0x0800)
	uba=$(ufid_of veth-bo 0x0800)
	[ "$uab" = $UFID_IP_AB ] && [ "$uba" = $UFID_IP_BA ]
	result ovs-dpctl-shows-ufids $? $T/ovsf.setup
	collect ovsf -c skb-tracking,skb,ovs -p tp:$XMIT -f icmp -o $T/ovsf.json \
		--cmd "$IP netns exec $NS_A ping -c 3 -i 0.2 -W 2 10.202.0.2"
	st=$?
	single_line $T/ovsf.json
	# One sequence per id: X xmit, L<ufid> lookup hit, O<port> output.
	awk -v ab="$uab" -v ba="$uba" '/ \[(tp|kr)\] / {
		if (!match($0, /#[0-9a-f]+ /))
			next
		id = substr($0, RSTART, RLENGTH)
		if ($0 ~ / proto ICMP \(1\) type 8 code 0( |$)/)
			kind[id] = kind[id] "q"
		else if ($0 ~ / proto ICMP \(1\) type 0 code 0( |$)/)
			kind[id] = kind[id] "r"
		else
			kind[id] = kind[id] "?"
		if ($0 ~ /\[tp\] net:net_dev_start_xmit /)
			s = "X"
		else if (match($0, /\[kr\] ovs_flow_tbl_lookup_stats .* flow hit ufid [0-9a-f-]+ /))
			s = "L" substr($0, RSTART, RLENGTH)
		else if ($0 ~ /\[tp\] openvswitch:ovs_do_execute_action .* exec oport [0-9]+$/)
			s = "O" $NF
		else
			s = "other"
		sub(/^L.* ufid /, "L", s)
		sub(/ $/, "", s)
		seq[id] = seq[id] "," s
		if (!(id in seen)) {
			seen[id] = 1
			n++
		}
	}
	END {
		for (id in seq) {
			if (kind[id] == "qqqq" && seq[id] == ",X,L" ab ",O2,X")
				req++
			else if (kind[id] == "rrrr" && seq[id] == ",X,L" ba ",O1,X")
				rep++
			else
				print "unexpected: " id kind[id] seq[id]
		}
		exit !(n == 6 && req == 3 && rep == 3)
	}' $T/ovsf.txt >$T/ovsf.check 2>&1
	[ $? = 0 ] && [ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/ovsf.log
	result ovs-flow-hit-ufid-output-one-id $? $T/ovsf.setup $T/ovsf.check $T/ovsf.log $T/ovsf.txt
	# The JSON as Retis writes it.
	[ "$(grep -c '"ovs":{"event_type":"flow_lookup","flow":[1-9][0-9]*,"sf_acts":[1-9][0-9]*,"ufid":\[286331153,572666675,1145307136,3\],"n_mask_hit":1,"n_cache_hit":[01],"dpflow":"","ofpflows":\[\]}' $T/ovsf.json)" = 3 ] &&
		[ "$(grep -c '"ovs":{"event_type":"action_execute","action":"output","port":2,"recirc_id":0}' $T/ovsf.json)" = 3 ] &&
		! grep -qE '"symbol":"(ovs_dp_process_packet|ovs_execute_actions)"' $T/ovsf.json
	result ovs-flow-json $? $T/ovsf.json
	# Named by the user, ovs_execute_actions runs the generic hooks too.
	collect ovsn -c skb-tracking,skb,ovs -p kprobe:ovs_execute_actions -f icmp \
		-o $T/ovsn.json --cmd "$IP netns exec $NS_A ping -c 1 -W 2 10.202.0.2"
	[ "$(grep -c '"symbol":"ovs_execute_actions","probe_type":"kprobe"},"skb-tracking"' \
		$T/ovsn.json)" = 2 ]
	result ovs-named-probe-keeps-generic-hooks $? $T/ovsn.log $T/ovsn.json
	ovs_cleanup
}

# (b) No flow, nobody listening on the datapath's netlink port: A's ARP
# request misses, is upcalled (port 0, cmd miss), the upcall returns
# -ENOTCONN (its return event names the upcall's cpu and time) and the
# packet is dropped, all under one id.
test_ovs_upcall() {
	topo_ovs >$T/ovsu.setup 2>&1 || { result ovs-upcall-setup 1 $T/ovsu.setup; return; }
	collect ovsu -c skb-tracking,skb,skb-drop,ovs -f arp -o $T/ovsu.json \
		--cmd "$IP netns exec $NS_A ping -c 1 -W 1 10.202.0.2"
	local st=$?
	single_line $T/ovsu.json
	awk '/ \[(tp|kr)\] / && / request who-has 10\.202\.0\.2 tell 10\.202\.0\.1/ {
		if (!match($0, /#[0-9a-f]+ /))
			next
		id = substr($0, RSTART, RLENGTH)
		if ($0 ~ /\[kr\] ovs_flow_tbl_lookup_stats .* flow miss mask 0 cache 0$/) {
			s = "M"
		} else if ($0 ~ /\[tp\] openvswitch:ovs_dp_upcall .* upcall \(miss\) port 0 cpu [0-9]+$/) {
			s = "U"
			up[id] = $NF "/" $1
		} else if (match($0, /\[kr\] ovs_dp_upcall .* upcall_ret \([0-9]+\/[0-9]+\) ret -107$/)) {
			s = "R"
			r = $0
			sub(/.* upcall_ret \(/, "", r)
			sub(/\) ret -107$/, "", r)
			ret[id] = r
		} else if ($0 ~ /\[tp\] skb:kfree_skb .* drop \(reason [A-Z_]+\)/) {
			s = "D"
		} else {
			s = "?"
		}
		seq[id] = seq[id] s
	}
	END {
		for (id in seq) {
			print id seq[id], up[id], ret[id]
			if (seq[id] == "MURD" && up[id] == ret[id])
				ok++
		}
		exit !(ok >= 1)
	}' $T/ovsu.txt >$T/ovsu.check 2>&1
	[ $? = 0 ] && [ $st = 0 ] &&
		grep -q '"ovs":{"event_type":"upcall_return","upcall_ts":[0-9]*,"upcall_cpu":[0-9]*,"ret":-107}' $T/ovsu.json
	result ovs-upcall-enotconn-drop $? $T/ovsu.setup $T/ovsu.check $T/ovsu.log $T/ovsu.txt
	ovs_cleanup
}

# (d) The CT action's payload, NAT ranges included, from the module's
# private struct ovs_conntrack_info: A's IPv4 goes through
# ct(commit,zone=7,nat(dst=10.202.0.2-10.202.0.3:1000-1001,persistent)).
test_ovs_ct_nat() {
	topo_ovs >$T/ovsct.setup 2>&1 &&
		ovs-dpctl add-flow $OVS_DP "in_port(1),eth(),eth_type(0x0806),arp()" 2 &&
		ovs-dpctl add-flow $OVS_DP "in_port(2),eth(),eth_type(0x0806),arp()" 1 &&
		ovs-dpctl add-flow $OVS_DP "in_port(1),eth(),eth_type(0x0800),ipv4()" \
			"ct(commit,zone=7,nat(dst=10.202.0.2-10.202.0.3:1000-1001,persistent)),2" \
			>>$T/ovsct.setup 2>&1 || { result ovs-ct-setup 1 $T/ovsct.setup; return; }
	ovs-dpctl dump-flows $OVS_DP >>$T/ovsct.setup 2>&1
	collect ovsct -c skb-tracking,skb,ovs -f icmp -o $T/ovsct.json \
		--cmd "$IP netns exec $NS_A ping -c 1 -W 1 10.202.0.2"
	single_line $T/ovsct.json
	# flags: commit 1, ip4 4, nat 16, dst 64, map ips 128, ports 256, persistent 1024.
	grep -q '"ovs":{"event_type":"action_execute","action":"ct","flags":1493,"zone_id":7,"nat":{"dir":"dst","min_addr":"10.202.0.2","max_addr":"10.202.0.3","min_port":1000,"max_port":1001},"recirc_id":0}' $T/ovsct.json &&
		grep -qE '\[tp\] openvswitch:ovs_do_execute_action .* exec ct zone 7 nat\(dst=10\.202\.0\.2-10\.202\.0\.3:1000-1001\) commit,persistent$' $T/ovsct.txt
	result ovs-ct-nat-range $? $T/ovsct.setup $T/ovsct.log $T/ovsct.txt
	ovs_cleanup
}

# (e) Debian's own ovs-vswitchd (3.1: no USDT probes, no ofproto/detrace)
# on the kernel datapath, a bridge with the NORMAL action, run from
# $T/ovsr. The first ping's packets are real upcalls (a netlink port,
# upcall_return 0) that ovs-vswitchd sends back for execution and turns
# into datapath flows; the later ones hit those flows. --ovs-enrich-flows
# asks it over its control socket for each flow hit: ovs-detrace events
# whose dpflow is ovs-vswitchd's, which sort copies into the flow lookups.
OVSR=
ovs_real_stop() {
	local p
	[ -n "$OVSR" ] || return 0
	for p in ovs-vswitchd ovsdb-server; do
		[ -s $OVSR/$p.pid ] && kill "$(cat $OVSR/$p.pid)" 2>/dev/null
	done
	sleep 1
	# Its datapath outlives it (and holds the module).
	ovs-dpctl del-dp ovs-system 2>/dev/null
	OVSR=
}

test_ovs_real() {
	ovs_cleanup
	OVSR=$T/ovsr
	rm -rf $OVSR && mkdir -p $OVSR
	(
		export OVS_RUNDIR=$OVSR OVS_DBDIR=$OVSR OVS_LOGDIR=$OVSR OVS_SYSCONFDIR=$OVSR
		mkns $NS_A && mkns $NS_B &&
			$IP link add veth-oa netns $NS_A type veth peer name veth-ao &&
			$IP link add veth-ob netns $NS_B type veth peer name veth-bo &&
			$IP -n $NS_A addr add 10.202.0.1/24 dev veth-oa &&
			$IP -n $NS_B addr add 10.202.0.2/24 dev veth-ob &&
			$IP -n $NS_A link set veth-oa up && $IP -n $NS_B link set veth-ob up &&
			$IP link set veth-ao up && $IP link set veth-bo up &&
			ovsdb-tool create $OVSR/conf.db /usr/share/openvswitch/vswitch.ovsschema &&
			ovsdb-server $OVSR/conf.db --remote=punix:$OVSR/db.sock \
				--pidfile=$OVSR/ovsdb-server.pid --unixctl=$OVSR/ovsdb-server.ctl \
				--log-file=$OVSR/ovsdb-server.log --detach &&
			ovs-vsctl --timeout=60 --db=unix:$OVSR/db.sock --no-wait init &&
			/usr/lib/openvswitch-switch/ovs-vswitchd unix:$OVSR/db.sock \
				--pidfile=$OVSR/ovs-vswitchd.pid --log-file=$OVSR/ovs-vswitchd.log --detach &&
			ovs-vsctl --timeout=60 --db=unix:$OVSR/db.sock add-br br-vm -- \
				add-port br-vm veth-ao -- add-port br-vm veth-bo
	) >$T/ovsr.setup 2>&1 || {
		cat $OVSR/*.log >>$T/ovsr.setup 2>/dev/null
		result ovs-real-setup 1 $T/ovsr.setup
		ovs_real_stop
		ovs_cleanup
		return
	}
	OVS_RUNDIR=$OVSR collect ovsr -c skb-tracking,skb,ovs --ovs-enrich-flows -f icmp \
		-o $T/ovsr.json --cmd "$IP netns exec $NS_A ping -c 4 -i 0.3 -W 2 10.202.0.2"
	local st=$?
	ovs-appctl -t $OVSR/ovs-vswitchd.$(cat $OVSR/ovs-vswitchd.pid).ctl dpctl/dump-flows \
		>>$T/ovsr.setup 2>&1
	ovs_real_stop
	cat $OVSR/ovs-vswitchd.log >>$T/ovsr.setup 2>/dev/null
	single_line $T/ovsr.json
	$RETISC sort $T/ovsr.json >$T/ovsr.sorted 2>&1
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/ovsr.log &&
		grep -q "ovs: Running OpenvSwitch does not support 'ofproto/detrace', only datapath flows will be enriched" $T/ovsr.log &&
		grep -qE '\[tp\] openvswitch:ovs_dp_upcall .* upcall \(miss\) port [1-9][0-9]* cpu' $T/ovsr.txt &&
		grep -qE '\[kr\] ovs_dp_upcall .* upcall_ret \([0-9]+/[0-9]+\) ret 0$' $T/ovsr.txt &&
		grep -qE '\[kr\] ovs_flow_tbl_lookup_stats .* flow hit ufid [0-9a-f-]+ mask' $T/ovsr.txt &&
		grep -qE 'exec oport [0-9]+$' $T/ovsr.txt
	result ovs-real-vswitchd-upcalls-and-hits $? $T/ovsr.setup $T/ovsr.log $T/ovsr.txt
	# The enrichment: an ovs-detrace event for a flow the lookups hit,
	# its dpflow ovs-vswitchd's (IPv4, with actions), copied by sort.
	local u
	u=$(sed -n 's/.*"ovs-detrace":{"ufid":\[\([0-9,]*\)\].*"dpflow":"[^"]*eth_type(0x0800)[^"]*actions:[^"]*".*/\1/p' $T/ovsr.json | head -1)
	[ -n "$u" ] &&
		grep -q "\"event_type\":\"flow_lookup\",\"flow\":[1-9][0-9]*,\"sf_acts\":[0-9]*,\"ufid\":\[$u\]" $T/ovsr.json &&
		grep -qE '^ *odpflow .*eth_type\(0x0800\).*actions:' $T/ovsr.sorted
	result ovs-real-enrich-flows $? $T/ovsr.json $T/ovsr.sorted
	ovs_cleanup
}

# can_run: without kprobes, and without the module (put back after).
test_ovs_can_run() {
	local m
	collect ovsc1 -c ovs --tracking-mode tracepoint --cmd true
	grep -q "Cannot run collector ovs: kprobes are not available on this kernel (needed by the ovs collector)" \
		$T/ovsc1.log
	result ovs-needs-kprobes $? $T/ovsc1.log
	ovs_cleanup
	m=$(grep '/openvswitch\.ko' /etc/modules.order | cut -d' ' -f1)
	rmmod openvswitch >$T/ovsc2.log 2>&1
	collect ovsc2b -c ovs --cmd true
	grep -q "Cannot run collector ovs: Kernel module 'openvswitch' is not loaded" $T/ovsc2b.log
	result ovs-needs-openvswitch $? $T/ovsc2.log $T/ovsc2b.log
	insmod "$m" && grep -q "^openvswitch " /proc/modules
	result ovs-module-back $? $T/ovsc2.log
	# --ovs-track without an ovs-vswitchd.
	collect ovsc3 -c ovs --ovs-track --cmd true
	grep -q "ovs: --ovs-track: Process not found (ovs-vswitchd)" $T/ovsc3.log
	result ovs-track-no-process $? $T/ovsc3.log
}

# (c) --ovs-track with the kernel side: /usr/sbin/ovs-vswitchd is
# tests/vm/ovs_mini_vswitchd.c, which really handles the datapath's
# upcalls (its vports send them to its netlink socket; it sends each
# packet back with an output action to the other port, and installs no
# flow) and fires OVS's USDT probes around that work (recv_upcall with the
# packet received, op_flow_put without a real put, op_flow_execute).
# A's ping to B then only works through it. Each echo request and reply
# must give, in one series of `sort`: the upcall, its upcall_enqueue, the
# recv_upcall, the put and the execute with the same queue id, and the
# re-injected packet's output action carrying that queue id; ARP, filtered
# out by -f icmp, gives no USDT event (no upcall_enqueue: skipped).
test_ovs_track() {
	local mini st q
	topo_ovs >$T/ovst.setup 2>&1 || { result ovs-track-setup 1 $T/ovst.setup; return; }
	ovs-vswitchd $OVS_DP 1 2 >$T/ovst.mini 2>&1 &
	mini=$!
	for _ in $(seq 50); do
		grep -q ready $T/ovst.mini && break
		sleep 0.1
	done
	collect ovst -c skb-tracking,skb,ovs --ovs-track -f icmp -o $T/ovst.json \
		--cmd "$IP netns exec $NS_A ping -c 1 -W 3 10.202.0.2"
	st=$?
	kill $mini
	wait $mini 2>/dev/null
	single_line $T/ovst.json
	$RETISC sort $T/ovst.json >$T/ovst.sorted 2>&1
	[ $st = 0 ] && grep -q "Command returned (exit status: 0)" $T/ovst.log &&
		grep -q "executed" $T/ovst.mini
	result ovs-track-ping-through-userspace $? $T/ovst.setup $T/ovst.mini $T/ovst.log
	# Per queue id (one per ICMP packet), the events of each kind.
	for q in $(sed -n 's/.*"event_type":"upcall_enqueue".*"queue_id":\([0-9]*\).*/\1/p' $T/ovst.json); do
		echo "q $q:" \
			"enqueue=$(grep -c "\"event_type\":\"upcall_enqueue\",\"ret\":0,.*\"queue_id\":$q}" $T/ovst.json)" \
			"recv=$(grep -c "\"event_type\":\"recv_upcall\",.*\"queue_id\":$q," $T/ovst.json)" \
			"put=$(grep -c "\"op_type\":\"put\",\"queue_id\":$q," $T/ovst.json)" \
			"exec=$(grep -c "\"op_type\":\"exec\",\"queue_id\":$q," $T/ovst.json)" \
			"action=$(grep -c "\"event_type\":\"action_execute\",\"action\":\"output\",\"port\":[12],\"recirc_id\":0,\"queue_id\":$q}" $T/ovst.json)"
	done >$T/ovst.check
	[ "$(grep -c 'enqueue=1 recv=1 put=1 exec=1 action=1$' $T/ovst.check)" = 2 ] &&
		[ "$(grep -c '"event_type":"recv_upcall"' $T/ovst.json)" = 2 ] &&
		[ "$(grep -c '"event_type":"flow_operation"' $T/ovst.json)" = 4 ]
	result ovs-track-queue-ids $? $T/ovst.check $T/ovst.txt
	# sort: two series (request, reply), each upcall -> ... -> output q.
	awk '
		/^[0-9]/ && !/collected|^[0-9]+$/ { n++; s[n] = "" }
		/upcall \(miss\) port [0-9]+ cpu/ { s[n] = s[n] "U" }
		/upcall_enqueue \(miss\) \([0-9]+\/[0-9]+\) q [0-9]+ ret 0$/ { s[n] = s[n] "E" }
		/upcall_recv q [0-9]+ pkt_size 98$/ { s[n] = s[n] "R" }
		/flow_put q [0-9]+ ts [0-9]+ \(0\)$/ { s[n] = s[n] "P" }
		/flow_exec q [0-9]+ ts [0-9]+ \(0\)$/ { s[n] = s[n] "X" }
		/exec oport [12] q [0-9]+$/ { s[n] = s[n] "O" }
		END {
			for (i = 1; i <= n; i++) {
				print i, s[i]
				if (s[i] ~ /^UE.*R.*P.*X.*O/)
					ok++
			}
			exit ok != 2
		}' $T/ovst.sorted >$T/ovst.series 2>&1
	result ovs-track-sort-one-series $? $T/ovst.series $T/ovst.sorted
	ovs_cleanup
}

# Whatever the tests saw, the kernel must not have complained.
# A guest's half of the fleet test on three kernels (tests/vm/fleet.sh,
# which runs the host's half and checks the stitched journeys): run only
# when selected. /etc/fleet sets FLEET_NAME (host name), FLEET_ADDR
# (address/prefix of eth0), FLEET_URL (sink), FLEET_PEER (the other
# guest's address), FLEET_PROBES and FLEET_FILTER. The guest, with a
# machine id of its own, collects with kprobe tracking and publishes to
# the host's nats-server over its NIC. The host's connections: port 5001
# takes data, port 5003 makes the guest ping its peer (the packets cross
# the host's bridge: three kernels on one journey), port 5002 ends the
# collection. The console line "fleet: ready" tells the host that the
# probes are attached.
test_fleet() {
	local st srv pinger
	. /etc/fleet
	[ -n "${FLEET_URL:-}" ] || { result fleet-config 1; return; }
	hostname "$FLEET_NAME"
	tr -d - </proc/sys/kernel/random/uuid >/etc/machine-id
	mkdir -p /var/tmp
	$IP link set lo up && $IP addr add "$FLEET_ADDR" dev eth0 && $IP link set eth0 up ||
		{ result fleet-eth0 1; return; }
	printf '#!/bin/sh\ncat >/dev/null\n' >$T/sink.sh
	printf '#!/bin/sh\nping -c 3 -i 0.3 -W 5 %s\n' "$FLEET_PEER" >$T/ping-peer.sh
	chmod +x $T/sink.sh $T/ping-peer.sh
	nc -ll -p 5001 -e $T/sink.sh &
	srv=$!
	nc -ll -p 5003 -e $T/ping-peer.sh &
	pinger=$!
	# The --cmd waits for the host's "done" connection; the console is
	# the one channel the host reads.
	RETISC_NATS_DRAIN_MS=60000 timeout -s INT 240 $RETISC collect -c skb-tracking,skb \
		$FLEET_PROBES -f "$FLEET_FILTER" -o $T/fleet.json --sink "$FLEET_URL" \
		--cmd "echo fleet: ready >/dev/console; nc -l -p 5002 >/dev/null" >$T/fleet.log 2>&1
	st=$?
	echo "exit status $st" >>$T/fleet.log
	kill $srv $pinger 2>/dev/null
	wait $srv $pinger 2>/dev/null
	echo "fleet: $FLEET_NAME wrote $(wc -l <$T/fleet.json) event(s)"
	# The host compares them with what the stream holds.
	sed 's/^/fleet-json: /' $T/fleet.json
	# Every event the file got reached the server.
	[ $st = 0 ] && grep -q "sink $FLEET_URL: $(wc -l <$T/fleet.json) event(s) delivered" \
		$T/fleet.log && ! grep -q "event(s) lost" $T/fleet.log
	result fleet-guest-collect-sink $? $T/fleet.log
}

test_kernel_log() {
	dmesg >$T/dmesg.txt
	! grep -qE "BUG|WARNING|Oops|RIP:|general protection|refcount_t" $T/dmesg.txt
	result kernel-log-clean $? $T/dmesg.txt
}

TESTS=$(cat /etc/tests)
[ -n "$TESTS" ] ||
	TESTS="modules ping user_kprobe free_probe_merge head_realloc tcp tcp_ids
		tracepoint_mode head_realloc_tp skb_dev_ns skb_drop ct filter_pcap filter_meta
		profile_generic kretprobe_args module_probes meta_module_cast probe_stack
		nft_drop nft_jump_policy nft_dnat nft_exit_paths ovs_flows ovs_upcall ovs_track ovs_ct_nat ovs_real ovs_can_run
		kernel_log"
for t in $TESTS; do
	echo "vm: test $t"
	if type test_$t >/dev/null 2>&1; then
		test_$t
	else
		result "$t (no such test)" 1
	fi
done
cleanup_ns
echo
echo "$PASS passed, $FAIL failed"
sync
poweroff -f
