#!/bin/bash
# Live tests: real namespaces, veth pairs and traffic traced by a real
# `retisc collect`, then assertions on the resulting files. Needs root and
# BPF (CI runs as root). Each test_* function is one test: status 0 passes,
# SKIP (77) says it cannot run here (why on its output), anything else
# fails. The last line is "N passed, N failed, N skipped".
set -u
BUILD=${1:-build}
RETISC=$(realpath "$BUILD/retisc")
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/live/check.py"
TMP=$(mktemp -d /tmp/retisc-live.XXXXXX)
PASS=0
FAIL=0
SKIPPED=0
FAILED=()
SKIP=77
# The probes Retis uses when no collector, probe or profile is named; a
# command line that names collectors gives them itself.
IFDUMP="-p tp:net:netif_receive_skb -p tp:net:net_dev_start_xmit"
# Namespace names are per run, so concurrent runs do not tear each other's
# topologies down.
NS_A=rt$$-a
NS_B=rt$$-b
NS_M=rt$$-m

cleanup() {
	ip netns del $NS_A 2>/dev/null
	ip netns del $NS_B 2>/dev/null
	ip netns del $NS_M 2>/dev/null
	umount "$TMP/full" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "live tests need root"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

# Tracefs lets probes be matched by group; retisc also works without it.
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

run_test() {
	local name=$1 out st
	out=$("$name" 2>&1)
	st=$?
	if [ $st -eq 0 ]; then
		PASS=$((PASS + 1))
		echo "ok   $name"
	elif [ $st -eq $SKIP ]; then
		SKIPPED=$((SKIPPED + 1))
		echo "skip $name: $(tail -1 <<<"$out")"
	else
		FAIL=$((FAIL + 1))
		FAILED+=("$name")
		echo "FAIL $name"
		echo "$out" | sed 's/^/     /' | tail -40
	fi
}

. "$HERE/live/lib.sh"

# Each feature adds its tests as tests/live/<feature>.sh (test_* functions,
# using the helpers above).
for f in "$HERE"/live/*.sh; do
	[ "$f" != "$HERE/live/lib.sh" ] && . "$f"
done

# RETISC_LIVE_ONLY=REGEX runs only the tests whose name matches.
for t in $(declare -F | awk '{print $3}' | grep '^test_' | grep -E "${RETISC_LIVE_ONLY:-.}"); do
	run_test "$t"
done
echo
if [ $FAIL -gt 0 ]; then
	echo "failed: ${FAILED[*]}"
fi
echo "$PASS passed, $FAIL failed, $SKIPPED skipped"
[ $FAIL = 0 ]
