// SPDX-License-Identifier: GPL-2.0
/*
 * The quantized tiles of quant/qtiles.h with AVX512-VNNI's vpdpbusd on
 * 8-lane (ymm) vectors.  An FPU object built with -mavx2 -mfma -mf16c
 * -mavx512vl -mavx512vnni; its two functions sit in
 * llm_kernels_avx512vnni (quant/avx2.c, which has every other kernel of
 * that table), which llm_kernels_pick() hands out only when
 * llm_cpu_has_avx512vnni() says so.  They give the same bits as the AVX2
 * tiles and the reference.
 */
#include "kernels.h"

/* sparse knows none of GCC's x86 builtins: see quant/avx2.c. */
#if defined(LLM_HAVE_AVX2) && !defined(__CHECKER__)

#ifdef __KERNEL__
/* gcc-12's <immintrin.h> would pull in <stdlib.h> through mm_malloc.h. */
#define _MM_MALLOC_H_INCLUDED
#endif
#include <immintrin.h>

#define QT_VNNI 1
#include "qtiles.h"

void llm_mm_q8_0_vnni(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_q(mm, r0, r1, false);
}

void llm_mm_q4_0_vnni(const struct llm_mm *mm, u64 r0, u64 r1)
{
	mm_q(mm, r0, r1, true);
}

#endif /* LLM_HAVE_AVX2 && !__CHECKER__ */
