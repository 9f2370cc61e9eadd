// SPDX-License-Identifier: GPL-2.0
/*
 * Binding a parsed GGUF image to the llama architecture: hyper-parameters
 * from the llama.* keys, every tensor found by name and checked for type and
 * shape, the vocabulary, and the per-conversation contexts.
 */
#include "model.h"
#include "../../quant/quant.h"

#define LLM_ROPE_BASE_DEFAULT	0x461c4000u	/* 10000.0f */
#define LLM_RMS_EPS_DEFAULT	0x3727c5acu	/* 1e-5f */

struct binder {
	struct llm_model *m;
	char *err;
	size_t errlen;
};

static int need_u32(struct binder *b, const char *key, u32 lo, u32 hi,
		    u32 *out)
{
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

static int opt_u32(struct binder *b, const char *key, u32 def, u32 lo,
		   u32 hi, u32 *out)
{
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
static int opt_f32(struct binder *b, const char *key, u32 def, u32 *out)
{
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
	if (!llm_gguf_str_eq(s, "llama")) {
		llm_snprintf(b->err, b->errlen, "architecture '%s' is not supported (only 'llama')",
			     m->arch);
		return -EINVAL;
	}
	if (!llm_gguf_get_str(&m->gguf, "general.name", &s))
		copy_str(m->name, sizeof(m->name), s);
	else
		memcpy(m->name, "unnamed", sizeof("unnamed"));

	ret = need_u32(b, "llama.embedding_length", 1, 1 << 16, &c->n_embd);
	if (!ret)
		ret = need_u32(b, "llama.block_count", 1, LLM_MAX_LAYERS,
			       &c->n_layers);
	if (!ret)
		ret = need_u32(b, "llama.attention.head_count", 1, 1024,
			       &c->n_heads);
	if (!ret)
		ret = opt_u32(b, "llama.attention.head_count_kv", c->n_heads,
			      1, c->n_heads, &c->n_kv_heads);
	if (!ret)
		ret = need_u32(b, "llama.feed_forward_length", 1, 1 << 20,
			       &c->n_ff);
	if (!ret)
		ret = opt_u32(b, "llama.context_length", 2048, 1, 1 << 20,
			      &c->n_ctx_train);
	if (ret)
		return ret;
	if (c->n_embd % c->n_heads || c->n_heads % c->n_kv_heads ||
	    (c->n_embd / c->n_heads) % 2 ||
	    c->n_embd / c->n_heads > LLM_MAX_HEAD_DIM) {
		llm_snprintf(b->err, b->errlen, "%u heads (%u key/value heads) do not divide the embedding width %u into even head sizes up to %u",
			     c->n_heads, c->n_kv_heads, c->n_embd,
			     LLM_MAX_HEAD_DIM);
		return -EINVAL;
	}
	c->head_dim = c->n_embd / c->n_heads;
	c->kv_dim = c->n_kv_heads * c->head_dim;
	ret = opt_u32(b, "llama.rope.dimension_count", c->head_dim, 2,
		      c->head_dim, &c->n_rot);
	if (!ret && c->n_rot % 2) {
		llm_snprintf(b->err, b->errlen, "llama.rope.dimension_count must be even");
		ret = -EINVAL;
	}
	if (!ret)
		ret = opt_f32(b, "llama.rope.freq_base", LLM_ROPE_BASE_DEFAULT,
			      &c->rope_base_bits);
	if (!ret)
		ret = opt_f32(b, "llama.attention.layer_norm_rms_epsilon",
			      LLM_RMS_EPS_DEFAULT, &c->rms_eps_bits);
	return ret;
}

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
		llm_snprintf(b->err, b->errlen, "tensor %s is %s; norm weights must be F32",
			     name, llm_type_name(t->type));
		return -EINVAL;
	}
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

static int bind_layer(struct binder *b, u32 i)
{
	const struct llm_config *c = &b->m->cfg;
	struct llm_layer *L = &b->m->layers[i];
	struct {
		struct llm_weight *w;
		const char *suffix;
		u64 cols, rows;
	} t[] = {
		{ &L->attn_norm, "attn_norm", c->n_embd, 1 },
		{ &L->wq, "attn_q", c->n_embd, c->n_embd },
		{ &L->wk, "attn_k", c->n_embd, c->kv_dim },
		{ &L->wv, "attn_v", c->n_embd, c->kv_dim },
		{ &L->wo, "attn_output", c->n_embd, c->n_embd },
		{ &L->ffn_norm, "ffn_norm", c->n_embd, 1 },
		{ &L->gate, "ffn_gate", c->n_embd, c->n_ff },
		{ &L->up, "ffn_up", c->n_embd, c->n_ff },
		{ &L->down, "ffn_down", c->n_ff, c->n_embd },
	};
	char name[64];
	size_t k;
	int ret;

	for (k = 0; k < ARRAY_SIZE(t); k++) {
		llm_snprintf(name, sizeof(name), "blk.%u.%s.weight", i,
			     t[k].suffix);
		ret = bind_tensor(b, t[k].w, name, t[k].cols, t[k].rows, false);
		if (ret)
			return ret;
	}
	return 0;
}

static int bind_weights(struct binder *b, struct llm_arena *arena)
{
	struct llm_model *m = b->m;
	const struct llm_config *c = &m->cfg;
	u32 i;
	int ret;

	ret = bind_tensor(b, &m->tok_embd, "token_embd.weight", c->n_embd,
			  c->n_vocab, false);
	if (!ret)
		ret = bind_tensor(b, &m->output_norm, "output_norm.weight",
				  c->n_embd, 1, false);
	if (!ret)
		ret = bind_tensor(b, &m->output, "output.weight", c->n_embd,
				  c->n_vocab, true);
	if (ret)
		return ret;
	if (!m->output.data) {
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
	for (i = 0; i < c->n_layers; i++) {
		ret = bind_layer(b, i);
		if (ret)
			return ret;
	}
	return 0;
}

int llm_model_load(struct llm_model *m, const void *image, u64 len,
		   struct llm_arena *arena, bool force_ref,
		   char *err, size_t errlen)
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
	ret = llm_vocab_load(&m->vocab, &m->gguf, arena, err, errlen);
	if (ret)
		goto fail;
	m->cfg.n_vocab = m->vocab.n;
	ret = bind_weights(&b, arena);
	if (ret)
		goto fail;
	m->max_row = max(m->cfg.n_embd, m->cfg.n_ff);
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

/* Arena layout of one context: every buffer 64-byte aligned. */
struct ctx_layout {
	u64 f_embd, f_ff, f_att, f_logits, q8, kv, probs, tokens, rope,
	    piece, scratch;
};

static bool ctx_sizes(const struct llm_model *m, u32 n_ctx,
		      u32 max_prompt_bytes, struct ctx_layout *l)
{
	const struct llm_config *c = &m->cfg;
	u64 kv;

	l->f_embd = (u64)c->n_embd * 4;
	l->f_ff = (u64)c->n_ff * 4;
	l->f_att = (u64)c->n_heads * n_ctx * 4;
	l->f_logits = (u64)c->n_vocab * 4;
	l->q8 = (u64)(m->max_row / 32 + 1) * sizeof(struct llm_block_q8_0);
	if (check_mul_overflow((u64)c->n_layers * n_ctx, (u64)c->kv_dim * 4,
			       &kv))
		return false;
	l->kv = kv;
	l->probs = (u64)c->n_vocab * sizeof(struct llm_prob);
	l->tokens = (u64)n_ctx * 4;
	l->rope = (u64)c->n_rot * 4;
	l->piece = (u64)m->vocab.max_len + 8;
	l->scratch = llm_tokenize_scratch_bytes(max_prompt_bytes);
	return true;
}

u64 llm_ctx_bytes(const struct llm_model *m, u32 n_ctx, u32 max_prompt_bytes)
{
	struct ctx_layout l;
	u64 sum;

	if (!ctx_sizes(m, n_ctx, max_prompt_bytes, &l))
		return U64_MAX;
	sum = 4 * l.f_embd + 2 * l.f_ff + l.f_att + l.f_logits + l.q8 +
	      l.probs + l.tokens + l.rope + l.piece + l.scratch;
	if (check_add_overflow(sum, 2 * l.kv, &sum) ||
	    check_add_overflow(sum, (u64)16 * LLM_ARENA_ALIGN, &sum))
		return U64_MAX;
	return sum;
}

int llm_ctx_init(struct llm_ctx *c, const struct llm_model *m, u32 n_ctx,
		 u32 max_prompt_bytes, struct llm_arena *arena)
{
	size_t mark = llm_arena_mark(arena);
	struct ctx_layout l;

	memset(c, 0, sizeof(*c));
	if (!n_ctx || !ctx_sizes(m, n_ctx, max_prompt_bytes, &l) ||
	    l.kv > SIZE_MAX)
		return -EINVAL;
	c->m = m;
	c->n_ctx = n_ctx;
	c->max_prompt_bytes = max_prompt_bytes;
	c->x = llm_arena_alloc(arena, l.f_embd, 0);
	c->xb = llm_arena_alloc(arena, l.f_embd, 0);
	c->xb2 = llm_arena_alloc(arena, l.f_embd, 0);
	c->q = llm_arena_alloc(arena, l.f_embd, 0);
	c->hb = llm_arena_alloc(arena, l.f_ff, 0);
	c->hb2 = llm_arena_alloc(arena, l.f_ff, 0);
	c->att = llm_arena_alloc(arena, l.f_att, 0);
	c->logits = llm_arena_alloc(arena, l.f_logits, 0);
	c->xq = llm_arena_alloc(arena, l.q8, 0);
	c->k_cache = llm_arena_alloc(arena, l.kv, 0);
	c->v_cache = llm_arena_alloc(arena, l.kv, 0);
	c->probs = llm_arena_alloc(arena, l.probs, 0);
	c->tokens = llm_arena_alloc(arena, l.tokens, 0);
	c->rope_cs = llm_arena_alloc(arena, l.rope, 0);
	c->piece = llm_arena_alloc(arena, l.piece, 0);
	c->tok_scratch = llm_arena_alloc(arena, l.scratch, 0);
	c->tok_scratch_bytes = l.scratch;
	if (!c->x || !c->xb || !c->xb2 || !c->q || !c->hb || !c->hb2 ||
	    !c->att || !c->logits || !c->xq || !c->k_cache || !c->v_cache ||
	    !c->probs || !c->tokens || !c->rope_cs || !c->piece ||
	    !c->tok_scratch) {
		llm_arena_rewind(arena, mark);
		memset(c, 0, sizeof(*c));
		return -ENOMEM;
	}
	llm_ctx_reset(c);
	return 0;
}

void llm_ctx_reset(struct llm_ctx *c)
{
	c->n_past = 0;
	c->pending = LLM_TOKEN_NONE;
	c->rope_pos = U32_MAX;
}
