#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: the bounded stress run of qemu-tests/soak/soak.sh in one QEMU
# guest (see its header for what it does and checks).  Not part of
# make test: a few minutes under TCG, ten times that on a debug kernel.
#
# usage: scripts/soak.sh [REQUESTS [WORKERS]]   (default 600 and 6)
#
# Environment: BUILD, and LLM_KERNEL / LLM_QEMU_MEMORY as for
# qemu-tests/run.sh (scripts/kernel-test.sh runs it on other kernels with
# --tests-dir qemu-tests/soak).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQUESTS=${1:-600}
WORKERS=${2:-6}
case $REQUESTS$WORKERS in *[!0-9]*) echo "soak: numbers, please" >&2; exit 2 ;; esac

LLM_QEMU_APPEND="${LLM_QEMU_APPEND:-} soak_requests=$REQUESTS soak_workers=$WORKERS" \
	exec "$ROOT/qemu-tests/run.sh" --tests-dir "$ROOT/qemu-tests/soak" \
	--out "${BUILD:-$ROOT/build}/soak" soak
