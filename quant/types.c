// SPDX-License-Identifier: GPL-2.0
/*
 * Tensor types: names and block geometry of every ggml type number, and the
 * choice of kernels for this CPU.  Integer only: not an FPU object, so the
 * loader and the kernel glue can call it anywhere.
 */
#include "quant.h"

struct type_info {
	const char *name;
	u16 block_elems;	/* 0: a number ggml no longer (or never) used */
	u16 block_bytes;
};

#define QK_K 256

/* Geometry as ggml's type traits give it, so a parser can size any tensor. */
static const struct type_info types[] = {
	[0] = { "F32", 1, 4 },
	[1] = { "F16", 1, 2 },
	[2] = { "Q4_0", 32, 18 },
	[3] = { "Q4_1", 32, 20 },
	[6] = { "Q5_0", 32, 22 },
	[7] = { "Q5_1", 32, 24 },
	[8] = { "Q8_0", 32, 34 },
	[9] = { "Q8_1", 32, 36 },
	[10] = { "Q2_K", QK_K, 84 },
	[11] = { "Q3_K", QK_K, 110 },
	[12] = { "Q4_K", QK_K, 144 },
	[13] = { "Q5_K", QK_K, 176 },
	[14] = { "Q6_K", QK_K, 210 },
	[15] = { "Q8_K", QK_K, 292 },
	[16] = { "IQ2_XXS", QK_K, 66 },
	[17] = { "IQ2_XS", QK_K, 74 },
	[18] = { "IQ3_XXS", QK_K, 98 },
	[19] = { "IQ1_S", QK_K, 50 },
	[20] = { "IQ4_NL", 32, 18 },
	[21] = { "IQ3_S", QK_K, 110 },
	[22] = { "IQ2_S", QK_K, 82 },
	[23] = { "IQ4_XS", QK_K, 136 },
	[24] = { "I8", 1, 1 },
	[25] = { "I16", 1, 2 },
	[26] = { "I32", 1, 4 },
	[27] = { "I64", 1, 8 },
	[28] = { "F64", 1, 8 },
	[29] = { "IQ1_M", QK_K, 56 },
	[30] = { "BF16", 1, 2 },
	[34] = { "TQ1_0", QK_K, 54 },
	[35] = { "TQ2_0", QK_K, 66 },
	[39] = { "MXFP4", 32, 17 },
};

static const struct type_info *type_info(u32 type)
{
	if (type >= ARRAY_SIZE(types) || !types[type].name)
		return NULL;
	return &types[type];
}

bool llm_type_supported(u32 type)
{
	return type == LLM_T_F32 || type == LLM_T_F16 ||
	       type == LLM_T_Q4_0 || type == LLM_T_Q8_0 || llm_type_is_k(type);
}

const char *llm_type_name(u32 type)
{
	const struct type_info *t = type_info(type);

	return t ? t->name : "unknown";
}

/*
 * Block geometry of any ggml type we can name, supported or not, so that a
 * file's sizes can be checked before its type is refused; 0 for numbers we
 * cannot name.
 */
u32 llm_type_block_elems(u32 type)
{
	const struct type_info *t = type_info(type);

	return t ? t->block_elems : 0;
}

u32 llm_type_block_bytes(u32 type)
{
	const struct type_info *t = type_info(type);

	return t ? t->block_bytes : 0;
}

/* *@bytes is written only on success. */
int llm_type_row_bytes(u32 type, u64 n, u64 *bytes)
{
	const struct type_info *t = type_info(type);
	u64 b;

	if (!llm_type_supported(type) || !t)
		return -EINVAL;
	if (n % t->block_elems)
		return -EINVAL;
	if (check_mul_overflow(n / t->block_elems, (u64)t->block_bytes, &b))
		return -EOVERFLOW;
	*bytes = b;
	return 0;
}

/* Q8_0's 32 quants, a float scale and an s32 sum per block (kernels.h). */
#define ACT_BLOCK_BYTES (LLM_QK8_0 + 4 + 4)

u64 llm_act_bytes(u32 type, u64 cols)
{
	u64 b;

	switch (type) {
	case LLM_T_F32:
	case LLM_T_F16:
		if (check_mul_overflow(cols, (u64)sizeof(u32), &b))
			return 0;
		break;
	case LLM_T_Q4_K:
	case LLM_T_Q5_K:
	case LLM_T_Q6_K:
		/* 256 quants, a float scale, eight s32 sums (kernels.h) */
		if (cols % LLM_QK_K ||
		    check_mul_overflow(cols / LLM_QK_K,
				       (u64)(LLM_QK_K + 4 + 32), &b))
			return 0;
		break;
	case LLM_T_Q8_0:
	case LLM_T_Q4_0:
		if (cols % LLM_QK8_0 ||
		    check_mul_overflow(cols / LLM_QK8_0, (u64)ACT_BLOCK_BYTES,
				       &b))
			return 0;
		break;
	default:
		return 0;
	}
	if (b > U64_MAX - 63)
		return 0;
	return LLM_ALIGN_UP(b, 64);
}

const char *llm_kernels_name(const struct llm_kernels *k)
{
	if (k == &llm_kernels_ref)
		return "scalar";
#ifdef LLM_HAVE_AVX2
	if (k == &llm_kernels_avx2)
		return "avx2";
	if (k == &llm_kernels_avx512vnni)
		return "avx512vnni";
#endif
	return "unknown";
}

/*
 * Called once by whoever binds a model; the table it returns is then used
 * for every kernel call, so no feature test sits in an inner loop.
 */
const struct llm_kernels *llm_kernels_pick(bool force_ref)
{
#ifdef LLM_HAVE_AVX2
	if (!force_ref && llm_cpu_has_avx512vnni())
		return &llm_kernels_avx512vnni;
	if (!force_ref && llm_cpu_has_avx2())
		return &llm_kernels_avx2;
#endif
	return &llm_kernels_ref;
}
