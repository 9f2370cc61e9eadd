// SPDX-License-Identifier: GPL-2.0
/*
 * The architectures (see arch.h): what each computes, as llama.cpp's graph
 * for it does (src/models/<name>.cpp there).
 */
#include "arch.h"

static const struct llm_arch archs[] = {
	{ "llama", LLM_NORM_RMS, LLM_ROPE_PAIRS, LLM_FFN_SWIGLU, 0 },
	{ "qwen2", LLM_NORM_RMS, LLM_ROPE_HALVES, LLM_FFN_SWIGLU,
	  LLM_ARCH_QKV_BIAS },
	{ "qwen3", LLM_NORM_RMS, LLM_ROPE_HALVES, LLM_FFN_SWIGLU,
	  LLM_ARCH_QK_NORM },
	{ "qwen3moe", LLM_NORM_RMS, LLM_ROPE_HALVES, LLM_FFN_MOE,
	  LLM_ARCH_QK_NORM },
	{ "gpt2", LLM_NORM_LAYER, LLM_ROPE_NONE, LLM_FFN_GELU,
	  LLM_ARCH_FUSED_QKV | LLM_ARCH_POS_EMBD | LLM_ARCH_BIASES },
};

const char *llm_arch_names(void)
{
	return "llama, qwen2, qwen3, qwen3moe, gpt2";
}

const struct llm_arch *llm_arch_find(const char *name, u64 len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(archs); i++)
		if (strlen(archs[i].name) == len &&
		    !memcmp(archs[i].name, name, len))
			return &archs[i];
	return NULL;
}
