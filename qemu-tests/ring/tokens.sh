# SPDX-License-Identifier: GPL-2.0
# The ring gives exactly one machine's tokens: stories260K's 5 layers split
# over 2 or 3 guests (each its own kernel, joined by point-to-point links),
# for F32, Q8_0 and Q4_0, three prompts, greedy and seeded sampling: the
# head's output is token for token what the userspace build of the same
# core gives on one machine, each node holding only its own layers (llmctl
# load --layers: less arena than the whole model).  Then the counters: a token's frame per hop is
# one packet of (44 + 64 x 4) bytes of body, nothing was dropped, and
# every ring buffer went back to the arena.
# nodes: 2,3
# timeout: 600
# memory: 512M

. /guest/ring-lib.sh

check "insmod llm.ko" llm_load || return
for m in stories260K.gguf stories260K-Q8_0.gguf stories260K-Q4_0.gguf; do
	M=/models/$m
	need $M "the project's models/ directory"
	# each node holds only its own layers (load --layers), in less arena
	check "llmctl load $m" llmctl load $M || return
	whole=$(llm_sys arena_used)
	check "llmctl load --layers $(ring_layers) $m" \
		llmctl load --layers "$(ring_layers)" $M || return
	check_eq "model_layers_held" "$(ring_layers)" "$(llm_sys model_layers_held)"
	check_range "the share takes less arena than the whole model's $whole bytes" \
		1 $((whole - 1)) "$(llm_sys arena_used)"
	used0=$(llm_sys arena_used)
	check "ring up as node $NODE, layers $(ring_layers)" ring_up || return
	check "barrier: up ($m)" barrier "up-$m" || return
	check "llmctl ring wait" llmctl ring wait --timeout 60 || return
	if [ "$NODE" -eq 0 ]; then
		for p in "" "Once upon a time" "Lily had a red ball. She"; do
			ring_same "$m greedy '$p'" --ids -n 40 -t 0 "$p"
			ring_same "$m seeded '$p'" --ids -n 40 -t 0.8 -k 40 -p 0.9 \
				-s 4242 "$p"
		done
		ring_same "$m a story as text" -n 120 -t 0 "Once upon a time"
	fi
	check "barrier: generated ($m)" barrier "gen-$m" 300 || return
	llmctl ring --json > /tmp/ring.json
	cat /tmp/ring.json
	check_eq "no packet dropped" 0 "$(ring_drops)"
	check_range "stale: only hellos that lost the start-up race" 0 2 \
		"$(ring_drop stale)"
	check_eq "no frame timed out half-received" 0 "$(ring_sum reasm_timeouts)"
	check_eq "no reassembly slot left in use" 0 "$(ring_get slots_used)"
	if [ "$NODE" -eq 0 ]; then
		check_range "steps sent round the ring" 100 100000 "$(ring_get steps)"
		check_eq "no step failed" 0 "$(ring_get step_errors)"
	else
		check_range "frames computed" 100 100000 "$(ring_get frames)"
	fi
	# a decoded token's frame per hop: META + n_embd floats, one packet
	check_ring_bytes_per_frame "$m"
	check "barrier: counted ($m)" barrier "count-$m" || return
	check "llmctl ring down" llmctl ring down || return
	check_eq "the arena is back to before ring up" "$used0" \
		"$(llm_sys arena_used)"
done
