#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench-llama.sh: the first table of make bench.  llm (build/bench)
# against llama.cpp (llama-bench, from Debian: scripts/fetch-llama.sh) on
# this machine, in userspace, on synthetic models of real shapes
# (scripts/bench-models.sh): prefill and decode tokens per second at each
# thread count, their ratio, and the decode speed the memory bandwidth
# allows (build/membw's read bandwidth / the weight bytes a decoded token
# reads).
#
# Both engines measure the same thing: the prefill of a P-token prompt
# from an empty context (llama-bench's ppP) and N decode steps from an
# empty context (tgN), one run each after a warm-up.
#
# Environment (make bench passes these on):
#   BENCH_SHAPES   mkmodel shapes (default "stories15M stories110M
#                  TinyLlama-1.1B")
#   BENCH_TYPES    f32 q8_0 q4_0 q4_k_m (the default; also q5_k_m, q6_k)
#   BENCH_THREADS  thread counts (default "1 2")
#   BENCH_PROMPT   prompt tokens P (default 128)
#   BENCH_TOKENS   decode tokens N (default 128)
#   BENCH_BIG_TOKENS  decode tokens for shapes of over 2 GB of F32
#                  weights, TinyLlama-1.1B (default 64), so the run stays
#                  short
#   BENCH_LLAMA_ARGS  more llama-bench options (e.g. "--poll 0": its
#                  threads sleep rather than spin while they wait)
#   BENCH_TIMEOUT  seconds one measurement (one engine, test and thread
#                  count: a process of its own) may take (default 600);
#                  its cell says "t/o" when it took longer
#   BUILD          build directory (default build)
# The table goes to standard output (and $BUILD/bench-llama/table.txt),
# progress to standard error, each engine's output to
# $BUILD/bench-llama/.  Exit status 1 when a measurement failed or timed
# out (its cell says "fail" or "t/o"), 2 when it could not start.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
SHAPES=${BENCH_SHAPES:-stories15M stories110M TinyLlama-1.1B}
TYPES=${BENCH_TYPES:-f32 q8_0 q4_0 q4_k_m}
THREADS=${BENCH_THREADS:-1 2}
PROMPT=${BENCH_PROMPT:-128}
TOKENS=${BENCH_TOKENS:-128}
BIG_TOKENS=${BENCH_BIG_TOKENS:-64}
TIMEOUT=${BENCH_TIMEOUT:-600}
LLAMA_ARGS=${BENCH_LLAMA_ARGS:-}
BIG_BYTES=$((2 * 1000 * 1000 * 1000))
D=$BUILD/bench-llama

die() {
	echo "bench-llama: $*" >&2
	exit 2
}

note() {
	echo "bench-llama: $*" >&2
}

for n in "$PROMPT" "$TOKENS" "$BIG_TOKENS" "$TIMEOUT" $THREADS; do
	case $n in ''|*[!0-9]*) die "not a number: '$n'" ;; esac
done
for b in bench membw llmctl tools/mkmodel; do
	[ -x "$BUILD/$b" ] || die "no $BUILD/$b (make $BUILD/$b)"
done
rm -rf "$D"
mkdir -p "$D"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

BUILD=$BUILD scripts/fetch-llama.sh > /dev/null
variant=$(BUILD=$BUILD scripts/fetch-llama.sh --variant)
llama_version=$(sed -n 's/^llama\.cpp-tools_\(.*\)_[a-z0-9]*\.deb$/\1/p' \
	"$BUILD/llama.cpp/packages.txt" | sed 's/%3a/:/')

# Memory read bandwidth at each thread count, GB/s.
declare -A BW
for t in $THREADS; do
	note "memory read bandwidth, $t thread(s)"
	BW[$t]=$("$BUILD/membw" -j "$t" --tsv | cut -f2)
done

# The avg_ts field of llama-bench's CSV (quoted, comma-separated, the
# first line naming the fields): the one test's tokens per second.
llama_ts() {
	awk '
	function split_csv(line, f,    n, i, c, q, cur) {
		n = 0; q = 0; cur = ""
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (q) {
				if (c == "\"") {
					if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ }
					else q = 0
				} else cur = cur c
			} else if (c == "\"") q = 1
			else if (c == ",") { f[++n] = cur; cur = "" }
			else cur = cur c
		}
		f[++n] = cur
		return n
	}
	{ sub(/\r$/, "") }
	!hdr { n = split_csv($0, h); for (i = 1; i <= n; i++) col[h[i]] = i; hdr = 1; next }
	{ split_csv($0, f); print f[col["avg_ts"]]; exit }' "$1"
}

# Why a measurement gave no figure: "t/o" when timeout(1) stopped it.
why() {
	if [ "$1" = 124 ] || [ "$1" = 137 ]; then echo t/o; else echo fail; fi
}

# One measurement: ENGINE (llm, llama) TEST (pp, tg) THREADS FILE TOKENS.
# Prints "TOK_PER_S LLM_THREADS WEIGHT_BYTES" (the last two from llm only),
# or "fail"/"t/o".  Each is a process of its own under timeout(1), so one
# that hangs or crawls (a loaded machine) costs BENCH_TIMEOUT at most and
# the others keep their figures.
measure() {
	local engine=$1 test=$2 t=$3 f=$4 n=$5 p=0 g=0 st=0 out largs=()

	read -r -a largs <<< "$LLAMA_ARGS"
	out=$D/$(basename "$f" .gguf)-$engine-$test-$t
	case $test in pp) p=$PROMPT ;; tg) g=$n ;; esac
	note "$(basename "$f" .gguf): $engine $test, $t thread(s)"
	if [ "$engine" = llm ]; then
		timeout -k 10 "$TIMEOUT" "$BUILD/bench" -p "$p" -n "$g" -j "$t" \
			--tsv "$f" > "$out.tsv" 2> "$out.err" || st=$?
		if [ $st = 0 ]; then
			awk -F'\t' -v test="$test" '!/^#/ {
				print (test == "pp" ? $8 : $9), $4, $7 }' "$out.tsv"
			return
		fi
	else
		timeout -k 10 "$TIMEOUT" scripts/fetch-llama.sh --run llama-bench \
			-m "$f" -p "$p" -n "$g" -t "$t" -r 1 -o csv ${largs[@]+"${largs[@]}"} \
			> "$out.csv" 2> "$out.err" || st=$?
		if [ $st = 0 ] && [ -n "$(llama_ts "$out.csv")" ]; then
			llama_ts "$out.csv"
			return
		fi
	fi
	grep -v 'failed to enumerate' "$out.err" | tail -3 >&2
	why $st
}

export BUILD
: > "$D/results.tsv"
for shape in $SHAPES; do
	# shellcheck disable=SC2086 # a list of types
	files=$(scripts/bench-models.sh "$shape" $TYPES) ||
		die "cannot make the $shape models"
	f32=$BUILD/bench-models/$shape-f32.gguf
	n=$TOKENS
	[ "$(stat -c %s "$f32")" -le $BIG_BYTES ] || n=$BIG_TOKENS
	for f in $files; do
		name=$(basename "$f" .gguf)
		for t in $THREADS; do
			# the engines in turn, so both meet the same load
			read -r lpp lt bytes < <(measure llm pp "$t" "$f" "$n")
			cpp=$(measure llama pp "$t" "$f" "$n")
			read -r ltg lt2 bytes2 < <(measure llm tg "$t" "$f" "$n")
			ctg=$(measure llama tg "$t" "$f" "$n")
			lt=${lt:-${lt2:--}}
			bytes=${bytes:-${bytes2:-0}}
			# shape type threads llm_threads bytes llm_pp llm_tg llama_pp llama_tg n
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" \
				"${name##*-}" "$t" "$lt" "$bytes" "$lpp" "$ltg" \
				"$cpp" "$ctg" "$n" >> "$D/results.tsv"
		done
	done
done
failed=0
! cut -f6-9 "$D/results.tsv" | grep -qE 'fail|t/o' || failed=1

# ---- the table ----
flags=" $(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1) "
simd=
for f in sse4_2 avx avx2 fma f16c bmi2 avx_vnni avx512f avx512bw avx512vl \
	 avx512vbmi avx512_vnni avx512_bf16 amx_int8; do
	case $flags in *" $f "*) simd+=" $f" ;; esac
done
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
bws=
for t in $THREADS; do
	bws+="${bws:+, }$t thread(s) ${BW[$t]} GB/s"
done
big=
for shape in $SHAPES; do
	[ "$(stat -c %s "$BUILD/bench-models/$shape-f32.gguf")" -le $BIG_BYTES ] ||
		big+="${big:+, }$shape"
done

{
echo "llm vs llama.cpp in userspace on this machine: $cpu, $(nproc) CPUs"
echo "  CPU flags:$simd"
echo "  llama.cpp $llama_version (Debian unstable), CPU backend libggml-cpu-$variant.so${LLAMA_ARGS:+, llama-bench $LLAMA_ARGS}"
echo "  pp: a $PROMPT-token prompt; tg: $TOKENS tokens decoded${big:+ ($BIG_TOKENS for $big, to keep make bench short)}; each from an empty context, one run"
echo "  memory read bandwidth (build/membw): $bws"
echo "  load average (1, 5, 15 min) at the start: $load0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  ratio = llm / llama.cpp; bound = bandwidth / weight MB a decoded token reads"
echo
awk -F'\t' -v bw="$(for t in $THREADS; do printf '%s=%s ' "$t" "${BW[$t]}"; done)" '
	function num(v) { return v ~ /^[0-9]+(\.[0-9]*)?$/ }
	function fmt(v) { return num(v) ? sprintf(v < 10 ? "%.2f" : "%.1f", v) : v == "" ? "fail" : v }
	function ratio(a, b) { return num(a) && num(b) && b > 0 ? sprintf("%.2f", a / b) : "-" }
	BEGIN {
		n = split(bw, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); band[p[1]] = p[2] }
		printf "%-15s %-5s %-4s | %9s %9s %6s | %9s %9s %6s | %8s %8s %6s\n",
			"model", "type", "thr", "pp llm", "llama.cpp", "ratio",
			"tg llm", "llama.cpp", "ratio", "MB/token", "bound", "llm/bd"
	}
	{
		thr = $3
		if ($4 != "-" && $4 != $3) { thr = $3 "/" $4; fewer = 1 }
		mb = $5 / 1e6
		bound = $5 > 0 ? band[$3] * 1e9 / $5 : 0
		printf "%-15s %-5s %-4s | %9s %9s %6s | %9s %9s %6s | %8.1f %8s %6s\n",
			$1, $2, thr, fmt($6), fmt($8), ratio($6, $8),
			fmt($7), fmt($9), ratio($7, $9), mb,
			bound ? sprintf(bound < 10 ? "%.2f" : "%.1f", bound) : "-",
			bound && num($7) ? sprintf("%.2f", $7 / bound) : "-"
	}
	END {
		if (fewer)
			print "thr A/B: asked for A threads, llm_pool_size() gave llm B (llama.cpp ran on A)"
	}' "$D/results.tsv"
} | tee "$D/table.txt"
exit $failed
