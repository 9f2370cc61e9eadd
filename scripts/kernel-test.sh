#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kernel-test.sh: run the QEMU suite on a kernel other than the
# default one (the debug kernel, another Debian kernel version).
#
# usage: scripts/kernel-test.sh --kdir DIR --image FILE --work DIR
#                               [--memory SIZE] [--timeout S]
#                               [--tests-dir DIR] [TEST...]
#   --kdir DIR     kbuild tree of that kernel (headers or a built source tree)
#   --image FILE   the kernel image QEMU boots
#   --work DIR     where the copy of the working tree goes (replaced)
#   --memory SIZE  guest RAM for every test (default: each test's own)
#   --timeout S    seconds per test (default: each test's own)
#   --tests-dir DIR  the test scripts, relative to the tree (default
#                  qemu-tests/tests; qemu-tests/soak for the soak, whose
#                  size comes from LLM_QEMU_APPEND="soak_requests=N
#                  soak_workers=N")
#   --ring         the network ring's tests (qemu-tests/ring.sh, several
#                  guests at once; default tests dir qemu-tests/ring)
#
# kbuild writes objects beside the sources, so llm.ko, the sample and test
# modules and llmctl are built in a copy of the working tree (tracked files,
# with their changes, models/ included); the normal build stays untouched.
# On a kernel built with KASAN, KCSAN or UBSAN, llm.ko must be instrumented
# for it (nm finds the sanitizer's calls) or nothing runs.
# Exit status: run.sh's, or 2.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KDIR='' IMAGE='' WORK='' MEMORY='' TIMEOUT=() TESTS_DIR='' RING=0

die() {
	echo "kernel-test: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--kdir) KDIR=${2:?--kdir needs a directory}; shift ;;
	--image) IMAGE=${2:?--image needs a file}; shift ;;
	--work) WORK=${2:?--work needs a directory}; shift ;;
	--memory) MEMORY=${2:?--memory needs a size}; shift ;;
	--timeout) TIMEOUT=(--timeout "${2:?--timeout needs seconds}"); shift ;;
	--tests-dir) TESTS_DIR=${2:?--tests-dir needs a directory}; shift ;;
	--ring) RING=1 ;;
	-h|--help) sed -n '4,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
	shift
done
[ -n "$KDIR" ] && [ -n "$IMAGE" ] && [ -n "$WORK" ] ||
	die "--kdir, --image and --work are needed (see --help)"
[ -f "$KDIR/Makefile" ] || die "$KDIR is not a kbuild tree"
[ -r "$IMAGE" ] || die "cannot read $IMAGE"

src=$WORK/llm
rm -rf "$src"
mkdir -p "$src"
git -C "$ROOT" ls-files -z | tar -C "$ROOT" --null -T - -cf - |
	tar -C "$src" -xf -
echo "kernel-test: building llm.ko for $KDIR in $src" >&2
make -s -C "$src" KDIR="$KDIR" module build/llmctl.static qemu-extra \
	> "$WORK/build.log" 2>&1 || {
	tail -30 "$WORK/build.log" >&2
	die "the build failed (log: $WORK/build.log)"
}
# On a kernel with a sanitizer, llm.ko must carry its instrumentation, or
# the run checks nothing of ours: KASAN and KCSAN instrument modules unless
# their Kbuild opts out, UBSAN only where the Kbuild asks for it.
conf=$KDIR/include/config/auto.conf
for san in "KASAN:__asan_:Kbuild must not say KASAN_SANITIZE := n" \
	   "KCSAN:__tsan_:Kbuild must not say KCSAN_SANITIZE := n" \
	   "UBSAN:__ubsan_handle_:Kbuild needs UBSAN_SANITIZE := y"; do
	IFS=: read -r opt sym why <<< "$san"
	grep -qx "CONFIG_$opt=y" "$conf" 2>/dev/null || continue
	nm "$src/llm.ko" | grep -q " U $sym" ||
		die "the kernel has CONFIG_$opt but llm.ko calls no $sym* function: it is not instrumented ($why)"
done
if [ $RING = 1 ]; then
	LLM_KERNEL=$IMAGE LLM_QEMU_MEMORY=$MEMORY \
		exec "$src/qemu-tests/ring.sh" ${TIMEOUT[@]+"${TIMEOUT[@]}"} \
		--tests-dir "$src/${TESTS_DIR:-qemu-tests/ring}" "$@"
fi
LLM_KERNEL=$IMAGE LLM_QEMU_MEMORY=$MEMORY \
	exec "$src/qemu-tests/run.sh" ${TIMEOUT[@]+"${TIMEOUT[@]}"} \
	--tests-dir "$src/${TESTS_DIR:-qemu-tests/tests}" "$@"
