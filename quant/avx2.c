// SPDX-License-Identifier: GPL-2.0
/*
 * AVX2 + FMA + F16C kernels.  An FPU object built with -mavx2 -mfma -mf16c;
 * llm_kernels_pick() hands it out only when llm_cpu_has_avx2() says so.
 *
 * The Q8_0 quantizer gives the same bytes as the reference.  The dot
 * products keep the integer part exact but sum in a different order than
 * the reference, so they agree with it to rounding, not to the bit.
 */
#include "kernels.h"

/*
 * sparse knows none of GCC's x86 builtins and would only report noise
 * from <immintrin.h>, so it is shown an empty file.
 */
#if defined(LLM_HAVE_AVX2) && !defined(__CHECKER__)

#ifdef __KERNEL__
/* gcc-12's <immintrin.h> would pull in <stdlib.h> through mm_malloc.h. */
#define _MM_MALLOC_H_INCLUDED
#endif
#include <immintrin.h>

static inline float hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
			      _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static inline float h2f(u16 h)
{
	return _cvtsh_ss(h);
}

/*
 * Sum of x[j] * y[j] over 32 signed bytes, as 8 int32 lanes.  maddubs
 * wants one unsigned operand, so move the sign of x onto y: |x| <= 128
 * fits a u8, and with y in [-127, 127] (every quant our quantizer and
 * ggml's make) no pair of products can saturate the int16 step.
 */
static inline __m256i dot_i8(__m256i x, __m256i y)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x),
					 _mm256_sign_epi8(y, x));

	return _mm256_madd_epi16(p, ones);
}

static inline __m256i load_q8(const struct llm_block_q8_0 *b)
{
	return _mm256_loadu_si256((const __m256i *)b->qs);
}

/* 32 nibbles minus 8, in element order: low nibbles first, then high. */
static inline __m256i load_q4(const struct llm_block_q4_0 *b)
{
	const __m128i lo4 = _mm_set1_epi8(0x0f);
	__m128i q = _mm_loadu_si128((const __m128i *)b->qs);
	__m256i v = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), lo4),
				     _mm_and_si128(q, lo4));

	return _mm256_sub_epi8(v, _mm256_set1_epi8(8));
}

static inline __m256 block_scale(u16 dx, u16 dy)
{
	return _mm256_set1_ps(h2f(dx) * h2f(dy));
}

static void vec_dot_q8_0_q8_0(u64 n, float *s, const struct llm_block_q8_0 *x,
			      const struct llm_block_q8_0 *y)
{
	u64 i, nb = n / LLM_QK8_0;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();

	/* two chains, so the FMA latency does not bound the loop */
	for (i = 0; i + 1 < nb; i += 2) {
		__m256i p0 = dot_i8(load_q8(&x[i]), load_q8(&y[i]));
		__m256i p1 = dot_i8(load_q8(&x[i + 1]), load_q8(&y[i + 1]));

		acc0 = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d),
				       _mm256_cvtepi32_ps(p0), acc0);
		acc1 = _mm256_fmadd_ps(block_scale(x[i + 1].d, y[i + 1].d),
				       _mm256_cvtepi32_ps(p1), acc1);
	}
	if (i < nb) {
		__m256i p = dot_i8(load_q8(&x[i]), load_q8(&y[i]));

		acc0 = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d),
				       _mm256_cvtepi32_ps(p), acc0);
	}
	*s = hsum_ps(_mm256_add_ps(acc0, acc1));
}

static void vec_dot_q4_0_q8_0(u64 n, float *s, const struct llm_block_q4_0 *x,
			      const struct llm_block_q8_0 *y)
{
	u64 i, nb = n / LLM_QK4_0;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();

	for (i = 0; i + 1 < nb; i += 2) {
		__m256i p0 = dot_i8(load_q4(&x[i]), load_q8(&y[i]));
		__m256i p1 = dot_i8(load_q4(&x[i + 1]), load_q8(&y[i + 1]));

		acc0 = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d),
				       _mm256_cvtepi32_ps(p0), acc0);
		acc1 = _mm256_fmadd_ps(block_scale(x[i + 1].d, y[i + 1].d),
				       _mm256_cvtepi32_ps(p1), acc1);
	}
	if (i < nb) {
		__m256i p = dot_i8(load_q4(&x[i]), load_q8(&y[i]));

		acc0 = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d),
				       _mm256_cvtepi32_ps(p), acc0);
	}
	*s = hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Four chains of 8 lanes; the tail is scalar, in float. */
static void vec_dot_f32(u64 n, float *s, const float *x, const float *y)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	__m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	float sum;
	u64 i;

	for (i = 0; i + 32 <= n; i += 32) {
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i),
				     _mm256_loadu_ps(y + i), a0);
		a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8),
				     _mm256_loadu_ps(y + i + 8), a1);
		a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16),
				     _mm256_loadu_ps(y + i + 16), a2);
		a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24),
				     _mm256_loadu_ps(y + i + 24), a3);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i),
				     _mm256_loadu_ps(y + i), a0);
	sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1),
				    _mm256_add_ps(a2, a3)));
	for (; i < n; i++)
		sum += x[i] * y[i];
	*s = sum;
}

static inline __m256 load_f16(const u16 *x)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x));
}

static void vec_dot_f16(u64 n, float *s, const u16 *x, const float *y)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	__m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	float sum;
	u64 i;

	for (i = 0; i + 32 <= n; i += 32) {
		a0 = _mm256_fmadd_ps(load_f16(x + i),
				     _mm256_loadu_ps(y + i), a0);
		a1 = _mm256_fmadd_ps(load_f16(x + i + 8),
				     _mm256_loadu_ps(y + i + 8), a1);
		a2 = _mm256_fmadd_ps(load_f16(x + i + 16),
				     _mm256_loadu_ps(y + i + 16), a2);
		a3 = _mm256_fmadd_ps(load_f16(x + i + 24),
				     _mm256_loadu_ps(y + i + 24), a3);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(load_f16(x + i),
				     _mm256_loadu_ps(y + i), a0);
	sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1),
				    _mm256_add_ps(a2, a3)));
	for (; i < n; i++)
		sum += h2f(x[i]) * y[i];
	*s = sum;
}

/*
 * roundf() on 8 lanes: truncate, then step away from zero when the cut
 * part is at least one half.  v - trunc(v) is exact, so this is exact too
 * (adding 0.5 first would round 0.49999997 up).
 */
static inline __m256 round_away(__m256 v)
{
	const __m256 signbit = _mm256_set1_ps(-0.0f);
	__m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m256 frac = _mm256_andnot_ps(signbit, _mm256_sub_ps(v, t));
	__m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
	__m256 one = _mm256_or_ps(_mm256_and_ps(v, signbit),
				  _mm256_set1_ps(1.0f));

	return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

/*
 * Same arithmetic as llm_quantize_row_q8_0_ref: the scale is computed in
 * scalar, x * id is one IEEE multiply per lane either way, the rounding is
 * roundf()'s and the clamp is the reference's (it only acts when a tiny
 * block gives a subnormal scale).  A block holding inf or NaN, or whose
 * scale has no finite inverse, goes to the reference, which defines what
 * those give.
 */
static void quantize_row_q8_0(const float *x, struct llm_block_q8_0 *y, u64 n)
{
	const __m256 signbit = _mm256_set1_ps(-0.0f);
	const __m256 fmax = _mm256_set1_ps(0x1.fffffep127f);
	const __m256 qmin = _mm256_set1_ps(-127.0f);
	const __m256 qmax = _mm256_set1_ps(127.0f);
	/* packs interleave 128-bit lanes; this puts the dwords back */
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	u64 i, nb = n / LLM_QK8_0;

	for (i = 0; i < nb; i++, x += LLM_QK8_0) {
		__m256 v[4], m, bad, vid;
		__m256i q[4], p;
		__m128 m4;
		float amax, d, id;
		u32 dbits;
		int j;

		for (j = 0; j < 4; j++)
			v[j] = _mm256_loadu_ps(x + 8 * j);
		m = _mm256_andnot_ps(signbit, v[0]);
		bad = _mm256_cmp_ps(m, fmax, _CMP_NLE_UQ);
		for (j = 1; j < 4; j++) {
			__m256 a = _mm256_andnot_ps(signbit, v[j]);

			bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, fmax,
							      _CMP_NLE_UQ));
			m = _mm256_max_ps(m, a);
		}
		m4 = _mm_max_ps(_mm256_castps256_ps128(m),
				_mm256_extractf128_ps(m, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
		amax = _mm_cvtss_f32(m4);

		d = amax / 127.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		if (_mm256_movemask_ps(bad) || !(id <= 0x1.fffffep127f)) {
			llm_quantize_row_q8_0_ref(x, &y[i], LLM_QK8_0);
			continue;
		}
		memcpy(&dbits, &d, sizeof(dbits));
		y[i].d = llm_fp32_bits_to_fp16(dbits);

		vid = _mm256_set1_ps(id);
		for (j = 0; j < 4; j++) {
			__m256 r = round_away(_mm256_mul_ps(v[j], vid));

			r = _mm256_min_ps(_mm256_max_ps(r, qmin), qmax);
			q[j] = _mm256_cvtps_epi32(r);
		}
		p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
				       _mm256_packs_epi32(q[2], q[3]));
		p = _mm256_permutevar8x32_epi32(p, order);
		_mm256_storeu_si256((__m256i *)y[i].qs, p);
	}
}

LLM_MM_FROM_DOT(mm_f32, vec_dot_f32, float, float)
LLM_MM_FROM_DOT(mm_f16, vec_dot_f16, u16, float)
LLM_MM_FROM_DOT(mm_q8_0, vec_dot_q8_0_q8_0, struct llm_block_q8_0,
		struct llm_block_q8_0)
LLM_MM_FROM_DOT(mm_q4_0, vec_dot_q4_0_q8_0, struct llm_block_q4_0,
		struct llm_block_q8_0)

const struct llm_kernels llm_kernels_avx2 = {
	.name = "avx2",
	.quantize_row_q8_0 = quantize_row_q8_0,
	.vec_dot_f32 = vec_dot_f32,
	.vec_dot_f16 = vec_dot_f16,
	.vec_dot_q8_0_q8_0 = vec_dot_q8_0_q8_0,
	.vec_dot_q4_0_q8_0 = vec_dot_q4_0_q8_0,
	.mm_f32 = mm_f32,
	.mm_f16 = mm_f16,
	.mm_q8_0 = mm_q8_0,
	.mm_q4_0 = mm_q4_0,
};

#endif /* LLM_HAVE_AVX2 && !__CHECKER__ */
