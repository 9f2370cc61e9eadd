# SPDX-License-Identifier: GPL-2.0
# timeout: 240
# Sessions and /dev/llm read/write (issue 4, points 1 and 2): a
# conversation carries over between prompts of one open file and RESET
# forgets it; read() streams and then gives end-of-file; O_NONBLOCK, poll,
# empty / oversized / non-UTF-8 prompts, writes while a completion is
# unread, bad buffers, signals mid-generation, and the per-user one-shot
# queue of `echo PROMPT > /dev/llm; cat /dev/llm`.

M=/models/stories260K.gguf
need $M "the project's models/ directory"

# same WHAT FILE1 FILE2: byte-identical, and not empty.
same() {
	if [ ! -s "$2" ]; then
		fail "$1" "$2 is empty"
	elif cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "'$(head -c 120 "$2")' vs '$(head -c 120 "$3")'"
	fi
}

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load -q $M || return
A0=$(llm_sys arena_used)
G="params 0 0 900 20 0"		# greedy, 20 tokens

# --- a conversation -------------------------------------------------------

out=$(p $G w 'Once upon a time\n' r /tmp/t1 stats w 'The dog' r /tmp/t2 stats r1 r1)
check_match "write, read to EOF, write again, read again, EOF stays" \
	'^params ok\|w ok 17\|r ok [1-9][0-9]*\|stats ok req=1 used=[0-9]+ size=1024 prompt=5 gen=20 stop=2\|w ok 7\|r ok [1-9][0-9]*\|stats ok req=2 used=[0-9]+ size=1024 prompt=[0-9]+ gen=20 stop=2\|r1 ok 0\|r1 ok 0$' \
	"$out"
# After turn 1 the context holds the prompt and 19 generated tokens (the
# 20th is fed with the next prompt); turn 2 adds it, its prompt and 19.
u1=$(echo "$out" | sed -n 's/.*|stats ok req=1 used=\([0-9]*\) .*/\1/p')
u2=$(echo "$out" | sed -n 's/.*|stats ok req=2 used=\([0-9]*\) .*/\1/p')
np2=$(echo "$out" | sed -n 's/.*|stats ok req=2 used=[0-9]* size=1024 prompt=\([0-9]*\) .*/\1/p')
check_eq "the second prompt went after the first turn in the context" \
	"$((u1 + np2 + 20))" "$u2"

p $G w 'The dog' r /tmp/f2 > /dev/null
if cmp -s /tmp/t2 /tmp/f2; then
	fail "the second prompt continues the conversation" \
		"it gave what a fresh session gives: '$(cat /tmp/f2)'"
else
	pass "the second prompt continues the conversation (it differs from a fresh session's)"
fi
p $G gen 'Once upon a time' /tmp/g1 gen 'The dog' /tmp/g2 > /dev/null
same "GENERATE continues a conversation exactly as write/read does (turn 1)" \
	/tmp/g1 /tmp/t1
same "... and turn 2" /tmp/g2 /tmp/t2
out=$(p $G w 'Once upon a time' r - reset stats w 'The dog' r /tmp/r2 stats)
check_match "RESET empties the context" \
	'\|reset ok\|stats ok req=1 used=0 size=1024 ' "$out"
same "after RESET the prompt gives what a fresh session gives" /tmp/r2 /tmp/f2
p $G gen 'Once upon a time' - genr 'The dog' /tmp/r3 > /dev/null
same "LLM_GEN_RESET does the same" /tmp/r3 /tmp/f2

# --- prompts at the edges -------------------------------------------------

check_eq "an empty write returns 0 and starts nothing" \
	"w ok 0|r1 ok 0|stats ok req=0 used=0 size=1024 prompt=0 gen=0 stop=0" \
	"$(p w '' r1 stats)"
check_eq "'\\n' alone is an empty prompt" "params ok|w ok 1|r ok 71" \
	"$(p $G w '\n' r /tmp/nl)"
llmctl generate -q -m $M -n 20 -t 0 "" | head -c 71 > /tmp/nl.u
same "... which starts a text from nothing, as userspace does" /tmp/nl /tmp/nl.u
check_eq "a prompt of max_prompt_bytes + 1 is E2BIG" "wlong E2BIG" \
	"$(p wlong 16385)"
check_eq "... with one trailing newline it is not (it is dropped)" \
	"w ok 16385|r ENOSPC 0" \
	"$(p w "$(head -c 16384 /dev/zero | tr '\0' 'a')\n" r -)"
check_eq "a prompt of max_prompt_bytes is taken; it does not fit the context (ENOSPC), once" \
	"wlong ok 16384|r ENOSPC 0|r1 ok 0" "$(p wlong 16384 r - r1)"
for s in '\xc0\xaf' '\xe0\x80\xaf' '\xed\xa0\x80' 'abc\xe2\x82' '\x80abc' \
	 '\xf4\x90\x80\x80' '\xff' 'a\xf0\x9f\x98'; do
	check_eq "invalid UTF-8 '$s' is EINVAL" "w EINVAL|r1 ok 0" \
		"$(p w "$s" r1)"
done
check_match "valid UTF-8 (2, 3 and 4-byte forms, a NUL) is taken" \
	'^params ok\|w ok 19\|r ok [0-9]+$' \
	"$(p params 0 0 900 5 0 w 'h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 a\0b' r -)"
check_eq "writing while a completion runs or is unread is EBUSY" \
	"params ok|w ok 4|w EBUSY|sleep ok|w EBUSY|r ok 68|w ok 1|r ok 47" \
	"$(p $G w 'Once' w 'x' sleep 1500 w 'y' r - w 'z' r -)"
check_eq "bad buffers: write from unmapped memory, read into unmapped or read-only memory" \
	"wbad EFAULT|params ok|w ok 4|rbad EFAULT|rro EFAULT|r ok 68" \
	"$(p wbad $G w 'Once' rbad rro r -)"

# --- non-blocking reads and poll -------------------------------------------

# A prompt of some 150 tokens: its prefill keeps the first text away.
check_match "O_NONBLOCK: EAGAIN while the first text is not there, poll says when it is" \
	'^params ok\|fl ok\|poll ok in out\|wlong ok 600\|r1 EAGAIN\|poll ok none\|poll ok in\|fl ok\|r ok [1-9][0-9]*\|r1 ok 0\|poll ok in out$' \
	"$(p $G fl nonblock poll 0 wlong 600 r1 poll 0 poll 20000 \
	   fl block r - r1 poll 0)"

# --- signals ----------------------------------------------------------------

# A handled signal interrupts only the wait, never the generation
# (issue 8, point 3): under a storm of SIGALRM and SIGCHLD every 0.7 ms,
# handled without SA_RESTART (so interrupted calls fail with EINTR and
# are retried, as programs do), every path gives byte for byte the
# undisturbed text.  Sampled: temperature 1, top-p off, 300 tokens.
L="params 1000 0 1000 300 7"
P="Once upon a time there was"
p $L w "$P" r /tmp/calm.r > /dev/null
check_eq "undisturbed: read() and GENERATE agree" "$(md5sum < /tmp/calm.r)" \
	"$(p $L gen "$P" /tmp/calm.g > /dev/null; md5sum < /tmp/calm.g)"
out=$(p $L storm 700 w "$P" r /tmp/storm.r calm stats)
check_match "a signal storm during read(): the request runs to its end" \
	'\|calm ok signals=[1-9][0-9]* eintr=[0-9]+\|stats ok req=1 used=[0-9]+ size=1024 prompt=[0-9]+ gen=300 stop=2$' \
	"$out"
check "... and read() gives exactly the undisturbed text" cmp /tmp/calm.r /tmp/storm.r
out=$(p $L storm 700 gen "$P" /tmp/storm.g calm)
check_match "... during GENERATE: EINTR, the same call again goes on" \
	'^params ok\|storm ok\|gen ok len=[0-9]+ n=300 np=[0-9]+ stop=2\|calm ok signals=[1-9][0-9]* eintr=[1-9][0-9]*$' \
	"$out"
check "... with exactly the undisturbed text" cmp /tmp/calm.r /tmp/storm.g
out=$(p $L storm 700 restart gen "$P" /tmp/storm.gr calm)
check_match "... with SA_RESTART the kernel restarts GENERATE itself" \
	'\|gen ok len=[0-9]+ n=300 np=[0-9]+ stop=2\|calm ok signals=[1-9][0-9]* eintr=0$' \
	"$out"
check "... with exactly the undisturbed text" cmp /tmp/calm.r /tmp/storm.gr
out=$(p $L ring 0 0 0 map full storm 700 sqe 1 0 26 0 "$P" enter 0 \
	drain 1 /tmp/storm.ring calm)
check_match "... during RING_ENTER: the ring request runs to its end" \
	'\|drain ok 1:0:2:300\|calm ok signals=[1-9][0-9]* eintr=[0-9]+$' "$out"
check "... with exactly the undisturbed text" cmp /tmp/calm.r /tmp/storm.ring.1
check_eq "nothing runs after the storms" 0 "$(llm_sys requests_running)"

# What does end a request early: LLM_IOC_CANCEL (here from a signal
# handler, while the caller waits), RESET, close, a fatal signal.
# Temperature 3 and top-p off: this seed runs to the 1000-token limit.
L="params 3000 0 1000 1000 1"
out=$(p $L w '\n' sigcancel 300 r - stats r1)
check_match "LLM_IOC_CANCEL ends the request being read, as LLM_STOP_CANCELLED" \
	'^params ok\|w ok 1\|sigcancel ok\|r ok [1-9][0-9]*\|stats ok req=1 used=[0-9]+ size=1024 prompt=1 gen=[0-9]+ stop=5\|r1 ok 0$' \
	"$out"
gen=$(echo "$out" | sed -n 's/.*stats ok .* gen=\([0-9]*\) stop=5.*/\1/p')
check_range "... long before the 1000 tokens asked" 1 700 "$gen"
out=$(p $L sigcancel 300 gen '' -)
check_match "... and a GENERATE, which returns what it has" \
	'^params ok\|sigcancel ok\|gen ok len=[0-9]+ n=[0-9]+ np=1 stop=5$' "$out"
check_eq "... CANCEL with nothing running is fine" "cancel ok" "$(p cancel)"
check_eq "nothing runs after the cancels" 0 "$(llm_sys requests_running)"

# cat /dev/llm killed mid-generation (a background job ignores SIGINT,
# so SIGTERM stands in for Ctrl-C: the same path in the kernel).
p gen 'Once upon a time' /tmp/cat.want > /dev/null	# what cat would get
echo "Once upon a time" > /dev/llm
cat /dev/llm > /tmp/cat.out &
pid=$!
sleep 0.3
kill -TERM $pid
wait $pid
# how soon it stops: stops.sh, against a measured token time
check_eq "... with the start of the completion" \
	"$(head -c "$(wc -c < /tmp/cat.out)" /tmp/cat.want | md5sum)" \
	"$(md5sum < /tmp/cat.out)"
check_range "... (bytes of $(wc -c < /tmp/cat.want))" 1 "$(wc -c < /tmp/cat.want)" \
	"$(wc -c < /tmp/cat.out)"
check_eq "... and the generation stopped" 0 "$(llm_sys requests_running)"

# --- the one-shot queue -----------------------------------------------------

# What each prompt's completion starts with (greedy, a fresh session).
i=1
for prompt in "Once upon a time" "The cat" "Tom and Sue" "One day" "The sun"; do
	p params 0 0 900 6 0 gen "$prompt" /tmp/ref.$i > /dev/null
	echo "$prompt" > /dev/llm
	i=$((i + 1))
done
check_eq "writers that closed before reading left no session" 0 \
	"$(llm_sys sessions_active)"
# Four per user are kept: the fifth prompt pushed out the first.
ok=1
i=2
while [ $i -le 5 ]; do
	head -c "$(wc -c < /tmp/ref.$i)" /dev/llm > /tmp/got.$i
	cmp -s /tmp/got.$i /tmp/ref.$i || {
		fail "cat /dev/llm serves the queued prompts oldest first, 4 per user" \
			"read $i: '$(cat /tmp/got.$i)' vs '$(cat /tmp/ref.$i)'"
		ok=0
		break
	}
	i=$((i + 1))
done
[ $ok = 1 ] && pass "cat /dev/llm serves the queued prompts oldest first, 4 per user"
check_eq "... then there is nothing left: cat gives end-of-file at once" 0 \
	"$(cat /dev/llm | wc -c)"
llmtest runas 1000 sh -c 'echo "The cat" > /dev/llm'
check_eq "another user's queued prompt is not ours" 0 "$(cat /dev/llm | wc -c)"
llmtest runas 1000 head -c "$(wc -c < /tmp/ref.2)" /dev/llm > /tmp/got.u
same "... it is that user's" /tmp/got.u /tmp/ref.2
check_eq "a file that wrote and read queues nothing" "params ok|w ok 4|r ok 68" \
	"$(p $G w 'Once' r -)"
check_eq "... so cat finds nothing" 0 "$(cat /dev/llm | wc -c)"
# Nothing runs before the prompt is read, so its prefill runs once.
set -- $(llm_sys tokens_prompt_total) $(llm_sys requests_total)
echo "Once upon a time" > /dev/llm
check_eq "a one-shot write starts nothing" "$1 $2 0" \
	"$(llm_sys tokens_prompt_total) $(llm_sys requests_total) $(llm_sys requests_running)"
cat /dev/llm > /tmp/os.1
check_eq "... cat runs it, once: one request, its 5 prompt tokens" \
	"$(($1 + 5)) $(($2 + 1))" \
	"$(llm_sys tokens_prompt_total) $(llm_sys requests_total)"
p gen "Once upon a time" /tmp/full.1 > /dev/null
p gen "The cat" /tmp/full.2 > /dev/null
check "... with the whole completion" cmp /tmp/os.1 /tmp/full.1

# Two shell pairs of the same user at once each get their own answer.
(echo "Once upon a time" > /dev/llm; sleep 0.5; cat /dev/llm > /tmp/pair.1) &
(echo "The cat" > /dev/llm; cat /dev/llm > /tmp/pair.2) &
wait
check "two concurrent pairs of one user: the first gets its answer" \
	cmp /tmp/pair.1 /tmp/full.1
check "... the second its own" cmp /tmp/pair.2 /tmp/full.2

# A prompt whose request cannot start stays queued: nothing is lost.
echo "Once upon a time" > /dev/llm
check "llmctl unload" llmctl unload
check_match "cat with no model loaded says so" 'No data available' \
	"$(cat /dev/llm 2>&1)"
check "llmctl load" llmctl load -q $M
cat /dev/llm > /tmp/os.2
check "... and the next cat gets the answer" cmp /tmp/os.2 /tmp/full.1

# The queue is full (16 users with 4 prompts each): a new write is
# refused with EAGAIN and a log line, not dropped later.
dmesg_mark
for u in 2000 2001 2002 2003 2004 2005 2006 2007 2008 2009 2010 2011 2012 \
	 2013 2014 2015; do
	llmtest runas $u sh -c 'for i in 1 2 3 4; do echo x > /dev/llm; done'
done
check_eq "a new user's one-shot write, with the queue full, is EAGAIN" \
	"w EAGAIN" "$(llmtest runas 3000 llmprobe w x)"
check_dmesg "... and the log says why" \
	'write refused: the one-shot queue is full \(64 places, 4 per user\)'
check_eq "a file that has read writes without the queue" \
	"r1 ok 0|w ok 4|r ok 68" \
	"$(llmtest runas 3000 llmprobe $G r1 w Once r - | tr '\n' '|' |
	   sed 's/^params ok|//; s/|$//')"
check_eq "a user with prompts queued makes room with its own oldest" \
	"w ok 2" "$(llmtest runas 2000 llmprobe w xy)"

# A queued prompt is dropped after queue_ttl_s (60 s here; the reload below
# makes it 2 s so the test need not wait a minute).
check_eq "queue_ttl_s is 60 by default" 60 "$(llm_param queue_ttl_s)"

# --- afterwards ---------------------------------------------------------------

check_eq "every session slot is free" 0 "$(llm_sys sessions_active)"
check_eq "nothing is running" 0 "$(llm_sys requests_running)"
check_eq "the arena is at its model-only level" "$A0" "$(llm_sys arena_used)"
check "rmmod llm" llm_unload

check "insmod llm.ko queue_ttl_s=2" llm_load queue_ttl_s=2 || return
check "llmctl load" llmctl load -q "$M" || return
echo "Once" > /dev/llm
check_range "a prompt taken within queue_ttl_s is served (bytes)" 1 100000 \
	"$(cat /dev/llm | wc -c)"
echo "Once" > /dev/llm
sleep 3
check_eq "... one older than queue_ttl_s is gone" 0 "$(cat /dev/llm | wc -c)"
check "rmmod llm" llm_unload
