// SPDX-License-Identifier: GPL-2.0
/*
 * The llama forward pass, straight-line in the order of the architecture:
 * embed, then per layer RMSNorm -> Q/K/V -> RoPE -> attention over the KV
 * cache -> output projection -> residual -> RMSNorm -> SwiGLU feed-forward
 * -> residual, then the final norm and the classifier.
 *
 * An FPU object: callers bracket each entry point with llm_fpu_begin() and
 * llm_fpu_end().  Long matrix products end and restart the bracket every
 * LLM_FPU_CHUNK multiply-adds so that no FPU section is unbounded.
 */
#include "model.h"
#include "fmath.h"
#include "../../quant/kernels.h"

/* Multiply-adds between two breaks in a long FPU section. */
#define LLM_FPU_CHUNK (4u << 20)

/* Activations as the weights of a matrix want them: float or Q8_0. */
struct act {
	const float *f;
	const void *q;
};

static struct act prepare(struct llm_ctx *c, const float *x, u64 n,
			  bool need_q)
{
	struct act a = { .f = x, .q = NULL };

	if (need_q) {
		c->m->kernels->quantize_row_q8_0(x, c->xq, n);
		a.q = c->xq;
	}
	return a;
}

static bool wants_q8(const struct llm_weight *w)
{
	return w->type == LLM_T_Q8_0 || w->type == LLM_T_Q4_0;
}

/* out[r] = W[r] . x for every row r of @w. */
static void matvec(struct llm_ctx *c, const struct llm_weight *w,
		   struct act a, float *out)
{
	const struct llm_kernels *k = c->m->kernels;
	u64 r, budget = 0;

	for (r = 0; r < w->rows; r++) {
		const void *row = w->data + r * w->row_bytes;

		switch (w->type) {
		case LLM_T_F32:
			k->vec_dot_f32(w->cols, &out[r], row, a.f);
			break;
		case LLM_T_F16:
			k->vec_dot_f16(w->cols, &out[r], row, a.f);
			break;
		case LLM_T_Q8_0:
			k->vec_dot_q8_0_q8_0(w->cols, &out[r], row, a.q);
			break;
		case LLM_T_Q4_0:
			k->vec_dot_q4_0_q8_0(w->cols, &out[r], row, a.q);
			break;
		}
		budget += w->cols;
		if (budget >= LLM_FPU_CHUNK) {
			llm_fpu_end();
			llm_yield();
			llm_fpu_begin();
			budget = 0;
		}
	}
}

static void rmsnorm(float *out, const float *x, const float *w, u32 n,
		    float eps)
{
	float ss = 0.0f;
	u32 i;

	for (i = 0; i < n; i++)
		ss += x[i] * x[i];
	ss /= n;
	ss += eps;
	ss = 1.0f / llm_sqrtf(ss);
	for (i = 0; i < n; i++)
		out[i] = w[i] * (ss * x[i]);
}

static void softmax(float *x, u32 n)
{
	float maxv = x[0], sum = 0.0f;
	u32 i;

	for (i = 1; i < n; i++)
		if (x[i] > maxv)
			maxv = x[i];
	for (i = 0; i < n; i++) {
		x[i] = llm_expf(x[i] - maxv);
		sum += x[i];
	}
	for (i = 0; i < n; i++)
		x[i] /= sum;
}

void llm_model_init_rope(struct llm_model *m)
{
	const struct llm_config *cfg = &m->cfg;
	double lbase = llm_log_d(llm_bits_to_float(cfg->rope_base_bits));
	u32 i;

	/* as llama2.c: freq_i = 1 / base^(2i / n_rot), each step in float */
	for (i = 0; i < cfg->n_rot / 2; i++) {
		float e = (float)(2 * i) / (float)cfg->n_rot;
		float p = (float)llm_exp_d((double)e * lbase);

		m->rope_freq[i] = 1.0f / p;
	}
}

/* cos/sin of every rotated pair at @pos, shared by all heads and layers. */
static void rope_angles(struct llm_ctx *c, u32 pos)
{
	u32 i, half = c->m->cfg.n_rot / 2;

	if (c->rope_pos == pos)
		return;
	for (i = 0; i < half; i++) {
		float val = (float)pos * c->m->rope_freq[i];
		double s, co;

		llm_sincos_d(val, &s, &co);
		c->rope_cs[2 * i] = (float)co;
		c->rope_cs[2 * i + 1] = (float)s;
	}
	c->rope_pos = pos;
}

/* Rotate adjacent pairs (llama.cpp's "norm" RoPE, as llama2.c). */
static void rope(struct llm_ctx *c, float *v, u32 n_heads)
{
	const struct llm_config *cfg = &c->m->cfg;
	u32 h, i;

	for (h = 0; h < n_heads; h++) {
		float *hv = v + h * cfg->head_dim;

		for (i = 0; i < cfg->n_rot; i += 2) {
			float fcr = c->rope_cs[i], fci = c->rope_cs[i + 1];
			float v0 = hv[i], v1 = hv[i + 1];

			hv[i] = v0 * fcr - v1 * fci;
			hv[i + 1] = v0 * fci + v1 * fcr;
		}
	}
}

void llm_forward_embed(struct llm_ctx *c, u32 token)
{
	const struct llm_weight *e = &c->m->tok_embd;

	llm_dequantize_row_ref(e->type, e->data + (u64)token * e->row_bytes,
			       c->x, e->cols);
}

static void attention(struct llm_ctx *c, u32 layer, u32 pos)
{
	const struct llm_config *cfg = &c->m->cfg;
	u32 hd = cfg->head_dim, group = cfg->n_heads / cfg->n_kv_heads;
	u64 loff = (u64)layer * c->n_ctx * cfg->kv_dim;
	float scale = 1.0f / llm_sqrtf((float)hd);
	u32 h, t, i;

	for (h = 0; h < cfg->n_heads; h++) {
		const float *q = c->q + h * hd;
		float *att = c->att + (u64)h * c->n_ctx;
		float *out = c->xb + h * hd;
		u32 kvo = (h / group) * hd;

		for (t = 0; t <= pos; t++) {
			const float *k = c->k_cache + loff +
					 (u64)t * cfg->kv_dim + kvo;
			float score = 0.0f;

			for (i = 0; i < hd; i++)
				score += q[i] * k[i];
			att[t] = score * scale;
		}
		softmax(att, pos + 1);
		memset(out, 0, hd * sizeof(*out));
		for (t = 0; t <= pos; t++) {
			const float *v = c->v_cache + loff +
					 (u64)t * cfg->kv_dim + kvo;
			float a = att[t];

			for (i = 0; i < hd; i++)
				out[i] += a * v[i];
		}
	}
}

void llm_forward_layer(struct llm_ctx *c, u32 layer, u32 pos)
{
	const struct llm_config *cfg = &c->m->cfg;
	const struct llm_layer *L = &c->m->layers[layer];
	float eps = llm_bits_to_float(cfg->rms_eps_bits);
	u64 kvpos = ((u64)layer * c->n_ctx + pos) * cfg->kv_dim;
	float *kc = c->k_cache + kvpos, *vc = c->v_cache + kvpos;
	struct act a;
	u32 i;

	/* attention block */
	rmsnorm(c->xb, c->x, (const float *)L->attn_norm.data, cfg->n_embd,
		eps);
	a = prepare(c, c->xb, cfg->n_embd, wants_q8(&L->wq) ||
		    wants_q8(&L->wk) || wants_q8(&L->wv));
	matvec(c, &L->wq, a, c->q);
	matvec(c, &L->wk, a, kc);
	matvec(c, &L->wv, a, vc);
	rope_angles(c, pos);
	rope(c, c->q, cfg->n_heads);
	rope(c, kc, cfg->n_kv_heads);
	attention(c, layer, pos);
	a = prepare(c, c->xb, cfg->n_embd, wants_q8(&L->wo));
	matvec(c, &L->wo, a, c->xb2);
	for (i = 0; i < cfg->n_embd; i++)
		c->x[i] += c->xb2[i];

	/* feed-forward block: down(silu(gate(x)) * up(x)) */
	rmsnorm(c->xb, c->x, (const float *)L->ffn_norm.data, cfg->n_embd,
		eps);
	a = prepare(c, c->xb, cfg->n_embd,
		    wants_q8(&L->gate) || wants_q8(&L->up));
	matvec(c, &L->gate, a, c->hb);
	matvec(c, &L->up, a, c->hb2);
	for (i = 0; i < cfg->n_ff; i++) {
		float v = c->hb[i];

		v *= 1.0f / (1.0f + llm_expf(-v));
		c->hb[i] = v * c->hb2[i];
	}
	a = prepare(c, c->hb, cfg->n_ff, wants_q8(&L->down));
	matvec(c, &L->down, a, c->xb2);
	for (i = 0; i < cfg->n_embd; i++)
		c->x[i] += c->xb2[i];
}

void llm_forward_logits(struct llm_ctx *c)
{
	const struct llm_model *m = c->m;
	struct act a;

	rmsnorm(c->xb, c->x, (const float *)m->output_norm.data,
		m->cfg.n_embd, llm_bits_to_float(m->cfg.rms_eps_bits));
	a = prepare(c, c->xb, m->cfg.n_embd, wants_q8(&m->output));
	matvec(c, &m->output, a, c->logits);
}
