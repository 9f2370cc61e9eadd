// SPDX-License-Identifier: GPL-2.0
/*
 * The scalar reference of every kernel in quant/kernels.h.  An FPU object.
 *
 * The quantizers give the same bytes as ggml's quantize_row_q8_0_ref and
 * quantize_row_q4_0_ref, so a file we quantize matches one made by
 * llama.cpp; the dot products follow ggml's scalar ones.  The SIMD variants
 * are tested against these.  No libm: the few helpers are written here.
 */
#include "kernels.h"

static inline float f32_from_bits(u32 b)
{
	float f;

	memcpy(&f, &b, sizeof(f));
	return f;
}

static inline u32 f32_bits(float f)
{
	u32 b;

	memcpy(&b, &f, sizeof(b));
	return b;
}

/* fabsf() without libm or a builtin sparse does not know: one andps. */
static inline float abs_f(float v)
{
	return f32_from_bits(f32_bits(v) & 0x7fffffff);
}

static inline float h2f(u16 h)
{
	return f32_from_bits(llm_fp16_to_fp32_bits(h));
}

float llm_fp16_to_fp32(u16 h)
{
	return h2f(h);
}

u16 llm_fp32_to_fp16(float f)
{
	return llm_fp32_bits_to_fp16(f32_bits(f));
}

/*
 * roundf() narrowed to a Q8_0 quant: halves away from zero.  A block of
 * normal scale stays within [-127, 127] (|x| * (1 / (amax / 127)) is at
 * most 127.0001).  Beyond that, where ggml's float to int8_t conversion is
 * undefined, we clamp:
 *  - a block whose largest magnitude is below 2^-119 has a subnormal scale,
 *    whose inverse can overshoot; we give +-127 where ggml wraps;
 *  - NaN (from NaN or inf input, or 0 * inf) gives 0, as ggml does on x86.
 */
static inline int round_q8(float v)
{
	float a = abs_f(v);
	int i;

	if (!(a <= 127.0f))
		return a > 127.0f ? (v < 0.0f ? -127 : 127) : 0;
	i = (int)a;
	if (a - (float)i >= 0.5f)	/* exact: a and i share a binade */
		i++;
	return v < 0.0f ? -i : i;
}

/*
 * ggml's MIN(15, (int8_t)(v + 8.5f)) for a Q4_0 nibble: truncate toward
 * zero.  A block of normal scale keeps v + 8.5 within [0.49, 16.51].  As
 * for Q8_0, what ggml leaves undefined (NaN, and the overshoot of a
 * subnormal scale below 2^-123) we clamp to [0, 15], NaN to 0.
 */
static inline u8 nibble_q4(float v)
{
	float t = v + 8.5f;

	if (!(t > 0.0f))
		return 0;
	if (t >= 15.0f)
		return 15;
	return (u8)(int)t;
}

void llm_quantize_row_q8_0_ref(const float *x, struct llm_block_q8_0 *y,
			       u64 n)
{
	u64 i, nb = n / LLM_QK8_0;
	int j;

	for (i = 0; i < nb; i++, x += LLM_QK8_0) {
		float amax = 0.0f, d, id;

		/* ggml's MAX(): a NaN is kept only until the next element */
		for (j = 0; j < LLM_QK8_0; j++) {
			float a = abs_f(x[j]);

			amax = amax > a ? amax : a;
		}
		d = amax / 127.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		y[i].d = llm_fp32_to_fp16(d);
		for (j = 0; j < LLM_QK8_0; j++)
			y[i].qs[j] = (s8)round_q8(x[j] * id);
	}
}

void llm_quantize_row_q4_0_ref(const float *x, struct llm_block_q4_0 *y,
			       u64 n)
{
	const int half = LLM_QK4_0 / 2;
	u64 i, nb = n / LLM_QK4_0;
	int j;

	for (i = 0; i < nb; i++, x += LLM_QK4_0) {
		float amax = 0.0f, max = 0.0f, d, id;

		/* the first element of largest magnitude, with its sign */
		for (j = 0; j < LLM_QK4_0; j++) {
			float a = abs_f(x[j]);

			if (amax < a) {
				amax = a;
				max = x[j];
			}
		}
		d = max / -8.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		y[i].d = llm_fp32_to_fp16(d);
		for (j = 0; j < half; j++)
			y[i].qs[j] = nibble_q4(x[j] * id) |
				     nibble_q4(x[j + half] * id) << 4;
	}
}

void llm_quantize_row_f16_ref(const float *x, u16 *y, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		y[i] = llm_fp32_to_fp16(x[i]);
}

static void dequantize_q8_0(const struct llm_block_q8_0 *x, float *y, u64 nb)
{
	u64 i;
	int j;

	for (i = 0; i < nb; i++, y += LLM_QK8_0) {
		float d = h2f(x[i].d);

		for (j = 0; j < LLM_QK8_0; j++)
			y[j] = x[i].qs[j] * d;
	}
}

static void dequantize_q4_0(const struct llm_block_q4_0 *x, float *y, u64 nb)
{
	const int half = LLM_QK4_0 / 2;
	u64 i;
	int j;

	for (i = 0; i < nb; i++, y += LLM_QK4_0) {
		float d = h2f(x[i].d);

		for (j = 0; j < half; j++) {
			y[j] = ((x[i].qs[j] & 0x0f) - 8) * d;
			y[j + half] = ((x[i].qs[j] >> 4) - 8) * d;
		}
	}
}

/*
 * Whole blocks only, as every kernel here: a tail shorter than a block is
 * left alone (llm_type_row_bytes() refuses such rows).  An unsupported
 * @type gives zeros rather than stale memory.
 */
void llm_dequantize_row_ref(u32 type, const void *x, float *y, u64 n)
{
	u64 i;

	switch (type) {
	case LLM_T_F32:
		memcpy(y, x, n * sizeof(float));
		break;
	case LLM_T_F16:
		for (i = 0; i < n; i++)
			y[i] = h2f(((const u16 *)x)[i]);
		break;
	case LLM_T_Q8_0:
		dequantize_q8_0(x, y, n / LLM_QK8_0);
		break;
	case LLM_T_Q4_0:
		dequantize_q4_0(x, y, n / LLM_QK4_0);
		break;
	case LLM_T_Q4_K:
	case LLM_T_Q5_K:
	case LLM_T_Q6_K:
		llm_dequantize_row_k_ref(type, x, y, n);
		break;
	default:
		memset(y, 0, n * sizeof(float));
		break;
	}
}

/* Products in float, summed in double, as ggml's scalar ggml_vec_dot_f32. */
void llm_vec_dot_f32_ref(u64 n, float *s, const float *x, const float *y)
{
	double sum = 0.0;
	u64 i;

	for (i = 0; i < n; i++)
		sum += (double)(x[i] * y[i]);
	*s = (float)sum;
}

void llm_vec_dot_f16_ref(u64 n, float *s, const u16 *x, const float *y)
{
	double sum = 0.0;
	u64 i;

	for (i = 0; i < n; i++)
		sum += (double)(h2f(x[i]) * y[i]);
	*s = (float)sum;
}

/*
 * Quantized rows: an exact integer sum per block, scaled by the product of
 * the two block scales, summed in float.
 */
void llm_vec_dot_q8_0_q8_0_ref(u64 n, float *s, const struct llm_block_q8_0 *x,
			       const struct llm_block_q8_0 *y)
{
	u64 i, nb = n / LLM_QK8_0;
	float sum = 0.0f;
	int j;

	for (i = 0; i < nb; i++) {
		int sumi = 0;

		for (j = 0; j < LLM_QK8_0; j++)
			sumi += x[i].qs[j] * y[i].qs[j];
		sum += (float)sumi * (h2f(x[i].d) * h2f(y[i].d));
	}
	*s = sum;
}

void llm_vec_dot_q4_0_q8_0_ref(u64 n, float *s, const struct llm_block_q4_0 *x,
			       const struct llm_block_q8_0 *y)
{
	const int half = LLM_QK4_0 / 2;
	u64 i, nb = n / LLM_QK4_0;
	float sum = 0.0f;
	int j;

	for (i = 0; i < nb; i++) {
		int sumi = 0;

		for (j = 0; j < half; j++) {
			sumi += ((x[i].qs[j] & 0x0f) - 8) * y[i].qs[j];
			sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + half];
		}
		sum += (float)sumi * (h2f(x[i].d) * h2f(y[i].d));
	}
	*s = sum;
}

/* ---- matrix tiles ------------------------------------------------------ */

void llm_quantize_act_ref(const float *x, void *act, u64 n)
{
	u64 i, nb = n / LLM_QK8_0;
	float *d = (float *)llm_act_d(act, nb);
	s32 *off = (s32 *)llm_act_off(act, nb);
	s8 *q = act;
	int j;

	for (i = 0; i < nb; i++) {
		struct llm_block_q8_0 blk;

		llm_quantize_row_q8_0_ref(x + i * LLM_QK8_0, &blk, LLM_QK8_0);
		memcpy(q + i * LLM_QK8_0, blk.qs, LLM_QK8_0);
		d[i] = h2f(blk.d);
		off[i] = 0;
		for (j = 0; j < LLM_QK8_0; j++)
			off[i] -= 8 * blk.qs[j];
	}
}

/*
 * Block @b of row @r of a Q8_0 or Q4_0 matrix, in either layout: its scale
 * into *@d, its @qbytes quant bytes into @qs.  The X8 layout (repack.c):
 * a whole group of 8 rows holds its blocks in order, each as the 8 rows'
 * fp16 scales, then chunks of 32 bytes where chunk c holds quant bytes
 * 4c..4c+3 of rows 0..7 in turn.
 */
static void mm_block(const struct llm_mm *mm, u32 qbytes, u64 r, u64 b,
		     u16 *d, u8 *qs)
{
	u64 g = r / LLM_MM_GROUP, k = r % LLM_MM_GROUP;
	const u8 *grp, *blk;
	u32 c;

	if (mm->layout != LLM_MM_X8 ||
	    (g + 1) * LLM_MM_GROUP > mm->rows) {
		blk = mm->w + r * mm->row_bytes + b * (2 + qbytes);
		memcpy(d, blk, 2);
		memcpy(qs, blk + 2, qbytes);
		return;
	}
	grp = mm->w + g * LLM_MM_GROUP * mm->row_bytes;
	blk = grp + b * LLM_MM_GROUP * (2 + qbytes);
	memcpy(d, blk + k * 2, 2);
	for (c = 0; c < qbytes / 4; c++)
		memcpy(qs + 4 * c, blk + 16 + c * 4 * LLM_MM_GROUP + 4 * k, 4);
}

void llm_dequantize_row_mm(u32 type, u32 layout, const u8 *w, u64 rows,
			   u64 row_bytes, u64 r, float *y, u64 cols)
{
	struct llm_mm mm = {
		.w = w, .rows = rows, .row_bytes = row_bytes, .cols = cols,
		.layout = layout,
	};
	u32 qbytes = type == LLM_T_Q4_0 ? LLM_QK4_0 / 2 : LLM_QK8_0;
	u64 b;

	if (layout != LLM_MM_X8 ||
	    (type != LLM_T_Q8_0 && type != LLM_T_Q4_0)) {
		llm_dequantize_row_ref(type, w + r * row_bytes, y, cols);
		return;
	}
	for (b = 0; b < cols / LLM_QK8_0; b++) {
		struct llm_block_q8_0 b8;
		struct llm_block_q4_0 b4;

		if (type == LLM_T_Q4_0) {
			mm_block(&mm, qbytes, r, b, &b4.d, b4.qs);
			dequantize_q4_0(&b4, y + b * LLM_QK4_0, 1);
		} else {
			mm_block(&mm, qbytes, r, b, &b8.d, (u8 *)b8.qs);
			dequantize_q8_0(&b8, y + b * LLM_QK8_0, 1);
		}
	}
}

/* F32 and F16 tiles of the reference: one row dot product per element. */
#define MM_FLOAT(name, dot)						\
static void name(const struct llm_mm *mm, u64 r0, u64 r1)		\
{									\
	u64 r;								\
	u32 t;								\
									\
	for (t = 0; t < mm->n_tok; t++) {				\
		const float *x = (const void *)((const u8 *)mm->x +	\
						t * mm->x_stride);	\
									\
		for (r = r0; r < r1; r++)				\
			dot(mm->cols, &mm->y[t * mm->y_stride + r],	\
			    (const void *)(mm->w + r * mm->row_bytes), x); \
	}								\
}

MM_FLOAT(mm_f32, llm_vec_dot_f32_ref)
MM_FLOAT(mm_f16, llm_vec_dot_f16_ref)

/*
 * The quantized tiles, in the order of llm_vec_dot_q8_0_q8_0_ref and
 * llm_vec_dot_q4_0_q8_0_ref: an exact integer sum per block, scaled by
 * the product of the two scales, summed in float block after block.
 */
static void mm_q(const struct llm_mm *mm, u64 r0, u64 r1, bool q4)
{
	u32 qbytes = q4 ? LLM_QK4_0 / 2 : LLM_QK8_0;
	u64 nb = mm->cols / LLM_QK8_0, r, b;
	u32 t;
	int j;

	for (t = 0; t < mm->n_tok; t++) {
		const void *act = (const u8 *)mm->x + t * mm->x_stride;
		const s8 *xq = act;
		const float *xd = llm_act_d(act, nb);

		for (r = r0; r < r1; r++) {
			float sum = 0.0f;

			for (b = 0; b < nb; b++) {
				const s8 *y = xq + b * LLM_QK8_0;
				u8 qs[LLM_QK8_0];
				int sumi = 0;
				u16 d;

				mm_block(mm, qbytes, r, b, &d, qs);
				if (q4) {
					for (j = 0; j < LLM_QK4_0 / 2; j++) {
						sumi += ((qs[j] & 0x0f) - 8) *
							y[j];
						sumi += ((qs[j] >> 4) - 8) *
							y[j + LLM_QK4_0 / 2];
					}
				} else {
					for (j = 0; j < LLM_QK8_0; j++)
						sumi += (s8)qs[j] * y[j];
				}
				sum += (float)sumi * (h2f(d) * xd[b]);
			}
			mm->y[t * mm->y_stride + r] = sum;
		}
	}
}

static void mm_q8_0(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_q(mm, r0, r1, false);
}

static void mm_q4_0(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_q(mm, r0, r1, true);
}

/* ---- element-wise ------------------------------------------------------ */

/*
 * What llm/core/forward.c computed before these kernels existed, operation
 * for operation, so that the scalar set gives the same bits as before.
 */
float llm_sum_sq_ref(const float *x, u64 n)
{
	float ss = 0.0f;
	u64 i;

	for (i = 0; i < n; i++)
		ss += x[i] * x[i];
	return ss;
}

void llm_rms_scale_ref(float *y, const float *x, const float *w, float s,
		       u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		y[i] = w[i] * (s * x[i]);
}

void llm_rmsnorm_ref(float *y, const float *x, const float *w, u64 n,
		     float eps)
{
	llm_rms_scale_ref(y, x, w, llm_rms_inv(llm_sum_sq_ref(x, n), n, eps),
			  n);
}

void llm_silu_mul_ref(float *g, const float *u, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++) {
		float v = g[i];

		v *= 1.0f / (1.0f + llm_expf(-v));
		g[i] = v * u[i];
	}
}

float llm_max_ref(const float *x, u64 n)
{
	float m = x[0];
	u64 i;

	for (i = 1; i < n; i++)
		if (x[i] > m)
			m = x[i];
	return m;
}

float llm_exp_sum_ref(float *x, u64 n, float m)
{
	float sum = 0.0f;
	u64 i;

	for (i = 0; i < n; i++) {
		x[i] = llm_expf(x[i] - m);
		sum += x[i];
	}
	return sum;
}

void llm_div_ref(float *x, u64 n, float d)
{
	u64 i;

	for (i = 0; i < n; i++)
		x[i] /= d;
}

void llm_exp_ref(float *y, const float *x, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		y[i] = llm_expf(x[i]);
}

/* Element @i of a head row of F32 (@f16 false) or F16 elements. */
static inline float head_elem(const void *row, u32 i, bool f16)
{
	return f16 ? h2f(((const u16 *)row)[i]) : ((const float *)row)[i];
}

static __always_inline void attn_scores(const float *q, const void *k,
					u64 stride, u32 hd, float scale,
					float *att, u32 n, bool f16)
{
	u32 t, i;

	for (t = 0; t < n; t++) {
		const void *kt = (const u8 *)k + t * stride * (f16 ? 2 : 4);
		float score = 0.0f;

		for (i = 0; i < hd; i++)
			score += q[i] * head_elem(kt, i, f16);
		att[t] = score * scale;
	}
}

static __always_inline void attn_values(float *out, const float *att,
					float sum, const void *v, u64 stride,
					u32 hd, u32 n, bool f16)
{
	u32 t, i;

	for (t = 0; t < n; t++) {
		const void *vt = (const u8 *)v + t * stride * (f16 ? 2 : 4);
		float a = att[t] / sum;

		for (i = 0; i < hd; i++)
			out[i] += a * head_elem(vt, i, f16);
	}
}

void llm_attn_scores_ref(const float *q, const float *k, u64 stride, u32 hd,
			 float scale, float *att, u32 n)
{
	attn_scores(q, k, stride, hd, scale, att, n, false);
}

void llm_attn_values_ref(float *out, const float *att, float sum,
			 const float *v, u64 stride, u32 hd, u32 n)
{
	attn_values(out, att, sum, v, stride, hd, n, false);
}

void llm_attn_scores_f16_ref(const float *q, const u16 *k, u64 stride,
			     u32 hd, float scale, float *att, u32 n)
{
	attn_scores(q, k, stride, hd, scale, att, n, true);
}

void llm_attn_values_f16_ref(float *out, const float *att, float sum,
			     const u16 *v, u64 stride, u32 hd, u32 n)
{
	attn_values(out, att, sum, v, stride, hd, n, true);
}

const struct llm_kernels llm_kernels_ref = {
	.name = "scalar",
	.quantize_row_q8_0 = llm_quantize_row_q8_0_ref,
	.quantize_act = llm_quantize_act_ref,
	.quantize_act_k = llm_quantize_act_k_ref,
	.vec_dot_f32 = llm_vec_dot_f32_ref,
	.vec_dot_f16 = llm_vec_dot_f16_ref,
	.vec_dot_q8_0_q8_0 = llm_vec_dot_q8_0_q8_0_ref,
	.vec_dot_q4_0_q8_0 = llm_vec_dot_q4_0_q8_0_ref,
	.mm_f32 = mm_f32,
	.mm_f16 = mm_f16,
	.mm_q8_0 = mm_q8_0,
	.mm_q4_0 = mm_q4_0,
	.mm_q4_k = llm_mm_q4_k_ref,
	.mm_q5_k = llm_mm_q5_k_ref,
	.mm_q6_k = llm_mm_q6_k_ref,
	.sum_sq = llm_sum_sq_ref,
	.rms_scale = llm_rms_scale_ref,
	.rmsnorm = llm_rmsnorm_ref,
	.silu_mul = llm_silu_mul_ref,
	.vmax = llm_max_ref,
	.exp_sum = llm_exp_sum_ref,
	.vdiv = llm_div_ref,
	.vexp = llm_exp_ref,
	.attn_scores = llm_attn_scores_ref,
	.attn_values = llm_attn_values_ref,
	.attn_scores_f16 = llm_attn_scores_f16_ref,
	.attn_values_f16 = llm_attn_values_f16_ref,
};
