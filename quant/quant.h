/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tensor types and their block formats, exactly as ggml lays them out, so a
 * file quantized by llama.cpp loads as is.  This header is safe for non-FPU
 * objects: no float appears in it.  Float entry points live in
 * quant/kernels.h, which only FPU translation units include.
 */
#ifndef LLM_QUANT_H
#define LLM_QUANT_H

#include "../llm/core/platform.h"

/* ggml's type numbers (also in uapi/llm.h as LLM_TYPE_*). */
enum llm_type {
	LLM_T_F32 = 0,
	LLM_T_F16 = 1,
	LLM_T_Q4_0 = 2,
	LLM_T_Q8_0 = 8,
	LLM_T_Q4_K = 12,
	LLM_T_Q5_K = 13,
	LLM_T_Q6_K = 14,
};

#define LLM_QK4_0 32
#define LLM_QK8_0 32
/* K-quants: super-blocks of 256 elements in sub-blocks of 32 (16 for Q6_K) */
#define LLM_QK_K 256
#define LLM_K_SCALE_SIZE 12

/*
 * Q4_0: fp16 scale, then byte j holds element j (low nibble) and j + 16
 * (high nibble), each stored with an offset of 8.
 */
struct llm_block_q4_0 {
	u16 d;
	u8 qs[LLM_QK4_0 / 2];
};

/* Q8_0: fp16 scale and 32 signed bytes. */
struct llm_block_q8_0 {
	u16 d;
	s8 qs[LLM_QK8_0];
};

/*
 * Q4_K: eight sub-blocks of 32 elements, each x = d * sc * q - dmin * m
 * with q in 0..15 and 6-bit sc, m packed in scales[] (sub-block j < 4:
 * low six bits of scales[j] and scales[j + 4]; j >= 4: the nibbles of
 * scales[j + 4] and the top two bits of scales[j - 4] and scales[j]).
 * Byte l of qs[32c..32c+31] holds element 64c + l (low nibble) and
 * 64c + 32 + l (high nibble).
 */
struct llm_block_q4_k {
	u16 d;
	u16 dmin;
	u8 scales[LLM_K_SCALE_SIZE];
	u8 qs[LLM_QK_K / 2];
};

/* Q5_K: Q4_K's layout, q in 0..31; bit j of qh[l] is element 32j + l's 16s. */
struct llm_block_q5_k {
	u16 d;
	u16 dmin;
	u8 scales[LLM_K_SCALE_SIZE];
	u8 qh[LLM_QK_K / 8];
	u8 qs[LLM_QK_K / 2];
};

/*
 * Q6_K: sixteen sub-blocks of 16 elements, each x = d * sc * (q - 32) with
 * q in 0..63 (low four bits in ql, high two in qh) and an int8 sc.
 */
struct llm_block_q6_k {
	u8 ql[LLM_QK_K / 2];
	u8 qh[LLM_QK_K / 4];
	s8 scales[LLM_QK_K / 16];
	u16 d;
};

_Static_assert(sizeof(struct llm_block_q4_k) == 144, "block_q4_K is 144 bytes");
_Static_assert(sizeof(struct llm_block_q5_k) == 176, "block_q5_K is 176 bytes");
_Static_assert(sizeof(struct llm_block_q6_k) == 210, "block_q6_K is 210 bytes");

static inline bool llm_type_is_k(u32 type)
{
	return type == LLM_T_Q4_K || type == LLM_T_Q5_K || type == LLM_T_Q6_K;
}

/*
 * The activations a matrix of @type multiplies (quant/kernels.h): floats,
 * act columns (Q8_0 blocks of 32) or K act columns (ggml's Q8_K, 256).
 */
enum llm_act_family {
	LLM_ACT_FLOAT = 0,
	LLM_ACT_Q8 = 1,
	LLM_ACT_K = 2,
};

static inline u32 llm_act_family(u32 type)
{
	if (type == LLM_T_Q8_0 || type == LLM_T_Q4_0)
		return LLM_ACT_Q8;
	return llm_type_is_k(type) ? LLM_ACT_K : LLM_ACT_FLOAT;
}

/* Sub-block @j's 6-bit scale and min of a Q4_K or Q5_K block (ggml's). */
static inline void llm_k_scale_min(const u8 *q, u32 j, u8 *sc, u8 *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

_Static_assert(sizeof(struct llm_block_q4_0) == 2 + LLM_QK4_0 / 2,
	       "block_q4_0 must be 18 bytes");
_Static_assert(sizeof(struct llm_block_q8_0) == 2 + LLM_QK8_0,
	       "block_q8_0 must be 34 bytes");

/*
 * One tile of a matrix product Y = W X: rows [r0, r1) of the weight @w for
 * every one of @n_tok activation columns,
 *
 *	y[t * y_stride + r] = dot(row r of w, column t of x)
 *
 * Column t starts at x + t * x_stride bytes: @cols floats for F32 and F16
 * weights, an act column (quant/kernels.h) for Q8_0 and Q4_0 weights.  @layout says
 * how the rows of @w lie: LLM_MM_ROWS (as in the file, row r at
 * w + r * row_bytes) or LLM_MM_X8 (as llm_mm_repack() left them).
 *
 * Every element is computed by the same sequence of float operations
 * whatever the tile (r0, r1), whatever n_tok, wherever its column is in
 * the batch, and whatever the layout: a result never depends on how work
 * was split or on what else was in the batch (quant/avx2.c says in which
 * order).  Tiles whose r0 and r1 are multiples of LLM_MM_GROUP (r1 may be
 * @rows) are fastest; others give the same results, but in the X8 layout
 * compute whole groups of rows.  Tiles of one product may run at once on
 * different threads when their rows do not overlap.
 */
struct llm_mm {
	const u8 *w;
	u64 rows;		/* of the whole matrix */
	u64 row_bytes;
	u64 cols;
	const void *x;
	u64 x_stride;		/* bytes between two columns of x */
	float *y;
	u64 y_stride;		/* floats between two columns of y */
	u32 n_tok;
	u32 layout;		/* enum llm_mm_layout */
};

typedef void (*llm_mm_fn)(const struct llm_mm *mm, u64 r0, u64 r1);

/* True for the types we run; anything else is refused by name. */
bool llm_type_supported(u32 type);
/* "F32", "Q4_0", ...; also names ggml types we do not support ("Q4_K"). */
const char *llm_type_name(u32 type);
/* Elements per block (1 for F32/F16). */
u32 llm_type_block_elems(u32 type);
/* Bytes per block. */
u32 llm_type_block_bytes(u32 type);
/*
 * Bytes for @n elements of @type into *@bytes.  -EINVAL if @type is not
 * supported or @n is not a whole number of blocks, -EOVERFLOW on overflow.
 */
int llm_type_row_bytes(u32 type, u64 n, u64 *bytes);

/*
 * Bytes one activation column of @cols elements takes for a matrix
 * product with weights of @type (struct llm_mm, quant/kernels.h): the
 * floats for F32 and F16, the act layout for Q8_0 and Q4_0, the K act
 * layout for the K-quants; a multiple of 64, so that columns placed one
 * after another stay cache-line aligned.  0 if @type is not a matrix type
 * or @cols is not whole blocks of it.
 */
u64 llm_act_bytes(u32 type, u64 cols);

/*
 * How a weight matrix's rows lie in memory (struct llm_mm's layout).
 * LLM_MM_ROWS: as in the file.  LLM_MM_X8 (Q8_0 and Q4_0 only): every
 * whole group of LLM_MM_GROUP rows interleaved by llm_mm_repack(), the
 * rows after the last whole group as in the file.
 */
enum llm_mm_layout {
	LLM_MM_ROWS = 0,
	LLM_MM_X8 = 1,
};

#define LLM_MM_GROUP 8

/*
 * Repack the whole groups of LLM_MM_GROUP rows of a Q8_0 or Q4_0 matrix of
 * @rows by @cols, in place, from the file's layout to LLM_MM_X8 (see
 * quant/repack.c), with @scratch of llm_mm_repack_scratch() bytes.  Only
 * llm_dequantize_row_mm() and the tiles read the result.  -EINVAL for
 * other types or rows not whole blocks.
 */
u64 llm_mm_repack_scratch(u32 type, u64 cols);
int llm_mm_repack(u32 type, u8 *w, u64 rows, u64 cols, void *scratch);

/*
 * The float kernels for this CPU (struct in quant/kernels.h).  @force_ref
 * selects the scalar reference.  Callable from non-FPU code.
 */
struct llm_kernels;
const struct llm_kernels *llm_kernels_pick(bool force_ref);
/* "scalar", "avx2", "avx512vnni": which set @k is. */
const char *llm_kernels_name(const struct llm_kernels *k);

/*
 * The kernel tables live in FPU objects; non-FPU code only takes their
 * addresses, which needs no complete type.
 */
extern const struct llm_kernels llm_kernels_ref;
#if defined(__x86_64__)
#define LLM_HAVE_AVX2 1
extern const struct llm_kernels llm_kernels_avx2;
/* llm_kernels_avx2 with quant/avx512vnni.c's quantized tiles */
extern const struct llm_kernels llm_kernels_avx512vnni;
#endif

/*
 * IEEE half <-> single on raw bits, integer only, so that non-FPU code can
 * use them too.  quant/kernels.h wraps them for float.
 *
 * half -> single is exact.  A NaN keeps its sign and payload and comes out
 * quiet, as the F16C instruction VCVTPH2PS does.
 */
static inline u32 llm_fp16_to_fp32_bits(u16 h)
{
	u32 sign = (u32)(h & 0x8000) << 16;
	u32 em = h & 0x7fff;
	u32 sh;

	if (em >= 0x7c00)			/* inf, NaN */
		return sign | 0x7f800000 | (em & 0x3ff) << 13 |
		       (em > 0x7c00 ? 0x400000 : 0);
	if (em >= 0x0400)			/* normal: rebias 15 -> 127 */
		return sign | ((em << 13) + 0x38000000);
	if (!em)
		return sign;
	/* subnormal m * 2^-24: move the leading one to bit 10 */
	sh = __builtin_clz(em) - 21;
	return sign | (113 - sh) << 23 | ((em << sh) & 0x3ff) << 13;
}

/*
 * single -> half, round to nearest even, subnormal halves included;
 * beyond the largest half (65504 rounds up from 65520 on) gives inf.  Any
 * NaN becomes the quiet NaN 0x7e00 with its sign, as ggml's scalar
 * conversion gives (F16C would keep the top payload bits instead).
 */
static inline u16 llm_fp32_bits_to_fp16(u32 w)
{
	u16 sign = (w >> 16) & 0x8000;
	u32 a = w & 0x7fffffff;
	u32 m, sh;

	if (a > 0x7f800000)			/* NaN */
		return sign | 0x7e00;
	if (a >= 0x477ff000)			/* >= 65520: inf */
		return sign | 0x7c00;
	if (a >= 0x38800000) {			/* >= 2^-14: normal half */
		a -= 0x38000000;		/* rebias 127 -> 15 */
		return sign | (a + 0xfff + ((a >> 13) & 1)) >> 13;
	}
	if (a <= 0x33000000)			/* <= 2^-25: ties to zero */
		return sign;
	/* subnormal half: units of 2^-24, with the implicit one back in */
	m = (a & 0x7fffff) | 0x800000;
	sh = 126 - (a >> 23);			/* 14..24 */
	return sign | (m + (1u << (sh - 1)) - 1 + ((m >> sh) & 1)) >> sh;
}

#endif /* LLM_QUANT_H */
