# SPDX-License-Identifier: GPL-2.0
# timeout: 180
# The limits (issue 4, point 8): max_prompt_bytes, max_prompt_tokens,
# max_new_tokens, max_context and max_wall_ms are module parameters,
# visible in /sys/kernel/llm and /sys/module/llm/parameters, enforced on
# every path (write/read, GENERATE, the ring), each with its documented
# error or stop reason.  (Who may change them: permissions.sh.)

M=/models/stories260K.gguf
need $M "the project's models/ directory"

# shown NAME VALUE: both places say VALUE.
shown() {
	check_eq "$1 is $2 in /sys/kernel/llm and the parameters" "$2 $2" \
		"$(llm_sys "$1") $(llm_param "$1")"
}

check "insmod llm.ko" llm_load || return
shown max_prompt_bytes 16384
shown max_prompt_tokens 4096
shown max_new_tokens 2048
shown max_context 1024
shown max_wall_ms 600000
check "rmmod llm" llm_unload || return

# --- set at insmod: max_new_tokens, max_prompt_bytes ---------------------

check "insmod max_new_tokens=50 max_prompt_bytes=100" \
	llm_load max_new_tokens=50 max_prompt_bytes=100 || return
check "llmctl load $M" llmctl load -q $M || return
shown max_new_tokens 50
shown max_prompt_bytes 100
check_fails "max_new_tokens cannot change after insmod" \
	sh -c "echo 10 > $LLM_PARAMS/max_new_tokens"
check_fails "/sys/kernel/llm/max_wall_ms is read-only (the parameter is the knob)" \
	sh -c "echo 10 > $LLM_SYS/max_wall_ms"
check_eq "SET_PARAMS max_tokens = max_new_tokens is fine; one more is EINVAL" \
	"params ok|params EINVAL" \
	"$(p params 0 0 900 50 0 params 0 0 900 51 0)"
check_eq "the default max_tokens is capped by it: generation stops at 50" \
	"w ok 1|r ok [0-9]*|stats ok gen=50 stop=2" \
	"$(p w '\n' r - stats | sed 's/req=.* gen=/gen=/; s/r ok [0-9]*/r ok [0-9]*/')"
check_eq "write of max_prompt_bytes works, one more is E2BIG" \
	"params ok|wlong ok 100|r ok [0-9]*|wlong E2BIG" \
	"$(p params 0 0 900 2 0 wlong 100 r - wlong 101 | sed 's/r ok [0-9]*/r ok [0-9]*/')"
check_eq "GENERATE over max_prompt_bytes is E2BIG" "ioc E2BIG" \
	"$(p ioc generate prompt_len=101)"
check_eq "a ring prompt over max_prompt_bytes ends with -E2BIG" \
	"drain ok 1:-7:0:0" \
	"$(p ring 0 0 400 map full sqe 1 0 101 0 - enter 0 drain 1 - |
	   sed 's/.*|drain/drain/')"
check_eq "RING_SETUP's prompt area is at most 4 x max_prompt_bytes" \
	"ioc ok size=96|ioc EINVAL" \
	"$(p ioc ringsetup pb=400 close open ioc ringsetup pb=401 |
	   sed 's/|close ok|open ok//')"
check "rmmod llm" llm_unload || return

# --- max_prompt_tokens: root changes it at run time ------------------------

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)
check "root sets max_prompt_tokens=3" sh -c "echo 3 > $LLM_PARAMS/max_prompt_tokens"
shown max_prompt_tokens 3
e0=$(llm_sys errors_total)
# "Once upon a time" is 4 tokens after BOS, "Once upon a" 3.
check_eq "a prompt of 3 tokens is fine, 4 is E2BIG (from read(), once)" \
	"params ok|w ok 11|r ok [0-9]*|w ok 16|r E2BIG 0|r1 ok 0" \
	"$(p params 0 0 900 2 0 w 'Once upon a' r - w 'Once upon a time' r - r1 |
	   sed 's/r ok [0-9][0-9]*/r ok [0-9]*/')"
check_eq "GENERATE: E2BIG" "ioc E2BIG" "$(p ioc generate | sed 's/.*|//')"
check_eq "the ring: -E2BIG" "drain ok 1:-7:0:0" \
	"$(p ring 0 0 0 map full sqe 1 0 16 0 'Once upon a time' enter 0 drain 1 - |
	   sed 's/.*|drain/drain/')"
check_eq "each counted as a failed request" "$((e0 + 3))" "$(llm_sys errors_total)"
check_fails "max_prompt_tokens=0 is refused" \
	sh -c "echo 0 > $LLM_PARAMS/max_prompt_tokens"
check_fails "max_prompt_tokens=lots is refused" \
	sh -c "echo lots > $LLM_PARAMS/max_prompt_tokens"
check_fails "max_context=-1 is refused" \
	sh -c "echo -1 > $LLM_PARAMS/max_context"
shown max_prompt_tokens 3
echo 4096 > $LLM_PARAMS/max_prompt_tokens

# --- max_wall_ms ------------------------------------------------------------

check "root sets max_wall_ms=200" sh -c "echo 200 > $LLM_PARAMS/max_wall_ms"
shown max_wall_ms 200
L="params 3000 0 1000 1000 1"	# runs to 1000 tokens unless stopped
t0=$(now_ms)
out=$(p $L gen '' -)
t1=$(now_ms)
check_match "GENERATE over max_wall_ms ends with LLM_STOP_TIMEOUT, output kept" \
	'^params ok\|gen ok len=[1-9][0-9]* n=[0-9]+ np=1 stop=6$' "$out"
# Not a wall-clock window (a debug kernel is ten times slower): it took
# at least the limit, and ended before the 1000 tokens it would have.
check_range "... no sooner than 200 ms (ms)" 200 1000000 $((t1 - t0))
n=$(echo "$out" | sed -n 's/.* n=\([0-9]*\) .*/\1/p')
check_range "... and short of the 1000 tokens asked" 1 999 "$n"
check_match "write/read: the same (GET_STATS)" \
	'^params ok\|w ok 1\|r ok [1-9][0-9]*\|stats ok .* stop=6$' \
	"$(p $L w '\n' r - stats)"
check_match "the ring: the same" '\|drain ok 1:0:6:[0-9]+$' \
	"$(p $L ring 0 0 0 map full sqe 1 0 0 0 - enter 0 drain 1 -)"
check "max_wall_ms=0 is no limit again" sh -c "echo 0 > $LLM_PARAMS/max_wall_ms"
check_eq "... a short request is not cut" "params ok|gen ok len=71 n=20 np=1 stop=2" \
	"$(p params 0 0 900 20 0 gen '' -)"

# --- max_context ----------------------------------------------------------------

check "root sets max_context=64" sh -c "echo 64 > $LLM_PARAMS/max_context"
shown max_context 64
check_eq "it applies at the next load" 1024 "$(llm_sys model_context)"
check "llmctl load $M" llmctl load -q $M || return
check_eq "sessions now get 64 positions" 64 "$(llm_sys model_context)"
check_eq "... (GET_INFO too)" "info ok loaded=1 sessions=1/8 ctx=64" \
	"$(p info | sed 's/ used=[0-9]*//')"
check_range "a smaller context takes less of the arena" 1 $((A0 - 1)) \
	"$(llm_sys arena_used)"
G="params 0 0 900 100 0"
check_eq "generation that fills the context stops with LLM_STOP_CONTEXT" \
	"params ok|gen ok np=5 stop=4|stats ok used=64 size=64" \
	"$(p $G gen 'Once upon a time' - stats |
	   sed 's/len=[0-9]* n=[0-9]* //; s/req=1 //; s/ prompt=.*//')"
check_eq "then a prompt is ENOSPC, on every path, until RESET" \
	"gen ENOSPC|w ok 3|r ENOSPC 0|gen ENOSPC|reset ok|gen ok np=5 stop=2" \
	"$(p $G gen 'Once upon a time' - gen ' and' - w ' so' r - gen '' - reset \
	   params 0 0 900 5 0 gen 'Once upon a time' - |
	   sed 's/^params ok|gen ok[^|]*|//; s/|params ok//; s/len=[0-9]* n=[0-9]* //')"
check_eq "the ring: the END entry says -ENOSPC" "drain ok 1:0:4:60 2:-28:0:0" \
	"$(p $G ring 0 0 0 map full sqe 1 0 16 0 'Once upon a time' sqe 2 0 0 0 - \
	   enter 0 drain 2 - | sed 's/.*|drain/drain/')"
check_eq "a prompt longer than the whole context is ENOSPC" \
	"params ok|wlong ok 1000|r ENOSPC 0" "$(p $G wlong 1000 r -)"
echo 1024 > $LLM_PARAMS/max_context
check "llmctl load $M (back to 1024 positions)" llmctl load -q $M
check_eq "the arena is back at its full-context level" "$A0" "$(llm_sys arena_used)"

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "nothing is running" 0 "$(llm_sys requests_running)"
check "rmmod llm" llm_unload
