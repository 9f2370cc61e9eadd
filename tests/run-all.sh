#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run-all.sh: every test of the project; `make test` runs this.
#
# Builds the module, the user tools and what the guest tests want in
# $BUILD/qemu-extra (make qemu-extra), then runs the unit tests (make
# unit-test), the comparisons with llama.cpp (tests/llama-diff.sh), OpenAI's
# node client against llmctl serve (tests/serve-openai.sh), the
# fuzz targets (make fuzz-test), checkpatch and sparse, the
# docs checks, the QEMU harness self-test, the QEMU guest tests, the
# network ring tests (several guests at once) and make
# demo with its output to a file (scripts/demo-test.sh --quick).  Streams
# every PASS/FAIL/SKIP line to stdout and ends with exactly one line
#   N passed, N failed, N skipped
# A step that fails without printing a FAIL line of its own (a build error,
# a crashed runner) counts as one FAIL line.  Exit status 1 on any failure.
# Each step's whole output is kept in $BUILD/logs/STEP.log; progress and
# diagnostics go to stderr.
#
# usage: tests/run-all.sh [--skip STEP]...
#   STEP: unit llama serve fuzz style selftest qemu ring demo
# Environment: BUILD (default build), JOBS (VMs at a time, default 2).

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
export BUILD=${BUILD:-build}
JOBS=${JOBS:-2}
LOGS=$BUILD/logs
RESULTS=$BUILD/logs/results.txt
SKIP=" "
NCPU=$(nproc 2>/dev/null || echo 2)

# Start clean: a parent make's jobserver is not ours (BUILD goes on the
# command line of each make below).
unset MAKEFLAGS MFLAGS MAKELEVEL

note() {
	echo "run-all: $*" >&2
}

result() {
	echo "$*" | tee -a "$RESULTS"
}

fails_so_far() {
	grep -c '^FAIL ' "$RESULTS" || true
}

# step NAME CMD...: run CMD; its result lines go to stdout as they come,
# its other output to the log (stderr is also shown).  Returns CMD's status.
step() {
	local name=$1 log=$LOGS/$1.log st before t0=$SECONDS
	shift

	note "$name: $* (log: $log)"
	before=$(fails_so_far)
	: > "$log"
	"$@" 2> >(tee -a "$log" >&2) | tee -a "$log" |
		grep --line-buffered -E '^(PASS|FAIL|SKIP) ' | tee -a "$RESULTS"
	st=${PIPESTATUS[0]}
	# Let the stderr copy catch up before the log is read.
	wait
	if [ "$st" -ne 0 ] && [ "$(fails_so_far)" -eq "$before" ]; then
		result "FAIL $name: exited with status $st (see $log)"
	fi
	note "$name: done in $((SECONDS - t0))s"
	return "$st"
}

skipped() {
	case $SKIP in *" $1 "*) return 0 ;; esac
	return 1
}

# Files the guest tests use from $BUILD/qemu-extra (sample and test
# modules, generated models).
build_qemu_extra() {
	step build-qemu-extra make BUILD="$BUILD" qemu-extra
}

main() {
	local t0=$SECONDS built=1 npass nfail nskip

	while [ $# -gt 0 ]; do
		case $1 in
		--skip) SKIP+="${2:?--skip needs a step} "; shift ;;
		*) echo "usage: $0 [--skip unit|llama|serve|fuzz|style|selftest|qemu|ring|demo]..." >&2; exit 2 ;;
		esac
		shift
	done
	mkdir -p "$LOGS"
	: > "$RESULTS"

	step build-module make -j"$NCPU" BUILD="$BUILD" module || built=0
	step build-user make -j"$NCPU" BUILD="$BUILD" user || built=0

	if ! skipped qemu; then
		build_qemu_extra
	fi

	if skipped unit; then
		result "SKIP unit-test: skipped on request"
	else
		step unit-test make -j"$NCPU" BUILD="$BUILD" unit-test
	fi

	# llama.cpp itself as the reference (fetched once from Debian)
	if skipped llama; then
		result "SKIP llama: skipped on request"
	else
		step llama tests/llama-diff.sh
	fi

	# OpenAI's node client against llmctl serve (npm openai, fetched once)
	if skipped serve; then
		result "SKIP serve-openai: skipped on request"
	else
		step serve-openai tests/serve-openai.sh $(skipped qemu && echo --no-guest)
	fi

	if skipped fuzz; then
		result "SKIP fuzz-test: skipped on request"
	else
		step fuzz-test make BUILD="$BUILD" fuzz-test
	fi

	if skipped style; then
		result "SKIP style: skipped on request"
	else
		step style scripts/checkpatch.sh
		step docs tests/docs-check.sh
	fi

	if skipped selftest; then
		result "SKIP harness: skipped on request"
	else
		step harness qemu-tests/selftest/run.sh -j "$JOBS"
	fi

	if skipped qemu; then
		result "SKIP qemu: skipped on request"
	elif [ $built -eq 0 ]; then
		result "SKIP qemu: the module or llmctl did not build"
	else
		step qemu qemu-tests/run.sh -j "$JOBS"
	fi

	# the network ring: 2 and 3 guests at a time (about 8 minutes)
	if skipped ring; then
		result "SKIP ring: skipped on request"
	elif [ $built -eq 0 ]; then
		result "SKIP ring: the module or llmctl did not build"
	else
		step ring qemu-tests/ring.sh
	fi

	# make demo as the README has it, output to a file (the stories110M
	# half is make demo-test, outside make test: a minute more).
	if skipped demo; then
		result "SKIP demo: skipped on request"
	elif [ $built -eq 0 ]; then
		result "SKIP demo: the module or llmctl did not build"
	else
		step demo scripts/demo-test.sh --quick
	fi

	npass=$(grep -c '^PASS ' "$RESULTS")
	nfail=$(grep -c '^FAIL ' "$RESULTS")
	nskip=$(grep -c '^SKIP ' "$RESULTS")
	note "all steps in $((SECONDS - t0))s; results in $RESULTS"
	echo "$npass passed, $nfail failed, $nskip skipped"
	[ "$nfail" -eq 0 ]
}

main "$@"
