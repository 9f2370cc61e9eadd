# SPDX-License-Identifier: GPL-2.0
# timeout: 300
# Concurrency (issue 4, point 9): 8 processes generating 200 sampled
# tokens each at once (fixed, distinct seeds; read(), GENERATE and the
# mmap ring mixed) each get byte for byte what they get alone; while they
# hold every slot, more opens are EBUSY.  A model load or unload while
# requests run is refused with EBUSY and frees nothing, the requests then
# finish with their right output, and rmmod is refused.
#
# The processes open their sessions and wait for a go-file, so they all
# start together whatever the speed of the machine; requests that must be
# running while something is tried wait on a full completion ring.

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

check "insmod llm.ko" llm_load || return
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

touch /tmp/go
most=0
n=0
while [ $n -lt 600 ] && [ "$(llm_sys sessions_active)" -gt 0 ]; do
	r=$(llm_sys requests_running)
	[ "$r" -gt $most ] && most=$r
	n=$((n + 1))
	sleep 0.05
done
wait
check_range "the requests ran at the same time (most at once)" 4 8 $most
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

# Three ring requests with 8-entry completion rings stop after 4 tokens
# until their callers consume: running, for as long as we like.
rm -f /tmp/go
for i in 2 5 8; do
	llmprobe params 800 0 950 200 $((1000 + 77 * i)) ring 4 8 64 map full \
		sqe $i 0 16 0 "$P" enter 0 waitfor /tmp/go drain 1 /tmp/busy \
		> /tmp/log.$i &
done
wait_until 300 eval '[ "$(llm_sys requests_running)" -ge 3 ]'
check_eq "3 requests run" 3 "$(llm_sys requests_running)"
check_eq "LOAD_FD while they run is EBUSY, and says why" \
	"loadfd EBUSY the device is busy (requests are running)" \
	"$(llmprobe loadfd $M)"
check_eq "an upload (BEGIN) is EBUSY too" \
	"upload EBUSY begin: the device is busy (requests are running)" \
	"$(llmprobe upload $M)"
check_eq "UNLOAD is EBUSY" "unload EBUSY" "$(llmprobe unload)"
check_eq "llmctl load says so in a sentence, exit status 1" \
	"llmctl load: starting the upload: the device is busy (requests are running)|status 1" \
	"$( (llmctl load -q $M; echo "status $?") 2>&1 | tr '\n' '|' | sed 's/|$//')"
check_eq "llmctl unload too" \
	"llmctl: unload: the device is busy: requests are running|status 1" \
	"$( (llmctl unload; echo "status $?") 2>&1 | tr '\n' '|' | sed 's/|$//')"
check_fails "rmmod is refused while they run" rmmod llm
check_eq "the model is still loaded, the arena untouched" "1 $A0" \
	"$(llm_sys model_loaded) $(llm_sys arena_used)"
check_eq "no request was disturbed" 3 "$(llm_sys requests_running)"
touch /tmp/go
wait
ok=1
for i in 2 5 8; do
	cmp -s /tmp/alone.$i /tmp/busy.$i || ok=0
done
check_eq "the running requests finished with their right output" 1 $ok
check_eq "afterwards UNLOAD works" "unload ok" "$(llmprobe unload)"
check_eq "... and the arena is empty" 0 "$(llm_sys arena_used)"

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check "rmmod llm" llm_unload
