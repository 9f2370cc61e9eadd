/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Continuous batching: the forward steps of all sessions on a model go
 * through one executor, and steps that arrive while it is busy are run
 * together as one step (flat combining; see batcher.c).
 */
#ifndef LLM_BATCHER_H
#define LLM_BATCHER_H

#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/wait.h>

#include "core/exec.h"

struct llm_batcher {
	spinlock_t lock;
	struct list_head queue;		/* struct llm_bentry, oldest first */
	bool busy;			/* a step is running */
	wait_queue_head_t done;		/* woken after every step */
	struct llm_exec *ex;		/* the model's executor */
	struct llm_feed *feeds;		/* ex->n_batch: the running step's */
	u64 steps, batched;		/* steps run; of them, with 2+ feeds */
};

void llm_batcher_init(struct llm_batcher *b, struct llm_exec *ex,
		      struct llm_feed *feeds);

/*
 * Run @n tokens of @c (at most b->ex->n_batch) through the model, alone or
 * in a step with other sessions' tokens.  Sleeps; returns when its step
 * has run: llm_exec_run()'s result.  @cancelled/@arg are polled between
 * layers only when the step is @c's alone.
 */
int llm_batcher_forward(struct llm_batcher *b, struct llm_ctx *c,
			const u32 *tokens, u32 n, bool logits,
			bool (*cancelled)(void *arg), void *arg);

/*
 * Run @fn with the executor to itself, between steps (the ring's stages
 * move hidden states in and out of it).  Sleeps; returns fn's result.
 */
int llm_batcher_exclusive(struct llm_batcher *b,
			  int (*fn)(struct llm_exec *ex, void *arg), void *arg);

#endif /* LLM_BATCHER_H */
