# USDT probe live tests (sourced by tests/run-live.sh): tests/live/usdt_target.c
# is built here and hits its note retisc_test:tick; `-p usdt:...` must record
# each hit with the userspace section (doc/events.md §4.3).
USDT_CHECK="python3 $HERE/live/check_usdt.py"

usdt_target() {
	[ -x "$TMP/usdt_target" ] && return 0
	if ! echo '#include <sys/sdt.h>' | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
		echo "no <sys/sdt.h> (systemtap-sdt-dev, tools/install-deps.sh)"
		return $SKIP
	fi
	${CC:-cc} -O2 -Wall -Wextra -Werror -o "$TMP/usdt_target" "$HERE/live/usdt_target.c"
}

# A binary path: every process running it is traced; 5 hits, 5 events.
# -c skb-tracking: the default collectors would add skb-drop's kfree_skb
# probe, and the host's own drops would land in the file (seen in CI).
test_usdt_path() {
	usdt_target || return
	"$RETISC" collect -c skb-tracking -p "usdt:$TMP/usdt_target:retisc_test:tick" -o "$TMP/usdt-path.json" \
		--cmd "$TMP/usdt_target 5" >"$TMP/usdt-path.log" 2>&1 ||
		{ cat "$TMP/usdt-path.log"; return 1; }
	$USDT_CHECK "$TMP/usdt-path.json" "$TMP/usdt_target" retisc_test:tick 5 5 || return 1
	"$RETISC" print "$TMP/usdt-path.json" >"$TMP/usdt-path.txt" || return 1
	grep -qE '\[usdt_target\] [0-9]+ \[u\] retisc_test:tick \(usdt_target\)$' "$TMP/usdt-path.txt" ||
		{ cat "$TMP/usdt-path.txt"; return 1; }
}

# A pid: only that process, found through /proc/PID/exe; --stop-after ends it.
test_usdt_pid() {
	local pid st
	usdt_target || return
	"$TMP/usdt_target" 0 >/dev/null &
	pid=$!
	timeout 30 "$RETISC" collect -c skb-tracking -p "usdt:$pid:retisc_test:tick/stack" --stop-after 3 \
		-o "$TMP/usdt-pid.json" >"$TMP/usdt-pid.log" 2>&1
	st=$?
	kill $pid
	wait $pid 2>/dev/null
	[ $st -eq 0 ] || { cat "$TMP/usdt-pid.log"; return 1; }
	$USDT_CHECK "$TMP/usdt-pid.json" "$TMP/usdt_target" retisc_test:tick 3 3 --pid $pid
}

# Errors at resolution: a missing note, a bad spec, a process that is gone.
test_usdt_errors() {
	usdt_target || return
	expect_fail 1 "Could not find USDT probe retisc_test:nope in $TMP/usdt_target" \
		"$RETISC" collect -p "usdt:$TMP/usdt_target:retisc_test:nope" --stop-after 1 || return 1
	expect_fail 1 "Invalid USDT probe 'retisc_test:tick'" \
		"$RETISC" collect -p "usdt:retisc_test:tick" --stop-after 1 || return 1
	expect_fail 1 "Cannot find process 999999999 for USDT probe" \
		"$RETISC" collect -p "usdt:999999999:retisc_test:tick" --stop-after 1
}
