#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The network ring's figures (make bench-ring; make bench runs it too): in
# rings of 2 and 3 QEMU guests (qemu-tests/ring.sh with the script in
# qemu-tests/ring-bench/), for stories260K Q8_0 and a synthetic stories15M
# (Q8_0 and F32, scripts/bench-models.sh), one greedy generation of
# RING_BENCH_TOKENS tokens after a 30-token prompt:
#  - the head's prefill and decode speeds on its own and through the ring
#    (the ratio is the figure: TCG makes absolute speeds meaningless);
#  - per node and step (a step is one frame round the ring: a prompt batch
#    or a token), packets and bytes it sent, against what the wire format
#    says they must be;
#  - where a token's time goes: the head waiting on the ring, split into
#    the other nodes' compute and the rest (network, queues, scheduling).
# Environment: BUILD, RING_BENCH_TOKENS (default 48).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
D=$BUILD/bench-ring

rm -rf "$D"
mkdir -p "$D/extra"
for t in q8_0 f32; do
	f=$(BUILD=$BUILD scripts/bench-models.sh stories15M $t)
	ln -f "$f" "$D/extra/" 2>/dev/null || cp "$f" "$D/extra/"
done
export RING_BENCH_TOKENS=${RING_BENCH_TOKENS:-48}
st=0
qemu-tests/ring.sh --tests-dir qemu-tests/ring-bench --extra "$D/extra" \
	--out "$D/qemu" > "$D/results.txt" || st=$?
grep -h '^ring-bench:' "$D"/qemu/logs/*.log | sed 's/\r$//' > "$D/figures.txt" || true

val() {	# KEY LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

echo "== the network ring (stories15M: synthetic weights, its shape; TCG guests)"
echo
echo "| model | nodes | prefill alone | prefill ring | ratio | decode alone | decode ring | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
grep ' speeds ' "$D/figures.txt" | while read -r line; do
	m=$(val model "$line") n=$(val nodes "$line")
	sp=$(val single_prefill "$line") rp=$(val ring_prefill "$line")
	sd=$(val single_decode "$line") rd=$(val ring_decode "$line")
	awk -v m="$m" -v n="$n" -v sp="$sp" -v rp="$rp" -v sd="$sd" -v rd="$rd" \
		'BEGIN { printf "| %s | %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n",
			 m, n, sp, rp, sp ? rp / sp : 0, sd, rd, sd ? rd / sd : 0 }'
done
echo
echo "| model | nodes | node | layers | steps | packets out/step | bytes out/step | compute ms/step |"
echo "|---|---:|---:|---|---:|---:|---:|---:|"
grep -v ' speeds ' "$D/figures.txt" | sort -t= -k2,2 -k3,3n | while read -r line; do
	m=$(val model "$line") n=$(val nodes "$line") k=$(val node "$line")
	steps=$(grep "model=$m nodes=$n node=0 " "$D/figures.txt" | head -1)
	steps=$(val steps "$steps")
	awk -v m="$m" -v n="$n" -v k="$k" -v l="$(val layers "$line")" \
	    -v s="$steps" -v p="$(val packets_out "$line")" \
	    -v b="$(val bytes_out "$line")" -v c="$(val compute_ms "$line")" \
		'BEGIN { if (!s) s = 1
			 printf "| %s | %d | %d | %s | %d | %.2f | %.1f | %.3f |\n",
			 m, n, k, l, s, p / s, b / s, c / s }'
done
echo
echo "| model | nodes | head waits, ms/step | of which other nodes compute | the rest (network, queues) | share of a step's time waiting on the network |"
echo "|---|---:|---:|---:|---:|---:|"
grep ' node=0 ' "$D/figures.txt" | while read -r line; do
	m=$(val model "$line") n=$(val nodes "$line")
	s=$(val steps "$line") w=$(val wait_ms "$line") c0=$(val compute_ms "$line")
	others=$(grep "model=$m nodes=$n node=[1-9]" "$D/figures.txt" |
		tr ' ' '\n' | sed -n 's/^compute_ms=//p' | awk '{ s += $1 } END { print s + 0 }')
	awk -v m="$m" -v n="$n" -v s="$s" -v w="$w" -v o="$others" -v c="$c0" \
		'BEGIN { if (!s) s = 1; net = w - o; if (net < 0) net = 0
			 printf "| %s | %d | %.3f | %.3f | %.3f | %.0f%% |\n",
			 m, n, w / s, o / s, net / s, 100 * net / (w + c) }'
done
echo
echo "(per step, a decoded token's DATA frame is 56 + 44 + n_embd x 4 + 16 bytes on each of the"
echo " nodes - 1 hops, its RESULT 100 bytes on the last; every frame is acknowledged by a 72-byte ACK;"
echo " prompt batches are larger frames; raw lines in $D/figures.txt)"
[ "$st" -eq 0 ] || echo "bench-ring: some guest failed: $D/results.txt" >&2
exit "$st"
