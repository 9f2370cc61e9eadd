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

/*
 * The same in pieces, for a layer range [first, last) on the hidden
 * states in c->ex->x (a node of the ring runs only its layers).  The
 * positions are c->n_past..c->n_past + n - 1; none of these moves n_past.
 */
void llm_exec_embed(struct llm_ctx *c, const u32 *tokens, u32 n);
int llm_exec_layers(struct llm_ctx *c, u32 n, u32 first, u32 last,
		    bool (*cancelled)(void *arg), void *arg);
/* Logits of batch row @row (usually n - 1) into c->logits. */
void llm_exec_logits(struct llm_ctx *c, u32 row);

#endif /* LLM_EXEC_H */
