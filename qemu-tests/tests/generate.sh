# SPDX-License-Identifier: GPL-2.0
# timeout: 300
# Inference in the kernel: load stories260K, generate through llmctl, the
# GENERATE ioctl and the shell one-shot, and check the kernel gives exactly
# the tokens the userspace build of the same core gives in this VM.

M=/models/stories260K.gguf
[ -r $M ] || skip_all "no $M (../shared/models missing)"

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load $M || return
check_eq "sysfs model_loaded is 1" 1 "$(llm_sys model_loaded)"
check_eq "sysfs model_arch is llama" llama "$(llm_sys model_arch)"

same() {	# WHAT ARGS...: kernel and userspace give the same stdout
	local what="$1"
	shift
	llmctl generate -q "$@" > /tmp/k.out 2>/tmp/k.err
	llmctl generate -q -m $M "$@" > /tmp/u.out 2>/tmp/u.err
	if [ ! -s /tmp/k.out ]; then
		fail "$what" "the kernel printed nothing: $(cat /tmp/k.err)"
	elif cmp -s /tmp/k.out /tmp/u.out; then
		pass "$what"
	else
		fail "$what" "kernel '$(head -c 200 /tmp/k.out)' vs userspace '$(head -c 200 /tmp/u.out)'"
	fi
}

same "greedy, empty prompt, 255 token ids" --ids -n 255 -t 0 ""
same "greedy, empty prompt, 255 tokens of text" -n 255 -t 0 ""
same "greedy, 'Once upon a time'" --ids -n 200 -t 0 "Once upon a time"
same "sampled, seed 133742" --ids -n 200 -t 1 -p 0.9 -s 133742 ""
same "sampled, top-k 20, seed 5" --ids -n 100 -t 0.8 -k 20 -s 5 "Lily"

ring() {	# WHAT ARGS...: the mmap ring gives what read() gives
	local what="$1"
	shift
	llmctl generate -q "$@" > /tmp/r.out 2>/tmp/r.err
	llmctl generate -q --mmap "$@" > /tmp/m.out 2>/tmp/m.err
	if [ ! -s /tmp/m.out ]; then
		fail "$what" "the ring gave nothing: $(cat /tmp/m.err)"
	elif cmp -s /tmp/r.out /tmp/m.out; then
		pass "$what"
	else
		fail "$what" "read() '$(head -c 200 /tmp/r.out)' vs mmap '$(head -c 200 /tmp/m.out)'"
	fi
}

ring "mmap ring and read() give the same text" -n 200 -t 0 "Once upon a time"
ring "mmap ring and GENERATE give the same token ids" --ids -n 100 -t 1 -s 9 ""

llmctl generate -q -n 255 -t 0 "" > /tmp/story
check_match "the story starts as the reference does" \
	'^Once upon a time, there was a little girl named Lily\. She loved to play outside in the park\.' \
	"$(head -c 120 /tmp/story)"

echo "Once upon a time" > /dev/llm
cat /dev/llm > /tmp/oneshot
llmctl generate -q -m $M -n 256 -t 0 "Once upon a time" > /tmp/u1
check_eq "echo > /dev/llm; cat /dev/llm gives the completion" \
	"Once upon a time$(cat /tmp/oneshot)" "$(cat /tmp/u1)"

check "llmctl unload" llmctl unload
check_eq "the arena is empty after unload" 0 "$(llm_sys arena_used)"
check "rmmod llm" llm_unload
