#!/bin/sh
# The one list of Debian 12 packages that building retisc and running its
# test suite need. README's set-up command, `make deps` and CI (.ci/run)
# all run this script, so they cannot drift apart. Needs root.
#
#   build:    make gcc clang llvm libclang-rt-14-dev (libFuzzer) libbpf-dev bpftool libelf-dev zlib1g-dev
#             libyaml-dev libjansson-dev libcmocka-dev libpcap-dev pkg-config
#             libnftables-dev (the nft collector's trace table), libmnl-dev and
#             libnftnl-dev (its trace messages without kprobes)
#   runtime:  iproute2 (namespaces, veth), nftables, iputils-ping
#   tests:    systemtap-sdt-dev (<sys/sdt.h> for the USDT test programs), openvswitch-switch (a real
#             ovs-vswitchd for the ovs collector's control socket), netcat-openbsd (nc), tcpdump, tshark (pcap checks), ethtool,
#             procps, util-linux (setpriv), python3, python3-jsonschema
#   VM lane:  qemu-system-x86, busybox-static, cpio, kmod (depmod) (tests/vm/run.sh;
#             it also uses iproute2 and nftables in the guest)
#   shell:    bash-completion (contrib/retisc.bash)
#   report:   chromium (tests/live/check_report.py renders `retisc report`'s page headless)
#   python:   libpython3-dev (the `retisc python` processor embeds CPython)
#   fleet:    libnats-dev (the NATS sink, sinks/nats; optional at build time),
#             nats-server (the JetStream server of tests/live/fleet.sh)
#
# `tools/install-deps.sh --list` prints the packages and installs nothing.
set -eu

PACKAGES="make gcc clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev libyaml-dev
libjansson-dev libcmocka-dev libpcap-dev libnftables-dev libmnl-dev libnftnl-dev pkg-config
iproute2 nftables iputils-ping
systemtap-sdt-dev openvswitch-switch netcat-openbsd tcpdump tshark ethtool procps util-linux python3 python3-jsonschema
bash-completion libpython3-dev qemu-system-x86 busybox-static cpio kmod chromium
libnats-dev nats-server"

if [ "${1:-}" = "--list" ]; then
	echo $PACKAGES
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "tools/install-deps.sh: needs root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
