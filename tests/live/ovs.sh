# ovs collector live tests (sourced by tests/run-live.sh). This host has no
# kprobes and no openvswitch module: the kernel datapath side runs in the VM
# lane (tests/vm/init.sh). Here: --ovs-track's USDT side on its own, against
# tests/live/ovs_vswitchd_replay.c (a program named ovs-vswitchd with OVS's
# USDT notes: Debian's ovs-vswitchd is built without them), its refusals,
# and --ovs-enrich-flows' control socket against a real ovs-vswitchd
# (Debian's 3.1, userspace datapath, in a private run directory).
OVS_TRACK_CHECK="python3 $HERE/live/check_ovs_track.py"

ovs_replay() {
	[ -x "$TMP/ovs-replay/ovs-vswitchd" ] && return 0
	if ! echo '#include <sys/sdt.h>' | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
		echo "no <sys/sdt.h> (systemtap-sdt-dev, tools/install-deps.sh)"
		return $SKIP
	fi
	mkdir -p "$TMP/ovs-replay"
	${CC:-cc} -O2 -Wall -Wextra -Werror -pthread -I"$HERE/../plugins/ovs" \
		-o "$TMP/ovs-replay/ovs-vswitchd" "$HERE/live/ovs_vswitchd_replay.c"
}

# Someone else's ovs-vswitchd would be "Too many processes found".
ovs_no_vswitchd() {
	if ps -C ovs-vswitchd -o stat= | grep -qv '^Z'; then
		echo "an ovs-vswitchd runs on this machine: --ovs-track would see two"
		return $SKIP
	fi
}

# start_replay <name>: the replay program in the background, once ready.
start_replay() {
	"$TMP/ovs-replay/ovs-vswitchd" >"$TMP/$1.q" 2>&1 &
	REPLAY_PID=$!
	for _ in $(seq 50); do
		grep -q ready "$TMP/$1.q" && return 0
		sleep 0.1
	done
	echo "the replay program did not start"
	return 1
}

stop_replay() {
	kill "$REPLAY_PID" 2>/dev/null
	wait "$REPLAY_PID" 2>/dev/null
}

# The USDT side alone: two handler batches replayed, every upcall reported
# with the queue id the userspace jhash gives, the operations matched.
test_ovs_track_usdt() {
	local st
	ovs_replay || return
	ovs_no_vswitchd || return
	start_replay ovs-track || return 1
	timeout 60 "$RETISC" collect -c ovs --ovs-track -o "$TMP/ovs-track.json" \
		--cmd "kill -USR1 $REPLAY_PID; sleep 0.5" >"$TMP/ovs-track.log" 2>&1
	st=$?
	stop_replay
	[ $st -eq 0 ] || { cat "$TMP/ovs-track.log"; return 1; }
	grep -q "ovs: kprobes are not available on this kernel (needed by the ovs collector): only ovs-vswitchd's side is traced" \
		"$TMP/ovs-track.log" || { cat "$TMP/ovs-track.log"; return 1; }
	$OVS_TRACK_CHECK "$TMP/ovs-track.json" "$TMP/ovs-track.q" || return 1
	"$RETISC" print "$TMP/ovs-track.json" >"$TMP/ovs-track.txt" || return 1
	[ "$(grep -cE '^  upcall_recv q [0-9]+ pkt_size 72$' "$TMP/ovs-track.txt")" = 4 ] &&
		[ "$(grep -cE '^  flow_exec q [0-9]+ ts [0-9]+ \([0-2]\)$' "$TMP/ovs-track.txt")" = 4 ] &&
		[ "$(grep -cE '^  flow_put q [0-9]+ ts [0-9]+ \([01]\)$' "$TMP/ovs-track.txt")" = 3 ] &&
		grep -qE '\[handler2\] [0-9]+/[0-9]+ \[u\] dpif_recv:recv_upcall \(ovs-vswitchd\)$' \
			"$TMP/ovs-track.txt" || { cat "$TMP/ovs-track.txt"; return 1; }
}

# Refusals: no process, two processes, no kprobes without --ovs-track.
test_ovs_track_errors() {
	local pid2 st
	ovs_replay || return
	ovs_no_vswitchd || return
	expect_fail 1 "ovs: --ovs-track: Process not found \(ovs-vswitchd\)" \
		"$RETISC" collect -c ovs --ovs-track --stop-after 1 || return 1
	expect_fail 1 "Cannot run collector ovs: kprobes are not available on this kernel \(needed by the ovs collector\)" \
		"$RETISC" collect -c ovs --stop-after 1 || return 1
	start_replay ovs-two || return 1
	"$TMP/ovs-replay/ovs-vswitchd" >/dev/null 2>&1 &
	pid2=$!
	sleep 0.2
	expect_fail 1 "ovs: --ovs-track: Too many processes found \(2 named ovs-vswitchd\)" \
		"$RETISC" collect -c ovs --ovs-track --stop-after 1
	st=$?
	kill $pid2
	wait $pid2 2>/dev/null
	stop_replay
	[ $st -eq 0 ] || return 1
	expect_fail 2 "'--ovs-enrich-rate'" "$RETISC" collect -c ovs --ovs-enrich-rate || return 1
	expect_fail 1 "ovs: --ovs-enrich-rate: 'zero' is not a number of requests per second" \
		"$RETISC" collect -c ovs --ovs-track --ovs-enrich-rate zero --stop-after 1
}

# A real ovs-vswitchd (Debian's 3.1: no USDT probes, no ofproto/detrace)
# with the userspace datapath, its database and sockets in $TMP/ovs-run.
OVS_RUN=
ovs_real_start() {
	command -v ovs-vswitchd >/dev/null && command -v ovsdb-server >/dev/null || {
		echo "no ovs-vswitchd (openvswitch-switch, tools/install-deps.sh)"
		return $SKIP
	}
	OVS_RUN=$TMP/ovs-run
	rm -rf "$OVS_RUN" && mkdir -p "$OVS_RUN"
	(
		export OVS_RUNDIR=$OVS_RUN OVS_DBDIR=$OVS_RUN OVS_LOGDIR=$OVS_RUN OVS_SYSCONFDIR=$OVS_RUN
		ovsdb-tool create "$OVS_RUN/conf.db" /usr/share/openvswitch/vswitch.ovsschema &&
			ovsdb-server "$OVS_RUN/conf.db" --remote="punix:$OVS_RUN/db.sock" \
				--pidfile="$OVS_RUN/ovsdb-server.pid" --unixctl="$OVS_RUN/ovsdb-server.ctl" \
				--log-file="$OVS_RUN/ovsdb-server.log" --detach &&
			ovs-vsctl --db="unix:$OVS_RUN/db.sock" --no-wait init &&
			ovs-vswitchd "unix:$OVS_RUN/db.sock" --pidfile="$OVS_RUN/ovs-vswitchd.pid" \
				--log-file="$OVS_RUN/ovs-vswitchd.log" --detach &&
			ovs-vsctl --db="unix:$OVS_RUN/db.sock" add-br br-retisc -- \
				set bridge br-retisc datapath_type=netdev
	) >"$TMP/ovs-run.log" 2>&1 || { cat "$TMP/ovs-run.log"; ovs_real_stop; return 1; }
}

ovs_real_stop() {
	local p pid
	[ -n "$OVS_RUN" ] || return 0
	for p in ovs-vswitchd ovsdb-server; do
		[ -s "$OVS_RUN/$p.pid" ] || continue
		pid=$(cat "$OVS_RUN/$p.pid")
		kill "$pid" 2>/dev/null
		# Gone (or a zombie) before the next test looks for ovs-vswitchd.
		for _ in $(seq 50); do
			ps -o stat= -p "$pid" 2>/dev/null | grep -qv '^Z' || break
			sleep 0.1
		done
	done
	OVS_RUN=
}

# The control socket of a real ovs-vswitchd: connected, list-commands
# read, the 3.1 one lacks ofproto/detrace (warning); then --ovs-track
# refuses it, as Debian builds it without USDT probes.
test_ovs_enrich_real() {
	local st
	ovs_no_vswitchd || return
	ovs_real_start || return
	OVS_RUNDIR=$OVS_RUN expect_fail 1 \
		"ovs: Cannot find USDT probes in ovs-vswitchd. Was it built with --enable-usdt-probes\?" \
		"$RETISC" collect -c ovs --ovs-track --ovs-enrich-flows --stop-after 1 >"$TMP/ovs-enrich.out"
	st=$?
	OVS_RUNDIR=$OVS_RUN "$RETISC" collect -c ovs --ovs-track --ovs-enrich-flows --stop-after 1 \
		>"$TMP/ovs-enrich.log" 2>&1
	ovs_real_stop
	[ $st -eq 0 ] || { cat "$TMP/ovs-enrich.out"; return 1; }
	grep -q "ovs: Running OpenvSwitch does not support 'ofproto/detrace', only datapath flows will be enriched" \
		"$TMP/ovs-enrich.log" || { cat "$TMP/ovs-enrich.log"; return 1; }
	# No pid file, no socket.
	OVS_RUNDIR=$TMP/ovs-nowhere expect_fail 1 "ovs: Failed to connect to OVS via unixctl \($TMP/ovs-nowhere/ovs-vswitchd.pid: No such file or directory\)" \
		"$RETISC" collect -c ovs --ovs-track --ovs-enrich-flows --stop-after 1
}
