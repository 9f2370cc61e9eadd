/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The quantized matrix tiles (Q8_0 and Q4_0 weights against act columns)
 * for x86, included by one FPU object per instruction set, which defines
 * QT_VNNI first:
 *
 *   0  quant/avx2.c: AVX2; a block's integer dot by maddubs (u8 x s8 pairs
 *      summed to int16) and madd (pairs of int16 summed to int32)
 *   1  quant/avx512vnni.c: the same 8-lane (ymm) code with each
 *      maddubs + madd pair one vpdpbusd (AVX512-VNNI with AVX512-VL),
 *      which sums four u8 x s8 products into an int32 lane exactly
 *
 * Both compute the same exact integer block sums and then the same float
 * operations (the canonical order at the top of quant/avx2.c), so both
 * give the reference's bits: which one runs never shows in a result.
 * Everything here is static: each includer gets its own copy, built with
 * its own -m options.
 */
#ifndef LLM_QUANT_QTILES_H
#define LLM_QUANT_QTILES_H

#ifndef QT_VNNI
#error "define QT_VNNI (0 or 1) before including qtiles.h"
#endif

#include "kernels.h"

/*
 * The tiles work on groups of 8 rows with one row per 32-bit
 * lane: a block of the 8 rows is seen as chunks of 32 bytes, chunk c
 * holding quant bytes 4c..4c+3 of rows 0..7 in turn (the X8 layout keeps
 * them so in memory; rows as in the file are put so by a transpose in
 * registers).  A column's 4 quants that meet a chunk are broadcast to the
 * 8 lanes, so one maddubs works on 8 rows at once, and a block of 8 rows
 * ends as 8 exact int32 sums, one per lane, which are scaled and summed in
 * float in the reference's order (see the top of this file).
 */
/*
 * Columns one pass over the weights serves: 8 where AVX512-VL gives 32
 * vector registers (8 accumulators and a block's 8 unpacked chunks stay
 * in registers), else 4.
 */
#define MM_TOK (QT_VNNI ? 8 : 4)

/* The columns of a tile, from block @b on: column t is @xs bytes on. */
struct mm_cols {
	const s8 *q;		/* block b's quants */
	const u8 *d;		/* block b's scale (a float) */
	const u8 *off;		/* block b's off (an s32) */
	u64 xs;
};

static inline __m256i bcast32(const void *p)
{
	return _mm256_broadcastd_epi32(_mm_loadu_si32(p));
}

/* Rows as in the file: the 8 rows' scales of block @b (@bbytes each). */
static inline __m256 rows_scales(const u8 *const row[8], u64 b, u32 bbytes)
{
	u64 o = b * bbytes;

	return _mm256_cvtph_ps(_mm_setr_epi16(*(const u16 *)(row[0] + o),
					      *(const u16 *)(row[1] + o),
					      *(const u16 *)(row[2] + o),
					      *(const u16 *)(row[3] + o),
					      *(const u16 *)(row[4] + o),
					      *(const u16 *)(row[5] + o),
					      *(const u16 *)(row[6] + o),
					      *(const u16 *)(row[7] + o)));
}

static inline __m256i load_2x128(const u8 *lo, const u8 *hi)
{
	return _mm256_inserti128_si256(
		_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
		_mm_loadu_si128((const __m128i *)hi), 1);
}

/*
 * 16 bytes at offset @off of each of the 8 rows, as 4 chunks: v[k] holds
 * dwords 0..3 of rows k and k + 4, c[j] gets dword j of rows 0..7.
 */
static inline void rows_chunks(const u8 *const row[8], u64 off, __m256i c[4])
{
	__m256i v0 = load_2x128(row[0] + off, row[4] + off);
	__m256i v1 = load_2x128(row[1] + off, row[5] + off);
	__m256i v2 = load_2x128(row[2] + off, row[6] + off);
	__m256i v3 = load_2x128(row[3] + off, row[7] + off);
	__m256i t0 = _mm256_unpacklo_epi32(v0, v1);
	__m256i t1 = _mm256_unpackhi_epi32(v0, v1);
	__m256i t2 = _mm256_unpacklo_epi32(v2, v3);
	__m256i t3 = _mm256_unpackhi_epi32(v2, v3);

	c[0] = _mm256_unpacklo_epi64(t0, t2);
	c[1] = _mm256_unpackhi_epi64(t0, t2);
	c[2] = _mm256_unpacklo_epi64(t1, t3);
	c[3] = _mm256_unpackhi_epi64(t1, t3);
}

/*
 * Block @b of 8 rows: @q4 ? 4 : 8 chunks into c[] (Q4_0: chunk j holds
 * bytes 4j..4j+3 of each row, whose low nibbles are elements 4j.. and high
 * nibbles elements 16 + 4j..; Q8_0: elements 4j..4j+3), 8 scales into *dw.
 * In the X8 layout a group's block is its 8 scales then its chunks.
 */
static __always_inline void q_load(const u8 *const row[8], const u8 *grp,
				   u64 b, __m256i c[8], __m256 *dw, bool q4,
				   bool x8)
{
	u32 qbytes = q4 ? LLM_QK4_0 / 2 : LLM_QK8_0, bbytes = 2 + qbytes;
	int j;

	if (x8) {
		const u8 *p = grp + b * 8 * bbytes;

		*dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
#pragma GCC unroll 8
		for (j = 0; j < qbytes / 4; j++)
			c[j] = _mm256_loadu_si256((const __m256i *)
						  (p + 16 + 32 * j));
		return;
	}
	rows_chunks(row, b * bbytes + 2, c);
	if (!q4)
		rows_chunks(row, b * bbytes + 2 + 16, c + 4);
	*dw = rows_scales(row, b, bbytes);
}

/*
 * acc += (float)isum * (dw * d), lane by lane: the reference's
 * sum += (float)sumi * (h2f(x.d) * h2f(y.d)), for 8 rows at once.
 */
static __always_inline __m256 q_accum(__m256 acc, __m256i isum, __m256 dw,
				      const u8 *d)
{
	__m256 sc = _mm256_mul_ps(dw, _mm256_broadcast_ss((const float *)d));

	return _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), sc));
}

/*
 * One block of 8 Q4_0 rows against T columns.  The nibbles stay unsigned:
 * maddubs(u, x) with u in 0..15 and x in [-127, 127] cannot saturate, an
 * int16 lane gathers 16 products (at most 30480 in magnitude), and the
 * act column's off (-8 * sum(x)) added to the int32 sum gives the exact
 * sum of (u - 8) * x.
 */
static __always_inline void q4_block(const __m256i c[8], __m256 dw,
				     const struct mm_cols *x, __m256 *acc,
				     int T)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256i lo[4], hi[4];
	int j, t;

#pragma GCC unroll 8
	for (j = 0; j < 4; j++) {
		lo[j] = _mm256_and_si256(c[j], m4);
		hi[j] = _mm256_and_si256(_mm256_srli_epi16(c[j], 4), m4);
	}
#pragma GCC unroll 8
	for (t = 0; t < T; t++) {
		const s8 *q = x->q + t * x->xs;
		__m256i i32, off = bcast32(x->off + t * x->xs);
#if QT_VNNI
		/* two chains: vpdpbusd's latency, not its rate, would bound one */
		__m256i i32b = _mm256_setzero_si256();

		i32 = off;
#pragma GCC unroll 8
		for (j = 0; j < 4; j++) {
			i32 = _mm256_dpbusd_epi32(i32, lo[j], bcast32(q + 4 * j));
			i32b = _mm256_dpbusd_epi32(i32b, hi[j],
						   bcast32(q + 16 + 4 * j));
		}
		i32 = _mm256_add_epi32(i32, i32b);
#else
		__m256i i16;

		i16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo[0], bcast32(q)),
				       _mm256_maddubs_epi16(hi[0],
							    bcast32(q + 16)));
#pragma GCC unroll 8
		for (j = 1; j < 4; j++) {
			i16 = _mm256_add_epi16(i16, _mm256_maddubs_epi16(
				lo[j], bcast32(q + 4 * j)));
			i16 = _mm256_add_epi16(i16, _mm256_maddubs_epi16(
				hi[j], bcast32(q + 16 + 4 * j)));
		}
		i32 = _mm256_add_epi32(_mm256_madd_epi16(i16,
							 _mm256_set1_epi16(1)),
				       off);
#endif
		acc[t] = q_accum(acc[t], i32, dw, x->d + t * x->xs);
	}
}

/*
 * One block of 8 Q8_0 rows against T columns: maddubs(|w|, sign(x, w)),
 * where |w| <= 128 and |x| <= 127 keep each int16 pair from saturating.
 */
static __always_inline void q8_block(const __m256i c[8], __m256 dw,
				     const struct mm_cols *x, __m256 *acc,
				     int T)
{
#if !QT_VNNI
	const __m256i ones = _mm256_set1_epi16(1);
#endif
	__m256i a[8];
	int j, t;

#pragma GCC unroll 8
	for (j = 0; j < 8; j++)
		a[j] = _mm256_sign_epi8(c[j], c[j]);
#pragma GCC unroll 8
	for (t = 0; t < T; t++) {
		const s8 *q = x->q + t * x->xs;
		__m256i i32 = _mm256_setzero_si256();
#if QT_VNNI
		__m256i i32b = _mm256_setzero_si256();	/* as in q4_block() */
#endif

#pragma GCC unroll 8
		for (j = 0; j < 8; j++) {
			__m256i s = _mm256_sign_epi8(bcast32(q + 4 * j), c[j]);
#if QT_VNNI
			if (j & 1)
				i32b = _mm256_dpbusd_epi32(i32b, a[j], s);
			else
				i32 = _mm256_dpbusd_epi32(i32, a[j], s);
#else
			__m256i p = _mm256_maddubs_epi16(a[j], s);

			p = _mm256_madd_epi16(p, ones);
			i32 = j ? _mm256_add_epi32(i32, p) : p;
#endif
		}
#if QT_VNNI
		i32 = _mm256_add_epi32(i32, i32b);
#endif
		acc[t] = q_accum(acc[t], i32, dw, x->d + t * x->xs);
	}
}

/* Where a tile's 8 rows come from: @row[] as in the file, or group @grp. */
struct mm_rows {
	const u8 *row[8];
	const u8 *grp;
	u64 r;			/* row of lane 0 */
	u32 lo, hi;		/* lanes to store */
};

/* Lanes [lo, hi) of @v to y[lo..hi). */
static inline void store_lanes(float *y, __m256 v, u32 lo, u32 hi)
{
	const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i m;

	if (lo == 0 && hi == 8) {
		_mm256_storeu_ps(y, v);
		return;
	}
	m = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), idx),
				_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), idx));
	_mm256_maskstore_ps(y, m, v);
}

/*
 * The group of 8 rows after @w's, to prefetch while @w's runs, when rows
 * lie as in the file: the hardware prefetcher follows 8 streams over
 * short rows badly.  Not when 8 rows take more than MM_PF_BYTES (it does
 * better then, and they would come too early), not past the matrix, not
 * on a later pass over the same rows (@t0 > 0).  An X8 group is one
 * stream: it needs none.
 */
#define MM_PF_BYTES (32u << 10)

static inline const u8 *next_group(const struct llm_mm *mm, u64 r, u32 t0)
{
	if (t0 || r + 16 > mm->rows || 8 * mm->row_bytes > MM_PF_BYTES)
		return NULL;
	return mm->w + (r + 8) * mm->row_bytes;
}

/* Prefetch the cache lines of [p, p + n) (n a few lines). */
static inline void prefetch_lines(const u8 *p, u32 n)
{
	u32 o;

	for (o = 0; o < n; o += 64)
		_mm_prefetch((const char *)p + o, _MM_HINT_T0);
}

static __always_inline void q_tile(const struct llm_mm *mm,
				   const struct mm_rows *w, u32 t0, int T,
				   bool q4, bool x8)
{
	u64 b, nb = mm->cols / LLM_QK8_0;
	u32 bbytes = q4 ? sizeof(struct llm_block_q4_0) :
			  sizeof(struct llm_block_q8_0);
	const u8 *pf = x8 ? NULL : next_group(mm, w->r, t0);
	const u8 *a = (const u8 *)mm->x + t0 * mm->x_stride;
	struct mm_cols x = {
		.q = (const s8 *)a,
		.d = (const u8 *)llm_act_d(a, nb),
		.off = (const u8 *)llm_act_off(a, nb),
		.xs = mm->x_stride,
	};
	__m256 acc[MM_TOK];
	int t;

#pragma GCC unroll 8
	for (t = 0; t < T; t++)
		acc[t] = _mm256_setzero_ps();
	for (b = 0; b < nb; b++) {
		__m256i c[8];
		__m256 dw;

		if (pf)
			prefetch_lines(pf + b * 8 * bbytes, 8 * bbytes);
		q_load(w->row, w->grp, b, c, &dw, q4, x8);
		if (q4)
			q4_block(c, dw, &x, acc, T);
		else
			q8_block(c, dw, &x, acc, T);
		x.q += LLM_QK8_0;
		x.d += sizeof(float);
		x.off += sizeof(s32);
	}
#pragma GCC unroll 8
	for (t = 0; t < T; t++)
		store_lanes(mm->y + (t0 + t) * mm->y_stride + w->r, acc[t],
			    w->lo, w->hi);
}

/*
 * One block of a row as in the file against a column, as 8 int32 lanes
 * whose sum is the block's exact integer dot, less off for Q4_0
 * (whose nibbles stay unsigned, as in q4_block()).
 */
static __always_inline __m256i row_block(const u8 *blk, const s8 *x, bool q4)
{
	__m256i xv = _mm256_loadu_si256((const __m256i *)x), w, u;

	if (q4) {
		__m128i q = _mm_loadu_si128((const __m128i *)(blk + 2));

		u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q),
				     _mm256_set1_epi8(0x0f));
	} else {
		w = _mm256_loadu_si256((const __m256i *)(blk + 2));
		u = _mm256_sign_epi8(w, w);
		xv = _mm256_sign_epi8(xv, w);
	}
#if QT_VNNI
	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, xv);
#else
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv),
				 _mm256_set1_epi16(1));
#endif
}

/*
 * Row @r as in the file against column @t: the one stream the hardware
 * prefetcher follows best (two rows at once, 2 KB apart, stream at a
 * third of the rate here).  Blocks go four at a time: their 8-lane sums
 * are folded into one exact int32 each by hadd, scaled as the reference
 * scales them, and added to the row's sum one by one, in order: the
 * canonical order, as in q_tile().
 */
static __always_inline void q_row_gemv(const struct llm_mm *mm, u64 r, u32 t,
				       bool q4)
{
	u32 bbytes = q4 ? sizeof(struct llm_block_q4_0) :
			  sizeof(struct llm_block_q8_0);
	u64 b, nb = mm->cols / LLM_QK8_0;
	const u8 *a = (const u8 *)mm->x + t * mm->x_stride;
	const u8 *row = mm->w + r * mm->row_bytes;
	const s8 *xq = (const s8 *)a;
	const float *xd = llm_act_d(a, nb);
	const s32 *xo = llm_act_off(a, nb);
	float acc = 0.0f;
	int j;

	for (b = 0; b < nb; b += 4, row += 4 * bbytes) {
		u32 n = min_t(u64, nb - b, 4);
		__m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(n),
					    _mm_setr_epi32(0, 1, 2, 3));
		__m256i i[4];
		u16 d[4];
		__m128i s;
		__m128 p;
		float pv[4];

#pragma GCC unroll 4
		for (j = 0; j < 4; j++) {
			i[j] = _mm256_setzero_si256();
			d[j] = 0;
			if (j < n) {
				i[j] = row_block(row + j * bbytes,
						 xq + (b + j) * LLM_QK8_0, q4);
				d[j] = *(const u16 *)(row + j * bbytes);
			}
		}
		i[0] = _mm256_hadd_epi32(_mm256_hadd_epi32(i[0], i[1]),
					 _mm256_hadd_epi32(i[2], i[3]));
		s = _mm_add_epi32(_mm256_castsi256_si128(i[0]),
				  _mm256_extracti128_si256(i[0], 1));
		if (q4)
			s = _mm_add_epi32(s, _mm_maskload_epi32(
				(const int *)xo + b, m));
		p = _mm_cvtph_ps(_mm_setr_epi16(d[0], d[1], d[2], d[3],
						0, 0, 0, 0));
		p = _mm_mul_ps(_mm_cvtepi32_ps(s),
			       _mm_mul_ps(p, _mm_maskload_ps(xd + b, m)));
		_mm_storeu_ps(pv, p);
#pragma GCC unroll 4
		for (j = 0; j < 4; j++)
			if (j < n)
				acc += pv[j];
	}
	mm->y[t * mm->y_stride + r] = acc;
}

#if QT_VNNI
/*
 * The 8-column passes in functions of their own, one per format and
 * layout: inlined into q_rows() with the shorter passes, their arrays
 * made a KASAN build's frame pass the kernel's 2 KiB limit.
 */
#define QT_TILE8(name, q4, x8)						\
static noinline void name(const struct llm_mm *mm,			\
			  const struct mm_rows *w, u32 t0)		\
{									\
	q_tile(mm, w, t0, 8, q4, x8);					\
}
QT_TILE8(q_tile8_q4_x8, true, true)
QT_TILE8(q_tile8_q4_rows, true, false)
QT_TILE8(q_tile8_q8_x8, false, true)
QT_TILE8(q_tile8_q8_rows, false, false)
#endif

/* A pass of MM_TOK columns from @t0. */
static __always_inline void q_tile_full(const struct llm_mm *mm,
					const struct mm_rows *w, u32 t0,
					bool q4, bool x8)
{
#if QT_VNNI
	if (q4)
		(x8 ? q_tile8_q4_x8 : q_tile8_q4_rows)(mm, w, t0);
	else
		(x8 ? q_tile8_q8_x8 : q_tile8_q8_rows)(mm, w, t0);
#else
	q_tile(mm, w, t0, MM_TOK, q4, x8);
#endif
}

/* Every column against one group of 8 rows, MM_TOK columns at a time. */
static __always_inline void q_rows(const struct llm_mm *mm,
				   const struct mm_rows *w, bool q4, bool x8)
{
	u32 t = 0;
	u64 r;

	for (; t + MM_TOK <= mm->n_tok; t += MM_TOK)
		q_tile_full(mm, w, t, q4, x8);
	if (MM_TOK > 4 && mm->n_tok - t >= 4) {
		q_tile(mm, w, t, 4, q4, x8);
		t += 4;
	}
	switch (mm->n_tok - t) {
	case 3:
		q_tile(mm, w, t, 3, q4, x8);
		break;
	case 2:
		q_tile(mm, w, t, 2, q4, x8);
		break;
	case 1:
		if (x8) {
			q_tile(mm, w, t, 1, q4, x8);
			break;
		}
		for (r = w->r; r < w->r + w->hi; r++)
			q_row_gemv(mm, r, t, q4);
		break;
	}
}

/*
 * Rows [r0, r1) in groups of 8.  In the X8 layout a group is one of the
 * matrix's groups, computed whole, of which the lanes in [r0, r1) are
 * stored; rows past the last whole group lie as in the file.  Rows as in
 * the file are grouped from r0, and a last group of fewer than 8 repeats
 * its last row in the lanes it does not store.
 */
static __always_inline void mm_q(const struct llm_mm *mm, u64 r0, u64 r1,
				 bool q4)
{
	u64 whole = mm->layout == LLM_MM_X8 ? mm->rows / 8 * 8 : 0;
	struct mm_rows w;
	u64 r = r0;
	int k;

	while (r < r1) {
		if (r < whole) {
			u64 g = r / 8;

			w.grp = mm->w + g * 8 * mm->row_bytes;
			w.r = g * 8;
			w.lo = r - w.r;
			w.hi = min_t(u64, r1 - w.r, 8);
			q_rows(mm, &w, q4, true);
		} else {
			w.r = r;
			w.lo = 0;
			w.hi = min_t(u64, r1 - r, 8);
#pragma GCC unroll 8
			for (k = 0; k < 8; k++)
				w.row[k] = mm->w + min_t(u64, r + k, r1 - 1) *
						   mm->row_bytes;
			q_rows(mm, &w, q4, false);
		}
		r = w.r + w.hi;
	}
}

#endif /* LLM_QUANT_QTILES_H */
