# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# The architectures in the kernel: synthetic qwen2 (Q/K/V biases, NEOX
# RoPE), qwen3 (per-head Q/K norms, heads wider than dim / heads),
# qwen3moe (8 experts, 2 per token) and gpt2 (LayerNorm, fused Q/K/V,
# learned positions, GELU) models, in F32 and as llmctl quantizes them
# (Q8_0, Q4_0, Q4_K_M: repacked row views of the fused and expert
# tensors; inputs quantized both ways in the 8-expert mix), load, and the
# kernel generates exactly the tokens the userspace build of the same
# core gives, greedy, sampled (F32), and from a prompt that fills batches.
# tests/llama-diff.sh checks the same files' userspace output against
# llama.cpp.

check "insmod llm.ko" llm_load || return
for a in qwen2 qwen3 qwen3moe gpt2; do
	for t in f32 q8_0 q4_0 q4_k_m; do
		M=/extra/arch-$a-$t.gguf
		need $M "make qemu-extra"
		check "llmctl load arch-$a-$t.gguf" llmctl load -q $M || return
		check_eq "$a $t: model_arch" "$a" "$(llmctl info | sed -n 's/^model .*(\(.*\))$/\1/p')"
		kernel_same "$a $t greedy: kernel = userspace" "-q --ids -n 24 -t 0" "Once upon a time"
		[ $t = f32 ] &&
			kernel_same "$a $t sampled: kernel = userspace" "-q --ids -n 16 -t 0.9 -s 77" "Lily and Tom went"
		kernel_same "$a $t a 40-token prompt: kernel = userspace" "-q --ids -n 8 -t 0" "$(printf 'word %.0s' $(seq 40))"
	done
done
check "llmctl unload" llmctl unload
