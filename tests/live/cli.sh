# Command-line behaviour a Retis user relies on, and the set-up a newcomer
# follows (sourced by tests/run-live.sh).
REPO=$(cd "$HERE/.." && pwd)

# Retis's rule: default probes only when no collector, probe or profile is
# named. -c skb-drop traces drops, not every packet; -c skb-tracking alone
# has nothing to attach and says how to fix it; nothing named uses the two
# default probes.
test_cli_default_probes_rule() {
	topo_pair || return 1
	"$RETISC" collect -c skb-tracking,skb-drop -o "$TMP/droponly.json" \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" >"$TMP/droponly.log" 2>&1 ||
		{ cat "$TMP/droponly.log"; return 1; }
	! grep -q "No probe(s) given" "$TMP/droponly.log" &&
		! grep -q '"symbol":"net:' "$TMP/droponly.json" || { cat "$TMP/droponly.log"; return 1; }
	expect_fail 1 "No probe to attach: the collectors given install none. Add probes with -p" \
		"$RETISC" collect -c skb-tracking,skb --cmd true || return 1
	"$RETISC" collect -o "$TMP/auto.json" --cmd true >"$TMP/auto.log" 2>&1 ||
		{ cat "$TMP/auto.log"; return 1; }
	grep -q "No probe(s) given: using tp:net:netif_receive_skb, tp:net:net_dev_start_xmit" \
		"$TMP/auto.log" || { cat "$TMP/auto.log"; return 1; }
	# -c auto is no collector named.
	"$RETISC" collect -c auto -o "$TMP/auto2.json" --cmd true 2>&1 |
		grep -q "No probe(s) given"
}

# One package list: README's set-up command and CI both run
# tools/install-deps.sh, whose list has what the tests call.
test_cli_one_package_list() {
	local setup list
	setup=$(awk '/^```sh$/ { getline; print; exit }' "$REPO/README.md")
	grep -q "^tools/install-deps.sh && make && build/retisc collect " <<<"$setup" ||
		{ echo "README's first command: $setup"; return 1; }
	grep -qx "tools/install-deps.sh" "$REPO/.ci/run" || { cat "$REPO/.ci/run"; return 1; }
	! grep -q "apt-get install" "$REPO/.ci/run" || return 1
	list=" $("$REPO/tools/install-deps.sh" --list) "
	for p in netcat-openbsd python3-jsonschema procps util-linux bash-completion tshark \
		tcpdump nftables iproute2 iputils-ping clang bpftool libcmocka-dev; do
		grep -q " $p " <<<"$list" || { echo "missing $p in: $list"; return 1; }
	done
}

# README's own first command, after the install and the build: it must
# show journeys (one id seen at transmit and receive), not the whole host,
# and write outside the repository.
test_cli_readme_quickstart() {
	local cmd
	cmd=$(awk '/^```sh$/ { getline; print; exit }' "$REPO/README.md")
	cmd=${cmd#*&& make && }
	grep -q -- "-f icmp" <<<"$cmd" && grep -q -- "-o /tmp/" <<<"$cmd" || { echo "$cmd"; return 1; }
	(cd "$REPO" && bash -c "$cmd") >"$TMP/quick.txt" 2>"$TMP/quick.log" ||
		{ cat "$TMP/quick.log"; return 1; }
	grep -qE '^  ↳ .* \[tp\] net:netif_receive_skb #[0-9a-f]+ ' "$TMP/quick.txt" &&
		! grep -q "proto TCP\|proto UDP" "$TMP/quick.txt" || { head -40 "$TMP/quick.txt"; return 1; }
}
