// SPDX-License-Identifier: GPL-2.0
/*
 * llm_pooltest: the kernel build of the thread pool behind
 * llm_parallel_for() (llm/core/pool_kernel.c, compiled into this module
 * with a pool of its own, so that llm.ko need export nothing), checked at
 * load with real kthreads: every task runs once, worker ids are in range
 * and never shared at once, tasks may use the FPU, helpers' writes are
 * visible, concurrent callers all finish, helpers take part, and the pool
 * stops and starts again.  Each check logs "llm_pooltest: PASS what" or
 * "llm_pooltest: FAIL what: ..."; qemu-tests/tests/pool.sh turns them into
 * results.  It also logs what a call costs ("llm_pooltest: cost ...").
 *
 *   threads=N      the pool's size (default 4, 1..64)
 *   background=1   keep the pool and a thread that calls llm_parallel_for()
 *                  without pause until rmmod, which reports its calls and
 *                  the longest one: for freezer and CPU hotplug tests
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <asm/fpu/api.h>

#include "../../llm/core/pool_kernel.c"

static unsigned int threads = 4;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "Pool size, the caller included (default 4, 1..64)");

static bool background;
module_param(background, bool, 0444);
MODULE_PARM_DESC(background, "Call llm_parallel_for() without pause until rmmod (default N)");

#define MAX_TASKS	1000
#define MAX_WORKERS	64

static unsigned int failures;

static void result(bool ok, const char *what, long detail)
{
	if (ok) {
		pr_info("llm_pooltest: PASS %s\n", what);
	} else {
		pr_info("llm_pooltest: FAIL %s: at %ld\n", what, detail);
		failures++;
	}
}

/* What a run of tasks saw. */
struct seen {
	atomic_t runs[MAX_TASKS];
	atomic_t in_use[MAX_WORKERS];
	atomic_t used[MAX_WORKERS];
	atomic_t bad_worker;
	atomic_t shared_worker;
	u32 out[MAX_TASKS];
	u32 spin_ns;
	bool fpu;
};

static void record(void *arg, u32 task, u32 worker)
{
	struct seen *s = arg;

	if (task >= MAX_TASKS || worker >= llm_pool_size() ||
	    worker >= MAX_WORKERS) {
		atomic_inc(&s->bad_worker);
		return;
	}
	if (atomic_xchg(&s->in_use[worker], 1))
		atomic_inc(&s->shared_worker);
	atomic_inc(&s->runs[task]);
	atomic_inc(&s->used[worker]);
	if (s->fpu)
		kernel_fpu_begin();
	if (s->spin_ns)
		ndelay(s->spin_ns);
	if (s->fpu)
		kernel_fpu_end();
	s->out[task] = task * 2654435761u + 1;
	atomic_set(&s->in_use[worker], 0);
}

static void seen_reset(struct seen *s, u32 spin_ns, bool fpu)
{
	memset(s, 0, sizeof(*s));
	s->spin_ns = spin_ns;
	s->fpu = fpu;
}

/* 0, or the line of the first thing wrong with a run of @n tasks. */
static int seen_check(struct seen *s, u32 n, u32 max_workers)
{
	u32 limit = llm_pool_size(), workers = 0, i;

	if (max_workers && max_workers < limit)
		limit = max_workers;
	if (atomic_read(&s->bad_worker) || atomic_read(&s->shared_worker))
		return __LINE__;
	for (i = 0; i < MAX_TASKS; i++) {
		if (atomic_read(&s->runs[i]) != (i < n))
			return __LINE__;
		if (i < n && s->out[i] != i * 2654435761u + 1)
			return __LINE__;
	}
	for (i = 0; i < MAX_WORKERS; i++)
		workers += !!atomic_read(&s->used[i]);
	if (workers > max(limit, 1u))
		return __LINE__;
	return 0;
}

static void every_task_once(struct seen *s)
{
	static const u32 tasks[] = { 0, 1, 2, 3, 17, 1000 };
	static const u32 maxw[] = { 0, 1, 2, 3, 64 };
	u32 i, j, rep;
	int bad = 0;

	for (rep = 0; rep < 10 && !bad; rep++) {
		for (i = 0; i < ARRAY_SIZE(tasks) && !bad; i++) {
			for (j = 0; j < ARRAY_SIZE(maxw) && !bad; j++) {
				seen_reset(s, rep % 3 == 1 ? 500 : 0, rep & 1);
				llm_parallel_for(tasks[i], maxw[j], record, s);
				bad = seen_check(s, tasks[i], maxw[j]);
			}
		}
	}
	result(!bad, "every task runs once, on a worker of its own", bad);
}

/* Task 0 waits for another worker to show up: a helper must take part. */
struct meet {
	atomic_t others;
	bool timed_out;
};

static void meet_task(void *arg, u32 task, u32 worker)
{
	struct meet *m = arg;
	int i;

	if (worker) {
		atomic_inc(&m->others);
		return;
	}
	if (task)
		return;
	for (i = 0; i < 25000 && !atomic_read(&m->others); i++)
		usleep_range(100, 200);
	m->timed_out = !atomic_read(&m->others);
}

static void helpers_take_part(void)
{
	struct meet m;
	int rep;

	for (rep = 0; rep < 10; rep++) {
		atomic_set(&m.others, 0);
		m.timed_out = false;
		llm_parallel_for(8, 0, meet_task, &m);
		if (m.timed_out)
			break;
		if (rep & 1)		/* helpers asleep by the next call */
			usleep_range(2000, 3000);
	}
	result(!m.timed_out, "a helper takes part within 5 s", rep);
}

/* Several kthreads call at once; each call's tasks all run, once. */
#define CALLERS	3
#define CALLS	200

struct caller {
	struct completion done;
	struct seen *s;
	int bad;
};

static int caller_fn(void *arg)
{
	struct caller *c = arg;
	u32 i, n;

	for (i = 0; i < CALLS && !c->bad; i++) {
		n = (i * 37) % 200;
		seen_reset(c->s, i % 3 ? 300 : 0, i & 1);
		llm_parallel_for(n, i % 4, record, c->s);
		c->bad = seen_check(c->s, n, i % 4);
	}
	complete(&c->done);
	return 0;
}

static void concurrent_callers(void)
{
	struct caller c[CALLERS];
	struct task_struct *t;
	int i, started = 0, bad = 0;

	for (i = 0; i < CALLERS; i++) {
		init_completion(&c[i].done);
		c[i].bad = 0;
		c[i].s = kzalloc(sizeof(*c[i].s), GFP_KERNEL);
		if (!c[i].s)
			break;
		t = kthread_run(caller_fn, &c[i], "llm_pooltest/%d", i);
		if (IS_ERR(t)) {
			kfree(c[i].s);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		wait_for_completion(&c[i].done);
		if (c[i].bad)
			bad = c[i].bad;
		kfree(c[i].s);
	}
	result(started == CALLERS && !bad,
	       "concurrent callers all finish with every task run once",
	       started == CALLERS ? bad : -started);
}

/* A task's own llm_parallel_for() runs on its thread alone. */
static void nest_task(void *arg, u32 task, u32 worker)
{
	struct seen **inner = arg;

	llm_parallel_for(100, 0, record, inner[task]);
}

static void nested_calls(void)
{
	struct seen *inner[4] = {};
	int i, bad = 0;

	for (i = 0; i < 4; i++) {
		inner[i] = kzalloc(sizeof(*inner[i]), GFP_KERNEL);
		if (!inner[i])
			bad = __LINE__;
	}
	if (!bad)
		llm_parallel_for(4, 0, nest_task, inner);
	for (i = 0; i < 4; i++) {
		if (inner[i] && !bad)
			bad = seen_check(inner[i], 100, 0);
		kfree(inner[i]);
	}
	result(!bad, "a task's own call runs alone", bad);
}

static void busy_task(void *arg, u32 task, u32 worker)
{
	ndelay(*(u32 *)arg);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median ns of @k calls of @n tasks of @ns each, @pause_us apart. */
static u64 cost(u32 n, u32 ns, u32 pause_us, u32 k, u64 *samples)
{
	u32 i;
	u64 t0;

	for (i = 0; i < k; i++) {
		if (pause_us)
			usleep_range(pause_us, pause_us + 100);
		t0 = ktime_get_ns();
		llm_parallel_for(n, 0, busy_task, &ns);
		samples[i] = ktime_get_ns() - t0;
	}
	sort(samples, k, sizeof(*samples), cmp_u64, NULL);
	return samples[k / 2];
}

static void costs(void)
{
	u32 n = llm_pool_size();
	u64 *s = kcalloc(2000, sizeof(*s), GFP_KERNEL);

	if (!s)
		return;
	pr_info("llm_pooltest: cost with %u threads, median of 2000 calls: %u empty tasks back to back %llu ns, %u tasks of 5 us %llu ns (1 thread: %u x 5 us)\n",
		n, n, cost(n, 0, 0, 2000, s), n, cost(n, 5000, 0, 2000, s), n);
	pr_info("llm_pooltest: cost with %u threads, helpers asleep (1 ms apart, median of 200): %u empty tasks %llu ns\n",
		n, n, cost(n, 0, 1000, 200, s));
	kfree(s);
}

static void restart(struct seen *s)
{
	int bad = 0;

	llm_pool_exit();
	if (llm_pool_size() != 1)
		bad = __LINE__;
	seen_reset(s, 0, false);
	llm_parallel_for(500, 0, record, s);
	if (!bad)
		bad = seen_check(s, 500, 1);
	if (!bad && llm_pool_init(threads))
		bad = __LINE__;
	if (!bad && llm_pool_size() != threads)
		bad = __LINE__;
	seen_reset(s, 200, true);
	llm_parallel_for(500, 0, record, s);
	if (!bad)
		bad = seen_check(s, 500, 0);
	result(!bad, "the pool stops and starts again", bad);
}

/* background=1: call without pause until rmmod. */
static struct task_struct *hammer;
static struct seen *hammer_seen;
static u64 hammer_calls, hammer_max_ns;
static int hammer_bad;

static int hammer_fn(void *unused)
{
	u64 t0, dt;

	while (!kthread_should_stop()) {
		seen_reset(hammer_seen, 1000, true);
		t0 = ktime_get_ns();
		llm_parallel_for(64, 0, record, hammer_seen);
		dt = ktime_get_ns() - t0;
		hammer_max_ns = max(hammer_max_ns, dt);
		hammer_calls++;
		if (!hammer_bad)
			hammer_bad = seen_check(hammer_seen, 64, 0);
	}
	return 0;
}

static int __init llm_pooltest_init(void)
{
	struct seen *s;
	int ret;

	if (!threads || threads > MAX_WORKERS)
		return -EINVAL;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	ret = llm_pool_init(threads);
	result(!ret && llm_pool_size() == threads, "the pool starts", ret);
	if (ret) {
		kfree(s);
		return ret;
	}
	every_task_once(s);
	if (threads > 1)
		helpers_take_part();
	concurrent_callers();
	nested_calls();
	restart(s);
	costs();
	pr_info("llm_pooltest: done, %u failed\n", failures);
	kfree(s);
	if (!background) {
		llm_pool_exit();
		return 0;
	}
	hammer_seen = kzalloc(sizeof(*hammer_seen), GFP_KERNEL);
	if (!hammer_seen) {
		llm_pool_exit();
		return -ENOMEM;
	}
	hammer = kthread_run(hammer_fn, NULL, "llm_pooltest");
	if (IS_ERR(hammer)) {
		kfree(hammer_seen);
		llm_pool_exit();
		return PTR_ERR(hammer);
	}
	return 0;
}

static void __exit llm_pooltest_exit(void)
{
	if (!background)
		return;
	kthread_stop(hammer);
	result(!hammer_bad, "background calls all ran every task once",
	       hammer_bad);
	pr_info("llm_pooltest: background: %llu calls, the longest %llu us\n",
		hammer_calls, hammer_max_ns / 1000);
	kfree(hammer_seen);
	llm_pool_exit();
}

module_init(llm_pooltest_init);
module_exit(llm_pooltest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Tests of llm.ko's thread pool, built from its source");
MODULE_AUTHOR("The llm authors");
