/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The architectures the engine runs, each as a short description of which
 * pieces of the forward pass run and how (arch.c).  exec.c reads these and
 * nothing else to decide; model.c binds the tensors they name.
 *
 *   llama     RMSNorm, Q/K/V, RoPE on adjacent pairs, SwiGLU
 *   qwen2     llama + biases on Q/K/V, RoPE on halves (NEOX)
 *   qwen3     llama + per-head RMSNorm of Q and K before RoPE, NEOX RoPE
 *   qwen3moe  qwen3 with a mixture of SwiGLU experts for the FFN
 *   gpt2      LayerNorm with bias, one fused Q/K/V matrix, learned
 *             positions (no RoPE), GELU, biases on every matrix
 *
 * Names are llama.cpp's (general.architecture; tensors as in llama-arch.cpp).
 */
#ifndef LLM_ARCH_H
#define LLM_ARCH_H

#include "platform.h"

enum llm_norm {
	LLM_NORM_RMS,		/* x / rms(x) * w */
	LLM_NORM_LAYER,		/* (x - mean) / sd(x) * w + b */
};

enum llm_rope {
	LLM_ROPE_PAIRS,		/* rotate (0,1), (2,3), ... (llama's "norm") */
	LLM_ROPE_HALVES,	/* rotate (i, i + n_rot/2) (GPT-NeoX's) */
	LLM_ROPE_NONE,		/* positions come from an embedding table */
};

enum llm_ffn {
	LLM_FFN_SWIGLU,		/* down(silu(gate(x)) * up(x)) */
	LLM_FFN_GELU,		/* down(gelu(up(x))) */
	LLM_FFN_MOE,		/* sum over the router's top k of SwiGLU experts */
};

/* enum llm_arch_flag */
#define LLM_ARCH_QKV_BIAS	(1u << 0)  /* attn_{q,k,v}.bias */
#define LLM_ARCH_QK_NORM	(1u << 1)  /* attn_{q,k}_norm: per head */
#define LLM_ARCH_FUSED_QKV	(1u << 2)  /* attn_qkv: Q, K, V rows in one */
#define LLM_ARCH_POS_EMBD	(1u << 3)  /* position_embd added to tokens */
#define LLM_ARCH_BIASES		(1u << 4)  /* every matrix and norm biased */

struct llm_arch {
	const char *name;	/* general.architecture */
	u8 norm;		/* enum llm_norm */
	u8 rope;		/* enum llm_rope */
	u8 ffn;			/* enum llm_ffn */
	u8 flags;		/* LLM_ARCH_* */
};

/* The architecture called @name (@len bytes), or NULL. */
const struct llm_arch *llm_arch_find(const char *name, u64 len);
/* "llama, qwen2, ...": for messages. */
const char *llm_arch_names(void);

#endif /* LLM_ARCH_H */
