# SPDX-License-Identifier: GPL-2.0
# timeout: 180
# The mmap ring (issue 4, point 4) against misuse: mmap before setup,
# beyond the region, at an offset, private, executable; a second setup;
# the other interfaces on a ring session; bad submission entries; indices
# garbled by the user; signals and closes mid-request.  Several entries
# queued at once complete in order.  (That the ring and read() give the
# same text is in generate.sh.)

M=/models/stories260K.gguf
need $M "the project's models/ directory"

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)

# --- setup and mmap --------------------------------------------------------

check_eq "mmap before RING_SETUP is ENXIO" "map ENXIO" "$(p map full)"
check_eq "RING_SETUP with defaults; a second one is EBUSY" \
	"ring ok sq=16 cq=1024 pb=16384 size=90112|ring EBUSY" \
	"$(p ring 0 0 0 ring 0 0 0)"
check_eq "entry counts round up to powers of two" \
	"ring ok sq=8 cq=1024 pb=100 size=73728" "$(p ring 5 1000 100)"
check_eq "the largest rings" "ring ok sq=256 cq=16384 pb=65536 size=1126400" \
	"$(p ring 256 16384 65536)"
for bad in "sq=257" "cq=16385" "pb=65537" "flags=1" "reserved=1" \
	   "sq=0xffffffff" "cq=0x80000000"; do
	check_eq "RING_SETUP $bad is EINVAL" "ioc EINVAL" \
		"$(p ioc ringsetup $bad)"
done
check_eq "RING_SETUP while a request runs is EBUSY" \
	"params ok|w ok 4|ioc EBUSY|r ok 68" \
	"$(p params 0 0 900 20 0 w Once ioc ringsetup r -)"
R="ring 0 0 0"
for m in over off private exec; do
	check_eq "mmap $m is EINVAL" "map EINVAL" "$(p $R map $m | cut -d'|' -f2)"
done
check_eq "mmap read-only, and of part of the region, work" "map ok|map ok" \
	"$(p $R map ro map half | cut -d'|' -f2-)"
check_eq "the mapping can never become executable" "map ok|mpx EACCES" \
	"$(p $R map full mpx | cut -d'|' -f2-)"
check_eq "write, read, GENERATE and a second setup on a ring session are EBUSY" \
	"w EBUSY|r1 EBUSY|gen EBUSY|ring EBUSY" \
	"$(p $R map full w Once r1 gen Once - ring 0 0 0 | cut -d'|' -f3-)"
check_eq "RING_ENTER without a ring is ENXIO" "ioc ENXIO" "$(p ioc ringenter)"
check_eq "RING_ENTER waiting for more entries than the ring has is EINVAL" \
	"ioc EINVAL" "$(p ring 0 8 0 ioc ringenter min=9 | cut -d'|' -f2)"
check_eq "RING_ENTER with nothing submitted returns at once" "enter ok" \
	"$(p $R map full enter 1 | cut -d'|' -f3)"

# --- submission entries ------------------------------------------------------

# A ring of 8 entries and a 64-byte prompt area; 10 tokens a request.
S="params 0 0 900 10 0 ring 8 1024 64 map full"
out=$(p $S sqe 1 0 16 0 'Once upon a time' \
	sqe 2 60 10 0 - \
	sqe 3 65 0 0 - \
	sqe 4 0 0 2 - \
	sqeresv 5 \
	sqe 6 32 2 0 '\xc0\xaf' \
	sqe 7 0 0xffffffff 0 - \
	sqe 8 0xffffffff 1 0 - \
	enter 0 drain 8 /tmp/rq | sed 's/.*|drain/drain/')
check_eq "bad entries each end with -EINVAL, in order, the good one runs" \
	"drain ok 1:0:2:10 2:-22:0:0 3:-22:0:0 4:-22:0:0 5:-22:0:0 6:-22:0:0 7:-22:0:0 8:-22:0:0" \
	"$out"
check_eq "... and counted as failed requests" 7 "$(llm_sys errors_total)"
check_eq "a prompt over max_prompt_bytes in a large prompt area is -E2BIG" \
	"drain ok 9:-7:0:0" \
	"$(p ring 0 0 20000 map full sqe 9 0 16385 0 - enter 0 drain 1 - |
	   sed 's/.*|drain/drain/')"

# Several requests queued at once: in order, with their user_data; the
# conversation carries over between them and LLM_SQE_RESET forgets it.
out=$(p $S sqe 11 0 4 0 Once sqe 12 0 0 0 - sqe 13 0 0 1 - \
	enter 0 drain 3 /tmp/rq | sed 's/.*|drain/drain/')
check_eq "three entries queued at once complete in order" \
	"drain ok 11:0:2:10 12:0:2:10 13:0:2:10" "$out"
p params 0 0 900 10 0 gen Once /tmp/ref.11 gen '' /tmp/ref.12 \
	genr '' /tmp/ref.13 > /dev/null
for i in 11 12 13; do
	if cmp -s /tmp/rq.$i /tmp/ref.$i; then
		pass "request $i's text is GENERATE's for the same conversation"
	else
		fail "request $i's text is GENERATE's for the same conversation" \
			"'$(cat /tmp/rq.$i)' vs '$(cat /tmp/ref.$i)'"
	fi
done

# --- misbehaving indices -------------------------------------------------------

out=$(p $S sqtail 1000 enter 1 sqe 21 0 4 0 Once enter 0 drain 1 - |
	sed 's/.*|drain/drain/')
check_eq "a garbage sq_tail is skipped; the next entry runs" \
	"drain ok 21:0:2:10" "$out"

# A cq_head far ahead of cq_tail: the kernel must see a full ring (and
# wait), not overwrite or run away; closing cancels it.
out=$(p params 3000 0 1000 1000 1 ring 4 8 64 map full sqe 1 0 4 0 Once \
	enter 0 cqhead 0x80000000 sleep 500 poll 0 enter 8 stats close)
check_eq "a garbage cq_head: the ring counts as full, enter and poll return" \
	"params ok|ring ok sq=4 cq=8 pb=64 size=8192|map ok|sqe ok|enter ok|cqhead ok|sleep ok|poll ok in|enter ok|stats ok req=1 used=2 size=1024 prompt=1 gen=1 stop=0|close ok" \
	"$(echo "$out" | sed 's/prompt=[0-9]* gen=[0-9]*/prompt=1 gen=1/; s/used=[0-9]*/used=2/')"
# (how soon a close stops it: stops.sh, against a measured token time)
check_eq "... nothing is left running" 0 "$(llm_sys requests_running)"

# The ring's worker runs on the context without the session lock: RESET
# on a ring session is EBUSY, running or not (LLM_SQE_RESET does it).
out=$(p params 3000 0 1000 1000 1 ring 0 16384 0 map full sqe 1 0 4 0 Once \
	enter 0 reset sigenter 300 16384 drain 1 - reset | cut -d'|' -f4-)
check_match "RESET while the ring runs is EBUSY" '^sqe ok\|enter ok\|reset EBUSY\|' \
	"$out"
check_match "a signal in RING_ENTER is EINTR; the request goes on to its end" \
	'\|sigenter EINTR late=[0-9]+\|drain ok 1:0:[12]:[0-9]+\|' "$out"
check_match "RESET on an idle ring session is EBUSY too" '\|reset EBUSY$' "$out"

# Closing the file while mapped keeps the session until the mapping goes.
check_eq "closing a ring's file while it is mapped: the slot goes at munmap" \
	"close ok" "$(p $R map full close | cut -d'|' -f3)"
check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"

# --- two threads on one ring (issue 8, point 5) ----------------------------

# RING_ENTER waits without the session lock: while one thread waits for
# the whole completion ring, another's GET_PARAMS and SET_PARAMS return.
check_match "ioctls of another thread return while RING_ENTER waits" \
	'\|enterwait ok 20 of 20 calls while it waited$' \
	"$(p params 3000 0 1000 300 1 ring 0 16384 0 map full \
	   sqe 1 0 4 0 Once enter 0 enterwait)"

# Parameters are copied whole when a request starts: a thread setting two
# sets in turn while 100 seeded entries run makes each output one of the
# two clean ones, never a mix.
A="800 0 950 24 11"
B="1300 40 900 16 22"
# shellcheck disable=SC2086
p params $A genr 'Once upon a time' /tmp/clean.a > /dev/null
# shellcheck disable=SC2086
p params $B genr 'Once upon a time' /tmp/clean.b > /dev/null
check_fails "the two sets give different texts" cmp -s /tmp/clean.a /tmp/clean.b
# shellcheck disable=SC2086
out=$(p ring 16 1024 64 map full flip $A $B \
	ringmany 100 'Once upon a time' /tmp/flip unflip)
check_match "100 entries run while another thread flips the parameters" \
	'\|ringmany ok ends=100 bad=0\|unflip ok flips=[1-9][0-9]*$' "$out"
na=0 nb=0 mixed=0
i=1
while [ $i -le 100 ]; do
	if cmp -s /tmp/flip.$i /tmp/clean.a; then
		na=$((na + 1))
	elif cmp -s /tmp/flip.$i /tmp/clean.b; then
		nb=$((nb + 1))
	else
		mixed=$((mixed + 1))
		echo "$LLM_TEST: entry $i: '$(cat /tmp/flip.$i)'"
		echo "$LLM_TEST: A: '$(cat /tmp/clean.a)' B: '$(cat /tmp/clean.b)'"
	fi
	i=$((i + 1))
done
check_eq "each output is one of the two clean ones" 0 $mixed
check_range "... both sets were used (set A)" 1 99 $na
check_range "... (set B)" 1 99 $nb

# --- afterwards --------------------------------------------------------------------

check_eq "nothing is running" 0 "$(llm_sys requests_running)"
check_eq "the arena is at its model-only level" "$A0" "$(llm_sys arena_used)"
check "rmmod llm" llm_unload
