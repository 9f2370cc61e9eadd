// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace side of llm/platform.h.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

int llm_log_quiet;

struct cpu_bits {
	bool avx2;
};

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* CPU and OS support, from CPUID and XCR0 (gcc and clang alike). */
static struct cpu_bits cpu_bits(void)
{
	unsigned int a, b, c, d, xlo = 0, xhi = 0;
	struct cpu_bits r = { false };
	bool fma, f16c, osxsave;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return r;
	fma = c & (1u << 12);
	f16c = c & (1u << 29);
	osxsave = c & (1u << 27);
	if (!osxsave)
		return r;
	__asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
	if ((xlo & 0x6) != 0x6)		/* the OS saves XMM and YMM state */
		return r;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return r;
	r.avx2 = (b & (1u << 5)) && fma && f16c;
	return r;
}
#else
static struct cpu_bits cpu_bits(void)
{
	return (struct cpu_bits){ false };
}
#endif

bool llm_cpu_has_avx2(void)
{
	return !getenv("LLM_NO_SIMD") && cpu_bits().avx2;
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

/* Sequential until the pool lands: every task on the caller. */
static u32 pool_threads = 1;

int llm_pool_init(u32 threads)
{
	pool_threads = 1;
	return 0;
}

void llm_pool_exit(void)
{
}

u32 llm_pool_size(void)
{
	return pool_threads;
}

void llm_parallel_for(u32 n_tasks, u32 max_workers, llm_task_fn fn,
		      void *arg)
{
	u32 i;

	for (i = 0; i < n_tasks; i++)
		fn(arg, i, 0);
}

u32 llm_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (u32)n : 1;
}

#ifdef LLM_FPU_TRACE
/*
 * Where the kernel would run kernel_fpu_begin()/end(), time the section:
 * the longest one and who opened it, for bench/fpubound.c.
 */
struct llm_fpu_trace llm_fpu_trace;
static __thread u64 fpu_t0;
static __thread void *fpu_site;

/*
 * The thread's CPU time, not the wall clock: the kernel runs a section
 * with preemption off, so time other tasks took from a userspace thread
 * is not part of it.
 */
static u64 thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

void llm_fpu_begin(void)
{
	fpu_site = __builtin_return_address(0);
	fpu_t0 = thread_ns();
}

void llm_fpu_end(void)
{
	u64 d = thread_ns() - fpu_t0;

	__atomic_add_fetch(&llm_fpu_trace.sections, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&llm_fpu_trace.total_ns, d, __ATOMIC_RELAXED);
	if (d > __atomic_load_n(&llm_fpu_trace.max_ns, __ATOMIC_RELAXED)) {
		__atomic_store_n(&llm_fpu_trace.max_ns, d, __ATOMIC_RELAXED);
		__atomic_store_n(&llm_fpu_trace.max_site, fpu_site,
				 __ATOMIC_RELAXED);
	}
}
#endif
