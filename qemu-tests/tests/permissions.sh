# SPDX-License-Identifier: GPL-2.0
# timeout: 150
# Permissions (issue 4, point 10): an unprivileged user generates through
# every interface (the node is 0666 by default) but cannot load or unload
# a model or change a limit; dev_mode sets the node's mode; a file open
# read-only may look but not generate.

M=/models/stories260K.gguf
need $M "the project's models/ directory"

# as CMD...: run CMD as uid/gid 1000 with no groups and no capabilities.
as() {
	llmtest runas 1000 "$@"
}

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)
check_eq "/dev/llm is 0666" 666 "$(stat -c %a $LLM_DEV)"

llmctl generate -q -n 20 -t 0 "Once upon a time" > /tmp/root.out
check "a user generates (write/read)" sh -c \
	"llmtest runas 1000 llmctl generate -q -n 20 -t 0 'Once upon a time' > /tmp/user.out"
check "... the same text as root" cmp /tmp/root.out /tmp/user.out
check "a user generates through the mmap ring" sh -c \
	"llmtest runas 1000 llmctl generate -q --mmap -n 20 -t 0 'Once upon a time' > /tmp/user.ring"
check "... the same text" cmp /tmp/root.out /tmp/user.ring
check_match "a user generates with GENERATE, sets parameters, resets" \
	'^params ok\|gen ok len=62 n=20 np=5 stop=2\|reset ok\|stats ok ' \
	"$(as llmprobe params 0 0 900 20 0 gen 'Once upon a time' - reset stats |
	   tr '\n' '|')"

check_status "a user's llmctl load exits 5" 5 as llmctl load -q $M
check_output "... saying root is needed" 'needs CAP_SYS_ADMIN' \
	sh -c "llmtest runas 1000 llmctl load -q $M; true"
check_status "a user's llmctl unload exits 5" 5 as llmctl unload
check_eq "LOAD (fd, upload, abort) and UNLOAD are EPERM for a user" \
	"loadfd EPERM|upload EPERM begin:|ioc EPERM|unload EPERM" \
	"$(as llmprobe loadfd $M upload $M ioc load op=5 unload | tr '\n' '|' |
	   sed 's/|$//; s/ *|/|/g')"
check_eq "the model is still loaded, the arena untouched" "1 $A0" \
	"$(llm_sys model_loaded) $(llm_sys arena_used)"

for f in max_prompt_tokens max_context max_wall_ms force_scalar; do
	v=$(llm_param $f)
	check_fails "a user cannot change $f" \
		as sh -c "echo 1 > $LLM_PARAMS/$f"
	check_eq "... it is still $v" "$v" "$(llm_param $f)"
done
for f in arena_mb sessions dev_mode max_new_tokens max_prompt_bytes; do
	check_fails "nobody changes $f after insmod" \
		sh -c "echo 1 > $LLM_PARAMS/$f"
done
ok=1
for f in "$LLM_SYS"/*; do
	[ "$(stat -c %a "$f")" = 444 ] || { ok=0; echo "$f: $(stat -c %a "$f")"; }
done
check_eq "every /sys/kernel/llm file is read-only (0444)" 1 $ok

# A file open read-only looks but does not submit: like write(), EBADF.
check_eq "read-only file: GET_INFO, GET_PARAMS, GET_STATS work" \
	"info ok|ioc ok|ioc ok" \
	"$(p -r info ioc getparams ioc stats | sed 's/ok [^|]*/ok/g')"
check_eq "read-only file: write, SET_PARAMS, GENERATE, RESET, RING_SETUP are EBADF" \
	"w EBADF|ioc EBADF|ioc EBADF|reset EBADF|ring EBADF|ioc EBADF" \
	"$(p -r w Once ioc params ioc generate reset ring 0 0 0 ioc ringenter)"
check_eq "... for root too" "gen EBADF" "$(p -r gen Once -)"
check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "the arena is at its model-only level" "$A0" "$(llm_sys arena_used)"
check "rmmod llm" llm_unload || return

# --- dev_mode ------------------------------------------------------------

check "insmod dev_mode=0604" llm_load dev_mode=0604 || return
check_eq "/dev/llm has mode 0604" 604 "$(stat -c %a $LLM_DEV)"
check "llmctl load $M" llmctl load -q $M || return
check "a user may look (llmctl info opens read-only)" as llmctl info
check_status "... not generate: llmctl generate exits 5" 5 \
	as llmctl generate -n 5 Once
check_output "... saying why" 'permission denied opening /dev/llm' \
	sh -c 'llmtest runas 1000 llmctl generate -n 5 Once; true'
check_eq "... and echo > /dev/llm is refused" 1 \
	"$(as sh -c 'echo Once > /dev/llm' 2>/dev/null; echo $?)"
check "root still generates" llmctl generate -q -n 5 Once
check "rmmod llm" llm_unload || return

check "insmod dev_mode=0600" llm_load dev_mode=0600 || return
check_eq "/dev/llm has mode 0600" 600 "$(stat -c %a $LLM_DEV)"
check_status "a user cannot even look: llmctl info exits 5" 5 as llmctl info
check_eq "... nor open it at all" "open EACCES" "$(as llmprobe info)"
check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check "rmmod llm" llm_unload
