/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generation: prompt text in, tokens and text out through callbacks, on
 * one context.  Non-FPU, and it does no float work itself: the executor
 * (exec.h) runs the forward steps and the sampler (sample.c) its passes,
 * each in bounded FPU sections; @cancelled is asked between layers.
 *
 * A request is resumable: llm_gen_begin() tokenizes the prompt, then each
 * llm_gen_step() does one bounded piece (a batch of prompt tokens, or one
 * generated token) and returns.  Whoever drives it may stop between steps
 * for as long as it likes (a reader that has not read yet) and go on
 * later; nothing but the context and struct llm_gen carries the state.
 * llm_generate() runs a request to its end in one call.
 *
 * Stop reasons and the stop-string limits are the UAPI's (uapi/llm.h), so
 * the kernel hands them out as they are.
 */
#ifndef LLM_GENERATE_H
#define LLM_GENERATE_H

#include "platform.h"
#include "model.h"
#include "sampler.h"
#include "../../uapi/llm.h"

struct llm_request {
	/* in */
	const char *prompt;
	u32 prompt_len;
	u32 max_tokens;		/* tokens to generate */
	u32 max_prompt_tokens;	/* refuse longer prompts with -E2BIG */
	struct llm_sampling sampling;
	u64 seed;		/* 0: a fresh random seed */
	u64 deadline_ns;	/* llm_now_ns() limit, 0: none */
	char stop[LLM_STOP_MAX][LLM_STOP_LEN];	/* "" unused */
	/*
	 * A chat turn: a token that also ends the reply (the template's end
	 * of turn), plus one, 0 for none (so a zeroed request has none); and
	 * the prompt's special tokens written as text are those tokens
	 * (LLM_TOKENIZE_SPECIAL).
	 */
	u32 end_turn;
	bool special;
	/* Text as it becomes final; non-zero return stops generation. */
	int (*on_text)(void *arg, const char *text, u32 len);
	/* Each generated token id (optional). */
	void (*on_token)(void *arg, u32 token);
	/* Polled between pieces of work (optional). */
	bool (*cancelled)(void *arg);
	/*
	 * Runs each forward step (optional; default: llm_exec_forward() on
	 * the context's executor).  The kernel hands steps to its batcher,
	 * which runs several sessions' steps as one.
	 */
	int (*forward)(void *arg, struct llm_ctx *c, const u32 *tokens,
		       u32 n, bool logits);
	/*
	 * Picks each token (optional; default: llm_sample() on c->logits).
	 * The kernel's ring head gets the token the ring's last node drew,
	 * with the generator's state after it.
	 */
	u32 (*sample)(void *arg, struct llm_ctx *c,
		      const struct llm_sampling *s, u64 *rng);
	void *arg;
	/* out */
	u32 n_prompt;		/* tokens the prompt became */
	u32 n_gen;		/* tokens generated */
	u32 stop_reason;	/* enum llm_stop_reason */
	int error;		/* LLM_STOP_ERROR: forward()'s -errno */
	u64 prefill_ns;		/* time spent in prompt steps */
	u64 decode_ns;		/* time spent in generation steps */
};

/* Text held back because it may be the start of a stop string. */
struct llm_holdback {
	char buf[2 * LLM_STOP_LEN];
	u32 len;
};

enum llm_gen_phase {
	LLM_GEN_PREFILL,
	LLM_GEN_DECODE,
	LLM_GEN_DONE,
};

/* A request between steps. */
struct llm_gen {
	struct llm_ctx *c;
	struct llm_request *r;
	u32 phase;		/* enum llm_gen_phase */
	u32 prefill_left;	/* prompt tokens still to feed, at c->n_past */
	u32 prev;		/* the last token, for its text's leading space */
	u64 rng;
	struct llm_holdback hb;
};

/*
 * Start @r on @c, after the conversation already in @c: reset r's outputs
 * and tokenize the prompt.  0, or -E2BIG (prompt over max_prompt_tokens or
 * c->max_prompt_bytes), -ENOSPC (it does not fit in the context), -EINVAL
 * (nothing to generate from); then the request has ended.
 */
int llm_gen_begin(struct llm_gen *g, struct llm_ctx *c, struct llm_request *r);

/*
 * One bounded piece of work.  Returns 0 while there is more to do, 1 once
 * the request has ended (r->stop_reason says why: a cancel or the deadline
 * is checked at the start of each step and between layers).
 */
int llm_gen_step(struct llm_gen *g);

/*
 * End the request from outside with @reason (if it has not ended): text
 * held back for a stop string is passed on, as at any end but a stop
 * string's.
 */
void llm_gen_end(struct llm_gen *g, u32 reason);

/*
 * Run @r on @c to its end.  Returns 0 when the request ran (r->stop_reason
 * says why it ended, output so far kept), or llm_gen_begin()'s error.
 */
int llm_generate(struct llm_ctx *c, struct llm_request *r);

/*
 * Feed one token at position c->n_past through layers [0, n_layers), and
 * the classifier when @logits.  -EINTR if cancelled part way (the context
 * is then unchanged).
 */
int llm_decode(struct llm_ctx *c, u32 token, bool logits,
	       bool (*cancelled)(void *arg), void *arg);

#endif /* LLM_GENERATE_H */
