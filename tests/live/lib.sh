# Helpers of the live tests (sourced by tests/run-live.sh before the
# feature files): topologies, expected failures. The test files use
# $RETISC, $TMP, $HERE, $CHECK, $IFDUMP and the namespace names that
# run-live.sh sets.

topo_pair() {
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns add $NS_A && ip netns add $NS_B &&
		ip link add veth-ta netns $NS_A type veth peer name veth-tb netns $NS_B &&
		ip -n $NS_A addr add 10.201.0.1/24 dev veth-ta &&
		ip -n $NS_B addr add 10.201.0.2/24 dev veth-tb &&
		ip -n $NS_A link set veth-ta up && ip -n $NS_B link set veth-tb up &&
		ip -n $NS_A link set lo up && ip -n $NS_B link set lo up
}

topo_dnat() {
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns del $NS_M 2>/dev/null
	ip netns add $NS_A && ip netns add $NS_M && ip netns add $NS_B &&
		ip link add veth-da netns $NS_A type veth peer name veth-dma netns $NS_M &&
		ip link add veth-db netns $NS_B type veth peer name veth-dmb netns $NS_M &&
		ip -n $NS_A addr add 10.210.1.1/24 dev veth-da &&
		ip -n $NS_M addr add 10.210.1.254/24 dev veth-dma &&
		ip -n $NS_M addr add 10.210.2.254/24 dev veth-dmb &&
		ip -n $NS_B addr add 10.210.2.2/24 dev veth-db &&
		for l in "$NS_A veth-da" "$NS_M veth-dma" "$NS_M veth-dmb" "$NS_B veth-db"; do
			set -- $l; ip -n "$1" link set "$2" up || return 1
		done &&
		ip -n $NS_A route add default via 10.210.1.254 &&
		ip -n $NS_B route add default via 10.210.2.254 &&
		ip netns exec $NS_M sysctl -qw net.ipv4.ip_forward=1 &&
		ip netns exec $NS_M nft -f - <<-EOF
			table ip retisc_test {
				chain pre {
					type nat hook prerouting priority dstnat;
					ip daddr 10.210.9.100 dnat to 10.210.2.2
				}
			}
		EOF
}

expect_fail() { # expect_fail <status> <grep pattern> <cmd...>
	local want=$1 pat=$2 out st
	shift 2
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" != "$want" ]; then
		echo "expected exit $want, got $st: $*"
		echo "$out"
		return 1
	fi
	if ! grep -qE -- "$pat" <<<"$out"; then
		echo "output of '$*' lacks /$pat/:"
		echo "$out"
		return 1
	fi
}
