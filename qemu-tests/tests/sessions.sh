# SPDX-License-Identifier: GPL-2.0
# Session slots: each open of /dev/llm takes one; when all are taken an
# open fails with EBUSY, and closing gives the slot back.

active() {
	llm_sys sessions_active
}

# try_open: open /dev/llm in a subshell; prints the shell's error.
try_open() {
	(exec 9< "$LLM_DEV") 2>&1
}

check "insmod sessions=2" llm_load sessions=2 || return
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

# Many processes racing for 4 slots: exactly 4 win, all slots come back.
check "insmod sessions=4" llm_load sessions=4 || return
rm -f /tmp/opens /tmp/release
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
check_eq "exactly 4 of 16 racing opens win" 4 "$(grep -c won /tmp/opens)"
check_eq "sessions_active is 4" 4 "$(active)"
touch /tmp/release
wait
check_eq "all slots free after the winners close" 0 "$(active)"
check "rmmod llm" llm_unload
