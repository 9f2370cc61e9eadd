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


u32 llm_pool_size(void)
{
	return 1;
}

/* Sequential until the pool lands: every task on the caller. */
void llm_parallel_for(u32 n_tasks, u32 max_workers, llm_task_fn fn,
		      void *arg)
{
	u32 i;

	for (i = 0; i < n_tasks; i++) {
		fn(arg, i, 0);
		cond_resched();
	}
}

u32 llm_online_cpus(void)
{
	return num_online_cpus();
}
