#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel half of make bench: in one QEMU guest per model shape, for
# each of its files, generate with the kernel (llmctl generate) and with
# the userspace build of the same core (llmctl generate -m) from the same
# prompt, and print prefill and decode speeds side by side.  The userspace
# side is build/bench.static --prompt, which makes the request llmctl
# generate -m makes but prints its speeds with three decimals (llmctl,
# one), and the kernel's come from /sys/kernel/llm (three decimals too).  Under QEMU's
# emulation (TCG) absolute speeds mean little and a token costs 10 to 50
# times what it does on the host; the kernel/userspace ratio measured in
# the same VM is the figure to read.
#
# Shapes: stories260K is the model shipped in models/ (F32, Q8_0, Q4_0,
# each with the scalar and the SIMD kernels, TOKENS generated); any other
# is a synthetic model of that shape (scripts/bench-models.sh), with the
# SIMD kernels only and, by the size of its F32 weights, fewer tokens: 16
# below 200 MB (stories15M), else 4 and a four-word prompt (stories110M,
# TinyLlama-1.1B); the rows say how many.  Shapes
# of 1 GB or more take tens of seconds a token under TCG and run only
# where the guest gets KVM, or with BENCH_QEMU_BIG=1.
#
# The arena is sized for the biggest file of the guest by `llmctl info -m
# FILE --arena-mb` with the module parameters the guest loads it with (one
# session of CTX positions), and the guest's memory from the arena and the
# files (the initramfs holds them, and llmctl generate -m reads one into
# memory); a file whose guest would need more than BENCH_QEMU_MAX_MB is
# left out, and the table says so.
#
# Environment:
#   BENCH_QEMU_SHAPES  shapes (default "stories260K stories15M stories110M
#                      TinyLlama-1.1B")
#   BENCH_TYPES        f32 q8_0 q4_0 q4_k_m (the default; K files only for
#                      shapes whose rows are whole super-blocks)
#   BENCH_QEMU_MAX_MB  most guest memory, MiB (default 3072, and at most
#                      half of what this machine has available)
#   BENCH_QEMU_BIG     1: run shapes of 1 GB or more under TCG too; 0: not
#                      even under KVM
#   BENCH_QEMU_THREADS threads on both sides: the module's threads
#                      parameter and bench -j (default 1; the guest has 2
#                      CPUs)
#   TOKENS             tokens generated for stories260K (default 128)
#   BUILD              build directory (default build)
# Exit status 1 when a guest failed (its rows say "fail").
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
SHAPES=${BENCH_QEMU_SHAPES:-stories260K stories15M stories110M TinyLlama-1.1B}
TYPES=${BENCH_TYPES:-f32 q8_0 q4_0 q4_k_m}
TOKENS=${TOKENS:-128}
MAX_MB=${BENCH_QEMU_MAX_MB:-3072}
THREADS=${BENCH_QEMU_THREADS:-1}
CTX=256
BASE_MB=160
MIN_MB=512
D=$BUILD/bench-qemu

P_LONG="Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day"
P_SHORT="Once upon a time"

note() {
	echo "bench-qemu: $*" >&2
}

# Shapes of 1 GB or more of F32 weights (TinyLlama-1.1B) take tens of
# seconds a token under TCG: by default they run only where the guests get
# KVM (the test qemu-tests/run.sh makes, with LLM_QEMU_ACCEL).
kvm() {
	case ${LLM_QEMU_ACCEL:-auto} in
	kvm) return 0 ;;
	tcg) return 1 ;;
	esac
	grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -e /sys/module/kvm_pvm ] &&
		[ -r /dev/kvm ] && [ -w /dev/kvm ]
}
if [ -z "${BENCH_QEMU_BIG:-}" ]; then
	if kvm; then BIG=1; else BIG=0; fi
else
	BIG=$BENCH_QEMU_BIG
fi

avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
[ -z "$avail" ] || [ "$MAX_MB" -le $((avail / 2)) ] || MAX_MB=$((avail / 2))

mb() {	# bytes of file @1 in MiB, rounded up
	echo $((($(stat -L -c %s "$1") + 1048575) / 1048576))
}

rm -rf "$D"
mkdir -p "$D"
failed=0
notes=()
: > "$D/rows.txt"
for shape in $SHAPES; do
	files=()
	if [ "$BIG" = 0 ] && [ "$shape" != stories260K ] &&
	   [ "$(BUILD=$BUILD scripts/bench-models.sh "$shape" f32 | xargs stat -L -c %s)" -ge 1000000000 ]; then
		notes+=("$shape: left out under plain emulation (tens of seconds a token; BENCH_QEMU_BIG=1 runs it)")
		continue
	fi
	if [ "$shape" = stories260K ]; then
		for t in $TYPES; do
			case $t in
			f32) files+=("models/stories260K.gguf") ;;
			q8_0) files+=("models/stories260K-Q8_0.gguf") ;;
			q4_0) files+=("models/stories260K-Q4_0.gguf") ;;
			esac
		done
		refs="0 1" n=$TOKENS prompt=$P_LONG
	else
		# shellcheck disable=SC2086 # a list of types
		mapfile -t files < <(BUILD=$BUILD scripts/bench-models.sh "$shape" $TYPES) ||
			exit 2
		# tokens by the shape's size (its F32 weights) under emulation
		size=$(mb "$BUILD/bench-models/$shape-f32.gguf")
		refs=0 prompt=$P_LONG
		if [ "$size" -lt 200 ]; then n=16
		else n=4 prompt=$P_SHORT
		fi
	fi
	# the files this guest has the memory for, and its arena
	arena=0 mem=0 keep=()
	for f in "${files[@]}"; do
		a=$("$BUILD/llmctl" info -m "$f" --sessions 1 --max-context $CTX --arena-mb)
		fm=$(mb "$f")
		# the module takes at most half the memory; the initramfs and
		# llmctl generate -m each hold the file
		m1=$((2 * a > a + 2 * fm ? 2 * a : a + 2 * fm))
		if [ $((m1 + BASE_MB)) -gt "$MAX_MB" ]; then
			notes+=("$(basename "$f"): left out, its guest would need $((m1 + BASE_MB)) MiB (BENCH_QEMU_MAX_MB=$MAX_MB)")
			continue
		fi
		keep+=("$f")
		[ "$a" -le "$arena" ] || arena=$a
		[ "$m1" -le "$mem" ] || mem=$m1
	done
	[ ${#keep[@]} -gt 0 ] || continue
	# every file sits in the initramfs at once
	for f in "${keep[@]}"; do
		mem=$((mem + $(mb "$f")))
	done
	mem=$((mem + BASE_MB))
	[ $mem -ge $MIN_MB ] || mem=$MIN_MB

	G=$D/$shape
	mkdir -p "$G/tests" "$G/extra" "$G/models"
	names=
	for f in "${keep[@]}"; do
		ln -f "$f" "$G/extra/" 2>/dev/null || cp "$f" "$G/extra/"
		names+=" $(basename "$f")"
	done
	cp "$BUILD/bench.static" "$G/extra/bench"
	cat > "$G/tests/bench.sh" <<EOT
# timeout: 3600
# memory: ${mem}M
dmesg -n 1
P="$prompt"
check "insmod llm.ko" llm_load arena_mb=$arena sessions=1 sessions_kernel=0 max_context=$CTX threads=$THREADS || return
S=/sys/kernel/llm
for m in$names; do
	for ref in $refs; do
		echo \$ref > /sys/module/llm/parameters/force_scalar
		llmctl load -q /extra/\$m || { fail "load \$m"; continue; }
		# the kernel: llmctl generate; its speeds with three decimals
		# from sysfs, the token counts from its statistics line
		llmctl generate -n $n -t 0 "\$P" > /dev/null 2> /tmp/k
		k=\$(sed -n 's/^prompt tokens \([0-9]*\), generated tokens \([0-9]*\),.*/\1 \2/p' /tmp/k)
		kernels=\$(cat \$S/model_kernels)
		ks=\$(cat \$S/prefill_tok_per_s \$S/decode_tok_per_s)
		llmctl unload
		# userspace: the same request through the same core
		r=; [ \$ref = 1 ] && r=--ref
		u=\$(/extra/bench --prompt "\$P" -n $n -j $THREADS --tsv \$r /extra/\$m | sed 1d | cut -f4-7)
		echo "BENCHROW \$m \$kernels \$k" \$ks "|" \$u
	done
done
echo 0 > /sys/module/llm/parameters/force_scalar
pass "kernel benchmark ran"
rmmod llm
EOT
	note "$shape: one guest of ${mem} MiB, arena ${arena} MiB, $n tokens:$names"
	if ! LLM_MODELS=$G/models qemu-tests/run.sh -j 1 --tests-dir "$G/tests" \
		--extra "$G/extra" --out "$G/out" bench > "$G/results.txt" 2> "$G/run.err"; then
		tail -5 "$G/run.err" >&2
		cat "$G/results.txt" >&2
		failed=1
	fi
	# the guest's rows, and a "fail" row for each file without one
	: > "$G/rows.txt"
	if [ -r "$G/out/logs/bench.log" ]; then
		tr -d '\r' < "$G/out/logs/bench.log" |
			sed -n 's/^BENCHROW //p' > "$G/rows.txt"
	fi
	for f in "${keep[@]}"; do
		grep -q "^$(basename "$f") " "$G/rows.txt" ||
			echo "$(basename "$f") fail" >> "$G/rows.txt"
	done
	sed "s/^/$n /" "$G/rows.txt" >> "$D/rows.txt"
	# the initramfs and its root hold copies of the models
	rm -rf "$G/out/root" "$G/out/initramfs.cpio.gz" "$G/extra"
done

# what qemu-tests/run.sh said it used: "accel tcg" or "accel kvm"
accel=$(cat "$D"/*/run.err 2>/dev/null |
	sed -n 's/.*, accel \([a-z]*\),.*/\1/p' | sort -u | tr '\n' ' ')
accel=${accel% }
[ "${accel:-tcg}" != tcg ] || accel="tcg, plain emulation"
echo "kernel vs userspace, in one QEMU guest per model shape (QEMU: $accel; $THREADS thread(s) on both sides)"
echo "  prompt: its tokens, prefilled; gen: tokens generated (fewer for bigger models, emulation"
echo "  is slow); pp, tg: prefill, decode tok/s; k/u = kernel / userspace, the figure to read"
for msg in ${notes[@]+"${notes[@]}"}; do
	echo "  $msg"
done
echo
awk '
	function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
	function f(v) { return sprintf(v < 10 ? "%9.2f" : "%9.1f", v) }
	BEGIN {
		printf "%-28s %-7s %6s %4s | %9s %9s %5s | %9s %9s %5s\n", "model",
			"kernels", "prompt", "gen", "kern pp", "user pp", "k/u",
			"kern tg", "user tg", "k/u"
	}
	$3 == "fail" || NF < 12 {
		printf "%-28s %-7s %6s %4s | %9s\n", $2, "-", "-", $1, "fail"
		next
	}
	# n m kernels kp kg kpp ktg | up ug upp utg
	{
		printf "%-28s %-7s %6s %4s | %s %s %5s | %s %s %5s\n",
			$2, $3, $4, $5, f($6), f($11), r($6, $11), f($7), f($12),
			r($7, $12)
	}' "$D/rows.txt" | tee "$D/table.txt"
exit $failed
