#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-tests/selftest/run.sh: test the QEMU test harness itself.
#
# Runs qemu-tests/run.sh once per script in qemu-tests/selftest/tests and
# checks its verdict: a passing script passes, and a failing check, a
# silent script, a script that exits early, a kernel WARNING (from the tiny
# module in selftest/warn/; one before llm.ko's first load is named
# apart), a hung guest, a kernel crash, and a guest that
# never reaches /init (its init fails, or its boot outlasts the boot
# timeout: booted twice) each make run.sh print a FAIL line and exit
# non-zero.  With --ring, the same for qemu-tests/ring.sh with the rings
# of selftest/ring/ (2 or 3 VMs each, 80 s for the longest, hence not by
# default: make test runs this): one node's failing check, one node's
# kernel crash (the others are stopped soon after), one node that never
# ends its script (stopped after node 0 ended).  Prints "PASS harness: ..."
# or "FAIL harness: ..." lines; exits 1 if any check failed.
#
# usage: qemu-tests/selftest/run.sh [-j N] [--ring]    (BUILD as for run.sh)

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/selftest
RUN=$ROOT/qemu-tests/run.sh
RING=$ROOT/qemu-tests/ring.sh
JOBS=2
FAILED=0

# case NAME: expected exit status, then EREs that run.sh's stdout must match.
declare -A EXPECT_STATUS=(
	[pass]=0 [fail]=1 [silent]=1 [early_exit]=1 [warn]=1 [warn_early]=1
	[hang]=1 [oops]=1 [noinit]=1 [boothang]=1
	[ring_fail]=1 [ring_crash]=1 [ring_hang]=1
)
declare -A EXPECT_LINES=(
	[pass]='^PASS qemu/pass: true succeeds$'
	[fail]='^FAIL qemu/fail: false succeeds \(it does not\): '
	[silent]='^FAIL qemu/silent: results: the script printed no result lines$'
	[early_exit]='^FAIL qemu/early_exit: run: the script stopped before its last line'
	[warn]='^FAIL qemu/warn: kernel log: .*WARNING:'
	[warn_early]='^FAIL qemu/warn_early: kernel log before llm.ko was loaded: .*WARNING:'
	[hang]='^FAIL qemu/hang: run: timed out after 45 s$'
	[oops]='^FAIL qemu/oops: run: the guest stopped before the end'
	[noinit]='^FAIL qemu/noinit: run: the guest did not reach /init, twice'
	[boothang]='^FAIL qemu/boothang: run: the guest did not reach /init, twice'
	[ring_fail]='^FAIL ring/ring_fail\[node1\]: false succeeds \(it does not\): '
	[ring_crash]='^FAIL ring/ring_crash\[node1\]: run: the guest stopped before the end'
	[ring_hang]='^FAIL ring/ring_hang\[node1\]: run: still running 10 s after node 0 ended$'
)
# How a case's run.sh is started, beyond the common options.
declare -A CASE_ENV=(
	[noinit]='LLM_QEMU_APPEND=rdinit=/bin/false'
	[boothang]='LLM_QEMU_BOOT_TIMEOUT=1'
	[ring_hang]='RING_GRACE=10'
)
declare -A WHAT=(
	[pass]="a passing script passes (exit 0)"
	[fail]="a failing check fails the run"
	[silent]="a script with no result lines fails the run"
	[early_exit]="a script that exits before its last line fails the run"
	[warn]="a kernel WARNING fails the run although the script passed"
	[warn_early]="a WARNING before llm.ko's first load fails the run, named apart"
	[hang]="a hung guest is killed at its timeout and fails the run"
	[oops]="a kernel crash fails the run"
	[noinit]="a guest whose /init cannot run is booted again, then fails the run"
	[boothang]="a boot that outlasts the boot timeout is stopped, booted again, then fails the run"
	[ring_fail]="ring: one node's failing check fails the ring test, on that node's line"
	[ring_crash]="ring: one node's kernel crash fails it, the others are stopped 10 s later"
	[ring_hang]="ring: a node still running RING_GRACE s after node 0 ended is stopped and fails it"
)
# Run the long one first.
CASES=(hang pass fail silent early_exit warn warn_early oops noinit boothang)
# With --ring, before them.
RING_CASES=(ring_hang ring_crash ring_fail)

pass() {
	echo "PASS harness: $1"
}

fail() {
	echo "FAIL harness: $1: $2"
	FAILED=1
}

# The WARN_ON module, built against the headers the guest kernel matches.
build_warn_module() {
	local kdir

	kdir=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)}
	rm -rf "$OUT/warn" "$OUT/extra"
	mkdir -p "$OUT/warn" "$OUT/extra"
	cp "$HERE"/warn/* "$OUT/warn/"
	if ! make -C "$kdir" M="$OUT/warn" modules > "$OUT/warn/build.log" 2>&1; then
		fail "build the WARN_ON module" "see $OUT/warn/build.log"
		return 1
	fi
	cp "$OUT/warn/llm_selftest_warn.ko" "$OUT/extra/"
	pass "the WARN_ON module builds against $kdir"
}

# Without VMs: --list and a bad test name.
check_cli() {
	local want got st=0

	want=$(cd "$HERE/tests" && ls *.sh | sed 's/\.sh$//' | LC_ALL=C sort)
	got=$("$RUN" --tests-dir "$HERE/tests" --list | LC_ALL=C sort)
	if [ "$got" = "$want" ]; then
		pass "--list names every test script"
	else
		fail "--list names every test script" "got: $(printf "%s " $got)"
	fi
	"$RUN" --tests-dir "$HERE/tests" no_such_test > /dev/null 2>&1 || st=$?
	if [ $st -eq 2 ]; then
		pass "an unknown test name is refused (exit 2)"
	else
		fail "an unknown test name is refused (exit 2)" "exit status $st"
	fi
	# a ring test of two sizes runs as NAME@2 and NAME@3
	got=$("$RING" --list | tr '\n' ' ')
	if [[ " $got" == *" net_selftest@2 net_selftest@3 "* ]]; then
		pass "ring.sh --list names each size of a '# nodes: 2,3' test"
	else
		fail "ring.sh --list names each size of a '# nodes: 2,3' test" "got: $got"
	fi
	st=0
	"$RING" --tests-dir "$HERE/ring" no_such_test > /dev/null 2>&1 || st=$?
	if [ $st -eq 2 ]; then
		pass "ring.sh refuses an unknown test name (exit 2)"
	else
		fail "ring.sh refuses an unknown test name (exit 2)" "exit status $st"
	fi
}

# One run.sh per case, in its own output directory; no models needed.
start_case() {
	local name=$1 dir=$OUT/$1

	rm -rf "$dir"
	mkdir -p "$dir"
	(
		t0=$(date +%s)
		st=0
		case $name in
		ring_*) run=("$RING" --tests-dir "$HERE/ring") ;;
		*) run=("$RUN" -j 1 --tests-dir "$HERE/tests") ;;
		esac
		# shellcheck disable=SC2086
		env ${CASE_ENV[$name]:-} LLM_MODELS=/nonexistent "${run[@]}" \
			--extra "$OUT/extra" --out "$dir" "$name" \
			> "$dir/stdout" 2> "$dir/stderr" || st=$?
		echo "$st $(($(date +%s) - t0))" > "$dir/status"
	) &
}

check_case() {
	local name=$1 dir=$OUT/$1 st secs what=${WHAT[$1]}

	read -r st secs < "$dir/status"
	if [ "$st" != "${EXPECT_STATUS[$name]}" ]; then
		fail "$what" "run.sh exited $st, expected ${EXPECT_STATUS[$name]} (see $dir/stderr)"
		return
	fi
	if ! grep -Eq "${EXPECT_LINES[$name]}" "$dir/stdout"; then
		fail "$what" "no output line matches /${EXPECT_LINES[$name]}/ (see $dir/stdout)"
		return
	fi
	if grep -Evq '^(PASS|FAIL|SKIP) ' "$dir/stdout"; then
		fail "$what" "stdout has lines that are not results (see $dir/stdout)"
		return
	fi
	if [ "$st" -ne 0 ] && ! grep -q "$dir/logs/$name\.\(node1\.\)\{0,1\}log" "$dir/stderr"; then
		fail "$what" "the log path was not printed (see $dir/stderr)"
		return
	fi
	case $name in
	pass)
		if grep -q '^FAIL ' "$dir/stdout"; then
			fail "$what" "it printed a FAIL line"
			return
		fi ;;
	warn|warn_early)
		# The script's own check passed: the kernel log alone failed it,
		# under one name only.
		if ! grep -q "^PASS qemu/$name: insmod the WARN_ON module\$" "$dir/stdout"; then
			fail "$what" "the module did not load (see $dir/logs/$name.log)"
			return
		fi
		if [ "$(grep -c "^FAIL qemu/$name: kernel log" "$dir/stdout")" -ne 1 ]; then
			fail "$what" "not exactly one 'kernel log' FAIL line (see $dir/stdout)"
			return
		fi ;;
	noinit|boothang)
		if [ "$(grep -c 'booting it again' "$dir/stderr")" -ne 1 ]; then
			fail "$what" "it was not booted exactly twice (see $dir/stderr)"
			return
		fi ;;
	hang)
		if [ "$secs" -gt 90 ]; then
			fail "$what" "it took ${secs}s for a 45 s timeout"
			return
		fi ;;
	ring_fail)
		if grep -q '^FAIL ring/ring_fail\[node0\]' "$dir/stdout" ||
		   ! grep -q '^PASS ring/ring_fail\[node0\]: true succeeds$' "$dir/stdout"; then
			fail "$what" "node 0's lines are not just its PASS line (see $dir/stdout)"
			return
		fi ;;
	ring_crash)
		if [ "$(grep -c '^FAIL ring/ring_crash\[node[02]\]: run: stopped 10 s after node 1 stopped before its end$' "$dir/stdout")" -ne 2 ]; then
			fail "$what" "nodes 0 and 2 were not stopped for it (see $dir/stdout)"
			return
		fi ;;
	ring_hang)
		if ! grep -q '^FAIL ring/ring_hang\[node0\]: ring: not every node ended its script' "$dir/stdout"; then
			fail "$what" "node 0 did not fail its end barrier (see $dir/stdout)"
			return
		fi ;;
	esac
	pass "$what (${secs}s)"
}

main() {
	local name running=0

	while [ $# -gt 0 ]; do
		case $1 in
		-j) JOBS=${2:?}; shift ;;
		--ring) CASES=("${RING_CASES[@]}" "${CASES[@]}") ;;
		*) echo "usage: $0 [-j N] [--ring]" >&2; exit 2 ;;
		esac
		shift
	done
	mkdir -p "$OUT"
	check_cli
	build_warn_module || true

	for name in "${CASES[@]}"; do
		if [ $running -ge "$JOBS" ]; then
			wait -n || true
			running=$((running - 1))
		fi
		echo "selftest: start $name" >&2
		start_case "$name"
		running=$((running + 1))
	done
	wait
	for name in "${CASES[@]}"; do
		check_case "$name"
	done
	exit $FAILED
}

main "$@"
