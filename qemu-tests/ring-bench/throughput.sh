# SPDX-License-Identifier: GPL-2.0
# Figures for scripts/bench-ring.sh (not a test of behaviour; run by
# make bench-ring): for each model, the head's prefill and decode speeds
# on its own (the ring down) and through the ring, and every node's
# traffic and compute time over the same generation.  Lines starting
# "ring-bench:" are what the host reads.
# nodes: 2,3
# timeout: 1200
# memory: 1G

. /guest/ring-lib.sh

N=${RING_BENCH_TOKENS:-48}
P="Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day"

check "insmod llm.ko" llm_load arena_mb=256 sessions=2 || return
for M in /models/stories260K-Q8_0.gguf /extra/stories15M-q8_0.gguf \
	 /extra/stories15M-f32.gguf; do
	[ -e "$M" ] || continue
	name=$(basename "$M" .gguf)
	check "llmctl load $name" llmctl load "$M" || return
	if [ "$NODE" -eq 0 ]; then
		llmctl generate -q -n "$N" -t 0 "$P" > /dev/null
		sp=$(llm_sys prefill_tok_per_s) sd=$(llm_sys decode_tok_per_s)
	fi
	RING_SPLIT=
	case $NODES in
	2) RING_SPLIT=$( [ "$name" = "${name#stories260K}" ] && echo "0:3 3:6" || echo "0:2 2:5") ;;
	3) RING_SPLIT=$( [ "$name" = "${name#stories260K}" ] && echo "0:2 2:4 4:6" || echo "0:1 1:3 3:5") ;;
	esac
	export RING_SPLIT
	check "ring up ($name)" ring_up || return
	check "barrier: up ($name)" barrier "up-$name" || return
	check "llmctl ring wait" llmctl ring wait --timeout 60 || return
	ring_json
	p0=$(ring_sum packets_out) b0=$(ring_sum bytes_out)
	c0=$(ring_get compute_ms) s0=$(ring_get steps) w0=$(ring_get wait_ms)
	check "barrier: measure ($name)" barrier "measure-$name" || return
	if [ "$NODE" -eq 0 ]; then
		check "generate through the ring" \
			sh -c "llmctl generate -q -n $N -t 0 '$P' > /dev/null"
		rp=$(llm_sys prefill_tok_per_s) rd=$(llm_sys decode_tok_per_s)
		gen=$(llm_sys tokens_generated_total)
	fi
	check "barrier: measured ($name)" barrier "measured-$name" 600 || return
	ring_json
	echo "ring-bench: model=$name nodes=$NODES node=$NODE" \
	     "layers=$(ring_layers)" \
	     "packets_out=$(($(ring_sum packets_out) - p0))" \
	     "bytes_out=$(($(ring_sum bytes_out) - b0))" \
	     "compute_ms=$(awk "BEGIN { print $(ring_get compute_ms) - $c0 }")" \
	     "steps=$(($(ring_get steps) - s0))" \
	     "wait_ms=$(awk "BEGIN { print $(ring_get wait_ms) - $w0 }")" \
	     "retransmits=$(ring_sum retransmits)"
	[ "$NODE" -eq 0 ] &&
		echo "ring-bench: model=$name nodes=$NODES speeds" \
		     "single_prefill=$sp single_decode=$sd" \
		     "ring_prefill=$rp ring_decode=$rd tokens=$N"
	check "barrier: printed ($name)" barrier "printed-$name" || return
	check "llmctl ring down" llmctl ring down
done
