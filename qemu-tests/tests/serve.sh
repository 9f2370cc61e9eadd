# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# memory: 768M
# llmctl serve (issue 12): the OpenAI-compatible HTTP server in front of
# the kernel's model, run in the guest as an unprivileged user and asked
# with httpc (qemu-tests/helpers/httpc.c; the guest has no curl).  The
# dynamically linked llmctl runs with its libraries from /extra/serve
# (llmctl.static has no HTTP server).  Completions and chat completions,
# plain and streamed, against what llmctl gives for the same request;
# stop strings; seeds; concurrent clients each getting what they get
# alone; a client that hangs up mid-stream stops its generation (the
# kernel's session is freed); every bad request's status and error code;
# the API key; /metrics; SIGTERM.

S=/extra/serve
need $S/llmctl "make qemu-extra"
need /extra/big-layers-q8.gguf "make qemu-extra"
need /extra/chat-llama3.gguf "make qemu-extra"
SERVE="$S/ld-linux-x86-64.so.2 --library-path $S $S/llmctl"
PORT=8080
P=/tmp/serve

# A JSON string's field (still escaped) / a number field, of stdin.
jstr() { sed -nE "s/.*\"$1\":\"(([^\"\\\\]|\\\\.)*)\".*/\\1/p"; }
jnum() { sed -nE "s/.*\"$1\":([0-9]+).*/\\1/p"; }
# stdin as the inside of a JSON string (llmctl's ASCII text)
esc() {
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' |
		awk '{ printf "%s%s", (NR > 1 ? "\\n" : ""), $0 }'
}
# post PATH BODY [OPTS...]: status line then body, into $P.out
post() {
	local path=$1 body=$2

	shift 2
	httpc "$@" POST $PORT "$path" "$body" > $P.out 2> $P.err
}
# the status and the error code of the last post
status_code() {
	echo "$(head -n 1 $P.out) $(sed 1d $P.out | jstr code)"
}
# bad WHAT STATUS CODE PATH BODY [OPTS...]: the request is refused so
bad() {
	local what=$1 want="$2 $3"

	shift 3
	post "$@"
	check_eq "$what: $want" "$want" "$(status_code)"
}
# texts of a stream in $P.out, concatenated (escaped)
stream_text() {
	grep '^data: {' $P.out | while read -r l; do
		printf '%s\n' "$l" | jstr "$1"
	done | tr -d '\n'
}
server_up() {
	httpc -s -t 2 GET $PORT /health > /dev/null 2>&1
}
start_server() {
	# shellcheck disable=SC2086
	llmtest runas 1000 $SERVE serve --port $PORT "$@" > $P.log 2>&1 &
	SRV=$!
	wait_until 100 server_up
}
stop_server() {
	kill -TERM $SRV 2> /dev/null
	wait $SRV
}

ip link set lo up

# Before the module: the server starts (it holds nothing) and says so
check "llmctl serve starts as uid 1000 with no module loaded" \
	start_server --max-sessions 4 --max-body 4096 || return
check_output "... it runs as uid 1000, not root" '^Uid:[[:space:]]+1000' \
	cat /proc/$SRV/status
httpc GET $PORT /health > $P.out 2>&1
check_eq "/health without the module: 503 module_not_loaded" \
	"503 module_not_loaded" "$(status_code)"
bad "a completion without the module" 503 module_not_loaded \
	/v1/completions '{"prompt": "x"}'

# (6 sessions, 5 for users, and the arena for them on the big-layers model)
check "insmod llm.ko arena_mb=160 sessions=6 sessions_per_user=5" \
	llm_load arena_mb=160 sessions=6 sessions_per_user=5 || return
httpc GET $PORT /health > $P.out 2>&1
check_eq "/health with no model: 503 model_not_loaded" \
	"503 model_not_loaded" "$(status_code)"
bad "a completion with no model" 503 model_not_loaded \
	/v1/completions '{"prompt": "x"}'
httpc GET $PORT /v1/models > $P.out 2>&1
check_eq "/v1/models with no model: an empty list" \
	'200 {"object":"list","data":[]}' "$(tr '\n' ' ' < $P.out | sed 's/ $//')"

M=/models/stories260K.gguf
check "llmctl load stories260K.gguf" llmctl load -q $M || return
httpc GET $PORT /health > $P.out 2>&1
check_match "/health: 200 ok" '"status":"ok"' "$(cat $P.out)"
httpc GET $PORT /v1/models > $P.out 2>&1
check_match "/v1/models lists the model" \
	'^\{"object":"list","data":\[\{"id":"[^"]+","object":"model"' \
	"$(sed 1d $P.out)"

# A completion: llmctl generate's text, with its usage
llmctl generate -q -n 24 -t 0 "Once upon a time" > $P.gen
want=$(esc < $P.gen)
post /v1/completions '{"model": "x", "prompt": "Once upon a time", "max_tokens": 24, "temperature": 0}'
check_eq "a completion: 200" 200 "$(head -n 1 $P.out)"
text=$(sed 1d $P.out | jstr text)
check_eq "... its text is llmctl generate's" "$want" "Once upon a time$text"
check_eq "... usage: 5 prompt + 24 completion tokens, finish_reason length" \
	"5 24 29 length" \
	"$(sed 1d $P.out | jnum prompt_tokens) $(sed 1d $P.out | jnum completion_tokens) $(sed 1d $P.out | jnum total_tokens) $(sed 1d $P.out | jstr finish_reason)"
check_match "... the object is a text_completion" \
	'"object":"text_completion"' "$(cat $P.out)"
gtext=$text

# The same streamed: events, the same text, usage in the last, [DONE]
post /v1/completions '{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stream": true}'
check_eq "a stream: 200" 200 "$(head -n 1 $P.out)"
n=$(grep -c '^data: {' $P.out)
check_eq "... one event per token, and the last" 25 "$n"
check_eq "... its pieces make the same text" "$gtext" "$(stream_text text)"
check_match "... the last event has finish_reason and usage" \
	'"finish_reason":"length".*"usage":\{"prompt_tokens":5,"completion_tokens":24' \
	"$(grep '^data: {' $P.out | tail -n 1)"
check_eq "... and then data: [DONE]" "data: [DONE]" "$(grep '^data:' $P.out | tail -n 1)"

# Stop strings: the text ends before the first, finish_reason stop
post /v1/completions '{"prompt": "Once upon a time", "max_tokens": 60, "temperature": 0, "stop": ["Lily", "zzz"]}'
want=$(printf '%s' "$gtext" | sed 's/Lily.*//')
check_eq "a stop string ends the text before it" "$want" "$(sed 1d $P.out | jstr text)"
check_eq "... finish_reason stop" stop "$(sed 1d $P.out | jstr finish_reason)"
post /v1/completions '{"prompt": "Once upon a time", "max_tokens": 60, "temperature": 0, "stop": "Lily", "stream": true}'
check_eq "... the same streamed" "$want" "$(stream_text text)"

# Seeds: the same seed the same text, sampled
R='"prompt": "Tom had", "max_tokens": 30, "temperature": 1, "top_k": 40'
post /v1/completions "{$R, \"seed\": 42}"
a=$(sed 1d $P.out | jstr text)
post /v1/completions "{$R, \"seed\": 42}"
check_eq "seed 42 twice: the same text" "$a" "$(sed 1d $P.out | jstr text)"
post /v1/completions "{$R, \"seed\": 7}"
b=$(sed 1d $P.out | jstr text)
[ "$a" != "$b" ] && pass "seed 7: another text" ||
	fail "seed 7: another text" "the same as seed 42's: '$a'"
llmctl generate -q -n 30 -t 1 -k 40 -p 1 -s 42 "Tom had" > $P.gen
check_eq "... seed 42's text is llmctl generate -s 42's" "$(esc < $P.gen)" "Tom had$a"

# Concurrent clients each get what they get alone
for i in 1 2 3 4; do
	post /v1/completions "{\"prompt\": \"Client $i said\", \"max_tokens\": 40, \"temperature\": 0.8, \"seed\": $i, \"stream\": $([ $i -gt 2 ] && echo true || echo false)}"
	cp $P.out $P.alone$i
done
pids=
for i in 1 2 3 4; do
	httpc POST $PORT /v1/completions "{\"prompt\": \"Client $i said\", \"max_tokens\": 40, \"temperature\": 0.8, \"seed\": $i, \"stream\": $([ $i -gt 2 ] && echo true || echo false)}" > $P.conc$i 2>&1 &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
same=0
for i in 1 2 3 4; do
	if [ $i -gt 2 ]; then
		cp $P.alone$i $P.out
		a=$(stream_text text)
		cp $P.conc$i $P.out
		b=$(stream_text text)
	else
		a=$(sed 1d $P.alone$i | jstr text)
		b=$(sed 1d $P.conc$i | jstr text)
	fi
	[ -n "$a" ] && [ "$a" = "$b" ] && same=$((same + 1))
done
check_eq "4 clients at once (2 streaming) each get their text alone" 4 "$same"

# The kernel's slots for the server's user all taken (sessions_per_user
# 5, held by another process of uid 1000): 429 sessions_exhausted
llmtest runas 1000 sh -c 'exec 3<>/dev/llm 4<>/dev/llm 5<>/dev/llm 6<>/dev/llm 7<>/dev/llm; sleep 30' &
HOLD=$!
wait_until 100 sh -c '[ "$(cat /sys/kernel/llm/sessions_active)" = 5 ]'
bad "uid 1000's sessions all open elsewhere" 429 sessions_exhausted \
	/v1/completions '{"prompt": "x", "max_tokens": 1}'
kill $HOLD
wait $HOLD 2> /dev/null
wait_until 100 sh -c '[ "$(cat /sys/kernel/llm/sessions_active)" = 0 ]'

# Chat: no template on stories260K
bad "chat on a model with no chat template" 400 no_chat_template \
	/v1/chat/completions '{"messages": [{"role": "user", "content": "Hi"}]}'

# Bad requests
bad "malformed JSON" 400 invalid_json /v1/completions '{"prompt": '
bad "a body that is not an object" 400 invalid_json /v1/completions '[1]'
bad "no prompt" 400 invalid_value /v1/completions '{}'
bad "a prompt of the wrong type" 400 invalid_value /v1/completions '{"prompt": 5}'
check_eq "... the error names the field" prompt "$(sed 1d $P.out | jstr param)"
bad "max_tokens of the wrong type" 400 invalid_value /v1/completions '{"prompt": "x", "max_tokens": "ten"}'
check_eq "... the error names the field" max_tokens "$(sed 1d $P.out | jstr param)"
bad "max_tokens over the module's limit" 400 invalid_value /v1/completions '{"prompt": "x", "max_tokens": 100000}'
bad "a negative temperature" 400 invalid_value /v1/completions '{"prompt": "x", "temperature": -1}'
bad "top_p over 1" 400 invalid_value /v1/completions '{"prompt": "x", "top_p": 1.5}'
bad "a seed that is a string" 400 invalid_value /v1/completions '{"prompt": "x", "seed": "1"}'
bad "stream not a boolean" 400 invalid_value /v1/completions '{"prompt": "x", "stream": 1}'
bad "five stop strings" 400 invalid_value /v1/completions '{"prompt": "x", "stop": ["a","b","c","d","e"]}'
bad "a stop string of 40 bytes" 400 invalid_value /v1/completions '{"prompt": "x", "stop": "0123456789012345678901234567890123456789"}'
bad "n = 2" 400 invalid_value /v1/completions '{"prompt": "x", "n": 2}'
bad "a duplicate key" 400 invalid_json /v1/completions '{"prompt": "x", "prompt": "y"}'
bad "a body over --max-body (413)" 413 request_too_large /v1/completions "" -z 5000
httpc GET $PORT /v1/completions > $P.out 2>&1
check_eq "GET on /v1/completions: 405" "405 method_not_allowed" "$(status_code)"
httpc GET $PORT /v1/nothing > $P.out 2>&1
check_eq "an unknown path: 404" "404 not_found" "$(status_code)"
bad "messages of the wrong type" 400 invalid_value /v1/chat/completions '{"messages": "hi"}'
bad "a message with an unknown role" 400 invalid_value /v1/chat/completions '{"messages": [{"role": "robot", "content": "hi"}]}'
check_eq "the server holds no session after all that" 0 "$(llm_sys sessions_active)"

# Chat completions on a model with a Llama 3 template
M=/extra/chat-llama3.gguf
check "llmctl load chat-llama3.gguf" llmctl load -q $M || return
echo '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]}' > $P.conv
llmctl template -m $M $P.conv > $P.tmpl
want=$(llmctl tokenize --special -m $M - < $P.tmpl | wc -w)
C='"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}], "max_tokens": 8, "temperature": 0'
post /v1/chat/completions "{$C}"
check_eq "a chat completion: 200" 200 "$(head -n 1 $P.out)"
check_eq "... its prompt is the rendered template's $want tokens" \
	"$want 8" "$(sed 1d $P.out | jnum prompt_tokens) $(sed 1d $P.out | jnum completion_tokens)"
check_match "... a chat.completion with the assistant's message" \
	'"object":"chat.completion".*"message":\{"role":"assistant","content":' "$(cat $P.out)"
ctext=$(sed 1d $P.out | jstr content)
printf 'Hello there\n' | llmctl chat --system "Be brief." -n 8 -t 0 -q > $P.chat
# (this model's random weights make any bytes, and a reply cut at 8
# tokens may end inside a character, which the server sends as U+FFFD:
# the replies are compared up to their first byte that is not ASCII)
ascii() { LC_ALL=C sed 's/[^ -~].*//'; }
a=$(esc < $P.chat | ascii)
check_range "... (the reply has ASCII to compare)" 3 1000 ${#a}
check_eq "... its content is llmctl chat's reply" "$a" "$(printf '%s\n' "$ctext" | ascii)"
post /v1/chat/completions "{$C, \"stream\": true}"
check_match "a chat stream: the first delta has the role" \
	'"object":"chat.completion.chunk".*"delta":\{"role":"assistant"' \
	"$(grep '^data: {' $P.out | head -n 1)"
check_eq "... its pieces make the same content" "$ctext" "$(stream_text content)"
check_match "... the last event has finish_reason and usage" \
	"\"finish_reason\":\"(stop|length)\".*\"usage\":\\{\"prompt_tokens\":$want," \
	"$(grep '^data: {' $P.out | tail -n 1)"
bad "a chat ending with the assistant's message" 400 invalid_value \
	/v1/chat/completions '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}'

# A model with big layers, whose tokens take long enough to watch
M=/extra/big-layers-q8.gguf
check "llmctl load big-layers-q8.gguf" llmctl load -q $M || return
# --max-sessions 4: four streams running, the fifth request gets 429
pids=
for i in 1 2 3 4; do
	httpc -b POST $PORT /v1/completions "{\"prompt\": \"Run $i\", \"max_tokens\": 12, \"temperature\": 0, \"stream\": true}" > $P.long$i 2>&1 &
	pids="$pids $!"
done
active4() {
	httpc -b GET $PORT /metrics | grep -q '^llm_serve_active_requests 4$'
}
check "four streams running" wait_until 300 active4
bad "a fifth request while four run: 429" 429 too_many_requests \
	/v1/completions '{"prompt": "x", "max_tokens": 1}'
httpc GET $PORT /health > $P.out 2>&1
check_eq "... /health still answers (it takes no session)" 200 "$(head -n 1 $P.out)"
# shellcheck disable=SC2086
wait $pids
ok=0
for i in 1 2 3 4; do
	[ "$(grep '^data: ' $P.long$i | tail -n 1)" = 'data: [DONE]' ] &&
		grep -q '"completion_tokens":12' $P.long$i && ok=$((ok + 1))
done
check_eq "... the four streams ran to their end, 12 tokens each" 4 "$ok"

# A client that hangs up mid-stream: its session is closed, the
# generation stops, the kernel frees the slot
gen0=$(llm_sys tokens_generated_total)
req0=$(llm_sys requests_total)
t0=$(now_ms)
check "a client hangs up after 2 events of 200 tokens" \
	httpc -c 2 POST $PORT /v1/completions '{"prompt": "Once", "max_tokens": 200, "temperature": 0, "stream": true}'
idle() { [ "$(llm_sys sessions_active)" = 0 ] && [ "$(llm_sys requests_running)" = 0 ]; }
check "... the server's session is closed and nothing runs" wait_until 100 idle
echo "$LLM_TEST: freed $(($(now_ms) - t0)) ms after the hang-up"
check_eq "... the request ended" $((req0 + 1)) "$(llm_sys requests_total)"
check_range "... after a few of its 200 tokens" 1 20 \
	$(($(llm_sys tokens_generated_total) - gen0))
check_output "... /metrics counts it as cancelled" '^llm_serve_cancelled_total 1$' \
	httpc -b GET $PORT /metrics
check_output "... and the server's log says so" \
	'^llmctl serve: cmpl-[0-9]+: the client went away; its generation is stopped$' cat $P.log
check_fails "... with no unprefixed libmicrohttpd line" grep -v '^llmctl serve: ' $P.log
# the same without streaming: the reply is being computed when it goes
gen0=$(llm_sys tokens_generated_total)
httpc POST $PORT /v1/completions '{"prompt": "Once", "max_tokens": 200, "temperature": 0}' > /dev/null 2>&1 &
HC=$!
wait_until 300 sh -c '[ "$(cat /sys/kernel/llm/requests_running)" = 1 ]'
sleep 1
kill $HC
wait $HC
check "a waiting client that goes away: the session is closed" wait_until 100 idle
check_range "... after a few of its 200 tokens" 1 20 \
	$(($(llm_sys tokens_generated_total) - gen0))

# /metrics: the kernel's sysfs numbers and the server's
httpc -b GET $PORT /metrics > $P.out
check_output "/metrics has the kernel's counters" '^llm_requests_total [0-9]+$' cat $P.out
check_output "... typed" '^# TYPE llm_tokens_generated_total counter$' cat $P.out
check_output "... and the server's own" '^llm_serve_requests_total [0-9]+$' cat $P.out
check_status "SIGTERM: the server ends with status 0" 0 stop_server

# --api-key: 401 without it or with another, 200 with it; /health open
check "llmctl serve --api-key --timeout 2" start_server --api-key sk-test --timeout 2 || return
t0=$(now_ms)
sleep 10 | nc 127.0.0.1 $PORT > /dev/null 2>&1 &
NC=$!
wait_until 80 sh -c "! kill -0 $NC 2> /dev/null"
check_range "a connection that sends nothing is closed after --timeout 2 (ms)" \
	1500 5000 $(($(now_ms) - t0))
kill $NC 2> /dev/null
bad "no API key: 401" 401 invalid_api_key /v1/completions '{"prompt": "x"}'
bad "a wrong API key: 401" 401 invalid_api_key /v1/completions '{"prompt": "x", "max_tokens": 1}' -k sk-tesT
httpc -k sk-test GET $PORT /v1/models > $P.out 2>&1
check_eq "the right API key: 200" 200 "$(head -n 1 $P.out)"
httpc GET $PORT /metrics > $P.out 2>&1
check_eq "/metrics needs the key too" "401 invalid_api_key" "$(status_code)"
check "llmctl unload" llmctl unload
check "rmmod llm with the server running (it holds no session)" llm_unload
httpc GET $PORT /health > $P.out 2>&1
check_eq "... /health: 503 module_not_loaded" "503 module_not_loaded" "$(status_code)"
check_status "SIGTERM: the server ends with status 0" 0 stop_server
check_status "a bad --port is a usage error (2)" 2 $SERVE serve --port 0
check_output "llmctl.static says serve is in the dynamic llmctl" 'dynamically linked' \
	sh -c 'llmctl serve 2>&1; true'
