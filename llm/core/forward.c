// SPDX-License-Identifier: GPL-2.0
/*
 * The llama forward pass as leaf functions: embed, RMSNorm, RoPE, matrix
 * tiles, attention in position ranges, SwiGLU, residual adds.  exec.c runs
 * them in the order of the architecture, over a batch of tokens, split
 * across threads.
 *
 * An FPU object.  Every function here does a bounded piece of work that
 * its caller sizes and brackets with llm_fpu_begin()/llm_fpu_end(); none
 * brackets, yields or sleeps itself (a build check enforces it).
 *
 * Each output element is computed by the same operations in the same order
 * whatever the batch, the tiling or the thread, so a token's results are
 * bitwise those it gets alone.
 */
#include "model.h"
#include "fmath.h"
#include "../../quant/kernels.h"

void llm_fwd_embed(const struct llm_model *m, u32 token, float *x)
{
	const struct llm_weight *e = &m->tok_embd;

	/* by the table's layout: a tied classifier may be repacked */
	llm_dequantize_row_mm(e->type, e->layout, e->data, e->rows,
			      e->row_bytes, token, x, e->cols);
}

void llm_fwd_rmsnorm(const struct llm_model *m, float *out, const float *x,
		     const float *w, u32 n, u32 eps_bits)
{
	m->kernels->rmsnorm(out, x, w, n, llm_bits_to_float(eps_bits));
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

void llm_fwd_rope_table(const struct llm_model *m, u32 pos, float *cs)
{
	u32 i, half = m->cfg.n_rot / 2;

	for (i = 0; i < half; i++) {
		float val = (float)pos * m->rope_freq[i];

		/* ggml divides the angle by the factor: freq_factors */
		if (m->rope_factors)
			val /= m->rope_factors[i];
		double s, co;

		llm_sincos_d(val, &s, &co);
		cs[2 * i] = (float)co;
		cs[2 * i + 1] = (float)s;
	}
}

/*
 * Rotate each head's pairs: adjacent ones (llama.cpp's "norm" RoPE, as
 * llama2.c), or element i with i + n_rot/2 (GPT-NeoX's, Qwen's).
 */
void llm_fwd_rope(const struct llm_model *m, float *v, u32 n_heads,
		  const float *cs)
{
	const struct llm_config *cfg = &m->cfg;
	u32 h, i, half = cfg->n_rot / 2;
	bool halves = cfg->arch->rope == LLM_ROPE_HALVES;

	for (h = 0; h < n_heads; h++) {
		float *hv = v + h * cfg->head_dim;

		for (i = 0; i < half; i++) {
			float fcr = cs[2 * i], fci = cs[2 * i + 1];
			u32 a = halves ? i : 2 * i, b = halves ? i + half : a + 1;
			float v0 = hv[a], v1 = hv[b];

			hv[a] = v0 * fcr - v1 * fci;
			hv[b] = v0 * fci + v1 * fcr;
		}
	}
}

/*
 * LayerNorm as ggml computes it: mean and variance summed in double,
 * (x - mean) / sqrt(var + eps) in float, then * w + b.
 */
static void layernorm(float *out, const float *x, const float *w,
		      const float *b, u32 n, float eps)
{
	double sum = 0, sum2 = 0;
	float mean, scale;
	u32 i;

	for (i = 0; i < n; i++)
		sum += x[i];
	mean = (float)(sum / n);
	for (i = 0; i < n; i++) {
		float d = x[i] - mean;

		out[i] = d;
		sum2 += (double)(d * d);
	}
	scale = 1.0f / llm_sqrtf((float)(sum2 / n) + eps);
	for (i = 0; i < n; i++)
		out[i] = out[i] * scale * w[i] + b[i];
}

void llm_fwd_norm(const struct llm_model *m, float *out, const float *x,
		  const struct llm_weight *w, const struct llm_weight *b, u32 n)
{
	float eps = llm_bits_to_float(m->cfg.rms_eps_bits);

	if (m->cfg.arch->norm == LLM_NORM_LAYER)
		layernorm(out, x, (const float *)w->data,
			  (const float *)b->data, n, eps);
	else
		m->kernels->rmsnorm(out, x, (const float *)w->data, n, eps);
}

void llm_fwd_head_norm(const struct llm_model *m, float *v, u32 n_heads,
		       const struct llm_weight *w)
{
	u32 hd = m->cfg.head_dim, h;

	for (h = 0; h < n_heads; h++)
		m->kernels->rmsnorm(v + h * hd, v + h * hd,
				    (const float *)w->data, hd,
				    llm_bits_to_float(m->cfg.rms_eps_bits));
}

void llm_fwd_add_pos(const struct llm_model *m, u32 pos, float *x,
		     float *row)
{
	const struct llm_weight *p = &m->pos_embd;
	u32 i;

	llm_dequantize_row_mm(p->type, p->layout, p->data, p->rows,
			      p->row_bytes, pos, row, p->cols);
	for (i = 0; i < m->cfg.n_embd; i++)
		x[i] += row[i];
}

/*
 * GELU as ggml's CPU backend computes it: the input rounded to F16, the
 * tanh formula in float on that, the result rounded to F16 (its table of
 * 65536 values); inputs beyond +-10 pass or vanish.
 */
static float gelu(float x)
{
	const float c = 0.79788456080286535587989211986876f, a = 0.044715f;
	u16 h;
	float t, z;

	if (x <= -10.0f)
		return 0.0f;
	if (x >= 10.0f)
		return x;
	llm_quantize_row_f16_ref(&x, &h, 1);
	x = llm_fp16_to_fp32(h);
	z = c * x * (1.0f + a * x * x);
	/* tanh(z) = 1 - 2 / (e^2z + 1) */
	t = (float)(1.0 - 2.0 / (llm_exp_d(2.0 * z) + 1.0));
	z = 0.5f * x * (1.0f + t);
	llm_quantize_row_f16_ref(&z, &h, 1);
	return llm_fp16_to_fp32(h);
}

void llm_fwd_gelu(float *y, u64 i0, u64 i1)
{
	u64 i;

	for (i = i0; i < i1; i++)
		y[i] = gelu(y[i]);
}

void llm_fwd_route(const struct llm_model *m, const float *logits,
		   u32 *ids, float *weights)
{
	u32 n = m->cfg.n_expert, k = m->cfg.n_expert_used, e, j, s;
	float maxv = logits[0], prob[LLM_MAX_EXPERTS];
	double sum = 0, wsum = 0;

	/* softmax, as ggml_soft_max: max, exp(x - max) summed in double */
	for (e = 1; e < n; e++)
		maxv = logits[e] > maxv ? logits[e] : maxv;
	for (e = 0; e < n; e++) {
		prob[e] = llm_expf(logits[e] - maxv);
		sum += prob[e];
	}
	for (e = 0; e < n; e++)
		prob[e] *= (float)(1.0 / sum);
	/* the k largest, highest first; the lower id first among equals */
	for (s = 0; s < k; s++) {
		u32 best = n;

		for (e = 0; e < n; e++) {
			for (j = 0; j < s && ids[j] != e; j++)
				;
			if (j < s)
				continue;
			if (best == n || prob[e] > prob[best])
				best = e;
		}
		ids[s] = best;
		weights[s] = prob[best];
		wsum += prob[best];
	}
	/* Qwen3-MoE's norm_topk_prob: the weights sum to one */
	for (s = 0; s < k; s++)
		weights[s] /= (float)wsum;
}

void llm_fwd_add_bias(float *y, const struct llm_weight *b, u64 r0, u64 r1)
{
	const float *bv = (const float *)b->data;
	u64 i;

	for (i = r0; i < r1; i++)
		y[i] += bv[i];
}

void llm_fwd_scale_add(float *acc, const float *y, const float *wp,
		       bool first, u64 n)
{
	float w = *wp;
	u64 i;

	for (i = 0; i < n; i++)
		acc[i] = first ? w * y[i] : acc[i] + w * y[i];
}

void llm_fwd_add(float *y, const float *d, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		y[i] += d[i];
}

void llm_fwd_swiglu(const struct llm_model *m, float *g, const float *u,
		    u64 i0, u64 i1)
{
	m->kernels->silu_mul(g + i0, u + i0, i1 - i0);
}

void llm_fwd_quantize(const struct llm_model *m, const float *x, void *act,
		      u64 n)
{
	m->kernels->quantize_act(x, act, n);
}

void llm_fwd_quantize_k(const struct llm_model *m, const float *x, void *act,
			u64 n)
{
	m->kernels->quantize_act_k(x, act, n);
}

void llm_fwd_mm(const struct llm_model *m, u32 type, const struct llm_mm *mm,
		u64 r0, u64 r1)
{
	llm_mm_pick(m->kernels, type)(mm, r0, r1);
}

void llm_fwd_attn_scores(const struct llm_model *m, const float *q,
			 u32 kv_type, const void *k, float *att, float *st,
			 u32 p0, u32 p1)
{
	const struct llm_config *cfg = &m->cfg;
	float scale = 1.0f / llm_sqrtf((float)cfg->head_dim);
	u32 t;

	if (kv_type == LLM_T_F16)
		m->kernels->attn_scores_f16(q, k, cfg->kv_dim, cfg->head_dim,
					    scale, att + p0, p1 - p0);
	else
		m->kernels->attn_scores(q, k, cfg->kv_dim, cfg->head_dim,
					scale, att + p0, p1 - p0);
	for (t = p0; t < p1; t++)
		if (t == 0 || att[t] > st[0])
			st[0] = att[t];
}

void llm_fwd_attn_exp(const struct llm_model *m, float *att, float *st,
		      u32 p0, u32 p1)
{
	float maxv = st[0], sum = p0 ? st[1] : 0.0f;
	u32 t;

	/* e^(att - max) by the table's exp (vexp: llm_expf() in the reference) */
	for (t = p0; t < p1; t++)
		att[t] -= maxv;
	m->kernels->vexp(att + p0, att + p0, p1 - p0);
	for (t = p0; t < p1; t++)
		sum += att[t];
	st[1] = sum;
}

void llm_fwd_attn_values(const struct llm_model *m, const float *att,
			 const float *st, u32 kv_type, const void *v,
			 float *out, u32 p0, u32 p1)
{
	const struct llm_config *cfg = &m->cfg;

	if (!p0)
		memset(out, 0, cfg->head_dim * sizeof(*out));
	if (kv_type == LLM_T_F16)
		m->kernels->attn_values_f16(out, att + p0, st[1], v,
					    cfg->kv_dim, cfg->head_dim,
					    p1 - p0);
	else
		m->kernels->attn_values(out, att + p0, st[1], v, cfg->kv_dim,
					cfg->head_dim, p1 - p0);
}

void llm_fwd_kv_store(u32 kv_type, void *dst, const float *src, u32 n)
{
	if (kv_type == LLM_T_F16)
		llm_quantize_row_f16_ref(src, dst, n);
	else
		memcpy(dst, src, n * sizeof(float));
}
