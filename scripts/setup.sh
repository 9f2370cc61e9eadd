#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/setup.sh: install the Debian 12 packages the project needs to
# build and test (module headers, the guest kernel, QEMU, busybox, clang for
# libFuzzer and sanitizers, sparse, the kernel source for checkpatch).
# Idempotent and silent when everything is installed; otherwise prints one
# line naming what it installs.  Uses sudo when not run as root.  Checks at
# the end that kernel headers and the matching kernel image are present.
#
# usage: scripts/setup.sh [PACKAGE...]   (extra packages a caller needs)

set -eu

PACKAGES=(
	linux-headers-amd64	# kbuild for llm.ko (pulls the matching gcc)
	linux-image-amd64	# the guest kernel qemu-tests boot
	qemu-system-x86
	busybox-static		# the guest userland
	cpio gzip kmod		# initramfs, modinfo
	gcc make libc6-dev binutils
	clang libclang-rt-14-dev	# libFuzzer, sanitizers
	linux-source-6.1	# scripts/checkpatch.pl
	perl			# checkpatch.pl
	sparse
	xz-utils
)

die() {
	echo "setup: $*" >&2
	exit 1
}

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
		grep -q '^install ok installed$'
}

# apt-get as root, quietly; its output is shown only when it fails.
apt_install() {
	local sudo='' log

	[ "$(id -u)" -eq 0 ] || sudo=sudo
	log=$(mktemp)
	if ! { $sudo apt-get update &&
	       $sudo env INITRD=No DEBIAN_FRONTEND=noninteractive \
		       apt-get install -y --no-install-recommends "$@"; } \
	       > "$log" 2>&1; then
		tail -30 "$log" >&2
		rm -f "$log"
		die "apt-get failed installing: $*"
	fi
	rm -f "$log"
}

newest_headers() {
	ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1
}

main() {
	local pkg missing=() hdr abi

	command -v dpkg-query > /dev/null ||
		die "this needs a Debian system (no dpkg-query)"
	for pkg in "${PACKAGES[@]}" "$@"; do
		installed "$pkg" || missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: installing ${missing[*]}"
		apt_install "${missing[@]}"
	fi

	# The guest boots the kernel that matches the newest headers.
	hdr=$(newest_headers)
	[ -n "$hdr" ] ||
		die "no /usr/src/linux-headers-*-amd64 after installing linux-headers-amd64"
	abi=${hdr##*/linux-headers-}
	if [ ! -e "/boot/vmlinuz-$abi" ]; then
		echo "setup: installing linux-image-$abi (to match $hdr)"
		apt_install "linux-image-$abi"
	fi
	[ -e "/boot/vmlinuz-$abi" ] ||
		die "headers $hdr have no matching kernel /boot/vmlinuz-$abi"
	[ -r "/boot/vmlinuz-$abi" ] ||
		die "/boot/vmlinuz-$abi is not readable by $(id -un): qemu-tests cannot boot it"
}

main "$@"
