// SPDX-License-Identifier: GPL-2.0
/*
 * Binding a parsed GGUF image to the llama architecture: hyper-parameters
 * from the llama.* keys, every tensor found by name and checked for type and
 * shape, the vocabulary, and the per-conversation contexts.
 *
 * A file loads only when the engine computes with it what the model means:
 * every key that could change the computation is one the engine honours or
 * has its neutral value, and every tensor is one the forward pass uses.
 * Anything else is refused with a sentence naming it (see check_keys() and
 * check_tensors()), never ignored.
 */
#include "model.h"
#include "kv.h"
#include "../../quant/quant.h"

#define LLM_ROPE_BASE_DEFAULT	0x461c4000u	/* 10000.0f */
#define LLM_RMS_EPS_DEFAULT	0x3727c5acu	/* 1e-5f */

struct binder {
	struct llm_model *m;
	char *err;
	size_t errlen;
	char key[64];		/* "<arch>.<name>": see akey() */
};

/* The architecture's key @name: "<arch>.<name>", in b->key. */
static const char *akey(struct binder *b, const char *name)
{
	llm_snprintf(b->key, sizeof(b->key), "%s.%s", b->m->arch, name);
	return b->key;
}

/* Hyper-parameters: the architecture's keys, "<arch>.<name>". */
static int need_u32(struct binder *b, const char *name, u32 lo, u32 hi,
		    u32 *out)
{
	const char *key = akey(b, name);
	int ret = llm_gguf_get_u32(&b->m->gguf, key, out);

	if (ret == -ENOENT) {
		llm_snprintf(b->err, b->errlen, "required key %s is missing", key);
		return -EINVAL;
	}
	if (ret || *out < lo || *out > hi) {
		llm_snprintf(b->err, b->errlen, "%s must be an integer in %u..%u",
			     key, lo, hi);
		return -EINVAL;
	}
	return 0;
}

static int opt_u32(struct binder *b, const char *name, u32 def, u32 lo,
		   u32 hi, u32 *out)
{
	const char *key = akey(b, name);
	int ret = llm_gguf_get_u32(&b->m->gguf, key, out);

	if (ret == -ENOENT) {
		*out = def;
		return 0;
	}
	if (ret || *out < lo || *out > hi) {
		llm_snprintf(b->err, b->errlen, "%s must be an integer in %u..%u",
			     key, lo, hi);
		return -EINVAL;
	}
	return 0;
}

/* A positive, finite float32 key, kept as bits. */
static int opt_f32(struct binder *b, const char *name, u32 def, u32 *out)
{
	const char *key = akey(b, name);
	int ret = llm_gguf_get_f32_bits(&b->m->gguf, key, out);

	if (ret == -ENOENT) {
		*out = def;
		return 0;
	}
	/* sign clear, exponent neither 0 (zero/subnormal) nor 255 (inf/nan) */
	if (ret || (*out >> 31) || ((*out >> 23) & 0xff) == 0 ||
	    ((*out >> 23) & 0xff) == 0xff) {
		llm_snprintf(b->err, b->errlen, "%s must be a positive finite float32",
			     key);
		return -EINVAL;
	}
	return 0;
}

static void copy_str(char *dst, size_t cap, struct llm_gguf_str s)
{
	size_t i, n = min_t(u64, s.len, cap - 1);

	for (i = 0; i < n; i++) {
		char ch = s.p[i];

		dst[i] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
	}
	dst[n] = '\0';
}

/* The hidden widths: dense FFN, experts, and what each needs. */
static int bind_ffn(struct binder *b)
{
	struct llm_config *c = &b->m->cfg;
	bool moe = c->arch->ffn == LLM_FFN_MOE;
	int ret;

	ret = opt_u32(b, "expert_count", 0, 0, LLM_MAX_EXPERTS, &c->n_expert);
	if (!ret && !moe && !c->n_expert)
		ret = opt_u32(b, "expert_used_count", 0, 0, LLM_MAX_EXPERTS,
			      &c->n_expert);
	if (!ret && !moe && c->n_expert) {
		llm_snprintf(b->err, b->errlen, "%s = %u: mixture-of-experts %s models are not supported (qwen3moe is)",
			     b->key, c->n_expert, b->m->arch);
		return -EINVAL;
	}
	if (!ret && moe && c->n_expert < 2) {
		llm_snprintf(b->err, b->errlen, "%s must be at least 2 for %s",
			     akey(b, "expert_count"), b->m->arch);
		return -EINVAL;
	}
	if (!ret && moe)
		ret = need_u32(b, "expert_used_count", 1, c->n_expert,
			       &c->n_expert_used);
	if (!ret && moe)
		ret = need_u32(b, "expert_feed_forward_length", 1, 1 << 20,
			       &c->n_ff_exp);
	/* a dense width is the experts' where a MoE file leaves it out */
	if (!ret)
		ret = moe ? opt_u32(b, "feed_forward_length", c->n_ff_exp, 1,
				    1 << 20, &c->n_ff) :
			    need_u32(b, "feed_forward_length", 1, 1 << 20,
				     &c->n_ff);
	c->ff_dim = max(c->n_ff, c->n_ff_exp);
	return ret;
}

/* Heads: count, width (key_length), how many RoPE rotates. */
static int bind_heads(struct binder *b)
{
	struct llm_config *c = &b->m->cfg;
	u32 value_length;
	int ret;

	ret = need_u32(b, "attention.head_count", 1, 1024, &c->n_heads);
	if (!ret)
		ret = opt_u32(b, "attention.head_count_kv", c->n_heads, 1,
			      c->n_heads, &c->n_kv_heads);
	if (ret)
		return ret;
	if (c->n_heads % c->n_kv_heads) {
		llm_snprintf(b->err, b->errlen, "%u key/value heads do not divide %u heads",
			     c->n_kv_heads, c->n_heads);
		return -EINVAL;
	}
	/* heads split the embedding unless the file gives their width */
	ret = opt_u32(b, "attention.key_length", 0, 2, LLM_MAX_HEAD_DIM,
		      &c->head_dim);
	if (!ret && !c->head_dim) {
		if (c->n_embd % c->n_heads || (c->n_embd / c->n_heads) % 2 ||
		    c->n_embd / c->n_heads > LLM_MAX_HEAD_DIM) {
			llm_snprintf(b->err, b->errlen, "%u heads (%u key/value heads) do not divide the embedding width %u into even head sizes up to %u",
				     c->n_heads, c->n_kv_heads, c->n_embd,
				     LLM_MAX_HEAD_DIM);
			return -EINVAL;
		}
		c->head_dim = c->n_embd / c->n_heads;
	}
	if (!ret)
		ret = opt_u32(b, "attention.value_length", c->head_dim, 1,
			      LLM_MAX_HEAD_DIM, &value_length);
	if (ret)
		return ret;
	if (value_length != c->head_dim) {
		llm_snprintf(b->err, b->errlen, "%s = %u: value heads of another width than key heads (%u) are not supported",
			     b->key, value_length, c->head_dim);
		return -EINVAL;
	}
	if (c->head_dim % 2 || (c->arch->rope == LLM_ROPE_NONE &&
				c->head_dim * c->n_heads != c->n_embd)) {
		llm_snprintf(b->err, b->errlen, "%u heads of width %u do not fit the embedding width %u",
			     c->n_heads, c->head_dim, c->n_embd);
		return -EINVAL;
	}
	c->q_dim = c->n_heads * c->head_dim;
	c->kv_dim = c->n_kv_heads * c->head_dim;
	c->x_dim = max(c->n_embd, c->q_dim);
	if (c->arch->rope == LLM_ROPE_NONE) {
		c->n_rot = 0;
		return 0;
	}
	ret = opt_u32(b, "rope.dimension_count", c->head_dim, 2, c->head_dim,
		      &c->n_rot);
	if (!ret && c->n_rot % 2) {
		llm_snprintf(b->err, b->errlen, "%s must be even", b->key);
		ret = -EINVAL;
	}
	if (!ret)
		ret = opt_f32(b, "rope.freq_base", LLM_ROPE_BASE_DEFAULT,
			      &c->rope_base_bits);
	return ret;
}

static int bind_config(struct binder *b)
{
	struct llm_model *m = b->m;
	struct llm_config *c = &m->cfg;
	struct llm_gguf_str s;
	int ret;

	if (llm_gguf_get_str(&m->gguf, "general.architecture", &s)) {
		llm_snprintf(b->err, b->errlen, "general.architecture is missing");
		return -EINVAL;
	}
	copy_str(m->arch, sizeof(m->arch), s);
	c->arch = llm_arch_find(s.p, s.len);
	if (!c->arch) {
		llm_snprintf(b->err, b->errlen, "architecture '%s' is not supported (only %s)",
			     m->arch, llm_arch_names());
		return -EINVAL;
	}
	if (!llm_gguf_get_str(&m->gguf, "general.name", &s))
		copy_str(m->name, sizeof(m->name), s);
	else
		memcpy(m->name, "unnamed", sizeof("unnamed"));

	ret = need_u32(b, "embedding_length", 1, 1 << 16, &c->n_embd);
	if (!ret)
		ret = need_u32(b, "block_count", 1, LLM_MAX_LAYERS,
			       &c->n_layers);
	if (!ret)
		ret = bind_ffn(b);
	if (!ret)
		ret = opt_u32(b, "context_length", 2048, 1, 1 << 20,
			      &c->n_ctx_train);
	if (!ret)
		ret = bind_heads(b);
	if (ret)
		return ret;
	/* the norm's epsilon: RMSNorm's key, or LayerNorm's */
	if (c->arch->norm == LLM_NORM_LAYER)
		return opt_f32(b, "attention.layer_norm_epsilon",
			       LLM_RMS_EPS_DEFAULT, &c->rms_eps_bits);
	return opt_f32(b, "attention.layer_norm_rms_epsilon",
		       LLM_RMS_EPS_DEFAULT, &c->rms_eps_bits);
}

static int fill_weight(struct binder *b, struct llm_weight *w,
		       const struct llm_gguf_tensor *t, const char *name,
		       u64 cols, u64 rows);

/*
 * Find tensor @name and check it is @rows x @cols (rows = 1 for a vector).
 * Vectors (norm weights) must be F32.  Absent and @optional: w->data NULL.
 */
static int bind_tensor(struct binder *b, struct llm_weight *w,
		       const char *name, u64 cols, u64 rows, bool optional)
{
	const struct llm_gguf_tensor *t = llm_gguf_find_tensor(&b->m->gguf,
							       name);
	u32 d;

	memset(w, 0, sizeof(*w));
	if (!t) {
		if (optional)
			return 0;
		llm_snprintf(b->err, b->errlen, "tensor %s is missing", name);
		return -EINVAL;
	}
	for (d = 2; d < t->n_dims; d++) {
		if (t->ne[d] != 1)
			break;
	}
	if (t->ne[0] != cols || t->ne[1] != rows || d < t->n_dims) {
		llm_snprintf(b->err, b->errlen, "tensor %s has shape [%llu, %llu], expected [%llu, %llu]",
			     name, (unsigned long long)t->ne[0],
			     (unsigned long long)t->ne[1],
			     (unsigned long long)cols,
			     (unsigned long long)rows);
		return -EINVAL;
	}
	if (rows == 1 && t->type != LLM_T_F32) {
		llm_snprintf(b->err, b->errlen, "tensor %s is %s; norm weights and biases must be F32",
			     name, llm_type_name(t->type));
		return -EINVAL;
	}
	return fill_weight(b, w, t, name, cols, rows);
}

/* @w: @t's data as @rows rows of @cols elements. */
static int fill_weight(struct binder *b, struct llm_weight *w,
		       const struct llm_gguf_tensor *t, const char *name,
		       u64 cols, u64 rows)
{
	w->type = t->type;
	w->cols = cols;
	w->rows = rows;
	w->data = t->data;
	if (llm_type_row_bytes(t->type, cols, &w->row_bytes)) {
		llm_snprintf(b->err, b->errlen, "tensor %s: rows of %llu %s elements are not whole blocks",
			     name, (unsigned long long)cols,
			     llm_type_name(t->type));
		return -EINVAL;
	}
	b->m->type_mask |= 1u << t->type;
	b->m->n_params += t->n_elems;
	return 0;
}

/*
 * The tensors of block N, "blk.N.<name>", and which architectures have
 * them (arch.h).  bind_layer() binds each one its architecture has.
 */
enum lt_need {
	LT_ALL,
	LT_SPLIT_QKV,		/* Q, K, V as three matrices */
	LT_FUSED_QKV,		/* ... or as one */
	LT_QKV_BIAS,		/* biases on the three */
	LT_FUSED_BIAS,		/* a bias on the fused one */
	LT_QK_NORM,
	LT_BIASES,
	LT_GATE,		/* a dense SwiGLU's gate */
	LT_DENSE,		/* a dense FFN's up and down */
	LT_MOE,
};

static const struct layer_tensor {
	const char *name;
	u8 need;		/* enum lt_need */
} layer_tensors[] = {
	{ "attn_norm.weight", LT_ALL },
	{ "attn_norm.bias", LT_BIASES },
	{ "attn_q.weight", LT_SPLIT_QKV },
	{ "attn_k.weight", LT_SPLIT_QKV },
	{ "attn_v.weight", LT_SPLIT_QKV },
	{ "attn_qkv.weight", LT_FUSED_QKV },
	{ "attn_q.bias", LT_QKV_BIAS },
	{ "attn_k.bias", LT_QKV_BIAS },
	{ "attn_v.bias", LT_QKV_BIAS },
	{ "attn_qkv.bias", LT_FUSED_BIAS },
	{ "attn_q_norm.weight", LT_QK_NORM },
	{ "attn_k_norm.weight", LT_QK_NORM },
	{ "attn_output.weight", LT_ALL },
	{ "attn_output.bias", LT_BIASES },
	{ "ffn_norm.weight", LT_ALL },
	{ "ffn_norm.bias", LT_BIASES },
	{ "ffn_gate.weight", LT_GATE },
	{ "ffn_up.weight", LT_DENSE },
	{ "ffn_up.bias", LT_BIASES },
	{ "ffn_down.weight", LT_DENSE },
	{ "ffn_down.bias", LT_BIASES },
	{ "ffn_gate_inp.weight", LT_MOE },
	{ "ffn_gate_exps.weight", LT_MOE },
	{ "ffn_up_exps.weight", LT_MOE },
	{ "ffn_down_exps.weight", LT_MOE },
};

static bool arch_has(const struct llm_arch *a, u8 need)
{
	bool fused = a->flags & LLM_ARCH_FUSED_QKV;

	switch (need) {
	case LT_ALL:
		return true;
	case LT_SPLIT_QKV:
		return !fused;
	case LT_FUSED_QKV:
		return fused;
	case LT_QKV_BIAS:
		return !fused && (a->flags & LLM_ARCH_QKV_BIAS);
	case LT_FUSED_BIAS:
		return fused && (a->flags & LLM_ARCH_BIASES);
	case LT_QK_NORM:
		return a->flags & LLM_ARCH_QK_NORM;
	case LT_BIASES:
		return a->flags & LLM_ARCH_BIASES;
	case LT_GATE:
		return a->ffn == LLM_FFN_SWIGLU;
	case LT_DENSE:
		return a->ffn != LLM_FFN_MOE;
	case LT_MOE:
		return a->ffn == LLM_FFN_MOE;
	}
	return false;
}

/* Rows [@r0, @r0 + @rows) of @w as a matrix of their own. */
static struct llm_weight rows_of(const struct llm_weight *w, u64 r0,
				 u64 rows)
{
	struct llm_weight v = *w;

	v.rows = rows;
	v.data = w->data ? w->data + r0 * w->row_bytes : NULL;
	return v;
}

/*
 * The @n_expert experts of a 3-D tensor [@cols, @rows, n_expert] as that
 * many matrices, in an array from @arena.
 */
static int bind_experts(struct binder *b, struct llm_weight **out,
			const char *name, u64 cols, u64 rows,
			struct llm_arena *arena)
{
	const struct llm_gguf_tensor *t = llm_gguf_find_tensor(&b->m->gguf,
							       name);
	u32 n = b->m->cfg.n_expert, e;
	struct llm_weight all;
	int ret;

	if (!t) {
		llm_snprintf(b->err, b->errlen, "tensor %s is missing", name);
		return -EINVAL;
	}
	if (t->n_dims != 3 || t->ne[0] != cols || t->ne[1] != rows ||
	    t->ne[2] != n) {
		llm_snprintf(b->err, b->errlen, "tensor %s has shape [%llu, %llu, %llu], expected [%llu, %llu, %u]",
			     name, (unsigned long long)t->ne[0],
			     (unsigned long long)t->ne[1],
			     (unsigned long long)t->ne[2],
			     (unsigned long long)cols,
			     (unsigned long long)rows, n);
		return -EINVAL;
	}
	/* one matrix of every expert's rows, cut into experts */
	memset(&all, 0, sizeof(all));
	ret = fill_weight(b, &all, t, name, cols, rows * n);
	if (ret)
		return ret;
	*out = llm_arena_alloc_array(arena, n, sizeof(**out), 0);
	if (!*out) {
		llm_snprintf(b->err, b->errlen, "arena too small for %u experts",
			     n);
		return -ENOMEM;
	}
	for (e = 0; e < n; e++)
		(*out)[e] = rows_of(&all, (u64)e * rows, rows);
	return 0;
}

static int bind_layer(struct binder *b, u32 i, struct llm_arena *arena)
{
	const struct llm_config *c = &b->m->cfg;
	const struct llm_arch *a = c->arch;
	struct llm_layer *L = &b->m->layers[i];
	u64 qkv = (u64)c->q_dim + 2 * c->kv_dim;
	struct llm_weight fused, fused_b;
	struct {
		struct llm_weight *w;
		u64 cols, rows;
	} t[ARRAY_SIZE(layer_tensors)] = {
		{ &L->attn_norm, c->n_embd, 1 },
		{ &L->attn_norm_b, c->n_embd, 1 },
		{ &L->wq, c->n_embd, c->q_dim },
		{ &L->wk, c->n_embd, c->kv_dim },
		{ &L->wv, c->n_embd, c->kv_dim },
		{ &fused, c->n_embd, qkv },
		{ &L->bq, c->q_dim, 1 },
		{ &L->bk, c->kv_dim, 1 },
		{ &L->bv, c->kv_dim, 1 },
		{ &fused_b, qkv, 1 },
		{ &L->q_norm, c->head_dim, 1 },
		{ &L->k_norm, c->head_dim, 1 },
		{ &L->wo, c->q_dim, c->n_embd },
		{ &L->bo, c->n_embd, 1 },
		{ &L->ffn_norm, c->n_embd, 1 },
		{ &L->ffn_norm_b, c->n_embd, 1 },
		{ &L->gate, c->n_embd, c->n_ff },
		{ &L->up, c->n_embd, c->n_ff },
		{ &L->b_up, c->n_ff, 1 },
		{ &L->down, c->n_ff, c->n_embd },
		{ &L->b_down, c->n_embd, 1 },
		{ &L->gate_inp, c->n_embd, c->n_expert },
		{ NULL },	/* experts: bind_experts() */
		{ NULL },
		{ NULL },
	};
	char name[64];
	size_t k;
	int ret = 0;

	memset(&fused, 0, sizeof(fused));
	memset(&fused_b, 0, sizeof(fused_b));
	for (k = 0; k < ARRAY_SIZE(t); k++) {
		if (!t[k].w || !arch_has(a, layer_tensors[k].need))
			continue;
		llm_snprintf(name, sizeof(name), "blk.%u.%s", i,
			     layer_tensors[k].name);
		ret = bind_tensor(b, t[k].w, name, t[k].cols, t[k].rows, false);
		if (ret)
			return ret;
	}
	if (a->flags & LLM_ARCH_FUSED_QKV) {
		/* rows: all of Q's, then K's, then V's (llama.cpp's views) */
		L->wq = rows_of(&fused, 0, c->q_dim);
		L->wk = rows_of(&fused, c->q_dim, c->kv_dim);
		L->wv = rows_of(&fused, c->q_dim + c->kv_dim, c->kv_dim);
		if (fused_b.data) {
			L->bq = rows_of(&fused_b, 0, 1);
			L->bq.cols = c->q_dim;
			L->bk = L->bq;
			L->bk.data += (u64)c->q_dim * 4;
			L->bk.cols = c->kv_dim;
			L->bv = L->bk;
			L->bv.data += (u64)c->kv_dim * 4;
		}
	}
	if (a->ffn == LLM_FFN_MOE) {
		llm_snprintf(name, sizeof(name), "blk.%u.ffn_gate_exps.weight", i);
		ret = bind_experts(b, &L->gate_exps, name, c->n_embd,
				   c->n_ff_exp, arena);
		llm_snprintf(name, sizeof(name), "blk.%u.ffn_up_exps.weight", i);
		if (!ret)
			ret = bind_experts(b, &L->up_exps, name, c->n_embd,
					   c->n_ff_exp, arena);
		llm_snprintf(name, sizeof(name), "blk.%u.ffn_down_exps.weight", i);
		if (!ret)
			ret = bind_experts(b, &L->down_exps, name, c->n_ff_exp,
					   c->n_embd, arena);
	}
	return ret;
}

/*
 * What the engine does with a metadata key.
 *
 * In the namespaces that say what to compute -- "<arch>." and "tokenizer."
 * -- every key must be listed here: one the engine reads and honours, one
 * known to change nothing it computes, or one accepted only with its
 * neutral value (RoPE scaling "none", no experts, ...).  A key listed as a
 * feature the engine lacks, a key with another value, and a key not listed
 * at all refuse the file: "<key> = <value>: <why>".  "general." describes
 * the file (name, licence, provenance, file type), "split." and "adapter."
 * mark files that are not a whole model.  Keys in other namespaces
 * (quantize.imatrix.*, another architecture's keys) are read by nothing
 * that runs a llama model, so they are left alone.
 *
 * Names follow llama.cpp's (LLM_KV_* in llama-arch.cpp); a trailing '*'
 * matches any rest, and the first matching rule counts.
 */
enum key_use {
	KEY_READ,	/* read, checked and honoured where it is used */
	KEY_INERT,	/* changes nothing the engine computes */
	KEY_NEUTRAL,	/* accepted only with its neutral value */
	KEY_NEVER,	/* a feature the engine lacks, whatever the value */
	KEY_NORM,	/* read where the architecture's norm is .neutral */
};

enum key_neutral {
	NEUTRAL_ZERO = 1,	/* 0, 0.0 or false */
	NEUTRAL_ONE,		/* 1 or 1.0 */
	NEUTRAL_UNIT,		/* 1, or 0 which llama.cpp reads as unset */
	NEUTRAL_TRUE,
	NEUTRAL_STRING,		/* the string in .str */
	NEUTRAL_N_VOCAB,	/* the number of tokens */
	NEUTRAL_WHOLE_CTX,	/* 0 (none), or at least the context length */
	NEUTRAL_EOS,		/* the EOS token, or none (0xffffffff) */
};

struct key_rule {
	const char *name;	/* after the namespace's prefix */
	u8 use;			/* enum key_use */
	u8 neutral;		/* enum key_neutral, for KEY_NEUTRAL */
	const char *str;	/* for NEUTRAL_STRING */
	const char *why;	/* how a refusal ends */
};

#define KR_READ(n)	{ n, KEY_READ, 0, NULL, NULL }
#define KR_INERT(n)	{ n, KEY_INERT, 0, NULL, NULL }
#define KR_ONLY(n, v, w)	{ n, KEY_NEUTRAL, NEUTRAL_##v, NULL, w }
#define KR_ONLY_STR(n, v, w) { n, KEY_NEUTRAL, NEUTRAL_STRING, v, w }
#define KR_NEVER(n, w)	{ n, KEY_NEVER, 0, NULL, w }
#define KR_NORM(n, v, w) { n, KEY_NORM, LLM_NORM_##v, NULL, w }

#define WHY_ROPE	"RoPE scaling is not supported"
#define WHY_MOE		"shared or grouped experts are not supported"
#define WHY_STOP	"stopping at a token other than EOS or EOT is not supported"

/* "<arch>.": the hyper-parameters. */
static const struct key_rule arch_keys[] = {
	KR_READ("context_length"),
	KR_READ("embedding_length"),
	KR_READ("block_count"),
	KR_READ("feed_forward_length"),
	KR_READ("attention.head_count"),
	KR_READ("attention.head_count_kv"),
	KR_READ("rope.dimension_count"),
	KR_READ("rope.freq_base"),
	KR_ONLY("vocab_size", N_VOCAB,
		"it must be the number of tokens in tokenizer.ggml.tokens"),
	KR_READ("attention.key_length"),
	KR_READ("attention.value_length"),
	/* read by the architectures whose norm they name */
	KR_NORM("attention.layer_norm_rms_epsilon", RMS,
		"RMSNorm's epsilon, but this architecture normalises with LayerNorm"),
	KR_NORM("attention.layer_norm_epsilon", LAYER,
		"LayerNorm is not supported (llama normalises with RMSNorm)"),
	/* a label; llama.cpp does not read it */
	KR_INERT("tensor_data_layout"),
	KR_ONLY_STR("rope.scaling.type", "none", WHY_ROPE),
	KR_ONLY("rope.scaling.factor", UNIT, WHY_ROPE),
	KR_ONLY("rope.scale_linear", UNIT, WHY_ROPE),
	KR_ONLY("rope.scaling.attn_factor", ONE,
		"scaling attention by a RoPE factor is not supported"),
	/* describe a scaling, which the keys above refuse */
	KR_INERT("rope.scaling.original_context_length"),
	KR_INERT("rope.scaling.finetuned"),
	KR_NEVER("rope.scaling.*", WHY_ROPE),
	/* bind_ffn() refuses experts where the architecture has none */
	KR_READ("expert_count"),
	KR_READ("expert_used_count"),
	KR_READ("expert_feed_forward_length"),
	KR_NEVER("expert_*", WHY_MOE),
	KR_ONLY("attention.causal", TRUE, "non-causal attention is not supported"),
	KR_ONLY("attention.sliding_window", WHOLE_CTX,
		"sliding-window attention is not supported and the window is shorter than the context"),
	KR_ONLY("attention.clamp_kqv", ZERO,
		"clamping Q, K and V is not supported"),
	KR_ONLY("attention.max_alibi_bias", ZERO, "ALiBi is not supported"),
	KR_ONLY("logit_scale", ONE, "scaling the logits is not supported"),
	KR_ONLY("attn_logit_softcapping", ZERO,
		"soft-capping logits is not supported"),
	KR_ONLY("final_logit_softcapping", ZERO,
		"soft-capping logits is not supported"),
	KR_ONLY("use_parallel_residual", ZERO,
		"parallel residual blocks are not supported"),
	KR_ONLY("pooling_type", ZERO, "pooled embeddings are not supported"),
};

/* "tokenizer.": the vocabulary and how text becomes tokens and back. */
static const struct key_rule tokenizer_keys[] = {
	KR_READ("ggml.model"),
	KR_READ("ggml.tokens"),
	KR_READ("ggml.scores"),
	KR_READ("ggml.token_type"),
	KR_READ("ggml.bos_token_id"),
	KR_READ("ggml.eos_token_id"),
	KR_READ("ggml.unknown_token_id"),
	KR_READ("ggml.add_bos_token"),
	KR_READ("ggml.add_space_prefix"),
	/* byte-level BPE's (bpe.c); SentencePiece files leave them out */
	KR_READ("ggml.pre"),
	KR_READ("ggml.merges"),
	KR_INERT("ggml.token_type_count"),
	/* tokens the engine never inserts: padding, BERT's, infill's */
	KR_INERT("ggml.seperator_token_id"),
	KR_INERT("ggml.padding_token_id"),
	KR_INERT("ggml.cls_token_id"),
	KR_INERT("ggml.mask_token_id"),
	KR_INERT("ggml.prefix_token_id"),
	KR_INERT("ggml.suffix_token_id"),
	KR_INERT("ggml.middle_token_id"),
	KR_INERT("ggml.fim_pre_token_id"),
	KR_INERT("ggml.fim_suf_token_id"),
	KR_INERT("ggml.fim_mid_token_id"),
	/* tokens llama.cpp ends generation at */
	KR_READ("ggml.eot_token_id"),	/* ends generation as EOS does */
	KR_ONLY("ggml.eom_token_id", EOS, WHY_STOP),
	KR_ONLY("ggml.fim_pad_token_id", EOS, WHY_STOP),
	KR_ONLY("ggml.fim_rep_token_id", EOS, WHY_STOP),
	KR_ONLY("ggml.fim_sep_token_id", EOS, WHY_STOP),
	KR_ONLY("ggml.add_eos_token", ZERO,
		"appending EOS to the prompt is not supported"),
	KR_ONLY("ggml.add_sep_token", ZERO,
		"appending a separator to the prompt is not supported"),
	KR_ONLY("ggml.remove_extra_whitespaces", ZERO,
		"collapsing whitespace is not supported"),
	KR_ONLY("ggml.normalizer.*", ZERO, "normalising text is not supported"),
	KR_NEVER("ggml.precompiled_charsmap",
		 "normalising text is not supported"),
	/* chat front-ends' business; the engine completes text */
	KR_INERT("chat_template"),
	KR_INERT("chat_template.*"),
	KR_INERT("chat_templates"),
	KR_INERT("huggingface.json"),
};

/* "general.": about the file. */
static const struct key_rule general_keys[] = {
	KR_READ("architecture"),
	KR_READ("alignment"),		/* by the parser */
	KR_ONLY_STR("type", "model", "only model files load"),
	KR_INERT("*"),	/* name, licence, provenance, file_type, ... */
};

/* "split.": one part of a model cut into several files. */
static const struct key_rule split_keys[] = {
	KR_ONLY("count", UNIT,
		"split files are not supported; merge the parts into one file"),
	KR_INERT("*"),
};

/* "adapter.": a LoRA adapter, not a model. */
static const struct key_rule adapter_keys[] = {
	KR_NEVER("*", "adapter files are not supported"),
};

static const struct key_space {
	const char *prefix;		/* NULL: "<arch>." */
	const struct key_rule *rules;
	size_t n;
} key_spaces[] = {
	{ NULL, arch_keys, ARRAY_SIZE(arch_keys) },
	{ "tokenizer.", tokenizer_keys, ARRAY_SIZE(tokenizer_keys) },
	{ "general.", general_keys, ARRAY_SIZE(general_keys) },
	{ "split.", split_keys, ARRAY_SIZE(split_keys) },
	{ "adapter.", adapter_keys, ARRAY_SIZE(adapter_keys) },
};

#undef KR_READ
#undef KR_INERT
#undef KR_ONLY
#undef KR_ONLY_STR
#undef KR_NEVER
#undef KR_NORM

/* Longest part of a key or tensor name, and of a value, a message shows. */
#define SHOW_NAME	72
#define SHOW_VALUE	40
/* Give the CPU away this often in loops over the file's keys or tensors. */
#define LLM_CHECK_YIELD_MASK	0xffff

static bool has_prefix(struct llm_gguf_str s, const char *prefix, u64 *rest)
{
	size_t n = strlen(prefix);

	if (s.len < n || memcmp(s.p, prefix, n))
		return false;
	*rest = n;
	return true;
}

static bool has_suffix(struct llm_gguf_str s, const char *suffix)
{
	size_t n = strlen(suffix);

	return s.len >= n && !memcmp(s.p + s.len - n, suffix, n);
}

static bool contains(struct llm_gguf_str s, const char *needle)
{
	size_t n = strlen(needle);
	u64 i;

	for (i = 0; n && i + n <= s.len; i++)
		if (!memcmp(s.p + i, needle, n))
			return true;
	return false;
}

/* Does @name (a trailing '*' matches any rest) match @len bytes at @p? */
static bool rule_matches(const char *name, const char *p, u64 len)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '*')
		return len >= n - 1 && !memcmp(p, name, n - 1);
	return len == n && !memcmp(p, name, n);
}

/* 0 or 1 when a number, a bool or a float is exactly that; -1 otherwise. */
static int small_value(const struct llm_gguf_kv *kv)
{
	bool neg;
	u64 v;

	if (!llm_gguf_kv_int(kv, &v, &neg))
		return !neg && v <= 1 ? (int)v : -1;
	switch (kv->type) {
	case LLM_GGUF_BOOL:
		return kv->val[0] ? 1 : 0;
	case LLM_GGUF_F32:
		v = llm_get_le32(kv->val);
		return (v & 0x7fffffffu) == 0 ? 0 : v == 0x3f800000u ? 1 : -1;
	case LLM_GGUF_F64:
		v = llm_get_le64(kv->val);
		return (v << 1) == 0 ? 0 : v == 0x3ff0000000000000ull ? 1 : -1;
	default:
		return -1;
	}
}

/* A non-negative integer value. */
static bool count_value(const struct llm_gguf_kv *kv, u64 *v)
{
	bool neg;

	return !llm_gguf_kv_int(kv, v, &neg) && !neg;
}

/*
 * Has @kv the neutral value of rule @r?  When not, @more may get what the
 * value should have been, to end the message with.
 */
static bool is_neutral(const struct llm_model *m, const struct key_rule *r,
		       const struct llm_gguf_kv *kv, char *more, size_t cap)
{
	const struct llm_config *c = &m->cfg;
	struct llm_gguf_str s;
	u64 v;

	switch (r->neutral) {
	case NEUTRAL_ZERO:
		return small_value(kv) == 0;
	case NEUTRAL_ONE:
	case NEUTRAL_TRUE:
		return small_value(kv) == 1;
	case NEUTRAL_UNIT:
		return small_value(kv) >= 0;
	case NEUTRAL_STRING:
		return !llm_gguf_kv_str(kv, &s) && llm_gguf_str_eq(s, r->str);
	case NEUTRAL_N_VOCAB:
		llm_snprintf(more, cap, " (%u)", m->vocab.n);
		return count_value(kv, &v) && v == m->vocab.n;
	case NEUTRAL_WHOLE_CTX:
		llm_snprintf(more, cap, " (%u)", c->n_ctx_train);
		return count_value(kv, &v) && (!v || v >= c->n_ctx_train);
	case NEUTRAL_EOS:
		if (m->vocab.eos != LLM_TOKEN_NONE)
			llm_snprintf(more, cap, " (EOS is %u)", m->vocab.eos);
		return count_value(kv, &v) &&
		       (v == m->vocab.eos || v == LLM_TOKEN_NONE);
	default:
		return false;
	}
}

/* The rule for @kv, its namespace's rules when it has no rule of its own. */
static const struct key_rule *key_rule(const struct llm_model *m,
				       const struct llm_gguf_kv *kv,
				       const struct key_space **space)
{
	struct llm_gguf_str key = kv->key;
	size_t i, k;
	u64 skip;

	for (i = 0; i < ARRAY_SIZE(key_spaces); i++) {
		const struct key_space *ks = &key_spaces[i];

		if (ks->prefix) {
			if (!has_prefix(key, ks->prefix, &skip))
				continue;
		} else if (!has_prefix(key, m->arch, &skip) ||
			   key.len == skip || key.p[skip++] != '.') {
			continue;
		}
		*space = ks;
		for (k = 0; k < ks->n; k++)
			if (rule_matches(ks->rules[k].name, key.p + skip,
					 key.len - skip))
				return &ks->rules[k];
		return NULL;
	}
	*space = NULL;
	return NULL;
}

/*
 * Every metadata key is one the engine honours, one that changes nothing,
 * or one with its neutral value; see key_spaces.  Runs after the
 * hyper-parameters and the vocabulary are bound (neutral values depend on
 * them).
 */
static int check_keys(struct binder *b)
{
	const struct llm_model *m = b->m;
	char key[SHOW_NAME], val[SHOW_VALUE], more[32];
	const struct key_space *space;
	const struct key_rule *r;
	const char *why;
	u64 i;

	for (i = 0; i < m->gguf.n_kv; i++) {
		const struct llm_gguf_kv *kv = &m->gguf.kv[i];

		if (!(i & LLM_CHECK_YIELD_MASK))
			llm_yield();
		more[0] = '\0';
		r = key_rule(m, kv, &space);
		if (!space)
			continue;	/* a namespace nothing here reads */
		if (!r)
			why = "unknown key, refused rather than ignored";
		else if (r->use == KEY_READ || r->use == KEY_INERT)
			continue;
		else if (r->use == KEY_NORM && r->neutral == m->cfg.arch->norm)
			continue;
		else if (r->use == KEY_NEUTRAL &&
			 is_neutral(m, r, kv, more, sizeof(more)))
			continue;
		else
			why = r->why;
		llm_gguf_show(key, sizeof(key), kv->key);
		llm_gguf_show_value(kv, val, sizeof(val));
		llm_snprintf(b->err, b->errlen, "%s = %s: %s%s", key, val, why,
			     more);
		return -EINVAL;
	}
	return 0;
}

/* Is @rest ("<name>" of blk.N.<name>) a tensor of @a's blocks? */
static bool is_layer_tensor(const struct llm_arch *a, struct llm_gguf_str rest)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(layer_tensors); k++)
		if (llm_gguf_str_eq(rest, layer_tensors[k].name))
			return arch_has(a, layer_tensors[k].need);
	return false;
}

/*
 * Why a tensor the forward pass does not use is there, as far as known: a
 * format with one %s, the architecture.
 */
static const char *tensor_why(struct llm_gguf_str name)
{
	if (contains(name, "rope_freqs") || contains(name, "rope_factors"))
		return "RoPE frequency factors other than rope_freqs.weight are not supported%.0s";
	if (contains(name, "_shexp"))
		return "shared experts are not supported%.0s";
	if (has_suffix(name, ".bias"))
		return "%s has no such bias";
	if (contains(name, "attn_q_norm") || contains(name, "attn_k_norm"))
		return "%s does not normalise queries and keys";
	if (contains(name, "_exps") || contains(name, "ffn_gate_inp"))
		return "%s has no experts";
	if (contains(name, "attn_qkv"))
		return "%s has no fused Q/K/V matrix";
	if (contains(name, "position_embd"))
		return "%s has no learned positions";
	return "the %s forward pass does not use it";
}

/*
 * Every tensor is one the forward pass uses: token_embd, output_norm,
 * output (optional) and blk.N.<layer_tensors>.weight for N below
 * block_count.  Names are unique (the parser checks), and bind_weights()
 * requires each of these but output, so no tensor goes unused.
 */
static int check_tensors(struct binder *b)
{
	const struct llm_model *m = b->m;
	const struct llm_arch *a = m->cfg.arch;
	char name[SHOW_NAME];
	size_t n;
	struct llm_gguf_str rest;
	u64 i;
	u32 blk;

	for (i = 0; i < m->gguf.n_tensors; i++) {
		struct llm_gguf_str s = m->gguf.tensors[i].name;

		if (!(i & LLM_CHECK_YIELD_MASK))
			llm_yield();
		if (llm_gguf_str_eq(s, "token_embd.weight") ||
		    llm_gguf_str_eq(s, "output_norm.weight") ||
		    llm_gguf_str_eq(s, "output.weight") ||
		    (llm_gguf_str_eq(s, "rope_freqs.weight") &&
		     a->rope != LLM_ROPE_NONE) ||
		    ((llm_gguf_str_eq(s, "output_norm.bias")) &&
		     (a->flags & LLM_ARCH_BIASES)) ||
		    (llm_gguf_str_eq(s, "position_embd.weight") &&
		     (a->flags & LLM_ARCH_POS_EMBD)))
			continue;
		if (llm_gguf_block(s, &blk, &rest) && is_layer_tensor(a, rest) &&
		    blk < m->cfg.n_layers)
			continue;
		llm_gguf_show(name, sizeof(name), s);
		if (llm_gguf_block(s, &blk, &rest) && is_layer_tensor(a, rest)) {
			llm_snprintf(b->err, b->errlen, "tensor %s: the model has %u blocks (%s.block_count)",
				     name, m->cfg.n_layers, m->arch);
			return -EINVAL;
		}
		n = llm_snprintf(b->err, b->errlen, "tensor %s: ", name);
		if (n < b->errlen)
			llm_snprintf(b->err + n, b->errlen - n, tensor_why(s),
				     m->arch);
		return -EINVAL;
	}
	return 0;
}

static int bind_weights(struct binder *b, struct llm_arena *arena)
{
	struct llm_model *m = b->m;
	const struct llm_config *c = &m->cfg;
	bool last = m->layer_end == c->n_layers;
	bool tied = !llm_gguf_find_tensor(&m->gguf, "output.weight");
	u32 i;
	int ret = 0;

	/* the embedding runs on the first layer's node, the rest on the last */
	if (!m->layer_first || (last && tied))
		ret = bind_tensor(b, &m->tok_embd, "token_embd.weight",
				  c->n_embd, c->n_vocab, false);
	if (!ret && !m->layer_first && (c->arch->flags & LLM_ARCH_POS_EMBD))
		ret = bind_tensor(b, &m->pos_embd, "position_embd.weight",
				  c->n_embd, c->n_ctx_train, false);
	if (!ret && last)
		ret = bind_tensor(b, &m->output_norm, "output_norm.weight",
				  c->n_embd, 1, false);
	if (!ret && last && (c->arch->flags & LLM_ARCH_BIASES))
		ret = bind_tensor(b, &m->output_norm_b, "output_norm.bias",
				  c->n_embd, 1, false);
	if (!ret && last && !tied)
		ret = bind_tensor(b, &m->output, "output.weight", c->n_embd,
				  c->n_vocab, false);
	/* Llama 3.1's RoPE scaling: a divisor per rotated pair, every node */
	if (!ret && c->n_rot) {
		struct llm_weight f;

		ret = bind_tensor(b, &f, "rope_freqs.weight", c->n_rot / 2, 1,
				  true);
		m->rope_factors = (const float *)f.data;
	}
	if (ret)
		return ret;
	if (last && tied) {
		m->output = m->tok_embd;
		m->tied_output = true;
	}
	m->layers = llm_arena_alloc_array(arena, c->n_layers,
					  sizeof(*m->layers), 0);
	if (!m->layers) {
		llm_snprintf(b->err, b->errlen, "arena too small for %u layers",
			     c->n_layers);
		return -ENOMEM;
	}
	memset(m->layers, 0, (size_t)c->n_layers * sizeof(*m->layers));
	for (i = m->layer_first; i < m->layer_end; i++) {
		ret = bind_layer(b, i, arena);
		if (ret)
			return ret;
	}
	return 0;
}

int llm_model_load(struct llm_model *m, const void *image, u64 len,
		   struct llm_arena *arena, bool force_ref,
		   char *err, size_t errlen)
{
	return llm_model_load_layers(m, image, len, 0, 0, arena, force_ref,
				     err, errlen);
}

int llm_model_load_layers(struct llm_model *m, const void *image, u64 len,
			  u32 first, u32 end, struct llm_arena *arena,
			  bool force_ref, char *err, size_t errlen)
{
	size_t mark = llm_arena_mark(arena);
	struct binder b = { .m = m, .err = err, .errlen = errlen };
	int ret;

	memset(m, 0, sizeof(*m));
	ret = llm_gguf_parse(&m->gguf, image, len, arena, err, errlen);
	if (ret)
		goto fail;
	ret = bind_config(&b);
	if (ret)
		goto fail;
	if (!end)
		end = m->cfg.n_layers;
	if (first >= end || end > m->cfg.n_layers) {
		llm_snprintf(err, errlen, "layers %u:%u do not fit the model's %u layers",
			     first, end, m->cfg.n_layers);
		ret = -EINVAL;
		goto fail;
	}
	m->layer_first = first;
	m->layer_end = end;
	ret = llm_vocab_load(&m->vocab, &m->gguf, arena, err, errlen);
	if (ret)
		goto fail;
	m->cfg.n_vocab = m->vocab.n;
	ret = check_keys(&b);
	if (!ret)
		ret = check_tensors(&b);
	if (!ret)
		ret = bind_weights(&b, arena);
	if (ret)
		goto fail;
	m->max_row = max(m->cfg.x_dim, m->cfg.ff_dim);
	m->kernels = llm_kernels_pick(force_ref);
	m->rope_freq = llm_arena_alloc_array(arena, m->cfg.n_rot / 2,
					     sizeof(u32), 0);
	if (!m->rope_freq) {
		llm_snprintf(err, errlen, "arena too small for the model tables");
		ret = -ENOMEM;
		goto fail;
	}
	llm_fpu_begin();
	llm_model_init_rope(m);
	llm_fpu_end();
	return 0;

fail:
	llm_arena_rewind(arena, mark);
	memset(m, 0, sizeof(*m));
	return ret;
}

/* Repack one matrix for the tiles, once (a weight may be bound twice). */
static int repack(struct llm_weight *w, void *scratch)
{
	int ret;

	if ((w->type != LLM_T_Q8_0 && w->type != LLM_T_Q4_0) ||
	    w->layout != LLM_MM_ROWS || w->rows < LLM_MM_GROUP)
		return 0;
	ret = llm_mm_repack(w->type, (u8 *)w->data, w->rows, w->cols, scratch);
	if (!ret)
		w->layout = LLM_MM_X8;
	return ret;
}

int llm_model_repack(struct llm_model *m, struct llm_arena *arena)
{
	size_t mark = llm_arena_mark(arena);
	u64 bytes = max(llm_mm_repack_scratch(LLM_T_Q8_0, m->max_row),
			llm_mm_repack_scratch(LLM_T_Q4_0, m->max_row));
	void *scratch;
	u32 l;
	int ret = 0;

	/* the classifier's rows are as wide as a layer's input */
	bytes = max(bytes, llm_mm_repack_scratch(LLM_T_Q8_0, m->cfg.n_embd));
	scratch = llm_arena_alloc(arena, bytes, 0);
	if (!scratch)
		return -ENOMEM;
	for (l = 0; l < m->cfg.n_layers && !ret; l++) {
		struct llm_layer *L = &m->layers[l];
		struct llm_weight *w[] = {
			&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up,
			&L->down,
		};
		u32 i;

		for (i = 0; i < ARRAY_SIZE(w) && !ret; i++)
			ret = repack(w[i], scratch);
		for (i = 0; L->gate_exps && i < m->cfg.n_expert && !ret; i++) {
			ret = repack(&L->gate_exps[i], scratch);
			if (!ret)
				ret = repack(&L->up_exps[i], scratch);
			if (!ret)
				ret = repack(&L->down_exps[i], scratch);
		}
	}
	/*
	 * a tied classifier is also the embedding table, which the embedding
	 * reads through its layout (llm_dequantize_row_mm)
	 */
	if (!ret)
		ret = repack(&m->output, scratch);
	if (!ret && m->tied_output)
		m->tok_embd.layout = m->output.layout;
	llm_arena_rewind(arena, mark);
	return ret;
}

/* Arena layout of one context: every buffer 64-byte aligned. */
struct ctx_layout {
	u64 f_logits, pages, probs, tokens, piece, scratch;
};

static bool ctx_sizes(const struct llm_model *m, u32 n_ctx,
		      u32 max_prompt_bytes, struct ctx_layout *l)
{
	const struct llm_config *c = &m->cfg;

	l->f_logits = (u64)c->n_vocab * 4;
	l->pages = ((u64)n_ctx + LLM_KV_PAGE - 1) / LLM_KV_PAGE * 4;
	l->probs = (u64)c->n_vocab * sizeof(struct llm_prob);
	l->tokens = (u64)n_ctx * 4;
	l->piece = (u64)m->vocab.max_len + 8;
	l->scratch = llm_tokenize_scratch_bytes(max_prompt_bytes);
	return true;
}

u64 llm_ctx_bytes(const struct llm_model *m, u32 n_ctx, u32 max_prompt_bytes)
{
	struct ctx_layout l;
	u64 sum;

	if (!n_ctx || !ctx_sizes(m, n_ctx, max_prompt_bytes, &l))
		return U64_MAX;
	sum = l.f_logits + l.pages + l.probs + l.tokens + l.piece + l.scratch;
	if (check_add_overflow(sum, (u64)8 * LLM_ARENA_ALIGN, &sum))
		return U64_MAX;
	return sum;
}

int llm_ctx_init(struct llm_ctx *c, const struct llm_model *m, u32 n_ctx,
		 u32 max_prompt_bytes, struct llm_arena *arena)
{
	size_t mark = llm_arena_mark(arena);
	struct ctx_layout l;

	memset(c, 0, sizeof(*c));
	if (!n_ctx || !ctx_sizes(m, n_ctx, max_prompt_bytes, &l))
		return -EINVAL;
	c->m = m;
	c->n_ctx = n_ctx;
	c->max_prompt_bytes = max_prompt_bytes;
	c->logits = llm_arena_alloc(arena, l.f_logits, 0);
	c->pages = llm_arena_alloc(arena, l.pages, 0);
	c->probs = llm_arena_alloc(arena, l.probs, 0);
	c->tokens = llm_arena_alloc(arena, l.tokens, 0);
	c->piece = llm_arena_alloc(arena, l.piece, 0);
	c->tok_scratch = llm_arena_alloc(arena, l.scratch, 0);
	c->tok_scratch_bytes = l.scratch;
	if (!c->logits || !c->pages || !c->probs ||
	    !c->tokens || !c->piece || !c->tok_scratch) {
		llm_arena_rewind(arena, mark);
		memset(c, 0, sizeof(*c));
		return -ENOMEM;
	}
	llm_ctx_reset(c);
	return 0;
}

void llm_ctx_reset(struct llm_ctx *c)
{
	llm_kv_release(c);
	c->n_past = 0;
	c->pending = LLM_TOKEN_NONE;
}
