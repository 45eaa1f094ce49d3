# `retisc inspect` (doc/cli.md §4.1), sourced by tests/run-live.sh.

test_inspect_probes() {
	local out
	out=$("$RETISC" inspect -p 'tp:skb:*') || return 1
	# Sorted, only tracepoints with an argument some collector reads.
	[ "$out" = "$(sort <<<"$out")" ] || { echo "not sorted: $out"; return 1; }
	grep -qx "tp:skb:kfree_skb" <<<"$out" && grep -qx "tp:skb:consume_skb" <<<"$out" ||
		{ echo "$out"; return 1; }
	out=$("$RETISC" inspect -p 'netif_receive_skb*') || return 1
	# A pattern without ':' lists kprobes, then tracepoints;
	# netif_receive_skb_exit (int ret only) is not usable.
	grep -qx "kprobe:netif_receive_skb" <<<"$out" && grep -qx "tp:net:netif_receive_skb" <<<"$out" ||
		{ echo "$out"; return 1; }
	! grep -q "netif_receive_skb_exit" <<<"$out" || { echo "$out"; return 1; }
	[ "$(head -1 <<<"$out" | cut -d: -f1)" = kprobe ] || { echo "$out"; return 1; }
	expect_fail 1 "Could not find a tracepoint matching 'nope:nope'" "$RETISC" inspect -p tp:nope:nope
}
