/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Float kernels over the block formats of quant/quant.h.  Include only from
 * FPU translation units (see Kbuild's llm-fpu-y), and call only between
 * llm_fpu_begin() and llm_fpu_end() when in the kernel.
 *
 * Every kernel has a plain scalar reference (the *_ref functions, in
 * quant/ref.c).  Faster variants are chosen once, by llm_kernels_pick(),
 * by CPU feature, and are tested against the reference.
 */
#ifndef LLM_QUANT_KERNELS_H
#define LLM_QUANT_KERNELS_H

#include "quant.h"
#include "../llm/core/fmath.h"

/*
 * IEEE half <-> single, round-to-nearest-even, subnormals, inf and NaN
 * (see llm_fp16_to_fp32_bits() and llm_fp32_bits_to_fp16() for NaNs).
 */
float llm_fp16_to_fp32(u16 h);
u16 llm_fp32_to_fp16(float f);

/*
 * Quantizers that produce the same bytes as ggml's reference quantizers
 * (quantize_row_q8_0_ref / quantize_row_q4_0_ref).  @n is a multiple of 32.
 */
void llm_quantize_row_q8_0_ref(const float *x, struct llm_block_q8_0 *y,
			       u64 n);
void llm_quantize_row_q4_0_ref(const float *x, struct llm_block_q4_0 *y,
			       u64 n);
void llm_quantize_row_f16_ref(const float *x, u16 *y, u64 n);

/* Row dequantization of any supported type to float. */
void llm_dequantize_row_ref(u32 type, const void *x, float *y, u64 n);

/*
 * The K-quants (kquants.c): quantizers giving ggml's bytes
 * (quantize_row_q{4,5,6}_K_ref) and dequantization as ggml's.  @n is a
 * multiple of 256.
 */
void llm_quantize_row_q4_k_ref(const float *x, struct llm_block_q4_k *y,
			       u64 n);
void llm_quantize_row_q5_k_ref(const float *x, struct llm_block_q5_k *y,
			       u64 n);
void llm_quantize_row_q6_k_ref(const float *x, struct llm_block_q6_k *y,
			       u64 n);
void llm_dequantize_row_k_ref(u32 type, const void *x, float *y, u64 n);

/*
 * Activations for K-quant weights (K act columns): n = 256 * nb elements
 * quantized as ggml's quantize_row_q8_K_ref quantizes them, laid out in
 * llm_act_bytes(LLM_T_Q4_K, n) bytes (quant.h):
 *
 *	s8 q[nb][256];	super-block i's quants
 *	float d[nb];	its scale
 *	s32 sum[nb][8];	the sums of its eight runs of 32 quants
 *	padding to a multiple of 64 bytes
 */
static inline const float *llm_actk_d(const void *act, u64 nb)
{
	return (const float *)((const u8 *)act + nb * LLM_QK_K);
}

static inline const s32 *llm_actk_sum(const void *act, u64 nb)
{
	return (const s32 *)((const u8 *)act + nb * (LLM_QK_K + 4));
}

void llm_quantize_act_k_ref(const float *x, void *act, u64 n);
/* Super-block @i of a K-quant row against its activations: kquants.c */
float llm_k_term(u32 type, const u8 *row, u64 i, const s8 *aq, float ad,
		 const s32 *asum);
void llm_mm_k_ref(const struct llm_mm *mm, u32 type, u64 r0, u64 r1);

/*
 * Row @r of a matrix of @type whose rows lie as @layout says (enum
 * llm_mm_layout, quant.h), dequantized to @cols floats: what
 * llm_dequantize_row_ref() gives for that row before llm_mm_repack().
 */
void llm_dequantize_row_mm(u32 type, u32 layout, const u8 *w, u64 rows,
			   u64 row_bytes, u64 r, float *y, u64 cols);

/*
 * Dot products of one weight row with activations prepared for it: F32 and
 * F16 rows take float activations; Q8_0 and Q4_0 rows take activations
 * quantized to Q8_0 blocks (as llama.cpp does).  The sum is written to *s.
 * Activation quants must lie in [-127, 127], as every Q8_0 quantizer makes
 * them: the SIMD variants rely on it (weights may hold -128).
 */
void llm_vec_dot_f32_ref(u64 n, float *s, const float *x, const float *y);
void llm_vec_dot_f16_ref(u64 n, float *s, const u16 *x, const float *y);
void llm_vec_dot_q8_0_q8_0_ref(u64 n, float *s, const struct llm_block_q8_0 *x,
			       const struct llm_block_q8_0 *y);
void llm_vec_dot_q4_0_q8_0_ref(u64 n, float *s, const struct llm_block_q4_0 *x,
			       const struct llm_block_q8_0 *y);

/*
 * Activations for Q8_0 and Q4_0 weights ("act" columns): one column of
 * n = 32 * nb elements quantized exactly as quantize_row_q8_0 quantizes
 * it, laid out for the tiles in llm_act_bytes(type, n) bytes (quant.h):
 *
 *	s8 q[nb][32];	block b's quants (Q8_0's qs)
 *	float d[nb];	block b's scale: Q8_0's fp16 scale, widened (exact)
 *	s32 off[nb];	-8 times the sum of block b's 32 quants
 *	padding to a multiple of 64 bytes
 *
 * off[] lets a Q4_0 tile keep its nibbles unsigned (0..15): a block's
 * integer dot is that of the unsigned nibbles plus off[b], which a tile
 * can start its integer sum from.  Quants lie in
 * [-127, 127], which the tiles rely on.  A column starting 32-byte
 * aligned keeps every block's quants aligned.
 */
static inline const float *llm_act_d(const void *act, u64 nb)
{
	return (const float *)((const u8 *)act + nb * LLM_QK8_0);
}

static inline const s32 *llm_act_off(const void *act, u64 nb)
{
	return (const s32 *)((const u8 *)act + nb * (LLM_QK8_0 + 4));
}

void llm_quantize_act_ref(const float *x, void *act, u64 n);


/*
 * Element-wise pieces of the forward pass.  The references (ref.c) do
 * exactly what llm/core/forward.c did, operation for operation; the SIMD
 * ones agree with them to rounding.  Each is deterministic.  "Splittable":
 * calling it on pieces of a vector gives the same bits as one call on the
 * whole; the others (the sums) must be called on the whole vector.
 */
struct llm_kernels {
	const char *name;		/* "scalar", "avx2", ... */
	void (*quantize_row_q8_0)(const float *x, struct llm_block_q8_0 *y,
				  u64 n);
	/* one act column (above) from @n floats, @n a multiple of 32 */
	void (*quantize_act)(const float *x, void *act, u64 n);
	/* one K act column from @n floats, @n a multiple of 256 */
	void (*quantize_act_k)(const float *x, void *act, u64 n);
	void (*vec_dot_f32)(u64 n, float *s, const float *x, const float *y);
	void (*vec_dot_f16)(u64 n, float *s, const u16 *x, const float *y);
	void (*vec_dot_q8_0_q8_0)(u64 n, float *s,
				  const struct llm_block_q8_0 *x,
				  const struct llm_block_q8_0 *y);
	void (*vec_dot_q4_0_q8_0)(u64 n, float *s,
				  const struct llm_block_q4_0 *x,
				  const struct llm_block_q8_0 *y);
	/* matrix tiles, per weight type */
	llm_mm_fn mm_f32;
	llm_mm_fn mm_f16;
	llm_mm_fn mm_q8_0;
	llm_mm_fn mm_q4_0;
	llm_mm_fn mm_q4_k;
	llm_mm_fn mm_q5_k;
	llm_mm_fn mm_q6_k;

	/* sum of x[i]^2: not splittable */
	float (*sum_sq)(const float *x, u64 n);
	/* y[i] = w[i] * (s * x[i]): splittable */
	void (*rms_scale)(float *y, const float *x, const float *w, float s,
			  u64 n);
	/*
	 * RMSNorm: y = w * x / sqrt(mean(x^2) + eps), as sum_sq(), then
	 * s = 1 / sqrt(ss / n + eps), then rms_scale(): not splittable
	 */
	void (*rmsnorm)(float *y, const float *x, const float *w, u64 n,
			float eps);
	/* g[i] = g[i] / (1 + e^-g[i]) * u[i] (SwiGLU): splittable */
	void (*silu_mul)(float *g, const float *u, u64 n);
	/* the largest x[i] (n >= 1; no NaN): splittable */
	float (*vmax)(const float *x, u64 n);
	/* x[i] = e^(x[i] - m), returns their sum: not splittable */
	float (*exp_sum)(float *x, u64 n, float m);
	/* x[i] /= d: splittable */
	void (*vdiv)(float *x, u64 n, float d);
	/* y[i] = e^x[i]: splittable; y may be x */
	void (*vexp)(float *y, const float *x, u64 n);

	/*
	 * Attention over @n positions whose key (value) rows of @hd floats
	 * lie @stride floats apart.  attn_scores: att[i] = dot(q, k row i)
	 * * scale, each dot whole (its order is the kernel's own);
	 * splittable by positions.  attn_values: for i = 0, 1, ...: out[j] +=
	 * (att[i] / sum) * v[i][j], a multiply and an add per element, in
	 * position order, so every variant gives the reference's bits;
	 * splittable by positions taken in order.  The _f16 ones take rows
	 * of halves (an F16 KV cache), widened exactly, then the same.
	 */
	void (*attn_scores)(const float *q, const float *k, u64 stride,
			    u32 hd, float scale, float *att, u32 n);
	void (*attn_values)(float *out, const float *att, float sum,
			    const float *v, u64 stride, u32 hd, u32 n);
	void (*attn_scores_f16)(const float *q, const u16 *k, u64 stride,
				u32 hd, float scale, float *att, u32 n);
	void (*attn_values_f16)(float *out, const float *att, float sum,
				const u16 *v, u64 stride, u32 hd, u32 n);
};

/*
 * RMSNorm's scale from the sum of squares @ss of @n elements, in the order
 * forward.c computed it: ss / n, + eps, 1 / sqrt.
 */
static inline float llm_rms_inv(float ss, u64 n, float eps)
{
	ss /= (u32)n;
	ss += eps;
	return 1.0f / llm_sqrtf(ss);
}

/* The references of the element-wise pieces. */
float llm_sum_sq_ref(const float *x, u64 n);
void llm_rms_scale_ref(float *y, const float *x, const float *w, float s,
		       u64 n);
void llm_rmsnorm_ref(float *y, const float *x, const float *w, u64 n,
		     float eps);
void llm_silu_mul_ref(float *g, const float *u, u64 n);
float llm_max_ref(const float *x, u64 n);
float llm_exp_sum_ref(float *x, u64 n, float m);
void llm_div_ref(float *x, u64 n, float d);
void llm_exp_ref(float *y, const float *x, u64 n);
void llm_attn_scores_ref(const float *q, const float *k, u64 stride, u32 hd,
			 float scale, float *att, u32 n);
void llm_attn_values_ref(float *out, const float *att, float sum,
			 const float *v, u64 stride, u32 hd, u32 n);
void llm_attn_scores_f16_ref(const float *q, const u16 *k, u64 stride,
			     u32 hd, float scale, float *att, u32 n);
void llm_attn_values_f16_ref(float *out, const float *att, float sum,
			     const u16 *v, u64 stride, u32 hd, u32 n);

/* The tile function for weights of @type (NULL: not a matrix type). */
static inline llm_mm_fn llm_mm_pick(const struct llm_kernels *k, u32 type)
{
	switch (type) {
	case LLM_T_F32:
		return k->mm_f32;
	case LLM_T_F16:
		return k->mm_f16;
	case LLM_T_Q8_0:
		return k->mm_q8_0;
	case LLM_T_Q4_0:
		return k->mm_q4_0;
	case LLM_T_Q4_K:
		return k->mm_q4_k;
	case LLM_T_Q5_K:
		return k->mm_q5_k;
	case LLM_T_Q6_K:
		return k->mm_q6_k;
	}
	return NULL;
}

extern const struct llm_kernels llm_kernels_ref;

/* The reference K-quant tiles (kquants.c), for tables without their own */
void llm_mm_q4_k_ref(const struct llm_mm *mm, u64 r0, u64 r1);
void llm_mm_q5_k_ref(const struct llm_mm *mm, u64 r0, u64 r1);
void llm_mm_q6_k_ref(const struct llm_mm *mm, u64 r0, u64 r1);

/* quant/avx512vnni.c's quantized tiles, for llm_kernels_avx512vnni */
void llm_mm_q8_0_vnni(const struct llm_mm *mm, u64 r0, u64 r1);
void llm_mm_q4_0_vnni(const struct llm_mm *mm, u64 r0, u64 r1);

#endif /* LLM_QUANT_KERNELS_H */
