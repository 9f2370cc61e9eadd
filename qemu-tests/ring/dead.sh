# SPDX-License-Identifier: GPL-2.0
# A node dies mid-generation (the last node's module unloaded, so nothing
# answers): the head's request ends with EHOSTUNREACH within the
# documented time (the retries: about ring_rto_max_ms x ring_retries; in
# a ring of 3 the middle node finds the last dead and tells the head),
# nothing hangs, the session stays usable; when the node is back,
# generation works again and gives one machine's tokens.  Then the last
# node leaves the ring while the head waits: the step fails within
# ring_timeout_ms.
# nodes: 2,3
# timeout: 600
# memory: 512M

. /guest/ring-lib.sh

M=/models/stories260K-Q8_0.gguf
LAST=$((NODES - 1))
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
	# generation after generation (a story ends at EOS), and the last
	# node goes away while one runs: the loop ends at the first failure
	(
		s=1
		while llmctl generate -q --ids -n 2000 -t 0.9 -s $s "" \
			>> /tmp/long.out 2> /tmp/long.err; do
			s=$((s + 1))
		done
		exit 1
	) &
	pid=$!
	# a slow guest (a debug kernel) is still on its first request
	wait_until 600 test -s /tmp/long.out
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
	check_range "within the documented time (ms)" 0 6000 "$took"
	check_range "it made tokens before" 10 100000 \
		"$(wc -w < /tmp/long.out)"
	ring_json
	[ "$NODES" -eq 2 ] &&
		check_range "the link was declared dead" 1 100 "$(ring_sum deaths)"
	check_eq "the step failed and was counted" 1 "$(ring_get step_errors)"
elif [ "$NODE" -eq "$LAST" ]; then
	check "barrier: kill" barrier kill || return
	sleep 1
	check "rmmod llm mid-generation" rmmod llm
	sleep 4
	check "insmod llm.ko again" llm_load || return
	check "llmctl load" llmctl load $M || return
	check "ring up again" ring_up || return
else
	check "barrier: kill" barrier kill || return
	check "this node finds its next dead" wait_until 150 \
		sh -c 'llmctl ring --json | grep -q "\"deaths\": [1-9]"'

fi
check "llmctl ring wait (every link up again)" llmctl ring wait --timeout 60
# the defaults again: the quick verdict above is no setting for a slow
# guest (a debug kernel) at work
echo 1000 > /sys/module/llm/parameters/ring_rto_max_ms
echo 6 > /sys/module/llm/parameters/ring_retries
check "barrier: back" barrier back 120 || return
if [ "$NODE" -eq 0 ]; then
	ring_same "after: one machine's tokens again" --ids -n 40 -t 0 \
		"Once upon a time"
	ring_same "after: seeded too" --ids -n 40 -t 0.8 -s 9 "Lily"
fi
check "barrier: recovered" barrier recovered 300 || return

# The last node leaves the ring while the head is about to wait on it.
echo 3000 > /sys/module/llm/parameters/ring_timeout_ms
if [ "$NODE" -eq "$LAST" ]; then
	check "ring down (answers stop)" llmctl ring down
	check "barrier: quiet" barrier quiet || return
elif [ "$NODE" -eq 0 ]; then
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
	check "barrier: quiet" barrier quiet || return
fi
check "barrier: end" barrier end 120 || return
[ "$NODE" -ne "$LAST" ] && check "llmctl ring down" llmctl ring down
