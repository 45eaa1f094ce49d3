#!/bin/bash
# Run every cmocka unit test binary; exit non-zero if any fails.
BUILD=${1:-build}
fail=0
for t in "$BUILD"/tests/test_* "$BUILD"/tests/asan/test_*; do
	[ -x "$t" ] || continue
	echo "== ${t#$BUILD/tests/}"
	RETISC_TEST_BUILD="$BUILD" "$t" || fail=1
done
# The repository stands on its own: doc/ answers every § the code cites.
echo "== doc references"
python3 "$(dirname "$0")/check_doc_refs.py" || fail=1
exit $fail
