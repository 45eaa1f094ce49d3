# Processors (sort, stats, pcap, schema) on real collections, and their
# process-level behaviour (signals, broken pipes, exit statuses). Sourced by
# tests/run-live.sh, which provides $RETISC, $TMP, $NS_A/$NS_B, topo_pair.

PCHECK="python3 $HERE/live/check_processors.py"

proc_has_collector() {
	"$RETISC" plugin list 2>/dev/null | grep -qE "(registers:|,) collector $1( |,|$)"
}

# A startup line and n events of n/2 packets (two events each), for the
# process-level tests that need no BPF.
proc_gen_events() { # proc_gen_events <file> <n>
	python3 - "$1" "$2" <<-'EOF'
		import json, sys
		n = int(sys.argv[2])
		with open(sys.argv[1], "w") as f:
		    f.write(json.dumps({"common": {"timestamp": 1}, "startup": {
		        "retis_version": "v1.7.0", "cmdline": "gen",
		        "clock_monotonic_offset": {"sec": 0, "nsec": 0},
		        "machine": {"kernel_release": "a", "kernel_version": "b",
		                    "hardware_name": "c"}}}, separators=(",", ":")) + "\n")
		    for i in range(n):
		        k = i // 2 + 1
		        f.write(json.dumps({"common": {"timestamp": 10 * k + i % 2},
		            "kernel": {"symbol": "ip_rcv", "probe_type": "kprobe"},
		            "skb-tracking": {"orig_head": k, "timestamp": 10 * k, "skb": 7}},
		            separators=(",", ":")) + "\n")
	EOF
}

# Collect pings, sort them, print the sorted file, and export the packets
# when the skb collector exists.
test_proc_live_round_trip() {
	topo_pair || return 1
	local cols=skb-tracking st
	proc_has_collector skb && cols=skb-tracking,skb
	"$RETISC" collect -c $cols $IFDUMP -o "$TMP/proc.json" \
		--cmd "ip netns exec $NS_A ping -c 5 -i 0.2 -W 1 10.201.0.2" \
		>"$TMP/proc.log" 2>&1 || { cat "$TMP/proc.log"; return 1; }

	"$RETISC" sort "$TMP/proc.json" -o "$TMP/proc.sorted" || return 1
	$PCHECK sorted "$TMP/proc.json" "$TMP/proc.sorted" || return 1
	# Same series with a tiny buffer: packets split, idx going on.
	"$RETISC" process sort --max-buffer 2 "$TMP/proc.json" -o "$TMP/proc.mb2" || return 1
	$PCHECK sorted "$TMP/proc.json" "$TMP/proc.mb2" || return 1

	# The sorted file prints as series; sort's own text is the same.
	"$RETISC" print "$TMP/proc.sorted" >"$TMP/proc.sorted.txt" || return 1
	"$RETISC" sort "$TMP/proc.json" >"$TMP/proc.sort.txt" || return 1
	cmp -s "$TMP/proc.sorted.txt" "$TMP/proc.sort.txt" ||
		{ diff "$TMP/proc.sorted.txt" "$TMP/proc.sort.txt" | head -20; return 1; }
	grep -qE '^  ↳ [0-9]+ \([0-9]+\) \[.*\] .* #[0-9a-f]+ \(skb [0-9a-f]+\) n [1-9]' \
		"$TMP/proc.sorted.txt" || { head -30 "$TMP/proc.sorted.txt"; return 1; }

	"$RETISC" stats "$TMP/proc.json" >"$TMP/proc.stats" || return 1
	grep -q "^Number of events: $(($(wc -l <"$TMP/proc.json") - 1))$" "$TMP/proc.stats" ||
		{ cat "$TMP/proc.stats"; return 1; }
	grep -q "^  raw_tracepoint/net:net_dev_start_xmit: " "$TMP/proc.stats" || return 1

	local pkts
	pkts=$($PCHECK packets "$TMP/proc.json") || return 1
	if [ "$pkts" = 0 ]; then
		echo "no packet section in the events (no skb collector): pcap not exercised"
		return 0
	fi
	"$RETISC" pcap -o "$TMP/proc.pcapng" "$TMP/proc.json" >"$TMP/pcap.log" 2>&1 ||
		{ cat "$TMP/pcap.log"; return 1; }
	st=$(tshark -r "$TMP/proc.pcapng" -Y eth -T fields -e frame.interface_name 2>/dev/null |
		grep -c .)
	[ "$st" = "$pkts" ] || { echo "tshark sees $st packets, $pkts expected"; return 1; }
	tshark -r "$TMP/proc.pcapng" -Y icmp -T fields -e frame.comment 2>/dev/null |
		grep -q '\[tp\] net:net_dev_start_xmit #' || return 1
	# -p keeps one probe only.
	"$RETISC" pcap -p net:net_dev_start_xmit -o "$TMP/proc-xmit.pcapng" "$TMP/proc.json" \
		2>/dev/null || return 1
	tshark -r "$TMP/proc-xmit.pcapng" -Y eth -T fields -e frame.interface_name 2>/dev/null |
		sort -u | grep -qx 'raw_tracepoint/net:net_dev_start_xmit'
}

# SIGINT while reading a pipe: what was read is written, exit 0.
test_proc_sort_sigint() {
	local fifo="$TMP/sort.fifo" pid st
	proc_gen_events "$TMP/sigint.json" 10
	mkfifo "$fifo" || return 1
	"$RETISC" sort "$fifo" -o "$TMP/sigint.sorted" 2>"$TMP/sigint.log" &
	pid=$!
	exec 3>"$fifo"
	cat "$TMP/sigint.json" >&3
	sleep 0.5
	kill -INT $pid
	wait $pid
	st=$?
	exec 3>&-
	[ $st = 0 ] || { echo "exit $st"; cat "$TMP/sigint.log"; return 1; }
	# Startup + 5 packets, all drained from the buffer.
	[ "$(wc -l <"$TMP/sigint.sorted")" = 6 ] || { cat "$TMP/sigint.sorted"; return 1; }
	$PCHECK sorted "$TMP/sigint.json" "$TMP/sigint.sorted"
}

# A 100 MB line in the middle of an events file (doc/files.md §6): sort
# reports it with its number and stops, or goes on with --keep-going; its
# memory stays bounded (the line is never held whole).
test_proc_sort_huge_line() {
	local f="$TMP/huge.json" st rss
	proc_gen_events "$TMP/huge-a.json" 4
	{
		head -3 "$TMP/huge-a.json"
		printf '{"common":{"timestamp":1},"pad":"'
		head -c 100000000 /dev/zero | tr '\0' x
		printf '"}\n'
		tail -n +4 "$TMP/huge-a.json"
	} >"$f"
	"$RETISC" sort "$f" >/dev/null 2>"$TMP/huge.err"
	st=$?
	[ $st = 1 ] && grep -q "$f:4: line longer than 67108864 bytes" "$TMP/huge.err" ||
		{ echo "exit $st"; cat "$TMP/huge.err"; return 1; }
	# Peak RSS (KiB) of the sort, as the kernel accounts it to its parent.
	rss=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
		"$TMP/huge.sorted" "$RETISC" sort --keep-going "$f")
	# Every other event is sorted: the 4 events of the generated file.
	[ "$(grep -c ' \[k\] ip_rcv ' "$TMP/huge.sorted")" = 4 ] || { cat "$TMP/huge.sorted"; return 1; }
	[ "$rss" -lt 200000 ] || { echo "max RSS ${rss} KiB"; return 1; }
}

# A reader that goes away: silent, exit 0 (print and sort).
test_proc_broken_pipe() {
	local st
	proc_gen_events "$TMP/pipe.json" 200000
	"$RETISC" sort --max-buffer 10 "$TMP/pipe.json" 2>"$TMP/pipe.err" | head -1 >/dev/null
	st=${PIPESTATUS[0]}
	[ "$st" = 0 ] && [ ! -s "$TMP/pipe.err" ] ||
		{ echo "exit $st"; cat "$TMP/pipe.err"; return 1; }
	"$RETISC" stats "$TMP/pipe.json" 2>"$TMP/pipe.err" | head -0
	st=${PIPESTATUS[0]}
	[ "$st" = 0 ] && [ ! -s "$TMP/pipe.err" ] ||
		{ echo "exit $st"; cat "$TMP/pipe.err"; return 1; }
}

# Exit statuses and messages of the command line.
test_proc_cli() {
	proc_gen_events "$TMP/cli.json" 4
	"$RETISC" process --help | grep -qE '^  sort +group the events' || return 1
	"$RETISC" process --help | grep -qE '^  schema ' || return 1
	# Prefixes of processor names are not subcommands; full names are.
	cmp -s <("$RETISC" sort "$TMP/cli.json") <("$RETISC" process sort "$TMP/cli.json") ||
		return 1
	expect_fail 2 "invalid value 'x' for '--max-buffer" "$RETISC" sort --max-buffer x \
		"$TMP/cli.json" || return 1
	expect_fail 1 "Cannot sort a file in-place" \
		"$RETISC" sort "$TMP/cli.json" -o "$TMP/cli.json" || return 1
	expect_fail 1 "$TMP/nope.json: No such file or directory" \
		"$RETISC" stats "$TMP/nope.json" || return 1
	expect_fail 1 "Probe not found in the events" \
		"$RETISC" pcap -p tp:no:pe -o "$TMP/cli.pcapng" "$TMP/cli.json" || return 1
	printf '{"common":{"timestamp":5,\n' >>"$TMP/cli.json"
	expect_fail 1 "$TMP/cli.json:6: " "$RETISC" sort "$TMP/cli.json" || return 1
	# The series read before the bad line are printed.
	[ "$("$RETISC" sort "$TMP/cli.json" 2>/dev/null | grep -c ' n 1$')" = 2 ] || return 1
	"$RETISC" schema | python3 -c 'import json, sys; json.load(sys.stdin)'
}

# --max-ids (doc/processing.md §2.5): a hostile file of 200000 distinct ids
# within one second of event time (no id old enough to be forgotten by
# age) keeps at most N ids with --max-ids N; without the bound (0) the map
# holds them all, which is what the bound prevents.
test_sort_max_ids() {
	local src="$HERE/fixtures/sort-events.json" peak
	python3 - "$src" "$TMP/hostile.json" <<-'PY' || return 1
		import json, sys
		lines = open(sys.argv[1]).read().splitlines()
		ev = next(json.loads(l) for l in lines[1:] if '"skb-tracking"' in l)
		ts = ev["common"]["timestamp"]
		with open(sys.argv[2], "w") as f:
		    f.write(lines[0] + "\n")
		    for i in range(200000):
		        ev["common"]["timestamp"] = ev["skb-tracking"]["timestamp"] = ts + i
		        ev["skb-tracking"]["orig_head"] = 0xffff000000000000 + i * 64
		        f.write(json.dumps(ev, separators=(",", ":")) + "\n")
	PY
	peak() {
		"$RETISC" --log-level debug sort "$@" -o "$TMP/hostile.out" "$TMP/hostile.json" 2>&1 |
			sed -n 's/.*buffered, \([0-9]*\) id(s).*/\1/p'
	}
	peak=$(peak --max-ids 1000)
	[ -n "$peak" ] && [ "$peak" -le 1001 ] || { echo "--max-ids 1000: peak $peak ids"; return 1; }
	peak=$(peak --max-ids 0)
	[ "$peak" = 200000 ] || { echo "--max-ids 0: peak $peak ids"; return 1; }
	[ "$(wc -l <"$TMP/hostile.out")" = 200001 ]
}
