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

/* Rotate adjacent pairs (llama.cpp's "norm" RoPE, as llama2.c). */
void llm_fwd_rope(const struct llm_model *m, float *v, u32 n_heads,
		  const float *cs)
{
	const struct llm_config *cfg = &m->cfg;
	u32 h, i;

	for (h = 0; h < n_heads; h++) {
		float *hv = v + h * cfg->head_dim;

		for (i = 0; i < cfg->n_rot; i += 2) {
			float fcr = cs[i], fci = cs[i + 1];
			float v0 = hv[i], v1 = hv[i + 1];

			hv[i] = v0 * fcr - v1 * fci;
			hv[i + 1] = v0 * fci + v1 * fcr;
		}
	}
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
