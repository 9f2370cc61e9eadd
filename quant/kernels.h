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


/* The kernels in use, picked once by CPU feature. */
struct llm_kernels {
	const char *name;		/* "scalar", "avx2", ... */
	void (*quantize_row_q8_0)(const float *x, struct llm_block_q8_0 *y,
				  u64 n);
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
};

/*
 * A tile as one dot product per element, from a row kernel @dot taking
 * weight rows of @wt and activations of @xt.
 */
#define LLM_MM_FROM_DOT(name, dot, wt, xt)				\
static void name(const struct llm_mm *mm, u64 r0, u64 r1)		\
{									\
	u32 t;								\
	u64 r;								\
									\
	for (t = 0; t < mm->n_tok; t++) {				\
		const xt *x = (const xt *)((const u8 *)mm->x +		\
					   t * mm->x_stride);		\
		float *y = mm->y + t * mm->y_stride;			\
									\
		for (r = r0; r < r1; r++)				\
			dot(mm->cols, &y[r],				\
			    (const wt *)(mm->w + r * mm->row_bytes), x);\
	}								\
}

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
	}
	return NULL;
}

extern const struct llm_kernels llm_kernels_ref;

#endif /* LLM_QUANT_KERNELS_H */
