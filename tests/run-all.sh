#!/bin/bash
# README's test command, `make test`: the unit tests (tests/run-unit.sh),
# the live tests (tests/run-live.sh), the VM lane (tests/vm/run.sh), the
# fleet test on three kernels (tests/vm/fleet.sh: this machine and two VM
# lane guests on tap links, doc/fleet.md §6) and the
# fuzz targets for FUZZ_SECONDS (30) each (tests/fuzz/run.sh), each
# run whatever the ones before gave, then one summary with the counts of
# each. The VM lane skips (status 77) when QEMU or Debian's kernel package
# cannot be had here; the summary says so with the reason, and a skip does
# not fail the run. Anything else that does not pass fails it: a guest that
# boots runs its tests like the others.
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
LOGS=$(mktemp -d /tmp/retisc-test.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT
SKIP=77
SUMMARY=()
FAILED=()
SKIPPED=()

# part <title> <command...>: run one part, its output shown as it comes and
# kept to read its last "N passed, N failed[, N skipped]" line.
part() {
	local title=$1 log=$LOGS/part.log st start line verdict
	shift
	echo "=== $title"
	start=$(date +%s)
	"$@" 2>&1 | tee "$log"
	st=${PIPESTATUS[0]}
	line=$(grep -oE '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?(: .*)?$' "$log" | tail -1)
	if [ "$st" = 0 ]; then
		verdict=passed
	elif [ "$st" = $SKIP ]; then
		verdict=skipped
		SKIPPED+=("$title")
	else
		verdict=FAILED
		FAILED+=("$title")
	fi
	SUMMARY+=("$(printf '%-11s %-7s %5ss  %s' "$title" "$verdict" $(($(date +%s) - start)) \
		"${line:-no result line, exit status $st}")")
	echo
}

part "unit tests" "$HERE/run-unit.sh" "$BUILD"
part "live tests" "$HERE/run-live.sh" "$BUILD"
part "VM lane" "$HERE/vm/run.sh" "$BUILD"
part "fleet VM" "$HERE/vm/fleet.sh" "$BUILD"
part "fuzzing" "$HERE/fuzz/run.sh" "$BUILD" "${FUZZ_SECONDS:-30}"

echo "=== summary"
printf '%s\n' "${SUMMARY[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "make test: FAILED (${FAILED[*]})"
	exit 1
fi
if [ ${#SKIPPED[@]} -gt 0 ]; then
	skipped=$(printf '%s, ' "${SKIPPED[@]}")
	echo "make test: passed, ${skipped%, } skipped (see above)"
else
	echo "make test: passed"
fi
