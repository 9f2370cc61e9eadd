// SPDX-License-Identifier: GPL-2.0
/*
 * The K-quants (quant/kquants.c): each block layout against values packed
 * here by ggml's description of it; quantize -> dequantize within each
 * type's error; the K act columns; every tile (reference and SIMD) against
 * a double-precision product of the dequantized weights and activations;
 * the SIMD tiles bitwise the reference's, for any split of rows and
 * tokens.  (That the quantizers give llama.cpp's bytes is checked against
 * llama-quantize itself: tests/llama-diff.sh.)
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "quant/kernels.h"

static const u32 ktypes[] = { LLM_T_Q4_K, LLM_T_Q5_K, LLM_T_Q6_K };

static void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

static void quantize_row(u32 type, const float *x, void *y, u64 n)
{
	if (type == LLM_T_Q4_K)
		llm_quantize_row_q4_k_ref(x, y, n);
	else if (type == LLM_T_Q5_K)
		llm_quantize_row_q5_k_ref(x, y, n);
	else
		llm_quantize_row_q6_k_ref(x, y, n);
}

/* Gaussian-ish weights with some outliers, as trained matrices have. */
static void fill(float *x, u64 n, float scale)
{
	u64 i;

	for (i = 0; i < n; i++) {
		float v = (rndf() + rndf() + rndf()) * scale;

		if (rnd32() % 97 == 0)
			v *= 6;
		x[i] = v;
	}
}

/* Pack 6-bit scale and min of sub-block j as ggml's get_scale_min_k4 reads. */
static void pack_sm(u8 *q, int j, u8 sc, u8 m)
{
	if (j < 4) {
		q[j] = (q[j] & 0xc0) | sc;
		q[j + 4] = (q[j + 4] & 0xc0) | m;
	} else {
		q[j + 4] = (sc & 0xf) | (m & 0xf) << 4;
		q[j - 4] = (q[j - 4] & 0x3f) | (sc >> 4) << 6;
		q[j] = (q[j] & 0x3f) | (m >> 4) << 6;
	}
}

/*
 * 1. Blocks packed here from chosen quants, scales and mins, as ggml's
 * block_q4_K/q5_K/q6_K comments lay them out, dequantize to
 * d * sc * q - dmin * m (Q6_K: d * sc * (q - 32)), element for element.
 */
static void layouts(void)
{
	struct llm_block_q4_k b4;
	struct llm_block_q5_k b5;
	struct llm_block_q6_k b6;
	u8 q[256], sc[8], mn[8];
	s8 s6[16];
	float y[256], d = 0.5f, dmin = 0.25f;
	int e, j, k;

	memset(&b4, 0, sizeof(b4));
	memset(&b5, 0, sizeof(b5));
	memset(&b6, 0, sizeof(b6));
	for (j = 0; j < 8; j++) {
		sc[j] = rnd32() % 64;
		mn[j] = rnd32() % 64;
		pack_sm(b4.scales, j, sc[j], mn[j]);
		pack_sm(b5.scales, j, sc[j], mn[j]);
	}
	b4.d = b5.d = b6.d = llm_fp32_to_fp16(d);
	b4.dmin = b5.dmin = llm_fp32_to_fp16(dmin);
	/* Q4_K: element 64c + l in the low nibble of qs[32c + l], 64c + 32 + l high */
	for (e = 0; e < 256; e++) {
		int c = e / 64, l = e % 32;

		q[e] = rnd32() % 16;
		b4.qs[32 * c + l] |= e % 64 < 32 ? q[e] : q[e] << 4;
	}
	llm_dequantize_row_ref(LLM_T_Q4_K, &b4, y, 256);
	for (e = 0; e < 256; e++)
		CHECK(y[e] == d * sc[e / 32] * q[e] - dmin * mn[e / 32]);
	/* Q5_K: the same, and bit j of qh[l] the 16 of element 32j + l */
	for (e = 0; e < 256; e++) {
		int c = e / 64, l = e % 32;

		q[e] = rnd32() % 32;
		b5.qs[32 * c + l] |= e % 64 < 32 ? q[e] & 15 : (q[e] & 15) << 4;
		b5.qh[l] |= (q[e] >> 4) << (e / 32);
	}
	llm_dequantize_row_ref(LLM_T_Q5_K, &b5, y, 256);
	for (e = 0; e < 256; e++)
		CHECK(y[e] == d * sc[e / 32] * q[e] - dmin * mn[e / 32]);
	/*
	 * Q6_K: per half h of 128, quarter k of 32, l < 32: low four bits in
	 * ql[64h + 32(k & 1) + l] (low nibble for k < 2), high two in
	 * qh[32h + l] at bit 2k; scale scales[8h + 2k + l / 16]
	 */
	for (j = 0; j < 16; j++)
		s6[j] = b6.scales[j] = (s8)(rnd32() % 255 - 127);
	for (e = 0; e < 256; e++) {
		int h = e / 128, r = e % 128, l = r % 32;

		k = r / 32;
		q[e] = rnd32() % 64;
		b6.ql[64 * h + 32 * (k & 1) + l] |= k < 2 ? q[e] & 15 :
						    (q[e] & 15) << 4;
		b6.qh[32 * h + l] |= (q[e] >> 4) << (2 * k);
	}
	llm_dequantize_row_ref(LLM_T_Q6_K, &b6, y, 256);
	for (e = 0; e < 256; e++) {
		int h = e / 128, r = e % 128;

		CHECK(y[e] == d * s6[8 * h + 2 * (r / 32) + (r % 32) / 16] *
			      (q[e] - 32));
	}
}

/*
 * 2. Quantize, dequantize: the error relative to the row's RMS stays
 * within what each type's bits allow, and all-zero rows stay zero.
 */
static void round_trip(void)
{
	static const double bound[] = { 0.1, 0.05, 0.025 };
	u64 n = 4096, i;
	float *x = xalloc(n * 4), *y = xalloc(n * 4);
	void *q = xalloc(n);
	size_t t;

	for (t = 0; t < ARRAY_SIZE(ktypes); t++) {
		double e2 = 0, x2 = 0;

		fill(x, n, 0.02f);
		quantize_row(ktypes[t], x, q, n);
		llm_dequantize_row_ref(ktypes[t], q, y, n);
		for (i = 0; i < n; i++) {
			e2 += (double)(x[i] - y[i]) * (x[i] - y[i]);
			x2 += (double)x[i] * x[i];
		}
		printf("round_trip: %s relative RMS error %.4f\n",
		       llm_type_name(ktypes[t]), sqrt(e2 / x2));
		if (!(sqrt(e2 / x2) < bound[t])) {
			check_fail(__FILE__, __LINE__, "%s: relative RMS error %g",
				   llm_type_name(ktypes[t]), sqrt(e2 / x2));
			break;
		}
		memset(x, 0, n * 4);
		quantize_row(ktypes[t], x, q, n);
		llm_dequantize_row_ref(ktypes[t], q, y, n);
		for (i = 0; i < n; i++)
			CHECK(y[i] == 0.0f);
	}
	free(x);
	free(y);
	free(q);
}

/*
 * 3. K act columns: quants within [-127, 127], the largest magnitude at
 * 127 with the sign that makes q * d its value, each run's sum, and
 * q * d within half a step of x.
 */
static void act_columns(void)
{
	u64 n = 1024, nb = n / 256, i, j;
	float *x = xalloc(n * 4);
	u8 *act = xalloc(llm_act_bytes(LLM_T_Q4_K, n));
	const s8 *q = (const s8 *)act;
	const float *d;
	const s32 *sum;

	CHECK_EQ(llm_act_bytes(LLM_T_Q4_K, 1024) % 64, 0);
	CHECK(llm_act_bytes(LLM_T_Q4_K, 1024) >= 1024 + 4 * 4 + 32 * 4);
	CHECK_EQ(llm_act_bytes(LLM_T_Q6_K, 288), 0);
	fill(x, n, 1.0f);
	memset(x + 512, 0, 256 * 4);	/* an all-zero super-block */
	llm_quantize_act_k_ref(x, act, n);
	d = llm_actk_d(act, nb);
	sum = llm_actk_sum(act, nb);
	CHECK(d[2] == 0.0f);
	for (i = 0; i < nb; i++) {
		float amax = 0;
		int hit = 0;

		for (j = 0; j < 256; j++)
			amax = fmaxf(amax, fabsf(x[256 * i + j]));
		for (j = 0; j < 256; j++) {
			s8 v = q[256 * i + j];

			CHECK(v >= -127);
			hit += abs(v) == 127;
			CHECK(fabsf(v * d[i] - x[256 * i + j]) <=
			      amax / 127 * 0.5001f);
		}
		CHECK(hit >= 1 || !amax);
		for (j = 0; j < 8; j++) {
			s32 s = 0;
			int k;

			for (k = 0; k < 32; k++)
				s += q[256 * i + 32 * j + k];
			CHECK_EQ(sum[8 * i + j], s);
		}
	}
	free(x);
	free(act);
}

/* A product to test: rows of @type, @n_tok K act columns. */
struct prod {
	u32 type;
	u64 rows, cols, row_bytes, stride;
	u8 *w, *act;
	float *wf, *xf;
};

static void prod_make(struct prod *p, u32 type, u64 rows, u64 cols,
		      u32 n_tok, bool extreme)
{
	u64 r, t, i;

	p->type = type;
	p->rows = rows;
	p->cols = cols;
	llm_type_row_bytes(type, cols, &p->row_bytes);
	p->stride = llm_act_bytes(type, cols);
	p->w = xalloc(rows * p->row_bytes);
	p->act = xalloc(n_tok * p->stride);
	p->wf = xalloc(rows * cols * 4);
	p->xf = xalloc(n_tok * cols * 4);
	for (r = 0; r < rows; r++) {
		float *row = p->wf + r * cols;

		fill(row, cols, 0.05f);
		if (extreme)	/* largest quants and scales */
			for (i = 0; i < cols; i++)
				row[i] = (i & 1 ? 1e3f : -1e3f) * (1 + i % 7);
		quantize_row(type, row, p->w + r * p->row_bytes, cols);
		llm_dequantize_row_ref(type, p->w + r * p->row_bytes, row,
				       cols);
	}
	for (t = 0; t < n_tok; t++) {
		u8 *a = p->act + t * p->stride;
		float *x = p->xf + t * cols;
		const float *d;

		fill(x, cols, 1.0f);
		if (extreme)
			for (i = 0; i < cols; i++)
				x[i] = i & 2 ? 7.0f : -7.0f;
		llm_quantize_act_k_ref(x, a, cols);
		d = llm_actk_d(a, cols / 256);
		/* the activations as the tiles see them */
		for (i = 0; i < cols; i++)
			x[i] = ((const s8 *)a)[i] * d[i / 256];
	}
}

static void prod_free(struct prod *p)
{
	free(p->w);
	free(p->act);
	free(p->wf);
	free(p->xf);
}

static void run(const struct llm_kernels *k, const struct prod *p,
		float *y, u32 n_tok, u64 r0, u64 r1)
{
	struct llm_mm mm = {
		.w = p->w, .rows = p->rows, .row_bytes = p->row_bytes,
		.cols = p->cols, .x = p->act, .x_stride = p->stride,
		.y = y, .y_stride = p->rows, .n_tok = n_tok,
		.layout = LLM_MM_ROWS,
	};

	llm_mm_pick(k, p->type)(&mm, r0, r1);
}

/*
 * 4. The reference tile against the dequantized weights times the
 * dequantized activations in double: within 1e-5 of sum |w x| (the
 * integer parts are exact, so only the float scales round).
 */
static void tile_vs_dequantized(void)
{
	size_t t;

	for (t = 0; t < ARRAY_SIZE(ktypes); t++) {
		struct prod p;
		float y[3 * 16];
		u64 r, i;
		u32 c;

		prod_make(&p, ktypes[t], 16, 768, 3, false);
		run(&llm_kernels_ref, &p, y, 3, 0, 16);
		for (c = 0; c < 3; c++)
			for (r = 0; r < 16; r++) {
				double s = 0, a = 0;

				for (i = 0; i < p.cols; i++) {
					double v = (double)p.wf[r * p.cols + i] *
						   p.xf[c * p.cols + i];

					s += v;
					a += fabs(v);
				}
				if (fabs(y[c * 16 + r] - s) > 1e-5 * a + 1e-30) {
					check_fail(__FILE__, __LINE__,
						   "%s row %llu col %u: %g, want %g",
						   llm_type_name(p.type),
						   (unsigned long long)r, c,
						   y[c * 16 + r], s);
					prod_free(&p);
					return;
				}
			}
		prod_free(&p);
	}
}

/*
 * 5. Every kernel set's tiles give the reference's bits, for random and
 * extreme values, whole and in pieces of rows and tokens.
 */
static void tiles_equal_reference(void)
{
	const struct llm_kernels *sets[] = {
		llm_kernels_pick(false), llm_kernels_pick(true),
	};
	size_t t, k;

	for (t = 0; t < ARRAY_SIZE(ktypes); t++)
		for (k = 0; k < ARRAY_SIZE(sets); k++) {
			int ex;

			for (ex = 0; ex < 2; ex++) {
				struct prod p;
				float want[5 * 37], got[5 * 37];
				u64 r;

				prod_make(&p, ktypes[t], 37, 1024, 5, ex);
				run(&llm_kernels_ref, &p, want, 5, 0, 37);
				memset(got, 0x7f, sizeof(got));
				run(sets[k], &p, got, 5, 0, 37);
				if (memcmp(want, got, sizeof(got)))
					prod_free(&p);
				CHECK(!memcmp(want, got, sizeof(got)));
				/* pieces: odd row ranges, one token at a time */
				memset(got, 0x7f, sizeof(got));
				for (r = 0; r < 37; r += 5)
					run(sets[k], &p, got, 5, r,
					    r + 5 < 37 ? r + 5 : 37);
				if (memcmp(want, got, sizeof(got)))
					prod_free(&p);
				CHECK(!memcmp(want, got, sizeof(got)));
				for (r = 0; r < 37; r++)
					CHECK(!isnan(want[r]));
				prod_free(&p);
			}
		}
}

int main(void)
{
	check_seed(0x6b71);
	RUN(layouts);
	RUN(round_trip);
	RUN(act_columns);
	RUN(tile_vs_dequantized);
	RUN(tiles_equal_reference);
	return check_done();
}
