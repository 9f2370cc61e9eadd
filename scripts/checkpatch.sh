#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel style and static checks of the module's sources:
#   checkpatch.pl --no-tree (from Debian's linux-source tarball, unpacked
#   once into $BUILD/ksrc) on every kernel and shared-core file, and sparse
#   through kbuild (make C=2).  Prints the findings, then one line each
#   PASS/FAIL for the test runner.  Known, justified exceptions are listed
#   in EXCEPTIONS below.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
KDIR=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)}

# file:message pairs checkpatch may report.  Why each is fine:
#  platform.h defines, for the userspace build only, the kernel's own
#   spellings (__packed, noinline, READ_ONCE via volatile) so the core
#   reads the same in both builds.
#  ring.c tests LINUX_VERSION_CODE because this out-of-tree module builds
#   for 6.1 and for kernels with vm_flags_clear() (6.3+).
EXCEPTIONS='llm/core/platform.h:.*(__maybe_unused|__packed|noinline|volatile)
llm/ring.c:.*(LINUX_VERSION_CODE|constant on the right)'

tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
cp=$BUILD/ksrc/scripts/checkpatch.pl
if [ ! -x "$cp" ]; then
	if [ -z "$tarball" ]; then
		echo "SKIP style: checkpatch: linux-source not installed (scripts/setup.sh)"
		exit 0
	fi
	mkdir -p "$BUILD/ksrc"
	top=$(tar tf "$tarball" | head -1 | cut -d/ -f1)
	tar xf "$tarball" -C "$BUILD/ksrc" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" || exit 1
fi

cd "$ROOT"
files=$(ls llm/*.[ch] llm/core/*.[ch] netfilter/*.[ch] arena/*.[ch] quant/*.[ch] uapi/*.h samples/*/*.c qemu-tests/kmod/*.c 2>/dev/null |
	grep -v '\.mod\.c$')
out=$("$cp" --no-tree -q --terse --show-types -f $files 2>&1 |
	grep -E '^[^ ]+:[0-9]+: (ERROR|WARNING|CHECK)' |
	grep -vE "$(printf '%s' "$EXCEPTIONS" | paste -sd'|')" || true)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "FAIL style: checkpatch: $(printf '%s\n' "$out" | wc -l) findings"
else
	echo "PASS style: checkpatch --no-tree on $(echo $files | wc -w) files"
fi

if ! command -v sparse > /dev/null; then
	echo "SKIP style: sparse: not installed (scripts/setup.sh)"
	exit 0
fi
sp=$(make -s -C "$KDIR" M="$ROOT" C=2 modules 2>&1 |
	grep -E '(error|warning):' || true)
if [ -n "$sp" ]; then
	printf '%s\n' "$sp"
	echo "FAIL style: sparse: $(printf '%s\n' "$sp" | wc -l) findings"
else
	echo "PASS style: sparse (make C=2) on the module"
fi
