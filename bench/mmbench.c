// SPDX-License-Identifier: GPL-2.0
/*
 * mmbench: the matrix kernels alone, one thread, on the shapes of
 * stories110M and TinyLlama, per weight type:
 *
 *   GEMV  one column (decode): weight bytes streamed per second, with the
 *         weights cold (the matrix is cycled through copies that together
 *         exceed the caches, as a model's layers do)
 *   GEMM  MMB_TOK columns (prefill): multiply-adds per second, as GFLOP/s
 *         (2 per multiply-add)
 *
 * for the old way (one vec_dot per row and column, as llm/core/forward.c
 * did) and the tiles of quant/kernels.h, with rows as in the file and, for
 * Q8_0 and Q4_0, repacked (X8); then ("ew", and not with -s) the
 * element-wise kernels, scalar against SIMD, in ns per element.
 *
 *   mmbench [-t f32,f16,q8_0,q4_0,ew] [-s SHAPE-SUBSTRING] [-n TOKENS]
 *           [-c CHUNK-ROWS] [-m MIN-SECONDS] [-r ROUNDS] [--hot] [--ref]
 *
 * --hot: one copy of the weights, so that small ones stay in the caches
 * (what the kernels compute at, not what memory gives).
 *
 * Each figure is the best of ROUNDS (5) runs of at least MIN-SECONDS
 * (0.1), the ways taking turns.  The machines are shared: compare the
 * figures of one run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant/kernels.h"

struct shape {
	const char *name;
	u64 rows, cols;
};

static const struct shape shapes[] = {
	{ "110M wq 768x768", 768, 768 },
	{ "110M w1 2048x768", 2048, 768 },
	{ "110M w2 768x2048", 768, 2048 },
	{ "110M out 32000x768", 32000, 768 },
	{ "TL wq 2048x2048", 2048, 2048 },
	{ "TL wk 256x2048", 256, 2048 },
	{ "TL w1 5632x2048", 5632, 2048 },
	{ "TL w2 2048x5632", 2048, 5632 },
};

static const u32 types[] = { LLM_T_F32, LLM_T_F16, LLM_T_Q8_0, LLM_T_Q4_0 };

#define COLD_BYTES (384ull << 20)

static const struct llm_kernels *k;
static u64 chunk = 64;
static double min_secs = 0.1;
static int rounds = 5;
static bool hot;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static u64 rng = 0x2545f4914f6cdd1dull;

static float rndf(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (float)((int32_t)((rng * 0x2545f4914f6cdd1dull) >> 32) /
		       2147483648.0);
}

struct mat {
	u32 type;
	u64 rows, cols, row_bytes, bytes;
	u32 copies;
	u8 *w;			/* copies, one after another */
	u8 *w_x8;		/* the same, repacked */
};

static void *xalloc(u64 n)
{
	void *p = aligned_alloc(64, LLM_ALIGN_UP(n, 64));

	if (!p) {
		fprintf(stderr, "mmbench: out of memory\n");
		exit(1);
	}
	return p;
}

static void mat_make(struct mat *m, u32 type, const struct shape *s)
{
	float *row = xalloc(s->cols * sizeof(float));
	u64 r, c;

	m->type = type;
	m->rows = s->rows;
	m->cols = s->cols;
	llm_type_row_bytes(type, s->cols, &m->row_bytes);
	m->bytes = m->rows * m->row_bytes;
	m->copies = hot ? 1 : (COLD_BYTES + m->bytes - 1) / m->bytes;
	m->w = xalloc(m->bytes * m->copies);
	for (r = 0; r < m->rows; r++) {
		u8 *dst = m->w + r * m->row_bytes;

		for (c = 0; c < m->cols; c++)
			row[c] = rndf() * 0.1f;
		switch (type) {
		case LLM_T_F32:
			memcpy(dst, row, m->row_bytes);
			break;
		case LLM_T_F16:
			llm_quantize_row_f16_ref(row, (u16 *)dst, m->cols);
			break;
		case LLM_T_Q8_0:
			llm_quantize_row_q8_0_ref(row, (void *)dst, m->cols);
			break;
		case LLM_T_Q4_0:
			llm_quantize_row_q4_0_ref(row, (void *)dst, m->cols);
			break;
		}
	}
	for (c = 1; c < m->copies; c++)
		memcpy(m->w + c * m->bytes, m->w, m->bytes);
	m->w_x8 = NULL;
	if (type == LLM_T_Q8_0 || type == LLM_T_Q4_0) {
		void *scratch = xalloc(llm_mm_repack_scratch(type, m->cols));

		m->w_x8 = xalloc(m->bytes * m->copies);
		memcpy(m->w_x8, m->w, m->bytes * m->copies);
		for (c = 0; c < m->copies; c++)
			llm_mm_repack(type, m->w_x8 + c * m->bytes, m->rows,
				      m->cols, scratch);
		free(scratch);
	}
	free(row);
}

static void mat_free(struct mat *m)
{
	free(m->w);
	free(m->w_x8);
}

/* Activations: floats, Q8_0 rows (old way) and act columns (tiles). */
struct acts {
	u32 n;
	float *f;
	u8 *q8;
	u64 q8_stride;
	u8 *act;
	u64 act_stride;
	float *y;
};

static void acts_make(struct acts *a, const struct mat *m, u32 n)
{
	u64 i, nb = m->cols / 32;

	a->n = n;
	a->f = xalloc(n * m->cols * sizeof(float));
	for (i = 0; i < n * m->cols; i++)
		a->f[i] = rndf();
	a->q8 = NULL;
	a->act = NULL;
	a->y = xalloc((u64)n * m->rows * sizeof(float));
	if (m->type != LLM_T_Q8_0 && m->type != LLM_T_Q4_0)
		return;
	a->q8_stride = nb * sizeof(struct llm_block_q8_0);
	a->q8 = xalloc(n * a->q8_stride);
	a->act_stride = llm_act_bytes(m->type, m->cols);
	a->act = xalloc(n * a->act_stride);
	for (i = 0; i < n; i++) {
		k->quantize_row_q8_0(a->f + i * m->cols,
				     (void *)(a->q8 + i * a->q8_stride),
				     m->cols);
		k->quantize_act(a->f + i * m->cols, a->act + i * a->act_stride,
				m->cols);
	}
}

static void acts_free(struct acts *a)
{
	free(a->f);
	free(a->q8);
	free(a->act);
	free(a->y);
}

enum way { OLD, TILE, TILE_X8 };

/* One product over copy @c of the weights. */
static void product(const struct mat *m, const struct acts *a, enum way way,
		    u32 c)
{
	const u8 *w = (way == TILE_X8 ? m->w_x8 : m->w) + c * m->bytes;
	u64 r;
	u32 t;

	if (way == OLD) {
		for (t = 0; t < a->n; t++) {
			const float *xf = a->f + t * m->cols;
			const void *xq = a->q8 ? a->q8 + t * a->q8_stride : NULL;
			float *y = a->y + t * m->rows;

			for (r = 0; r < m->rows; r++) {
				const void *row = w + r * m->row_bytes;

				switch (m->type) {
				case LLM_T_F32:
					k->vec_dot_f32(m->cols, &y[r], row, xf);
					break;
				case LLM_T_F16:
					k->vec_dot_f16(m->cols, &y[r], row, xf);
					break;
				case LLM_T_Q8_0:
					k->vec_dot_q8_0_q8_0(m->cols, &y[r],
							     row, xq);
					break;
				case LLM_T_Q4_0:
					k->vec_dot_q4_0_q8_0(m->cols, &y[r],
							     row, xq);
					break;
				}
			}
		}
		return;
	}
	{
		struct llm_mm mm = {
			.w = w, .rows = m->rows, .row_bytes = m->row_bytes,
			.cols = m->cols, .y = a->y, .y_stride = m->rows,
			.n_tok = a->n,
			.layout = way == TILE_X8 ? LLM_MM_X8 : LLM_MM_ROWS,
		};
		llm_mm_fn fn = llm_mm_pick(k, m->type);

		if (a->act) {
			mm.x = a->act;
			mm.x_stride = a->act_stride;
		} else {
			mm.x = a->f;
			mm.x_stride = m->cols * sizeof(float);
		}
		for (r = 0; r < m->rows; r += chunk)
			fn(&mm, r, min_t(u64, r + chunk, m->rows));
	}
}

/* Seconds per product in one run of at least min_secs. */
static double time_run(const struct mat *m, const struct acts *a,
		       enum way way, u32 *c)
{
	double t0 = now(), t;
	u64 n = 0;

	do {
		product(m, a, way, *c);
		*c = (*c + 1) % m->copies;
		n++;
		t = now() - t0;
	} while (t < min_secs || n < 2);
	return t / n;
}

/* ---- element-wise kernels: ns per element, the scalar set and this one */

enum ew { EW_RMSNORM, EW_SILU, EW_SOFTMAX, EW_EXP, EW_N };

static const char *const ew_name[EW_N] = {
	"rmsnorm", "silu_mul", "max+exp_sum+div", "exp",
};

static void ew_run(const struct llm_kernels *kk, enum ew e, float *x,
		   float *y, const float *w, u32 n)
{
	float m, s;

	switch (e) {
	case EW_RMSNORM:
		kk->rmsnorm(y, x, w, n, 1e-5f);
		break;
	case EW_SILU:
		memcpy(y, x, n * sizeof(float));
		kk->silu_mul(y, w, n);
		break;
	case EW_SOFTMAX:
		memcpy(y, x, n * sizeof(float));
		m = kk->vmax(y, n);
		s = kk->exp_sum(y, n, m);
		kk->vdiv(y, n, s);
		break;
	default:
		kk->vexp(y, x, n);
		break;
	}
}

static double ew_time(const struct llm_kernels *kk, enum ew e, float *x,
		      float *y, const float *w, u32 n)
{
	double best = 1e30;
	int round;

	for (round = 0; round < rounds; round++) {
		double t0 = now(), t;
		u64 reps = 0;

		do {
			int i;

			/* the thread's CPU clock is a system call */
			for (i = 0; i < 64; i++)
				ew_run(kk, e, x, y, w, n);
			reps += 64;
			t = now() - t0;
		} while (t < min_secs / 4);
		if (t / reps < best)
			best = t / reps;
	}
	return best * 1e9 / n;
}

static void elementwise(void)
{
	static const u32 lens[] = { 768, 5632 };
	const struct llm_kernels *ref = llm_kernels_pick(true);
	size_t li;
	int e;

	printf("\n%-16s %6s | ns/element: %-7s %-7s\n", "element-wise", "n",
	       ref->name, k->name);
	for (li = 0; li < ARRAY_SIZE(lens); li++) {
		u32 n = lens[li], i;
		float *x = xalloc(n * sizeof(float));
		float *y = xalloc(n * sizeof(float));
		float *w = xalloc(n * sizeof(float));

		for (i = 0; i < n; i++) {
			x[i] = rndf() * 8;
			w[i] = rndf();
		}
		for (e = 0; e < EW_N; e++)
			printf("%-16s %6u |             %-7.2f %-7.2f\n",
			       ew_name[e], n, ew_time(ref, e, x, y, w, n),
			       ew_time(k, e, x, y, w, n));
		free(x);
		free(y);
		free(w);
	}
}

static bool want(const char *list, const char *name)
{
	const char *p;
	size_t n = strlen(name);

	if (!list)
		return true;
	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
	return false;
}

static const char *type_lower(u32 type)
{
	switch (type) {
	case LLM_T_F32:
		return "f32";
	case LLM_T_F16:
		return "f16";
	case LLM_T_Q8_0:
		return "q8_0";
	}
	return "q4_0";
}

int main(int argc, char **argv)
{
	const char *tlist = NULL, *slist = NULL;
	u32 n_tok = 64;
	bool ref = false;
	size_t si, ti;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			tlist = argv[++i];
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			slist = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n_tok = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			chunk = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			min_secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--hot"))
			hot = true;
		else if (!strcmp(argv[i], "--ref"))
			ref = true;
		else {
			fprintf(stderr, "usage: mmbench [-t f32,f16,q8_0,q4_0,ew] [-s SHAPE] [-n TOKENS] [-c CHUNK] [-m SECONDS] [-r ROUNDS] [--hot] [--ref]\n");
			return 2;
		}
	}
	if (!n_tok || !chunk)
		return 2;
	k = llm_kernels_pick(ref);
	printf("kernels %s, one thread, GEMM of %u columns, tiles of %llu rows\n",
	       k->name, n_tok, (unsigned long long)chunk);
	printf("%-5s %-20s | %-26s | %-26s\n", "", "",
	       "GEMV GB/s: old  tile  x8", "GEMM GFLOP/s: old  tile  x8");
	for (ti = 0; ti < ARRAY_SIZE(types); ti++) {
		if (!want(tlist, type_lower(types[ti])))
			continue;
		for (si = 0; si < ARRAY_SIZE(shapes); si++) {
			const struct shape *s = &shapes[si];
			double gv[3] = { 0 }, gm[3] = { 0 };
			struct acts a1, an;
			struct mat m;
			int way, round;
			u32 c = 0;

			if (slist && !strstr(s->name, slist))
				continue;
			mat_make(&m, types[ti], s);
			acts_make(&a1, &m, 1);
			acts_make(&an, &m, n_tok);
			/*
			 * Rounds of every way in turn, the best of each: on a
			 * shared machine the least disturbed run is the
			 * nearest to what the code does.
			 */
			for (round = 0; round < rounds; round++) {
				for (way = OLD; way <= TILE_X8; way++) {
					double flop = 2.0 * m.rows * m.cols;
					double v, g;

					if (way == TILE_X8 && !m.w_x8)
						continue;
					v = m.bytes / time_run(&m, &a1, way,
							       &c) / 1e9;
					g = flop * n_tok / time_run(&m, &an,
								    way, &c) /
					    1e9;
					gv[way] = v > gv[way] ? v : gv[way];
					gm[way] = g > gm[way] ? g : gm[way];
				}
			}
			printf("%-5s %-20s | %7.2f %6.2f %6.2f      | %7.1f %6.1f %6.1f\n",
			       type_lower(m.type), s->name, gv[0], gv[1], gv[2],
			       gm[0], gm[1], gm[2]);
			fflush(stdout);
			acts_free(&a1);
			acts_free(&an);
			mat_free(&m);
		}
	}
	if (want(tlist, "ew") && !slist)
		elementwise();
	return 0;
}
