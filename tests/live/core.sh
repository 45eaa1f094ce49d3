# The foundation (sourced by tests/run-live.sh): collect to a file and to
# stdout, print, stop conditions, SIGINT and a full disk mid-write, bad
# input, plugins.

# Foundation: ping through a veth pair, skb-tracking on the default probes.
test_collect_ping_tracking() {
	topo_pair || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/ping.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 10.201.0.2" >"$TMP/ping.log" 2>&1 ||
		{ cat "$TMP/ping.log"; return 1; }
	grep -q "event(s) processed" "$TMP/ping.log" || return 1
	$CHECK ping-tracking "$TMP/ping.json"
}

# The file reads back with print; text lines carry the ids.
test_print_collected() {
	[ -s "$TMP/ping.json" ] || test_collect_ping_tracking || return 1
	"$RETISC" print "$TMP/ping.json" >"$TMP/ping.txt" || return 1
	# Whose file it is, and which Retis format (Retis's own files keep
	# "collected with Retis vX").
	grep -qx "  collected with retisc $("$RETISC" -V | cut -d' ' -f2) (Retis v1.7.0 event format)" \
		"$TMP/ping.txt" || { head -3 "$TMP/ping.txt"; return 1; }
	"$RETISC" stats "$TMP/ping.json" | grep -qx "retisc version: [0-9.]* (Retis v1.7.0 event format)" ||
		return 1
	grep -q '"retis_version":"v1.7.0","retisc_version":"[0-9.]*"' "$TMP/ping.json" || return 1
	grep -qE '^[0-9]+ \([0-9]+\) \[ping\] [0-9]+ \[tp\] net:net_dev_start_xmit #[0-9a-f]+ \(skb [0-9a-f]+\)$' \
		"$TMP/ping.txt" || { head -20 "$TMP/ping.txt"; return 1; }
	"$RETISC" print --format single-line "$TMP/ping.json" >"$TMP/ping1.txt" || return 1
	[ "$(grep -c . "$TMP/ping1.txt")" = "$(wc -l <"$TMP/ping.json")" ]
}

# Text output to stdout when there is no -o; --stop-after stops the run.
test_stdout_and_stop_after() {
	topo_pair || return 1
	ip netns exec $NS_A ping -c 50 -i 0.05 10.201.0.2 >/dev/null 2>&1 &
	local pid=$!
	timeout 30 "$RETISC" collect -c skb-tracking $IFDUMP --format single-line --stop-after 4 \
		>"$TMP/stdout.txt" 2>"$TMP/stdout.log"
	local st=$?
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $st = 0 ] || { cat "$TMP/stdout.log"; return 1; }
	grep -q "Reached stop count (4)" "$TMP/stdout.log" || { cat "$TMP/stdout.log"; return 1; }
	[ "$(grep -c '\[tp\] net:' "$TMP/stdout.txt")" = 4 ] || { cat "$TMP/stdout.txt"; return 1; }
}

# SIGINT mid-write: every event read is written and the file stays valid.
test_sigint_mid_write() {
	topo_pair || return 1
	ip netns exec $NS_A ping -f -w 20 10.201.0.2 >/dev/null 2>&1 &
	local ping=$!
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/int.json" >"$TMP/int.log" 2>&1 &
	local pid=$!
	sleep 2
	kill -INT $pid
	wait $pid
	local st=$?
	kill $ping 2>/dev/null
	wait $ping 2>/dev/null
	[ $st = 0 ] || { cat "$TMP/int.log"; return 1; }
	local n
	n=$(grep -o '[0-9]* event(s) processed' "$TMP/int.log" | cut -d' ' -f1)
	[ -n "$n" ] && [ "$n" -gt 0 ] || { cat "$TMP/int.log"; return 1; }
	$CHECK valid-file "$TMP/int.json" "$n"
}

# SIGKILL (doc/files.md §8): after a 2 s ping flood and three pings, the
# file holds complete lines only, the flood's first second, and the three
# pings (older than the flush window: 150 ms, or the bus's 10 ms idle poll).
# Nothing BPF is left behind: the programs, maps and links go with the
# process's file descriptors.
test_sigkill_keeps_events() {
	topo_pair || return 1
	local before after
	before=$(bpftool prog show 2>/dev/null | grep -c "name retisc_")
	"$RETISC" collect -c skb-tracking,skb $IFDUMP -o "$TMP/kill.json" >"$TMP/kill.log" 2>&1 &
	local pid=$!
	local i
	for i in $(seq 1 50); do
		grep -q "probe(s) loaded" "$TMP/kill.log" && break
		sleep 0.1
	done
	local t0
	t0=$(python3 -c 'import time; print(time.monotonic_ns())')
	ip netns exec $NS_A ping -f -w 2 10.201.0.2 >/dev/null 2>&1
	# Then three pings, and the kill half a second later (the case that
	# lost everything when only a full buffer was written).
	ip netns exec $NS_A ping -c 3 -i 0.2 10.201.0.2 >/dev/null 2>&1
	sleep 0.5
	kill -KILL $pid
	wait $pid 2>/dev/null
	# The kernel frees programs held by program arrays from a work queue:
	# give it a few seconds.
	for i in $(seq 1 100); do
		after=$(bpftool prog show 2>/dev/null | grep -c "name retisc_")
		[ "$after" -le "$before" ] && break
		sleep 0.1
	done
	[ "$after" -le "$before" ] || { echo "BPF programs left: $before before, $after after"; return 1; }
	$CHECK killed-file "$TMP/kill.json" "$t0"
}

# --allow-system-changes without tracefs (doc/cli.md §3.7): retisc mounts
# it for itself (a group wildcard resolves through it), and after the run,
# SIGKILL included, the namespace retisc ran in has no tracefs mount.
test_tracefs_private_mount() {
	local st
	unshare -m --propagation private sh -c "
		umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null
		mountpoint -q /sys/kernel/tracing && exit 3
		'$RETISC' collect -c skb-tracking -p 'tp:net:net_dev_start_*' --allow-system-changes \
			--cmd 'mountpoint -q /sys/kernel/tracing' >'$TMP/tfs.log' 2>&1 || exit 4
		mountpoint -q /sys/kernel/tracing && exit 5
		'$RETISC' collect -c skb-tracking -p 'tp:net:net_dev_start_*' --allow-system-changes \
			>'$TMP/tfs-kill.log' 2>&1 &
		pid=\$!
		for i in \$(seq 1 50); do grep -q 'probe(s) loaded' '$TMP/tfs-kill.log' && break; sleep 0.1; done
		kill -KILL \$pid; wait \$pid
		mountpoint -q /sys/kernel/tracing && exit 6
		exit 0"
	st=$?
	[ $st = 0 ] || { echo "step $st"; cat "$TMP/tfs.log" "$TMP/tfs-kill.log"; return 1; }
	grep -q "Command returned (exit status: 0)" "$TMP/tfs.log" ||
		{ cat "$TMP/tfs.log"; return 1; }
}

# A full disk: the error names the file, what was written stays valid.
test_full_disk() {
	topo_pair || return 1
	mkdir -p "$TMP/full" && mount -t tmpfs -o size=64k tmpfs "$TMP/full" || return 1
	ip netns exec $NS_A ping -f -w 20 10.201.0.2 >/dev/null 2>&1 &
	local ping=$!
	timeout 30 "$RETISC" collect -c skb-tracking $IFDUMP -o "$TMP/full/ev.json" >"$TMP/full.log" 2>&1
	local st=$?
	kill $ping 2>/dev/null
	wait $ping 2>/dev/null
	umount "$TMP/full" 2>/dev/null
	mkdir -p "$TMP/full" && mount -t tmpfs -o size=64k tmpfs "$TMP/full"
	[ $st = 1 ] || { echo "exit $st"; cat "$TMP/full.log"; return 1; }
	grep -q "Cannot write to $TMP/full/ev.json: No space left on device" "$TMP/full.log" ||
		{ cat "$TMP/full.log"; return 1; }
}

# Disk full in a rotated set (doc/files.md §5, §8): a 1.5 MB tmpfs, 1 MB
# files. The error names the file being written and the name it is kept
# as; the set is ev.json.0 .. ev.json.N, nothing left as ev.json, each file
# starting with its startup line and holding complete lines only.
test_full_disk_rotation() {
	local d="$TMP/fullrot" st ping
	topo_pair || return 1
	mkdir -p "$d" && mount -t tmpfs -o size=1536k tmpfs "$d" || return 1
	ip netns exec $NS_A ping -f -w 30 10.201.0.2 >/dev/null 2>&1 &
	ping=$!
	timeout 40 "$RETISC" collect -c skb-tracking,skb $IFDUMP -o "$d/ev.json" --out-rotate 1MB \
		>"$TMP/fullrot.log" 2>&1
	st=$?
	kill $ping 2>/dev/null
	wait $ping 2>/dev/null
	[ $st = 1 ] &&
		grep -q "Cannot write to $d/ev.json (file 1 of the rotated set, kept as $d/ev.json.1): No space left on device; stopping" \
			"$TMP/fullrot.log" &&
		grep -q "Wrote 2 event file(s)" "$TMP/fullrot.log" ||
		{ echo "exit $st"; cat "$TMP/fullrot.log"; umount "$d"; return 1; }
	$CHECK rotated-set "$d/ev.json" 2
	st=$?
	umount "$d"
	return $st
}

# The output directory removed while collecting (doc/files.md §8): the
# file is unlinked, its events lost. Noticed at the next flush (under
# traffic: the collection stops by itself) or at the end: an error naming
# the path, exit status 1.
test_output_dir_removed() {
	local d="$TMP/gone" st ping pid i
	topo_pair || return 1
	mkdir -p "$d" || return 1
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$d/ev.json" --cmd "rm -rf $d" \
		>"$TMP/gone1.log" 2>&1
	st=$?
	[ $st = 1 ] &&
		grep -q "ERROR $d/ev.json was removed while collecting (or its directory was): the events written to it are lost" "$TMP/gone1.log" &&
		grep -q "Cannot finish writing $d/ev.json: No such file or directory" "$TMP/gone1.log" ||
		{ echo "idle: exit $st"; cat "$TMP/gone1.log"; return 1; }
	mkdir -p "$d" || return 1
	ip netns exec $NS_A ping -f -w 30 10.201.0.2 >/dev/null 2>&1 &
	ping=$!
	"$RETISC" collect -c skb-tracking $IFDUMP -o "$d/ev.json" >"$TMP/gone2.log" 2>&1 &
	pid=$!
	for i in $(seq 50); do
		grep -q "probe(s) loaded" "$TMP/gone2.log" && break
		sleep 0.1
	done
	sleep 0.5
	rm -rf "$d"
	for i in $(seq 50); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill $ping 2>/dev/null
	wait $ping 2>/dev/null
	if kill -0 $pid 2>/dev/null; then
		kill $pid
		wait $pid
		echo "still collecting 5 s after the directory went"
		return 1
	fi
	wait $pid
	st=$?
	[ $st = 1 ] &&
		grep -q "ERROR $d/ev.json was removed while collecting" "$TMP/gone2.log" &&
		grep -q "Cannot write to $d/ev.json: No such file or directory; stopping$" "$TMP/gone2.log" ||
		{ echo "traffic: exit $st"; cat "$TMP/gone2.log"; return 1; }
}

# A collector that crashes (SIGSEGV) in init() and in start(), once the
# BPF programs are attached (tests/plugins/crash_collector.c, ordered after
# nft): retisc dies of the signal; within 5 s no retisc BPF program is left
# and no trace table of nft's netlink path (doc/collectors.md §7.8) in
# retisc's namespace (M) nor in A and B.
test_collector_crash() {
	local d="$TMP/crashplug" at st i before after tabs
	topo_pair && ip netns add $NS_M || return 1
	mkdir -p "$d" && ln -sf "$(dirname "$RETISC")/tests/plugins/crash_collector.so" "$d/" ||
		return 1
	before=$(bpftool prog show 2>/dev/null | grep -c "name retisc_")
	for at in init start; do
		RETISC_TEST_CRASH=$at ip netns exec $NS_M "$RETISC" --plugin-dir "$d" collect \
			-c skb-tracking,skb,nft,crash-collector --allow-system-changes \
			-p tp:net:net_dev_start_xmit -p tp:net:netif_receive_skb -o "$TMP/crash.json" \
			>"$TMP/crash-$at.log" 2>&1
		st=$?
		[ $st = 139 ] || { echo "$at: exit $st, not SIGSEGV"; cat "$TMP/crash-$at.log"; return 1; }
		if [ $at = start ]; then
			grep -q "probe(s) loaded\|trace table inet retisc_trace added" "$TMP/crash-$at.log" ||
				{ echo "start: crashed too early"; cat "$TMP/crash-$at.log"; return 1; }
		fi
		for i in $(seq 50); do
			after=$(bpftool prog show 2>/dev/null | grep -c "name retisc_")
			tabs=$(for ns in $NS_A $NS_B $NS_M; do ip netns exec $ns nft list tables; done |
				grep -c "^table inet retisc_trace$")
			[ "$after" -le "$before" ] && [ "$tabs" = 0 ] && break
			sleep 0.1
		done
		[ "$after" -le "$before" ] && [ "$tabs" = 0 ] ||
			{ echo "$at: left behind: $((after - before)) BPF program(s), $tabs trace table(s)"; return 1; }
	done
}

test_bad_input() {
	expect_fail 2 "invalid value 'nope' for '--collectors': unknown collector \(available: auto, skb-tracking, skb, skb-drop" \
		"$RETISC" collect -c nope --cmd true || return 1
	expect_fail 1 "Could not find a tracepoint matching 'nope:nope'" \
		"$RETISC" collect -c skb-tracking -p tp:nope:nope --cmd true || return 1
	expect_fail 1 "Invalid TYPE foo. See the help." \
		"$RETISC" collect -c skb-tracking -p foo:bar:baz --cmd true || return 1
	expect_fail 1 "'bogus' is an invalid probe option." \
		"$RETISC" collect -c skb-tracking -p tp:skb:kfree_skb/bogus --cmd true || return 1
	expect_fail 1 "Empty options are not allowed" \
		"$RETISC" collect -c skb-tracking -p tp:skb:kfree_skb/ --cmd true || return 1
	expect_fail 1 "Cannot create output file /proc/nonexistent/x.json" \
		"$RETISC" collect -c skb-tracking $IFDUMP -o /proc/nonexistent/x.json --cmd true || return 1
	expect_fail 2 "cannot be used multiple times" \
		"$RETISC" collect --utc --utc --cmd true || return 1
	expect_fail 2 "unrecognized subcommand 'frobnicate'" "$RETISC" frobnicate || return 1
	expect_fail 1 "needs CAP_SYS_ADMIN and CAP_BPF" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$RETISC" collect -c skb-tracking $IFDUMP --cmd true || return 1
}

# kprobes cannot attach on this kernel: a clear error, never a crash. On a
# kernel where they attach (the VM lane) the probe must simply work.
test_kprobe_refused() {
	local out st
	out=$("$RETISC" collect -c skb-tracking -p k:ip_rcv --cmd true 2>&1)
	st=$?
	if grep -q "skb tracking uses kprobes" <<<"$out"; then
		[ $st = 0 ] || { echo "$out"; return 1; }
		return 0
	fi
	[ $st = 1 ] || { echo "exit $st"; echo "$out"; return 1; }
	grep -q "kprobes are not available on this kernel" <<<"$out" || { echo "$out"; return 1; }
}

test_print_malformed_line() {
	printf '%s\n' \
		'{"common":{"timestamp":1},"startup":{"retis_version":"v1.7.0","cmdline":"x","clock_monotonic_offset":{"sec":0,"nsec":0},"machine":{"kernel_release":"a","kernel_version":"b","hardware_name":"c"}}}' \
		'{"common":{"timestamp":2,"smp_id":0,"task":{"pid":1,"tgid":1,"comm":"a"}},"kernel":{"symbol":"net:x","probe_type":"raw_tracepoint"}}' \
		'{"common":{"timestamp":3,' >"$TMP/bad.json"
	expect_fail 1 "$TMP/bad.json:3: " "$RETISC" print "$TMP/bad.json" || return 1
	# What came before the bad line was printed.
	"$RETISC" print "$TMP/bad.json" 2>/dev/null | grep -q '^2 (0) \[a\] 1 \[tp\] net:x$'
}

test_plugin_list() {
	local out
	out=$("$RETISC" plugin list) || return 1
	grep -q "^skb-tracking " <<<"$out" &&
		grep -q "collector skb-tracking (1 hook), section skb-tracking (owner 4)" <<<"$out"
}
