// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace side of llm/platform.h.
 */
#include <stdlib.h>
#include <time.h>

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

u64 llm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

u64 llm_random_u64(void)
{
	struct timespec ts;
	u64 x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
	/* splitmix64 finaliser: spread the clock's low entropy */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}
