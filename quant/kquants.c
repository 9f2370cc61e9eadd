// SPDX-License-Identifier: GPL-2.0
/*
 * The K-quants (Q4_K, Q5_K, Q6_K): the scalar reference of their
 * quantizers, dequantization and matrix tiles.  An FPU object.
 *
 * The quantizers follow ggml's quantize_row_q{4,5,6}_K_ref operation for
 * operation (the same float expressions in the same order, no FMA
 * contraction: Kbuild and the Makefile build with -ffp-contract=off), so
 * a file we quantize has llama.cpp's bytes; tests/llama-diff.sh checks
 * that against llama-quantize.
 *
 * The tiles take activations quantized as ggml quantizes them for these
 * types (Q8_K: a scale per 256, quantize_row_q8_K_ref), in K act columns
 * (kernels.h), so that the products are llama.cpp's up to the order of
 * float additions.  Each super-block i of a row contributes, in float, in
 * this order,
 *
 *	Q4_K, Q5_K: t = ad[i] * (d * (float)isum - dmin * (float)imin)
 *	Q6_K:       t = ad[i] * (d * (float)isum)
 *
 * where isum is the exact integer sum over the sub-blocks of their scale
 * times the dot of their quants with the activations' (Q6_K: minus 32),
 * imin that of their min times the activations' sum; a row's result is the
 * sum of the t in super-block order.  The SIMD tiles compute the same
 * integers and the same float operations in the same order, so they give
 * these bits.
 */
#include "kernels.h"

#define GROUP_MAX_EPS	1e-15f

static inline float h2f(u16 h)
{
	return llm_fp16_to_fp32(h);
}

static inline u16 f2h(float f)
{
	return llm_fp32_to_fp16(f);
}

static inline float absf(float v)
{
	return v < 0.0f ? -v : v;
}

/* ggml's nearest_int: round half to even by adding 1.5 * 2^23. */
static inline int nearest_int(float fval)
{
	float val = fval + 12582912.f;
	s32 i;

	memcpy(&i, &val, sizeof(i));
	return (i & 0x007fffff) - 0x00400000;
}

static inline int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- dequantization ---------------------------------------------------- */

/* The scales and mins of sub-blocks @j and @j + 1, as ggml applies them. */
static void k_pair(const u8 *scales, u32 j, float d, float min, float *dm)
{
	u8 sc, m;

	llm_k_scale_min(scales, j, &sc, &m);
	dm[0] = d * sc;
	dm[1] = min * m;
	llm_k_scale_min(scales, j + 1, &sc, &m);
	dm[2] = d * sc;
	dm[3] = min * m;
}

/* Q4_K, and Q5_K when @qh is not NULL (its 16s). */
static void dequantize_k45(const u8 *qs, const u8 *qh, const u8 *scales,
			   u16 d, u16 dmin, float *y)
{
	u32 j, l;

	for (j = 0; j < LLM_QK_K / 32; j += 2, qs += 32) {
		u8 u1 = 1 << j, u2 = 2 << j;
		float dm[4];

		k_pair(scales, j, h2f(d), h2f(dmin), dm);
		for (l = 0; l < 32; l++)
			*y++ = dm[0] * ((qs[l] & 0xf) +
					(qh && qh[l] & u1 ? 16 : 0)) - dm[1];
		for (l = 0; l < 32; l++)
			*y++ = dm[2] * ((qs[l] >> 4) +
					(qh && qh[l] & u2 ? 16 : 0)) - dm[3];
	}
}

/* Element @e (0..255) of a Q6_K block, as its quant minus 32. */
static inline int q6_k_quant(const struct llm_block_q6_k *x, u32 e)
{
	u32 half = e / 128, r = e % 128, qd = r / 32, l = r % 32;
	u8 lo = x->ql[half * 64 + (qd & 1) * 32 + l];
	u8 hi = x->qh[half * 32 + l] >> (2 * qd) & 3;

	return (int)((qd < 2 ? lo & 0xf : lo >> 4) | hi << 4) - 32;
}

/* The scale of element @e of a Q6_K block. */
static inline int q6_k_scale(const struct llm_block_q6_k *x, u32 e)
{
	u32 half = e / 128, r = e % 128;

	return x->scales[half * 8 + (r % 32) / 16 + 2 * (r / 32)];
}

static void dequantize_q6_k(const struct llm_block_q6_k *x, float *y, u64 nb)
{
	u64 i;
	u32 e;

	for (i = 0; i < nb; i++) {
		float d = h2f(x[i].d);

		for (e = 0; e < LLM_QK_K; e++)
			*y++ = d * q6_k_scale(&x[i], e) * q6_k_quant(&x[i], e);
	}
}

void llm_dequantize_row_k_ref(u32 type, const void *x, float *y, u64 n)
{
	u64 nb = n / LLM_QK_K;

	const struct llm_block_q4_k *x4 = x;
	const struct llm_block_q5_k *x5 = x;
	u64 i;

	if (type == LLM_T_Q6_K) {
		dequantize_q6_k(x, y, nb);
		return;
	}
	for (i = 0; i < nb; i++, y += LLM_QK_K) {
		if (type == LLM_T_Q4_K)
			dequantize_k45(x4[i].qs, NULL, x4[i].scales, x4[i].d,
				       x4[i].dmin, y);
		else
			dequantize_k45(x5[i].qs, x5[i].qh, x5[i].scales,
				       x5[i].d, x5[i].dmin, y);
	}
}

/* ---- quantization ------------------------------------------------------ */

/*
 * ggml's make_qkx2_quants: the scale and min of @n elements quantized to
 * 0..@nmax, minimising the weighted squared error over a sweep of
 * @nstep + 1 candidate scales.  Quants into @l, the min (negated) into
 * *@the_min.
 */
static float qkx2(int n, int nmax, const float *x, const float *w, u8 *l,
		  float *the_min, u8 *laux, float rmin, float rdelta,
		  int nstep)
{
	float min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
	float iscale, scale, best = 0.0f;
	int i, is;

	for (i = 1; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		sum_w += w[i];
		sum_x += w[i] * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		for (i = 0; i < n; i++)
			l[i] = 0;
		*the_min = -min;
		return 0.0f;
	}
	iscale = nmax / (max - min);
	scale = 1 / iscale;
	for (i = 0; i < n; i++) {
		float diff;

		l[i] = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
		diff = scale * l[i] + min - x[i];
		best += w[i] * (diff * diff);
	}
	for (is = 0; is <= nstep; is++) {
		float sum_l = 0, sum_l2 = 0, sum_xl = 0, det;

		iscale = (rmin + rdelta * is + nmax) / (max - min);
		for (i = 0; i < n; i++) {
			int q = clampi(nearest_int(iscale * (x[i] - min)), 0,
				       nmax);

			laux[i] = q;
			sum_l += w[i] * q;
			sum_l2 += w[i] * q * q;
			sum_xl += w[i] * q * x[i];
		}
		det = sum_w * sum_l2 - sum_l * sum_l;
		if (det > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
			float err = 0;

			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			for (i = 0; i < n; i++) {
				float diff = this_scale * laux[i] + this_min -
					     x[i];

				err += w[i] * (diff * diff);
			}
			if (err < best) {
				for (i = 0; i < n; i++)
					l[i] = laux[i];
				best = err;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

/*
 * The scales, mins and quants shared by Q4_K (@nmax 15) and Q5_K (31):
 * ggml's quantize_row_q4_K_ref / q5_K_ref up to packing the quants.
 */
static void quantize_k_scales(const float *x, int nmax, float rmin,
			      int nstep, u16 *d, u16 *dmin, u8 *scales, u8 *L)
{
	float mins[LLM_QK_K / 32], sc[LLM_QK_K / 32], w[32];
	float max_scale = 0, max_min = 0, inv_scale, inv_min;
	u8 laux[32];
	int j, i;

	for (j = 0; j < LLM_QK_K / 32; j++) {
		float sum_x2 = 0, av_x;

		for (i = 0; i < 32; i++)
			sum_x2 += x[32 * j + i] * x[32 * j + i];
		av_x = llm_sqrtf(sum_x2 / 32);
		for (i = 0; i < 32; i++)
			w[i] = av_x + absf(x[32 * j + i]);
		sc[j] = qkx2(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j],
			     laux, rmin, 0.1f, nstep);
		if (sc[j] > max_scale)
			max_scale = sc[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	inv_min = max_min > 0 ? 63.f / max_min : 0.f;
	memset(scales, 0, LLM_K_SCALE_SIZE);
	for (j = 0; j < LLM_QK_K / 32; j++) {
		u8 ls = nearest_int(inv_scale * sc[j]);
		u8 lm = nearest_int(inv_min * mins[j]);

		ls = ls < 63 ? ls : 63;
		lm = lm < 63 ? lm : 63;
		if (j < 4) {
			scales[j] = ls;
			scales[j + 4] = lm;
		} else {
			scales[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
			scales[j - 4] |= (ls >> 4) << 6;
			scales[j] |= (lm >> 4) << 6;
		}
	}
	*d = f2h(max_scale / 63.f);
	*dmin = f2h(max_min / 63.f);
	for (j = 0; j < LLM_QK_K / 32; j++) {
		float dj, dm;
		u8 s, m;

		llm_k_scale_min(scales, j, &s, &m);
		dj = h2f(*d) * s;
		if (!dj)
			continue;
		dm = h2f(*dmin) * m;
		for (i = 0; i < 32; i++)
			L[32 * j + i] = clampi(nearest_int((x[32 * j + i] + dm) /
							   dj), 0, nmax);
	}
}

void llm_quantize_row_q4_k_ref(const float *x, struct llm_block_q4_k *y,
			       u64 n)
{
	u8 L[LLM_QK_K];
	u64 i;
	int j, l;

	for (i = 0; i < n / LLM_QK_K; i++, x += LLM_QK_K) {
		u8 *q = y[i].qs;

		quantize_k_scales(x, 15, -1.f, 20, &y[i].d, &y[i].dmin,
				  y[i].scales, L);
		for (j = 0; j < LLM_QK_K; j += 64, q += 32)
			for (l = 0; l < 32; l++)
				q[l] = L[j + l] | (L[j + l + 32] << 4);
	}
}

void llm_quantize_row_q5_k_ref(const float *x, struct llm_block_q5_k *y,
			       u64 n)
{
	u8 L[LLM_QK_K];
	u64 i;
	int j, l;

	for (i = 0; i < n / LLM_QK_K; i++, x += LLM_QK_K) {
		u8 *ql = y[i].qs, m1 = 1, m2 = 2;

		quantize_k_scales(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin,
				  y[i].scales, L);
		memset(y[i].qh, 0, sizeof(y[i].qh));
		for (j = 0; j < LLM_QK_K; j += 64, ql += 32) {
			for (l = 0; l < 32; l++) {
				int l1 = L[j + l], l2 = L[j + l + 32];

				if (l1 > 15) {
					l1 -= 16;
					y[i].qh[l] |= m1;
				}
				if (l2 > 15) {
					l2 -= 16;
					y[i].qh[l] |= m2;
				}
				ql[l] = l1 | (l2 << 4);
			}
			m1 <<= 2;
			m2 <<= 2;
		}
	}
}

/*
 * ggml's make_qx_quants with rmse_type 1 and no weights: the scale of @n
 * elements quantized to -@nmax..@nmax-1, minimising the error weighted by
 * x^2 over 19 candidate scales.  Quants (plus @nmax) into @l.
 */
static float qx(int n, int nmax, const float *x, s8 *l)
{
	float max = 0, amax = 0, iscale, sumlx = 0, suml2 = 0, scale, best;
	int i, is;

	for (i = 0; i < n; i++) {
		float ax = absf(x[i]);

		if (ax > amax) {
			amax = ax;
			max = x[i];
		}
	}
	if (amax < GROUP_MAX_EPS) {
		for (i = 0; i < n; i++)
			l[i] = 0;
		return 0.f;
	}
	iscale = -nmax / max;
	for (i = 0; i < n; i++) {
		int q = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
		float w = x[i] * x[i];

		l[i] = q + nmax;
		sumlx += w * x[i] * q;
		suml2 += w * q * q;
	}
	scale = suml2 ? sumlx / suml2 : 0.0f;
	best = scale * sumlx;
	for (is = -9; is <= 9; is++) {
		if (!is)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = 0;
		suml2 = 0;
		for (i = 0; i < n; i++) {
			int q = clampi(nearest_int(iscale * x[i]), -nmax,
				       nmax - 1);
			float w = x[i] * x[i];

			sumlx += w * x[i] * q;
			suml2 += w * q * q;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (i = 0; i < n; i++)
				l[i] = nmax + clampi(nearest_int(iscale * x[i]),
						     -nmax, nmax - 1);
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

void llm_quantize_row_q6_k_ref(const float *x, struct llm_block_q6_k *y,
			       u64 n)
{
	float sc[LLM_QK_K / 16];
	s8 L[LLM_QK_K];
	u64 i;
	int j, l;

	for (i = 0; i < n / LLM_QK_K; i++, x += LLM_QK_K) {
		float max_scale = 0, max_abs = 0, iscale;
		u8 *ql = y[i].ql, *qh = y[i].qh;

		for (j = 0; j < LLM_QK_K / 16; j++) {
			sc[j] = qx(16, 32, x + 16 * j, L + 16 * j);
			if (absf(sc[j]) > max_abs) {
				max_abs = absf(sc[j]);
				max_scale = sc[j];
			}
		}
		if (max_abs < GROUP_MAX_EPS) {
			memset(&y[i], 0, sizeof(y[i]));
			continue;
		}
		iscale = -128.f / max_scale;
		y[i].d = f2h(1 / iscale);
		for (j = 0; j < LLM_QK_K / 16; j++) {
			int v = nearest_int(iscale * sc[j]);

			y[i].scales[j] = v < 127 ? v : 127;
		}
		for (j = 0; j < LLM_QK_K / 16; j++) {
			float d = h2f(y[i].d) * y[i].scales[j];

			if (!d)
				continue;
			for (l = 0; l < 16; l++)
				L[16 * j + l] = clampi(nearest_int(x[16 * j + l] /
								   d),
						       -32, 31) + 32;
		}
		for (j = 0; j < LLM_QK_K; j += 128, ql += 64, qh += 32) {
			for (l = 0; l < 32; l++) {
				u8 q1 = L[j + l] & 0xf, q2 = L[j + l + 32] & 0xf;
				u8 q3 = L[j + l + 64] & 0xf;
				u8 q4 = L[j + l + 96] & 0xf;

				ql[l] = q1 | (q3 << 4);
				ql[l + 32] = q2 | (q4 << 4);
				qh[l] = (L[j + l] >> 4) |
					((L[j + l + 32] >> 4) << 2) |
					((L[j + l + 64] >> 4) << 4) |
					((L[j + l + 96] >> 4) << 6);
			}
		}
	}
}

/* ---- activations and matrix tiles ------------------------------------- */

void llm_quantize_act_k_ref(const float *x, void *act, u64 n)
{
	u64 i, nb = n / LLM_QK_K;
	float *d = (float *)llm_actk_d(act, nb);
	s32 *sum = (s32 *)llm_actk_sum(act, nb);
	s8 *q = act;
	int j, k;

	for (i = 0; i < nb; i++, x += LLM_QK_K, q += LLM_QK_K) {
		float max = 0, amax = 0, iscale;

		for (j = 0; j < LLM_QK_K; j++) {
			if (absf(x[j]) > amax) {
				amax = absf(x[j]);
				max = x[j];
			}
		}
		if (!amax) {
			d[i] = 0;
			memset(q, 0, LLM_QK_K);
		} else {
			iscale = -127.f / max;
			for (j = 0; j < LLM_QK_K; j++) {
				int v = nearest_int(iscale * x[j]);

				q[j] = v < 127 ? v : 127;
			}
			d[i] = 1 / iscale;
		}
		for (j = 0; j < 8; j++) {
			sum[8 * i + j] = 0;
			for (k = 0; k < 32; k++)
				sum[8 * i + j] += q[32 * j + k];
		}
	}
}

float llm_k_term(u32 type, const u8 *row, u64 i, const s8 *aq, float ad,
		 const s32 *asum)
{
	s32 isum = 0, imin = 0;
	u32 j, l;

	if (type == LLM_T_Q6_K) {
		const struct llm_block_q6_k *x =
			(const struct llm_block_q6_k *)row + i;

		for (j = 0; j < LLM_QK_K / 16; j++) {
			s32 s = 0;

			for (l = 0; l < 16; l++)
				s += q6_k_quant(x, 16 * j + l) * aq[16 * j + l];
			isum += s * q6_k_scale(x, 16 * j);
		}
		return ad * (h2f(x->d) * (float)isum);
	}
	for (j = 0; j < LLM_QK_K / 32; j++) {
		const struct llm_block_q4_k *x4 =
			(const struct llm_block_q4_k *)row + i;
		const struct llm_block_q5_k *x5 =
			(const struct llm_block_q5_k *)row + i;
		const u8 *q = (type == LLM_T_Q4_K ? x4->qs : x5->qs) +
			      32 * (j / 2);
		s32 s = 0;
		u8 sc, m;

		for (l = 0; l < 32; l++) {
			int v = j & 1 ? q[l] >> 4 : q[l] & 0xf;

			if (type == LLM_T_Q5_K)
				v |= ((x5->qh[l] >> j) & 1) << 4;
			s += v * aq[32 * j + l];
		}
		llm_k_scale_min(type == LLM_T_Q4_K ? x4->scales : x5->scales,
				j, &sc, &m);
		isum += s * sc;
		imin += asum[j] * m;
	}
	if (type == LLM_T_Q4_K) {
		const struct llm_block_q4_k *x =
			(const struct llm_block_q4_k *)row + i;

		return ad * (h2f(x->d) * (float)isum -
			     h2f(x->dmin) * (float)imin);
	} else {
		const struct llm_block_q5_k *x =
			(const struct llm_block_q5_k *)row + i;

		return ad * (h2f(x->d) * (float)isum -
			     h2f(x->dmin) * (float)imin);
	}
}

void llm_mm_k_ref(const struct llm_mm *mm, u32 type, u64 r0, u64 r1)
{
	u64 nb = mm->cols / LLM_QK_K, r, i;
	u32 t;

	for (t = 0; t < mm->n_tok; t++) {
		const void *act = (const u8 *)mm->x + t * mm->x_stride;
		const float *ad = llm_actk_d(act, nb);
		const s32 *asum = llm_actk_sum(act, nb);

		for (r = r0; r < r1; r++) {
			const u8 *row = mm->w + r * mm->row_bytes;
			float acc = 0.0f;

			for (i = 0; i < nb; i++)
				acc += llm_k_term(type, row, i,
						  (const s8 *)act + i * LLM_QK_K,
						  ad[i], asum + 8 * i);
			mm->y[t * mm->y_stride + r] = acc;
		}
	}
}

void llm_mm_q4_k_ref(const struct llm_mm *mm, u64 r0, u64 r1)
{
	llm_mm_k_ref(mm, LLM_T_Q4_K, r0, r1);
}

void llm_mm_q5_k_ref(const struct llm_mm *mm, u64 r0, u64 r1)
{
	llm_mm_k_ref(mm, LLM_T_Q5_K, r0, r1);
}

void llm_mm_q6_k_ref(const struct llm_mm *mm, u64 r0, u64 r1)
{
	llm_mm_k_ref(mm, LLM_T_Q6_K, r0, r1);
}
