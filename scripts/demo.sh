#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot Debian's kernel under QEMU, insmod llm.ko, load a model
# into the kernel and print the story the kernel generates.
#
#   make demo [MODEL=FILE.gguf] [PROMPT="Once upon a time"] [TOKENS=256]
#             [TEMP=0] [SEED=0]
#
# MODEL defaults to models/stories260K.gguf.  TEMP=0 is greedy, which for
# stories260K gives llama2.c's reference story.  TOKENS is what llmctl
# generate asks for and the module's max_new_tokens (so the one-shot
# `cat /dev/llm` stops there too).
#
# The arena is what `llmctl info -m MODEL --arena-mb` says the model and
# the module's 8 sessions need; the guest gets twice that (the module
# takes at most half of RAM) plus room for the model file in its initramfs.
#
# What the guest prints goes to standard output as it comes (the story
# line by line); progress and errors go to standard error.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MODEL=${MODEL:-models/stories260K.gguf}
PROMPT=${PROMPT:-}
TOKENS=${TOKENS:-256}
TEMP=${TEMP:-0}
SEED=${SEED:-0}
# Guest RAM besides the arena and the model file: kernel, busybox, tests.
BASE_MB=128
MIN_MEM_MB=512

if [ ! -r "$MODEL" ]; then
	cat >&2 <<EOT
make demo: no model at $MODEL.

The default is models/stories260K.gguf (a 260K-parameter TinyStories
Llama, shipped in models/).  To use another model, point MODEL at a GGUF
file (llama architecture; F32, F16, Q8_0 or Q4_0 tensors), for example one
converted from a llama2.c checkpoint such as stories15M.bin and its
tokenizer.bin (karpathy/tinyllamas on Hugging Face):

    build/llmctl convert llama2c stories15M.bin tokenizer.bin stories15M.gguf
    build/llmctl quantize stories15M.gguf stories15M-q8.gguf q8_0
    make demo MODEL=stories15M-q8.gguf

Nothing is downloaded by this project.
EOT
	exit 1
fi
case $TOKENS in ''|*[!0-9]*|0) echo "make demo: TOKENS must be a number of at least 1" >&2; exit 2 ;; esac

scripts/setup.sh
make -s BUILD="$BUILD" module user >/dev/null

# The arena holds the model, its tables and the sessions' contexts.
if ! arena=$("$BUILD/llmctl" info -m "$MODEL" --arena-mb); then
	echo "make demo: $MODEL cannot be loaded (see above)" >&2
	exit 1
fi
model_mb=$(( ($(stat -L -c %s "$MODEL") + 1048575) / 1048576 ))
mem=$(( 2 * arena + model_mb + BASE_MB ))
[ $mem -ge $MIN_MEM_MB ] || mem=$MIN_MEM_MB
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
if [ -n "$avail" ] && [ "$mem" -gt "$avail" ]; then
	echo "make demo: $MODEL needs a ${arena} MiB arena and so a ${mem} MiB guest, but this machine has ${avail} MiB available" >&2
	exit 1
fi

D=$BUILD/demo
rm -rf "$D/tests" "$D/extra"
mkdir -p "$D/tests" "$D/extra"
cp "$MODEL" "$D/extra/model.gguf"
printf '%s' "$PROMPT" > "$D/extra/prompt.txt"
cat > "$D/tests/demo.sh" <<EOT
# timeout: 1800
# memory: ${mem}M
dmesg -n 1
say() { printf '\n=== %s\n' "\$*"; }
say "insmod llm.ko arena_mb=$arena max_new_tokens=$TOKENS"
check "insmod llm.ko" llm_load arena_mb=$arena max_new_tokens=$TOKENS || return
say "llmctl load $(basename "$MODEL")"
llmctl load /extra/model.gguf
check_eq "the model is loaded" 1 "\$(cat /sys/kernel/llm/model_loaded)" || return
say "llmctl info"
llmctl info
say "the kernel writes a story: llmctl generate -n $TOKENS -t $TEMP -s $SEED"
llmctl generate -n $TOKENS -t $TEMP -s $SEED "\$(cat /extra/prompt.txt)"
check "the kernel generated text" test "\$(cat /sys/kernel/llm/tokens_generated_total)" -gt 0
say "echo 'Once upon a time' > /dev/llm; cat /dev/llm"
echo "Once upon a time" > /dev/llm
cat /dev/llm
echo
say "/sys/kernel/llm"
for f in model_name model_params model_types model_kernels arena_used \\
	 requests_total tokens_generated_total decode_tok_per_s; do
	printf '%-24s %s\n' "\$f" "\$(cat /sys/kernel/llm/\$f)"
done
say "rmmod llm"
check "rmmod llm" rmmod llm
EOT

# The guest's console, as run.sh --console shows it on stderr, cut to what
# the demo script prints (to stdout) and the harness's notes (to stderr).
# A line at a time as it comes, in the shell: awk (mawk) would wait to
# fill its input buffer, and nothing would show until the guest was done.
console_filter() {
	local line show=0

	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		"qemu-tests: "*) printf '%s\n' "$line" >&2; continue ;;
		"=== llm-qemu: results"*) show=0 ;;
		"=== insmod"*) show=1 ;;
		esac
		case $line in "=== llm-qemu:"*|"PASS qemu/"*) continue ;; esac
		[ $show = 0 ] || printf '%s\n' "$line"
	done
}

echo "make demo: booting the VM with ${mem} MiB (under plain emulation this takes a while)..." >&2
# A pipeline, not a process substitution: the shell waits for the filter
# before it goes on, so the story is out before "done", in a file too.
set +e
qemu-tests/run.sh --console -j 1 --tests-dir "$D/tests" --extra "$D/extra" \
	--out "$D/out" demo 2>&1 > "$D/results.txt" | console_filter
st=${PIPESTATUS[0]}
set -e
if [ "$st" -ne 0 ]; then
	echo "make demo: failed; results:" >&2
	cat "$D/results.txt" >&2
	echo "full console log: $D/out/logs/demo.log" >&2
	exit 1
fi
echo "make demo: done (console log: $D/out/logs/demo.log)" >&2
