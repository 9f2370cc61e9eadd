// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace side of llm/platform.h.
 */
#define _GNU_SOURCE		/* sched_getaffinity() */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

int llm_log_quiet;

struct cpu_bits {
	bool avx2;
	bool avx512vnni;	/* with AVX512-VL, on top of avx2 */
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
	/*
	 * AVX512F (b 16), AVX512VL (b 31), AVX512_VNNI (c 11); the OS saves
	 * opmask and ZMM state (XCR0 bits 5..7): the ymm instructions use
	 * EVEX encodings, which may touch ZMM registers 16..31.
	 */
	r.avx512vnni = r.avx2 && (b & (1u << 16)) && (b & (1u << 31)) &&
		       (c & (1u << 11)) && (xlo & 0xe0) == 0xe0;
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

/* LLM_NO_VNNI=1 keeps the AVX2 kernels on a CPU that has more. */
bool llm_cpu_has_avx512vnni(void)
{
	return llm_cpu_has_avx2() && !getenv("LLM_NO_VNNI") &&
	       cpu_bits().avx512vnni;
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

/*
 * The thread pool behind llm_parallel_for(): @threads - 1 pthreads plus
 * the caller, with the protocol of the kernel's (llm/core/pool_kernel.c,
 * whose header explains it): pool.state = generation << 32 | holders, a
 * helper joins an open job once, holds it while it runs a task it
 * claimed from pool.next, and the last holder to leave closes the job.
 * Helpers spin for up to POOL_SPIN_NS with a pause instruction between
 * looks and then sleep on a condition variable; so does an owner waiting
 * for its helpers.  A waker takes the mutex only when someone sleeps
 * (sequentially consistent counters on both sides make that safe).
 * Userspace cannot keep a thread on its CPU between joining and claiming,
 * so an owner may wait for a helper the kernel has just preempted there.
 */
#define POOL_SPIN_NS		50000
#define POOL_MAX_TASKS		(1u << 30)
#define STATE_HOLDERS(s)	((u32)(s))
#define STATE_GEN(s)		((u32)((s) >> 32))

static struct {
	llm_task_fn fn;
	void *arg;
	u32 n_tasks;
	u32 n_workers;
	atomic_uint busy;

	_Alignas(64) _Atomic u64 state;
	atomic_uint next;
	atomic_uint ids;

	_Alignas(64) pthread_mutex_t lock;
	pthread_cond_t job_cv;	/* helpers asleep between jobs */
	pthread_cond_t done_cv;	/* an owner asleep until its job closes */
	atomic_uint sleepers;	/* helpers asleep on job_cv */
	atomic_uint owner_asleep;
	atomic_bool stop;
	u32 n_helpers;
	pthread_t *threads;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.job_cv = PTHREAD_COND_INITIALIZER,
	.done_cv = PTHREAD_COND_INITIALIZER,
};

u32 llm_pool_size(void)
{
	return pool.n_helpers + 1;
}

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/*
 * Wake the sleepers of @cv.  Whoever counted itself as a sleeper and then
 * found nothing to do holds pool.lock until it waits, so once we have
 * had the lock it is waiting; waking after unlocking saves it a second
 * wait, for the lock.
 */
static void wake(pthread_cond_t *cv)
{
	pthread_mutex_lock(&pool.lock);
	pthread_mutex_unlock(&pool.lock);
	pthread_cond_broadcast(cv);
}

static bool pool_job_ready(u32 last)
{
	u64 s = atomic_load(&pool.state);

	return STATE_HOLDERS(s) && STATE_GEN(s) != last;
}

static bool pool_enter(u32 *gen)
{
	u64 s = atomic_load(&pool.state);

	do {
		if (!STATE_HOLDERS(s))
			return false;
	} while (!atomic_compare_exchange_weak(&pool.state, &s, s + 1));
	*gen = STATE_GEN(s);
	return true;
}

static void pool_leave(void)
{
	u64 s = atomic_fetch_sub(&pool.state, 1);

	if (STATE_HOLDERS(s) == 1 && atomic_load(&pool.owner_asleep))
		wake(&pool.done_cv);
}

static void pool_help(u32 *last)
{
	llm_task_fn fn = NULL;
	void *arg = NULL;
	u32 gen, id = 0, n = 0, t;

	while (pool_enter(&gen)) {
		if (gen != *last) {
			*last = gen;
			fn = pool.fn;
			arg = pool.arg;
			n = pool.n_tasks;
			id = atomic_fetch_add(&pool.ids, 1) + 1;
			if (id >= pool.n_workers)
				fn = NULL;
		}
		t = fn ? atomic_fetch_add(&pool.next, 1) : n;
		if (t >= n) {
			pool_leave();
			return;
		}
		fn(arg, t, id);
		pool_leave();
	}
}

/* Spin until @done() or POOL_SPIN_NS have passed; true if done. */
static bool spin_until(bool (*done)(u32), u32 arg)
{
	u64 t0 = llm_now_ns();
	u32 i;

	for (;;) {
		for (i = 0; i < 64; i++) {
			if (done(arg))
				return true;
			cpu_pause();
		}
		if (llm_now_ns() - t0 > POOL_SPIN_NS)
			return false;
	}
}

static bool pool_stopping_or_ready(u32 last)
{
	return atomic_load(&pool.stop) || pool_job_ready(last);
}

static void *pool_helper(void *unused)
{
	u32 last = 0;

	for (;;) {
		if (!spin_until(pool_stopping_or_ready, last)) {
			pthread_mutex_lock(&pool.lock);
			atomic_fetch_add(&pool.sleepers, 1);
			while (!pool_stopping_or_ready(last))
				pthread_cond_wait(&pool.job_cv, &pool.lock);
			atomic_fetch_sub(&pool.sleepers, 1);
			pthread_mutex_unlock(&pool.lock);
		}
		if (atomic_load(&pool.stop))
			return NULL;
		pool_help(&last);
	}
}

static bool pool_job_closed(u32 unused)
{
	return !STATE_HOLDERS(atomic_load(&pool.state));
}

static void pool_wait_done(void)
{
	if (spin_until(pool_job_closed, 0))
		return;
	pthread_mutex_lock(&pool.lock);
	atomic_store(&pool.owner_asleep, 1);
	while (!pool_job_closed(0))
		pthread_cond_wait(&pool.done_cv, &pool.lock);
	atomic_store(&pool.owner_asleep, 0);
	pthread_mutex_unlock(&pool.lock);
}

void llm_parallel_for(u32 n_tasks, u32 max_workers, llm_task_fn fn,
		      void *arg)
{
	u32 workers = llm_pool_size(), gen, t;
	unsigned int idle = 0;
	u64 s;

	if (max_workers && max_workers < workers)
		workers = max_workers;
	if (n_tasks < workers)
		workers = n_tasks;
	if (workers <= 1 || n_tasks > POOL_MAX_TASKS ||
	    !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) {
		for (t = 0; t < n_tasks; t++)
			fn(arg, t, 0);
		return;
	}

	pool.fn = fn;
	pool.arg = arg;
	pool.n_tasks = n_tasks;
	pool.n_workers = workers;
	atomic_store(&pool.next, 0);
	atomic_store(&pool.ids, 0);
	gen = STATE_GEN(atomic_load(&pool.state)) + 1;
	if (!gen)
		gen = 1;
	atomic_store(&pool.state, (u64)gen << 32 | 1);
	if (atomic_load(&pool.sleepers))
		wake(&pool.job_cv);

	while ((t = atomic_fetch_add(&pool.next, 1)) < n_tasks)
		fn(arg, t, 0);
	s = atomic_fetch_sub(&pool.state, 1);
	if (STATE_HOLDERS(s) != 1)
		pool_wait_done();
	atomic_store(&pool.busy, 0);
}

/* CPUs this process may run on; the online count if that is unknown. */
static u32 usable_cpus(void)
{
	cpu_set_t set;
	long n;

	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (u32)n : 1;
}

void llm_pool_exit(void)
{
	u32 i;

	if (!pool.threads)
		return;
	pthread_mutex_lock(&pool.lock);
	atomic_store(&pool.stop, true);
	pthread_cond_broadcast(&pool.job_cv);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.n_helpers; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pool.n_helpers = 0;
}

int llm_pool_init(u32 threads)
{
	sigset_t all, old;
	u32 i;
	int err = 0;

	llm_pool_exit();
	if (!threads)
		threads = min_t(u32, usable_cpus(), LLM_THREADS_MAX);
	if (threads > LLM_THREADS_MAX)
		return -EINVAL;
	atomic_store(&pool.state, 0);
	atomic_store(&pool.stop, false);
	if (threads == 1)
		return 0;
	pool.threads = calloc(threads - 1, sizeof(*pool.threads));
	if (!pool.threads)
		return -ENOMEM;
	/* Signals go to the program's own threads, never to a helper. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < threads - 1 && !err; i++) {
		err = pthread_create(&pool.threads[i], NULL, pool_helper, NULL);
		if (!err)
			pool.n_helpers = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		llm_pool_exit();
		return -err;
	}
	return 0;
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
	if (d > 250000)
		__atomic_add_fetch(&llm_fpu_trace.over_250us, 1,
				   __ATOMIC_RELAXED);
	if (d > 1000000)
		__atomic_add_fetch(&llm_fpu_trace.over_1ms, 1,
				   __ATOMIC_RELAXED);
	if (d > __atomic_load_n(&llm_fpu_trace.max_ns, __ATOMIC_RELAXED)) {
		__atomic_store_n(&llm_fpu_trace.max_ns, d, __ATOMIC_RELAXED);
		__atomic_store_n(&llm_fpu_trace.max_site, fpu_site,
				 __ATOMIC_RELAXED);
	}
}
#endif
