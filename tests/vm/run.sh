#!/bin/bash
# VM lane: run retisc in Debian's own kernel (6.1, with kprobes) under QEMU
# without KVM, because the project's machines have no CONFIG_KPROBES and so
# kprobe tracking mode can only be tested live here.
#
# Usage: tests/vm/run.sh [BUILD]   (make vm-test)
#
# Downloads (apt, cached under BUILD/vm/): qemu, busybox-static, cpio and
# the kernel package that linux-image-amd64 depends on. Builds an initramfs
# with busybox, the retisc build, iproute2's ip, the shared libraries they
# need, the kernel modules of the tests, and tests/vm/init.sh as /init,
# boots it and reads the results from the serial console. The guest prints
# PASS/FAIL lines and "N passed, N failed"; this script exits non-zero
# unless that line is there with 0 failed.
#
# Environment: RETISC_VM_TIMEOUT (seconds, default 300), RETISC_VM_KEEP=1
# keeps the staging tree, RETISC_VM_TESTS (space-separated test names, to
# run a subset).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(realpath "$BUILD")
VM=$BUILD/vm
TIMEOUT=${RETISC_VM_TIMEOUT:-300}
# Modules the tests need; their dependencies are added from modules.dep.
MODULES="veth vxlan"
export DEBIAN_FRONTEND=noninteractive

log() { printf 'vm: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ -x "$BUILD/retisc" ] || die "$BUILD/retisc is missing: run make first"
[ "$(id -u)" = 0 ] || die "needs root (apt-get)"

apt_updated=0
apt_update() {
	if [ $apt_updated = 0 ]; then
		log "apt-get update"
		apt-get update -qq >&2
		apt_updated=1
	fi
}

# --- host tools ---------------------------------------------------------------
# busybox-static specifically: the guest has no libc for a dynamic busybox.
HOST_PKGS="qemu-system-x86 busybox-static cpio iproute2"
if ! dpkg -s $HOST_PKGS >/dev/null 2>&1; then
	log "installing $HOST_PKGS"
	apt-get install -y -qq --no-install-recommends $HOST_PKGS >&2 ||
		{ apt_update && apt-get install -y -qq --no-install-recommends $HOST_PKGS >&2; }
fi

# --- kernel --------------------------------------------------------------------
mkdir -p "$VM/dl"
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(apt-cache depends linux-image-amd64 |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[ -n "$pkg" ] || die "cannot find the package linux-image-amd64 depends on"
deb=$(ls "$VM/dl/${pkg}"_*_amd64.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	log "downloading $pkg"
	# _apt cannot write into build/: download as root, quietly.
	(cd "$VM/dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2) ||
		{ apt_update && (cd "$VM/dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2); }
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
	# The package ships no modules.dep (depmod runs at install time).
	kv=$(ls "$KDIR/lib/modules")
	busybox depmod -b "$KDIR" "$kv"
	touch "$KDIR/.done"
fi
KV=$(ls "$KDIR/lib/modules")
VMLINUZ=$KDIR/boot/vmlinuz-$KV
MODDIR=$KDIR/lib/modules/$KV

# --- initramfs -----------------------------------------------------------------
ROOT=$VM/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,opt/retisc,lib/modules}

cp /bin/busybox "$ROOT/bin/busybox"
for a in $(busybox --list); do
	# iproute2's ip replaces busybox's (no netns, no veth, no vxlan).
	case $a in ip | busybox) ;; *) ln -s busybox "$ROOT/bin/$a" ;; esac
done
cp /usr/sbin/ip "$ROOT/usr/sbin/ip" 2>/dev/null || cp /sbin/ip "$ROOT/usr/sbin/ip"

cp "$BUILD/retisc" "$ROOT/opt/retisc/"
mkdir -p "$ROOT/opt/retisc/plugins"
cp "$BUILD"/plugins/*.so "$ROOT/opt/retisc/plugins/"
[ -d "$BUILD/profiles" ] && cp -r "$BUILD/profiles" "$ROOT/opt/retisc/"

# Shared libraries of every ELF file shipped, and the dynamic loader.
libs=$(for f in "$ROOT/opt/retisc/retisc" "$ROOT"/opt/retisc/plugins/*.so "$ROOT/usr/sbin/ip"; do
	ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u)
for l in $libs; do
	mkdir -p "$ROOT$(dirname "$l")"
	cp -L "$l" "$ROOT$l"
done

# Kernel modules, in load order: dependencies first (modules.dep lists a
# module's dependencies, each of which has its own line).
declare -A seen=()
order=()
add_module() { # add_module <path relative to MODDIR>
	local m=$1 d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	for d in $(awk -v m="$m:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep"); do
		add_module "$d"
	done
	order+=("$m")
}
for name in $MODULES; do
	path=$(awk -v n="/$name.ko:" 'index($1, n) == length($1) - length(n) + 1 {
		sub(":", "", $1); print $1; exit }' "$MODDIR/modules.dep")
	[ -n "$path" ] || die "module $name not found in $KV"
	add_module "$path"
done
: >"$ROOT/etc/modules.order"
for m in "${order[@]}"; do
	mkdir -p "$ROOT/lib/modules/$(dirname "$m")"
	cp "$MODDIR/$m" "$ROOT/lib/modules/$m"
	echo "/lib/modules/$m" >>"$ROOT/etc/modules.order"
done

# The XDP program of the TCP test (see the file), built like retisc's BPF.
clang -O2 -g -target bpf -Wall -Werror -I"$BUILD" -c "$HERE/xdp_pass.bpf.c" \
	-o "$ROOT/opt/xdp_pass.bpf.o"

cp "$HERE/init.sh" "$ROOT/init"
cp "$HERE/tcp_segments.awk" "$ROOT/opt/tcp_segments.awk"
chmod 755 "$ROOT/init"
echo "${RETISC_VM_TESTS:-}" >"$ROOT/etc/tests"

# Uncompressed: decompressing in the emulated guest costs more than
# loading a few more megabytes.
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$VM/initramfs.cpio"
log "initramfs $(du -h "$VM/initramfs.cpio" | cut -f1), kernel $KV"
[ "${RETISC_VM_KEEP:-0}" = 1 ] || rm -rf "$ROOT"

# --- boot ------------------------------------------------------------------------
CONSOLE=$VM/console.log
log "booting (TCG, timeout ${TIMEOUT}s); console in $CONSOLE"
start=$(date +%s)
set +e
# -nic none: the guest needs no network to the outside, and gets none.
timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 -nographic -nic none -no-reboot \
	-m 1024 -smp 2 -kernel "$VMLINUZ" -initrd "$VM/initramfs.cpio" \
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
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
