#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/other-kernel.sh: run the QEMU suite on another Debian kernel
# version, by default the newest 6.12 that Debian 12's archive carries
# (linux-headers-6.12.*+deb12-amd64), to keep llm.ko building and working
# beyond the 6.1 it targets.
#
# usage: scripts/other-kernel.sh [--abi ABI] [--ring] [TEST...]
#   --abi ABI   a Debian kernel ABI name without the flavour, as in
#               linux-headers-ABI-amd64 (e.g. 6.12.107+deb12)
#   --ring      the network ring's tests (qemu-tests/ring.sh) instead
#
# The headers, kbuild and kernel image packages are fetched with
# `apt-get download` and unpacked under build/kernels/ABI/ rather than
# installed, so the system keeps building for (and booting) 6.1 by
# default.  Then scripts/kernel-test.sh builds and runs everything on it.
# make other-kernel-test runs this.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ABI=''
RING=()

die() {
	echo "other-kernel: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--abi) ABI=${2:?--abi needs a name}; shift ;;
	--ring) RING=(--ring) ;;
	-h|--help) sed -n '4,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
	shift
done

"$ROOT/scripts/setup.sh"
if [ -z "$ABI" ]; then
	ABI=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		sed -n 's/^linux-headers-\(.*\)-amd64 .*/\1/p' | sort -V | tail -1)
	[ -n "$ABI" ] ||
		die "apt knows no linux-headers-6.12.*+deb12-amd64 (run apt-get update, or name one with --abi)"
fi
DIR=$ROOT/build/kernels/$ABI
ROOTFS=$DIR/root
KDIR=$ROOTFS/usr/src/linux-headers-$ABI-amd64
IMAGE=$ROOTFS/boot/vmlinuz-$ABI-amd64

if [ ! -r "$IMAGE" ] || [ ! -f "$KDIR/Makefile" ]; then
	echo "other-kernel: fetching the $ABI kernel packages into $DIR" >&2
	rm -rf "$DIR"
	mkdir -p "$DIR/debs" "$ROOTFS"
	# apt's sandbox user cannot write root's directories: fetch as root,
	# quietly (it says so in a warning otherwise).
	(cd "$DIR/debs" &&
	 apt-get -q -o APT::Sandbox::User=root download \
		"linux-headers-$ABI-amd64" "linux-headers-$ABI-common" \
		"linux-kbuild-$ABI" "linux-image-$ABI-amd64-unsigned" \
		> "$DIR/download.log" 2>&1) || {
		tail -20 "$DIR/download.log" >&2
		die "apt-get download failed"
	}
	for deb in "$DIR"/debs/*.deb; do
		dpkg -x "$deb" "$ROOTFS"
	done
	# The flavour's Makefile includes the common one by absolute path.
	sed -i "s|include /usr/src/|include $ROOTFS/usr/src/|" "$KDIR/Makefile"
fi
# Building with these headers needs the compiler they were made with.
cc=$(sed -n 's/^CC = .*\$(CROSS_COMPILE)\(gcc-[0-9]*\).*/\1/p' \
	"$KDIR/.kernelvariables" 2>/dev/null || true)
[ -z "$cc" ] || command -v "x86_64-linux-gnu-$cc" > /dev/null ||
	"$ROOT/scripts/setup.sh" "$cc"
exec "$ROOT/scripts/kernel-test.sh" --kdir "$KDIR" --image "$IMAGE" \
	--work "$DIR" ${RING[@]+"${RING[@]}"} "$@"
