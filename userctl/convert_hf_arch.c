// SPDX-License-Identifier: GPL-2.0
/*
 * The architectures `llmctl convert hf` knows, each one small description
 * (struct hf_arch): the Hugging Face class it reads, the GGUF
 * architecture it writes, what its config.json may say, its keys, and
 * tables of tensors (Hugging Face name -> GGUF name, how the data moves,
 * the shape the configuration gives it).  The names, keys, shapes and
 * which tensors stay F32 are llama.cpp's (convert_hf_to_gguf.py,
 * gguf-py's constants.py and tensor_mapping.py, the loaders in src/).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_hf_int.h"
#include "../llm/core/gguf.h"
#include "../quant/kernels.h"

/* How a Hugging Face tensor becomes the GGUF one. */
enum op {
	AS_IS,		/* the same rows in the same order */
	PERM_Q,		/* (A_PERMUTE) Q: each head's rotary halves to pairs */
	PERM_K,		/* the same for K, over the key/value heads */
	TRANSPOSE,	/* GPT-2's Conv1D keeps [in, out]; GGUF wants [out, in] */
	STACK,		/* one matrix per expert (the second %u), stacked */
};

/* A dimension, as the configuration gives it. */
enum dim {
	N_NONE, N_EMBD, N_FF, N_VOCAB, N_CTX, N_Q, N_KV, N_QKV, N_HEAD,
	N_EXPERT, N_FF_EXP,
};

enum { GLOBAL, LAYER };

#define OUTPUT	1	/* lm_head: absent or tied, the embedding serves */

struct tmap {
	const char *hf, *gguf;	/* "%u": the layer (then the expert) */
	u8 where, op, flags;
	u8 ne[3];		/* the GGUF shape, ne[0] first */
};

/* Keys, each "<arch>.<name>" of a hyper-parameter. */
enum key {
	K_END, K_BLOCKS, K_CTX, K_EMBD, K_FF, K_HEADS, K_HEADS_KV, K_THETA,
	K_RMS_EPS, K_LN_EPS, K_VOCAB, K_ROPE_DIM, K_KEY_LEN, K_EXPERTS,
	K_EXPERTS_USED, K_FF_EXP, K_FILE_TYPE,
};

static const char *const key_names[K_FILE_TYPE + 1] = {
	[K_BLOCKS] = "block_count",
	[K_CTX] = "context_length",
	[K_EMBD] = "embedding_length",
	[K_FF] = "feed_forward_length",
	[K_HEADS] = "attention.head_count",
	[K_HEADS_KV] = "attention.head_count_kv",
	[K_THETA] = "rope.freq_base",
	[K_RMS_EPS] = "attention.layer_norm_rms_epsilon",
	[K_LN_EPS] = "attention.layer_norm_epsilon",
	[K_VOCAB] = "vocab_size",
	[K_ROPE_DIM] = "rope.dimension_count",
	[K_EXPERTS] = "expert_count",
	[K_EXPERTS_USED] = "expert_used_count",
	[K_FF_EXP] = "expert_feed_forward_length",
};

/* What an architecture's config.json may say, and how it is read. */
#define A_LLAMA3_ROPE	(1u << 0)	/* rope_scaling of type llama3 */
#define A_HEAD_DIM	(1u << 1)	/* any head_dim (else hidden / heads) */
#define A_NO_BIAS	(1u << 2)	/* attention_bias, mlp_bias refused */
#define A_QWEN_SW	(1u << 3)	/* use_sliding_window refused */
#define A_SW		(1u << 4)	/* sliding_window < context refused */
#define A_MOE		(1u << 5)	/* Qwen3-MoE's expert keys */
#define A_GPT2		(1u << 6)	/* GPT-2's config names and checks */
#define A_PERMUTE	(1u << 7)	/* Q and K rows permuted (llama) */

struct hf_arch {
	const char *hf, *gguf;
	u32 flags;
	const char *prefix;	/* tried in front of names not found as they are */
	const struct tmap *const *tables;	/* NULL-terminated */
	const u8 *keys;		/* K_END-terminated, in llama.cpp's order */
};

#define END	{ NULL, NULL, 0, 0, 0, { 0 } }

static const struct tmap t_top[] = {
	{ "model.embed_tokens.weight", "token_embd.weight", GLOBAL, AS_IS, 0,
	  { N_EMBD, N_VOCAB } },
	{ "model.norm.weight", "output_norm.weight", GLOBAL, AS_IS, 0,
	  { N_EMBD } },
	{ "lm_head.weight", "output.weight", GLOBAL, AS_IS, OUTPUT,
	  { N_EMBD, N_VOCAB } },
	END
};

#define LAYER_NORMS \
	{ "model.layers.%u.input_layernorm.weight", "blk.%u.attn_norm.weight", \
	  LAYER, AS_IS, 0, { N_EMBD } }, \
	{ "model.layers.%u.post_attention_layernorm.weight", \
	  "blk.%u.ffn_norm.weight", LAYER, AS_IS, 0, { N_EMBD } }

/*
 * Q and K permuted for llama only (A_PERMUTE): GGUF llama rotates
 * adjacent pairs, Hugging Face the halves of a head; llama.cpp rotates
 * Qwen NEOX-style, the halves, as Hugging Face does.
 */
static const struct tmap t_attn[] = {
	LAYER_NORMS,
	{ "model.layers.%u.self_attn.q_proj.weight", "blk.%u.attn_q.weight",
	  LAYER, PERM_Q, 0, { N_EMBD, N_Q } },
	{ "model.layers.%u.self_attn.k_proj.weight", "blk.%u.attn_k.weight",
	  LAYER, PERM_K, 0, { N_EMBD, N_KV } },
	{ "model.layers.%u.self_attn.v_proj.weight", "blk.%u.attn_v.weight",
	  LAYER, AS_IS, 0, { N_EMBD, N_KV } },
	{ "model.layers.%u.self_attn.o_proj.weight", "blk.%u.attn_output.weight",
	  LAYER, AS_IS, 0, { N_Q, N_EMBD } },
	END
};

static const struct tmap t_qkv_bias[] = {
	{ "model.layers.%u.self_attn.q_proj.bias", "blk.%u.attn_q.bias",
	  LAYER, AS_IS, 0, { N_Q } },
	{ "model.layers.%u.self_attn.k_proj.bias", "blk.%u.attn_k.bias",
	  LAYER, AS_IS, 0, { N_KV } },
	{ "model.layers.%u.self_attn.v_proj.bias", "blk.%u.attn_v.bias",
	  LAYER, AS_IS, 0, { N_KV } },
	END
};

static const struct tmap t_qk_norm[] = {
	{ "model.layers.%u.self_attn.q_norm.weight", "blk.%u.attn_q_norm.weight",
	  LAYER, AS_IS, 0, { N_HEAD } },
	{ "model.layers.%u.self_attn.k_norm.weight", "blk.%u.attn_k_norm.weight",
	  LAYER, AS_IS, 0, { N_HEAD } },
	END
};

static const struct tmap t_mlp[] = {
	{ "model.layers.%u.mlp.gate_proj.weight", "blk.%u.ffn_gate.weight",
	  LAYER, AS_IS, 0, { N_EMBD, N_FF } },
	{ "model.layers.%u.mlp.up_proj.weight", "blk.%u.ffn_up.weight",
	  LAYER, AS_IS, 0, { N_EMBD, N_FF } },
	{ "model.layers.%u.mlp.down_proj.weight", "blk.%u.ffn_down.weight",
	  LAYER, AS_IS, 0, { N_FF, N_EMBD } },
	END
};

/* the router, and the experts stacked into one 3-D tensor each */
static const struct tmap t_moe[] = {
	{ "model.layers.%u.mlp.gate.weight", "blk.%u.ffn_gate_inp.weight",
	  LAYER, AS_IS, 0, { N_EMBD, N_EXPERT } },
	{ "model.layers.%u.mlp.experts.%u.gate_proj.weight",
	  "blk.%u.ffn_gate_exps.weight", LAYER, STACK, 0,
	  { N_EMBD, N_FF_EXP, N_EXPERT } },
	{ "model.layers.%u.mlp.experts.%u.up_proj.weight",
	  "blk.%u.ffn_up_exps.weight", LAYER, STACK, 0,
	  { N_EMBD, N_FF_EXP, N_EXPERT } },
	{ "model.layers.%u.mlp.experts.%u.down_proj.weight",
	  "blk.%u.ffn_down_exps.weight", LAYER, STACK, 0,
	  { N_FF_EXP, N_EMBD, N_EXPERT } },
	END
};

/* GPT-2 (names with or without "transformer."): Conv1D weights transposed */
static const struct tmap t_gpt2[] = {
	{ "wte.weight", "token_embd.weight", GLOBAL, AS_IS, 0,
	  { N_EMBD, N_VOCAB } },
	{ "wpe.weight", "position_embd.weight", GLOBAL, AS_IS, 0,
	  { N_EMBD, N_CTX } },
	{ "ln_f.weight", "output_norm.weight", GLOBAL, AS_IS, 0, { N_EMBD } },
	{ "ln_f.bias", "output_norm.bias", GLOBAL, AS_IS, 0, { N_EMBD } },
	{ "lm_head.weight", "output.weight", GLOBAL, AS_IS, OUTPUT,
	  { N_EMBD, N_VOCAB } },
	{ "h.%u.ln_1.weight", "blk.%u.attn_norm.weight", LAYER, AS_IS, 0,
	  { N_EMBD } },
	{ "h.%u.ln_1.bias", "blk.%u.attn_norm.bias", LAYER, AS_IS, 0,
	  { N_EMBD } },
	{ "h.%u.attn.c_attn.weight", "blk.%u.attn_qkv.weight", LAYER,
	  TRANSPOSE, 0, { N_EMBD, N_QKV } },
	{ "h.%u.attn.c_attn.bias", "blk.%u.attn_qkv.bias", LAYER, AS_IS, 0,
	  { N_QKV } },
	{ "h.%u.attn.c_proj.weight", "blk.%u.attn_output.weight", LAYER,
	  TRANSPOSE, 0, { N_EMBD, N_EMBD } },
	{ "h.%u.attn.c_proj.bias", "blk.%u.attn_output.bias", LAYER, AS_IS, 0,
	  { N_EMBD } },
	{ "h.%u.ln_2.weight", "blk.%u.ffn_norm.weight", LAYER, AS_IS, 0,
	  { N_EMBD } },
	{ "h.%u.ln_2.bias", "blk.%u.ffn_norm.bias", LAYER, AS_IS, 0,
	  { N_EMBD } },
	{ "h.%u.mlp.c_fc.weight", "blk.%u.ffn_up.weight", LAYER, TRANSPOSE, 0,
	  { N_EMBD, N_FF } },
	{ "h.%u.mlp.c_fc.bias", "blk.%u.ffn_up.bias", LAYER, AS_IS, 0,
	  { N_FF } },
	{ "h.%u.mlp.c_proj.weight", "blk.%u.ffn_down.weight", LAYER, TRANSPOSE,
	  0, { N_FF, N_EMBD } },
	{ "h.%u.mlp.c_proj.bias", "blk.%u.ffn_down.bias", LAYER, AS_IS, 0,
	  { N_EMBD } },
	END
};

static const struct tmap *const llama_tables[] = { t_top, t_attn, t_mlp, NULL };
static const struct tmap *const qwen2_tables[] = {
	t_top, t_attn, t_qkv_bias, t_mlp, NULL };
static const struct tmap *const qwen3_tables[] = {
	t_top, t_attn, t_qk_norm, t_mlp, NULL };
static const struct tmap *const qwen3moe_tables[] = {
	t_top, t_attn, t_qk_norm, t_moe, NULL };
static const struct tmap *const gpt2_tables[] = { t_gpt2, NULL };

/* the keys in the order llama.cpp's converter adds them */
static const u8 llama_keys[] = {
	K_BLOCKS, K_CTX, K_EMBD, K_FF, K_HEADS, K_HEADS_KV, K_THETA, K_RMS_EPS,
	K_KEY_LEN, K_FILE_TYPE, K_VOCAB, K_ROPE_DIM, K_END };
static const u8 qwen_keys[] = {
	K_BLOCKS, K_CTX, K_EMBD, K_FF, K_HEADS, K_HEADS_KV, K_THETA, K_RMS_EPS,
	K_KEY_LEN, K_FILE_TYPE, K_END };
static const u8 qwen3moe_keys[] = {
	K_BLOCKS, K_CTX, K_EMBD, K_FF, K_HEADS, K_HEADS_KV, K_THETA, K_RMS_EPS,
	K_EXPERTS, K_EXPERTS_USED, K_KEY_LEN, K_FILE_TYPE, K_FF_EXP, K_END };
static const u8 gpt2_keys[] = {
	K_BLOCKS, K_CTX, K_EMBD, K_FF, K_HEADS, K_LN_EPS, K_FILE_TYPE, K_END };

static const struct hf_arch archs[] = {
	{ "LlamaForCausalLM", "llama",
	  A_LLAMA3_ROPE | A_NO_BIAS | A_SW | A_PERMUTE, NULL,
	  llama_tables, llama_keys },
	{ "MistralForCausalLM", "llama",
	  A_LLAMA3_ROPE | A_NO_BIAS | A_SW | A_PERMUTE, NULL,
	  llama_tables, llama_keys },
	{ "Qwen2ForCausalLM", "qwen2", A_QWEN_SW, NULL, qwen2_tables,
	  qwen_keys },
	{ "Qwen3ForCausalLM", "qwen3", A_HEAD_DIM | A_NO_BIAS | A_QWEN_SW, NULL,
	  qwen3_tables, qwen_keys },
	{ "Qwen3MoeForCausalLM", "qwen3moe",
	  A_HEAD_DIM | A_NO_BIAS | A_QWEN_SW | A_MOE, NULL, qwen3moe_tables,
	  qwen3moe_keys },
	{ "GPT2LMHeadModel", "gpt2", A_GPT2, "transformer.", gpt2_tables,
	  gpt2_keys },
};

const char *hf_arch_name(const struct hf *h)
{
	return h->arch->gguf;
}

/* ---- config.json ---- */

/* The first of @keys config.json has, as a count; @def when none. */
static int get_any(struct hf *h, const char *const *keys, s64 def, u32 *out)
{
	for (; keys[1]; keys++)
		if (json_object_get(h->config, keys[0]) &&
		    !json_is_null(json_object_get(h->config, keys[0])))
			break;
	return hf_get_u32(h, keys[0], def, out);
}

static double num(json_t *o, const char *key, double def)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : def;
}

static bool truth(struct hf *h, const char *key)
{
	return json_is_true(json_object_get(h->config, key));
}

static int read_rope_scaling(struct hf *h)
{
	json_t *v = json_object_get(h->config, "rope_scaling");
	const char *type;

	if (!v || json_is_null(v))
		return 0;
	type = json_string_value(json_object_get(v, "rope_type"));
	if (!type)
		type = json_string_value(json_object_get(v, "type"));
	if (type && !strcmp(type, "llama3") && (h->arch->flags & A_LLAMA3_ROPE)) {
		h->rope_llama3 = v;
		return 0;
	}
	return hf_fail(h, -EINVAL, "config.json: rope_scaling of type %s is not supported%s",
		       type ? type : "unknown",
		       h->arch->flags & A_LLAMA3_ROPE ? " (llama3 is)" :
		       " for this architecture");
}

static int read_moe(struct hf *h)
{
	static const char *const sparse_step[] = { "decoder_sparse_step", NULL };
	json_t *only = json_object_get(h->config, "mlp_only_layers");
	u32 step = 1, shared = 0;
	int ret;

	ret = hf_get_u32(h, "num_experts", -1, &h->experts);
	if (!ret)
		ret = hf_get_u32(h, "num_experts_per_tok", -1, &h->experts_used);
	if (!ret)
		ret = hf_get_u32(h, "moe_intermediate_size", -1, &h->ffn_exp);
	if (!ret)
		ret = get_any(h, sparse_step, 1, &step);
	if (!ret)
		ret = hf_get_u32(h, "shared_expert_intermediate_size", 0, &shared);
	if (ret)
		return ret;
	if (!h->experts || !h->experts_used || h->experts_used > h->experts ||
	    !h->ffn_exp)
		return hf_fail(h, -EINVAL, "config.json: %u experts, %u used per token, %u wide do not make a mixture of experts",
			       h->experts, h->experts_used, h->ffn_exp);
	if (step != 1 || json_array_size(only))
		return hf_fail(h, -EINVAL, "config.json: dense layers among the experts' (decoder_sparse_step %u, mlp_only_layers) are not supported",
			       step);
	if (shared)
		return hf_fail(h, -EINVAL, "config.json: shared experts (shared_expert_intermediate_size) are not supported for qwen3moe");
	/* llama.cpp's qwen3moe always renormalises the chosen experts' weights */
	if (!truth(h, "norm_topk_prob"))
		return hf_fail(h, -EINVAL, "config.json: norm_topk_prob false (the chosen experts' weights not renormalised) is not supported; llama.cpp's qwen3moe renormalises them");
	return 0;
}

static int read_gpt2(struct hf *h)
{
	const char *act = json_string_value(json_object_get(h->config,
							    "activation_function"));
	u32 n_ctx = 0;
	int ret;

	ret = hf_get_u32(h, "n_positions", -1, &h->ctx);
	if (!ret)
		ret = hf_get_u32(h, "n_ctx", h->ctx, &n_ctx);
	if (ret)
		return ret;
	if (n_ctx != h->ctx)
		return hf_fail(h, -EINVAL, "config.json: n_ctx %u is not n_positions %u (the position embedding's rows)",
			       n_ctx, h->ctx);
	/* ggml's GELU is the tanh approximation, gelu_new */
	if (act && strcmp(act, "gelu_new") && strcmp(act, "gelu_pytorch_tanh"))
		return hf_fail(h, -EINVAL, "config.json: activation_function %s is not supported (gelu_new is)",
			       act);
	if (json_is_false(json_object_get(h->config, "scale_attn_weights")) ||
	    truth(h, "scale_attn_by_inverse_layer_idx") ||
	    truth(h, "add_cross_attention"))
		return hf_fail(h, -EINVAL, "config.json: GPT-2 attention other than scaled by 1/sqrt(head size) (scale_attn_weights, scale_attn_by_inverse_layer_idx, add_cross_attention) is not supported");
	h->eps = num(h->config, "layer_norm_epsilon", 1e-5);
	h->tied = !json_is_false(json_object_get(h->config,
						 "tie_word_embeddings"));
	return 0;
}

int hf_read_config(struct hf *h)
{
	static const char *const k_dim[] = { "hidden_size", "n_embd", NULL };
	static const char *const k_layers[] = { "num_hidden_layers", "n_layer", NULL };
	static const char *const k_heads[] = { "num_attention_heads", "n_head", NULL };
	static const char *const k_ffn[] = { "intermediate_size", "n_inner", NULL };
	json_t *a = json_object_get(h->config, "architectures"), *v;
	const char *name = json_string_value(json_array_get(a, 0));
	u32 sw = 0;
	size_t i;
	int ret;

	if (!name)
		return hf_fail(h, -EINVAL, "config.json names no architecture (architectures)");
	for (i = 0; i < ARRAY_SIZE(archs) && strcmp(archs[i].hf, name); i++)
		;
	if (i == ARRAY_SIZE(archs))
		return hf_fail(h, -EINVAL, "architecture %s is not supported (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM and GPT2LMHeadModel are)",
			       name);
	h->arch = &archs[i];
	if (json_object_get(h->config, "quantization_config"))
		return hf_fail(h, -EINVAL, "config.json: quantized checkpoints (quantization_config) are not supported; convert the unquantized model");
	ret = get_any(h, k_dim, -1, &h->dim);
	if (!ret)
		ret = get_any(h, k_layers, -1, &h->layers);
	if (!ret)
		ret = get_any(h, k_heads, -1, &h->heads);
	if (!ret)
		ret = hf_get_u32(h, "num_key_value_heads", h->heads, &h->kv_heads);
	if (!ret)
		ret = hf_get_u32(h, "vocab_size", 0, &h->vocab);
	if (!ret && (h->arch->flags & A_GPT2))
		ret = get_any(h, k_ffn, 4 * (s64)h->dim, &h->ffn);
	else if (!ret)
		ret = hf_get_u32(h, "intermediate_size", -1, &h->ffn);
	if (!ret && !(h->arch->flags & A_GPT2))
		ret = hf_get_u32(h, "max_position_embeddings", 4096, &h->ctx);
	if (ret)
		return ret;
	if (!h->dim || !h->heads || !h->kv_heads || h->heads % h->kv_heads ||
	    !h->layers || !h->ffn)
		return hf_fail(h, -EINVAL, "config.json: hidden_size %u, %u layers, %u heads, %u key/value heads and a feed-forward width of %u do not make a model",
			       h->dim, h->layers, h->heads, h->kv_heads, h->ffn);
	v = json_object_get(h->config, "head_dim");
	h->head_dim_given = v && !json_is_null(v) && !(h->arch->flags & A_GPT2);
	if (h->head_dim_given && (!json_is_integer(v) ||
				  json_integer_value(v) <= 0 ||
				  json_integer_value(v) > 65536))
		return hf_fail(h, -EINVAL, "config.json: head_dim is not a count");
	h->head_dim = h->head_dim_given ? (u32)json_integer_value(v) :
		      h->dim / h->heads;
	if (!h->head_dim_given && h->dim % h->heads)
		return hf_fail(h, -EINVAL, "config.json: hidden_size %u is not a multiple of %u heads",
			       h->dim, h->heads);
	if (h->head_dim_given && !(h->arch->flags & A_HEAD_DIM) &&
	    h->head_dim * h->heads != h->dim)
		return hf_fail(h, -EINVAL, "config.json: head_dim %u is not hidden_size / num_attention_heads, which %s needs",
			       h->head_dim, h->arch->gguf);
	if (h->head_dim % 2)
		return hf_fail(h, -EINVAL, "config.json: an odd head size %u cannot be rotated in pairs",
			       h->head_dim);
	ret = read_rope_scaling(h);
	if (ret)
		return ret;
	if ((h->arch->flags & A_QWEN_SW) && truth(h, "use_sliding_window"))
		return hf_fail(h, -EINVAL, "config.json: sliding-window attention (use_sliding_window) is not supported");
	if ((h->arch->flags & A_SW) &&
	    !hf_get_u32(h, "sliding_window", 0, &sw) && sw && sw < h->ctx)
		return hf_fail(h, -EINVAL, "config.json: sliding-window attention (sliding_window %u, under the context of %u) is not supported",
			       sw, h->ctx);
	if ((h->arch->flags & A_NO_BIAS) &&
	    (truth(h, "attention_bias") || truth(h, "mlp_bias")))
		return hf_fail(h, -EINVAL, "config.json: biases (attention_bias, mlp_bias) are not supported for %s",
			       h->arch->gguf);
	h->eps = num(h->config, "rms_norm_eps", 1e-6);
	h->theta = num(h->config, "rope_theta", 10000.0);
	h->tied = truth(h, "tie_word_embeddings");
	if (h->arch->flags & A_MOE)
		ret = read_moe(h);
	if (!ret && (h->arch->flags & A_GPT2)) {
		h->kv_heads = h->heads;
		ret = read_gpt2(h);
	}
	return ret;
}

/* ---- the keys ---- */

int hf_add_arch_keys(struct hf *h, struct llm_gguf_writer *w, bool f16)
{
	const char *arch = h->arch->gguf;
	char name[128];
	const u8 *k;
	int ret = 0;
	u32 v;

	for (k = h->arch->keys; !ret && *k != K_END; k++) {
		snprintf(name, sizeof(name), "%s.%s", arch,
			 *k == K_KEY_LEN ? "attention.key_length" :
			 key_names[*k] ? key_names[*k] : "");
		switch (*k) {
		case K_THETA:
			ret = llm_gguf_writer_add_f32(w, name, (float)h->theta);
			continue;
		case K_RMS_EPS:
		case K_LN_EPS:
			ret = llm_gguf_writer_add_f32(w, name, (float)h->eps);
			continue;
		case K_FILE_TYPE:
			ret = llm_gguf_writer_add_u32(w, "general.file_type",
						      f16 ? 1 : 0);
			continue;
		case K_KEY_LEN:
			/* written when config.json says head_dim, as llama.cpp does */
			if (!h->head_dim_given)
				continue;
			ret = llm_gguf_writer_add_u32(w, name, h->head_dim);
			snprintf(name, sizeof(name), "%s.attention.value_length",
				 arch);
			if (!ret)
				ret = llm_gguf_writer_add_u32(w, name, h->head_dim);
			continue;
		case K_BLOCKS: v = h->layers; break;
		case K_CTX: v = h->ctx; break;
		case K_EMBD: v = h->dim; break;
		case K_FF: v = h->ffn; break;
		case K_HEADS: v = h->heads; break;
		case K_HEADS_KV: v = h->kv_heads; break;
		case K_VOCAB: v = h->vocab; break;
		case K_ROPE_DIM: v = h->head_dim; break;
		case K_EXPERTS: v = h->experts; break;
		case K_EXPERTS_USED: v = h->experts_used; break;
		case K_FF_EXP: v = h->ffn_exp; break;
		default: v = 0; break;
		}
		ret = llm_gguf_writer_add_u32(w, name, v);
	}
	return ret ? hf_fail(h, ret, "%s", llm_gguf_writer_error(w)) : 0;
}

/* ---- the tensors ---- */

static u64 dim_of(const struct hf *h, u8 d)
{
	switch (d) {
	case N_EMBD: return h->dim;
	case N_FF: return h->ffn;
	case N_VOCAB: return h->vocab;
	case N_CTX: return h->ctx;
	case N_Q: return (u64)h->heads * h->head_dim;
	case N_KV: return (u64)h->kv_heads * h->head_dim;
	case N_QKV: return h->dim + 2ull * h->kv_heads * h->head_dim;
	case N_HEAD: return h->head_dim;
	case N_EXPERT: return h->experts;
	case N_FF_EXP: return h->ffn_exp;
	default: return 1;
	}
}

/*
 * F32 whatever --outtype says, as llama.cpp's converter keeps them:
 * vectors, norms, the router and the position embedding.
 */
static bool stays_f32(const char *gguf, u32 n_dims)
{
	size_t n = strlen(gguf);

	return n_dims < 2 || n < 7 || strcmp(gguf + n - 7, ".weight") ||
	       (n >= 12 && !strcmp(gguf + n - 12, "_norm.weight")) ||
	       strstr(gguf, ".ffn_gate_inp.") ||
	       !strcmp(gguf, "position_embd.weight");
}

static struct hf_tensor *find_arch(struct hf *h, const char *name)
{
	struct hf_tensor *t = hf_find(h, name);
	char alt[300];

	if (!t && h->arch->prefix) {
		snprintf(alt, sizeof(alt), "%s%s", h->arch->prefix, name);
		t = hf_find(h, alt);
	}
	return t;
}

/* "[a, b]": @ne in safetensors' order (the slowest dimension first). */
static const char *shape_str(char *buf, size_t len, const u64 *ne, u32 nd)
{
	size_t n = snprintf(buf, len, "[");
	u32 d;

	for (d = nd; d-- > 0 && n < len;)
		n += snprintf(buf + n, len - n, "%llu%s", (unsigned long long)ne[d],
			      d ? ", " : "]");
	return buf;
}

/* Row @r of the output comes from which row of the Hugging Face tensor? */
static u64 src_row(const struct hf *h, u8 op, u64 r, u64 rows)
{
	u64 heads = op == PERM_Q ? h->heads : h->kv_heads, hd, head, k;

	if ((op != PERM_Q && op != PERM_K) || !(h->arch->flags & A_PERMUTE))
		return r;
	/* as llama.cpp's LlamaModel.permute: new row 2j + s of a head is
	 * old row s * hd/2 + j (the halves of the rotation interleaved) */
	hd = rows / heads;
	head = r / hd;
	k = r % hd;
	return head * hd + (k % 2) * (hd / 2) + k / 2;
}

static int emit(struct hf *h, struct llm_gguf_writer *w, const struct tmap *m,
		u32 layer, bool f16)
{
	struct hf_tensor **src;
	u64 ne[3], want[3], rows, cols, n_mat, e, r, c, o = 0;
	u32 nd = 1, d, n_src = m->op == STACK ? h->experts : 1;
	char hn[256], gn[128], s1[64], s2[64];
	bool half;
	void *buf;
	int ret = 0;

	if ((m->flags & OUTPUT) && h->tied)
		return 0;	/* the embedding serves; skipped() lets it be */
	snprintf(gn, sizeof(gn), m->gguf, layer);
	for (d = 0; d < 3; d++) {
		ne[d] = dim_of(h, m->ne[d]);
		if (m->ne[d])
			nd = d + 1;
	}
	src = calloc(n_src, sizeof(*src));
	if (!src)
		return hf_fail(h, -ENOMEM, "out of memory");
	for (e = 0; e < n_src && !ret; e++) {
		struct hf_tensor *t;
		u32 tnd = m->op == STACK ? 2 : nd;

		snprintf(hn, sizeof(hn), m->hf, layer, (u32)e);
		t = find_arch(h, hn);
		if (!t && (m->flags & OUTPUT)) {
			free(src);
			return 0;	/* the embedding serves */
		}
		if (!t) {
			ret = hf_fail(h, -EINVAL, "tensor %s is missing", hn);
			break;
		}
		t->used = true;
		/* the shape Hugging Face stores, in ggml order */
		memcpy(want, ne, sizeof(want));
		if (m->op == TRANSPOSE)
			want[0] = ne[1], want[1] = ne[0];
		if (t->n_dims != tnd || t->ne[0] != want[0] ||
		    (tnd > 1 && t->ne[1] != want[1]))
			ret = hf_fail(h, -EINVAL, "tensor %s is %s; the configuration makes it %s",
				      t->name, shape_str(s1, sizeof(s1), t->ne, t->n_dims),
				      shape_str(s2, sizeof(s2), want, tnd));
		src[e] = t;
	}
	if (ret) {
		free(src);
		return ret;
	}
	cols = ne[0];
	rows = nd > 1 ? ne[1] : 1;
	n_mat = rows * cols;
	half = f16 && !stays_f32(gn, nd);
	buf = hf_buf(h, n_mat * n_src * (half ? 2 : 4));
	if (!buf) {
		free(src);
		return -ENOMEM;
	}
	for (e = 0; e < n_src; e++)
		for (r = 0; r < rows; r++)
			for (c = 0; c < cols; c++, o++) {
				const struct hf_tensor *t = src[e];
				float f = m->op == TRANSPOSE ?
					  hf_elem(t, c * rows + r) :
					  hf_elem(t, src_row(h, m->op, r, rows) *
						  cols + c);

				if (half)
					((u16 *)buf)[o] = llm_fp32_to_fp16(f);
				else
					((float *)buf)[o] = f;
			}
	free(src);
	return llm_gguf_writer_add_tensor(w, gn, half ? LLM_T_F16 : LLM_T_F32,
					  nd, ne, buf,
					  n_mat * n_src * (half ? 2 : 4)) ?
	       hf_fail(h, -EINVAL, "%s: %s", gn, llm_gguf_writer_error(w)) : 0;
}

/*
 * Llama 3.1's RoPE scaling as rope_freqs.weight, a divisor per rotated
 * pair, computed as llama.cpp's converter computes it: the inverse
 * frequency in float, the wavelength tests and the smoothing in double.
 */
static int add_rope_factors(struct hf *h, struct llm_gguf_writer *w)
{
	json_t *r = h->rope_llama3;
	double factor = num(r, "factor", 8.0), lo = num(r, "low_freq_factor", 1.0);
	double hi = num(r, "high_freq_factor", 4.0);
	double old_ctx = num(r, "original_max_position_embeddings", 8192.0);
	u32 dim = h->head_dim, i;
	u64 ne[1] = { dim / 2 };

	h->rope_factors = malloc(ne[0] * sizeof(float));
	if (!h->rope_factors)
		return hf_fail(h, -ENOMEM, "out of memory");
	for (i = 0; i < dim / 2; i++) {
		float freq = 1.0f / powf((float)h->theta, (float)(2 * i) / dim);
		double wavelen = 2 * M_PI / freq, smooth;

		if (wavelen < old_ctx / hi) {
			h->rope_factors[i] = 1.0f;
		} else if (wavelen > old_ctx / lo) {
			h->rope_factors[i] = (float)factor;
		} else {
			smooth = (old_ctx / wavelen - lo) / (hi - lo);
			h->rope_factors[i] = (float)(1 / ((1 - smooth) / factor +
							  smooth));
		}
	}
	return llm_gguf_writer_add_tensor(w, "rope_freqs.weight", LLM_T_F32, 1,
					  ne, h->rope_factors,
					  ne[0] * sizeof(float)) ?
	       hf_fail(h, -EINVAL, "%s", llm_gguf_writer_error(w)) : 0;
}

/* Tensors a checkpoint may hold that no GGUF file wants. */
static bool skipped(const struct hf *h, const char *n)
{
	size_t len = strlen(n);

	if (strstr(n, "rotary_emb.inv_freq"))
		return true;
	if (h->tied && strstr(n, "lm_head.weight") == n)
		return true;
	/* GPT-2's causal-mask buffers, saved by older transformers */
	return (h->arch->flags & A_GPT2) &&
	       ((len > 10 && !strcmp(n + len - 10, ".attn.bias")) ||
		(len > 17 && !strcmp(n + len - 17, ".attn.masked_bias")));
}

int hf_add_tensors(struct hf *h, struct llm_gguf_writer *w, bool f16)
{
	const struct tmap *const *tab;
	const struct tmap *m;
	u32 l, i;
	int ret;

	ret = h->rope_llama3 ? add_rope_factors(h, w) : 0;
	for (tab = h->arch->tables; *tab && !ret; tab++)
		for (m = *tab; m->hf && !ret; m++)
			if (m->where == GLOBAL)
				ret = emit(h, w, m, 0, f16);
	for (l = 0; l < h->layers && !ret; l++)
		for (tab = h->arch->tables; *tab && !ret; tab++)
			for (m = *tab; m->hf && !ret; m++)
				if (m->where == LAYER)
					ret = emit(h, w, m, l, f16);
	/* nothing may be left behind but what llama.cpp skips too */
	for (i = 0; i < h->n_t && !ret; i++)
		if (!h->t[i].used && !skipped(h, h->t[i].name))
			ret = hf_fail(h, -EINVAL, "tensor %s is not one a %s model has",
				      h->t[i].name, h->arch->gguf);
	return ret;
}
