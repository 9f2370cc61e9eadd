# SPDX-License-Identifier: GPL-2.0
# Changing the split at run time: a ring of 2 (nodes 0 and 1) grows to 3
# while a request runs, and shrinks back.  The running request finishes or
# fails cleanly (ENETRESET, ENETDOWN), never hangs; after each change the
# head gives one machine's tokens; every node's arena is back at the end.
# nodes: 3
# timeout: 600
# memory: 512M

. /guest/ring-lib.sh

M=/models/stories260K.gguf
need $M "the project's models/ directory"
check "insmod llm.ko" llm_load || return
check "llmctl load" llmctl load $M || return
used0=$(llm_sys arena_used)

two() {		# nodes 0 and 1 as a ring of two
	case $NODE in
	0) RING_SPLIT="0:2 2:5" NODES=2 ring_up_to "$(node_addr 1)" ;;
	1) RING_SPLIT="0:2 2:5" NODES=2 ring_up_to "$(node_addr 0)" ;;
	*) llmctl ring down 2>/dev/null; true ;;
	esac
}
ring_up_to() {	# PEER: prev and next are that one node
	llmctl ring up --node "$NODE" --nodes 2 --layers "$(ring_layers)" \
		--prev "$1" --next "$1" --key-file $RING_KEY
}

check "a ring of two" two || return
check "barrier: two" barrier two || return
[ "$NODE" -lt 2 ] && check "llmctl ring wait" llmctl ring wait --timeout 60
if [ "$NODE" -eq 0 ]; then
	ring_same "two nodes: one machine's tokens" --ids -n 40 -t 0 \
		"Once upon a time"
	# requests one after another while the ring changes, until told
	(
		s=1
		while [ ! -e /tmp/stop ] &&
		      llmctl generate -q --ids -n 2000 -t 0.9 -s $s "" \
			>> /tmp/long.out 2> /tmp/long.err; do
			s=$((s + 1))
		done
		[ -e /tmp/stop ]
	) &
	gen=$!
	sleep 2
fi
check "barrier: grow" barrier grow || return
check "grow: a ring of three" ring_up || return
check "barrier: three" barrier three || return
check "llmctl ring wait" llmctl ring wait --timeout 60
if [ "$NODE" -eq 0 ]; then
	touch /tmp/stop
	wait $gen
	rc=$?
	echo "the request running across the change: status $rc, $(wc -w < /tmp/long.out) tokens: $(cat /tmp/long.err)"
	if [ $rc -eq 0 ] || grep -Eq 'reset|ENETRESET|down|ENETDOWN' /tmp/long.err; then
		pass "the request across the change finished or failed cleanly"
	else
		fail "the request across the change finished or failed cleanly" \
			"status $rc: $(cat /tmp/long.err)"
	fi
	ring_same "three nodes: one machine's tokens" --ids -n 40 -t 0 \
		"Once upon a time"
	ring_same "three nodes: seeded" --ids -n 40 -t 0.8 -k 40 -s 5 "Lily"
fi
check "barrier: shrink" barrier shrink || return
check "shrink: back to two" two || return
check "barrier: two again" barrier two-again || return
if [ "$NODE" -eq 0 ]; then
	check "llmctl ring wait" llmctl ring wait --timeout 60
	ring_same "two again: one machine's tokens" --ids -n 40 -t 0 \
		"Once upon a time"
fi
check "barrier: done" barrier done || return
[ "$NODE" -lt 2 ] && check "llmctl ring down" llmctl ring down
check_eq "the arena is back to before the ring" "$used0" "$(llm_sys arena_used)"
