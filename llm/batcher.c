// SPDX-License-Identifier: GPL-2.0
/*
 * Continuous batching by flat combining.  A session that wants a forward
 * step queues an entry; if no step is running it becomes the step's
 * runner: it takes queued entries, oldest first, while their tokens fit
 * in one batch, runs them as one llm_exec_run() (so the weights are read
 * once for all of them) and marks each done.  Entries that arrive during a
 * step wait for it to end; then one of them runs the next step with
 * everything that queued meanwhile.  A lone session thus runs its own
 * steps, as before; under load, each step carries every waiting session.
 *
 * Each conversation gets bitwise the tokens it gets alone (exec.h).  The
 * runner's CPU time pays for the others' tokens in its step: compute is
 * charged to the sessions that run steps, in turn.  A wait is for at most
 * the running step and its own, each bounded work (one batch through the
 * layers), so it is not interruptible: the step may be using the
 * waiter's context.
 */
#include <linux/sched.h>

#include "batcher.h"
#include "core/kv.h"

struct llm_bentry {
	struct list_head node;
	struct llm_feed feed;
	bool (*cancelled)(void *arg);
	void *arg;
	int ret;
	bool done;
};

void llm_batcher_init(struct llm_batcher *b, struct llm_exec *ex,
		      struct llm_feed *feeds)
{
	spin_lock_init(&b->lock);
	INIT_LIST_HEAD(&b->queue);
	init_waitqueue_head(&b->done);
	b->busy = false;
	b->ex = ex;
	b->feeds = feeds;
	b->steps = 0;
	b->batched = 0;
}

/* Run one step with the oldest entries that fit; b->lock held on entry. */
static void run_step(struct llm_batcher *b, struct llm_bentry *mine)
	__must_hold(&b->lock)
{
	bool alone;
	struct llm_bentry *e, *tmp, *first = NULL;
	LIST_HEAD(taken);
	u32 n = 0, tokens = 0;
	int ret;

	list_for_each_entry_safe(e, tmp, &b->queue, node) {
		if (tokens + e->feed.n > b->ex->n_batch)
			break;
		tokens += e->feed.n;
		b->feeds[n++] = e->feed;
		list_move_tail(&e->node, &taken);
		if (!first)
			first = e;
	}
	b->busy = true;
	b->steps++;
	if (n > 1)
		b->batched++;
	spin_unlock(&b->lock);

	/*
	 * A step of the runner's tokens alone stops when its session stops
	 * (its cancel test looks at the current task); a shared one or
	 * someone else's runs to its end, a bounded wait.
	 */
	alone = n == 1 && first == mine;
	ret = llm_exec_run(b->ex, b->feeds, n, alone ? mine->cancelled : NULL,
			   alone ? mine->arg : NULL);

	spin_lock(&b->lock);
	list_for_each_entry_safe(e, tmp, &taken, node) {
		list_del_init(&e->node);
		e->ret = ret;
		WRITE_ONCE(e->done, true);
	}
	b->busy = false;
	wake_up_all(&b->done);
}

int llm_batcher_forward(struct llm_batcher *b, struct llm_ctx *c,
			const u32 *tokens, u32 n, bool logits,
			bool (*cancelled)(void *arg), void *arg)
{
	struct llm_bentry e = {
		.feed = { .c = c, .tokens = tokens, .n = n, .logits = logits },
		.cancelled = cancelled,
		.arg = arg,
	};

	int ret;

	if (!n || n > b->ex->n_batch)
		return -EINVAL;
	/* KV room first, so one session out of pages fails alone */
	ret = llm_kv_reserve(c, c->n_past + n);
	if (ret)
		return ret;
	spin_lock(&b->lock);
	list_add_tail(&e.node, &b->queue);
	while (!e.done) {
		if (!b->busy) {
			/* the oldest entries go first: ours may wait a step */
			run_step(b, &e);
			continue;
		}
		spin_unlock(&b->lock);
		wait_event(b->done, READ_ONCE(e.done) || !READ_ONCE(b->busy));
		spin_lock(&b->lock);
	}
	spin_unlock(&b->lock);
	return e.ret;
}

int llm_batcher_exclusive(struct llm_batcher *b,
			  int (*fn)(struct llm_exec *ex, void *arg), void *arg)
{
	int ret;

	spin_lock(&b->lock);
	while (b->busy) {
		spin_unlock(&b->lock);
		wait_event(b->done, !READ_ONCE(b->busy));
		spin_lock(&b->lock);
	}
	b->busy = true;
	b->steps++;
	spin_unlock(&b->lock);

	ret = fn(b->ex, arg);

	spin_lock(&b->lock);
	b->busy = false;
	wake_up_all(&b->done);
	spin_unlock(&b->lock);
	return ret;
}
