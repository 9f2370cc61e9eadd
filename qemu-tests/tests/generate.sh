# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# Inference in the kernel: load stories260K, generate through llmctl, the
# GENERATE ioctl and the shell one-shot, and check the kernel gives exactly
# the tokens the userspace build of the same core gives in this VM.

M=/models/stories260K.gguf
for f in $M /models/stories260K-Q8_0.gguf /models/stories260K-Q4_0.gguf \
	 /models/stories260K.bin /models/tok512.bin; do
	need $f "the project's models/ directory"
done

check "insmod llm.ko" llm_load || return
check "llmctl load $M" llmctl load $M || return
check_eq "sysfs model_loaded is 1" 1 "$(llm_sys model_loaded)"
check_eq "sysfs model_arch is llama" llama "$(llm_sys model_arch)"

same() {	# WHAT ARGS...: kernel and userspace give the same stdout
	local what="$1"
	shift
	llmctl generate -q "$@" > /tmp/k.out 2>/tmp/k.err
	llmctl generate -q -m "$M" "$@" > /tmp/u.out 2>/tmp/u.err
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

# Quantized models: the kernel's tokens are userspace's too.
for q in Q8_0 Q4_0; do
	QM=/models/stories260K-$q.gguf
	check "llmctl load $QM" llmctl load -q $QM || continue
	M=$QM same "$q: greedy, 200 token ids" --ids -n 200 -t 0 "Once upon a time"
	M=$QM same "$q: sampled, seed 7" --ids -n 200 -t 0.9 -s 7 "Tom"
done

# The GGUF llmctl convert makes, loaded in the kernel, gives the tokens
# llama.cpp's file gives.
check "llmctl convert llama2c in the guest" llmctl convert -q llama2c \
	/models/stories260K.bin /models/tok512.bin /tmp/conv.gguf
check "llmctl load the converted file" llmctl load -q /tmp/conv.gguf
llmctl generate -q --ids -n 255 -t 0 "" > /tmp/conv.ids
llmctl generate -q -m /models/stories260K.gguf --ids -n 255 -t 0 "" > /tmp/ref.ids
check "the converted model gives llama.cpp's file's 255 tokens in the kernel" \
	cmp -s /tmp/conv.ids /tmp/ref.ids
rm -f /tmp/conv.gguf

# An F16 KV cache (kv_type, applied at the next load): the kernel's tokens
# are userspace's with --kv-type f16.
check "kv_type=f16 is accepted at run time" \
	sh -c 'echo f16 > /sys/module/llm/parameters/kv_type'
check_eq "parameter kv_type reads f16" f16 "$(llm_param kv_type)"
check_fails "kv_type=q8 is refused" \
	sh -c 'echo q8 > /sys/module/llm/parameters/kv_type'
check_eq "... and kv_type stays f16" f16 "$(llm_param kv_type)"
check "llmctl load $M with an F16 KV cache" llmctl load -q $M
check_eq "sysfs model_kv_type is f16" f16 "$(llm_sys model_kv_type)"
for args in "--ids -n 255 -t 0 Once" "--ids -n 200 -t 1 -s 11 Tom"; do
	# shellcheck disable=SC2086 # the words are the arguments
	llmctl generate -q $args > /tmp/k16.out
	# shellcheck disable=SC2086
	llmctl generate -q -m $M --kv-type f16 $args > /tmp/u16.out
	check_range "f16 KV: the kernel gave token ids, $args" 100 255 \
		"$(wc -l < /tmp/k16.out)"
	check "f16 KV: kernel = userspace, $args" cmp -s /tmp/k16.out /tmp/u16.out
done
check "kv_type=f32 again" sh -c 'echo f32 > /sys/module/llm/parameters/kv_type'

check "llmctl unload" llmctl unload
check_eq "the arena is empty after unload" 0 "$(llm_sys arena_used)"
check "rmmod llm" llm_unload
