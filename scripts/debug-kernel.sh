#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh: run the QEMU suite on a kernel built with the
# checkers (KASAN, UBSAN, lockdep, atomic-sleep checks, debug objects,
# kmemleak; scripts/debug-kernel.config).  Not part of make test: building
# the kernel takes 15 to 60 min on 2 cores, and each guest test runs about
# ten times slower under it.
#
# usage: scripts/debug-kernel.sh build
#            x86_64_defconfig + the fragment, built from Debian's
#            linux-source-6.1 (installed by apt if missing)
#        scripts/debug-kernel.sh test [TEST...]
#            builds llm.ko and the guest tools for that kernel and runs the
#            QEMU tests on it (scripts/kernel-test.sh); every test also
#            fails on a kmemleak report after rmmod
#
# Environment: LLM_DEBUG_DIR (default build/debug) holds the kernel tree
# (linux-source-6.1/) and the copy (llm/).  make debug-kernel and
# make debug-test run the two steps.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${LLM_DEBUG_DIR:-$ROOT/build/debug}
KTREE=$DIR/linux-source-6.1
FRAGMENT=$ROOT/scripts/debug-kernel.config
JOBS=$(nproc)

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

note() {
	echo "debug-kernel: $*" >&2
}

build_kernel() {
	local opt want got

	"$ROOT/scripts/setup.sh" bc bison flex libelf-dev libssl-dev dwarves
	mkdir -p "$DIR"
	if [ ! -f "$KTREE/Makefile" ]; then
		note "unpacking /usr/src/linux-source-6.1.tar.xz into $DIR"
		tar -C "$DIR" -xf /usr/src/linux-source-6.1.tar.xz
	fi
	cd "$KTREE"
	# Keep the old .config (and its time stamp) when nothing changed, so
	# that a rebuild of an up-to-date tree does no work.
	[ -f .config ] && cp -p .config .config.llm-prev
	make -s x86_64_defconfig
	scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" > /dev/null
	make -s olddefconfig
	if [ -f .config.llm-prev ] && cmp -s .config .config.llm-prev; then
		mv .config.llm-prev .config
	else
		rm -f .config.llm-prev
	fi
	# Kconfig drops what it cannot satisfy without a word: say so.
	while IFS= read -r opt; do
		case $opt in
		CONFIG_*=*) want=$opt ;;
		"# CONFIG_"*" is not set") want=$opt ;;
		*) continue ;;
		esac
		got=${want%%=*}
		got=${got#\# }
		got=${got%% *}
		grep -qxF "$want" .config ||
			die "$got did not take the value the fragment asks for ($want)"
	done < "$FRAGMENT"
	note "building the kernel in $KTREE with $JOBS jobs (15 to 60 min on 2 cores, with the load)"
	make -s -j"$JOBS" bzImage modules
	note "built $KTREE/arch/x86/boot/bzImage"
}

run_tests() {
	[ -f "$KTREE/arch/x86/boot/bzImage" ] && [ -f "$KTREE/Module.symvers" ] ||
		die "no debug kernel in $KTREE: run 'scripts/debug-kernel.sh build' first"
	"$ROOT/scripts/setup.sh"
	# it boots slowly: give a boot 300 s before run.sh retries it
	LLM_QEMU_BOOT_TIMEOUT=${LLM_QEMU_BOOT_TIMEOUT:-300} \
	"$ROOT/scripts/kernel-test.sh" --kdir "$KTREE" \
		--image "$KTREE/arch/x86/boot/bzImage" --work "$DIR" \
		--memory 1G --timeout 900 "$@"
}

case ${1:-} in
build) build_kernel ;;
test) shift; run_tests "$@" ;;
-h|--help)
	sed -n '4,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
	;;
*)
	echo "usage: scripts/debug-kernel.sh build | test [TEST...] (--help)" >&2
	exit 2 ;;
esac
