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
#include "arch.h"
#include "../../arena/arena.h"
#include "../../quant/quant.h"

#define LLM_MAX_LAYERS		512
#define LLM_MAX_HEAD_DIM	512
#define LLM_MAX_EXPERTS		256

struct llm_config {
	u32 n_vocab;
	u32 n_embd;
	u32 n_layers;
	u32 n_heads;
	u32 n_kv_heads;
	u32 n_ff;
	u32 n_ctx_train;
	u32 head_dim;		/* key_length: n_embd / n_heads unless given */
	u32 q_dim;		/* n_heads * head_dim */
	u32 kv_dim;		/* n_kv_heads * head_dim */
	u32 x_dim;		/* max(n_embd, q_dim): a token's scratch rows */
	u32 n_rot;		/* leading dims of a head that RoPE rotates */
	u32 rope_base_bits;	/* float: rope frequency base */
	u32 rms_eps_bits;	/* float: the norm's epsilon (RMS or Layer) */
	u32 n_expert;		/* experts per layer (0: a dense FFN) */
	u32 n_expert_used;	/* experts each token runs */
	u32 n_ff_exp;		/* an expert's hidden width */
	u32 ff_dim;		/* max(n_ff, n_ff_exp): scratch rows */
	const struct llm_arch *arch;
};

/* A 2-D weight matrix: @rows rows of @cols elements, or a 1-D vector. */
struct llm_weight {
	u32 type;		/* enum llm_type */
	u32 layout;		/* enum llm_mm_layout: as in the file, or repacked */
	u64 rows;
	u64 cols;
	u64 row_bytes;
	const u8 *data;
};

/*
 * One block's tensors.  Those an architecture lacks stay zero (data NULL);
 * biases and norms are F32 vectors.  A fused Q/K/V matrix is bound as three
 * views of its rows; experts as n_expert views of each 3-D tensor.
 */
struct llm_layer {
	struct llm_weight attn_norm, attn_norm_b;
	struct llm_weight wq, wk, wv, wo;
	struct llm_weight bq, bk, bv, bo;
	struct llm_weight q_norm, k_norm;	/* head_dim each */
	struct llm_weight ffn_norm, ffn_norm_b;
	struct llm_weight gate, up, down;
	struct llm_weight b_up, b_down;
	struct llm_weight gate_inp;		/* router: n_expert rows */
	struct llm_weight *gate_exps, *up_exps, *down_exps;
};

struct llm_model {
	struct llm_gguf gguf;
	struct llm_config cfg;
	struct llm_weight tok_embd;
	struct llm_weight pos_embd;	/* learned positions, or none */
	struct llm_weight output_norm, output_norm_b;
	struct llm_weight output;	/* = tok_embd when the file ties them */
	struct llm_layer *layers;
	struct llm_vocab vocab;
	const struct llm_kernels *kernels;
	float *rope_freq;		/* n_rot / 2 inverse frequencies */
	/*
	 * rope_freqs.weight: n_rot / 2 divisors of the angles (Llama 3.1's
	 * RoPE scaling, as ggml's freq_factors), or NULL
	 */
	const float *rope_factors;
	char name[64];
	char arch[16];
	u64 n_params;
	u32 type_mask;			/* 1 << type for each type present */
	u32 max_row;			/* longest activation a matvec reads */
	bool tied_output;
	/*
	 * The layers bound, [first, end): all of them, or a ring node's
	 * share (slice.h), with the embedding only when first is 0 and the
	 * classifier only when end is n_layers.
	 */
	u32 layer_first, layer_end;
};

static inline bool llm_model_whole(const struct llm_model *m)
{
	return !m->layer_first && m->layer_end == m->cfg.n_layers;
}

/*
 * Bind @image (a whole GGUF file, which must outlive the model) as a model.
 * Tables go into @arena.  @force_ref picks the scalar reference kernels.
 * On error: negative errno, a sentence in @err, the arena rewound.
 */
int llm_model_load(struct llm_model *m, const void *image, u64 len,
		   struct llm_arena *arena, bool force_ref,
		   char *err, size_t errlen);
/*
 * The same binding only layers [@first, @end) (@end 0: to the last) and
 * what they need: a ring node's share.  The image may be a slice
 * (slice.h) that lacks the other layers' tensors.
 */
int llm_model_load_layers(struct llm_model *m, const void *image, u64 len,
			  u32 first, u32 end, struct llm_arena *arena,
			  bool force_ref, char *err, size_t errlen);

/*
 * Lay the Q8_0 and Q4_0 matrices out for the matrix tiles (LLM_MM_X8,
 * quant/quant.h), in place: the image must be writable, and is no longer
 * the file's bytes after (only the tiles read these matrices).  Results
 * are bitwise the same either way; the tiles read repacked rows faster.
 * Scratch comes from @arena and is given back.  0 or -ENOMEM.
 */
int llm_model_repack(struct llm_model *m, struct llm_arena *arena);

/* One sampling candidate (sampler scratch). */
struct llm_prob {
	u32 bits;		/* float probability or logit */
	u32 id;
};

/*
 * Per-executor scratch: the activations of one forward step over a batch
 * of up to @n_batch tokens (exec.c).  Nothing in it outlives a step, so a
 * conversation can run on any executor, one step at a time.
 */
struct llm_ctx;
struct llm_kv;

/* One token of a step: whose, at which position, logits or not. */
struct llm_item {
	struct llm_ctx *c;
	u32 token;
	u32 pos;
	bool logits;
};

struct llm_exec {
	const struct llm_model *m;
	u32 n_batch;		/* tokens one step may carry */
	u32 n_workers;		/* threads one step may use */
	u32 n_ctx;		/* longest context it serves (attention) */
	u64 task_macs;		/* most multiply-adds in one FPU section */
	u64 split_macs;		/* least work a task is split down to */
	float *x;		/* n_batch * n_embd hidden states */
	float *xb;		/* n_batch * x_dim normed / attention out */
	float *xb2;		/* n_batch * x_dim projection out */
	float *q;		/* n_batch * x_dim queries */
	float *hb;		/* n_batch * ff_dim */
	float *hb2;		/* n_batch * ff_dim */
	void *xq;		/* n_batch rows of x_dim activations, Q8_0 */
	void *xqk;		/* ... and as K-quants' act columns */
	void *xq_ff;		/* n_batch rows of ff_dim activations, Q8_0 */
	float *att;		/* n_workers * (n_ctx + 2) scores and sums */
	float *rope_cs;		/* n_batch * n_rot: cos, sin per position */
	float *k, *v;		/* n_batch * kv_dim: this step's K and V */
	float *logits;		/* LLM_EXEC_LOGITS * n_vocab */
	struct llm_item *item;	/* n_batch: the step's tokens */
	/* experts only (exec.c moe()) */
	float *router;		/* n_batch * n_expert router logits */
	u32 *route_ids;		/* n_batch * n_expert_used choices */
	float *route_w;		/* ... and their weights */
	float *moe_out;		/* n_batch * n_expert_used * n_embd outputs */
	float *gx;		/* gathered inputs of one expert, floats */
	void *gxq, *gxqk;	/* ... and quantized, both ways */
	u32 *gtok;		/* ... whose choices (token * k + slot) */
};

/* Rows of logits one pass of the classifier computes. */
#define LLM_EXEC_LOGITS		8

/*
 * One conversation: its KV pages, its tokens and what the sampler needs.
 * The owner sets @ex, the executor llm_exec_forward() runs its steps on,
 * and @kv, the pool of KV pages (userctl/runtime.c: its own; the kernel:
 * the model's, shared by every session).
 */
struct llm_ctx {
	const struct llm_model *m;
	struct llm_exec *ex;
	u32 n_ctx;		/* positions this context holds */
	u32 n_past;		/* positions whose K/V are cached */
	float *logits;		/* n_vocab: of the last token fed */
	struct llm_kv *kv;	/* the pool its K/V pages come from (kv.h) */
	u32 *pages;		/* its pages, for positions 0, 16, 32, ... */
	u32 n_pages;		/* pages mapped */
	struct llm_prob *probs;	/* n_vocab, sampler scratch */
	u32 *tokens;		/* n_ctx: the tokens in context */
	u32 pending;		/* sampled and shown, not yet in the cache */
	char *piece;		/* vocab.max_len bytes: one token's text */
	void *tok_scratch;	/* tokenizer work area */
	u64 tok_scratch_bytes;
	u32 max_prompt_bytes;	/* longest prompt the scratch serves */
};

/* Tokens one forward step carries by default (prefill batch). */
#define LLM_BATCH_DEFAULT	32

/*
 * Arena bytes of an executor for batches of @n_batch tokens on @n_workers
 * threads over contexts of up to @n_ctx positions (U64_MAX: overflow).
 */
u64 llm_exec_bytes(const struct llm_model *m, u32 n_batch, u32 n_workers,
		   u32 n_ctx);
int llm_exec_init(struct llm_exec *ex, const struct llm_model *m,
		  u32 n_batch, u32 n_workers, u32 n_ctx,
		  struct llm_arena *arena);

/* Arena bytes one context of @n_ctx positions needs (U64_MAX: overflow). */
u64 llm_ctx_bytes(const struct llm_model *m, u32 n_ctx, u32 max_prompt_bytes);
int llm_ctx_init(struct llm_ctx *c, const struct llm_model *m, u32 n_ctx,
		 u32 max_prompt_bytes, struct llm_arena *arena);
/* Forget the conversation (the KV cache is simply overwritten later). */
void llm_ctx_reset(struct llm_ctx *c);

/*
 * The forward pass as leaf functions over bounded pieces of work
 * (forward.c, an FPU object: callers bracket every call with
 * llm_fpu_begin()/llm_fpu_end(); no leaf brackets, yields or sleeps).
 * exec.c strings them together; see exec.h.
 */
void llm_fwd_embed(const struct llm_model *m, u32 token, float *x);
/* out = RMSNorm(x) * w over @n; @eps_bits a float's bits */
void llm_fwd_rmsnorm(const struct llm_model *m, float *out, const float *x,
		     const float *w, u32 n, u32 eps_bits);
/* cos, sin of every rotated pair at @pos into @cs (n_rot floats) */
void llm_fwd_rope_table(const struct llm_model *m, u32 pos, float *cs);
/* rotate @n_heads heads of @v by the table @cs */
void llm_fwd_rope(const struct llm_model *m, float *v, u32 n_heads,
		  const float *cs);
/* out = the architecture's norm of x: RMSNorm by @w, or LayerNorm by @w, @b */
void llm_fwd_norm(const struct llm_model *m, float *out, const float *x,
		  const struct llm_weight *w, const struct llm_weight *b,
		  u32 n);
/* RMSNorm of each of @n_heads heads of @v by @w (head_dim weights) */
void llm_fwd_head_norm(const struct llm_model *m, float *v, u32 n_heads,
		       const struct llm_weight *w);
/* x += position @pos's learned embedding (@row: n_embd floats scratch) */
void llm_fwd_add_pos(const struct llm_model *m, u32 pos, float *x,
		     float *row);
/* y[i] = gelu(y[i]) for i in [i0, i1), as ggml's CPU backend */
void llm_fwd_gelu(float *y, u64 i0, u64 i1);
/*
 * The router: softmax of n_expert @logits, the n_expert_used largest
 * (@ids, highest first) and their probabilities normalised to sum 1
 */
void llm_fwd_route(const struct llm_model *m, const float *logits,
		   u32 *ids, float *weights);
/* y[i] += b[i] for i in [r0, r1) */
void llm_fwd_add_bias(float *y, const struct llm_weight *b, u64 r0, u64 r1);
/*
 * acc = w * y (@first), or acc += w * y, over @n; @w by address, as
 * non-FPU callers (exec.c) cannot pass a float in a register
 */
void llm_fwd_scale_add(float *acc, const float *y, const float *w,
		       bool first, u64 n);
/* y[i] += d[i] for i in [0, n) */
void llm_fwd_add(float *y, const float *d, u64 n);
/* g[i] = silu(g[i]) * u[i] for i in [i0, i1) */
void llm_fwd_swiglu(const struct llm_model *m, float *g, const float *u,
		    u64 i0, u64 i1);
/* @n floats as one activation column for Q8_0/Q4_0 tiles (kernels.h) */
void llm_fwd_quantize(const struct llm_model *m, const float *x, void *act,
		      u64 n);
/* ... and as one K act column for K-quant tiles */
void llm_fwd_quantize_k(const struct llm_model *m, const float *x, void *act,
			u64 n);
/* one tile of y = W x: rows [r0, r1), the tokens @mm names */
void llm_fwd_mm(const struct llm_model *m, u32 type,
		const struct llm_mm *mm, u64 r0, u64 r1);
/*
 * Attention of one query head over positions [p0, p1) of one layer, in
 * three passes each of which may be split over positions: scores
 * (st[0] keeps the running maximum), exp and sum (st[1]), then the
 * weighted sum of values into @out (zeroed when p0 == 0).  @k and @v
 * point at position p0's row of the head, of @kv_type (LLM_T_F32 or
 * LLM_T_F16); rows are kv_dim elements apart.
 */
void llm_fwd_attn_scores(const struct llm_model *m, const float *q,
			 u32 kv_type, const void *k, float *att, float *st,
			 u32 p0, u32 p1);
void llm_fwd_attn_exp(const struct llm_model *m, float *att, float *st,
		      u32 p0, u32 p1);
void llm_fwd_attn_values(const struct llm_model *m, const float *att,
			 const float *st, u32 kv_type, const void *v,
			 float *out, u32 p0, u32 p1);
/*
 * @n floats into a KV row of @kv_type (LLM_T_F16: rounded to nearest
 * even, as F16C and ggml round).
 */
void llm_fwd_kv_store(u32 kv_type, void *dst, const float *src, u32 n);
/* Model-load-time float work: the RoPE table. */
void llm_model_init_rope(struct llm_model *m);

#endif /* LLM_MODEL_H */
