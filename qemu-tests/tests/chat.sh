# SPDX-License-Identifier: GPL-2.0
# timeout: 180
# llmctl as a person uses it (issue 4, point 7): --help of every
# subcommand, chat --raw over a pipe (turns share a session, /reset forgets,
# a full context is a sentence), stats, Ctrl-C on generate through each
# interface, the exit codes 2 (usage), 3 (no module) and 4 (no model),
# and the module's errors turned into sentences.  (Exit code 5: see
# permissions.sh; info and the top-level help: llmctl.sh.)

M=/models/stories260K.gguf
need $M "the project's models/ directory"

# until_running: wait (up to 10 s) until a request is being generated.
until_running() {
	wait_until 100 eval '[ "$(llm_sys requests_running)" != 0 ]'
}

# said WHAT STATUS ERE CMD...: CMD exits STATUS and its stderr matches ERE.
said() {
	local what="$1" want="$2" re="$3" st
	shift 3
	"$@" > /dev/null 2> /tmp/said.err
	st=$?
	if [ $st -ne "$want" ]; then
		fail "$what" "exit status $st, expected $want: $(head -c 200 /tmp/said.err)"
	elif grep -Eq -- "$re" /tmp/said.err; then
		pass "$what"
	else
		fail "$what" "stderr '$(head -c 200 /tmp/said.err)' does not match /$re/"
	fi
}

for c in convert generate chat info load quantize unload stats; do
	check_output "llmctl $c --help exits 0" "^usage: llmctl $c" llmctl $c --help
	check_output "llmctl help $c exits 0" "^usage: llmctl $c" llmctl help $c
done

# --- without the module: 3 ----------------------------------------------------

for c in "generate Once" "chat" "stats" "unload" "load $M"; do
	# shellcheck disable=SC2086
	said "llmctl $c without the module exits 3" 3 \
		'the llm kernel module is not loaded' llmctl $c
done

# --- usage: 2 -------------------------------------------------------------------

check "insmod llm.ko" llm_load || return
for c in "generate -n lots Once" "generate -t -1 Once" "generate -p 2 Once" \
	 "generate one two" "generate --bogus" "chat extra" "chat -m $M" \
	 "chat --ids" "stats --watch 0" "stats now" "load" "load a b" \
	 "unload now" "generate -S 0123456789012345678901234567890123 x"; do
	# shellcheck disable=SC2086
	check_status "llmctl $c is a usage error (2)" 2 llmctl $c
done

# --- no model: 4 --------------------------------------------------------------------

for how in "" --ids --mmap; do
	# shellcheck disable=SC2086
	said "llmctl generate $how with no model exits 4" 4 \
		'no model is loaded \(llmctl load MODEL.gguf\)' \
		llmctl generate $how -n 5 Once
done
said "llmctl chat with no model exits 4" 4 'no model is loaded' \
	sh -c 'echo Once | llmctl chat -q'

# --- chat ---------------------------------------------------------------------------

check "llmctl load $M" llmctl load -q $M || return
printf 'Once upon a time\nThe dog\n/reset\nThe dog\n' |
	llmctl chat --raw -n 20 > /tmp/chat.out 2> /tmp/chat.err
check_eq "chat over a pipe exits 0 with a reply per line" "0 3" \
	"$? $(wc -l < /tmp/chat.out)"
p params 0 0 900 20 0 w 'Once upon a time' r /tmp/c1 w 'The dog' r /tmp/c2 \
	> /dev/null
p params 0 0 900 20 0 w 'The dog' r /tmp/c3 > /dev/null
{ cat /tmp/c1; echo; cat /tmp/c2; echo; cat /tmp/c3; echo; } > /tmp/chat.want
if cmp -s /tmp/chat.out /tmp/chat.want; then
	pass "chat turns share one session; /reset forgets (the replies are a session's)"
else
	fail "chat turns share one session; /reset forgets (the replies are a session's)" \
		"'$(tr '\n' '|' < /tmp/chat.out)' vs '$(tr '\n' '|' < /tmp/chat.want)'"
fi
check_eq "chat reports the context after each reply" \
	"[5 prompt + 20 generated tokens, context 24/1024]|[3 prompt + 20 generated tokens, context 47/1024]|[4 prompt + 20 generated tokens, context 23/1024]" \
	"$(tr '\n' '|' < /tmp/chat.err | sed 's/|$//')"
check_eq "chat left no session behind" 0 "$(llm_sys sessions_active)"

said "a prompt that is not UTF-8 is a sentence" 1 \
	'^llmctl: submitting the prompt: the prompt is not valid UTF-8$' \
	llmctl generate "$(printf 'a\300\257')"
said "a prompt over max_prompt_bytes is a sentence" 1 \
	"^llmctl: submitting the prompt: the input is larger than the module's limits allow$" \
	llmctl generate "$(head -c 16385 /dev/zero | tr '\0' a)"
said "-n over max_new_tokens is a sentence naming the limit" 1 \
	"^llmctl: 5000 tokens is more than the module's limit of 2048 \(module parameter max_new_tokens\)$" \
	llmctl generate -n 5000 Once
head -c 5000 $M > /tmp/short.gguf
said "a broken model file is refused with the module's sentence" 1 \
	'^llmctl load: the module refused the model: [A-Za-z][ -~]+$' \
	llmctl load -q /tmp/short.gguf
said "... through --fd too" 1 \
	'^llmctl load: the module refused the model: [A-Za-z][ -~]+$' \
	llmctl load --fd /tmp/short.gguf
said "a directory is not a model" 1 '^llmctl load: cannot read /: not a regular file$' \
	llmctl load /
check "llmctl load --fd $M" llmctl load --fd $M

# A full context, in chat: the turn says so, /reset gets it going again.
echo 64 > $LLM_PARAMS/max_context
check "llmctl load $M with max_context=64" llmctl load -q $M
printf 'Once upon a time\nThe dog\n/reset\nThe dog\n' |
	llmctl chat --raw -q -n 100 > /tmp/chat2.out 2> /tmp/chat2.err
check_eq "a chat turn with the context full says so in a sentence" \
	"llmctl: reply: the session's context is full (start a new session, or /reset in chat)" \
	"$(cat /tmp/chat2.err)"
check_eq "... and the turn after /reset answers again" 1 \
	"$(tail -n 1 /tmp/chat2.out | grep -c .)"
echo 1024 > $LLM_PARAMS/max_context
check "llmctl load $M" llmctl load -q $M
A0=$(llm_sys arena_used)

# --- stats ---------------------------------------------------------------------------

llmctl stats > /tmp/stats.out
ok=1
for f in requests_total errors_total tokens_prompt_total tokens_generated_total; do
	[ "$(awk -v k=$f '$1 == k { print $2 }' /tmp/stats.out)" = "$(llm_sys $f)" ] ||
		ok=0
done
check_eq "llmctl stats shows the counters sysfs shows" 1 $ok
check_output "... and the sessions" '^sessions +1 of 8$' cat /tmp/stats.out
llmctl stats --watch 1 > /tmp/watch.out &
pid=$!
llmctl generate -q -n 30 Once > /dev/null
sleep 2
kill $pid
wait $pid
check_output "llmctl stats --watch prints a header and a line a second" \
	'^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ ' sed -n 2p /tmp/watch.out

# --- Ctrl-C -----------------------------------------------------------------------------

# Temperature 3, top-p off, seed 1: runs to the 1000-token limit.
for how in "" --ids --mmap; do
	# shellcheck disable=SC2086
	llmctl generate $how -n 1000 -t 3 -p 1 -s 1 Once > /tmp/int.out 2> /tmp/int.err &
	pid=$!
	until_running
	sleep 0.2
	kill -INT $pid
	wait $pid
	st=$?
	check_eq "Ctrl-C stops llmctl generate $how: exit status 130" 130 $st
	# how soon: stops.sh, against a measured token time
	check_eq "... and the kernel stopped generating" 0 "$(llm_sys requests_running)"
	[ "$how" = --ids ] &&
		check_output "... GENERATE's statistics say interrupted" \
			'generated tokens [0-9]+, .*\(interrupted\)$' cat /tmp/int.err
done

# In chat, Ctrl-C stops the reply; chat reads on (here: /quit, sent only
# once we have looked, however slow the kernel).
rm -f /tmp/chat.go
(echo 'Once upon a time'
 while [ ! -e /tmp/chat.go ]; do sleep 0.1; done
 echo '/quit') |
	llmctl chat -q -n 1000 -t 3 -p 1 -s 1 > /tmp/chatint.out 2>&1 &
pid=$!
until_running
sleep 0.2
kill -INT $pid
sleep 0.5
check_eq "Ctrl-C in chat stops the reply being generated" 0 \
	"$(llm_sys requests_running)"
check "... and chat goes on" kill -0 $pid
touch /tmp/chat.go
wait $pid
check_eq "... to its next line (/quit: exit status 0)" 0 $?

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "the arena is at its model-only level" "$A0" "$(llm_sys arena_used)"
check "rmmod llm" llm_unload
