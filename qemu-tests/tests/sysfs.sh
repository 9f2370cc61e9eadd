# SPDX-License-Identifier: GPL-2.0
# timeout: 150
# /sys/kernel/llm (issue 4, point 5): every file is there and holds one
# value; the model's description agrees with LLM_IOC_GET_INFO; the
# counters and gauges move as requests run, succeed and fail.  (The
# limits' files: limits.sh; their modes: permissions.sh.)

M=/models/stories260K.gguf
need $M "the project's models/ directory"

FILES="abi_version arena_size arena_used arena_peak sessions_max
sessions_active requests_running requests_computing_peak model_loaded model_name model_arch
model_params model_bytes model_layers model_layers_held model_vocab
model_context_train model_context model_types model_kernels load_bytes_done load_bytes_total
requests_total errors_total tokens_prompt_total tokens_generated_total
prefill_tok_per_s decode_tok_per_s max_prompt_bytes max_prompt_tokens
max_new_tokens max_context max_wall_ms"

# one_value: every file exists and is exactly one line (no embedded ones).
one_value() {
	local f bad=

	for f in $FILES; do
		[ -r "$LLM_SYS/$f" ] || { bad="$bad $f(missing)"; continue; }
		[ "$(wc -l < "$LLM_SYS/$f")" = 1 ] || bad="$bad $f($(wc -l < "$LLM_SYS/$f") lines)"
	done
	for f in "$LLM_SYS"/*; do
		[ "$(wc -l < "$f")" = 1 ] || bad="$bad ${f##*/}"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

check "insmod llm.ko" llm_load || return
check "every file is there and holds one line (no model)" one_value
check_eq "with no model the model files are empty or 0" \
	"0 0 0 0 0 0 0 0" \
	"$(vals model_loaded model_params model_bytes model_layers model_vocab \
	   model_context_train model_context arena_used)"
check_eq "... and the names empty" "||||" \
	"$(llm_sys model_name)|$(llm_sys model_arch)|$(llm_sys model_types)|$(llm_sys model_kernels)|$(llm_sys model_layers_held)"
check_eq "fresh counters" "0 0 0 0 0.000 0.000 0 0" \
	"$(vals requests_total errors_total tokens_prompt_total \
	   tokens_generated_total prefill_tok_per_s decode_tok_per_s \
	   requests_running sessions_active)"

check "llmctl load $M" llmctl load -q $M || return
check "every file holds one line (a model loaded)" one_value
size=$(wc -c < $M)
check_eq "model_loaded, model_bytes and the load progress" \
	"1 $size $size $size" \
	"$(vals model_loaded model_bytes load_bytes_done load_bytes_total)"
llmctl info > /tmp/info
check_eq "model_name and model_arch are what GET_INFO says" \
	"$(sed -n 's/^model  *//p' /tmp/info)" \
	"$(llm_sys model_name) ($(llm_sys model_arch))"
check_eq "model_params" "$(sed -n 's/^parameters *//p' /tmp/info)" \
	"$(llm_sys model_params)"
check_eq "a whole model holds all its layers" "0:5" \
	"$(llm_sys model_layers_held)"
check_match "model_vocab and model_layers" \
	"^shape +vocab $(llm_sys model_vocab), embd [0-9]+, layers $(llm_sys model_layers), " \
	"$(grep '^shape' /tmp/info)"
check_eq "model_context and model_context_train" \
	"$(sed -n 's/^context *//p' /tmp/info)" \
	"$(llm_sys model_context) (trained $(llm_sys model_context_train))"
check_eq "model_types" F32 "$(llm_sys model_types)"
check_match "model_kernels" '^(avx2|scalar)$' "$(llm_sys model_kernels)"
check_range "arena_used is the model and the sessions' contexts" \
	$((size + 1)) "$(llm_sys arena_size)" "$(llm_sys arena_used)"
check_range "arena_peak >= arena_used" "$(llm_sys arena_used)" \
	"$(llm_sys arena_size)" "$(llm_sys arena_peak)"

# --- counters -------------------------------------------------------------

# shellcheck disable=SC2046
set -- $(vals requests_total errors_total tokens_prompt_total tokens_generated_total)
r0=$1 e0=$2 tp0=$3 tg0=$4
check_match "a request of 5 prompt and 20 generated tokens" \
	'^params ok\|gen ok len=[0-9]+ n=20 np=5 stop=2$' \
	"$(p params 0 0 900 20 0 gen 'Once upon a time' -)"
check_eq "... moves requests, tokens_prompt and tokens_generated; no error" \
	"$((r0 + 1)) $e0 $((tp0 + 5)) $((tg0 + 20))" \
	"$(vals requests_total errors_total tokens_prompt_total tokens_generated_total)"
check_match "prefill_tok_per_s is the last request's, non-zero" \
	'^[0-9]+\.[0-9]{3}$' "$(llm_sys prefill_tok_per_s | grep -v '^0\.000$')"
check_match "decode_tok_per_s too" \
	'^[0-9]+\.[0-9]{3}$' "$(llm_sys decode_tok_per_s | grep -v '^0\.000$')"

check_eq "a failed request (ENOSPC) counts as a request and an error" \
	"wlong ok 16384|r ENOSPC 0 $((r0 + 2)) $((e0 + 1))" \
	"$(p wlong 16384 r -) $(vals requests_total errors_total)"
check_eq "so does a refused one (not UTF-8)" \
	"w EINVAL $((r0 + 3)) $((e0 + 2))" \
	"$(p w '\xff') $(vals requests_total errors_total)"
check_match "a write to a busy session is no request at all" \
	"^params ok\\|w ok 4\\|w EBUSY\\|r ok [0-9]+ $((r0 + 4)) $((e0 + 2))\$" \
	"$(p params 0 0 900 3 0 w Once w Once r -) $(vals requests_total errors_total)"

exec 3<> $LLM_DEV 4<> $LLM_DEV 5< $LLM_DEV
check_eq "sessions_active counts open files" 3 "$(llm_sys sessions_active)"
echo "Once upon a time" >&3
check_eq "a prompt written does not run before it is read" 0 \
	"$(llm_sys requests_running)"
# A ring request with an 8-entry completion ring stops after a few
# tokens, started and not ended, until its caller consumes.
rm -f /tmp/go
llmprobe params 0 0 900 200 0 ring 4 8 64 map full sqe 1 0 4 0 Once \
	enter 0 waitfor /tmp/go drain 1 - > /dev/null &
wait_until 100 eval '[ "$(llm_sys requests_running)" = 1 ]'
check_eq "requests_running is 1 while one has started and not ended" 1 \
	"$(llm_sys requests_running)"
check_range "requests_computing_peak: one at a time so far" 1 1 \
	"$(llm_sys requests_computing_peak)"
touch /tmp/go
wait
check_eq "... and drops when it is over" 0 "$(llm_sys requests_running)"
cat <&3 > /dev/null
exec 3<&- 4<&- 5<&-
check_eq "closing gives the slots back" 0 "$(llm_sys sessions_active)"

peak=$(llm_sys arena_peak)
check "llmctl unload" llmctl unload
check_eq "after unload: no model, the arena empty, its peak kept" \
	"0 0 $peak" "$(vals model_loaded arena_used arena_peak)"
check_eq "... the model files empty again" "|0|0" \
	"$(llm_sys model_name)|$(llm_sys model_params)|$(llm_sys model_context)"
e1=$(llm_sys errors_total)
check_eq "a request with no model is an error too" "w ENODATA $((e1 + 1))" \
	"$(p w Once) $(llm_sys errors_total)"
check "every file holds one line (after unload)" one_value
check "rmmod llm" llm_unload
