#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/setup.sh: install the Debian 12 packages the project needs to
# build and test (module headers, QEMU, busybox, clang for libFuzzer and
# sanitizers, sparse, the kernel source for checkpatch), and unpack the
# kernel the QEMU guests boot into the build directory.
# Idempotent and silent when everything is there; otherwise prints one
# line naming what it installs or fetches.  Uses sudo when not run as root.
#
# The guest kernel is not installed: a linux-image package would put a
# newer kernel without an initramfs at the top of this machine's boot menu.
# Instead the linux-image-ABI-amd64-unsigned package that matches the
# newest linux-headers-*-amd64 installed is fetched with `apt-get download`
# and unpacked (dpkg -x, as scripts/other-kernel.sh does for 6.12) under
# $BUILD/kernels/VERSION/root/ (VERSION is the ABI without -amd64);
# qemu-tests/run.sh boots $BUILD/kernels/VERSION/root/boot/vmlinuz-ABI.
# make clean removes it with the rest of build/; the next setup fetches it
# again.
#
# usage: scripts/setup.sh [PACKAGE...]   (extra packages a caller needs)
#        scripts/setup.sh --kernel-image (print the guest kernel's path)
# Environment: BUILD (default build, relative to the top directory).

set -eu

PACKAGES=(
	linux-headers-amd64	# kbuild for llm.ko (pulls the matching gcc)
	qemu-system-x86
	busybox-static		# the guest userland
	cpio gzip kmod		# initramfs, modinfo
	gcc make libc6-dev binutils
	clang libclang-rt-14-dev	# libFuzzer, sanitizers
	linux-source-6.1	# scripts/checkpatch.pl
	perl			# checkpatch.pl
	sparse
	xz-utils
	unicode-data		# the BPE tokenizer's Unicode classes
	curl			# tests/llama-diff.sh asks llama-server
	libjansson-dev		# llmctl convert hf reads JSON
	libmicrohttpd-dev	# llmctl serve's HTTP
)
# tests/llama-diff.sh runs Hugging Face's tokenizers under node: Debian's
# nodejs and npm, unless node and npm are there already (a nodejs package
# from elsewhere carries npm itself and conflicts with Debian's)
NODE_PACKAGES=(nodejs npm)

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
	       $sudo env DEBIAN_FRONTEND=noninteractive \
		       apt-get install -y --no-install-recommends "$@"; } \
	       > "$log" 2>&1; then
		tail -30 "$log" >&2
		rm -f "$log"
		die "apt-get failed installing: $*"
	fi
	rm -f "$log"
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

newest_headers() {
	ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1
}

# The image the guests boot for headers ABI @1 (6.1.0-57-amd64).
kernel_image() {
	echo "$BUILD/kernels/${1%-amd64}/root/boot/vmlinuz-$1"
}

# Fetch linux-image-@1-unsigned and unpack it beside where kernel_image()
# looks; the package is not installed.
fetch_kernel() {
	local abi=$1 dir=$BUILD/kernels/${1%-amd64} pkg=linux-image-$1-unsigned
	local sandbox=() sudo='' deb log

	[ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root) || sudo=sudo
	echo "setup: fetching $pkg (the guest kernel, unpacked into $dir, not installed)"
	rm -rf "$dir/debs" "$dir/root.new"
	mkdir -p "$dir/debs" "$dir/root.new"
	log=$dir/download.log
	# apt's sandbox user cannot write here: fetch as root, quietly.
	if ! (cd "$dir/debs" && apt-get -q "${sandbox[@]}" download "$pkg") \
		> "$log" 2>&1; then
		# an old or missing package list: update it once and retry
		{ $sudo apt-get update &&
		  (cd "$dir/debs" && apt-get -q "${sandbox[@]}" download "$pkg"); } \
			>> "$log" 2>&1 || {
			tail -20 "$log" >&2
			die "apt-get download $pkg failed (log: $log); if the archive has moved on to a newer kernel ABI, upgrade linux-headers-amd64"
		}
	fi
	for deb in "$dir"/debs/*.deb; do
		dpkg -x "$deb" "$dir/root.new" ||
			die "cannot unpack $deb into $dir/root.new"
	done
	rm -rf "$dir/root" "$dir/debs"
	mv "$dir/root.new" "$dir/root"
}

main() {
	local pkg missing=() hdr abi img

	command -v dpkg-query > /dev/null ||
		die "this needs a Debian system (no dpkg-query)"
	for pkg in "${PACKAGES[@]}" "$@"; do
		installed "$pkg" || missing+=("$pkg")
	done
	command -v node > /dev/null && command -v npm > /dev/null ||
		missing+=("${NODE_PACKAGES[@]}")
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: installing ${missing[*]}"
		apt_install "${missing[@]}"
	fi

	# The guest boots the kernel that matches the newest headers.
	hdr=$(newest_headers)
	[ -n "$hdr" ] ||
		die "no /usr/src/linux-headers-*-amd64 after installing linux-headers-amd64"
	abi=${hdr##*/linux-headers-}
	img=$(kernel_image "$abi")
	[ -r "$img" ] || fetch_kernel "$abi"
	[ -r "$img" ] ||
		die "the linux-image-$abi-unsigned package has no $img"
}

if [ "${1:-}" = --kernel-image ]; then
	hdr=$(newest_headers)
	[ -n "$hdr" ] || die "no /usr/src/linux-headers-*-amd64: run scripts/setup.sh"
	kernel_image "${hdr##*/linux-headers-}"
	exit 0
fi
main "$@"
