// SPDX-License-Identifier: GPL-2.0
/*
 * The thread pool behind llm_parallel_for() in its userspace build
 * (llm/core/platform_user.c): every task runs exactly once, worker ids
 * are in range and never shared by two threads at once, helpers' writes
 * are visible to the caller, concurrent callers all finish (the second
 * runs alone), helpers do take part, and the pool starts and stops again.
 * The kernel build of the same protocol is tested by the QEMU test
 * qemu-tests/tests/pool.sh.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "llm/core/platform.h"
#include "userctl/runtime.h"

#define MAX_TASKS	1000
#define MAX_WORKERS	64

/* What a run of tasks saw; tasks record, the test thread checks. */
struct seen {
	atomic_uint runs[MAX_TASKS];
	atomic_uint in_use[LLM_THREADS_MAX];	/* by worker id */
	atomic_uint used[LLM_THREADS_MAX];	/* tasks per worker id */
	atomic_uint bad_worker, shared_worker;
	u32 out[MAX_TASKS];			/* plain stores */
	u32 spin;				/* work per task, iterations */
};

static void record(void *arg, u32 task, u32 worker)
{
	struct seen *s = arg;
	volatile u32 x = 0;
	u32 i;

	if (task >= MAX_TASKS || worker >= llm_pool_size() ||
	    worker >= LLM_THREADS_MAX) {
		atomic_fetch_add(&s->bad_worker, 1);
		return;
	}
	if (atomic_exchange(&s->in_use[worker], 1))
		atomic_fetch_add(&s->shared_worker, 1);
	atomic_fetch_add(&s->runs[task], 1);
	atomic_fetch_add(&s->used[worker], 1);
	for (i = 0; i < s->spin; i++)
		x += i;
	(void)x;
	s->out[task] = task * 2654435761u + 1;
	atomic_store(&s->in_use[worker], 0);
}

static struct seen *seen_new(u32 spin)
{
	struct seen *s = calloc(1, sizeof(*s));

	if (s)
		s->spin = spin;
	return s;
}

/* 0, or the line of the first thing wrong with a run of @n tasks. */
static int seen_check(struct seen *s, u32 n, u32 max_workers)
{
	u32 limit = llm_pool_size(), workers = 0, i;

	if (max_workers && max_workers < limit)
		limit = max_workers;
	if (atomic_load(&s->bad_worker) || atomic_load(&s->shared_worker))
		return __LINE__;
	for (i = 0; i < MAX_TASKS; i++) {
		if (atomic_load(&s->runs[i]) != (i < n))
			return __LINE__;
		if (i < n && s->out[i] != i * 2654435761u + 1)
			return __LINE__;
	}
	for (i = 0; i < LLM_THREADS_MAX; i++)
		workers += !!atomic_load(&s->used[i]);
	if (workers > (limit > 1 ? limit : 1))
		return __LINE__;
	return 0;
}

static void every_task_once_with(u32 threads)
{
	static const u32 tasks[] = { 0, 1, 2, 3, 17, 1000 };
	static const u32 maxw[] = { 0, 1, 2, 3, 64 };
	u32 i, j, rep;

	CHECK_EQ(llm_pool_init(threads), 0);
	CHECK_EQ(llm_pool_size(), threads);
	for (rep = 0; rep < 20; rep++) {
		for (i = 0; i < ARRAY_SIZE(tasks); i++) {
			for (j = 0; j < ARRAY_SIZE(maxw); j++) {
				struct seen *s = seen_new(rep & 1 ? 200 : 0);
				int bad;

				CHECK(s != NULL);
				llm_parallel_for(tasks[i], maxw[j], record, s);
				bad = seen_check(s, tasks[i], maxw[j]);
				free(s);
				if (bad) {
					llm_pool_exit();
					check_fail(__FILE__, bad,
						   "threads %u, %u tasks, max_workers %u",
						   threads, tasks[i], maxw[j]);
					return;
				}
			}
		}
	}
	llm_pool_exit();
	CHECK_EQ(llm_pool_size(), 1);
}

static void every_task_once_1(void)
{
	every_task_once_with(1);
}

static void every_task_once_2(void)
{
	every_task_once_with(2);
}

static void every_task_once_4(void)
{
	every_task_once_with(4);
}

/* More threads than this machine has CPUs: the pool must still work. */
static void every_task_once_oversubscribed(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	every_task_once_with(cpus > 0 && cpus < 8 ? 8 : 2 * (u32)cpus + 1);
}

/* Task 0 waits for another worker to show up: a helper must take part. */
struct meet {
	atomic_uint others;
	atomic_uint timed_out;
};

static void meet_task(void *arg, u32 task, u32 worker)
{
	struct meet *m = arg;
	struct timespec ts = { 0, 100000 };
	int i;

	if (worker) {
		atomic_fetch_add(&m->others, 1);
		return;
	}
	if (task)
		return;
	for (i = 0; i < 50000 && !atomic_load(&m->others); i++)
		nanosleep(&ts, NULL);
	if (!atomic_load(&m->others))
		atomic_store(&m->timed_out, 1);
}

static void helpers_take_part(void)
{
	struct meet m;
	int rep;

	CHECK_EQ(llm_pool_init(2), 0);
	for (rep = 0; rep < 20; rep++) {
		atomic_init(&m.others, 0);
		atomic_init(&m.timed_out, 0);
		llm_parallel_for(8, 0, meet_task, &m);
		if (atomic_load(&m.timed_out))
			break;
		/* helpers asleep, not spinning, by the next call */
		if (rep & 1)
			usleep(2000);
	}
	llm_pool_exit();
	CHECK_EQ(atomic_load(&m.timed_out), 0);
}

/* Several threads call at once; each call's tasks all run, once. */
#define CALLERS		4
#define CALLS		300

static atomic_uint concurrent_bad;

static void *caller(void *unused)
{
	u32 i, n;

	for (i = 0; i < CALLS; i++) {
		struct seen *s = seen_new(i % 3 ? 50 : 0);
		int bad;

		if (!s) {
			atomic_fetch_add(&concurrent_bad, 1);
			return NULL;
		}
		n = (i * 37) % 200;
		llm_parallel_for(n, i % 4, record, s);
		bad = seen_check(s, n, i % 4);
		if (bad)
			atomic_store(&concurrent_bad, bad);
		free(s);
	}
	return NULL;
}

static void concurrent_callers(void)
{
	pthread_t t[CALLERS];
	int i, n = 0;

	atomic_init(&concurrent_bad, 0);
	CHECK_EQ(llm_pool_init(3), 0);
	for (i = 0; i < CALLERS; i++)
		if (!pthread_create(&t[i], NULL, caller, NULL))
			n++;
		else
			break;
	while (n--)
		pthread_join(t[n], NULL);
	llm_pool_exit();
	CHECK_EQ(i, CALLERS);
	CHECK_EQ(atomic_load(&concurrent_bad), 0);
}

/* A task's own llm_parallel_for() runs on its thread alone. */
struct nest {
	struct seen *inner[4];
};

static void nest_task(void *arg, u32 task, u32 worker)
{
	struct nest *n = arg;

	llm_parallel_for(100, 0, record, n->inner[task]);
}

static void nested_calls_run_alone(void)
{
	struct nest n;
	int i, bad = 0;

	CHECK_EQ(llm_pool_init(3), 0);
	for (i = 0; i < 4; i++)
		n.inner[i] = seen_new(10);
	for (i = 0; i < 4; i++)
		if (!n.inner[i])
			bad = 1;
	if (!bad)
		llm_parallel_for(4, 0, nest_task, &n);
	llm_pool_exit();
	for (i = 0; i < 4; i++) {
		if (n.inner[i] && !bad)
			bad = seen_check(n.inner[i], 100, 0);
		free(n.inner[i]);
	}
	CHECK_EQ(bad, 0);
}

static void init_exit_init(void)
{
	struct seen *s = seen_new(0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	CHECK(s != NULL);
	CHECK_EQ(llm_pool_size(), 1);
	llm_pool_exit();			/* nothing to stop */
	CHECK_EQ(llm_pool_init(LLM_THREADS_MAX + 1), -EINVAL);
	CHECK_EQ(llm_pool_size(), 1);
	CHECK_EQ(llm_pool_init(0), 0);		/* one per CPU */
	CHECK(llm_pool_size() >= 1 && llm_pool_size() <= (u32)cpus);
	CHECK_EQ(llm_pool_init(3), 0);		/* restarts it */
	CHECK_EQ(llm_pool_size(), 3);
	llm_parallel_for(500, 0, record, s);
	CHECK_EQ(seen_check(s, 500, 0), 0);
	llm_pool_exit();
	CHECK_EQ(llm_pool_size(), 1);
	memset(s, 0, sizeof(*s));
	llm_parallel_for(500, 0, record, s);	/* no pool: the caller */
	CHECK_EQ(seen_check(s, 500, 1), 0);
	CHECK_EQ(llm_pool_init(2), 0);
	memset(s, 0, sizeof(*s));
	llm_parallel_for(500, 0, record, s);
	CHECK_EQ(seen_check(s, 500, 0), 0);
	llm_pool_exit();
	llm_pool_exit();
	free(s);
}

/* llmctl's default: one per core, so at least 1 and at most the CPUs. */
static void default_threads_are_cores(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	u32 n = llm_runtime_default_threads();

	CHECK(n >= 1);
	CHECK(cpus < 1 || n <= (u32)cpus);
}

int main(void)
{
	llm_log_quiet = 1;
	RUN(every_task_once_1);
	RUN(every_task_once_2);
	RUN(every_task_once_4);
	RUN(every_task_once_oversubscribed);
	RUN(helpers_take_part);
	RUN(concurrent_callers);
	RUN(nested_calls_run_alone);
	RUN(init_exit_init);
	RUN(default_threads_are_cores);
	return check_done();
}
