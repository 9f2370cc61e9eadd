// SPDX-License-Identifier: GPL-2.0
/*
 * Weight repacking for the matrix tiles: the X8 layout of Q8_0 and Q4_0
 * matrices (quant.h, enum llm_mm_layout).  Integer only: not an FPU
 * object, so the loader can call it anywhere.
 *
 * A whole group of 8 rows keeps its 8 * row_bytes bytes, as its blocks in
 * order, each block as
 *
 *	u16 d[8];		the 8 rows' fp16 scales
 *	u8 chunk[n][32];	n = 4 (Q4_0) or 8 (Q8_0) chunks, where
 *				chunk c holds quant bytes 4c..4c+3 of row 0,
 *				then of row 1, ..., row 7
 *
 * (8 * 18 or 8 * 34 bytes, as the 8 plain blocks took).  A 32-byte load is
 * then one chunk: 4 quant bytes of each of 8 rows, which the tiles
 * multiply with 4 quants of a column broadcast to every row; and a group
 * is read as one stream, which the hardware prefetcher follows best.
 * Rows after the last whole group stay as they were.
 */
#include "quant.h"

static u32 quant_bytes(u32 type)
{
	switch (type) {
	case LLM_T_Q8_0:
		return LLM_QK8_0;
	case LLM_T_Q4_0:
		return LLM_QK4_0 / 2;
	}
	return 0;
}

u64 llm_mm_repack_scratch(u32 type, u64 cols)
{
	u64 b;

	if (!quant_bytes(type) || llm_type_row_bytes(type, cols, &b) ||
	    check_mul_overflow(b, (u64)LLM_MM_GROUP, &b))
		return 0;
	return b;
}

/* One group: from rows as in the file at @src to the X8 layout at @dst. */
static void repack_group(u8 *dst, const u8 *src, u64 row_bytes, u64 nb,
			 u32 qbytes)
{
	u32 bbytes = 2 + qbytes, c, k;
	u64 b;

	for (b = 0; b < nb; b++) {
		for (k = 0; k < LLM_MM_GROUP; k++) {
			const u8 *blk = src + k * row_bytes + b * bbytes;

			memcpy(dst + k * 2, blk, 2);
			for (c = 0; c < qbytes / 4; c++)
				memcpy(dst + 16 + (c * LLM_MM_GROUP + k) * 4,
				       blk + 2 + 4 * c, 4);
		}
		dst += LLM_MM_GROUP * bbytes;
	}
}

int llm_mm_repack(u32 type, u8 *w, u64 rows, u64 cols, void *scratch)
{
	u32 qbytes = quant_bytes(type);
	u64 row_bytes, g;

	if (!qbytes || llm_type_row_bytes(type, cols, &row_bytes))
		return -EINVAL;
	for (g = 0; g < rows / LLM_MM_GROUP; g++) {
		u8 *grp = w + g * LLM_MM_GROUP * row_bytes;

		memcpy(scratch, grp, LLM_MM_GROUP * row_bytes);
		repack_group(grp, scratch, row_bytes, cols / LLM_QK8_0,
			     qbytes);
	}
	return 0;
}
