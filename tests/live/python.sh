# `retisc python` (sourced by tests/run-live.sh): scripts written from
# Retis's python documentation, run unchanged on a retisc file, a Retis file
# and a sorted file; answers checked against the files read with Python's
# own json module.
PY_FIXTURES="$HERE/fixtures"

# count_with <file> <section>: events of an events file holding a section.
count_with() {
	python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if sys.argv[2] in json.loads(l)))' "$1" "$2"
}

# The documentation's first example: events with a kernel section.
test_python_doc_script() {
	cat >"$TMP/doc.py" <<-'EOF2'
		for event in reader.events():
		    if event.kernel:
		        print("event from {}".format(event.kernel.symbol))
	EOF2
	local f n want
	for f in retisc-1.7.json retis-1.6.json retis-1.5.json; do
		n=$("$RETISC" python -i "$PY_FIXTURES/$f" "$TMP/doc.py" | grep -c "^event from ") ||
			{ echo "$f: no output"; return 1; }
		want=$(count_with "$PY_FIXTURES/$f" kernel)
		[ "$n" = "$want" ] && [ "$n" -gt 0 ] || { echo "$f: $n events, want $want"; return 1; }
	done
}

# sys.argv as Retis gives it; a script found by name in
# $HOME/.config/retis/python; errors name what is missing.
test_python_argv_and_lookup() {
	mkdir -p "$TMP/home/.config/retis/python" &&
		echo 'print(sys.argv)' >"$TMP/home/.config/retis/python/argv.py" || return 1
	local out
	out=$(cd "$TMP/home/.config/retis/python" &&
		"$RETISC" python -i "$PY_FIXTURES/retisc-1.7.json" argv.py foo) || return 1
	[ "$out" = "['argv.py', 'foo']" ] || { echo "$out"; return 1; }
	out=$(cd "$TMP" && HOME="$TMP/home" "$RETISC" python -i "$PY_FIXTURES/retisc-1.7.json" \
		-- argv -x --foo) || return 1
	[ "$out" = "['$TMP/home/.config/retis/python/argv.py', '-x', '--foo']" ] ||
		{ echo "$out"; return 1; }
	expect_fail 1 "Python script 'nope' not found" "$RETISC" python -i "$PY_FIXTURES/retisc-1.7.json" nope ||
		return 1
	expect_fail 1 "error: .*nonexistent.json" "$RETISC" python -i "$TMP/nonexistent.json" "$TMP/doc.py"
}

# The helpers of the documentation: sections(), to_dict(), str() as print
# shows it, tracking_id() as the text's #id, match/strict_match, packet
# bytes; an exception in the script is exit status 1 with its traceback.
test_python_helpers() {
	cat >"$TMP/helpers.py" <<-'EOF2'
		import json
		evs = reader.events()
		startup = next(evs)
		assert "startup" in startup.sections(), startup.sections()
		e = next(evs)
		assert e.sections() == list(e.to_dict().keys())
		assert str(e).splitlines()[0].endswith(
		    "#{:x} (skb {:x})".format(e.skb_tracking.tracking_id(), e.skb_tracking.skb)), str(e)
		assert repr(e.common) == repr(e.to_dict()["common"])
		assert e.common.task.comm == e.to_dict()["common"]["task"]["comm"]
		assert e.nosuchsection is None
		assert len(e.packet.data) == e.packet.capture_len
		same = [x for x in reader.events() if x.skb_tracking and x.skb_tracking.match(e.skb_tracking)]
		assert any(x.skb_tracking.strict_match(e.skb_tracking) for x in same)
		print("ok", len(same))
	EOF2
	local out
	out=$("$RETISC" python -i "$PY_FIXTURES/retisc-1.7.json" "$TMP/helpers.py" 2>&1) ||
		{ echo "$out"; return 1; }
	grep -q "^ok [1-9]" <<<"$out" || { echo "$out"; return 1; }
	echo 'raise RuntimeError("boom")' >"$TMP/boom.py"
	expect_fail 1 "RuntimeError: boom" "$RETISC" python -i "$PY_FIXTURES/retisc-1.7.json" "$TMP/boom.py"
}

# Sorted files: reader.sorted(), series as documented, SeriesReader from
# the `retis` module (the library form), and the console reading stdin.
test_python_series() {
	"$RETISC" sort -o "$TMP/py-sorted.json" "$PY_FIXTURES/retisc-1.7.json" >/dev/null 2>&1 ||
		return 1
	cat >"$TMP/series.py" <<-'EOF2'
		from retis import SeriesReader
		import statistics
		assert reader.sorted()
		n = sum(1 for _ in reader.series())
		per = [len(s) for s in SeriesReader(sys.argv[1])]
		assert n == len(per)
		print("series", n, "events", sum(per))
	EOF2
	local out want_s want_e
	out=$("$RETISC" python -i "$TMP/py-sorted.json" "$TMP/series.py" "$TMP/py-sorted.json" 2>&1) ||
		{ echo "$out"; return 1; }
	want_s=$(grep -c . "$TMP/py-sorted.json")
	want_e=$(python3 -c 'import json,sys
print(sum(len(json.loads(l)) for l in open(sys.argv[1])))' "$TMP/py-sorted.json")
	[ "$out" = "series $want_s events $want_e" ] || { echo "$out (want $want_s $want_e)"; return 1; }
	out=$(echo 'print(reader.sorted(), sum(1 for _ in reader.events()))' |
		"$RETISC" python -i "$PY_FIXTURES/retisc-1.7.json" 2>&1) || { echo "$out"; return 1; }
	grep -q "False $(grep -c . "$PY_FIXTURES/retisc-1.7.json")$" <<<"$out" || { echo "$out"; return 1; }
}
