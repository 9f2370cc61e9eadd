# SPDX-License-Identifier: GPL-2.0
# The ring under damage: netem on every link (10% loss, 5% duplication,
# 25% reordering, 20 +- 10 ms delay, both ways), and still exactly one
# machine's tokens for F32, Q8_0 and Q4_0, greedy and seeded; the
# counters show the retransmissions and duplicates it took.
# nodes: 2,3
# timeout: 900
# memory: 512M

. /guest/ring-lib.sh

DAMAGE="loss 10% duplicate 5% delay 20ms 10ms reorder 25%"

check "insmod llm.ko" llm_load || return
# a quick start on a slow link: a few tries before a peer counts as dead
echo 8 > /sys/module/llm/parameters/ring_retries
for m in stories260K.gguf stories260K-Q8_0.gguf stories260K-Q4_0.gguf; do
	M=/models/$m
	need $M "the project's models/ directory"
	check "llmctl load $m" llmctl load $M || return
	check "ring up" ring_up || return
	check "barrier: up ($m)" barrier "up-$m" || return
	check "netem on $NEXT_IF: $DAMAGE" netem_on "$NEXT_IF" $DAMAGE || return
	check "llmctl ring wait" llmctl ring wait --timeout 120 || return
	if [ "$NODE" -eq 0 ]; then
		for p in "" "Once upon a time" "Lily had a red ball. She"; do
			ring_same "$m lossy, greedy '$p'" --ids -n 32 -t 0 "$p"
			ring_same "$m lossy, seeded '$p'" --ids -n 32 -t 0.8 \
				-k 40 -p 0.9 -s 77 "$p"
		done
	fi
	check "barrier: generated ($m)" barrier "gen-$m" 600 || return
	check "netem off $NEXT_IF" netem_off "$NEXT_IF"
	check "barrier: clean ($m)" barrier "clean-$m" || return
	ring_json
	cat /tmp/ring.json
	check_eq "no frame failed authentication" 0 "$(ring_drop bad_tag)"
	check_eq "nothing malformed" 0 "$(ring_drop malformed)"
	check_eq "no reassembly slot left in use" 0 "$(ring_get slots_used)"
	echo "$(ring_sum retransmits) $(ring_sum nacks_in) $(ring_sum dup_frames) $(ring_drop replay)" > /tmp/damage
	[ "$NODE" -eq 0 ] && check_eq "no step failed" 0 "$(ring_get step_errors)"
	check "llmctl ring down" llmctl ring down || return
	# what this node saw of the damage, summed over the models
	set -- $(cat /tmp/damage)
	: $((RT += $1)) $((NK += $2)) $((DUP += $3 + $4))
done
echo "damage handled here: $RT fragments resent, $NK NACKs in, $DUP duplicates dropped"
check_range "fragments were resent (loss made them so)" 1 1000000 "$RT"
check_range "duplicates were dropped" 1 1000000 "$DUP"
