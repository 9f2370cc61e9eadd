// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of llm/platform.h.
 */
#include <asm/fpu/api.h>
#include <asm/cpufeature.h>
#include <linux/cpumask.h>

#include "platform.h"

void llm_fpu_begin(void)
{
	kernel_fpu_begin();
}

void llm_fpu_end(void)
{
	kernel_fpu_end();
}

bool llm_cpu_has_avx2(void)
{
	return boot_cpu_has(X86_FEATURE_AVX2) && boot_cpu_has(X86_FEATURE_FMA) &&
	       boot_cpu_has(X86_FEATURE_F16C);
}

bool llm_cpu_has_avx512vnni(void)
{
	return llm_cpu_has_avx2() && boot_cpu_has(X86_FEATURE_AVX512VL) &&
	       boot_cpu_has(X86_FEATURE_AVX512_VNNI) &&
	       cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM |
				 XFEATURE_MASK_AVX512, NULL);
}

u32 llm_online_cpus(void)
{
	return num_online_cpus();
}
