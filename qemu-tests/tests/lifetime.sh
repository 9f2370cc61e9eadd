# SPDX-License-Identifier: GPL-2.0
# timeout: 240
# The model's lifetime by reference (issue 8, point 1): nothing an
# ordinary user does keeps root from unloading or replacing the model.
# As uid 1000: a prompt written and never read, a ring mapped with a
# request submitted and never consumed, a read() and a GENERATE in the
# middle of generating.  Root's unload succeeds while all four hold their
# sessions; each then sees ENODEV (the documented error), a new load
# works for new sessions, and the old sessions start afresh on it.
#
#   uid 1000: writer (w, never r)     ring (submit, never consume)
#             reader (r, generating)  GENERATE (generating)
#   root:     llmctl unload; llmctl load; new sessions

M=/models/stories260K.gguf

as() {
	llmtest runas 1000 "$@"
}

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)

# Temperature 3, top-p off, seed 1: goes on until the context is full.
L="params 3000 0 1000 2000 1"
rm -f /tmp/go
as llmprobe $L w 'Once upon a time' waitfor /tmp/go r - stats > /tmp/w.log &
as llmprobe $L ring 4 8 64 map full sqe 7 0 4 0 Once enter 0 \
	waitfor /tmp/go drain 1 - > /tmp/ring.log &
as llmprobe $L w '\n' r /tmp/reader.txt > /tmp/reader.log &
as llmprobe $L gen '' /tmp/gen.txt > /tmp/gen.log &
wait_until 300 eval '[ "$(llm_sys sessions_active)" -ge 4 ] &&
	[ "$(llm_sys requests_running)" -ge 3 ]'
check_eq "uid 1000 holds 4 sessions; 3 requests run (the write waits)" "4 3" \
	"$(llm_sys sessions_active) $(llm_sys requests_running)"
sleep 0.5
check "root's llmctl unload succeeds while they do" llmctl unload
check_eq "... no model, the arena empty, nothing running" "0 0 0" \
	"$(llm_sys model_loaded) $(llm_sys arena_used) $(llm_sys requests_running)"
check "a new load works" llmctl load -q $M
check_eq "... back to the same arena level" "$A0" "$(llm_sys arena_used)"
check_match "... and a new session generates on it" \
	'^params ok\|gen ok len=[0-9]+ n=20 np=5 stop=2$' \
	"$(p params 0 0 900 20 0 gen 'Once upon a time' -)"
touch /tmp/go
wait
check_eq "the prompt written before the unload: its read is ENODEV" \
	"params ok|w ok 16|waitfor ok|r ENODEV 0|stats ok req=0 used=0 size=1024 prompt=0 gen=0 stop=0" \
	"$(tr '\n' '|' < /tmp/w.log | sed 's/|$//')"
check_match "the ring's request: its END entry says -ENODEV" \
	'\|drain ok 7:-19:5:[0-9]+$' "$(tr '\n' '|' < /tmp/ring.log | sed 's/|$//')"
check_match "the reader: its text so far, then ENODEV" \
	'^params ok\|w ok 1\|r ENODEV [1-9][0-9]*$' \
	"$(tr '\n' '|' < /tmp/reader.log | sed 's/|$//')"
check_eq "GENERATE: ENODEV" "params ok|gen ENODEV" \
	"$(tr '\n' '|' < /tmp/gen.log | sed 's/|$//')"

# A session from before a swap goes on, on the new model, afresh: its
# second prompt gets a BOS again (5 tokens, not 4).
rm -f /tmp/swap
as llmprobe params 0 0 900 20 0 gen 'Once upon a time' - waitfor /tmp/swap \
	gen 'Once upon a time' - > /tmp/old.log &
wait_until 100 grep -q 'gen ok' /tmp/old.log
check "root loads the model again" llmctl load -q $M
touch /tmp/swap
wait
check_match "a session from before the swap starts afresh on the new model" \
	'gen ok len=[0-9]+ n=20 np=5 stop=2\|waitfor ok\|gen ok len=[0-9]+ n=20 np=5 stop=2$' \
	"$(tr '\n' '|' < /tmp/old.log | sed 's/|$//')"
check_match "... where without the swap it goes on (np=4)" \
	'gen ok len=[0-9]+ n=20 np=5 stop=2\|gen ok len=[0-9]+ n=20 np=4 stop=2$' \
	"$(p params 0 0 900 20 0 gen 'Once upon a time' - gen 'Once upon a time' -)"

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "nothing runs" 0 "$(llm_sys requests_running)"
check "rmmod llm" llm_unload
