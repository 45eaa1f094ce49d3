# Live tests of YAML profiles, installation and the out-of-tree plugin SDK
# (sourced by tests/run-live.sh: test_prof_* functions, its helpers).

PROF_ROOT=$(cd "$HERE/.." && pwd)

# A directory of profiles of our own, listed by `profile list`.
prof_dir() {
	local d=$TMP/prof
	rm -rf "$d"
	mkdir -p "$d" || return 1
	cat >"$d/a.yaml" <<-'EOF'
		version: 1.0
		name: first
		about: The first one
		collect:
		  - args:
		      probe: tp:net:netif_receive_skb
		---
		version: 1.0
		name: a-rather-long-profile-name
		collect:
		  - when:
		      - type: version
		        version: ">=2.6"
		      - type: symbol
		        name: net:net_dev_start_xmit
		    name: Recent kernels
		    args:
		      probe: tp:net:net_dev_start_xmit
		      utc: ~
	EOF
	printf 'version: 1.0\nname: broken\nfoo: bar\n' >"$d/bad.yaml"
	printf 'not a profile\n' >"$d/notes.txt"
	echo "$d"
}

test_prof_list() {
	local d out
	d=$(prof_dir) || return 1
	out=$("$RETISC" -P "$d" profile list 2>"$TMP/list.err") || { cat "$TMP/list.err"; return 1; }
	# doc/cli.md §4.2: "<dir>/<file>:" then "  <name padded to 20> <about>".
	grep -qx "$d/a.yaml:" <<<"$out" &&
		grep -qx "  first                The first one" <<<"$out" &&
		grep -qx "  a-rather-long-profile-name " <<<"$out" ||
		{ echo "$out"; return 1; }
	! grep -q "notes\|broken" <<<"$out" || { echo "$out"; return 1; }
	grep -q "WARN  Skipping invalid file $d/bad.yaml: $d/bad.yaml:3: unknown key 'foo'" \
		"$TMP/list.err" || { cat "$TMP/list.err"; return 1; }
	# -P comes first; the shipped profiles (next to the build-tree binary) follow.
	[ "$(head -1 <<<"$out")" = "$d/a.yaml:" ] || { echo "$out"; return 1; }
	grep -q "^  dropmon  *Drop monitor-like$" <<<"$out" &&
		grep -q "^  nft-dropmon " <<<"$out" && grep -q "^  ifdump " <<<"$out" &&
		grep -q "^  generic " <<<"$out" || { echo "$out"; return 1; }
	# `profile` alone lists too.
	[ "$("$RETISC" -P "$d" profile 2>/dev/null)" = "$out" ]
}

# The shipped ifdump profile, live: its two probes replace the defaults and
# the startup event records the expanded command line.
test_prof_ifdump_collect() {
	topo_pair || return 1
	"$RETISC" -p ifdump collect -c skb-tracking -o "$TMP/ifdump.json" \
		--cmd "ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.201.0.2" >"$TMP/ifdump.log" 2>&1 ||
		{ cat "$TMP/ifdump.log"; return 1; }
	grep -qx "Applying profile ifdump" "$TMP/ifdump.log" || { cat "$TMP/ifdump.log"; return 1; }
	! grep -q "No probe(s) given" "$TMP/ifdump.log" || { cat "$TMP/ifdump.log"; return 1; }
	python3 - "$TMP/ifdump.json" "$RETISC" "$NS_A" <<-'EOF'
		import json, sys
		lines = [json.loads(l) for l in open(sys.argv[1])]
		want = (sys.argv[2] + " -p ifdump collect -c skb-tracking -o " + sys.argv[1] +
		        " --cmd ip netns exec " + sys.argv[3] + " ping -c 2 -i 0.2 -W 1 10.201.0.2" +
		        " --probe tp:net:netif_receive_skb --probe tp:net:net_dev_start_xmit")
		got = lines[0]["startup"]["cmdline"]
		assert got == want, (got, want)
		syms = {e["kernel"]["symbol"] for e in lines[1:]}
		assert syms == {"net:netif_receive_skb", "net:net_dev_start_xmit"}, syms
	EOF
}

# A profile given by path, a user option on top, conditions evaluated on
# this kernel.
test_prof_path_and_conditions() {
	local d
	d=$(prof_dir) || return 1
	topo_pair || return 1
	"$RETISC" --log-level debug -P "$d" -p a-rather-long-profile-name collect -c skb-tracking \
		-p tp:net:netif_receive_skb -o "$TMP/cond.json" \
		--cmd "ip netns exec $NS_A ping -c 1 -W 1 10.201.0.2" >"$TMP/cond.log" 2>&1 ||
		{ cat "$TMP/cond.log"; return 1; }
	grep -q "INFO  Applying profile a-rather-long-profile-name: Recent kernels" "$TMP/cond.log" ||
		{ cat "$TMP/cond.log"; return 1; }
	grep -q '"cmdline":"[^"]* -p tp:net:netif_receive_skb -o [^"]* --probe tp:net:net_dev_start_xmit --utc"' \
		"$TMP/cond.json" || { head -1 "$TMP/cond.json"; return 1; }
	# The same profile by path, then a profile whose only entry does not hold.
	cat >"$TMP/never.yaml" <<-'EOF'
		version: 1.0
		name: never
		collect:
		  - when: [{type: symbol, name: retisc_no_such_function}]
		    args: {probe: tp:skb:kfree_skb}
	EOF
	expect_fail 1 "Could not import profile: $d/a.yaml holds 2 profiles, expected one" \
		"$RETISC" -p "$d/a.yaml" collect --cmd true || return 1
	# A profile suppresses the default probes even when it adds nothing:
	# with named collectors that install none, there is nothing to attach.
	"$RETISC" -p "$TMP/never.yaml" collect -c skb-tracking -o "$TMP/never.json" --cmd true \
		>"$TMP/never.log" 2>&1 && { cat "$TMP/never.log"; return 1; }
	grep -q "WARN  None of the collect profiles defined in never were selected" \
		"$TMP/never.log" && grep -q "ERROR No probe to attach" "$TMP/never.log" ||
		{ cat "$TMP/never.log"; return 1; }
	! grep -q "No probe(s) given" "$TMP/never.log" || { cat "$TMP/never.log"; return 1; }
}

test_prof_errors() {
	local d
	d=$(prof_dir) || return 1
	expect_fail 1 "Profile with name nope not found" "$RETISC" -p nope collect --cmd true ||
		return 1
	expect_fail 1 "Profile with name nope not found" "$RETISC" -p ifdump,nope collect --cmd true ||
		return 1
	expect_fail 1 "Subcommand print does not support profile enhancement" \
		"$RETISC" -p ifdump print "$TMP/x.json" || return 1
	expect_fail 1 "Subcommand profile does not support profile enhancement" \
		"$RETISC" -p ifdump profile list || return 1
	# A flag given by the user and by the profile.
	expect_fail 2 "the argument '--utc' cannot be used multiple times" \
		"$RETISC" -P "$d" -p a-rather-long-profile-name collect --utc --cmd true || return 1
	expect_fail 2 "cannot be used multiple times" \
		"$RETISC" -P "$d" -P "$d" profile list || return 1
	# Broken files name the file, the line and the key.
	expect_fail 1 "Could not import profile: $d/bad.yaml:3: unknown key 'foo'" \
		"$RETISC" -p "$d/bad.yaml" collect --cmd true || return 1
	printf 'version: 1.0\nname: p\nprint:\n  - args: {utc: ~}\n' >"$TMP/print.yaml"
	expect_fail 1 "print.yaml:3: key 'print': subcommand print does not support profiles" \
		"$RETISC" -p "$TMP/print.yaml" collect --cmd true || return 1
	printf 'version: 1.0\nname: n\ncollect:\n  - args:\n      stop_after: 3\n' >"$TMP/num.yaml"
	expect_fail 1 "num.yaml:5: key 'stop_after': expected a string, found a number" \
		"$RETISC" -p "$TMP/num.yaml" collect --cmd true || return 1
	mkdir -p "$TMP/dups" &&
		printf 'version: 1.0\nname: twice\n' >"$TMP/dups/a.yaml" &&
		printf 'version: 1.0\nname: twice\n' >"$TMP/dups/b.yml" || return 1
	expect_fail 1 "Found two profiles with name 'twice' in $TMP/dups" \
		"$RETISC" -P "$TMP/dups" -p twice collect --cmd true || return 1
	printf 'version: 2.0\nname: future\ncollect: [{args: {utc: ~}}]\n' >"$TMP/future.yaml"
	expect_fail 1 "unsupported profile version 2.0 of profile future" \
		"$RETISC" -P "$TMP" -p future collect --cmd true
}

# As root, profiles another user could change are refused, naming the path.
test_prof_permissions() {
	local d=$TMP/perm
	mkdir -p "$d" && chmod 0755 "$d" || return 1
	printf 'version: 1.0\nname: open\ncollect: [{args: {utc: ~}}]\n' >"$d/open.yaml"
	chmod 0666 "$d/open.yaml"
	expect_fail 1 "Refusing profile file $d/open.yaml: writable by a non-root user \\(mode 666" \
		"$RETISC" -p "$d/open.yaml" collect --cmd true || return 1
	# Looked up by name: skipped loudly, then not found.
	expect_fail 1 "WARN  Skipping profile file: Refusing profile file $d/open.yaml" \
		"$RETISC" -P "$d" -p open collect --cmd true || return 1
	chmod 0644 "$d/open.yaml" && chown 65534 "$d/open.yaml"
	expect_fail 1 "Refusing profile file $d/open.yaml: .*owner uid 65534" \
		"$RETISC" -p "$d/open.yaml" collect --cmd true || return 1
	chown 0 "$d/open.yaml" && chmod 0777 "$d"
	expect_fail 1 "Refusing profile directory $d: writable by a non-root user" \
		"$RETISC" -P "$d" -p open collect --cmd true || return 1
	expect_fail 1 "Refusing profile directory $d: " \
		"$RETISC" -p "$d/open.yaml" collect --cmd true || return 1
	# The development override works, with a warning.
	RETISC_ALLOW_UNSAFE_PROFILES=1 "$RETISC" -p "$d/open.yaml" collect --help \
		>/dev/null 2>"$TMP/unsafe.log" || { cat "$TMP/unsafe.log"; return 1; }
	grep -q "WARN  Reading profile directory $d although it is writable" "$TMP/unsafe.log" ||
		{ cat "$TMP/unsafe.log"; return 1; }
	chmod 0755 "$d"
	# Sticky directories (like /tmp) are fine.
	chmod 01777 "$d" && "$RETISC" -p "$d/open.yaml" collect --help >/dev/null 2>&1 || return 1
	chmod 0755 "$d"
}

# pcap profiles: the pcap entry's arguments go to the pcap processor, named
# `pcap` or through `process pcap`, before a `--`. A stand-in processor
# that prints its arguments shadows the real one (an earlier plugin
# directory wins).
test_prof_pcap_args() {
	local d=$TMP/echo
	mkdir -p "$d" || return 1
	cat >"$TMP/echo.c" <<-'EOF'
		#include <stdio.h>
		#include <retisc/plugin.h>
		static int run(void *priv, const struct retisc_api *api, int argc, char **argv)
		{
			(void)priv; (void)api;
			for (int i = 0; i < argc; i++)
				printf("%s%s", i ? " " : "", argv[i]);
			printf("\n");
			return 0;
		}
		static int init(struct retisc_plugin *pl, const struct retisc_api *a)
		{
			struct retisc_processor_desc p = { .sz = sizeof(p), .name = "pcap",
							   .summary = "echo", .run = run };
			return a->register_processor(pl, &p);
		}
		static const struct retisc_plugin_desc desc = { .sz = sizeof(desc),
			.abi_version = RETISC_ABI_VERSION, .name = "pcap", .init = init };
		RETISC_PLUGIN_DEFINE(desc)
	EOF
	cc -Wall -Werror -shared -fPIC -fvisibility=hidden -I"$PROF_ROOT/core/include" \
		-o "$d/pcap.so" "$TMP/echo.c" || return 1
	local out
	out=$("$RETISC" --plugin-dir "$d" -p dropmon pcap -o x.pcap in.json 2>"$TMP/pcap.log") ||
		{ cat "$TMP/pcap.log"; return 1; }
	[ "$out" = "pcap -o x.pcap in.json --probe tp:skb:kfree_skb" ] || { echo "$out"; return 1; }
	grep -qx "Applying profile dropmon: Default" "$TMP/pcap.log" || { cat "$TMP/pcap.log"; return 1; }
	out=$("$RETISC" --plugin-dir "$d" -p dropmon,nft-dropmon process pcap -- in.json 2>/dev/null)
	[ "$out" = "pcap --probe tp:skb:kfree_skb --probe kprobe:__nft_trace_packet -- in.json" ] ||
		{ echo "$out"; return 1; }
	# ifdump has no pcap entry.
	out=$("$RETISC" --plugin-dir "$d" -p ifdump pcap 2>"$TMP/pcap.log")
	[ "$out" = "pcap" ] && grep -q "WARN  None of the pcap profiles defined in ifdump were selected" \
		"$TMP/pcap.log" || { echo "$out"; cat "$TMP/pcap.log"; return 1; }
}

# dropmon on collect: its collectors run when their plugins are built;
# either way the expanded arguments reach collect.
test_prof_dropmon_collect() {
	local out st
	topo_pair || return 1
	out=$("$RETISC" -p dropmon collect -o "$TMP/drop.json" \
		--cmd "ip netns exec $NS_A ping -c 1 -W 1 10.201.0.99" 2>&1)
	st=$?
	grep -qx "Applying profile dropmon" <<<"$out" || { echo "$out"; return 1; }
	local have=0 c
	for c in skb-drop skb dev ns; do
		"$RETISC" plugin list | grep -q "collector $c " && have=$((have + 1))
	done
	if [ $have = 4 ]; then
		[ $st = 0 ] || { echo "$out"; return 1; }
		grep -q '"cmdline":"[^"]*--collectors skb-drop,skb,dev,ns --probe tp:skb:kfree_skb/stack"' \
			"$TMP/drop.json" || { head -1 "$TMP/drop.json"; return 1; }
	else
		[ $st = 1 ] && grep -q "Unknown collector '" <<<"$out" ||
			{ echo "$out"; return 1; }
	fi
}

# make install into a DESTDIR, then the two examples built out of the tree
# against it with pkg-config, dropped into its plugin directory and run.
test_prof_install_and_examples() {
	local dest=$TMP/dest prefix=/usr/local
	local bin=$dest$prefix/bin/retisc plugdir=$dest$prefix/lib/retisc/plugins
	make -s -C "$PROF_ROOT" BUILD="$(realpath --relative-to="$PROF_ROOT" "$(dirname "$RETISC")")" \
		install DESTDIR="$dest" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; return 1; }
	local f
	for f in bin/retisc lib/retisc/plugins/skb-tracking.so share/retisc/profiles/drop.yaml \
		share/retisc/profiles/generic.yaml share/retisc/profiles/ifdump.yaml \
		include/retisc/plugin.h include/retisc/json.h include/retisc/strbuf.h \
		include/retisc/base64.h include/retisc/hook.bpf.h include/retisc/maps.bpf.h \
		include/retisc/ctx.h include/retisc/event.h lib/pkgconfig/retisc.pc \
		share/man/man8/retisc.8 share/bash-completion/completions/retisc; do
		[ -f "$dest$prefix/$f" ] || { echo "missing $prefix/$f"; return 1; }
	done
	cmp -s "$PROF_ROOT/profiles/drop.yaml" "$dest$prefix/share/retisc/profiles/drop.yaml" || return 1
	# The man page names the installed directories (man-db is optional).
	grep -q "^\.I $prefix/lib/retisc/plugins$" "$dest$prefix/share/man/man8/retisc.8" ||
		{ echo "man page lacks the plugin directory"; return 1; }
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$dest$prefix/share/man/man8/retisc.8" 2>/dev/null |
			grep -q "^PROFILES" || { echo "man page does not render"; return 1; }
	fi
	bash -n "$dest$prefix/share/bash-completion/completions/retisc" || return 1

	# Out of the tree: only the installed SDK is visible.
	export PKG_CONFIG_PATH=$dest$prefix/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
	[ "$(pkg-config --variable=plugindir retisc)" = "$plugdir" ] || { unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR; return 1; }
	rm -rf "$TMP/ex" && cp -r "$PROF_ROOT/examples" "$TMP/ex" &&
		rm -f "$TMP"/ex/*/*.so "$TMP"/ex/*/*.o "$TMP"/ex/*/*.skel.h "$TMP"/ex/*/vmlinux.h
	local ok=1
	make -C "$TMP/ex/mark-collector" install >"$TMP/ex.log" 2>&1 &&
		make -C "$TMP/ex/latency-processor" install >>"$TMP/ex.log" 2>&1 || ok=0
	unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
	[ $ok = 1 ] || { cat "$TMP/ex.log"; return 1; }
	grep -q -- "-I$dest$prefix/include" "$TMP/ex.log" || { cat "$TMP/ex.log"; return 1; }
	[ -x "$plugdir/mark.so" ] && [ -x "$plugdir/latency.so" ] || return 1

	# The installed binary, its plugin directory (staged) and the examples.
	local out
	out=$(RETISC_PLUGIN_PATH=$plugdir "$bin" plugin list) || return 1
	grep -q "collector mark (1 hook), section mark (owner 3[2-9])" <<<"$out" &&
		grep -q "processor latency" <<<"$out" || { echo "$out"; return 1; }
	# The third-party collector's own option: in collect's help, parsed by
	# the core, checked by the collector, usable in a profile's args.
	out=$(RETISC_PLUGIN_PATH=$plugdir "$bin" collect --help) || return 1
	grep -q "^Collector mark:" <<<"$out" && grep -q -- "--mark-mask MASK .*bits of the mark" <<<"$out" ||
		{ echo "$out"; return 1; }
	RETISC_PLUGIN_PATH=$plugdir "$bin" collect -c skb-tracking,mark --mark-mask nope \
		-p tp:net:netif_receive_skb --cmd true >"$TMP/mask.log" 2>&1 &&
		{ cat "$TMP/mask.log"; return 1; }
	grep -q "mark: invalid --mark-mask 'nope'" "$TMP/mask.log" || { cat "$TMP/mask.log"; return 1; }
	mkdir -p "$TMP/maskprof" && printf 'version: 1.0\nname: mask\ncollect:\n  - args:\n      mark_mask: "0x0f"\n' \
		>"$TMP/maskprof/mask.yaml" || return 1
	topo_pair || return 1
	RETISC_PLUGIN_PATH=$plugdir "$bin" -P "$dest$prefix/share/retisc/profiles" \
		-p ifdump -p "$TMP/maskprof/mask.yaml" collect -c skb-tracking,mark -o "$TMP/mark.json" \
		--cmd "ip netns exec $NS_A ping -c 3 -i 0.2 -W 1 -m 42 -Q 0x10 10.201.0.2" \
		>"$TMP/mark.log" 2>&1 || { cat "$TMP/mark.log"; return 1; }
	# ping -m sets SO_MARK; -Q 0x10 (low delay) gives priority 6. Every
	# event of a probe with an skb carries the section.
	grep -q "Command returned (exit status: 0)" "$TMP/mark.log" &&
		grep -q '"mark":{"mark":10,"priority":6}' "$TMP/mark.json" &&
		! grep '"kernel"' "$TMP/mark.json" | grep -vq '"mark":{"mark"' ||
		{ cat "$TMP/mark.log"; head -5 "$TMP/mark.json"; return 1; }
	RETISC_PLUGIN_PATH=$plugdir "$bin" print --format single-line "$TMP/mark.json" |
		grep -q "\[tp\] net:net_dev_start_xmit #[0-9a-f]* (skb [0-9a-f]*) mark 0xa priority 6$" ||
		return 1
	out=$(RETISC_PLUGIN_PATH=$plugdir "$bin" process latency "$TMP/mark.json") ||
		{ echo "$out"; return 1; }
	grep -q "^tp:net:netif_receive_skb: [1-9][0-9]* sample(s), min " <<<"$out" &&
		grep -qE "^ +[0-9.]+[nmu]?s \.\. [0-9.]+[nmu]?s +[0-9]+ \|\*+ *\|$" <<<"$out" ||
		{ echo "$out"; return 1; }

	# uninstall removes what install added; the examples' plugins stay.
	make -s -C "$PROF_ROOT" BUILD="$(realpath --relative-to="$PROF_ROOT" "$(dirname "$RETISC")")" \
		uninstall DESTDIR="$dest" >>"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; return 1; }
	[ ! -e "$bin" ] && [ ! -e "$dest$prefix/include/retisc" ] &&
		[ ! -e "$dest$prefix/share/retisc" ] && [ ! -e "$plugdir/skb-tracking.so" ] &&
		[ -e "$plugdir/mark.so" ] || { find "$dest"; return 1; }
}
