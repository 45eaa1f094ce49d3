#!/bin/bash
# Run every cmocka unit test binary, then the doc reference check. The last
# line is "N passed, N failed": cmocka's test counts, a binary that fails
# without saying how many (a crash) as one failure, the doc check as one
# test (tests/run-all.sh reads it). Exits non-zero if anything fails.
BUILD=${1:-build}
PASS=0
FAIL=0
for t in "$BUILD"/tests/test_* "$BUILD"/tests/asan/test_*; do
	[ -x "$t" ] || continue
	echo "== ${t#$BUILD/tests/}"
	out=$(RETISC_TEST_BUILD="$BUILD" "$t" 2>&1)
	st=$?
	[ -n "$out" ] && echo "$out"
	# Summed over the binary's groups.
	p=$(awk '/^\[  PASSED  \] [0-9]+ test\(s\)\.$/ { n += $4 } END { print n + 0 }' <<<"$out")
	f=$(awk '/^\[  FAILED  \] [0-9]+ test\(s\), listed below:$/ { n += $4 } END { print n + 0 }' <<<"$out")
	[ "$st" != 0 ] && [ "$f" = 0 ] && f=1
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
done
# The repository stands on its own: doc/ answers every § the code cites.
echo "== doc references"
if python3 "$(dirname "$0")/check_doc_refs.py"; then
	PASS=$((PASS + 1))
else
	FAIL=$((FAIL + 1))
fi
echo
echo "$PASS passed, $FAIL failed"
[ $FAIL = 0 ]
