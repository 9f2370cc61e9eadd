# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the guest test scripts (qemu-tests/tests/*.sh).  /init loads
# this file before it sources a test script, so scripts call these directly.
#
# Every check prints exactly one result line, which the host collects:
#   PASS qemu/NAME: what
#   FAIL qemu/NAME: what: why
#   SKIP qemu/NAME: what: why
# (in a ring guest, qemu-tests/ring.sh, "ring/NAME[nodeK]" for "qemu/NAME":
# LLM_TAG, which /init sets).
# Checks return 0 when they passed and 1 when they did not, so a script can
# stop early with `check ... || return` (a script that exits instead of
# running to its last line is reported as failed by the host).

LLM_KO=/llm.ko
LLM_SYS=/sys/kernel/llm
LLM_PARAMS=/sys/module/llm/parameters
LLM_DEV=/dev/llm
_LLM_OUT=/tmp/.check.out
LLM_TAG=${LLM_TAG:-qemu/$LLM_TEST}

_llm_result() {
	echo "$*"
	echo "$*" >> /tmp/results
}

pass() {
	_llm_result "PASS $LLM_TAG: $1"
	return 0
}

fail() {
	_llm_result "FAIL $LLM_TAG: $1: ${2:-failed}"
	return 1
}

skip() {
	_llm_result "SKIP $LLM_TAG: $1: ${2:-skipped}"
	return 0
}

# Printed by /init after the script's last line; see qemu-tests/run.sh.
test_end() {
	: > /tmp/.test-end
	echo "=== llm-qemu: test-end $LLM_TEST"
}

# Skip the whole script (e.g. a CPU feature is missing) and stop here.
skip_all() {
	skip "$LLM_TEST" "$1"
	test_end
	exit 0
}

# need FILE HINT: a file the script cannot do without (a model from the
# project's models/, a module make builds).  Missing, the test fails with
# one line that names it and HINT, and the script ends there: a missing
# file is a broken tree or build, never a reason to skip.
need() {
	[ -r "$1" ] && return 0
	fail "$LLM_TEST" "no $1 ($2)"
	test_end
	exit 0
}

# ": <the last command's output on one line>", or nothing if it was silent.
_llm_output() {
	[ -s "$_LLM_OUT" ] || return 0
	printf ': %s' "$(tr '\n\t' '  ' < "$_LLM_OUT" | cut -c1-240)"
}

# check WHAT CMD...: CMD must exit 0.
check() {
	local what="$1" st
	shift
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	[ $st -eq 0 ] && { pass "$what"; return; }
	fail "$what" "'$*' exited with status $st$(_llm_output)"
}

# check_fails WHAT CMD...: CMD must fail (a missing command does not count).
check_fails() {
	local what="$1" st
	shift
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	if [ $st -eq 127 ] || [ $st -eq 126 ]; then
		fail "$what" "'$1' could not be run (status $st)$(_llm_output)"
		return
	fi
	[ $st -ne 0 ] && { pass "$what"; return; }
	fail "$what" "'$*' succeeded but should have failed$(_llm_output)"
}

# check_status WHAT N CMD...: CMD must exit with status N.
check_status() {
	local what="$1" want="$2" st
	shift 2
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	[ $st -eq "$want" ] && { pass "$what"; return; }
	fail "$what" "'$*' exited with status $st, expected $want$(_llm_output)"
}

# check_output WHAT ERE CMD...: CMD must exit 0 and print a line matching ERE.
check_output() {
	local what="$1" re="$2" st
	shift 2
	"$@" > "$_LLM_OUT" 2>&1
	st=$?
	if [ $st -ne 0 ]; then
		fail "$what" "'$*' exited with status $st$(_llm_output)"
		return
	fi
	grep -Eq -- "$re" "$_LLM_OUT" && { pass "$what"; return; }
	fail "$what" "no line of '$*' matches /$re/$(_llm_output)"
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	[ "$2" = "$3" ] && { pass "$1"; return; }
	fail "$1" "expected '$2', got '$3'"
}

# check_match WHAT ERE TEXT: TEXT must match ERE.
check_match() {
	printf '%s\n' "$3" | grep -Eq -- "$2" && { pass "$1"; return; }
	fail "$1" "'$3' does not match /$2/"
}

# check_range WHAT MIN MAX VALUE: MIN <= VALUE <= MAX, integers.
check_range() {
	case "$4" in
	''|*[!0-9]*) fail "$1" "'$4' is not a number"; return ;;
	esac
	[ "$4" -ge "$2" ] && [ "$4" -le "$3" ] && { pass "$1"; return; }
	fail "$1" "$4 is not within $2..$3"
}

# sys_read PATH: the value of a sysfs (or proc) file; status 1 if unreadable.
sys_read() {
	[ -r "$1" ] || return 1
	cat "$1"
}

# llm_sys NAME / llm_param NAME: /sys/kernel/llm/NAME, the module parameter.
llm_sys() {
	sys_read "$LLM_SYS/$1"
}

llm_param() {
	sys_read "$LLM_PARAMS/$1"
}

# llm_load_mark: note a load of llm.ko in the kernel log.  The host
# reports the splats logged before the first one apart from the others
# (qemu-tests/run.sh): they cannot be llm.ko's doing.
llm_load_mark() {
	echo "llm-qemu: insmod llm.ko" > /dev/kmsg
}

# kmod_deps NAME: the Debian modules NAME needs, in load order ("llm" for
# llm.ko), as the host wrote them into /kmod/modules.dep (qemu-tests/run.sh).
kmod_deps() {
	sed -n "s/^$1: *//p" /kmod/modules.dep 2>/dev/null
}

# kmod_load NAME...: load the Debian modules NAME (sch_netem, virtio_net,
# libchacha20poly1305, ...) from /kmod with what they need, each unless it
# is loaded already or built into the kernel.
kmod_load() {
	local m d

	for m in "$@"; do
		grep -qx "$m" /kmod/modules.builtin 2>/dev/null && continue
		for d in $(kmod_deps "$m") "$m"; do
			grep -q "^$d " /proc/modules && continue
			if [ ! -f "/kmod/$d.ko" ]; then
				echo "kmod_load: no /kmod/$d.ko (KMODS_ALWAYS or KMODS_EXTRA in qemu-tests/run.sh, or the kernel has no such module)" >&2
				return 1
			fi
			insmod "/kmod/$d.ko" || return
		done
	done
}

# llm_load [PARAM=VALUE...] / llm_unload / llm_loaded
# (llm_load first loads the Debian modules llm.ko depends on)
llm_load() {
	kmod_load $(kmod_deps llm) || return
	llm_load_mark
	insmod "$LLM_KO" "$@" || return
	# under kmemleak: where this load sits, to read leak traces by
	[ -w /sys/kernel/debug/kmemleak ] &&
		echo "=== llm-qemu: llm .text $(cat /sys/module/llm/sections/.text)" \
			> /dev/console
	return 0
}

llm_unload() {
	rmmod llm
}

# kernel_same WHAT OPTIONS PROMPT: llmctl generate OPTIONS PROMPT gives the
# same stdout in the kernel as in userspace on the model file $M
kernel_same() {
	# shellcheck disable=SC2086
	llmctl generate $2 "$3" > /tmp/k.out 2>/tmp/k.err
	# shellcheck disable=SC2086
	llmctl generate -m "$M" $2 "$3" > /tmp/u.out 2>/tmp/u.err
	if [ ! -s /tmp/k.out ]; then
		fail "$1" "the kernel printed nothing: $(cat /tmp/k.err)"
	elif cmp -s /tmp/k.out /tmp/u.out; then
		pass "$1"
	else
		fail "$1" "kernel '$(head -c 120 /tmp/k.out)' vs userspace '$(head -c 120 /tmp/u.out)'"
	fi
}

# vals NAME...: the sysfs values of /sys/kernel/llm/NAME..., space-separated.
vals() {
	local f out=

	for f in "$@"; do
		out="$out${out:+ }$(llm_sys "$f")"
	done
	echo "$out"
}

llm_loaded() {
	grep -q '^llm ' /proc/modules
}

# meminfo KEY: a /proc/meminfo value in kB.
meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# free_kb: free memory in kB, counting the pages freed onto the per-CPU
# lists (/proc/zoneinfo's "count:"), which MemFree leaves out: since 6.7
# those lists tune themselves up to tens of MiB, so MemFree alone swings
# by that much from one moment to the next.  (4 KiB pages: x86_64.)
free_kb() {
	local pcp

	pcp=$(awk '$1 == "count:" { n += $2 } END { print n + 0 }' /proc/zoneinfo)
	echo $(($(meminfo MemFree) + pcp * 4))
}

# dmesg_mark: note the current end of the kernel log; dmesg_since_mark
# prints what the kernel logged after the last mark.
dmesg_mark() {
	_LLM_MARK=$((${_LLM_MARK:-0} + 1))
	echo "llm-test: mark $_LLM_MARK" > /dev/kmsg
}

dmesg_since_mark() {
	[ -n "${_LLM_MARK:-}" ] || { dmesg; return; }
	dmesg | awk -v m="llm-test: mark ${_LLM_MARK:-0}\$" \
		'found { print } $0 ~ m { found = 1 }'
}

# check_dmesg WHAT ERE: the kernel logged a matching line since the mark.
check_dmesg() {
	dmesg_since_mark > "$_LLM_OUT"
	grep -Eq -- "$2" "$_LLM_OUT" && { pass "$1"; return; }
	fail "$1" "the kernel logged no line matching /$2/ since the mark$(_llm_output)"
}

# p STEP...: the result lines of one llmprobe run, joined by '|', for a
# check_eq against what each step should give.
p() {
	llmprobe "$@" 2>&1 | tr '\n' '|' | sed 's/|$//'
}

# wait_until TENTHS CMD...: run CMD every 0.1 s until it succeeds, at most
# TENTHS times; status 1 when it never did (a check after it says what).
wait_until() {
	local n=$1

	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# now_ms: milliseconds since boot.
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# ---- ring guests (qemu-tests/ring.sh) ----
#
# Node K of N is joined to its neighbours by point-to-point links: link L
# joins node L (end 1, 10.77.L.1, MAC 52:54:00:77:LL:01) and node (L+1)%N
# (end 2, 10.77.L.2, MAC 52:54:00:77:LL:02); N links, one when N is 2.
# /init (ring_setup) brings them up and writes the variables below to
# /tmp/ring.env, which this file reads: NODE, NODES, NEXT_IF, NEXT_ADDR
# (the next node's address on the link to it), NEXT_LOCAL (ours on that
# link), PREV_IF, PREV_ADDR, PREV_LOCAL; with 2 nodes NEXT_* and PREV_*
# name the same link.

RING_PORT=7000
BARRIER_PORT=7999
BARRIER_TIMEOUT=${BARRIER_TIMEOUT:-60}
TC=/usr/sbin/tc

# _ring_mac LINK END, _ring_if MAC: the MAC of one end of a link; the
# interface that has it (none yet: status 1).
_ring_mac() {
	printf '52:54:00:77:%02x:%02x' "$1" "$2"
}

_ring_if() {
	local d

	for d in /sys/class/net/*; do
		[ "$(cat "$d/address" 2>/dev/null)" = "$1" ] &&
			{ echo "${d##*/}"; return 0; }
	done
	return 1
}

# ring_setup: with NODE and NODES set, load the NIC driver, give the links
# their addresses, bring them up and write /tmp/ring.env.  Run by /init.
ring_setup() {
	local nl=$NODES nxt prv nif pif nmac pmac

	[ "$NODES" -eq 2 ] && nl=1
	nxt=$NODE
	prv=$(((NODE + NODES - 1) % NODES))
	if [ "$nxt" -lt "$nl" ]; then
		nmac=$(_ring_mac "$nxt" 1)
		NEXT_LOCAL=10.77.$nxt.1 NEXT_ADDR=10.77.$nxt.2
	else	# 2 nodes, node 1: its next is node 0, over link 0
		nmac=$(_ring_mac 0 2)
		NEXT_LOCAL=10.77.0.2 NEXT_ADDR=10.77.0.1
	fi
	if [ "$prv" -lt "$nl" ]; then
		pmac=$(_ring_mac "$prv" 2)
		PREV_LOCAL=10.77.$prv.2 PREV_ADDR=10.77.$prv.1
	else	# 2 nodes, node 0: its previous is node 1, over link 0
		pmac=$(_ring_mac 0 1)
		PREV_LOCAL=10.77.0.1 PREV_ADDR=10.77.0.2
	fi
	kmod_load virtio_pci virtio_net || return
	if ! wait_until 100 _ring_if "$nmac" > /dev/null ||
	   ! wait_until 100 _ring_if "$pmac" > /dev/null; then
		echo "ring_setup: no interface with MAC $nmac and $pmac: $(cat /sys/class/net/*/address | tr '\n' ' ')" >&2
		return 1
	fi
	nif=$(_ring_if "$nmac")
	pif=$(_ring_if "$pmac")
	ip link set lo up &&
	ip addr add "$NEXT_LOCAL/24" dev "$nif" &&
	ip link set "$nif" up || return
	if [ "$pif" != "$nif" ]; then
		ip addr add "$PREV_LOCAL/24" dev "$pif" &&
		ip link set "$pif" up || return
	fi
	if ! wait_until 100 grep -qx up "/sys/class/net/$nif/operstate" ||
	   ! wait_until 100 grep -qx up "/sys/class/net/$pif/operstate"; then
		echo "ring_setup: $nif or $pif is not up" >&2
		return 1
	fi
	cat > /tmp/ring.env <<-END
	export NODE=$NODE NODES=$NODES
	export NEXT_IF=$nif NEXT_ADDR=$NEXT_ADDR NEXT_LOCAL=$NEXT_LOCAL
	export PREV_IF=$pif PREV_ADDR=$PREV_ADDR PREV_LOCAL=$PREV_LOCAL
	END
	. /tmp/ring.env
	echo "=== llm-qemu: ring node $NODE of $NODES: next $NEXT_IF $NEXT_LOCAL -> $NEXT_ADDR, prev $PREV_IF $PREV_LOCAL -> $PREV_ADDR (at $(now_ms) ms)"
}

# node_addr K: an address of node K on a link we share with it (every node
# is a neighbour of every other in rings of 2 and 3); ours for K = NODE.
node_addr() {
	if [ "$1" -eq "$NODE" ]; then
		echo "$NEXT_LOCAL"
	elif [ "$1" -eq $(((NODE + 1) % NODES)) ]; then
		echo "$NEXT_ADDR"
	elif [ "$1" -eq $(((NODE + NODES - 1) % NODES)) ]; then
		echo "$PREV_ADDR"
	else
		echo "node_addr: node $1 is no neighbour of node $NODE" >&2
		return 1
	fi
}

# barrier NAME [TIMEOUT_S]: wait until every node has reached barrier
# NAME (default BARRIER_TIMEOUT, 60 s); status 1, with a message on
# stderr, when they did not in time.  Every node must pass the same
# barriers in the same order: each is numbered, so that a late datagram
# of one cannot count for the next.  Use it as
#   check "barrier NAME" barrier NAME || return
# It travels over the ring links (UDP port BARRIER_PORT), so netem on a
# link delays it; what is lost is sent again (see _barrier).
barrier() {
	local seq

	seq=$(($(cat /tmp/.barrier-seq 2>/dev/null || echo 0) + 1))
	echo "$seq" > /tmp/.barrier-seq
	_barrier "$seq:$1" "${2:-$BARRIER_TIMEOUT}"
}

# _barrier ID TIMEOUT_S: every other node sends "ready ID K" to node 0
# (llmtest udp-ask resends it every 0.25 s) until node 0 answers "go ID";
# node 0 answers once it has heard from all, then keeps answering resent
# readies until they stop for 0.6 s.  A "go" lost all the same is sent
# again when node 0 waits at a later barrier and hears that node's ready
# for this one (node 0 keeps the IDs it has passed in /tmp/.barrier-done).
_barrier() {
	local id=$1 t=$2 got=" " n=1 k m mid end left

	[ "$NODES" -gt 1 ] || return 0
	if [ "$NODE" -ne 0 ]; then
		llmtest udp-ask "$(node_addr 0)" $BARRIER_PORT "ready $id $NODE" \
			"$t" "go $id" > /dev/null && return 0
		echo "barrier $id: node 0 did not say go within $t s" >&2
		return 1
	fi
	end=$(($(now_ms) + t * 1000))
	while [ $n -lt "$NODES" ]; do
		left=$((end - $(now_ms)))
		if [ $left -le 0 ]; then
			echo "barrier $id: only nodes 0${got% } arrived within $t s" >&2
			return 1
		fi
		m=$(llmtest udp-wait $BARRIER_PORT "$((left / 1000 + 1))" ready) ||
			continue
		k=${m##* }
		mid=${m#ready }
		mid=${mid% *}
		if [ "$mid" != "$id" ]; then
			grep -qxF "$mid" /tmp/.barrier-done 2>/dev/null &&
				llmtest udp-send "$(node_addr "$k")" $BARRIER_PORT "go $mid"
			continue
		fi
		case $got in *" $k "*) continue ;; esac
		got="$got$k "
		n=$((n + 1))
	done
	echo "$id" >> /tmp/.barrier-done
	for k in $got; do
		llmtest udp-send "$(node_addr "$k")" $BARRIER_PORT "go $id"
	done
	while m=$(llmtest udp-wait $BARRIER_PORT 0.6 "ready $id"); do
		llmtest udp-send "$(node_addr "${m##* }")" $BARRIER_PORT "go $id"
	done
	return 0
}

# netem_on IFACE ARGS...: put a netem qdisc with ARGS (loss 10%, delay
# 20ms 10ms, ...) on IFACE's output, in place of what it had (iproute2's
# tc: Debian's busybox tc knows no netem); netem_off IFACE takes it away.
netem_on() {
	local dev=$1

	shift
	kmod_load sch_netem || return
	$TC qdisc replace dev "$dev" root netem "$@"
}

netem_off() {
	$TC qdisc del dev "$1" root
}

# In a ring guest, after ring_setup: the variables above.
if [ -r /tmp/ring.env ]; then
	. /tmp/ring.env
fi
