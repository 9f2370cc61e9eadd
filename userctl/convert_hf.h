/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Hugging Face model directory to GGUF, with llama.cpp's conventions
 * (convert_hf_to_gguf.py): config.json, the *.safetensors files (F32,
 * F16 or BF16 tensors), tokenizer.json and tokenizer_config.json.  Used by
 * `llmctl convert hf`.
 *
 * Architectures (convert_hf_arch.c has a table each): LlamaForCausalLM
 * and MistralForCausalLM (GGUF llama, Q and K rows permuted as llama.cpp
 * permutes them), Qwen2ForCausalLM (qwen2), Qwen3ForCausalLM (qwen3),
 * Qwen3MoeForCausalLM (qwen3moe, experts stacked) and GPT2LMHeadModel
 * (gpt2, Conv1D weights transposed).  Tokenizers: byte-level BPE with
 * the Llama 3, Qwen2 or GPT-2 pre-tokenizer.  Anything else is refused
 * with a sentence naming it.
 */
#ifndef LLMCTL_CONVERT_HF_H
#define LLMCTL_CONVERT_HF_H

#include <stdbool.h>
#include <stddef.h>

#include "../llm/core/platform.h"

struct llm_convert_hf_stats {
	const char *arch;	/* the GGUF architecture written */
	const char *pre;	/* tokenizer.ggml.pre */
	u32 n_vocab, n_merges, n_tensors;
	u64 bytes_out;
};

/*
 * Convert @dir to @out_path, tensors in F32 or (@f16) F16; vectors, the
 * MoE router and GPT-2's position embedding F32.
 * 0, or a negative errno with a sentence in @err; nothing is written on
 * error.
 */
int llm_convert_hf(const char *dir, const char *out_path, bool f16,
		   struct llm_convert_hf_stats *st, char *err, size_t errlen);

#endif /* LLMCTL_CONVERT_HF_H */
