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
#   BENCH_TYPES    f32 q8_0 q4_0 (default all three)
#   BENCH_THREADS  thread counts (default "1 2")
#   BENCH_PROMPT   prompt tokens P (default 128)
#   BENCH_TOKENS   decode tokens N (default 128)
#   BENCH_BIG_TOKENS  decode tokens for shapes of over 2 GB of F32
#                  weights, TinyLlama-1.1B (default 64), so the run stays
#                  short
#   BUILD          build directory (default build)
# The table goes to standard output (and $BUILD/bench-llama/table.txt),
# progress to standard error, each engine's output to
# $BUILD/bench-llama/.  Exit status 1 when a measurement failed (its cells
# say "fail"), 2 when it could not start.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
SHAPES=${BENCH_SHAPES:-stories15M stories110M TinyLlama-1.1B}
TYPES=${BENCH_TYPES:-f32 q8_0 q4_0}
THREADS=${BENCH_THREADS:-1 2}
PROMPT=${BENCH_PROMPT:-128}
TOKENS=${BENCH_TOKENS:-128}
BIG_TOKENS=${BENCH_BIG_TOKENS:-64}
BIG_BYTES=$((2 * 1000 * 1000 * 1000))
D=$BUILD/bench-llama

die() {
	echo "bench-llama: $*" >&2
	exit 2
}

note() {
	echo "bench-llama: $*" >&2
}

for n in "$PROMPT" "$TOKENS" "$BIG_TOKENS" $THREADS; do
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

# Fields of llama-bench's CSV (quoted, comma-separated) by header name:
# "THREADS pp|tg TOKENS TOK_PER_S" for each test row.
llama_rows() {
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
	{
		split_csv($0, f)
		if (f[col["n_prompt"]] > 0)
			print f[col["n_threads"]], "pp", f[col["n_prompt"]], f[col["avg_ts"]]
		else
			print f[col["n_threads"]], "tg", f[col["n_gen"]], f[col["avg_ts"]]
	}' "$1"
}

# shellcheck disable=SC2086 # a list
tlist=$(printf '%s,' $THREADS)
tlist=${tlist%,}
failed=0
: > "$D/results.tsv"
for shape in $SHAPES; do
	# shellcheck disable=SC2086 # a list of types
	files=$(BUILD=$BUILD scripts/bench-models.sh "$shape" $TYPES) ||
		die "cannot make the $shape models"
	f32=$BUILD/bench-models/$shape-f32.gguf
	n=$TOKENS
	[ "$(stat -c %s "$f32")" -le $BIG_BYTES ] || n=$BIG_TOKENS
	for f in $files; do
		name=$(basename "$f" .gguf)
		type=${name##*-}
		# llm, one process per thread count
		for t in $THREADS; do
			note "$name: llm, $t thread(s)"
			if "$BUILD/bench" -p "$PROMPT" -n "$n" -j "$t" --tsv "$f" \
				> "$D/$name-llm-$t.tsv" 2> "$D/$name-llm-$t.err"; then
				grep -v '^#' "$D/$name-llm-$t.tsv" |
					awk -v t="$t" -F'\t' '{ print "llm", t, $4, $7, $8, $9, $6 }' \
					> "$D/$name-llm-$t.row"
			else
				cat "$D/$name-llm-$t.err" >&2
				failed=1
				: > "$D/$name-llm-$t.row"
			fi
		done
		# llama.cpp, every thread count in one process
		note "$name: llama.cpp, threads $THREADS"
		if BUILD=$BUILD scripts/fetch-llama.sh --run llama-bench -m "$f" \
			-p "$PROMPT" -n "$n" -t "$tlist" -r 1 -o csv \
			> "$D/$name-llama.csv" 2> "$D/$name-llama.err"; then
			llama_rows "$D/$name-llama.csv" > "$D/$name-llama.rows"
		else
			grep -v 'failed to enumerate' "$D/$name-llama.err" | tail -5 >&2
			failed=1
			: > "$D/$name-llama.rows"
		fi
		for t in $THREADS; do
			# shape type threads llm_threads bytes llm_pp llm_tg llama_pp llama_tg n
			read -r _ _ lt bytes lpp ltg _ < "$D/$name-llm-$t.row" ||
				{ lt=-; bytes=0; lpp=fail; ltg=fail; }
			cpp=$(awk -v t="$t" '$1 == t && $2 == "pp" { print $4 }' "$D/$name-llama.rows")
			ctg=$(awk -v t="$t" '$1 == t && $2 == "tg" { print $4 }' "$D/$name-llama.rows")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" "$type" \
				"$t" "$lt" "$bytes" "$lpp" "$ltg" "${cpp:-fail}" \
				"${ctg:-fail}" "$n" >> "$D/results.tsv"
		done
	done
done

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
echo "  llama.cpp $llama_version (Debian unstable), CPU backend libggml-cpu-$variant.so"
echo "  pp: a $PROMPT-token prompt; tg: $TOKENS tokens decoded${big:+ ($BIG_TOKENS for $big, to keep make bench short)}; each from an empty context, one run"
echo "  memory read bandwidth (build/membw): $bws"
echo "  load average (1, 5, 15 min) at the start: $load0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  ratio = llm / llama.cpp; bound = bandwidth / weight MB a decoded token reads"
echo
awk -F'\t' -v bw="$(for t in $THREADS; do printf '%s=%s ' "$t" "${BW[$t]}"; done)" '
	function fmt(v) { return v == "fail" || v == "" ? "fail" : sprintf("%.1f", v) }
	function ratio(a, b) { return (a == "fail" || b == "fail" || b == 0) ? "-" : sprintf("%.2f", a / b) }
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
			bound ? sprintf("%.1f", bound) : "-",
			bound && $7 != "fail" ? sprintf("%.2f", $7 / bound) : "-"
	}
	END {
		if (fewer)
			print "thr A/B: asked for A threads, llm_pool_size() gave llm B (llama.cpp ran on A)"
	}' "$D/results.tsv"
} | tee "$D/table.txt"
exit $failed
