/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model bound from a GGUF image, and the per-conversation context that
 * runs it.  Shared core: builds in the kernel and in userspace.
 *
 * Three roles, as in llama2.c: struct llm_config (hyper-parameters, never
 * change), struct llm_model (views into the image: no copies), struct
 * llm_ctx (the mutable activations and KV cache of one conversation, all
 * reserved once from the arena).
 *
 * Float values are carried as raw IEEE bits and float buffers as pointers,
 * so non-FPU objects can include this header.
 */
#ifndef LLM_MODEL_H
#define LLM_MODEL_H

#include "platform.h"
#include "gguf.h"
#include "tokenizer.h"
#include "../../arena/arena.h"

#define LLM_MAX_LAYERS		512
#define LLM_MAX_HEAD_DIM	512

struct llm_config {
	u32 n_vocab;
	u32 n_embd;
	u32 n_layers;
	u32 n_heads;
	u32 n_kv_heads;
	u32 n_ff;
	u32 n_ctx_train;
	u32 head_dim;		/* n_embd / n_heads */
	u32 kv_dim;		/* n_kv_heads * head_dim */
	u32 n_rot;		/* leading dims of a head that RoPE rotates */
	u32 rope_base_bits;	/* float: rope frequency base */
	u32 rms_eps_bits;	/* float: RMSNorm epsilon */
};

/* A 2-D weight matrix: @rows rows of @cols elements, or a 1-D vector. */
struct llm_weight {
	u32 type;		/* enum llm_type */
	u64 rows;
	u64 cols;
	u64 row_bytes;
	const u8 *data;
};

struct llm_layer {
	struct llm_weight attn_norm;
	struct llm_weight wq, wk, wv, wo;
	struct llm_weight ffn_norm;
	struct llm_weight gate, up, down;
};

struct llm_model {
	struct llm_gguf gguf;
	struct llm_config cfg;
	struct llm_weight tok_embd;
	struct llm_weight output_norm;
	struct llm_weight output;	/* = tok_embd when the file ties them */
	struct llm_layer *layers;
	struct llm_vocab vocab;
	const struct llm_kernels *kernels;
	float *rope_freq;		/* n_rot / 2 inverse frequencies */
	char name[64];
	char arch[16];
	u64 n_params;
	u32 type_mask;			/* 1 << type for each type present */
	u32 max_row;			/* longest activation a matvec reads */
	bool tied_output;
};

/*
 * Bind @image (a whole GGUF file, which must outlive the model) as a model.
 * Tables go into @arena.  @force_ref picks the scalar reference kernels.
 * On error: negative errno, a sentence in @err, the arena rewound.
 */
int llm_model_load(struct llm_model *m, const void *image, u64 len,
		   struct llm_arena *arena, bool force_ref,
		   char *err, size_t errlen);

/* One sampling candidate (sampler scratch). */
struct llm_prob {
	u32 bits;		/* float probability or logit */
	u32 id;
};

struct llm_ctx {
	const struct llm_model *m;
	u32 n_ctx;		/* positions this context holds */
	u32 n_past;		/* positions whose K/V are cached */
	float *x;		/* hidden state, n_embd */
	float *xb;		/* n_embd scratch (normed input) */
	float *xb2;		/* n_embd scratch (projection out) */
	float *q;		/* n_embd */
	float *hb;		/* n_ff */
	float *hb2;		/* n_ff */
	float *att;		/* n_heads * n_ctx scores */
	float *logits;		/* n_vocab */
	void *xq;		/* activations quantized to Q8_0 */
	float *k_cache;		/* n_layers * n_ctx * kv_dim */
	float *v_cache;
	float *rope_cs;		/* cos, sin of each rotated pair at rope_pos */
	u32 rope_pos;
	struct llm_prob *probs;	/* n_vocab, sampler scratch */
	u32 *tokens;		/* n_ctx: the tokens in context */
	u32 pending;		/* sampled and shown, not yet in the cache */
	char *piece;		/* vocab.max_len bytes: one token's text */
	void *tok_scratch;	/* tokenizer work area */
	u64 tok_scratch_bytes;
	u32 max_prompt_bytes;	/* longest prompt the scratch serves */
};

/* Arena bytes one context of @n_ctx positions needs (U64_MAX: overflow). */
u64 llm_ctx_bytes(const struct llm_model *m, u32 n_ctx, u32 max_prompt_bytes);
int llm_ctx_init(struct llm_ctx *c, const struct llm_model *m, u32 n_ctx,
		 u32 max_prompt_bytes, struct llm_arena *arena);
/* Forget the conversation (the KV cache is simply overwritten later). */
void llm_ctx_reset(struct llm_ctx *c);

/*
 * The forward pass, in pieces so that callers can bracket each piece with
 * llm_fpu_begin()/llm_fpu_end() and run any layer range [first, last) on
 * the hidden state c->x (forward.c, an FPU object).
 */
void llm_forward_embed(struct llm_ctx *c, u32 token);
void llm_forward_layer(struct llm_ctx *c, u32 layer, u32 pos);
void llm_forward_logits(struct llm_ctx *c);
/* Model-load-time float work: the RoPE table. */
void llm_model_init_rope(struct llm_model *m);

#endif /* LLM_MODEL_H */
