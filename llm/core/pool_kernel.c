// SPDX-License-Identifier: GPL-2.0
/*
 * The thread pool behind llm_parallel_for() (llm/core/platform.h), kernel
 * side: threads - 1 helper kthreads plus the caller.
 *
 * Why kthreads of our own and not a workqueue.  A decode step of a small
 * model makes some 60 calls a token at 100+ tokens/s, so a call's join has
 * to cost a few microseconds.  Waking a sleeping thread (a kworker for
 * queue_work() as much as a kthread) costs tens of microseconds on an idle
 * CPU, so helpers must still be running when the next call comes: after a
 * job they spin for a bounded LLM_POOL_SPIN_NS with preemption enabled,
 * calling cond_resched(), and only then sleep.  A work item cannot spin
 * like that without holding a worker of a pool other work items share
 * (and, on a per-CPU workqueue, keeping them from starting on that CPU).
 *
 * Why unbound and not one kthread bound to each CPU.  Bound threads have
 * to be parked and unparked around CPU hotplug (smpboot threads), and the
 * pool would be tied to the CPUs online at load.  Unbound helpers are
 * placed by the scheduler, move off a CPU that goes offline, respect
 * isolcpus/nohz_full housekeeping, and "threads" may be any number, more
 * than the CPUs too (the tests run threads=4 on two).
 *
 * Accounting.  The caller's share of a job runs in the caller and is
 * charged to it (its CPU time, cgroup, nice level); the helpers' share is
 * charged to the llm_pool/N kernel threads: root cgroup, nice 0.
 *
 * The protocol.  One job at a time: a caller that finds the pool owned
 * (pool.busy) runs all its tasks itself; nobody waits for the pool.  The
 * owner publishes the job in pool.state = generation << 32 | holders with
 * one holder, itself.  A helper joins by adding a holder, which it may do
 * only while holders is not 0 (the job is open), takes a worker id and
 * claims tasks one at a time from pool.next.  It holds the job only while
 * it runs a task it has claimed, or for the few instructions between
 * joining and claiming, with preemption disabled: so when the owner has
 * claimed the last task, run its own tasks and dropped its hold, it waits
 * only for tasks that helpers have claimed and are running, never for a
 * helper that is not scheduled.  The job completes even if no helper ever
 * runs.  The last holder to leave closes the job (holders 0) and wakes an
 * owner asleep on done_wq.  Leaving is a release and the owner's last read
 * an acquire, so what a helper's task wrote is visible to the caller when
 * llm_parallel_for() returns.
 *
 * The pool never touches the FPU; tasks bracket their own float work.
 * Helpers are freezable (they freeze between jobs) and stop at
 * llm_pool_exit().  The number of threads is fixed from llm_pool_init() to
 * llm_pool_exit(): callers size per-worker scratch by llm_pool_size().
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "platform.h"

/* How long a helper spins for the next job, and an owner for its helpers. */
#define LLM_POOL_SPIN_NS	(50 * NSEC_PER_USEC)
/* Larger jobs run on the caller alone: pool.next must not wrap. */
#define LLM_POOL_MAX_TASKS	(1u << 30)

#define STATE_HOLDERS(s)	((u32)(s))
#define STATE_GEN(s)		((u32)((u64)(s) >> 32))

static struct llm_pool {
	/* The job: written by its owner before it opens it. */
	llm_task_fn fn;
	void *arg;
	u32 n_tasks;
	u32 n_workers;		/* worker ids below this take part */
	atomic_t busy;		/* a caller owns the pool */

	/* generation << 32 | holders; holders 0: no job open */
	atomic64_t state ____cacheline_aligned_in_smp;
	atomic_t next;		/* the next task to claim */
	atomic_t ids;		/* worker ids handed out in this job */

	wait_queue_head_t job_wq ____cacheline_aligned_in_smp;
	wait_queue_head_t done_wq;
	u32 n_helpers;
	struct task_struct **helpers;
} pool;

u32 llm_pool_size(void)
{
	return pool.n_helpers + 1;
}

/* An open job this helper has not joined yet? */
static bool pool_job_ready(u32 last)
{
	s64 s = atomic64_read(&pool.state);

	return STATE_HOLDERS(s) && STATE_GEN(s) != last;
}

/* Become a holder of the open job, if any; say which one it is. */
static bool pool_enter(u32 *gen)
{
	s64 s = atomic64_read(&pool.state);

	do {
		if (!STATE_HOLDERS(s))
			return false;
	} while (!atomic64_try_cmpxchg_acquire(&pool.state, &s, s + 1));
	*gen = STATE_GEN(s);
	return true;
}

/* Stop holding the job; the last holder wakes its owner. */
static void pool_leave(void)
{
	s64 s = atomic64_fetch_sub_release(1, &pool.state);

	if (STATE_HOLDERS(s) == 1 && wq_has_sleeper(&pool.done_wq))
		wake_up(&pool.done_wq);
}

/*
 * Run tasks of the open job until none is left.  *last is the generation
 * of the last job this helper joined: it joins each job once, and takes
 * part only if its worker id is below the job's n_workers.
 */
static void pool_help(u32 *last)
{
	llm_task_fn fn = NULL;
	void *arg = NULL;
	u32 gen, id = 0, n = 0, t;

	for (;;) {
		preempt_disable();
		if (!pool_enter(&gen))
			break;
		if (gen != *last) {
			*last = gen;
			fn = READ_ONCE(pool.fn);
			arg = READ_ONCE(pool.arg);
			n = READ_ONCE(pool.n_tasks);
			id = atomic_inc_return(&pool.ids);
			if (id >= READ_ONCE(pool.n_workers))
				fn = NULL;
		}
		if (!fn)
			goto leave;
		t = atomic_fetch_inc(&pool.next);
		if (t >= n)
			goto leave;
		preempt_enable();
		fn(arg, t, id);
		pool_leave();
		cond_resched();
	}
	preempt_enable();
	return;
leave:
	pool_leave();
	preempt_enable();
}

/* Wait for a job to join: spin a little, then sleep.  False: stop. */
static bool pool_wait_job(u32 last)
{
	u64 t0 = local_clock();

	while (!pool_job_ready(last)) {
		if (kthread_should_stop())
			return false;
		if (local_clock() - t0 > LLM_POOL_SPIN_NS) {
			wait_event_freezable_exclusive(pool.job_wq,
						       pool_job_ready(last) ||
						       kthread_should_stop());
			t0 = local_clock();
			continue;
		}
		cpu_relax();
		cond_resched();
	}
	return true;
}

static int pool_helper(void *data)
{
	u32 last = 0;

	set_freezable();
	while (pool_wait_job(last)) {
		pool_help(&last);
		/* jobs may come faster than the helper ever sleeps */
		try_to_freeze();
	}
	return 0;
}

/* The owner, its tasks done: wait for the helpers still running one. */
static void pool_wait_done(void)
{
	u64 t0 = local_clock();

	while (STATE_HOLDERS(atomic64_read_acquire(&pool.state))) {
		if (local_clock() - t0 > LLM_POOL_SPIN_NS) {
			wait_event(pool.done_wq,
				   !STATE_HOLDERS(atomic64_read_acquire(&pool.state)));
			return;
		}
		cpu_relax();
		cond_resched();
	}
}

static void run_alone(u32 n_tasks, llm_task_fn fn, void *arg)
{
	u32 i;

	for (i = 0; i < n_tasks; i++) {
		fn(arg, i, 0);
		cond_resched();
	}
}

void llm_parallel_for(u32 n_tasks, u32 max_workers, llm_task_fn fn,
		      void *arg)
{
	u32 workers = llm_pool_size(), gen, t;
	s64 s;

	might_sleep();
	if (max_workers && max_workers < workers)
		workers = max_workers;
	if (n_tasks < workers)
		workers = n_tasks;
	if (workers <= 1 || n_tasks > LLM_POOL_MAX_TASKS ||
	    atomic_cmpxchg_acquire(&pool.busy, 0, 1)) {
		run_alone(n_tasks, fn, arg);
		return;
	}

	/* The pool is ours and no job is open: no helper reads these now. */
	WRITE_ONCE(pool.fn, fn);
	WRITE_ONCE(pool.arg, arg);
	WRITE_ONCE(pool.n_tasks, n_tasks);
	WRITE_ONCE(pool.n_workers, workers);
	atomic_set(&pool.next, 0);
	atomic_set(&pool.ids, 0);
	gen = STATE_GEN(atomic64_read(&pool.state)) + 1;
	if (!gen)		/* helpers start with last = 0 */
		gen = 1;
	atomic64_set_release(&pool.state, (s64)((u64)gen << 32 | 1));
	if (wq_has_sleeper(&pool.job_wq))
		wake_up_nr(&pool.job_wq, workers - 1);

	while ((t = atomic_fetch_inc(&pool.next)) < n_tasks) {
		fn(arg, t, 0);
		cond_resched();
	}
	s = atomic64_fetch_sub(1, &pool.state);
	if (STATE_HOLDERS(s) != 1)
		pool_wait_done();
	atomic_set_release(&pool.busy, 0);
}

static void pool_stop(u32 n)
{
	while (n--)
		kthread_stop(pool.helpers[n]);
	kfree(pool.helpers);
	pool.helpers = NULL;
}

int llm_pool_init(u32 threads)
{
	struct task_struct *t;
	u32 i;

	if (pool.n_helpers)
		return -EBUSY;
	if (!threads)
		threads = min_t(u32, num_online_cpus(), LLM_THREADS_MAX);
	if (threads > LLM_THREADS_MAX)
		return -EINVAL;
	init_waitqueue_head(&pool.job_wq);
	init_waitqueue_head(&pool.done_wq);
	atomic64_set(&pool.state, 0);
	atomic_set(&pool.busy, 0);
	if (threads == 1)
		return 0;
	pool.helpers = kcalloc(threads - 1, sizeof(*pool.helpers), GFP_KERNEL);
	if (!pool.helpers)
		return -ENOMEM;
	for (i = 0; i < threads - 1; i++) {
		t = kthread_run(pool_helper, NULL, "llm_pool/%u", i + 1);
		if (IS_ERR(t)) {
			pool_stop(i);
			return PTR_ERR(t);
		}
		pool.helpers[i] = t;
	}
	pool.n_helpers = threads - 1;
	return 0;
}

/* No llm_parallel_for() may be running or start. */
void llm_pool_exit(void)
{
	if (!pool.n_helpers)
		return;
	pool_stop(pool.n_helpers);
	pool.n_helpers = 0;
}
