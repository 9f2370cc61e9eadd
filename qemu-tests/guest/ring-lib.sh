# SPDX-License-Identifier: GPL-2.0
# Helpers for the network ring tests (qemu-tests/ring/*.sh), sourced after
# guest/lib.sh in a ring guest (NODE, NODES, NEXT_ADDR, PREV_ADDR set).

RING_KEY=/tmp/ring.key
# the same 32-byte key on every node (a test key: never use a fixed one)
printf '%s\n' 4c4c4d2072696e672074657374206b6579206f6e6c792121212121212121212a > $RING_KEY

# ring_layers: this node's share of stories260K's 5 layers (RING_SPLIT
# overrides: one FIRST:LAST per node)
ring_layers() {
	local split=${RING_SPLIT:-}

	if [ -z "$split" ]; then
		case $NODES in
		2) split="0:2 2:5" ;;
		3) split="0:1 1:3 3:5" ;;
		esac
	fi
	echo "$split" | cut -d' ' -f$((NODE + 1))
}

# ring_up [ARGS...]: this node up in a ring of all NODES guests
ring_up() {
	llmctl ring up --node "$NODE" --nodes "$NODES" --layers "$(ring_layers)" \
		--prev "$PREV_ADDR" --next "$NEXT_ADDR" --key-file $RING_KEY "$@"
}

# ring_same WHAT ARGS...: the kernel's output through the ring is the
# userspace build's on one machine (M: the model file)
ring_same() {
	local what="$1"

	shift
	llmctl generate -q "$@" > /tmp/k.out 2>/tmp/k.err
	llmctl generate -q -m "$M" "$@" > /tmp/u.out 2>/tmp/u.err
	if [ ! -s /tmp/k.out ]; then
		fail "$what" "the ring gave nothing: $(cat /tmp/k.err)"
	elif cmp -s /tmp/k.out /tmp/u.out; then
		pass "$what"
	else
		fail "$what" "ring '$(head -c 200 /tmp/k.out)' vs one machine '$(head -c 200 /tmp/u.out)' ($(cat /tmp/k.err))"
	fi
}

# ring_json: the status into /tmp/ring.json
ring_json() {
	llmctl ring --json > /tmp/ring.json
}

# ring_get KEY: a number at the top level of /tmp/ring.json
ring_get() {
	sed -n "s/^  \"$1\": \([0-9.]*\),\{0,1\}$/\1/p" /tmp/ring.json
}

# ring_sum KEY: KEY summed over the links (a ring of 2 has one)
ring_sum() {
	grep '^    {"to"' /tmp/ring.json | grep -o "\"$1\": [0-9]*" |
		awk '{ s += $2 } END { print s + 0 }'
}

# ring_drop CAUSE: drops of CAUSE summed over the links
ring_drop() {
	grep '^    {"to"' /tmp/ring.json | sed 's/.*"drops": {//' |
		grep -o "\"$1\": [0-9]*" | awk '{ s += $2 } END { print s + 0 }'
}

# ring_drops: every drop but stale (a hello that lost the start-up race
# to the lower node id's is one), and packets from no peer
ring_drops() {
	local d

	d=$(grep '^    {"to"' /tmp/ring.json | sed 's/.*"drops": {//' |
		sed 's/"stale": [0-9]*//' |
		grep -o ': [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
	echo $((d + $(ring_get unknown_drops)))
}

# ring_measure ARGS...: on the head, one generation's traffic: prints
# "steps packets_out bytes_out retransmits wait_ms compute_ms" deltas
ring_measure() {
	local s0 p0 b0 r0 w0 c0

	ring_json
	s0=$(ring_get steps) p0=$(ring_sum packets_out) b0=$(ring_sum bytes_out)
	r0=$(ring_sum retransmits) w0=$(ring_get wait_ms) c0=$(ring_get compute_ms)
	llmctl generate -q "$@" > /dev/null 2>&1
	ring_json
	echo "$(($(ring_get steps) - s0)) $(($(ring_sum packets_out) - p0))" \
	     "$(($(ring_sum bytes_out) - b0)) $(($(ring_sum retransmits) - r0))" \
	     "$(awk "BEGIN { print $(ring_get wait_ms) - $w0 }")" \
	     "$(awk "BEGIN { print $(ring_get compute_ms) - $c0 }")"
}

# check_ring_bytes_per_frame WHAT: on the head of a ring without loss, a
# decode step sends one DATA packet of 56 + 44 + n_embd * 4 + 16 bytes and
# one ACK of the RESULT (72): checked from the counters
check_ring_bytes_per_frame() {
	local what=$1 embd m steps pk by re

	[ "$NODE" -eq 0 ] || return 0
	embd=$(llmctl info 2>/dev/null | sed -n 's/.* embd \([0-9]*\),.*/\1/p' | head -1)
	[ -n "$embd" ] || embd=64
	m=$(ring_measure --ids -n 30 -t 0 "")
	set -- $m
	steps=$1 pk=$2 by=$3 re=$4
	echo "ring traffic, $what: $steps steps, $pk packets and $by bytes out, $re fragments resent, waiting $5 ms, computing $6 ms"
	if [ "$re" -ne 0 ]; then
		skip "$what: bytes per step" "$re fragments were resent"
		return 0
	fi
	check_eq "$what: 2 packets out per step (DATA, ACK of the RESULT)" \
		$((2 * steps)) "$pk"
	check_eq "$what: bytes out per step = DATA (56+44+$embd*4+16) + ACK (72)" \
		$((steps * (56 + 44 + embd * 4 + 16 + 72))) "$by"
}
