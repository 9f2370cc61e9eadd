# SPDX-License-Identifier: GPL-2.0
# Hostile packets at a running ring: each node captures what it sends to
# the other, then sends it again from a raw socket, unchanged (replays) and
# mangled (bad tag, bad body, wrong version and magic, truncated, fragment
# index and frame length out of range, bad UDP checksum, forged source
# address and port, as IP fragments), plus garbage from a stranger, while
# the head generates.  Every such packet is dropped and counted by cause,
# the output is still one machine's, and no kernel warning.  Then a node
# with the wrong key: the keys never agree, its hellos fail their tag.
# nodes: 2
# timeout: 600
# memory: 512M

. /guest/ring-lib.sh

M=/models/stories260K-Q8_0.gguf
need $M "the project's models/ directory"
check "insmod llm.ko" llm_load || return
check "llmctl load" llmctl load $M || return
check "ring up" ring_up || return
check "barrier: up" barrier up || return
check "llmctl ring wait" llmctl ring wait --timeout 60 || return

# what this node sends to the other: DATA from the head, ACKs and RESULTs
# from node 1
rm -f /tmp/ready
ringpkt capture "$NEXT_IF" 7000 8 /tmp/mine.pkt 120 --ready /tmp/ready \
	> /tmp/capture.log 2>&1 &
cap=$!
check "the capture is listening" wait_until 100 test -e /tmp/ready
check "barrier: capturing" barrier capturing || return
[ "$NODE" -eq 0 ] && ring_same "traffic to capture" --ids -n 20 -t 0 "Lily"
check "8 packets captured" wait $cap
cat /tmp/capture.log
check "barrier: captured" barrier captured || return

ring_json
cp /tmp/ring.json /tmp/before.json
check "barrier: attack" barrier attack || return
if [ "$NODE" -eq 0 ]; then
	llmctl generate -q --ids -n 200 -t 0 "Once upon a time" > /tmp/k.out \
		2> /tmp/k.err &
	gen=$!
fi
for kind in none tag body version magic truncate fragidx framelen csum \
	    srcport ipfrag; do
	ringpkt replay /tmp/mine.pkt --mutate $kind > /dev/null 2>> /tmp/replay.err
done
ringpkt replay /tmp/mine.pkt --mutate source --from 10.77.0.9 > /dev/null \
	2>> /tmp/replay.err
ringpkt flood "$NEXT_ADDR" 7000 200 --seed 7 > /dev/null
if [ "$NODE" -eq 0 ]; then
	wait $gen
	llmctl generate -q -m $M --ids -n 200 -t 0 "Once upon a time" > /tmp/u.out
	if cmp -s /tmp/k.out /tmp/u.out; then
		pass "under attack: one machine's tokens"
	else
		fail "under attack: one machine's tokens" "$(head -c 200 /tmp/k.out) ($(cat /tmp/k.err))"
	fi
fi
sleep 1
check "barrier: attacked" barrier attacked || return
ring_json
cat /tmp/ring.json
cp /tmp/ring.json /tmp/after.json
delta() {	# CAUSE: drops of CAUSE since before the attack
	local a b

	cp /tmp/before.json /tmp/ring.json
	b=$(ring_drop "$1")
	cp /tmp/after.json /tmp/ring.json
	a=$(ring_drop "$1")
	echo $((a - b))
}
for cause in replay bad_tag malformed checksum fragment; do
	check_range "replayed/mangled packets dropped as $cause" 1 100000 \
		"$(delta $cause)"
done
[ "$NODE" -eq 1 ] && check_range "a DATA frame length past the buffers: oversized" \
	1 100000 "$(delta oversized)"
check_range "strangers' and forged packets dropped as not a peer" 200 100000 \
	"$(ring_get unknown_drops)"
check_eq "no reassembly slot left in use" 0 "$(ring_get slots_used)"
check "barrier: checked" barrier checked || return

# The wrong key: node 1 comes back with another; nothing agrees.
if [ "$NODE" -eq 1 ]; then
	printf '%064d\n' 7 > /tmp/wrong.key
	check "ring up with the wrong key" llmctl ring up --node 1 --nodes 2 \
		--layers "$(ring_layers)" --prev "$PREV_ADDR" --next "$NEXT_ADDR" \
		--key-file /tmp/wrong.key
fi
check "barrier: wrong key" barrier wrong || return
sleep 2
[ "$NODE" -eq 0 ] &&
	check_fails "a request fails: the node cannot open our frames" \
		llmctl generate -q -n 5 -t 0 "Lily"
[ "$NODE" -eq 1 ] &&
	check_fails "the keys never agree" llmctl ring wait --timeout 3
ring_json
check_range "the other's hellos fail their tag here" 1 1000 \
	"$(ring_drop bad_tag)"
check "barrier: wrong key seen" barrier wrong-seen || return
[ "$NODE" -eq 1 ] && check "ring up with the right key" ring_up
check "barrier: right key" barrier right || return
check "the keys agree again" llmctl ring wait --timeout 30
[ "$NODE" -eq 0 ] && ring_same "and generation works" --ids -n 20 -t 0 "Lily"
check "barrier: end" barrier end || return
check "llmctl ring down" llmctl ring down
