# SPDX-License-Identifier: GPL-2.0
# Session slots: each open of /dev/llm takes one; when all are taken an
# open fails with EBUSY, and closing gives the slot back.  Fair shares
# (issue 8, point 2): slots kept for the in-kernel API, and a per-user
# limit (EDQUOT) so that one user cannot take every slot.

active() {
	llm_sys sessions_active
}

# try_open: open /dev/llm in a subshell; prints the shell's error.
try_open() {
	(exec 9< "$LLM_DEV") 2>&1
}

check "insmod sessions=2 sessions_kernel=0" llm_load sessions=2 sessions_kernel=0 ||
	return
exec 3< "$LLM_DEV"
check_eq "one open takes one slot" 1 "$(active)"
exec 4<> "$LLM_DEV"
check_eq "a second open (read-write) takes the second" 2 "$(active)"

dmesg_mark
check_fails "a third open fails" try_open
check_match "... with EBUSY" 'Device or resource busy' "$(try_open)"
check_eq "the refused open took no slot" 2 "$(active)"
check_dmesg "the refusal is logged" 'open refused: all 2 session slots are in use'
check_status "llmctl info with no free slot exits 1" 1 llmctl info
check_output "... and says the slots are in use" 'all session slots of /dev/llm are in use' \
	sh -c 'llmctl info; true'
check_fails "rmmod is refused while sessions are open" llm_unload
check "the module is still loaded" llm_loaded

exec 3<&-
check_eq "closing gives a slot back" 1 "$(active)"
check "an open succeeds again" try_open
exec 4<&-
check_eq "all slots free after closing" 0 "$(active)"

i=0
while [ $i -lt 200 ]; do
	exec 3< "$LLM_DEV"
	exec 3<&-
	i=$((i + 1))
done
check_eq "200 open/close pairs leave no slot taken" 0 "$(active)"
check "rmmod llm" llm_unload || return

# Many processes racing for 4 slots, one kept for the in-kernel API (the
# default sessions_kernel=1): exactly 3 win, all slots come back.
check "insmod sessions=4" llm_load sessions=4 || return
rm -f /tmp/opens /tmp/release
dmesg_mark
i=0
while [ $i -lt 16 ]; do
	(
		command exec 9< "$LLM_DEV" || { echo lost >> /tmp/opens; exit 1; }
		echo won >> /tmp/opens
		while [ ! -e /tmp/release ]; do sleep 0.1; done
	) 2>/dev/null &
	i=$((i + 1))
done
# Wait (up to 20 s) until every racer has either won or lost.
wait_until 200 eval '[ "$(cat /tmp/opens 2>/dev/null | wc -l)" -ge 16 ]'
check_eq "all 16 racers tried" 16 "$(wc -l < /tmp/opens)"
check_eq "exactly 3 of 16 racing opens win" 3 "$(grep -c won /tmp/opens)"
check_eq "sessions_active is 3" 3 "$(active)"
check_fails "another open fails" try_open
check_dmesg "... and the log says one slot is kept for the in-kernel API" \
	'open refused: the 3 session slots open to userspace are in use \(1 kept for the in-kernel API: sessions_kernel\)'
dmesg_mark
check "... which can still open one (llm_apitest, with no model)" \
	insmod /extra/llm_apitest.ko
check_dmesg "... and it did" 'llm_apitest: PASS open works with no model loaded'
check "rmmod llm_apitest" rmmod llm_apitest
touch /tmp/release
wait
check_eq "all slots free after the winners close" 0 "$(active)"
check "rmmod llm" llm_unload || return

# --- one user cannot take every slot ------------------------------------

check "insmod sessions=8 sessions_per_user=2" \
	llm_load sessions=8 sessions_per_user=2 || return
check_eq "the limit is visible" 2 "$(llm_param sessions_per_user)"
rm -f /tmp/go
llmtest runas 1000 llmprobe waitfor /tmp/go > /tmp/u1.a &
llmtest runas 1000 llmprobe waitfor /tmp/go > /tmp/u1.b &
wait_until 100 eval '[ "$(active)" -ge 2 ]'
dmesg_mark
check_eq "uid 1000's third session is EDQUOT" "open EDQUOT" \
	"$(llmtest runas 1000 llmprobe info)"
check_dmesg "... and the log says why" \
	'open refused: uid 1000 has 2 sessions open \(module parameter sessions_per_user\)'
check_status "llmctl says so and exits 1" 1 llmtest runas 1000 llmctl info
check_output "... in a sentence" 'sessions_per_user' \
	sh -c 'llmtest runas 1000 llmctl info 2>&1; true'
check_match "another user still gets a session" '^info ok ' \
	"$(llmtest runas 1001 llmprobe info)"
check_match "... and root too" '^info ok ' "$(llmprobe info)"
check "root may raise the limit at run time" \
	sh -c "echo 3 > $LLM_PARAMS/sessions_per_user"
check_match "... and uid 1000 gets its third" '^info ok ' \
	"$(llmtest runas 1000 llmprobe info)"
check_fails "sessions_per_user=0 is refused" \
	sh -c "echo 0 > $LLM_PARAMS/sessions_per_user"
touch /tmp/go
wait
check_eq "all slots free" 0 "$(active)"
check "rmmod llm" llm_unload
