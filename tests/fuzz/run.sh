#!/bin/bash
# Run every fuzz target (tests/fuzz/README.md) for SECONDS each, two at a
# time, from the seeds in the tree: tests/fuzz/corpus/<target>, the test
# fixtures (events and series files) for the file targets, the shipped
# profiles for the profile parser. What a run finds new is kept in
# BUILD/fuzz/corpus/<target> for the next run. A crash, a leak, a timeout
# (10 s for one input) or 2 GB of memory fails the target; its input is in
# BUILD/fuzz/artifacts/, to be turned into a regression test.
#
# Usage: tests/fuzz/run.sh [BUILD] [SECONDS]   (make fuzz FUZZ_SECONDS=N)
set -u
BUILD=${1:-build}
SECONDS_EACH=${2:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export RETISC_FUZZ_PLUGINS=$BUILD/plugins
mkdir -p "$BUILD/fuzz/artifacts"

seeds() { # seeds <target>: its seed directories
	local t=$1
	[ -d "$HERE/corpus/$t" ] && echo "$HERE/corpus/$t"
	case $t in
	json | reader | sort | sort_scan) echo "$REPO/tests/fixtures" ;;
	profile) echo "$REPO/profiles" ;;
	esac
}

run_one() { # run_one <target>: 0 when it found nothing
	local t=$1 log=$BUILD/fuzz/$1.log
	mkdir -p "$BUILD/fuzz/corpus/$t"
	"$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$BUILD/fuzz/artifacts/$t-" -print_final_stats=1 \
		"$BUILD/fuzz/corpus/$t" $(seeds "$t") >"$log" 2>&1
}

targets=$(cd "$HERE" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
declare -A pid=()
fail=()
for t in $targets; do
	# Two at a time: the project's machines have two cores.
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
	run_one "$t" &
	pid[$t]=$!
done
for t in $targets; do
	if wait "${pid[$t]}"; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/fuzz/$t.log")
		echo "ok   fuzz $t: ${runs:-?} inputs in ${SECONDS_EACH}s"
	else
		fail+=("$t")
		echo "FAIL fuzz $t (log $BUILD/fuzz/$t.log):"
		grep -E "ERROR|SUMMARY|Test unit written" "$BUILD/fuzz/$t.log" | sed 's/^/     /' | head -8
	fi
done
n=$(echo $targets | wc -w)
echo "fuzz: $((n - ${#fail[@]})) passed, ${#fail[@]} failed, 0 skipped"
[ ${#fail[@]} = 0 ]
