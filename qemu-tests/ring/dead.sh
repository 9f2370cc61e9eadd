# SPDX-License-Identifier: GPL-2.0
# A node dies mid-generation (its module unloaded, so nothing answers):
# the head's request ends with EHOSTUNREACH within the documented time
# (about ring_rto_max_ms x ring_retries), nothing hangs, the session stays
# usable; when the node is back, generation works again and gives one
# machine's tokens.  Then the same with the last node's answer never
# coming (ETIMEDOUT after ring_timeout_ms).
# nodes: 2
# timeout: 600
# memory: 512M

. /guest/ring-lib.sh

M=/models/stories260K-Q8_0.gguf
need $M "the project's models/ directory"
check "insmod llm.ko" llm_load || return
echo 200 > /sys/module/llm/parameters/ring_rto_max_ms
echo 5 > /sys/module/llm/parameters/ring_retries
check "llmctl load" llmctl load $M || return
check "ring up" ring_up || return
check "barrier: up" barrier up || return
check "llmctl ring wait" llmctl ring wait --timeout 60 || return

if [ "$NODE" -eq 0 ]; then
	ring_same "before: one machine's tokens" --ids -n 40 -t 0 "Once upon a time"
	# generation after generation (a story ends at EOS), and node 1 goes
	# away while one runs: the loop ends with the first that fails
	(
		s=1
		while llmctl generate -q --ids -n 2000 -t 0.9 -s $s "" \
			>> /tmp/long.out 2> /tmp/long.err; do
			s=$((s + 1))
		done
		exit 1
	) &
	pid=$!
	sleep 2
	check "barrier: kill" barrier kill || return
	t0=$(now_ms)
	wait $pid
	rc=$?
	took=$(($(now_ms) - t0))
	echo "the request ended after $took ms, status $rc: $(cat /tmp/long.err)"
	check_range "the request failed (exit status)" 1 255 "$rc"
	check_match "it says the peer is unreachable" \
		'[Nn]o route to host|EHOSTUNREACH|unreachable' "$(cat /tmp/long.err)"
	# 5 timeouts doubling from the measured RTO up to 200 ms, + slack
	check_range "within the documented time (ms)" 0 5000 "$took"
	check_range "it made tokens before" 10 100000 \
		"$(wc -w < /tmp/long.out)"
	ring_json
	check_range "the link was declared dead" 1 100 "$(ring_sum deaths)"
	check_fails "a request now fails at once" \
		llmctl generate -q -n 5 -t 0 "Lily"
	check "barrier: back" barrier back 120 || return
	check "llmctl ring wait (the node is back)" llmctl ring wait --timeout 60
	ring_same "after: one machine's tokens again" --ids -n 40 -t 0 \
		"Once upon a time"
	ring_same "after: seeded too" --ids -n 40 -t 0.8 -s 9 "Lily"
else
	check "barrier: kill" barrier kill || return
	sleep 1
	check "rmmod llm mid-generation" rmmod llm
	sleep 4
	check "insmod llm.ko again" llm_load || return
	check "llmctl load" llmctl load $M || return
	check "ring up again" ring_up || return
	check "barrier: back" barrier back 120 || return
fi
check "barrier: recovered" barrier recovered 300 || return

# The last node stops answering (its layers take the frames, but its
# module is going; here: it goes down while the head waits): ETIMEDOUT.
echo 3000 > /sys/module/llm/parameters/ring_timeout_ms
if [ "$NODE" -eq 0 ]; then
	check "barrier: quiet" barrier quiet || return
	t0=$(now_ms)
	llmctl generate -q -n 20 -t 0 "Once" > /dev/null 2> /tmp/q.err
	rc=$?
	took=$(($(now_ms) - t0))
	echo "with no answer: status $rc after $took ms: $(cat /tmp/q.err)"
	check_range "the request failed" 1 255 "$rc"
	check_match "no answer: timed out, or unreachable" \
		'[Tt]imed out|ETIMEDOUT|[Nn]o route|unreachable' "$(cat /tmp/q.err)"
	check_range "within ring_timeout_ms (3 s) and slack (ms)" 0 8000 "$took"
else
	check "ring down (answers stop)" llmctl ring down
	check "barrier: quiet" barrier quiet || return
fi
check "barrier: end" barrier end 120 || return
[ "$NODE" -eq 0 ] && check "llmctl ring down" llmctl ring down
