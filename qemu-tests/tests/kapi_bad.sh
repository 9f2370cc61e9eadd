# SPDX-License-Identifier: GPL-2.0
# timeout: 240
# The in-kernel API given bad input (issue 4, point 6): qemu-tests/kmod's
# llm_apitest calls llm.ko's exported functions at load with no model, bad
# parameters, bad prompts, a zero-sized and an 8-byte buffer, a callback
# that stops, a full context and one session too many, and logs one
# PASS/FAIL line per check, which become this test's results.

M=/models/stories260K.gguf
T=/extra/llm_apitest.ko
need $M "the project's models/ directory"
need $T "make test-kmods"

# run_apitest PARAM...: load it, report its lines, unload it.
run_apitest() {
	local n

	dmesg_mark
	check "insmod llm_apitest.ko $*" insmod $T "$@" || return
	dmesg_since_mark | sed -nE 's/.*llm_apitest: (PASS|FAIL) //p' > /tmp/api
	n=$(wc -l < /tmp/api)
	check_range "llm_apitest $* ran its checks" 5 1000 "$n"
	while IFS= read -r line; do
		case $line in
		*": got "*) fail "api: ${line%%: got *}" "${line#*: }" ;;
		*) pass "api: $line" ;;
		esac
	done < /tmp/api
	check_dmesg "... to the end" 'llm_apitest: done, 0 failed'
	check "rmmod llm_apitest" rmmod llm_apitest
}

check "insmod llm.ko sessions=3 max_prompt_bytes=256 max_context=64" \
	llm_load sessions=3 max_prompt_bytes=256 max_context=64 || return
A0=$(llm_sys arena_used)
run_apitest model=0
check "llmctl load $M" llmctl load -q $M || return
A1=$(llm_sys arena_used)
run_apitest model=1 slots=3 prompt_bytes=256
check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "nothing is running" 0 "$(llm_sys requests_running)"
check_eq "the arena is at its model-only level" "$A1" "$(llm_sys arena_used)"
check "llmctl unload" llmctl unload
check_eq "the arena is back where it was before the model" "$A0" \
	"$(llm_sys arena_used)"
check "rmmod llm" llm_unload
