/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one header the shared core (arena/, quant/, and the model, tokenizer,
 * sampler and generation parts of llm/) sees.  It maps a handful of
 * allocation-free primitives onto the kernel when built by kbuild and onto
 * libc when built for userspace, so the same C runs in both.
 *
 * Rules for core code: no other system header, no float/double in any
 * prototype that a non-FPU object can see (pass pointers or raw bits),
 * errors are negative errno values.
 */
#ifndef LLM_PLATFORM_H
#define LLM_PLATFORM_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/printk.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/timekeeping.h>
#include <linux/random.h>
#include <linux/spinlock.h>

#define llm_err(fmt, ...)	pr_err_ratelimited(fmt, ##__VA_ARGS__)
#define llm_warn(fmt, ...)	pr_warn_ratelimited(fmt, ##__VA_ARGS__)
#define llm_info(fmt, ...)	pr_info(fmt, ##__VA_ARGS__)
#define llm_snprintf		snprintf

/* Bracket float/SIMD work; callers keep each bracket short (one layer). */
void llm_fpu_begin(void);
void llm_fpu_end(void);
/* Give the CPU away between FPU chunks. */
static inline void llm_yield(void)
{
	cond_resched();
}

bool llm_cpu_has_avx2(void);
/* AVX512-VNNI and AVX512-VL too, with the OS saving their state */
bool llm_cpu_has_avx512vnni(void);

static inline u64 llm_now_ns(void)
{
	return ktime_get_ns();
}

static inline u64 llm_random_u64(void)
{
	return get_random_u64();
}

/* A short critical section (a few loads and stores, never a sleep). */
struct llm_spinlock {
	spinlock_t lock;
};

static inline void llm_spin_init(struct llm_spinlock *l)
{
	spin_lock_init(&l->lock);
}

static inline void llm_spin_lock(struct llm_spinlock *l)
{
	spin_lock(&l->lock);
}

static inline void llm_spin_unlock(struct llm_spinlock *l)
{
	spin_unlock(&l->lock);
}

#else /* userspace */

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef SIZE_MAX
#define SIZE_MAX ((size_t)-1)
#endif
#define U32_MAX ((u32)~0U)
#define S32_MAX ((s32)(U32_MAX >> 1))
#define U64_MAX ((u64)~0ULL)

#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d) __builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define __maybe_unused	__attribute__((unused))
#define __packed	__attribute__((packed))
#define noinline	__attribute__((noinline))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min_t(t, a, b)	((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)	((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Core log lines go to stderr; LLM_QUIET silences them (fuzzers). */
extern int llm_log_quiet;
#define llm_log(lvl, fmt, ...) do {					\
	if (!llm_log_quiet)						\
		fprintf(stderr, "llm: " lvl fmt, ##__VA_ARGS__);	\
} while (0)
#define llm_err(fmt, ...)	llm_log("error: ", fmt, ##__VA_ARGS__)
#define llm_warn(fmt, ...)	llm_log("warning: ", fmt, ##__VA_ARGS__)
#define llm_info(fmt, ...)	llm_log("", fmt, ##__VA_ARGS__)
#define llm_snprintf		snprintf

#ifdef LLM_FPU_TRACE
/* bench/fpubound: time every FPU section (platform_user.c) */
struct llm_fpu_trace {
	u64 sections, total_ns, max_ns;
	u64 over_250us, over_1ms;	/* sections longer than that */
	void *max_site;		/* return address of the longest's begin */
};
extern struct llm_fpu_trace llm_fpu_trace;
void llm_fpu_begin(void);
void llm_fpu_end(void);
#else
static inline void llm_fpu_begin(void) { }
static inline void llm_fpu_end(void) { }
#endif
static inline void llm_yield(void) { }

bool llm_cpu_has_avx2(void);
/* AVX512-VNNI and AVX512-VL too, with the OS saving their state */
bool llm_cpu_has_avx512vnni(void);
u64 llm_now_ns(void);
u64 llm_random_u64(void);

struct llm_spinlock {
	int held;
};

static inline void llm_spin_init(struct llm_spinlock *l)
{
	l->held = 0;
}

static inline void llm_spin_lock(struct llm_spinlock *l)
{
	while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			;
}

static inline void llm_spin_unlock(struct llm_spinlock *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

#endif /* __KERNEL__ */

/*
 * Work split across a pool of threads (kernel: kthreads in pool_kernel.c,
 * userspace: pthreads in platform_user.c).  llm_parallel_for() calls
 * fn(arg, task, worker) once for every task in [0, n_tasks), on at most
 * @max_workers threads counting the caller (0: the whole pool), and returns
 * when all have run.  @worker is below the number of threads the call may
 * use (min(@max_workers, llm_pool_size()), the caller being 0) and no two
 * threads of one call share it, so it indexes per-thread scratch.  Tasks are
 * handed out in order, one at a time, to whichever thread is free; a task's
 * result must not depend on which thread runs it (split by output rows).
 * fn() runs with preemption on and brackets its own float work; the pool
 * gives the CPU away between tasks.  When the pool is busy with another
 * caller's work (or a task calls llm_parallel_for()), the caller runs all
 * of its tasks itself: nobody waits for a pool.  What the tasks wrote is
 * visible to the caller when the call returns.  Call it where sleeping is
 * allowed, never between llm_fpu_begin() and llm_fpu_end().
 */
typedef void (*llm_task_fn)(void *arg, u32 task, u32 worker);
void llm_parallel_for(u32 n_tasks, u32 max_workers, llm_task_fn fn,
		      void *arg);
/* Threads a call may use, the caller included (1: no pool). */
u32 llm_pool_size(void);
/* CPUs online now (the default pool size). */
u32 llm_online_cpus(void);

/*
 * Start @threads - 1 helper threads (0: one per online CPU; in userspace,
 * per CPU this process may run on), at most LLM_THREADS_MAX.  The kernel
 * starts its pool at module load from the threads parameter; userspace
 * programs call this themselves (without it every call runs on the
 * caller; calling it again restarts the pool).  The size is fixed until
 * llm_pool_exit(), which stops the helpers; neither may run while a
 * llm_parallel_for() does.
 */
#define LLM_THREADS_MAX	1024
int llm_pool_init(u32 threads);
void llm_pool_exit(void);

#define LLM_ALIGN_UP(x, a)	(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define LLM_IS_POW2(x)		((x) != 0 && (((x) & ((x) - 1)) == 0))

#endif /* LLM_PLATFORM_H */
