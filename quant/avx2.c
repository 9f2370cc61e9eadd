// SPDX-License-Identifier: GPL-2.0
/*
 * AVX2 + FMA + F16C kernels.  An FPU object built with -mavx2 -mfma -mf16c;
 * llm_kernels_pick() hands it out only when llm_cpu_has_avx2() says so.
 *
 * The Q8_0 quantizer and quantize_act give the same bytes as the
 * reference.  The row dot products (vec_dot_*) keep the integer part exact
 * but sum in another order than the reference, so they agree with it to
 * rounding, not to the bit.
 *
 * The matrix tiles compute every element y[t][r] = dot(row r, column t)
 * by one fixed sequence of float operations, the same in every tile shape
 * (any r0, r1, n_tok, position of t in the batch, edge tiles included) and
 * in both layouts, so that results never depend on how the work was split
 * or batched.  The canonical order:
 *
 *   Q8_0, Q4_0: for each block b in order, the exact integer sum
 *     isum_b = sum over the block of w * x (Q4_0: (nibble - 8) * x), then
 *	 acc = acc + (float)isum_b * (d_w[b] * d_x[b])
 *     with acc starting at +0.0f, d_w the weight scale widened from fp16
 *     and d_x the act column's scale; y = acc.  That is the reference's
 *     order (llm_vec_dot_q*_ref, ggml's scalar dot), so these tiles give
 *     the reference's bits.  Each lane of a vector is one row.
 *   Q4_K, Q5_K, Q6_K: kquants.c's term per super-block, its integers
 *     computed with vectors, its float operations as the reference's,
 *     added in super-block order: the reference's bits too.
 *   F32, F16: two 8-lane accumulators c0, c1, starting at +0.0f; for
 *     i = 0, 16, 32, ... while i + 16 <= cols:
 *	 c0 = fma(w[i..i+8), x[i..i+8), c0), then
 *	 c1 = fma(w[i+8..i+16), x[i+8..i+16), c1);
 *     then, if 8 or more elements remain, c0 takes the next 8 the same way;
 *     then the last cols % 8 elements, padded with zeros to 8, go to c1;
 *     y = hsum_ps(c0 + c1): lanes 0..3 plus lanes 4..7, then lanes 0, 1
 *     plus lanes 2, 3, then lane 0 plus lane 1.  (F16 weights are widened
 *     exactly first.)
 *
 * The element-wise kernels are described by struct llm_kernels: each is
 * deterministic; the ones marked splittable work lane by lane.
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

static inline u32 f32_bits(float f)
{
	union { float f; u32 u; } v = { .f = f };

	return v.u;
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
 * One block with the arithmetic of llm_quantize_row_q8_0_ref: the scale is
 * computed in scalar, x * id is one IEEE multiply per lane either way, the
 * rounding is roundf()'s and the clamp is the reference's (it only acts
 * when a tiny block gives a subnormal scale).  The quants go to *q in
 * element order, the fp16 scale to *d.  A block holding inf or NaN, or
 * whose scale has no finite inverse, is left to the reference, which
 * defines what those give: false, and nothing written.
 */
static inline bool quantize_block_q8(const float *x, __m256i *q, u16 *d)
{
	const __m256 signbit = _mm256_set1_ps(-0.0f);
	const __m256 fmax = _mm256_set1_ps(0x1.fffffep127f);
	const __m256 qmin = _mm256_set1_ps(-127.0f);
	const __m256 qmax = _mm256_set1_ps(127.0f);
	/* packs interleave 128-bit lanes; this puts the dwords back */
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__m256 v[4], m, bad, vid;
	__m256i qi[4], p;
	__m128 m4;
	float amax, dv, id;
	int j;

	for (j = 0; j < 4; j++)
		v[j] = _mm256_loadu_ps(x + 8 * j);
	m = _mm256_andnot_ps(signbit, v[0]);
	bad = _mm256_cmp_ps(m, fmax, _CMP_NLE_UQ);
	for (j = 1; j < 4; j++) {
		__m256 a = _mm256_andnot_ps(signbit, v[j]);

		bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, fmax, _CMP_NLE_UQ));
		m = _mm256_max_ps(m, a);
	}
	m4 = _mm_max_ps(_mm256_castps256_ps128(m),
			_mm256_extractf128_ps(m, 1));
	m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
	m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
	amax = _mm_cvtss_f32(m4);

	dv = amax / 127.0f;
	id = dv != 0.0f ? 1.0f / dv : 0.0f;
	if (_mm256_movemask_ps(bad) || !(id <= 0x1.fffffep127f))
		return false;
	*d = llm_fp32_bits_to_fp16(f32_bits(dv));

	vid = _mm256_set1_ps(id);
	for (j = 0; j < 4; j++) {
		__m256 r = round_away(_mm256_mul_ps(v[j], vid));

		r = _mm256_min_ps(_mm256_max_ps(r, qmin), qmax);
		qi[j] = _mm256_cvtps_epi32(r);
	}
	p = _mm256_packs_epi16(_mm256_packs_epi32(qi[0], qi[1]),
			       _mm256_packs_epi32(qi[2], qi[3]));
	*q = _mm256_permutevar8x32_epi32(p, order);
	return true;
}

static void quantize_row_q8_0(const float *x, struct llm_block_q8_0 *y, u64 n)
{
	u64 i, nb = n / LLM_QK8_0;

	for (i = 0; i < nb; i++, x += LLM_QK8_0) {
		__m256i q;

		if (quantize_block_q8(x, &q, &y[i].d))
			_mm256_storeu_si256((__m256i *)y[i].qs, q);
		else
			llm_quantize_row_q8_0_ref(x, &y[i], LLM_QK8_0);
	}
}

/* ---- activations for the quantized tiles --------------------------------- */

/* Sum of 32 signed bytes. */
static inline s32 sum_i8(__m256i q)
{
	__m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1),
							   q),
				      _mm256_set1_epi16(1));
	__m128i h = _mm_add_epi32(_mm256_castsi256_si128(s),
				  _mm256_extracti128_si256(s, 1));

	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
	return _mm_cvtsi128_si32(h);
}

static void quantize_act(const float *x, void *act, u64 n)
{
	u64 i, nb = n / LLM_QK8_0;
	float *d = (float *)llm_act_d(act, nb);
	s32 *off = (s32 *)llm_act_off(act, nb);
	s8 *q = act;

	for (i = 0; i < nb; i++, x += LLM_QK8_0) {
		struct llm_block_q8_0 blk;
		__m256i v;

		if (!quantize_block_q8(x, &v, &blk.d)) {
			llm_quantize_row_q8_0_ref(x, &blk, LLM_QK8_0);
			v = _mm256_loadu_si256((const __m256i *)blk.qs);
		}
		_mm256_storeu_si256((__m256i *)(q + i * LLM_QK8_0), v);
		d[i] = h2f(blk.d);
		off[i] = -8 * sum_i8(v);
	}
}

/* ---- quantized tiles (quant/qtiles.h) ------------------------------------ */

#define QT_VNNI 0
#include "qtiles.h"

static void mm_q8_0(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_q(mm, r0, r1, false);
}

static void mm_q4_0(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_q(mm, r0, r1, true);
}

/* ---- K-quant tiles ------------------------------------------------------ */

static inline s32 hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v),
				  _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/*
 * One super-block's weights decoded once for every token of a tile: per
 * run of 32 the quants as bytes (Q4_K, Q5_K: 0..31; Q6_K: -32..31) and
 * the scale in every 16-bit lane (Q6_K: the first half's in the low 128
 * bits, the second's in the high), and for Q4_K/Q5_K the eight mins.
 */
struct k_dec {
	__m256i q[8];
	__m256i sc[8];
	__m256i mn;		/* eight s32 */
	float d, dmin;
};

/*
 * The eight 6-bit scales and mins of a Q4_K/Q5_K block (llm_k_scale_min()
 * for every j at once): bytes 0..7 of *@sc and *@mn.
 */
static inline void k_scales_mins(const u8 *q, u64 *sc, u64 *mn)
{
	u32 w0, w1, w2;

	memcpy(&w0, q, 4);
	memcpy(&w1, q + 4, 4);
	memcpy(&w2, q + 8, 4);
	*sc = (w0 & 0x3f3f3f3f) |
	      (u64)((w2 & 0x0f0f0f0f) | ((w0 >> 6) & 0x03030303) << 4) << 32;
	*mn = (w1 & 0x3f3f3f3f) |
	      (u64)(((w2 >> 4) & 0x0f0f0f0f) |
		    ((w1 >> 6) & 0x03030303) << 4) << 32;
}

static inline void k_decode(u32 type, const u8 *row, u64 i, struct k_dec *k)
{
	const __m256i lo4 = _mm256_set1_epi8(0x0f);
	int j;

	if (type == LLM_T_Q6_K) {
		const struct llm_block_q6_k *x =
			(const struct llm_block_q6_k *)row + i;
		const __m256i three = _mm256_set1_epi8(3);
		/* the 16 scales widened to 16 bits, twice */
		__m256i sc16 = _mm256_cvtepi8_epi16(
			_mm_loadu_si128((const __m128i *)x->scales));

		for (j = 0; j < 8; j++) {
			int half = j / 4, qd = j % 4, s = half * 8 + 2 * qd;
			__m256i l = _mm256_loadu_si256((const __m256i *)(x->ql +
						half * 64 + (qd & 1) * 32));
			__m256i h = _mm256_loadu_si256((const __m256i *)(x->qh +
								half * 32));
			/* lane k of each half: 16-bit element s (low) or s + 1 */
			__m256i pick = _mm256_set_m128i(
				_mm_set1_epi16((s + 1) % 8 * 2 | ((s + 1) % 8 * 2 + 1) << 8),
				_mm_set1_epi16(s % 8 * 2 | (s % 8 * 2 + 1) << 8));
			__m256i src = s < 8 ?
				_mm256_permute2x128_si256(sc16, sc16, 0x00) :
				_mm256_permute2x128_si256(sc16, sc16, 0x11);

			l = qd < 2 ? _mm256_and_si256(l, lo4) :
				     _mm256_and_si256(_mm256_srli_epi16(l, 4), lo4);
			h = _mm256_and_si256(_mm256_srli_epi16(h, 2 * qd), three);
			k->q[j] = _mm256_sub_epi8(_mm256_or_si256(l,
						  _mm256_slli_epi16(h, 4)),
						  _mm256_set1_epi8(32));
			k->sc[j] = _mm256_shuffle_epi8(src, pick);
		}
		k->d = h2f(x->d);
		return;
	}
	{
		const struct llm_block_q4_k *x4 =
			(const struct llm_block_q4_k *)row + i;
		const struct llm_block_q5_k *x5 =
			(const struct llm_block_q5_k *)row + i;
		bool q5 = type == LLM_T_Q5_K;
		const u8 *qs = q5 ? x5->qs : x4->qs;
		__m256i h = q5 ? _mm256_loadu_si256((const __m256i *)x5->qh) :
			    _mm256_setzero_si256();
		__m256i sc16;
		u64 sc, mn;

		k_scales_mins(q5 ? x5->scales : x4->scales, &sc, &mn);
		/* the eight scales as 16-bit lanes, in both halves */
		sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(
			_mm_cvtsi64_si128((long long)sc)));
		k->mn = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn));
		for (j = 0; j < 8; j++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(qs +
								32 * (j / 2)));

			q = j & 1 ? _mm256_and_si256(_mm256_srli_epi16(q, 4), lo4) :
				    _mm256_and_si256(q, lo4);
			if (q5)
				q = _mm256_or_si256(q, _mm256_slli_epi16(
					_mm256_and_si256(_mm256_srli_epi16(h, j),
							 _mm256_set1_epi8(1)), 4));
			k->q[j] = q;
			k->sc[j] = _mm256_shuffle_epi8(sc16,
					_mm256_set1_epi16(2 * j | (2 * j + 1) << 8));
		}
		k->d = h2f(q5 ? x5->d : x4->d);
		k->dmin = h2f(q5 ? x5->dmin : x4->dmin);
	}
}

/* kquants.c's term of a decoded super-block against one token's act. */
static inline float k_term(u32 type, const struct k_dec *k, const s8 *aq,
			   float ad, const s32 *asum)
{
	__m256i acc = _mm256_setzero_si256(), both;
	__m128i r;
	int j;

	for (j = 0; j < 8; j++) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(aq + 32 * j));
		__m256i p;

		/* Q6_K: |a| * (q with a's sign) = a * q */
		p = type == LLM_T_Q6_K ?
		    _mm256_maddubs_epi16(_mm256_sign_epi8(a, a),
					 _mm256_sign_epi8(k->q[j], a)) :
		    _mm256_maddubs_epi16(k->q[j], a);
		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, k->sc[j]));
	}
	if (type == LLM_T_Q6_K)
		return ad * (k->d * (float)hsum_epi32(acc));
	/* the scaled sum and the mins' sum in one reduction */
	both = _mm256_hadd_epi32(acc, _mm256_mullo_epi32(k->mn,
				 _mm256_loadu_si256((const __m256i *)asum)));
	r = _mm_add_epi32(_mm256_castsi256_si128(both),
			  _mm256_extracti128_si256(both, 1));
	r = _mm_hadd_epi32(r, r);	/* isum, imin, isum, imin */
	return ad * (k->d * (float)_mm_cvtsi128_si32(r) -
		     k->dmin * (float)_mm_extract_epi32(r, 1));
}

/* Super-block @i of @row against one token's activations @aq. */
static __always_inline float k_one(u32 type, const u8 *row, u64 i,
				   const s8 *aq, u64 nb)
{
	struct k_dec k;

	k_decode(type, row, i, &k);
	return k_term(type, &k, aq + LLM_QK_K * i, llm_actk_d(aq, nb)[i],
		      llm_actk_sum(aq, nb) + 8 * i);
}

/* Tokens a tile takes at a time: their sums stay in registers. */
#define K_TOK 8

static __always_inline void mm_k(const struct llm_mm *mm, u64 r0, u64 r1,
				 u32 type)
{
	u64 nb = mm->cols / LLM_QK_K, rb = mm->row_bytes, r = r0, i;
	u32 t0, t, nt;

	/* one token (decoding): the row's sum in a register */
	if (mm->n_tok == 1) {
		for (; r < r1; r++) {
			float a = 0.0f;

			for (i = 0; i < nb; i++)
				a += k_one(type, mm->w + r * rb, i, mm->x, nb);
			mm->y[r] = a;
		}
		return;
	}
	/* several tokens: each super-block decoded once for all of them */
	for (t0 = 0; t0 < mm->n_tok; t0 += K_TOK) {
		nt = min_t(u32, K_TOK, mm->n_tok - t0);
		for (r = r0; r < r1; r++) {
			const u8 *row = mm->w + r * rb;
			float acc[K_TOK] = { 0 };

			for (i = 0; i < nb; i++) {
				struct k_dec k;

				k_decode(type, row, i, &k);
				for (t = 0; t < nt; t++) {
					const s8 *aq = (const s8 *)mm->x +
						       (t0 + t) * mm->x_stride;

					acc[t] += k_term(type, &k,
							 aq + LLM_QK_K * i,
							 llm_actk_d(aq, nb)[i],
							 llm_actk_sum(aq, nb) + 8 * i);
				}
			}
			for (t = 0; t < nt; t++)
				mm->y[(t0 + t) * mm->y_stride + r] = acc[t];
		}
	}
}

static void mm_q4_k(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_k(mm, r0, r1, LLM_T_Q4_K);
}

static void mm_q5_k(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_k(mm, r0, r1, LLM_T_Q5_K);
}

static void mm_q6_k(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_k(mm, r0, r1, LLM_T_Q6_K);
}

/* ---- float tiles -------------------------------------------------------- */

/*
 * R rows by T columns.  Each (row, column) has two 8-lane accumulators,
 * chain 0 taking elements [16i, 16i + 8) and chain 1 [16i + 8, 16i + 16)
 * by FMA, i in order; then a last whole 8 goes to chain 0, the last
 * cols % 8 elements (padded with zeros) to chain 1; the result is
 * hsum_ps(chain 0 + chain 1).  Two chains let one row stream at twice
 * what one FMA chain's latency allows.
 */
#define F_ROWS 3
#define F_TOK 2

static inline __m256i tail_mask(u64 n)
{
	const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

	return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx);
}

static __always_inline __m256 f_load(const u8 *w, u64 i, bool f16)
{
	if (f16)
		return load_f16((const u16 *)w + i);
	return _mm256_loadu_ps((const float *)w + i);
}

static __always_inline __m256 f_load_tail(const u8 *w, u64 i, u64 n,
					  __m256i mask, bool f16)
{
	if (f16) {
		const u16 *p = (const u16 *)w + i;
		u16 h[8];
		int j;

		for (j = 0; j < 8; j++)
			h[j] = j < n ? p[j] : 0;
		return load_f16(h);
	}
	return _mm256_maskload_ps((const float *)w + i, mask);
}

/* One step of 8 elements from @i into chain @c of every accumulator. */
static __always_inline void f_step(__m256 acc[][F_TOK][2],
				   const u8 *const *w, const float *const *x,
				   u64 i, int c, int R, int T, bool f16)
{
	__m256 xv[F_TOK];
	int k, t;

#pragma GCC unroll 8
	for (t = 0; t < T; t++)
		xv[t] = _mm256_loadu_ps(x[t] + i);
#pragma GCC unroll 8
	for (k = 0; k < R; k++) {
		__m256 wv = f_load(w[k], i, f16);

#pragma GCC unroll 8
		for (t = 0; t < T; t++)
			acc[k][t][c] = _mm256_fmadd_ps(wv, xv[t], acc[k][t][c]);
	}
}

static __always_inline void f_tile(const struct llm_mm *mm, u64 r, u32 t0,
				   int R, int T, bool f16)
{
	__m256 acc[F_ROWS][F_TOK][2];
	const float *x[F_TOK];
	const u8 *w[F_ROWS];
	u64 i, n = mm->cols;
	int k, t;

#pragma GCC unroll 8
	for (t = 0; t < T; t++)
		x[t] = (const float *)((const u8 *)mm->x +
				       (t0 + t) * mm->x_stride);
#pragma GCC unroll 8
	for (k = 0; k < R; k++) {
		w[k] = mm->w + (r + k) * mm->row_bytes;
#pragma GCC unroll 8
		for (t = 0; t < T; t++)
			acc[k][t][0] = acc[k][t][1] = _mm256_setzero_ps();
	}
	for (i = 0; i + 16 <= n; i += 16) {
		f_step(acc, w, x, i, 0, R, T, f16);
		f_step(acc, w, x, i + 8, 1, R, T, f16);
	}
	if (i + 8 <= n) {
		f_step(acc, w, x, i, 0, R, T, f16);
		i += 8;
	}
	if (i < n) {
		__m256i mask = tail_mask(n - i);
		__m256 xv[F_TOK];

#pragma GCC unroll 8
		for (t = 0; t < T; t++)
			xv[t] = _mm256_maskload_ps(x[t] + i, mask);
#pragma GCC unroll 8
		for (k = 0; k < R; k++) {
			__m256 wv = f_load_tail(w[k], i, n - i, mask, f16);

#pragma GCC unroll 8
			for (t = 0; t < T; t++)
				acc[k][t][1] = _mm256_fmadd_ps(wv, xv[t],
							       acc[k][t][1]);
		}
	}
#pragma GCC unroll 8
	for (k = 0; k < R; k++)
#pragma GCC unroll 8
		for (t = 0; t < T; t++)
			mm->y[(t0 + t) * mm->y_stride + r + k] =
				hsum_ps(_mm256_add_ps(acc[k][t][0],
						      acc[k][t][1]));
}

/* Rows [r, r + R) against every column, F_TOK columns at a time. */
static __always_inline void f_rows(const struct llm_mm *mm, u64 r, int R,
				   bool f16)
{
	u32 t = 0;

	for (; t + F_TOK <= mm->n_tok; t += F_TOK)
		f_tile(mm, r, t, R, F_TOK, f16);
	if (t < mm->n_tok)
		f_tile(mm, r, t, R, 1, f16);
}

/*
 * A matrix-vector product takes one row at a time: one stream, which the
 * hardware prefetcher follows best, with its two FMA chains.
 */
static __always_inline void mm_f(const struct llm_mm *mm, u64 r0, u64 r1,
				 bool f16)
{
	u64 r = r0;

	if (mm->n_tok > 1)
		for (; r + F_ROWS <= r1; r += F_ROWS)
			f_rows(mm, r, F_ROWS, f16);
	for (; r < r1; r++)
		f_rows(mm, r, 1, f16);
}

static void mm_f32(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_f(mm, r0, r1, false);
}

static void mm_f16(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_f(mm, r0, r1, true);
}

/* ---- element-wise ------------------------------------------------------- */

/*
 * e^x on 8 lanes, within 2 ulps of the correctly rounded e^x (the
 * reference's llm_expf) over every float, subnormal results included:
 * x = k ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, by FMA), e^r by its
 * Taylor series to r^7 (error below 0.1 ulp) in Horner form, times 2^k as
 * two normal powers of two so that only the last multiply rounds a tiny
 * or huge result.  x is clamped to [-104, 89] first (beyond, e^x is 0 or
 * inf either way); NaN gives NaN.  Lane by lane, so any split of a vector
 * gives the same bits.
 */
static inline __m256 exp_ps(__m256 x)
{
	const __m256 c[8] = {
		_mm256_set1_ps(1.0f), _mm256_set1_ps(1.0f),
		_mm256_set1_ps(1.0f / 2), _mm256_set1_ps(1.0f / 6),
		_mm256_set1_ps(1.0f / 24), _mm256_set1_ps(1.0f / 120),
		_mm256_set1_ps(1.0f / 720), _mm256_set1_ps(1.0f / 5040),
	};
	const __m256i bias = _mm256_set1_epi32(127);
	__m256 xc, k, r, p, y;
	__m256i ki, k1, k2;
	int i;

	xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)),
			   _mm256_set1_ps(89.0f));
	k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(0x1.715476p0f)),
			    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0x1.62e400p-1f), xc);
	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0x1.7f7d1cp-20f), r);
	p = c[7];
	for (i = 6; i >= 0; i--)
		p = _mm256_fmadd_ps(p, r, c[i]);
	ki = _mm256_cvtps_epi32(k);
	k1 = _mm256_srai_epi32(ki, 1);
	k2 = _mm256_sub_epi32(ki, k1);
	y = _mm256_mul_ps(p, _mm256_castsi256_ps(
		_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23)));
	y = _mm256_mul_ps(y, _mm256_castsi256_ps(
		_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23)));
	/* x + x: a NaN comes out quiet, as from the reference */
	return _mm256_blendv_ps(y, _mm256_add_ps(x, x),
				_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* Lanes [0, n) of 8 (n < 8): the tail of a vector, loaded and stored. */
static inline __m256 load_tail(const float *p, __m256i mask)
{
	return _mm256_maskload_ps(p, mask);
}

static inline void store_tail(float *p, __m256i mask, __m256 v)
{
	_mm256_maskstore_ps(p, mask, v);
}

/* Four chains of 8 lanes by FMA, then the tail, then one fixed sum. */
static float sum_sq(const float *x, u64 n)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	__m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	u64 i;

	for (i = 0; i + 32 <= n; i += 32) {
		__m256 v0 = _mm256_loadu_ps(x + i);
		__m256 v1 = _mm256_loadu_ps(x + i + 8);
		__m256 v2 = _mm256_loadu_ps(x + i + 16);
		__m256 v3 = _mm256_loadu_ps(x + i + 24);

		a0 = _mm256_fmadd_ps(v0, v0, a0);
		a1 = _mm256_fmadd_ps(v1, v1, a1);
		a2 = _mm256_fmadd_ps(v2, v2, a2);
		a3 = _mm256_fmadd_ps(v3, v3, a3);
	}
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(x + i);

		a0 = _mm256_fmadd_ps(v, v, a0);
	}
	if (i < n) {
		__m256 v = load_tail(x + i, tail_mask(n - i));

		a0 = _mm256_fmadd_ps(v, v, a0);
	}
	return hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1),
				     _mm256_add_ps(a2, a3)));
}

/* The reference's two multiplies per element: the same bits. */
static void rms_scale(float *y, const float *x, const float *w, float s,
		      u64 n)
{
	__m256 vs = _mm256_set1_ps(s);
	u64 i;

	for (i = 0; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_mul_ps(
			_mm256_loadu_ps(w + i),
			_mm256_mul_ps(vs, _mm256_loadu_ps(x + i))));
	if (i < n) {
		__m256i m = tail_mask(n - i);

		store_tail(y + i, m, _mm256_mul_ps(
			load_tail(w + i, m),
			_mm256_mul_ps(vs, load_tail(x + i, m))));
	}
}

static void rmsnorm(float *y, const float *x, const float *w, u64 n,
		    float eps)
{
	rms_scale(y, x, w, llm_rms_inv(sum_sq(x, n), n, eps), n);
}

/* v / (1 + e^-v) * u as the reference: only e^-v differs. */
static inline __m256 silu_mul_ps(__m256 v, __m256 u)
{
	const __m256 one = _mm256_set1_ps(1.0f);
	__m256 e = exp_ps(_mm256_xor_ps(v, _mm256_set1_ps(-0.0f)));

	v = _mm256_mul_ps(v, _mm256_div_ps(one, _mm256_add_ps(one, e)));
	return _mm256_mul_ps(v, u);
}

static void silu_mul(float *g, const float *u, u64 n)
{
	u64 i;

	for (i = 0; i + 8 <= n; i += 8)
		_mm256_storeu_ps(g + i, silu_mul_ps(_mm256_loadu_ps(g + i),
						    _mm256_loadu_ps(u + i)));
	if (i < n) {
		__m256i m = tail_mask(n - i);

		store_tail(g + i, m, silu_mul_ps(load_tail(g + i, m),
						 load_tail(u + i, m)));
	}
}

/* Exact whatever the order, so any split gives the same (without NaN). */
static float max_f(const float *x, u64 n)
{
	__m256 m = _mm256_set1_ps(x[0]);
	__m128 h;
	u64 i;

	for (i = 0; i + 8 <= n; i += 8)
		m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
	if (i < n) {
		__m256i mask = tail_mask(n - i);

		m = _mm256_max_ps(m, _mm256_blendv_ps(
			m, load_tail(x + i, mask), _mm256_castsi256_ps(mask)));
	}
	h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_movehdup_ps(h));
	return _mm_cvtss_f32(h);
}

/* One chain of 8 lanes (exp_ps is the cost), the tail, one fixed sum. */
static float exp_sum(float *x, u64 n, float m)
{
	__m256 vm = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
	u64 i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));

		_mm256_storeu_ps(x + i, e);
		acc = _mm256_add_ps(acc, e);
	}
	if (i < n) {
		__m256i mask = tail_mask(n - i);
		__m256 e = exp_ps(_mm256_sub_ps(load_tail(x + i, mask), vm));

		e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
		store_tail(x + i, mask, e);
		acc = _mm256_add_ps(acc, e);
	}
	return hsum_ps(acc);
}

static void div_f(float *x, u64 n, float d)
{
	__m256 vd = _mm256_set1_ps(d);
	u64 i;

	for (i = 0; i + 8 <= n; i += 8)
		_mm256_storeu_ps(x + i, _mm256_div_ps(_mm256_loadu_ps(x + i),
						      vd));
	if (i < n) {
		__m256i m = tail_mask(n - i);

		store_tail(x + i, m, _mm256_div_ps(load_tail(x + i, m), vd));
	}
}

static void exp_f(float *y, const float *x, u64 n)
{
	u64 i;

	for (i = 0; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, exp_ps(_mm256_loadu_ps(x + i)));
	if (i < n) {
		__m256i m = tail_mask(n - i);

		store_tail(y + i, m, exp_ps(load_tail(x + i, m)));
	}
}

/* ---- attention ---------------------------------------------------------- */

/*
 * Elements [i, i + 8) of a head row of @hd F32 (@f16 false) or F16
 * elements, zeros past its end (@tail: lanes below hd % 8).
 */
static __always_inline __m256 head_load(const void *row, u32 i, u32 hd,
					__m256i tail, bool f16)
{
	const u16 *h = (const u16 *)row + i;
	const float *f = (const float *)row + i;
	u16 part[8] = { 0 };

	if (!f16)
		return i + 8 <= hd ? _mm256_loadu_ps(f) : load_tail(f, tail);
	if (i + 8 <= hd)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
	memcpy(part, h, (hd - i) * sizeof(u16));
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)part));
}

/*
 * A score is one 8-lane FMA chain over the row's vectors in order (the
 * last hd % 8 elements padded with zeros), then hsum_ps(), then * scale:
 * the same for every position, whether it runs in a group of four
 * interleaved chains (for throughput) or alone at the end.
 */
static __always_inline void attn_scores(const float *q, const void *k,
					u64 stride, u32 hd, float scale,
					float *att, u32 n, bool f16)
{
	__m256i tail = tail_mask(hd % 8);
	u64 rs = stride * (f16 ? 2 : 4);	/* bytes from row to row */
	const u8 *kt = k;
	u32 t = 0, i;

	for (; t + 4 <= n; t += 4, kt += 4 * rs) {
		__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;

		for (i = 0; i < hd; i += 8) {
			__m256 qv = head_load(q, i, hd, tail, false);

			a0 = _mm256_fmadd_ps(qv, head_load(kt, i, hd, tail,
							   f16), a0);
			a1 = _mm256_fmadd_ps(qv, head_load(kt + rs, i, hd,
							   tail, f16), a1);
			a2 = _mm256_fmadd_ps(qv, head_load(kt + 2 * rs, i, hd,
							   tail, f16), a2);
			a3 = _mm256_fmadd_ps(qv, head_load(kt + 3 * rs, i, hd,
							   tail, f16), a3);
		}
		att[t] = hsum_ps(a0) * scale;
		att[t + 1] = hsum_ps(a1) * scale;
		att[t + 2] = hsum_ps(a2) * scale;
		att[t + 3] = hsum_ps(a3) * scale;
	}
	for (; t < n; t++, kt += rs) {
		__m256 a0 = _mm256_setzero_ps();

		for (i = 0; i < hd; i += 8)
			a0 = _mm256_fmadd_ps(head_load(q, i, hd, tail, false),
					     head_load(kt, i, hd, tail, f16),
					     a0);
		att[t] = hsum_ps(a0) * scale;
	}
}

/*
 * The reference's operations lane by lane (a multiply, then an add, per
 * element and position), with 32 output elements at a time held in
 * registers over all the positions.
 */
static __always_inline void attn_values(float *out, const float *att,
					float sum, const void *v, u64 stride,
					u32 hd, u32 n, bool f16)
{
	__m256i tail = tail_mask(hd % 8);
	u64 rs = stride * (f16 ? 2 : 4);
	u32 i0, t;
	int c;

	for (i0 = 0; i0 < hd; i0 += 32) {
		u32 nv = min_t(u32, hd - i0, 32);
		const u8 *vt = (const u8 *)v + i0 * (f16 ? 2 : 4);
		__m256 o[4] = { 0 };

#pragma GCC unroll 4
		for (c = 0; c < 4; c++)
			if (8 * c < nv)
				o[c] = head_load(out, i0 + 8 * c, hd, tail,
						 false);
		for (t = 0; t < n; t++, vt += rs) {
			__m256 a = _mm256_set1_ps(att[t] / sum);

#pragma GCC unroll 4
			for (c = 0; c < 4; c++)
				if (8 * c < nv)
					o[c] = _mm256_add_ps(o[c], _mm256_mul_ps(
						a, head_load(vt, 8 * c, nv,
							     tail, f16)));
		}
#pragma GCC unroll 4
		for (c = 0; c < 4; c++) {
			if (8 * c + 8 <= nv)
				_mm256_storeu_ps(out + i0 + 8 * c, o[c]);
			else if (8 * c < nv)
				store_tail(out + i0 + 8 * c, tail, o[c]);
		}
	}
}

static void attn_scores_f32(const float *q, const float *k, u64 stride,
			    u32 hd, float scale, float *att, u32 n)
{
	attn_scores(q, k, stride, hd, scale, att, n, false);
}

static void attn_values_f32(float *out, const float *att, float sum,
			    const float *v, u64 stride, u32 hd, u32 n)
{
	attn_values(out, att, sum, v, stride, hd, n, false);
}

static void attn_scores_f16(const float *q, const u16 *k, u64 stride,
			    u32 hd, float scale, float *att, u32 n)
{
	attn_scores(q, k, stride, hd, scale, att, n, true);
}

static void attn_values_f16(float *out, const float *att, float sum,
			    const u16 *v, u64 stride, u32 hd, u32 n)
{
	attn_values(out, att, sum, v, stride, hd, n, true);
}

/* What llm_kernels_avx2 and llm_kernels_avx512vnni share: all but two. */
#define AVX2_KERNELS \
	.quantize_row_q8_0 = quantize_row_q8_0, \
	.quantize_act = quantize_act, \
	.quantize_act_k = llm_quantize_act_k_ref, \
	.vec_dot_f32 = vec_dot_f32, \
	.vec_dot_f16 = vec_dot_f16, \
	.vec_dot_q8_0_q8_0 = vec_dot_q8_0_q8_0, \
	.vec_dot_q4_0_q8_0 = vec_dot_q4_0_q8_0, \
	.mm_f32 = mm_f32, \
	.mm_f16 = mm_f16, \
	.sum_sq = sum_sq, \
	.rms_scale = rms_scale, \
	.rmsnorm = rmsnorm, \
	.silu_mul = silu_mul, \
	.vmax = max_f, \
	.exp_sum = exp_sum, \
	.vdiv = div_f, \
	.vexp = exp_f, \
	.attn_scores = attn_scores_f32, \
	.attn_values = attn_values_f32, \
	.attn_scores_f16 = attn_scores_f16, \
	.attn_values_f16 = attn_values_f16

const struct llm_kernels llm_kernels_avx2 = {
	.name = "avx2",
	AVX2_KERNELS,
	.mm_q8_0 = mm_q8_0,
	.mm_q4_0 = mm_q4_0,
	.mm_q4_k = mm_q4_k,
	.mm_q5_k = mm_q5_k,
	.mm_q6_k = mm_q6_k,
};

const struct llm_kernels llm_kernels_avx512vnni = {
	.name = "avx512vnni",
	AVX2_KERNELS,
	.mm_q8_0 = llm_mm_q8_0_vnni,
	.mm_q4_0 = llm_mm_q4_0_vnni,
	.mm_q4_k = mm_q4_k,
	.mm_q5_k = mm_q5_k,
	.mm_q6_k = mm_q6_k,
};

#endif /* LLM_HAVE_AVX2 && !__CHECKER__ */
