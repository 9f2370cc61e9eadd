/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The executor: runs the forward pass over a batch of tokens of one
 * conversation, between generate.c (what to feed) and forward.c (the float
 * leaves).  Non-FPU.  It owns every FPU bracket and sizes each so that no
 * section does more than a fixed amount of work (exec.c: LLM_TASK_MACS),
 * splits matrix products by output rows and attention by heads and
 * positions across the thread pool (llm_parallel_for), and checks for a
 * cancel between layers.
 *
 * Results are bitwise independent of the batch size, of the thread count
 * and of how work was split: every output element is computed by the same
 * operations in the same order in any case.
 */
#ifndef LLM_EXEC_H
#define LLM_EXEC_H

#include "model.h"

/*
 * Feed @n tokens (at most c->ex->n_batch) at positions c->n_past.. through
 * every layer; with @logits, the last one's logits into c->logits.  0, or
 * -ENOSPC (past the context), -EINVAL (n out of range), -EINTR when
 * @cancelled said so between layers (the context is then unchanged).
 */
int llm_exec_forward(struct llm_ctx *c, const u32 *tokens, u32 n,
		     bool logits, bool (*cancelled)(void *arg), void *arg);

/* Tokens of one conversation for a step. */
struct llm_feed {
	struct llm_ctx *c;
	const u32 *tokens;
	u32 n;
	bool logits;		/* the last token's logits into c->logits */
};

/*
 * One step over the feeds of several conversations (at most ex->n_batch
 * tokens in all; a context may appear more than once, its feeds in
 * order), through one pass over the weights: continuous batching.  Each
 * conversation gets bitwise what it gets alone.  Errors as
 * llm_exec_forward(); on any, no context has moved.
 */
int llm_exec_run(struct llm_exec *ex, const struct llm_feed *f, u32 n_feeds,
		 bool (*cancelled)(void *arg), void *arg);

/*
 * The same as llm_exec_forward() in pieces, for a layer range [first,
 * last) (a node of the ring runs only its layers): prepare checks the
 * tokens and embeds them into c->ex->x; layers runs a range on the hidden
 * states there; finish computes the last token's logits if wanted and
 * moves the context on by @n.
 */
int llm_exec_prepare(struct llm_ctx *c, const u32 *tokens, u32 n);
int llm_exec_layers(struct llm_ctx *c, u32 n, u32 first, u32 last,
		    bool (*cancelled)(void *arg), void *arg);
void llm_exec_finish(struct llm_ctx *c, u32 n, bool want_logits);

#endif /* LLM_EXEC_H */
