#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh: run the QEMU suite on kernels built with the
# checkers.  Not part of make test: building a kernel takes 15 to 60 min on
# 2 cores, and each guest test runs many times slower under it.
#
# Two flavours, because KASAN and KCSAN exclude each other in Kconfig; both
# have UBSAN (llm.ko's code), lockdep, atomic-sleep checks, debug objects,
# kmemleak and line-number debug info (scripts/debug-kernel.config):
#   kasan   + KASAN: out-of-bounds, use-after-free (debug-kernel.kasan.config)
#   kcsan   + KCSAN: data races (debug-kernel.kcsan.config)
#
# usage: scripts/debug-kernel.sh [--flavour F] build
#            x86_64_defconfig + the fragments, built from Debian's
#            linux-source-6.1 (installed by apt if missing)
#        scripts/debug-kernel.sh [--flavour F] ring-test [TEST...]
#            the same for the network ring's tests (several guests)
#        scripts/debug-kernel.sh [--flavour F] test [TEST...]
#            builds llm.ko and the guest tools for that kernel and runs the
#            QEMU tests on it (scripts/kernel-test.sh), 1 GiB guests, 900 s
#            per test; every test also fails on a kmemleak report after
#            rmmod.  The result lines say the flavour: PASS qemu-kasan/...
#   --flavour F    kasan, kcsan or all (the default: kasan, then kcsan);
#                  DEBUG_FLAVOUR=F does the same
#
# Layout, per flavour, under LLM_DEBUG_DIR (default build/debug):
#   FLAVOUR/linux-source-6.1/           the kernel tree (--kdir)
#   FLAVOUR/linux-source-6.1/arch/x86/boot/bzImage   (--image)
#   FLAVOUR/llm/                        the copy llm.ko is built in
#   FLAVOUR/llm/build/qemu/logs/        the guests' serial logs
# make debug-kernel and make debug-test run the two steps (DEBUG_FLAVOUR=F
# for one flavour).  Exit status: 0 all passed, 1 some test failed, 2 the
# build or the harness could not run.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${LLM_DEBUG_DIR:-$ROOT/build/debug}
FLAVOUR=${DEBUG_FLAVOUR:-all}
FLAVOURS=(kasan kcsan)
JOBS=$(nproc)

die() {
	echo "debug-kernel: $*" >&2
	exit 2
}

note() {
	echo "debug-kernel: $*" >&2
}

ktree() {
	echo "$DIR/$1/linux-source-6.1"
}

# Fail on any line of a fragment that Kconfig did not take: it drops what
# it cannot satisfy without a word.
check_fragment() {
	local opt want got

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
			die "$1: $got did not take the value $2 asks for ($want)"
	done < "$2"
}

build_kernel() {
	local fl=$1 tree frags f

	tree=$(ktree "$fl")
	frags=("$ROOT/scripts/debug-kernel.config"
		"$ROOT/scripts/debug-kernel.$fl.config")
	mkdir -p "$DIR/$fl"
	if [ ! -f "$tree/Makefile" ]; then
		note "$fl: unpacking /usr/src/linux-source-6.1.tar.xz into $DIR/$fl"
		tar -C "$DIR/$fl" -xf /usr/src/linux-source-6.1.tar.xz
	fi
	cd "$tree"
	# Keep the old .config (and its time stamp) when nothing changed, so
	# that a rebuild of an up-to-date tree does no work.
	[ -f .config ] && cp -p .config .config.llm-prev
	make -s x86_64_defconfig
	scripts/kconfig/merge_config.sh -m .config "${frags[@]}" > /dev/null
	make -s olddefconfig
	if [ -f .config.llm-prev ] && cmp -s .config .config.llm-prev; then
		mv .config.llm-prev .config
	else
		rm -f .config.llm-prev
	fi
	for f in "${frags[@]}"; do
		check_fragment "$fl" "$f"
	done
	note "$fl: building the kernel in $tree with $JOBS jobs (15 to 60 min on 2 cores, with the load)"
	make -s -j"$JOBS" bzImage modules || die "$fl: the kernel build failed"
	note "$fl: built $tree/arch/x86/boot/bzImage"
}

# Run the suite on one flavour; its result lines, tagged with the flavour,
# on stdout.  Returns run.sh's status.
run_tests() {
	local fl=$1 tree st t0 secs
	shift

	tree=$(ktree "$fl")
	t0=$EPOCHREALTIME
	note "$fl: the QEMU suite on $tree/arch/x86/boot/bzImage"
	set +e
	# it boots slowly: give a boot 300 s before run.sh retries it
	LLM_QEMU_BOOT_TIMEOUT=${LLM_QEMU_BOOT_TIMEOUT:-300} \
	"$ROOT/scripts/kernel-test.sh" --kdir "$tree" \
		--image "$tree/arch/x86/boot/bzImage" --work "$DIR/$fl" \
		--memory 1G --timeout 900 "$@" |
		sed -u "s#^\(PASS\|FAIL\|SKIP\) \(qemu\|ring\)/#\1 \2-$fl/#" |
		tee "$DIR/$fl/results.txt"
	st=${PIPESTATUS[0]}
	set -e
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
	note "$fl: $(grep -c '^PASS ' "$DIR/$fl/results.txt") passed, $(grep -c '^FAIL ' "$DIR/$fl/results.txt") failed, $(grep -c '^SKIP ' "$DIR/$fl/results.txt") skipped, in $((secs / 60)) min $((secs % 60)) s (exit status $st; logs in $DIR/$fl/llm/build/qemu/logs)"
	return "$st"
}

while [ $# -gt 0 ]; do
	case $1 in
	--flavour) FLAVOUR=${2:?--flavour needs kasan, kcsan or all}; shift ;;
	--flavour=*) FLAVOUR=${1#--flavour=} ;;
	-h|--help)
		sed -n '4,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0 ;;
	*) break ;;
	esac
	shift
done
case $FLAVOUR in
all) ;;
kasan|kcsan) FLAVOURS=("$FLAVOUR") ;;
*) die "unknown flavour '$FLAVOUR' (kasan, kcsan or all)" ;;
esac

case ${1:-} in
build)
	"$ROOT/scripts/setup.sh" bc bison flex libelf-dev libssl-dev dwarves
	[ -f "$DIR/linux-source-6.1/Makefile" ] &&
		note "$DIR/linux-source-6.1 is the old single-flavour tree, no longer used (the kasan one is $(ktree kasan)): remove it to save space"
	for fl in "${FLAVOURS[@]}"; do
		(build_kernel "$fl")
	done
	;;
test|ring-test)
	[ "$1" = ring-test ] && set -- --ring "${@:2}" || shift
	for fl in "${FLAVOURS[@]}"; do
		tree=$(ktree "$fl")
		[ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$tree/Module.symvers" ] ||
			die "no $fl debug kernel in $tree: run 'scripts/debug-kernel.sh --flavour $fl build' (make debug-kernel) first"
	done
	"$ROOT/scripts/setup.sh"
	status=0
	for fl in "${FLAVOURS[@]}"; do
		run_tests "$fl" "$@" || { st=$?; [ $st -gt $status ] && status=$st; }
	done
	exit $status
	;;
*)
	echo "usage: scripts/debug-kernel.sh [--flavour kasan|kcsan|all] build | test [TEST...] | ring-test [TEST...] (--help)" >&2
	exit 2 ;;
esac
