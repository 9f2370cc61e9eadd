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
 * One node's share of a step when a ring of machines splits the layers
 * (netfilter/): @n positions of @c from @pos through layers [first, last).
 * @tokens, if not NULL, are embedded first (the head); otherwise the
 * hidden states are already in c->ex->x (n rows of n_embd floats, put
 * there by the caller), which hold the result afterwards.  With @logits,
 * the last position's logits go to c->logits (the last node).  With
 * @commit, the context moves to pos + n (and takes @tokens); otherwise it
 * stays where it was, so a step the ring fails to finish leaves it
 * unchanged.  @pos may be at or before c->n_past: computing a position
 * again writes the same K/V (a retry, or a node catching up).  0, or
 * -ERANGE (pos past c->n_past), -ENOSPC, -EINVAL, -EINTR as
 * llm_exec_forward().  The caller has the executor to itself.
 */
struct llm_stage {
	struct llm_ctx *c;
	u32 pos, n;
	const u32 *tokens;
	u32 first, last;
	bool logits;
	bool commit;
};

int llm_exec_stage(const struct llm_stage *s, bool (*cancelled)(void *arg),
		   void *arg);

/*
 * Move @c on to @pos + @n, taking @tokens (if not NULL) for positions
 * [pos, pos + n): the head runs its stage with commit false and commits
 * so once the ring has answered (the stage put those positions' K/V in
 * its cache).  0, or -ERANGE (pos past c->n_past), -ENOSPC (past the
 * context or the pages mapped: no stage ran there).
 */
int llm_ctx_commit(struct llm_ctx *c, u32 pos, const u32 *tokens, u32 n);

#endif /* LLM_EXEC_H */
