# SPDX-License-Identifier: GPL-2.0
# timeout: 300
# Concurrency (issue 4, point 9; issue 8, points 1 and 9): 8 processes
# generating 200 sampled tokens each at once (fixed, distinct seeds;
# read(), GENERATE and the mmap ring mixed) each get byte for byte what
# they get alone, and really run at once (requests_computing_peak, a count
# taken inside the steps), their tokens sharing forward steps (issue 9:
# model_steps_batched); while they hold every slot, more opens are
# EBUSY.  A model load or unload while requests run goes ahead at once:
# those requests end with ENODEV, and requests after it work.
#
# The processes open their sessions and wait for a go-file, so they all
# start together whatever the speed of the machine; requests that must be
# running while something is tried stop on a full completion ring.

M=/models/stories260K.gguf
need $M "the project's models/ directory"

P="Once upon a time"

# req I OUT [STEPS...]: request I into OUT (ring: OUT.I), after STEPS.
req() {
	local i=$1 out=$2

	shift 2
	set -- params 800 0 950 200 $((1000 + 77 * i)) "$@"
	case $((i % 3)) in
	0) llmprobe "$@" w "$P" r "$out" ;;
	1) llmprobe "$@" gen "$P" "$out" ;;
	2) llmprobe "$@" ring 0 0 0 map full sqe "$i" 0 16 0 "$P" enter 0 \
		drain 1 "$out" ;;
	esac
}

check "insmod llm.ko sessions_per_user=8 sessions_kernel=0" \
	llm_load sessions_per_user=8 sessions_kernel=0 || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)

i=1
while [ $i -le 8 ]; do
	req $i /tmp/alone.$i > /dev/null
	i=$((i + 1))
done
[ -f /tmp/alone.2.2 ] && mv /tmp/alone.2.2 /tmp/alone.2
[ -f /tmp/alone.5.5 ] && mv /tmp/alone.5.5 /tmp/alone.5
[ -f /tmp/alone.8.8 ] && mv /tmp/alone.8.8 /tmp/alone.8
d=$(for i in 1 2 3 4 5 6 7 8; do md5sum < /tmp/alone.$i; done | sort -u | wc -l)
check_eq "the 8 seeds give 8 different texts" 8 "$d"
check_eq "the 8 requests alone left no session" 0 "$(llm_sys sessions_active)"

rm -f /tmp/go
r0=$(llm_sys requests_total)
t0=$(llm_sys tokens_generated_total)
i=1
while [ $i -le 8 ]; do
	req $i /tmp/together.$i waitfor /tmp/go > /tmp/log.$i &
	i=$((i + 1))
done
wait_until 300 eval '[ "$(llm_sys sessions_active)" -ge 8 ]'
check_eq "8 sessions are open, waiting" 8 "$(llm_sys sessions_active)"

# Every slot is taken: more opens fail, and the kernel log says why.
dmesg_mark
storm=$(i=0; while [ $i -lt 16 ]; do llmprobe info; i=$((i + 1)); done |
	sort | uniq -c | sed 's/^ *//')
check_eq "16 more opens all fail with EBUSY" "16 open EBUSY" "$storm"
check_dmesg "... and the kernel log says why" \
	'open refused: all 8 session slots are in use'
check_status "llmctl says so too (exit 1)" 1 llmctl info

check_eq "the 8 alone ran one at a time" 1 "$(llm_sys requests_computing_peak)"
check_eq "... so no step carried two sessions" 0 "$(llm_sys model_steps_batched)"
touch /tmp/go
wait
check_range "the requests ran at the same time (most computing at once)" 2 8 \
	"$(llm_sys requests_computing_peak)"
check_range "steps carried several sessions' tokens (continuous batching)" \
	1 1000000 "$(llm_sys model_steps_batched)"
[ -f /tmp/together.2.2 ] && mv /tmp/together.2.2 /tmp/together.2
[ -f /tmp/together.5.5 ] && mv /tmp/together.5.5 /tmp/together.5
[ -f /tmp/together.8.8 ] && mv /tmp/together.8.8 /tmp/together.8
ok=1
i=1
while [ $i -le 8 ]; do
	if ! cmp -s /tmp/alone.$i /tmp/together.$i; then
		fail "request $i run with 7 others gives what it gives alone" \
			"'$(head -c 100 /tmp/together.$i)' vs '$(head -c 100 /tmp/alone.$i)'"
		ok=0
	fi
	i=$((i + 1))
done
[ $ok = 1 ] && pass "each of the 8 concurrent requests gives byte for byte what it gives alone"
check_eq "... 8 more requests were served, 200 tokens each" \
	"$((r0 + 8)) $((t0 + 1600))" \
	"$(llm_sys requests_total) $(llm_sys tokens_generated_total)"
check_eq "all slots are free again" 0 "$(llm_sys sessions_active)"

# --- a load or unload while requests run ------------------------------------

# running3 OUT: three ring requests with 8-entry completion rings stop
# after a few tokens until their callers consume: running, for as long
# as we like.  Their callers wait for /tmp/go, then drain to OUT.I.
running3() {
	rm -f /tmp/go
	for i in 2 5 8; do
		llmprobe params 800 0 950 200 $((1000 + 77 * i)) ring 4 8 64 \
			map full sqe $i 0 16 0 "$P" enter 0 waitfor /tmp/go \
			drain 1 "$1" > /tmp/log.$i &
	done
	wait_until 300 eval '[ "$(llm_sys requests_running)" -ge 3 ]'
}

# ended_enodev: each of the three saw its request end with -ENODEV.
ended_enodev() {
	local i

	for i in 2 5 8; do
		grep -Eq "^drain ok $i:-19:5:[0-9]+\$" /tmp/log.$i || return 1
	done
}

running3 /tmp/busy
check_eq "3 requests run" 3 "$(llm_sys requests_running)"
check_eq "LOAD_FD while they run replaces the model at once" \
	"loadfd ok 1185376" "$(llmprobe loadfd $M)"
check_eq "the new model holds the arena as the old one did" "1 $A0" \
	"$(llm_sys model_loaded) $(llm_sys arena_used)"
touch /tmp/go
wait
check "... the old model's requests ended with ENODEV" ended_enodev
check_eq "... and nothing runs" 0 "$(llm_sys requests_running)"
req 1 /tmp/after.1 > /dev/null
check "a request on the new model gives what it gave alone" \
	cmp /tmp/alone.1 /tmp/after.1

running3 /tmp/busy
check_eq "UNLOAD while 3 requests run works" "unload ok" "$(llmprobe unload)"
check_eq "... the arena is empty" "0 0" \
	"$(llm_sys model_loaded) $(llm_sys arena_used)"
check_fails "rmmod is refused while their files are open" rmmod llm
touch /tmp/go
wait
check "... their requests ended with ENODEV" ended_enodev
check "llmctl load $M" llmctl load -q $M
req 4 /tmp/after.4 > /dev/null
check "... and requests work again, with the same text" \
	cmp /tmp/alone.4 /tmp/after.4

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check "rmmod llm" llm_unload
