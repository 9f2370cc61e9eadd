# SPDX-License-Identifier: GPL-2.0
# timeout: 240
# The byte-level BPE tokenizer in the kernel: models with a gpt2-style
# vocabulary split by each supported pre-tokenizer (gpt-2, llama-bpe,
# qwen2; made by mkmodel --bpe) load; a prompt of accents, CJK, emoji,
# digits, contractions and whitespace runs becomes as many tokens in the
# kernel as `llmctl tokenize` (the userspace build) gives, and the
# kernel's generation is token for token and byte for byte the userspace
# build's.  (The tokenizer itself against llama.cpp's: tests/llama-diff.sh.)

P1="It's 2024!  Café naïve 日本語 😀 I'M here,  they'RE 12345 x"
P2="$(printf 'line one\n\n  two\tthree   ')"

check "insmod llm.ko" llm_load || return
for pre in gpt-2 llama-bpe qwen2; do
	M=/extra/bpe-$pre.gguf
	need $M "make qemu-extra"
	check "llmctl load bpe-$pre.gguf" llmctl load -q $M || return
	for p in "$P1" "$P2"; do
		want=$(llmctl tokenize -m $M "$p" | wc -w)
		llmctl generate -n 1 -t 0 "$p" > /dev/null 2>/tmp/k.err
		check_eq "$pre: the kernel makes the prompt $want tokens, as llmctl tokenize" \
			"$want" "$(sed -n 's/^prompt tokens \([0-9]*\),.*/\1/p' /tmp/k.err)"
	done
	kernel_same "$pre: greedy ids" "-q --ids -n 40 -t 0" "$P1"
	kernel_same "$pre: greedy text" "-q -n 40 -t 0" "$P2"
	kernel_same "$pre: sampled text" "-q -n 40 -t 0.9 -s 11" "$P1"
done
check "llmctl unload" llmctl unload
