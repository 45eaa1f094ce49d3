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
	# CI installs exactly that list, and nothing else by name.
	grep -q '^apt-get install -y -qq --no-install-recommends $(tools/install-deps.sh --list)' \
		"$REPO/.ci/run" || { cat "$REPO/.ci/run"; return 1; }
	[ "$(grep -c "apt-get install" "$REPO/.ci/run")" = 1 ] || return 1
	list=" $("$REPO/tools/install-deps.sh" --list) "
	for p in netcat-openbsd python3-jsonschema procps util-linux bash-completion tshark \
		tcpdump nftables iproute2 iputils-ping clang bpftool libcmocka-dev chromium; do
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

# Top-level help lists every subcommand, processors included; the man page
# documents inspect and sh-complete.
test_cli_help_lists_subcommands() {
	local out c
	out=$("$RETISC" --help) || return 1
	for c in collect inspect process plugin profile sh-complete sort pcap stats schema print \
		explain report; do
		grep -qE "^  $c +[a-z]" <<<"$out" || { echo "no $c in: $out"; return 1; }
	done
	grep -q '^\.SS explain, report$' "$REPO/doc/retisc.8.in" &&
		grep -q '^\.SS inspect$' "$REPO/doc/retisc.8.in" &&
		grep -q '^\.SS sh\\-complete$' "$REPO/doc/retisc.8.in"
}

# The completion script comes from the binary and completes subcommands,
# processors' own options and sh-complete's shell.
test_cli_bash_completion() {
	local f=/usr/share/bash-completion/bash_completion
	[ -r $f ] || { echo "bash-completion is not installed (tools/install-deps.sh)"; return $SKIP; }
	"$RETISC" sh-complete --shell bash | cmp - "$REPO/contrib/retisc.bash" || return 1
	expect_fail 2 "unsupported shell \(supported: bash\)" "$RETISC" sh-complete --shell zsh ||
		return 1
	bash -c '
		. '$f'
		eval "$("$1" sh-complete --shell bash)"
		comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
			COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _retisc; echo "${COMPREPLY[*]}"; }
		[ "$(comp "$1" ins)" = inspect ] || { echo "ins: $(comp "$1" ins)"; exit 1; }
		[ "$(comp "$1" sh-)" = sh-complete ] || { echo "sh-: $(comp "$1" sh-)"; exit 1; }
		[ "$(comp "$1" sh-complete --shell "")" = bash ] || exit 1
		[ "$(comp "$1" sort --mark)" = --mark-lost ] || { echo "sort: $(comp "$1" sort --mark)"; exit 1; }
		[ "$(comp "$1" collect --tracking-g)" = --tracking-guard ] || exit 1
		# Collector options and names come from the plugins.
		[ "$(comp "$1" collect --skb-sec)" = --skb-sections ] || { echo "skb: $(comp "$1" collect --skb-sec)"; exit 1; }
		[ "$(comp "$1" collect -c skb-d)" = skb-drop ] || exit 1
		[ "$(comp "$1" explain --format "")" = "text json" ] || { echo "explain: $(comp "$1" explain --format "")"; exit 1; }
		[ "$(comp "$1" explain --in)" = --in-flight ] || exit 1
		[ "$(comp "$1" report --ser)" = --series ] || { echo "report: $(comp "$1" report --ser)"; exit 1; }
	' _ "$RETISC"
}

# inspect as another user: a clear error, not wrong lists with exit 0.
test_cli_inspect_unprivileged() {
	expect_fail 1 "retisc inspect needs root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$RETISC" inspect -p 'tcp_v4_rcv*'
}

# Options that cannot do anything are refused, and single-value options
# are single.
test_cli_option_errors() {
	# ovs runs here with --ovs-track alone (its USDT side): its options
	# are checked by its init() (tests/live/ovs.sh has the rest).
	expect_fail 1 "ovs: --ovs-enrich-rate: 'zero' is not a number of requests per second" \
		"$RETISC" collect --ovs-track --ovs-enrich-rate zero --cmd true || return 1
	# nft runs without kprobes too (its netlink path): its option is
	# checked by its init().
	expect_fail 1 "invalid value 'dorp' for '--nft-verdicts'" \
		"$RETISC" collect --nft-verdicts dorp --cmd true || return 1
	expect_fail 2 "invalid value '/nonexistent/kconf' for '--kconf': No such file or directory" \
		"$RETISC" collect --kconf /nonexistent/kconf --cmd true || return 1
	expect_fail 2 "'--tracking-report' cannot be used multiple times" \
		"$RETISC" collect --tracking-report --tracking-report --cmd true || return 1
	expect_fail 2 "'--tracking-map-size' cannot be used multiple times" \
		"$RETISC" collect --tracking-map-size 1024 --tracking-map-size 2048 --cmd true || return 1
	expect_fail 1 "Cannot use probe 'k:ip_rcv' with --tracking-mode tracepoint" \
		"$RETISC" collect --tracking-mode tracepoint -c skb-tracking -p k:ip_rcv --cmd true ||
		return 1
	# --probe-stack follows packets up their stacks with kprobes: it needs
	# a filter, and kprobes (the VM lane runs it live).
	expect_fail 1 "Probe-stack mode requires filtering \\(--filter-packet and/or --filter-meta\\)" \
		"$RETISC" collect --probe-stack --cmd true || return 1
	expect_fail 1 "--probe-stack adds kprobes, which tracepoint tracking mode cannot use" \
		"$RETISC" collect --probe-stack -f icmp --tracking-mode tracepoint --cmd true
}

# A profile never silently overrides a single-value option the user gave:
# both are on the command line, which Retis refuses too.
test_cli_profile_no_silent_override() {
	expect_fail 2 "the argument '--probe <PROBE>' cannot be used multiple times" \
		"$RETISC" -p dropmon pcap -p tp:net:netif_receive_skb "$TMP/none.json" || return 1
	mkdir -p "$TMP/po" && cat >"$TMP/po/out.yaml" <<-'EOF2'
		version: 1.0
		name: outprof
		collect:
		  - args:
		      out: /tmp/retisc-profile-out.json
	EOF2
	expect_fail 2 "the argument '--out' cannot be used multiple times" \
		"$RETISC" -P "$TMP/po" -p outprof collect -o "$TMP/mine.json" --cmd true
}

# What a newcomer reads first: requirements, workflows and the test suite
# are in README; the man page promises no collector this build lacks.
test_cli_readme_and_man() {
	local s
	for s in "## Requirements" "## Everyday workflows" "## Tests" "## Status"; do
		grep -qx "$s" "$REPO/README.md" || { echo "README lacks '$s'"; return 1; }
	done
	grep -q "CAP_BPF" "$REPO/README.md" && grep -q "tracepoint-only" "$REPO/README.md" &&
		grep -qE "about [0-9]+ minutes" "$REPO/README.md" || return 1
	! grep -qi "netfilter verdicts, conntrack entries, Open vSwitch" "$REPO/doc/retisc.8.in" &&
		! grep -q "ct, nft and ovs collectors" "$REPO/README.md"
}
