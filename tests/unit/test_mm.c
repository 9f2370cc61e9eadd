// SPDX-License-Identifier: GPL-2.0
/*
 * The matrix tiles and element-wise kernels of quant/kernels.h, userspace
 * build: act columns against quantize_row_q8_0, the repacked (X8) layout,
 * every tile of every set against the scalar reference (F32 and F16 to
 * DOT_RTOL * sum |w x|, Q8_0 and Q4_0 to the bit, since the AVX2 tiles sum
 * in the reference's order), odd shapes and extreme weights; then what the
 * forward pass relies on: a column's results are the same bits alone or
 * anywhere in a batch, whatever the split of rows into tiles, and whatever
 * the layout; and the element-wise kernels against their references.
 */
#include <math.h>
#include <stdlib.h>
#include <float.h>

#include "check.h"
#include "quant/kernels.h"

#define DOT_RTOL 1e-5

/* ---- helpers ---------------------------------------------------------- */

static void *xalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/*
 * The SIMD table under test: the AVX2 one, then, for the tests of the
 * quantized tiles, the AVX512-VNNI one where the CPU has it (main()).
 */
static const struct llm_kernels *simd;

static const struct llm_kernels *simd_kernels(void)
{
	return simd;
}

static bool is_q(u32 type)
{
	return type == LLM_T_Q8_0 || type == LLM_T_Q4_0;
}

static const char *tname(u32 type)
{
	return llm_type_name(type);
}

/* ---- a product to test ------------------------------------------------ */

/*
 * A weight matrix in both layouts, its rows dequantized, and @n_tok
 * columns of activations: floats, and act columns for Q8_0 and Q4_0.
 */
struct prob {
	u32 type;
	u64 rows, cols, row_bytes;
	u8 *w, *w_x8;
	float *wf;		/* dequantized, rows * cols */
	u32 n_tok;		/* columns a product takes */
	u32 n_cols;		/* columns made, n_tok at most */
	float *xf;		/* n_cols * cols */
	u8 *act;		/* n_tok act columns, or NULL */
	u64 act_stride;
	float *xd;		/* the activations as the tiles see them */
	double *absdot;		/* rows * n_cols: sum |w x|, when asked for */
};

enum wkind { W_RANDOM, W_RAW, W_CORNER };

/* A random fp16 scale: any finite half, subnormals and zero included. */
static u16 rnd_scale(void)
{
	u16 h;

	do {
		h = (u16)rnd32();
	} while ((h & 0x7c00) == 0x7c00);
	return h;
}

static void prob_weights(struct prob *p, u32 type, u64 rows, u64 cols,
			 enum wkind kind)
{
	float *row = xalloc(cols * sizeof(float));
	u64 r, c, nb = cols / 32;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->rows = rows;
	p->cols = cols;
	if (llm_type_row_bytes(type, cols, &p->row_bytes))
		abort();
	p->w = xalloc(rows * p->row_bytes);
	p->wf = xalloc(rows * cols * sizeof(float));
	for (r = 0; r < rows; r++) {
		u8 *dst = p->w + r * p->row_bytes;
		float scale = kind == W_RANDOM ? 0.1f : 1e3f;

		for (c = 0; c < cols; c++)
			row[c] = rndf() * scale * (1 + (rnd32() % 4 == 0) * 9);
		switch (type) {
		case LLM_T_F32:
			memcpy(dst, row, p->row_bytes);
			break;
		case LLM_T_F16:
			llm_quantize_row_f16_ref(row, (u16 *)dst, cols);
			break;
		case LLM_T_Q8_0:
			llm_quantize_row_q8_0_ref(row, (void *)dst, cols);
			break;
		case LLM_T_Q4_0:
			llm_quantize_row_q4_0_ref(row, (void *)dst, cols);
			break;
		}
		if (kind != W_RANDOM && is_q(type)) {
			u32 bb = llm_type_block_bytes(type);

			/* any byte (-128 too) and any finite scale */
			for (c = 0; c < nb; c++) {
				u8 *blk = dst + c * bb;
				u16 d = rnd_scale();
				u32 j;

				if (kind == W_CORNER)
					d = (c & 1) ? 0x7bff : 0xfbff;
				memcpy(blk, &d, 2);
				for (j = 2; j < bb; j++)
					blk[j] = kind == W_CORNER ?
						 (type == LLM_T_Q8_0 ? 0x80 :
						  ((c & 2) ? 0xff : 0x00)) :
						 (u8)rnd32();
			}
		}
		llm_dequantize_row_ref(type, dst, p->wf + r * cols, cols);
	}
	p->w_x8 = NULL;
	if (is_q(type)) {
		void *scratch = xalloc(llm_mm_repack_scratch(type, cols));

		p->w_x8 = xalloc(rows * p->row_bytes);
		memcpy(p->w_x8, p->w, rows * p->row_bytes);
		if (llm_mm_repack(type, p->w_x8, rows, cols, scratch))
			abort();
		free(scratch);
	}
	free(row);
}

/*
 * @kind W_CORNER: columns of equal magnitudes, so every quant is +-127,
 * and large values, so the act scales are large.
 */
static void prob_acts(struct prob *p, u32 n_tok, enum wkind kind)
{
	u64 c, t, cols = p->cols;

	p->n_tok = n_tok;
	p->n_cols = n_tok;
	p->xf = xalloc(n_tok * cols * sizeof(float));
	p->xd = xalloc(n_tok * cols * sizeof(float));
	for (c = 0; c < n_tok * cols; c++) {
		p->xf[c] = rndf() * (1 + (rnd32() % 8 == 0) * 30);
		if (kind == W_CORNER)
			p->xf[c] = (rnd32() & 1) ? 3e4f : -3e4f;
	}
	p->act = NULL;
	p->absdot = NULL;
	if (!is_q(p->type)) {
		memcpy(p->xd, p->xf, n_tok * cols * sizeof(float));
		return;
	}
	p->act_stride = llm_act_bytes(p->type, cols);
	p->act = xalloc(n_tok * p->act_stride);
	for (t = 0; t < n_tok; t++) {
		struct llm_block_q8_0 *q = xalloc(cols / 32 * sizeof(*q));

		llm_quantize_act_ref(p->xf + t * cols,
				     p->act + t * p->act_stride, cols);
		llm_quantize_row_q8_0_ref(p->xf + t * cols, q, cols);
		llm_dequantize_row_ref(LLM_T_Q8_0, q, p->xd + t * cols, cols);
		free(q);
	}
}

static void prob_free(struct prob *p)
{
	free(p->w);
	free(p->w_x8);
	free(p->wf);
	free(p->xf);
	free(p->xd);
	free(p->act);
	free(p->absdot);
}

/*
 * Columns [t0, t0 + n) of @p into y (rows floats per column), as tiles
 * cut at @cuts (ascending, from 0 to rows), run in the order @order gives.
 */
static void run(const struct llm_kernels *k, const struct prob *p, bool x8,
		u32 t0, u32 n, float *y, const u64 *cuts, u32 n_cuts,
		const u32 *order)
{
	struct llm_mm mm = {
		.w = x8 ? p->w_x8 : p->w, .rows = p->rows,
		.row_bytes = p->row_bytes, .cols = p->cols, .y = y,
		.y_stride = p->rows, .n_tok = n,
		.layout = x8 ? LLM_MM_X8 : LLM_MM_ROWS,
	};
	llm_mm_fn fn = llm_mm_pick(k, p->type);
	u32 i;

	if (p->act) {
		mm.x = p->act + t0 * p->act_stride;
		mm.x_stride = p->act_stride;
	} else {
		mm.x = p->xf + (u64)t0 * p->cols;
		mm.x_stride = p->cols * sizeof(float);
	}
	for (i = 0; i + 1 < n_cuts; i++) {
		u32 j = order ? order[i] : i;

		fn(&mm, cuts[j], cuts[j + 1]);
	}
}

static void run_whole(const struct llm_kernels *k, const struct prob *p,
		      bool x8, u32 t0, u32 n, float *y)
{
	u64 cuts[2] = { 0, p->rows };

	run(k, p, x8, t0, n, y, cuts, 2, NULL);
}

/* sum over i of |w[r][i] x[t][i]|, the scale of a dot's rounding */
static double abs_dot(struct prob *p, u64 r, u32 t)
{
	u64 i, j;

	if (!p->absdot) {
		p->absdot = xalloc(p->rows * p->n_cols * sizeof(double));
		for (j = 0; j < p->rows * p->n_cols; j++) {
			const float *w = p->wf + j % p->rows * p->cols;
			const float *x = p->xd + j / p->rows * p->cols;
			double s = 0;

			for (i = 0; i < p->cols; i++)
				s += fabs((double)w[i] * x[i]);
			p->absdot[j] = s;
		}
	}
	return p->absdot[t * p->rows + r];
}

/* ---- act columns and the X8 layout ------------------------------------ */

static void act_bytes(void)
{
	CHECK_EQ(llm_act_bytes(LLM_T_F32, 1), 64);
	CHECK_EQ(llm_act_bytes(LLM_T_F32, 16), 64);
	CHECK_EQ(llm_act_bytes(LLM_T_F32, 17), 128);
	CHECK_EQ(llm_act_bytes(LLM_T_F16, 172), 704);
	CHECK_EQ(llm_act_bytes(LLM_T_Q8_0, 32), 64);
	CHECK_EQ(llm_act_bytes(LLM_T_Q4_0, 768), 960);
	CHECK_EQ(llm_act_bytes(LLM_T_Q4_0, 5632), 7040);
	CHECK_EQ(llm_act_bytes(LLM_T_Q8_0, 33), 0);
	CHECK_EQ(llm_act_bytes(3, 32), 0);		/* Q4_1 */
	CHECK_EQ(llm_act_bytes(LLM_T_F32, U64_MAX / 2), 0);
	CHECK_EQ(llm_act_bytes(LLM_T_Q8_0, U64_MAX & ~31ull), 0);
	CHECK_EQ(llm_act_bytes(LLM_T_F32, 0), 0 * 64);
}

/* Random and hard blocks (NaN, inf, subnormal scales, ties). */
static void fill_act_input(float *x, u64 n, int rep)
{
	u64 i, j;

	for (i = 0; i < n; i++)
		x[i] = rndf() * (rep < 4 ? 1.0f : 1e-3f);
	if (rep < 6)
		return;
	for (i = 0; i < n; i += 32) {
		float *b = x + i;

		switch (rnd32() % 6) {
		case 0:
			b[rnd32() % 32] = NAN;
			break;
		case 1:
			b[rnd32() % 32] = -INFINITY;
			break;
		case 2:
			for (j = 0; j < 32; j++)
				b[j] *= 1e-39f;
			break;
		case 3:		/* every quant a tie */
			for (j = 0; j < 32; j++)
				b[j] = ((int)(rnd32() % 255) - 127) * 4.0f + 2;
			b[0] = 508;
			break;
		case 4:
			memset(b, 0, 32 * sizeof(float));
			break;
		}
	}
}

static void act_columns(void)
{
	static const u64 lens[] = { 32, 64, 96, 768, 2048, 5632 };
	const struct llm_kernels *k = simd_kernels();
	u64 n = 5632, nb = n / 32;
	float *x = xalloc(n * sizeof(float));
	struct llm_block_q8_0 *q = xalloc(nb * sizeof(*q));
	u8 *a = xalloc(llm_act_bytes(LLM_T_Q8_0, n));
	u8 *b = xalloc(llm_act_bytes(LLM_T_Q8_0, n));
	size_t l;
	int rep;

	for (rep = 0; rep < 12; rep++) {
		for (l = 0; l < ARRAY_SIZE(lens); l++) {
			u64 len = lens[l], lb = len / 32, i;
			const float *d;
			const s32 *off;

			fill_act_input(x, len, rep);
			llm_quantize_row_q8_0_ref(x, q, len);
			llm_quantize_act_ref(x, a, len);
			d = llm_act_d(a, lb);
			off = llm_act_off(a, lb);
			for (i = 0; i < lb; i++) {
				s32 s = 0;
				int j;

				CHECK(memcmp(a + 32 * i, q[i].qs, 32) == 0);
				CHECK(f2bits(d[i]) ==
				      f2bits(llm_fp16_to_fp32(q[i].d)));
				for (j = 0; j < 32; j++) {
					s += q[i].qs[j];
					CHECK(q[i].qs[j] >= -127);
				}
				CHECK_EQ(off[i], -8 * s);
			}
			if (!k)
				continue;
			k->quantize_act(x, b, len);
			if (memcmp(a, b, lb * 40)) {
				check_fail(__FILE__, __LINE__,
					   "%s act column of %llu differs",
					   k->name, (unsigned long long)len);
				goto out;
			}
		}
	}
out:
	free(x);
	free(q);
	free(a);
	free(b);
}

static void repack_layout(void)
{
	static const u32 types[] = { LLM_T_Q8_0, LLM_T_Q4_0 };
	static const u64 shapes[][2] = { { 8, 32 }, { 19, 64 }, { 5, 96 },
					 { 40, 2048 } };
	float *want = xalloc(2048 * sizeof(float));
	float *got = xalloc(2048 * sizeof(float));
	size_t ti, si;
	u64 r;

	for (ti = 0; ti < ARRAY_SIZE(types); ti++) {
		for (si = 0; si < ARRAY_SIZE(shapes); si++) {
			struct prob p;
			u64 whole;

			prob_weights(&p, types[ti], shapes[si][0],
				     shapes[si][1], W_RAW);
			CHECK_EQ(llm_mm_repack_scratch(p.type, p.cols),
				 8 * p.row_bytes);
			/* rows past the last whole group stay as they were */
			whole = p.rows / 8 * 8;
			CHECK(memcmp(p.w + whole * p.row_bytes,
				     p.w_x8 + whole * p.row_bytes,
				     (p.rows - whole) * p.row_bytes) == 0);
			if (whole)
				CHECK(memcmp(p.w, p.w_x8, 8 * p.row_bytes));
			for (r = 0; r < p.rows; r++) {
				llm_dequantize_row_ref(p.type,
						       p.w + r * p.row_bytes,
						       want, p.cols);
				llm_dequantize_row_mm(p.type, LLM_MM_X8,
						      p.w_x8, p.rows,
						      p.row_bytes, r, got,
						      p.cols);
				CHECK(memcmp(want, got,
					     p.cols * sizeof(float)) == 0);
				llm_dequantize_row_mm(p.type, LLM_MM_ROWS,
						      p.w, p.rows,
						      p.row_bytes, r, got,
						      p.cols);
				CHECK(memcmp(want, got,
					     p.cols * sizeof(float)) == 0);
			}
			prob_free(&p);
		}
	}
	/* F32 rows: llm_dequantize_row_mm is llm_dequantize_row_ref */
	{
		float w[64];

		for (r = 0; r < 64; r++)
			w[r] = rndf();
		llm_dequantize_row_mm(LLM_T_F32, LLM_MM_ROWS, (u8 *)w, 2, 128,
				      1, got, 32);
		CHECK(memcmp(got, w + 32, 32 * sizeof(float)) == 0);
	}
	CHECK_EQ(llm_mm_repack(LLM_T_F32, (u8 *)want, 8, 32, got), -EINVAL);
	CHECK_EQ(llm_mm_repack(LLM_T_F16, (u8 *)want, 8, 32, got), -EINVAL);
	CHECK_EQ(llm_mm_repack(LLM_T_Q8_0, (u8 *)want, 8, 33, got), -EINVAL);
	CHECK_EQ(llm_mm_repack_scratch(LLM_T_F32, 32), 0);
	CHECK_EQ(llm_mm_repack_scratch(LLM_T_Q4_0, 33), 0);
	free(want);
	free(got);
}

/* ---- tiles against the reference -------------------------------------- */

static const u32 all_types[] = { LLM_T_F32, LLM_T_F16, LLM_T_Q8_0,
				 LLM_T_Q4_0 };

/* Largest |simd - ref| / sum |w x| seen, per type, reported at the end. */
static double worst_rel[4];

/*
 * Every column of @p by @k, whole tiles and tiles of 3 rows, both layouts,
 * against the reference tile: to the bit for Q8_0 and Q4_0, to rounding
 * for F32 and F16.
 */
static int check_vs_ref(const struct llm_kernels *k, struct prob *p,
			int ti)
{
	u64 n = (u64)p->rows * p->n_tok, i, cuts[64];
	float *want = xalloc(n * sizeof(float));
	float *got = xalloc(n * sizeof(float));
	u32 n_cuts = 0, pass;
	int ok = 0;

	for (i = 0; i < p->rows; i += 3)
		cuts[n_cuts++] = i;
	cuts[n_cuts++] = p->rows;
	run_whole(&llm_kernels_ref, p, false, 0, p->n_tok, want);
	for (pass = 0; pass < 4; pass++) {
		bool x8 = pass & 1;

		if (x8 && !p->w_x8)
			continue;
		memset(got, 0xff, n * sizeof(float));
		if (pass < 2)
			run_whole(k, p, x8, 0, p->n_tok, got);
		else
			run(k, p, x8, 0, p->n_tok, got, cuts, n_cuts, NULL);
		for (i = 0; i < n; i++) {
			u64 r = i % p->rows;
			u32 t = i / p->rows;
			double tol = is_q(p->type) ? 0 :
				     DOT_RTOL * abs_dot(p, r, t);
			double err = fabs((double)got[i] - want[i]);

			if (is_q(p->type) ? f2bits(got[i]) != f2bits(want[i]) :
			    !(err <= tol)) {
				check_fail(__FILE__, __LINE__,
					   "%s %s %llux%llu, %u columns, %s%s: row %llu column %u: %a, want %a",
					   k->name, tname(p->type),
					   (unsigned long long)p->rows,
					   (unsigned long long)p->cols,
					   p->n_tok, x8 ? "X8" : "rows",
					   pass < 2 ? "" : ", tiles of 3",
					   (unsigned long long)r, t, got[i],
					   want[i]);
				goto out;
			}
			if (tol > 0 && err / tol * DOT_RTOL > worst_rel[ti])
				worst_rel[ti] = err / tol * DOT_RTOL;
		}
	}
	ok = 1;
out:
	free(want);
	free(got);
	return ok;
}

static void tiles_one(const struct llm_kernels *k, bool quick)
{
	static const u64 q_cols[] = { 32, 64, 2048, 5632 };
	static const u64 f_cols[] = { 1, 7, 9, 32, 64, 172, 2048, 5632 };
	static const u64 rows[] = { 1, 5, 8, 13, 37 };
	static const u32 toks[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 64 };
	size_t ti, ci, ri, ki;

	for (ti = 0; ti < ARRAY_SIZE(all_types); ti++) {
		u32 type = all_types[ti];
		const u64 *cols = is_q(type) ? q_cols : f_cols;
		size_t n_cols = is_q(type) ? ARRAY_SIZE(q_cols) :
				ARRAY_SIZE(f_cols);

		for (ci = 0; ci < n_cols; ci++) {
			for (ri = 0; ri < ARRAY_SIZE(rows); ri++) {
				struct prob p;

				if (quick && ri != ARRAY_SIZE(rows) - 1)
					continue;
				prob_weights(&p, type, rows[ri], cols[ci],
					     (ri + ci) % 3 ? W_RANDOM : W_RAW);
				prob_acts(&p, 64, W_RANDOM);
				for (ki = 0; ki < ARRAY_SIZE(toks); ki++) {
					p.n_tok = toks[ki];
					if (!check_vs_ref(k, &p, ti)) {
						prob_free(&p);
						return;
					}
				}
				prob_free(&p);
			}
		}
	}
}

static void tiles_vs_ref(void)
{
	const struct llm_kernels *k = simd_kernels();
	static const char *const names[4] = { "f32", "f16", "q8_0", "q4_0" };
	int i;

	CHECK(k);
	tiles_one(k, false);
	if (check_failed())
		return;
	for (i = 0; i < 4; i++)
		fprintf(stderr, "%s: %s worst |simd - ref| / sum|wx| = %.2g\n",
			__func__, names[i], worst_rel[i]);
	/* the reference against itself: tiles of 3 and X8 change nothing */
	tiles_one(&llm_kernels_ref, true);
}

/* Extreme weights and activations: -128, +-127, the largest scales. */
static void tiles_extreme(void)
{
	const struct llm_kernels *k = simd_kernels();
	static const u32 qtypes[] = { LLM_T_Q8_0, LLM_T_Q4_0 };
	size_t ti;
	int kind;

	CHECK(k);
	for (ti = 0; ti < ARRAY_SIZE(qtypes); ti++) {
		for (kind = 0; kind < 3; kind++) {
			struct prob p;
			u32 n;

			prob_weights(&p, qtypes[ti], 21, 2048,
				     kind ? W_CORNER : W_RAW);
			prob_acts(&p, 9, kind == 2 ? W_RANDOM : W_CORNER);
			for (n = 1; n <= 9; n += 4) {
				p.n_tok = n;
				if (!check_vs_ref(k, &p, 2 + (int)ti)) {
					prob_free(&p);
					return;
				}
			}
			prob_free(&p);
		}
	}
	/* a single block, scale 1: the result is the exact integer sum */
	for (ti = 0; ti < ARRAY_SIZE(qtypes); ti++) {
		struct prob p;
		float y[8];
		int rep;

		prob_weights(&p, qtypes[ti], 8, 32, W_RAW);
		prob_acts(&p, 1, W_RANDOM);
		for (rep = 0; rep < 200; rep++) {
			u64 r;
			int j;

			for (j = 0; j < 32; j++)
				p.act[j] = (u8)(rnd32() % 255 - 127);
			if (rep == 0)
				memset(p.act, 0x81, 32);	/* -127 */
			*(float *)(p.act + 32) = 1.0f;
			*(s32 *)(p.act + 36) = 0;	/* off: -8 * sum */
			for (j = 0; j < 32; j++)
				*(s32 *)(p.act + 36) -= 8 * (s8)p.act[j];
			for (r = 0; r < 8; r++) {
				u8 *blk = p.w + r * p.row_bytes;

				blk[0] = 0x00;
				blk[1] = 0x3c;		/* 1.0 */
				for (j = 2; j < (int)p.row_bytes; j++)
					blk[j] = rep == 0 ? 0x80 : (u8)rnd32();
			}
			{
				void *scratch = xalloc(8 * p.row_bytes);

				memcpy(p.w_x8, p.w, 8 * p.row_bytes);
				llm_mm_repack(p.type, p.w_x8, 8, 32, scratch);
				free(scratch);
			}
			for (j = 0; j < 2; j++) {
				run_whole(k, &p, j, 0, 1, y);
				for (r = 0; r < 8; r++) {
					const u8 *blk = p.w + r * p.row_bytes;
					int want = 0, i;

					for (i = 0; i < 32; i++) {
						int w = p.type == LLM_T_Q8_0 ?
							(s8)blk[2 + i] :
							((blk[2 + i % 16] >>
							  (i / 16 * 4)) & 15) - 8;

						want += w * (s8)p.act[i];
					}
					CHECK(y[r] == (float)want);
				}
			}
		}
		prob_free(&p);
	}
}

/* ---- batch and split invariance --------------------------------------- */

/* Cuts of [0, rows) of one of several kinds into *n_cuts pieces + 1. */
static u32 make_cuts(u64 *cuts, u64 rows, int kind)
{
	u32 n = 0;
	u64 r = 0;

	cuts[n++] = 0;
	while (r < rows) {
		u64 step;

		switch (kind) {
		case 0:
			step = rows;
			break;
		case 1:
			step = 8 * (1 + rnd32() % 3);
			break;
		case 2:
			step = 1 + rnd32() % 13;
			break;
		default:
			step = 1;
			break;
		}
		r = min_t(u64, r + step, rows);
		cuts[n++] = r;
	}
	return n;
}

static void shuffle(u32 *v, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n; i > 1; i--) {
		u32 j = rnd32() % i, t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * Each column alone, whole, as the baseline; then batches of n columns
 * starting anywhere, cut into tiles of every kind run in random order, in
 * both layouts: every column's results must be the baseline's bits.
 */
static int invariance_one(const struct llm_kernels *k, u32 type, u64 rows,
			  u64 cols)
{
	static const u32 batch[] = { 1, 2, 3, 4, 5, 7, 8, 9, 13, 64 };
	const u32 n_tok = 64;
	struct prob p;
	float *alone, *y;
	u64 *cuts = xalloc((rows + 2) * sizeof(u64));
	u32 *order = xalloc((rows + 2) * sizeof(u32));
	size_t bi;
	u32 t;
	int kind, lay, ok = 0;

	prob_weights(&p, type, rows, cols, W_RANDOM);
	prob_acts(&p, n_tok, W_RANDOM);
	alone = xalloc(n_tok * rows * sizeof(float));
	y = xalloc(n_tok * rows * sizeof(float));
	for (t = 0; t < n_tok; t++)
		run_whole(k, &p, false, t, 1, alone + t * rows);
	for (bi = 0; bi < ARRAY_SIZE(batch); bi++) {
		u32 n = batch[bi], start = rnd32() % (n_tok - n + 1);

		for (kind = 0; kind < 4; kind++) {
			for (lay = 0; lay < 2; lay++) {
				u32 n_cuts = make_cuts(cuts, rows, kind);

				if (lay && !p.w_x8)
					continue;
				shuffle(order, n_cuts - 1);
				memset(y, 0xff, n * rows * sizeof(float));
				run(k, &p, lay, start, n, y, cuts, n_cuts,
				    order);
				for (t = 0; t < n; t++) {
					if (!memcmp(y + t * rows,
						    alone + (start + t) * rows,
						    rows * sizeof(float)))
						continue;
					check_fail(__FILE__, __LINE__,
						   "%s %s %llux%llu: column %u as %u of %u, cuts of kind %d, %s: not the bits it has alone",
						   k->name, tname(type),
						   (unsigned long long)rows,
						   (unsigned long long)cols,
						   start + t, t, n, kind,
						   lay ? "X8" : "rows");
					goto out;
				}
			}
		}
	}
	ok = 1;
out:
	prob_free(&p);
	free(alone);
	free(y);
	free(cuts);
	free(order);
	return ok;
}

static void batch_invariance(void)
{
	static const u64 shapes[][2] = { { 67, 2048 }, { 29, 64 }, { 8, 32 },
					 { 3, 5632 } };
	const struct llm_kernels *k = simd_kernels();
	size_t ti, si;
	int pass;

	CHECK(k);
	for (pass = 0; pass < 2; pass++) {
		const struct llm_kernels *kk = pass ? &llm_kernels_ref : k;

		for (ti = 0; ti < ARRAY_SIZE(all_types); ti++)
			for (si = 0; si < ARRAY_SIZE(shapes); si++)
				if (!invariance_one(kk, all_types[ti],
						    shapes[si][0],
						    shapes[si][1]))
					return;
		/* float rows that are not whole vectors */
		if (!invariance_one(kk, LLM_T_F32, 45, 172) ||
		    !invariance_one(kk, LLM_T_F16, 17, 100))
			return;
	}
}

/* ---- element-wise ----------------------------------------------------- */

/* Distance in representable floats (same sign, finite). */
static u32 ulps(float a, float b)
{
	u32 x = f2bits(a), y = f2bits(b);

	if (a == b)
		return 0;
	if ((x ^ y) & 0x80000000u)
		return U32_MAX;
	return x > y ? x - y : y - x;
}

static void exp_accuracy(void)
{
	const struct llm_kernels *k = simd_kernels();
	static const float special[] = {
		0.0f, -0.0f, 1.0f, -1.0f, 88.72283f, 88.72284f, 88.7229f,
		89.0f, 100.0f, 1e30f, -87.33654f, -87.5f, -100.0f, -103.9f,
		-103.97f, -104.0f, -110.0f, -1e30f, 0x1p-30f, -0x1p-30f,
		0.34657359f, -0.34657359f, 1e-45f,
	};
	const u32 n = 4096;
	float *x = xalloc(n * sizeof(float)), *y = xalloc(n * sizeof(float));
	float *want = xalloc(n * sizeof(float));
	u32 worst = 0, i, m = 0;
	u32 b;

	CHECK(k);
	/* every 61st float of [-104, 89] (both signs), in batches */
	for (b = 0; b < 0x80000000u; b += 61) {
		float v = bits2f(b);

		if (v > 89.0f)
			break;
		x[m++] = v;
		x[m++] = -v;
		if (b == 0)
			x[m - 1] = -0.0f;
		if (v > 104.0f)
			x[m - 1] = -v / 8;
		if (m == n || b + 61 >= 0x80000000u) {
			k->vexp(y, x, m);
			llm_exp_ref(want, x, m);
			for (i = 0; i < m; i++) {
				u32 u = ulps(y[i], want[i]);

				if (u > worst)
					worst = u;
				if (u > 2) {
					check_fail(__FILE__, __LINE__,
						   "exp(%a) = %a, want %a (%u ulps)",
						   x[i], y[i], want[i], u);
					goto out;
				}
			}
			m = 0;
		}
	}
	for (i = 0; i < ARRAY_SIZE(special); i++)
		x[i] = special[i];
	x[i++] = INFINITY;
	x[i++] = -INFINITY;
	x[i++] = NAN;
	k->vexp(y, x, i);
	llm_exp_ref(want, x, i);
	for (m = 0; m < i; m++) {
		if (isnan(x[m])) {
			CHECK(isnan(y[m]) && isnan(want[m]));
			continue;
		}
		if (ulps(y[m], want[m]) > 2) {
			check_fail(__FILE__, __LINE__, "exp(%a) = %a, want %a",
				   x[m], y[m], want[m]);
			goto out;
		}
	}
	CHECK(y[0] == 1.0f && y[1] == 1.0f);
	fprintf(stderr, "%s: worst %u ulps\n", __func__, worst);
out:
	free(x);
	free(y);
	free(want);
}

/* f on [0, n) against f on pieces of random lengths: the same bits. */
static int split_same(const float *whole, const float *pieces, u32 n,
		      const char *what)
{
	if (!memcmp(whole, pieces, n * sizeof(float)))
		return 1;
	check_fail(__FILE__, __LINE__, "%s: in pieces it gives other bits",
		   what);
	return 0;
}

static u32 piece(u32 i, u32 n)
{
	u32 len = 1 + rnd32() % 19;

	return min(n - i, len);
}

static void elementwise(void)
{
	static const u32 lens[] = { 1, 3, 8, 9, 31, 64, 172, 768, 5632 };
	const struct llm_kernels *k = simd_kernels();
	const u32 cap = 5632;
	float *x = xalloc(cap * sizeof(float)), *u = xalloc(cap * sizeof(float));
	float *w = xalloc(cap * sizeof(float)), *a = xalloc(cap * sizeof(float));
	float *b = xalloc(cap * sizeof(float)), *c = xalloc(cap * sizeof(float));
	size_t li;
	int rep;

	CHECK(k);
	for (rep = 0; rep < 6; rep++) {
		for (li = 0; li < ARRAY_SIZE(lens); li++) {
			u32 n = lens[li], i, j;
			float s1, s2, m1, m2;
			double dsum = 0, dabs = 0;

			for (i = 0; i < n; i++) {
				x[i] = rndf() * (rep + 1) * 3;
				u[i] = rndf() * 2;
				w[i] = 1 + rndf() * 0.5f;
			}
			/* sum of squares, to rounding; rmsnorm */
			for (i = 0; i < n; i++)
				dsum += (double)x[i] * x[i];
			s1 = k->sum_sq(x, n);
			s2 = llm_sum_sq_ref(x, n);
			CHECK(fabs(s1 - dsum) <= 1e-6 * dsum);
			CHECK(fabs(s2 - dsum) <= 1e-4 * dsum);
			CHECK(f2bits(k->sum_sq(x, n)) == f2bits(s1));
			k->rmsnorm(a, x, w, n, 1e-5f);
			llm_rmsnorm_ref(b, x, w, n, 1e-5f);
			for (i = 0; i < n; i++)
				CHECK(fabs(a[i] - b[i]) <=
				      2e-5 * fabs(b[i]) + 1e-30);
			/* rms_scale: the reference's two multiplies, exactly */
			k->rms_scale(a, x, w, 0.37f, n);
			llm_rms_scale_ref(b, x, w, 0.37f, n);
			CHECK(memcmp(a, b, n * sizeof(float)) == 0);
			for (i = 0; i < n; i += j) {
				j = piece(i, n);
				k->rms_scale(c + i, x + i, w + i, 0.37f, j);
			}
			if (!split_same(a, c, n, "rms_scale"))
				goto out;

			/* SwiGLU: to a few ulps, and in pieces */
			memcpy(a, x, n * sizeof(float));
			memcpy(b, x, n * sizeof(float));
			memcpy(c, x, n * sizeof(float));
			k->silu_mul(a, u, n);
			llm_silu_mul_ref(b, u, n);
			for (i = 0; i < n; i++) {
				if (fabs(a[i] - b[i]) <= 0x1p-21 * fabs(b[i]) +
							 1e-37)
					continue;
				check_fail(__FILE__, __LINE__,
					   "silu_mul(%a, %a) = %a, want %a",
					   x[i], u[i], a[i], b[i]);
				goto out;
			}
			for (i = 0; i < n; i += j) {
				j = piece(i, n);
				k->silu_mul(c + i, u + i, j);
			}
			if (!split_same(a, c, n, "silu_mul"))
				goto out;

			/* softmax pieces */
			m1 = k->vmax(x, n);
			m2 = llm_max_ref(x, n);
			CHECK(f2bits(m1) == f2bits(m2));
			for (i = 0, m2 = -INFINITY; i < n; i += j) {
				j = piece(i, n);
				m2 = fmaxf(m2, k->vmax(x + i, j));
			}
			if (f2bits(m1) != f2bits(m2)) {
				check_fail(__FILE__, __LINE__,
					   "max of %u in pieces %a, whole %a",
					   n, m2, m1);
				goto out;
			}
			memcpy(a, x, n * sizeof(float));
			memcpy(b, x, n * sizeof(float));
			s1 = k->exp_sum(a, n, m1);
			s2 = llm_exp_sum_ref(b, n, m1);
			for (i = 0; i < n; i++) {
				CHECK(ulps(a[i], b[i]) <= 2);
				dabs += a[i];
			}
			CHECK(fabs(s1 - s2) <= 1e-5 * dabs);
			memcpy(c, a, n * sizeof(float));
			k->vdiv(a, n, s1);
			llm_div_ref(b, n, s1);
			llm_div_ref(c, n, s1);
			CHECK(memcmp(a, c, n * sizeof(float)) == 0);
			memcpy(c, a, n * sizeof(float));
			for (i = 0; i < n; i += j) {
				j = piece(i, n);
				memcpy(c + i, x + i, j * sizeof(float));
			}
			/* exp, whole and in pieces */
			k->vexp(a, x, n);
			for (i = 0; i < n; i += j) {
				j = piece(i, n);
				k->vexp(c + i, x + i, j);
			}
			if (!split_same(a, c, n, "exp"))
				goto out;
			/* in place */
			memcpy(c, x, n * sizeof(float));
			k->vexp(c, c, n);
			if (!split_same(a, c, n, "exp in place"))
				goto out;
		}
	}
	/* empty vectors */
	CHECK(k->sum_sq(x, 0) == 0.0f);
	CHECK(k->exp_sum(x, 0, 0.0f) == 0.0f);
	k->vexp(a, x, 0);
	k->silu_mul(a, u, 0);
	k->vdiv(a, 0, 3.0f);
	/* SiLU's far ends: e^-v overflows to inf, or v is -0 */
	x[0] = -100.0f;
	x[1] = 100.0f;
	x[2] = -0.0f;
	x[3] = -89.0f;
	u[0] = u[1] = u[2] = u[3] = 1.0f;
	memcpy(a, x, 4 * sizeof(float));
	memcpy(b, x, 4 * sizeof(float));
	k->silu_mul(a, u, 4);
	llm_silu_mul_ref(b, u, 4);
	CHECK(memcmp(a, b, 4 * sizeof(float)) == 0);
out:
	free(x);
	free(u);
	free(w);
	free(a);
	free(b);
	free(c);
}

/* The references do what llm/core/forward.c did, in its order. */
/* @k's attention kernel for F32 rows @f or, @f16, F16 rows @h. */
static void scores(const struct llm_kernels *k, bool f16, const float *q,
		   const float *f, const u16 *h, u64 stride, u32 hd,
		   float scale, float *att, u32 n)
{
	if (f16)
		k->attn_scores_f16(q, h, stride, hd, scale, att, n);
	else
		k->attn_scores(q, f, stride, hd, scale, att, n);
}

static void values(const struct llm_kernels *k, bool f16, float *out,
		   const float *att, float sum, const float *f, const u16 *h,
		   u64 stride, u32 hd, u32 n)
{
	if (f16)
		k->attn_values_f16(out, att, sum, h, stride, hd, n);
	else
		k->attn_values(out, att, sum, f, stride, hd, n);
}

/*
 * The attention kernels against the reference, on head sizes with and
 * without a tail of 8 and rows spread as in a KV page: scores to
 * rounding, values to the bit; both the same in pieces of positions.
 * @f16: the kernels for F16 rows, on rows rounded to half, whose
 * reference must equal the F32 one on the widened rows.
 */
static void attention_one(bool f16)
{
	static const u32 hds[] = { 1, 8, 12, 48, 64, 72, 100, 128 };
	static const u32 ns[] = { 1, 3, 4, 5, 16, 37 };
	const struct llm_kernels *k = simd_kernels();
	const u32 stride = 260, cap_n = 37;
	float *kv = xalloc((u64)stride * cap_n * sizeof(float));
	u16 *hkv = xalloc((u64)stride * cap_n * sizeof(u16));
	float q[128], a[37], b[37], oa[128], ob[128], oc[128];
	size_t hi, ni;
	int rep;

	CHECK(k);
	for (rep = 0; rep < 4; rep++) {
		for (hi = 0; hi < ARRAY_SIZE(hds); hi++) {
			for (ni = 0; ni < ARRAY_SIZE(ns); ni++) {
				u32 hd = hds[hi], n = ns[ni], i, j, t;
				float scale = 1.0f / sqrtf((float)hd);
				float sum = 0;

				for (i = 0; i < stride * n; i++) {
					kv[i] = rndf() * (rep + 1);
					if (!f16)
						continue;
					hkv[i] = llm_fp32_to_fp16(kv[i]);
					kv[i] = llm_fp16_to_fp32(hkv[i]);
				}
				for (i = 0; i < hd; i++)
					q[i] = rndf();
				scores(k, f16, q, kv, hkv, stride, hd, scale,
				       a, n);
				llm_attn_scores_ref(q, kv, stride, hd, scale, b,
						    n);
				if (f16) {
					llm_attn_scores_f16_ref(q, hkv, stride,
								hd, scale, oc,
								n);
					CHECK(!memcmp(oc, b,
						      n * sizeof(float)));
				}
				for (t = 0; t < n; t++) {
					double d = 0;

					for (i = 0; i < hd; i++)
						d += fabs((double)q[i] *
							  kv[t * stride + i]);
					if (fabs(a[t] - b[t]) <=
					    2 * DOT_RTOL * d * scale)
						continue;
					check_fail(__FILE__, __LINE__,
						   "hd %u n %u: score %u %a, want %a",
						   hd, n, t, a[t], b[t]);
					goto out;
				}
				for (t = 0; t < n; t += j) {
					j = piece(t, n);
					scores(k, f16, q, kv + t * stride,
					       hkv + t * stride, stride, hd,
					       scale, b + t, j);
				}
				if (!split_same(a, b, n, "attn_scores"))
					goto out;

				for (t = 0; t < n; t++) {
					a[t] = fabsf(a[t]) + 0.01f;
					sum += a[t];
				}
				for (i = 0; i < hd; i++)
					oa[i] = ob[i] = oc[i] = rndf();
				values(k, f16, oa, a, sum, kv, hkv, stride, hd,
				       n);
				llm_attn_values_ref(ob, a, sum, kv, stride, hd,
						    n);
				if (memcmp(oa, ob, hd * sizeof(float))) {
					check_fail(__FILE__, __LINE__,
						   "hd %u n %u: attn_values differs from the reference",
						   hd, n);
					goto out;
				}
				for (t = 0; t < n; t += j) {
					j = piece(t, n);
					values(k, f16, oc, a + t, sum,
					       kv + t * stride,
					       hkv + t * stride, stride, hd, j);
				}
				if (!split_same(oa, oc, hd, "attn_values"))
					goto out;
			}
		}
	}
out:
	free(kv);
	free(hkv);
}

static void attention(void)
{
	attention_one(false);
	if (!check_failed())
		attention_one(true);
}

static void elementwise_ref(void)
{
	float x[37], w[37], y[37], ss = 0.0f, m;
	u32 i;

	for (i = 0; i < 37; i++) {
		x[i] = rndf() * 4;
		w[i] = rndf();
		ss += x[i] * x[i];
	}
	CHECK(f2bits(llm_sum_sq_ref(x, 37)) == f2bits(ss));
	ss /= 37u;
	ss += 1e-5f;
	ss = 1.0f / sqrtf(ss);
	llm_rmsnorm_ref(y, x, w, 37, 1e-5f);
	for (i = 0; i < 37; i++)
		CHECK(f2bits(y[i]) == f2bits(w[i] * (ss * x[i])));
	m = x[0];
	for (i = 1; i < 37; i++)
		if (x[i] > m)
			m = x[i];
	CHECK(llm_max_ref(x, 37) == m);
}

static int table_complete(const struct llm_kernels *k)
{
	return k->quantize_act && k->mm_f32 && k->mm_f16 && k->mm_q8_0 &&
	       k->mm_q4_0 && k->sum_sq && k->rms_scale && k->rmsnorm &&
	       k->silu_mul && k->vmax && k->exp_sum && k->vdiv && k->vexp &&
	       k->attn_scores && k->attn_values && k->attn_scores_f16 &&
	       k->attn_values_f16;
}

static void tables(void)
{
	const struct llm_kernels *k = simd_kernels();

	CHECK(table_complete(&llm_kernels_ref));
	CHECK(!k || table_complete(k));
#ifdef LLM_HAVE_AVX2
	CHECK(table_complete(&llm_kernels_avx512vnni));
	/* it differs from the AVX2 table in the quantized tiles only */
	CHECK(llm_kernels_avx512vnni.mm_q4_0 != llm_kernels_avx2.mm_q4_0);
	CHECK(llm_kernels_avx512vnni.mm_f32 == llm_kernels_avx2.mm_f32);
	CHECK(llm_kernels_avx512vnni.quantize_act ==
	      llm_kernels_avx2.quantize_act);
#endif
	CHECK(llm_mm_pick(&llm_kernels_ref, LLM_T_F16) ==
	      llm_kernels_ref.mm_f16);
	CHECK(llm_mm_pick(&llm_kernels_ref, 3) == NULL);
}

int main(void)
{
	check_seed(0x243f6a8885a308d3ull);
	llm_log_quiet = 1;
	RUN(tables);
	RUN(act_bytes);
	RUN(act_columns);
	RUN(repack_layout);
	RUN(elementwise_ref);
#ifdef LLM_HAVE_AVX2
	if (llm_cpu_has_avx2())
		simd = &llm_kernels_avx2;
#endif
	if (!simd) {
		printf("SKIP test_mm: simd: no SIMD kernels for this CPU\n");
		return check_done();
	}
	RUN(tiles_vs_ref);
	RUN(tiles_extreme);
	RUN(batch_invariance);
	RUN(exp_accuracy);
	RUN(elementwise);
	RUN(attention);
#ifdef LLM_HAVE_AVX2
	/* the same tile tests on the VNNI table, which has only other tiles */
	if (!llm_cpu_has_avx512vnni()) {
		printf("SKIP test_mm: avx512vnni: this CPU has no AVX512-VNNI (or LLM_NO_VNNI is set)\n");
		return check_done();
	}
	simd = &llm_kernels_avx512vnni;
	check_run("tiles_vs_ref[avx512vnni]", tiles_vs_ref);
	check_run("tiles_extreme[avx512vnni]", tiles_extreme);
	check_run("batch_invariance[avx512vnni]", batch_invariance);
#endif
	return check_done();
}
