// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace side of llm/platform.h.
 */
#include <stdlib.h>

#include "platform.h"

int llm_log_quiet;

bool llm_cpu_has_avx2(void)
{
	if (getenv("LLM_NO_SIMD"))
		return false;
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	       __builtin_cpu_supports("f16c");
}

bool llm_cpu_has_avx512(void)
{
	if (getenv("LLM_NO_SIMD"))
		return false;
	return __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl");
}
