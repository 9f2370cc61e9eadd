# SPDX-License-Identifier: GPL-2.0
# The ring harness itself (qemu-tests/ring.sh): the links have their
# addresses, every node pings its next and previous node, a barrier waits
# for the last node, barriers pass through links that lose 30%, netem
# goes on a link and off again (with loss 100% a ping fails; with delay
# 100ms it takes that long), and the Debian modules llm.ko is to depend on
# load, with llm.ko after them.
# nodes: 2,3
# timeout: 300

NXT=$(((NODE + 1) % NODES))
PRV=$(((NODE + NODES - 1) % NODES))

check_match "node $NODE of $NODES" '^[0-2] [23]$' "$NODE $NODES"
check_output "$NEXT_IF (to node $NXT) has $NEXT_LOCAL/24" \
	"inet $NEXT_LOCAL/24" ip addr show dev "$NEXT_IF"
check_output "$PREV_IF (from node $PRV) has $PREV_LOCAL/24" \
	"inet $PREV_LOCAL/24" ip addr show dev "$PREV_IF"
check_eq "node_addr $NXT is NEXT_ADDR" "$NEXT_ADDR" "$(node_addr $NXT)"
check_eq "node_addr $PRV is PREV_ADDR" "$PREV_ADDR" "$(node_addr $PRV)"
check "ping the next node ($NEXT_ADDR)" ping -c 2 -W 5 "$NEXT_ADDR"
check "ping the previous node ($PREV_ADDR)" ping -c 2 -W 5 "$PREV_ADDR"

# A barrier holds the others until the last node comes (it comes 4 s
# after the one before, which lined them all up).
check "barrier: line up" barrier line-up || return
[ "$NODE" -eq $((NODES - 1)) ] && sleep 4
t0=$(now_ms)
check "barrier: the last node comes 4 s late" barrier late || return
waited=$(($(now_ms) - t0))
if [ "$NODE" -eq $((NODES - 1)) ]; then
	check_range "the last node did not wait long (ms)" 0 3000 "$waited"
else
	check_range "the others waited for it (ms)" 2000 60000 "$waited"
fi

# Barriers through lossy links: what is lost is sent again.
check "netem loss 30% on $NEXT_IF" netem_on "$NEXT_IF" loss 30% || return
ok=0
for i in 1 2 3 4 5 6; do
	barrier "lossy-$i" && ok=$((ok + 1))
done
check_eq "6 barriers through loss 30%" 6 "$ok"
check "netem off $NEXT_IF" netem_off "$NEXT_IF"
check "barrier: lossless again" barrier lossless || return

# netem on the link to the next node: each node puts it on its own, so a
# ping to the next node goes out through it; off again before each barrier
# (which travels over the same links).
check "netem loss 100% on $NEXT_IF" netem_on "$NEXT_IF" loss 100% || return
check_output "tc shows it" 'netem .*loss 100%' "$TC" qdisc show dev "$NEXT_IF"
check_fails "a ping to the next node gets no answer" ping -c 2 -W 2 "$NEXT_ADDR"
check "netem off $NEXT_IF" netem_off "$NEXT_IF"
check_fails "tc shows no netem on $NEXT_IF" \
	sh -c "$TC qdisc show dev $NEXT_IF | grep netem"
check "barrier: loss" barrier loss || return
check "a ping to the next node gets an answer again" ping -c 2 -W 5 "$NEXT_ADDR"

check "netem delay 100ms on $NEXT_IF" netem_on "$NEXT_IF" delay 100ms || return
rtt=$(ping -c 3 -W 5 "$NEXT_ADDR" | sed -n 's|.*min/avg/max = \([0-9]*\).*|\1|p')
check_range "a ping through it takes 100 ms or more (min rtt, ms)" 100 5000 "$rtt"
check "netem off $NEXT_IF" netem_off "$NEXT_IF"
check "barrier: delay" barrier delay || return

# iproute2's tc by its full path, with every kind of damage at once, and
# a delay distribution (its table comes with tc).
check "kmod_load sch_netem" kmod_load sch_netem
check "tc qdisc add ... netem loss duplicate delay reorder" \
	/usr/sbin/tc qdisc add dev "$NEXT_IF" root netem loss 10% duplicate 5% \
	delay 20ms 10ms reorder 25%
check_output "tc shows it" 'netem .*delay 20ms +10ms +loss 10% +duplicate 5% +reorder 25%' \
	"$TC" qdisc show dev "$NEXT_IF"
check "some pings through it get an answer" ping -c 10 -i 0.2 -W 5 "$NEXT_ADDR"
check "tc qdisc change ... distribution normal" \
	/usr/sbin/tc qdisc change dev "$NEXT_IF" root netem delay 20ms 10ms \
	distribution normal
check "netem off $NEXT_IF" netem_off "$NEXT_IF"
check "barrier: mixed" barrier mixed || return

# What llm.ko depends on, the crypto library (a module in Debian's
# kernel, built into the debug kernels), then llm.ko itself (/init
# unloads it).
check "kmod_load libchacha20poly1305" kmod_load libchacha20poly1305
check "llm_load" llm_load
