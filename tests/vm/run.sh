#!/bin/bash
# VM lane: run retisc in Debian's own kernel (6.1, with kprobes) under QEMU
# without KVM, because the project's machines have no CONFIG_KPROBES and so
# kprobe tracking mode can only be tested live here.
#
# Usage: tests/vm/run.sh [BUILD]   (make vm-test; make test runs it too)
#
# Needs the host packages of HOST_PKGS (tools/install-deps.sh installs
# them; missing ones are installed here as a fallback) and downloads the
# kernel package that linux-image-amd64 depends on and Debian's Open
# vSwitch packages (apt, cached under BUILD/vm/). Builds an initramfs with
# busybox, the retisc build, iproute2's ip, nftables' nft, Open vSwitch's
# ovs-dpctl, ovs-vswitchd with ovsdb-server and ovs-vsctl, a minimal
# ovs-vswitchd with USDT probes, the shared libraries they need, the kernel modules of the
# tests with their dependencies, and tests/vm/init.sh as /init, boots it
# and reads the results from the serial console. The guest prints PASS/FAIL
# lines and "N passed, N failed".
#
# Exit status: 0 when that line is there with 0 failed; 77 (skipped) when
# QEMU, its helpers or the kernel cannot be had here (no network, apt
# failure, no package); 1 otherwise: a guest that boots must pass. The last
# line is always "vm lane: N passed, N failed, N skipped", with ": <reason>"
# when skipped (tests/run-all.sh reads it; a skipped lane counts as one
# skipped test).
#
# Environment: RETISC_VM_TIMEOUT (seconds, default 600), RETISC_VM_KEEP=1
# keeps the staging tree, RETISC_VM_TESTS (space-separated test names, to
# run a subset), RETISC_VM_VERBOSE=1 shows what passing tests saw too.
# RETISC_VM_NETNS and RETISC_VM_TAP give the guest a network: QEMU runs in
# that namespace of this machine with a virtio NIC on that (existing) tap
# device, the guest's eth0, MAC address RETISC_VM_MAC; RETISC_VM_FLEET is
# written to the guest's /etc/fleet for its fleet test. RETISC_VM_NAME
# names an instance: its staging tree, initramfs and console log
# (BUILD/vm/console-NAME.log) are its own, so that two guests run at once
# once the first has downloaded and extracted what they share
# (tests/vm/fleet.sh, the fleet test on three kernels, uses all of them).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "$BUILD")
VM=$BUILD/vm
TIMEOUT=${RETISC_VM_TIMEOUT:-600}
# Modules the tests need; their dependencies (modules.dep) and soft
# dependencies (modules.softdep) are added. nf_tables and nft_ct: the nft
# rules of the tests (ct state matches); openvswitch: loaded for the
# probes on module functions.
MODULES="veth vxlan nf_tables nft_ct nft_chain_nat nft_nat openvswitch"
NETNS=${RETISC_VM_NETNS:-}
TAP=${RETISC_VM_TAP:-}
# The guest's NIC: QEMU's virtio-net, whose driver is a module in Debian.
[ -z "$TAP" ] || MODULES="$MODULES virtio_pci virtio_net"
export DEBIAN_FRONTEND=noninteractive

log() { printf 'vm: %s\n' "$*" >&2; }
die() {
	log "$*"
	echo "vm lane: 0 passed, 1 failed, 0 skipped"
	exit 1
}
# The lane cannot run on this machine: say why, and that it did not run.
skip() {
	log "skipped: $*"
	echo "vm lane: 0 passed, 0 failed, 1 skipped: $*"
	exit 77
}

[ -x "$BUILD/retisc" ] || die "$BUILD/retisc is missing: run make first"

apt_updated=0
apt_update() {
	[ $apt_updated = 0 ] || return 0
	apt_updated=1
	log "apt-get update"
	apt-get update -qq >&2
}

# --- host tools ---------------------------------------------------------------
# busybox-static specifically: the guest has no libc for a dynamic busybox.
# kmod: depmod writes the kernel's modules.softdep. The same packages are in
# tools/install-deps.sh, so that CI has them before the tests start.
HOST_PKGS="qemu-system-x86 busybox-static cpio kmod iproute2 nftables"
# shellcheck disable=SC2086 # one word per package
if ! dpkg -s $HOST_PKGS >/dev/null 2>&1; then
	missing=$(for p in $HOST_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
	[ "$(id -u)" = 0 ] || skip "$missing not installed, and installing needs root"
	log "installing $missing"
	apt-get install -y -qq --no-install-recommends $missing >&2 ||
		{ apt_update && apt-get install -y -qq --no-install-recommends $missing >&2; } ||
		skip "cannot install $missing (apt-get failed, see above)"
fi

# --- kernel --------------------------------------------------------------------
# The package linux-image-amd64 depends on; without apt's lists (offline),
# the one cached by an earlier run.
mkdir -p "$VM/dl"
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(kernel_pkg)
[ -n "$pkg" ] || { apt_update || true; pkg=$(kernel_pkg); }
if [ -z "$pkg" ]; then
	deb=$(ls "$VM"/dl/linux-image-*_amd64.deb 2>/dev/null | tail -1 || true)
	[ -n "$deb" ] || skip "cannot find the kernel package linux-image-amd64 depends on (apt has no package lists and apt-get update failed)"
	pkg=$(basename "$deb" | cut -d_ -f1)
	log "apt cannot tell the current kernel package: using the cached $pkg"
fi
deb=$(ls "$VM/dl/${pkg}"_*_amd64.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	log "downloading $pkg"
	# _apt cannot write into build/: download as root, quietly.
	dl() { (cd "$VM/dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2); }
	dl || { apt_update && dl; } || skip "cannot download $pkg (apt-get failed, see above)"
	deb=$(ls "$VM/dl/${pkg}"_*_amd64.deb | tail -1)
	# A new Debian kernel replaces the cached one.
	find "$VM/dl" -name 'linux-image-*.deb' ! -name "$(basename "$deb")" -delete
	rm -rf "$VM/kernel"
fi
KDIR=$VM/kernel/$(basename "$deb" .deb)
if [ ! -e "$KDIR/.done" ]; then
	log "extracting $(basename "$deb")"
	rm -rf "$KDIR"
	mkdir -p "$KDIR"
	dpkg-deb -x "$deb" "$KDIR"
	touch "$KDIR/.done"
fi
KV=$(ls "$KDIR/lib/modules")
VMLINUZ=$KDIR/boot/vmlinuz-$KV
MODDIR=$KDIR/lib/modules/$KV
# The package ships no modules.dep, modules.alias or modules.softdep
# (depmod runs at install time).
[ -e "$MODDIR/modules.softdep" ] || depmod -b "$KDIR" "$KV"

# --- Open vSwitch's ovs-dpctl --------------------------------------------------------
# The ovs tests drive the kernel datapath with ovs-dpctl alone (no
# ovs-vswitchd): Debian's openvswitch-switch has it, and libxdp1 the one
# library of it this machine may lack. Downloaded like the kernel, once.
OVS_PKGS="openvswitch-switch openvswitch-common libxdp1"
OVS=$VM/ovs
for p in $OVS_PKGS; do
	ls "$VM/dl/${p}"_*_amd64.deb >/dev/null 2>&1 && continue
	log "downloading $p"
	dl() { (cd "$VM/dl" && apt-get download -qq -o APT::Sandbox::User=root "$p" >&2); }
	dl || { apt_update && dl; } || skip "cannot download $p (apt-get failed, see above)"
	rm -rf "$OVS"
done
if [ ! -e "$OVS/.done" ]; then
	rm -rf "$OVS"
	mkdir -p "$OVS"
	for p in $OVS_PKGS; do
		dpkg-deb -x "$(ls "$VM/dl/${p}"_*_amd64.deb | tail -1)" "$OVS"
	done
	touch "$OVS/.done"
fi
OVS_LIBS=$OVS/usr/lib/x86_64-linux-gnu:$OVS/lib/x86_64-linux-gnu

# --- initramfs -----------------------------------------------------------------
INSTANCE=${RETISC_VM_NAME:+-$RETISC_VM_NAME}
ROOT=$VM/root$INSTANCE
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,opt/retisc,lib/modules}

cp /bin/busybox "$ROOT/bin/busybox"
for a in $(busybox --list); do
	# iproute2's ip replaces busybox's (no netns, no veth, no vxlan).
	case $a in ip | busybox) ;; *) ln -s busybox "$ROOT/bin/$a" ;; esac
done
# iproute2's ip, and nftables' nft for the tests' rules.
for b in ip nft; do
	cp "$(PATH=/usr/sbin:/sbin command -v $b)" "$ROOT/usr/sbin/$b"
done
cp "$OVS/usr/bin/ovs-dpctl" "$ROOT/usr/sbin/ovs-dpctl"
# Debian's own ovs-vswitchd with its database, for test_ovs_real.
for b in usr/sbin/ovsdb-server usr/bin/ovsdb-tool usr/bin/ovs-vsctl usr/bin/ovs-appctl; do
	cp "$OVS/$b" "$ROOT/usr/sbin/"
done
mkdir -p "$ROOT/usr/lib/openvswitch-switch" "$ROOT/usr/share/openvswitch"
cp "$OVS/usr/lib/openvswitch-switch/ovs-vswitchd" "$ROOT/usr/lib/openvswitch-switch/"
cp "$OVS/usr/share/openvswitch/vswitch.ovsschema" "$ROOT/usr/share/openvswitch/"
# A minimal ovs-vswitchd handling the datapath's upcalls with OVS's USDT
# probes (Debian's has none), for --ovs-track (tests/vm/ovs_mini_vswitchd.c).
${CC:-cc} -O2 -Wall -Wextra -Werror -pthread -o "$ROOT/usr/sbin/ovs-vswitchd" \
	"$HERE/ovs_mini_vswitchd.c" || die "cannot build ovs_mini_vswitchd.c"

cp "$BUILD/retisc" "$ROOT/opt/retisc/"
mkdir -p "$ROOT/opt/retisc/plugins"
cp "$BUILD"/plugins/*.so "$ROOT/opt/retisc/plugins/"
[ -d "$BUILD/profiles" ] && cp -r "$BUILD/profiles" "$ROOT/opt/retisc/"

# Shared libraries of every ELF file shipped, and the dynamic loader; those
# of the extracted packages go where the packages install them.
libs=$(for f in "$ROOT/opt/retisc/retisc" "$ROOT"/opt/retisc/plugins/*.so "$ROOT"/usr/sbin/* \
	"$ROOT"/usr/lib/openvswitch-switch/ovs-vswitchd; do
	LD_LIBRARY_PATH=$OVS_LIBS ldd "$f" 2>/dev/null |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u)
for l in $libs; do
	d=${l#"$OVS"}
	mkdir -p "$ROOT$(dirname "$d")"
	cp -L "$l" "$ROOT$d"
done

# Kernel modules, in load order. The guest has no modprobe: it loads
# /etc/modules.order line by line, so the order must be modprobe's:
# dependencies first (modules.dep lists a module's dependencies, each of
# which has its own line), and soft dependencies (modules.softdep, from the
# modules' own "softdep" info) before ("pre:") or after ("post:") the
# module. A soft dependency is a module name or an alias (libcrc32c's
# "crc32c" names crc32c_generic and crc32c_intel, whose init fails on
# QEMU's default CPU): its line says "soft", and the guest does not expect
# it to load.
module_path() { # module_path <name>: its file, relative to MODDIR
	# The basename, exactly: a suffix match also holds for
	# kernel/lib/bch.ko when index() finds nothing.
	awk -v n="$1" '{
		p = $1
		sub(/:$/, "", p)
		b = p
		sub(/.*\//, "", b)
		sub(/\.ko(\.[a-z]+)?$/, "", b)
		gsub(/-/, "_", b)
		if (b == n) {
			print p
			exit
		}
	}' "$MODDIR/modules.dep"
}
softdeps() { # softdep <name> pre|post: module names or aliases
	awk -v n="$1" -v want="$2:" '$1 == "softdep" && $2 == n {
		mode = ""
		for (i = 3; i <= NF; i++) {
			if ($i == "pre:" || $i == "post:")
				mode = $i
			else if (mode == want)
				print $i
		}
	}' "$MODDIR/modules.softdep"
}
# Module names of a soft dependency: itself if it is a module, else what
# modules.alias says it stands for (all of them, as modprobe does).
resolve() { # resolve <name or alias>
	local n=${1//-/_}
	if [ -n "$(module_path "$n")" ]; then
		echo "$n"
	else
		awk -v a="$1" '$1 == "alias" && $2 == a { print $3 }' "$MODDIR/modules.alias"
	fi
}
declare -A seen=()
order=()
add_module() { # add_module <name> [soft]
	local n=${1//-/_} kind=${2:-} m d s
	[ -n "${seen[$n]:-}" ] && return 0
	seen[$n]=1
	m=$(module_path "$n")
	if [ -z "$m" ]; then
		# Built into the kernel, or a soft dependency that names nothing
		# here: nothing to load.
		grep -q "/$n.ko\$" "$MODDIR/modules.builtin" || [ -n "$kind" ] ||
			die "module $n not found in $KV"
		return 0
	fi
	for s in $(softdeps "$n" pre); do
		for d in $(resolve "$s"); do add_module "$d" soft; done
	done
	for d in $(awk -v m="$m:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep"); do
		d=${d##*/}
		add_module "${d%%.ko*}" "$kind"
	done
	order+=("$m $kind")
	for s in $(softdeps "$n" post); do
		for d in $(resolve "$s"); do add_module "$d" soft; done
	done
}
for name in $MODULES; do
	add_module "$name"
done
: >"$ROOT/etc/modules.order"
for l in "${order[@]}"; do
	m=${l%% *}
	mkdir -p "$ROOT/lib/modules/$(dirname "$m")"
	cp "$MODDIR/$m" "$ROOT/lib/modules/$m"
	echo "/lib/modules/$l" >>"$ROOT/etc/modules.order"
done
log "modules: $(for l in "${order[@]}"; do m=${l%% *}; m=${m##*/}; printf '%s ' "${m%%.ko*}"; done)"

# The XDP program of the TCP test (see the file), built like retisc's BPF.
clang -O2 -g -target bpf -Wall -Werror -I"$BUILD" -c "$HERE/xdp_pass.bpf.c" \
	-o "$ROOT/opt/xdp_pass.bpf.o"

cp "$HERE/init.sh" "$ROOT/init"
cp "$HERE/tcp_segments.awk" "$ROOT/opt/tcp_segments.awk"
chmod 755 "$ROOT/init"
echo "${RETISC_VM_TESTS:-}" >"$ROOT/etc/tests"
echo "${RETISC_VM_VERBOSE:-0}" >"$ROOT/etc/verbose"
echo "${RETISC_VM_FLEET:-}" >"$ROOT/etc/fleet"

# Uncompressed: decompressing in the emulated guest costs more than
# loading a few more megabytes.
INITRD=$VM/initramfs$INSTANCE.cpio
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$INITRD"
log "initramfs $(du -h "$INITRD" | cut -f1), kernel $KV"
[ "${RETISC_VM_KEEP:-0}" = 1 ] || rm -rf "$ROOT"

# --- boot ------------------------------------------------------------------------
CONSOLE=$VM/console$INSTANCE.log
log "booting (TCG, timeout ${TIMEOUT}s); console in $CONSOLE"
start=$(date +%s)
set +e
# -nic none: the guest needs no network to the outside, and gets none;
# with a tap, its only link is that device in $NETNS.
nic=(-nic none)
in_ns=()
if [ -n "$TAP" ]; then
	nic=(-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no"
		-device "virtio-net-pci,netdev=n0,mac=${RETISC_VM_MAC:-52:54:00:12:34:56}")
	[ -z "$NETNS" ] || in_ns=(ip netns exec "$NETNS")
fi
timeout --foreground -k 10 "$TIMEOUT" "${in_ns[@]}" qemu-system-x86_64 -nographic "${nic[@]}" -no-reboot \
	-m 1024 -smp 2 -kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 |
	# SeaBIOS clears the screen: keep the log plain text.
	sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$CONSOLE"
st=${PIPESTATUS[0]}
set -e
log "guest ran $(($(date +%s) - start))s (qemu exit status $st)"
[ "$st" = 124 ] && log "timeout after ${TIMEOUT}s"

summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$CONSOLE" | tail -1 || true)
[ -n "$summary" ] || die "no result line on the console"
failed=$(sed 's/.* passed, \([0-9]*\) failed/\1/' <<<"$summary")
passed=${summary%% *}
echo "vm lane: $passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
