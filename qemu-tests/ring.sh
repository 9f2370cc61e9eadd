#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-tests/ring.sh: run the ring tests, several QEMU guests joined in a
# ring by point-to-point links, with no host networking.
#
# A ring test is qemu-tests/ring/NAME.sh; its header line "# nodes: 3"
# (or "# nodes: 2,3": once with each) says how many guests it takes.
# Each guest boots the kernel run.sh boots, from one initramfs: run.sh's,
# plus the virtio NIC driver, sch_netem and iproute2's tc.  Link L joins
# node L and node (L+1)%N (one link when N is 2) through a pair of unix
# datagram sockets (-netdev dgram); see guest/lib.sh (ring_setup) for the
# addresses and the variables the script gets, README.md ("Ring tests")
# for the rest.  /init brings the links up and waits for every node
# before the script, and for every node again after it.
#
# The host names each guest's result lines "ring/NAME[nodeK]" (NAME@N for
# a test that runs with several N) and judges each guest as run.sh judges
# one (a FAIL line, no result line, a script that stops early, a timeout,
# a kernel splat); the ring test fails if any guest fails.  When node 0
# has ended, the others have RING_GRACE seconds (30) to end too; a guest
# that ends before its end (a crash) stops the others after 10 s.  Should a
# guest not reach /init, the whole ring is booted once more.
#
# usage: qemu-tests/ring.sh [OPTIONS] [TEST[@N]...]
#   --list           print the test names (NAME@N for each N) and exit
#   --timeout S      seconds per guest, overriding '# timeout:' headers
#   --tests-dir DIR  the test scripts (default qemu-tests/ring)
#   --extra DIR      copied to /extra in the guests (default $BUILD/qemu-extra)
#   --out DIR        initramfs and logs (default $BUILD/qemu-ring)
#
# Header lines: "# nodes: N[,N...]" (2 or 3; default 2), and as in run.sh
# "# timeout: S" (default 300), "# memory: SIZE" (default 512M),
# "# smp: N" (default 1: three guests share the host's CPUs).
#
# Environment: as for run.sh; RING_GRACE=S.
#
# Standard output carries only the result lines; progress goes to stderr.
# Exit status: 0 all passed, 1 some test failed, 2 the harness could not run.

set -eu

# run.sh's functions and settings (it runs nothing when sourced); what
# this file sets below, run.sh's functions read.
# shellcheck source=qemu-tests/run.sh
. "$(dirname "${BASH_SOURCE[0]}")/run.sh"
# shellcheck disable=SC2034

TESTS_DIR=$HERE/ring
OUT=$BUILD/qemu-ring
DEFAULT_TIMEOUT=300
DEFAULT_SMP=1
DEFAULT_NODES=2
RING_GRACE=${RING_GRACE:-30}
# after a guest crashed, the others are stopped this much later
CRASH_GRACE=10
KMODS_EXTRA=(virtio_pci virtio_net sch_netem)
INITRAMFS_HOOK=install_tc
TC_BIN=/usr/sbin/tc

# shellcheck disable=SC2034
ring_parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--list) LIST=1 ;;
		--timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
		--tests-dir) TESTS_DIR=${2:?}; shift ;;
		--extra) EXTRA_DIR=${2:?}; shift ;;
		--out) OUT=${2:?}; shift ;;
		-h|--help) usage; exit 0 ;;
		-*) die "unknown option '$1' (see --help)" ;;
		*) SELECTED+=("$1") ;;
		esac
		shift
	done
	[[ -z $TIMEOUT || $TIMEOUT =~ ^[1-9][0-9]*$ ]] ||
		die "--timeout wants seconds"
	[ -d "$TESTS_DIR" ] || die "no test directory $TESTS_DIR"
	TESTS_DIR=$(cd "$TESTS_DIR" && pwd)
}

# node_counts FILE: the N of its '# nodes:' line, space-separated.
node_counts() {
	local v

	v=$(sed -n '1,30s/^# *nodes: *\(.*\)/\1/p' "$1" | head -1)
	v=${v//,/ }
	echo "${v:-$DEFAULT_NODES}"
}

# The runs: NAME (one N) or NAME@N (several), each with its N in RUN_NODES
# and its script in RUN_SCRIPT.
pick_runs() {
	local f name n counts runs=() want

	for f in "$TESTS_DIR"/*.sh; do
		[ -f "$f" ] || continue
		name=${f##*/}
		name=${name%.sh}
		read -ra counts <<< "$(node_counts "$f")"
		for n in "${counts[@]}"; do
			[[ $n =~ ^[23]$ ]] ||
				die "$f: '# nodes: ${counts[*]}': each must be 2 or 3 (every node a neighbour of node 0)"
			if [ ${#counts[@]} -eq 1 ]; then
				runs+=("$name")
			else
				runs+=("$name@$n")
			fi
			RUN_NODES[${runs[-1]}]=$n
			RUN_SCRIPT[${runs[-1]}]=$name
		done
	done
	ALL_TESTS=("${runs[@]}")
	if [ ${#SELECTED[@]} -eq 0 ]; then
		TESTS=("${runs[@]}")
		return
	fi
	for want in "${SELECTED[@]}"; do
		want=${want%.sh}
		n=0
		for name in "${runs[@]}"; do
			if [ "$name" = "$want" ] || [ "${name%@*}" = "$want" ]; then
				TESTS+=("$name")
				n=1
			fi
		done
		[ $n = 1 ] || die "no ring test '$want' in $TESTS_DIR (see --list)"
	done
}

# iproute2's tc into the initramfs root @1, as /usr/sbin/tc and /sbin/tc
# (busybox's applet there knows no netem), with the shared libraries and
# the loader it needs (ldd) and netem's delay distribution tables.
# shellcheck disable=SC2317 # (called through INITRAMFS_HOOK)
install_tc() {
	local root=$1 lib dir=/usr/lib/x86_64-linux-gnu/tc

	if [ ! -x "$TC_BIN" ]; then
		note "warning: no $TC_BIN (apt-get install iproute2): netem_on fails in the ring guests"
		return
	fi
	mkdir -p "$root/usr/sbin"
	rm -f "$root/usr/sbin/tc" "$root/sbin/tc"
	cp "$TC_BIN" "$root/usr/sbin/tc"
	ln -s /usr/sbin/tc "$root/sbin/tc"
	for lib in $(ldd "$TC_BIN" | grep -oE '/[^ ]+'); do
		mkdir -p "$root${lib%/*}"
		cp -L "$lib" "$root$lib"
	done
	if [ -d "$dir" ]; then
		mkdir -p "$root$dir"
		cp "$dir"/*.dist "$root$dir/" 2>/dev/null || true
	fi
}

# start_node RUN K N: boot node K of ring test RUN (N nodes) in the
# background under timeout(1); its pid in NODE_PID[K].
start_node() {
	local run=$1 k=$2 n=$3 file=$TESTS_DIR/${RUN_SCRIPT[$1]}.sh t mem smp
	local net=() ends le l e out=$OUT/logs/$1.node$2.raw mac

	t=${TIMEOUT:-$(header "$file" timeout $DEFAULT_TIMEOUT)}
	mem=${LLM_QEMU_MEMORY:-$(header "$file" memory $DEFAULT_MEMORY)}
	smp=$(header "$file" smp $DEFAULT_SMP)
	# "LINK END" of its link to the next node, then of the one from the
	# previous; a ring of 2 has link 0 only
	if [ "$n" -eq 2 ]; then
		ends=("0 $((k + 1))")
	else
		ends=("$k 1" "$(((k + n - 1) % n)) 2")
	fi
	for le in "${ends[@]}"; do
		read -r l e <<< "$le"
		mac=$(printf '52:54:00:77:%02x:%02x' "$l" "$e")
		net+=(-netdev "dgram,id=n$l,local.type=unix,local.path=$SOCKDIR/l$l.$e,remote.type=unix,remote.path=$SOCKDIR/l$l.$((3 - e))"
		      -device "virtio-net-pci,netdev=n$l,mac=$mac")
	done
	RUN_LIMIT=$t
	timeout -k 5 "$t" qemu-system-x86_64 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial stdio -m "$mem" -smp "$smp" "${ACCEL[@]}" \
		-kernel "$KIMG" -initrd "$OUT/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic llm_test=${RUN_SCRIPT[$run]} llm_tag=ring/${run}[node$k] llm_node=$k llm_nodes=$n ${LLM_QEMU_APPEND:-}" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		"${net[@]}" \
		< /dev/null > "$out" 2>&1 &
	NODE_PID[$k]=$!
	PID_NODE[$!]=$k
	if [ "$BOOT_TIMEOUT" -lt "$t" ]; then
		WATCHDOG[$!]=$(boot_watchdog $! "$out")
	fi
}

# stop_node K WHY: stop a running node, WHY is its run failure.
stop_node() {
	local pid=${NODE_PID[$1]}

	[ -n "${NODE_ST[$1]:-}${NODE_WHY[$1]:-}" ] && return
	NODE_WHY[$1]=$2
	kill -TERM "$pid" 2>/dev/null || true
}

# boot_ring RUN N: boot the N nodes, wait for them all; NODE_ST[K] is each
# one's QEMU status, NODE_WHY[K] the harness's reason when it stopped it.
# Status 1 when some node did not reach /init.
boot_ring() {
	local run=$1 n=$2 k pid st tick now end0='' crash='' crashed='' noboot=0 left

	NODE_PID=() NODE_ST=() NODE_WHY=() PID_NODE=()
	rm -f "$SOCKDIR"/l*
	for ((k = 0; k < n; k++)); do
		start_node "$run" $k "$n"
	done
	note "start $run ($n nodes, timeout ${RUN_LIMIT}s)"
	left=$n
	while [ "$left" -gt 0 ]; do
		sleep 1 &
		tick=$!
		st=0
		wait -n -p pid "${!PID_NODE[@]}" $tick || st=$?
		now=$SECONDS
		if [ "$pid" != "$tick" ]; then
			kill $tick 2>/dev/null || true
			k=${PID_NODE[$pid]}
			unset "PID_NODE[$pid]"
			NODE_ST[$k]=$st
			left=$((left - 1))
			if [ -n "${WATCHDOG[$pid]:-}" ]; then
				kill "${WATCHDOG[$pid]}" 2>/dev/null || true
				unset "WATCHDOG[$pid]"
			fi
			local raw=$OUT/logs/$run.node$k.raw
			if ! grep -q '^=== llm-qemu: begin' "$raw"; then
				noboot=1
				crashed=$k
				crash=$now
			elif [ "$k" -eq 0 ]; then
				end0=$now
			elif ! grep -q '^=== llm-qemu: done' "$raw" && [ -z "$crash" ]; then
				crashed=$k
				crash=$now
			fi
		fi
		if [ $noboot = 1 ]; then
			for k in "${!NODE_PID[@]}"; do
				stop_node "$k" "node $crashed did not reach /init"
			done
		elif [ -n "$crash" ] && [ $((now - crash)) -ge $CRASH_GRACE ]; then
			for k in "${!NODE_PID[@]}"; do
				stop_node "$k" "stopped $CRASH_GRACE s after node $crashed stopped before its end"
			done
		elif [ -n "$end0" ] && [ $((now - end0)) -ge "$RING_GRACE" ]; then
			for k in "${!NODE_PID[@]}"; do
				stop_node "$k" "still running $RING_GRACE s after node 0 ended"
			done
		fi
	done
	for ((k = 0; k < n; k++)); do
		tr -d '\r' < "$OUT/logs/$run.node$k.raw" > "$OUT/logs/$run.node$k.log"
		rm -f "$OUT/logs/$run.node$k.raw"
	done
	[ $noboot = 0 ]
}

# run_ring RUN: boot it (twice if a node does not reach /init), judge each
# node; result lines to RESULTS/RUN and standard output.
run_ring() {
	local run=$1 n=${RUN_NODES[$1]} k t0 secs log why tag res=$OUT/results/$1

	t0=$EPOCHREALTIME
	if ! boot_ring "$run" "$n"; then
		for ((k = 0; k < n; k++)); do
			mv -f "$OUT/logs/$run.node$k.log" "$OUT/logs/$run.node$k.boot1.log"
		done
		note "$run: a node did not reach /init; booting the ring again (first logs: $OUT/logs/$run.node*.boot1.log)"
		boot_ring "$run" "$n" || true
	fi
	: > "$res"
	for ((k = 0; k < n; k++)); do
		log=$OUT/logs/$run.node$k.log
		tag="ring/${run}[node$k]"
		why=${NODE_WHY[$k]:-}
		# a node that did not boot is judged by verdict itself
		grep -q '^=== llm-qemu: begin' "$log" || why=
		verdict "$log" "${NODE_ST[$k]}" "$tag" "${RUN_SCRIPT[$run]}" \
			"$RUN_LIMIT" "$why" > "$res.node"
		cat "$res.node" >> "$res"
		grep -q '^FAIL ' "$res.node" && note_failure "${run}[node$k]" "$tag" "$log"
	done
	rm -f "$res.node"
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	note "done  $run in ${secs}s"
	cat "$res"
}

# shellcheck disable=SC2317 # (called by the trap)
ring_stop_all() {
	local pid

	for pid in "${!PID_NODE[@]}"; do
		kill -TERM "$pid" "${WATCHDOG[$pid]:-}" 2>/dev/null || true
	done
	rm -rf "$SOCKDIR"
}

ring_main() {
	local run t0 secs
	declare -ga SELECTED=() ALL_TESTS=() TESTS=() ACCEL=()
	declare -gA RUN_NODES=() RUN_SCRIPT=() WATCHDOG=() NODE_PID=() NODE_ST=()
	declare -gA NODE_WHY=() PID_NODE=() KMOD_PATH=() KMOD_BUILTIN=()

	ring_parse_args "$@"
	pick_runs
	if [ $LIST -eq 1 ]; then
		printf '%s\n' "${ALL_TESTS[@]}"
		exit 0
	fi
	[ ${#TESTS[@]} -gt 0 ] || die "no ring test scripts in $TESTS_DIR"
	command -v qemu-system-x86_64 > /dev/null ||
		die "qemu-system-x86_64 not found: run scripts/setup.sh"

	find_kernel
	find_kmods
	pick_accel
	check_module
	mkdir -p "$OUT/logs" "$OUT/results"
	rm -f "$OUT"/results/*
	# unix socket paths must be short (108 bytes): not under $BUILD
	SOCKDIR=$(mktemp -d /tmp/llm-ring.XXXXXX)
	t0=$EPOCHREALTIME
	build_helpers
	build_initramfs
	note "kernel $KIMG, accel $ACCEL_NAME, ${#TESTS[@]} ring tests, one at a time"

	trap 'note "interrupted: stopping the VMs"; ring_stop_all; exit 130' INT TERM
	for run in "${TESTS[@]}"; do
		run_ring "$run"
	done
	trap - INT TERM
	rm -rf "$SOCKDIR"

	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	note "${#TESTS[@]} ring tests in ${secs}s ($ACCEL_NAME)"
	if cat "$OUT"/results/* | grep -q '^FAIL '; then
		exit 1
	fi
	exit 0
}

ring_main "$@"
